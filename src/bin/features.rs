//! `features`: the tutorial's preprocessing.py as a real tool. Reads a data folder in any
//! layout `train` reads (`<root>/<genre>/*`, a `manifest.csv`, GTZAN's and Kaggle's),
//! computes the MFCCs of each file's 3 s segments on all cores, and writes the tutorial's
//! JSON layout (`mapping`, `labels`, `mfcc`) plus `files` and the feature settings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::Parser;
use genre_classifier::atomic_file::write_atomically;
use genre_classifier::dataset::{self, Dataset, Track};
use genre_classifier::features::{
    FeatureExtractor, FeatureFrames, FeatureSettings, PadMode, SegmentFeatures,
};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use serde::ser::SerializeSeq;

/// Compute MFCC segments of a folder of labelled music, like the tutorial's preprocessing.py.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Data folder: <root>/<genre>/<file>.{wav,au,mp3,flac,ogg}, genres/<genre>/*,
    /// Data/genres_original/<genre>/*, or a folder with a manifest.csv (columns id, genre,
    /// file; files relative to the folder).
    root: PathBuf,
    /// Output JSON file (written atomically).
    #[arg(long, short)]
    out: PathBuf,
    /// At most this many 3 s segments per file (10 covers a 30 s GTZAN clip).
    #[arg(long, default_value_t = 10)]
    segments: usize,
    /// Edge padding of each segment: constant (librosa 0.10+) or reflect (librosa <= 0.8).
    #[arg(long, value_enum, default_value_t = PadArg::Constant)]
    pad_mode: PadArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PadArg {
    Constant,
    Reflect,
}

/// One segment's MFCCs serialised as the tutorial's `[frames][n_mfcc]` nested list.
struct Frames<'a>(&'a FeatureFrames);

impl Serialize for Frames<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.frames))?;
        for frame in self.0.frames() {
            seq.serialize_element(frame)?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Output<'a> {
    mapping: &'a [String],
    labels: Vec<usize>,
    mfcc: Vec<Frames<'a>>,
    files: Vec<String>,
    settings: &'a FeatureSettings,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One extractor per worker thread, each made on its thread's first file (rayon's
/// `map_init` would make one for every piece it splits the work into).
struct Extractors {
    settings: FeatureSettings,
    slots: Vec<Mutex<Option<FeatureExtractor>>>,
}

impl Extractors {
    /// The slots, the first filled with an extractor made now (which checks `settings`).
    fn new(settings: FeatureSettings) -> Result<Self> {
        let first = FeatureExtractor::new(settings.clone()).context("feature settings")?;
        let mut slots: Vec<_> = (0..rayon::current_num_threads())
            .map(|_| Mutex::new(None))
            .collect();
        slots[0] = Mutex::new(Some(first));
        Ok(Self { settings, slots })
    }

    /// The first `segments` segments of `track`, with this thread's extractor.
    fn extract(&self, track: &Track, segments: usize) -> Result<Vec<SegmentFeatures>, String> {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        let fresh = || FeatureExtractor::new(self.settings.clone()).map_err(|e| e.to_string());
        // The slot is only ever busy if the same thread re-enters (it does not today).
        match self.slots[slot].try_lock() {
            Ok(mut slot) => match &mut *slot {
                Some(extractor) => extract(track, extractor, segments),
                None => fresh().and_then(|made| extract(track, slot.insert(made), segments)),
            },
            Err(_) => fresh().and_then(|mut made| extract(track, &mut made, segments)),
        }
    }
}

/// The segments of every track (`None`: unreadable, named on stderr), on all cores.
fn extract_all<'a>(
    tracks: &'a [Track],
    extractors: &Extractors,
    segments: usize,
) -> Vec<(&'a Track, Option<Vec<SegmentFeatures>>)> {
    let bar = ProgressBar::new(tracks.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files  {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let results = tracks
        .par_iter()
        .map(|track| {
            let outcome = extractors.extract(track, segments);
            bar.inc(1);
            match outcome {
                Ok(segments) => (track, Some(segments)),
                Err(reason) => {
                    bar.suspend(|| eprintln!("skipped {reason}"));
                    (track, None)
                }
            }
        })
        .collect();
    bar.finish_and_clear();
    results
}

/// The data set under `root` (any layout `train` reads), described on stderr.
fn find(root: &Path) -> Result<Dataset> {
    let set = Dataset::find(root)?;
    for empty in &set.empty_folders {
        eprintln!("note: {} has no audio files; not a genre", empty.display());
    }
    eprintln!(
        "{} files in {} genres: {}",
        set.tracks.len(),
        set.genres.len(),
        set.genres.join(", ")
    );
    Ok(set)
}

/// Computes the features of every file of the data set and writes the JSON.
fn run(args: Args) -> Result<ExitCode> {
    let settings = FeatureSettings {
        pad_mode: match args.pad_mode {
            PadArg::Constant => PadMode::Constant,
            PadArg::Reflect => PadMode::Reflect,
        },
        ..FeatureSettings::default()
    };
    let extractors = Extractors::new(settings.clone())?;
    let set = find(&args.root)?;
    let results = extract_all(&set.tracks, &extractors, args.segments);
    let skipped = results.iter().filter(|(_, r)| r.is_none()).count();
    let mut output = Output {
        mapping: &set.genres,
        labels: Vec::new(),
        mfcc: Vec::new(),
        files: Vec::new(),
        settings: &settings,
    };
    for (track, segments) in &results {
        for segment in segments.iter().flatten() {
            output.labels.push(track.label);
            output.mfcc.push(Frames(&segment.features));
            output.files.push(track.path.display().to_string());
        }
    }
    let read = results.len() - skipped;
    eprintln!(
        "{read} of {} files read, {skipped} skipped; {} segments",
        results.len(),
        output.mfcc.len()
    );
    if read == 0 {
        eprintln!(
            "error: no file could be read; {} not written",
            args.out.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    write_json(&args.out, &output)?;
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The first `segments` segments of `track`, or why it cannot be read.
fn extract(
    track: &Track,
    extractor: &mut FeatureExtractor,
    segments: usize,
) -> Result<Vec<SegmentFeatures>, String> {
    dataset::extract_file(&track.path, extractor, segments).map_err(|e| e.to_string())
}

/// Writes `output` to `path` atomically.
fn write_json(path: &Path, output: &Output) -> Result<()> {
    write_atomically(path, |w| {
        serde_json::to_writer(w, output).map_err(std::io::Error::from)
    })
    .with_context(|| format!("writing {}", path.display()))
}
