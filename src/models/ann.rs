//! `ann` and `ann-reg`: the tutorial's fully connected networks over a flattened segment.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PenultimateLayer, limits};

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
    /// Checks that the shape can be built: every size in range, dropout in `[0, 1)`, a
    /// non-negative L2 factor. Names the first problem.
    pub fn validate(&self) -> Result<(), String> {
        limits::positive("the input size", self.inputs)?;
        limits::positive("the number of classes", self.classes)?;
        self.hidden
            .iter()
            .try_for_each(|&w| limits::positive("a hidden layer's width", w))?;
        limits::dropout(self.dropout)?;
        limits::l2(self.l2)
    }

    /// Parameters of the built network (what burn's `num_params` counts), without
    /// building it; `None` on overflow.
    pub fn parameters(&self) -> Option<u64> {
        let mut widths = vec![self.inputs];
        widths.extend(&self.hidden);
        let last = widths.last().copied().unwrap_or(self.inputs);
        limits::total(
            widths
                .windows(2)
                .map(|w| limits::dense(w[0], w[1]))
                .chain([limits::dense(last, self.classes)]),
        )
    }

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

    /// Whether a network of this shape can start from `layer` ([`Ann::starting_from`]):
    /// one hidden layer, as wide as `layer`, over as many inputs.
    pub fn fits(&self, layer: &PenultimateLayer) -> Result<(), String> {
        if self.hidden != [layer.units] || self.inputs != layer.inputs {
            return Err(format!(
                "a head starting from musicnn's back end needs {} inputs and one hidden layer \
                 of {}; this one has {} inputs and hidden layers {:?}",
                layer.inputs, layer.units, self.inputs, self.hidden
            ));
        }
        Ok(())
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

    /// This network with its hidden layer set to `layer` and its output layer reading the
    /// layer's batch norm (folded into the output's weights), so that at the start it is
    /// a fresh linear classifier over musicnn's penultimate features, and training
    /// fine-tunes both. Unchanged unless its shape [`AnnConfig::fits`] the layer.
    pub fn starting_from(mut self, layer: &PenultimateLayer) -> Self {
        let device = self.output.weight.device();
        let [units, classes] = self.output.weight.dims();
        let shapes_fit = self.hidden.len() == 1
            && self.hidden[0].weight.dims() == [layer.inputs, layer.units]
            && units == layer.units
            && layer.weight.len() == layer.inputs * layer.units
            && [&layer.bias, &layer.scale, &layer.shift]
                .iter()
                .all(|v| v.len() == units);
        if !shapes_fit {
            return self;
        }
        let weight = |values: Vec<f32>, shape: [usize; 2]| {
            Param::from_data(TensorData::new(values, shape), &device)
        };
        self.hidden[0] = Linear {
            weight: weight(layer.weight.clone(), [layer.inputs, layer.units]),
            bias: Some(Param::from_data(
                TensorData::new(layer.bias.clone(), [units]),
                &device,
            )),
        };
        // output(h · scale + shift) = h · (scale ⊙rows W) + (shift · W + b), computed on
        // the values so that the new parameters are leaves of the training graph.
        let (w, mut b) = super::linear_values(&self.output);
        let mut scaled = w.clone();
        for (j, row) in scaled.chunks_exact_mut(classes).enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                b[k] += layer.shift[j] * w[j * classes + k];
                *v *= layer.scale[j];
            }
        }
        self.output = Linear {
            weight: weight(scaled, [units, classes]),
            bias: Some(Param::from_data(TensorData::new(b, [classes]), &device)),
        };
        self
    }

    /// A network without hidden layers whose output layer is `head`: logistic regression
    /// with given weights (`config` must have no hidden layers and `head`'s shape).
    pub fn linear(
        config: &AnnConfig,
        head: &super::LinearHead,
        device: &Device,
    ) -> Result<Self, String> {
        let (inputs, classes) = (config.inputs, config.classes);
        if !config.hidden.is_empty()
            || (head.inputs, head.classes) != (inputs, classes)
            || head.weight.len() != inputs * classes
            || head.bias.len() != classes
        {
            return Err(format!(
                "a linear head of {}x{} ({} weights, {} biases) does not fit a network of \
                 {inputs} inputs, hidden layers {:?} and {classes} classes",
                head.inputs,
                head.classes,
                head.weight.len(),
                head.bias.len(),
                config.hidden
            ));
        }
        let output = Linear {
            weight: Param::from_data(
                TensorData::new(head.weight.clone(), [inputs, classes]),
                device,
            ),
            bias: Some(Param::from_data(
                TensorData::new(head.bias.clone(), [classes]),
                device,
            )),
        };
        Ok(Self {
            hidden: Vec::new(),
            output,
            activation: Relu::new(),
            dropout: DropoutConfig::new(config.dropout).init(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::cpu_device;

    #[test]
    fn a_head_started_from_a_layer_is_that_layer_then_its_fresh_output() {
        let device = cpu_device();
        let config = AnnConfig {
            inputs: 3,
            hidden: vec![2],
            dropout: 0.0,
            l2: 0.0,
            classes: 4,
        };
        let layer = PenultimateLayer {
            inputs: 3,
            units: 2,
            weight: vec![1.0, -1.0, 0.5, 2.0, -0.5, 0.25],
            bias: vec![0.1, -0.2],
            scale: vec![2.0, -1.5],
            shift: vec![0.3, 0.7],
        };
        assert!(config.fits(&layer).is_ok());
        let fresh = config.init(&device);
        let started = fresh.clone().starting_from(&layer);
        // Unit 0 is active (1.4 before the ReLU), unit 1 is not (-0.9).
        let z = [1.0f32, 0.2, -0.4];
        let features: Vec<f32> = (0..2)
            .map(|j| {
                let h = (0..3).map(|i| z[i] * layer.weight[i * 2 + j]).sum::<f32>() + layer.bias[j];
                h.max(0.0) * layer.scale[j] + layer.shift[j]
            })
            .collect();
        let want: Tensor<2> = fresh.output.forward(Tensor::<2>::from_data(
            TensorData::new(features, [1, 2]),
            &device,
        ));
        let got = started.forward(Tensor::from_data(
            TensorData::new(z.to_vec(), [1, 1, 3]),
            &device,
        ));
        let (want, got) = (
            want.into_data().try_to_vec::<f32>().unwrap(),
            got.into_data().try_to_vec::<f32>().unwrap(),
        );
        for (w, g) in want.iter().zip(&got) {
            assert!((w - g).abs() < 1e-5, "{want:?} vs {got:?}");
        }
        let wide = AnnConfig {
            hidden: vec![5],
            ..config
        };
        assert!(
            wide.fits(&layer)
                .unwrap_err()
                .contains("one hidden layer of 2")
        );
    }
}
