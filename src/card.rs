//! The model card: everything needed to use a set of weights correctly (architecture,
//! labels, feature settings, input normalisation, a checksum of the weights) and what is
//! known about how good they are (data, split, training history, validation metrics).
//!
//! The trainer writes it beside the weights as `card.json`; the CLI and the browser read
//! it, check its feature settings against their extractor, and refuse a mismatch.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::features::FeatureSettings;
use crate::inference::ModelError;
use crate::models::Architecture;

/// Value of [`ModelCard::format`].
pub const CARD_FORMAT: &str = "genre-classifier model card";
/// Version of the card layout this crate reads and writes.
pub const CARD_VERSION: u32 = 1;
/// File name of the card in a model folder.
pub const CARD_FILE: &str = "card.json";
/// File name of the weights in a model folder.
pub const WEIGHTS_FILE: &str = "model.bpk";
pub use crate::models::{MAX_DIMENSION, MAX_PARAMETERS};
/// Largest model card read, in bytes: the shipped cards are 2-9 kB.
pub const MAX_CARD_BYTES: u64 = 1 << 20;
/// Largest weights file read, in bytes: [`MAX_PARAMETERS`] as f32, plus room for the
/// burnpack header and metadata (labels, settings, int8 scales).
pub const MAX_WEIGHTS_BYTES: u64 = MAX_PARAMETERS * 4 + (4 << 20);

/// A trained model's description; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    /// Always [`CARD_FORMAT`]: tells a card from any other JSON file.
    pub format: String,
    /// Card layout version, [`CARD_VERSION`].
    pub version: u32,
    /// The network's architecture and shape.
    pub architecture: Architecture,
    /// Genre names, in the order of the network's outputs.
    pub labels: Vec<String>,
    /// The feature settings the network was trained on.
    pub features: FeatureSettings,
    /// Per-coefficient input normalisation learned from the training data.
    pub normalization: Normalization,
    /// Number of trainable parameters.
    pub parameters: usize,
    /// The weights file this card describes.
    pub weights: WeightsInfo,
    /// How a song's probabilities are calibrated and when it is unsure (absent in cards
    /// written before calibration: unscaled, unsure below [`DEFAULT_UNSURE_BELOW`]).
    ///
    /// [`DEFAULT_UNSURE_BELOW`]: crate::inference::DEFAULT_UNSURE_BELOW
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::inference::Calibration>,
    /// How the model was trained and how well it did (absent for untrained test models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingReport>,
    /// For a model of one's own labels (trained in the page, or like it): its name, songs
    /// per label and cross-validated score, an
    /// [`OwnLabelsRecord`](crate::inference::OwnLabelsRecord) kept as plain JSON, so that
    /// the page's first download does not carry a parser of its own for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_labels: Option<serde_json::Value>,
}

impl ModelCard {
    /// Parses a card, checking that it is one, that its network can be built, and that
    /// its parts agree (labels and outputs, features and network, normalisation width).
    pub fn parse(card_json: &str) -> Result<Self, ModelError> {
        if card_json.len() as u64 > MAX_CARD_BYTES {
            return Err(ModelError::TooLarge {
                what: "model card".into(),
                bytes: card_json.len() as u64,
                max: MAX_CARD_BYTES,
            });
        }
        let card = Self::from_json(card_json)?;
        card.check_parts()?;
        card.check_agreement()?;
        Ok(card)
    }

    /// The card's JSON, once it says it is a card of the version this crate reads.
    fn from_json(card_json: &str) -> Result<Self, ModelError> {
        let value: serde_json::Value =
            serde_json::from_str(card_json).map_err(|e| ModelError::Card(e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(CARD_FORMAT) {
            return Err(ModelError::Card(format!(
                "it has no \"format\": \"{CARD_FORMAT}\" field, so it is not a model card"
            )));
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        if version != Some(u64::from(CARD_VERSION)) {
            return Err(ModelError::Card(format!(
                "card version {version:?} is not the supported version {CARD_VERSION}"
            )));
        }
        serde_json::from_value(value).map_err(|e| ModelError::Card(e.to_string()))
    }

    /// Each part on its own: feature settings, network, the weights' declared size.
    fn check_parts(&self) -> Result<(), ModelError> {
        self.features
            .validate()
            .map_err(|e| ModelError::Card(e.to_string()))?;
        self.architecture.validate().map_err(ModelError::Card)?;
        if let Some(calibration) = &self.calibration {
            calibration.check().map_err(ModelError::Card)?;
        }
        if self.weights.bytes > MAX_WEIGHTS_BYTES {
            return Err(ModelError::TooLarge {
                what: "weights file the card names".into(),
                bytes: self.weights.bytes,
                max: MAX_WEIGHTS_BYTES,
            });
        }
        Ok(())
    }

    /// The parts against each other: labels and outputs, segments and network,
    /// normalisation and the head's input.
    fn check_agreement(&self) -> Result<(), ModelError> {
        let inconsistent = |m: String| Err(ModelError::Inconsistent(m));
        let (frames, coefficients) = (
            self.features.frames_per_segment(),
            self.features.coefficients(),
        );
        if self.labels.len() != self.architecture.classes() {
            return inconsistent(format!(
                "{} labels but the network has {} outputs",
                self.labels.len(),
                self.architecture.classes()
            ));
        }
        if !self.architecture.accepts(frames, coefficients) {
            return inconsistent(format!(
                "the {} network does not take {frames}x{coefficients} segments",
                self.architecture.name()
            ));
        }
        self.check_normalization()?;
        self.architecture
            .check_card(&self.features, &self.labels)
            .map_err(ModelError::Inconsistent)?;
        if self
            .normalization
            .std
            .iter()
            .any(|s| s.is_nan() || *s <= 0.0)
        {
            return inconsistent(
                "normalisation has a standard deviation that is not positive".into(),
            );
        }
        Ok(())
    }

    /// The normalisation has one mean and deviation per value of the head's input row.
    fn check_normalization(&self) -> Result<(), ModelError> {
        let width = self
            .architecture
            .normalized_width(self.features.coefficients());
        let n = &self.normalization;
        if n.mean.len() != width || n.std.len() != width {
            return Err(ModelError::Inconsistent(format!(
                "normalisation has {}/{} values for {width} inputs",
                n.mean.len(),
                n.std.len()
            )));
        }
        Ok(())
    }
}

/// Per-coefficient mean and standard deviation; inputs become `(x - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    /// Mean of each coefficient over all training frames.
    pub mean: Vec<f32>,
    /// Standard deviation of each coefficient over all training frames (never 0).
    pub std: Vec<f32>,
}

impl Normalization {
    /// Mean and standard deviation per coefficient of frame-major `frames` (`n_mfcc`
    /// values per frame), accumulated in f64. A constant coefficient gets std 1.
    pub fn fit<'a>(frames: impl Iterator<Item = &'a [f32]>, n_mfcc: usize) -> Self {
        let mut sum = vec![0f64; n_mfcc];
        let mut sum_sq = vec![0f64; n_mfcc];
        let mut count = 0f64;
        for frame in frames {
            for ((s, q), &x) in sum.iter_mut().zip(&mut sum_sq).zip(frame) {
                *s += f64::from(x);
                *q += f64::from(x) * f64::from(x);
            }
            count += 1.0;
        }
        let count = count.max(1.0);
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std = sum_sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let sd = (q / count - m * m).max(0.0).sqrt();
                if sd > 1e-6 { sd as f32 } else { 1.0 }
            })
            .collect();
        Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    /// Normalises frame-major coefficients in place.
    pub fn apply(&self, coefficients: &mut [f32]) {
        let n = self.mean.len().max(1);
        for frame in coefficients.chunks_mut(n) {
            for ((x, m), s) in frame.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = (*x - m) / s;
            }
        }
    }
}

/// Identity of the weights file: size and SHA-256, so a corrupt, truncated or swapped
/// file is refused before it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsInfo {
    /// File name, relative to the card.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

impl WeightsInfo {
    /// Describes `bytes` stored as `file`.
    pub fn of(file: &str, bytes: &[u8]) -> Self {
        Self {
            file: file.to_owned(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How a model was trained, and its validation figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingReport {
    /// The data used.
    pub data: DataSummary,
    /// How tracks or segments were split into train and validation.
    pub split: String,
    /// Optimiser and loop settings.
    pub hyperparameters: Hyperparameters,
    /// One entry per epoch run.
    pub history: Vec<EpochRecord>,
    /// The epoch whose weights were kept (lowest validation loss), from 1.
    pub best_epoch: usize,
    /// Validation figures of the kept weights (full tracks).
    pub validation: Evaluation,
    /// Validation figures on short excerpts, one segment each (absent when none were
    /// used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpts: Option<Evaluation>,
    /// Validation figures for each share of the tag prior tried (musicnn only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_prior_grid: Vec<PriorScore>,
    /// How the song probabilities were calibrated on validation, and how sure verdicts
    /// fared (absent in cards written before calibration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
    /// Wall-clock training time in seconds (feature extraction excluded).
    pub seconds: f64,
    /// Backend and threads used, for the record.
    pub backend: String,
}

/// Validation figures with one share of the tag prior in the final probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorScore {
    /// Share of the prior (0: the head alone, 1: the prior alone).
    pub weight: f32,
    /// Track accuracy on validation tracks.
    pub track_accuracy: f64,
    /// Mean of the per-genre track accuracies.
    pub balanced_track_accuracy: f64,
    /// Accuracy on validation excerpts (absent without excerpts).
    pub excerpt_accuracy: Option<f64>,
    /// Accuracy balanced over genres on validation tracks and excerpts together (absent
    /// in cards written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled_balanced_accuracy: Option<f64>,
}

/// The calibration fitted on validation songs (tracks and excerpts, one song each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationReport {
    /// The temperature chosen (lowest negative log-likelihood).
    pub temperature: f32,
    /// The confidence below which a song is unsure.
    pub unsure_below: f32,
    /// Validation songs it was fitted on.
    pub songs: usize,
    /// Expected calibration error (10 bins) of the uncalibrated probabilities.
    pub expected_calibration_error_before: f64,
    /// The same after calibration.
    pub expected_calibration_error_after: f64,
    /// Share of the sure verdicts that were right.
    pub sure_accuracy: f64,
    /// Share of the songs that were unsure.
    pub unsure_share: f64,
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSummary {
    /// The data folder as given.
    pub source: String,
    /// Tracks and segments per genre on each side of the split.
    pub per_genre: Vec<GenreCounts>,
    /// Training segments in all.
    pub train_segments: usize,
    /// Validation segments in all.
    pub valid_segments: usize,
}

/// Tracks and segments of one genre on each side of the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenreCounts {
    /// Genre name.
    pub genre: String,
    /// Training tracks.
    pub train_tracks: usize,
    /// Validation tracks.
    pub valid_tracks: usize,
    /// Training segments.
    pub train_segments: usize,
    /// Validation segments.
    pub valid_segments: usize,
}

/// Optimiser and loop settings of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hyperparameters {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Segments per batch.
    pub batch_size: usize,
    /// Most epochs to run.
    pub max_epochs: usize,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    /// Seed for initialisation, shuffling and dropout.
    pub seed: u64,
    /// How class imbalance is handled.
    pub class_balance: String,
    /// Data augmentation applied to training segments.
    pub augmentation: String,
}

/// Loss and accuracy after one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss (class-weighted, with any penalty).
    pub train_loss: f64,
    /// Training segment accuracy.
    pub train_accuracy: f64,
    /// Mean validation loss (unweighted, as Keras reports it).
    pub valid_loss: f64,
    /// Validation segment accuracy.
    pub valid_accuracy: f64,
}

/// Validation figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    /// Fraction of segments classified right.
    pub segment_accuracy: f64,
    /// Fraction of tracks classified right (mean of segment probabilities per track).
    pub track_accuracy: f64,
    /// Mean of the per-genre track accuracies (genres with validation tracks only).
    pub balanced_track_accuracy: f64,
    /// Figures per genre.
    pub per_genre: Vec<GenreAccuracy>,
    /// Track confusion matrix: `confusion[true][predicted]`, in label order.
    pub confusion: Vec<Vec<usize>>,
}

/// Validation figures of one genre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenreAccuracy {
    /// Genre name.
    pub genre: String,
    /// Validation tracks of this genre.
    pub tracks: usize,
    /// Fraction of them classified right (absent with no tracks).
    pub track_accuracy: Option<f64>,
    /// Validation segments of this genre.
    pub segments: usize,
    /// Fraction of them classified right (absent with no segments).
    pub segment_accuracy: Option<f64>,
}
