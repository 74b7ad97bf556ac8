//! A set of labelled audio files, found in the layouts users have: a `manifest.csv`
//! (../shared/data/gtzan), the original GTZAN (`genres/<genre>/*.au`), Kaggle's copy
//! (`Data/genres_original/<genre>/*.wav`), or `<root>/<genre>/*` directly. `train` and
//! `features` both read their data through [`Dataset::find`].

use std::path::{Path, PathBuf};

use crate::audio::decode::{DecodeError, load_clip};
use crate::features::{FeatureError, FeatureExtractor, SegmentFeatures};

/// File extensions read as audio (case-insensitive).
pub const AUDIO_EXTENSIONS: [&str; 6] = ["wav", "au", "mp3", "flac", "ogg", "oga"];

/// Why a data folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The folder could not be listed.
    #[error("{path}: cannot list folder: {cause}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The path given is not a folder.
    #[error("{0}: not a folder (expected a GTZAN folder: <genre>/<file>.wav|au|...)")]
    NotAFolder(PathBuf),
    /// No genre subfolder with audio files was found in the folder scanned.
    #[error(
        "{0}: no genre folders with audio files (expected <root>/<genre>/<file>.wav|au|mp3|flac|ogg)"
    )]
    NoGenres(PathBuf),
    /// No layout was found: no manifest and no genre folders in any usual place.
    #[error(
        "{0}: no genre folders with audio files; expected <genre>/<file>.wav|au|mp3|flac|ogg \
         here, in genres/ or in Data/genres_original/, or a manifest.csv"
    )]
    NoLayout(PathBuf),
    /// The manifest could not be read or parsed.
    #[error("{path}: {cause}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        cause: String,
    },
    /// The manifest lists no tracks.
    #[error("{0}: lists no tracks")]
    EmptyManifest(PathBuf),
}

/// One labelled audio file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Track id: the manifest's `id`, or the file name without extension (`blues.00012`).
    pub id: String,
    /// Index into [`Dataset::genres`].
    pub label: usize,
    /// The audio file.
    pub path: PathBuf,
}

/// The genres (sorted by name) and labelled tracks of a data folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Genre names, in label order.
    pub genres: Vec<String>,
    /// Tracks sorted by genre, then by file name (folders) or id (manifests).
    pub tracks: Vec<Track>,
    /// The folder the genre folders or the manifest were found in.
    pub root: PathBuf,
    /// Subfolders that hold no audio files (not counted as genres).
    pub empty_folders: Vec<PathBuf>,
}

/// The id of a track file: its name without extension.
pub fn track_id(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let io = |cause| DatasetError::Io {
        path: dir.to_owned(),
        cause,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort();
    Ok(entries)
}

impl Dataset {
    /// The tracks under `dir`: its `manifest.csv` if it has one, else the first of `dir`,
    /// `dir/genres`, `dir/genres_original` and `dir/Data/genres_original` that holds
    /// genre folders with audio files.
    pub fn find(dir: &Path) -> Result<Self, DatasetError> {
        if !dir.is_dir() {
            return Err(DatasetError::NotAFolder(dir.to_owned()));
        }
        let manifest = dir.join("manifest.csv");
        if manifest.is_file() {
            let file = std::fs::File::open(&manifest).map_err(|e| DatasetError::Manifest {
                path: manifest.clone(),
                cause: e.to_string(),
            })?;
            return Self::from_manifest(dir, &manifest, file);
        }
        [
            dir.to_path_buf(),
            dir.join("genres"),
            dir.join("genres_original"),
            dir.join("Data").join("genres_original"),
        ]
        .iter()
        .filter(|c| c.is_dir())
        .find_map(|c| Self::scan(c).ok())
        .ok_or_else(|| DatasetError::NoLayout(dir.to_owned()))
    }

    /// Scans `<root>/<genre>/*` for audio files. Genre folders without audio are listed
    /// in [`Dataset::empty_folders`]; a root with none at all is an error.
    pub fn scan(root: &Path) -> Result<Self, DatasetError> {
        let mut set = Self {
            genres: Vec::new(),
            tracks: Vec::new(),
            root: root.to_owned(),
            empty_folders: Vec::new(),
        };
        for dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
            let audio: Vec<PathBuf> = sorted_entries(&dir)?
                .into_iter()
                .filter(|p| p.is_file() && is_audio(p))
                .collect();
            if audio.is_empty() {
                set.empty_folders.push(dir);
                continue;
            }
            let label = set.genres.len();
            set.genres.push(
                dir.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            );
            set.tracks.extend(audio.into_iter().map(|path| Track {
                id: track_id(&path),
                label,
                path,
            }));
        }
        if set.genres.is_empty() {
            return Err(DatasetError::NoGenres(root.to_owned()));
        }
        Ok(set)
    }

    /// The tracks a `manifest.csv` lists (columns `id`, `genre`, `file`; others are
    /// ignored), read from `csv`; files are relative to `dir`, and errors name `manifest`.
    pub fn from_manifest(
        dir: &Path,
        manifest: &Path,
        csv: impl std::io::Read,
    ) -> Result<Self, DatasetError> {
        let bad = |e: csv::Error| DatasetError::Manifest {
            path: manifest.to_owned(),
            cause: e.to_string(),
        };
        let rows: Vec<ManifestRow> = csv::Reader::from_reader(csv)
            .deserialize()
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        let mut genres: Vec<String> = rows.iter().map(|r| r.genre.clone()).collect();
        genres.sort();
        genres.dedup();
        if genres.is_empty() {
            return Err(DatasetError::EmptyManifest(manifest.to_owned()));
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
        Ok(Self {
            genres,
            tracks,
            root: dir.to_path_buf(),
            empty_folders: Vec::new(),
        })
    }
}

/// One row of a `manifest.csv` (other columns are ignored).
#[derive(serde::Deserialize)]
struct ManifestRow {
    id: String,
    genre: String,
    file: String,
}

/// [`Dataset::from_manifest`], as a function (the manifest fuzzer calls it).
pub fn parse_manifest(
    dir: &Path,
    manifest: &Path,
    csv: impl std::io::Read,
) -> Result<Dataset, DatasetError> {
    Dataset::from_manifest(dir, manifest, csv)
}

/// Why one file of a data set yielded no features.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// It could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Its audio is unusable for features (empty, too short).
    #[error("{path}: {cause}")]
    Features {
        /// The file.
        path: PathBuf,
        /// The problem.
        cause: FeatureError,
    },
}

/// Decodes `path` and computes the features of at most `max_segments` of its segments.
pub fn extract_file(
    path: &Path,
    extractor: &mut FeatureExtractor,
    max_segments: usize,
) -> Result<Vec<SegmentFeatures>, FileError> {
    let clip = load_clip(path, extractor.settings().sample_rate)?;
    let features = |cause| FileError::Features {
        path: path.to_owned(),
        cause,
    };
    extractor
        .first_segments(&clip.samples, max_segments)
        .map_err(features)
}
