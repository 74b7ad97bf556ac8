//! `train --model musicnn` end to end on a tiny synthetic set with short excerpts beside
//! it: the backbone comes from the musicnn wheel (pip fetches it into target/musicnn when
//! missing), the head learns, the card records backbone, excerpts and the prior grid,
//! and `classify` loads the result and lists the backbone's tags.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TempDir, write_wav};
use genre_classifier::models::Architecture;
use genre_classifier::synth::{tone, white_noise};

const RATE: u32 = 22_050;

/// Three genres that sound nothing alike (the prior's map knows all three names).
fn synthetic(genre: &str, i: usize, seconds: f64) -> Vec<f32> {
    let jitter = i as f64 * 5.0;
    let noise = white_noise(seconds, RATE, 0.02, 7 + i as u64);
    let base = match genre {
        "blues" => tone(196.0 + jitter, seconds, RATE, 0.5),
        "classical" => tone(2_200.0 + jitter * 10.0, seconds, RATE, 0.3),
        _ => white_noise(seconds, RATE, 0.5, i as u64),
    };
    base.iter().zip(&noise).map(|(a, b)| a + b).collect()
}

fn make(dir: &Path, seconds: f64, files: usize) {
    for genre in ["blues", "classical", "metal"] {
        for i in 0..files {
            let path = dir.join(genre).join(format!("{genre}.{i:05}.wav"));
            write_wav(&path, &[synthetic(genre, i, seconds)], RATE);
        }
    }
}

/// Runs `train --model musicnn` on `clips` and `excerpts` into `out`, with `extra` args.
fn train(clips: &Path, excerpts: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let wheel = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/musicnn");
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args([
            "--model",
            "musicnn",
            "--split",
            "track",
            "--valid-fraction",
            "0.4",
        ])
        .args(["--epochs", "60", "--no-cache", "--seed", "3"])
        .arg("--data")
        .arg(clips)
        .arg("--extra-data")
        .arg(excerpts)
        .arg("--wheel-dir")
        .arg(&wheel)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_head_can_start_from_musicnns_back_end_and_fine_tune_it() {
    let tmp = TempDir::new("train-musicnn-backend");
    let (clips, excerpts, out) = (tmp.join("clips"), tmp.join("excerpts"), tmp.join("model"));
    make(&clips, 6.5, 4);
    make(&excerpts, 2.5, 2);
    let output = train(&clips, &excerpts, &out, &["--head-from-backbone"]);
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{log}");
    let card: genre_classifier::card::ModelCard =
        serde_json::from_str(&std::fs::read_to_string(out.join("card.json")).unwrap()).unwrap();
    let Architecture::Musicnn(config) = &card.architecture else {
        panic!("not a musicnn card: {}", card.architecture.name());
    };
    assert_eq!(config.head.hidden, [200], "the back end's width");
    let report = card.training.as_ref().unwrap();
    assert!(
        report
            .hyperparameters
            .augmentation
            .contains("started from musicnn's back end"),
        "{:?}",
        report.hyperparameters
    );
    assert!(report.history.iter().all(|e| e.train_loss.is_finite()));

    let refused = train(
        &clips,
        &excerpts,
        &tmp.join("refused"),
        &["--head-from-backbone", "--head-hidden", "64"],
    );
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(message.contains("one hidden layer of 200"), "{message}");
}

#[test]
fn musicnn_head_trains_on_clips_and_excerpts_and_classifies_with_tags() {
    let tmp = TempDir::new("train-musicnn");
    let (clips, excerpts, out) = (tmp.join("clips"), tmp.join("excerpts"), tmp.join("model"));
    make(&clips, 6.5, 5);
    make(&excerpts, 2.5, 3);
    let output = train(&clips, &excerpts, &out, &[]);
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    let card: genre_classifier::card::ModelCard =
        serde_json::from_str(&std::fs::read_to_string(out.join("card.json")).unwrap()).unwrap();
    let Architecture::Musicnn(config) = &card.architecture else {
        panic!("not a musicnn card: {}", card.architecture.name());
    };
    assert_eq!(config.source.package, "musicnn");
    assert_eq!(config.source.checkpoint_sha256.len(), 64);
    assert_eq!(
        card.features.kind,
        genre_classifier::features::FeatureKind::LogMel
    );
    assert_eq!(card.normalization.mean.len(), 1506);
    let report = card.training.as_ref().unwrap();
    assert!(report.validation.track_accuracy >= 0.66, "{log}");
    let excerpt = report.excerpts.as_ref().expect("excerpts evaluated apart");
    assert!(excerpt.per_genre.iter().map(|g| g.tracks).sum::<usize>() > 0);
    assert_eq!(report.tag_prior_grid.len(), 11);
    assert!(log.contains("tag prior share"), "{log}");

    let file = excerpts.join("metal/metal.00001.wav");
    let classified = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("--model")
        .arg(&out)
        .arg("--json")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        classified.status.success(),
        "{}",
        String::from_utf8_lossy(&classified.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&classified.stdout).unwrap();
    assert_eq!(
        json["segments"].as_array().map(Vec::len),
        Some(1),
        "one looped patch"
    );
    let tags = json["tags"].as_array().expect("musicnn verdicts list tags");
    assert_eq!(tags.len(), 5);
    assert!(tags.iter().all(|t| {
        t["probability"]
            .as_f64()
            .is_some_and(|p| (0.0..=1.0).contains(&p))
    }));
}
