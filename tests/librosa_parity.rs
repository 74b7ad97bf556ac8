//! Every MFCC of every frame matches librosa 0.11 within 1e-3 on real GTZAN clips and
//! synthetic signals (tests/fixtures/librosa_mfcc.json, made by the committed script
//! beside it from the same decoded samples).

use std::path::{Path, PathBuf};

use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::{FeatureExtractor, FeatureSettings, PadMode};
use genre_classifier::synth;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Largest accepted |ours - librosa| for any coefficient of any frame.
const TOLERANCE: f32 = 1e-3;

#[derive(Deserialize)]
struct Fixtures {
    librosa_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    source: String,
    pad_mode: PadMode,
    samples: usize,
    sha256: String,
    mfcc: Vec<Vec<Vec<f32>>>,
}

fn fixtures() -> Fixtures {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/librosa_mfcc.json");
    let text = std::fs::read_to_string(&path).expect("fixture file is committed");
    serde_json::from_str(&text).expect("fixture file parses")
}

fn shared_data(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    assert!(
        path.exists(),
        "{} is missing: the parity tests need ../shared/data",
        path.display()
    );
    path
}

fn samples_of(case: &Case) -> Vec<f32> {
    match case.source.strip_prefix("synth:") {
        Some(name) => synth::named(name).expect("known synthetic signal"),
        None => {
            load_clip(&shared_data(&case.source), 22_050)
                .expect("clip decodes")
                .samples
        }
    }
}

fn sha256_hex(samples: &[f32]) -> String {
    let mut hasher = Sha256::new();
    for s in samples {
        hasher.update(s.to_le_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares one case; returns its largest absolute difference.
fn compare(case: &Case) -> f32 {
    let samples = samples_of(case);
    assert_eq!(samples.len(), case.samples, "{}: sample count", case.name);
    assert_eq!(
        sha256_hex(&samples),
        case.sha256,
        "{}: not the samples librosa saw",
        case.name
    );
    let settings = FeatureSettings {
        pad_mode: case.pad_mode,
        ..FeatureSettings::default()
    };
    let mut extractor = FeatureExtractor::new(settings).unwrap();
    let ours = extractor.song(&samples).unwrap();
    assert!(
        ours.len() >= case.mfcc.len(),
        "{}: too few segments",
        case.name
    );
    let mut worst = 0.0f32;
    for (seg, (mine, theirs)) in ours.iter().zip(&case.mfcc).enumerate() {
        assert_eq!(
            mine.features.frames,
            theirs.len(),
            "{} segment {seg}: frames",
            case.name
        );
        for (t, (a, b)) in mine.features.frames().zip(theirs).enumerate() {
            assert_eq!(a.len(), b.len());
            for (k, (x, y)) in a.iter().zip(b).enumerate() {
                let diff = (x - y).abs();
                assert!(
                    diff <= TOLERANCE,
                    "{} segment {seg} frame {t} coefficient {k}: ours {x}, librosa {y}",
                    case.name
                );
                worst = worst.max(diff);
            }
        }
    }
    worst
}

fn check(filter: impl Fn(&Case) -> bool) {
    let fixtures = fixtures();
    assert!(fixtures.librosa_version.starts_with("0.11"));
    let mut checked = 0;
    for case in fixtures.cases.iter().filter(|c| filter(c)) {
        let worst = compare(case);
        println!("{:>24}: max |ours - librosa| = {worst:.2e}", case.name);
        checked += 1;
    }
    assert!(checked > 0, "no fixture cases selected");
}

#[test]
fn real_clips_match_librosa_in_every_frame() {
    check(|c| c.source.starts_with("gtzan/") && c.pad_mode == PadMode::Constant);
}

#[test]
fn reflect_padding_matches_old_librosa_defaults() {
    check(|c| c.pad_mode == PadMode::Reflect);
}

#[test]
fn synthetic_signals_match_librosa() {
    check(|c| c.source.starts_with("synth:"));
}
