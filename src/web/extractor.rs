//! `FeatureExtractor` in JS: a song streamed in chunk by chunk, the features of each
//! segment out as soon as it is complete.

use js_sys::{Array, Float32Array};
use wasm_bindgen::prelude::*;

use super::{js_error, js_sample_rate, settings_from_js};
use crate::audio::{SILENCE_PEAK, StreamResampler, downmix};
use crate::features::{
    FeatureExtractor, FeatureSettings, MusicEvidence, NOT_MUSIC_MESSAGE, SegmentSpan, SegmentStream,
};

/// Facts about a song, returned when it is begun.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SongInfo {
    /// Which feature the segments are (`"mfcc"` or `"log-mel"`).
    feature_kind: crate::features::FeatureKind,
    seconds: f64,
    sample_rate: u32,
    segments: usize,
    frames_per_segment: usize,
    /// Values per frame: coefficients or mel bands.
    feature_width: usize,
    segment_seconds: f64,
    /// The song was shorter than one segment and was filled up (by `short_song_fill`).
    padded: bool,
    /// What fills a song shorter than a segment: silence, or the song looped.
    short_song_fill: crate::features::ShortSongFill,
    /// Start of each segment in seconds.
    segment_starts: Vec<f64>,
}

/// How a finished song sounded, returned by [`SongFeatures::finish_song`].
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SongEnd {
    /// Its loudest absolute sample value.
    peak: f32,
    /// Nothing louder than [`SILENCE_PEAK`] (-60 dBFS): there is nothing to classify.
    silent: bool,
    /// Why the song does not sound like music ("does not sound like music: it is a pure
    /// tone"), if it does not (see [`MusicEvidence`](crate::features::MusicEvidence)).
    not_music: Option<String>,
}

impl SongInfo {
    /// The facts of a song `total` samples long at the features' rate, cut into `spans`.
    pub(super) fn new(settings: &FeatureSettings, total: usize, spans: &[SegmentSpan]) -> Self {
        SongInfo {
            feature_kind: settings.kind,
            seconds: total as f64 / f64::from(settings.sample_rate),
            sample_rate: settings.sample_rate,
            segments: spans.len(),
            frames_per_segment: settings.frames_per_segment(),
            feature_width: settings.coefficients(),
            segment_seconds: settings.segment_seconds(),
            padded: spans.iter().any(|s| s.is_padded(settings)),
            short_song_fill: settings.short_song_fill,
            segment_starts: spans.iter().map(|s| s.start_seconds(settings)).collect(),
        }
    }
}

impl SongEnd {
    /// How a song sounded from its loudest sample and the evidence of its segments.
    pub(super) fn new(peak: f32, evidence: &MusicEvidence) -> Self {
        SongEnd {
            peak,
            silent: peak < SILENCE_PEAK,
            not_music: evidence
                .not_music()
                .map(|reason| format!("{NOT_MUSIC_MESSAGE}: {reason}")),
        }
    }
}

/// The mono mix of `channels` (equally long `Float32Array`s) and how many there were;
/// refused when they are not Float32Arrays, ragged, empty or not finite (`first`: the
/// index of their first sample in the song, at `rate`, for the message).
pub(super) fn mono_of(
    channels: &Array,
    first: usize,
    rate: u32,
) -> Result<(Vec<f32>, usize), JsError> {
    let data: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| c.dyn_into::<Float32Array>().map(|c| c.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| js_error("channel data must be Float32Arrays"))?;
    let refs: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
    let mono = downmix(&refs).map_err(js_error)?;
    crate::audio::check_finite(&mono, first, rate).map_err(js_error)?;
    Ok((mono, data.len()))
}

/// Pushes samples at the feature rate into a song's stream; the features of the segments
/// they complete, concatenated.
fn stream_segments(
    stream: &mut SegmentStream,
    samples: &[f32],
    extractor: &mut FeatureExtractor,
) -> Result<Float32Array, JsError> {
    let done = stream.push(samples, extractor).map_err(js_error)?;
    let values: Vec<f32> = done
        .iter()
        .flat_map(|s| s.features.data.iter().copied())
        .collect();
    Ok(Float32Array::from(values.as_slice()))
}

/// Running (min, max) pairs over equal stretches of a song, for drawing its waveform.
struct PeakEnvelope {
    stretch: usize,
    seen: usize,
    pairs: Vec<f32>,
}

impl PeakEnvelope {
    fn new(total: usize, buckets: usize) -> Self {
        let buckets = buckets.clamp(1, total.max(1));
        let stretch = total.div_ceil(buckets).max(1);
        Self {
            stretch,
            seen: 0,
            pairs: vec![0.0; 2 * total.div_ceil(stretch).max(1)],
        }
    }

    fn push(&mut self, samples: &[f32]) {
        for &s in samples {
            let b = 2 * (self.seen / self.stretch);
            if let Some(pair) = self.pairs.get_mut(b..b + 2) {
                pair[0] = pair[0].min(s);
                pair[1] = pair[1].max(s);
            }
            self.seen += 1;
        }
    }
}

/// The song an extractor is working on.
struct Song {
    stream: SegmentStream,
    /// From the song's rate to the feature rate, when they differ.
    resampler: Option<StreamResampler>,
    channels: usize,
    /// The rate the song's samples arrive at.
    sample_rate: u32,
    envelope: PeakEnvelope,
}

/// Buckets of the waveform envelope the page draws.
const WAVEFORM_BUCKETS: usize = 2000;

/// A feature extractor with the song it is working on (`FeatureExtractor` in JS): a
/// song's channel data go in chunk by chunk (`beginSong`, `pushAudio`, `flushAudio`,
/// `finishSong`), at any rate (resampled as it streams), and the features of each
/// segment come out as soon as it is complete, so memory stays bounded however long the
/// song.
#[wasm_bindgen(js_name = FeatureExtractor)]
pub struct SongFeatures {
    extractor: FeatureExtractor,
    song: Option<Song>,
}

#[wasm_bindgen(js_class = FeatureExtractor)]
impl SongFeatures {
    /// An extractor with the default feature settings.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<SongFeatures, JsError> {
        Self::build(FeatureSettings::default())
    }

    /// An extractor with this build's settings for a kind of feature (`"mfcc"` or
    /// `"log-mel"`, a card's `features.kind`): what a model's card is checked against.
    #[wasm_bindgen(js_name = ofKind)]
    pub fn of_kind(kind: &str) -> Result<SongFeatures, JsError> {
        match kind {
            "mfcc" => Self::build(FeatureSettings::default()),
            "log-mel" => Self::build(FeatureSettings::musicnn()),
            other => Err(js_error(format!(
                "this build computes no features of kind {other:?} (only \"mfcc\" and \"log-mel\")"
            ))),
        }
    }

    /// The extractor a model card's `features` are checked against: this build's
    /// settings for the card's kind, with the card's own choice of segment loudness (the
    /// one setting a card may choose; see `features::loudness`).
    #[wasm_bindgen(js_name = ofCard)]
    pub fn of_card(features: JsValue) -> Result<SongFeatures, JsError> {
        let card = settings_from_js(&features)?;
        let base = match card.kind {
            crate::features::FeatureKind::Mfcc => FeatureSettings::default(),
            crate::features::FeatureKind::LogMel => FeatureSettings::musicnn(),
        };
        Self::build(FeatureSettings {
            segment_loudness_lufs: card.segment_loudness_lufs,
            ..base
        })
    }

    /// An extractor with explicit settings (a model card's `features` object).
    #[wasm_bindgen(js_name = withSettings)]
    pub fn with_settings(settings: JsValue) -> Result<SongFeatures, JsError> {
        Self::build(settings_from_js(&settings)?)
    }

    fn build(settings: FeatureSettings) -> Result<SongFeatures, JsError> {
        Ok(SongFeatures {
            extractor: FeatureExtractor::new(settings).map_err(js_error)?,
            song: None,
        })
    }

    /// The feature settings, as the JSON object the model card stores.
    pub fn settings(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(self.extractor.settings()).map_err(js_error)
    }

    /// Starts a song of `total_samples` samples per channel at `sample_rate`; audio at
    /// another rate than the features' is resampled as it streams in (the same output as
    /// resampling the whole song at once). Returns the song's facts; errors say what is
    /// wrong (empty, too short, a rate that cannot be resampled).
    #[wasm_bindgen(js_name = beginSong)]
    pub fn begin_song(&mut self, total_samples: f64, sample_rate: f64) -> Result<JsValue, JsError> {
        self.song = None;
        let settings = self.extractor.settings().clone();
        let rate = js_sample_rate(sample_rate)?;
        if !(total_samples.is_finite() && total_samples >= 0.0 && total_samples.fract() == 0.0) {
            return Err(js_error(format!("{total_samples} is not a sample count")));
        }
        let resampler = (rate != settings.sample_rate)
            .then(|| StreamResampler::new(rate, settings.sample_rate))
            .transpose()
            .map_err(js_error)?;
        let input_total = total_samples as usize;
        let total = resampler
            .as_ref()
            .map_or(input_total, |r| r.output_len(input_total));
        let stream = SegmentStream::new(total, &settings).map_err(js_error)?;
        let info = SongInfo::new(&settings, total, stream.spans());
        self.song = Some(Song {
            stream,
            resampler,
            channels: 0,
            sample_rate: rate,
            envelope: PeakEnvelope::new(input_total, WAVEFORM_BUCKETS),
        });
        serde_wasm_bindgen::to_value(&info).map_err(js_error)
    }

    /// After the last `pushAudio` of a song at another rate than the features': the
    /// segments the resampler's last samples complete (empty otherwise), laid out as
    /// `pushAudio` returns them.
    #[wasm_bindgen(js_name = flushAudio)]
    pub fn flush_audio(&mut self) -> Result<Float32Array, JsError> {
        let song = self
            .song
            .as_mut()
            .ok_or_else(|| js_error("no song begun: call beginSong first"))?;
        let Some(resampler) = song.resampler.as_mut() else {
            return Ok(Float32Array::new_with_length(0));
        };
        let tail = resampler.finish().map_err(js_error)?;
        stream_segments(&mut song.stream, &tail, &mut self.extractor)
    }

    /// What the features of this extractor are keyed by: equal to `embeddingKey()` of
    /// every model without a backbone over these features.
    #[wasm_bindgen(js_name = featureKey)]
    pub fn feature_key(&self) -> String {
        crate::features::feature_key(self.extractor.settings())
    }

    /// Takes the next chunk of the song begun with `beginSong` (an array of equally long
    /// `Float32Array`s, one per channel, the same channels every time) and returns the
    /// features of the segments it completes, concatenated (`frames x width` each,
    /// frame-major); empty when it completes none.
    #[wasm_bindgen(js_name = pushAudio)]
    pub fn push_audio(&mut self, channels: Array) -> Result<Float32Array, JsError> {
        let song = self
            .song
            .as_mut()
            .ok_or_else(|| js_error("no song begun: call beginSong first"))?;
        let (mono, channel_count) = mono_of(&channels, song.envelope.seen, song.sample_rate)?;
        // The song's channel count is the first accepted chunk's: a refused chunk
        // (empty, ragged, not finite) leaves it unset.
        if song.channels != 0 && channel_count != song.channels {
            return Err(js_error(format!(
                "a chunk has {channel_count} channels; the song has {}",
                song.channels
            )));
        }
        song.channels = channel_count;
        song.envelope.push(&mono);
        let at_rate = match song.resampler.as_mut() {
            Some(r) => r.push(&mono).map_err(js_error)?,
            None => mono,
        };
        stream_segments(&mut song.stream, &at_rate, &mut self.extractor)
    }

    /// Segments of the current song computed so far.
    #[wasm_bindgen(js_name = segmentsDone)]
    pub fn segments_done(&self) -> usize {
        self.song.as_ref().map_or(0, |s| s.stream.segments_done())
    }

    /// Checks that the whole song arrived, and says whether it is silent or not music.
    #[wasm_bindgen(js_name = finishSong)]
    pub fn finish_song(&self) -> Result<JsValue, JsError> {
        let song = self
            .song
            .as_ref()
            .ok_or_else(|| js_error("no song begun: call beginSong first"))?;
        song.stream.finish().map_err(js_error)?;
        let end = SongEnd::new(song.stream.peak(), song.stream.music_evidence());
        serde_wasm_bindgen::to_value(&end).map_err(js_error)
    }

    /// Peak envelope of the current song for drawing: (min, max) pairs over equal
    /// stretches of it (about 2000), covering what has arrived so far.
    #[wasm_bindgen(js_name = waveformPeaks)]
    pub fn waveform_peaks(&self) -> Float32Array {
        let pairs = self
            .song
            .as_ref()
            .map_or(&[][..], |s| &s.envelope.pairs[..]);
        Float32Array::from(pairs)
    }
}

impl SongFeatures {
    /// The settings this extractor computes features with.
    pub(super) fn extractor_settings(&self) -> &FeatureSettings {
        self.extractor.settings()
    }
}
