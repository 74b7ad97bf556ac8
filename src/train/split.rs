//! Splitting data into training and validation: by segment at random (the tutorial's,
//! which puts parts of one song on both sides), by track at random, or by the published
//! fault-filtered, artist-conscious lists.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::TrainError;
use crate::dataset::{Dataset, track_id};

/// How to split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// Segments at random (inflated accuracy; for comparison with the tutorial).
    Random,
    /// Tracks at random, stratified by genre.
    Track,
    /// The fault-filtered lists (`train_filtered.txt`, `valid_filtered.txt`, `test_filtered.txt`).
    Filtered,
}

impl FromStr for SplitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(Self::Random),
            "track" => Ok(Self::Track),
            "filtered" => Ok(Self::Filtered),
            _ => Err(format!(
                "unknown split {s:?}: use random, track or filtered"
            )),
        }
    }
}

/// Where tracks missing from the filtered lists go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    /// Into training (the default: more data for the rare genres).
    Train,
    /// Into validation.
    Valid,
    /// Nowhere.
    Skip,
}

impl FromStr for Unlisted {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "train" => Ok(Self::Train),
            "valid" => Ok(Self::Valid),
            "skip" => Ok(Self::Skip),
            _ => Err(format!("unknown choice {s:?}: use train, valid or skip")),
        }
    }
}

/// How to split, in full.
#[derive(Debug, Clone)]
pub struct SplitOptions {
    /// The kind of split.
    pub kind: SplitKind,
    /// Fraction held out for validation (random and track splits).
    pub valid_fraction: f64,
    /// Folder of the filtered lists (filtered split).
    pub split_dir: Option<PathBuf>,
    /// Where unlisted tracks go (filtered split).
    pub unlisted: Unlisted,
    /// Seed of the shuffles.
    pub seed: u64,
}

/// Which side of the split something is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Trained on.
    Train,
    /// Validated on.
    Valid,
    /// Not used (held-out test tracks, or skipped).
    Excluded,
}

impl SplitOptions {
    /// A one-line description for the model card.
    pub fn describe(&self) -> String {
        match self.kind {
            SplitKind::Random => format!(
                "random over segments, {:.0} % validation, seed {} (segments of one track on both sides: inflated)",
                self.valid_fraction * 100.0,
                self.seed
            ),
            SplitKind::Track => format!(
                "random over tracks per genre, {:.0} % validation, seed {}",
                self.valid_fraction * 100.0,
                self.seed
            ),
            SplitKind::Filtered => format!(
                "fault-filtered artist-conscious lists (Kereliuk et al. 2015); test-listed tracks excluded; unlisted tracks: {}",
                match self.unlisted {
                    Unlisted::Train => "train",
                    Unlisted::Valid => "valid",
                    Unlisted::Skip => "skipped",
                }
            ),
        }
    }
}

fn read_list(path: &Path) -> Result<Vec<String>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        TrainError::Data(format!("{}: cannot read split list: {e}", path.display()))
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| track_id(Path::new(l)))
        .collect())
}

/// Assigns every track to a side, for the track and filtered splits. (The random split
/// assigns segments; see [`split_segments`].)
pub fn assign_tracks(set: &Dataset, options: &SplitOptions) -> Result<Vec<Side>, TrainError> {
    match options.kind {
        SplitKind::Random => Ok(vec![Side::Train; set.tracks.len()]),
        SplitKind::Track => {
            let mut sides = vec![Side::Train; set.tracks.len()];
            let mut rng = StdRng::seed_from_u64(options.seed);
            for label in 0..set.genres.len() {
                let mut ids: Vec<usize> = (0..set.tracks.len())
                    .filter(|&i| set.tracks[i].label == label)
                    .collect();
                ids.shuffle(&mut rng);
                let mut held = (ids.len() as f64 * options.valid_fraction).round() as usize;
                if ids.len() >= 2 {
                    held = held.clamp(1, ids.len() - 1);
                }
                for &i in ids.iter().take(held) {
                    sides[i] = Side::Valid;
                }
            }
            Ok(sides)
        }
        SplitKind::Filtered => {
            let dir = options
                .split_dir
                .clone()
                .unwrap_or_else(|| set.root.join("splits"));
            let mut listed: HashMap<String, Side> = HashMap::new();
            for (file, side) in [
                ("test_filtered.txt", Side::Excluded),
                ("valid_filtered.txt", Side::Valid),
                ("train_filtered.txt", Side::Train),
            ] {
                for id in read_list(&dir.join(file))? {
                    listed.insert(id, side);
                }
            }
            let fallback = match options.unlisted {
                Unlisted::Train => Side::Train,
                Unlisted::Valid => Side::Valid,
                Unlisted::Skip => Side::Excluded,
            };
            let sides: Vec<Side> = set
                .tracks
                .iter()
                .map(|t| listed.get(&t.id).copied().unwrap_or(fallback))
                .collect();
            if !set.tracks.iter().any(|t| listed.contains_key(&t.id)) {
                return Err(TrainError::Data(format!(
                    "none of the {} tracks appear in the split lists in {} (ids look like {:?})",
                    set.tracks.len(),
                    dir.display(),
                    set.tracks.first().map(|t| t.id.as_str()).unwrap_or("")
                )));
            }
            Ok(sides)
        }
    }
}

/// Splits segment indices `0..count` at random (the tutorial's split).
pub fn split_segments(count: usize, options: &SplitOptions) -> Vec<Side> {
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut StdRng::seed_from_u64(options.seed));
    let held = (count as f64 * options.valid_fraction).round() as usize;
    let mut sides = vec![Side::Train; count];
    for &i in order.iter().take(held) {
        sides[i] = Side::Valid;
    }
    sides
}
