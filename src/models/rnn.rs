//! `rnn`: the tutorial's two-layer LSTM over the frames of a segment.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Lstm, LstmConfig, Relu};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::limits;

/// Shape of the recurrent network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnConfig {
    /// Coefficients per frame (LSTM input width).
    pub coefficients: usize,
    /// Hidden sizes of the stacked LSTMs; all but the last return sequences.
    pub lstm: Vec<usize>,
    /// Width of the dense layer.
    pub dense: usize,
    /// Dropout after the dense layer.
    pub dropout: f64,
    /// Number of genres.
    pub classes: usize,
}

impl RnnConfig {
    /// Checks that the shape can be built, naming the first problem.
    pub fn validate(&self) -> Result<(), String> {
        limits::positive("the number of coefficients", self.coefficients)?;
        limits::positive("the number of classes", self.classes)?;
        limits::positive("the dense layer's width", self.dense)?;
        self.lstm
            .iter()
            .try_for_each(|&w| limits::positive("an LSTM's width", w))?;
        limits::dropout(self.dropout)
    }

    /// Parameters of the built network, without building it; `None` on overflow.
    pub fn parameters(&self) -> Option<u64> {
        let mut width = self.coefficients;
        let mut counts = Vec::new();
        for &hidden in &self.lstm {
            // Four gates, each a dense layer of the input and one of the hidden state.
            let gate = limits::dense(width, hidden)?.checked_add(limits::dense(hidden, hidden)?);
            counts.push(gate.and_then(|g| g.checked_mul(4)));
            width = hidden;
        }
        counts.push(limits::dense(width, self.dense));
        counts.push(limits::dense(self.dense, self.classes));
        limits::total(counts)
    }

    /// The tutorial's `RNN_Classifier.py`: LSTM 64 (sequences) → LSTM 64 → Dense 64.
    pub fn tutorial(coefficients: usize, classes: usize) -> Self {
        Self {
            coefficients,
            lstm: vec![64, 64],
            dense: 64,
            dropout: 0.3,
            classes,
        }
    }

    /// A freshly initialised network.
    pub fn init(&self, device: &Device) -> Rnn {
        let mut width = self.coefficients;
        let lstm = self
            .lstm
            .iter()
            .map(|&hidden| {
                let layer = LstmConfig::new(width, hidden, true).init(device);
                width = hidden;
                layer
            })
            .collect();
        Rnn {
            lstm,
            dense: LinearConfig::new(width, self.dense).init(device),
            output: LinearConfig::new(self.dense, self.classes).init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// The recurrent network; see [`RnnConfig`].
#[derive(Module, Debug)]
pub struct Rnn {
    lstm: Vec<Lstm>,
    dense: Linear,
    output: Linear,
    activation: Relu,
    dropout: Dropout,
}

impl Rnn {
    /// `[batch, frames, coefficients]` → logits `[batch, classes]`.
    pub fn forward(&self, segments: Tensor<3>) -> Tensor<2> {
        let mut x = segments;
        for layer in &self.lstm {
            x = layer.forward(x, None).0;
        }
        let [batch, frames, width] = x.dims();
        // The last LSTM returns only its final step, as Keras' does by default.
        let last: Tensor<2> = x
            .slice([0..batch, frames - 1..frames, 0..width])
            .squeeze_dim(1);
        let x = self
            .dropout
            .forward(self.activation.forward(self.dense.forward(last)));
        self.output.forward(x)
    }
}
