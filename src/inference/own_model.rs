//! A model of one's own labels from a loaded model's embeddings, in memory (no file
//! system, so the same in wasm): the head's part of each embedding is normalised as the
//! trainer does it, a linear head is fitted on it ([`fit_linear_head`]) and put on the
//! model's backbone, and out come the card and the burnpack bytes `train` writes
//! (`card.json`, `model.bpk`), which [`Classifier::load`] and `classify --model` read.

use burn::module::Module;

use super::{Classifier, ModelError};
use crate::card::{CARD_FORMAT, CARD_VERSION, ModelCard, Normalization, WEIGHTS_FILE, WeightsInfo};
use crate::models::{
    FittedHead, HeadFitError, HeadFitOptions, HeadRows, LinearHead, balanced_class_weights,
    fit_linear_head,
};

/// Most labels a model of one's own may have.
pub const MAX_OWN_LABELS: usize = 100;
/// Most characters of one label.
pub const MAX_LABEL_CHARS: usize = 64;

/// Why a model of one's own labels could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OwnModelError {
    /// The label names are unusable.
    #[error("labels: {0}")]
    Labels(String),
    /// The model has no backbone to put a new head on.
    #[error("{0}")]
    Unsupported(String),
    /// The embeddings or their labels do not fit the model or each other.
    #[error("embeddings: {0}")]
    Embeddings(String),
    /// Fitting the head failed or was cancelled.
    #[error(transparent)]
    Fit(#[from] HeadFitError),
    /// The new model could not be exported or read back.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A model's two files, in memory.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The card.
    pub card: ModelCard,
    /// The card as `card.json` holds it.
    pub card_json: String,
    /// The weights as `model.bpk` holds them.
    pub weights: Vec<u8>,
}

/// Segments' embeddings (as [`Classifier::embed`] gives them, concatenated) and the
/// label of each.
#[derive(Debug, Clone, Copy)]
pub struct LabelledEmbeddings<'a> {
    /// `labels.len()` embeddings of [`Classifier::embedding_size`] values.
    pub embeddings: &'a [f32],
    /// Each segment's label: an index into the label names.
    pub labels: &'a [usize],
}

/// What [`Classifier::train_linear_head`] needs besides the embeddings.
#[derive(Debug, Clone)]
pub struct HeadTraining<'a> {
    /// The label names, in the order of the labels' indices.
    pub labels: &'a [String],
    /// Class balance exponent of the loss weights (see [`balanced_class_weights`]): 1
    /// all labels weigh the same, 0 unweighted; the trainer's default is 0.5.
    pub class_balance: f32,
    /// Optimiser and loop settings.
    pub options: HeadFitOptions,
}

/// Refuses label names that are too few or too many, empty, too long, with control
/// characters, or repeated.
fn check_labels(labels: &[String]) -> Result<(), OwnModelError> {
    let refuse = |m: String| Err(OwnModelError::Labels(m));
    if !(2..=MAX_OWN_LABELS).contains(&labels.len()) {
        return refuse(format!(
            "{} labels: a model needs between 2 and {MAX_OWN_LABELS}",
            labels.len()
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        if label.trim().is_empty() {
            return refuse(format!("label {} has no name", i + 1));
        }
        if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return refuse(format!(
                "{label:?}: a label has at most {MAX_LABEL_CHARS} characters and no control characters"
            ));
        }
        if labels[..i].contains(label) {
            return refuse(format!("{label:?} is named twice"));
        }
    }
    Ok(())
}

impl Classifier {
    /// The part of each of `embeddings` (concatenated, as [`embed`](Self::embed) gives
    /// them) that a new linear head reads, concatenated, and its width per segment.
    pub fn head_inputs(&self, embeddings: &[f32]) -> Result<(Vec<f32>, usize), OwnModelError> {
        let architecture = &self.card.architecture;
        let width = architecture.linear_head_inputs().ok_or_else(|| {
            OwnModelError::Unsupported(format!(
                "the {} model has no pretrained backbone to train a head on",
                architecture.name()
            ))
        })?;
        let size = self.embedding_size();
        if size < width || !embeddings.len().is_multiple_of(size) {
            return Err(OwnModelError::Embeddings(format!(
                "{} values are not whole embeddings of {size}",
                embeddings.len()
            )));
        }
        let mut out = Vec::with_capacity(embeddings.len() / size * width);
        for embedding in embeddings.chunks_exact(size) {
            out.extend_from_slice(&embedding[..width]);
        }
        Ok((out, width))
    }

    /// This model's backbone under `head` (fitted on head inputs normalised by
    /// `normalization`) for `labels`: the new model's card and weights, checked by
    /// reading the card back.
    pub fn with_linear_head(
        &self,
        labels: &[String],
        normalization: Normalization,
        head: &LinearHead,
    ) -> Result<ModelFiles, OwnModelError> {
        check_labels(labels)?;
        let architecture = self
            .card
            .architecture
            .with_linear_head(labels)
            .map_err(OwnModelError::Unsupported)?;
        let network = self
            .network
            .with_linear_head(head, &self.device)
            .map_err(OwnModelError::Unsupported)?;
        let mut card = ModelCard {
            format: CARD_FORMAT.into(),
            version: CARD_VERSION,
            architecture,
            labels: labels.to_vec(),
            features: self.card.features.clone(),
            normalization,
            parameters: network.num_params(),
            weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
            calibration: None,
            training: None,
            own_labels: None,
        };
        let weights = Self::export_weights(&network, &card)?;
        card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
        let card_json = serde_json::to_string_pretty(&card)
            .map_err(|e| ModelError::Card(format!("cannot write the card: {e}")))?;
        ModelCard::parse(&card_json)?;
        Ok(ModelFiles {
            card,
            card_json,
            weights,
        })
    }

    /// Trains a model of `training.labels` on this model's embeddings of labelled
    /// segments: normalises the head's part of each embedding by the training segments'
    /// mean and deviation (as `train` does), weighs the labels by
    /// `training.class_balance`, fits a linear head with early stopping on `valid` (see
    /// [`fit_linear_head`], which also says what `progress` does), and puts it on this
    /// model's backbone ([`with_linear_head`](Self::with_linear_head)).
    pub fn train_linear_head(
        &self,
        train: LabelledEmbeddings,
        valid: LabelledEmbeddings,
        training: &HeadTraining,
        progress: impl FnMut(usize, f64) -> bool,
    ) -> Result<(ModelFiles, FittedHead), OwnModelError> {
        check_labels(training.labels)?;
        let classes = training.labels.len();
        if let Some(missing) = (0..classes).find(|c| !train.labels.contains(c)) {
            return Err(OwnModelError::Labels(format!(
                "{:?} has no training segments",
                training.labels[missing]
            )));
        }
        let (mut train_values, width) = self.head_inputs(train.embeddings)?;
        let (mut valid_values, _) = self.head_inputs(valid.embeddings)?;
        let normalization = Normalization::fit(train_values.chunks(width), width);
        normalization.apply(&mut train_values);
        normalization.apply(&mut valid_values);
        let train_rows = HeadRows::new(&train_values, width, train.labels)?;
        let valid_rows = HeadRows::new(&valid_values, width, valid.labels)?;
        let weights = balanced_class_weights(train.labels, classes, training.class_balance);
        let fitted = fit_linear_head(
            &train_rows,
            &valid_rows,
            &weights,
            &training.options,
            progress,
        )?;
        let files = self.with_linear_head(training.labels, normalization, &fitted.head)?;
        Ok((files, fitted))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::features::FeatureSettings;
    use crate::models::{
        Architecture, BackboneSource, MusicnnConfig, MusicnnGenreConfig, TagPrior, cpu_device,
        default_head,
    };

    const GENRES: [&str; 10] = [
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
    ];

    /// The page's situation: a musicnn model (random weights, the real shapes) loaded
    /// from its card and burnpack bytes.
    pub(in crate::inference) fn base() -> Classifier {
        let device = cpu_device();
        let backbone = MusicnnConfig::msd();
        let pooled = backbone.embedding_size();
        let architecture = Architecture::Musicnn(MusicnnGenreConfig {
            backbone,
            source: BackboneSource::msd_musicnn("00c0ffee"),
            head: default_head(pooled, GENRES.len()),
            tag_prior: TagPrior::gtzan(0.4),
            head_reads_tags: false,
        });
        let network = architecture.init(&device);
        let mut card = ModelCard {
            format: CARD_FORMAT.into(),
            version: CARD_VERSION,
            parameters: network.num_params(),
            architecture,
            labels: GENRES.iter().map(|g| (*g).to_string()).collect(),
            features: FeatureSettings::musicnn(),
            normalization: Normalization {
                mean: vec![0.0; pooled],
                std: vec![1.0; pooled],
            },
            weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
            calibration: None,
            training: None,
            own_labels: None,
        };
        let weights = Classifier::export_weights(&network, &card).unwrap();
        card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
        let json = serde_json::to_string(&card).unwrap();
        Classifier::load(&json, &weights, &device).unwrap()
    }

    /// Deterministic values in [0, 1).
    fn uniform(state: &mut u64) -> f32 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 40) as f32 / (1u64 << 24) as f32
    }

    /// `count` embeddings of `size` values for label `label`: pooled values around 0.5
    /// (unnormalised, as a backbone gives them) with `label`'s 30 values raised, then
    /// tag probabilities.
    fn embeddings(label: usize, count: usize, size: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        let mut out = Vec::with_capacity(count * size);
        for _ in 0..count {
            out.extend((0..size).map(|i| {
                let signal = if i / 30 == label { 0.6 } else { 0.0 };
                0.5 + signal + 0.4 * (uniform(&mut state) - 0.5)
            }));
        }
        out
    }

    /// Embeddings of the labels `0..labels`, `count` each, and their labels.
    fn labelled(labels: usize, count: usize, size: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let values = (0..labels)
            .flat_map(|l| embeddings(l, count, size, seed + l as u64))
            .collect();
        let labels = (0..labels).flat_map(|l| vec![l; count]).collect();
        (values, labels)
    }

    #[test]
    fn a_head_of_ones_own_labels_loads_back_and_classifies() {
        let base = base();
        let size = base.embedding_size();
        let names: Vec<String> = ["workout", "chill", "rock"].map(String::from).to_vec();
        let (train, train_labels) = labelled(3, 40, size, 1);
        let (valid, valid_labels) = labelled(3, 10, size, 100);
        let training = HeadTraining {
            labels: &names,
            class_balance: 0.5,
            options: HeadFitOptions::default(),
        };
        let (files, fitted) = base
            .train_linear_head(
                LabelledEmbeddings {
                    embeddings: &train,
                    labels: &train_labels,
                },
                LabelledEmbeddings {
                    embeddings: &valid,
                    labels: &valid_labels,
                },
                &training,
                |_, _| true,
            )
            .unwrap();
        assert!(fitted.best_epoch >= 1);
        let device = cpu_device();
        let loaded = Classifier::load(&files.card_json, &files.weights, &device).unwrap();
        assert_eq!(loaded.card().labels, names);
        assert_eq!(loaded.embedding_key(), base.embedding_key());
        for label in 0..3 {
            let outputs = loaded.head(&embeddings(label, 5, size, 500)).unwrap();
            for output in &outputs {
                let best = crate::inference::argmax(&output.probabilities);
                assert_eq!(best, label, "{:?}", output.probabilities);
            }
        }
        // The backbone went through a second int8 export unchanged.
        let patch: Vec<f32> = (0..187 * 96)
            .map(|i| ((i * 37 % 101) as f32) / 50.0)
            .collect();
        let (before, after) = (
            base.embed_values(&patch).unwrap(),
            loaded.embed_values(&patch).unwrap(),
        );
        let largest = before
            .iter()
            .zip(&after)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(largest < 1e-4, "embeddings differ by {largest}");
    }

    #[test]
    fn unusable_labels_and_models_are_refused() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        assert!(check_labels(&names(&["a", "b"])).is_ok());
        for bad in [
            names(&["only"]),
            names(&["a", " "]),
            names(&["a", "a"]),
            names(&["a", "tab\there"]),
            names(&["a", &"x".repeat(MAX_LABEL_CHARS + 1)]),
        ] {
            assert!(
                matches!(check_labels(&bad), Err(OwnModelError::Labels(_))),
                "{bad:?}"
            );
        }
        let base = base();
        let size = base.embedding_size();
        let (values, labels) = labelled(2, 3, size, 7);
        let training = HeadTraining {
            labels: &names(&["a", "b", "c"]),
            class_balance: 0.5,
            options: HeadFitOptions::default(),
        };
        let data = LabelledEmbeddings {
            embeddings: &values,
            labels: &labels,
        };
        let error = base
            .train_linear_head(data, data, &training, |_, _| true)
            .unwrap_err();
        assert!(
            error.to_string().contains("\"c\" has no training"),
            "{error}"
        );
        let cut = LabelledEmbeddings {
            embeddings: &values[1..],
            labels: &labels,
        };
        let training = HeadTraining {
            labels: &names(&["a", "b"]),
            ..training
        };
        let error = base
            .train_linear_head(cut, data, &training, |_, _| true)
            .unwrap_err();
        assert!(matches!(error, OwnModelError::Embeddings(_)), "{error}");
    }
}
