//! One file → its [`Outcome`]: skipped when a file found in a folder is not audio by its
//! bytes, else decoded, cut into segments (all, or quick mode's spread few), checked for
//! silence and "not music", and classified.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use genre_classifier::audio::decode::{decode_file, load_clip};
use genre_classifier::audio::sniff::{SNIFF_BYTES, Sniffed, sniff};
use genre_classifier::audio::{SILENCE_MESSAGE, SILENCE_PEAK, check_finite};
use genre_classifier::features::{
    FeatureExtractor, MusicEvidence, NOT_MUSIC_MESSAGE, QUICK_SEGMENTS, SegmentFeatures, SpreadPlan,
};
use genre_classifier::inference::{Classification, Classifier};
use genre_classifier::library::Entry;

/// What became of one file.
pub enum Outcome {
    /// Its verdict, and the song's length in seconds.
    Classified {
        /// The verdict.
        result: Box<Classification>,
        /// The song's length.
        seconds: f64,
    },
    /// It could not be classified (unreadable, silent, not music, ...): the message.
    Failed(String),
    /// Found in a folder and not audio: why it was skipped.
    Skipped(String),
}

/// How files are classified.
pub struct Job<'a> {
    /// The model.
    pub classifier: &'a Classifier,
    /// Classify only [`QUICK_SEGMENTS`] segments spread over each song.
    pub quick: bool,
}

impl Job<'_> {
    /// The outcome of `entry`, with `extractor` (one per thread).
    pub fn run(&self, entry: &Entry, extractor: &mut FeatureExtractor) -> Outcome {
        match entry {
            Entry::File { path, named } => {
                if !named && let Some(reason) = not_audio(path) {
                    return Outcome::Skipped(reason);
                }
                match self.classify_file(path, extractor) {
                    Ok((result, seconds)) => Outcome::Classified {
                        result: Box::new(result),
                        seconds,
                    },
                    Err(e) => Outcome::Failed(format!("{e:#}")),
                }
            }
            Entry::Unreadable { path, reason } => {
                Outcome::Failed(format!("{}: cannot read: {reason}", path.display()))
            }
            Entry::Loop { target, .. } => Outcome::Skipped(format!(
                "a symbolic link back to {}, a loop",
                target.display()
            )),
        }
    }

    /// The verdict on the audio file at `path` and its length in seconds.
    fn classify_file(
        &self,
        path: &Path,
        extractor: &mut FeatureExtractor,
    ) -> Result<(Classification, f64)> {
        let (segments, seconds) = if self.quick {
            spread_segments_of(path, extractor)?
        } else {
            all_segments_of(path, extractor)?
        };
        let mut evidence = MusicEvidence::default();
        for segment in &segments {
            evidence.add_features(&segment.features, extractor.settings());
        }
        if let Some(reason) = evidence.not_music() {
            bail!("{} {NOT_MUSIC_MESSAGE}: {reason}", path.display());
        }
        let result = self
            .classifier
            .classify(&segments)
            .with_context(|| path.display().to_string())?;
        Ok((result, seconds))
    }
}

/// Every segment of the song at `path`, and its length in seconds.
fn all_segments_of(
    path: &Path,
    extractor: &mut FeatureExtractor,
) -> Result<(Vec<SegmentFeatures>, f64)> {
    let clip = load_clip(path, extractor.settings().sample_rate)?;
    if clip.is_silent() {
        bail!("{} is {SILENCE_MESSAGE}", path.display());
    }
    let segments = extractor
        .song(&clip.samples)
        .with_context(|| path.display().to_string())?;
    Ok((segments, clip.seconds()))
}

/// Quick mode: the [`QUICK_SEGMENTS`] segments spread over the song at `path`, computed
/// from short pieces of it (as the page does), and its length in seconds.
fn spread_segments_of(
    path: &Path,
    extractor: &mut FeatureExtractor,
) -> Result<(Vec<SegmentFeatures>, f64)> {
    let decoded = decode_file(path)?;
    let context = || path.display().to_string();
    check_finite(&decoded.mono, 0, decoded.sample_rate).with_context(context)?;
    if decoded.mono.iter().all(|s| s.abs() < SILENCE_PEAK) {
        bail!("{} is {SILENCE_MESSAGE}", path.display());
    }
    let settings = extractor.settings();
    let plan = SpreadPlan::new(
        decoded.mono.len(),
        decoded.sample_rate,
        settings,
        QUICK_SEGMENTS,
    )
    .with_context(context)?;
    let seconds = plan.song_samples as f64 / f64::from(settings.sample_rate);
    let segments = extractor
        .spread_song_pieces(&plan, &decoded.mono)
        .with_context(context)?;
    Ok((segments, seconds))
}

/// Why the file at `path` is not audio by its first bytes, or `None` if it may be. A file
/// that cannot be opened is left to the decoder, which says why.
fn not_audio(path: &Path) -> Option<String> {
    let mut header = Vec::with_capacity(SNIFF_BYTES);
    let file = std::fs::File::open(path).ok()?;
    file.take(SNIFF_BYTES as u64)
        .read_to_end(&mut header)
        .ok()?;
    match sniff(&header) {
        Sniffed::Audio(_) => None,
        Sniffed::NotAudio(reason) => Some(reason),
    }
}
