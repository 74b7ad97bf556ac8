//! Running a batch: the files are classified on a pool of `--jobs` threads (one feature
//! extractor each), while this thread writes each song's row the moment it is done,
//! moves the progress bar, and prints to the console in the order of the file list.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use anyhow::{Context, Result};
use genre_classifier::features::{FeatureExtractor, FeatureSettings};
use genre_classifier::library::Entry;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::console::Console;
use crate::job::{Job, Outcome};
use crate::output::Outputs;

/// How many files of a batch ended how.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Songs classified.
    pub classified: usize,
    /// Files that could not be classified.
    pub failed: usize,
    /// Files found in folders that are not audio.
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Classified { .. } => self.classified += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
    }
}

/// Where a batch's results go.
pub struct Sinks<'a> {
    /// The `--csv` and `--jsonl` files.
    pub outputs: &'a mut Outputs,
    /// Standard output and error.
    pub console: &'a Console,
}

/// Classifies `entries` with `job` on `jobs` threads; see the module docs. Stops early,
/// with the error, if an output file cannot be written.
pub fn run(
    entries: &[Entry],
    job: &Job,
    settings: &FeatureSettings,
    jobs: usize,
    sinks: Sinks,
) -> Result<Counts> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting the worker threads")?;
    let (pool, stop) = (&pool, &AtomicBool::new(false));
    let (sender, receiver) = mpsc::channel::<(usize, Outcome)>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            pool.install(|| {
                entries
                    .par_iter()
                    .enumerate()
                    .with_max_len(1)
                    .for_each_init(
                        || (sender.clone(), FeatureExtractor::new(settings.clone())),
                        |(sender, extractor), (index, entry)| {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            let outcome = match extractor {
                                Ok(extractor) => job.run(entry, extractor),
                                Err(e) => {
                                    Outcome::Failed(format!("{}: {e}", entry.path().display()))
                                }
                            };
                            // The receiver only goes away once every result is in.
                            let _ = sender.send((index, outcome));
                        },
                    )
            });
            drop(sender);
        });
        let collected = collect(entries, receiver, sinks);
        if collected.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        collected
    })
}

/// Takes the results as they come: written to the outputs at once, shown on the console
/// in list order.
fn collect(
    entries: &[Entry],
    receiver: mpsc::Receiver<(usize, Outcome)>,
    sinks: Sinks,
) -> Result<Counts> {
    let bar = progress_bar(entries.len());
    let mut counts = Counts::default();
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for (index, outcome) in receiver {
        let file = entries[index].path().display().to_string();
        sinks.outputs.write(&file, &outcome)?;
        counts.add(&outcome);
        bar.inc(1);
        waiting.insert(index, outcome);
        while let Some(outcome) = waiting.remove(&next) {
            let file = entries[next].path().display().to_string();
            bar.suspend(|| sinks.console.show(&file, &outcome));
            next += 1;
        }
    }
    bar.finish_and_clear();
    Ok(counts)
}

/// A progress bar on standard error with the time left; indicatif draws it only when
/// standard error is a terminal, so piped or redirected output never holds it.
fn progress_bar(files: usize) -> ProgressBar {
    let bar = ProgressBar::new(files as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} files · {elapsed} elapsed · {eta} left")
    {
        bar.set_style(style);
    }
    bar
}
