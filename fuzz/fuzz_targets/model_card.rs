//! A model card (JSON text), as the page and `classify` load it: parsed on its own, then
//! loaded with the tiny weights of its architecture (its checksum made theirs, so that
//! the card's network is built and filled) and run once.
#![no_main]

use genre_classifier::card::ModelCard;
use genre_classifier_fuzz::models::{load_and_run, tiny_model_like, tiny_models, with_weights};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        genre_classifier_fuzz::init("model_card");
        tiny_models();
    },
    |data: &[u8]| {
        let Ok(card_json) = std::str::from_utf8(data) else {
            return;
        };
        let _ = ModelCard::parse(card_json);
        let tiny = tiny_model_like(card_json);
        if let Some(card) = with_weights(card_json, &tiny.weights) {
            load_and_run(&card, &tiny.weights);
        }
    }
);
