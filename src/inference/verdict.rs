//! What a classification says: genre probabilities, a segment's verdict, a song's.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Index of the largest value (the first of equals); 0 when empty.
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 { (i, x) } else { best }
        })
        .0
}

/// Genre → probability, in label order; serialises as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct GenreProbabilities(pub Vec<(String, f32)>);

impl GenreProbabilities {
    /// Pairs `labels` with `values`, in order.
    pub fn new(labels: &[String], values: &[f32]) -> Self {
        Self(labels.iter().cloned().zip(values.iter().copied()).collect())
    }

    /// The most probable genre (first of equals), or `""` if empty.
    pub fn top(&self) -> &str {
        let values: Vec<f32> = self.0.iter().map(|(_, p)| *p).collect();
        self.0.get(argmax(&values)).map_or("", |(g, _)| g.as_str())
    }

    /// Genres from most to least probable.
    pub fn ranked(&self) -> Vec<(String, f32)> {
        let mut ranked = self.0.clone();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }

    /// The probability of `genre`, if it is a label.
    pub fn get(&self, genre: &str) -> Option<f32> {
        self.0.iter().find(|(g, _)| g == genre).map(|(_, p)| *p)
    }
}

impl Serialize for GenreProbabilities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (genre, p) in &self.0 {
            map.serialize_entry(genre, p)?;
        }
        map.end()
    }
}

/// The verdict on one segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentVerdict {
    /// Where the segment starts in the song, in seconds.
    pub start_s: f64,
    /// Its most probable genre.
    pub genre: String,
    /// Its genre probabilities.
    pub probabilities: GenreProbabilities,
}

/// The verdict on a song: the mean of its segments' probabilities, and each segment's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The most probable genre of the song.
    pub genre: String,
    /// The song's top probability after calibration: how often a verdict this sure was
    /// right on validation.
    pub confidence: f32,
    /// Whether the model is unsure: `confidence` is below the card's threshold, chosen on
    /// validation (see [`Calibration`](super::Calibration)).
    pub unsure: bool,
    /// The song's genre probabilities, calibrated.
    pub probabilities: GenreProbabilities,
    /// Per segment, in time order.
    pub segments: Vec<SegmentVerdict>,
    /// The song's strongest Million Song Dataset tags from musicnn's backbone (mean over
    /// segments, most probable first); empty for the tutorial networks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagScore>,
    /// The genre the strongest listed tag that names a genre speaks for, when it is not
    /// `genre` (the backbone's tags and the verdict disagree); absent when they agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_lean: Option<String>,
}

/// One of the backbone's tags with its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagScore {
    /// The tag's name (from [`MSD_TAGS`]).
    pub tag: String,
    /// Its probability, mean over the song's segments.
    pub probability: f32,
}
