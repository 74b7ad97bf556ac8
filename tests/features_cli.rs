//! The `features` tool end to end on generated folders: the tutorial's JSON layout, skipped
//! files named with their reason, atomic output, and clear failures.

mod common;

use std::process::Command;

use common::{TempDir, write_wav};
use genre_classifier::synth;
use serde_json::Value;

fn features(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_features"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn writes_the_tutorial_layout_and_names_skipped_files() {
    let dir = TempDir::new("cli-ok");
    let data = dir.join("data");
    write_wav(
        &data.join("hum/a.wav"),
        &[synth::tone(110.0, 7.0, 44_100, 0.5)],
        44_100,
    );
    write_wav(
        &data.join("hum/b.wav"),
        &[synth::tone(220.0, 3.5, 22_050, 0.5)],
        22_050,
    );
    write_wav(
        &data.join("hiss/c.wav"),
        &[synth::white_noise(31.0, 22_050, 0.3, 1)],
        22_050,
    );
    std::fs::write(data.join("hiss/broken.wav"), "RIFF but not really").unwrap();
    std::fs::write(
        data.join("hiss/readme.txt"),
        "not listed: not an audio extension",
    )
    .unwrap();
    let out = dir.join("data.json");
    let run = features(&[data.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("broken.wav"),
        "skipped file not named: {stderr}"
    );
    assert!(stderr.contains("3 of 4 files read, 1 skipped"), "{stderr}");

    let json: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["mapping"], serde_json::json!(["hiss", "hum"]));
    // hiss/c: 31 s → 10 segments (limit); hum/a: 7 s → 2; hum/b: 3.5 s → 1.
    let labels: Vec<u64> = json["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(labels, [vec![0; 10], vec![1; 3]].concat());
    let mfcc = json["mfcc"].as_array().unwrap();
    assert_eq!(mfcc.len(), 13);
    assert!(mfcc.iter().all(|s| s.as_array().unwrap().len() == 130));
    assert!(mfcc.iter().all(|s| s[0].as_array().unwrap().len() == 13));
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 13);
    assert!(files[10].as_str().unwrap().ends_with("hum/a.wav"));
    assert_eq!(json["settings"]["n_mfcc"], 13);
}

#[test]
fn segments_flag_limits_segments_per_file() {
    let dir = TempDir::new("cli-seg");
    let data = dir.join("data");
    write_wav(
        &data.join("hum/a.wav"),
        &[synth::tone(110.0, 12.0, 22_050, 0.5)],
        22_050,
    );
    let out = dir.join("d.json");
    let run = features(&[
        data.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--segments".as_ref(),
        "2".as_ref(),
    ]);
    assert!(run.status.success());
    let json: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["mfcc"].as_array().unwrap().len(), 2);
}

#[test]
fn nothing_readable_fails_without_writing() {
    let dir = TempDir::new("cli-bad");
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("rock")).unwrap();
    std::fs::write(data.join("rock/x.mp3"), "not an mp3").unwrap();
    let out = dir.join("out.json");
    let run = features(&[data.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no file could be read"));
    assert!(!out.exists());
}

#[test]
fn a_folder_without_genres_is_refused() {
    let dir = TempDir::new("cli-flat");
    write_wav(
        &dir.join("a.wav"),
        &[synth::tone(110.0, 4.0, 22_050, 0.5)],
        22_050,
    );
    let run = features(&[
        dir.0.as_os_str(),
        "--out".as_ref(),
        dir.join("o.json").as_os_str(),
    ]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no genre folders"), "{stderr}");
}

#[test]
fn a_manifest_folder_reads_like_train_reads_it() {
    let dir = TempDir::new("cli-manifest");
    let data = dir.join("data");
    // Files in a flat folder; the manifest says which genre each is.
    write_wav(
        &data.join("clips/one.wav"),
        &[synth::tone(110.0, 4.0, 22_050, 0.5)],
        22_050,
    );
    write_wav(
        &data.join("clips/two.wav"),
        &[synth::white_noise(7.0, 22_050, 0.3, 2)],
        22_050,
    );
    std::fs::write(
        data.join("manifest.csv"),
        "id,genre,split,file\nb.1,noise,train,clips/two.wav\na.1,hum,valid,clips/one.wav\n",
    )
    .unwrap();
    let out = dir.join("m.json");
    let run = features(&[data.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let json: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["mapping"], serde_json::json!(["hum", "noise"]));
    let labels: Vec<u64> = json["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    // one.wav: 4 s → 1 segment (hum); two.wav: 7 s → 2 segments (noise).
    assert_eq!(labels, [0, 1, 1]);
    assert!(json["files"][0].as_str().unwrap().ends_with("one.wav"));
}
