//! The files `--csv` and `--jsonl` write: one row per song, written and flushed as soon
//! as the song is done, so an interrupted run keeps every row it finished; with
//! `--resume`, the files already in an output are read back and new rows appended.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use genre_classifier::inference::Classification;
use serde::Serialize;

use crate::job::Outcome;

/// The CSV columns, as the page's export has them.
pub const CSV_COLUMNS: [&str; 7] = [
    "file",
    "genre",
    "confidence",
    "unsure",
    "tags",
    "seconds",
    "error",
];

/// Separator of the tags in the CSV's `tags` column.
const TAG_SEPARATOR: &str = "; ";

/// One JSONL line: the file and its verdict, or the file and its error.
#[derive(Serialize)]
struct JsonlLine<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    result: Option<&'a Classification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// An output file being written.
enum Sink {
    Csv(Box<csv::Writer<File>>),
    Jsonl(File),
}

/// The output files of a run.
#[derive(Default)]
pub struct Outputs {
    sinks: Vec<(PathBuf, Sink)>,
}

impl Outputs {
    /// Opens `csv` and `jsonl` where given: created afresh, or with `resume` appended
    /// to (a CSV's header written only when the file is new or empty).
    pub fn open(csv: Option<&Path>, jsonl: Option<&Path>, resume: bool) -> Result<Self> {
        let mut sinks = Vec::new();
        if let Some(path) = csv {
            let (file, fresh) = open_output(path, resume)?;
            let mut writer = csv::Writer::from_writer(file);
            if fresh {
                writer.write_record(CSV_COLUMNS)?;
                writer.flush()?;
            }
            sinks.push((path.to_owned(), Sink::Csv(Box::new(writer))));
        }
        if let Some(path) = jsonl {
            let (file, _) = open_output(path, resume)?;
            sinks.push((path.to_owned(), Sink::Jsonl(file)));
        }
        Ok(Self { sinks })
    }

    /// Whether any output file is written.
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Writes and flushes the row of `file` to every output (nothing for a skipped file).
    pub fn write(&mut self, file: &str, outcome: &Outcome) -> Result<()> {
        if matches!(outcome, Outcome::Skipped(_)) {
            return Ok(());
        }
        for (path, sink) in &mut self.sinks {
            let written = match sink {
                Sink::Csv(writer) => {
                    writer.write_record(csv_row(file, outcome))?;
                    writer.flush()
                }
                Sink::Jsonl(out) => {
                    let line = serde_json::to_string(&jsonl_line(file, outcome))?;
                    writeln!(out, "{line}").and_then(|()| out.flush())
                }
            };
            written.with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// The CSV row of `file`.
fn csv_row(file: &str, outcome: &Outcome) -> [String; 7] {
    match outcome {
        Outcome::Classified { result, seconds } => [
            file.to_owned(),
            result.genre.clone(),
            format!("{:.4}", result.confidence),
            result.unsure.to_string(),
            result
                .tags
                .iter()
                .map(|t| t.tag.as_str())
                .collect::<Vec<_>>()
                .join(TAG_SEPARATOR),
            format!("{seconds:.2}"),
            String::new(),
        ],
        Outcome::Failed(error) | Outcome::Skipped(error) => {
            let mut row: [String; 7] = Default::default();
            row[0] = file.to_owned();
            row[6] = error.clone();
            row
        }
    }
}

/// The JSONL line of `file`.
fn jsonl_line<'a>(file: &'a str, outcome: &'a Outcome) -> JsonlLine<'a> {
    let (seconds, result, error) = match outcome {
        Outcome::Classified { result, seconds } => (Some(*seconds), Some(&**result), None),
        Outcome::Failed(e) | Outcome::Skipped(e) => (None, None, Some(e.as_str())),
    };
    JsonlLine {
        file,
        seconds,
        result,
        error,
    }
}

/// Opens `path` for writing: truncated, or with `resume` appended to after making sure
/// it ends with a line break (a crash may have cut its last line). Returns the file and
/// whether it is empty (so needs a header).
fn open_output(path: &Path, resume: bool) -> Result<(File, bool)> {
    let context = || format!("opening {}", path.display());
    if !resume {
        return Ok((File::create(path).with_context(context)?, true));
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .with_context(context)?;
    let len = file.metadata().with_context(context)?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::End(-1)).with_context(context)?;
        file.read_exact(&mut last).with_context(context)?;
        if last[0] != b'\n' {
            file.write_all(b"\n").with_context(context)?;
        }
    }
    Ok((file, len == 0))
}

/// The files already in the outputs that exist: with both a CSV and a JSONL, only those
/// in both (a file missing from either is classified again). `None` when no output
/// exists yet.
pub fn already_done(csv: Option<&Path>, jsonl: Option<&Path>) -> Result<Option<HashSet<String>>> {
    let mut done: Option<HashSet<String>> = None;
    let sets = [
        csv.filter(|p| p.exists()).map(files_in_csv),
        jsonl.filter(|p| p.exists()).map(files_in_jsonl),
    ];
    for set in sets.into_iter().flatten() {
        let set = set?;
        done = Some(match done {
            Some(d) => d.intersection(&set).cloned().collect(),
            None => set,
        });
    }
    Ok(done)
}

/// The `file` column of the whole rows of a CSV written by `--csv`.
fn files_in_csv(path: &Path) -> Result<HashSet<String>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers = reader.headers()?.clone();
    let column = headers
        .iter()
        .position(|h| h == "file")
        .with_context(|| format!("{} has no 'file' column", path.display()))?;
    let mut files = HashSet::new();
    for record in reader.records() {
        // A row cut short by a crash lacks columns: its file is classified again.
        let whole = record.ok().filter(|r| r.len() == headers.len());
        if let Some(file) = whole.and_then(|r| r.get(column).map(str::to_owned)) {
            files.insert(file);
        }
    }
    Ok(files)
}

/// The `file` of each line of a JSONL written by `--jsonl` (lines that do not parse,
/// such as one cut by a crash, are ignored).
fn files_in_jsonl(path: &Path) -> Result<HashSet<String>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut files = HashSet::new();
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let value: Option<serde_json::Value> = serde_json::from_str(&line).ok();
        if let Some(file) = value.as_ref().and_then(|v| v["file"].as_str()) {
            files.insert(file.to_owned());
        }
    }
    Ok(files)
}
