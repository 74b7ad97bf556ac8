//! Confidence that means something: a song's probabilities after temperature scaling, and
//! the confidence below which its verdict is "unsure". Both are fitted on validation by
//! the trainer (`train::calibrate`) and kept in the model card; the CLI, the page, the
//! widget and the exports read the flag from here, so no front end holds a threshold.

use serde::{Deserialize, Serialize};

/// The threshold of a card without a calibration (cards written before it): the page's
/// old "unsure" rule, now applied in Rust.
pub const DEFAULT_UNSURE_BELOW: f32 = 0.4;

/// How a song's mean probabilities become its calibrated ones, and when it is unsure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Temperature T: calibrated p_i ∝ p_i^(1/T) (1: unchanged; above 1 softer).
    pub temperature: f32,
    /// A song whose calibrated top probability is below this is "unsure".
    pub unsure_below: f32,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            unsure_below: DEFAULT_UNSURE_BELOW,
        }
    }
}

impl Calibration {
    /// Checks that the temperature is positive and the threshold a probability.
    pub fn check(&self) -> Result<(), String> {
        let ok = self.temperature.is_finite()
            && (0.01..=100.0).contains(&self.temperature)
            && (0.0..=1.0).contains(&self.unsure_below);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "calibration needs a temperature in 0.01..=100 and unsure_below in 0..=1, got {} and {}",
                self.temperature, self.unsure_below
            ))
        }
    }

    /// `probabilities` scaled by the temperature and normalised to sum to 1 (in place).
    pub fn apply(&self, probabilities: &mut [f32]) {
        scale_by_temperature(probabilities, self.temperature);
    }

    /// Whether a song of calibrated top probability `confidence` is unsure.
    pub fn is_unsure(&self, confidence: f32) -> bool {
        confidence < self.unsure_below
    }
}

/// p_i^(1/T), normalised, computed in log space from the largest value so that tiny
/// probabilities neither overflow nor vanish; zeros stay zero.
pub fn scale_by_temperature(probabilities: &mut [f32], temperature: f32) {
    if temperature == 1.0 {
        return;
    }
    let logs: Vec<f64> = probabilities
        .iter()
        .map(|&p| f64::from(p.max(0.0)).ln() / f64::from(temperature))
        .collect();
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return;
    }
    let exps: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
    let sum: f64 = exps.iter().sum();
    for (p, e) in probabilities.iter_mut().zip(exps) {
        *p = (e / sum) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_softens_or_sharpens_and_keeps_the_order() {
        let mut soft = vec![0.7, 0.2, 0.1];
        scale_by_temperature(&mut soft, 2.0);
        assert!(soft[0] < 0.7 && soft[0] > soft[1] && soft[1] > soft[2]);
        assert!((soft.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let mut sharp = vec![0.7, 0.2, 0.1];
        scale_by_temperature(&mut sharp, 0.5);
        assert!(sharp[0] > 0.7);
        let mut same = vec![0.7, 0.2, 0.1];
        Calibration::default().apply(&mut same);
        assert_eq!(same, vec![0.7, 0.2, 0.1]);
    }

    #[test]
    fn bad_calibrations_are_refused() {
        let bad = Calibration {
            temperature: 0.0,
            unsure_below: 0.5,
        };
        assert!(bad.check().is_err());
        assert!(Calibration::default().check().is_ok());
    }
}
