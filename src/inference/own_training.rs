//! A model of one's own labels from whole songs: the page's "Train your own". Songs (each
//! a label and its segments' embeddings) go in; out come a cross-validated score (k-fold
//! over songs, so that no song has segments on both sides) and the model trained on all
//! of them, in steps, so that a page can report progress and stop between them.
//!
//! Early stopping needs validation songs: within each label, every
//! [`VALID_EVERY`]-th song of those being fitted on validates, the others train. The
//! folds of the cross-validation deal each label's songs out in turn, so every fold holds
//! every label. A song's verdict is the mean of its segments' probabilities.

use serde::{Deserialize, Serialize};

use super::{Classifier, HeadTraining, LabelledEmbeddings, ModelFiles, OwnModelError};
use crate::models::{FittedHead, HeadFitOptions};

/// Songs a label needs, each, for a cross-validated score.
pub const MIN_SONGS_FOR_SCORE: usize = 5;
/// Most folds of the cross-validation.
pub const MAX_FOLDS: usize = 5;
/// Most songs one model is trained on here (memory: only embeddings are kept).
pub const MAX_OWN_SONGS: usize = 5000;
/// Every this many songs of a label, one validates (early stopping).
pub const VALID_EVERY: usize = 5;
/// The class balance of the loss weights (the trainer's default).
const CLASS_BALANCE: f32 = 0.5;
/// Below this share of a label's songs right, and taken mostly for one other label, the
/// report warns that the two are hard to tell apart.
const CONFUSED_BELOW: f64 = 0.6;

/// How well one label did in the cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    /// The label.
    pub label: String,
    /// Its songs.
    pub songs: usize,
    /// Share of its songs given their label when held out.
    pub accuracy: f64,
}

/// The cross-validated score of a model of one's own labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Folds of songs.
    pub folds: usize,
    /// Share of all songs right when held out.
    pub accuracy: f64,
    /// The mean of the labels' accuracies.
    pub balanced_accuracy: f64,
    /// Per label, in the labels' order.
    pub per_label: Vec<LabelScore>,
    /// `confusion[given][predicted]`: songs of each label by the label they were given.
    pub confusion: Vec<Vec<usize>>,
}

/// What a card of one's own labels records about its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnLabelsRecord {
    /// The model's name.
    pub name: String,
    /// Songs per label, in the labels' order.
    pub songs_per_label: Vec<usize>,
    /// Segments the model was trained on.
    pub segments: usize,
    /// The cross-validated score (absent with fewer than [`MIN_SONGS_FOR_SCORE`] songs
    /// for some label).
    pub cross_validation: Option<CrossValidation>,
    /// What the person should know: too few songs, labels hard to tell apart.
    pub warnings: Vec<String>,
}

impl OwnLabelsRecord {
    /// The record of a card of one's own labels; `None` for other cards.
    pub fn of(card: &crate::card::ModelCard) -> Option<Self> {
        serde_json::from_value(card.own_labels.clone()?).ok()
    }
}

/// Where a trainer is: `done` of `total` fits, and which stage runs next.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingStep {
    /// "cross-validation" or "training".
    pub stage: &'static str,
    /// Fits done.
    pub done: usize,
    /// Fits in all: the folds, then the final model.
    pub total: usize,
    /// Whether the model is trained ([`OwnTrainer::finish`] may be called).
    pub finished: bool,
}

/// A song of one's own labels: its label and its segments' embeddings.
#[derive(Debug, Clone)]
struct OwnSong {
    label: usize,
    embeddings: Vec<f32>,
}

/// Trains a model of one's own labels over a loaded model's backbone, a fit per
/// [`step`](Self::step).
pub struct OwnTrainer {
    base: Classifier,
    labels: Vec<String>,
    name: String,
    songs: Vec<OwnSong>,
    folds: usize,
    done: usize,
    confusion: Vec<Vec<usize>>,
    model: Option<ModelFiles>,
}

impl OwnTrainer {
    /// A trainer of a model called `name` for `labels` over `base`'s backbone.
    pub fn new(base: Classifier, labels: Vec<String>, name: String) -> Self {
        let confusion = vec![vec![0; labels.len()]; labels.len()];
        Self {
            base,
            labels,
            name,
            songs: Vec::new(),
            folds: 0,
            done: 0,
            confusion,
            model: None,
        }
    }

    /// Adds a song of label `label` (an index into the labels) with its segments'
    /// embeddings, concatenated as the base model's `embed` gives them.
    pub fn add_song(&mut self, label: usize, embeddings: Vec<f32>) -> Result<(), OwnModelError> {
        if label >= self.labels.len() {
            return Err(OwnModelError::Labels(format!(
                "song {} has label {label} of {}",
                self.songs.len() + 1,
                self.labels.len()
            )));
        }
        if self.songs.len() >= MAX_OWN_SONGS {
            return Err(OwnModelError::Embeddings(format!(
                "more than {MAX_OWN_SONGS} songs, the most one model is trained on here"
            )));
        }
        let size = self.base.embedding_size();
        if embeddings.is_empty() || !embeddings.len().is_multiple_of(size) {
            return Err(OwnModelError::Embeddings(format!(
                "song {} has {} values, not whole embeddings of {size}",
                self.songs.len() + 1,
                embeddings.len()
            )));
        }
        self.songs.push(OwnSong { label, embeddings });
        self.folds = self.fold_count();
        Ok(())
    }

    /// Songs of each label.
    fn songs_per_label(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for song in &self.songs {
            counts[song.label] += 1;
        }
        counts
    }

    /// Folds of the cross-validation: as many as the smallest label has songs, at most
    /// [`MAX_FOLDS`]; none when a label has fewer than [`MIN_SONGS_FOR_SCORE`].
    fn fold_count(&self) -> usize {
        let fewest = self.songs_per_label().into_iter().min().unwrap_or(0);
        if fewest >= MIN_SONGS_FOR_SCORE {
            fewest.min(MAX_FOLDS)
        } else {
            0
        }
    }

    /// Each song's fold: a label's songs dealt out in turn.
    fn song_folds(&self) -> Vec<usize> {
        let mut seen = vec![0; self.labels.len()];
        self.songs
            .iter()
            .map(|s| {
                seen[s.label] += 1;
                (seen[s.label] - 1) % self.folds.max(1)
            })
            .collect()
    }

    /// Runs the next fit: a fold of the cross-validation, then the final model.
    pub fn step(&mut self) -> Result<TrainingStep, OwnModelError> {
        let total = self.folds + 1;
        if self.done < self.folds {
            let folds = self.song_folds();
            let fold = self.done;
            let fitted: Vec<usize> = (0..self.songs.len())
                .filter(|&i| folds[i] != fold)
                .collect();
            let held: Vec<usize> = (0..self.songs.len())
                .filter(|&i| folds[i] == fold)
                .collect();
            let model = self.fit(&fitted)?;
            for i in held {
                let predicted = self.predict(&model, &self.songs[i].embeddings)?;
                self.confusion[self.songs[i].label][predicted] += 1;
            }
        } else if self.model.is_none() {
            let all: Vec<usize> = (0..self.songs.len()).collect();
            self.model = Some(self.fit(&all)?.0);
        }
        self.done = (self.done + 1).min(total);
        Ok(TrainingStep {
            stage: if self.done < self.folds {
                "cross-validation"
            } else {
                "training"
            },
            done: self.done,
            total,
            finished: self.model.is_some(),
        })
    }

    /// The songs `chosen` split into training and validation segments, fitted.
    fn fit(&self, chosen: &[usize]) -> Result<(ModelFiles, FittedHead), OwnModelError> {
        let mut seen = vec![0usize; self.labels.len()];
        let (mut train, mut valid) = (Segments::default(), Segments::default());
        for &i in chosen {
            let song = &self.songs[i];
            seen[song.label] += 1;
            let target = if seen[song.label].is_multiple_of(VALID_EVERY) {
                &mut valid
            } else {
                &mut train
            };
            target.add(song, self.base.embedding_size());
        }
        let training = HeadTraining {
            labels: &self.labels,
            class_balance: CLASS_BALANCE,
            options: HeadFitOptions::default(),
        };
        self.base.train_linear_head(
            train.as_labelled(),
            valid.as_labelled(),
            &training,
            |_, _| true,
        )
    }

    /// The label `model` gives a song (the mean of its segments' probabilities).
    fn predict(
        &self,
        (files, fitted): &(ModelFiles, FittedHead),
        embeddings: &[f32],
    ) -> Result<usize, OwnModelError> {
        let (mut rows, width) = self.base.head_inputs(embeddings)?;
        files.card.normalization.apply(&mut rows);
        let mut mean = vec![0.0f32; self.labels.len()];
        for row in rows.chunks_exact(width) {
            for (m, p) in mean.iter_mut().zip(fitted.head.probabilities(row)) {
                *m += p;
            }
        }
        Ok(super::argmax(&mean))
    }

    /// The trained model's files, its card recording the songs per label and the
    /// cross-validated score (its `own_labels`); errors until [`step`](Self::step) has
    /// finished.
    pub fn finish(self) -> Result<ModelFiles, OwnModelError> {
        let record = self.record();
        let mut files = self.model.ok_or_else(|| {
            OwnModelError::Embeddings("the model is not trained yet: step until finished".into())
        })?;
        files.card.own_labels = Some(
            serde_json::to_value(&record)
                .map_err(|e| OwnModelError::Embeddings(format!("cannot write the card: {e}")))?,
        );
        files.card_json = serde_json::to_string_pretty(&files.card)
            .map_err(|e| OwnModelError::Embeddings(format!("cannot write the card: {e}")))?;
        Ok(files)
    }

    /// The card's record of this training.
    fn record(&self) -> OwnLabelsRecord {
        let songs_per_label = self.songs_per_label();
        let cross_validation = (self.folds > 0).then(|| self.cross_validation(&songs_per_label));
        let mut warnings: Vec<String> = self
            .labels
            .iter()
            .zip(&songs_per_label)
            .filter(|(_, n)| **n < MIN_SONGS_FOR_SCORE)
            .map(|(l, n)| {
                format!("“{l}” has {n} song(s): give each label at least {MIN_SONGS_FOR_SCORE} for a score, and more for a good model")
            })
            .collect();
        if let Some(cv) = &cross_validation {
            warnings.extend(self.confusions(cv));
        }
        OwnLabelsRecord {
            name: self.name.clone(),
            segments: self.songs.iter().map(|s| s.embeddings.len()).sum::<usize>()
                / self.base.embedding_size(),
            songs_per_label,
            cross_validation,
            warnings,
        }
    }

    fn cross_validation(&self, songs: &[usize]) -> CrossValidation {
        let right: Vec<usize> = (0..self.labels.len())
            .map(|i| self.confusion[i][i])
            .collect();
        let per_label: Vec<LabelScore> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, label)| LabelScore {
                label: label.clone(),
                songs: songs[i],
                accuracy: right[i] as f64 / songs[i].max(1) as f64,
            })
            .collect();
        CrossValidation {
            folds: self.folds,
            accuracy: right.iter().sum::<usize>() as f64 / self.songs.len().max(1) as f64,
            balanced_accuracy: per_label.iter().map(|l| l.accuracy).sum::<f64>()
                / per_label.len().max(1) as f64,
            per_label,
            confusion: self.confusion.clone(),
        }
    }

    /// Warnings for labels mostly taken for another.
    fn confusions(&self, cv: &CrossValidation) -> Vec<String> {
        cv.per_label
            .iter()
            .enumerate()
            .filter(|(_, l)| l.accuracy < CONFUSED_BELOW)
            .filter_map(|(i, l)| {
                let (j, &n) = cv.confusion[i]
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .max_by_key(|&(_, n)| *n)?;
                (n > 0).then(|| {
                    format!(
                        "it cannot tell “{}” from “{}” well: {n} of {} “{}” songs were taken for “{}”",
                        l.label, self.labels[j], l.songs, l.label, self.labels[j]
                    )
                })
            })
            .collect()
    }
}

/// Segments of some songs, with each one's label.
#[derive(Default)]
struct Segments {
    embeddings: Vec<f32>,
    labels: Vec<usize>,
}

impl Segments {
    fn add(&mut self, song: &OwnSong, size: usize) {
        self.embeddings.extend_from_slice(&song.embeddings);
        self.labels.extend(std::iter::repeat_n(
            song.label,
            song.embeddings.len() / size,
        ));
    }

    fn as_labelled(&self) -> LabelledEmbeddings<'_> {
        LabelledEmbeddings {
            embeddings: &self.embeddings,
            labels: &self.labels,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Songs of `labels` labels, `per_label` each, of `segments` embeddings of which a
    /// share of the values tell the label (plus noise), as a backbone's might.
    pub(super) fn songs(
        base: &Classifier,
        labels: usize,
        per_label: usize,
        segments: usize,
    ) -> Vec<(usize, Vec<f32>)> {
        let size = base.embedding_size();
        (0..labels * per_label)
            .map(|k| {
                let label = k % labels;
                let mut e = vec![0.0f32; size * segments];
                let mut state = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                for (i, v) in e.iter_mut().enumerate() {
                    // xorshift64: noise unrelated to the label.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                    let signal = if (i % size) % labels == label {
                        1.0
                    } else {
                        0.0
                    };
                    *v = noise + signal;
                }
                (label, e)
            })
            .collect()
    }

    fn trained(per_label: usize) -> ModelFiles {
        let base = super::super::own_model::tests::base();
        let labels: Vec<String> = ["workout", "chill", "focus"].map(String::from).to_vec();
        let songs = songs(&base, 3, per_label, 3);
        let mut trainer = OwnTrainer::new(base, labels, "mine".into());
        for (label, e) in songs {
            trainer.add_song(label, e).unwrap();
        }
        let mut steps = Vec::new();
        loop {
            let step = trainer.step().unwrap();
            steps.push(step.clone());
            if step.finished {
                break;
            }
        }
        let folds = if per_label >= MIN_SONGS_FOR_SCORE {
            per_label.min(MAX_FOLDS)
        } else {
            0
        };
        assert_eq!(steps.len(), folds + 1);
        assert!(steps.iter().all(|s| s.total == folds + 1));
        trainer.finish().unwrap()
    }

    #[test]
    fn cross_validates_over_songs_and_records_it_in_the_card() {
        let files = trained(6);
        let record = OwnLabelsRecord::of(&files.card).unwrap();
        let record = &record;
        assert_eq!(record.songs_per_label, [6, 6, 6]);
        assert_eq!(record.segments, 54);
        let cv = record.cross_validation.as_ref().unwrap();
        assert_eq!(cv.folds, 5);
        // Every song is held out exactly once.
        assert_eq!(cv.confusion.iter().flatten().sum::<usize>(), 18);
        assert!(cv.accuracy > 0.9, "{cv:?}");
        assert!(files.card_json.contains("\"own_labels\""));
        // The files load back as a model of the three labels.
        let loaded = Classifier::load(
            &files.card_json,
            &files.weights,
            &crate::models::cpu_device(),
        )
        .unwrap();
        assert_eq!(loaded.card().labels, ["workout", "chill", "focus"]);
    }

    #[test]
    fn too_few_songs_give_no_score_and_a_warning() {
        let files = trained(3);
        let record = OwnLabelsRecord::of(&files.card).unwrap();
        assert!(record.cross_validation.is_none());
        assert_eq!(record.warnings.len(), 3);
        assert!(
            record.warnings[0].contains("at least 5"),
            "{:?}",
            record.warnings
        );
    }

    #[test]
    fn bad_songs_are_refused() {
        let base = super::super::own_model::tests::base();
        let size = base.embedding_size();
        let mut trainer = OwnTrainer::new(base, vec!["a".into(), "b".into()], "m".into());
        assert!(trainer.add_song(2, vec![0.0; size]).is_err());
        assert!(trainer.add_song(0, vec![0.0; 7]).is_err());
        assert!(trainer.add_song(0, Vec::new()).is_err());
        // Not trained yet: no files.
        assert!(trainer.finish().is_err());
    }
}
