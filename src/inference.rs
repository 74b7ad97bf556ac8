//! Weights + card → a [`Classifier`]: feature segments in, genre probabilities per
//! segment and for the whole song out. The CLI and the browser run this same code.
//!
//! One path for every model: segment features → [`Classifier::embeddings`] (musicnn's
//! backbone; the features themselves for the tutorial networks) →
//! [`Classifier::probabilities_of_embeddings`] (normalise, network or head, tag prior) →
//! [`Classifier::verdict`]. Embeddings are what a caller keeps per song.

use burn::prelude::*;
use burn::store::burn_pack::{Bytes, Reader, Writer};
use burn::store::{BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::card::{
    CARD_FORMAT, CARD_VERSION, MAX_CARD_BYTES, MAX_WEIGHTS_BYTES, ModelCard, sha256_hex,
};
use crate::features::{FeatureKind, FeatureSettings, SegmentFeatures};
use crate::models::{
    Architecture, Int8Dequantizer, Int8Scales, META_INT8_SCALES, MSD_TAGS, Network,
    check_int8_scales, quantize_int8,
};

/// Burnpack metadata key holding the labels (JSON) the weights were trained for.
pub const META_LABELS: &str = "genre-classifier.labels";
/// Burnpack metadata key holding the feature settings (JSON) the weights were trained on.
pub const META_FEATURES: &str = "genre-classifier.features";
/// Burnpack metadata key holding the architecture (JSON) of the weights.
pub const META_ARCHITECTURE: &str = "genre-classifier.architecture";
/// Burnpack metadata key saying how convolution and dense weights are stored: `"int8"`
/// (musicnn: a quarter of the f32 download, scales under
/// [`crate::models::META_INT8_SCALES`], dequantised at load), `"f16"` (musicnn's earlier
/// weights, widened back at load), `"f32"` or absent.
pub const META_WEIGHT_PRECISION: &str = "genre-classifier.weight-precision";

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
    check_size(&card_path, MAX_CARD_BYTES)?;
    let card_json =
        std::fs::read_to_string(&card_path).map_err(|e| ModelError::Card(name(&card_path, &e)))?;
    let card =
        Classifier::parse_card(&card_json).map_err(|e| ModelError::Card(name(&card_path, &e)))?;
    let weights_path = dir.join(&card.weights.file);
    check_size(&weights_path, MAX_WEIGHTS_BYTES)?;
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

/// Softmax probabilities of a batch of normalised segments `[batch, frames,
/// coefficients]`, flat: `batch × classes` values.
pub fn probabilities(network: &Network, segments: Tensor<3>) -> Result<Vec<f32>, ModelError> {
    burn::tensor::activation::softmax(network.forward(segments), 1)
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| ModelError::Network(format!("{e:?}")))
}

/// The key of features computed with `settings`: equal for equal settings.
pub fn feature_key(settings: &FeatureSettings) -> String {
    let json = serde_json::to_string(settings).unwrap_or_default();
    format!("features:{}", &sha256_hex(json.as_bytes())[..16])
}

/// Index of the largest value (the first of equals); 0 when empty.
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 { (i, x) } else { best }
        })
        .0
}

/// Segments per forward pass: bounds memory on long songs.
const BATCH: usize = 64;

/// Patches per pass of musicnn's backbone: its timbral layers hold 204 × 187 × 59 values
/// (9 MB) per patch.
const BACKBONE_BATCH: usize = 2;

/// Tags listed with a musicnn verdict.
pub const TOP_TAGS: usize = 5;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The card is not JSON, not a model card, or malformed.
    #[error("model card is not valid: {0}")]
    Card(String),
    /// The card's parts contradict each other.
    #[error("model card is inconsistent: {0}")]
    Inconsistent(String),
    /// Per-segment data passed to the classifier do not fit together.
    #[error("segment data do not fit together: {0}")]
    SegmentData(String),
    /// The weights bytes are not a readable burnpack file.
    #[error("weights file is corrupt or truncated ({bytes} bytes): {reason}")]
    CorruptWeights {
        /// Size of what was given.
        bytes: usize,
        /// What the reader said.
        reason: String,
    },
    /// The weights were made for another model (labels, features or architecture).
    #[error("weights file is for another model: {0}")]
    ForeignWeights(String),
    /// A card or weights file larger than any model could be; refused before parsing.
    #[error("the {what} is {bytes} bytes; at most {max} are supported")]
    TooLarge {
        /// Which file (with its path, when read from disk).
        what: String,
        /// Its size.
        bytes: u64,
        /// The limit ([`crate::card::MAX_CARD_BYTES`] or [`crate::card::MAX_WEIGHTS_BYTES`]).
        max: u64,
    },
    /// The weights' checksum or size differ from what the card records.
    #[error(
        "weights file does not match its card (expected {expected_bytes} bytes, sha256 {expected_sha256}; got {bytes} bytes, sha256 {sha256}): it is corrupt or from another training run"
    )]
    WeightsMismatch {
        /// Size recorded in the card.
        expected_bytes: u64,
        /// Checksum recorded in the card.
        expected_sha256: String,
        /// Size given.
        bytes: usize,
        /// Checksum of what was given.
        sha256: String,
    },
    /// The card's feature settings differ from the extractor's.
    #[error("the model was trained on other feature settings: {}", .0.join("; "))]
    FeatureMismatch(Vec<String>),
    /// Segments do not have the shape the network takes.
    #[error("segments of {frames}x{coefficients} do not fit the network")]
    SegmentShape {
        /// Frames per segment given.
        frames: usize,
        /// Coefficients per frame given.
        coefficients: usize,
    },
    /// There was nothing to classify.
    #[error("no segments to classify")]
    NoSegments,
    /// The network failed to run or to export.
    #[error("network failed: {0}")]
    Network(String),
}

/// Genre → probability, in label order; serialises as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct GenreProbabilities(pub Vec<(String, f32)>);

impl GenreProbabilities {
    fn new(labels: &[String], values: &[f32]) -> Self {
        Self(labels.iter().cloned().zip(values.iter().copied()).collect())
    }

    /// The most probable genre (first of equals), or `""` if empty.
    pub fn top(&self) -> &str {
        let values: Vec<f32> = self.0.iter().map(|(_, p)| *p).collect();
        self.0.get(argmax(&values)).map_or("", |(g, _)| g.as_str())
    }

    /// Genres from most to least probable.
    pub fn ranked(&self) -> Vec<(String, f32)> {
        let mut ranked = self.0.clone();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }

    /// The probability of `genre`, if it is a label.
    pub fn get(&self, genre: &str) -> Option<f32> {
        self.0.iter().find(|(g, _)| g == genre).map(|(_, p)| *p)
    }
}

impl Serialize for GenreProbabilities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (genre, p) in &self.0 {
            map.serialize_entry(genre, p)?;
        }
        map.end()
    }
}

/// The verdict on one segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentVerdict {
    /// Where the segment starts in the song, in seconds.
    pub start_s: f64,
    /// Its most probable genre.
    pub genre: String,
    /// Its genre probabilities.
    pub probabilities: GenreProbabilities,
}

/// The verdict on a song: the mean of its segments' probabilities, and each segment's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The most probable genre of the song.
    pub genre: String,
    /// The song's genre probabilities.
    pub probabilities: GenreProbabilities,
    /// Per segment, in time order.
    pub segments: Vec<SegmentVerdict>,
    /// The song's strongest Million Song Dataset tags from musicnn's backbone (mean over
    /// segments, most probable first); empty for the tutorial networks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagScore>,
}

/// One of the backbone's tags with its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagScore {
    /// The tag's name (from [`MSD_TAGS`]).
    pub tag: String,
    /// Its probability, mean over the song's segments.
    pub probability: f32,
}

/// A loaded model, ready to classify MFCC segments.
#[derive(Debug)]
pub struct Classifier {
    card: ModelCard,
    network: Network,
    device: Device,
}

fn read_meta<T: serde::de::DeserializeOwned>(reader: &Reader, key: &str) -> Option<T> {
    reader
        .metadata()
        .get(key)
        .and_then(|v| serde_json::from_str(v).ok())
}

/// The shape and dtype of the first float parameter of `network` that is not f32, if
/// any. burn keeps a loaded tensor in the dtype it was stored in, and the networks run in
/// f32: a file whose tensors are f16 while its metadata says f32 (or whose adapter skips
/// them) would load, then panic in the first matmul.
fn first_non_f32(network: &Network) -> Option<String> {
    struct Check(Option<String>);
    impl burn::module::ModuleVisitor for Check {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let value = param.val();
            if self.0.is_none() && value.dtype() != burn::tensor::DType::F32 {
                self.0 = Some(format!("{:?} ({:?})", value.dims(), value.dtype()));
            }
        }
    }
    let mut check = Check(None);
    network.visit(&mut check);
    check.0
}

impl Classifier {
    /// Parses a card, checking that it is one and that its parts agree.
    pub fn parse_card(card_json: &str) -> Result<ModelCard, ModelError> {
        if card_json.len() as u64 > MAX_CARD_BYTES {
            return Err(ModelError::TooLarge {
                what: "model card".into(),
                bytes: card_json.len() as u64,
                max: MAX_CARD_BYTES,
            });
        }
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
        let card: ModelCard =
            serde_json::from_value(value).map_err(|e| ModelError::Card(e.to_string()))?;
        card.features
            .validate()
            .map_err(|e| ModelError::Card(e.to_string()))?;
        crate::card::check_network(&card.architecture).map_err(ModelError::Card)?;
        if card.weights.bytes > MAX_WEIGHTS_BYTES {
            return Err(ModelError::TooLarge {
                what: "weights file the card names".into(),
                bytes: card.weights.bytes,
                max: MAX_WEIGHTS_BYTES,
            });
        }
        let frames = card.features.frames_per_segment();
        let coefficients = card.features.coefficients();
        if card.labels.len() != card.architecture.classes() {
            return Err(ModelError::Inconsistent(format!(
                "{} labels but the network has {} outputs",
                card.labels.len(),
                card.architecture.classes()
            )));
        }
        if !card.architecture.accepts(frames, coefficients) {
            return Err(ModelError::Inconsistent(format!(
                "the {} network does not take {frames}x{coefficients} segments",
                card.architecture.name()
            )));
        }
        let width = card.architecture.normalized_width(coefficients);
        if card.normalization.mean.len() != width || card.normalization.std.len() != width {
            return Err(ModelError::Inconsistent(format!(
                "normalisation has {}/{} values for {width} inputs",
                card.normalization.mean.len(),
                card.normalization.std.len()
            )));
        }
        if let Architecture::Musicnn(config) = &card.architecture {
            if card.features.kind != FeatureKind::LogMel {
                return Err(ModelError::Inconsistent(
                    "the musicnn network takes log-mel features, the card names MFCCs".into(),
                ));
            }
            config
                .tag_prior
                .validate(&card.labels)
                .map_err(ModelError::Inconsistent)?;
        }
        if card
            .normalization
            .std
            .iter()
            .any(|s| s.is_nan() || *s <= 0.0)
        {
            return Err(ModelError::Inconsistent(
                "normalisation has a standard deviation that is not positive".into(),
            ));
        }
        Ok(card)
    }

    /// Loads a model from its card (JSON text) and weights (burnpack bytes), refusing
    /// weights that are corrupt, truncated, or made for other labels or settings.
    pub fn load(card_json: &str, weights: &[u8], device: &Device) -> Result<Self, ModelError> {
        let card = Self::parse_card(card_json)?;
        if weights.len() as u64 > MAX_WEIGHTS_BYTES {
            return Err(ModelError::TooLarge {
                what: "weights file".into(),
                bytes: weights.len() as u64,
                max: MAX_WEIGHTS_BYTES,
            });
        }
        let bytes = Bytes::from_bytes_vec(weights.to_vec());
        let corrupt = |reason: String| ModelError::CorruptWeights {
            bytes: weights.len(),
            reason,
        };
        let reader = Reader::from_bytes(bytes.clone()).map_err(|e| corrupt(e.to_string()))?;
        if let Some(labels) = read_meta::<Vec<String>>(&reader, META_LABELS)
            && labels != card.labels
        {
            return Err(ModelError::ForeignWeights(format!(
                "they were trained for the labels [{}], the card lists [{}]",
                labels.join(", "),
                card.labels.join(", ")
            )));
        }
        if let Some(features) = read_meta::<FeatureSettings>(&reader, META_FEATURES) {
            let differences = card.features.differences(&features);
            if !differences.is_empty() {
                return Err(ModelError::ForeignWeights(format!(
                    "they were trained on other feature settings than the card's: {}",
                    differences.join("; ")
                )));
            }
        }
        if let Some(arch) = read_meta::<crate::models::Architecture>(&reader, META_ARCHITECTURE)
            && arch != card.architecture
        {
            return Err(ModelError::ForeignWeights(format!(
                "they are for a {} network, the card describes a {} network of another shape",
                arch.name(),
                card.architecture.name()
            )));
        }
        let sha256 = sha256_hex(weights);
        if weights.len() as u64 != card.weights.bytes || sha256 != card.weights.sha256 {
            return Err(ModelError::WeightsMismatch {
                expected_bytes: card.weights.bytes,
                expected_sha256: card.weights.sha256.clone(),
                bytes: weights.len(),
                sha256,
            });
        }
        let precision = reader.metadata().get(META_WEIGHT_PRECISION).cloned();
        // Every parameter takes at least one byte (int8): a card that claims more than its
        // weights can hold is refused before its network is allocated.
        let parameters = crate::card::network_parameters(&card.architecture).unwrap_or(u64::MAX);
        if parameters > weights.len() as u64 {
            return Err(corrupt(format!(
                "the card's {} network has {parameters} parameters, more than the weights hold",
                card.architecture.name()
            )));
        }
        let mut network = card.architecture.init(device);
        let mut store = BurnpackStore::from_bytes(Some(bytes.clone()));
        match precision.as_deref() {
            Some("f16") => store = store.with_from_adapter(HalfPrecisionAdapter::new()),
            Some("int8") => {
                let scales: Int8Scales = read_meta(&reader, META_INT8_SCALES).ok_or_else(|| {
                    corrupt("int8 weights without readable scales in their metadata".into())
                })?;
                let tensors = Reader::from_bytes(bytes)
                    .and_then(Reader::into_tensors)
                    .map_err(|e| corrupt(e.to_string()))?;
                check_int8_scales(&scales, &tensors).map_err(corrupt)?;
                store = store.with_from_adapter(Int8Dequantizer::new(scales));
            }
            Some("f32") | None => {}
            Some(other) => return Err(corrupt(format!("unknown weight precision “{other}”"))),
        }
        network
            .load_from(&mut store)
            .map_err(|e| corrupt(e.to_string()))?;
        if let Some(tensor) = first_non_f32(&network) {
            return Err(corrupt(format!(
                "a tensor of shape {tensor} is stored in another precision than the file's metadata says"
            )));
        }
        Ok(Self {
            card,
            network,
            device: device.clone(),
        })
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
    /// recorded in the metadata.
    pub fn export_weights(network: &Network, card: &ModelCard) -> Result<Vec<u8>, ModelError> {
        let json = |v: Result<String, serde_json::Error>| {
            v.map_err(|e| ModelError::Network(e.to_string()))
        };
        // Tensors without their random parameter ids, so the same training gives the
        // same file byte for byte.
        // musicnn's convolution and dense weights go to int8 with a scale per output
        // channel (its biases and batch norms stay f32): a quarter of the f32 download, at
        // a validation cost measured in the README.
        let int8 = matches!(card.architecture, Architecture::Musicnn(_));
        let tensors: Vec<_> = network
            .collect(None, None, false)
            .into_iter()
            .map(|mut t| {
                t.param_id = None;
                t
            })
            .collect();
        let (tensors, scales) = if int8 {
            quantize_int8(tensors).map_err(ModelError::Network)?
        } else {
            (tensors, Int8Scales::new())
        };
        let mut writer = Writer::new(tensors);
        if int8 {
            writer = writer.with_metadata(META_INT8_SCALES, &json(serde_json::to_string(&scales))?);
        }
        let bytes = writer
            .with_metadata(META_LABELS, &json(serde_json::to_string(&card.labels))?)
            .with_metadata(META_FEATURES, &json(serde_json::to_string(&card.features))?)
            .with_metadata(
                META_ARCHITECTURE,
                &json(serde_json::to_string(&card.architecture))?,
            )
            .with_metadata(META_WEIGHT_PRECISION, if int8 { "int8" } else { "f32" })
            .into_bytes()
            .map_err(|e| ModelError::Network(e.to_string()))?;
        Ok(bytes.to_vec())
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

    /// Values of one segment's embedding (see [`embeddings`](Self::embeddings)).
    pub fn embedding_size(&self) -> usize {
        match &self.card.architecture {
            Architecture::Musicnn(c) => c.embedding_size(),
            _ => self.card.features.values_per_segment(),
        }
    }

    /// What this model's embeddings depend on: models with the same key can share a
    /// song's embeddings (the feature settings, and musicnn's checkpoint).
    pub fn embedding_key(&self) -> String {
        let features = feature_key(&self.card.features);
        match &self.card.architecture {
            Architecture::Musicnn(c) => {
                format!("musicnn:{}:{features}", c.source.checkpoint_sha256)
            }
            _ => features,
        }
    }

    /// Each segment's embedding, concatenated: musicnn's pooled values and tag
    /// probabilities, or the segment's features themselves for the tutorial networks.
    pub fn embeddings(&self, segments: &[SegmentFeatures]) -> Result<Vec<f32>, ModelError> {
        let frames = self.card.features.frames_per_segment();
        let coefficients = self.card.features.coefficients();
        for segment in segments {
            let m = &segment.features;
            if m.frames != frames || m.width != coefficients {
                return Err(ModelError::SegmentShape {
                    frames: m.frames,
                    coefficients: m.width,
                });
            }
        }
        if !matches!(self.card.architecture, Architecture::Musicnn(_)) {
            return Ok(segments
                .iter()
                .flat_map(|s| s.features.data.iter().copied())
                .collect());
        }
        let mut out = Vec::with_capacity(segments.len() * self.embedding_size());
        for batch in segments.chunks(BACKBONE_BATCH) {
            let data: Vec<f32> = batch
                .iter()
                .flat_map(|s| s.features.data.iter().copied())
                .collect();
            let input = Tensor::<3>::from_data(
                TensorData::new(data, [batch.len(), frames, coefficients]),
                &self.device,
            );
            let embedded = self
                .network
                .embed(input)
                .ok_or_else(|| ModelError::Network("the network has no backbone".into()))?;
            out.extend(
                embedded
                    .into_data()
                    .try_to_vec::<f32>()
                    .map_err(|e| ModelError::Network(format!("{e:?}")))?,
            );
        }
        Ok(out)
    }

    /// Genre probabilities (label order) of each segment from its embedding (as
    /// [`embeddings`](Self::embeddings) gives them, concatenated).
    pub fn probabilities_of_embeddings(
        &self,
        embeddings: &[f32],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let size = self.embedding_size();
        if embeddings.is_empty() || !embeddings.len().is_multiple_of(size) {
            return Err(ModelError::SegmentData(format!(
                "{} embedding values do not make whole segments of {size}",
                embeddings.len()
            )));
        }
        let classes = self.card.labels.len();
        let (rows, width, tags) = match &self.card.architecture {
            Architecture::Musicnn(c) => (1, c.pooled_size(), c.backbone.tags),
            _ => (
                self.card.features.frames_per_segment(),
                self.card.features.coefficients(),
                0,
            ),
        };
        let mut out = Vec::with_capacity(embeddings.len() / size);
        for batch in embeddings.chunks(BATCH * size) {
            let count = batch.len() / size;
            let mut data = Vec::with_capacity(count * rows * width);
            for segment in batch.chunks_exact(size) {
                data.extend_from_slice(&segment[..rows * width]);
            }
            self.card.normalization.apply(&mut data);
            let input =
                Tensor::<3>::from_data(TensorData::new(data, [count, rows, width]), &self.device);
            let values = probabilities(&self.network, input)?;
            for (mut p, segment) in values
                .chunks(classes)
                .map(<[f32]>::to_vec)
                .zip(batch.chunks_exact(size))
            {
                if let Architecture::Musicnn(c) = &self.card.architecture {
                    c.tag_prior
                        .blend(&self.card.labels, &mut p, &segment[size - tags..]);
                }
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The song's strongest tags from its segments' embeddings (empty for networks
    /// without tags).
    pub fn song_tags(&self, embeddings: &[f32]) -> Vec<TagScore> {
        let Architecture::Musicnn(c) = &self.card.architecture else {
            return Vec::new();
        };
        let size = self.embedding_size();
        let count = embeddings.len() / size;
        if count == 0 {
            return Vec::new();
        }
        let mut mean = vec![0f32; c.backbone.tags];
        for segment in embeddings.chunks_exact(size) {
            for (m, t) in mean.iter_mut().zip(&segment[c.pooled_size()..]) {
                *m += t / count as f32;
            }
        }
        let mut ranked: Vec<TagScore> = MSD_TAGS
            .iter()
            .zip(mean)
            .map(|(tag, probability)| TagScore {
                tag: (*tag).to_string(),
                probability,
            })
            .collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        ranked.truncate(TOP_TAGS);
        ranked
    }

    /// Genre probabilities (label order) of each segment.
    pub fn segment_probabilities(
        &self,
        segments: &[SegmentFeatures],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        if segments.is_empty() {
            return Ok(Vec::new());
        }
        self.probabilities_of_embeddings(&self.embeddings(segments)?)
    }

    /// Classifies a song from its segments: each segment's verdict, and the song's as the
    /// mean of its segments' probabilities.
    pub fn classify(&self, segments: &[SegmentFeatures]) -> Result<Classification, ModelError> {
        if segments.is_empty() {
            return Err(ModelError::NoSegments);
        }
        let embeddings = self.embeddings(segments)?;
        let per_segment = self.probabilities_of_embeddings(&embeddings)?;
        let starts: Vec<f64> = segments
            .iter()
            .map(|s| s.span.start_seconds(&self.card.features))
            .collect();
        let mut verdict = self.verdict(&starts, &per_segment)?;
        verdict.tags = self.song_tags(&embeddings);
        Ok(verdict)
    }

    /// The song's verdict from its segments' start times (seconds) and probabilities (as
    /// [`segment_probabilities`](Self::segment_probabilities) gives them): each segment's
    /// top genre, and the song's probabilities as the mean over its segments.
    pub fn verdict(
        &self,
        starts: &[f64],
        per_segment: &[Vec<f32>],
    ) -> Result<Classification, ModelError> {
        let labels = &self.card.labels;
        if per_segment.is_empty() {
            return Err(ModelError::NoSegments);
        }
        if starts.len() != per_segment.len() || per_segment.iter().any(|p| p.len() != labels.len())
        {
            return Err(ModelError::SegmentData(format!(
                "{} start times for {} segments of {} genre probabilities",
                starts.len(),
                per_segment.len(),
                labels.len()
            )));
        }
        let mut mean = vec![0f32; labels.len()];
        for p in per_segment {
            for (m, x) in mean.iter_mut().zip(p) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= per_segment.len() as f32);
        let probabilities = GenreProbabilities::new(labels, &mean);
        let segments = starts
            .iter()
            .zip(per_segment)
            .map(|(&start_s, p)| {
                let probabilities = GenreProbabilities::new(labels, p);
                SegmentVerdict {
                    start_s,
                    genre: probabilities.top().to_owned(),
                    probabilities,
                }
            })
            .collect();
        Ok(Classification {
            genre: probabilities.top().to_owned(),
            probabilities,
            segments,
            tags: Vec::new(),
        })
    }
}
