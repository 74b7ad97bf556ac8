//! The split stage for segments: each embedding row is put on a side, and the training
//! and validation sides are gathered into flat arrays, normalised by what the training
//! side's rows look like.

use super::corpus::Corpus;
use super::embed::TrackRows;
use super::{Examples, Side, SplitKind, SplitOptions, TrainError, TrainOptions, split_segments};
use crate::card::{DataSummary, GenreCounts, Normalization};
use crate::models::EmbeddingShape;

/// Every row of the data, with its track and its side of the split, by track: each
/// track's own cut, then its shifted cut.
pub(super) struct Segments {
    /// The track and the embedding of each segment.
    rows: Vec<(usize, Vec<f32>)>,
    /// The side of each segment.
    sides: Vec<Side>,
}

impl Segments {
    /// The indices of the segments on `side`, in order.
    fn on(&self, side: Side) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.sides[i] == side)
            .collect()
    }
}

/// The rows of the readable tracks, each put on a side: its track's side, or for the
/// random split a random side (tracks left out stay out); shifted cuts always train.
pub(super) fn assign_segments(
    tracks: Vec<Option<TrackRows>>,
    track_sides: &[Side],
    split: &SplitOptions,
) -> Segments {
    let mut rows = Vec::new();
    let mut shifted = Vec::new(); // per row: whether it is of a shifted cut
    for (t, track) in tracks.into_iter().enumerate() {
        let Some(track) = track else { continue };
        shifted.extend(std::iter::repeat_n(false, track.aligned.len()));
        rows.extend(track.aligned.into_iter().map(|r| (t, r)));
        if track_sides[t] == Side::Train {
            shifted.extend(std::iter::repeat_n(true, track.shifted.len()));
            rows.extend(track.shifted.into_iter().map(|r| (t, r)));
        }
    }
    let mut random = match split.kind {
        SplitKind::Random => split_segments(shifted.iter().filter(|s| !**s).count(), split),
        _ => Vec::new(),
    }
    .into_iter();
    let sides = rows
        .iter()
        .zip(&shifted)
        .map(|((t, _), &is_shifted)| {
            let drawn = if is_shifted { None } else { random.next() };
            match track_sides[*t] {
                Side::Excluded => Side::Excluded,
                _ if is_shifted => Side::Train,
                side => drawn.unwrap_or(side),
            }
        })
        .collect();
    Segments { rows, sides }
}

/// The segments of one side of the split as flat arrays: the normalised values the head
/// reads, the tag values beside them, and each segment's label and track.
#[derive(Debug, Default)]
pub(super) struct Gathered {
    /// `count × frames × width` normalised values.
    pub data: Vec<f32>,
    /// `count × tags` values (none without tags).
    pub tags: Vec<f32>,
    /// The label of each segment.
    pub labels: Vec<usize>,
    /// The track of each segment.
    pub tracks: Vec<usize>,
}

impl Gathered {
    /// These segments as the training loop takes them.
    pub fn examples(&self, shape: EmbeddingShape) -> Examples<'_> {
        Examples {
            data: &self.data,
            labels: &self.labels,
            frames: shape.frames,
            coefficients: shape.width,
        }
    }

    /// The segments `ids` of `segments`, as they are.
    fn of(corpus: &Corpus, segments: &Segments, ids: &[usize], shape: EmbeddingShape) -> Self {
        let mut side = Self::default();
        for &i in ids {
            let (t, row) = &segments.rows[i];
            side.data
                .extend_from_slice(&row[..shape.head_values().min(row.len())]);
            side.tags.extend_from_slice(shape.tags_of(row));
            side.labels.push(corpus.set.tracks[*t].label);
            side.tracks.push(*t);
        }
        side
    }
}

/// The training and validation sides, normalised by the normalisation learned from the
/// training side (returned too). Fails if a genre, or the whole training side, has no
/// segments (`skipped` files were unreadable).
pub(super) fn gather(
    corpus: &Corpus,
    segments: &Segments,
    shape: EmbeddingShape,
    options: &TrainOptions,
    skipped: usize,
) -> Result<(Gathered, Gathered, Normalization), TrainError> {
    let mut train = Gathered::of(corpus, segments, &segments.on(Side::Train), shape);
    let mut valid = Gathered::of(corpus, segments, &segments.on(Side::Valid), shape);
    if train.labels.is_empty() {
        return Err(TrainError::Data(format!(
            "{}: no readable training tracks ({skipped} files skipped)",
            options.data.display(),
        )));
    }
    let genres = &corpus.set.genres;
    if let Some(g) = (0..genres.len()).find(|g| !train.labels.contains(g)) {
        return Err(TrainError::Data(format!(
            "genre {:?} has no readable training tracks",
            genres[g]
        )));
    }
    let normalization = Normalization::fit(train.data.chunks(shape.width), shape.width);
    normalization.apply(&mut train.data);
    normalization.apply(&mut valid.data);
    Ok((train, valid, normalization))
}

/// Tracks (those with a segment on the side) and segments per genre and side, for the
/// card.
pub(super) fn summarise_data(
    options: &TrainOptions,
    corpus: &Corpus,
    segments: &Segments,
    train: &Gathered,
    valid: &Gathered,
) -> DataSummary {
    let mut on_side = vec![[false; 2]; corpus.set.tracks.len()];
    for ((t, _), side) in segments.rows.iter().zip(&segments.sides) {
        match side {
            Side::Train => on_side[*t][0] = true,
            Side::Valid => on_side[*t][1] = true,
            Side::Excluded => {}
        }
    }
    let per_genre = corpus
        .set
        .genres
        .iter()
        .enumerate()
        .map(|(g, genre)| {
            let tracks = |side: usize| {
                (0..corpus.set.tracks.len())
                    .filter(|&t| corpus.set.tracks[t].label == g && on_side[t][side])
                    .count()
            };
            let count = |labels: &[usize]| labels.iter().filter(|&&l| l == g).count();
            GenreCounts {
                genre: genre.clone(),
                train_tracks: tracks(0),
                valid_tracks: tracks(1),
                train_segments: count(&train.labels),
                valid_segments: count(&valid.labels),
            }
        })
        .collect();
    let mut source = options.data.display().to_string();
    for extra in &options.extra_data {
        source.push_str(&format!(" + {}", extra.display()));
    }
    DataSummary {
        source,
        per_genre,
        train_segments: train.labels.len(),
        valid_segments: valid.labels.len(),
    }
}
