//! The tutorial's four networks as burn modules, behind one [`Network`] with one
//! `forward`: segments `[batch, frames, coefficients]` (normalised) → logits.

mod ann;
mod cnn;
mod rnn;

pub use ann::{Ann, AnnConfig};
pub use cnn::{Cnn, CnnConfig, ConvBlock, ConvBlockConfig};
pub use rnn::{Rnn, RnnConfig};

use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The CPU device every model runs on, natively and in wasm: one place to pick the
/// backend. flex measured 2-7x faster than ndarray for these networks natively
/// (`cargo bench --bench backends`).
pub fn cpu_device() -> Device {
    Device::flex()
}

/// The architectures by name, as users pick them (`--model cnn`).
pub const ARCHITECTURE_NAMES: [&str; 4] = ["ann", "ann-reg", "cnn", "rnn"];

/// An architecture and its shape: the part of the model card that builds the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Architecture {
    /// Dense network.
    Ann(AnnConfig),
    /// Dense network with L2 and dropout.
    AnnReg(AnnConfig),
    /// Convolutional network.
    Cnn(CnnConfig),
    /// Recurrent (LSTM) network.
    Rnn(RnnConfig),
}

impl Architecture {
    /// The tutorial's shape of architecture `name` (one of [`ARCHITECTURE_NAMES`]) for
    /// segments of `frames × coefficients` and `classes` genres; `None` for other names.
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
        }
    }

    /// Number of genres the network outputs.
    pub fn classes(&self) -> usize {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.classes,
            Self::Cnn(c) => c.classes,
            Self::Rnn(c) => c.classes,
        }
    }

    /// Whether the network accepts segments of `frames × coefficients`.
    pub fn accepts(&self, frames: usize, coefficients: usize) -> bool {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.inputs == frames * coefficients,
            Self::Cnn(c) => c.frames == frames && c.coefficients == coefficients,
            Self::Rnn(c) => c.coefficients == coefficients,
        }
    }

    /// L2 penalty factor on hidden weights (only `ann-reg` has one).
    pub fn l2(&self) -> f64 {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => c.l2,
            _ => 0.0,
        }
    }

    /// A freshly initialised network of this shape.
    pub fn init(&self, device: &Device) -> Network {
        match self {
            Self::Ann(c) | Self::AnnReg(c) => Network::Ann(c.init(device)),
            Self::Cnn(c) => Network::Cnn(c.init(device)),
            Self::Rnn(c) => Network::Rnn(c.init(device)),
        }
    }
}

/// Any of the four networks.
#[derive(Module, Debug)]
pub enum Network {
    /// `ann` or `ann-reg`.
    Ann(Ann),
    /// `cnn`.
    Cnn(Cnn),
    /// `rnn`.
    Rnn(Rnn),
}

impl Network {
    /// Normalised segments `[batch, frames, coefficients]` → logits `[batch, classes]`.
    pub fn forward(&self, segments: Tensor<3>) -> Tensor<2> {
        match self {
            Self::Ann(n) => n.forward(segments),
            Self::Cnn(n) => n.forward(segments),
            Self::Rnn(n) => n.forward(segments),
        }
    }

    /// The regularisation term to add to the loss: `l2 × Σ w²` over hidden weights.
    pub fn penalty(&self, l2: f64) -> Option<Tensor<1>> {
        match self {
            Self::Ann(n) if l2 > 0.0 => Some(n.hidden_weight_squares().mul_scalar(l2)),
            _ => None,
        }
    }
}
