//! musicnn's front-end blocks (conv → ReLU → batch norm → max over frequency), computed
//! as unfold + matmul instead of burn's `Conv2d`.
//!
//! The five front-end convolutions hold 96 % of musicnn's multiply-adds. burn's `Conv2d`
//! reaches only 56-67 % of burn's own matmul rate on these shapes, and it writes the
//! whole `[filters, frames, positions]` map before the max over frequency reads it back.
//! Here a chunk of frames is unfolded into columns (`[kernel values, frames · positions]`,
//! one column per output position, frequency innermost), multiplied as `W × cols` with
//! burn's matmul (gemm, SIMD in wasm too), and reduced over frequency along the contiguous
//! axis while the chunk's output is still in cache (../shared/docs/PERFORMANCE.md).
//! burn has no fused conv-and-reduce, which is why this is written here.
//!
//! The reduction is exact, not an approximation: TF applies ReLU, then the batch norm's
//! `x · scale + shift`, then the max over frequency. ReLU and the bias are monotone, so
//! the max over frequency of `relu(y + bias) · scale + shift` is
//! `relu(max y + bias) · scale + shift` where `scale ≥ 0`, and
//! `relu(min y + bias) · scale + shift` where `scale < 0` (most of MSD_musicnn's timbral
//! scales are negative). Each filter takes its max or its min by the sign of its scale.

use burn::prelude::*;

/// Frames per unfolded chunk: large enough for gemm to run at full rate, small enough
/// that a chunk's output (`filters × frames × positions` values) stays in cache for the
/// reduction. Measured with `cargo bench --bench musicnn` (14-24 were within noise).
const CHUNK_FRAMES: usize = 16;

/// One front-end block's weights, read off its burn modules for the unfolded forward.
pub(super) struct UnfoldedBlock {
    /// `[filters, kernel_time · kernel_freq]`: the conv's OIHW weight with its one input
    /// channel dropped; row-major `(time, freq)` matches the column order of [`unfold`].
    pub weight: Tensor<2>,
    /// Per filter: the conv's bias.
    pub bias: Vec<f32>,
    /// Per filter: the folded batch norm's scale.
    pub scale: Vec<f32>,
    /// Per filter: the folded batch norm's shift.
    pub shift: Vec<f32>,
    /// Kernel length in frames.
    pub kernel_time: usize,
    /// Kernel width in mel bands (frequency is not padded: 'valid').
    pub kernel_freq: usize,
    /// Zero frames before the patch.
    pub pad_before: usize,
    /// Zero frames after the patch.
    pub pad_after: usize,
}

impl UnfoldedBlock {
    /// Filters (output channels).
    fn filters(&self) -> usize {
        self.bias.len()
    }

    /// Patches `[batch, frames, mels]` as row-major values (after the input batch norm)
    /// → the block's map `[batch, filters, frames]`.
    pub fn forward(
        &self,
        patches: &[f32],
        [batch, frames, mels]: [usize; 3],
        device: &Device,
    ) -> Tensor<3> {
        let one = |patch: &[f32]| self.patch_map(patch, frames, mels, device);
        let per_patch = patches.chunks_exact(frames * mels);
        // Natively the patches of a batch run on all cores (a 30 s clip's 10 at once); the
        // browser's wasm has one thread per worker, and several workers instead.
        #[cfg(not(target_arch = "wasm32"))]
        let maps: Vec<Vec<f32>> = {
            use rayon::prelude::*;
            per_patch
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(one)
                .collect()
        };
        #[cfg(target_arch = "wasm32")]
        let maps: Vec<Vec<f32>> = per_patch.map(one).collect();
        Tensor::from_data(
            TensorData::new(maps.concat(), [batch, self.filters(), frames]),
            device,
        )
    }

    /// One patch `[frames, mels]` → its map `[filters, frames]`, chunk by chunk of frames.
    fn patch_map(&self, patch: &[f32], frames: usize, mels: usize, device: &Device) -> Vec<f32> {
        let positions = mels + 1 - self.kernel_freq;
        let mut map = vec![0.0f32; self.filters() * frames];
        let padded = self.pad_in_time(patch, frames, mels);
        for first in (0..frames).step_by(CHUNK_FRAMES) {
            let count = CHUNK_FRAMES.min(frames - first);
            let cols = unfold(
                &padded,
                mels,
                first,
                count,
                self.kernel_time,
                self.kernel_freq,
            );
            let cols = Tensor::<2>::from_data(
                TensorData::new(
                    cols,
                    [self.kernel_time * self.kernel_freq, count * positions],
                ),
                device,
            );
            let y = host_values(self.weight.clone().matmul(cols));
            self.reduce(&y, positions, first, count, frames, &mut map);
        }
        map
    }

    /// The patch `[frames, mels]` with the block's zero frames before and after.
    fn pad_in_time(&self, patch: &[f32], frames: usize, mels: usize) -> Vec<f32> {
        let mut padded = vec![0.0; (self.pad_before + frames + self.pad_after) * mels];
        padded[self.pad_before * mels..(self.pad_before + frames) * mels].copy_from_slice(patch);
        padded
    }

    /// Reduces `y` (`[filters, count · positions]`, a chunk's conv output without bias)
    /// over frequency into `map` (`[filters, frames]`) at frames `first..first + count`:
    /// max or min by the sign of each filter's scale, then bias, ReLU and batch norm.
    fn reduce(
        &self,
        y: &[f32],
        positions: usize,
        first: usize,
        count: usize,
        frames: usize,
        map: &mut [f32],
    ) {
        for (f, row) in y.chunks_exact(count * positions).enumerate() {
            let (bias, scale, shift) = (self.bias[f], self.scale[f], self.shift[f]);
            let out = &mut map[f * frames + first..f * frames + first + count];
            for (value, at_frame) in out.iter_mut().zip(row.chunks_exact(positions)) {
                let extreme = if scale >= 0.0 {
                    at_frame.iter().copied().fold(f32::NEG_INFINITY, f32::max)
                } else {
                    at_frame.iter().copied().fold(f32::INFINITY, f32::min)
                };
                *value = (extreme + bias).max(0.0) * scale + shift;
            }
        }
    }
}

/// A tensor's values on the host as f32 (every float dtype converts; this network holds
/// no other).
pub(super) fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap_or_default()
}

/// Columns of frames `first..first + count` of the time-padded patch (`mels` values per
/// frame) for a `kernel_time × kernel_freq` kernel: row `dt · kernel_freq + df`, column
/// `t · positions + p` holds `padded[first + t + dt][p + df]`. Rows are filled by
/// contiguous copies.
fn unfold(
    padded: &[f32],
    mels: usize,
    first: usize,
    count: usize,
    kernel_time: usize,
    kernel_freq: usize,
) -> Vec<f32> {
    let positions = mels + 1 - kernel_freq;
    let width = count * positions;
    let mut cols = vec![0.0; kernel_time * kernel_freq * width];
    for dt in 0..kernel_time {
        for df in 0..kernel_freq {
            let row = &mut cols[(dt * kernel_freq + df) * width..][..width];
            for (t, dst) in row.chunks_exact_mut(positions).enumerate() {
                let src = (first + t + dt) * mels + df;
                dst.copy_from_slice(&padded[src..src + positions]);
            }
        }
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfold_places_each_kernel_value_under_its_output_position() {
        // 4 frames × 3 mels, values 10·frame + mel; kernel 2 × 2, chunk of frames 1..3.
        let padded: Vec<f32> = (0..4)
            .flat_map(|t| (0..3).map(move |m| (10 * t + m) as f32))
            .collect();
        let cols = unfold(&padded, 3, 1, 2, 2, 2);
        // 2 positions per frame, 2 frames: width 4; rows (dt, df) = (0,0) (0,1) (1,0) (1,1).
        assert_eq!(
            cols,
            [
                10.0, 11.0, 20.0, 21.0, // dt 0, df 0
                11.0, 12.0, 21.0, 22.0, // dt 0, df 1
                20.0, 21.0, 30.0, 31.0, // dt 1, df 0
                21.0, 22.0, 31.0, 32.0, // dt 1, df 1
            ]
        );
    }
}
