//! A TensorFlow checkpoint (`.index` and data file, as `join_two` packs them), as `train
//! --model musicnn` reads musicnn's from its wheel: parse, read every tensor, and build a
//! (tiny) musicnn from it.
#![no_main]

use genre_classifier::models::{Musicnn, TfCheckpoint};
use genre_classifier_fuzz::models::{device, tiny_musicnn};
use genre_classifier_fuzz::split_two;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: genre_classifier_fuzz::init("tf_checkpoint"), |data: &[u8]| {
    let Some((index, data)) = split_two(data) else {
        return;
    };
    let Ok(checkpoint) = TfCheckpoint::parse(index, data) else {
        return;
    };
    for name in checkpoint.names() {
        let shape = checkpoint.shape(name).unwrap_or_default().to_vec();
        if let Ok(values) = checkpoint.tensor_f32(name, &shape) {
            assert_eq!(values.len(), shape.iter().product::<usize>());
        }
    }
    let _ = Musicnn::from_checkpoint(&checkpoint, &tiny_musicnn(), device());
});
