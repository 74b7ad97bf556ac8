//! A learned map from the backbone's tag probabilities to genres: multinomial logistic
//! regression on the tags' standardised log-odds, fitted on training segments only (see
//! `train::tag_map`), an alternative to [`TagPrior`](super::TagPrior)'s hand-written map.

use serde::{Deserialize, Serialize};

/// Smallest and largest tag probability taken before the log-odds (so that 0 and 1 stay
/// finite).
const CLAMP: f32 = 1e-4;

/// The map's parameters, for `tags` inputs and `classes` genres (the card's labels, in
/// order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnedTagMap {
    /// Mean of each tag's log-odds over the training segments.
    pub mean: Vec<f32>,
    /// Their standard deviation (at least a small positive floor).
    pub std: Vec<f32>,
    /// Weights, `tags × classes`, row-major by tag.
    pub weights: Vec<f32>,
    /// One bias per class.
    pub bias: Vec<f32>,
}

/// The standardised log-odds of `tags` under `mean` and `std`.
pub fn standardised_log_odds(tags: &[f32], mean: &[f32], std: &[f32]) -> Vec<f32> {
    tags.iter()
        .zip(mean.iter().zip(std))
        .map(|(&p, (&m, &s))| {
            let p = p.clamp(CLAMP, 1.0 - CLAMP);
            ((p / (1.0 - p)).ln() - m) / s
        })
        .collect()
}

/// Softmax of `logits`, in place, from the largest value.
pub fn softmax_in_place(logits: &mut [f32]) {
    let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for z in logits.iter_mut() {
        *z = (*z - top).exp();
        total += *z;
    }
    logits.iter_mut().for_each(|z| *z /= total);
}

impl LearnedTagMap {
    /// Number of classes the map scores.
    pub fn classes(&self) -> usize {
        self.bias.len()
    }

    /// Class logits of one segment's tag probabilities.
    pub fn logits(&self, tags: &[f32]) -> Vec<f32> {
        let x = standardised_log_odds(tags, &self.mean, &self.std);
        let classes = self.classes();
        let mut z = self.bias.clone();
        for (xi, row) in x.iter().zip(self.weights.chunks_exact(classes)) {
            z.iter_mut().zip(row).for_each(|(zk, w)| *zk += xi * w);
        }
        z
    }

    /// The genre distribution of one segment's tag probabilities.
    pub fn distribution(&self, tags: &[f32]) -> Vec<f32> {
        let mut z = self.logits(tags);
        softmax_in_place(&mut z);
        z
    }

    /// Checks the sizes against `tags` inputs and `classes` labels, and that every value
    /// is finite (and every deviation positive), naming the first problem.
    pub fn validate(&self, tags: usize, classes: usize) -> Result<(), String> {
        if self.mean.len() != tags || self.std.len() != tags {
            return Err(format!(
                "the learned tag map is for {} tags, the backbone has {tags}",
                self.mean.len()
            ));
        }
        if self.bias.len() != classes || self.weights.len() != tags * classes {
            return Err(format!(
                "the learned tag map is for {} genres, the card has {classes}",
                self.bias.len()
            ));
        }
        let values = self.mean.iter().chain(&self.weights).chain(&self.bias);
        if values.into_iter().any(|v| !v.is_finite())
            || self.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
        {
            return Err("the learned tag map holds a value that is not finite".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distribution_follows_the_weights_and_sums_to_one() {
        let map = LearnedTagMap {
            mean: vec![0.0, 0.0],
            std: vec![1.0, 1.0],
            weights: vec![2.0, -2.0, 0.0, 0.0],
            bias: vec![0.0, 0.0],
        };
        let high = map.distribution(&[0.9, 0.5]);
        let low = map.distribution(&[0.1, 0.5]);
        assert!((high.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(high[0] > 0.9 && low[1] > 0.9, "{high:?} {low:?}");
        assert!(map.validate(2, 2).is_ok());
        assert!(map.validate(3, 2).is_err());
        assert!(map.validate(2, 3).is_err());
        let broken = LearnedTagMap {
            std: vec![0.0, 1.0],
            ..map
        };
        assert!(broken.validate(2, 2).is_err());
    }
}
