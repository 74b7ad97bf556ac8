//! Burnpack weights, as the page and `classify` load them: `[model][weights…]`, loaded
//! with the card of one of the tiny models, as it is (the checksum refuses them) and
//! with its checksum made theirs (so they are read into the network), then run once.
#![no_main]

use genre_classifier::inference::Classifier;
use genre_classifier_fuzz::models::{device, load_and_run, tiny_models, with_weights};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        genre_classifier_fuzz::init("model_weights");
        tiny_models();
    },
    |data: &[u8]| {
        let Some((&which, weights)) = data.split_first() else {
            return;
        };
        let models = tiny_models();
        let tiny = &models[usize::from(which) % models.len()];
        let _ = Classifier::load(&tiny.card_json, weights, device());
        if let Some(card) = with_weights(&tiny.card_json, weights) {
            load_and_run(&card, weights);
        }
    }
);
