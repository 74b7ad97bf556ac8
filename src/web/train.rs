//! `HeadTrainer` in JS ("Train your own"): a model of one's own labels over a loaded
//! model's backbone, trained in the worker from songs' embeddings a fit per `step`, so
//! that the page reports progress and hears a cancel between fits. Only in the package
//! the page loads when it needs it (the `trainer` feature), not in its first download.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::{js_error, to_js};
use crate::inference::{
    Classifier, MAX_LABEL_CHARS, MAX_OWN_LABELS, MAX_OWN_SONGS, MIN_SONGS_FOR_SCORE, OwnTrainer,
};
use crate::models::cpu_device;

/// What training allows: `{ maxLabels, maxSongs, maxLabelChars, minSongs }`.
#[wasm_bindgen(js_name = trainingLimits)]
pub fn training_limits() -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Limits {
        max_labels: usize,
        max_songs: usize,
        max_label_chars: usize,
        min_songs: usize,
    }
    to_js(&Limits {
        max_labels: MAX_OWN_LABELS,
        max_songs: MAX_OWN_SONGS,
        max_label_chars: MAX_LABEL_CHARS,
        min_songs: MIN_SONGS_FOR_SCORE,
    })
}

/// A model of one's own labels being trained (`HeadTrainer` in JS).
#[wasm_bindgen]
pub struct HeadTrainer {
    /// None once finished.
    trainer: Option<OwnTrainer>,
}

#[wasm_bindgen]
impl HeadTrainer {
    /// A trainer of a model called `name` for `labels` (an array of strings) over the
    /// backbone of the model whose card (JSON text) and weights (bytes) are given.
    #[wasm_bindgen(constructor)]
    pub fn new(
        card_json: &str,
        weights: &[u8],
        labels: JsValue,
        name: String,
    ) -> Result<HeadTrainer, JsError> {
        let labels: Vec<String> = serde_wasm_bindgen::from_value(labels)
            .map_err(|e| js_error(format!("labels must be strings: {e}")))?;
        let base = Classifier::load(card_json, weights, &cpu_device()).map_err(js_error)?;
        Ok(HeadTrainer {
            trainer: Some(OwnTrainer::new(base, labels, name)),
        })
    }

    /// Adds a song of label `label` (an index into the labels) with its segments'
    /// embeddings, as a quick scan gives them.
    #[wasm_bindgen(js_name = addSong)]
    pub fn add_song(&mut self, label: usize, embeddings: Vec<f32>) -> Result<(), JsError> {
        self.trainer_mut()?
            .add_song(label, embeddings)
            .map_err(js_error)
    }

    /// Runs the next fit; returns `{ stage, done, total, finished }`.
    pub fn step(&mut self) -> Result<JsValue, JsError> {
        let step = self.trainer_mut()?.step().map_err(js_error)?;
        to_js(&step)
    }

    /// The trained model: `{ card (JSON text), weights (bytes), report }`, the report
    /// being the card's record of the training (songs per label, cross-validation,
    /// warnings).
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        let trainer = self
            .trainer
            .take()
            .ok_or_else(|| js_error("this trainer has finished already"))?;
        let files = trainer.finish().map_err(js_error)?;
        let out = js_sys::Object::new();
        super::set_field(&out, "card", &JsValue::from_str(&files.card_json))?;
        super::set_field(&out, "weights", &Uint8Array::from(files.weights.as_slice()))?;
        super::set_field(&out, "report", &to_js(&files.card.own_labels)?)?;
        Ok(out.into())
    }
}

impl HeadTrainer {
    fn trainer_mut(&mut self) -> Result<&mut OwnTrainer, JsError> {
        self.trainer
            .as_mut()
            .ok_or_else(|| js_error("this trainer has finished already"))
    }
}
