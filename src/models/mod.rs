//! The networks as burn modules, behind one [`Network`] with one `forward`: the
//! tutorial's four over normalised MFCC segments `[batch, frames, coefficients]`, and the
//! default, musicnn's pretrained backbone with a genre head ([`MusicnnGenre`]), whose
//! `forward` is its head over normalised embeddings `[batch, 1, pooled]`; its backbone
//! turns log-mel patches into those embeddings first ([`Network::embed`]).

mod ann;
mod cnn;
mod int8_weights;
mod musicnn;
mod musicnn_frontend;
mod musicnn_genre;
#[cfg(not(target_arch = "wasm32"))]
mod musicnn_wheel;
mod rnn;
mod tf_checkpoint;
#[cfg(not(target_arch = "wasm32"))]
mod training;

pub use ann::{Ann, AnnConfig};
pub use cnn::{Cnn, CnnConfig, ConvBlock, ConvBlockConfig};
pub use int8_weights::{
    ChannelScales, Int8Dequantizer, Int8Scales, META_INT8_SCALES, check as check_int8_scales,
    quantize as quantize_int8,
};
pub use musicnn::{
    FrontendFormulation, MSD_TAGS, Musicnn, MusicnnConfig, MusicnnFeatures, MusicnnOutput,
    MusicnnProfile, PenultimateLayer, StageInfo,
};
pub use musicnn_genre::{
    BackboneSource, GenreTags, MusicnnGenre, MusicnnGenreConfig, TagPrior, default_head,
};
#[cfg(not(target_arch = "wasm32"))]
pub use musicnn_wheel::{WheelError, fetch_wheel, read_checkpoint};
pub use rnn::{Rnn, RnnConfig};
pub use tf_checkpoint::{CheckpointError, TfCheckpoint};
#[cfg(not(target_arch = "wasm32"))]
#[allow(unused_imports)]
pub use training::*;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

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
                    && c.head.inputs == c.pooled_size()
            }
        }
    }

    /// Values per normalised input row: a segment frame's coefficients for the tutorial
    /// networks, the pooled embedding for musicnn (what the card's normalisation covers).
    pub fn normalized_width(&self, coefficients: usize) -> usize {
        match self {
            Self::Musicnn(c) => c.pooled_size(),
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

/// Any of the four networks.
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

    /// musicnn's backbone: log-mel patches `[batch, frames, mels]` → embeddings
    /// `[batch, pooled + tags]`; `None` for networks that take features directly.
    pub fn embed(&self, patches: Tensor<3>) -> Option<Tensor<2>> {
        match self {
            Self::Musicnn(n) => Some(n.embed(patches)),
            _ => None,
        }
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
