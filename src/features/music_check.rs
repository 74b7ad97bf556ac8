//! Whether a song sounds like music at all: simple measures of its log-mel segments that
//! tell a steady tone, noise, speech or clicks in silence from music, so that these get
//! "this does not sound like music" rather than a genre.
//!
//! Written here rather than taken from a crate: no crate computes these from the
//! features we already have, and each is a few lines over a segment's log-mel values.
//! The thresholds were set on generated tones, noise, `espeak-ng` speech and every
//! validation track and excerpt (docs/ACCURACY.md, "Not music").

use super::{FeatureFrames, FeatureKind, FeatureSettings};

/// Frames per block when measuring how a segment's spectrum changes (0.5 s of musicnn's
/// 16 ms hops).
const BLOCK_FRAMES: usize = 31;

/// A frame counts as a pause when its power is this far below the segment's mean
/// (-20 dB).
const PAUSE_RATIO: f32 = 0.01;

/// A song whose segments' mean [`SegmentSignal::pauses`] reaches this is mostly silence
/// (validation music: at most 0.18; clicks in silence: 0.97).
const MOSTLY_PAUSES: f32 = 0.5;

/// A song whose mean [`SegmentSignal::tonal_share`] reaches this is a pure tone
/// (validation music: at most 0.80; sines and a sweep: 0.98 and more).
const PURE_TONE_SHARE: f32 = 0.9;

/// A song whose mean [`SegmentSignal::variation`] is below this is a steady sound (validation
/// music: at least 0.11; white, pink and brown noise 0.055-0.057, a held chord 0.007).
const STEADY_VARIATION: f32 = 0.08;

/// A song whose mean [`SegmentSignal::envelope_depth`] reaches this, in dB, is speech-like
/// (validation music: at most 11.7 dB; `espeak-ng` speech about 18 dB).
const SPEECH_DEPTH_DB: f32 = 14.0;

/// Frames a second at musicnn's settings (16 kHz, hop 256).
const FRAMES_PER_SECOND: f32 = 62.5;

/// The measures of one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SegmentSignal {
    /// How much the spectrum changes between half-second blocks: the mean over bands of
    /// the spread of each band's block means (log-mel units). Near 0 for steady sounds.
    pub variation: f32,
    /// Share of frames that are pauses (see [`PAUSE_RATIO`]).
    pub pauses: f32,
    /// Median over frames of the share of the frame's power in its strongest three
    /// adjacent bands: near 1 for a pure tone.
    pub tonal_share: f32,
    /// Standard deviation of the frames' power in dB (floored 60 dB below the loudest
    /// frame): large for speech, whose words alternate with silence.
    pub envelope_depth: f32,
    /// Pauses begun per second: words and phrases in speech, rare breaks in music.
    pub pause_rate: f32,
}

impl SegmentSignal {
    /// The measures of one log-mel segment (`None` for other kinds of features).
    pub fn of(features: &FeatureFrames, kind: FeatureKind) -> Option<Self> {
        if kind != FeatureKind::LogMel || features.frames < 2 * BLOCK_FRAMES {
            return None;
        }
        let power: Vec<Vec<f32>> = features
            .frames()
            .map(|row| row.iter().map(|&v| (10f32.powf(v) - 1.0) / 1e4).collect())
            .collect();
        let energy: Vec<f32> = power.iter().map(|row| row.iter().sum()).collect();
        let mean = energy.iter().sum::<f32>() / energy.len() as f32;
        let pauses = energy.iter().filter(|&&e| e < PAUSE_RATIO * mean).count();
        Some(Self {
            variation: block_variation(features),
            pauses: pauses as f32 / energy.len() as f32,
            tonal_share: median_tonal_share(&power, &energy, mean),
            envelope_depth: envelope_depth(&energy),
            pause_rate: pause_rate(&energy, mean),
        })
    }
}

/// Standard deviation of the frames' power in dB, floored 60 dB below the loudest.
fn envelope_depth(energy: &[f32]) -> f32 {
    let top = energy.iter().copied().fold(0f32, f32::max);
    if top <= 0.0 {
        return 0.0;
    }
    let db: Vec<f32> = energy
        .iter()
        .map(|&e| 10.0 * (e.max(top * 1e-6) / top).log10())
        .collect();
    let mean = db.iter().sum::<f32>() / db.len() as f32;
    (db.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / db.len() as f32).sqrt()
}

/// Pauses begun per second of a segment (musicnn's 62.5 frames a second).
fn pause_rate(energy: &[f32], mean: f32) -> f32 {
    let paused: Vec<bool> = energy.iter().map(|&e| e < PAUSE_RATIO * mean).collect();
    let starts = paused.windows(2).filter(|w| !w[0] && w[1]).count();
    starts as f32 / (energy.len() as f32 / FRAMES_PER_SECOND)
}

/// Mean over bands of the standard deviation of the band's half-second block means.
fn block_variation(features: &FeatureFrames) -> f32 {
    let blocks = features.frames / BLOCK_FRAMES;
    let width = features.width;
    let mut block_means = vec![vec![0f32; width]; blocks];
    for (t, row) in features.frames().take(blocks * BLOCK_FRAMES).enumerate() {
        for (m, v) in block_means[t / BLOCK_FRAMES].iter_mut().zip(row) {
            *m += v / BLOCK_FRAMES as f32;
        }
    }
    let spread = |band: usize| {
        let values = block_means.iter().map(|b| b[band]);
        let mean = values.clone().sum::<f32>() / blocks as f32;
        (values.map(|v| (v - mean).powi(2)).sum::<f32>() / blocks as f32).sqrt()
    };
    (0..width).map(spread).sum::<f32>() / width as f32
}

/// Median over the frames that are not pauses of the strongest three adjacent bands'
/// share of the frame's power.
fn median_tonal_share(power: &[Vec<f32>], energy: &[f32], mean: f32) -> f32 {
    let mut shares: Vec<f32> = power
        .iter()
        .zip(energy)
        .filter(|(_, e)| **e >= PAUSE_RATIO * mean && **e > 0.0)
        .map(|(row, e)| {
            let best = row
                .windows(3)
                .map(|w| w.iter().sum::<f32>())
                .fold(0f32, f32::max);
            best / e
        })
        .collect();
    if shares.is_empty() {
        return 0.0;
    }
    shares.sort_by(f32::total_cmp);
    shares[shares.len() / 2]
}

/// What a person is told before [`MusicEvidence::not_music`]'s reason, by `classify` and
/// by the page.
pub const NOT_MUSIC_MESSAGE: &str = "does not sound like music";

/// What a song's segments say about whether it is music: their measures, averaged.
#[derive(Debug, Clone, Default)]
pub struct MusicEvidence {
    count: usize,
    sum: SegmentSignal,
}

impl MusicEvidence {
    /// Adds one segment's measures.
    pub fn add(&mut self, signal: SegmentSignal) {
        self.count += 1;
        self.sum.variation += signal.variation;
        self.sum.pauses += signal.pauses;
        self.sum.tonal_share += signal.tonal_share;
        self.sum.envelope_depth += signal.envelope_depth;
        self.sum.pause_rate += signal.pause_rate;
    }

    /// Why the song does not sound like music, if it does not: the reason completes
    /// "this does not sound like music: ...". `None` for music, and for features the
    /// measures do not apply to (MFCCs).
    pub fn not_music(&self) -> Option<&'static str> {
        let m = self.mean()?;
        if m.pauses >= MOSTLY_PAUSES {
            Some("it is mostly silence, with clicks or short sounds")
        } else if m.tonal_share >= PURE_TONE_SHARE {
            Some("it is a pure tone")
        } else if m.variation < STEADY_VARIATION {
            Some("it is a steady sound that never changes, such as noise or a held tone")
        } else if m.envelope_depth >= SPEECH_DEPTH_DB {
            Some("it sounds like speech: words separated by silence")
        } else {
            None
        }
    }

    /// Adds the measures of a segment's features computed with `settings`: nothing
    /// unless they are log-mel segments brought to a loudness (the thresholds are set
    /// for loudness-normalised segments; MFCCs and segments as recorded are not judged).
    pub fn add_features(&mut self, features: &FeatureFrames, settings: &FeatureSettings) {
        if settings.segment_loudness_lufs.is_none() {
            return;
        }
        if let Some(signal) = SegmentSignal::of(features, settings.kind) {
            self.add(signal);
        }
    }

    /// The mean of the segments' measures (`None` before any segment).
    pub fn mean(&self) -> Option<SegmentSignal> {
        (self.count > 0).then(|| {
            let n = self.count as f32;
            SegmentSignal {
                variation: self.sum.variation / n,
                pauses: self.sum.pauses / n,
                tonal_share: self.sum.tonal_share / n,
                envelope_depth: self.sum.envelope_depth / n,
                pause_rate: self.sum.pause_rate / n,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureExtractor;
    use crate::synth;

    fn evidence(samples: &[f32]) -> MusicEvidence {
        let settings = FeatureSettings {
            segment_loudness_lufs: Some(-20.0),
            ..FeatureSettings::musicnn()
        };
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let mut evidence = MusicEvidence::default();
        for segment in extractor.song(samples).unwrap() {
            evidence.add_features(&segment.features, &settings);
        }
        evidence
    }

    #[test]
    fn generated_signals_are_not_music() {
        for (name, samples) in synth::not_music(9.0, 16_000) {
            assert!(
                evidence(&samples).not_music().is_some(),
                "{name} passed as music"
            );
        }
    }

    #[test]
    fn a_changing_mixture_of_notes_and_noise_is_not_refused() {
        // Notes that change every quarter second over a quiet noise bed.
        let notes: Vec<f32> = (0..16_000 * 9)
            .map(|i| {
                let note = [220.0, 277.0, 330.0, 440.0, 392.0][(i / 4_000) % 5];
                let t = i as f32 / 16_000.0;
                0.3 * (std::f32::consts::TAU * note * t).sin()
                    + 0.2 * (std::f32::consts::TAU * 2.0 * note * t).sin()
            })
            .zip(synth::pink_noise(9.0, 16_000, 0.1, 3))
            .map(|(a, b)| a + b)
            .collect();
        assert_eq!(evidence(&notes).not_music(), None);
        assert_eq!(MusicEvidence::default().not_music(), None);
    }
}
