//! A data folder's `manifest.csv`, as `train` reads it.
#![no_main]

use std::path::Path;

use genre_classifier::train::parse_manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: genre_classifier_fuzz::init("manifest"), |data: &[u8]| {
    let dir = Path::new("data");
    if let Ok(set) = parse_manifest(dir, &dir.join("manifest.csv"), data) {
        assert!(!set.genres.is_empty(), "a manifest that reads lists tracks");
        for track in &set.tracks {
            assert!(track.label < set.genres.len(), "labels index the genres");
        }
    }
});
