//! Band-limited resampling with rubato's windowed-sinc resampler.
//!
//! rubato's FFT resampler would be faster, but it turns on rustfft's SIMD planners for the
//! whole build, and the MFCC FFT must stay on the same scalar code in native and wasm
//! builds to give bit-identical features.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

use super::AudioError;

/// Input frames per resampler call.
const CHUNK: usize = 4096;
/// Sinc filter length: with a Blackman-Harris² window, 256 taps keep aliasing below
/// about -100 dB with a cutoff near 0.92 of Nyquist.
const SINC_LEN: usize = 256;

/// Resamples mono `samples` from `from_rate` to `to_rate` (a copy when the rates are equal).
pub fn resample(samples: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>, AudioError> {
    if from_rate == to_rate || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let ratio = f64::from(to_rate) / f64::from(from_rate);
    let params = SincInterpolationParameters::new(SINC_LEN, WindowFunction::BlackmanHarris2);
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &params, CHUNK, 1, FixedAsync::Input)
        .map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| err(&e))?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| err(&e))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn equal_rates_copy() {
        assert_eq!(
            resample(&[0.1, 0.2], 22_050, 22_050).unwrap(),
            vec![0.1, 0.2]
        );
    }

    #[test]
    fn a_tone_keeps_its_length_pitch_and_level() {
        let tone = synth::tone(440.0, 2.0, 44_100, 0.5);
        let out = resample(&tone, 44_100, 22_050).unwrap();
        assert_eq!(out.len(), 44_100);
        let expected = synth::tone(440.0, 2.0, 22_050, 0.5);
        // rubato truncates its delay estimate, so the output may lead by one sample; away
        // from the edges it must otherwise be the tone at the new rate.
        let deviation = |shift: usize| {
            out[1000..43_000]
                .iter()
                .zip(&expected[1000 + shift..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
        };
        let best = (0..=1).map(deviation).fold(f32::MAX, f32::min);
        assert!(best < 1e-3, "max deviation {best}");
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        let tone = synth::tone(15_000.0, 1.0, 48_000, 0.5);
        let out = resample(&tone, 48_000, 22_050).unwrap();
        let rms = (out[2000..20_000].iter().map(|s| s * s).sum::<f32>() / 18_000.0).sqrt();
        assert!(rms < 1e-3, "aliased energy: rms {rms}");
    }
}
