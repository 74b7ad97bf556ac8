//! Weights + card → a [`Classifier`]: feature segments in, genre probabilities per
//! segment and for the whole song out. The CLI, the trainer's evaluation and the browser
//! run this same code.
//!
//! One path for every model: segment features → [`Classifier::embed`] (a backbone, or
//! the features themselves) → [`Classifier::head`] (normalise, head, prior) → a
//! [`SongAccumulator`] ([`Classifier::new_song`], [`Classifier::add_to_song`]) → the
//! song's [`Classification`]. Embeddings are what a caller keeps per song.
//!
//! A model with a pretrained backbone also trains a model of other labels on its
//! embeddings, in memory: [`Classifier::train_linear_head`] gives the new model's card
//! and weights ([`ModelFiles`]).

mod calibration;
mod error;
mod own_model;
mod own_training;
mod song;
mod verdict;
mod weights;

use burn::prelude::*;

pub use calibration::{Calibration, DEFAULT_UNSURE_BELOW, scale_by_temperature};
pub use error::ModelError;
pub use own_model::{
    HeadTraining, LabelledEmbeddings, MAX_LABEL_CHARS, MAX_OWN_LABELS, ModelFiles, OwnModelError,
};
pub use own_training::{
    CrossValidation, LabelScore, MAX_FOLDS, MAX_OWN_SONGS, MIN_SONGS_FOR_SCORE, OwnLabelsRecord,
    OwnTrainer, TrainingStep, VALID_EVERY,
};
pub use song::{SegmentOutput, SongAccumulator, TOP_TAGS};
pub use verdict::{Classification, GenreProbabilities, SegmentVerdict, TagScore, argmax};
pub use weights::{META_ARCHITECTURE, META_FEATURES, META_LABELS, META_WEIGHT_PRECISION};

use crate::card::ModelCard;
use crate::features::{FeatureSettings, SegmentFeatures};
use crate::models::Network;

/// Reads a model folder (`card.json` and the weights file it names) and loads it.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_model_dir(dir: &std::path::Path, device: &Device) -> Result<Classifier, ModelError> {
    let card_path = dir.join(crate::card::CARD_FILE);
    let name = |p: &std::path::Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    // A file larger than any model could be is refused before it is read.
    let check_size = |p: &std::path::Path, max: u64| match std::fs::metadata(p) {
        Ok(m) if m.len() > max => Err(ModelError::TooLarge {
            what: format!("file {}", p.display()),
            bytes: m.len(),
            max,
        }),
        _ => Ok(()),
    };
    check_size(&card_path, crate::card::MAX_CARD_BYTES)?;
    let card_json =
        std::fs::read_to_string(&card_path).map_err(|e| ModelError::Card(name(&card_path, &e)))?;
    let card = ModelCard::parse(&card_json).map_err(|e| ModelError::Card(name(&card_path, &e)))?;
    let weights_path = dir.join(&card.weights.file);
    check_size(&weights_path, crate::card::MAX_WEIGHTS_BYTES)?;
    let weights = std::fs::read(&weights_path).map_err(|e| ModelError::CorruptWeights {
        bytes: 0,
        reason: name(&weights_path, &e),
    })?;
    Classifier::load(&card_json, &weights, device).map_err(|e| match e {
        ModelError::CorruptWeights { bytes, reason } => ModelError::CorruptWeights {
            bytes,
            reason: name(&weights_path, &reason),
        },
        ModelError::ForeignWeights(m) => ModelError::ForeignWeights(name(&weights_path, &m)),
        ModelError::WeightsMismatch { .. } => ModelError::ForeignWeights(name(&weights_path, &e)),
        other => other,
    })
}

/// Softmax probabilities of a batch of normalised head inputs `[batch, rows, width]`,
/// flat: `batch × classes` values.
pub fn probabilities(network: &Network, inputs: Tensor<3>) -> Result<Vec<f32>, ModelError> {
    burn::tensor::activation::softmax(network.forward(inputs), 1)
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| ModelError::Network(format!("{e:?}")))
}

/// Head inputs per forward pass: bounds memory on long songs.
const HEAD_BATCH: usize = 64;

/// A loaded model, ready to classify feature segments.
#[derive(Debug)]
pub struct Classifier {
    card: ModelCard,
    network: Network,
    device: Device,
}

impl Classifier {
    /// Loads a model from its card (JSON text) and weights (burnpack bytes), refusing
    /// weights that are corrupt, truncated, or made for other labels or settings.
    pub fn load(card_json: &str, weights: &[u8], device: &Device) -> Result<Self, ModelError> {
        let card = ModelCard::parse(card_json)?;
        let network = weights::load_network(&card, weights, device)?;
        Ok(Self::from_network(card, network, device))
    }

    /// Wraps a network fresh from training with its card.
    pub fn from_network(card: ModelCard, network: Network, device: &Device) -> Self {
        Self {
            card,
            network,
            device: device.clone(),
        }
    }

    /// The network's weights as burnpack bytes, with labels, features and architecture
    /// recorded in the metadata (int8 kernels where the architecture stores them so).
    pub fn export_weights(network: &Network, card: &ModelCard) -> Result<Vec<u8>, ModelError> {
        weights::export_weights(network, card)
    }

    /// The model card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Checks that features computed with `settings` are what the model was trained on.
    pub fn check_features(&self, settings: &FeatureSettings) -> Result<(), ModelError> {
        let differences = self.card.features.differences(settings);
        if differences.is_empty() {
            Ok(())
        } else {
            Err(ModelError::FeatureMismatch(differences))
        }
    }

    /// Values of one segment's embedding (see [`embed`](Self::embed)).
    pub fn embedding_size(&self) -> usize {
        self.card.architecture.embedding_size(&self.card.features)
    }

    /// What this model's embeddings depend on: models with the same key can share a
    /// song's embeddings.
    pub fn embedding_key(&self) -> String {
        self.card.architecture.embedding_key(&self.card.features)
    }

    /// Whether [`embed`](Self::embed) runs a backbone (worth spreading over workers)
    /// rather than passing the features through.
    pub fn has_backbone(&self) -> bool {
        self.card.architecture.has_backbone()
    }

    /// Each segment's embedding, concatenated ([`embedding_size`](Self::embedding_size)
    /// values each): a backbone's output, or the segment's features themselves.
    pub fn embed(&self, segments: &[SegmentFeatures]) -> Result<Vec<f32>, ModelError> {
        let features = &self.card.features;
        let (frames, width) = (features.frames_per_segment(), features.coefficients());
        if let Some(s) = segments
            .iter()
            .find(|s| s.features.frames != frames || s.features.width != width)
        {
            return Err(ModelError::SegmentShape {
                frames: s.features.frames,
                coefficients: s.features.width,
            });
        }
        let values: Vec<f32> = segments
            .iter()
            .flat_map(|s| s.features.data.iter().copied())
            .collect();
        self.embed_values(&values)
    }

    /// Embeddings of segments given as their features' values, concatenated
    /// (`frames × width` each, frame-major).
    pub fn embed_values(&self, features: &[f32]) -> Result<Vec<f32>, ModelError> {
        let settings = &self.card.features;
        let (frames, width) = (settings.frames_per_segment(), settings.coefficients());
        let size = frames * width;
        if size == 0 || !features.len().is_multiple_of(size) {
            return Err(ModelError::SegmentData(format!(
                "{} feature values do not make segments of {frames}x{width}",
                features.len()
            )));
        }
        let mut out = Vec::with_capacity(features.len() / size * self.embedding_size());
        for batch in features.chunks(self.card.architecture.embed_batch() * size) {
            let count = batch.len() / size;
            let input = Tensor::<3>::from_data(
                TensorData::new(batch.to_vec(), [count, frames, width]),
                &self.device,
            );
            let embedded = self.network.embed(input).into_data();
            out.extend(
                embedded
                    .try_to_vec::<f32>()
                    .map_err(|e| ModelError::Network(format!("{e:?}")))?,
            );
        }
        Ok(out)
    }

    /// Each segment's outputs from its embedding (as [`embed`](Self::embed) gives them,
    /// concatenated): genre probabilities in label order (head and prior) and tags.
    pub fn head(&self, embeddings: &[f32]) -> Result<Vec<SegmentOutput>, ModelError> {
        let size = self.embedding_size();
        if embeddings.is_empty() || !embeddings.len().is_multiple_of(size) {
            return Err(ModelError::SegmentData(format!(
                "{} embedding values do not make whole segments of {size}",
                embeddings.len()
            )));
        }
        let mut out = Vec::with_capacity(embeddings.len() / size);
        for batch in embeddings.chunks(HEAD_BATCH * size) {
            out.extend(self.head_batch(batch, size)?);
        }
        Ok(out)
    }

    /// [`head`](Self::head) over one batch of whole embeddings of `size` values.
    fn head_batch(&self, batch: &[f32], size: usize) -> Result<Vec<SegmentOutput>, ModelError> {
        let architecture = &self.card.architecture;
        let [rows, width] = architecture.head_input(&self.card.features);
        let tags = architecture.tag_names().len();
        let count = batch.len() / size;
        let mut data = Vec::with_capacity(count * rows * width);
        for segment in batch.chunks_exact(size) {
            data.extend_from_slice(&segment[..rows * width]);
        }
        self.card.normalization.apply(&mut data);
        let input =
            Tensor::<3>::from_data(TensorData::new(data, [count, rows, width]), &self.device);
        let values = probabilities(&self.network, input)?;
        let classes = self.card.labels.len();
        Ok(values
            .chunks(classes)
            .zip(batch.chunks_exact(size))
            .map(|(p, embedding)| {
                let mut probabilities = p.to_vec();
                architecture.apply_prior(&self.card.labels, &mut probabilities, embedding);
                SegmentOutput {
                    probabilities,
                    tags: embedding[size - tags..].to_vec(),
                }
            })
            .collect())
    }

    /// A song whose segments start at `starts` (seconds), to add segments to as their
    /// embeddings are known.
    pub fn new_song(&self, starts: Vec<f64>) -> SongAccumulator {
        let architecture = &self.card.architecture;
        SongAccumulator::new(self.card.labels.clone(), architecture.tag_names(), starts)
            .with_calibration(self.card.calibration.unwrap_or_default())
            .with_tag_labels(architecture.tag_labels(&self.card.labels))
    }

    /// Adds the segments from `first` on, given by their embeddings (concatenated), to
    /// `song`; returns their verdicts.
    pub fn add_to_song(
        &self,
        song: &mut SongAccumulator,
        first: usize,
        embeddings: &[f32],
    ) -> Result<Vec<SegmentVerdict>, ModelError> {
        self.head(embeddings)?
            .into_iter()
            .enumerate()
            .map(|(k, output)| song.add(first + k, output))
            .collect()
    }

    /// Genre probabilities (label order) of each segment.
    pub fn segment_probabilities(
        &self,
        segments: &[SegmentFeatures],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        if segments.is_empty() {
            return Ok(Vec::new());
        }
        let outputs = self.head(&self.embed(segments)?)?;
        Ok(outputs.into_iter().map(|o| o.probabilities).collect())
    }

    /// Classifies a whole song from its segments, through the same stream as the page:
    /// embed, add every segment to a [`SongAccumulator`], take its result.
    pub fn classify(&self, segments: &[SegmentFeatures]) -> Result<Classification, ModelError> {
        if segments.is_empty() {
            return Err(ModelError::NoSegments);
        }
        let embeddings = self.embed(segments)?;
        let starts = segments
            .iter()
            .map(|s| s.span.start_seconds(&self.card.features))
            .collect();
        let mut song = self.new_song(starts);
        self.add_to_song(&mut song, 0, &embeddings)?;
        song.result()
    }
}
