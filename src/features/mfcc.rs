//! The feature extractor: built once from [`FeatureSettings`], then reused for every
//! segment without allocating in its hot loop. It computes the settings' kind of feature:
//! librosa's MFCCs, or musicnn's log-mel patches (the same STFT and mel filterbank).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::mel::MelFilterbank;
use super::{FeatureError, FeatureKind, FeatureSettings, PadMode};

/// MFCCs of one signal, frame-major: `n_frames` rows of `n_mfcc` coefficients (the
/// tutorial's `mfcc.T` layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Mfcc {
    /// Number of frames (rows).
    pub n_frames: usize,
    /// Number of coefficients per frame (columns).
    pub n_mfcc: usize,
    /// `n_frames * n_mfcc` values, row by row.
    pub data: Vec<f32>,
}

impl Mfcc {
    /// The coefficients of frame `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.n_mfcc..(t + 1) * self.n_mfcc]
    }

    /// Iterates over the frames in order.
    pub fn frames(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.n_mfcc)
    }
}

/// Computes librosa-exact MFCCs or musicnn's log-mel patches, by the settings' kind;
/// holds the FFT plan, window, filterbank, DCT and buffers.
///
/// The FFT is rustfft's scalar code on every target (the crate is built without its SIMD
/// features), so native and wasm builds perform the same float operations in the same
/// order and produce bit-identical features.
pub struct MfccExtractor {
    settings: FeatureSettings,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    filterbank: MelFilterbank,
    /// Orthonormal DCT-II rows, `n_mfcc` x `n_mels`.
    dct: Vec<f64>,
    padded: Vec<f32>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
    mel_db: Vec<f32>,
}

impl MfccExtractor {
    /// Plans the FFT and precomputes the window, filterbank and DCT for `settings`.
    pub fn new(settings: FeatureSettings) -> Result<Self, FeatureError> {
        settings.validate()?;
        let n_fft = settings.n_fft;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        // Periodic Hann (scipy's get_window("hann", n_fft, fftbins=True)).
        let window = (0..n_fft)
            .map(|n| {
                let phase = 2.0 * std::f64::consts::PI * n as f64 / n_fft as f64;
                (0.5 - 0.5 * libm::cos(phase)) as f32
            })
            .collect();
        let filterbank = MelFilterbank::new(
            settings.sample_rate,
            n_fft,
            settings.n_mels,
            settings.fmin,
            settings.fmax,
        );
        let dct = dct_ii_ortho(settings.n_mfcc, settings.n_mels);
        Ok(MfccExtractor {
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; n_fft / 2 + 1],
            padded: Vec::new(),
            mel_db: Vec::new(),
            window,
            filterbank,
            dct,
            fft,
            settings,
        })
    }

    /// The settings this extractor computes.
    pub fn settings(&self) -> &FeatureSettings {
        &self.settings
    }

    /// Number of frames the extractor makes of `len` samples: centred frames for MFCCs
    /// (librosa's rule), frames that start at every hop and fit for log-mel (the caller
    /// passes a segment with its lead samples, see [`segment_samples`](super::segment_samples)).
    pub fn frames_in(&self, len: usize) -> usize {
        let s = &self.settings;
        match s.kind {
            FeatureKind::Mfcc => s.frames_for(len),
            FeatureKind::LogMel => len.saturating_sub(s.n_fft) / s.hop_length + 1,
        }
    }

    /// Features of `samples` (already mono at the settings' rate): for MFCC settings
    /// exactly what `librosa.feature.mfcc` computes for the same array; for log-mel
    /// settings, musicnn's compressed mel bands of each frame.
    ///
    /// The signal must hold at least `n_fft` samples.
    pub fn compute(&mut self, samples: &[f32]) -> Result<Mfcc, FeatureError> {
        let n_frames = self.frames_in(samples.len());
        let columns = self.settings.coefficients();
        let mut out = vec![0.0; n_frames * columns];
        self.compute_into(samples, &mut out)?;
        Ok(Mfcc {
            n_frames,
            n_mfcc: columns,
            data: out,
        })
    }

    /// Like [`compute`](Self::compute), writing into `out` (`frames × coefficients` values).
    pub fn compute_into(&mut self, samples: &[f32], out: &mut [f32]) -> Result<(), FeatureError> {
        let s = &self.settings;
        let (n_fft, n_mels) = (s.n_fft, s.n_mels);
        if samples.len() < n_fft {
            return Err(FeatureError::SignalTooShort {
                samples: samples.len(),
                needed: n_fft,
            });
        }
        let n_frames = self.frames_in(samples.len());
        let expected = n_frames * s.coefficients();
        if out.len() != expected {
            return Err(FeatureError::OutputSize {
                expected,
                got: out.len(),
            });
        }
        self.mel_db.resize(n_frames * n_mels, 0.0);
        match s.kind {
            FeatureKind::Mfcc => {
                pad_centered(samples, n_fft / 2, s.pad_mode, &mut self.padded);
                self.mel_power(n_frames, None)?;
                let s = &self.settings;
                power_to_db(&mut self.mel_db, s.amin, s.ref_power, s.top_db);
                self.dct_into(out);
            }
            FeatureKind::LogMel => {
                self.mel_power(n_frames, Some(samples))?;
                for (o, &p) in out.iter_mut().zip(&self.mel_db) {
                    *o = musicnn_log_compression(p);
                }
            }
        }
        Ok(())
    }

    /// Mel power of `n_frames` frames into `mel_db`, framed from `samples` or, if `None`,
    /// from the centred copy in `padded`.
    fn mel_power(&mut self, n_frames: usize, samples: Option<&[f32]>) -> Result<(), FeatureError> {
        let (n_fft, hop, n_mels) = (
            self.settings.n_fft,
            self.settings.hop_length,
            self.settings.n_mels,
        );
        let signal = samples.unwrap_or(&self.padded);
        for (t, mel_row) in self
            .mel_db
            .chunks_exact_mut(n_mels)
            .take(n_frames)
            .enumerate()
        {
            let start = t * hop;
            let source = &signal[start..start + n_fft];
            for ((dst, x), w) in self.frame.iter_mut().zip(source).zip(&self.window) {
                *dst = x * w;
            }
            self.fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
                .map_err(|e| FeatureError::Fft(e.to_string()))?;
            for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            self.filterbank.apply(&self.power, mel_row);
        }
        Ok(())
    }

    /// The first `n_mfcc` DCT-II coefficients of each row of `mel_db` into `out`.
    fn dct_into(&self, out: &mut [f32]) {
        let (n_mels, n_mfcc) = (self.settings.n_mels, self.settings.n_mfcc);
        for (mel_row, coeffs) in self
            .mel_db
            .chunks_exact(n_mels)
            .zip(out.chunks_exact_mut(n_mfcc))
        {
            for (coeff, dct_row) in coeffs.iter_mut().zip(self.dct.chunks_exact(n_mels)) {
                let sum: f64 = dct_row
                    .iter()
                    .zip(mel_row)
                    .map(|(d, &m)| d * f64::from(m))
                    .sum();
                *coeff = sum as f32;
            }
        }
    }
}

/// musicnn's compression of one mel power value, as the wheel's `batch_data` computes it
/// under numpy 1.x (which musicnn was made and is run with): `x.astype(float16)`, then
/// `log10(10000 * x + 1)`, where numpy 1.x promotes `10000 * x` back to float32. So only
/// the power is rounded to float16 (with subnormals, round to nearest even); the rest is
/// float32. (numpy 2 would keep float16 and overflow above a power of 6.55: the fixture
/// script in tests/fixtures/make_musicnn_fixtures.py records both.)
fn musicnn_log_compression(power: f32) -> f32 {
    let rounded = half::f16::from_f32(power).to_f32();
    libm::log10f(10_000.0 * rounded + 1.0)
}

/// Copies `samples` into `out` with `pad` samples added at each end (librosa `center=True`).
fn pad_centered(samples: &[f32], pad: usize, mode: PadMode, out: &mut Vec<f32>) {
    out.clear();
    out.reserve(samples.len() + 2 * pad);
    let n = samples.len();
    match mode {
        PadMode::Constant => {
            out.resize(pad, 0.0);
            out.extend_from_slice(samples);
            out.resize(n + 2 * pad, 0.0);
        }
        PadMode::Reflect => {
            // numpy "reflect": x[pad], ..., x[1] | x | x[n-2], ..., x[n-1-pad]; period 2(n-1).
            let mirror = |i: isize| -> f32 {
                let period = 2 * (n as isize - 1).max(1);
                let j = i.rem_euclid(period);
                let j = if j >= n as isize { period - j } else { j };
                samples[j as usize]
            };
            out.extend((-(pad as isize)..0).map(mirror));
            out.extend_from_slice(samples);
            out.extend((n as isize..(n + pad) as isize).map(mirror));
        }
    }
}

/// librosa's `power_to_db`: 10 log10(max(amin, S) / ref), floored `top_db` below the maximum.
fn power_to_db(values: &mut [f32], amin: f64, ref_power: f64, top_db: Option<f64>) {
    let amin = amin as f32;
    let ref_db = 10.0 * libm::log10f((ref_power as f32).max(amin));
    let mut max = f32::NEG_INFINITY;
    for v in values.iter_mut() {
        *v = 10.0 * libm::log10f(v.max(amin)) - ref_db;
        max = max.max(*v);
    }
    if let Some(top_db) = top_db {
        let floor = max - top_db as f32;
        for v in values.iter_mut() {
            *v = v.max(floor);
        }
    }
}

/// The first `n_out` rows of the orthonormal DCT-II matrix of size `n_in` (scipy `norm="ortho"`).
fn dct_ii_ortho(n_out: usize, n_in: usize) -> Vec<f64> {
    let mut m = Vec::with_capacity(n_out * n_in);
    for k in 0..n_out {
        let scale = if k == 0 {
            (1.0 / n_in as f64).sqrt()
        } else {
            (2.0 / n_in as f64).sqrt()
        };
        for n in 0..n_in {
            let angle = std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * n_in) as f64;
            m.push(scale * libm::cos(angle));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_padding_matches_numpy() {
        let mut out = Vec::new();
        pad_centered(&[1.0, 2.0, 3.0, 4.0], 2, PadMode::Reflect, &mut out);
        assert_eq!(out, [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]);
        pad_centered(&[1.0, 2.0, 3.0], 2, PadMode::Constant, &mut out);
        assert_eq!(out, [0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
    }

    #[test]
    fn dct_rows_are_orthonormal() {
        let m = dct_ii_ortho(13, 128);
        for a in 0..13 {
            for b in 0..13 {
                let dot: f64 = (0..128).map(|n| m[a * 128 + n] * m[b * 128 + n]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "rows {a},{b}: {dot}");
            }
        }
    }

    #[test]
    fn silence_gives_the_amin_floor_in_c0_and_zero_elsewhere() {
        let mut extractor = MfccExtractor::new(FeatureSettings::default()).unwrap();
        let mfcc = extractor.compute(&vec![0.0; 66_150]).unwrap();
        assert_eq!((mfcc.n_frames, mfcc.n_mfcc), (130, 13));
        // -100 dB in all 128 bands: c0 = -100 * sqrt(128), the rest vanish.
        let c0 = -100.0 * 128f32.sqrt();
        for frame in mfcc.frames() {
            assert!((frame[0] - c0).abs() < 1e-3, "{}", frame[0]);
            assert!(frame[1..].iter().all(|c| c.abs() < 1e-3));
        }
    }

    #[test]
    fn log_mel_frames_start_at_every_hop_of_the_lead_and_segment() {
        let settings = FeatureSettings::musicnn();
        let mut extractor = MfccExtractor::new(settings.clone()).unwrap();
        let samples = vec![0.0; settings.lead_samples() + settings.segment_samples];
        let patch = extractor.compute(&samples).unwrap();
        assert_eq!((patch.n_frames, patch.n_mfcc), (187, 96));
        assert!(patch.data.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn musicnn_compression_rounds_only_the_power_to_float16() {
        // 0.001 as float16 is 0.0010004044; log10(10000 * that + 1) in float32.
        let rounded = 0.001_000_404_4_f32;
        assert_eq!(
            musicnn_log_compression(0.001),
            libm::log10f(10_000.0 * rounded + 1.0)
        );
        assert_eq!(musicnn_log_compression(0.0), 0.0);
        // Loud bands stay finite (float16 holds powers up to 65 504).
        assert!((musicnn_log_compression(37.7) - libm::log10f(377_001.0)).abs() < 1e-3);
    }

    #[test]
    fn too_short_signal_is_refused() {
        let mut extractor = MfccExtractor::new(FeatureSettings::default()).unwrap();
        let err = extractor.compute(&[0.5; 100]).unwrap_err();
        assert!(matches!(
            err,
            FeatureError::SignalTooShort {
                samples: 100,
                needed: 2048
            }
        ));
    }
}
