//! genre-classifier: music genre classification that runs in the browser as WebAssembly
//! and natively, from one feature extractor.
//!
//! Data flows one way: bytes → samples ([`audio`]) → MFCC segments ([`features`]) →
//! network → probabilities → the view.
//!
//! - [`audio`]: mono downmix and resampling to the feature rate, on both targets; file
//!   decoding with symphonia natively and in the browser's decoder package.
//! - [`features`]: the one settings struct, and librosa-exact MFCCs of 3 s segments.
//! - [`synth`]: deterministic test signals (tones, noise) for tests and benchmarks.
//! - [`dataset`] (native): finding and analysing the labelled audio files of a
//!   GTZAN-style folder; [`atomic_file`] (native): writing outputs all or nothing.
//! - `web` (wasm32 only): the wasm-bindgen API the page's worker calls.

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
pub mod models;
pub mod synth;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
