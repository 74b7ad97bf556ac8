//! The wasm-bindgen API the page's worker calls (wasm32 only).
//!
//! The worker hands over the channel data of a Web Audio buffer with its sample rate;
//! everything after that is the same Rust code the native tools run. A song is loaded
//! once and its segments are computed one call at a time, so the worker can report
//! progress and stay cancellable on long files.

use js_sys::{Array, Float32Array};
use wasm_bindgen::prelude::*;

use crate::audio::Clip;
use crate::features::{self, FeatureSettings, Mfcc, MfccExtractor, SegmentMfcc, SegmentSpan};
use crate::inference::Classifier;
use crate::models::cpu_device;

/// Facts about the loaded song, returned by [`FeatureExtractor::load_song`].
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SongInfo {
    seconds: f64,
    sample_rate: u32,
    segments: usize,
    frames_per_segment: usize,
    n_mfcc: usize,
    segment_seconds: f64,
    /// The song was shorter than one segment and was padded with silence.
    padded: bool,
    /// Start of each segment in seconds.
    segment_starts: Vec<f64>,
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// An MFCC extractor with the song it is working on.
#[wasm_bindgen]
pub struct FeatureExtractor {
    extractor: MfccExtractor,
    song: Vec<f32>,
    spans: Vec<SegmentSpan>,
}

#[wasm_bindgen]
impl FeatureExtractor {
    /// An extractor with the default feature settings.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<FeatureExtractor, JsError> {
        Self::build(FeatureSettings::default())
    }

    /// An extractor with explicit settings (a model card's `features` object).
    #[wasm_bindgen(js_name = withSettings)]
    pub fn with_settings(settings: JsValue) -> Result<FeatureExtractor, JsError> {
        // Through JSON rather than serde-wasm-bindgen, which ignores unknown fields: a
        // setting this build does not know must be refused, not silently dropped.
        let json: String = js_sys::JSON::stringify(&settings)
            .map_err(|_| js_error("feature settings must be a plain object"))?
            .into();
        let settings: FeatureSettings =
            serde_json::from_str(&json).map_err(|e| js_error(format!("feature settings: {e}")))?;
        Self::build(settings)
    }

    fn build(settings: FeatureSettings) -> Result<FeatureExtractor, JsError> {
        Ok(FeatureExtractor {
            extractor: MfccExtractor::new(settings).map_err(js_error)?,
            song: Vec::new(),
            spans: Vec::new(),
        })
    }

    /// The feature settings, as the JSON object the model card stores.
    pub fn settings(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(self.extractor.settings()).map_err(js_error)
    }

    /// Downmixes and resamples `channels` (an array of `Float32Array`) and plans its
    /// segments. Returns the song's facts; errors say what is wrong with the audio.
    #[wasm_bindgen(js_name = loadSong)]
    pub fn load_song(&mut self, channels: Array, sample_rate: f64) -> Result<JsValue, JsError> {
        self.song.clear();
        self.spans.clear();
        if !(sample_rate.is_finite() && sample_rate.fract() == 0.0 && sample_rate > 0.0) {
            return Err(js_error(format!(
                "sample rate {sample_rate} Hz is not supported"
            )));
        }
        let data: Vec<Vec<f32>> = channels
            .iter()
            .map(|c| c.dyn_into::<Float32Array>().map(|a| a.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|_| js_error("channel data must be Float32Arrays"))?;
        let refs: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        let settings = self.extractor.settings().clone();
        let clip = Clip::from_channels(&refs, sample_rate as u32, settings.sample_rate)
            .map_err(js_error)?;
        drop(data);
        let spans = features::plan_segments(clip.samples.len(), &settings).map_err(js_error)?;
        let info = SongInfo {
            seconds: clip.seconds(),
            sample_rate: settings.sample_rate,
            segments: spans.len(),
            frames_per_segment: settings.frames_per_segment(),
            n_mfcc: settings.n_mfcc,
            segment_seconds: settings.segment_seconds(),
            padded: spans.iter().any(|s| s.is_padded(&settings)),
            segment_starts: spans.iter().map(|s| s.start_seconds(&settings)).collect(),
        };
        self.song = clip.samples;
        self.spans = spans;
        serde_wasm_bindgen::to_value(&info).map_err(js_error)
    }

    /// MFCCs of segment `index` of the loaded song: `frames x n_mfcc` values, frame-major.
    #[wasm_bindgen(js_name = segmentMfcc)]
    pub fn segment_mfcc(&mut self, index: usize) -> Result<Float32Array, JsError> {
        let span = *self.spans.get(index).ok_or_else(|| {
            js_error(format!(
                "no segment {index}: the song has {}",
                self.spans.len()
            ))
        })?;
        let samples = features::segment_samples(&self.song, span, self.extractor.settings());
        let mfcc = self.extractor.compute(&samples).map_err(js_error)?;
        Ok(Float32Array::from(mfcc.data.as_slice()))
    }

    /// Peak envelope of the loaded song for drawing: `buckets` pairs of (min, max).
    #[wasm_bindgen(js_name = waveformPeaks)]
    pub fn waveform_peaks(&self, buckets: usize) -> Float32Array {
        let buckets = buckets.clamp(1, self.song.len().max(1));
        let size = self.song.len().div_ceil(buckets).max(1);
        let peaks: Vec<f32> = self
            .song
            .chunks(size)
            .flat_map(|c| {
                let (lo, hi) = c
                    .iter()
                    .fold((0.0f32, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)));
                [lo, hi]
            })
            .collect();
        Float32Array::from(peaks.as_slice())
    }

    /// Frees the loaded song.
    #[wasm_bindgen(js_name = clearSong)]
    pub fn clear_song(&mut self) {
        self.song = Vec::new();
        self.spans = Vec::new();
    }
}

/// Serialises for JS with maps as plain objects (`{genre: p}`), not `Map`s.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(js_error)
}

/// A trained model (card + weights), ready to classify the segments a
/// [`FeatureExtractor`] computes.
#[wasm_bindgen]
pub struct GenreModel {
    classifier: Classifier,
}

#[wasm_bindgen]
impl GenreModel {
    /// Loads a model from its card (JSON text) and weights (burnpack bytes). Corrupt or
    /// truncated weights, and weights for other labels or settings, are refused with the
    /// reason.
    #[wasm_bindgen(constructor)]
    pub fn new(card_json: &str, weights: &[u8]) -> Result<GenreModel, JsError> {
        let classifier = Classifier::load(card_json, weights, &cpu_device()).map_err(js_error)?;
        Ok(GenreModel { classifier })
    }

    /// The model card, as an object.
    pub fn card(&self) -> Result<JsValue, JsError> {
        to_js(self.classifier.card())
    }

    /// Refuses an extractor whose settings differ from the card's, saying what differs.
    #[wasm_bindgen(js_name = checkExtractor)]
    pub fn check_extractor(&self, extractor: &FeatureExtractor) -> Result<(), JsError> {
        self.classifier
            .check_features(extractor.extractor.settings())
            .map_err(js_error)
    }

    /// Classifies a song from its segments' MFCCs (`segmentMfcc` outputs, concatenated)
    /// and their start times in seconds. Returns what `classify --json` prints for a
    /// file, without `file`: `{genre, probabilities: {genre: p}, segments: [{start_s,
    /// genre, probabilities}]}`.
    pub fn classify(&self, mfcc: &[f32], starts: &[f64]) -> Result<JsValue, JsError> {
        let settings = &self.classifier.card().features;
        let (frames, n_mfcc) = (settings.frames_per_segment(), settings.n_mfcc);
        let size = frames * n_mfcc;
        if starts.is_empty() || mfcc.len() != starts.len() * size {
            return Err(js_error(format!(
                "{} MFCC values do not make {} segments of {frames}x{n_mfcc}",
                mfcc.len(),
                starts.len()
            )));
        }
        let rate = f64::from(settings.sample_rate);
        let segments: Vec<SegmentMfcc> = mfcc
            .chunks_exact(size)
            .zip(starts)
            .map(|(data, &start)| SegmentMfcc {
                span: SegmentSpan {
                    start: (start * rate).round().max(0.0) as usize,
                    audio_samples: settings.segment_samples,
                },
                mfcc: Mfcc {
                    n_frames: frames,
                    n_mfcc,
                    data: data.to_vec(),
                },
            })
            .collect();
        to_js(&self.classifier.classify(&segments).map_err(js_error)?)
    }
}
