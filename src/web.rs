//! The wasm-bindgen API the page's worker calls (wasm32 only).
//!
//! The worker hands over the channel data of a Web Audio buffer with its sample rate;
//! everything after that is the same Rust code the native tools run. A song is loaded
//! once and its segments are computed one call at a time, so the worker can report
//! progress and stay cancellable on long files.

use js_sys::{Array, Float32Array};
use wasm_bindgen::prelude::*;

use crate::audio::StreamResampler;
use crate::audio::{Clip, SILENCE_PEAK, downmix};
use crate::features::FeatureExtractor as Extractor;
use crate::features::{
    FeatureFrames, FeatureSettings, LIVE_HOP_SECONDS, LiveFeatures, SegmentFeatures, SegmentSpan,
    SegmentStream,
};
use crate::inference::Classifier;
use crate::models::cpu_device;

/// Facts about a song, returned when it is begun or loaded.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SongInfo {
    /// Which feature the segments are (`"mfcc"` or `"log-mel"`).
    feature_kind: crate::features::FeatureKind,
    seconds: f64,
    sample_rate: u32,
    segments: usize,
    frames_per_segment: usize,
    n_mfcc: usize,
    segment_seconds: f64,
    /// The song was shorter than one segment and was filled up (by `short_song_fill`).
    padded: bool,
    /// What fills a song shorter than a segment: silence, or the song looped.
    short_song_fill: crate::features::ShortSongFill,
    /// Start of each segment in seconds.
    segment_starts: Vec<f64>,
}

/// How a finished song sounded, returned by [`FeatureExtractor::finish_song`].
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SongEnd {
    /// Its loudest absolute sample value.
    peak: f32,
    /// Nothing louder than [`SILENCE_PEAK`] (-60 dBFS): there is nothing to classify.
    silent: bool,
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Sets `key` of a JS object (building results that mix serde data and typed arrays).
fn set_field(object: &JsValue, key: &str, value: &JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(object, &key.into(), value)
        .map(|_| ())
        .map_err(|_| js_error(format!("could not set {key} of the result")))
}

/// A sample rate from JS (a number): a positive whole number of Hz.
fn js_sample_rate(rate: f64) -> Result<u32, JsError> {
    if rate.is_finite() && rate.fract() == 0.0 && rate > 0.0 && rate <= f64::from(u32::MAX) {
        Ok(rate as u32)
    } else {
        Err(js_error(format!("sample rate {rate} Hz is not supported")))
    }
}

/// Pushes samples at the feature rate into a song's stream; the features of the segments
/// they complete, concatenated.
fn stream_segments(
    stream: &mut SegmentStream,
    samples: &[f32],
    extractor: &mut Extractor,
) -> Result<Float32Array, JsError> {
    let done = stream.push(samples, extractor).map_err(js_error)?;
    let values: Vec<f32> = done
        .iter()
        .flat_map(|s| s.features.data.iter().copied())
        .collect();
    Ok(Float32Array::from(values.as_slice()))
}

/// Feature settings from a JS object (a model card's `features`).
fn settings_from_js(settings: &JsValue) -> Result<FeatureSettings, JsError> {
    // Through JSON rather than serde-wasm-bindgen, which ignores unknown fields: a
    // setting this build does not know must be refused, not silently dropped.
    let json: String = js_sys::JSON::stringify(settings)
        .map_err(|_| js_error("feature settings must be a plain object"))?
        .into();
    serde_json::from_str(&json).map_err(|e| js_error(format!("feature settings: {e}")))
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

/// An MFCC extractor with the song it is working on.
///
/// Two ways in: `beginSong` + `pushAudio` chunk by chunk (audio already at the feature
/// rate; memory stays bounded however long the song), or `loadSong` with a whole song at
/// any sample rate (resampled here) and `segmentMfcc` per segment.
#[wasm_bindgen]
pub struct FeatureExtractor {
    extractor: Extractor,
    song: Option<Song>,
    /// Segments computed by `loadSong`, for `segmentMfcc`.
    loaded: Vec<SegmentFeatures>,
}

#[wasm_bindgen]
impl FeatureExtractor {
    /// An extractor with the default feature settings.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<FeatureExtractor, JsError> {
        Self::build(FeatureSettings::default())
    }

    /// An extractor with this build's settings for a kind of feature (`"mfcc"` or
    /// `"log-mel"`, a card's `features.kind`): what a model's card is checked against.
    #[wasm_bindgen(js_name = ofKind)]
    pub fn of_kind(kind: &str) -> Result<FeatureExtractor, JsError> {
        match kind {
            "mfcc" => Self::build(FeatureSettings::default()),
            "log-mel" => Self::build(FeatureSettings::musicnn()),
            other => Err(js_error(format!(
                "this build computes no features of kind {other:?} (only \"mfcc\" and \"log-mel\")"
            ))),
        }
    }

    /// An extractor with explicit settings (a model card's `features` object).
    #[wasm_bindgen(js_name = withSettings)]
    pub fn with_settings(settings: JsValue) -> Result<FeatureExtractor, JsError> {
        Self::build(settings_from_js(&settings)?)
    }

    fn build(settings: FeatureSettings) -> Result<FeatureExtractor, JsError> {
        Ok(FeatureExtractor {
            extractor: Extractor::new(settings).map_err(js_error)?,
            song: None,
            loaded: Vec::new(),
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
        self.clear_song();
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
        let spans = stream.spans();
        let info = SongInfo {
            feature_kind: settings.kind,
            seconds: total as f64 / f64::from(settings.sample_rate),
            sample_rate: settings.sample_rate,
            segments: spans.len(),
            frames_per_segment: settings.frames_per_segment(),
            n_mfcc: settings.coefficients(),
            segment_seconds: settings.segment_seconds(),
            padded: spans.iter().any(|s| s.is_padded(&settings)),
            short_song_fill: settings.short_song_fill,
            segment_starts: spans.iter().map(|s| s.start_seconds(&settings)).collect(),
        };
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
    /// every model that classifies these features directly (the tutorial networks).
    #[wasm_bindgen(js_name = featureKey)]
    pub fn feature_key(&self) -> String {
        crate::inference::feature_key(self.extractor.settings())
    }

    /// Takes the next chunk of the song begun with `beginSong` (an array of equally long
    /// `Float32Array`s, one per channel, the same channels every time) and returns the
    /// MFCCs of the segments it completes, concatenated (`frames x n_mfcc` each,
    /// frame-major); empty when it completes none.
    #[wasm_bindgen(js_name = pushAudio)]
    pub fn push_audio(&mut self, channels: Array) -> Result<Float32Array, JsError> {
        let song = self
            .song
            .as_mut()
            .ok_or_else(|| js_error("no song begun: call beginSong first"))?;
        let data: Vec<Float32Array> = channels
            .iter()
            .map(|c| c.dyn_into::<Float32Array>())
            .collect::<Result<_, _>>()
            .map_err(|_| js_error("channel data must be Float32Arrays"))?;
        if song.channels == 0 {
            song.channels = data.len();
        } else if data.len() != song.channels {
            return Err(js_error(format!(
                "a chunk has {} channels; the song has {}",
                data.len(),
                song.channels
            )));
        }
        let data: Vec<Vec<f32>> = data.iter().map(Float32Array::to_vec).collect();
        let refs: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        let mono = downmix(&refs).map_err(js_error)?;
        drop(data);
        crate::audio::check_finite(&mono, song.envelope.seen, song.sample_rate)
            .map_err(js_error)?;
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

    /// Checks that the whole song arrived, and says whether it is silent.
    #[wasm_bindgen(js_name = finishSong)]
    pub fn finish_song(&self) -> Result<JsValue, JsError> {
        let song = self
            .song
            .as_ref()
            .ok_or_else(|| js_error("no song begun: call beginSong first"))?;
        song.stream.finish().map_err(js_error)?;
        let peak = song.stream.peak();
        serde_wasm_bindgen::to_value(&SongEnd {
            peak,
            silent: peak < SILENCE_PEAK,
        })
        .map_err(js_error)
    }

    /// Downmixes and resamples a whole song (`channels`, an array of `Float32Array`, at
    /// any supported `sample_rate`) and computes all its segments, to be read with
    /// `segmentMfcc`. Returns the song's facts; errors say what is wrong with the audio.
    #[wasm_bindgen(js_name = loadSong)]
    pub fn load_song(&mut self, channels: Array, sample_rate: f64) -> Result<JsValue, JsError> {
        self.clear_song();
        let sample_rate = js_sample_rate(sample_rate)?;
        let data: Vec<Vec<f32>> = channels
            .iter()
            .map(|c| c.dyn_into::<Float32Array>().map(|a| a.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|_| js_error("channel data must be Float32Arrays"))?;
        let refs: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        let rate = self.extractor.settings().sample_rate;
        let clip = Clip::from_channels(&refs, sample_rate, rate).map_err(js_error)?;
        drop(data);
        let info = self.begin_song(clip.samples.len() as f64, f64::from(rate))?;
        if let Some(song) = self.song.as_mut() {
            self.loaded = song
                .stream
                .push(&clip.samples, &mut self.extractor)
                .map_err(js_error)?;
            song.envelope.push(&clip.samples);
        }
        Ok(info)
    }

    /// MFCCs of segment `index` of the song loaded with `loadSong`: `frames x n_mfcc`
    /// values, frame-major.
    #[wasm_bindgen(js_name = segmentMfcc)]
    pub fn segment_mfcc(&self, index: usize) -> Result<Float32Array, JsError> {
        let segment = self.loaded.get(index).ok_or_else(|| {
            js_error(format!(
                "no segment {index}: the loaded song has {}",
                self.loaded.len()
            ))
        })?;
        Ok(Float32Array::from(segment.features.data.as_slice()))
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

    /// Frees the current song.
    #[wasm_bindgen(js_name = clearSong)]
    pub fn clear_song(&mut self) {
        self.song = None;
        self.loaded = Vec::new();
    }
}

/// Serialises for JS with maps as plain objects (`{genre: p}`), not `Map`s.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(js_error)
}

/// musicnn's forward pass stage by stage, for the page benchmark
/// (tests/browser/bench_musicnn.mjs): the caller times each `run` (the wasm has no clock).
#[wasm_bindgen]
pub struct MusicnnBench {
    profile: crate::models::MusicnnProfile,
}

#[wasm_bindgen]
impl MusicnnBench {
    /// The backbone of `model` (a musicnn model) on `patches` synthetic patches, its
    /// front end computed as `formulation` says ("unfolded" or "conv2d").
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &GenreModel,
        patches: usize,
        formulation: &str,
    ) -> Result<MusicnnBench, JsError> {
        use crate::models::{FrontendFormulation, Network};
        let Network::Musicnn(net) = model.classifier.network() else {
            return Err(JsError::new("this model has no musicnn backbone"));
        };
        let formulation = match formulation {
            "unfolded" => FrontendFormulation::Unfolded,
            "conv2d" => FrontendFormulation::Conv2d,
            other => return Err(JsError::new(&format!("unknown formulation “{other}”"))),
        };
        let backbone = net.backbone.clone();
        let features = &model.classifier.card().features;
        let [frames, mels] = [features.frames_per_segment(), features.coefficients()];
        let n = patches.max(1) * frames * mels;
        let values: Vec<f32> = (0..n).map(|i| (i * 7919 % 4000) as f32 / 1000.0).collect();
        let device = cpu_device();
        let x = burn::tensor::Tensor::<3>::from_data(
            burn::tensor::TensorData::new(values, [patches.max(1), frames, mels]),
            &device,
        );
        Ok(Self {
            profile: crate::models::MusicnnProfile::new(backbone, x, formulation),
        })
    }

    /// The stages: `[{ name, macs, matmul }]`, in the order of the forward pass.
    pub fn stages(&self) -> Result<JsValue, JsError> {
        to_js(&self.profile.stages())
    }

    /// Runs stage `index` once.
    pub fn run(&self, index: usize) {
        self.profile.run(index);
    }

    /// Runs burn's matmul once on stage `index`'s shape (nothing if it has none).
    #[wasm_bindgen(js_name = runMatmul)]
    pub fn run_matmul(&self, index: usize) {
        self.profile.run_matmul(index);
    }
}

/// The largest model card and weights file a model may have, in bytes
/// (`{ cardBytes, weightsBytes }`): the page stops a download that grows past them.
#[wasm_bindgen(js_name = modelSizeLimits)]
pub fn model_size_limits() -> Result<JsValue, JsError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Limits {
        card_bytes: u64,
        weights_bytes: u64,
    }
    to_js(&Limits {
        card_bytes: crate::card::MAX_CARD_BYTES,
        weights_bytes: crate::card::MAX_WEIGHTS_BYTES,
    })
}

/// A trained model (card + weights), ready to classify the segments a
/// [`FeatureExtractor`] computes.
#[wasm_bindgen]
pub struct GenreModel {
    classifier: Classifier,
}

#[wasm_bindgen]
impl GenreModel {
    /// Loads a model from its card (JSON text) and weights (burnpack bytes). Corrupt or
    /// truncated weights, and weights for other labels or settings, are refused with the
    /// reason.
    #[wasm_bindgen(constructor)]
    pub fn new(card_json: &str, weights: &[u8]) -> Result<GenreModel, JsError> {
        Self::on_device(card_json, weights, &cpu_device())
    }

    /// Like the constructor, on a named burn backend (`"flex"` or `"ndarray"`): for the
    /// backend benchmark only.
    #[cfg(feature = "wasm-backends")]
    #[wasm_bindgen(js_name = withBackend)]
    pub fn with_backend(
        card_json: &str,
        weights: &[u8],
        backend: &str,
    ) -> Result<GenreModel, JsError> {
        let device = match backend {
            "flex" => burn::prelude::Device::flex(),
            // Deprecated in burn 0.22 in favour of flex; measured here to show why.
            #[allow(deprecated)]
            "ndarray" => burn::prelude::Device::ndarray(),
            other => return Err(js_error(format!("unknown backend {other}"))),
        };
        Self::on_device(card_json, weights, &device)
    }

    /// The model card, as an object.
    pub fn card(&self) -> Result<JsValue, JsError> {
        to_js(self.classifier.card())
    }

    /// Refuses an extractor whose settings differ from the card's, saying what differs.
    #[wasm_bindgen(js_name = checkExtractor)]
    pub fn check_extractor(&self, extractor: &FeatureExtractor) -> Result<(), JsError> {
        self.classifier
            .check_features(extractor.extractor.settings())
            .map_err(js_error)
    }

    /// The genre labels, in the order of every probability vector.
    pub fn labels(&self) -> Result<JsValue, JsError> {
        to_js(&self.classifier.card().labels)
    }

    /// What this model's embeddings depend on; a song's embeddings can be shared by
    /// models with the same key (and by an extractor's `featureKey()`).
    #[wasm_bindgen(js_name = embeddingKey)]
    pub fn embedding_key(&self) -> String {
        self.classifier.embedding_key()
    }

    /// Values of one segment's embedding.
    #[wasm_bindgen(js_name = embeddingSize)]
    pub fn embedding_size(&self) -> usize {
        self.classifier.embedding_size()
    }

    /// Embeddings of segments from their features (`pushAudio` outputs, concatenated):
    /// musicnn's backbone, or the features themselves for the tutorial networks.
    pub fn embed(&self, features: &[f32]) -> Result<Float32Array, JsError> {
        let segments = self.segments(features, None)?;
        let embeddings = self.classifier.embeddings(&segments).map_err(js_error)?;
        Ok(Float32Array::from(embeddings.as_slice()))
    }

    /// Genre probabilities of each segment from its embedding (`embed` outputs,
    /// concatenated): `segments x labels` values.
    #[wasm_bindgen(js_name = probabilitiesOfEmbeddings)]
    pub fn probabilities_of_embeddings(&self, embeddings: &[f32]) -> Result<Float32Array, JsError> {
        let per_segment = self
            .classifier
            .probabilities_of_embeddings(embeddings)
            .map_err(js_error)?;
        Ok(Float32Array::from(per_segment.concat().as_slice()))
    }

    /// The song's strongest backbone tags from its embeddings: `[{tag, probability}]`,
    /// empty for models without tags.
    #[wasm_bindgen(js_name = songTags)]
    pub fn song_tags(&self, embeddings: &[f32]) -> Result<JsValue, JsError> {
        to_js(&self.classifier.song_tags(embeddings))
    }

    /// Genre probabilities of each segment from their MFCCs (`segmentMfcc` or
    /// `pushAudio` outputs, concatenated): `segments x labels` values.
    #[wasm_bindgen(js_name = segmentProbabilities)]
    pub fn segment_probabilities(&self, mfcc: &[f32]) -> Result<Float32Array, JsError> {
        let segments = self.segments(mfcc, None)?;
        let per_segment = self
            .classifier
            .segment_probabilities(&segments)
            .map_err(js_error)?;
        Ok(Float32Array::from(per_segment.concat().as_slice()))
    }

    /// The song's verdict from its segments' probabilities (`segmentProbabilities`
    /// outputs, concatenated) and start times in seconds: what `classify --json` prints
    /// for a file, without `file`.
    pub fn verdict(&self, probabilities: &[f32], starts: &[f64]) -> Result<JsValue, JsError> {
        let classes = self.classifier.card().labels.len();
        if classes == 0 || !probabilities.len().is_multiple_of(classes) {
            return Err(js_error(format!(
                "{} probabilities do not make rows of {classes} genres",
                probabilities.len()
            )));
        }
        let rows: Vec<Vec<f32>> = probabilities.chunks(classes).map(<[f32]>::to_vec).collect();
        to_js(&self.classifier.verdict(starts, &rows).map_err(js_error)?)
    }

    /// Classifies a song from its segments' MFCCs (concatenated) and their start times in
    /// seconds, in one call. Returns what `classify --json` prints for a file, without
    /// `file`: `{genre, probabilities: {genre: p}, segments: [{start_s, genre,
    /// probabilities}]}`.
    pub fn classify(&self, mfcc: &[f32], starts: &[f64]) -> Result<JsValue, JsError> {
        let segments = self.segments(mfcc, Some(starts))?;
        to_js(&self.classifier.classify(&segments).map_err(js_error)?)
    }
}

impl GenreModel {
    fn on_device(
        card_json: &str,
        weights: &[u8],
        device: &burn::prelude::Device,
    ) -> Result<GenreModel, JsError> {
        let classifier = Classifier::load(card_json, weights, device).map_err(js_error)?;
        Ok(GenreModel { classifier })
    }

    /// Cuts concatenated MFCCs into segments of the card's shape.
    fn segments(
        &self,
        mfcc: &[f32],
        starts: Option<&[f64]>,
    ) -> Result<Vec<SegmentFeatures>, JsError> {
        let settings = &self.classifier.card().features;
        let (frames, n_mfcc) = (settings.frames_per_segment(), settings.coefficients());
        let size = frames * n_mfcc;
        let count = mfcc.len() / size.max(1);
        if mfcc.is_empty()
            || !mfcc.len().is_multiple_of(size)
            || starts.is_some_and(|s| s.len() != count)
        {
            return Err(js_error(format!(
                "{} feature values do not make {} segments of {frames}x{n_mfcc}",
                mfcc.len(),
                starts.map_or(count, <[f64]>::len)
            )));
        }
        let rate = f64::from(settings.sample_rate);
        Ok(mfcc
            .chunks_exact(size)
            .enumerate()
            .map(|(i, data)| SegmentFeatures {
                span: SegmentSpan {
                    start: starts.map_or(0, |s| (s[i] * rate).round().max(0.0) as usize),
                    audio_samples: settings.segment_samples,
                },
                features: FeatureFrames {
                    frames,
                    width: n_mfcc,
                    data: data.to_vec(),
                },
            })
            .collect())
    }
}

/// One live window's facts, as `LiveListener::push` returns them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveWindowInfo {
    start_s: f64,
    end_s: f64,
    rms: f32,
    quiet: bool,
}

/// Live features of a microphone: takes its frames at the device rate, and every second
/// (once 3 s have been heard) gives the MFCCs of the last 3 s.
#[wasm_bindgen]
pub struct LiveListener {
    features: LiveFeatures,
}

#[wasm_bindgen]
impl LiveListener {
    /// A listener for audio at `device_rate` Hz, with the default feature settings.
    #[wasm_bindgen(constructor)]
    pub fn new(device_rate: f64) -> Result<LiveListener, JsError> {
        let features = LiveFeatures::new(js_sample_rate(device_rate)?, FeatureSettings::default())
            .map_err(js_error)?;
        Ok(LiveListener { features })
    }

    /// A listener for audio at `device_rate` Hz computing the features of `settings` (a
    /// model card's `features` object).
    #[wasm_bindgen(js_name = withSettings)]
    pub fn with_settings(device_rate: f64, settings: JsValue) -> Result<LiveListener, JsError> {
        let settings = settings_from_js(&settings)?;
        let features =
            LiveFeatures::new(js_sample_rate(device_rate)?, settings).map_err(js_error)?;
        Ok(LiveListener { features })
    }

    /// Seconds between windows.
    #[wasm_bindgen(js_name = hopSeconds)]
    pub fn hop_seconds() -> f64 {
        LIVE_HOP_SECONDS
    }

    /// Takes the next mono frames; returns `{ windows: [{ startS, endS, rms, quiet }], mfcc }` for
    /// the windows they complete, `mfcc` holding each window's MFCCs concatenated
    /// (`frames x n_mfcc`, frame-major).
    pub fn push(&mut self, samples: &[f32]) -> Result<JsValue, JsError> {
        let windows = self.features.push(samples).map_err(js_error)?;
        let length = self.features.settings().segment_seconds();
        let info: Vec<LiveWindowInfo> = windows
            .iter()
            .map(|w| LiveWindowInfo {
                start_s: w.end_s - length,
                end_s: w.end_s,
                rms: w.rms,
                quiet: w.is_quiet(),
            })
            .collect();
        let mfcc: Vec<f32> = windows
            .iter()
            .flat_map(|w| w.features.data.iter().copied())
            .collect();
        let out: JsValue = js_sys::Object::new().into();
        set_field(&out, "windows", &to_js(&info)?)?;
        set_field(&out, "mfcc", &Float32Array::from(mfcc.as_slice()))?;
        Ok(out)
    }
}

/// A decoded file, as [`decode_audio`] returns it.
#[cfg(feature = "decode")]
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct DecodedInfo {
    source_rate: u32,
    channels: usize,
}

/// Decodes the bytes of a file called `name` (WAV, MP3, FLAC, Ogg Vorbis, Sun AU...) and
/// returns `{ samples, sampleRate, sourceRate, channels }`: its channels averaged to mono
/// and resampled to the feature rate. For files Web Audio cannot decode, and for Web
/// Workers, which have no Web Audio. Only in the decoder package (`decode` feature).
#[cfg(feature = "decode")]
#[wasm_bindgen(js_name = decodeAudio)]
pub fn decode_audio(name: &str, bytes: Vec<u8>) -> Result<JsValue, JsError> {
    let decoded = crate::audio::decode::decode_bytes(name, bytes).map_err(js_error)?;
    let rate = FeatureSettings::default().sample_rate;
    let info = DecodedInfo {
        source_rate: decoded.sample_rate,
        channels: decoded.channels,
    };
    let clip = Clip::from_mono(decoded.mono, decoded.sample_rate, rate).map_err(js_error)?;
    let out = to_js(&info)?;
    set_field(
        &out,
        "samples",
        &Float32Array::from(clip.samples.as_slice()),
    )?;
    set_field(&out, "sampleRate", &JsValue::from(rate))?;
    Ok(out)
}
