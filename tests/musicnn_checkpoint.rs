//! musicnn's real `MSD_musicnn` checkpoint, read out of the PyPI wheel (pip fetches it
//! into target/musicnn/ when it is missing): every variable the network uses has the
//! shape models.py gives it, the network builds from it, and a forward pass gives finite
//! outputs of the documented shapes.

use std::path::Path;
use std::sync::OnceLock;

use burn::prelude::*;
use genre_classifier::models::{
    MSD_TAGS, Musicnn, MusicnnConfig, TfCheckpoint, cpu_device, fetch_wheel, read_checkpoint,
};

/// The SHA-256 of the wheel's `.data-00000-of-00001`.
const DATA_SHA256: &str = "8579734ee6388f799ed0def4bbd0d1fdcbeaf213ef2a9dc860917bd76a303de6";

/// The checkpoint, read once for all tests.
fn checkpoint() -> &'static TfCheckpoint {
    static CKPT: OnceLock<TfCheckpoint> = OnceLock::new();
    CKPT.get_or_init(|| {
        let wheel = fetch_wheel(Path::new("target/musicnn")).unwrap_or_else(|e| panic!("{e}"));
        let (ckpt, sha) = read_checkpoint(&wheel).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sha, DATA_SHA256, "not the musicnn 0.1.0 weights");
        ckpt
    })
}

/// Every model variable of `build_musicnn` for MSD_musicnn, with its shape (HWIO kernels).
fn model_variables() -> Vec<(String, Vec<usize>)> {
    let mut vars = Vec::new();
    let mut bn = |name: &str, c: usize| {
        for v in ["gamma", "beta", "moving_mean", "moving_variance"] {
            vars.push((format!("{name}/{v}"), vec![c]));
        }
    };
    let bn_channels = [1, 204, 204, 51, 51, 51, 64, 64, 64, 1506, 200];
    for (i, c) in bn_channels.into_iter().enumerate() {
        let name = if i == 0 {
            "batch_normalization".to_string()
        } else {
            format!("batch_normalization_{i}")
        };
        bn(&name, c);
    }
    let convs: [[usize; 4]; 8] = [
        [7, 38, 1, 204],
        [7, 67, 1, 204],
        [128, 1, 1, 51],
        [64, 1, 1, 51],
        [32, 1, 1, 51],
        [7, 561, 1, 64],
        [7, 64, 1, 64],
        [7, 64, 1, 64],
    ];
    for (i, shape) in convs.into_iter().enumerate() {
        let name = if i == 0 {
            "conv2d".to_string()
        } else {
            format!("conv2d_{i}")
        };
        vars.push((format!("{name}/kernel"), shape.to_vec()));
        vars.push((format!("{name}/bias"), vec![shape[3]]));
    }
    for (name, [i, o]) in [("dense", [1506, 200]), ("dense_1", [200, 50])] {
        vars.push((format!("{name}/kernel"), vec![i, o]));
        vars.push((format!("{name}/bias"), vec![o]));
    }
    vars
}

#[test]
fn every_model_variable_is_there_with_its_shape_and_checksum() {
    let ckpt = checkpoint();
    let vars = model_variables();
    assert_eq!(vars.len(), 64);
    let mut parameters = 0;
    for (name, shape) in &vars {
        let values = ckpt
            .tensor_f32(name, shape)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(values.iter().all(|v| v.is_finite()), "{name}");
        parameters += values.len();
    }
    assert_eq!(parameters, 792_079);
    // The rest are Adam's slots and its two power accumulators.
    let others: Vec<&str> = ckpt
        .names()
        .filter(|n| !vars.iter().any(|(v, _)| v == n))
        .collect();
    assert!(
        others
            .iter()
            .all(|n| n.ends_with("/Adam") || n.ends_with("/Adam_1") || n.ends_with("_power")),
        "{others:?}"
    );
    assert_eq!(others.len(), 84 + 2);
}

#[test]
fn variances_are_positive() {
    let ckpt = checkpoint();
    for (name, shape) in model_variables() {
        if name.ends_with("moving_variance") {
            let v = ckpt
                .tensor_f32(&name, &shape)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(v.iter().all(|&x| x >= 0.0), "{name}");
        }
    }
}

/// A deterministic log-mel-like patch: smooth in time and frequency, values in 0..3.
fn signal(config: &MusicnnConfig) -> Vec<f32> {
    (0..config.frames * config.mels)
        .map(|i| {
            let (t, f) = ((i / config.mels) as f32, (i % config.mels) as f32);
            1.5 + 1.5 * (0.21 * t).sin() * (0.13 * f + 0.05 * t).cos()
        })
        .collect()
}

fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn the_network_builds_from_the_checkpoint_and_runs() {
    let device = cpu_device();
    let config = MusicnnConfig::msd();
    let net =
        Musicnn::from_checkpoint(checkpoint(), &config, &device).unwrap_or_else(|e| panic!("{e}"));
    let mut values = vec![0.0; config.frames * config.mels];
    values.extend(signal(&config));
    let patches = Tensor::<3>::from_data(
        TensorData::new(values, [2, config.frames, config.mels]),
        &device,
    );
    let out = net.forward(patches);
    assert_eq!(out.pooled.dims(), [2, 1506]);
    assert_eq!(out.penultimate.dims(), [2, 200]);
    assert_eq!(out.tag_logits.dims(), [2, MSD_TAGS.len()]);
    let logits = to_vec(out.tag_logits);
    for v in [to_vec(out.pooled), to_vec(out.penultimate), logits.clone()] {
        assert!(v.iter().all(|x| x.is_finite()));
    }
    // The two patches are told apart.
    assert_ne!(logits[..50], logits[50..]);

    // One patch's forward time, for the record (`--nocapture` shows it).
    let patch = Tensor::<3>::from_data(
        TensorData::new(signal(&config), [1, config.frames, config.mels]),
        &device,
    );
    let _ = to_vec(net.forward(patch.clone()).tag_logits); // warm-up
    let start = std::time::Instant::now();
    let runs = 3;
    for _ in 0..runs {
        let _ = to_vec(net.forward(patch.clone()).tag_logits);
    }
    eprintln!(
        "musicnn forward, one patch: {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3 / runs as f64
    );
}

#[test]
fn a_missing_or_misshapen_variable_is_named() {
    let device = cpu_device();
    let config = MusicnnConfig {
        midend_filters: 65,
        ..MusicnnConfig::msd()
    };
    let err = Musicnn::from_checkpoint(checkpoint(), &config, &device).unwrap_err();
    assert!(err.to_string().contains("conv2d_5/kernel"), "{err}");
}
