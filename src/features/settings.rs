//! The one description of how audio becomes the features a network hears: the tutorial's
//! MFCCs, or musicnn's log-mel patches. The trainer writes it into the model card and the
//! browser checks it; nothing else in the project repeats these numbers.

use serde::{Deserialize, Serialize};

use super::FeatureError;
use crate::audio::MIN_SAMPLE_RATE;

/// Highest feature sample rate accepted, in Hz (the models use 16 and 22.05 kHz).
pub const MAX_FEATURE_RATE: u32 = 192_000;
/// Largest `n_fft` accepted: 8 times the tutorial's 2048.
pub const MAX_N_FFT: usize = 1 << 14;
/// Most mel bands accepted (the tutorial has 128, musicnn 96).
pub const MAX_N_MELS: usize = 512;
/// Longest segment accepted, in seconds (the models take 3 s).
pub const MAX_SEGMENT_SECONDS: f64 = 30.0;
/// Most FFT work in one segment, frames × `n_fft`: 16 times the tutorial's 130 × 2048 (a
/// 30 s segment at 22 050 Hz with librosa's defaults is 1292 × 2048), about 0.1 s of one
/// core natively. It was 4 times this until the settings fuzz target found 15 s segments
/// of n_fft 5696 that took over 2 s in its instrumented build.
pub const MAX_SEGMENT_FFT_WORK: usize = 1 << 22;
/// Most mel values in one segment, frames × `n_mels` (the tutorial's: 130 × 128).
pub const MAX_SEGMENT_MEL_VALUES: usize = 1 << 22;
/// Quietest loudness target a card may ask segments to be brought to, in LUFS.
pub const MIN_LOUDNESS_LUFS: f64 = -70.0;

/// Whether `n` is a product of 2, 3, 5 and 7 only: the FFT sizes rustfft computes with
/// its fast butterflies. Larger prime factors go through Rader's or Bluestein's algorithm,
/// several times the work that [`MAX_SEGMENT_FFT_WORK`] budgets (the settings fuzz target
/// found n_fft 8372 = 4 · 7 · 13 · 23 taking over 2 s in its build).
fn has_only_small_factors(mut n: usize) -> bool {
    if n == 0 {
        return false;
    }
    for p in [2, 3, 5, 7] {
        while n.is_multiple_of(p) {
            n /= p;
        }
    }
    n == 1
}

/// [`FeatureError::InvalidSettings`] with `reason()` when `problem` holds.
fn reject_if(problem: bool, reason: impl FnOnce() -> String) -> Result<(), FeatureError> {
    if problem {
        return Err(FeatureError::InvalidSettings(reason()));
    }
    Ok(())
}

/// How each segment is padded at its edges before framing (librosa's `center=True`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// Zeros, as librosa 0.10 and later do by default.
    Constant,
    /// Mirror the signal without repeating the edge sample, as librosa up to 0.8 did.
    Reflect,
}

/// Which feature a segment becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureKind {
    /// librosa's MFCCs (`power_to_db` then DCT-II), each segment framed on its own.
    #[default]
    Mfcc,
    /// musicnn's input: the mel power cast to float16, then `log10(10000·x + 1)` in
    /// float16 arithmetic, as the wheel's `batch_data` computes it. Frames are those of
    /// the whole song (centred at multiples of the hop), so a segment of `S` samples at
    /// `start` holds the `S / hop` frames centred at `start, start + hop, …`.
    LogMel,
}

/// What fills a song shorter than one segment up to a whole segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShortSongFill {
    /// Silence after the song.
    #[default]
    Silence,
    /// The song again and again (musicnn's training used "repeat-pad").
    Loop,
}

/// Every setting that decides the feature values, with the tutorial's values as default.
///
/// Equivalent to `librosa.feature.mfcc(y=segment, sr=22050, n_mfcc=13, n_fft=2048,
/// hop_length=512)` of librosa 0.11 applied to consecutive 3 s segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSettings {
    /// Which feature segments become (absent in cards of MFCC models made before it).
    #[serde(default)]
    pub kind: FeatureKind,
    /// Sample rate every clip is resampled to, in Hz.
    pub sample_rate: u32,
    /// Length of one segment in samples (3 s at 22 050 Hz).
    pub segment_samples: usize,
    /// Songs shorter than this many samples are refused; songs between this and one segment
    /// are filled up to one segment by `short_song_fill`.
    pub min_song_samples: usize,
    /// How a song shorter than one segment is filled up (absent in older cards: silence).
    #[serde(default)]
    pub short_song_fill: ShortSongFill,
    /// FFT length and analysis window length.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
    /// Number of Slaney-scale mel bands.
    pub n_mels: usize,
    /// Number of cepstral coefficients kept (MFCC only; log-mel keeps every band).
    pub n_mfcc: usize,
    /// Lowest mel band edge in Hz.
    pub fmin: f64,
    /// Highest mel band edge in Hz (librosa's default is half the sample rate).
    pub fmax: f64,
    /// Edge padding of each segment before framing.
    pub pad_mode: PadMode,
    /// Floor applied to mel power before taking decibels (MFCC only).
    pub amin: f64,
    /// Reference power for 0 dB (MFCC only).
    pub ref_power: f64,
    /// Dynamic range kept below each segment's loudest mel bin, in dB (`None`: unlimited;
    /// MFCC only).
    pub top_db: Option<f64>,
    /// Short-term loudness (EBU R128) every segment is brought to before its features, in
    /// LUFS (`None`, and absent in older cards: segments as recorded). See
    /// [`loudness`](super::loudness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_loudness_lufs: Option<f64>,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        let sample_rate = 22_050;
        FeatureSettings {
            kind: FeatureKind::Mfcc,
            sample_rate,
            segment_samples: 3 * sample_rate as usize,
            min_song_samples: sample_rate as usize,
            short_song_fill: ShortSongFill::Silence,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            n_mfcc: 13,
            fmin: 0.0,
            fmax: f64::from(sample_rate) / 2.0,
            pad_mode: PadMode::Constant,
            amin: 1e-10,
            ref_power: 1.0,
            top_db: Some(80.0),
            segment_loudness_lufs: None,
        }
    }
}

impl FeatureSettings {
    /// musicnn's input (`MSD_musicnn`, musicnn 0.1.0's `batch_data`): 16 kHz, 512-point
    /// FFT, hop 256, 96 Slaney mel bands up to 8 kHz, patches of 187 frames (3 s).
    ///
    /// Frames are padded at the song's start by reflection: the wheel's own code on
    /// librosa 0.11 pads with zeros, but musicnn was trained with a librosa that reflected
    /// (before 0.10); only the song's first frame differs (tests/fixtures/musicnn). Songs
    /// shorter than a patch are looped, like the training's "repeat-pad".
    pub fn musicnn() -> Self {
        let sample_rate = 16_000;
        let hop_length = 256;
        FeatureSettings {
            kind: FeatureKind::LogMel,
            sample_rate,
            segment_samples: 187 * hop_length,
            min_song_samples: sample_rate as usize,
            short_song_fill: ShortSongFill::Loop,
            n_fft: 512,
            hop_length,
            n_mels: 96,
            n_mfcc: 96,
            fmin: 0.0,
            fmax: f64::from(sample_rate) / 2.0,
            pad_mode: PadMode::Reflect,
            amin: 1e-10,
            ref_power: 1.0,
            top_db: None,
            segment_loudness_lufs: None,
        }
    }

    /// Number of frames of a signal of `len` samples (centred frames, librosa's rule).
    pub fn frames_for(&self, len: usize) -> usize {
        1 + len / self.hop_length
    }

    /// Number of frames in one segment (130 with the defaults, 187 for musicnn).
    pub fn frames_per_segment(&self) -> usize {
        match self.kind {
            FeatureKind::Mfcc => self.frames_for(self.segment_samples),
            FeatureKind::LogMel => self.segment_samples / self.hop_length,
        }
    }

    /// Values per frame: `n_mfcc` coefficients, or `n_mels` log-mel bands.
    pub fn coefficients(&self) -> usize {
        match self.kind {
            FeatureKind::Mfcc => self.n_mfcc,
            FeatureKind::LogMel => self.n_mels,
        }
    }

    /// Values of one segment's features: frames × coefficients.
    pub fn values_per_segment(&self) -> usize {
        self.frames_per_segment() * self.coefficients()
    }

    /// Samples before a segment's start that its features need: half a window for
    /// log-mel frames taken from the whole song, none for MFCCs.
    pub fn lead_samples(&self) -> usize {
        match self.kind {
            FeatureKind::Mfcc => 0,
            FeatureKind::LogMel => self.n_fft / 2,
        }
    }

    /// Length of one segment in seconds.
    pub fn segment_seconds(&self) -> f64 {
        self.segment_samples as f64 / f64::from(self.sample_rate)
    }

    /// Checks that the settings describe a computable feature of sane cost, naming the
    /// first problem. Settings come from model cards, which anyone can write: sizes are
    /// bounded (`MAX_*` above) so that no card makes the extractor allocate gigabytes or
    /// compute for minutes.
    ///
    /// The checks run in this order, the later ones relying on the earlier (a rate and a
    /// hop that are positive before durations and frame counts are computed).
    pub fn validate(&self) -> Result<(), FeatureError> {
        self.check_sample_rate()?;
        self.check_fft_and_hop()?;
        self.check_segment_duration()?;
        self.check_mel_count()?;
        self.check_log_mel_layout()?;
        self.check_coefficients()?;
        self.check_fft_factors()?;
        self.check_work_budget()?;
        self.check_mel_band()?;
        self.check_segment_lengths()?;
        self.check_decibels()?;
        self.check_loudness_target()
    }

    /// A loudness target, when set, lies in `MIN_LOUDNESS_LUFS..=0`.
    fn check_loudness_target(&self) -> Result<(), FeatureError> {
        reject_if(
            matches!(self.segment_loudness_lufs, Some(t) if !(MIN_LOUDNESS_LUFS..=0.0).contains(&t)),
            || format!("segment_loudness_lufs must be in {MIN_LOUDNESS_LUFS}..=0 LUFS"),
        )
    }

    /// The sample rate lies in `MIN_SAMPLE_RATE..=MAX_FEATURE_RATE`.
    fn check_sample_rate(&self) -> Result<(), FeatureError> {
        reject_if(
            !(MIN_SAMPLE_RATE..=MAX_FEATURE_RATE).contains(&self.sample_rate),
            || {
                format!(
                    "sample_rate must be in {MIN_SAMPLE_RATE}..={MAX_FEATURE_RATE} Hz, got {}",
                    self.sample_rate
                )
            },
        )
    }

    /// `n_fft` is even and in `4..=MAX_N_FFT`, and the hop is positive.
    fn check_fft_and_hop(&self) -> Result<(), FeatureError> {
        reject_if(
            self.n_fft < 4 || !self.n_fft.is_multiple_of(2) || self.n_fft > MAX_N_FFT,
            || {
                format!(
                    "n_fft must be even and in 4..={MAX_N_FFT}, got {}",
                    self.n_fft
                )
            },
        )?;
        reject_if(self.hop_length == 0, || {
            "hop_length must be positive".into()
        })
    }

    /// A segment lasts at most `MAX_SEGMENT_SECONDS`.
    fn check_segment_duration(&self) -> Result<(), FeatureError> {
        reject_if(self.segment_seconds() > MAX_SEGMENT_SECONDS, || {
            format!(
                "segments of {} samples last {:.1} s; at most {MAX_SEGMENT_SECONDS} s are supported",
                self.segment_samples,
                self.segment_seconds()
            )
        })
    }

    /// There are at most `MAX_N_MELS` mel bands.
    fn check_mel_count(&self) -> Result<(), FeatureError> {
        reject_if(self.n_mels > MAX_N_MELS, || {
            format!("n_mels must be at most {MAX_N_MELS}, got {}", self.n_mels)
        })
    }

    /// A log-mel segment holds its frames, centred at every hop, with the half window of
    /// lead before it: the last frame's half window after its centre must fit in the
    /// segment's last hop, so n_fft / 2 is exactly a hop (musicnn: 512 and 256).
    fn check_log_mel_layout(&self) -> Result<(), FeatureError> {
        let misfit = self.kind == FeatureKind::LogMel
            && (!self.segment_samples.is_multiple_of(self.hop_length)
                || self.n_fft / 2 != self.hop_length);
        reject_if(misfit, || {
            format!(
                "log-mel segments must be whole hops ({}) and n_fft/2 exactly a hop, got {} samples and n_fft {}",
                self.hop_length, self.segment_samples, self.n_fft
            )
        })
    }

    /// There are mel bands and coefficients, no more coefficients than bands.
    fn check_coefficients(&self) -> Result<(), FeatureError> {
        reject_if(
            self.n_mels == 0 || self.n_mfcc == 0 || self.n_mfcc > self.n_mels,
            || {
                format!(
                    "need 0 < n_mfcc <= n_mels, got n_mfcc {} and n_mels {}",
                    self.n_mfcc, self.n_mels
                )
            },
        )
    }

    /// `n_fft` is a size rustfft computes with its fast butterflies.
    fn check_fft_factors(&self) -> Result<(), FeatureError> {
        reject_if(!has_only_small_factors(self.n_fft), || {
            format!(
                "n_fft must be a product of 2, 3, 5 and 7 (FFTs of sizes with larger prime \
                 factors are several times slower), got {}",
                self.n_fft
            )
        })
    }

    /// One segment's FFTs and mel values stay within `MAX_SEGMENT_FFT_WORK` and
    /// `MAX_SEGMENT_MEL_VALUES`.
    fn check_work_budget(&self) -> Result<(), FeatureError> {
        let frames = self.frames_per_segment();
        let too_much = frames.saturating_mul(self.n_fft) > MAX_SEGMENT_FFT_WORK
            || frames.saturating_mul(self.n_mels) > MAX_SEGMENT_MEL_VALUES;
        reject_if(too_much, || {
            format!(
                "{frames} frames of n_fft {} and {} mel bands per segment are more work than \
                 supported (frames × n_fft at most {MAX_SEGMENT_FFT_WORK}, frames × n_mels at \
                 most {MAX_SEGMENT_MEL_VALUES})",
                self.n_fft, self.n_mels
            )
        })
    }

    /// `0 <= fmin < fmax <= nyquist`.
    fn check_mel_band(&self) -> Result<(), FeatureError> {
        let nyquist = f64::from(self.sample_rate) / 2.0;
        // Written so that NaN fails every check.
        let band_ok = self.fmin >= 0.0 && self.fmin < self.fmax && self.fmax <= nyquist;
        reject_if(!band_ok, || {
            format!(
                "need 0 <= fmin < fmax <= {nyquist} Hz, got fmin {} and fmax {}",
                self.fmin, self.fmax
            )
        })
    }

    /// A segment holds at least one window, and the shortest song is a sample to a segment.
    fn check_segment_lengths(&self) -> Result<(), FeatureError> {
        reject_if(self.segment_samples < self.n_fft, || {
            format!(
                "segment_samples ({}) must be at least n_fft ({})",
                self.segment_samples, self.n_fft
            )
        })?;
        reject_if(
            self.min_song_samples == 0 || self.min_song_samples > self.segment_samples,
            || {
                format!(
                    "min_song_samples must be in 1..={}, got {}",
                    self.segment_samples, self.min_song_samples
                )
            },
        )
    }

    /// The decibel conversion's floor and reference are positive and finite, its range
    /// (when limited) non-negative and finite.
    fn check_decibels(&self) -> Result<(), FeatureError> {
        let floors_ok = self.amin > 0.0
            && self.ref_power > 0.0
            && self.amin.is_finite()
            && self.ref_power.is_finite();
        reject_if(!floors_ok, || {
            "amin and ref_power must be positive and finite".into()
        })?;
        reject_if(
            matches!(self.top_db, Some(t) if !(t >= 0.0 && t.is_finite())),
            || "top_db must be non-negative and finite".into(),
        )
    }

    /// Lists, as `name: ours vs theirs`, every setting that differs from `other`.
    ///
    /// Empty when the two describe the same features. Used to refuse weights trained on
    /// other features with a message that says exactly what differs.
    pub fn differences(&self, other: &FeatureSettings) -> Vec<String> {
        let (Ok(serde_json::Value::Object(ours)), Ok(serde_json::Value::Object(theirs))) =
            (serde_json::to_value(self), serde_json::to_value(other))
        else {
            return vec!["settings could not be compared".into()];
        };
        ours.iter()
            .filter(|(name, value)| theirs.get(*name) != Some(value))
            .map(|(name, value)| {
                let other_value = theirs.get(name).map_or("missing".into(), |v| v.to_string());
                format!("{name}: {value} vs {other_value}")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_the_tutorials_130_frames_per_segment() {
        let settings = FeatureSettings::default();
        assert_eq!(settings.segment_samples, 66_150);
        assert_eq!(settings.frames_per_segment(), 130);
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn differences_name_each_changed_setting() {
        let ours = FeatureSettings::default();
        let theirs = FeatureSettings {
            pad_mode: PadMode::Reflect,
            n_mfcc: 20,
            ..FeatureSettings::default()
        };
        let diff = ours.differences(&theirs);
        assert_eq!(diff.len(), 2, "{diff:?}");
        assert!(
            diff.iter()
                .any(|d| d.starts_with("pad_mode: \"constant\" vs \"reflect\""))
        );
        assert!(diff.iter().any(|d| d.starts_with("n_mfcc: 13 vs 20")));
        assert!(ours.differences(&ours.clone()).is_empty());
    }

    #[test]
    fn musicnn_settings_give_187_frames_of_96_bands() {
        let settings = FeatureSettings::musicnn();
        assert!(settings.validate().is_ok());
        assert_eq!(settings.frames_per_segment(), 187);
        assert_eq!(settings.coefficients(), 96);
        assert_eq!(settings.lead_samples(), 256);
        let diff = FeatureSettings::default().differences(&settings);
        assert!(
            diff.iter()
                .any(|d| d.starts_with("kind: \"mfcc\" vs \"log-mel\""))
        );
    }

    #[test]
    fn cards_without_kind_or_fill_read_as_mfcc_with_silence() {
        let mut json = serde_json::to_value(FeatureSettings::default()).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("kind");
        object.remove("short_song_fill");
        let back: FeatureSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, FeatureSettings::default());
    }

    #[test]
    fn invalid_settings_are_named() {
        let odd_fft = FeatureSettings {
            n_fft: 2047,
            ..FeatureSettings::default()
        };
        let err = odd_fft.validate().unwrap_err().to_string();
        assert!(err.contains("n_fft"), "{err}");
        let high_fmax = FeatureSettings {
            fmax: 20_000.0,
            ..FeatureSettings::default()
        };
        assert!(
            high_fmax
                .validate()
                .unwrap_err()
                .to_string()
                .contains("fmax")
        );
    }

    #[test]
    fn settings_round_trip_through_json_and_refuse_unknown_fields() {
        let settings = FeatureSettings::default();
        let json = serde_json::to_string(&settings).unwrap();
        let back: FeatureSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, settings);
        let extra = json.replacen('{', "{\"window\":\"hamming\",", 1);
        assert!(serde_json::from_str::<FeatureSettings>(&extra).is_err());
    }
}
