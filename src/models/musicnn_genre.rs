//! The default model: musicnn's pretrained `MSD_musicnn` backbone, a genre head trained
//! on its pooled embeddings, and a zero-shot genre prior read off the backbone's own 50
//! Million Song Dataset tags, blended with the head's probabilities.
//!
//! A segment (one 3 s log-mel patch) becomes an *embedding* of
//! [`MusicnnGenreConfig::embedding_size`] values: the backbone's max and mean pooling over
//! time (1506) followed by its 50 tag probabilities. The head sees the normalised pooling;
//! the prior sees the tags. Embeddings are what the trainer caches and what the page keeps
//! per song, so switching between heads over the same backbone never reruns the backbone.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Ann, AnnConfig, LearnedTagMap, MSD_TAGS, Musicnn, MusicnnConfig};
use crate::features::{FeatureKind, FeatureSettings};

/// Where the backbone's weights came from, for the model card and for cache keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackboneSource {
    /// The network's name in its package (`MSD_musicnn`).
    pub network: String,
    /// The PyPI package it ships in.
    pub package: String,
    /// The package version.
    pub version: String,
    /// The checkpoint's data file inside the package.
    pub checkpoint: String,
    /// SHA-256 of that data file, lowercase hex.
    pub checkpoint_sha256: String,
    /// The license of the weights.
    pub license: String,
    /// The paper that describes the network.
    pub paper: String,
}

impl BackboneSource {
    /// `MSD_musicnn` from the wheel `musicnn==0.1.0`, with the checkpoint's checksum.
    pub fn msd_musicnn(checkpoint_sha256: &str) -> Self {
        Self {
            network: "MSD_musicnn".into(),
            package: "musicnn".into(),
            version: "0.1.0".into(),
            checkpoint: "musicnn/MSD_musicnn/.data-00000-of-00001".into(),
            checkpoint_sha256: checkpoint_sha256.into(),
            license: "ISC".into(),
            paper: "J. Pons and X. Serra, musicnn: pre-trained convolutional neural networks for music audio tagging, ISMIR 2019 late-breaking/demo".into(),
        }
    }
}

/// The MSD tags that name one of our genres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenreTags {
    /// The genre (one of the model's labels).
    pub genre: String,
    /// Tags (names from [`MSD_TAGS`]) that speak for it.
    pub tags: Vec<String>,
}

/// The label a tag speaks for, and whether it names it plainly (see
/// [`TagPrior::tag_labels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagLabel {
    /// Index of the label.
    pub label: usize,
    /// Whether the label's tags name it (so that a contradiction is worth saying).
    pub plain: bool,
}

/// The zero-shot genre prior and its share of the final probabilities.
///
/// A genre's score in a segment is the largest probability among its tags; the scores,
/// normalised to sum to 1, are the prior. The final probabilities are
/// `(1 − weight) · head + weight · prior`. The map is written by hand from the tags'
/// names, never fitted to our clips; only `weight` is chosen, on validation. A recipe may
/// instead learn the prior from the training segments' tags (`learned`, fitted by
/// `train --learned-tag-map`); the hand-written map then still says which tags name which
/// genre, for the "tags lean" note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagPrior {
    /// Share of the prior in the final probabilities, in `[0, 1]`.
    pub weight: f32,
    /// Genre → tags. Genres without an entry get no prior mass.
    pub map: Vec<GenreTags>,
    /// A map from the tags to the genres learned on training segments; when present, the
    /// prior is its distribution, and `map` only says which tags name which genre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<LearnedTagMap>,
}

impl TagPrior {
    /// The hand-written map from MSD tags to the GTZAN genres: each genre takes the tags
    /// whose name says it (`rock`, `classic rock`, `punk`, … for rock), disco takes
    /// `dance` and `funk`, classical `instrumental` and `ambient`. No MSD tag names
    /// reggae.
    pub fn gtzan(weight: f32) -> Self {
        let entry = |genre: &str, tags: &[&str]| GenreTags {
            genre: genre.into(),
            tags: tags.iter().map(|t| (*t).into()).collect(),
        };
        Self {
            weight,
            learned: None,
            map: vec![
                entry("blues", &["blues"]),
                entry("classical", &["instrumental", "ambient"]),
                entry("country", &["country"]),
                entry("disco", &["dance", "funk"]),
                entry("hiphop", &["Hip-Hop"]),
                entry("jazz", &["jazz"]),
                entry("metal", &["metal", "heavy metal"]),
                entry("pop", &["pop", "indie pop"]),
                entry(
                    "rock",
                    &[
                        "rock",
                        "classic rock",
                        "punk",
                        "hard rock",
                        "alternative rock",
                        "indie rock",
                        "Progressive rock",
                    ],
                ),
            ],
        }
    }

    /// For each tag of `tag_names`, the label the map gives it (the first genre listing
    /// it) and whether that genre is named plainly: one of its tags contains the genre's
    /// own name (ignoring case, spaces and hyphens: "Hip-Hop" for hiphop, "rock" for
    /// rock). Classical's "instrumental" and disco's "dance" are evidence for the prior,
    /// and agree with a classical or disco verdict, but a pop song tagged "dance" does not
    /// lean disco.
    pub fn tag_labels(&self, labels: &[String], tag_names: &[&str]) -> Vec<Option<TagLabel>> {
        let plain = |s: &str| s.to_lowercase().replace(['-', ' '], "");
        tag_names
            .iter()
            .map(|name| {
                let entry = self.map.iter().find(|e| e.tags.iter().any(|t| t == name))?;
                Some(TagLabel {
                    label: labels.iter().position(|l| *l == entry.genre)?,
                    plain: entry
                        .tags
                        .iter()
                        .any(|t| plain(t).contains(&plain(&entry.genre))),
                })
            })
            .collect()
    }

    /// The same prior with only the entries of genres among `labels` (a data set with
    /// other genres keeps the map's entries that apply to it).
    pub fn restricted_to(mut self, labels: &[String]) -> Self {
        self.map.retain(|e| labels.contains(&e.genre));
        self
    }

    /// Checks the weight and that every tag and genre named exists, naming the first that
    /// does not.
    pub fn validate(&self, labels: &[String]) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.weight) {
            return Err(format!("tag prior weight {} is not in [0, 1]", self.weight));
        }
        if let Some(learned) = &self.learned {
            learned.validate(MSD_TAGS.len(), labels.len())?;
        }
        for entry in &self.map {
            if !labels.contains(&entry.genre) {
                return Err(format!(
                    "tag prior names genre {:?}, which is not a label",
                    entry.genre
                ));
            }
            if let Some(tag) = entry.tags.iter().find(|t| !MSD_TAGS.contains(&t.as_str())) {
                return Err(format!("tag prior names {tag:?}, which is not an MSD tag"));
            }
        }
        Ok(())
    }

    /// The prior over `labels` from one segment's 50 tag probabilities. Uniform when no
    /// mapped tag has any probability.
    pub fn genre_distribution(&self, labels: &[String], tag_probabilities: &[f32]) -> Vec<f32> {
        if let Some(learned) = &self.learned {
            return learned.distribution(tag_probabilities);
        }
        let mut scores: Vec<f32> = labels
            .iter()
            .map(|genre| {
                self.map
                    .iter()
                    .filter(|e| &e.genre == genre)
                    .flat_map(|e| &e.tags)
                    .filter_map(|t| MSD_TAGS.iter().position(|m| m == t))
                    .filter_map(|i| tag_probabilities.get(i).copied())
                    .fold(0.0, f32::max)
            })
            .collect();
        let total: f32 = scores.iter().sum();
        if total > 0.0 && total.is_finite() {
            scores.iter_mut().for_each(|s| *s /= total);
        } else {
            let uniform = 1.0 / labels.len().max(1) as f32;
            scores.iter_mut().for_each(|s| *s = uniform);
        }
        scores
    }

    /// Blends the head's probabilities with the prior of the same segment, in place.
    pub fn blend(&self, labels: &[String], head: &mut [f32], tag_probabilities: &[f32]) {
        if self.weight == 0.0 {
            return;
        }
        let prior = self.genre_distribution(labels, tag_probabilities);
        for (h, q) in head.iter_mut().zip(prior) {
            *h = (1.0 - self.weight) * *h + self.weight * q;
        }
    }
}

/// The musicnn genre model's shape: backbone, head and prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MusicnnGenreConfig {
    /// The backbone's shape.
    pub backbone: MusicnnConfig,
    /// Where its weights came from.
    pub source: BackboneSource,
    /// The genre head over the normalised pooled embedding.
    pub head: AnnConfig,
    /// The zero-shot prior from the backbone's tags.
    pub tag_prior: TagPrior,
    /// Whether the head reads the 50 tag probabilities beside the pooled embedding (its
    /// input is then the whole embedding, normalised); cards without it: pooled only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub head_reads_tags: bool,
}

impl MusicnnGenreConfig {
    /// Checks that backbone and head can be built, naming the first problem.
    pub fn validate(&self) -> Result<(), String> {
        self.backbone.validate()?;
        self.head.validate()
    }

    /// Parameters of backbone and head, without building them; `None` on overflow.
    pub fn parameters(&self) -> Option<u64> {
        self.backbone
            .parameters()?
            .checked_add(self.head.parameters()?)
    }

    /// Checks what the card's other parts must agree with: log-mel features of the
    /// backbone's shape, a head over the pooled embedding, a prior naming real labels.
    pub fn check_card(&self, features: &FeatureSettings, labels: &[String]) -> Result<(), String> {
        if features.kind != FeatureKind::LogMel {
            return Err("the musicnn network takes log-mel features, the card names MFCCs".into());
        }
        self.tag_prior.validate(labels)
    }

    /// Values of the pooled embedding the head sees (1506).
    pub fn pooled_size(&self) -> usize {
        self.backbone.embedding_size()
    }

    /// Values the head reads per segment: the pooled embedding, and the tag probabilities
    /// after it when [`head_reads_tags`](Self::head_reads_tags).
    pub fn head_input_size(&self) -> usize {
        self.pooled_size()
            + if self.head_reads_tags {
                self.backbone.tags
            } else {
                0
            }
    }

    /// Values of a whole embedding: pooled values, then the tag probabilities.
    pub fn embedding_size(&self) -> usize {
        self.pooled_size() + self.backbone.tags
    }

    /// A network with a random head and an untrained backbone (weights are loaded after).
    pub fn init(&self, device: &Device) -> MusicnnGenre {
        MusicnnGenre {
            backbone: self.backbone.init(device),
            head: self.head.init(device),
        }
    }
}

/// Backbone and head; see the module docs.
#[derive(Module, Debug)]
pub struct MusicnnGenre {
    /// musicnn's front, mid and back end.
    pub backbone: Musicnn,
    /// The genre head.
    pub head: Ann,
}

impl MusicnnGenre {
    /// Log-mel patches `[batch, frames, mels]` → embeddings `[batch, pooled + tags]`
    /// (pooled values, then tag probabilities).
    pub fn embed(&self, patches: Tensor<3>) -> Tensor<2> {
        self.backbone.embed(patches)
    }

    /// Normalised pooled embeddings `[batch, pooled]` → head logits `[batch, classes]`.
    pub fn head_logits(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.head.forward(pooled.unsqueeze_dim(1))
    }
}

/// The default head: logistic regression on the pooled embedding (no hidden layer).
pub fn default_head(inputs: usize, classes: usize) -> AnnConfig {
    AnnConfig {
        inputs,
        hidden: Vec::new(),
        dropout: 0.0,
        l2: 0.0,
        classes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        [
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
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect()
    }

    fn tags_with(named: &[(&str, f32)]) -> Vec<f32> {
        MSD_TAGS
            .iter()
            .map(|t| named.iter().find(|(n, _)| n == t).map_or(0.0, |(_, p)| *p))
            .collect()
    }

    #[test]
    fn the_gtzan_map_names_real_tags_and_genres() {
        assert!(TagPrior::gtzan(0.5).validate(&labels()).is_ok());
        let mut bad = TagPrior::gtzan(0.5);
        bad.map[0].tags.push("bluegrass".into());
        assert!(bad.validate(&labels()).unwrap_err().contains("bluegrass"));
        assert!(TagPrior::gtzan(1.5).validate(&labels()).is_err());
    }

    #[test]
    fn the_prior_follows_the_strongest_tag_of_each_genre() {
        let prior = TagPrior::gtzan(0.5);
        let p = prior.genre_distribution(
            &labels(),
            &tags_with(&[("hard rock", 0.6), ("rock", 0.2), ("pop", 0.2)]),
        );
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((p[9] - 0.75).abs() < 1e-6, "{p:?}");
        assert!((p[7] - 0.25).abs() < 1e-6);
        assert_eq!(p[8], 0.0, "no tag names reggae");
        let uniform = prior.genre_distribution(&labels(), &tags_with(&[]));
        assert!(uniform.iter().all(|&x| (x - 0.1).abs() < 1e-6));
    }

    #[test]
    fn blending_mixes_head_and_prior_by_the_weight() {
        let prior = TagPrior::gtzan(0.25);
        let mut head = vec![0.0; 10];
        head[0] = 1.0;
        prior.blend(&labels(), &mut head, &tags_with(&[("jazz", 0.9)]));
        assert!((head[0] - 0.75).abs() < 1e-6 && (head[5] - 0.25).abs() < 1e-6);
    }
}
