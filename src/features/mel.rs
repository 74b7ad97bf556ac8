//! Slaney-scale mel filterbank with Slaney area normalisation (librosa's `filters.mel`
//! with `htk=False, norm="slaney"`), stored sparsely: each band keeps only the FFT bins
//! it touches, so applying it costs about two multiply-adds per bin.

/// Hz where the Slaney scale turns from linear to logarithmic.
const MIN_LOG_HZ: f64 = 1000.0;
/// Width of one mel in the linear part, in Hz.
const LINEAR_HZ_PER_MEL: f64 = 200.0 / 3.0;
/// Mel value at `MIN_LOG_HZ`.
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / LINEAR_HZ_PER_MEL;

/// Log step per mel in the logarithmic part (6.4 is 6400 Hz / 1000 Hz over 27 mels).
fn log_step() -> f64 {
    libm::log(6.4) / 27.0
}

/// Converts Hz to Slaney mels.
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + libm::log(hz / MIN_LOG_HZ) / log_step()
    } else {
        hz / LINEAR_HZ_PER_MEL
    }
}

/// Converts Slaney mels to Hz.
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * libm::exp(log_step() * (mel - MIN_LOG_MEL))
    } else {
        mel * LINEAR_HZ_PER_MEL
    }
}

/// One triangular band: its first FFT bin and the weights of consecutive bins from there.
#[derive(Debug, Clone)]
struct Band {
    first_bin: usize,
    weights: Vec<f32>,
}

/// A mel filterbank mapping a power spectrum of `n_fft / 2 + 1` bins to `n_mels` bands.
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    bands: Vec<Band>,
    n_bins: usize,
}

impl MelFilterbank {
    /// Builds the filterbank exactly as librosa 0.11 does, in double precision.
    pub fn new(sample_rate: u32, n_fft: usize, n_mels: usize, fmin: f64, fmax: f64) -> Self {
        let n_bins = n_fft / 2 + 1;
        let bin_hz = |bin: usize| bin as f64 * f64::from(sample_rate) / n_fft as f64;
        let (min_mel, max_mel) = (hz_to_mel(fmin), hz_to_mel(fmax));
        // n_mels + 2 band edges, evenly spaced in mels (numpy.linspace semantics).
        let edges: Vec<f64> = (0..n_mels + 2)
            .map(|i| {
                let mel = min_mel + (max_mel - min_mel) * i as f64 / (n_mels + 1) as f64;
                mel_to_hz(mel)
            })
            .collect();
        let bands = (0..n_mels)
            .map(|m| {
                let (low, centre, high) = (edges[m], edges[m + 1], edges[m + 2]);
                let area_norm = 2.0 / (high - low);
                let weight = |bin: usize| {
                    let hz = bin_hz(bin);
                    let rising = (hz - low) / (centre - low);
                    let falling = (high - hz) / (high - centre);
                    rising.min(falling).max(0.0)
                };
                let touched: Vec<usize> = (0..n_bins).filter(|&b| weight(b) > 0.0).collect();
                match (touched.first(), touched.last()) {
                    (Some(&first), Some(&last)) => Band {
                        first_bin: first,
                        // Stored as f32 like librosa's float32 filterbank, then normalised.
                        weights: (first..=last)
                            .map(|b| (f64::from(weight(b) as f32) * area_norm) as f32)
                            .collect(),
                    },
                    _ => Band {
                        first_bin: 0,
                        weights: Vec::new(),
                    },
                }
            })
            .collect();
        MelFilterbank { bands, n_bins }
    }

    /// Number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.bands.len()
    }

    /// Number of FFT bins the filterbank expects.
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// Weight of `bin` in band `band` (zero outside the band); for tests and plots.
    pub fn weight(&self, band: usize, bin: usize) -> f32 {
        let b = &self.bands[band];
        bin.checked_sub(b.first_bin)
            .and_then(|i| b.weights.get(i))
            .copied()
            .unwrap_or(0.0)
    }

    /// Writes the mel power of each band for one power spectrum into `out`.
    pub fn apply(&self, power: &[f32], out: &mut [f32]) {
        for (band, value) in self.bands.iter().zip(out.iter_mut()) {
            let bins = &power[band.first_bin..band.first_bin + band.weights.len()];
            *value = band.weights.iter().zip(bins).map(|(w, p)| w * p).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_is_linear_below_1khz() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn bands_are_area_normalised_triangles() {
        let bank = MelFilterbank::new(22_050, 2048, 128, 0.0, 11_025.0);
        assert_eq!((bank.n_mels(), bank.n_bins()), (128, 1025));
        // Values of librosa 0.11's filters.mel(sr=22050, n_fft=2048) (float32).
        for (band, bin, librosa) in [
            (10, 26, 0.033_060_946),
            (127, 1000, 0.003_126_247),
            (0, 1, 0.016_182_853),
        ] {
            let ours = bank.weight(band, bin);
            assert!(
                (ours - librosa).abs() < 1e-8,
                "[{band}, {bin}]: {ours} vs {librosa}"
            );
        }
        assert_eq!(bank.weight(10, 20), 0.0);
        // Every bin in the spectrum's interior is covered by at most two bands.
        for bin in 1..1024 {
            let touching = (0..128).filter(|&m| bank.weight(m, bin) > 0.0).count();
            assert!(touching <= 2, "bin {bin} in {touching} bands");
        }
    }
}
