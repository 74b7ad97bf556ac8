//! Feature settings as JSON, as the page passes them from JS (a model card's `features`
//! object to `FeatureExtractor.withSettings` and `LiveListener.withSettings`): parse,
//! validate, build the extractor, and compute features of a short and a long song.
#![no_main]

use genre_classifier::features::{FeatureSettings, LiveFeatures, FeatureExtractor};
use libfuzzer_sys::fuzz_target;

/// A deterministic noise-like song of `len` samples.
fn song(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i as f32 * 0.618_034).fract() - 0.5) * 0.5)
        .collect()
}

fuzz_target!(init: genre_classifier_fuzz::init("settings"), |data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(settings) = serde_json::from_str::<FeatureSettings>(json) else {
        return;
    };
    let valid = settings.validate().is_ok();
    let _ = settings.differences(&FeatureSettings::default());
    // What the page's live mode builds (at a 44.1 kHz microphone) and feeds.
    if let Ok(mut live) = LiveFeatures::new(44_100, settings.clone()) {
        let _ = live.push(&song(2_048));
    }
    let Ok(mut extractor) = FeatureExtractor::new(settings.clone()) else {
        assert!(!valid, "valid settings build an extractor");
        return;
    };
    assert!(valid, "an extractor is only built from valid settings");
    // The shortest song accepted (filled up to a segment), and a segment and a half
    // (a full segment and one that ends where the song ends).
    let segment = settings.segment_samples;
    for len in [settings.min_song_samples, segment + segment / 2] {
        let segments = extractor.first_segments(&song(len), 2);
        if let Ok(segments) = segments {
            for s in &segments {
                assert_eq!(s.mfcc.n_frames, settings.frames_per_segment());
                assert_eq!(s.mfcc.data.len(), settings.values_per_segment());
            }
        }
    }
});
