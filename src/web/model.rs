//! `GenreModel` and `SongAccumulator` in JS: features → embeddings → the song's verdict,
//! the same stream for every model.

use std::rc::Rc;

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use super::extractor::SongFeatures;
use super::{js_error, to_js};
use crate::inference::{Classifier, SongAccumulator};
use crate::models::cpu_device;

/// A trained model (card + weights), ready to embed the segments a `FeatureExtractor`
/// computes and to classify their embeddings.
#[wasm_bindgen]
pub struct GenreModel {
    classifier: Rc<Classifier>,
}

#[wasm_bindgen]
impl GenreModel {
    /// Loads a model from its card (JSON text) and weights (burnpack bytes). Corrupt or
    /// truncated weights, and weights for other labels or settings, are refused with the
    /// reason.
    #[wasm_bindgen(constructor)]
    pub fn new(card_json: &str, weights: &[u8]) -> Result<GenreModel, JsError> {
        Self::on_device(card_json, weights, &cpu_device())
    }

    /// Like the constructor, on a named burn backend (`"flex"` or `"ndarray"`): for the
    /// backend benchmark only.
    #[cfg(feature = "wasm-backends")]
    #[wasm_bindgen(js_name = withBackend)]
    pub fn with_backend(
        card_json: &str,
        weights: &[u8],
        backend: &str,
    ) -> Result<GenreModel, JsError> {
        let device = match backend {
            "flex" => burn::prelude::Device::flex(),
            // Deprecated in burn 0.22 in favour of flex; measured here to show why.
            #[allow(deprecated)]
            "ndarray" => burn::prelude::Device::ndarray(),
            other => return Err(js_error(format!("unknown backend {other}"))),
        };
        Self::on_device(card_json, weights, &device)
    }

    /// The model card, as an object.
    pub fn card(&self) -> Result<JsValue, JsError> {
        to_js(self.classifier.card())
    }

    /// Refuses an extractor whose settings differ from the card's, saying what differs.
    #[wasm_bindgen(js_name = checkExtractor)]
    pub fn check_extractor(&self, extractor: &SongFeatures) -> Result<(), JsError> {
        self.classifier
            .check_features(extractor.extractor_settings())
            .map_err(js_error)
    }

    /// The genre labels, in the order of every probability vector.
    pub fn labels(&self) -> Result<JsValue, JsError> {
        to_js(&self.classifier.card().labels)
    }

    /// What this model's embeddings depend on; a song's embeddings can be shared by
    /// models with the same key (and, without a backbone, with an extractor's
    /// `featureKey()`).
    #[wasm_bindgen(js_name = embeddingKey)]
    pub fn embedding_key(&self) -> String {
        self.classifier.embedding_key()
    }

    /// Values of one segment's embedding.
    #[wasm_bindgen(js_name = embeddingSize)]
    pub fn embedding_size(&self) -> usize {
        self.classifier.embedding_size()
    }

    /// Whether `embed` runs a backbone (worth spreading over helper workers) rather than
    /// passing the features through.
    #[wasm_bindgen(js_name = hasBackbone)]
    pub fn has_backbone(&self) -> bool {
        self.classifier.has_backbone()
    }

    /// Embeddings of segments from their features (`pushAudio` outputs, concatenated):
    /// `segments x embeddingSize()` values.
    pub fn embed(&self, features: &[f32]) -> Result<Float32Array, JsError> {
        let embeddings = self.classifier.embed_values(features).map_err(js_error)?;
        Ok(Float32Array::from(embeddings.as_slice()))
    }

    /// A song whose segments start at `starts` (seconds, as `beginSong` gives them), to
    /// add embeddings to as they are computed.
    #[wasm_bindgen(js_name = newSong)]
    pub fn new_song(&self, starts: &[f64]) -> WebSongAccumulator {
        WebSongAccumulator {
            song: self.classifier.new_song(starts.to_vec()),
            classifier: Rc::clone(&self.classifier),
        }
    }

    /// Classifies segments given by their features (concatenated) and start times in
    /// seconds, in one call: `embed`, then a song of those segments. Returns what
    /// `classify --json` prints for a file, without `file`.
    pub fn classify(&self, features: &[f32], starts: &[f64]) -> Result<JsValue, JsError> {
        let mut song = self.new_song(starts);
        song.add(0, &self.embed(features)?.to_vec())?;
        song.result()
    }
}

impl GenreModel {
    fn on_device(
        card_json: &str,
        weights: &[u8],
        device: &burn::prelude::Device,
    ) -> Result<GenreModel, JsError> {
        let classifier = Classifier::load(card_json, weights, device).map_err(js_error)?;
        Ok(GenreModel {
            classifier: Rc::new(classifier),
        })
    }

    /// The loaded classifier (for the benchmark exports).
    #[cfg(feature = "bench")]
    pub(super) fn classifier(&self) -> &Classifier {
        &self.classifier
    }
}

/// A song in progress (`SongAccumulator` in JS): segments' embeddings go in as they are
/// computed, in any order; out come each segment's verdict, the verdict so far and the
/// song's result, all computed in Rust.
#[wasm_bindgen(js_name = SongAccumulator)]
pub struct WebSongAccumulator {
    classifier: Rc<Classifier>,
    song: SongAccumulator,
}

#[wasm_bindgen(js_class = SongAccumulator)]
impl WebSongAccumulator {
    /// Adds the segments from index `first` on, given by their embeddings
    /// (concatenated); returns their verdicts: `[{ start_s, genre, probabilities }]`.
    pub fn add(&mut self, first: usize, embeddings: &[f32]) -> Result<JsValue, JsError> {
        let verdicts = self
            .classifier
            .add_to_song(&mut self.song, first, embeddings)
            .map_err(js_error)?;
        to_js(&verdicts)
    }

    /// Number of segments the song has.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.song.len()
    }

    /// Number of segments added so far.
    pub fn added(&self) -> usize {
        self.song.added()
    }

    /// The verdict on the segments added so far, as if they were the whole song:
    /// `{ genre, probabilities, tags? }`, with `segments` left empty (each segment's
    /// verdict came from `add`), so that asking after every segment of a two-hour song
    /// costs the same at its end as at its start.
    #[wasm_bindgen(js_name = soFar)]
    pub fn so_far(&self) -> Result<JsValue, JsError> {
        let mut verdict = self.song.so_far().map_err(js_error)?;
        verdict.segments = Vec::new();
        to_js(&verdict)
    }

    /// The song's result, once every segment is added: what `classify --json` prints
    /// for a file, without `file`: `{ genre, probabilities, segments, tags? }`.
    pub fn result(&self) -> Result<JsValue, JsError> {
        to_js(&self.song.result().map_err(js_error)?)
    }
}
