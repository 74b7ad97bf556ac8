//! Speed of the real MSD_musicnn network natively, one patch (3 s): each stage in ms and
//! in G multiply-adds/s beside burn's matmul rate on the same shape, for both front-end
//! formulations, then the whole network per patch and per 30 s clip (10 patches).
//! Run: `cargo bench --bench musicnn` (the wheel is fetched into target/musicnn once).
//! The same stages are timed in Chromium's wasm by tests/browser/bench_musicnn.mjs.

#[path = "timing.rs"]
mod timing;

use timing::median_ms;

use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::*;
use genre_classifier::models::{
    FrontendFormulation, Musicnn, MusicnnConfig, MusicnnProfile, cpu_device, fetch_wheel,
    read_checkpoint,
};

/// `batch` log-mel-like patches (values in musicnn's range, 0-4).
fn patches(batch: usize, config: &MusicnnConfig, device: &Device) -> Tensor<3> {
    let n = batch * config.frames * config.mels;
    let values: Vec<f32> = (0..n).map(|i| (i * 7919 % 4000) as f32 / 1000.0).collect();
    Tensor::from_data(
        TensorData::new(values, [batch, config.frames, config.mels]),
        device,
    )
}

fn main() -> Result<()> {
    let wheel = fetch_wheel(Path::new("target/musicnn")).context("fetching musicnn's wheel")?;
    let (ckpt, _) = read_checkpoint(&wheel).context("reading MSD_musicnn")?;
    let device = cpu_device();
    let config = MusicnnConfig::msd();
    let net = Musicnn::from_checkpoint(&ckpt, &config, &device)?;
    let threads = rayon::current_num_threads();
    println!("MSD_musicnn natively ({threads} threads), one 3 s patch, median of 9 runs");
    let formulations = [FrontendFormulation::Unfolded, FrontendFormulation::Conv2d];
    for formulation in formulations {
        println!("\n{formulation:?} front end");
        println!(
            "{:28} {:>9} {:>8} {:>9} {:>12}",
            "stage", "M MAC", "ms", "G MAC/s", "matmul G/s"
        );
        let profile = MusicnnProfile::new(net.clone(), patches(1, &config, &device), formulation);
        let mut total = 0.0;
        for (i, stage) in profile.stages().iter().enumerate() {
            let ms = median_ms(|| profile.run(i), 9);
            total += ms;
            let rate = |ms: f64| stage.macs as f64 / ms / 1e6;
            let matmul = match stage.matmul {
                Some(_) => format!("{:12.1}", rate(median_ms(|| profile.run_matmul(i), 9))),
                None => format!("{:>12}", "-"),
            };
            println!(
                "{:28} {:9.1} {:8.2} {:9.1} {matmul}",
                stage.name,
                stage.macs as f64 / 1e6,
                ms,
                rate(ms)
            );
        }
        println!("{:28} {:9} {total:8.2}", "sum of stages", "");
        for batch in [1, 10] {
            let x = patches(batch, &config, &device);
            let ms = median_ms(
                || {
                    let _ = net
                        .forward_with(x.clone(), formulation)
                        .output
                        .tag_logits
                        .into_data();
                },
                9,
            );
            println!(
                "whole network, {batch:2} patch(es): {ms:8.1} ms ({:.1} ms a patch)",
                ms / batch as f64
            );
        }
    }
    Ok(())
}
