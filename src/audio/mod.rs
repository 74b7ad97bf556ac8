//! Samples in any channel count and rate → one mono clip at the feature rate.
//!
//! Both targets end here: the browser hands over the channel data of a Web Audio buffer,
//! the native side decodes files ([`decode`]). Either way the result is a [`Clip`].

#[cfg(feature = "decode")]
pub mod decode;
mod resample;
pub mod sniff;
#[cfg(feature = "decode")]
mod wave_header;

pub use resample::{StreamResampler, resample};

/// Lowest sample rate accepted, in Hz (telephone audio).
pub const MIN_SAMPLE_RATE: u32 = 4_000;
/// Highest sample rate accepted, in Hz.
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// Why samples could not become a clip.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// No channels were given.
    #[error("the audio has no channels")]
    NoChannels,
    /// Channels of different lengths were given.
    #[error("channel {channel} has {len} samples but channel 0 has {expected}")]
    ChannelLengthMismatch {
        /// Index of the odd channel.
        channel: usize,
        /// Its length.
        len: usize,
        /// Length of channel 0.
        expected: usize,
    },
    /// The sample rate is outside what a real recording has.
    #[error(
        "sample rate {0} Hz is not supported (accepted: {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz)"
    )]
    UnsupportedSampleRate(u32),
    /// A sample is NaN or infinite.
    #[error(
        "sample {index} (at {:.2} s) is not a number (NaN or infinite): the file is damaged or not audio",
        *index as f64 / f64::from(*sample_rate)
    )]
    NonFiniteSample {
        /// Its index in the channel.
        index: usize,
        /// The sample rate it was read at.
        sample_rate: u32,
    },
    /// The resampler failed.
    #[error("resampling failed: {0}")]
    Resample(String),
}

/// Refuses `samples` (the song's samples from index `first` on, at `sample_rate`) if one
/// is NaN or infinite, naming the first such sample and its time.
pub fn check_finite(samples: &[f32], first: usize, sample_rate: u32) -> Result<(), AudioError> {
    match samples.iter().position(|s| !s.is_finite()) {
        Some(i) => Err(AudioError::NonFiniteSample {
            index: first + i,
            sample_rate,
        }),
        None => Ok(()),
    }
}

/// A mono clip at a known sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Mono samples, nominally in [-1, 1].
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
}

impl Clip {
    /// Downmixes `channels` (all the same length) by averaging, as librosa's `to_mono` does,
    /// then resamples to `target_rate`.
    pub fn from_channels(
        channels: &[&[f32]],
        sample_rate: u32,
        target_rate: u32,
    ) -> Result<Clip, AudioError> {
        Clip::from_mono(downmix(channels)?, sample_rate, target_rate)
    }

    /// Takes mono samples at `sample_rate` and resamples them to `target_rate`.
    pub fn from_mono(
        samples: Vec<f32>,
        sample_rate: u32,
        target_rate: u32,
    ) -> Result<Clip, AudioError> {
        check_sample_rate(sample_rate)?;
        check_finite(&samples, 0, sample_rate)?;
        // Same rate: keep the buffer rather than copying the whole song.
        let samples = if sample_rate == target_rate {
            samples
        } else {
            resample(&samples, sample_rate, target_rate)?
        };
        Ok(Clip {
            samples,
            sample_rate: target_rate,
        })
    }

    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }

    /// Whether the clip is silent: its loudest sample is below [`SILENCE_PEAK`]
    /// (-60 dBFS), so there is nothing to classify.
    pub fn is_silent(&self) -> bool {
        self.samples.iter().all(|s| s.abs() < SILENCE_PEAK)
    }
}

/// Peak level below which a clip counts as silent: 0.001, i.e. -60 dBFS.
pub const SILENCE_PEAK: f32 = 0.001;

/// What a person is told about a silent song, by `classify` and by the page.
pub const SILENCE_MESSAGE: &str =
    "silent (nothing louder than -60 dBFS), so there is no genre to tell";

/// Refuses sample rates no real recording has.
pub fn check_sample_rate(rate: u32) -> Result<(), AudioError> {
    if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(AudioError::UnsupportedSampleRate(rate))
    }
}

/// Averages equally long channels into one.
pub fn downmix(channels: &[&[f32]]) -> Result<Vec<f32>, AudioError> {
    let first = channels.first().ok_or(AudioError::NoChannels)?;
    if let Some((channel, c)) = channels
        .iter()
        .enumerate()
        .find(|(_, c)| c.len() != first.len())
    {
        return Err(AudioError::ChannelLengthMismatch {
            channel,
            len: c.len(),
            expected: first.len(),
        });
    }
    if channels.len() == 1 {
        return Ok(first.to_vec());
    }
    let scale = 1.0 / channels.len() as f32;
    let mut mono = first.to_vec();
    for c in &channels[1..] {
        for (m, s) in mono.iter_mut().zip(c.iter()) {
            *m += s;
        }
    }
    mono.iter_mut().for_each(|m| *m *= scale);
    Ok(mono)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels() {
        let mono = downmix(&[&[1.0, 0.0], &[0.0, 0.0], &[0.5, 1.5], &[0.5, 0.5]]).unwrap();
        assert_eq!(mono, vec![0.5, 0.5]);
    }

    #[test]
    fn mismatched_or_missing_channels_are_refused() {
        assert!(matches!(downmix(&[]), Err(AudioError::NoChannels)));
        let err = downmix(&[&[1.0, 2.0], &[1.0]]).unwrap_err();
        assert!(matches!(
            err,
            AudioError::ChannelLengthMismatch {
                channel: 1,
                len: 1,
                expected: 2
            }
        ));
    }

    #[test]
    fn odd_rates_and_bad_samples_are_named() {
        assert!(matches!(
            Clip::from_mono(vec![0.0; 10], 0, 22_050),
            Err(AudioError::UnsupportedSampleRate(0))
        ));
        let err = Clip::from_mono(vec![0.0, f32::NAN], 22_050, 22_050).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("sample 1 (at 0.00 s) is not a number"),
            "{err}"
        );
    }
}
