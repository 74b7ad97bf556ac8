// The worker: owns the wasm instance and the loaded models. It turns chunks of a song into
// MFCC segments, classifies them as they complete, and keeps the song's features so that
// switching models re-runs only the network. The page stays responsive throughout.
import init, { FeatureExtractor, GenreModel } from './pkg/genre_classifier.js';
import { MSG } from './messages.js';

const MODELS = new URL('./models/', import.meta.url);

let wasm = null;
let extractor = null;
const models = new Map();   // name → Promise<{ name, model, card }>
let modelName = null;       // the model asked for last
let song = null;            // { id, info, mfcc: Float32Array[], probabilities: Float32Array[], model, ... }

const ready = (async () => {
  wasm = await init();
  extractor = new FeatureExtractor();
  postMessage({ type: MSG.READY, settings: extractor.settings() });
})();
ready.catch((e) => postMessage({ type: MSG.ERROR, id: null, message: `The analyser failed to start: ${e.message ?? e}` }));

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`could not download the ${what} (${e.message})`);
  }
  if (!response.ok) throw new Error(`could not download the ${what}: ${response.status} ${response.statusText}`);
  return response;
}

/** Loads a shipped model once; later calls share the same promise. */
function loadModel(name) {
  if (!models.has(name)) {
    const loading = (async () => {
      await ready;
      const base = new URL(`${encodeURIComponent(name)}/`, MODELS);
      const [card, weights] = await Promise.all([
        fetchOk(new URL('card.json', base), `card of model “${name}”`).then((r) => r.text()),
        fetchOk(new URL('model.bpk', base), `weights of model “${name}”`).then((r) => r.arrayBuffer()),
      ]);
      const model = new GenreModel(card, new Uint8Array(weights));
      try {
        model.checkExtractor(extractor);
      } catch (e) {
        model.free();
        throw e;
      }
      return { name, model, card: model.card() };
    })();
    models.set(name, loading);
    loading.catch(() => models.delete(name));  // a failed load may be retried
  }
  return models.get(name);
}

const concat = (arrays) => {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
};

/** Classifies all of `song`'s segments with `loaded`; returns the verdict and the time. */
function rerun(loaded) {
  const start = performance.now();
  const probabilities = loaded.model.segmentProbabilities(concat(song.mfcc));
  const result = loaded.model.verdict(probabilities, Float64Array.from(song.info.segmentStarts));
  song.model = loaded.name;
  song.probabilities = [probabilities];
  return { result, classifyMs: performance.now() - start };
}

async function useModel(name) {
  const previous = modelName;
  modelName = name;
  let loaded;
  try {
    loaded = await loadModel(name);
  } catch (e) {
    if (modelName === name) modelName = previous;  // keep the model that works
    postMessage({ type: MSG.ERROR, id: null, model: name, message: `Model “${name}” could not be loaded: ${e.message ?? e}` });
    return;
  }
  if (modelName !== name) return;  // another model was chosen meanwhile
  postMessage({ type: MSG.MODEL, name, card: loaded.card });
  if (song?.finished && song.model !== name) {
    const { result, classifyMs } = rerun(loaded);
    postMessage({ type: MSG.RESULT, id: song.id, model: name, result, classifyMs });
  }
}

async function begin({ id, totalSamples, sampleRate }) {
  await ready;
  if (modelName === null) throw new Error('no model could be loaded; choose one in the model list');
  const info = extractor.beginSong(totalSamples, sampleRate);
  song = { id, info, mfcc: [], probabilities: [], model: modelName, segments: 0, featureMs: 0, classifyMs: 0, finished: false };
  postMessage({ type: MSG.SONG, id, info });
  postMessage({ type: MSG.NEED, id });
}

async function chunk({ id, channels, last }) {
  if (song?.id !== id) return;  // cancelled or replaced
  let start = performance.now();
  const mfcc = extractor.pushAudio(channels);
  song.featureMs += performance.now() - start;
  if (mfcc.length > 0) {
    const first = song.segments;
    song.segments += mfcc.length / (song.info.framesPerSegment * song.info.nMfcc);
    song.mfcc.push(mfcc);
    postMessage({ type: MSG.SEGMENTS, id, first, mfcc: mfcc.slice() });
    const loaded = await loadModel(song.model);
    if (song?.id !== id) return;
    start = performance.now();
    song.probabilities.push(loaded.model.segmentProbabilities(mfcc));
    song.classifyMs += performance.now() - start;
    postMessage({
      type: MSG.PROGRESS, id, done: extractor.segmentsDone(), total: song.info.segments,
      wasmBytes: wasm.memory.buffer.byteLength,
    });
  }
  if (!last) {
    postMessage({ type: MSG.NEED, id });
    return;
  }
  const end = extractor.finishSong();
  const peaks = extractor.waveformPeaks();
  const wasmBytes = wasm.memory.buffer.byteLength;
  extractor.clearSong();
  if (end.silent) {
    song = null;
    postMessage({ type: MSG.SILENT, id });
    return;
  }
  let loaded = await loadModel(song.model);
  if (song?.id !== id) return;
  let result;
  if (modelName !== song.model) {
    // The model was switched while the song was being analysed.
    loaded = await loadModel(modelName);
    if (song?.id !== id) return;
    const rerunResult = rerun(loaded);
    result = rerunResult.result;
    song.classifyMs = rerunResult.classifyMs;
  } else {
    result = loaded.model.verdict(concat(song.probabilities), Float64Array.from(song.info.segmentStarts));
  }
  song.finished = true;
  postMessage({
    type: MSG.DONE, id, result, peaks, model: song.model, wasmBytes,
    featureMs: song.featureMs, classifyMs: song.classifyMs,
  }, [peaks.buffer]);
}

onmessage = async ({ data }) => {
  try {
    switch (data.type) {
      case MSG.MODEL: await useModel(data.name); break;
      case MSG.BEGIN: await begin(data); break;
      case MSG.CHUNK: await chunk(data); break;
      case MSG.CANCEL:
        if (song?.id === data.id) { song = null; extractor?.clearSong(); }
        break;
    }
  } catch (e) {
    if (data.id !== undefined && song?.id === data.id) { song = null; extractor?.clearSong(); }
    postMessage({ type: MSG.ERROR, id: data.id ?? null, message: e.message ?? String(e) });
  }
};
