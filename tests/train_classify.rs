//! The trainer and the classifier end to end on a tiny synthetic data set (tones and
//! noise per class, generated here): it learns, its exports load back exactly, bad
//! weights and bad data are refused with clear errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TempDir, write_wav};
use genre_classifier::card::{CARD_FILE, WEIGHTS_FILE};
use genre_classifier::features::{FeatureExtractor, FeatureSettings, PadMode};
use genre_classifier::inference::{Classifier, ModelError, load_model_dir};
use genre_classifier::models::cpu_device;
use genre_classifier::synth::{tone, white_noise};

const RATE: u32 = 22_050;

fn run(exe: &str, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(exe).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The signal of file `i` of class `genre`: each class sounds clearly different, and
/// files within a class vary a little.
fn synthetic(genre: &str, i: usize, seconds: f64) -> Vec<f32> {
    let jitter = i as f64 * 7.0;
    let noise = white_noise(seconds, RATE, 0.02, 100 + i as u64);
    let base = match genre {
        "low" => tone(180.0 + jitter, seconds, RATE, 0.5),
        "high" => tone(3_000.0 + jitter * 10.0, seconds, RATE, 0.3),
        _ => white_noise(seconds, RATE, 0.4, i as u64),
    };
    base.iter().zip(&noise).map(|(a, b)| a + b).collect()
}

/// `<dir>/<genre>/<genre>.0000i.wav`: 3 genres × 6 files × 6 s (two segments each).
fn make_dataset(dir: &Path, genres: &[&str]) {
    for genre in genres {
        for i in 0..6 {
            let path = dir.join(genre).join(format!("{genre}.{i:05}.wav"));
            write_wav(&path, &[synthetic(genre, i, 6.0)], RATE);
        }
    }
}

fn train(data: &Path, out: &Path, cache: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec![
        "--data".into(),
        data.into(),
        "--out".into(),
        out.into(),
        "--cache".into(),
        cache.into(),
    ];
    // Defaults for a quick run; `extra` may override any of them.
    let defaults = [
        ("--model", "ann"),
        ("--split", "track"),
        ("--valid-fraction", "0.34"),
        ("--epochs", "25"),
        ("--learning-rate", "0.001"),
        ("--batch-size", "8"),
    ];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag.into(), value.into()]);
        }
    }
    args.extend(extra.iter().map(Into::into));
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    run(env!("CARGO_BIN_EXE_train"), &args)
}

struct Trained {
    dir: TempDir,
    model: PathBuf,
    log: String,
}

fn trained(name: &str) -> Trained {
    let dir = TempDir::new(name);
    make_dataset(&dir.join("data"), &["high", "low", "noise"]);
    let model = dir.join("model");
    let out = train(&dir.join("data"), &model, &dir.join("cache"), &[]);
    let log = text(&out);
    assert!(out.status.success(), "training failed:\n{log}");
    Trained { dir, model, log }
}

#[test]
fn a_tiny_synthetic_set_trains_to_high_accuracy_and_classifies_from_the_cli() {
    let t = trained("train-tiny");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.model.join(CARD_FILE)).unwrap()).unwrap();
    let validation = &card["training"]["validation"];
    let track_accuracy = validation["track_accuracy"].as_f64().unwrap();
    assert!(
        track_accuracy >= 0.99,
        "track accuracy {track_accuracy}\n{}",
        t.log
    );
    assert_eq!(card["labels"], serde_json::json!(["high", "low", "noise"]));
    assert_eq!(validation["confusion"].as_array().unwrap().len(), 3);
    for file in ["training.svg", "confusion.svg", WEIGHTS_FILE] {
        assert!(t.model.join(file).is_file(), "{file} missing");
    }
    assert!(t.log.contains("track acc"), "no summary table:\n{}", t.log);

    // classify: a fresh file of each class, plus one unreadable file in the middle.
    let files = t.dir.join("new");
    std::fs::create_dir_all(&files).unwrap();
    let mut args: Vec<std::ffi::OsString> =
        vec!["--json".into(), "--model".into(), t.model.clone().into()];
    for genre in ["low", "high", "noise"] {
        let path = files.join(format!("{genre}.wav"));
        write_wav(&path, &[synthetic(genre, 9, 7.5)], RATE);
        args.push(path.into());
        if genre == "low" {
            let bad = files.join("not-audio.wav");
            std::fs::write(&bad, b"this is not audio").unwrap();
            args.push(bad.into());
        }
    }
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = run(env!("CARGO_BIN_EXE_classify"), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a failed file must fail the run");
    assert!(stderr.contains("not-audio.wav"), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "the other files are still classified");
    for (line, genre) in lines.iter().zip(["low", "high", "noise"]) {
        assert!(
            line["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{genre}.wav"))
        );
        assert_eq!(line["genre"], genre, "{line}");
        let sum: f64 = line["probabilities"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-4);
        // 7.5 s: two full segments and an end-aligned third.
        let segments = line["segments"].as_array().unwrap();
        assert_eq!(segments.len(), 3);
        assert_eq!(segments[1]["start_s"], 3.0);
        // The song's probabilities are the mean of its segments', calibrated by the
        // card's temperature (fitted on validation by the trainer).
        let temperature = card["calibration"]["temperature"].as_f64().unwrap();
        let labels = ["high", "low", "noise"];
        let mean = |g: &str| -> f64 {
            segments
                .iter()
                .map(|s| s["probabilities"][g].as_f64().unwrap())
                .sum::<f64>()
                / 3.0
        };
        let total: f64 = labels.iter().map(|g| mean(g).powf(1.0 / temperature)).sum();
        let calibrated = mean(genre).powf(1.0 / temperature) / total;
        let song = line["probabilities"][genre].as_f64().unwrap();
        assert!((calibrated - song).abs() < 1e-4, "{calibrated} vs {song}");
        assert_eq!(line["confidence"].as_f64().unwrap(), song);
    }
}

#[test]
fn mixup_gain_and_label_smoothing_still_learn_and_are_recorded_in_the_card() {
    let dir = TempDir::new("train-mixup");
    make_dataset(&dir.join("data"), &["high", "low", "noise"]);
    let model = dir.join("model");
    let extra = [
        "--mixup",
        "0.4",
        "--gain-db",
        "6",
        "--label-smoothing",
        "0.1",
        "--epochs",
        "40",
    ];
    let out = train(&dir.join("data"), &model, &dir.join("cache"), &extra);
    assert!(out.status.success(), "training failed:\n{}", text(&out));
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join(CARD_FILE)).unwrap()).unwrap();
    let accuracy = card["training"]["validation"]["track_accuracy"]
        .as_f64()
        .unwrap();
    assert!(
        accuracy >= 0.99,
        "track accuracy {accuracy}\n{}",
        text(&out)
    );
    let augmentation = card["training"]["hyperparameters"]["augmentation"]
        .as_str()
        .unwrap();
    for phrase in ["mixup, λ ~ Beta(0.4, 0.4)", "±6 dB", "label smoothing 0.1"] {
        assert!(
            augmentation.contains(phrase),
            "{phrase:?} not in {augmentation:?}"
        );
    }

    // Out-of-range settings are refused before any work, naming the flag.
    for (flag, value) in [
        ("--mixup", "2"),
        ("--label-smoothing", "0.95"),
        ("--gain-db", "40.5"),
    ] {
        let out = train(
            &dir.join("data"),
            &dir.join("refused"),
            &dir.join("cache"),
            &[flag, value],
        );
        assert!(!out.status.success(), "{flag} {value} was accepted");
        assert!(
            text(&out).contains(flag),
            "{flag} not named:\n{}",
            text(&out)
        );
    }
    assert!(!dir.join("refused").exists());
}

#[test]
fn same_seed_and_data_give_the_same_weights_and_the_cache_is_used() {
    let t = trained("train-seed");
    let again = t.dir.join("again");
    let out = train(&t.dir.join("data"), &again, &t.dir.join("cache"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("18 files read from the feature cache"),
        "second run did not use the cache:\n{}",
        text(&out)
    );
    let a = std::fs::read(t.model.join(WEIGHTS_FILE)).unwrap();
    let b = std::fs::read(again.join(WEIGHTS_FILE)).unwrap();
    assert!(a == b, "same seed and data gave different weights");
}

#[test]
fn exported_weights_load_back_to_identical_outputs() {
    let device = cpu_device();
    let settings = FeatureSettings::default();
    let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    for name in genre_classifier::models::TUTORIAL_ARCHITECTURES {
        let architecture = genre_classifier::models::Architecture::tutorial(
            name,
            settings.frames_per_segment(),
            settings.n_mfcc,
            labels.len(),
        )
        .unwrap();
        device.seed(7);
        let network = architecture.init(&device);
        let mut card = genre_classifier::card::ModelCard {
            format: genre_classifier::card::CARD_FORMAT.into(),
            version: genre_classifier::card::CARD_VERSION,
            architecture,
            labels: labels.clone(),
            features: settings.clone(),
            normalization: genre_classifier::card::Normalization {
                mean: vec![1.0; settings.n_mfcc],
                std: vec![2.0; settings.n_mfcc],
            },
            parameters: 0,
            weights: genre_classifier::card::WeightsInfo::of(WEIGHTS_FILE, &[]),
            calibration: None,
            training: None,
            own_labels: None,
        };
        let weights = Classifier::export_weights(&network, &card).unwrap();
        card.weights = genre_classifier::card::WeightsInfo::of(WEIGHTS_FILE, &weights);
        let fresh = Classifier::from_network(card.clone(), network, &device);
        let loaded =
            Classifier::load(&serde_json::to_string(&card).unwrap(), &weights, &device).unwrap();
        let song = synthetic("low", 1, 9.0);
        let segments = FeatureExtractor::new(settings.clone())
            .unwrap()
            .song(&song)
            .unwrap();
        assert_eq!(
            fresh.segment_probabilities(&segments).unwrap(),
            loaded.segment_probabilities(&segments).unwrap(),
            "{name}: outputs differ after export and load"
        );
    }
}

#[test]
fn corrupt_truncated_and_mismatched_weights_are_refused_with_the_reason() {
    let t = trained("train-bad-weights");
    let device = cpu_device();
    assert!(load_model_dir(&t.model, &device).is_ok());
    let weights_path = t.model.join(WEIGHTS_FILE);
    let good = std::fs::read(&weights_path).unwrap();
    let card = std::fs::read_to_string(t.model.join(CARD_FILE)).unwrap();
    // Why a card and weights bytes are refused.
    let refusal = |card: &str, weights: &[u8]| {
        Classifier::load(card, weights, &device)
            .unwrap_err()
            .to_string()
    };

    // One flipped byte in the tensor data: the checksum catches it.
    let mut flipped = good.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x40;
    let err = Classifier::load(&card, &flipped, &device).unwrap_err();
    assert!(matches!(err, ModelError::WeightsMismatch { .. }), "{err}");
    assert!(err.to_string().contains("does not match its card"), "{err}");

    // Truncated, and not a weights file at all.
    for bad in [&good[..good.len() / 2], &b"garbage"[..], &[][..]] {
        let err = Classifier::load(&card, bad, &device).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::CorruptWeights { .. } | ModelError::WeightsMismatch { .. }
            ),
            "{err}"
        );
    }
    std::fs::write(&weights_path, &good[..good.len() - 10]).unwrap();
    let err = load_model_dir(&t.model, &device).unwrap_err().to_string();
    assert!(err.contains(&weights_path.display().to_string()), "{err}");

    // Weights trained for other labels, put beside this card.
    let other_data = t.dir.join("other");
    make_dataset(&other_data, &["high", "low", "quiet"]);
    let other = t.dir.join("other-model");
    let out = train(
        &other_data,
        &other,
        &t.dir.join("cache"),
        &["--epochs", "1"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let foreign = std::fs::read(other.join(WEIGHTS_FILE)).unwrap();
    let err = refusal(&card, &foreign);
    assert!(
        err.contains("for another model") && err.contains("quiet"),
        "{err}"
    );

    // A card for other feature settings: refused by the extractor check, saying what differs.
    std::fs::write(&weights_path, &good).unwrap();
    let classifier = load_model_dir(&t.model, &device).unwrap();
    let reflect = FeatureSettings {
        pad_mode: PadMode::Reflect,
        ..FeatureSettings::default()
    };
    let err = classifier.check_features(&reflect).unwrap_err().to_string();
    assert!(err.contains("pad_mode"), "{err}");

    // A card that is not one, and a card edited to another feature setting.
    let err = refusal("{\"labels\": []}", &good);
    assert!(err.contains("not a model card"), "{err}");
    let edited = card.replace("\"n_mels\": 128", "\"n_mels\": 64");
    assert_ne!(edited, card);
    let err = refusal(&edited, &good);
    assert!(
        err.contains("for another model") && err.contains("n_mels"),
        "{err}"
    );

    // classify with the broken model: a one-line error naming the folder, non-zero exit.
    std::fs::write(&weights_path, b"garbage").unwrap();
    let wav = t.dir.join("x.wav");
    write_wav(&wav, &[synthetic("low", 1, 4.0)], RATE);
    let out = run(
        env!("CARGO_BIN_EXE_classify"),
        &["--model".as_ref(), t.model.as_os_str(), wav.as_os_str()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("corrupt") && stderr.contains("model.bpk"),
        "{stderr}"
    );
}

#[test]
fn bad_data_folders_get_clear_errors_and_leave_nothing_half_written() {
    let dir = TempDir::new("train-bad-data");
    let cache = dir.join("cache");

    // No genre folders.
    let flat = dir.join("flat");
    write_wav(&flat.join("song.wav"), &[tone(440.0, 4.0, RATE, 0.5)], RATE);
    let out = train(&flat, &dir.join("m1"), &cache, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no genre folders"), "{}", text(&out));
    assert!(!dir.join("m1").exists(), "output written after a failure");

    // An empty genre folder beside real ones.
    let empty = dir.join("empty");
    make_dataset(&empty, &["high", "low"]);
    std::fs::create_dir_all(empty.join("jazz")).unwrap();
    let out = train(&empty, &dir.join("m2"), &cache, &[]);
    assert!(!out.status.success());
    let log = text(&out);
    assert!(
        log.contains("jazz") && log.contains("no audio files"),
        "{log}"
    );
    assert!(!dir.join("m2").exists());

    // An unreadable file is named and skipped; training goes on.
    let broken = dir.join("broken");
    make_dataset(&broken, &["high", "low"]);
    std::fs::write(
        broken.join("low").join("low.99999.wav"),
        b"RIFF....WAVEjunk",
    )
    .unwrap();
    let out = train(&broken, &dir.join("m3"), &cache, &["--epochs", "2"]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("skipped") && log.contains("low.99999.wav"),
        "{log}"
    );

    // Kaggle's layout, found from its root: Data/genres_original/<genre>/*.wav.
    let kaggle = dir.join("kaggle");
    make_dataset(
        &kaggle.join("Data").join("genres_original"),
        &["high", "low"],
    );
    let out = train(&kaggle, &dir.join("m5"), &cache, &["--epochs", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    let card = std::fs::read_to_string(dir.join("m5").join(CARD_FILE)).unwrap();
    assert!(
        card.contains("\"high\"") && card.contains("\"low\""),
        "{card}"
    );

    // A filtered split whose lists name none of the tracks.
    let lists = dir.join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    for f in [
        "train_filtered.txt",
        "valid_filtered.txt",
        "test_filtered.txt",
    ] {
        std::fs::write(lists.join(f), "blues/blues.00001.wav\n").unwrap();
    }
    let out = train(
        &broken,
        &dir.join("m4"),
        &cache,
        &[
            "--split",
            "filtered",
            "--split-dir",
            lists.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("none of the"), "{}", text(&out));
}

#[test]
fn the_recipes_are_listed_and_one_ignores_the_places_it_does_not_use() {
    let out = run(env!("CARGO_BIN_EXE_train"), &["--list-recipes".as_ref()]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines,
        [
            "musicnn\twww/models/musicnn",
            "ann\twww/models/ann",
            "ann-reg\twww/models/ann-reg",
            "cnn\twww/models/cnn",
            "rnn\twww/models/rnn",
            "cnn-random\ttarget/models/cnn-random",
        ]
    );

    // cnn-random splits segments at random and trains on --data alone: the extra data
    // and split lists build.sh passes to every recipe change nothing.
    let dir = TempDir::new("train-recipe");
    make_dataset(&dir.join("data"), &["high", "low"]);
    make_dataset(&dir.join("other"), &["high", "low"]);
    let recipe = |out: &Path, extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--recipe".into(),
            "cnn-random".into(),
            "--epochs".into(),
            "1".into(),
            "--no-cache".into(),
            "--data".into(),
            dir.join("data").into(),
            "--out".into(),
            out.into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        run(env!("CARGO_BIN_EXE_train"), &args)
    };
    let plain = recipe(&dir.join("plain"), &[]);
    assert!(plain.status.success(), "{}", text(&plain));
    let other = dir.join("other");
    let with_places = recipe(
        &dir.join("places"),
        &[
            "--extra-data",
            other.to_str().unwrap(),
            "--split-dir",
            other.to_str().unwrap(),
        ],
    );
    assert!(with_places.status.success(), "{}", text(&with_places));
    let weights = |d: &str| std::fs::read(dir.join(d).join(WEIGHTS_FILE)).unwrap();
    assert!(
        weights("plain") == weights("places"),
        "the places changed the model"
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("places").join(CARD_FILE)).unwrap())
            .unwrap();
    assert_eq!(card["architecture"]["name"], "cnn");
    assert!(
        card["training"]["split"]
            .as_str()
            .unwrap()
            .starts_with("random over segments"),
        "{card}"
    );
    assert_eq!(
        card["training"]["data"]["source"],
        dir.join("data").display().to_string()
    );

    let data = dir.join("data");
    let unknown = run(
        env!("CARGO_BIN_EXE_train"),
        &[
            "--recipe".as_ref(),
            "nope".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
            "--out".as_ref(),
            dir.join("none").as_os_str(),
        ],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("unknown recipe"),
        "{}",
        text(&unknown)
    );
}
