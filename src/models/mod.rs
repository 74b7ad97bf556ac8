//! The networks as burn modules, and the only module that knows which exist. Outside
//! it every model has one shape: feature segments → [`Network::embed`] (a frozen
//! backbone, or the identity for the tutorial's networks) → an embedding per segment →
//! [`Network::forward`], the head, over the normalised part of the embedding
//! [`Architecture::head_input`] names → probabilities, blended with a prior from the
//! backbone's tags where it has them ([`Architecture::apply_prior`]).
//!
//! Each architecture's config owns its checks (`validate`), its parameter count
//! (`parameters`) and its `init`, in its own file; [`Architecture`] dispatches to them.
//!
//! A linear head fitted in plain Rust on a backbone's embeddings ([`fit_linear_head`],
//! both targets, no autodiff) becomes a model of its own labels through
//! [`Architecture::with_linear_head`] and [`Network::with_linear_head`].

mod ann;
mod cnn;
mod head_fit;
mod int8_weights;
mod limits;
mod musicnn;
mod musicnn_frontend;
mod musicnn_genre;
#[cfg(not(target_arch = "wasm32"))]
mod musicnn_wheel;
mod own_head;
mod rnn;
mod tag_map;
mod tf_checkpoint;
#[cfg(not(target_arch = "wasm32"))]
mod training;

pub use ann::{Ann, AnnConfig};
pub use cnn::{Cnn, CnnConfig, ConvBlock, ConvBlockConfig};
pub use head_fit::{
    FittedHead, HeadFitError, HeadFitOptions, HeadRows, LinearHead, balanced_class_weights,
    fit_linear_head, flatten_rows,
};
pub use int8_weights::{
    ChannelScales, Int8Dequantizer, Int8Scales, META_INT8_SCALES, check as check_int8_scales,
    quantize as quantize_int8,
};
pub use limits::{MAX_DIMENSION, MAX_PARAMETERS};
pub use musicnn::{
    FrontendFormulation, MSD_TAGS, Musicnn, MusicnnConfig, MusicnnFeatures, MusicnnOutput,
    MusicnnProfile, PenultimateLayer, StageInfo,
};
pub use musicnn_genre::{
    BackboneSource, GenreTags, MusicnnGenre, MusicnnGenreConfig, TagLabel, TagPrior, default_head,
};
#[cfg(not(target_arch = "wasm32"))]
pub use musicnn_wheel::{WheelError, fetch_wheel, read_checkpoint};
pub use rnn::{Rnn, RnnConfig};
pub use tag_map::{LearnedTagMap, softmax_in_place, standardised_log_odds};
pub use tf_checkpoint::{CheckpointError, TfCheckpoint};
#[cfg(not(target_arch = "wasm32"))]
#[allow(unused_imports)]
pub use training::*;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureSettings, feature_key};

/// The CPU device every model runs on, natively and in wasm: one place to pick the
/// backend. flex measured 2-7x faster than ndarray for these networks natively
/// (`cargo bench --bench backends`).
pub fn cpu_device() -> Device {
    Device::flex()
}

/// A dense layer's kernel (`[inputs, outputs]`, row-major) and bias (zeros if it has none)
/// as plain values.
pub(crate) fn linear_values(layer: &burn::nn::Linear) -> (Vec<f32>, Vec<f32>) {
    let values = |data: TensorData| data.try_to_vec::<f32>().unwrap_or_default();
    let outputs = layer.weight.dims()[1];
    let bias = layer
        .bias
        .as_ref()
        .map_or_else(|| vec![0.0; outputs], |b| values(b.val().into_data()));
    (values(layer.weight.val().into_data()), bias)
}

/// The models the page ships (under `www/models/<name>`), each with the label its model
/// selector shows, in the order it lists them; the first is the default everywhere.
pub const SHIPPED_MODELS: [(&str, &str); 5] = [
    ("musicnn", "musicnn (pretrained, best)"),
    ("cnn", "cnn (convolutional)"),
    ("rnn", "rnn (LSTM)"),
    ("ann", "ann (dense)"),
    ("ann-reg", "ann-reg (dense, regularised)"),
];

/// The default model's name: the first of [`SHIPPED_MODELS`].
pub const DEFAULT_MODEL: &str = SHIPPED_MODELS[0].0;

/// The architectures by name, as users pick them (`--model cnn`).
pub const ARCHITECTURE_NAMES: [&str; 5] = ["musicnn", "ann", "ann-reg", "cnn", "rnn"];

/// The tutorial's four architectures, trained from scratch on MFCCs (what
/// [`Architecture::tutorial`] builds).
pub const TUTORIAL_ARCHITECTURES: [&str; 4] = ["ann", "ann-reg", "cnn", "rnn"];

/// An architecture and its shape: the part of the model card that builds the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
// One per model and never in bulk, so the musicnn variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Architecture {
    /// Dense network.
    Ann(AnnConfig),
    /// Dense network with L2 and dropout.
    AnnReg(AnnConfig),
    /// Convolutional network.
    Cnn(CnnConfig),
    /// Recurrent (LSTM) network.
    Rnn(RnnConfig),
    /// musicnn's pretrained backbone with a genre head and tag prior.
    Musicnn(MusicnnGenreConfig),
}

impl Architecture {
    /// The tutorial's shape of architecture `name` (one of
    /// [`TUTORIAL_ARCHITECTURES`]) for segments of `frames × coefficients` and `classes`
    /// genres; `None` for other names (musicnn is built from its checkpoint instead).
    pub fn tutorial(
        name: &str,
        frames: usize,
        coefficients: usize,
        classes: usize,
    ) -> Option<Self> {
        Some(match name {
            "ann" => Self::Ann(AnnConfig::tutorial(frames * coefficients, classes)),
            "ann-reg" => Self::AnnReg(AnnConfig::tutorial_regularised(
                frames * coefficients,
                classes,
            )),
            "cnn" => Self::Cnn(CnnConfig::tutorial(frames, coefficients, classes)),
            "rnn" => Self::Rnn(RnnConfig::tutorial(coefficients, classes)),
            _ => return None,
        })
    }

    /// The architecture's name (one of [`ARCHITECTURE_NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ann(_) => "ann",
            Self::AnnReg(_) => "ann-reg",
            Self::Cnn(_) => "cnn",
            Self::Rnn(_) => "rnn",
            Self::Musicnn(_) => "musicnn",
        }
    }

    /// Number of genres the network outputs.
    pub fn classes(&self) -> usize {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.classes,
            Self::Cnn(c) => c.classes,
            Self::Rnn(c) => c.classes,
            Self::Musicnn(c) => c.head.classes,
        }
    }

    /// Whether the network accepts segments of `frames × coefficients`.
    pub fn accepts(&self, frames: usize, coefficients: usize) -> bool {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.inputs == frames * coefficients,
            Self::Cnn(c) => c.frames == frames && c.coefficients == coefficients,
            Self::Rnn(c) => c.coefficients == coefficients,
            Self::Musicnn(c) => {
                c.backbone.frames == frames
                    && c.backbone.mels == coefficients
                    && c.head.inputs == c.head_input_size()
            }
        }
    }

    /// Values per normalised input row: a segment frame's coefficients for the tutorial
    /// networks, the pooled embedding for musicnn (what the card's normalisation covers).
    pub fn normalized_width(&self, coefficients: usize) -> usize {
        match self {
            Self::Musicnn(c) => c.head_input_size(),
            _ => coefficients,
        }
    }

    /// L2 penalty factor on hidden weights (only `ann-reg` has one).
    pub fn l2(&self) -> f64 {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.l2,
            Self::Musicnn(c) => c.head.l2,
            _ => 0.0,
        }
    }

    /// Checks that the network can be built and run: every size in range, kernels
    /// within their input, dropout in `[0, 1)`, and at most [`MAX_PARAMETERS`]
    /// parameters. Names the first problem.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.validate(),
            Self::Cnn(c) => c.validate(),
            Self::Rnn(c) => c.validate(),
            Self::Musicnn(c) => c.validate(),
        }?;
        let parameters = self
            .parameters()
            .ok_or_else(|| "the network's parameter count overflows".to_string())?;
        if parameters > MAX_PARAMETERS {
            return Err(format!(
                "the {} network has {parameters} parameters; at most {MAX_PARAMETERS} are supported",
                self.name()
            ));
        }
        Ok(())
    }

    /// The number of parameters of the network (what burn's `num_params` counts once it
    /// is built), without building it; `None` on overflow.
    pub fn parameters(&self) -> Option<u64> {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.parameters(),
            Self::Cnn(c) => c.parameters(),
            Self::Rnn(c) => c.parameters(),
            Self::Musicnn(c) => c.parameters(),
        }
    }

    /// Checks what the network needs of a card's features and labels beyond their shape
    /// ([`accepts`](Self::accepts)), naming the first problem.
    pub fn check_card(&self, features: &FeatureSettings, labels: &[String]) -> Result<(), String> {
        match self {
            Self::Musicnn(c) => c.check_card(features, labels),
            _ => Ok(()),
        }
    }

    /// Values of one segment's embedding for segments computed with `features`: a
    /// backbone's pooled values and tag probabilities, or the features themselves.
    pub fn embedding_size(&self, features: &FeatureSettings) -> usize {
        match self {
            Self::Musicnn(c) => c.embedding_size(),
            _ => features.values_per_segment(),
        }
    }

    /// What this network's embeddings of `features` depend on: networks with the same
    /// key can share a song's embeddings.
    pub fn embedding_key(&self, features: &FeatureSettings) -> String {
        let features = feature_key(features);
        match self {
            Self::Musicnn(c) => format!("musicnn:{}:{features}", c.source.checkpoint_sha256),
            _ => features,
        }
    }

    /// Whether embedding runs a network (a backbone), rather than passing the features
    /// through: what is worth spreading over helper workers.
    pub fn has_backbone(&self) -> bool {
        matches!(self, Self::Musicnn(_))
    }

    /// Segments per pass of [`Network::embed`]: musicnn's timbral layers hold 204 × 187
    /// × 59 values (9 MB) per patch.
    pub fn embed_batch(&self) -> usize {
        match self {
            Self::Musicnn(_) => 2,
            _ => 64,
        }
    }

    /// The `[rows, width]` the head takes from the start of each embedding (normalised
    /// by the card): a segment's frames × coefficients, or musicnn's pooled values.
    pub fn head_input(&self, features: &FeatureSettings) -> [usize; 2] {
        match self {
            Self::Musicnn(c) => [1, c.head_input_size()],
            _ => [features.frames_per_segment(), features.coefficients()],
        }
    }

    /// Names of the tag probabilities that end each embedding (none for networks
    /// without tags).
    pub fn tag_names(&self) -> &'static [&'static str] {
        match self {
            Self::Musicnn(c) => &MSD_TAGS[..c.backbone.tags.min(MSD_TAGS.len())],
            _ => &[],
        }
    }

    /// For each of [`tag_names`](Self::tag_names), the label it speaks for, if any (see
    /// [`TagPrior::tag_labels`]); empty for networks without tags.
    pub fn tag_labels(&self, labels: &[String]) -> Vec<Option<TagLabel>> {
        match self {
            Self::Musicnn(c) => c.tag_prior.tag_labels(labels, self.tag_names()),
            _ => Vec::new(),
        }
    }

    /// Blends a segment's head probabilities (label order) with the prior its embedding's
    /// tags give, in place; nothing for networks without a prior.
    pub fn apply_prior(&self, labels: &[String], probabilities: &mut [f32], embedding: &[f32]) {
        if let Self::Musicnn(c) = self {
            let tags = &embedding[embedding.len().saturating_sub(c.backbone.tags)..];
            c.tag_prior.blend(labels, probabilities, tags);
        }
    }

    /// Whether the exported weights store convolution and dense kernels as int8 (a
    /// quarter of the f32 download, at a validation cost measured in docs/ACCURACY.md).
    pub fn stores_int8(&self) -> bool {
        matches!(self, Self::Musicnn(_))
    }

    /// A freshly initialised network of this shape.
    pub fn init(&self, device: &Device) -> Network {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => Network::Ann(c.init(device)),
            Self::Cnn(c) => Network::Cnn(c.init(device)),
            Self::Rnn(c) => Network::Rnn(c.init(device)),
            Self::Musicnn(c) => Network::Musicnn(c.init(device)),
        }
    }
}

/// Any of the networks.
#[derive(Module, Debug)]
// One per model and never in bulk, so the musicnn variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Network {
    /// `ann` or `ann-reg`.
    Ann(Ann),
    /// `cnn`.
    Cnn(Cnn),
    /// `rnn`.
    Rnn(Rnn),
    /// `musicnn`.
    Musicnn(MusicnnGenre),
}

impl Network {
    /// Normalised segments `[batch, frames, coefficients]` → logits `[batch, classes]`;
    /// for musicnn, normalised pooled embeddings `[batch, 1, pooled]` → head logits.
    pub fn forward(&self, segments: Tensor<3>) -> Tensor<2> {
        match self {
            Self::Ann(n) => n.forward(segments),
            Self::Cnn(n) => n.forward(segments),
            Self::Rnn(n) => n.forward(segments),
            Self::Musicnn(n) => n.head.forward(segments),
        }
    }

    /// Feature segments `[batch, frames, width]` → embeddings `[batch, size]`: musicnn's
    /// backbone (pooled values, then tag probabilities), or the features themselves,
    /// flattened, for networks without a backbone.
    pub fn embed(&self, segments: Tensor<3>) -> Tensor<2> {
        match self {
            Self::Musicnn(n) => n.embed(segments),
            _ => segments.flatten(1, 2),
        }
    }

    /// The backbone's forward pass stage by stage on `patches` synthetic feature
    /// segments of `features`' shape, its front end computed as `formulation` says
    /// (the benchmarks'); `None` for networks without a backbone.
    pub fn backbone_profile(
        &self,
        features: &FeatureSettings,
        patches: usize,
        formulation: FrontendFormulation,
    ) -> Option<MusicnnProfile> {
        let Self::Musicnn(net) = self else {
            return None;
        };
        let [frames, mels] = [features.frames_per_segment(), features.coefficients()];
        let n = patches.max(1) * frames * mels;
        let values: Vec<f32> = (0..n).map(|i| (i * 7919 % 4000) as f32 / 1000.0).collect();
        let x = Tensor::<3>::from_data(
            TensorData::new(values, [patches.max(1), frames, mels]),
            &cpu_device(),
        );
        Some(MusicnnProfile::new(net.backbone.clone(), x, formulation))
    }

    /// The regularisation term to add to the loss: `l2 × Σ w²` over hidden weights.
    pub fn penalty(&self, l2: f64) -> Option<Tensor<1>> {
        match self {
            Self::Ann(n) if l2 > 0.0 => Some(n.hidden_weight_squares().mul_scalar(l2)),
            Self::Musicnn(n) if l2 > 0.0 => Some(n.head.hidden_weight_squares().mul_scalar(l2)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;

    use super::*;

    fn musicnn(backbone: MusicnnConfig) -> Architecture {
        let pooled = backbone.embedding_size();
        Architecture::Musicnn(MusicnnGenreConfig {
            backbone,
            source: BackboneSource::msd_musicnn(""),
            head: default_head(pooled, 10),
            tag_prior: TagPrior::gtzan(0.5),
            head_reads_tags: false,
        })
    }

    #[test]
    fn parameter_counts_are_those_of_the_built_networks() {
        let device = cpu_device();
        let mut architectures: Vec<Architecture> = TUTORIAL_ARCHITECTURES
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
            architecture.validate().unwrap();
            assert_eq!(
                architecture.parameters(),
                Some(architecture.init(&device).num_params() as u64),
                "{}",
                architecture.name()
            );
        }
    }

    #[test]
    fn networks_that_cannot_be_built_are_named() {
        let refused = |architecture: &Architecture, needle: &str| {
            let err = architecture.validate().unwrap_err();
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
