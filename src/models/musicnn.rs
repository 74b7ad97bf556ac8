//! musicnn (Pons & Serra, "musicnn: pre-trained convolutional neural networks for music
//! audio tagging", 2019; ISC license) as burn modules, for inference with the weights of
//! its `MSD_musicnn` checkpoint (see [`Musicnn::from_checkpoint`]).
//!
//! The layout is `build_musicnn` of musicnn/models.py, read as channels-first tensors:
//!
//! - **Front end**, on log-mel patches `[batch, frames (187), mels (96)]`: batch norm of
//!   the input (one channel), then five blocks, each conv (ReLU) → batch norm → max over
//!   the frequency axis, giving `[batch, filters, frames]`:
//!   - two timbral blocks on the input zero-padded 3+3 in time: kernels 7×38 and 7×67
//!     (`int(0.4 · mels)`, `int(0.7 · mels)`), 204 filters each;
//!   - three temporal blocks with TF 'same' padding: kernels 128×1, 64×1, 32×1, 51
//!     filters each.
//!
//!   Concatenated: 561 channels per frame.
//! - **Mid end**: three convolutions over time spanning all channels (kernel 7, zero
//!   padding 3+3, 64 filters, ReLU → batch norm), the second and third with residual
//!   sums; the front end and the three outputs concatenated: 753 channels per frame.
//! - **Back end**: max and mean over time (`[max (753), mean (753)]` = 1506), batch norm,
//!   dense 200 (ReLU), batch norm (the penultimate features), dense 50: tag logits.
//!
//! Every batch norm is folded at load into a per-channel scale and shift (TF's inference
//! formula, `(x − moving_mean) / √(moving_variance + 0.001) · γ + β`), applied where TF
//! applies it: after the ReLU and before the max over frequency. It must not move past
//! the max: most of MSD_musicnn's front-end γ are negative (170 of 204 in
//! `batch_normalization_1`). Some channels never fired in training (moving variance
//! ~1e-36); they fold to a constant.
//!
//! With the wheel's weights the outputs match musicnn's TensorFlow code within 2e-5,
//! absolute below 1 and relative above (tests/musicnn_parity.rs).

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig1d, PaddingConfig2d, Relu};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

mod profile;

pub use profile::{MusicnnProfile, StageInfo};

use super::limits;
use super::musicnn_frontend::{UnfoldedBlock, host_values};
use super::tf_checkpoint::{CheckpointError, TfCheckpoint};

/// The 50 tags of `MSD_musicnn`, in the order of its logits (musicnn/configuration.py
/// `MSD_LABELS`).
pub const MSD_TAGS: [&str; 50] = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
];

/// Time length of the timbral and mid-end kernels (zero-padded 3 + 3).
const TIME_KERNEL: usize = 7;
/// Time lengths of the three temporal kernels, in models.py order.
const TEMPORAL_KERNELS: [usize; 3] = [128, 64, 32];
/// Widths of the timbral kernels as fractions of the mel bands, in models.py order.
const TIMBRAL_WIDTHS: [f64; 2] = [0.4, 0.7];
/// `epsilon` of `tf.compat.v1.layers.batch_normalization` (its default).
const BN_EPSILON: f64 = 1e-3;

/// Where each layer's variables are in the checkpoint. `tf.compat.v1.layers` names
/// layers by type in creation order (`conv2d`, `conv2d_1`, …), and `build_musicnn`
/// creates them in this order:
///
/// | # | layer (models.py)              | conv / dense | its batch norm          | kernel (TF)        |
/// |---|--------------------------------|--------------|-------------------------|--------------------|
/// | 0 | input                          |              | `batch_normalization`   | (1 channel)        |
/// | 1 | timbral `f74`, 7×38            | `conv2d`     | `batch_normalization_1` | `[7, 38, 1, 204]`  |
/// | 2 | timbral `f77`, 7×67            | `conv2d_1`   | `batch_normalization_2` | `[7, 67, 1, 204]`  |
/// | 3 | temporal `s1`, 128×1           | `conv2d_2`   | `batch_normalization_3` | `[128, 1, 1, 51]`  |
/// | 4 | temporal `s2`, 64×1            | `conv2d_3`   | `batch_normalization_4` | `[64, 1, 1, 51]`   |
/// | 5 | temporal `s3`, 32×1            | `conv2d_4`   | `batch_normalization_5` | `[32, 1, 1, 51]`   |
/// | 6 | mid-end `conv1`                | `conv2d_5`   | `batch_normalization_6` | `[7, 561, 1, 64]`  |
/// | 7 | mid-end `conv2`                | `conv2d_6`   | `batch_normalization_7` | `[7, 64, 1, 64]`   |
/// | 8 | mid-end `conv3`                | `conv2d_7`   | `batch_normalization_8` | `[7, 64, 1, 64]`   |
/// | 9 | back end, pooled features      |              | `batch_normalization_9` | (1506 channels)    |
/// |10 | back end, penultimate dense    | `dense`      | `batch_normalization_10`| `[1506, 200]`      |
/// |11 | back end, output dense         | `dense_1`    |                         | `[200, 50]`        |
///
/// Each conv and dense layer has `<name>/kernel` and `<name>/bias`; each batch norm has
/// `<name>/{gamma, beta, moving_mean, moving_variance}`. The checkpoint also holds Adam's
/// slots (`…/Adam`, `…/Adam_1`), `beta1_power`, `beta2_power`, which are not read.
mod names {
    pub const INPUT_BN: &str = "batch_normalization";
    pub const TIMBRAL: [(&str, &str); 2] = [
        ("conv2d", "batch_normalization_1"),
        ("conv2d_1", "batch_normalization_2"),
    ];
    pub const TEMPORAL: [(&str, &str); 3] = [
        ("conv2d_2", "batch_normalization_3"),
        ("conv2d_3", "batch_normalization_4"),
        ("conv2d_4", "batch_normalization_5"),
    ];
    pub const MIDEND: [(&str, &str); 3] = [
        ("conv2d_5", "batch_normalization_6"),
        ("conv2d_6", "batch_normalization_7"),
        ("conv2d_7", "batch_normalization_8"),
    ];
    pub const POOL_BN: &str = "batch_normalization_9";
    pub const DENSE: &str = "dense";
    pub const DENSE_BN: &str = "batch_normalization_10";
    pub const OUTPUT: &str = "dense_1";
}

/// Shape of musicnn; [`MusicnnConfig::msd`] is the shape of the `MSD_musicnn` weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MusicnnConfig {
    /// Frames per input patch (the network was trained on 187, 3 s).
    pub frames: usize,
    /// Mel bands per frame.
    pub mels: usize,
    /// Filters of each of the two timbral blocks.
    pub timbral_filters: usize,
    /// Filters of each of the three temporal blocks.
    pub temporal_filters: usize,
    /// Filters of each of the three mid-end convolutions.
    pub midend_filters: usize,
    /// Units of the penultimate dense layer.
    pub backend_units: usize,
    /// Number of tags (outputs).
    pub tags: usize,
}

impl Default for MusicnnConfig {
    fn default() -> Self {
        Self::msd()
    }
}

impl MusicnnConfig {
    /// Checks that the shape can be built, naming the first problem.
    pub fn validate(&self) -> Result<(), String> {
        for (what, value) in [
            ("frames", self.frames),
            ("mel bands", self.mels),
            ("timbral filters", self.timbral_filters),
            ("temporal filters", self.temporal_filters),
            ("mid-end filters", self.midend_filters),
            ("back-end units", self.backend_units),
            ("tags", self.tags),
        ] {
            limits::positive(&format!("musicnn's {what}"), value)?;
        }
        if self.timbral_widths().contains(&0) {
            return Err(format!(
                "musicnn needs at least 3 mel bands for its timbral kernels, the card has {}",
                self.mels
            ));
        }
        Ok(())
    }

    /// Parameters of the built network, without building it; `None` on overflow. Every
    /// batch norm is folded into a scale and a shift.
    pub fn parameters(&self) -> Option<u64> {
        let conv = |inputs: usize, filters: usize, kernel: u64| {
            (inputs as u64)
                .checked_mul(filters as u64)?
                .checked_mul(kernel)?
                // Bias, then the folded batch norm's scale and shift.
                .checked_add(3 * filters as u64)
        };
        let time = TIME_KERNEL as u64;
        let mut counts = vec![Some(2)];
        for width in self.timbral_widths() {
            counts.push(conv(
                1,
                self.timbral_filters,
                time.checked_mul(width as u64)?,
            ));
        }
        for length in TEMPORAL_KERNELS {
            counts.push(conv(1, self.temporal_filters, length as u64));
        }
        counts.push(conv(self.frontend_channels(), self.midend_filters, time));
        counts.push(conv(self.midend_filters, self.midend_filters, time));
        counts.push(conv(self.midend_filters, self.midend_filters, time));
        counts.push((self.embedding_size() as u64).checked_mul(2));
        counts.push(limits::dense(self.embedding_size(), self.backend_units));
        counts.push((self.backend_units as u64).checked_mul(2));
        counts.push(limits::dense(self.backend_units, self.tags));
        limits::total(counts)
    }

    /// `MSD_musicnn`: `build_musicnn` with `num_filt` 1.6 (204 timbral, 51 temporal
    /// filters), mid end 64, back end 200, 50 tags, on 187 × 96 log-mel patches.
    pub fn msd() -> Self {
        Self {
            frames: 187,
            mels: 96,
            timbral_filters: 204,
            temporal_filters: 51,
            midend_filters: 64,
            backend_units: 200,
            tags: 50,
        }
    }

    /// Kernel widths (mel bands) of the timbral blocks: `int(0.4 · mels)` and
    /// `int(0.7 · mels)`, computed in floating point as Python does (38 and 67 for 96).
    pub fn timbral_widths(&self) -> [usize; 2] {
        TIMBRAL_WIDTHS.map(|f| (f * self.mels as f64) as usize)
    }

    /// Channels per frame out of the front end (561 for `MSD_musicnn`).
    pub fn frontend_channels(&self) -> usize {
        2 * self.timbral_filters + 3 * self.temporal_filters
    }

    /// Channels per frame out of the mid end, front end included (753).
    pub fn midend_channels(&self) -> usize {
        self.frontend_channels() + 3 * self.midend_filters
    }

    /// Size of [`MusicnnOutput::pooled`]: max and mean over time of the mid end (1506).
    pub fn embedding_size(&self) -> usize {
        2 * self.midend_channels()
    }

    /// A network of this shape with random weights and identity batch norms.
    pub fn init(&self, device: &Device) -> Musicnn {
        let timbral = self.timbral_widths().map(|width| FrontendBlock {
            conv: Conv2dConfig::new([1, self.timbral_filters], [TIME_KERNEL, width])
                .with_padding(PaddingConfig2d::Explicit(
                    TIME_KERNEL / 2,
                    0,
                    TIME_KERNEL / 2,
                    0,
                ))
                .init(device),
            norm: ChannelAffine::identity(self.timbral_filters, device),
        });
        let temporal = TEMPORAL_KERNELS.map(|length| FrontendBlock {
            // TF 'same' with stride 1: (k − 1) / 2 before, the rest after, as burn's.
            conv: Conv2dConfig::new([1, self.temporal_filters], [length, 1])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            norm: ChannelAffine::identity(self.temporal_filters, device),
        });
        let midend: [MidendBlock; 3] = std::array::from_fn(|i| {
            let inputs = if i == 0 {
                self.frontend_channels()
            } else {
                self.midend_filters
            };
            MidendBlock {
                conv: Conv1dConfig::new(inputs, self.midend_filters, TIME_KERNEL)
                    .with_padding(PaddingConfig1d::Explicit(TIME_KERNEL / 2, TIME_KERNEL / 2))
                    .init(device),
                norm: ChannelAffine::identity(self.midend_filters, device),
            }
        });
        Musicnn {
            input_norm: ChannelAffine::identity(1, device),
            timbral: timbral.into(),
            temporal: temporal.into(),
            midend: midend.into(),
            pool_norm: ChannelAffine::identity(self.embedding_size(), device),
            dense: LinearConfig::new(self.embedding_size(), self.backend_units).init(device),
            dense_norm: ChannelAffine::identity(self.backend_units, device),
            output: LinearConfig::new(self.backend_units, self.tags).init(device),
            activation: Relu::new(),
        }
    }
}

/// A batch norm in inference, folded: `x · scale + shift` per channel (axis 1).
#[derive(Module, Debug)]
pub struct ChannelAffine {
    scale: Param<Tensor<1>>,
    shift: Param<Tensor<1>>,
}

impl ChannelAffine {
    /// Scale 1, shift 0.
    fn identity(channels: usize, device: &Device) -> Self {
        Self {
            scale: Param::from_tensor(Tensor::ones([channels], device)),
            shift: Param::from_tensor(Tensor::zeros([channels], device)),
        }
    }

    /// From per-channel scales and shifts.
    fn new(scale: Vec<f32>, shift: Vec<f32>, device: &Device) -> Self {
        let (s, b) = (scale.len(), shift.len());
        Self {
            scale: Param::from_data(TensorData::new(scale, [s]), device),
            shift: Param::from_data(TensorData::new(shift, [b]), device),
        }
    }

    /// Folds the TF batch norm `name` of `channels` channels, its channels reordered so
    /// that channel `i` is TF's channel `order[i]` (identity when `order` is `None`).
    fn from_checkpoint(
        ckpt: &TfCheckpoint,
        name: &str,
        channels: usize,
        order: Option<&[usize]>,
        device: &Device,
    ) -> Result<Self, CheckpointError> {
        let read = |var: &str| ckpt.tensor_f32(&format!("{name}/{var}"), &[channels]);
        let (gamma, beta) = (read("gamma")?, read("beta")?);
        let (mean, variance) = (read("moving_mean")?, read("moving_variance")?);
        let mut scale = Vec::with_capacity(channels);
        let mut shift = Vec::with_capacity(channels);
        for i in 0..channels {
            let c = order.map_or(i, |o| o[i]);
            let s = f64::from(gamma[c]) / (f64::from(variance[c]) + BN_EPSILON).sqrt();
            scale.push(s as f32);
            shift.push((f64::from(beta[c]) - f64::from(mean[c]) * s) as f32);
        }
        Ok(Self::new(scale, shift, device))
    }

    /// `x · scale + shift`, channels on axis 1.
    fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let mut shape = [1; D];
        shape[1] = self.scale.dims()[0];
        x * self.scale.val().reshape(shape) + self.shift.val().reshape(shape)
    }
}

/// A front-end block: conv (ReLU) → batch norm → max over frequency.
#[derive(Module, Debug)]
pub struct FrontendBlock {
    conv: Conv2d,
    norm: ChannelAffine,
}

impl FrontendBlock {
    /// `[batch, 1, frames, mels]` → `[batch, filters, frames]`, with burn's `Conv2d`.
    fn forward(&self, x: Tensor<4>, activation: &Relu) -> Tensor<3> {
        let x = self.norm.forward(activation.forward(self.conv.forward(x)));
        x.max_dim(3).squeeze_dim(3)
    }

    /// The block's weights for [`UnfoldedBlock::forward`], with `pad` zero frames before
    /// and after the patch (the conv's own time padding).
    fn unfolded(&self, (pad_before, pad_after): (usize, usize)) -> UnfoldedBlock {
        let [filters, _, kernel_time, kernel_freq] = self.conv.weight.dims();
        let bias = match &self.conv.bias {
            Some(b) => host_values(b.val()),
            None => vec![0.0; filters],
        };
        UnfoldedBlock {
            weight: self
                .conv
                .weight
                .val()
                .reshape([filters, kernel_time * kernel_freq]),
            bias,
            scale: host_values(self.norm.scale.val()),
            shift: host_values(self.norm.shift.val()),
            kernel_time,
            kernel_freq,
            pad_before,
            pad_after,
        }
    }
}

/// How [`Musicnn`] computes its front end; both give the same maps (within float
/// rounding, tests/musicnn_parity.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrontendFormulation {
    /// Unfold + matmul, reduced over frequency chunk by chunk (the fast one; see
    /// `musicnn_frontend.rs`).
    #[default]
    Unfolded,
    /// burn's `Conv2d` layers, as musicnn's Keras code reads: the reference.
    Conv2d,
}

/// A mid-end block: conv over time across all channels (ReLU) → batch norm.
#[derive(Module, Debug)]
pub struct MidendBlock {
    conv: Conv1d,
    norm: ChannelAffine,
}

impl MidendBlock {
    /// `[batch, channels, frames]` → `[batch, filters, frames]`.
    fn forward(&self, x: Tensor<3>, activation: &Relu) -> Tensor<3> {
        self.norm.forward(activation.forward(self.conv.forward(x)))
    }
}

/// musicnn; see the module documentation and [`MusicnnConfig`].
#[derive(Module, Debug)]
pub struct Musicnn {
    input_norm: ChannelAffine,
    timbral: Vec<FrontendBlock>,
    temporal: Vec<FrontendBlock>,
    midend: Vec<MidendBlock>,
    pool_norm: ChannelAffine,
    dense: Linear,
    dense_norm: ChannelAffine,
    output: Linear,
    activation: Relu,
}

/// musicnn's penultimate layer over normalised pooled values: `relu(z · weight + bias)`,
/// then `· scale + shift` per unit (its batch norm). See [`Musicnn::penultimate_layer`].
#[derive(Debug, Clone, PartialEq)]
pub struct PenultimateLayer {
    /// Values in (the pooled size).
    pub inputs: usize,
    /// Units out (200).
    pub units: usize,
    /// `[inputs, units]`, row-major (burn's `Linear` layout).
    pub weight: Vec<f32>,
    /// One per unit.
    pub bias: Vec<f32>,
    /// The batch norm after the ReLU: scale per unit.
    pub scale: Vec<f32>,
    /// The batch norm after the ReLU: shift per unit.
    pub shift: Vec<f32>,
}

/// What [`Musicnn::forward`] gives for a batch of patches.
#[derive(Debug, Clone)]
pub struct MusicnnOutput {
    /// `[batch, 1506]`: max over time of the mid end's 753 channels, then their mean
    /// over time (musicnn's `max_pool` and `mean_pool`, concatenated).
    pub pooled: Tensor<2>,
    /// `[batch, 200]`: the penultimate layer after its batch norm (musicnn's
    /// `penultimate`).
    pub penultimate: Tensor<2>,
    /// `[batch, 50]`: tag logits (sigmoid gives musicnn's tag probabilities).
    pub tag_logits: Tensor<2>,
}

/// The feature maps of [`Musicnn::forward_features`], channels first: `[batch, channels,
/// frames]` (musicnn's extractor gives them as `[frames, channels]` per patch).
#[derive(Debug, Clone)]
pub struct MusicnnFeatures {
    /// The two timbral blocks' maps, concatenated: `[batch, 408, frames]` (7×38 first).
    pub timbral: Tensor<3>,
    /// The three temporal blocks' maps, concatenated: `[batch, 153, frames]` (128×1 first).
    pub temporal: Tensor<3>,
    /// The mid end's three outputs (musicnn's `cnn1`, `cnn2`, `cnn3`; the last two
    /// include their residual sums): `[batch, 64, frames]` each.
    pub midend: Vec<Tensor<3>>,
    /// What [`Musicnn::forward`] gives.
    pub output: MusicnnOutput,
}

impl Musicnn {
    /// Log-mel patches `[batch, frames, mels]` (musicnn's compressed log-mel,
    /// `log10(1 + 10000 · mel)`) → pooled features, penultimate features and logits.
    ///
    /// # Panics
    ///
    /// If `mels` is narrower than the widest timbral kernel, or differs from the
    /// network's (then the mid end's channels do not match).
    pub fn forward(&self, patches: Tensor<3>) -> MusicnnOutput {
        self.forward_features(patches).output
    }

    /// Log-mel patches `[batch, frames, mels]` → `[batch, pooled + tags]`: the pooled
    /// features, then the tag probabilities (the sigmoid of the logits). What the genre
    /// head and the tag prior read, and what `train` caches per patch.
    ///
    /// # Panics
    ///
    /// As [`Musicnn::forward`].
    pub fn embed(&self, patches: Tensor<3>) -> Tensor<2> {
        let out = self.forward(patches);
        Tensor::cat(
            vec![
                out.pooled,
                burn::tensor::activation::sigmoid(out.tag_logits),
            ],
            1,
        )
    }

    /// [`Musicnn::forward`], keeping the front end's and mid end's feature maps.
    ///
    /// # Panics
    ///
    /// As [`Musicnn::forward`].
    pub fn forward_features(&self, patches: Tensor<3>) -> MusicnnFeatures {
        self.forward_with(patches, FrontendFormulation::default())
    }

    /// [`Musicnn::forward_features`] with the front end computed as `formulation` says.
    ///
    /// # Panics
    ///
    /// As [`Musicnn::forward`].
    pub fn forward_with(
        &self,
        patches: Tensor<3>,
        formulation: FrontendFormulation,
    ) -> MusicnnFeatures {
        let (timbral, temporal) = self.frontend(patches, formulation);
        let frontend = Tensor::cat(timbral.iter().chain(&temporal).cloned().collect(), 1);
        let midend = self.midend(frontend.clone());
        let mut all = vec![frontend];
        all.extend(midend.iter().cloned());
        let output = self.backend(Tensor::cat(all, 1));
        MusicnnFeatures {
            timbral: Tensor::cat(timbral, 1),
            temporal: Tensor::cat(temporal, 1),
            midend,
            output,
        }
    }

    /// Front end: log-mel patches `[batch, frames, mels]` → the timbral and the temporal
    /// blocks' maps, `[batch, filters, frames]` each.
    fn frontend(
        &self,
        patches: Tensor<3>,
        formulation: FrontendFormulation,
    ) -> (Vec<Tensor<3>>, Vec<Tensor<3>>) {
        match formulation {
            FrontendFormulation::Conv2d => {
                let x = self.input_norm.forward(patches.unsqueeze_dim::<4>(1));
                let block = |b: &FrontendBlock| b.forward(x.clone(), &self.activation);
                let timbral = self.timbral.iter().map(block).collect();
                let temporal = self.temporal.iter().map(block).collect();
                (timbral, temporal)
            }
            FrontendFormulation::Unfolded => self.frontend_unfolded(patches),
        }
    }

    /// Mid end: the front end `[batch, 561, frames]` → musicnn's `cnn1`, `cnn2`, `cnn3`
    /// (`[batch, 64, frames]` each). The first block adapts the channels, the next two
    /// add their input back (cnn2 = conv2(cnn1) + cnn1, cnn3 = conv3(cnn2) + cnn2).
    fn midend(&self, frontend: Tensor<3>) -> Vec<Tensor<3>> {
        let mut midend: Vec<Tensor<3>> = Vec::with_capacity(self.midend.len());
        for block in &self.midend {
            let input = midend.last().unwrap_or(&frontend).clone();
            let y = block.forward(input.clone(), &self.activation);
            midend.push(if midend.is_empty() { y } else { y + input });
        }
        midend
    }

    /// Back end: the front and mid ends `[batch, 753, frames]` → pooled, penultimate,
    /// logits.
    fn backend(&self, all: Tensor<3>) -> MusicnnOutput {
        let relu = &self.activation;
        let max = all.clone().max_dim(2).squeeze_dim::<2>(2);
        let mean = all.mean_dim(2).squeeze_dim::<2>(2);
        let pooled = Tensor::cat(vec![max, mean], 1);
        let hidden = relu.forward(self.dense.forward(self.pool_norm.forward(pooled.clone())));
        let penultimate = self.dense_norm.forward(hidden);
        let tag_logits = self.output.forward(penultimate.clone());
        MusicnnOutput {
            pooled,
            penultimate,
            tag_logits,
        }
    }

    /// The timbral and temporal maps, each block as unfold + matmul.
    fn frontend_unfolded(&self, patches: Tensor<3>) -> (Vec<Tensor<3>>, Vec<Tensor<3>>) {
        let device = patches.device();
        let dims = patches.dims();
        let x = host_values(self.input_norm.forward(patches));
        let run = |b: &FrontendBlock, pad| b.unfolded(pad).forward(&x, dims, &device);
        let timbral = self
            .timbral
            .iter()
            .map(|b| run(b, timbral_padding()))
            .collect();
        let temporal = self
            .temporal
            .iter()
            .map(|b| run(b, temporal_padding(b)))
            .collect();
        (timbral, temporal)
    }

    /// The back end's penultimate layer (batch norm → dense → ReLU → batch norm) as it
    /// acts on pooled values normalised as `(x − mean) / std`, for a genre head to start
    /// from and fine-tune: the pooling's batch norm and that normalisation are folded
    /// into the dense kernel and bias, so the head's first layer computes exactly what
    /// musicnn's did.
    pub fn penultimate_layer(&self, mean: &[f32], std: &[f32]) -> PenultimateLayer {
        let values = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap_or_default();
        let (pool_scale, pool_shift) = (
            values(self.pool_norm.scale.val()),
            values(self.pool_norm.shift.val()),
        );
        let [inputs, units] = self.dense.weight.dims();
        let (kernel, mut bias) = super::linear_values(&self.dense);
        let mut weight = vec![0.0; inputs * units];
        // dense(BN(p)) with p = std·z + mean: BN(p) = (pool_scale·std)·z + (pool_scale·mean
        // + pool_shift), so row i of the kernel scales by pool_scale·std, and the bias
        // takes the constant part through the kernel.
        for i in 0..inputs.min(mean.len()).min(std.len()).min(pool_scale.len()) {
            let row = &kernel[i * units..(i + 1) * units];
            let (scale, offset) = (
                pool_scale[i] * std[i],
                pool_scale[i] * mean[i] + pool_shift[i],
            );
            for (j, &w) in row.iter().enumerate() {
                weight[i * units + j] = w * scale;
                bias[j] += w * offset;
            }
        }
        PenultimateLayer {
            inputs,
            units,
            weight,
            bias,
            scale: values(self.dense_norm.scale.val()),
            shift: values(self.dense_norm.shift.val()),
        }
    }

    /// The network of shape `config` with the weights of a musicnn TF checkpoint (see
    /// the variable table on `names` in the source); errors name the missing or
    /// misshapen variable.
    pub fn from_checkpoint(
        ckpt: &TfCheckpoint,
        config: &MusicnnConfig,
        device: &Device,
    ) -> Result<Self, CheckpointError> {
        let mut net = config.init(device);
        net.input_norm = ChannelAffine::from_checkpoint(ckpt, names::INPUT_BN, 1, None, device)?;
        net.load_frontend(ckpt, device)?;
        net.load_midend(ckpt, device)?;
        net.load_backend(ckpt, config, device)?;
        Ok(net)
    }

    /// Loads the two timbral and three temporal blocks: conv kernel and bias, batch norm.
    fn load_frontend(
        &mut self,
        ckpt: &TfCheckpoint,
        device: &Device,
    ) -> Result<(), CheckpointError> {
        let frontend_blocks = self
            .timbral
            .iter_mut()
            .zip(names::TIMBRAL)
            .chain(self.temporal.iter_mut().zip(names::TEMPORAL));
        for (block, (conv, norm)) in frontend_blocks {
            let [filters, _, kh, kw] = block.conv.weight.dims();
            let kernel = ckpt.tensor_f32(&format!("{conv}/kernel"), &[kh, kw, 1, filters])?;
            block.conv.weight = Param::from_data(
                TensorData::new(
                    hwio_to_oihw(&kernel, [kh, kw, 1, filters]),
                    [filters, 1, kh, kw],
                ),
                device,
            );
            block.conv.bias = Some(bias(ckpt, conv, filters, device)?);
            block.norm = ChannelAffine::from_checkpoint(ckpt, norm, filters, None, device)?;
        }
        Ok(())
    }

    /// Loads the three mid-end blocks: conv kernel and bias, batch norm.
    fn load_midend(&mut self, ckpt: &TfCheckpoint, device: &Device) -> Result<(), CheckpointError> {
        for (block, (conv, norm)) in self.midend.iter_mut().zip(names::MIDEND) {
            // TF convolves a [frames, channels, 1] image with a [7, channels] kernel: a 1-D
            // convolution over time with the channels as its inputs. Its [7, channels, 1,
            // filters] kernel has the memory layout of a [7, 1, channels, filters] HWIO one,
            // whose OIHW form [filters, channels, 7, 1] is burn's Conv1d weight.
            let [filters, inputs, k] = block.conv.weight.dims();
            let kernel = ckpt.tensor_f32(&format!("{conv}/kernel"), &[k, inputs, 1, filters])?;
            block.conv.weight = Param::from_data(
                TensorData::new(
                    hwio_to_oihw(&kernel, [k, 1, inputs, filters]),
                    [filters, inputs, k],
                ),
                device,
            );
            block.conv.bias = Some(bias(ckpt, conv, filters, device)?);
            block.norm = ChannelAffine::from_checkpoint(ckpt, norm, filters, None, device)?;
        }
        Ok(())
    }

    /// Loads the back end: the pooled features' batch norm, the penultimate dense layer
    /// and its batch norm, the output dense layer.
    fn load_backend(
        &mut self,
        ckpt: &TfCheckpoint,
        config: &MusicnnConfig,
        device: &Device,
    ) -> Result<(), CheckpointError> {
        let channels = config.midend_channels();
        let order = pooled_order(channels);
        self.pool_norm = ChannelAffine::from_checkpoint(
            ckpt,
            names::POOL_BN,
            2 * channels,
            Some(&order),
            device,
        )?;
        self.dense = dense(
            ckpt,
            names::DENSE,
            2 * channels,
            config.backend_units,
            Some(&order),
            device,
        )?;
        self.dense_norm = ChannelAffine::from_checkpoint(
            ckpt,
            names::DENSE_BN,
            config.backend_units,
            None,
            device,
        )?;
        self.output = dense(
            ckpt,
            names::OUTPUT,
            config.backend_units,
            config.tags,
            None,
            device,
        )?;
        Ok(())
    }
}

/// Where each of our pooled features is in TF's: TF flattens the [753, 2] stack of
/// (max, mean) pairs, so its feature 2c is the max of channel c, 2c + 1 the mean. Ours
/// are [max (753), mean (753)].
fn pooled_order(channels: usize) -> Vec<usize> {
    (0..2 * channels)
        .map(|i| {
            if i < channels {
                2 * i
            } else {
                2 * (i - channels) + 1
            }
        })
        .collect()
}

/// Zero frames before and after the patch for a timbral block: 3 + 3.
fn timbral_padding() -> (usize, usize) {
    (TIME_KERNEL / 2, TIME_KERNEL / 2)
}

/// Zero frames before and after the patch for a temporal block: TF 'same' with stride 1,
/// `(k − 1) / 2` before and the rest after.
fn temporal_padding(block: &FrontendBlock) -> (usize, usize) {
    let k = block.conv.weight.dims()[2];
    ((k - 1) / 2, k - 1 - (k - 1) / 2)
}

/// TF's conv kernel `[kh, kw, in, out]` (HWIO) as burn's `[out, in, kh, kw]`.
fn hwio_to_oihw(kernel: &[f32], [kh, kw, inputs, outputs]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; kernel.len()];
    for h in 0..kh {
        for w in 0..kw {
            for i in 0..inputs {
                for o in 0..outputs {
                    out[((o * inputs + i) * kh + h) * kw + w] =
                        kernel[((h * kw + w) * inputs + i) * outputs + o];
                }
            }
        }
    }
    out
}

/// The bias `<layer>/bias` of `len` values.
fn bias(
    ckpt: &TfCheckpoint,
    layer: &str,
    len: usize,
    device: &Device,
) -> Result<Param<Tensor<1>>, CheckpointError> {
    let values = ckpt.tensor_f32(&format!("{layer}/bias"), &[len])?;
    Ok(Param::from_data(TensorData::new(values, [len]), device))
}

/// The dense layer `layer` (`kernel [inputs, outputs]`, as burn's), its input rows
/// reordered so that row `i` is TF's row `order[i]`.
fn dense(
    ckpt: &TfCheckpoint,
    layer: &str,
    inputs: usize,
    outputs: usize,
    order: Option<&[usize]>,
    device: &Device,
) -> Result<Linear, CheckpointError> {
    let kernel = ckpt.tensor_f32(&format!("{layer}/kernel"), &[inputs, outputs])?;
    let kernel = match order {
        Some(order) => order
            .iter()
            .flat_map(|&row| &kernel[row * outputs..(row + 1) * outputs])
            .copied()
            .collect(),
        None => kernel,
    };
    Ok(Linear {
        weight: Param::from_data(TensorData::new(kernel, [inputs, outputs]), device),
        bias: Some(bias(ckpt, layer, outputs, device)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::cpu_device;
    use burn::store::{BurnpackStore, ModuleSnapshot};

    /// A small musicnn, quick in debug builds.
    fn small() -> MusicnnConfig {
        MusicnnConfig {
            frames: 20,
            mels: 12,
            timbral_filters: 4,
            temporal_filters: 3,
            midend_filters: 5,
            backend_units: 6,
            tags: 7,
        }
    }

    fn ramp(batch: usize, config: &MusicnnConfig, device: &Device) -> Tensor<3> {
        let n = batch * config.frames * config.mels;
        let values: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32) / 50.0).collect();
        Tensor::from_data(
            TensorData::new(values, [batch, config.frames, config.mels]),
            device,
        )
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_msd_shape_matches_models_py() {
        let c = MusicnnConfig::msd();
        assert_eq!(c.timbral_widths(), [38, 67]);
        assert_eq!(c.frontend_channels(), 561);
        assert_eq!(c.midend_channels(), 753);
        assert_eq!(c.embedding_size(), 1506);
        // Python's int(0.7 * 90) is 62, not 63 (0.7 · 90 = 62.99999999999999).
        assert_eq!(MusicnnConfig { mels: 90, ..c }.timbral_widths(), [36, 62]);
    }

    #[test]
    fn the_config_round_trips_through_json() {
        let c = MusicnnConfig::msd();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<MusicnnConfig>(&json).unwrap(), c);
    }

    #[test]
    fn outputs_have_the_documented_shapes() {
        let device = cpu_device();
        let config = small();
        let out = config.init(&device).forward(ramp(2, &config, &device));
        assert_eq!(out.pooled.dims(), [2, config.embedding_size()]);
        assert_eq!(out.penultimate.dims(), [2, 6]);
        assert_eq!(out.tag_logits.dims(), [2, 7]);
        assert!(values(out.tag_logits).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn the_penultimate_layer_folds_the_normalisation_and_batch_norms() {
        let device = cpu_device();
        let config = small();
        let (n, units) = (config.embedding_size(), config.backend_units);
        let spread = |k: usize, len: usize| -> Vec<f32> {
            (0..len)
                .map(|i| 0.5 + ((i * k % 13) as f32) / 10.0)
                .collect()
        };
        let mut net = config.init(&device);
        let shift: Vec<f32> = spread(5, n).iter().map(|v| v - 1.0).collect();
        net.pool_norm = ChannelAffine::new(spread(3, n), shift, &device);
        net.dense_norm = ChannelAffine::new(spread(7, units), spread(2, units), &device);
        let out = net.forward(ramp(2, &config, &device));
        let (pooled, penultimate) = (values(out.pooled), values(out.penultimate));
        let (mean, std) = (spread(4, n), spread(9, n));
        let layer = net.penultimate_layer(&mean, &std);
        assert_eq!((layer.inputs, layer.units), (n, units));
        for b in 0..2 {
            let z: Vec<f32> = (0..n)
                .map(|i| (pooled[b * n + i] - mean[i]) / std[i])
                .collect();
            for j in 0..units {
                let h: f32 = (0..n)
                    .map(|i| z[i] * layer.weight[i * units + j])
                    .sum::<f32>()
                    + layer.bias[j];
                let folded = h.max(0.0) * layer.scale[j] + layer.shift[j];
                let want = penultimate[b * units + j];
                assert!((folded - want).abs() < 1e-4, "{b},{j}: {folded} vs {want}");
            }
        }
    }

    #[test]
    fn hwio_to_oihw_moves_every_element() {
        let dims = [2, 3, 4, 5];
        let kernel: Vec<f32> = (0..120).map(|i| i as f32).collect();
        let out = hwio_to_oihw(&kernel, dims);
        for (h, w, i, o) in [(0, 0, 0, 0), (1, 2, 3, 4), (1, 0, 2, 3), (0, 1, 0, 2)] {
            assert_eq!(
                out[((o * 4 + i) * 2 + h) * 3 + w],
                kernel[((h * 3 + w) * 4 + i) * 5 + o]
            );
        }
    }

    /// A checkpoint with every variable of `config`'s network, in TF's names and shapes,
    /// filled with small deterministic values.
    fn synthetic_checkpoint(config: &MusicnnConfig) -> TfCheckpoint {
        let mut vars: Vec<(String, Vec<i64>)> = Vec::new();
        let bn = |vars: &mut Vec<(String, Vec<i64>)>, name: &str, c: usize| {
            for v in ["beta", "gamma", "moving_mean", "moving_variance"] {
                vars.push((format!("{name}/{v}"), vec![c as i64]));
            }
        };
        let layer = |vars: &mut Vec<(String, Vec<i64>)>, name: &str, kernel: Vec<usize>| {
            let out = kernel[kernel.len() - 1] as i64;
            vars.push((format!("{name}/bias"), vec![out]));
            vars.push((
                format!("{name}/kernel"),
                kernel.iter().map(|&d| d as i64).collect(),
            ));
        };
        bn(&mut vars, names::INPUT_BN, 1);
        let [w74, w77] = config.timbral_widths();
        let timbral = [w74, w77].map(|w| vec![TIME_KERNEL, w, 1, config.timbral_filters]);
        for ((conv, norm), kernel) in names::TIMBRAL.into_iter().zip(timbral) {
            layer(&mut vars, conv, kernel);
            bn(&mut vars, norm, config.timbral_filters);
        }
        for ((conv, norm), k) in names::TEMPORAL.into_iter().zip(TEMPORAL_KERNELS) {
            layer(&mut vars, conv, vec![k, 1, 1, config.temporal_filters]);
            bn(&mut vars, norm, config.temporal_filters);
        }
        for (i, (conv, norm)) in names::MIDEND.into_iter().enumerate() {
            let inputs = if i == 0 {
                config.frontend_channels()
            } else {
                config.midend_filters
            };
            layer(
                &mut vars,
                conv,
                vec![TIME_KERNEL, inputs, 1, config.midend_filters],
            );
            bn(&mut vars, norm, config.midend_filters);
        }
        bn(&mut vars, names::POOL_BN, config.embedding_size());
        layer(
            &mut vars,
            names::DENSE,
            vec![config.embedding_size(), config.backend_units],
        );
        bn(&mut vars, names::DENSE_BN, config.backend_units);
        layer(
            &mut vars,
            names::OUTPUT,
            vec![config.backend_units, config.tags],
        );
        vars.sort();
        let values: Vec<Vec<f32>> = vars
            .iter()
            .enumerate()
            .map(|(v, (name, shape))| {
                let n = shape.iter().product::<i64>() as usize;
                (0..n)
                    .map(|i| {
                        let x = ((i * 7 + v * 13) % 17) as f32 / 17.0;
                        // Variances positive; some gammas negative, as in MSD_musicnn.
                        if name.ends_with("moving_variance") {
                            0.5 + x
                        } else {
                            x - 0.3
                        }
                    })
                    .collect()
            })
            .collect();
        let tensors: Vec<(&str, &[i64], &[f32])> = vars
            .iter()
            .zip(&values)
            .map(|((n, s), v)| (n.as_str(), s.as_slice(), v.as_slice()))
            .collect();
        let (index, data) = crate::models::tf_checkpoint::writer::bundle(&tensors);
        TfCheckpoint::parse_owned(&index, data).unwrap()
    }

    #[test]
    fn a_synthetic_checkpoint_loads_with_the_batch_norms_folded() {
        let device = cpu_device();
        let config = small();
        let ckpt = synthetic_checkpoint(&config);
        let net = Musicnn::from_checkpoint(&ckpt, &config, &device).unwrap();
        // The input batch norm: (x − mean) / √(var + 0.001) · γ + β.
        let read = |v: &str| {
            ckpt.tensor_f32(&format!("batch_normalization/{v}"), &[1])
                .unwrap()[0]
        };
        let expected = |x: f32| {
            (x - read("moving_mean")) / (read("moving_variance") + 1e-3).sqrt() * read("gamma")
                + read("beta")
        };
        let input =
            Tensor::<4>::from_data(TensorData::new(vec![0.0f32, 2.0], [1, 1, 1, 2]), &device);
        let got = net
            .input_norm
            .forward(input)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (g, x) in got.iter().zip([0.0, 2.0]) {
            assert!((g - expected(x)).abs() < 1e-6, "{g} vs {}", expected(x));
        }
        let out = net.forward(ramp(2, &config, &device));
        assert!(values(out.tag_logits).iter().all(|v| v.is_finite()));
        // The back end reads TF's interleaved (max, mean) rows in our [max, mean] order.
        let tf_rows = ckpt
            .tensor_f32(
                "dense/kernel",
                &[config.embedding_size(), config.backend_units],
            )
            .unwrap();
        let ours = net
            .dense
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let (c, units) = (config.midend_channels(), config.backend_units);
        assert_eq!(ours[..units], tf_rows[..units]); // max of channel 0
        assert_eq!(ours[c * units..(c + 1) * units], tf_rows[units..2 * units]); // its mean
        assert_eq!(ours[units..2 * units], tf_rows[2 * units..3 * units]); // max of channel 1
    }

    #[test]
    fn a_checkpoint_of_another_shape_is_refused_naming_the_variable() {
        let device = cpu_device();
        let ckpt = synthetic_checkpoint(&small());
        let other = MusicnnConfig {
            temporal_filters: 4,
            ..small()
        };
        let err = Musicnn::from_checkpoint(&ckpt, &other, &device).unwrap_err();
        assert!(err.to_string().contains("conv2d_2/kernel"), "{err}");
    }

    #[test]
    fn the_network_round_trips_through_burnpack() {
        let device = cpu_device();
        let config = small();
        let net = config.init(&device);
        let mut store = BurnpackStore::from_bytes(None);
        net.save_into(&mut store).unwrap();
        let bytes = store.get_bytes().unwrap();
        let mut reloaded = config.init(&device);
        let mut store = BurnpackStore::from_bytes(Some(bytes));
        reloaded.load_from(&mut store).unwrap();
        let input = ramp(2, &config, &device);
        let (a, b) = (net.forward(input.clone()), reloaded.forward(input));
        let logits = values(b.tag_logits);
        assert_eq!(values(a.tag_logits), logits);
        assert_eq!(values(a.pooled), values(b.pooled));
        // A fresh network differs, so the test compares something.
        let other = config.init(&device).forward(ramp(2, &config, &device));
        assert_ne!(values(other.tag_logits), logits);
    }
}
