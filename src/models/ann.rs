//! `ann` and `ann-reg`: the tutorial's fully connected networks over a flattened segment.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Shape of a dense network: Flatten → hidden layers (ReLU, optional dropout) → logits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnConfig {
    /// Input values per segment (frames × coefficients).
    pub inputs: usize,
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// Dropout after each hidden layer (0 for none).
    pub dropout: f64,
    /// L2 penalty on the hidden layers' weights, added to the loss (0 for none).
    pub l2: f64,
    /// Number of genres.
    pub classes: usize,
}

impl AnnConfig {
    /// The tutorial's `ANN_Classifier.py`: 512, 256, 64, no regularisation.
    pub fn tutorial(inputs: usize, classes: usize) -> Self {
        Self {
            inputs,
            hidden: vec![512, 256, 64],
            dropout: 0.0,
            l2: 0.0,
            classes,
        }
    }

    /// The tutorial's `Tuned_ANN_Classifier.py`: the same with L2 0.001 and dropout 0.3.
    pub fn tutorial_regularised(inputs: usize, classes: usize) -> Self {
        Self {
            dropout: 0.3,
            l2: 0.001,
            ..Self::tutorial(inputs, classes)
        }
    }

    /// A freshly initialised network.
    pub fn init(&self, device: &Device) -> Ann {
        let mut widths = vec![self.inputs];
        widths.extend(&self.hidden);
        let hidden = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Ann {
            hidden,
            output: LinearConfig::new(*widths.last().unwrap_or(&self.inputs), self.classes)
                .init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// A dense network; see [`AnnConfig`].
#[derive(Module, Debug)]
pub struct Ann {
    hidden: Vec<Linear>,
    output: Linear,
    activation: Relu,
    dropout: Dropout,
}

impl Ann {
    /// `[batch, frames, coefficients]` → logits `[batch, classes]`.
    pub fn forward(&self, segments: Tensor<3>) -> Tensor<2> {
        let mut x: Tensor<2> = segments.flatten(1, 2);
        for layer in &self.hidden {
            x = self
                .dropout
                .forward(self.activation.forward(layer.forward(x)));
        }
        self.output.forward(x)
    }

    /// Sum of squares of the hidden layers' weights (what Keras' `l2` regulariser scales).
    pub fn hidden_weight_squares(&self) -> Tensor<1> {
        self.hidden
            .iter()
            .map(|layer| layer.weight.val().powi_scalar(2).sum())
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| Tensor::zeros([1], &self.output.weight.device()))
    }
}
