//! The model card: everything needed to use a set of weights correctly (architecture,
//! labels, feature settings, input normalisation, a checksum of the weights) and what is
//! known about how good they are (data, split, training history, validation metrics).
//!
//! The trainer writes it beside the weights as `card.json`; the CLI and the browser read
//! it, check its feature settings against their extractor, and refuse a mismatch.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::features::FeatureSettings;
use crate::models::{AnnConfig, Architecture, CnnConfig, MusicnnConfig, RnnConfig};

/// Value of [`ModelCard::format`].
pub const CARD_FORMAT: &str = "genre-classifier model card";
/// Version of the card layout this crate reads and writes.
pub const CARD_VERSION: u32 = 1;
/// File name of the card in a model folder.
pub const CARD_FILE: &str = "card.json";
/// File name of the weights in a model folder.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// Most parameters a card's network may have: 16 times the largest shipped model (the
/// ann's million), 64 MB of f32.
pub const MAX_PARAMETERS: u64 = 1 << 24;
/// Largest single size in a card's network (a width, a filter count, a kernel), so that
/// no sum or product of a few of them overflows, even in 32-bit wasm.
pub const MAX_DIMENSION: usize = 1 << 20;
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
    /// How the model was trained and how well it did (absent for untrained test models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingReport>,
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

/// Checks that `architecture` describes a network that can be built and run: every
/// width, kernel and stride in `1..=`[`MAX_DIMENSION`], kernels within their input,
/// dropout in `[0, 1)`, and at most [`MAX_PARAMETERS`] parameters. A card is anyone's
/// JSON: this runs before anything else reads its sizes. Names the first problem.
pub fn check_network(architecture: &Architecture) -> Result<(), String> {
    let positive = |what: &str, value: usize| {
        if value == 0 {
            Err(format!("{what} must be positive"))
        } else if value > MAX_DIMENSION {
            Err(format!(
                "{what} is {value}; at most {MAX_DIMENSION} is supported"
            ))
        } else {
            Ok(())
        }
    };
    let dropout = |value: f64| {
        if (0.0..1.0).contains(&value) {
            Ok(())
        } else {
            Err(format!("dropout {value} is not in [0, 1)"))
        }
    };
    let l2 = |value: f64| {
        if value >= 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(format!("l2 {value} is not a non-negative number"))
        }
    };
    let ann = |c: &AnnConfig| -> Result<(), String> {
        positive("the input size", c.inputs)?;
        positive("the number of classes", c.classes)?;
        c.hidden
            .iter()
            .try_for_each(|&w| positive("a hidden layer's width", w))?;
        dropout(c.dropout)?;
        l2(c.l2)
    };
    match architecture {
        Architecture::Ann(c) | Architecture::AnnReg(c) => ann(c)?,
        Architecture::Cnn(c) => {
            positive("the number of frames", c.frames)?;
            positive("the number of coefficients", c.coefficients)?;
            positive("the number of classes", c.classes)?;
            positive("the dense layer's width", c.dense)?;
            for b in &c.blocks {
                let sizes = [b.channels, b.kernel[0], b.kernel[1], b.pool[0], b.pool[1]];
                sizes
                    .into_iter()
                    .chain(b.pool_stride)
                    .try_for_each(|v| positive("a convolution block's size", v))?;
            }
            dropout(c.dropout)?;
            cnn_flattened(c)?;
        }
        Architecture::Rnn(c) => {
            positive("the number of coefficients", c.coefficients)?;
            positive("the number of classes", c.classes)?;
            positive("the dense layer's width", c.dense)?;
            c.lstm
                .iter()
                .try_for_each(|&w| positive("an LSTM's width", w))?;
            dropout(c.dropout)?;
        }
        Architecture::Musicnn(c) => {
            let b = &c.backbone;
            for (what, value) in [
                ("frames", b.frames),
                ("mel bands", b.mels),
                ("timbral filters", b.timbral_filters),
                ("temporal filters", b.temporal_filters),
                ("mid-end filters", b.midend_filters),
                ("back-end units", b.backend_units),
                ("tags", b.tags),
            ] {
                positive(&format!("musicnn's {what}"), value)?;
            }
            if b.timbral_widths().contains(&0) {
                return Err(format!(
                    "musicnn needs at least 3 mel bands for its timbral kernels, the card has {}",
                    b.mels
                ));
            }
            ann(&c.head)?;
        }
    }
    let parameters = network_parameters(architecture)
        .ok_or_else(|| "the network's parameter count overflows".to_string())?;
    if parameters > MAX_PARAMETERS {
        return Err(format!(
            "the {} network has {parameters} parameters; at most {MAX_PARAMETERS} are supported",
            architecture.name()
        ));
    }
    Ok(())
}

/// The number of parameters of the network `architecture` describes (what burn's
/// `num_params` counts once it is built), without building it; `None` on overflow.
pub fn network_parameters(architecture: &Architecture) -> Option<u64> {
    match architecture {
        Architecture::Ann(c) | Architecture::AnnReg(c) => ann_parameters(c),
        Architecture::Cnn(c) => cnn_parameters(c),
        Architecture::Rnn(c) => rnn_parameters(c),
        Architecture::Musicnn(c) => {
            musicnn_parameters(&c.backbone)?.checked_add(ann_parameters(&c.head)?)
        }
    }
}

/// Parameters of a dense layer with bias.
fn linear(inputs: usize, outputs: usize) -> Option<u64> {
    (inputs as u64)
        .checked_mul(outputs as u64)?
        .checked_add(outputs as u64)
}

/// Adds up parameter counts, `None` on overflow.
fn total(counts: impl IntoIterator<Item = Option<u64>>) -> Option<u64> {
    counts
        .into_iter()
        .try_fold(0u64, |sum, count| sum.checked_add(count?))
}

fn ann_parameters(c: &AnnConfig) -> Option<u64> {
    let mut widths = vec![c.inputs];
    widths.extend(&c.hidden);
    let last = widths.last().copied().unwrap_or(c.inputs);
    total(
        widths
            .windows(2)
            .map(|w| linear(w[0], w[1]))
            .chain([linear(last, c.classes)]),
    )
}

/// The size of the CNN's flattened output, checking that every block fits its input.
fn cnn_flattened(c: &CnnConfig) -> Result<u64, String> {
    let (mut h, mut w) = (c.frames, c.coefficients);
    for (i, b) in c.blocks.iter().enumerate() {
        if b.pool_stride.contains(&0) {
            return Err(format!(
                "convolution block {i}: its pool stride must be positive"
            ));
        }
        if b.kernel[0] > h || b.kernel[1] > w {
            return Err(format!(
                "convolution block {i}: its {}x{} kernel is larger than its {h}x{w} input",
                b.kernel[0], b.kernel[1]
            ));
        }
        // A valid convolution, then a 'same' pool: ceil((size - kernel + 1) / stride).
        h = (h - b.kernel[0] + 1).div_ceil(b.pool_stride[0]);
        w = (w - b.kernel[1] + 1).div_ceil(b.pool_stride[1]);
    }
    let channels = c.blocks.last().map_or(1, |b| b.channels);
    (h as u64)
        .checked_mul(w as u64)
        .and_then(|hw| hw.checked_mul(channels as u64))
        .ok_or_else(|| "the flattened convolution output overflows".to_string())
}

fn cnn_parameters(c: &CnnConfig) -> Option<u64> {
    let mut inputs = 1usize;
    let mut counts = Vec::new();
    for b in &c.blocks {
        let kernel = (b.kernel[0] as u64).checked_mul(b.kernel[1] as u64)?;
        let weights = (inputs as u64)
            .checked_mul(b.channels as u64)?
            .checked_mul(kernel)?;
        // Convolution weights and bias; batch norm scale, shift and running statistics.
        counts.push(weights.checked_add(5 * b.channels as u64));
        inputs = b.channels;
    }
    let flattened = usize::try_from(cnn_flattened(c).ok()?).ok()?;
    counts.push(linear(flattened, c.dense));
    counts.push(linear(c.dense, c.classes));
    total(counts)
}

fn rnn_parameters(c: &RnnConfig) -> Option<u64> {
    let mut width = c.coefficients;
    let mut counts = Vec::new();
    for &hidden in &c.lstm {
        // Four gates, each a dense layer of the input and one of the hidden state.
        let gate = linear(width, hidden)?.checked_add(linear(hidden, hidden)?);
        counts.push(gate.and_then(|g| g.checked_mul(4)));
        width = hidden;
    }
    counts.push(linear(width, c.dense));
    counts.push(linear(c.dense, c.classes));
    total(counts)
}

/// musicnn's layout (see `models::musicnn`): time kernels of 7 in the timbral blocks and
/// the mid end, 128, 64 and 32 in the temporal blocks; every batch norm folded into a
/// scale and a shift.
fn musicnn_parameters(c: &MusicnnConfig) -> Option<u64> {
    let conv = |inputs: usize, filters: usize, kernel: u64| {
        (inputs as u64)
            .checked_mul(filters as u64)?
            .checked_mul(kernel)?
            // Bias, then the folded batch norm's scale and shift.
            .checked_add(3 * filters as u64)
    };
    let mut counts = vec![Some(2)];
    for width in c.timbral_widths() {
        counts.push(conv(1, c.timbral_filters, 7u64.checked_mul(width as u64)?));
    }
    for length in [128, 64, 32] {
        counts.push(conv(1, c.temporal_filters, length));
    }
    counts.push(conv(c.frontend_channels(), c.midend_filters, 7));
    counts.push(conv(c.midend_filters, c.midend_filters, 7));
    counts.push(conv(c.midend_filters, c.midend_filters, 7));
    counts.push((c.embedding_size() as u64).checked_mul(2));
    counts.push(linear(c.embedding_size(), c.backend_units));
    counts.push((c.backend_units as u64).checked_mul(2));
    counts.push(linear(c.backend_units, c.tags));
    total(counts)
}

#[cfg(test)]
mod tests {
    use burn::module::Module;

    use super::*;
    use crate::models::{
        BackboneSource, ConvBlockConfig, MusicnnGenreConfig, TagPrior, cpu_device, default_head,
    };

    fn musicnn(backbone: MusicnnConfig) -> Architecture {
        let pooled = backbone.embedding_size();
        Architecture::Musicnn(MusicnnGenreConfig {
            backbone,
            source: BackboneSource::msd_musicnn(""),
            head: default_head(pooled, 10),
            tag_prior: TagPrior::gtzan(0.5),
        })
    }

    #[test]
    fn parameter_counts_are_those_of_the_built_networks() {
        let device = cpu_device();
        let mut architectures: Vec<Architecture> = ["ann", "ann-reg", "cnn", "rnn"]
            .into_iter()
            .filter_map(|name| Architecture::tutorial(name, 130, 13, 10))
            .collect();
        architectures.push(musicnn(MusicnnConfig::msd()));
        architectures.push(musicnn(MusicnnConfig {
            frames: 8,
            mels: 5,
            timbral_filters: 2,
            temporal_filters: 3,
            midend_filters: 2,
            backend_units: 4,
            tags: 50,
        }));
        for architecture in &architectures {
            check_network(architecture).unwrap();
            assert_eq!(
                network_parameters(architecture),
                Some(architecture.init(&device).num_params() as u64),
                "{}",
                architecture.name()
            );
        }
    }

    #[test]
    fn networks_that_cannot_be_built_are_named() {
        let refused = |architecture: &Architecture, needle: &str| {
            let err = check_network(architecture).unwrap_err();
            assert!(err.contains(needle), "{err}");
        };
        let Some(Architecture::Cnn(cnn)) = Architecture::tutorial("cnn", 130, 13, 10) else {
            unreachable!()
        };
        let block = |kernel, pool_stride| ConvBlockConfig {
            channels: 4,
            kernel,
            pool: [2, 2],
            pool_stride,
        };
        let with_block = |b| {
            Architecture::Cnn(CnnConfig {
                blocks: vec![b],
                ..cnn.clone()
            })
        };
        refused(&with_block(block([3, 3], [0, 2])), "must be positive");
        refused(&with_block(block([3, 14], [2, 2])), "larger than");
        refused(
            &Architecture::Cnn(CnnConfig {
                dropout: 1.0,
                ..cnn.clone()
            }),
            "dropout",
        );
        let mut ann = AnnConfig::tutorial(1690, 10);
        ann.hidden = vec![1 << 20, 1 << 20];
        refused(&Architecture::Ann(ann.clone()), "parameters");
        ann.hidden = vec![usize::MAX];
        refused(&Architecture::Ann(ann), "at most");
        let mut tiny = MusicnnConfig::msd();
        tiny.mels = 2;
        refused(&musicnn(tiny), "3 mel bands");
        let mut huge = MusicnnConfig::msd();
        huge.timbral_filters = usize::MAX / 2;
        refused(&musicnn(huge), "at most");
    }
}
