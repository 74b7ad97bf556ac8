//! Validation figures: segment and track accuracy, per genre, and the confusion matrix.

use crate::card::{Evaluation, GenreAccuracy};
use crate::inference::{SegmentOutput, SongAccumulator, argmax};

fn ratio(hits: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| hits as f64 / total as f64)
}

/// Evaluates per-segment probabilities against labels; `tracks[i]` names the track of
/// segment `i`, and a track's verdict is its song accumulator's (the mean of its
/// segments' probabilities), as `classify` and the page decide a song's.
pub fn evaluate(
    probabilities: &[Vec<f32>],
    labels: &[usize],
    tracks: &[usize],
    genres: &[String],
) -> Evaluation {
    let classes = genres.len();
    let mut seg_hits = vec![0usize; classes];
    let mut seg_total = vec![0usize; classes];
    // Track index → (label, its segments' probabilities), in first-seen order.
    let mut per_track: Vec<(usize, usize, Vec<&[f32]>)> = Vec::new();
    for ((p, &label), &track) in probabilities.iter().zip(labels).zip(tracks) {
        seg_total[label] += 1;
        if argmax(p) == label {
            seg_hits[label] += 1;
        }
        match per_track.iter_mut().find(|(t, _, _)| *t == track) {
            Some((_, _, segments)) => segments.push(p),
            None => per_track.push((track, label, vec![p])),
        }
    }
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (_, label, segments) in &per_track {
        confusion[*label][track_verdict(segments, genres)] += 1;
    }
    let track_total: Vec<usize> = confusion.iter().map(|row| row.iter().sum()).collect();
    let per_genre: Vec<GenreAccuracy> = (0..classes)
        .map(|g| GenreAccuracy {
            genre: genres[g].clone(),
            tracks: track_total[g],
            track_accuracy: ratio(confusion[g][g], track_total[g]),
            segments: seg_total[g],
            segment_accuracy: ratio(seg_hits[g], seg_total[g]),
        })
        .collect();
    let present: Vec<f64> = per_genre.iter().filter_map(|g| g.track_accuracy).collect();
    Evaluation {
        segment_accuracy: ratio(seg_hits.iter().sum(), seg_total.iter().sum()).unwrap_or(0.0),
        track_accuracy: ratio(
            (0..classes).map(|g| confusion[g][g]).sum(),
            track_total.iter().sum(),
        )
        .unwrap_or(0.0),
        balanced_track_accuracy: if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        },
        per_genre,
        confusion,
    }
}

/// The index of the genre a song accumulator gives a track of `segments`.
fn track_verdict(segments: &[&[f32]], genres: &[String]) -> usize {
    let mut song = SongAccumulator::new(genres.to_vec(), &[], vec![0.0; segments.len()]);
    for (i, p) in segments.iter().enumerate() {
        let output = SegmentOutput {
            probabilities: p.to_vec(),
            tags: Vec::new(),
        };
        if song.add(i, output).is_err() {
            return 0;
        }
    }
    song.result()
        .ok()
        .and_then(|verdict| genres.iter().position(|g| *g == verdict.genre))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_is_judged_by_its_mean_probabilities() {
        let genres = vec!["a".to_string(), "b".to_string()];
        // Track 0 (label a): one segment says b weakly, two say a: a by mean.
        // Track 1 (label b): both segments say a: wrong.
        let p = vec![
            vec![0.45, 0.55],
            vec![0.9, 0.1],
            vec![0.8, 0.2],
            vec![0.6, 0.4],
            vec![0.7, 0.3],
        ];
        let e = evaluate(&p, &[0, 0, 0, 1, 1], &[0, 0, 0, 1, 1], &genres);
        assert_eq!(e.confusion, vec![vec![1, 0], vec![1, 0]]);
        assert!((e.track_accuracy - 0.5).abs() < 1e-12);
        assert!((e.segment_accuracy - 0.4).abs() < 1e-12);
        assert_eq!(e.per_genre[1].track_accuracy, Some(0.0));
        assert!((e.balanced_track_accuracy - 0.5).abs() < 1e-12);
    }
}
