//! Loudness normalisation of a segment: what makes a verdict independent of playback level.
//!
//! Each segment is measured on its own (EBU R128 short-term loudness: K-weighted and
//! ungated, over the segment's last 3 s, by the `ebur128` crate) and brought to the
//! settings' target before its features. Per segment rather than per song, so that a
//! stream, live mode and a song's first segment need nothing from the rest of the song:
//! every path computes a segment's features from its samples alone, as before. Ungated
//! short-term loudness scales exactly with the signal's gain, so a song played 30 dB
//! quieter gives the same features up to rounding.

use ebur128::{EbuR128, Mode};

use super::FeatureError;

/// The largest gain a segment gets, in dB: enough to lift a recording 30 dB below a
/// quiet master's softest passages, little enough that a near-silent segment (dither,
/// the tail of a fade) stays far below music.
pub const MAX_GAIN_DB: f64 = 60.0;

/// The largest cut a segment gets, in dB (a full-scale square wave is about +3 LUFS).
pub const MAX_CUT_DB: f64 = 30.0;

/// The segment's short-term loudness in LUFS (negative infinity for digital silence).
pub fn short_term_loudness(samples: &[f32], sample_rate: u32) -> Result<f64, FeatureError> {
    let fail = |e: ebur128::Error| FeatureError::Loudness(format!("{e:?}"));
    let mut meter = EbuR128::new(1, sample_rate, Mode::S).map_err(fail)?;
    meter.add_frames_f32(samples).map_err(fail)?;
    meter.loudness_shortterm().map_err(fail)
}

/// The factor on the segment's power (the square of the gain on its samples) that brings
/// `samples` to `target_lufs`, the gain limited to [`MAX_GAIN_DB`] and [`MAX_CUT_DB`].
/// Digital silence keeps its level (factor 1).
pub fn power_factor(
    samples: &[f32],
    sample_rate: u32,
    target_lufs: f64,
) -> Result<f32, FeatureError> {
    let loudness = short_term_loudness(samples, sample_rate)?;
    if !loudness.is_finite() {
        return Ok(1.0);
    }
    let gain_db = (target_lufs - loudness).clamp(-MAX_CUT_DB, MAX_GAIN_DB);
    Ok(10f64.powf(gain_db / 10.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f32) -> Vec<f32> {
        (0..48_128)
            .map(|i| amplitude * (i as f32 * 0.173).sin() * (1.0 + (i as f32 * 0.0007).sin()))
            .collect()
    }

    #[test]
    fn the_factor_undoes_a_gain() {
        let loud = power_factor(&tone(0.5), 16_000, -20.0).unwrap();
        let quiet_samples: Vec<f32> = tone(0.5).iter().map(|x| x * 0.01).collect();
        let quiet = power_factor(&quiet_samples, 16_000, -20.0).unwrap();
        // 40 dB quieter: a power 10^4 times smaller, so a factor 10^4 times larger.
        assert!((quiet / loud / 1e4 - 1.0).abs() < 1e-3, "{loud} {quiet}");
    }

    #[test]
    fn silence_keeps_its_level_and_gains_are_limited() {
        assert_eq!(power_factor(&[0.0; 48_128], 16_000, -20.0).unwrap(), 1.0);
        let faint: Vec<f32> = tone(1e-6);
        let factor = power_factor(&faint, 16_000, -20.0).unwrap();
        assert!((10.0 * factor.log10() - MAX_GAIN_DB as f32).abs() < 1e-3);
    }
}
