//! Audio at 22 050 Hz in, librosa-exact MFCCs out: settings, mel filterbank, the
//! extractor, and the cut of a song into 3 s segments.

mod extractor;
mod live;
pub mod loudness;
mod mel;
mod music_check;
mod quick;
mod recent_music;
mod segments;
mod settings;
mod spread_pieces;
mod stream;

pub use extractor::{FeatureExtractor, FeatureFrames};
pub use live::{LIVE_HOP_SECONDS, LiveError, LiveFeatures, LiveWindow, QUIET_RMS};
pub use mel::{MelFilterbank, hz_to_mel, mel_to_hz};
pub use music_check::{MusicEvidence, NOT_MUSIC_MESSAGE, SegmentSignal};
pub use quick::{QUICK_SEGMENTS, spread_segments};
pub use recent_music::{RECENT_WINDOWS, RecentMusicEvidence};
pub use segments::{SegmentSpan, plan_segments, segment_samples};
pub use settings::{FeatureKind, FeatureSettings, PadMode, ShortSongFill};
pub use spread_pieces::{SpreadError, SpreadPiece, SpreadPlan};
pub use stream::SegmentStream;

/// The key of features computed with `settings`: equal for equal settings (what caches
/// of a song's features and embeddings are keyed by).
pub fn feature_key(settings: &FeatureSettings) -> String {
    let json = serde_json::to_string(settings).unwrap_or_default();
    format!(
        "features:{}",
        &crate::card::sha256_hex(json.as_bytes())[..16]
    )
}

/// Why features could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The settings cannot describe a feature.
    #[error("invalid feature settings: {0}")]
    InvalidSettings(String),
    /// The signal has no samples at all.
    #[error("the audio is empty: it has no samples")]
    EmptySignal,
    /// The song is below the shortest length the classifier accepts.
    #[error("the audio is {seconds:.2} s long; at least {min_seconds:.1} s is needed")]
    SongTooShort {
        /// Length of the song in seconds.
        seconds: f64,
        /// Shortest accepted length in seconds.
        min_seconds: f64,
    },
    /// A signal passed to the extractor is shorter than one FFT window.
    #[error("a signal of {samples} samples is shorter than one analysis window ({needed})")]
    SignalTooShort {
        /// Samples given.
        samples: usize,
        /// Samples needed.
        needed: usize,
    },
    /// The caller's output buffer has the wrong size.
    #[error("output buffer holds {got} values, {expected} are needed")]
    OutputSize {
        /// Values needed.
        expected: usize,
        /// Values provided.
        got: usize,
    },
    /// More samples arrived than the song was announced to have.
    #[error("the song was announced as {expected} samples long, but {got} arrived")]
    TooManySamples {
        /// Samples announced.
        expected: usize,
        /// Samples received.
        got: usize,
    },
    /// The song ended before all its announced samples arrived.
    #[error("the song was announced as {expected} samples long, but only {got} arrived")]
    MissingSamples {
        /// Samples announced.
        expected: usize,
        /// Samples received.
        got: usize,
    },
    /// A sample is NaN or infinite.
    #[error("sample {0} is not a finite number")]
    NonFiniteSample(usize),
    /// The loudness meter refused the segment (a bug, reported rather than panicking).
    #[error("loudness could not be measured: {0}")]
    Loudness(String),
    /// The FFT refused its buffers (a bug, reported rather than panicking).
    #[error("FFT failed: {0}")]
    Fft(String),
}

/// The features of one segment of a song, with where it lies.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFeatures {
    /// Where the segment lies in the song.
    pub span: SegmentSpan,
    /// Its `frames_per_segment x coefficients` values.
    pub features: FeatureFrames,
}

impl FeatureExtractor {
    /// MFCCs of every segment of a song (mono, at the settings' rate), by the rule of
    /// [`plan_segments`].
    pub fn song(&mut self, song: &[f32]) -> Result<Vec<SegmentFeatures>, FeatureError> {
        self.first_segments(song, usize::MAX)
    }

    /// Like [`song`](Self::song), computing only the first `max_segments` segments.
    pub fn first_segments(
        &mut self,
        song: &[f32],
        max_segments: usize,
    ) -> Result<Vec<SegmentFeatures>, FeatureError> {
        plan_segments(song.len(), self.settings())?
            .into_iter()
            .take(max_segments)
            .map(|span| {
                let samples = segment_samples(song, span, self.settings());
                Ok(SegmentFeatures {
                    span,
                    features: self.compute(&samples)?,
                })
            })
            .collect()
    }
}
