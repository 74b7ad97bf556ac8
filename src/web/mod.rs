//! The wasm-bindgen API the page's worker calls (wasm32 only): one streaming path for a
//! song, the same for every model.
//!
//! - [`FeatureExtractor`](extractor::SongFeatures): a song's channel data in, chunk by
//!   chunk (`beginSong`, `pushAudio`, `flushAudio`, `finishSong`), the features of each
//!   segment out as soon as it is complete; memory stays bounded however long the song.
//! - [`GenreModel`](model::GenreModel): features → embeddings (`embed`), and a
//!   [`SongAccumulator`](model::WebSongAccumulator) (`newSong`) that takes embeddings in
//!   any order and gives each segment's verdict, the verdict so far and the song's result.
//! - [`QuickSong`](quick::QuickSong): a song's ten spread segments from short pieces of
//!   its audio, for the fast first answer and quick mode.
//! - [`LiveListener`](live::LiveListener): a microphone's frames → the features of the
//!   last 3 s, once a second.
//! - [`HeadTrainer`](train::HeadTrainer) and `trainingLimits` (the `trainer` feature: the
//!   package loaded when needed): a model of one's own labels from songs' embeddings.
//! - `decodeAudio` (decoder package only), and the facts the page needs from Rust:
//!   `modelSizeLimits`, `shippedModels`, `userMessages`.
//! - `MusicnnBench` (the `bench` feature only, never in the page's packages).

#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "decode")]
mod decode;
mod extractor;
mod live;
mod model;
mod quick;
#[cfg(feature = "trainer")]
mod train;

use wasm_bindgen::prelude::*;

use crate::features::FeatureSettings;

/// A JS error with `e`'s message.
fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Sets `key` of a JS object (building results that mix serde data and typed arrays).
fn set_field(object: &JsValue, key: &str, value: &JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(object, &key.into(), value)
        .map(|_| ())
        .map_err(|_| js_error(format!("could not set {key} of the result")))
}

/// Serialises for JS with maps as plain objects (`{genre: p}`), not `Map`s.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(js_error)
}

/// A sample rate from JS (a number): a positive whole number of Hz.
fn js_sample_rate(rate: f64) -> Result<u32, JsError> {
    if rate.is_finite() && rate.fract() == 0.0 && rate > 0.0 && rate <= f64::from(u32::MAX) {
        Ok(rate as u32)
    } else {
        Err(js_error(format!("sample rate {rate} Hz is not supported")))
    }
}

/// Feature settings from a JS object (a model card's `features`).
fn settings_from_js(settings: &JsValue) -> Result<FeatureSettings, JsError> {
    // Through JSON rather than serde-wasm-bindgen, which ignores unknown fields: a
    // setting this build does not know must be refused, not silently dropped.
    let json: String = js_sys::JSON::stringify(settings)
        .map_err(|_| js_error("feature settings must be a plain object"))?
        .into();
    serde_json::from_str(&json).map_err(|e| js_error(format!("feature settings: {e}")))
}

/// The largest model card and weights file a model may have, in bytes
/// (`{ cardBytes, weightsBytes }`): the page stops a download that grows past them.
#[wasm_bindgen(js_name = modelSizeLimits)]
pub fn model_size_limits() -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Limits {
        card_bytes: u64,
        weights_bytes: u64,
    }
    to_js(&Limits {
        card_bytes: crate::card::MAX_CARD_BYTES,
        weights_bytes: crate::card::MAX_WEIGHTS_BYTES,
    })
}

/// The shipped models in the order the page lists them, the default first:
/// `[{ name, label }]`.
#[wasm_bindgen(js_name = shippedModels)]
pub fn shipped_models() -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    struct Shipped {
        name: &'static str,
        label: &'static str,
    }
    let list: Vec<Shipped> = crate::models::SHIPPED_MODELS
        .iter()
        .map(|&(name, label)| Shipped { name, label })
        .collect();
    to_js(&list)
}

/// Messages for the person that the page shows as Rust words them: `{ silent }`.
#[wasm_bindgen(js_name = userMessages)]
pub fn user_messages() -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    struct Messages {
        silent: &'static str,
    }
    to_js(&Messages {
        silent: crate::audio::SILENCE_MESSAGE,
    })
}
