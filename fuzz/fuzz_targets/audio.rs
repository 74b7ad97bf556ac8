//! Audio decoding from the bytes of a dropped file, as the page's decoder package
//! (`decodeAudio`) and `classify` do it: decode (symphonia, or ausnd for `.au`), then
//! resample the mono song to the feature rate.
#![no_main]

use genre_classifier::audio::Clip;
use genre_classifier::audio::decode::decode_bytes;
use genre_classifier_fuzz::split_audio;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: genre_classifier_fuzz::init("audio"), |data: &[u8]| {
    let Some((name, bytes, rate)) = split_audio(data) else {
        return;
    };
    if let Ok(decoded) = decode_bytes(&name, bytes.to_vec()) {
        assert!(!decoded.mono.is_empty(), "a decoded song has samples");
        assert!(decoded.channels > 0, "a decoded song has channels");
        let _ = Clip::from_mono(decoded.mono, decoded.sample_rate, rate);
    }
});
