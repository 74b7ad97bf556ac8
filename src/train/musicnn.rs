//! Training the default model: musicnn's pretrained backbone, read from the PyPI wheel,
//! and a genre head learned on its embeddings, with the tag prior's share chosen on
//! validation by a recipe (not by this run: the run reports every share it tried).
//!
//! The stages, as [`run`] reads: find the tracks of every data folder → split → embed
//! every segment with the backbone (cached) → fit the head → evaluate (tracks and
//! excerpts, each prior share) → write weights, card and plots.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use burn::prelude::*;
use rayon::prelude::*;

use super::{
    Examples, FeatureCache, FitOptions, Side, Track, TrackSet, TrainError, TrainOptions,
    TrainOutcome, assign_tracks, balanced_class_weights, evaluate, find_tracks, fit_from, predict,
    progress_bar, write_model,
};
use crate::card::{
    CARD_FORMAT, CARD_VERSION, DataSummary, Evaluation, GenreCounts, ModelCard, Normalization,
    PriorScore, TrainingReport, WEIGHTS_FILE, WeightsInfo,
};
use crate::features::{FeatureExtractor, FeatureFrames, FeatureSettings, SegmentFeatures};
use crate::inference::Classifier;
use crate::models::{
    AnnConfig, Architecture, BackboneSource, Musicnn, MusicnnConfig, MusicnnGenre,
    MusicnnGenreConfig, Network, PenultimateLayer, TagPrior, default_head, fetch_wheel,
    read_checkpoint,
};

/// Shares of the tag prior evaluated on validation and reported in the card.
pub const PRIOR_GRID: [f32; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// The tracks of every data folder, with the folder each came from.
struct Corpus {
    set: TrackSet,
    /// Index of the data folder of each track (0: the main one; later: excerpts).
    folder: Vec<usize>,
}

/// One track's embeddings: its own cut, and (training only) a cut shifted by half a patch.
#[derive(Default)]
struct TrackEmbeddings {
    aligned: Vec<Vec<f32>>,
    shifted: Vec<Vec<f32>>,
}

/// The backbone and where it came from.
struct Backbone {
    network: Musicnn,
    config: MusicnnConfig,
    source: BackboneSource,
}

/// Embedded segments of one side, flat: normalised pooled values for the head, tag
/// probabilities for the prior, and each segment's label and track.
#[derive(Default)]
struct ExampleSet {
    pooled: Vec<f32>,
    tags: Vec<f32>,
    labels: Vec<usize>,
    tracks: Vec<usize>,
}

/// Trains the musicnn genre model; see the module docs.
pub fn run(options: &TrainOptions) -> Result<TrainOutcome, TrainError> {
    let corpus = find_corpus(options)?;
    let sides = assign_tracks(&corpus.set, &options.split)?;
    let backbone = load_backbone(&options.wheel_dir)?;
    let (embedded, skipped, cached_files) = embed_tracks(&corpus, &sides, &backbone, options)?;
    let config = MusicnnGenreConfig {
        backbone: backbone.config.clone(),
        source: backbone.source.clone(),
        head: head_config(options, &backbone.config, corpus.set.genres.len()),
        tag_prior: TagPrior::gtzan(options.tag_prior_weight).restricted_to(&corpus.set.genres),
    };
    config
        .tag_prior
        .validate(&corpus.set.genres)
        .map_err(TrainError::Data)?;
    let (train, valid, normalization) = gather(&corpus, &sides, &embedded, &config)?;
    let fit_options = FitOptions {
        class_weights: balanced_class_weights(
            &train.labels,
            corpus.set.genres.len(),
            options.class_balance,
        ),
        augment: false,
        gain_range: 0.0,
        ..options.fit.clone()
    };
    let start = head_start(options, &backbone, &normalization, &config)?;
    let started = Instant::now();
    let head = fit_head(&config, start.as_ref(), &train, &valid, &fit_options);
    let seconds = started.elapsed().as_secs_f64();
    let assessment = assess(&corpus, &valid, &config, &head.0)?;
    let network = Network::Musicnn(MusicnnGenre {
        backbone: backbone.network,
        head: head.0,
    });
    let mut card = ModelCard {
        format: CARD_FORMAT.into(),
        version: CARD_VERSION,
        parameters: network.num_params(),
        architecture: Architecture::Musicnn(config),
        labels: corpus.set.genres.clone(),
        features: options.features.clone(),
        normalization,
        weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
        training: Some(TrainingReport {
            data: summarise_data(options, &corpus, &sides, &train, &valid),
            split: options.split.describe(),
            hyperparameters: super::hyperparameters(
                &fit_options,
                options.class_balance,
                augmentation_summary(options),
            ),
            history: head.1.history,
            best_epoch: head.1.best_epoch,
            validation: assessment.tracks,
            excerpts: assessment.excerpts,
            tag_prior_grid: assessment.grid,
            seconds,
            backend: format!("burn flex, {} threads", rayon::current_num_threads()),
        }),
    };
    let weights = Classifier::export_weights(&network, &card)?;
    card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
    let files = write_model(&options.out, &card, &weights)?;
    Ok(TrainOutcome {
        card,
        files,
        skipped,
        cached_files,
    })
}

/// The tracks of the main data folder and of every extra one (they must list the same
/// genres). Track ids may repeat across folders: an excerpt has its full track's id, so
/// both land on the same side of the split.
fn find_corpus(options: &TrainOptions) -> Result<Corpus, TrainError> {
    let mut set = find_tracks(&options.data)?;
    let mut folder = vec![0; set.tracks.len()];
    for (i, dir) in options.extra_data.iter().enumerate() {
        let extra = find_tracks(dir)?;
        if extra.genres != set.genres {
            return Err(TrainError::Data(format!(
                "{} lists the genres [{}], {} lists [{}]: they must be the same",
                dir.display(),
                extra.genres.join(", "),
                options.data.display(),
                set.genres.join(", ")
            )));
        }
        folder.extend(std::iter::repeat_n(i + 1, extra.tracks.len()));
        set.tracks.extend(extra.tracks);
    }
    Ok(Corpus { set, folder })
}

/// Reads `MSD_musicnn` out of the musicnn wheel (downloaded into `wheel_dir` once).
fn load_backbone(wheel_dir: &Path) -> Result<Backbone, TrainError> {
    let model_error = |e: String| TrainError::Data(format!("musicnn backbone: {e}"));
    let wheel = fetch_wheel(wheel_dir).map_err(|e| model_error(e.to_string()))?;
    let (checkpoint, sha256) = read_checkpoint(&wheel).map_err(|e| model_error(e.to_string()))?;
    let config = MusicnnConfig::msd();
    let network = Musicnn::from_checkpoint(&checkpoint, &config, &crate::models::cpu_device())
        .map_err(|e| model_error(format!("{}: {e}", wheel.display())))?;
    Ok(Backbone {
        network,
        config,
        source: BackboneSource::msd_musicnn(&sha256),
    })
}

/// The backbone's embeddings of `samples`' patches (pooled values, then tags).
fn embed_patches(
    backbone: &Musicnn,
    segments: &[SegmentFeatures],
    settings: &FeatureSettings,
) -> Vec<Vec<f32>> {
    let (frames, mels) = (settings.frames_per_segment(), settings.coefficients());
    let device = crate::models::cpu_device();
    let mut out = Vec::with_capacity(segments.len());
    for batch in segments.chunks(4) {
        let data: Vec<f32> = batch
            .iter()
            .flat_map(|s| s.features.data.iter().copied())
            .collect();
        let input =
            Tensor::<3>::from_data(TensorData::new(data, [batch.len(), frames, mels]), &device);
        let embedded = backbone.embed(input);
        let values = embedded.into_data().try_to_vec::<f32>().unwrap_or_default();
        let width = values.len() / batch.len().max(1);
        out.extend(values.chunks(width.max(1)).map(<[f32]>::to_vec));
    }
    out
}

/// One track's embeddings, from its audio file.
fn embed_track(
    track: &Track,
    extractor: &mut FeatureExtractor,
    backbone: &Musicnn,
    shifted: bool,
) -> Result<TrackEmbeddings, String> {
    let settings = extractor.settings().clone();
    let clip = crate::audio::decode::load_clip(&track.path, settings.sample_rate)
        .map_err(|e| e.to_string())?;
    let features = |e: crate::features::FeatureError| format!("{}: {e}", track.path.display());
    let aligned = extractor.song(&clip.samples).map_err(features)?;
    let half = settings.segment_samples / 2;
    let shifted_segments = if shifted && clip.samples.len() >= half + settings.segment_samples {
        extractor
            .song(&clip.samples[half..])
            .map_err(features)?
            .into_iter()
            .filter(|s| !s.span.is_padded(&settings))
            .collect()
    } else {
        Vec::new()
    };
    Ok(TrackEmbeddings {
        aligned: embed_patches(backbone, &aligned, &settings),
        shifted: embed_patches(backbone, &shifted_segments, &settings),
    })
}

/// Rows as cache entries (one "frame" of `width` values per segment) and back.
fn to_cache(rows: &[Vec<f32>]) -> Vec<SegmentFeatures> {
    rows.iter()
        .map(|r| SegmentFeatures {
            span: crate::features::SegmentSpan {
                start: 0,
                audio_samples: 0,
            },
            features: FeatureFrames {
                frames: 1,
                width: r.len(),
                data: r.clone(),
            },
        })
        .collect()
}

fn from_cache(segments: Vec<SegmentFeatures>) -> Vec<Vec<f32>> {
    segments.into_iter().map(|s| s.features.data).collect()
}

/// Each track's embeddings (`None`: excluded or unreadable), the files skipped with the
/// reason, and how many tracks came from the cache.
type Embedded = (Vec<Option<TrackEmbeddings>>, Vec<String>, usize);

/// Embeddings of every track that is on a side of the split, in parallel, through the
/// cache (keyed by file, feature settings and the backbone's checksum). Returns them, the
/// files skipped with the reason, and how many came from the cache.
fn embed_tracks(
    corpus: &Corpus,
    sides: &[Side],
    backbone: &Backbone,
    options: &TrainOptions,
) -> Result<Embedded, TrainError> {
    FeatureExtractor::new(options.features.clone())
        .map_err(|e| TrainError::Options(e.to_string()))?;
    let cache = options.cache.as_ref().map(|dir| {
        FeatureCache::new(
            &dir.join(format!(
                "musicnn-{}",
                &backbone.source.checkpoint_sha256
                    [..16.min(backbone.source.checkpoint_sha256.len())]
            )),
            &options.features,
        )
    });
    let bar = progress_bar(
        corpus.set.tracks.len(),
        "embeddings [{bar:30}] {pos}/{len} {msg}",
        options.fit.show_progress,
    );
    let hits = AtomicUsize::new(0);
    let shifted_variant = if options.shifted_segments {
        "musicnn-shifted"
    } else {
        "none"
    };
    let results: Vec<Result<Option<TrackEmbeddings>, String>> = corpus
        .set
        .tracks
        .par_iter()
        .zip(sides)
        .map_init(
            || FeatureExtractor::new(options.features.clone()).ok(),
            |extractor, (track, side)| {
                bar.inc(1);
                if *side == Side::Excluded {
                    return Ok(None);
                }
                let shifted = options.shifted_segments && *side == Side::Train;
                let variant = if shifted { shifted_variant } else { "none" };
                if let Some(cache) = &cache
                    && let (Some(aligned), Some(shifted)) = (
                        cache.load(&track.path, "musicnn-aligned"),
                        cache.load(&track.path, variant),
                    )
                {
                    hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(Some(TrackEmbeddings {
                        aligned: from_cache(aligned),
                        shifted: from_cache(shifted),
                    }));
                }
                let extractor = extractor
                    .as_mut()
                    .ok_or_else(|| "feature extractor could not be built".to_string())?;
                let embedded = embed_track(track, extractor, &backbone.network, shifted)?;
                if let Some(cache) = &cache {
                    let stored = cache
                        .store(&track.path, "musicnn-aligned", &to_cache(&embedded.aligned))
                        .and_then(|()| {
                            cache.store(&track.path, variant, &to_cache(&embedded.shifted))
                        });
                    if let Err(e) = stored {
                        bar.suspend(|| eprintln!("warning: embedding cache not written: {e}"));
                    }
                }
                Ok(Some(embedded))
            },
        )
        .collect();
    bar.finish_and_clear();
    let mut skipped = Vec::new();
    let embedded = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|e| {
                skipped.push(e);
                None
            })
        })
        .collect();
    Ok((embedded, skipped, hits.into_inner()))
}

/// The training and validation sides as flat arrays, with the normalisation of the pooled
/// values learned from the training side.
fn gather(
    corpus: &Corpus,
    sides: &[Side],
    embedded: &[Option<TrackEmbeddings>],
    config: &MusicnnGenreConfig,
) -> Result<(ExampleSet, ExampleSet, Normalization), TrainError> {
    let pooled = config.pooled_size();
    let (mut train, mut valid) = (ExampleSet::default(), ExampleSet::default());
    for (t, (track, embedding)) in corpus.set.tracks.iter().zip(embedded).enumerate() {
        let Some(embedding) = embedding else { continue };
        let (into, rows): (&mut ExampleSet, Vec<&Vec<f32>>) = match sides[t] {
            Side::Train => (
                &mut train,
                embedding.aligned.iter().chain(&embedding.shifted).collect(),
            ),
            Side::Valid => (&mut valid, embedding.aligned.iter().collect()),
            Side::Excluded => continue,
        };
        for row in rows {
            into.pooled.extend_from_slice(&row[..pooled]);
            into.tags.extend_from_slice(&row[pooled..]);
            into.labels.push(track.label);
            into.tracks.push(t);
        }
    }
    if train.labels.is_empty() {
        return Err(TrainError::Data("no readable training tracks".into()));
    }
    if let Some(g) = (0..corpus.set.genres.len()).find(|g| !train.labels.contains(g)) {
        return Err(TrainError::Data(format!(
            "genre {:?} has no readable training tracks",
            corpus.set.genres[g]
        )));
    }
    let normalization = Normalization::fit(train.pooled.chunks(pooled), pooled);
    normalization.apply(&mut train.pooled);
    normalization.apply(&mut valid.pooled);
    Ok((train, valid, normalization))
}

fn examples<'a>(side: &'a ExampleSet, width: usize) -> Examples<'a> {
    Examples {
        data: &side.pooled,
        labels: &side.labels,
        frames: 1,
        coefficients: width,
    }
}

/// The head's shape: as the options say, or one hidden layer as wide as musicnn's back
/// end when it starts from there.
fn head_config(options: &TrainOptions, backbone: &MusicnnConfig, genres: usize) -> AnnConfig {
    let mut head = default_head(backbone.embedding_size(), genres);
    head.hidden.clone_from(&options.head_hidden);
    if options.head_from_backbone && head.hidden.is_empty() {
        head.hidden = vec![backbone.backend_units];
    }
    head.dropout = options.head_dropout;
    head
}

/// Where the head starts, if not fresh: musicnn's back end over pooled values normalised
/// by `normalization`, when the options ask for it and the head's shape fits it.
fn head_start(
    options: &TrainOptions,
    backbone: &Backbone,
    normalization: &Normalization,
    config: &MusicnnGenreConfig,
) -> Result<Option<PenultimateLayer>, TrainError> {
    if !options.head_from_backbone {
        return Ok(None);
    }
    let layer = backbone
        .network
        .penultimate_layer(&normalization.mean, &normalization.std);
    config.head.fits(&layer).map_err(TrainError::Options)?;
    Ok(Some(layer))
}

/// Fits the head on the normalised pooled embeddings, fresh or from `start` (musicnn's
/// back end, already checked to fit the head).
fn fit_head(
    config: &MusicnnGenreConfig,
    start: Option<&PenultimateLayer>,
    train: &ExampleSet,
    valid: &ExampleSet,
    options: &FitOptions,
) -> (crate::models::Ann, super::Fitted) {
    let architecture = Architecture::Ann(config.head.clone());
    let width = config.pooled_size();
    let mut fitted = fit_from(
        &architecture,
        |device| {
            let fresh = config.head.init(device);
            Network::Ann(match start {
                Some(layer) => fresh.starting_from(layer),
                None => fresh,
            })
        },
        &examples(train, width),
        &examples(valid, width),
        options,
        |_| {},
    );
    let placeholder = Network::Ann(config.head.init(&crate::models::cpu_device()));
    let head = match std::mem::replace(&mut fitted.network, placeholder) {
        Network::Ann(ann) => ann,
        _ => config.head.init(&crate::models::cpu_device()),
    };
    (head, fitted)
}

/// Validation figures of the kept head: full tracks and excerpts at the card's prior
/// share, and every share of [`PRIOR_GRID`].
struct Assessment {
    tracks: Evaluation,
    excerpts: Option<Evaluation>,
    grid: Vec<PriorScore>,
}

fn assess(
    corpus: &Corpus,
    valid: &ExampleSet,
    config: &MusicnnGenreConfig,
    head: &crate::models::Ann,
) -> Result<Assessment, TrainError> {
    let device = crate::models::cpu_device();
    let network = Network::Ann(head.clone());
    let head_probabilities = predict(&network, &examples(valid, config.pooled_size()), &device);
    let tags = config.backbone.tags;
    let genres = &corpus.set.genres;
    let at = |weight: f32| -> (Evaluation, Option<Evaluation>) {
        let prior = TagPrior {
            weight,
            ..config.tag_prior.clone()
        };
        let blended: Vec<Vec<f32>> = head_probabilities
            .iter()
            .zip(valid.tags.chunks_exact(tags))
            .map(|(p, t)| {
                let mut p = p.clone();
                prior.blend(genres, &mut p, t);
                p
            })
            .collect();
        let part = |folder_is_main: bool| {
            let ids: Vec<usize> = (0..valid.labels.len())
                .filter(|&i| (corpus.folder[valid.tracks[i]] == 0) == folder_is_main)
                .collect();
            (!ids.is_empty()).then(|| {
                evaluate(
                    &ids.iter().map(|&i| blended[i].clone()).collect::<Vec<_>>(),
                    &ids.iter().map(|&i| valid.labels[i]).collect::<Vec<_>>(),
                    &ids.iter().map(|&i| valid.tracks[i]).collect::<Vec<_>>(),
                    genres,
                )
            })
        };
        (
            part(true).unwrap_or_else(|| evaluate(&[], &[], &[], genres)),
            part(false),
        )
    };
    let grid = PRIOR_GRID
        .iter()
        .map(|&weight| {
            let (tracks, excerpts) = at(weight);
            PriorScore {
                weight,
                track_accuracy: tracks.track_accuracy,
                balanced_track_accuracy: tracks.balanced_track_accuracy,
                excerpt_accuracy: excerpts.map(|e| e.track_accuracy),
            }
        })
        .collect();
    let (tracks, excerpts) = at(config.tag_prior.weight);
    Ok(Assessment {
        tracks,
        excerpts,
        grid,
    })
}

/// Tracks and segments per genre and side, for the card.
fn summarise_data(
    options: &TrainOptions,
    corpus: &Corpus,
    sides: &[Side],
    train: &ExampleSet,
    valid: &ExampleSet,
) -> DataSummary {
    let genres = &corpus.set.genres;
    let per_genre = (0..genres.len())
        .map(|g| {
            let tracks = |side: Side| {
                corpus
                    .set
                    .tracks
                    .iter()
                    .zip(sides)
                    .filter(|(t, s)| t.label == g && **s == side)
                    .count()
            };
            GenreCounts {
                genre: genres[g].clone(),
                train_tracks: tracks(Side::Train),
                valid_tracks: tracks(Side::Valid),
                train_segments: train.labels.iter().filter(|&&l| l == g).count(),
                valid_segments: valid.labels.iter().filter(|&&l| l == g).count(),
            }
        })
        .collect();
    let mut source = options.data.display().to_string();
    for extra in &options.extra_data {
        source.push_str(&format!(" + {}", extra.display()));
    }
    DataSummary {
        source,
        per_genre,
        train_segments: train.labels.len(),
        valid_segments: valid.labels.len(),
    }
}

fn augmentation_summary(options: &TrainOptions) -> String {
    let mut parts = vec![format!(
        "songs shorter than a patch filled by {}",
        match options.features.short_song_fill {
            crate::features::ShortSongFill::Loop => "looping",
            crate::features::ShortSongFill::Silence => "silence",
        }
    )];
    if options.shifted_segments {
        parts.push("a second cut of each training track shifted by half a patch".into());
    }
    if options.head_from_backbone {
        parts.push(
            "the head's hidden layer started from musicnn's back end (dense 200 and its batch norms) and fine-tuned"
                .into(),
        );
    }
    if options.fit.mixup_alpha > 0.0 {
        parts.push(format!(
            "mixup of embeddings, λ ~ Beta({0}, {0})",
            options.fit.mixup_alpha
        ));
    }
    if options.fit.label_smoothing > 0.0 {
        parts.push(format!("label smoothing {}", options.fit.label_smoothing));
    }
    parts.join("; ")
}

/// Where the musicnn wheel is cached by default.
pub fn default_wheel_dir() -> PathBuf {
    PathBuf::from("target/musicnn")
}
