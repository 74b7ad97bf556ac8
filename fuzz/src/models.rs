//! Small models of every architecture (a few hundred parameters each), made with the
//! crate's own exporter: what the model targets load, and their seeds.

use std::sync::OnceLock;

use burn::prelude::Device;
use genre_classifier::card::{
    CARD_FORMAT, CARD_VERSION, ModelCard, Normalization, WEIGHTS_FILE, WeightsInfo,
};
use genre_classifier::features::{
    FeatureFrames, FeatureKind, FeatureSettings, PadMode, SegmentFeatures, SegmentSpan, ShortSongFill,
};
use genre_classifier::inference::Classifier;
use genre_classifier::models::{
    AnnConfig, Architecture, BackboneSource, CnnConfig, ConvBlockConfig, MusicnnConfig,
    MusicnnGenreConfig, RnnConfig, TagPrior, cpu_device, default_head,
};

/// A model's card (as JSON) and burnpack weights, which load together.
#[derive(Debug, Clone)]
pub struct TinyModel {
    /// The card, pretty-printed as the trainer writes it.
    pub card_json: String,
    /// The weights the card describes.
    pub weights: Vec<u8>,
}

/// The device every target runs on (the crate's CPU backend).
pub fn device() -> &'static Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(cpu_device)
}

/// Tiny MFCC settings: 5 frames of 3 coefficients at 8 kHz.
pub fn tiny_mfcc_settings() -> FeatureSettings {
    FeatureSettings {
        kind: FeatureKind::Mfcc,
        sample_rate: 8_000,
        segment_samples: 64,
        min_song_samples: 32,
        short_song_fill: ShortSongFill::Silence,
        n_fft: 16,
        hop_length: 16,
        n_mels: 4,
        n_mfcc: 3,
        fmin: 0.0,
        fmax: 4_000.0,
        pad_mode: PadMode::Constant,
        amin: 1e-10,
        ref_power: 1.0,
        top_db: Some(80.0),
    }
}

/// Tiny log-mel settings for musicnn: 8 frames of 4 bands at 16 kHz.
pub fn tiny_logmel_settings() -> FeatureSettings {
    FeatureSettings {
        kind: FeatureKind::LogMel,
        sample_rate: 16_000,
        segment_samples: 8 * 16,
        min_song_samples: 64,
        short_song_fill: ShortSongFill::Loop,
        n_fft: 32,
        hop_length: 16,
        n_mels: 4,
        n_mfcc: 4,
        fmin: 0.0,
        fmax: 8_000.0,
        pad_mode: PadMode::Reflect,
        amin: 1e-10,
        ref_power: 1.0,
        top_db: None,
    }
}

/// A musicnn backbone of the real layout with a handful of filters, on 8 × 4 patches.
pub fn tiny_musicnn() -> MusicnnConfig {
    MusicnnConfig {
        frames: 8,
        mels: 4,
        timbral_filters: 2,
        temporal_filters: 1,
        midend_filters: 2,
        backend_units: 3,
        tags: 50,
    }
}

/// The architectures of the tiny models, with the settings each is trained on.
fn architectures() -> Vec<(Architecture, FeatureSettings)> {
    let labels = labels();
    let mfcc = tiny_mfcc_settings();
    let inputs = mfcc.values_per_segment();
    let backbone = tiny_musicnn();
    let pooled = backbone.embedding_size();
    let ann = |hidden: Vec<usize>, dropout, l2| AnnConfig {
        inputs,
        hidden,
        dropout,
        l2,
        classes: labels.len(),
    };
    vec![
        (Architecture::Ann(ann(vec![4], 0.0, 0.0)), mfcc.clone()),
        (
            Architecture::AnnReg(ann(vec![3, 2], 0.3, 1e-3)),
            mfcc.clone(),
        ),
        (
            Architecture::Cnn(CnnConfig {
                frames: mfcc.frames_per_segment(),
                coefficients: mfcc.coefficients(),
                blocks: vec![ConvBlockConfig {
                    channels: 2,
                    kernel: [2, 2],
                    pool: [2, 2],
                    pool_stride: [2, 2],
                }],
                dense: 3,
                dropout: 0.3,
                classes: labels.len(),
            }),
            mfcc.clone(),
        ),
        (
            Architecture::Rnn(RnnConfig {
                coefficients: mfcc.coefficients(),
                lstm: vec![2, 2],
                dense: 3,
                dropout: 0.3,
                classes: labels.len(),
            }),
            mfcc,
        ),
        (
            Architecture::Musicnn(MusicnnGenreConfig {
                backbone,
                source: BackboneSource::msd_musicnn(&"0".repeat(64)),
                head: default_head(pooled, labels.len()),
                tag_prior: TagPrior::gtzan(0.5).restricted_to(&labels),
            }),
            tiny_logmel_settings(),
        ),
    ]
}

/// The genres of the tiny models.
fn labels() -> Vec<String> {
    vec!["blues".into(), "rock".into()]
}

/// One tiny model of each architecture (ann, ann-reg, cnn, rnn, musicnn), made once per
/// process. Panics if one does not load back: the seeds would be worthless.
pub fn tiny_models() -> &'static [TinyModel] {
    static MODELS: OnceLock<Vec<TinyModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        architectures()
            .into_iter()
            .map(|(architecture, features)| {
                let width = architecture.normalized_width(features.coefficients());
                let mut card = ModelCard {
                    format: CARD_FORMAT.into(),
                    version: CARD_VERSION,
                    architecture,
                    labels: labels(),
                    features,
                    normalization: Normalization {
                        mean: vec![0.0; width],
                        std: vec![1.0; width],
                    },
                    parameters: 0,
                    weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
                    training: None,
                };
                let network = card.architecture.init(device());
                let weights = Classifier::export_weights(&network, &card)
                    .unwrap_or_else(|e| panic!("tiny {}: {e}", card.architecture.name()));
                card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
                let card_json = serde_json::to_string_pretty(&card)
                    .unwrap_or_else(|e| panic!("tiny {}: {e}", card.architecture.name()));
                if let Err(e) = Classifier::load(&card_json, &weights, device()) {
                    panic!("tiny {} does not load: {e}", card.architecture.name());
                }
                TinyModel { card_json, weights }
            })
            .collect()
    })
}

/// The tiny model of the architecture the card names (its `architecture.name`), or the
/// first one.
pub fn tiny_model_like(card_json: &str) -> &'static TinyModel {
    let name = serde_json::from_str::<serde_json::Value>(card_json)
        .ok()
        .and_then(|v| v["architecture"]["name"].as_str().map(str::to_owned));
    let models = tiny_models();
    let index = match name.as_deref() {
        Some("ann-reg") => 1,
        Some("cnn") => 2,
        Some("rnn") => 3,
        Some("musicnn") => 4,
        _ => 0,
    };
    &models[index]
}

/// `card_json` with its `weights` size and checksum made those of `weights`, so that a
/// fuzzed card or weights file gets past the checksum to the network behind it; `None`
/// when the text is not a JSON object with a `weights` object.
pub fn with_weights(card_json: &str, weights: &[u8]) -> Option<String> {
    let mut card: serde_json::Value = serde_json::from_str(card_json).ok()?;
    let info = card.get_mut("weights")?.as_object_mut()?;
    let actual = WeightsInfo::of(WEIGHTS_FILE, weights);
    info.insert("bytes".into(), actual.bytes.into());
    info.insert("sha256".into(), actual.sha256.into());
    serde_json::to_string(&card).ok()
}

/// Loads a card and weights as the page and `classify` do and, if that succeeds,
/// classifies a silent segment with the model: a loaded model must run.
pub fn load_and_run(card_json: &str, weights: &[u8]) {
    let Ok(classifier) = Classifier::load(card_json, weights, device()) else {
        return;
    };
    let settings = &classifier.card().features;
    let (frames, coefficients) = (settings.frames_per_segment(), settings.coefficients());
    let segment = SegmentFeatures {
        span: SegmentSpan {
            start: 0,
            audio_samples: settings.segment_samples,
        },
        mfcc: FeatureFrames {
            n_frames: frames,
            n_mfcc: coefficients,
            data: vec![0.0; frames * coefficients],
        },
    };
    if let Ok(verdict) = classifier.classify(&[segment]) {
        assert_eq!(
            verdict.probabilities.0.len(),
            classifier.card().labels.len(),
            "a verdict has one probability per label"
        );
    }
}
