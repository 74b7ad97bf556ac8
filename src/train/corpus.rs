//! The first stage: the labelled tracks of the main data folder and of every extra one,
//! in any layout [`Dataset::find`] knows.

use std::path::Path;

use super::{TrainError, TrainOptions};
use crate::dataset::{Dataset, DatasetError};

impl From<DatasetError> for TrainError {
    fn from(e: DatasetError) -> Self {
        Self::Data(e.to_string())
    }
}

/// The tracks of the data folder `dir`. A genre folder without audio files is refused
/// (it is likely a mistake, and its genre would silently go missing).
pub fn find_tracks(dir: &Path) -> Result<Dataset, TrainError> {
    let set = Dataset::find(dir)?;
    if let Some(empty) = set.empty_folders.first() {
        return Err(TrainError::Data(format!(
            "{}: genre folder has no audio files (.wav, .au, .mp3, .flac, .ogg)",
            empty.display()
        )));
    }
    Ok(set)
}

/// The tracks of every data folder of a run, with the folder each came from.
pub(super) struct Corpus {
    /// All tracks: the main folder's, then each extra folder's.
    pub set: Dataset,
    /// Index of the data folder of each track (0: the main one; later: the extra ones,
    /// e.g. short excerpts, evaluated apart).
    pub folder: Vec<usize>,
}

impl Corpus {
    /// Whether track `t` comes from the main data folder.
    pub fn is_main(&self, t: usize) -> bool {
        self.folder[t] == 0
    }
}

/// The tracks of the main data folder and of every extra one (they must list the same
/// genres). Track ids may repeat across folders: an excerpt has its full track's id, so
/// both land on the same side of the split.
pub(super) fn find_corpus(options: &TrainOptions) -> Result<Corpus, TrainError> {
    let mut set = find_tracks(&options.data)?;
    let mut folder = vec![0; set.tracks.len()];
    for (i, dir) in options.extra_data.iter().enumerate() {
        let extra = find_tracks(dir)?;
        if extra.genres != set.genres {
            return Err(TrainError::Data(format!(
                "{} lists the genres [{}], {} lists [{}]: they must be the same",
                dir.display(),
                extra.genres.join(", "),
                options.data.display(),
                set.genres.join(", ")
            )));
        }
        folder.extend(std::iter::repeat_n(i + 1, extra.tracks.len()));
        set.tracks.extend(extra.tracks);
    }
    Ok(Corpus { set, folder })
}
