//! `QuickSong` in JS: a song's verdict from the ten segments spread over it, computed
//! from short pieces of its audio ([`SpreadPlan`]): the page's fast first answer, and its
//! quick mode for folders, which gives what `classify --quick` gives.

use js_sys::{Array, Float32Array};
use wasm_bindgen::prelude::*;

use super::extractor::{SongEnd, SongInfo, mono_of};
use super::{js_error, js_sample_rate, settings_from_js, to_js};
use crate::features::{FeatureExtractor, MusicEvidence, QUICK_SEGMENTS, SpreadPlan};

/// A piece of the song the page is asked for: samples `from..to` of every channel, at
/// the song's own rate, for segment `segment` of the whole song.
#[derive(serde::Serialize)]
struct PieceRequest {
    segment: usize,
    from: usize,
    to: usize,
}

/// A song classified from its spread segments (`QuickSong` in JS): `pieces()` says which
/// stretches of the song to pass to `features`, one call per piece.
#[wasm_bindgen]
pub struct QuickSong {
    extractor: FeatureExtractor,
    plan: SpreadPlan,
    /// Loudest sample of the pieces so far.
    peak: f32,
    evidence: MusicEvidence,
}

#[wasm_bindgen]
impl QuickSong {
    /// A song of `total_samples` samples per channel at `sample_rate`, for features with
    /// `settings` (a model card's `features`); errors say what is wrong (empty, too short,
    /// a rate that cannot be resampled).
    #[wasm_bindgen(constructor)]
    pub fn new(
        settings: JsValue,
        total_samples: f64,
        sample_rate: f64,
    ) -> Result<QuickSong, JsError> {
        let settings = settings_from_js(&settings)?;
        let rate = js_sample_rate(sample_rate)?;
        if !(total_samples.is_finite() && total_samples >= 0.0 && total_samples.fract() == 0.0) {
            return Err(js_error(format!("{total_samples} is not a sample count")));
        }
        let plan = SpreadPlan::new(total_samples as usize, rate, &settings, QUICK_SEGMENTS)
            .map_err(js_error)?;
        Ok(QuickSong {
            extractor: FeatureExtractor::new(settings).map_err(js_error)?,
            plan,
            peak: 0.0,
            evidence: MusicEvidence::default(),
        })
    }

    /// The whole song's facts, as `FeatureExtractor.beginSong` gives them.
    pub fn info(&self) -> Result<JsValue, JsError> {
        let info = SongInfo::new(
            self.extractor.settings(),
            self.plan.song_samples,
            &self.plan.spans,
        );
        to_js(&info)
    }

    /// The pieces to pass to `features`, in order: `[{ segment, from, to }]`.
    pub fn pieces(&self) -> Result<JsValue, JsError> {
        let pieces: Vec<PieceRequest> = self
            .plan
            .pieces
            .iter()
            .map(|p| PieceRequest {
                segment: p.segment,
                from: p.from,
                to: p.to,
            })
            .collect();
        to_js(&pieces)
    }

    /// Whether the pieces are every segment of the song (a short song): then quick mode
    /// is the whole song.
    #[wasm_bindgen(js_name = coversSong)]
    pub fn covers_song(&self) -> bool {
        self.plan.pieces.len() == self.plan.spans.len()
    }

    /// Start of each piece's segment in seconds: the starts of the song `classify
    /// --quick` classifies.
    pub fn starts(&self) -> Vec<f64> {
        let settings = self.extractor.settings();
        self.plan
            .pieces
            .iter()
            .map(|p| p.span.start_seconds(settings))
            .collect()
    }

    /// The features of piece `index` from its channels (equally long `Float32Array`s,
    /// samples `from..to` of the song), `frames x width` values.
    pub fn features(&mut self, index: usize, channels: Array) -> Result<Float32Array, JsError> {
        let first = self.plan.pieces.get(index).map_or(0, |p| p.from);
        let (mono, _) = mono_of(&channels, first, self.plan.input_rate)?;
        let segment = self
            .extractor
            .spread_piece(&self.plan, index, &mono)
            .map_err(js_error)?;
        self.peak = mono.iter().fold(self.peak, |m, s| m.max(s.abs()));
        self.evidence
            .add_features(&segment.features, self.extractor.settings());
        Ok(Float32Array::from(segment.features.data.as_slice()))
    }

    /// How the pieces sounded: `{ peak, silent, notMusic }`, judged as `classify --quick`
    /// judges a song from its spread segments (silence by the pieces' loudest sample).
    pub fn finish(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&SongEnd::new(self.peak, &self.evidence)).map_err(js_error)
    }
}
