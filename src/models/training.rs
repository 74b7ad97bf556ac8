//! What the trainer needs to know about the networks, so that nothing outside
//! `src/models/` names one: each family's feature settings and default optimiser
//! settings, its frozen backbone (the identity for networks trained whole), the head the
//! trainer fits on the backbone's embeddings, and how backbone and head become the model.
//!
//! Every family trains the same way: segment features → [`FrozenBackbone::embed`] → one
//! embedding row per segment, laid out as [`EmbeddingShape`] says → a [`TrainableHead`]
//! fitted on the normalised rows → [`TrainableHead::into_model`].
//!
//! - The tutorial's four networks have the identity backbone: an embedding is the
//!   segment's features, and the whole network is the head.
//! - musicnn has a frozen pretrained backbone (read from the PyPI wheel) whose embedding
//!   is its pooled features then its tag probabilities; the head is a dense network on
//!   the pooled part, and the tags feed a zero-shot genre prior.

use std::path::Path;

use burn::prelude::*;

use super::{
    ARCHITECTURE_NAMES, Architecture, BackboneSource, LearnedTagMap, Musicnn, MusicnnConfig,
    MusicnnGenre, MusicnnGenreConfig, Network, PenultimateLayer, TagPrior, cpu_device,
    default_head, fetch_wheel, read_checkpoint,
};
use crate::features::{FeatureSettings, SegmentFeatures, ShortSongFill};

/// A family of networks the trainer can fit, by the name users pick (`--model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFamily {
    kind: Kind,
}

/// The families (private: the trainer asks, it does not match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One of the tutorial's networks, by name, trained whole on MFCCs.
    Tutorial(&'static str),
    /// musicnn's pretrained backbone with a trained genre head.
    Musicnn,
}

/// A family's default optimiser and loop settings (the tutorial's, for its networks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimiserDefaults {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Segments per batch.
    pub batch_size: usize,
    /// Most epochs.
    pub epochs: usize,
}

/// How the head of a family with a pretrained backbone is shaped and started (the
/// tutorial's networks have fixed shapes and ignore all but `from_backbone`).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadOptions {
    /// Hidden layer widths (empty: logistic regression).
    pub hidden: Vec<usize>,
    /// Dropout after each hidden layer.
    pub dropout: f64,
    /// Whether the hidden layer starts from the backbone's own back end and is
    /// fine-tuned, rather than starting fresh.
    pub from_backbone: bool,
    /// Share of the backbone's tag prior in the final probabilities, in `[0, 1]`.
    pub tag_prior_weight: f32,
    /// Whether the head reads the backbone's tag probabilities beside its pooled values.
    pub reads_tags: bool,
    /// Whether the tag prior is a map learned on the training segments
    /// ([`LearnedTagMap`]) rather than the hand-written one.
    pub learned_tag_map: bool,
}

impl ModelFamily {
    /// The family of the architecture `name` (one of [`ARCHITECTURE_NAMES`]).
    pub fn named(name: &str) -> Option<Self> {
        let kind = match name {
            "musicnn" => Kind::Musicnn,
            _ => Kind::Tutorial(
                super::TUTORIAL_ARCHITECTURES
                    .into_iter()
                    .find(|&n| n == name)?,
            ),
        };
        Some(Self { kind })
    }

    /// Every architecture name the trainer accepts.
    pub fn names() -> &'static [&'static str] {
        &ARCHITECTURE_NAMES
    }

    /// The architecture's name.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Tutorial(name) => name,
            Kind::Musicnn => "musicnn",
        }
    }

    /// The feature settings the family's networks read.
    pub fn feature_settings(&self) -> FeatureSettings {
        match self.kind {
            Kind::Tutorial(_) => FeatureSettings::default(),
            Kind::Musicnn => FeatureSettings::musicnn(),
        }
    }

    /// The default learning rate, batch size and epochs.
    pub fn defaults(&self) -> OptimiserDefaults {
        let (learning_rate, batch_size, epochs) = match self.kind {
            Kind::Tutorial("ann") => (1e-4, 32, 50),
            Kind::Tutorial("ann-reg") => (1e-4, 32, 100),
            Kind::Tutorial("cnn") => (1e-4, 16, 300),
            Kind::Tutorial(_) => (1e-4, 32, 30),
            Kind::Musicnn => (1e-3, 64, 300),
        };
        OptimiserDefaults {
            learning_rate,
            batch_size,
            epochs,
        }
    }

    /// The family's frozen backbone: the identity, or musicnn's read from its wheel
    /// (downloaded into `wheel_dir` once).
    pub fn load_backbone(&self, wheel_dir: &Path) -> Result<FrozenBackbone, String> {
        let kind = match self.kind {
            Kind::Tutorial(_) => BackboneKind::Identity,
            Kind::Musicnn => load_musicnn(wheel_dir)?,
        };
        Ok(FrozenBackbone { kind })
    }

    /// The head to fit on `backbone`'s embeddings of segments made with `features`, for
    /// the labels `genres`.
    pub fn head(
        &self,
        backbone: &FrozenBackbone,
        features: &FeatureSettings,
        genres: &[String],
        options: &HeadOptions,
    ) -> Result<TrainableHead, String> {
        match (&self.kind, &backbone.kind) {
            (Kind::Tutorial(name), BackboneKind::Identity) => {
                let frames = features.frames_per_segment();
                let architecture =
                    Architecture::tutorial(name, frames, features.n_mfcc, genres.len())
                        .ok_or_else(|| format!("unknown model {name:?}"))?;
                if options.from_backbone {
                    return Err(format!(
                        "--head-from-backbone: {name} has no pretrained back end to start from"
                    ));
                }
                Ok(TrainableHead {
                    architecture,
                    genre: None,
                    from_backbone: false,
                })
            }
            (Kind::Musicnn, BackboneKind::Musicnn(musicnn)) => {
                musicnn_head(musicnn, genres, options)
            }
            _ => Err(format!(
                "{}: the backbone given is not this model's",
                self.name()
            )),
        }
    }
}

/// musicnn's backbone and where its weights came from.
struct MusicnnBackbone {
    network: Musicnn,
    config: MusicnnConfig,
    source: BackboneSource,
}

/// The kinds of backbone.
// One per run, so the musicnn variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
enum BackboneKind {
    /// Embeddings are the features themselves.
    Identity,
    /// musicnn's front, mid and back end, frozen.
    Musicnn(MusicnnBackbone),
}

/// The frozen part of a model, which turns a segment's features into its embedding (the
/// identity for networks trained whole).
pub struct FrozenBackbone {
    kind: BackboneKind,
}

/// The layout of one embedding row: `frames × width` values the head reads (normalised
/// per group of `width`); the row's last `tags` values are the backbone's tag
/// probabilities, which the prior reads, and the head too when its width takes them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddingShape {
    /// Rows of the head's input.
    pub frames: usize,
    /// Values per row of the head's input (what the normalisation covers).
    pub width: usize,
    /// Values after the head's input: the backbone's tag probabilities.
    pub tags: usize,
}

impl EmbeddingShape {
    /// Values the head reads per segment.
    pub fn head_values(&self) -> usize {
        self.frames * self.width
    }

    /// This layout with the head reading the tag probabilities after its values too
    /// (`reads`), as [`HeadOptions::reads_tags`] asks.
    pub fn with_head_reading_tags(self, reads: bool) -> Self {
        if reads {
            Self {
                width: self.width + self.tags,
                ..self
            }
        } else {
            self
        }
    }

    /// A row's tag probabilities: its last `tags` values.
    pub fn tags_of<'a>(&self, row: &'a [f32]) -> &'a [f32] {
        &row[row.len().saturating_sub(self.tags)..]
    }
}

/// Reads `MSD_musicnn` out of the musicnn wheel (downloaded into `wheel_dir` once).
fn load_musicnn(wheel_dir: &Path) -> Result<BackboneKind, String> {
    let error = |e: String| format!("musicnn backbone: {e}");
    let wheel = fetch_wheel(wheel_dir).map_err(|e| error(e.to_string()))?;
    let (checkpoint, sha256) = read_checkpoint(&wheel).map_err(|e| error(e.to_string()))?;
    let config = MusicnnConfig::msd();
    let network = Musicnn::from_checkpoint(&checkpoint, &config, &cpu_device())
        .map_err(|e| error(format!("{}: {e}", wheel.display())))?;
    Ok(BackboneKind::Musicnn(MusicnnBackbone {
        network,
        config,
        source: BackboneSource::msd_musicnn(&sha256),
    }))
}

impl FrozenBackbone {
    /// Whether embeddings differ from the features (false for the identity): the input
    /// augmentations of features (masks, gain) then do not apply.
    pub fn embeds(&self) -> bool {
        !matches!(self.kind, BackboneKind::Identity)
    }

    /// How one embedding row of segments made with `features` is laid out.
    pub fn shape(&self, features: &FeatureSettings) -> EmbeddingShape {
        match &self.kind {
            BackboneKind::Identity => EmbeddingShape {
                frames: features.frames_per_segment(),
                width: features.n_mfcc,
                tags: 0,
            },
            BackboneKind::Musicnn(m) => EmbeddingShape {
                frames: 1,
                width: m.config.embedding_size(),
                tags: m.config.tags,
            },
        }
    }

    /// The embedding rows of `segments` (made with `features`), one per segment.
    pub fn embed(
        &self,
        segments: Vec<SegmentFeatures>,
        features: &FeatureSettings,
    ) -> Vec<Vec<f32>> {
        match &self.kind {
            BackboneKind::Identity => segments.into_iter().map(|s| s.features.data).collect(),
            BackboneKind::Musicnn(m) => embed_patches(&m.network, &segments, features),
        }
    }

    /// Where this backbone's embeddings live in a feature cache: a subfolder named by
    /// the backbone and its checksum (none for the identity), and the prefix of the
    /// entries' names.
    pub fn cache_space(&self) -> (Option<String>, &'static str) {
        match &self.kind {
            BackboneKind::Identity => (None, ""),
            BackboneKind::Musicnn(m) => {
                let sha = &m.source.checkpoint_sha256;
                (
                    Some(format!("musicnn-{}", &sha[..16.min(sha.len())])),
                    "musicnn-",
                )
            }
        }
    }

    /// What the model card calls one segment of this backbone's input.
    pub fn segment_noun(&self) -> &'static str {
        match self.kind {
            BackboneKind::Identity => "segment",
            BackboneKind::Musicnn(_) => "patch",
        }
    }

    /// The model card's notes on how segments are made, before the augmentations.
    pub fn input_notes(&self, features: &FeatureSettings) -> Vec<String> {
        if !self.embeds() {
            return Vec::new();
        }
        let fill = match features.short_song_fill {
            ShortSongFill::Loop => "looping",
            ShortSongFill::Silence => "silence",
        };
        vec![format!(
            "songs shorter than a {} filled by {fill}",
            self.segment_noun()
        )]
    }
}

/// The backbone's embeddings of log-mel `segments`, four at a time (pooled values, then
/// tags).
fn embed_patches(
    backbone: &Musicnn,
    segments: &[SegmentFeatures],
    settings: &FeatureSettings,
) -> Vec<Vec<f32>> {
    let (frames, mels) = (settings.frames_per_segment(), settings.coefficients());
    let device = cpu_device();
    let mut out = Vec::with_capacity(segments.len());
    for batch in segments.chunks(4) {
        let data: Vec<f32> = batch
            .iter()
            .flat_map(|s| s.features.data.iter().copied())
            .collect();
        let input =
            Tensor::<3>::from_data(TensorData::new(data, [batch.len(), frames, mels]), &device);
        let values = backbone
            .embed(input)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let width = values.len() / batch.len().max(1);
        out.extend(values.chunks(width.max(1)).map(<[f32]>::to_vec));
    }
    out
}

/// The network the trainer fits on the embeddings, and how it becomes the whole model.
#[derive(Debug, Clone)]
pub struct TrainableHead {
    /// The head's own architecture (the whole network for the identity backbone).
    architecture: Architecture,
    /// For a pretrained backbone: the whole model's shape (backbone, head, prior).
    genre: Option<MusicnnGenreConfig>,
    /// Whether the head starts from the backbone's back end.
    from_backbone: bool,
}

/// The head's shape for musicnn: as the options say, or one hidden layer as wide as
/// musicnn's back end when it starts from there; and the tag prior over `genres`.
fn musicnn_head(
    backbone: &MusicnnBackbone,
    genres: &[String],
    options: &HeadOptions,
) -> Result<TrainableHead, String> {
    let tags = if options.reads_tags {
        backbone.config.tags
    } else {
        0
    };
    let mut head = default_head(backbone.config.embedding_size() + tags, genres.len());
    head.hidden.clone_from(&options.hidden);
    if options.from_backbone && head.hidden.is_empty() {
        head.hidden = vec![backbone.config.backend_units];
    }
    head.dropout = options.dropout;
    if options.from_backbone {
        // Refused before any embedding is computed; the weights come in
        // `TrainableHead::start`.
        head.fits(&backbone.network.penultimate_layer(&[], &[]))?;
    }
    let config = MusicnnGenreConfig {
        backbone: backbone.config.clone(),
        source: backbone.source.clone(),
        head: head.clone(),
        tag_prior: TagPrior::gtzan(options.tag_prior_weight).restricted_to(genres),
        head_reads_tags: options.reads_tags,
    };
    config.tag_prior.validate(genres)?;
    Ok(TrainableHead {
        architecture: Architecture::Ann(head),
        genre: Some(config),
        from_backbone: options.from_backbone,
    })
}

/// Where a head starts: fresh, or from a pretrained layer.
pub struct HeadStart {
    architecture: Architecture,
    layer: Option<PenultimateLayer>,
}

impl HeadStart {
    /// The starting network on `device` (the training device: its seed draws the fresh
    /// weights).
    pub fn init(&self, device: &Device) -> Network {
        match (&self.architecture, &self.layer) {
            (Architecture::Ann(config), Some(layer)) => {
                Network::Ann(config.init(device).starting_from(layer))
            }
            (architecture, _) => architecture.init(device),
        }
    }
}

impl TrainableHead {
    /// The architecture the trainer fits.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// The zero-shot prior over the genres from the backbone's tags, if it has one.
    pub fn tag_prior(&self) -> Option<&TagPrior> {
        self.genre.as_ref().map(|g| &g.tag_prior)
    }

    /// Makes the tag prior the distribution of `map` (learned on training segments);
    /// false when the head has no tag prior.
    pub fn set_learned_tag_map(&mut self, map: LearnedTagMap) -> bool {
        match &mut self.genre {
            Some(genre) => {
                genre.tag_prior.learned = Some(map);
                true
            }
            None => false,
        }
    }

    /// The model card's note on where the head started, if not fresh.
    pub fn start_note(&self) -> Option<&'static str> {
        self.from_backbone.then_some(
            "the head's hidden layer started from musicnn's back end (dense 200 and its batch norms) and fine-tuned",
        )
    }

    /// Where the head starts, given the normalisation (`mean`, `std`) of its inputs:
    /// from the backbone's back end when asked (its shape was checked to fit it), else
    /// fresh.
    pub fn start(
        &self,
        backbone: &FrozenBackbone,
        mean: &[f32],
        std: &[f32],
    ) -> Result<HeadStart, String> {
        let layer = match &backbone.kind {
            BackboneKind::Musicnn(m) if self.from_backbone => {
                let layer = m.network.penultimate_layer(mean, std);
                if let Architecture::Ann(config) = &self.architecture {
                    config.fits(&layer)?;
                }
                Some(layer)
            }
            _ => None,
        };
        Ok(HeadStart {
            architecture: self.architecture.clone(),
            layer,
        })
    }

    /// The whole model: the fitted head `network` on `backbone`, and its architecture.
    pub fn into_model(self, backbone: FrozenBackbone, network: Network) -> (Architecture, Network) {
        match (self.genre, backbone.kind, network) {
            (Some(config), BackboneKind::Musicnn(m), Network::Ann(head)) => (
                Architecture::Musicnn(config),
                Network::Musicnn(MusicnnGenre {
                    backbone: m.network,
                    head,
                }),
            ),
            (_, _, network) => (self.architecture, network),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EmbeddingShape;

    #[test]
    fn a_head_reading_tags_takes_the_whole_row_and_the_prior_still_gets_the_tags() {
        let shape = EmbeddingShape {
            frames: 1,
            width: 4,
            tags: 2,
        };
        let row = [0.0, 1.0, 2.0, 3.0, 0.25, 0.75];
        assert_eq!(shape.head_values(), 4);
        assert_eq!(shape.tags_of(&row), &[0.25, 0.75]);
        let reading = shape.with_head_reading_tags(true);
        assert_eq!(reading.head_values(), 6);
        assert_eq!(reading.tags_of(&row), &[0.25, 0.75]);
        assert_eq!(shape.with_head_reading_tags(false), shape);
        let identity = EmbeddingShape {
            frames: 2,
            width: 3,
            tags: 0,
        };
        assert!(identity.tags_of(&[1.0; 6]).is_empty());
    }
}
