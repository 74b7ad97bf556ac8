//! The burn musicnn with the wheel's `MSD_musicnn` weights reproduces musicnn's own
//! TensorFlow outputs (tests/fixtures/musicnn/, made by make_musicnn_fixtures.sh from the
//! same log-mel patches): tags, logits, pooled and penultimate features, and the front-end
//! and mid-end feature maps, within [`TOLERANCE`] and [`MAP_TOLERANCE`].

use std::path::{Path, PathBuf};

use burn::prelude::*;
use genre_classifier::models::{
    FrontendFormulation, MSD_TAGS, Musicnn, MusicnnConfig, MusicnnFeatures, cpu_device,
    fetch_wheel, read_checkpoint,
};
use serde_json::Value;

/// Largest accepted `|ours − TF| / max(1, |TF|)`: an absolute bound of 1e-4 for values up
/// to 1 in magnitude, relative for larger ones (logits and pooled features reach ~40).
/// Measured worst: 1.9e-5 (max_pool of classical.00030; 2.1e-4 absolute on values ~24).
const TOLERANCE: f32 = 1e-4;

/// The same bound for the front-end and mid-end feature maps of the first patch. The
/// mid end's batch norms scale by up to 78 (γ/√(σ² + ε) of `batch_normalization_7`), so
/// the last-bit differences of the convolutions' summation order (burn's vs oneDNN's,
/// ~2e-6 in `cnn1`) grow to ~1.4e-4 in `cnn3`. The outputs above do not inherit them:
/// they pool over time, and their own layers are well conditioned.
const MAP_TOLERANCE: f32 = 5e-4;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/musicnn")
}

/// A raw little-endian f32 fixture of `shape`.
fn read_f32(file: &str, shape: &[usize]) -> Vec<f32> {
    let path = fixtures().join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes.len(),
        4 * shape.iter().product::<usize>(),
        "{}",
        path.display()
    );
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// `[batch, channels, frames]` → per patch `[frames, channels]`, as the fixtures store it.
fn frames_first(t: Tensor<3>, patch: usize) -> Vec<f32> {
    let [_, channels, frames] = t.dims();
    to_vec(
        t.slice([patch..patch + 1, 0..channels, 0..frames])
            .reshape([channels, frames])
            .transpose(),
    )
}

/// The worst error of `ours` against `reference`: (max abs, max abs / max(1, |ref|)).
fn errors(ours: &[f32], reference: &[f32]) -> (f32, f32) {
    assert_eq!(ours.len(), reference.len());
    ours.iter()
        .zip(reference)
        .fold((0.0f32, 0.0f32), |(abs, rel), (&a, &r)| {
            let d = (a - r).abs();
            (abs.max(d), rel.max(d / r.abs().max(1.0)))
        })
}

/// Records and checks one output of one clip.
struct Report {
    lines: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    fn check(&mut self, clip: &str, what: &str, ours: &[f32], reference: &[f32], bound: f32) {
        let (abs, rel) = errors(ours, reference);
        let line = format!("{clip:26} {what:12} max abs {abs:.3e}  max scaled {rel:.3e}");
        if rel.is_nan() || rel > bound {
            self.failures.push(line.clone());
        }
        self.lines.push(line);
    }
}

#[test]
fn msd_musicnn_matches_tensorflow_on_the_fixture_patches() {
    let manifest_path = fixtures().join("manifest.json");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest_path.display())),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let labels: Vec<&str> = manifest["labels"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(labels, MSD_TAGS);

    let wheel = fetch_wheel(Path::new("target/musicnn")).unwrap_or_else(|e| panic!("{e}"));
    let (ckpt, sha) = read_checkpoint(&wheel).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        Some(sha.as_str()),
        manifest["checkpoint"]["data_sha256"].as_str()
    );
    let device = cpu_device();
    let config = MusicnnConfig::msd();
    let net = Musicnn::from_checkpoint(&ckpt, &config, &device).unwrap_or_else(|e| panic!("{e}"));

    let mut report = Report {
        lines: Vec::new(),
        failures: Vec::new(),
    };
    let clips = manifest["clips"].as_array().cloned().unwrap_or_default();
    assert!(!clips.is_empty(), "no clips in the manifest");
    // Both formulations of the front end: the fast one the page and `classify` run, and
    // burn's Conv2d layers as the Keras code reads.
    let runs = [FrontendFormulation::Unfolded, FrontendFormulation::Conv2d];
    for (clip, formulation) in clips.iter().flat_map(|c| runs.map(|f| (c, f))) {
        let name = format!("{} {formulation:?}", clip["name"].as_str().unwrap_or("?"));
        let name = name.as_str();
        let files = &clip["files"];
        let file = |key: &str| -> Option<(String, Vec<usize>)> {
            let f = &files[key];
            let shape = f["shape"]
                .as_array()?
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Option<Vec<usize>>>()?;
            Some((f["file"].as_str()?.to_string(), shape))
        };
        let read = |key: &str| file(key).map(|(f, shape)| read_f32(&f, &shape));
        let (logmel_file, shape) = file("logmel").unwrap_or_else(|| panic!("{name}: no logmel"));
        let patches = Tensor::<3>::from_data(
            TensorData::new(
                read_f32(&logmel_file, &shape),
                [shape[0], shape[1], shape[2]],
            ),
            &device,
        );
        let MusicnnFeatures {
            timbral,
            temporal,
            midend,
            output,
        } = net.forward_with(patches, formulation);
        let mut midend = midend.into_iter();
        let mut next = || {
            midend
                .next()
                .unwrap_or_else(|| panic!("three mid-end maps"))
        };
        let (cnn1, cnn2, cnn3) = (next(), next(), next());
        let channels = config.midend_channels();
        let pooled = to_vec(output.pooled);
        let (max, mean): (Vec<f32>, Vec<f32>) = (
            pooled
                .chunks(2 * channels)
                .flat_map(|p| p[..channels].to_vec())
                .collect(),
            pooled
                .chunks(2 * channels)
                .flat_map(|p| p[channels..].to_vec())
                .collect(),
        );
        let logits = to_vec(output.tag_logits);
        let tags: Vec<f32> = logits.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
        let outputs = [
            ("tags", tags),
            ("logits", logits),
            ("max_pool", max),
            ("mean_pool", mean),
            ("penultimate", to_vec(output.penultimate)),
        ];
        for (key, ours) in outputs {
            let reference = read(key).unwrap_or_else(|| panic!("{name}: no {key}"));
            report.check(name, key, &ours, &reference, TOLERANCE);
        }
        // The first patch's feature maps, where the fixtures have them.
        let timbral_filters = config.timbral_filters;
        let t74 = timbral.clone().narrow(1, 0, timbral_filters);
        let t77 = timbral.narrow(1, timbral_filters, timbral_filters);
        let maps = [
            ("timbral74", t74),
            ("timbral77", t77),
            ("temporal", temporal),
            ("cnn1", cnn1),
            ("cnn2", cnn2),
            ("cnn3", cnn3),
        ];
        for (key, map) in maps {
            if let Some(reference) = read(key) {
                report.check(name, key, &frames_first(map, 0), &reference, MAP_TOLERANCE);
            }
        }
    }
    println!("{}", report.lines.join("\n"));
    assert!(
        report.failures.is_empty(),
        "beyond {TOLERANCE} (outputs) or {MAP_TOLERANCE} (feature maps):\n{}",
        report.failures.join("\n")
    );
}
