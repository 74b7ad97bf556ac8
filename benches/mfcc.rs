//! MFCC speed: time to compute the segment MFCCs of whole clips on one core.
//!
//! `cargo bench --bench mfcc -- FILE.f32...` times the given raw float32 clips (written
//! by examples/dump_samples.rs); with no files it times 30 s of synthetic noise. Prints
//! one JSON line per clip with the best-of-N milliseconds. Run through
//! benches/mfcc_vs_librosa.sh to compare with librosa on the same samples.

use std::time::Instant;

use genre_classifier::features::{FeatureExtractor, FeatureSettings};
use genre_classifier::synth;

const REPEATS: usize = 20;

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let clips: Vec<(String, Vec<f32>)> = if files.is_empty() {
        vec![(
            "synthetic noise 30 s".into(),
            synth::white_noise(30.0, 22_050, 0.5, 1),
        )]
    } else {
        files
            .iter()
            .map(|f| {
                let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
                let samples = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                (f.clone(), samples)
            })
            .collect()
    };
    let mut extractor =
        FeatureExtractor::new(FeatureSettings::default()).expect("default settings");
    for (name, samples) in &clips {
        let mut best = f64::MAX;
        let mut segments = 0;
        for _ in 0..REPEATS {
            let start = Instant::now();
            let out = extractor.song(samples).expect("clip is long enough");
            best = best.min(start.elapsed().as_secs_f64());
            segments = std::hint::black_box(out).len();
        }
        println!(
            "{}",
            serde_json::json!({
                "clip": name,
                "seconds": samples.len() as f64 / 22_050.0,
                "segments": segments,
                "ms": best * 1e3,
            })
        );
    }
}
