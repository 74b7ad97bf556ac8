//! The writing stage: the model card's record of a run, and the model folder (weights,
//! plots, card).

use std::path::{Path, PathBuf};

use burn::module::Module;

use super::{
    FitOptions, TrainError, TrainOptions, TrainOutcome, confusion_matrix, training_curves,
};
use crate::atomic_file::write_atomically;
use crate::card::{
    CARD_FILE, CARD_FORMAT, CARD_VERSION, Hyperparameters, ModelCard, Normalization,
    TrainingReport, WEIGHTS_FILE, WeightsInfo,
};
use crate::inference::{Calibration, Classifier};
use crate::models::{Architecture, FrozenBackbone, Network, TrainableHead};

/// The card's record of the optimiser and loop settings of a run.
pub(super) fn hyperparameters(
    fit: &FitOptions,
    class_balance: f32,
    augmentation: String,
) -> Hyperparameters {
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

/// The model card's phrase for how the training segments were made and augmented:
/// `shifted` if the training tracks had a second cut, `fit` as the head was fitted.
pub(super) fn augmentation_summary(
    options: &TrainOptions,
    backbone: &FrozenBackbone,
    head: &TrainableHead,
    fit: &FitOptions,
    shifted: bool,
) -> String {
    let mut parts = backbone.input_notes(&options.features);
    if shifted {
        parts.push(format!(
            "a second cut of each training track shifted by half a {}",
            backbone.segment_noun()
        ));
    }
    if fit.augment {
        parts.push(
            "per segment and epoch, one random time mask (up to 1/6 of the frames) and one coefficient mask"
                .to_string(),
        );
        if options.gain_db > 0.0 && fit.gain_range > 0.0 {
            parts.push(format!("a random gain of up to ±{} dB", options.gain_db));
        }
    }
    parts.extend(head.start_note().map(String::from));
    if fit.mixup_alpha > 0.0 {
        let what = if backbone.embeds() {
            "mixup of embeddings"
        } else {
            "mixup"
        };
        parts.push(format!("{what}, λ ~ Beta({0}, {0})", fit.mixup_alpha));
    }
    if fit.label_smoothing > 0.0 {
        parts.push(format!("label smoothing {}", fit.label_smoothing));
    }
    parts.join("; ")
}

/// The model card of a trained network, before its weights are exported (the weights
/// entry is a placeholder until then).
pub(super) fn model_card(
    architecture: Architecture,
    labels: &[String],
    options: &TrainOptions,
    normalization: Normalization,
    network: &Network,
    training: TrainingReport,
    calibration: Option<Calibration>,
) -> ModelCard {
    ModelCard {
        format: CARD_FORMAT.into(),
        version: CARD_VERSION,
        parameters: network.num_params(),
        architecture,
        labels: labels.to_vec(),
        features: options.features.clone(),
        normalization,
        weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
        calibration,
        training: Some(training),
        own_labels: None,
    }
}

/// Exports `network`'s weights, records their checksum in `card`, and writes the model
/// folder: the finished run.
pub(super) fn write_outcome(
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

/// Writes `bytes` to `path` atomically.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    use std::io::Write;
    write_atomically(path, |w| w.write_all(bytes)).map_err(|cause| TrainError::Write {
        path: path.to_path_buf(),
        cause,
    })
}

/// The training curves and the confusion matrix of `card`'s run, as files of `out`.
fn plots(out: &Path, card: &ModelCard, report: &TrainingReport) -> [(PathBuf, String); 2] {
    let name = card.architecture.name();
    [
        (
            out.join("training.svg"),
            training_curves(
                &report.history,
                report.best_epoch,
                &format!("{name}: training"),
            ),
        ),
        (
            out.join("confusion.svg"),
            confusion_matrix(
                &report.validation,
                &card.labels,
                &format!("{name}: validation tracks"),
            ),
        ),
    ]
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
        for (path, svg) in plots(out, card, report) {
            write_file(&path, svg.as_bytes())?;
            files.push(path);
        }
    }
    let json =
        serde_json::to_string_pretty(card).map_err(|e| TrainError::Data(format!("card: {e}")))?;
    let card_path = out.join(CARD_FILE);
    write_file(&card_path, json.as_bytes())?;
    files.push(card_path);
    Ok(files)
}
