//! Finding the labelled audio files of a GTZAN-style folder: `<root>/<genre>/<file>`.

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
    /// No genre subfolder with audio files was found.
    #[error(
        "{0}: no genre folders with audio files (expected <root>/<genre>/<file>.wav|au|mp3|flac|ogg)"
    )]
    NoGenres(PathBuf),
}

/// One audio file and its genre label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledFile {
    /// Index into [`Dataset::genres`].
    pub label: usize,
    /// The file.
    pub path: PathBuf,
}

/// The genres (sorted by name) and labelled files of a folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Genre names, in label order.
    pub genres: Vec<String>,
    /// Files sorted by genre, then name.
    pub files: Vec<LabelledFile>,
    /// Subfolders that hold no audio files (not counted as genres).
    pub empty_folders: Vec<PathBuf>,
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

/// Scans `<root>/<genre>/*` for audio files. Genre folders without audio are ignored;
/// a root with none at all is an error.
pub fn scan(root: &Path) -> Result<Dataset, DatasetError> {
    let mut genres = Vec::new();
    let mut files = Vec::new();
    let mut empty_folders = Vec::new();
    for dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
        let audio: Vec<PathBuf> = sorted_entries(&dir)?
            .into_iter()
            .filter(|p| p.is_file() && is_audio(p))
            .collect();
        if audio.is_empty() {
            empty_folders.push(dir);
            continue;
        }
        let label = genres.len();
        genres.push(
            dir.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        );
        files.extend(audio.into_iter().map(|path| LabelledFile { label, path }));
    }
    if genres.is_empty() {
        return Err(DatasetError::NoGenres(root.to_owned()));
    }
    Ok(Dataset {
        genres,
        files,
        empty_folders,
    })
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

/// Decodes `path` and computes the MFCCs of at most `max_segments` of its segments.
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
