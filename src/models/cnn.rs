//! `cnn`: the tutorial's convolutional network over a segment as a one-channel image.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

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

    /// Size of the flattened output of the convolution blocks.
    pub fn flattened(&self) -> usize {
        let (mut h, mut w) = (self.frames, self.coefficients);
        for b in &self.blocks {
            h = block_output(h, b.kernel[0], b.pool_stride[0]);
            w = block_output(w, b.kernel[1], b.pool_stride[1]);
        }
        h * w * self.blocks.last().map_or(1, |b| b.channels)
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
