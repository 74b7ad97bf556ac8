//! genre-classifier: music genre classification that runs in the browser as WebAssembly
//! and natively, from one feature extractor.
//!
//! Data flows one way, the same for every model: bytes → samples ([`audio`]) → feature
//! segments, MFCCs or log-mel patches by the settings ([`features`]) → an embedding per
//! segment (a frozen backbone, or the features themselves) → a head → probabilities (+
//! the backbone's tags) → a song accumulator → the verdict, its timeline and its tags
//! ([`inference`]). Only [`models`] knows which networks exist.
//!
//! - [`audio`]: mono downmix and resampling to the feature rate, on both targets; file
//!   decoding with symphonia natively and in the browser's decoder package.
//! - [`features`]: the one settings struct, the feature extractor (librosa-exact MFCCs,
//!   musicnn's log-mel), the cut of a song into segments, streaming and live windows.
//! - [`models`]: the networks as burn modules behind one [`models::Architecture`] and
//!   [`models::Network`]; each config validates and counts itself.
//! - [`card`]: the model card (data and parsing) that travels with the weights.
//! - [`inference`]: card + weights → a [`inference::Classifier`] (embed, head), and the
//!   [`inference::SongAccumulator`] every caller aggregates a song with.
//! - [`synth`]: deterministic test signals (tones, noise) for tests and benchmarks.
//! - [`dataset`] (native): finding and analysing the labelled audio files of a
//!   GTZAN-style folder; [`train`] (native): the trainer; [`atomic_file`] (native):
//!   writing outputs all or nothing.
//! - [`library`] (native): the files under the folders `classify` is given, and
//!   `--shard`'s deterministic share of them.
//! - `web` (wasm32 only): the streaming wasm-bindgen API the page's worker calls.

#[cfg(all(not(target_arch = "wasm32"), not(feature = "decode")))]
compile_error!("native builds read audio files: enable the `decode` feature (on by default)");

#[cfg(not(target_arch = "wasm32"))]
pub mod atomic_file;
pub mod audio;
pub mod card;
#[cfg(not(target_arch = "wasm32"))]
pub mod dataset;
pub mod features;
pub mod inference;
#[cfg(not(target_arch = "wasm32"))]
pub mod library;
pub mod models;
pub mod synth;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
