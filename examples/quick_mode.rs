//! How much `--quick` (only `QUICK_SEGMENTS` segments spread over the song) changes the
//! verdict: on the validation tracks of a data folder's manifest (30 s, so 10 segments:
//! quick mode hears all of them), and on long songs made by joining `JOIN` validation
//! tracks of one genre (each song starts at another track of its genre, the next ones
//! following in turn). Prints, per set, the accuracy of the full and quick verdicts (a
//! song's label is its genre), how often they agree, and the time each took.
//! `quick_mode MODEL_DIR DATA_DIR` (docs/ACCURACY.md, "Quick mode").
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::{FeatureExtractor, QUICK_SEGMENTS};
use genre_classifier::inference::{Classifier, load_model_dir};
use genre_classifier::models::cpu_device;
use rayon::prelude::*;

/// Tracks joined into one long song (8 × 30 s = 4 min).
const JOIN: usize = 8;

/// A song's label and its full and quick verdicts, with the time each took.
struct Verdicts {
    label: String,
    full: String,
    quick: String,
    full_time: Duration,
    quick_time: Duration,
}

/// The (genre, file) of each validation track in `data`'s manifest.csv.
fn validation_tracks(data: &Path) -> Result<Vec<(String, PathBuf)>> {
    let manifest = data.join("manifest.csv");
    let mut reader = csv::Reader::from_path(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let header = reader.headers()?.clone();
    let column = |name: &str| header.iter().position(|h| h == name).context("column");
    let (genre, split, file) = (column("genre")?, column("split")?, column("file")?);
    let mut tracks = Vec::new();
    for record in reader.records() {
        let record = record?;
        if record.get(split) == Some("valid") {
            let cell = |i: usize| record.get(i).unwrap_or_default().to_owned();
            tracks.push((cell(genre), data.join(cell(file))));
        }
    }
    Ok(tracks)
}

/// The full and quick verdicts on `samples`.
fn verdicts(
    classifier: &Classifier,
    extractor: &mut FeatureExtractor,
    label: &str,
    samples: &[f32],
) -> Result<Verdicts> {
    let start = Instant::now();
    let full = classifier.classify(&extractor.song(samples)?)?.genre;
    let full_time = start.elapsed();
    let start = Instant::now();
    let quick = classifier
        .classify(&extractor.spread_song(samples, QUICK_SEGMENTS)?)?
        .genre;
    Ok(Verdicts {
        label: label.to_owned(),
        full,
        quick,
        full_time,
        quick_time: start.elapsed(),
    })
}

/// Each set of songs's verdicts on every core: `songs[i]` gives song i's label and samples.
fn measure<F>(classifier: &Classifier, count: usize, song: F) -> Result<Vec<Verdicts>>
where
    F: Fn(usize) -> Result<(String, Vec<f32>)> + Sync,
{
    let settings = classifier.card().features.clone();
    (0..count)
        .into_par_iter()
        .map_init(
            || FeatureExtractor::new(settings.clone()),
            |extractor, i| {
                let extractor = extractor.as_mut().map_err(|e| anyhow::anyhow!("{e}"))?;
                let (label, samples) = song(i)?;
                verdicts(classifier, extractor, &label, &samples)
            },
        )
        .collect()
}

/// The long song starting at track `i`: it and the next `JOIN - 1` tracks of its genre
/// (wrapping around), joined.
fn long_song(tracks: &[(String, PathBuf)], i: usize, rate: u32) -> Result<(String, Vec<f32>)> {
    let genre = &tracks[i].0;
    let same: Vec<&PathBuf> = tracks
        .iter()
        .filter(|(g, _)| g == genre)
        .map(|(_, f)| f)
        .collect();
    let first = same.iter().position(|f| **f == tracks[i].1).unwrap_or(0);
    let mut samples = Vec::new();
    for k in 0..JOIN {
        samples.extend(load_clip(same[(first + k) % same.len()], rate)?.samples);
    }
    Ok((genre.clone(), samples))
}

fn report(name: &str, results: &[Verdicts]) {
    let n = results.len().max(1) as f64;
    let share =
        |f: &dyn Fn(&Verdicts) -> bool| 100.0 * results.iter().filter(|v| f(v)).count() as f64 / n;
    let mean = |f: &dyn Fn(&Verdicts) -> Duration| {
        results.iter().map(|v| f(v).as_secs_f64()).sum::<f64>() / n
    };
    println!(
        "{name}\t{}\t{:.1} %\t{:.1} %\t{:.1} %\t{:.2} s\t{:.2} s",
        results.len(),
        share(&|v| v.full == v.label),
        share(&|v| v.quick == v.label),
        share(&|v| v.quick == v.full),
        mean(&|v| v.full_time),
        mean(&|v| v.quick_time),
    );
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, data] = args.as_slice() else {
        bail!("usage: quick_mode MODEL_DIR DATA_DIR");
    };
    let classifier = load_model_dir(Path::new(model), &cpu_device())?;
    let rate = classifier.card().features.sample_rate;
    let tracks = validation_tracks(Path::new(data))?;
    println!("set\tsongs\tfull accuracy\tquick accuracy\tquick = full\tfull time\tquick time");
    let clips = measure(&classifier, tracks.len(), |i| {
        Ok((tracks[i].0.clone(), load_clip(&tracks[i].1, rate)?.samples))
    })?;
    report("validation tracks (30 s)", &clips);
    let joined = measure(&classifier, tracks.len(), |i| long_song(&tracks, i, rate))?;
    report(&format!("{JOIN} tracks joined ({} s)", JOIN * 30), &joined);
    Ok(())
}
