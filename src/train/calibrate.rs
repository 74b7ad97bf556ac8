//! Calibration on validation: the temperature that makes a song's probabilities honest
//! (lowest negative log-likelihood of the validation songs), the expected calibration
//! error before and after, and the "unsure" threshold.
//!
//! The threshold is the lowest confidence at which the verdicts the model is sure of are
//! right at least [`SURE_ACCURACY`] of the time, as long as at most [`MAX_UNSURE`] of the
//! songs fall below it; if no threshold meets both, the one that leaves exactly
//! [`MAX_UNSURE`] unsure. Validation tracks and excerpts count together, one song each.

use crate::card::CalibrationReport;
use crate::inference::{Calibration, argmax, scale_by_temperature};

/// Share of sure verdicts that must be right.
pub const SURE_ACCURACY: f64 = 0.92;

/// Largest share of songs that may be unsure.
pub const MAX_UNSURE: f64 = 0.30;

/// Bins of the expected calibration error.
const ECE_BINS: usize = 10;

/// Validation songs: each one's mean segment probabilities and its label.
pub(super) struct Songs {
    probabilities: Vec<Vec<f32>>,
    labels: Vec<usize>,
}

impl Songs {
    /// The songs of per-segment `probabilities`, `labels` and `tracks` (a song is a
    /// track: the mean of its segments, as the song accumulator takes it).
    pub fn of(probabilities: &[Vec<f32>], labels: &[usize], tracks: &[usize]) -> Self {
        let mut order: Vec<usize> = Vec::new();
        let mut sums: Vec<(Vec<f32>, usize, usize)> = Vec::new();
        for ((p, &label), &track) in probabilities.iter().zip(labels).zip(tracks) {
            let slot = match order.iter().position(|&t| t == track) {
                Some(i) => i,
                None => {
                    order.push(track);
                    sums.push((vec![0.0; p.len()], label, 0));
                    sums.len() - 1
                }
            };
            let (sum, _, count) = &mut sums[slot];
            sum.iter_mut().zip(p).for_each(|(s, x)| *s += x);
            *count += 1;
        }
        let (probabilities, labels) = sums
            .into_iter()
            .map(|(sum, label, count)| (sum.iter().map(|s| s / count as f32).collect(), label))
            .unzip();
        Self {
            probabilities,
            labels,
        }
    }

    /// (confidence, right) of each song at `temperature`.
    fn verdicts(&self, temperature: f32) -> Vec<(f32, bool)> {
        self.probabilities
            .iter()
            .zip(&self.labels)
            .map(|(p, &label)| {
                let mut p = p.clone();
                scale_by_temperature(&mut p, temperature);
                let top = argmax(&p);
                (p[top], top == label)
            })
            .collect()
    }

    /// Mean negative log-likelihood of the true labels at `temperature`.
    fn nll(&self, temperature: f32) -> f64 {
        let total: f64 = self
            .probabilities
            .iter()
            .zip(&self.labels)
            .map(|(p, &label)| {
                let mut p = p.clone();
                scale_by_temperature(&mut p, temperature);
                -f64::from(p[label].max(1e-12)).ln()
            })
            .sum();
        total / self.labels.len().max(1) as f64
    }
}

/// Expected calibration error of `verdicts`: over equal-width confidence bins, the
/// song-weighted gap between confidence and accuracy.
fn expected_calibration_error(verdicts: &[(f32, bool)]) -> f64 {
    let mut bins = vec![(0f64, 0f64, 0usize); ECE_BINS];
    for &(confidence, right) in verdicts {
        let bin = ((confidence * ECE_BINS as f32) as usize).min(ECE_BINS - 1);
        bins[bin].0 += f64::from(confidence);
        bins[bin].1 += f64::from(u8::from(right));
        bins[bin].2 += 1;
    }
    let n = verdicts.len().max(1) as f64;
    bins.iter()
        .filter(|b| b.2 > 0)
        .map(|(conf, hits, _)| (conf - hits).abs() / n)
        .sum()
}

/// The temperature of lowest negative log-likelihood on a log grid from 0.25 to 4.
fn fit_temperature(songs: &Songs) -> f32 {
    (0..=80)
        .map(|i| 0.25f32 * 16f32.powf(i as f32 / 80.0))
        .map(|t| (t, songs.nll(t)))
        .fold((1.0, f64::INFINITY), |best, (t, nll)| {
            if nll < best.1 { (t, nll) } else { best }
        })
        .0
}

/// (share of sure verdicts right, share unsure) at threshold `below`.
fn coverage(verdicts: &[(f32, bool)], below: f32) -> (f64, f64) {
    let sure: Vec<bool> = verdicts
        .iter()
        .filter(|(c, _)| *c >= below)
        .map(|(_, right)| *right)
        .collect();
    let right = sure.iter().filter(|r| **r).count();
    let accuracy = if sure.is_empty() {
        1.0
    } else {
        right as f64 / sure.len() as f64
    };
    let unsure = 1.0 - sure.len() as f64 / verdicts.len().max(1) as f64;
    (accuracy, unsure)
}

/// The threshold by the rule in the module docs, from the hundredths 0..=1.
fn choose_threshold(verdicts: &[(f32, bool)]) -> f32 {
    let candidates: Vec<f32> = (0..=100).map(|i| i as f32 / 100.0).collect();
    let allowed = |t: &&f32| coverage(verdicts, **t).1 <= MAX_UNSURE;
    candidates
        .iter()
        .filter(allowed)
        .find(|t| coverage(verdicts, **t).0 >= SURE_ACCURACY)
        .or_else(|| candidates.iter().rfind(allowed))
        .copied()
        .unwrap_or(0.0)
}

/// Calibrates on `songs`: the card's calibration and the figures for the report
/// (`None` without songs).
pub(super) fn calibrate(songs: &Songs) -> Option<(Calibration, CalibrationReport)> {
    if songs.labels.is_empty() {
        return None;
    }
    let temperature = fit_temperature(songs);
    let before = songs.verdicts(1.0);
    let after = songs.verdicts(temperature);
    let unsure_below = choose_threshold(&after);
    let (sure_accuracy, unsure_share) = coverage(&after, unsure_below);
    let calibration = Calibration {
        temperature,
        unsure_below,
    };
    let report = CalibrationReport {
        temperature,
        unsure_below,
        songs: songs.labels.len(),
        expected_calibration_error_before: expected_calibration_error(&before),
        expected_calibration_error_after: expected_calibration_error(&after),
        sure_accuracy,
        unsure_share,
    };
    Some((calibration, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overconfident_songs_get_a_softening_temperature() {
        // Twenty songs, each 95 % sure, right 60 % of the time.
        let probabilities: Vec<Vec<f32>> = (0..20).map(|_| vec![0.95, 0.05]).collect();
        let labels: Vec<usize> = (0..20).map(|i| usize::from(i % 5 >= 3)).collect();
        let tracks: Vec<usize> = (0..20).collect();
        let songs = Songs::of(&probabilities, &labels, &tracks);
        let (calibration, report) = calibrate(&songs).unwrap();
        assert!(calibration.temperature > 1.5, "{calibration:?}");
        assert!(report.expected_calibration_error_after < report.expected_calibration_error_before);
    }

    #[test]
    fn the_threshold_keeps_sure_verdicts_right() {
        let verdicts: Vec<(f32, bool)> = (0..100).map(|i| (i as f32 / 100.0, i >= 20)).collect();
        let t = choose_threshold(&verdicts);
        let (accuracy, unsure) = coverage(&verdicts, t);
        assert!(
            accuracy >= SURE_ACCURACY && unsure <= MAX_UNSURE,
            "{t} {accuracy} {unsure}"
        );
        assert!((0.1..=0.2).contains(&t), "{t}");
    }

    #[test]
    fn a_song_is_the_mean_of_its_segments() {
        let songs = Songs::of(&[vec![0.2, 0.8], vec![0.6, 0.4]], &[0, 0], &[7, 7]);
        assert_eq!(songs.labels, vec![0]);
        assert!((songs.probabilities[0][0] - 0.4).abs() < 1e-6);
    }
}
