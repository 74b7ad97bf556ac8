//! Features of what a microphone hears, while it hears it.
//!
//! Audio arrives in pieces at the device's rate. It is resampled to the feature rate with
//! the batch path's resampler ([`StreamResampler`]) and kept as a rolling window of one
//! segment (3 s). Every hop (1 s) the window's MFCCs are computed with the same extractor
//! as a song's segments, so the same samples give the same features either way.

use crate::audio::{AudioError, StreamResampler};

use super::{FeatureError, FeatureExtractor, FeatureFrames, FeatureSettings};

/// Seconds between two live windows.
pub const LIVE_HOP_SECONDS: f64 = 1.0;
/// Windows quieter than this RMS (-50 dBFS) are not classified: there is nothing to hear.
pub const QUIET_RMS: f32 = 0.003_16;

/// Why live features could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The device rate or resampling failed.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The extractor failed.
    #[error(transparent)]
    Features(#[from] FeatureError),
}

/// One live window: the last segment's worth of audio when it was computed.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveWindow {
    /// Seconds of audio heard (at the feature rate) when the window ended.
    pub end_s: f64,
    /// Root-mean-square level of the window's samples.
    pub rms: f32,
    /// Its features, `frames_per_segment x coefficients`.
    pub features: FeatureFrames,
}

impl LiveWindow {
    /// True when the window is too quiet to classify.
    pub fn is_quiet(&self) -> bool {
        self.rms < QUIET_RMS
    }
}

/// Resampler, rolling window and extractor for one live input.
pub struct LiveFeatures {
    resampler: StreamResampler,
    extractor: FeatureExtractor,
    /// The most recent samples at the feature rate (at most one window plus one hop).
    recent: Vec<f32>,
    heard: usize,
    next_end: usize,
    hop: usize,
}

impl LiveFeatures {
    /// Live features of audio at `device_rate`, with `settings`.
    pub fn new(device_rate: u32, settings: FeatureSettings) -> Result<Self, LiveError> {
        let hop = (LIVE_HOP_SECONDS * f64::from(settings.sample_rate)).round() as usize;
        // A log-mel window also needs the half frame before its start.
        let first = settings.segment_samples + settings.lead_samples();
        Ok(Self {
            resampler: StreamResampler::new(device_rate, settings.sample_rate)?,
            extractor: FeatureExtractor::new(settings)?,
            recent: Vec::new(),
            heard: 0,
            next_end: first,
            hop,
        })
    }

    /// The feature settings.
    pub fn settings(&self) -> &FeatureSettings {
        self.extractor.settings()
    }

    /// Takes the next samples (mono, device rate) and returns the windows they complete,
    /// oldest first: one per hop once the first full window has been heard.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<LiveWindow>, LiveError> {
        let resampled = self.resampler.push(samples)?;
        let window = self.extractor.settings().segment_samples;
        let lead = self.extractor.settings().lead_samples();
        let rate = f64::from(self.extractor.settings().sample_rate);
        let mut windows = Vec::new();
        for piece in resampled.chunks(self.hop) {
            self.recent.extend_from_slice(piece);
            self.heard += piece.len();
            while self.heard >= self.next_end {
                // The window ends `heard - next_end` samples before the newest sample.
                let end = self.recent.len() - (self.heard - self.next_end);
                let samples = &self.recent[end - window - lead..end];
                let heard = &samples[lead..];
                let rms = (heard.iter().map(|s| s * s).sum::<f32>() / window as f32).sqrt();
                windows.push(LiveWindow {
                    end_s: self.next_end as f64 / rate,
                    rms,
                    features: self.extractor.compute(samples)?,
                });
                self.next_end += self.hop;
            }
            let keep = window + lead + self.hop;
            if self.recent.len() > keep {
                self.recent.drain(..self.recent.len() - keep);
            }
        }
        Ok(windows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::resample;
    use crate::synth;

    #[test]
    fn live_windows_have_the_batch_features_of_the_same_samples() {
        // 8 s of a chord with a changing level at 48 kHz, heard in uneven pieces.
        let rate = 48_000;
        let audio: Vec<f32> = synth::tone(330.0, 8.0, rate, 0.3)
            .iter()
            .zip(synth::tone(523.0, 8.0, rate, 0.2))
            .enumerate()
            .map(|(i, (a, b))| (a + b) * (0.5 + 0.5 * (i as f32 / 40_000.0).sin()))
            .collect();
        let settings = FeatureSettings::default();
        let mut live = LiveFeatures::new(rate, settings.clone()).unwrap();
        let mut windows = Vec::new();
        for piece in audio.chunks(1_234) {
            windows.extend(live.push(piece).unwrap());
        }
        // The batch path: the whole recording resampled, then each window cut from it.
        let batch = resample(&audio, rate, 22_050).unwrap();
        let mut extractor = FeatureExtractor::new(settings).unwrap();
        let ends: Vec<f64> = windows.iter().map(|w| w.end_s).collect();
        assert_eq!(ends, vec![3.0, 4.0, 5.0, 6.0, 7.0]);
        for w in &windows {
            let end = (w.end_s * 22_050.0).round() as usize;
            let expected = extractor.compute(&batch[end - 66_150..end]).unwrap();
            assert_eq!(w.features, expected, "window ending at {} s", w.end_s);
            assert!(!w.is_quiet());
        }
    }

    #[test]
    fn silence_is_quiet_and_a_bad_rate_is_refused() {
        let mut live = LiveFeatures::new(22_050, FeatureSettings::default()).unwrap();
        let windows = live.push(&vec![0.0005; 22_050 * 4]).unwrap();
        assert_eq!(windows.len(), 2);
        assert!(windows.iter().all(LiveWindow::is_quiet));
        assert!(LiveFeatures::new(0, FeatureSettings::default()).is_err());
    }
}
