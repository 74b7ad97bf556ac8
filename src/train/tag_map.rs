//! Fitting the learned tag map ([`LearnedTagMap`]) on the training segments' tag
//! probabilities: multinomial logistic regression with an L2 penalty and the loss's class
//! weights, by full-batch gradient descent.
//!
//! Written here rather than with burn's training loop: that loop is made for mini-batch
//! networks kept by their validation loss, and this fit must not see validation at all;
//! the problem is convex and small (50 inputs × 10 classes), so plain gradient descent on
//! standardised inputs converges in a few hundred steps, in about a second.

use crate::models::{LearnedTagMap, softmax_in_place, standardised_log_odds};

/// Gradient descent steps.
const STEPS: usize = 400;
/// Step size (inputs are standardised, the loss is a weighted mean).
const STEP: f32 = 0.5;
/// Smallest standard deviation a tag's log-odds is divided by.
const STD_FLOOR: f32 = 1e-3;

/// Mean and standard deviation of each of `width` columns of the log-odds of `tags`.
fn log_odds_moments(tags: &[f32], width: usize) -> (Vec<f32>, Vec<f32>) {
    let ones = vec![1.0; width];
    let zeros = vec![0.0; width];
    let rows: Vec<Vec<f32>> = tags
        .chunks_exact(width)
        .map(|t| standardised_log_odds(t, &zeros, &ones))
        .collect();
    let n = rows.len().max(1) as f32;
    let mean: Vec<f32> = (0..width)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f32>() / n)
        .collect();
    let std = (0..width)
        .map(|j| {
            let var = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f32>() / n;
            var.sqrt().max(STD_FLOOR)
        })
        .collect();
    (mean, std)
}

/// Fits the map from `tags` (`width` values per segment) to `labels` (`classes` of them),
/// each segment weighted by its class's weight in `class_weights`, with L2 penalty `l2`
/// on the weights.
pub fn fit_tag_map(
    tags: &[f32],
    width: usize,
    labels: &[usize],
    class_weights: &[f32],
    l2: f32,
) -> LearnedTagMap {
    let classes = class_weights.len();
    let (mean, std) = log_odds_moments(tags, width);
    let inputs: Vec<Vec<f32>> = tags
        .chunks_exact(width)
        .map(|t| standardised_log_odds(t, &mean, &std))
        .collect();
    let mut map = LearnedTagMap {
        mean,
        std,
        weights: vec![0.0; width * classes],
        bias: vec![0.0; classes],
    };
    let total: f32 = labels
        .iter()
        .map(|&l| class_weights[l])
        .sum::<f32>()
        .max(1e-12);
    for _ in 0..STEPS {
        let (grad_w, grad_b) = gradient(&map, &inputs, labels, class_weights, total);
        for (w, g) in map.weights.iter_mut().zip(grad_w) {
            *w -= STEP * (g + l2 * *w);
        }
        for (b, g) in map.bias.iter_mut().zip(grad_b) {
            *b -= STEP * g;
        }
    }
    map
}

/// Gradient of the class-weighted mean cross-entropy at `map`, over standardised inputs.
fn gradient(
    map: &LearnedTagMap,
    inputs: &[Vec<f32>],
    labels: &[usize],
    class_weights: &[f32],
    total: f32,
) -> (Vec<f32>, Vec<f32>) {
    let classes = map.classes();
    let mut grad_w = vec![0.0; map.weights.len()];
    let mut grad_b = vec![0.0; classes];
    for (x, &label) in inputs.iter().zip(labels) {
        let mut p = map.bias.clone();
        for (xi, row) in x.iter().zip(map.weights.chunks_exact(classes)) {
            p.iter_mut().zip(row).for_each(|(pk, w)| *pk += xi * w);
        }
        softmax_in_place(&mut p);
        let weight = class_weights[label] / total;
        p[label] -= 1.0;
        p.iter_mut().for_each(|d| *d *= weight);
        for (xi, row) in x.iter().zip(grad_w.chunks_exact_mut(classes)) {
            row.iter_mut().zip(&p).for_each(|(g, d)| *g += xi * d);
        }
        grad_b.iter_mut().zip(&p).for_each(|(g, d)| *g += d);
    }
    (grad_w, grad_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_map_tells_apart_classes_that_its_tags_tell_apart() {
        // Two tags, two classes: class 0 has tag 0 high, class 1 tag 1 high.
        let mut tags = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40 {
            let jitter = (i % 7) as f32 * 0.01;
            if i % 2 == 0 {
                tags.extend_from_slice(&[0.8 + jitter, 0.1]);
                labels.push(0);
            } else {
                tags.extend_from_slice(&[0.1, 0.7 + jitter]);
                labels.push(1);
            }
        }
        let map = fit_tag_map(&tags, 2, &labels, &[1.0, 1.0], 1e-3);
        assert!(map.validate(2, 2).is_ok());
        assert!(map.distribution(&[0.85, 0.1])[0] > 0.9);
        assert!(map.distribution(&[0.1, 0.75])[1] > 0.9);
    }
}
