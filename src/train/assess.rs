//! The evaluation stage: the fitted head's validation figures, for the main data folder's
//! tracks and apart for the extra folders' (excerpts); with a tag prior, at the card's
//! share of it and at every share of [`PRIOR_GRID`].

use super::calibrate::{Songs, calibrate};
use super::corpus::Corpus;
use super::gather::Gathered;
use super::{evaluate, predict};
use crate::card::{CalibrationReport, Evaluation, PriorScore};
use crate::inference::Calibration;
use crate::models::{EmbeddingShape, Network, TagPrior, TrainableHead};

/// Shares of the tag prior evaluated on validation and reported in the card.
pub const PRIOR_GRID: [f32; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Validation figures of the kept head: the main folder's tracks and the extra folders'
/// (if any validate), and the tag prior's grid (empty without a prior).
pub(super) struct Assessment {
    /// The main data folder's validation tracks.
    pub tracks: Evaluation,
    /// The extra folders' validation tracks, if there are any.
    pub excerpts: Option<Evaluation>,
    /// The figures at each share of the tag prior.
    pub grid: Vec<PriorScore>,
    /// The calibration fitted on all validation songs at the card's share, and its
    /// figures.
    pub calibration: Option<(Calibration, CalibrationReport)>,
}

/// The validation segments' probabilities under the head, blended with `prior` at
/// `weight` when there is one.
fn blended(
    head: &[Vec<f32>],
    valid: &Gathered,
    prior: Option<&TagPrior>,
    weight: f32,
    genres: &[String],
) -> Vec<Vec<f32>> {
    let Some(prior) = prior else {
        return head.to_vec();
    };
    let prior = TagPrior {
        weight,
        ..prior.clone()
    };
    let tags = valid.tags.len() / valid.labels.len().max(1);
    head.iter()
        .zip(valid.tags.chunks_exact(tags.max(1)))
        .map(|(p, t)| {
            let mut p = p.clone();
            prior.blend(genres, &mut p, t);
            p
        })
        .collect()
}

/// The figures of the validation segments of the main folder (`main`) or of the extra
/// ones, under `probabilities`; `None` if there are none.
fn part(
    corpus: &Corpus,
    valid: &Gathered,
    probabilities: &[Vec<f32>],
    main: bool,
) -> Option<Evaluation> {
    let ids: Vec<usize> = (0..valid.labels.len())
        .filter(|&i| corpus.is_main(valid.tracks[i]) == main)
        .collect();
    (!ids.is_empty()).then(|| {
        evaluate(
            &ids.iter()
                .map(|&i| probabilities[i].clone())
                .collect::<Vec<_>>(),
            &ids.iter().map(|&i| valid.labels[i]).collect::<Vec<_>>(),
            &ids.iter().map(|&i| valid.tracks[i]).collect::<Vec<_>>(),
            &corpus.set.genres,
        )
    })
}

/// Validation figures of the fitted head `network` (inputs laid out as `shape`).
pub(super) fn assess(
    corpus: &Corpus,
    valid: &Gathered,
    shape: EmbeddingShape,
    head: &TrainableHead,
    network: &Network,
) -> Assessment {
    let device = crate::models::cpu_device();
    let probabilities = predict(network, &valid.examples(shape), &device);
    let genres = &corpus.set.genres;
    let prior = head.tag_prior();
    let at = |weight: f32| {
        let p = blended(&probabilities, valid, prior, weight, genres);
        (
            part(corpus, valid, &p, true).unwrap_or_else(|| evaluate(&[], &[], &[], genres)),
            part(corpus, valid, &p, false),
        )
    };
    let grid = match prior {
        Some(_) => PRIOR_GRID
            .iter()
            .map(|&weight| {
                let (tracks, excerpts) = at(weight);
                let p = blended(&probabilities, valid, prior, weight, genres);
                let pooled = evaluate(&p, &valid.labels, &valid.tracks, genres);
                PriorScore {
                    weight,
                    track_accuracy: tracks.track_accuracy,
                    balanced_track_accuracy: tracks.balanced_track_accuracy,
                    excerpt_accuracy: excerpts.map(|e| e.track_accuracy),
                    pooled_balanced_accuracy: Some(pooled.balanced_track_accuracy),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let weight = prior.map_or(0.0, |p| p.weight);
    let (tracks, excerpts) = at(weight);
    let p = blended(&probabilities, valid, prior, weight, genres);
    Assessment {
        tracks,
        excerpts,
        grid,
        calibration: calibrate(&Songs::of(&p, &valid.labels, &valid.tracks)),
    }
}
