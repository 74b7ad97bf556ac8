//! The feature extractor: built once from [`FeatureSettings`], then reused for every
//! segment without allocating in its hot loop. It computes the settings' kind of feature:
//! librosa's MFCCs, or musicnn's log-mel patches (the same STFT and mel filterbank).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::mel::MelFilterbank;
use super::{FeatureError, FeatureKind, FeatureSettings, PadMode};

/// The features of one signal, frame-major: `frames` rows of `width` values (MFCCs or
/// log-mel bands; the tutorial's `mfcc.T` layout).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureFrames {
    /// Number of frames (rows).
    pub frames: usize,
    /// Values per frame (columns): coefficients or mel bands.
    pub width: usize,
    /// `frames * width` values, row by row.
    pub data: Vec<f32>,
}

impl FeatureFrames {
    /// The coefficients of frame `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.width..(t + 1) * self.width]
    }

    /// Iterates over the frames in order.
    pub fn frames(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.width)
    }
}

/// Computes librosa-exact MFCCs or musicnn's log-mel patches, by the settings' kind;
/// holds the FFT plan, window, filterbank, DCT and buffers.
///
/// Natively the FFT uses rustfft's AVX or SSE kernels, chosen at run time; in wasm its
/// scalar code. Everything else is the same code on both targets, so native and wasm
/// features differ only in the last bits of the spectrum.
pub struct FeatureExtractor {
    settings: FeatureSettings,
    window: Vec<f32>,
    filterbank: MelFilterbank,
    dct: FoldedDct,
    spectrum: PowerSpectrum,
    power: Vec<f32>,
    mel_db: Vec<f32>,
}

impl FeatureExtractor {
    /// Plans the FFT and precomputes the window, filterbank and DCT for `settings`.
    pub fn new(settings: FeatureSettings) -> Result<Self, FeatureError> {
        settings.validate()?;
        let n_fft = settings.n_fft;
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
        let dct = FoldedDct::new(settings.n_mfcc, settings.n_mels);
        Ok(FeatureExtractor {
            spectrum: PowerSpectrum::new(n_fft),
            power: vec![0.0; n_fft / 2 + 1],
            mel_db: Vec::new(),
            window,
            filterbank,
            dct,
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
    pub fn compute(&mut self, samples: &[f32]) -> Result<FeatureFrames, FeatureError> {
        let n_frames = self.frames_in(samples.len());
        let columns = self.settings.coefficients();
        let mut out = vec![0.0; n_frames * columns];
        self.compute_into(samples, &mut out)?;
        Ok(FeatureFrames {
            frames: n_frames,
            width: columns,
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
        let factor = match s.segment_loudness_lufs {
            Some(target) => super::loudness::power_factor(samples, s.sample_rate, target)?,
            None => 1.0,
        };
        match s.kind {
            FeatureKind::Mfcc => {
                // Centred frames: the first starts half a window before the signal.
                self.mel_power(samples, n_fft / 2, n_frames)?;
                scale(&mut self.mel_db, factor);
                let s = &self.settings;
                power_to_db(&mut self.mel_db, s.amin, s.ref_power, s.top_db);
                for (mel_row, coeffs) in self
                    .mel_db
                    .chunks_exact(n_mels)
                    .zip(out.chunks_exact_mut(s.n_mfcc))
                {
                    self.dct.transform(mel_row, coeffs);
                }
            }
            FeatureKind::LogMel => {
                self.mel_power(samples, 0, n_frames)?;
                scale(&mut self.mel_db, factor);
                for (o, &p) in out.iter_mut().zip(&self.mel_db) {
                    *o = musicnn_log_compression(p);
                }
            }
        }
        Ok(())
    }

    /// Mel power of `n_frames` frames into `mel_db`. Frame `t` starts `lead` samples
    /// before sample `t * hop_length` of `samples`; samples outside the signal follow the
    /// settings' pad mode (librosa's `center=True` padding, without copying the signal).
    fn mel_power(
        &mut self,
        samples: &[f32],
        lead: usize,
        n_frames: usize,
    ) -> Result<(), FeatureError> {
        let (n_fft, hop, n_mels, pad_mode) = (
            self.settings.n_fft,
            self.settings.hop_length,
            self.settings.n_mels,
            self.settings.pad_mode,
        );
        for (t, mel_row) in self
            .mel_db
            .chunks_exact_mut(n_mels)
            .take(n_frames)
            .enumerate()
        {
            let frame = self.spectrum.frame_mut();
            let windowed = |x: &[f32], w: &[f32]| Complex::new(x[0] * w[0], x[1] * w[1]);
            let start = (t * hop).checked_sub(lead);
            match start.and_then(|s| samples.get(s..s + n_fft)) {
                Some(source) => {
                    let pairs = source.chunks_exact(2).zip(self.window.chunks_exact(2));
                    for (z, (x, w)) in frame.iter_mut().zip(pairs) {
                        *z = windowed(x, w);
                    }
                }
                // A frame over an edge of the signal (the first and last few).
                None => {
                    let start = (t * hop) as isize - lead as isize;
                    let at = |i: usize| padded_sample(samples, start + i as isize, pad_mode);
                    for (n, (z, w)) in frame
                        .iter_mut()
                        .zip(self.window.chunks_exact(2))
                        .enumerate()
                    {
                        *z = windowed(&[at(2 * n), at(2 * n + 1)], w);
                    }
                }
            }
            self.spectrum.compute(&mut self.power);
            self.filterbank.apply(&self.power, mel_row);
        }
        Ok(())
    }
}

/// Multiplies every value by `factor` (nothing to do for 1, the settings without a
/// loudness target: their features stay bit for bit what they were).
fn scale(values: &mut [f32], factor: f32) {
    if factor != 1.0 {
        values.iter_mut().for_each(|v| *v *= factor);
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

/// The power spectrum |X_k|², k = 0..=n/2, of a real frame of even length n, by a complex
/// FFT of half the length: the frame's even samples are its real parts, its odd samples
/// its imaginary parts, and one pass untangles the spectra of the two and squares them.
///
/// This is what realfft's `RealToComplexEven` followed by `re² + im²` computes, with the
/// same float operations in the same order (so the same bits), fused into one pass whose
/// twiddles are stored as separate real and imaginary arrays, so that it vectorises.
struct PowerSpectrum {
    fft: Arc<dyn Fft<f32>>,
    /// The frame, n/2 complex values; the FFT may overwrite it.
    frame: Vec<Complex<f32>>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Real and imaginary parts of e^(-2πik/n) / 2 for k = 1..=(n/2 - 1)/2.
    twiddle_re: Vec<f32>,
    twiddle_im: Vec<f32>,
}

impl PowerSpectrum {
    /// Plans the half-length FFT for frames of `n` samples (`n` even, at least 2).
    fn new(n: usize) -> Self {
        let half = n / 2;
        let fft = FftPlanner::<f32>::new().plan_fft_forward(half);
        let pairs = (half - 1) / 2;
        let twiddle = |k: usize| {
            let angle = -2.0 * std::f64::consts::PI / n as f64 * k as f64;
            (libm::cos(angle) as f32 * 0.5, libm::sin(angle) as f32 * 0.5)
        };
        let (twiddle_re, twiddle_im) = (1..=pairs).map(twiddle).unzip();
        PowerSpectrum {
            frame: vec![Complex::default(); half],
            spectrum: vec![Complex::default(); half],
            scratch: vec![Complex::default(); fft.get_outofplace_scratch_len()],
            twiddle_re,
            twiddle_im,
            fft,
        }
    }

    /// The frame to fill before [`compute`](Self::compute): sample 2m in `re` of value m,
    /// sample 2m+1 in its `im`.
    fn frame_mut(&mut self) -> &mut [Complex<f32>] {
        &mut self.frame
    }

    /// The power spectrum of the frame into `power` (n/2 + 1 values).
    fn compute(&mut self, power: &mut [f32]) {
        let half = self.frame.len();
        self.fft.process_outofplace_with_scratch(
            &mut self.frame,
            &mut self.spectrum,
            &mut self.scratch,
        );
        let z = &self.spectrum;
        let square = |re: f32, im: f32| re * re + im * im;
        // Bins 0 and n/2: the sum and difference of the first value's parts.
        power[0] = square(z[0].re + z[0].im, 0.0);
        power[half] = square(z[0].re - z[0].im, 0.0);
        if half.is_multiple_of(2) && half >= 2 {
            power[half / 2] = square(z[half / 2].re, z[half / 2].im);
        }
        // Bins k and n/2 - k from values k and n/2 - k, k = 1..=pairs.
        let pairs = self.twiddle_re.len();
        let (low, high) = power.split_at_mut(half - pairs);
        untangle_pairs(
            &z[1..=pairs],
            &z[half - pairs..half],
            &self.twiddle_re,
            &self.twiddle_im,
            &mut low[1..=pairs],
            &mut high[..pairs],
        );
    }
}

/// The power of bins k and n/2 - k (into `low[k - 1]` and `high[pairs - k]`) from values
/// k (`z_low[k - 1]`) and n/2 - k (`z_high[pairs - k]`) of the half-length FFT, for
/// k = 1..=pairs. Separate slices, so that the compiler sees no overlap and vectorises.
#[inline]
fn untangle_pairs(
    z_low: &[Complex<f32>],
    z_high: &[Complex<f32>],
    twiddle_re: &[f32],
    twiddle_im: &[f32],
    low: &mut [f32],
    high: &mut [f32],
) {
    let n = z_low.len();
    let (z_high, twiddle_re, twiddle_im) = (&z_high[..n], &twiddle_re[..n], &twiddle_im[..n]);
    let (low, high) = (&mut low[..n], &mut high[..n]);
    let square = |re: f32, im: f32| re * re + im * im;
    for i in 0..n {
        let (a, b) = (z_low[i], z_high[n - 1 - i]);
        let (tw_re, tw_im) = (twiddle_re[i], twiddle_im[i]);
        let (sum_re, sum_im) = (a.re + b.re, a.im + b.im);
        let (diff_re, diff_im) = (a.re - b.re, a.im - b.im);
        let (half_sum_re, half_diff_im) = (0.5 * sum_re, 0.5 * diff_im);
        let twiddled_re = sum_im * tw_re + diff_re * tw_im;
        let twiddled_im = sum_im * tw_im - diff_re * tw_re;
        low[i] = square(half_sum_re + twiddled_re, half_diff_im + twiddled_im);
        high[n - 1 - i] = square(half_sum_re - twiddled_re, twiddled_im - half_diff_im);
    }
}

/// Sample `i` of `samples` padded at both ends by `mode` (librosa `center=True`):
/// zeros, or numpy's "reflect", `x[-i]` before the start and `x[2(n-1) - i]` after the end,
/// repeating with period 2(n-1) for pads longer than the signal.
fn padded_sample(samples: &[f32], i: isize, mode: PadMode) -> f32 {
    let n = samples.len() as isize;
    if (0..n).contains(&i) {
        return samples[i as usize];
    }
    match mode {
        PadMode::Constant => 0.0,
        PadMode::Reflect => {
            let period = 2 * (n - 1).max(1);
            let j = i.rem_euclid(period);
            let j = if j >= n { period - j } else { j };
            samples[j as usize]
        }
    }
}

/// librosa's `power_to_db`: 10 log10(max(amin, S) / ref), floored `top_db` below the maximum.
fn power_to_db(values: &mut [f32], amin: f64, ref_power: f64, top_db: Option<f64>) {
    let amin = amin as f32;
    if amin >= f32::MIN_POSITIVE {
        let ref_db = decibels((ref_power as f32).max(amin));
        for v in values.iter_mut() {
            *v = decibels(v.max(amin)) - ref_db;
        }
    } else {
        // A floor below the normal floats (never in practice): libm copes with subnormals.
        let ref_db = 10.0 * libm::log10f((ref_power as f32).max(amin));
        for v in values.iter_mut() {
            *v = 10.0 * libm::log10f(v.max(amin)) - ref_db;
        }
    }
    if let Some(top_db) = top_db {
        let max = values.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let floor = max - top_db as f32;
        for v in values.iter_mut() {
            *v = v.max(floor);
        }
    }
}

/// 10 log10(x) for a positive normal `x` (or +inf), rounded once to f32.
///
/// Branch-free, so that the loop over a segment's mel bands vectorises, and the same
/// float operations on every target. With x = 2^k m, m in [√½, √2): ln m = 2 atanh(s),
/// s = (m - 1) / (m + 1), |s| < 0.172, summed in f64 to s^11, which leaves an error
/// below 2e-11 before the one rounding to f32 (libm's `10 * log10f` rounds twice).
#[inline]
fn decibels(x: f32) -> f32 {
    /// Bits of √½: mantissas from here up to √2 get exponent 0 (musl's `logf` reduction).
    const SQRT_HALF_BITS: u32 = 0x3f35_04f3;
    let shifted = x.to_bits().wrapping_add(0x3f80_0000 - SQRT_HALF_BITS);
    let k = (shifted >> 23) as i32 - 0x7f;
    let m = f32::from_bits((shifted & 0x007f_ffff) + SQRT_HALF_BITS);
    let f = f64::from(m) - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let series =
        1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z / 11.0))));
    let ln = f64::from(k) * std::f64::consts::LN_2 + 2.0 * s * series;
    let db = (ln * (10.0 / std::f64::consts::LN_10)) as f32;
    if x == f32::INFINITY { x } else { db }
}

/// Coefficients of each parity computed together by [`FoldedDct::transform`].
const DCT_BLOCK: usize = 8;

/// The first `n_mfcc` coefficients of the orthonormal DCT-II of `n_mels` values (scipy
/// `norm="ortho"`), folded: row n and row N-1-n of the matrix are equal for even
/// coefficients and opposite for odd ones, so even coefficients are sums over
/// `x[n] + x[N-1-n]` and odd ones over `x[n] - x[N-1-n]`, half the multiply-adds of the
/// full product. Weights are precomputed in f64 and summed in f64, blocks of
/// [`DCT_BLOCK`] even and as many odd coefficients at once, each in its own accumulator.
struct FoldedDct {
    n_mfcc: usize,
    n_mels: usize,
    /// Weights of the even coefficients 16b, 16b+2, ... of block b: `n_mels.div_ceil(2)`
    /// rows per block (the last, for odd `n_mels`, weighs the middle value alone).
    even: Vec<[f64; DCT_BLOCK]>,
    /// Weights of the odd coefficients 16b+1, 16b+3, ...: `n_mels / 2` rows per block.
    odd: Vec<[f64; DCT_BLOCK]>,
}

impl FoldedDct {
    fn new(n_mfcc: usize, n_mels: usize) -> Self {
        let blocks = n_mfcc.div_ceil(2 * DCT_BLOCK);
        let weights = |rows: usize, parity: usize| -> Vec<[f64; DCT_BLOCK]> {
            let mut table = Vec::with_capacity(blocks * rows);
            for block in 0..blocks {
                for n in 0..rows {
                    table.push(std::array::from_fn(|j| {
                        let k = 2 * (block * DCT_BLOCK + j) + parity;
                        if k < n_mfcc {
                            dct_ii_ortho_weight(k, n, n_mels)
                        } else {
                            0.0
                        }
                    }));
                }
            }
            table
        };
        FoldedDct {
            n_mfcc,
            n_mels,
            even: weights(n_mels.div_ceil(2), 0),
            odd: weights(n_mels / 2, 1),
        }
    }

    /// The first `n_mfcc` DCT-II coefficients of `x` (`n_mels` values) into `out`.
    fn transform(&self, x: &[f32], out: &mut [f32]) {
        let half = self.n_mels / 2;
        let (head, tail) = (&x[..half], &x[self.n_mels - half..]);
        let middle = (self.n_mels % 2 == 1).then(|| f64::from(x[half]));
        let (even_rows, odd_rows) = (self.n_mels.div_ceil(2), half);
        for (block, coeffs) in out[..self.n_mfcc].chunks_mut(2 * DCT_BLOCK).enumerate() {
            let even = &self.even[block * even_rows..(block + 1) * even_rows];
            let odd = &self.odd[block * odd_rows..(block + 1) * odd_rows];
            let (mut sum_even, mut sum_odd) = ([0.0f64; DCT_BLOCK], [0.0f64; DCT_BLOCK]);
            for ((we, wo), (&a, &b)) in even.iter().zip(odd).zip(head.iter().zip(tail.iter().rev()))
            {
                let (a, b) = (f64::from(a), f64::from(b));
                let (plus, minus) = (a + b, a - b);
                for j in 0..DCT_BLOCK {
                    sum_even[j] += we[j] * plus;
                    sum_odd[j] += wo[j] * minus;
                }
            }
            if let Some(m) = middle {
                for (acc, w) in sum_even.iter_mut().zip(&even[half]) {
                    *acc += w * m;
                }
            }
            for (i, c) in coeffs.iter_mut().enumerate() {
                let sums = if i % 2 == 0 { &sum_even } else { &sum_odd };
                *c = sums[i / 2] as f32;
            }
        }
    }
}

/// Entry `[k][n]` of the orthonormal DCT-II matrix of size `n_in` (scipy `norm="ortho"`).
fn dct_ii_ortho_weight(k: usize, n: usize, n_in: usize) -> f64 {
    let scale = if k == 0 {
        (1.0 / n_in as f64).sqrt()
    } else {
        (2.0 / n_in as f64).sqrt()
    };
    let angle = std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * n_in) as f64;
    scale * libm::cos(angle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(samples: &[f32], pad: usize, mode: PadMode) -> Vec<f32> {
        let (pad, n) = (pad as isize, samples.len() as isize);
        (-pad..n + pad)
            .map(|i| padded_sample(samples, i, mode))
            .collect()
    }

    #[test]
    fn reflect_padding_matches_numpy() {
        let out = padded(&[1.0, 2.0, 3.0, 4.0], 2, PadMode::Reflect);
        assert_eq!(out, [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]);
        // numpy.pad([1, 2, 3], 5, mode="reflect"): pads longer than the signal repeat.
        let out = padded(&[1.0, 2.0, 3.0], 5, PadMode::Reflect);
        assert_eq!(out, [2., 1., 2., 3., 2., 1., 2., 3., 2., 1., 2., 3., 2.]);
        let out = padded(&[1.0, 2.0, 3.0], 2, PadMode::Constant);
        assert_eq!(out, [0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
    }

    #[test]
    fn dct_rows_are_orthonormal() {
        let m = |k, n| dct_ii_ortho_weight(k, n, 128);
        for a in 0..13 {
            for b in 0..13 {
                let dot: f64 = (0..128).map(|n| m(a, n) * m(b, n)).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "rows {a},{b}: {dot}");
            }
        }
    }

    #[test]
    fn folded_dct_equals_the_matrix_product() {
        for (n_mfcc, n_mels) in [
            (13, 128),
            (1, 1),
            (2, 2),
            (5, 7),
            (7, 7),
            (20, 40),
            (33, 96),
        ] {
            let dct = FoldedDct::new(n_mfcc, n_mels);
            // dB-like values of both signs, no symmetry to hide a folding mistake.
            let x: Vec<f32> = (0..n_mels)
                .map(|n| (-40.0 + 55.0 * libm::sin(0.37 * n as f64 + 0.1 * (n * n) as f64)) as f32)
                .collect();
            let mut ours = vec![f32::NAN; n_mfcc];
            dct.transform(&x, &mut ours);
            for (k, &c) in ours.iter().enumerate() {
                let want: f64 = (0..n_mels)
                    .map(|n| dct_ii_ortho_weight(k, n, n_mels) * f64::from(x[n]))
                    .sum();
                assert!(
                    (f64::from(c) - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "{n_mfcc} of {n_mels}, coefficient {k}: {c} vs {want}"
                );
            }
        }
    }

    #[test]
    fn power_spectrum_equals_the_dft() {
        // Half lengths even and odd, with and without a middle bin, and the tutorial's.
        for n in [4, 6, 8, 10, 12, 2048] {
            let x: Vec<f64> = (0..n)
                .map(|i| libm::sin(0.7 * i as f64) + 0.3 * libm::cos(2.9 * (i * i) as f64))
                .collect();
            let mut spectrum = PowerSpectrum::new(n);
            for (m, z) in spectrum.frame_mut().iter_mut().enumerate() {
                *z = Complex::new(x[2 * m] as f32, x[2 * m + 1] as f32);
            }
            let mut power = vec![f32::NAN; n / 2 + 1];
            spectrum.compute(&mut power);
            let energy: f64 = x.iter().map(|v| v * v).sum();
            for (k, &p) in power.iter().enumerate() {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, v) in x.iter().enumerate() {
                    let angle = -2.0 * std::f64::consts::PI * (k * i % n) as f64 / n as f64;
                    re += v * libm::cos(angle);
                    im += v * libm::sin(angle);
                }
                let want = re * re + im * im;
                assert!(
                    (f64::from(p) - want).abs() <= 1e-5 * energy * n as f64,
                    "n {n}, bin {k}: {p} vs {want}"
                );
            }
        }
    }

    #[test]
    fn decibels_are_ten_log10_rounded_once() {
        let mut x = 1e-10f32;
        let mut checked = 0;
        while x < 1e30 {
            for v in [x, x.next_up(), x * std::f32::consts::SQRT_2, x * 1.999_999] {
                let want = (10.0 * libm::log10(f64::from(v))) as f32;
                let got = decibels(v);
                // At most one f32 step from the correctly rounded value.
                assert!(
                    got == want || got == want.next_up() || got == want.next_down(),
                    "{v:e}: {got} vs {want}"
                );
                checked += 1;
            }
            x *= 1.37;
        }
        assert!(checked > 1000);
        assert_eq!(decibels(1.0), 0.0);
        assert_eq!(decibels(f32::INFINITY), f32::INFINITY);
        assert_eq!(
            decibels(f32::MIN_POSITIVE),
            (10.0 * libm::log10(f64::from(f32::MIN_POSITIVE))) as f32
        );
    }

    #[test]
    fn power_to_db_floors_at_amin_and_top_db() {
        let mut values = vec![1e-12, 1e-10, 1e-3, 1.0, 100.0];
        power_to_db(&mut values, 1e-10, 1.0, Some(80.0));
        assert_eq!(values, [-60.0, -60.0, -30.0, 0.0, 20.0]);
        // A subnormal floor takes the libm route.
        let mut values = vec![0.0, 1e-40, 1.0];
        power_to_db(&mut values, 1e-42, 1.0, None);
        assert!((values[0] - 10.0 * libm::log10f(1e-42)).abs() < 1e-3);
        assert!((values[1] + 400.0).abs() < 1e-2, "{}", values[1]);
        assert_eq!(values[2], 0.0);
    }

    #[test]
    fn silence_gives_the_amin_floor_in_c0_and_zero_elsewhere() {
        let mut extractor = FeatureExtractor::new(FeatureSettings::default()).unwrap();
        let mfcc = extractor.compute(&vec![0.0; 66_150]).unwrap();
        assert_eq!((mfcc.frames, mfcc.width), (130, 13));
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
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let samples = vec![0.0; settings.lead_samples() + settings.segment_samples];
        let patch = extractor.compute(&samples).unwrap();
        assert_eq!((patch.frames, patch.width), (187, 96));
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
        let mut extractor = FeatureExtractor::new(FeatureSettings::default()).unwrap();
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
