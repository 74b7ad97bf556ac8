//! The verdicts of a model on songs played at other levels: for each shift of
//! `synth::LEVEL_SHIFTS_DB`, the accuracy (a song's label is its folder's name) and the
//! share of songs whose verdict is the one at 0 dB; per genre at the end.
//! `gain_shift MODEL_DIR FILE...` (docs/ACCURACY.md, "Level invariance").
use std::path::Path;

use anyhow::{Context, Result, bail};
use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::FeatureExtractor;
use genre_classifier::inference::load_model_dir;
use genre_classifier::models::cpu_device;
use genre_classifier::synth::{LEVEL_SHIFTS_DB, gain_shifted};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((model, files)) = args.split_first() else {
        bail!("usage: gain_shift MODEL_DIR FILE...");
    };
    let classifier = load_model_dir(Path::new(model), &cpu_device())?;
    let mut extractor = FeatureExtractor::new(classifier.card().features.clone())?;
    let rate = extractor.settings().sample_rate;
    // verdicts[file][shift]
    let mut verdicts: Vec<(String, Vec<String>)> = Vec::new();
    for file in files {
        let path = Path::new(file);
        let label = path
            .parent()
            .and_then(|p| p.file_name())
            .context("no folder")?;
        let clip = load_clip(path, rate)?;
        let mut row = Vec::new();
        for db in LEVEL_SHIFTS_DB {
            let segments = extractor.song(&gain_shifted(&clip.samples, db))?;
            row.push(classifier.classify(&segments)?.genre);
        }
        verdicts.push((label.to_string_lossy().into_owned(), row));
    }
    let zero = LEVEL_SHIFTS_DB.iter().position(|&d| d == 0.0).unwrap_or(0);
    let n = verdicts.len().max(1) as f64;
    println!("shift_db\taccuracy\tsame_as_0dB");
    for (k, db) in LEVEL_SHIFTS_DB.iter().enumerate() {
        let right = verdicts.iter().filter(|(l, v)| *l == v[k]).count() as f64;
        let same = verdicts.iter().filter(|(_, v)| v[k] == v[zero]).count() as f64;
        println!(
            "{db:+.0}\t{:.1} %\t{:.1} %",
            100.0 * right / n,
            100.0 * same / n
        );
    }
    Ok(())
}
