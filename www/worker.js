// The worker: owns the one wasm instance and the loaded models, shared by every classifier
// and widget on the page. It turns chunks of a song into MFCC segments, classifies them as
// they complete, and keeps each song's features until told to forget them, so switching
// models re-runs only the network. Messages are listed in messages.js.
import init, { FeatureExtractor, GenreModel, LiveListener } from './pkg/genre_classifier.js';
import { MSG } from './messages.js';

const MODELS = new URL('./models/', import.meta.url);

let wasm = null;
let reference = null;       // an extractor with the build's settings, to check model cards against
const models = new Map();   // model (name or folder URL) → Promise<{ model, card }>
const songs = new Map();    // song id → its state (see begin)
const listeners = new Map(); // live id → { listener, port }

const ready = (async () => {
  wasm = await init();
  reference = new FeatureExtractor();
  postMessage({ type: MSG.READY, settings: reference.settings() });
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

/** Where a model lives: a shipped model's name, or the URL of a model folder. */
function modelFolder(model) {
  const named = /^[\w-]+$/.test(model);
  return new URL(named ? `${model}/` : (model.endsWith('/') ? model : `${model}/`), MODELS);
}

/** Loads a model once; later calls share the same promise. */
function loadModel(model) {
  if (!models.has(model)) {
    const loading = (async () => {
      await ready;
      const base = modelFolder(model);
      const [card, weights] = await Promise.all([
        fetchOk(new URL('card.json', base), `card of model “${model}”`).then((r) => r.text()),
        fetchOk(new URL('model.bpk', base), `weights of model “${model}”`).then((r) => r.arrayBuffer()),
      ]);
      const loaded = new GenreModel(card, new Uint8Array(weights));
      try {
        loaded.checkExtractor(reference);
      } catch (e) {
        loaded.free();
        throw e;
      }
      return { model: loaded, card: loaded.card() };
    })();
    models.set(model, loading);
    loading.catch(() => models.delete(model));  // a failed load may be retried
  }
  return models.get(model);
}

async function modelOrError(model) {
  try {
    return await loadModel(model);
  } catch (e) {
    throw new Error(`Model “${model}” could not be loaded: ${e.message ?? e}`);
  }
}

const concat = (arrays) => {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
};

function forget(id) {
  const song = songs.get(id);
  if (song?.extractor) {
    song.extractor.free();
    song.extractor = null;
  }
  songs.delete(id);
}

async function begin({ id, model, totalSamples, sampleRate }) {
  await modelOrError(model);
  const extractor = new FeatureExtractor();
  let info;
  try {
    info = extractor.beginSong(totalSamples, sampleRate);
  } catch (e) {
    extractor.free();
    throw e;
  }
  songs.set(id, {
    extractor, info, model, mfcc: [], probabilities: [], segments: 0, featureMs: 0, classifyMs: 0,
  });
  postMessage({ type: MSG.SONG, id, info });
  postMessage({ type: MSG.NEED, id });
}

async function chunk({ id, channels, last }) {
  const song = songs.get(id);
  if (!song?.extractor) return;  // cancelled or forgotten
  let start = performance.now();
  const mfcc = song.extractor.pushAudio(channels);
  song.featureMs += performance.now() - start;
  if (mfcc.length > 0) {
    const first = song.segments;
    song.segments += mfcc.length / (song.info.framesPerSegment * song.info.nMfcc);
    song.mfcc.push(mfcc);
    postMessage({ type: MSG.SEGMENTS, id, first, mfcc: mfcc.slice() });
    const { model } = await loadModel(song.model);
    if (!song.extractor) return;  // forgotten meanwhile
    start = performance.now();
    song.probabilities.push(model.segmentProbabilities(mfcc));
    song.classifyMs += performance.now() - start;
    postMessage({
      type: MSG.PROGRESS, id, done: song.segments, total: song.info.segments,
      wasmBytes: wasm.memory.buffer.byteLength,
    });
  }
  if (!last) {
    postMessage({ type: MSG.NEED, id });
    return;
  }
  const end = song.extractor.finishSong();
  const peaks = song.extractor.waveformPeaks();
  const wasmBytes = wasm.memory.buffer.byteLength;
  song.extractor.free();
  song.extractor = null;
  if (end.silent) {
    forget(id);
    postMessage({ type: MSG.SILENT, id });
    return;
  }
  const { model } = await loadModel(song.model);
  const result = model.verdict(concat(song.probabilities), Float64Array.from(song.info.segmentStarts));
  song.probabilities = [];
  postMessage({
    type: MSG.DONE, id, result, peaks, model: song.model, wasmBytes,
    featureMs: song.featureMs, classifyMs: song.classifyMs,
  }, [peaks.buffer]);
}

async function rerun({ id, song: songId, model }) {
  const song = songs.get(songId);
  if (!song || song.extractor) throw new Error('that song is no longer held; classify it again');
  const loaded = await modelOrError(model);
  const start = performance.now();
  const probabilities = loaded.model.segmentProbabilities(concat(song.mfcc));
  const result = loaded.model.verdict(probabilities, Float64Array.from(song.info.segmentStarts));
  song.model = model;
  postMessage({ type: MSG.RESULT, id, model, result, classifyMs: performance.now() - start });
}

/** The decoder package (symphonia in wasm), loaded the first time it is needed. */
let decoder = null;
function loadDecoder() {
  decoder ??= import('./pkg-decode/genre_classifier.js').then(async (pkg) => {
    await pkg.default();
    return pkg;
  });
  decoder.catch(() => { decoder = null; });
  return decoder;
}

async function decode({ id, name, bytes }) {
  const pkg = await loadDecoder();
  const { samples, sampleRate, sourceRate, channels } = pkg.decodeAudio(name, new Uint8Array(bytes));
  postMessage({ type: MSG.DECODED, id, samples, sampleRate, sourceRate, channels }, [samples.buffer]);
}

/** Live mode: classifies each window the microphone's frames complete. */
async function listen({ id, model, sampleRate, port }) {
  const { model: loaded } = await modelOrError(model);
  const listener = new LiveListener(sampleRate);
  const live = { listener, port, busyMs: 0 };
  listeners.set(id, live);
  port.onmessage = ({ data: frames }) => {
    if (listeners.get(id) !== live) return;
    const start = performance.now();
    try {
      const { windows, mfcc } = listener.push(frames);
      const size = mfcc.length / Math.max(1, windows.length);
      const verdicts = windows.map((w, k) => {
        if (w.quiet) return null;
        const probabilities = loaded.segmentProbabilities(mfcc.subarray(k * size, (k + 1) * size));
        return loaded.verdict(probabilities, Float64Array.of(w.startS));
      });
      live.busyMs += performance.now() - start;
      windows.forEach((w, k) => postMessage({
        type: MSG.LIVE, id, endS: w.endS, quiet: w.quiet, rms: w.rms, result: verdicts[k], busyMs: live.busyMs,
      }));
    } catch (e) {
      stop(id);
      postMessage({ type: MSG.ERROR, id, message: e.message ?? String(e) });
    }
  };
}

function stop(id) {
  const live = listeners.get(id);
  if (!live) return;
  listeners.delete(id);
  live.port.close();
  live.listener.free();
}

onmessage = async ({ data }) => {
  try {
    switch (data.type) {
      case MSG.MODEL: {
        const { card } = await modelOrError(data.model);
        postMessage({ type: MSG.MODEL, id: data.id, model: data.model, card });
        break;
      }
      case MSG.BEGIN: await begin(data); break;
      case MSG.CHUNK: await chunk(data); break;
      case MSG.RERUN: await rerun(data); break;
      case MSG.FORGET: forget(data.id); break;
      case MSG.DECODE: await decode(data); break;
      case MSG.LISTEN: await listen(data); break;
      case MSG.STOP: stop(data.id); break;
    }
  } catch (e) {
    if (data.type === MSG.BEGIN || data.type === MSG.CHUNK) forget(data.id);
    postMessage({ type: MSG.ERROR, id: data.id ?? null, model: data.model, message: e.message ?? String(e) });
  }
};
