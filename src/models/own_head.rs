//! A new linear head over a model's own backbone: how a head fitted by
//! [`fit_linear_head`](super::fit_linear_head) on a model's embeddings becomes a model of
//! other labels (the page's "your labels"), in memory, on both targets. Only networks
//! with a pretrained backbone (musicnn) take one; the tutorial's networks are trained
//! whole.

use burn::prelude::*;

use super::{Ann, Architecture, LinearHead, MusicnnGenre, Network, TagPrior, default_head};

impl Architecture {
    /// Values per segment a linear head over this network's backbone reads: the part of
    /// each embedding the card normalises (musicnn's 1506 pooled values, and its 50 tags
    /// when its head reads them); `None` for networks without a backbone.
    pub fn linear_head_inputs(&self) -> Option<usize> {
        match self {
            Self::Musicnn(c) => Some(c.head_input_size()),
            _ => None,
        }
    }

    /// This architecture with a linear head for `labels` in place of its head: the same
    /// backbone, its source and its input; the tag prior keeps the hand-written map's
    /// entries for those of `labels` it names, with weight 0 (its share was chosen for
    /// the ten genres, so other labels get the head alone).
    pub fn with_linear_head(&self, labels: &[String]) -> Result<Self, String> {
        let Self::Musicnn(config) = self else {
            return Err(format!(
                "the {} network has no pretrained backbone to put a new head on",
                self.name()
            ));
        };
        let mut config = config.clone();
        config.head = default_head(config.head_input_size(), labels.len());
        config.tag_prior = TagPrior::gtzan(0.0).restricted_to(labels);
        let architecture = Self::Musicnn(config);
        architecture.validate()?;
        Ok(architecture)
    }
}

impl Network {
    /// This network's backbone under `head` (on `device`), as
    /// [`Architecture::with_linear_head`] describes it.
    pub fn with_linear_head(&self, head: &LinearHead, device: &Device) -> Result<Self, String> {
        let Self::Musicnn(network) = self else {
            return Err("only a network with a pretrained backbone takes a new head".into());
        };
        let config = default_head(head.inputs, head.classes);
        Ok(Self::Musicnn(MusicnnGenre {
            backbone: network.backbone.clone(),
            head: Ann::linear(&config, head, device)?,
        }))
    }
}
