//! musicnn's log-mel patches match the wheel's own `batch_data` (librosa 0.11, numpy
//! 1.26, reflect padding) on real clips: tests/fixtures/musicnn/, made by the committed
//! script tests/fixtures/make_musicnn_fixtures.sh from the same 16-bit samples.

use std::path::{Path, PathBuf};

use genre_classifier::features::{FeatureExtractor, FeatureSettings, PadMode, SegmentStream};

/// Largest accepted |ours − musicnn's| for any band of any frame. The power is rounded
/// to float16 before the log, so a last-bit difference in the power can move a value
/// by one float16 step: at most about 2.2e-4 after `log10(10000·x + 1)`.
const TOLERANCE: f32 = 5e-4;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/musicnn")
}

fn clips() -> Vec<String> {
    let text = std::fs::read_to_string(fixture_dir().join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn samples(name: &str) -> Vec<f32> {
    let mut reader = hound::WavReader::open(fixture_dir().join(format!("{name}.wav"))).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32_768.0)
        .collect()
}

fn reference(name: &str) -> Vec<f32> {
    std::fs::read(fixture_dir().join(format!("{name}.logmel.f32")))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn log_mel_patches_match_musicnn_within_tolerance() {
    let settings = FeatureSettings::musicnn();
    let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
    for name in clips() {
        let audio = samples(&name);
        let ours: Vec<f32> = extractor
            .song(&audio)
            .unwrap()
            .into_iter()
            .flat_map(|s| s.features.data)
            .collect();
        let theirs = reference(&name);
        assert_eq!(ours.len(), theirs.len(), "{name}: 2 patches of 187 x 96");
        let (worst, at) = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .enumerate()
            .fold(
                (0f32, 0),
                |best, (i, d)| if d > best.0 { (d, i) } else { best },
            );
        println!("{name}: max |ours - musicnn| = {worst:.2e} at value {at}");
        assert!(
            worst <= TOLERANCE,
            "{name}: value {at} (frame {}, band {}) differs by {worst}",
            at / 96,
            at % 96
        );
    }
}

#[test]
fn constant_padding_changes_only_the_first_frame() {
    let reflect = FeatureSettings::musicnn();
    let constant = FeatureSettings {
        pad_mode: PadMode::Constant,
        ..reflect.clone()
    };
    let audio = samples(&clips()[0]);
    let a = FeatureExtractor::new(reflect)
        .unwrap()
        .song(&audio)
        .unwrap();
    let b = FeatureExtractor::new(constant)
        .unwrap()
        .song(&audio)
        .unwrap();
    let first_frame_differs = a[0].features.frame(0) != b[0].features.frame(0);
    assert!(first_frame_differs);
    assert_eq!(a[0].features.data[96..], b[0].features.data[96..]);
    assert_eq!(a[1], b[1]);
}

#[test]
fn streamed_patches_equal_whole_song_patches() {
    let settings = FeatureSettings::musicnn();
    let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
    // Three clips end to end: whole patches and an end-aligned last one.
    let audio: Vec<f32> = clips().iter().flat_map(|c| samples(c)).collect();
    let whole = extractor.song(&audio).unwrap();
    for chunk in [1_000, 47_872, 100_003] {
        let mut stream = SegmentStream::new(audio.len(), &settings).unwrap();
        let mut streamed = Vec::new();
        for piece in audio.chunks(chunk) {
            streamed.extend(stream.push(piece, &mut extractor).unwrap());
            assert!(stream.buffered() <= settings.segment_samples + 256 + chunk);
        }
        assert_eq!(streamed, whole, "chunks of {chunk}");
    }
}
