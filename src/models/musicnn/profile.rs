//! musicnn's forward pass cut into the stages a profile reports: each front-end block,
//! the mid end and the back end, with its multiply-adds and the matmul of the same
//! shape, so that a benchmark can time each one and compare its rate with burn's matmul
//! rate (`cargo bench --bench musicnn` natively; `MusicnnBench` in the page benchmark).
//! The timing itself is the caller's: `std::time::Instant` does not exist in the
//! browser's wasm.

use burn::prelude::*;
use serde::Serialize;

use super::{FrontendBlock, FrontendFormulation, Musicnn, TIME_KERNEL};

/// What one stage is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageInfo {
    /// Its name, as the profile prints it.
    pub name: String,
    /// Multiply-adds per run (all patches of the batch).
    pub macs: u64,
    /// `[m, k, n]` of the one matmul with the same multiply-adds as the stage's
    /// convolution, when it has one.
    pub matmul: Option<[usize; 3]>,
}

/// Which part of the network a stage runs.
#[derive(Debug, Clone, Copy)]
enum Part {
    Timbral(usize),
    Temporal(usize),
    Midend,
    Backend,
}

/// musicnn and one batch of patches, with every stage's input computed once.
pub struct MusicnnProfile {
    net: Musicnn,
    formulation: FrontendFormulation,
    patches: Tensor<3>,
    frontend: Tensor<3>,
    all: Tensor<3>,
    stages: Vec<(Part, StageInfo)>,
}

impl MusicnnProfile {
    /// Prepares the profile of `net` on `patches` (`[batch, frames, mels]`) with the
    /// front end computed as `formulation` says.
    pub fn new(net: Musicnn, patches: Tensor<3>, formulation: FrontendFormulation) -> Self {
        let [batch, frames, mels] = patches.dims();
        let (timbral, temporal) = net.frontend(patches.clone(), formulation);
        let frontend = Tensor::cat(timbral.into_iter().chain(temporal).collect(), 1);
        let mut all = vec![frontend.clone()];
        all.extend(net.midend(frontend.clone()));
        let all = Tensor::cat(all, 1);

        let conv = |name: String, part: Part, block: &FrontendBlock| {
            let [filters, _, kt, kf] = block.conv.weight.dims();
            let n = batch * frames * (mels + 1 - kf);
            let info = StageInfo {
                name,
                macs: (filters * kt * kf * n) as u64,
                matmul: Some([filters, kt * kf, n]),
            };
            (part, info)
        };
        let mut stages = Vec::new();
        for (i, block) in net.timbral.iter().enumerate() {
            let [_, _, kt, kf] = block.conv.weight.dims();
            stages.push(conv(format!("timbral {kt}×{kf}"), Part::Timbral(i), block));
        }
        for (i, block) in net.temporal.iter().enumerate() {
            let kt = block.conv.weight.dims()[2];
            stages.push(conv(format!("temporal {kt}×1"), Part::Temporal(i), block));
        }
        let midend_macs: usize = net
            .midend
            .iter()
            .map(|b| b.conv.weight.dims().iter().product::<usize>() * batch * frames)
            .sum();
        let midend = StageInfo {
            name: format!("mid end ({TIME_KERNEL}-frame convs)"),
            macs: midend_macs as u64,
            matmul: None,
        };
        stages.push((Part::Midend, midend));
        let dense = |l: &burn::nn::Linear| l.weight.dims().iter().product::<usize>();
        let backend = StageInfo {
            name: "back end (pooling, dense)".to_string(),
            macs: (batch * (dense(&net.dense) + dense(&net.output))) as u64,
            matmul: None,
        };
        stages.push((Part::Backend, backend));
        Self {
            net,
            formulation,
            patches,
            frontend,
            all,
            stages,
        }
    }

    /// The stages, in the order of the forward pass.
    pub fn stages(&self) -> Vec<StageInfo> {
        self.stages.iter().map(|(_, info)| info.clone()).collect()
    }

    /// Runs stage `index` once, its output read back to the host (so that it is computed,
    /// whatever the backend defers). Out of range: does nothing.
    pub fn run(&self, index: usize) {
        let Some((part, _)) = self.stages.get(index) else {
            return;
        };
        let net = &self.net;
        let one_block = |block: &FrontendBlock, pad: (usize, usize)| match self.formulation {
            FrontendFormulation::Conv2d => {
                let x = net
                    .input_norm
                    .forward(self.patches.clone().unsqueeze_dim::<4>(1));
                block.forward(x, &net.activation)
            }
            FrontendFormulation::Unfolded => {
                let dims = self.patches.dims();
                let x = super::host_values(net.input_norm.forward(self.patches.clone()));
                block
                    .unfolded(pad)
                    .forward(&x, dims, &self.patches.device())
            }
        };
        match *part {
            Part::Timbral(i) => {
                let _ = one_block(&net.timbral[i], super::timbral_padding()).into_data();
            }
            Part::Temporal(i) => {
                let block = &net.temporal[i];
                let _ = one_block(block, super::temporal_padding(block)).into_data();
            }
            Part::Midend => {
                for map in net.midend(self.frontend.clone()) {
                    let _ = map.into_data();
                }
            }
            Part::Backend => {
                let _ = net.backend(self.all.clone()).tag_logits.into_data();
            }
        }
    }

    /// Multiplies random matrices of stage `index`'s matmul shape once with burn's
    /// matmul (nothing for a stage without one): the rate to compare the stage with.
    pub fn run_matmul(&self, index: usize) {
        let Some([m, k, n]) = self.stages.get(index).and_then(|(_, s)| s.matmul) else {
            return;
        };
        let device = self.patches.device();
        let fill = |len: usize| (0..len).map(|i| (i % 17) as f32 / 17.0).collect::<Vec<_>>();
        let a = Tensor::<2>::from_data(TensorData::new(fill(m * k), [m, k]), &device);
        let b = Tensor::<2>::from_data(TensorData::new(fill(k * n), [k, n]), &device);
        let _ = a.matmul(b).into_data();
    }
}
