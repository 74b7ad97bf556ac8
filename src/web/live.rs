//! Live mode: a microphone's frames in, the features of the last segment out, once a
//! second.

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use super::{js_error, js_sample_rate, set_field, settings_from_js, to_js};
use crate::features::{FeatureSettings, LIVE_HOP_SECONDS, LiveFeatures};

/// One live window's facts, as `LiveListener::push` returns them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveWindowInfo {
    start_s: f64,
    end_s: f64,
    rms: f32,
    quiet: bool,
}

/// Live features of a microphone: takes its frames at the device rate, and every second
/// (once a segment's length has been heard) gives the features of the last segment.
#[wasm_bindgen]
pub struct LiveListener {
    features: LiveFeatures,
}

#[wasm_bindgen]
impl LiveListener {
    /// A listener for audio at `device_rate` Hz, with the default feature settings.
    #[wasm_bindgen(constructor)]
    pub fn new(device_rate: f64) -> Result<LiveListener, JsError> {
        let features = LiveFeatures::new(js_sample_rate(device_rate)?, FeatureSettings::default())
            .map_err(js_error)?;
        Ok(LiveListener { features })
    }

    /// A listener for audio at `device_rate` Hz computing the features of `settings` (a
    /// model card's `features` object).
    #[wasm_bindgen(js_name = withSettings)]
    pub fn with_settings(device_rate: f64, settings: JsValue) -> Result<LiveListener, JsError> {
        let settings = settings_from_js(&settings)?;
        let features =
            LiveFeatures::new(js_sample_rate(device_rate)?, settings).map_err(js_error)?;
        Ok(LiveListener { features })
    }

    /// Seconds between windows.
    #[wasm_bindgen(js_name = hopSeconds)]
    pub fn hop_seconds() -> f64 {
        LIVE_HOP_SECONDS
    }

    /// Takes the next mono frames; returns `{ windows: [{ startS, endS, rms, quiet }],
    /// features }` for the windows they complete, `features` holding each window's
    /// features concatenated (`frames x width`, frame-major), ready for `GenreModel.embed`.
    pub fn push(&mut self, samples: &[f32]) -> Result<JsValue, JsError> {
        let windows = self.features.push(samples).map_err(js_error)?;
        let length = self.features.settings().segment_seconds();
        let info: Vec<LiveWindowInfo> = windows
            .iter()
            .map(|w| LiveWindowInfo {
                start_s: w.end_s - length,
                end_s: w.end_s,
                rms: w.rms,
                quiet: w.is_quiet(),
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
