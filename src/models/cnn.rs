//! `cnn`: the tutorial's convolutional network over a segment as a one-channel image.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::limits;

/// One convolution block: Conv (valid) + ReLU → MaxPool (Keras 'same') → BatchNorm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvBlockConfig {
    /// Output channels.
    pub channels: usize,
    /// Convolution kernel `[time, coefficient]`.
    pub kernel: [usize; 2],
    /// Pooling window.
    pub pool: [usize; 2],
    /// Pooling stride.
    pub pool_stride: [usize; 2],
}

/// Shape of the convolutional network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnConfig {
    /// Frames per segment (image height).
    pub frames: usize,
    /// Coefficients per frame (image width).
    pub coefficients: usize,
    /// The convolution blocks, in order.
    pub blocks: Vec<ConvBlockConfig>,
    /// Width of the dense layer after flattening.
    pub dense: usize,
    /// Dropout after the dense layer.
    pub dropout: f64,
    /// Number of genres.
    pub classes: usize,
}

/// Output length of a valid convolution then a 'same' pool along one axis.
fn block_output(size: usize, kernel: usize, pool_stride: usize) -> usize {
    (size + 1).saturating_sub(kernel).div_ceil(pool_stride)
}

impl CnnConfig {
    /// The tutorial's `CNN_Classifier.py`.
    pub fn tutorial(frames: usize, coefficients: usize, classes: usize) -> Self {
        let block = |k: usize, p: usize| ConvBlockConfig {
            channels: 32,
            kernel: [k, k],
            pool: [p, p],
            pool_stride: [2, 2],
        };
        Self {
            frames,
            coefficients,
            blocks: vec![block(3, 3), block(3, 3), block(2, 2)],
            dense: 64,
            dropout: 0.3,
            classes,
        }
    }

    /// Size of the flattened output of the convolution blocks (0 for a shape that
    /// [`validate`](Self::validate) refuses).
    pub fn flattened(&self) -> usize {
        self.flattened_size()
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    /// Size of the flattened output, checking that every block fits its input.
    fn flattened_size(&self) -> Result<u64, String> {
        let (mut h, mut w) = (self.frames, self.coefficients);
        for (i, b) in self.blocks.iter().enumerate() {
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
            h = block_output(h, b.kernel[0], b.pool_stride[0]);
            w = block_output(w, b.kernel[1], b.pool_stride[1]);
        }
        let channels = self.blocks.last().map_or(1, |b| b.channels);
        (h as u64)
            .checked_mul(w as u64)
            .and_then(|hw| hw.checked_mul(channels as u64))
            .ok_or_else(|| "the flattened convolution output overflows".to_string())
    }

    /// Checks that the shape can be built, naming the first problem.
    pub fn validate(&self) -> Result<(), String> {
        limits::positive("the number of frames", self.frames)?;
        limits::positive("the number of coefficients", self.coefficients)?;
        limits::positive("the number of classes", self.classes)?;
        limits::positive("the dense layer's width", self.dense)?;
        for b in &self.blocks {
            let sizes = [b.channels, b.kernel[0], b.kernel[1], b.pool[0], b.pool[1]];
            sizes
                .into_iter()
                .chain(b.pool_stride)
                .try_for_each(|v| limits::positive("a convolution block's size", v))?;
        }
        limits::dropout(self.dropout)?;
        self.flattened_size().map(|_| ())
    }

    /// Parameters of the built network, without building it; `None` on overflow.
    pub fn parameters(&self) -> Option<u64> {
        let mut inputs = 1usize;
        let mut counts = Vec::new();
        for b in &self.blocks {
            let kernel = (b.kernel[0] as u64).checked_mul(b.kernel[1] as u64)?;
            let weights = (inputs as u64)
                .checked_mul(b.channels as u64)?
                .checked_mul(kernel)?;
            // Convolution weights and bias; batch norm scale, shift and running statistics.
            counts.push(weights.checked_add(5 * b.channels as u64));
            inputs = b.channels;
        }
        let flattened = usize::try_from(self.flattened_size().ok()?).ok()?;
        counts.push(limits::dense(flattened, self.dense));
        counts.push(limits::dense(self.dense, self.classes));
        limits::total(counts)
    }

    /// A freshly initialised network.
    pub fn init(&self, device: &Device) -> Cnn {
        let mut channels_in = 1;
        let blocks = self
            .blocks
            .iter()
            .map(|b| {
                let block = ConvBlock {
                    conv: Conv2dConfig::new([channels_in, b.channels], b.kernel).init(device),
                    pool: MaxPool2dConfig::new(b.pool)
                        .with_strides(b.pool_stride)
                        .with_padding(PaddingConfig2d::Same)
                        .init(),
                    norm: BatchNormConfig::new(b.channels)
                        .with_epsilon(1e-3)
                        .with_momentum(0.01)
                        .init(device),
                };
                channels_in = b.channels;
                block
            })
            .collect();
        Cnn {
            blocks,
            dense: LinearConfig::new(self.flattened(), self.dense).init(device),
            output: LinearConfig::new(self.dense, self.classes).init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// Conv + ReLU → MaxPool → BatchNorm.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
    pool: MaxPool2d,
    norm: BatchNorm,
}

/// The convolutional network; see [`CnnConfig`].
#[derive(Module, Debug)]
pub struct Cnn {
    blocks: Vec<ConvBlock>,
    dense: Linear,
    output: Linear,
    activation: Relu,
    dropout: Dropout,
}

impl Cnn {
    /// `[batch, frames, coefficients]` → logits `[batch, classes]`.
    pub fn forward(&self, segments: Tensor<3>) -> Tensor<2> {
        let mut x: Tensor<4> = segments.unsqueeze_dim(1);
        for block in &self.blocks {
            x = self.activation.forward(block.conv.forward(x));
            x = block.norm.forward(block.pool.forward(x));
        }
        // Flatten in Keras' channels-last order (height, width, channel), so a card's
        // architecture means the same layer sizes in both.
        let x: Tensor<2> = x.permute([0, 2, 3, 1]).flatten(1, 3);
        let x = self
            .dropout
            .forward(self.activation.forward(self.dense.forward(x)));
        self.output.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tutorial_shape_flattens_to_fifteen_by_one_by_thirty_two() {
        // 130x13 → conv3 128x11 → pool/2 64x6 → conv3 62x4 → 31x2 → conv2 30x1 → 15x1.
        assert_eq!(CnnConfig::tutorial(130, 13, 10).flattened(), 15 * 32);
    }
}
