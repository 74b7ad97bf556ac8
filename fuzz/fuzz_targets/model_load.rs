//! A card and weights together (as `join_two` packs them), as a `model` URL serves them
//! to the page: loaded as they are, and with the card's checksum made the weights', then
//! run once.
#![no_main]

use genre_classifier_fuzz::models::{load_and_run, tiny_models, with_weights};
use genre_classifier_fuzz::split_two;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        genre_classifier_fuzz::init("model_load");
        tiny_models();
    },
    |data: &[u8]| {
        let Some((card, weights)) = split_two(data) else {
            return;
        };
        let Ok(card) = std::str::from_utf8(card) else {
            return;
        };
        load_and_run(card, weights);
        if let Some(fixed) = with_weights(card, weights) {
            load_and_run(&fixed, weights);
        }
    }
);
