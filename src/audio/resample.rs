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

fn resample_error(e: impl std::fmt::Display) -> AudioError {
    AudioError::Resample(e.to_string())
}

/// The one resampler configuration both the batch and the streaming paths use.
fn sinc_resampler(from_rate: u32, to_rate: u32) -> Result<Async<f32>, AudioError> {
    let ratio = f64::from(to_rate) / f64::from(from_rate);
    let params = SincInterpolationParameters::new(SINC_LEN, WindowFunction::BlackmanHarris2);
    Async::<f32>::new_sinc(ratio, 1.0, &params, CHUNK, 1, FixedAsync::Input).map_err(resample_error)
}

/// Resamples mono `samples` from `from_rate` to `to_rate` (a copy when the rates are equal).
pub fn resample(samples: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>, AudioError> {
    if from_rate == to_rate || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut resampler = sinc_resampler(from_rate, to_rate)?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(resample_error)?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(resample_error)?;
    Ok(output.take_data())
}

/// Resamples mono audio that arrives in pieces of any size (a microphone's frames).
///
/// It runs the same resampler as [`resample`] on the same fixed input chunks and drops the
/// same startup delay, so its output is the batch output's, sample for sample, up to the
/// last full chunk received.
pub struct StreamResampler {
    resampler: Option<Async<f32>>,
    pending: Vec<f32>,
    to_trim: usize,
    /// Samples taken in and given out so far.
    taken: usize,
    given: usize,
}

impl StreamResampler {
    /// A resampler from `from_rate` to `to_rate` (passing samples through when equal).
    pub fn new(from_rate: u32, to_rate: u32) -> Result<Self, AudioError> {
        super::check_sample_rate(from_rate)?;
        let resampler = if from_rate == to_rate {
            None
        } else {
            Some(sinc_resampler(from_rate, to_rate)?)
        };
        let to_trim = resampler.as_ref().map_or(0, Resampler::output_delay);
        Ok(Self {
            resampler,
            pending: Vec::new(),
            to_trim,
            taken: 0,
            given: 0,
        })
    }

    /// How many samples the whole stream gives for `input_len` samples in, once
    /// [`finish`](Self::finish)ed: what [`resample`] gives for a signal that long.
    pub fn output_len(&self, input_len: usize) -> usize {
        match &self.resampler {
            None => input_len,
            Some(r) => (r.resample_ratio() * input_len as f64).ceil() as usize,
        }
    }

    /// Ends the stream: the last samples held back, so that everything given out equals
    /// [`resample`] of everything taken in (rubato pads the last chunk with zeros and
    /// keeps pumping zeros until the output is complete; this does the same).
    pub fn finish(&mut self) -> Result<Vec<f32>, AudioError> {
        let expected = self.output_len(self.taken);
        let mut out = Vec::new();
        let Some(resampler) = self.resampler.as_mut() else {
            return Ok(out);
        };
        while self.given + out.len() < expected {
            let need = resampler.input_frames_next();
            let mut chunk = std::mem::take(&mut self.pending);
            chunk.resize(need, 0.0);
            let input = InterleavedSlice::new(&chunk, 1, need).map_err(resample_error)?;
            let output = resampler.process(&input, None).map_err(resample_error)?;
            let data = output.take_data();
            let skip = self.to_trim.min(data.len());
            self.to_trim -= skip;
            out.extend_from_slice(&data[skip..]);
        }
        out.truncate(expected - self.given);
        self.given += out.len();
        Ok(out)
    }

    /// Takes the next samples; returns the resampled samples now complete.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        let Some(resampler) = self.resampler.as_mut() else {
            return Ok(samples.to_vec());
        };
        self.taken += samples.len();
        self.pending.extend_from_slice(samples);
        let mut out = Vec::new();
        let mut used = 0;
        while self.pending.len() - used >= resampler.input_frames_next() {
            let need = resampler.input_frames_next();
            let chunk = &self.pending[used..used + need];
            let input = InterleavedSlice::new(chunk, 1, need).map_err(resample_error)?;
            let output = resampler.process(&input, None).map_err(resample_error)?;
            let data = output.take_data();
            let skip = self.to_trim.min(data.len());
            self.to_trim -= skip;
            out.extend_from_slice(&data[skip..]);
            used += need;
        }
        self.pending.drain(..used);
        self.given += out.len();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    #[test]
    fn streaming_gives_the_batch_output_for_any_piece_size() {
        let tone = synth::tone(440.0, 1.5, 48_000, 0.5);
        let batch = resample(&tone, 48_000, 22_050).unwrap();
        for piece in [128, 1000, 4096, 10_000] {
            let mut stream = StreamResampler::new(48_000, 22_050).unwrap();
            let mut out = Vec::new();
            for p in tone.chunks(piece) {
                out.extend(stream.push(p).unwrap());
            }
            // Everything up to the last full chunk, exactly as the batch path gives it.
            assert!(
                out.len() > batch.len() - 2_200,
                "only {} samples",
                out.len()
            );
            assert_eq!(out[..], batch[..out.len()], "pieces of {piece}");
        }
        let mut same = StreamResampler::new(22_050, 22_050).unwrap();
        assert_eq!(same.push(&[0.5, 0.25]).unwrap(), vec![0.5, 0.25]);
        assert!(StreamResampler::new(1, 22_050).is_err());
    }

    #[test]
    fn a_finished_stream_equals_the_batch_output_exactly() {
        for (len, from, to) in [
            (33_075, 22_050, 16_000),
            (100_000, 44_100, 16_000),
            (5_000, 22_050, 16_000),
        ] {
            let tone = synth::tone(440.0, len as f64 / f64::from(from), from, 0.5);
            let batch = resample(&tone, from, to).unwrap();
            for piece in [1000, 4096, 30_000] {
                let mut stream = StreamResampler::new(from, to).unwrap();
                let mut out = Vec::new();
                for p in tone.chunks(piece) {
                    out.extend(stream.push(p).unwrap());
                }
                out.extend(stream.finish().unwrap());
                assert_eq!(stream.output_len(tone.len()), batch.len());
                assert_eq!(
                    out, batch,
                    "{len} samples {from} -> {to} Hz in pieces of {piece}"
                );
            }
        }
    }

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
