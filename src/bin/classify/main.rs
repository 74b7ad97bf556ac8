//! `classify`: the genre of audio files, natively, with the same numbers as the page;
//! a whole library at once, into a CSV or JSONL file that survives interruption.
//!
//! - [`job`]: one file → its outcome (verdict, error, or skipped as not audio).
//! - [`run`]: a batch on all cores, results written as they come.
//! - [`output`]: the `--csv` and `--jsonl` files, and what `--resume` finds in them.
//! - [`console`]: what is printed on standard output and error.

mod console;
mod job;
mod output;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use genre_classifier::features::FeatureExtractor;
use genre_classifier::inference::{Classifier, load_model_dir};
use genre_classifier::library::{Entry, Shard, list};
use genre_classifier::models::{DEFAULT_MODEL, cpu_device};

use console::Console;
use job::Job;
use output::Outputs;
use run::{Counts, Sinks};

/// Classify the genre of audio files (wav, au, mp3, flac, ogg, ...), or of every audio
/// file under folders.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Audio files and folders (walked recursively; their files are recognised as audio
    /// by their content, others are skipped with the reason).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Model folder (card.json + weights); default: the shipped musicnn model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Genres listed per file in text output.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Write one row per song to this CSV file (file,genre,confidence,unsure,tags,seconds,error),
    /// each row as soon as the song is done. Nothing goes to standard output unless --json.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write one JSON object per song and line to this file ({file, seconds, ...the
    /// verdict} or {file, error}), as it goes, like --csv.
    #[arg(long, value_name = "FILE")]
    jsonl: Option<PathBuf>,
    /// Skip the files already in the --csv/--jsonl output, and append to it.
    #[arg(long)]
    resume: bool,
    /// Files classified at once (default: one per core).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Classify only 10 segments spread evenly over each song: faster on long songs.
    #[arg(long)]
    quick: bool,
    /// Classify only share K of N (K from 0 to N-1) of the files, chosen by a hash of
    /// each path, so N runs together classify every file exactly once.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("www/models")
        .join(DEFAULT_MODEL)
}

/// The model, and checks that the extractor settings it names are valid.
fn load_model(dir: &Path) -> Result<Classifier> {
    let classifier = load_model_dir(dir, &cpu_device())
        .with_context(|| format!("loading the model in {}", dir.display()))?;
    let extractor = FeatureExtractor::new(classifier.card().features.clone())?;
    classifier.check_features(extractor.settings())?;
    Ok(classifier)
}

/// The entries to classify: those in the shard, less those already in the outputs with
/// `--resume`; and how many were already done.
fn select(args: &Args) -> Result<(Vec<Entry>, usize)> {
    let mut entries = list(&args.inputs);
    if entries.is_empty() {
        bail!("no files found in the paths given");
    }
    if let Some(shard) = args.shard {
        entries.retain(|e| shard.contains(&e.path().display().to_string()));
    }
    if !args.resume {
        return Ok((entries, 0));
    }
    let done = output::already_done(args.csv.as_deref(), args.jsonl.as_deref())?;
    let before = entries.len();
    if let Some(done) = done {
        entries.retain(|e| !done.contains(&e.path().display().to_string()));
    }
    let already = before - entries.len();
    Ok((entries, already))
}

/// The closing line on standard error, and the exit status: failure when a file failed,
/// or when no song at all was found.
fn summary(counts: Counts, already: usize, shard: Option<Shard>) -> ExitCode {
    let Counts {
        classified,
        failed,
        skipped,
    } = counts;
    let mut parts = vec![format!("{classified} songs classified")];
    if failed > 0 {
        parts.push(format!("{failed} could not be"));
    }
    if skipped > 0 {
        parts.push(format!("{skipped} files skipped (not audio)"));
    }
    if already > 0 {
        parts.push(format!("{already} already in the output"));
    }
    eprintln!("{}", parts.join(", "));
    if classified + failed + already == 0 && shard.is_none() {
        eprintln!("error: no songs found: no file in the paths given is audio");
        return ExitCode::FAILURE;
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn try_main(args: Args) -> Result<ExitCode> {
    if args.resume && args.csv.is_none() && args.jsonl.is_none() {
        bail!("--resume needs --csv or --jsonl: the output to resume");
    }
    let model = args.model.clone().unwrap_or_else(default_model);
    let classifier = load_model(&model)?;
    let (entries, already) = select(&args)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut outputs = Outputs::open(args.csv.as_deref(), args.jsonl.as_deref(), args.resume)?;
    let console = Console {
        verdicts: outputs.is_empty() || args.json,
        json: args.json,
        top: args.top,
    };
    let job = Job {
        classifier: &classifier,
        quick: args.quick,
    };
    let settings = classifier.card().features.clone();
    let sinks = Sinks {
        outputs: &mut outputs,
        console: &console,
    };
    let counts = run::run(&entries, &job, &settings, jobs, sinks)?;
    Ok(summary(counts, already, args.shard))
}

fn main() -> ExitCode {
    match try_main(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
