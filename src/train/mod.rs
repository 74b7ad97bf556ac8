//! Training (native only): find the tracks of a data folder, extract or load their
//! features, split, fit a network, evaluate it, and write weights, card and plots.

mod cache;
mod fit;
mod metrics;
pub mod musicnn;
mod plots;
mod split;
mod tracks;

pub use cache::FeatureCache;
pub use fit::{Examples, FitOptions, Fitted, balanced_class_weights, fit, fit_from, predict};
pub use metrics::evaluate;
pub use plots::{confusion_matrix, training_curves};
pub use split::{Side, SplitKind, SplitOptions, Unlisted, assign_tracks, split_segments};
pub use tracks::{Track, TrackSet, find_tracks, parse_manifest, track_id};

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::atomic_file::write_atomically;
use crate::card::{
    CARD_FILE, CARD_FORMAT, CARD_VERSION, DataSummary, Evaluation, GenreCounts, Hyperparameters,
    ModelCard, Normalization, TrainingReport, WEIGHTS_FILE, WeightsInfo,
};
use crate::dataset::FileError;
use crate::features::{FeatureExtractor, FeatureSettings, SegmentFeatures};
use crate::inference::Classifier;
use crate::models::{Architecture, Network};

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

/// Tutorial defaults per architecture: (learning rate, batch size, epochs).
pub fn tutorial_defaults(architecture: &str) -> (f64, usize, usize) {
    match architecture {
        "ann" => (1e-4, 32, 50),
        "ann-reg" => (1e-4, 32, 100),
        "cnn" => (1e-4, 16, 300),
        "musicnn" => (1e-3, 64, 300),
        _ => (1e-4, 32, 30),
    }
}

/// Everything a training run needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The data folder.
    pub data: PathBuf,
    /// Architecture name (`ann`, `ann-reg`, `cnn`, `rnn`, `musicnn`).
    pub architecture: String,
    /// More data folders with the same genres (musicnn: the short excerpts).
    pub extra_data: Vec<PathBuf>,
    /// Where the musicnn wheel is downloaded to and read from.
    pub wheel_dir: PathBuf,
    /// Share of musicnn's tag prior in the final probabilities.
    pub tag_prior_weight: f32,
    /// Hidden layer widths of musicnn's genre head (empty: logistic regression).
    pub head_hidden: Vec<usize>,
    /// Dropout after each hidden layer of the head.
    pub head_dropout: f64,
    /// Whether the head's hidden layer starts from musicnn's own back end (dense 200 and
    /// its batch norms) and is fine-tuned, rather than starting fresh.
    pub head_from_backbone: bool,
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

/// The segments of one track: the song's own cut, and (for training only) a second cut
/// shifted by half a segment, which doubles the training windows.
#[derive(Debug, Default)]
struct TrackSegments {
    aligned: Vec<SegmentFeatures>,
    shifted: Vec<SegmentFeatures>,
}

/// The segments of one track, or why it could not be read.
type TrackFeatures = Result<TrackSegments, FileError>;

/// The segments of the track at `path`: its own cut, and the shifted one if `shifted`
/// (leaving out padded segments).
fn extract_track(
    path: &Path,
    extractor: &mut FeatureExtractor,
    shifted: bool,
) -> Result<TrackSegments, FileError> {
    let clip = crate::audio::decode::load_clip(path, extractor.settings().sample_rate)?;
    let features = |cause| FileError::Features {
        path: path.to_owned(),
        cause,
    };
    let aligned = extractor.song(&clip.samples).map_err(features)?;
    let half = extractor.settings().segment_samples / 2;
    let shifted = if shifted && clip.samples.len() >= half + extractor.settings().segment_samples {
        extractor
            .song(&clip.samples[half..])
            .map_err(features)?
            .into_iter()
            .filter(|s| !s.span.is_padded(extractor.settings()))
            .map(|mut s| {
                s.span.start += half;
                s
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(TrackSegments { aligned, shifted })
}

/// Segments of every track, in parallel, through the cache; and how many tracks came
/// from the cache.
fn extract_all(
    set: &TrackSet,
    settings: &FeatureSettings,
    cache: Option<&FeatureCache>,
    shifted: bool,
    show_progress: bool,
) -> Result<(Vec<TrackFeatures>, usize), TrainError> {
    FeatureExtractor::new(settings.clone()).map_err(|e| TrainError::Options(e.to_string()))?;
    let bar = progress_bar(
        set.tracks.len(),
        "features [{bar:30}] {pos}/{len} {msg}",
        show_progress,
    );
    let hits = std::sync::atomic::AtomicUsize::new(0);
    let shifted_variant = if shifted { "shifted" } else { "none" };
    let results = set
        .tracks
        .par_iter()
        .map_init(
            || FeatureExtractor::new(settings.clone()).ok(),
            |extractor, track| {
                let cached = cache.and_then(|c| {
                    Some(TrackSegments {
                        aligned: c.load(&track.path, "aligned")?,
                        shifted: c.load(&track.path, shifted_variant)?,
                    })
                });
                let result = if let Some(cached) = cached {
                    hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    Ok(cached)
                } else {
                    match extractor.as_mut() {
                        Some(e) => extract_track(&track.path, e, shifted),
                        None => Ok(TrackSegments::default()),
                    }
                    .inspect(|segments| {
                        if let Some(cache) = cache {
                            let stored = cache
                                .store(&track.path, "aligned", &segments.aligned)
                                .and_then(|()| {
                                    cache.store(&track.path, shifted_variant, &segments.shifted)
                                });
                            if let Err(e) = stored {
                                bar.suspend(|| {
                                    eprintln!("warning: feature cache not written: {e}")
                                });
                            }
                        }
                    })
                };
                bar.inc(1);
                result
            },
        )
        .collect();
    bar.finish_and_clear();
    Ok((results, hits.into_inner()))
}

/// Runs a whole training: find the tracks → split them → their features (cached) → each
/// segment on a side → the sides gathered and normalised → fit → evaluate on validation
/// → write weights, card and plots. `musicnn` has its own stages ([`musicnn::run`]).
pub fn run(options: &TrainOptions) -> Result<TrainOutcome, TrainError> {
    if options.architecture == "musicnn" {
        return musicnn::run(options);
    }
    let set = find_tracks(&options.data)?;
    let architecture = tutorial_architecture(options, set.genres.len())?;
    let track_sides = assign_tracks(&set, &options.split)?;
    let use_shifted = uses_shifted_cuts(options);
    let (extracted, cached_files) = extract_features(&set, options, use_shifted)?;
    let (segments, skipped) = assign_segments(extracted, &track_sides, &options.split);
    let (train, valid, normalization) = gather(&set, &segments, options, skipped.len())?;
    let fit_options =
        tutorial_fit_options(options, &train.labels, set.genres.len(), &normalization);
    let started = Instant::now();
    let fitted = fit(
        &architecture,
        &train.examples(&options.features),
        &valid.examples(&options.features),
        &fit_options,
        |_| {},
    );
    let seconds = started.elapsed().as_secs_f64();
    let validation = validate(&fitted.network, &valid, &options.features, &set.genres);
    let report = TrainingReport {
        data: summarise_data(options, &set, &segments, &train, &valid),
        split: options.split.describe(),
        hyperparameters: hyperparameters(
            &fit_options,
            options.class_balance,
            augmentation_summary(use_shifted, &fit_options, options.gain_db),
        ),
        history: fitted.history.clone(),
        best_epoch: fitted.best_epoch,
        validation,
        excerpts: None,
        tag_prior_grid: Vec::new(),
        seconds,
        backend: format!("burn flex, {} threads", rayon::current_num_threads()),
    };
    let card = model_card(
        architecture,
        &set,
        options,
        normalization,
        &fitted.network,
        report,
    );
    write_outcome(options, card, &fitted.network, skipped, cached_files)
}

/// The tutorial network `options.architecture` names, shaped for the feature settings and
/// `classes` genres.
fn tutorial_architecture(
    options: &TrainOptions,
    classes: usize,
) -> Result<Architecture, TrainError> {
    Architecture::tutorial(
        &options.architecture,
        options.features.frames_per_segment(),
        options.features.n_mfcc,
        classes,
    )
    .ok_or_else(|| {
        TrainError::Options(format!(
            "unknown model {:?}: use one of {}",
            options.architecture,
            crate::models::ARCHITECTURE_NAMES.join(", ")
        ))
    })
}

/// Whether to add shifted cuts of the training tracks: they add training windows, so as
/// `options` asks; but the random split leaves them out, since they would put the same
/// audio on both sides.
fn uses_shifted_cuts(options: &TrainOptions) -> bool {
    options.shifted_segments && options.split.kind != SplitKind::Random
}

/// The segments of every track (with the shifted cuts if `shifted`), through the
/// feature cache when there is one; and how many tracks came from the cache.
fn extract_features(
    set: &TrackSet,
    options: &TrainOptions,
    shifted: bool,
) -> Result<(Vec<TrackFeatures>, usize), TrainError> {
    let cache = options
        .cache
        .as_ref()
        .map(|dir| FeatureCache::new(dir, &options.features));
    extract_all(
        set,
        &options.features,
        cache.as_ref(),
        shifted,
        options.fit.show_progress,
    )
}

/// Every readable segment of the data, with its track and its side of the split: the
/// tracks' own cuts first, in track order, then the shifted cuts of the training tracks.
struct Segments {
    /// The track and the coefficients of each segment.
    rows: Vec<(usize, Vec<f32>)>,
    /// The side of each segment.
    sides: Vec<Side>,
}

impl Segments {
    /// The indices of the segments on `side`, in order.
    fn on(&self, side: Side) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.sides[i] == side)
            .collect()
    }
}

/// The segments of the readable tracks, each put on a side: its track's side, or for the
/// random split a random side (tracks left out stay out); shifted cuts always train.
/// Also returns the unreadable files, with the reason.
fn assign_segments(
    extracted: Vec<TrackFeatures>,
    track_sides: &[Side],
    split: &SplitOptions,
) -> (Segments, Vec<String>) {
    let mut skipped = Vec::new();
    let mut rows: Vec<(usize, Vec<f32>)> = Vec::new(); // (track, coefficients)
    let mut extra: Vec<(usize, Vec<f32>)> = Vec::new(); // shifted cuts, training only
    for (t, result) in extracted.into_iter().enumerate() {
        match result {
            Ok(track) => {
                rows.extend(track.aligned.into_iter().map(|s| (t, s.features.data)));
                if track_sides[t] == Side::Train {
                    extra.extend(track.shifted.into_iter().map(|s| (t, s.features.data)));
                }
            }
            Err(e) => skipped.push(e.to_string()),
        }
    }
    let mut sides: Vec<Side> = match split.kind {
        SplitKind::Random => {
            let random = split_segments(rows.len(), split);
            rows.iter()
                .zip(random)
                .map(|((t, _), side)| {
                    if track_sides[*t] == Side::Excluded {
                        Side::Excluded
                    } else {
                        side
                    }
                })
                .collect()
        }
        _ => rows.iter().map(|(t, _)| track_sides[*t]).collect(),
    };
    sides.extend(std::iter::repeat_n(Side::Train, extra.len()));
    rows.extend(extra);
    (Segments { rows, sides }, skipped)
}

/// The segments of one side of the split as one flat, normalised array, with each
/// segment's label and track.
struct Gathered {
    /// `count × frames × coefficients` normalised values.
    data: Vec<f32>,
    /// The label of each segment.
    labels: Vec<usize>,
    /// The track of each segment.
    tracks: Vec<usize>,
}

impl Gathered {
    /// These segments as the training loop takes them.
    fn examples(&self, features: &FeatureSettings) -> Examples<'_> {
        Examples {
            data: &self.data,
            labels: &self.labels,
            frames: features.frames_per_segment(),
            coefficients: features.n_mfcc,
        }
    }
}

/// The training and validation sides, normalised by the normalisation learned from the
/// training side (returned too). Fails if a genre, or the whole training side, has no
/// segments (`skipped` files were unreadable).
fn gather(
    set: &TrackSet,
    segments: &Segments,
    options: &TrainOptions,
    skipped: usize,
) -> Result<(Gathered, Gathered, Normalization), TrainError> {
    let (train_ids, valid_ids) = (segments.on(Side::Train), segments.on(Side::Valid));
    if train_ids.is_empty() {
        return Err(TrainError::Data(format!(
            "{}: no readable training tracks ({skipped} files skipped)",
            options.data.display(),
        )));
    }
    if let Some(g) = (0..set.genres.len()).find(|&g| {
        !train_ids
            .iter()
            .any(|&i| set.tracks[segments.rows[i].0].label == g)
    }) {
        return Err(TrainError::Data(format!(
            "genre {:?} has no readable training tracks",
            set.genres[g]
        )));
    }
    let coefficients = options.features.n_mfcc;
    let normalization = Normalization::fit(
        train_ids
            .iter()
            .flat_map(|&i| segments.rows[i].1.chunks(coefficients)),
        coefficients,
    );
    let side = |ids: &[usize]| {
        let size = options.features.frames_per_segment() * coefficients;
        let mut data = Vec::with_capacity(ids.len() * size);
        let (mut labels, mut tracks) = (Vec::new(), Vec::new());
        for &i in ids {
            let start = data.len();
            data.extend_from_slice(&segments.rows[i].1);
            normalization.apply(&mut data[start..]);
            labels.push(set.tracks[segments.rows[i].0].label);
            tracks.push(segments.rows[i].0);
        }
        Gathered {
            data,
            labels,
            tracks,
        }
    };
    let (train, valid) = (side(&train_ids), side(&valid_ids));
    Ok((train, valid, normalization))
}

/// `options.fit` with the class weights of the training labels and the gain range of
/// `options.gain_db` in normalised units.
fn tutorial_fit_options(
    options: &TrainOptions,
    train_labels: &[usize],
    classes: usize,
    normalization: &Normalization,
) -> FitOptions {
    let mut fit_options = options.fit.clone();
    fit_options.class_weights =
        balanced_class_weights(train_labels, classes, options.class_balance);
    // A gain of g dB adds g to every mel band's level, which the orthonormal DCT turns
    // into g·√n_mels on coefficient 0 alone.
    fit_options.gain_range = options.gain_db * (options.features.n_mels as f32).sqrt()
        / normalization.std.first().copied().unwrap_or(1.0);
    fit_options
}

/// Validation figures of the trained `network` on the validation side.
fn validate(
    network: &Network,
    valid: &Gathered,
    features: &FeatureSettings,
    genres: &[String],
) -> Evaluation {
    let device = crate::models::cpu_device();
    let probabilities = predict(network, &valid.examples(features), &device);
    evaluate(&probabilities, &valid.labels, &valid.tracks, genres)
}

/// Tracks and segments per genre and side, for the card.
fn summarise_data(
    options: &TrainOptions,
    set: &TrackSet,
    segments: &Segments,
    train: &Gathered,
    valid: &Gathered,
) -> DataSummary {
    let per_genre = (0..set.genres.len())
        .map(|g| {
            // Tracks of genre g with a segment on `side`.
            let count_tracks = |side: Side| {
                set.tracks
                    .iter()
                    .enumerate()
                    .filter(|(t, tr)| {
                        tr.label == g
                            && segments
                                .rows
                                .iter()
                                .zip(&segments.sides)
                                .any(|((st, _), s)| st == t && *s == side)
                    })
                    .count()
            };
            let count_segments = |labels: &[usize]| labels.iter().filter(|&&l| l == g).count();
            GenreCounts {
                genre: set.genres[g].clone(),
                train_tracks: count_tracks(Side::Train),
                valid_tracks: count_tracks(Side::Valid),
                train_segments: count_segments(&train.labels),
                valid_segments: count_segments(&valid.labels),
            }
        })
        .collect();
    DataSummary {
        source: options.data.display().to_string(),
        per_genre,
        train_segments: train.labels.len(),
        valid_segments: valid.labels.len(),
    }
}

/// The model card of a trained tutorial network, before its weights are exported (the
/// weights entry is a placeholder until then).
fn model_card(
    architecture: Architecture,
    set: &TrackSet,
    options: &TrainOptions,
    normalization: Normalization,
    network: &Network,
    training: TrainingReport,
) -> ModelCard {
    ModelCard {
        format: CARD_FORMAT.into(),
        version: CARD_VERSION,
        parameters: network.num_params(),
        architecture,
        labels: set.genres.clone(),
        features: options.features.clone(),
        normalization,
        weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
        training: Some(training),
    }
}

/// Exports `network`'s weights, records their checksum in `card`, and writes the model
/// folder: the finished run.
fn write_outcome(
    options: &TrainOptions,
    mut card: ModelCard,
    network: &Network,
    skipped: Vec<String>,
    cached_files: usize,
) -> Result<TrainOutcome, TrainError> {
    let weights = Classifier::export_weights(network, &card)?;
    card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
    let files = write_model(&options.out, &card, &weights)?;
    Ok(TrainOutcome {
        card,
        files,
        skipped,
        cached_files,
    })
}

/// The card's record of the optimiser and loop settings of a run.
fn hyperparameters(fit: &FitOptions, class_balance: f32, augmentation: String) -> Hyperparameters {
    Hyperparameters {
        learning_rate: fit.learning_rate,
        batch_size: fit.batch_size,
        max_epochs: fit.max_epochs,
        patience: fit.patience,
        seed: fit.seed,
        class_balance: format!(
            "class-weighted cross-entropy, weight (n/(classes·n_c))^{class_balance} per genre"
        ),
        augmentation,
    }
}

/// The model card's phrase for the augmentation used.
fn augmentation_summary(shifted: bool, fit: &FitOptions, gain_db: f32) -> String {
    let mut parts = Vec::new();
    if shifted {
        parts.push("a second cut of each training track shifted by half a segment".to_string());
    }
    if fit.augment {
        parts.push(
            "per segment and epoch, one random time mask (up to 1/6 of the frames) and one coefficient mask"
                .to_string(),
        );
        if gain_db > 0.0 && fit.gain_range > 0.0 {
            parts.push(format!("a random gain of up to ±{gain_db} dB"));
        }
    }
    if fit.mixup_alpha > 0.0 {
        parts.push(format!("mixup, λ ~ Beta({0}, {0})", fit.mixup_alpha));
    }
    if fit.label_smoothing > 0.0 {
        parts.push(format!("label smoothing {}", fit.label_smoothing));
    }
    parts.join("; ")
}

/// Writes `bytes` to `path` atomically.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    use std::io::Write;
    write_atomically(path, |w| w.write_all(bytes)).map_err(|cause| TrainError::Write {
        path: path.to_path_buf(),
        cause,
    })
}

/// Writes a model folder: weights, plots, then the card last (each file atomically).
pub fn write_model(
    out: &Path,
    card: &ModelCard,
    weights: &[u8],
) -> Result<Vec<PathBuf>, TrainError> {
    std::fs::create_dir_all(out).map_err(|cause| TrainError::Write {
        path: out.to_path_buf(),
        cause,
    })?;
    let mut files = vec![out.join(WEIGHTS_FILE)];
    write_file(&files[0], weights)?;
    if let Some(report) = &card.training {
        let name = card.architecture.name();
        let curves = out.join("training.svg");
        write_file(
            &curves,
            training_curves(
                &report.history,
                report.best_epoch,
                &format!("{name}: training"),
            )
            .as_bytes(),
        )?;
        let confusion = out.join("confusion.svg");
        write_file(
            &confusion,
            confusion_matrix(
                &report.validation,
                &card.labels,
                &format!("{name}: validation tracks"),
            )
            .as_bytes(),
        )?;
        files.extend([curves, confusion]);
    }
    let json =
        serde_json::to_string_pretty(card).map_err(|e| TrainError::Data(format!("card: {e}")))?;
    let card_path = out.join(CARD_FILE);
    write_file(&card_path, json.as_bytes())?;
    files.push(card_path);
    Ok(files)
}
