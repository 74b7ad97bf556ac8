//! Benchmark-only exports (the `bench` feature): never in the page's packages.

use wasm_bindgen::prelude::*;

use super::model::GenreModel;
use super::to_js;
use crate::models::{FrontendFormulation, MusicnnProfile};

/// A backbone's forward pass stage by stage, for the page benchmark
/// (tests/browser/bench_musicnn.mjs): the caller times each `run` (the wasm has no clock).
#[wasm_bindgen]
pub struct MusicnnBench {
    profile: MusicnnProfile,
}

#[wasm_bindgen]
impl MusicnnBench {
    /// The backbone of `model` on `patches` synthetic patches, its front end computed as
    /// `formulation` says ("unfolded" or "conv2d").
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &GenreModel,
        patches: usize,
        formulation: &str,
    ) -> Result<MusicnnBench, JsError> {
        let formulation = match formulation {
            "unfolded" => FrontendFormulation::Unfolded,
            "conv2d" => FrontendFormulation::Conv2d,
            other => return Err(JsError::new(&format!("unknown formulation “{other}”"))),
        };
        let classifier = model.classifier();
        let profile = classifier
            .network()
            .backbone_profile(&classifier.card().features, patches, formulation)
            .ok_or_else(|| JsError::new("this model has no backbone"))?;
        Ok(Self { profile })
    }

    /// The stages: `[{ name, macs, matmul }]`, in the order of the forward pass.
    pub fn stages(&self) -> Result<JsValue, JsError> {
        to_js(&self.profile.stages())
    }

    /// Runs stage `index` once.
    pub fn run(&self, index: usize) {
        self.profile.run(index);
    }

    /// Runs burn's matmul once on stage `index`'s shape (nothing if it has none).
    #[wasm_bindgen(js_name = runMatmul)]
    pub fn run_matmul(&self, index: usize) {
        self.profile.run_matmul(index);
    }
}
