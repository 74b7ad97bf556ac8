//! `classify` on a whole library, end to end with the shipped model on generated tunes:
//! folders walked with non-audio files skipped by their content, the CSV and JSONL
//! outputs with error rows and a failing exit status, `--resume`, `--quick`, `--jobs`
//! and `--shard`.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TempDir, write_wav};
use genre_classifier::features::{QUICK_SEGMENTS, spread_segments};
use genre_classifier::synth::melody;
use serde_json::Value;

const RATE: u32 = 22_050;
const GENRES: [&str; 10] = [
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
];

fn classify(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_classify"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(text: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(text)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// A tune of `seconds` at `path` (seeded by its length and name's length).
fn tune(path: &Path, seconds: f64) {
    let seed = seconds as u64 * 31 + path.as_os_str().len() as u64;
    write_wav(path, &[melody(seconds, RATE, 0.6, seed)], RATE);
}

/// `<dir>/music`: two tunes (one nested, one without an extension), text, a PNG.
fn library(dir: &TempDir) -> PathBuf {
    let music = dir.join("music");
    tune(&music.join("a.wav"), 6.0);
    tune(&music.join("albums/one/b track.wav"), 7.0);
    tune(&music.join("albums/untitled"), 4.0);
    std::fs::write(music.join("notes.txt"), "liner notes\n").unwrap();
    std::fs::write(
        music.join("albums/cover.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .unwrap();
    music
}

/// The CSV's header and rows, every row as long as the header.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    read_csv_rows(path, false)
}

/// Like [`read_csv`], keeping rows of any length (a row cut by a crash).
fn read_csv_flexible(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    read_csv_rows(path, true)
}

/// The CSV's header and rows, of any length when `flexible`.
fn read_csv_rows(path: &Path, flexible: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(flexible)
        .from_path(path)
        .unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn folders_are_walked_in_order_and_non_audio_files_skipped_with_a_reason() {
    let dir = TempDir::new("lib-walk");
    let music = library(&dir);
    let out = classify(&[&music, &"--json", &"--jobs", &"1"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let files: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|v| v["file"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = ["a.wav", "albums/one/b track.wav", "albums/untitled"]
        .iter()
        .map(|f| music.join(f).display().to_string())
        .collect();
    assert_eq!(files, expected, "{err}");
    let notes = music.join("notes.txt").display().to_string();
    assert!(
        err.contains(&format!("skipped: {notes}: not audio: it is text")),
        "{err}"
    );
    assert!(
        err.contains("cover.png: not audio: it is a PNG image"),
        "{err}"
    );
    assert!(
        err.contains("3 songs classified, 2 files skipped (not audio)"),
        "{err}"
    );
}

#[test]
fn csv_has_the_page_columns_and_an_error_row_fails_the_run() {
    let dir = TempDir::new("lib-csv");
    let music = library(&dir);
    // Audio by its first bytes, broken after them: an error row, not a skip.
    let broken = music.join("broken.wav");
    std::fs::write(
        &broken,
        b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0 and then nothing",
    )
    .unwrap();
    let csv = dir.join("out.csv");
    let out = classify(&[&music, &"--csv", &csv]);
    assert!(!out.status.success(), "a broken file must fail the run");
    assert!(out.stdout.is_empty(), "with --csv, stdout stays empty");
    let (header, rows) = read_csv(&csv);
    assert_eq!(
        header.join(","),
        "file,genre,confidence,unsure,tags,seconds,error"
    );
    assert_eq!(rows.len(), 4, "{rows:?}");
    let broken_row = rows
        .iter()
        .find(|r| r[0] == broken.display().to_string())
        .unwrap();
    assert!(
        broken_row[1].is_empty() && broken_row[6].contains("broken.wav"),
        "{broken_row:?}"
    );
    for row in rows.iter().filter(|r| r[0] != broken_row[0]) {
        assert!(GENRES.contains(&row[1].as_str()), "{row:?}");
        let confidence: f64 = row[2].parse().unwrap();
        assert!((0.1..=1.0).contains(&confidence), "{row:?}");
        assert!(row[3] == "true" || row[3] == "false", "{row:?}");
        assert!(row[4].split("; ").count() >= 3, "tags: {row:?}");
        assert!(row[6].is_empty(), "{row:?}");
    }
    let seconds = |name: &str| -> f64 {
        let file = music.join(name).display().to_string();
        rows.iter().find(|r| r[0] == file).unwrap()[5]
            .parse()
            .unwrap()
    };
    assert!((seconds("a.wav") - 6.0).abs() < 0.01);
    assert!((seconds("albums/one/b track.wav") - 7.0).abs() < 0.01);
}

#[test]
fn jsonl_holds_the_full_verdict_as_json_prints_it_or_the_error() {
    let dir = TempDir::new("lib-jsonl");
    let music = library(&dir);
    let missing = dir.join("gone.mp3");
    let jsonl = dir.join("out.jsonl");
    let out = classify(&[&music, &missing, &"--jsonl", &jsonl, &"--json"]);
    assert!(!out.status.success(), "a missing file must fail the run");
    let printed = json_lines(&out.stdout);
    let lines = json_lines(&std::fs::read(&jsonl).unwrap());
    assert_eq!(lines.len(), 4);
    let error = lines.iter().find(|l| l["error"].is_string()).unwrap();
    assert_eq!(error["file"], missing.display().to_string());
    assert!(error["genre"].is_null());
    assert_eq!(printed.len(), 3, "the verdicts, on stdout too");
    for verdict in &printed {
        let line = lines.iter().find(|l| l["file"] == verdict["file"]).unwrap();
        for key in [
            "genre",
            "confidence",
            "unsure",
            "probabilities",
            "segments",
            "tags",
        ] {
            assert_eq!(line[key], verdict[key], "{key}");
        }
        assert!(line["seconds"].as_f64().unwrap() >= 4.0);
        assert!(line["error"].is_null());
    }
}

#[test]
fn resume_appends_only_the_files_not_yet_in_the_output() {
    let dir = TempDir::new("lib-resume");
    let music = library(&dir);
    let csv = dir.join("out.csv");
    assert!(classify(&[&music, &"--csv", &csv]).status.success());
    let (_, first) = read_csv(&csv);
    // A new file, and a crash that cut the last row short.
    tune(&music.join("later.wav"), 5.0);
    let text = std::fs::read_to_string(&csv).unwrap();
    let cut = text.trim_end().rfind(',').unwrap();
    std::fs::write(&csv, &text[..cut - 3]).unwrap();
    let out = classify(&[&music, &"--csv", &csv, &"--resume"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("2 songs classified"), "{err}");
    assert!(err.contains("2 already in the output"), "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.matches("file,genre").count(), 1, "one header:\n{text}");
    let (_, rows) = read_csv_flexible(&csv);
    let whole: Vec<&Vec<String>> = rows.iter().filter(|r| r.len() == 7).collect();
    let files: HashSet<&str> = whole.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(whole.len(), 4, "{text}");
    assert_eq!(files.len(), 4, "no file twice:\n{text}");
    assert_eq!(whole[..2], first.iter().take(2).collect::<Vec<_>>()[..]);
}

#[test]
fn quick_mode_classifies_segments_spread_over_the_song() {
    let dir = TempDir::new("lib-quick");
    let song = dir.join("long.wav");
    tune(&song, 66.0);
    let full = json_lines(&classify(&[&song, &"--json"]).stdout);
    let quick_run = classify(&[&song, &"--json", &"--quick"]);
    assert!(quick_run.status.success(), "{}", stderr(&quick_run));
    let quick = json_lines(&quick_run.stdout);
    let starts = |v: &Value| -> Vec<f64> {
        v["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["start_s"].as_f64().unwrap())
            .collect()
    };
    let all = starts(&full[0]);
    assert_eq!(all.len(), 22);
    let picked: Vec<f64> = spread_segments(all.len(), QUICK_SEGMENTS)
        .iter()
        .map(|&i| all[i])
        .collect();
    assert_eq!(starts(&quick[0]), picked);
    assert!(GENRES.contains(&quick[0]["genre"].as_str().unwrap()));
    // The quick verdict is the mean of the picked segments' verdicts as the full run has them.
    let full_segments = full[0]["segments"].as_array().unwrap();
    let quick_segments = quick[0]["segments"].as_array().unwrap();
    for (q, i) in quick_segments
        .iter()
        .zip(spread_segments(all.len(), QUICK_SEGMENTS))
    {
        assert_eq!(q["genre"], full_segments[i]["genre"]);
    }
}

#[test]
fn one_job_gives_the_same_output_as_all_cores() {
    let dir = TempDir::new("lib-jobs");
    let music = library(&dir);
    let one = classify(&[&music, &"--json", &"--jobs", &"1"]);
    let many = classify(&[&music, &"--json", &"--jobs", &"3"]);
    assert!(one.status.success() && many.status.success());
    assert_eq!(json_lines(&one.stdout).len(), 3);
    assert_eq!(one.stdout, many.stdout);
    let zero = classify(&[&music, &"--jobs", &"0"]);
    assert!(
        zero.status.success(),
        "--jobs 0 means one: {}",
        stderr(&zero)
    );
}

#[test]
fn shards_classify_every_file_exactly_once() {
    let dir = TempDir::new("lib-shard");
    let music = library(&dir);
    let mut seen = Vec::new();
    for k in 0..3 {
        let out = classify(&[&music, &"--json", &"--shard", &format!("{k}/3")]);
        assert!(out.status.success(), "{}", stderr(&out));
        seen.extend(
            json_lines(&out.stdout)
                .into_iter()
                .map(|v| v["file"].clone()),
        );
    }
    seen.sort_by_key(|v| v.to_string());
    let all = json_lines(&classify(&[&music, &"--json"]).stdout);
    let mut expected: Vec<Value> = all.into_iter().map(|v| v["file"].clone()).collect();
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(seen, expected);
    let bad = classify(&[&music, &"--shard", &"3/3"]);
    assert!(!bad.status.success() && stderr(&bad).contains("K must be 0 to N-1"));
}

#[test]
fn a_folder_without_songs_says_so() {
    let dir = TempDir::new("lib-empty");
    std::fs::write(dir.join("readme.txt"), "nothing to hear\n").unwrap();
    let out = classify(&[&dir.0]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no songs found"), "{}", stderr(&out));
    let resume = classify(&[&dir.0, &"--resume"]);
    assert!(stderr(&resume).contains("--resume needs --csv or --jsonl"));
}
