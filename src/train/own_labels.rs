//! `train --own-labels BASE`: a model of one's own labels trained natively exactly as the
//! page's "Train your own" trains it: each sub-folder of the data folder is a label (in
//! name order), its audio files (by content, in path order) its songs; a song of more than
//! ten segments gives the ten quick mode picks, computed from pieces as the page computes
//! them, a shorter one all of its segments; then [`OwnTrainer`] (cross-validation, the
//! final fit) over the base model's backbone.

use std::path::{Path, PathBuf};

use crate::audio::decode::{decode_file, load_clip};
use crate::audio::sniff::{SNIFF_BYTES, Sniffed, sniff};
use crate::features::{FeatureExtractor, QUICK_SEGMENTS, SegmentFeatures, SpreadPlan};
use crate::inference::{Classifier, ModelFiles, OwnTrainer};

/// Why a model of one's own labels could not be trained natively.
#[derive(Debug, thiserror::Error)]
pub enum OwnLabelsError {
    /// The data folder is not a folder of label folders.
    #[error("{0}")]
    Data(String),
    /// A song could not be read or embedded.
    #[error("{path}: {message}")]
    Song {
        /// The song.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Training failed.
    #[error(transparent)]
    Train(#[from] crate::inference::OwnModelError),
}

/// The labels under `data` (its sub-folders, by name) and each one's audio files (by
/// content, anywhere below it, by path).
pub fn label_folders(data: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, OwnLabelsError> {
    let entries = std::fs::read_dir(data)
        .map_err(|e| OwnLabelsError::Data(format!("cannot read {}: {e}", data.display())))?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let labels: Vec<(String, Vec<PathBuf>)> = folders
        .into_iter()
        .map(|folder| {
            let name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
            let mut songs: Vec<PathBuf> = crate::library::list(std::slice::from_ref(&folder))
                .iter()
                .map(|e| e.path().to_path_buf())
                .filter(|p| is_audio(p))
                .collect();
            songs.sort();
            (name.unwrap_or_default(), songs)
        })
        .collect();
    if labels.len() < 2 {
        return Err(OwnLabelsError::Data(format!(
            "{} has {} sub-folder(s): make one per label, each with its songs",
            data.display(),
            labels.len()
        )));
    }
    Ok(labels)
}

/// Whether the file at `path` is audio by its first bytes.
fn is_audio(path: &Path) -> bool {
    use std::io::Read;
    let mut header = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut header))
        .is_ok()
        && matches!(sniff(&header), Sniffed::Audio(_))
}

/// The segments of the song at `path` the page trains on: the ten spread ones (from
/// pieces) of a longer song, all of a song of ten segments or fewer.
fn training_segments(
    path: &Path,
    extractor: &mut FeatureExtractor,
) -> Result<Vec<SegmentFeatures>, String> {
    let decoded = decode_file(path).map_err(|e| e.to_string())?;
    let settings = extractor.settings().clone();
    let plan = SpreadPlan::new(
        decoded.mono.len(),
        decoded.sample_rate,
        &settings,
        QUICK_SEGMENTS,
    )
    .map_err(|e| e.to_string())?;
    if plan.pieces.len() < plan.spans.len() {
        return extractor
            .spread_song_pieces(&plan, &decoded.mono)
            .map_err(|e| e.to_string());
    }
    let clip = load_clip(path, settings.sample_rate).map_err(|e| e.to_string())?;
    extractor.song(&clip.samples).map_err(|e| e.to_string())
}

/// Trains a model called `name` of the labels under `data` over `base`'s backbone, as
/// the page does; `progress(message)` hears each song and fit.
pub fn train_own_labels(
    base: Classifier,
    data: &Path,
    name: &str,
    mut progress: impl FnMut(&str),
) -> Result<ModelFiles, OwnLabelsError> {
    let labels = label_folders(data)?;
    let mut extractor = FeatureExtractor::new(base.card().features.clone())
        .map_err(|e| OwnLabelsError::Data(e.to_string()))?;
    let mut songs = Vec::new();
    for (index, (_, paths)) in labels.iter().enumerate() {
        for path in paths {
            progress(&format!("embedding {}", path.display()));
            let song_error = |message: String| OwnLabelsError::Song {
                path: path.clone(),
                message,
            };
            let segments = training_segments(path, &mut extractor).map_err(song_error)?;
            let embeddings = base
                .embed(&segments)
                .map_err(|e| song_error(e.to_string()))?;
            songs.push((index, embeddings));
        }
    }
    let names = labels.into_iter().map(|(n, _)| n).collect();
    let mut trainer = OwnTrainer::new(base, names, name.to_string());
    for (label, embeddings) in songs {
        trainer.add_song(label, embeddings)?;
    }
    loop {
        let step = trainer.step()?;
        progress(&format!("{}: {} of {}", step.stage, step.done, step.total));
        if step.finished {
            return Ok(trainer.finish()?);
        }
    }
}
