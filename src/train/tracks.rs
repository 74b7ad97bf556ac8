//! Finding the labelled tracks of a data folder in the layouts users have:
//! a `manifest.csv` (../shared/data/gtzan), the original GTZAN (`genres/<genre>/*.au`),
//! Kaggle's copy (`Data/genres_original/<genre>/*.wav`), or `<root>/<genre>/*` directly.

use std::path::{Path, PathBuf};

use super::TrainError;
use crate::dataset;

/// One labelled audio file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Track id: the file name without extension, e.g. `blues.00012`.
    pub id: String,
    /// Index into [`TrackSet::genres`].
    pub label: usize,
    /// The audio file.
    pub path: PathBuf,
}

/// The genres (sorted) and tracks of a data folder.
#[derive(Debug, Clone)]
pub struct TrackSet {
    /// Genre names in label order.
    pub genres: Vec<String>,
    /// Tracks sorted by genre, then id.
    pub tracks: Vec<Track>,
    /// The folder the genre folders or manifest were found in.
    pub root: PathBuf,
}

/// The id of a track file: its name without extension.
pub fn track_id(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// Finds the tracks under `dir`; see the module docs for the layouts tried.
pub fn find_tracks(dir: &Path) -> Result<TrackSet, TrainError> {
    if !dir.is_dir() {
        return Err(TrainError::Data(format!(
            "{}: not a folder (expected a GTZAN folder: <genre>/<file>.wav|au|...)",
            dir.display()
        )));
    }
    let manifest = dir.join("manifest.csv");
    if manifest.is_file() {
        return read_manifest(dir, &manifest);
    }
    let candidates = [
        dir.to_path_buf(),
        dir.join("genres"),
        dir.join("genres_original"),
        dir.join("Data").join("genres_original"),
    ];
    let root = candidates
        .iter()
        .find(|c| c.is_dir() && dataset::scan(c).is_ok())
        .ok_or_else(|| {
            TrainError::Data(format!(
                "{}: no genre folders with audio files; expected <genre>/<file>.wav|au|mp3|flac|ogg \
                 here, in genres/ or in Data/genres_original/, or a manifest.csv",
                dir.display()
            ))
        })?;
    let scanned = dataset::scan(root).map_err(|e| TrainError::Data(e.to_string()))?;
    if let Some(empty) = scanned.empty_folders.first() {
        return Err(TrainError::Data(format!(
            "{}: genre folder has no audio files (.wav, .au, .mp3, .flac, .ogg)",
            empty.display()
        )));
    }
    let tracks = scanned
        .files
        .into_iter()
        .map(|f| Track {
            id: track_id(&f.path),
            label: f.label,
            path: f.path,
        })
        .collect();
    Ok(TrackSet {
        genres: scanned.genres,
        tracks,
        root: root.clone(),
    })
}

#[derive(serde::Deserialize)]
struct ManifestRow {
    id: String,
    genre: String,
    file: String,
}

fn read_manifest(dir: &Path, manifest: &Path) -> Result<TrackSet, TrainError> {
    let file = std::fs::File::open(manifest)
        .map_err(|e| TrainError::Data(format!("{}: {e}", manifest.display())))?;
    parse_manifest(dir, manifest, file)
}

/// The tracks a `manifest.csv` lists (columns `id`, `genre`, `file`; others are
/// ignored), read from `csv`; files are relative to `dir`, and errors name `manifest`.
pub fn parse_manifest(
    dir: &Path,
    manifest: &Path,
    csv: impl std::io::Read,
) -> Result<TrackSet, TrainError> {
    let bad = |e: csv::Error| TrainError::Data(format!("{}: {e}", manifest.display()));
    let mut reader = csv::Reader::from_reader(csv);
    let rows: Vec<ManifestRow> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    let mut genres: Vec<String> = rows.iter().map(|r| r.genre.clone()).collect();
    genres.sort();
    genres.dedup();
    if genres.is_empty() {
        return Err(TrainError::Data(format!(
            "{}: lists no tracks",
            manifest.display()
        )));
    }
    let mut tracks: Vec<Track> = rows
        .into_iter()
        .map(|r| Track {
            label: genres.binary_search(&r.genre).unwrap_or_default(),
            path: dir.join(&r.file),
            id: r.id,
        })
        .collect();
    tracks.sort_by(|a, b| (a.label, &a.id).cmp(&(b.label, &b.id)));
    Ok(TrackSet {
        genres,
        tracks,
        root: dir.to_path_buf(),
    })
}
