//! Speed of the four networks on burn's CPU backends (ndarray, flex): inference on the
//! 10 segments of a 30 s clip, and one training step of a 32-segment batch.
//! Run: `cargo bench --bench backends`.

#[path = "timing.rs"]
mod timing;

use timing::median_ms;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use genre_classifier::models::{Architecture, TUTORIAL_ARCHITECTURES};

fn input(batch: usize, device: &Device) -> Tensor<3> {
    let values: Vec<f32> = (0..batch * 130 * 13)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
        .collect();
    Tensor::from_data(TensorData::new(values, [batch, 130, 13]), device)
}

#[allow(deprecated)]
fn main() {
    let backends = [("ndarray", Device::ndarray()), ("flex", Device::flex())];
    println!("model    backend   infer 10 segs (ms)   train step 32 (ms)");
    for name in TUTORIAL_ARCHITECTURES {
        let Some(arch) = Architecture::tutorial(name, 130, 13, 10) else {
            continue;
        };
        for (backend, device) in &backends {
            let network = arch.init(device);
            let x = input(10, device);
            let infer = median_ms(
                || {
                    let _ = network.forward(x.clone()).into_data();
                },
                20,
            );
            let train_device = device.clone().autodiff();
            let mut trained = arch.init(&train_device);
            let mut optim = AdamConfig::new().init();
            let loss = CrossEntropyLossConfig::new().init(&train_device);
            let xb = input(32, &train_device);
            let targets = Tensor::<1, Int>::from_data(
                TensorData::new((0..32).map(|i| i % 10).collect::<Vec<i64>>(), [32]),
                &train_device,
            );
            let step = median_ms(
                || {
                    let l = loss.forward(trained.forward(xb.clone()), targets.clone());
                    let grads = GradientsParams::from_grads(l.backward(), &trained);
                    trained = optim.step(1e-4, trained.clone(), grads);
                },
                5,
            );
            println!("{name:<8} {backend:<9} {infer:>18.2} {step:>20.1}");
        }
        let _ = arch.init(&backends[0].1).num_params();
    }
}
