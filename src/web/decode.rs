//! `decodeAudio`: the crate's own decoder (symphonia) for files Web Audio cannot decode,
//! and for Web Workers, which have no Web Audio. Only in the decoder package.

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use super::{js_error, set_field, to_js};
use crate::audio::Clip;
use crate::features::FeatureSettings;

/// A decoded file, as [`decode_audio`] returns it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct DecodedInfo {
    source_rate: u32,
    channels: usize,
}

/// Decodes the bytes of a file called `name` (WAV, MP3, FLAC, Ogg Vorbis, Sun AU...) and
/// returns `{ samples, sampleRate, sourceRate, channels }`: its channels averaged to mono
/// and resampled to the feature rate. For files Web Audio cannot decode, and for Web
/// Workers, which have no Web Audio. Only in the decoder package (`decode` feature).
#[wasm_bindgen(js_name = decodeAudio)]
pub fn decode_audio(name: &str, bytes: Vec<u8>) -> Result<JsValue, JsError> {
    let decoded = crate::audio::decode::decode_bytes(name, bytes).map_err(js_error)?;
    let rate = FeatureSettings::default().sample_rate;
    let info = DecodedInfo {
        source_rate: decoded.sample_rate,
        channels: decoded.channels,
    };
    let clip = Clip::from_mono(decoded.mono, decoded.sample_rate, rate).map_err(js_error)?;
    let out = to_js(&info)?;
    set_field(
        &out,
        "samples",
        &Float32Array::from(clip.samples.as_slice()),
    )?;
    set_field(&out, "sampleRate", &JsValue::from(rate))?;
    Ok(out)
}
