//! The features stage: each track on a side of the split is decoded, cut into segments
//! and passed through the backbone (the identity for networks trained whole), in
//! parallel and through the feature cache, giving one embedding row per segment.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::ProgressBar;
use rayon::prelude::*;

use super::corpus::Corpus;
use super::{FeatureCache, Side, TrainError, TrainOptions, progress_bar};
use crate::dataset::{FileError, Track};
use crate::features::{
    FeatureExtractor, FeatureFrames, FeatureSettings, SegmentFeatures, SegmentSpan,
};
use crate::models::FrozenBackbone;

/// One track's embedding rows: its own cut, and (training tracks only, when asked) a
/// second cut shifted by half a segment.
#[derive(Debug, Default)]
pub(super) struct TrackRows {
    /// The rows of the song's own segments, in order.
    pub aligned: Vec<Vec<f32>>,
    /// The rows of the shifted cut's full segments, in order.
    pub shifted: Vec<Vec<f32>>,
}

/// Every track's rows (`None`: excluded or unreadable), the files skipped with the
/// reason, and how many tracks came from the cache.
pub(super) struct Embedded {
    /// Rows per track, in the corpus's order.
    pub tracks: Vec<Option<TrackRows>>,
    /// Unreadable files, with the reason.
    pub skipped: Vec<String>,
    /// Tracks whose rows came from the cache.
    pub cached: usize,
}

/// The segments of the audio file `path`: its own cut, and if `shifted` a second cut
/// starting half a segment in (without its padded segments).
fn cut_track(
    path: &Path,
    extractor: &mut FeatureExtractor,
    shifted: bool,
) -> Result<(Vec<SegmentFeatures>, Vec<SegmentFeatures>), FileError> {
    let settings = extractor.settings().clone();
    let clip = crate::audio::decode::load_clip(path, settings.sample_rate)?;
    let features = |cause| FileError::Features {
        path: path.to_owned(),
        cause,
    };
    let aligned = extractor.song(&clip.samples).map_err(features)?;
    let half = settings.segment_samples / 2;
    let shifted = if shifted && clip.samples.len() >= half + settings.segment_samples {
        extractor
            .song(&clip.samples[half..])
            .map_err(features)?
            .into_iter()
            .filter(|s| !s.span.is_padded(&settings))
            .collect()
    } else {
        Vec::new()
    };
    Ok((aligned, shifted))
}

/// One track's rows, from its audio file.
fn embed_track(
    track: &Track,
    extractor: &mut FeatureExtractor,
    backbone: &FrozenBackbone,
    shifted: bool,
) -> Result<TrackRows, FileError> {
    let (aligned, shifted) = cut_track(&track.path, extractor, shifted)?;
    let settings = extractor.settings();
    Ok(TrackRows {
        aligned: backbone.embed(aligned, settings),
        shifted: backbone.embed(shifted, settings),
    })
}

/// The feature cache as the rows of one backbone: in its own subfolder, under its own
/// entry names (the identity's rows are the features).
struct RowCache {
    cache: FeatureCache,
    prefix: &'static str,
}

impl RowCache {
    /// The cache of `options` for `backbone`'s rows (`None`: no cache).
    fn new(options: &TrainOptions, backbone: &FrozenBackbone) -> Option<Self> {
        let dir = options.cache.as_ref()?;
        let (folder, prefix) = backbone.cache_space();
        let dir = folder.map_or_else(|| dir.clone(), |f| dir.join(f));
        Some(Self {
            cache: FeatureCache::new(&dir, &options.features),
            prefix,
        })
    }

    /// The entry names of a track's own cut and of its shifted one.
    fn variants(&self, shifted: bool) -> (String, String) {
        let other = if shifted {
            format!("{}shifted", self.prefix)
        } else {
            "none".into()
        };
        (format!("{}aligned", self.prefix), other)
    }

    /// The cached rows of `track`, if both cuts are there.
    fn load(&self, track: &Track, shifted: bool) -> Option<TrackRows> {
        let (aligned, other) = self.variants(shifted);
        let rows = |segments: Vec<SegmentFeatures>| {
            segments.into_iter().map(|s| s.features.data).collect()
        };
        Some(TrackRows {
            aligned: rows(self.cache.load(&track.path, &aligned)?),
            shifted: rows(self.cache.load(&track.path, &other)?),
        })
    }

    /// Stores the rows of `track` (each row as one frame).
    fn store(&self, track: &Track, shifted: bool, rows: &TrackRows) -> std::io::Result<()> {
        let (aligned, other) = self.variants(shifted);
        let entries = |rows: &[Vec<f32>]| -> Vec<SegmentFeatures> {
            rows.iter()
                .map(|r| SegmentFeatures {
                    span: SegmentSpan {
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
        };
        self.cache
            .store(&track.path, &aligned, &entries(&rows.aligned))?;
        self.cache
            .store(&track.path, &other, &entries(&rows.shifted))
    }
}

/// What each worker shares while embedding.
struct Embedder<'a> {
    backbone: &'a FrozenBackbone,
    cache: Option<RowCache>,
    bar: ProgressBar,
    hits: AtomicUsize,
    shifted: bool,
}

impl Embedder<'_> {
    /// The rows of `track` on `side` (`None` when excluded), from the cache or computed
    /// (and then cached).
    fn track(
        &self,
        extractor: Option<&mut FeatureExtractor>,
        track: &Track,
        side: Side,
    ) -> Result<Option<TrackRows>, String> {
        if side == Side::Excluded {
            return Ok(None);
        }
        let shifted = self.shifted && side == Side::Train;
        if let Some(rows) = self.cache.as_ref().and_then(|c| c.load(track, shifted)) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(rows));
        }
        let extractor =
            extractor.ok_or_else(|| "feature extractor could not be built".to_string())?;
        let rows =
            embed_track(track, extractor, self.backbone, shifted).map_err(|e| e.to_string())?;
        if let Some(cache) = &self.cache
            && let Err(e) = cache.store(track, shifted, &rows)
        {
            self.bar
                .suspend(|| eprintln!("warning: feature cache not written: {e}"));
        }
        Ok(Some(rows))
    }
}

/// The rows of every track on a side of the split (shifted cuts of the training tracks
/// too if `shifted`), in parallel, through the cache.
pub(super) fn embed_all(
    corpus: &Corpus,
    sides: &[Side],
    backbone: &FrozenBackbone,
    options: &TrainOptions,
    shifted: bool,
) -> Result<Embedded, TrainError> {
    let settings: &FeatureSettings = &options.features;
    FeatureExtractor::new(settings.clone()).map_err(|e| TrainError::Options(e.to_string()))?;
    let label = if backbone.embeds() {
        "embeddings"
    } else {
        "features"
    };
    let embedder = Embedder {
        backbone,
        cache: RowCache::new(options, backbone),
        bar: progress_bar(
            corpus.set.tracks.len(),
            &format!("{label} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"),
            options.fit.show_progress,
        ),
        hits: AtomicUsize::new(0),
        shifted,
    };
    let results: Vec<Result<Option<TrackRows>, String>> = corpus
        .set
        .tracks
        .par_iter()
        .zip(sides)
        .map_init(
            || FeatureExtractor::new(settings.clone()).ok(),
            |extractor, (track, side)| {
                let rows = embedder.track(extractor.as_mut(), track, *side);
                embedder.bar.inc(1);
                rows
            },
        )
        .collect();
    embedder.bar.finish_and_clear();
    let mut skipped = Vec::new();
    let tracks = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|e| {
                skipped.push(e);
                None
            })
        })
        .collect();
    Ok(Embedded {
        tracks,
        skipped,
        cached: embedder.hits.into_inner(),
    })
}
