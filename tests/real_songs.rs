//! The shipped default model on real songs and on sounds that are not music: the same
//! verdict at any playback level, no validation song called "not music", and generated
//! tones, noise and speech refused as not music (issue "Real songs").

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, write_wav};
use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::{FeatureExtractor, MusicEvidence};
use genre_classifier::inference::{Classifier, load_model_dir};
use genre_classifier::models::{DEFAULT_MODEL, cpu_device};
use genre_classifier::synth::{self, LEVEL_SHIFTS_DB, gain_shifted};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn default_model() -> Classifier {
    load_model_dir(
        &root().join("www/models").join(DEFAULT_MODEL),
        &cpu_device(),
    )
    .unwrap()
}

/// The validation files of a data folder's manifest (`split` = valid).
fn validation_files(folder: &str) -> Vec<PathBuf> {
    let dir = root().join("../shared/data").join(folder);
    let manifest = std::fs::read_to_string(dir.join("manifest.csv"))
        .unwrap_or_else(|e| panic!("{folder}/manifest.csv: {e} (the tests need ../shared/data)"));
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (split, file) = (column("split"), column("file"));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| cells[split] == "valid")
        .map(|cells| dir.join(cells[file]))
        .collect()
}

fn genre_at(classifier: &Classifier, extractor: &mut FeatureExtractor, samples: &[f32]) -> String {
    let segments = extractor.song(samples).unwrap();
    classifier.classify(&segments).unwrap().genre
}

#[test]
fn validation_tracks_keep_their_verdict_at_every_level() {
    let classifier = default_model();
    let mut extractor = FeatureExtractor::new(classifier.card().features.clone()).unwrap();
    let rate = extractor.settings().sample_rate;
    // Every fifth validation track: about 20 tracks of every genre the split holds.
    let files: Vec<PathBuf> = validation_files("gtzan").into_iter().step_by(5).collect();
    let (mut same, mut total) = (0, 0);
    for file in &files {
        let samples = load_clip(file, rate).unwrap().samples;
        let reference = genre_at(&classifier, &mut extractor, &samples);
        for db in LEVEL_SHIFTS_DB.into_iter().filter(|&d| d != 0.0) {
            let shifted = genre_at(&classifier, &mut extractor, &gain_shifted(&samples, db));
            same += usize::from(shifted == reference);
            total += 1;
        }
    }
    assert!(files.len() >= 20, "{} files", files.len());
    assert!(
        same as f64 >= 0.95 * total as f64,
        "{same} of {total} verdicts unchanged"
    );
}

#[test]
fn no_validation_song_is_called_not_music() {
    let settings = default_model().card().features.clone();
    let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
    let files: Vec<PathBuf> = [
        validation_files("gtzan"),
        validation_files("gtzan-excerpts"),
    ]
    .concat();
    assert!(files.len() > 150);
    for file in &files {
        let samples = load_clip(file, settings.sample_rate).unwrap().samples;
        let mut evidence = MusicEvidence::default();
        for segment in extractor.song(&samples).unwrap() {
            evidence.add_features(&segment.features, &settings);
        }
        assert_eq!(evidence.not_music(), None, "{}", file.display());
    }
}

/// `classify` on `path`: (success, stderr).
fn classify(path: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tones_noise_clicks_and_speech_are_not_music() {
    let dir = TempDir::new("not-music");
    let mut files: Vec<PathBuf> = synth::not_music(8.0, 22_050)
        .into_iter()
        .enumerate()
        .map(|(i, (_, samples))| {
            let path = dir.join(&format!("signal-{i}.wav"));
            write_wav(&path, &[samples], 22_050);
            path
        })
        .collect();
    let speech = dir.join("speech.wav");
    let spoken = Command::new("espeak-ng")
        .args(["-w", speech.to_str().unwrap()])
        .arg("Good morning. Here is the weather for today: clouds in the north, sunshine in the south, and around twelve degrees. Tomorrow will be windy, with showers in the afternoon.")
        .status();
    assert!(
        spoken.is_ok_and(|s| s.success()),
        "espeak-ng is needed (./build.sh setup installs it)"
    );
    files.push(speech);
    for file in &files {
        let (ok, stderr) = classify(file);
        assert!(!ok, "{} was given a genre", file.display());
        assert!(stderr.contains("does not sound like music"), "{stderr}");
    }
    // A quiet, clipped or limited real song is still music.
    let song = load_clip(
        &root().join("../shared/data/gtzan/rock/rock.00000.ogg"),
        22_050,
    )
    .unwrap();
    let loud = dir.join("loud.wav");
    write_wav(&loud, &[gain_shifted(&song.samples, 12.0)], 22_050);
    let (ok, stderr) = classify(&loud);
    assert!(ok, "a clipped master was refused: {stderr}");
}
