//! What `classify` prints: a song's verdict on standard output (text, or one JSON
//! object per line with `--json`), errors and skipped files on standard error.

use genre_classifier::inference::Classification;
use serde::Serialize;

use crate::job::Outcome;

/// A `--json` line: the file and its verdict.
#[derive(Serialize)]
struct JsonLine<'a> {
    file: &'a str,
    #[serde(flatten)]
    result: &'a Classification,
}

/// How verdicts are printed.
pub struct Console {
    /// Print verdicts on standard output (off when they go to output files only).
    pub verdicts: bool,
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Genres listed per file in text.
    pub top: usize,
}

impl Console {
    /// Prints what became of `file`.
    pub fn show(&self, file: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Classified { result, .. } if self.verdicts => {
                if self.json {
                    match serde_json::to_string(&JsonLine { file, result }) {
                        Ok(json) => println!("{json}"),
                        Err(e) => eprintln!("error: {file}: {e}"),
                    }
                } else {
                    print_text(file, result, self.top);
                }
            }
            Outcome::Classified { .. } => {}
            Outcome::Failed(error) => eprintln!("error: {error}"),
            Outcome::Skipped(reason) => eprintln!("skipped: {file}: {reason}"),
        }
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The top genres of `file` on one line, then one line per segment.
fn print_text(file: &str, result: &Classification, top: usize) {
    let ranked: Vec<String> = result
        .probabilities
        .ranked()
        .iter()
        .take(top.max(1))
        .map(|(g, p)| format!("{g} {:.1} %", p * 100.0))
        .collect();
    println!("{file}: {}", ranked.join(", "));
    for segment in &result.segments {
        let p = segment.probabilities.get(&segment.genre).unwrap_or(0.0);
        println!(
            "  {:>6}  {:<10} {:>5.1} %",
            clock(segment.start_s),
            segment.genre,
            p * 100.0
        );
    }
}
