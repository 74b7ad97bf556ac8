//! `classify`: the genre of audio files, natively, with the same numbers as the page.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use genre_classifier::audio::SILENCE_MESSAGE;
use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::{FeatureExtractor, MusicEvidence, NOT_MUSIC_MESSAGE};
use genre_classifier::inference::{Classification, Classifier, load_model_dir};
use genre_classifier::models::{DEFAULT_MODEL, cpu_device};
use rayon::prelude::*;
use serde::Serialize;

/// Classify the genre of audio files (wav, au, mp3, flac, ogg).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Audio files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Model folder (card.json + weights); default: the shipped musicnn model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Genres listed per file in text output.
    #[arg(long, default_value_t = 3)]
    top: usize,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    file: String,
    #[serde(flatten)]
    result: &'a Classification,
}

fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("www/models")
        .join(DEFAULT_MODEL)
}

fn classify_file(
    path: &Path,
    classifier: &Classifier,
    extractor: &mut FeatureExtractor,
) -> Result<Classification> {
    let clip = load_clip(path, extractor.settings().sample_rate)?;
    if clip.is_silent() {
        bail!("{} is {SILENCE_MESSAGE}", path.display());
    }
    let segments = extractor
        .song(&clip.samples)
        .with_context(|| path.display().to_string())?;
    let mut evidence = MusicEvidence::default();
    for segment in &segments {
        evidence.add_features(&segment.features, extractor.settings());
    }
    if let Some(reason) = evidence.not_music() {
        bail!("{} {NOT_MUSIC_MESSAGE}: {reason}", path.display());
    }
    classifier
        .classify(&segments)
        .with_context(|| path.display().to_string())
}

fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn print_text(path: &Path, result: &Classification, top: usize) {
    let ranked: Vec<String> = result
        .probabilities
        .ranked()
        .iter()
        .take(top.max(1))
        .map(|(g, p)| format!("{g} {:.1} %", p * 100.0))
        .collect();
    println!("{}: {}", path.display(), ranked.join(", "));
    for segment in &result.segments {
        let p = segment.probabilities.get(&segment.genre).unwrap_or(0.0);
        println!(
            "  {:>6}  {:<10} {:>5.1} %",
            clock(segment.start_s),
            segment.genre,
            p * 100.0
        );
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let model = args.model.clone().unwrap_or_else(default_model);
    let device = cpu_device();
    let setup = load_model_dir(&model, &device)
        .with_context(|| format!("loading the model in {}", model.display()))
        .and_then(|classifier| {
            let extractor = FeatureExtractor::new(classifier.card().features.clone())?;
            classifier.check_features(extractor.settings())?;
            Ok((classifier, extractor))
        });
    let (classifier, extractor) = match setup {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let settings = extractor.settings().clone();
    // Files in parallel, one extractor per thread, printed in the order given: a batch
    // of a few files per core at a time, so results appear as they are done.
    let batch = 2 * rayon::current_num_threads().max(1);
    let mut failed = 0;
    for paths in args.files.chunks(batch) {
        let results: Vec<Result<Classification>> = paths
            .par_iter()
            .map_init(
                || FeatureExtractor::new(settings.clone()),
                |extractor, path| match extractor {
                    Ok(extractor) => classify_file(path, &classifier, extractor),
                    Err(e) => Err(anyhow!("{}: {e}", path.display())),
                },
            )
            .collect();
        for (path, result) in paths.iter().zip(results) {
            match result {
                Ok(result) if args.json => {
                    let line = JsonLine {
                        file: path.display().to_string(),
                        result: &result,
                    };
                    match serde_json::to_string(&line) {
                        Ok(json) => println!("{json}"),
                        Err(e) => {
                            eprintln!("error: {}: {e}", path.display());
                            failed += 1;
                        }
                    }
                }
                Ok(result) => print_text(path, &result, args.top),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    failed += 1;
                }
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} files could not be classified",
            args.files.len()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
