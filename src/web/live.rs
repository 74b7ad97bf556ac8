//! Live mode: a microphone's frames in, the features of the last segment out, once a
//! second.

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use super::{js_error, js_sample_rate, set_field, settings_from_js, to_js};
use crate::features::{
    FeatureSettings, LIVE_HOP_SECONDS, LiveFeatures, NOT_MUSIC_MESSAGE, RecentMusicEvidence,
};

/// One live window's facts, as `LiveListener::push` returns them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveWindowInfo {
    start_s: f64,
    end_s: f64,
    rms: f32,
    quiet: bool,
    /// "does not sound like music: …" when the last few windows do not, as a song's
    /// `notMusic`.
    not_music: Option<String>,
}

/// Live features of a microphone: takes its frames at the device rate, and every second
/// (once a segment's length has been heard) gives the features of the last segment.
#[wasm_bindgen]
pub struct LiveListener {
    features: LiveFeatures,
    recent: RecentMusicEvidence,
}

#[wasm_bindgen]
impl LiveListener {
    /// A listener for audio at `device_rate` Hz, with the default feature settings.
    #[wasm_bindgen(constructor)]
    pub fn new(device_rate: f64) -> Result<LiveListener, JsError> {
        let features = LiveFeatures::new(js_sample_rate(device_rate)?, FeatureSettings::default())
            .map_err(js_error)?;
        Ok(LiveListener {
            features,
            recent: RecentMusicEvidence::default(),
        })
    }

    /// A listener for audio at `device_rate` Hz computing the features of `settings` (a
    /// model card's `features` object).
    #[wasm_bindgen(js_name = withSettings)]
    pub fn with_settings(device_rate: f64, settings: JsValue) -> Result<LiveListener, JsError> {
        let settings = settings_from_js(&settings)?;
        let features =
            LiveFeatures::new(js_sample_rate(device_rate)?, settings).map_err(js_error)?;
        Ok(LiveListener {
            features,
            recent: RecentMusicEvidence::default(),
        })
    }

    /// Seconds between windows.
    #[wasm_bindgen(js_name = hopSeconds)]
    pub fn hop_seconds() -> f64 {
        LIVE_HOP_SECONDS
    }

    /// Takes the next mono frames; returns `{ windows: [{ startS, endS, rms, quiet,
    /// notMusic }],
    /// features }` for the windows they complete, `features` holding each window's
    /// features concatenated (`frames x width`, frame-major), ready for `GenreModel.embed`.
    pub fn push(&mut self, samples: &[f32]) -> Result<JsValue, JsError> {
        let windows = self.features.push(samples).map_err(js_error)?;
        let length = self.features.settings().segment_seconds();
        let settings = self.features.settings().clone();
        let info: Vec<LiveWindowInfo> = windows
            .iter()
            .map(|w| {
                if !w.is_quiet() {
                    self.recent.add_features(&w.features, &settings);
                }
                LiveWindowInfo {
                    start_s: w.end_s - length,
                    end_s: w.end_s,
                    rms: w.rms,
                    quiet: w.is_quiet(),
                    not_music: self
                        .recent
                        .not_music()
                        .map(|why| format!("{NOT_MUSIC_MESSAGE}: {why}")),
                }
            })
            .collect();
        let features: Vec<f32> = windows
            .iter()
            .flat_map(|w| w.features.data.iter().copied())
            .collect();
        let out: JsValue = js_sys::Object::new().into();
        set_field(&out, "windows", &to_js(&info)?)?;
        set_field(&out, "features", &Float32Array::from(features.as_slice()))?;
        Ok(out)
    }
}
