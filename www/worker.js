// The worker: owns the main wasm instance and the loaded models, shared by every classifier
// and widget on the page. It turns chunks of a song into segment features (the model's
// kind: musicnn's log-mel patches or MFCCs), embeds and classifies them as they complete,
// and keeps each song's embeddings until told to forget them, so switching models re-runs
// only the head or network. A backbone's patches are shared with helper workers
// (embed-pool.js) and reported in order as each is done. Messages: docs/WORKER_MESSAGES.md.
import { MSG } from './messages.js';
import { EmbedPool, embedInOrder, embedReusing } from './embed-pool.js';
import { ALL_MODELS_BESIDE, MAIN_WASM, MODEL_FILES, decoderPackage, mainPackage } from './packages.js';

/** Where the other shipped models' folders are: models/ beside this script. */
const MODELS = new URL('models/', new URL(import.meta.url));
/** The compiled package, instantiated here and handed to the helper workers, which then
 *  neither download nor compile it again. */
let wasmModule = null;

async function compileWasm() {
  const response = await fetch(MAIN_WASM);
  if (!response.ok) throw new Error(`could not download ${MAIN_WASM.pathname}: ${response.status} ${response.statusText}`);
  try {
    return await WebAssembly.compileStreaming(response.clone());
  } catch {
    return WebAssembly.compile(await response.arrayBuffer());  // served without application/wasm
  }
}

let FeatureExtractor, GenreModel, LiveListener, QuickSong, modelSizeLimits;
let wasm = null;
let messages = null;        // what the person is told, as Rust words it (userMessages)
let reference = null;       // an extractor with the build's settings, to check model cards against
const models = new Map();   // model (name or folder URL) → Promise<{ model, card }>
const songs = new Map();    // song id → its state (see begin)
const listeners = new Map(); // live id → { listener, port }

const ready = (async () => {
  const [pkg, module] = await Promise.all([mainPackage(), compileWasm()]);
  ({ FeatureExtractor, GenreModel, LiveListener, QuickSong, modelSizeLimits } = pkg);
  wasmModule = module;
  wasm = await pkg.default({ module_or_path: module });
  reference = new FeatureExtractor();
  messages = pkg.userMessages();
  postMessage({ type: MSG.READY, settings: reference.settings(), shippedModels: offeredModels(pkg.shippedModels()), messages });
})();
ready.catch((e) => postMessage({ type: MSG.ERROR, id: null, message: `The analyser failed to start: ${e.message ?? e}` }));

/** How long a model's download may go without a byte arriving, and how long it may take
 *  in all: a server that never answers, or trickles, gets a message instead of a wait. */
const MODEL_STALL_MS = 15_000;
const MODEL_DEADLINE_MS = 120_000;

/** The typed arrays `arrays` end to end, in one array of `Type`. */
const concat = (arrays, Type = Float32Array) => {
  const out = new Type(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
};

const megabytes = (n) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 0)} MB`;

/** Aborts `controller` when no chunk has arrived for MODEL_STALL_MS or the whole download
 *  has taken MODEL_DEADLINE_MS. `alive()` is called on each chunk; `stop()` when done. */
function watchdog(controller) {
  const abort = (why) => controller.abort(new Error(why));
  const deadline = setTimeout(() => abort(`it took more than ${MODEL_DEADLINE_MS / 1000} s`), MODEL_DEADLINE_MS);
  let stall = null;
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort(`the server sent nothing for ${MODEL_STALL_MS / 1000} s`), MODEL_STALL_MS);
  };
  alive();
  return { alive, stop: () => { clearTimeout(deadline); clearTimeout(stall); } };
}

/** What to add to a failed download's message when the browser is offline. */
const offline = () => (globalThis.navigator?.onLine === false
  ? '. This browser is offline: only the models used before are kept for offline use' : '');

/** A download stopped for its size. */
class TooLarge extends Error {}

/** Downloads `url` (a model's `what`: its card or weights file) as bytes, stopping as
 *  soon as it grows past `limit()` ([bytes, why]; asked again for each chunk, so a limit
 *  learnt meanwhile applies). */
async function download(url, what, limit, controller, watch) {
  const { signal } = controller;
  const failed = (e) => new Error((signal.aborted
    ? `its ${what} did not arrive: ${signal.reason?.message ?? 'cancelled'}`
    : `could not download its ${what} (${e.message})`) + offline());
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    throw failed(e);
  }
  if (!response.ok) throw new Error(`could not download its ${what}: ${response.status} ${response.statusText}${offline()}`);
  const tooLarge = (size) => {
    const [max, why] = limit();
    return new TooLarge(`its ${what} is ${size === null ? 'larger than' : `${megabytes(size)}, more than`} ${megabytes(max)}, ${why}`);
  };
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit()[0]) {
    controller.abort(new Error('too large'));
    throw tooLarge(declared);
  }
  const reader = response.body.getReader();
  const parts = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      watch.alive();
      size += value.length;
      if (size > limit()[0]) {
        controller.abort(new Error('too large'));
        throw tooLarge(null);
      }
      parts.push(value);
    }
  } catch (e) {
    if (e instanceof TooLarge) throw e;
    throw failed(e);
  }
  return concat(parts, Uint8Array);
}

/** A model's card (text) and weights (bytes), from `files` ({ card, weights } URLs), each
 *  within the crate's size limits; the weights also within what the card says they are,
 *  once the card has arrived. */
async function downloadModel(files) {
  const limits = modelSizeLimits();
  const most = 'the most a model may have';
  let weightsLimit = [limits.weightsBytes, most];
  const controller = new AbortController();
  const watch = watchdog(controller);
  try {
    const card = download(files.card, 'card', () => [limits.cardBytes, most], controller, watch)
      .then((bytes) => {
        const text = new TextDecoder().decode(bytes);
        try {
          const declared = JSON.parse(text).weights?.bytes;
          if (Number.isSafeInteger(declared) && declared > 0 && declared < weightsLimit[0]) {
            weightsLimit = [declared, 'the size its card gives'];
          }
        } catch { /* not JSON: the crate says so when it reads the card */ }
        return text;
      });
    const weights = download(files.weights, 'weights file', () => weightsLimit, controller, watch);
    return await Promise.all([card, weights]);
  } catch (e) {
    controller.abort(new Error('the other file failed'));  // ends the other download
    throw e;
  } finally {
    watch.stop();
  }
}

/** A model's card and weights URLs: a shipped model's name, or the URL of a model folder. */
function modelFiles(model) {
  if (Object.hasOwn(MODEL_FILES, model)) return MODEL_FILES[model];
  const named = /^[\w-]+$/.test(model);
  const folder = new URL(named ? `${model}/` : (model.endsWith('/') ? model : `${model}/`), MODELS);
  return { card: new URL('card.json', folder), weights: new URL('model.bpk', folder) };
}

/** The shipped models this worker can load: all of them where their folders are beside it
 *  (www/), else those whose files the bundle holds (the npm package). */
function offeredModels(shipped) {
  return ALL_MODELS_BESIDE ? shipped : shipped.filter((m) => Object.hasOwn(MODEL_FILES, m.name));
}

/** Loads a model once; later calls share the same promise. */
function loadModel(model) {
  if (!models.has(model)) {
    const loading = (async () => {
      await ready;
      const [card, weights] = await downloadModel(modelFiles(model));
      return modelFromFiles(card, weights);
    })();
    models.set(model, loading);
    loading.catch(() => models.delete(model));  // a failed load may be retried
  }
  return models.get(model);
}

/** A model from its card (text) and weights (bytes), checked against this build's
 *  features, with its helper workers; its files are kept (a trained head reuses them). */
async function modelFromFiles(card, weights) {
  const loaded = new GenreModel(card, weights);
  try {
    checkFeatures(loaded, card);
  } catch (e) {
    loaded.free();
    throw e;
  }
  // A backbone's patches are worth sharing with helper workers of their own; the
  // model counts as loaded once they have loaded it too (or failed to, or 10 s).
  const pool = loaded.hasBackbone() ? new EmbedPool(wasmModule, card, weights) : null;
  await pool?.settled(10_000);
  return { model: loaded, card: loaded.card(), pool, files: { card, weights } };
}

/** "Train your own" and models given as files: handled by train/train-worker.js, loaded
 *  the first time one is asked for. */
let training = null;
async function trainingMessage(data) {
  training ??= import('./train/train-worker.js');
  await (await training).handle(data, { ready, models, modelOrError, modelFromFiles });
}

/** The build's extractor for the card's kind of feature (with the card's segment
 *  loudness) must compute exactly what the model was trained on. */
function checkFeatures(loaded, card) {
  const extractor = FeatureExtractor.ofCard(JSON.parse(card).features);
  try {
    loaded.checkExtractor(extractor);
  } finally {
    extractor.free();
  }
}

async function modelOrError(model) {
  try {
    return await loadModel(model);
  } catch (e) {
    throw new Error(`Model “${model}” could not be loaded: ${e.message ?? e}`);
  }
}


/** Frees a song's extractors and accumulator and forgets it. */
function forget(id) {
  const song = songs.get(id);
  for (const p of song?.pipelines ?? []) {
    p.extractor?.free();
    p.extractor = null;
  }
  if (song) song.pipelines = [];
  song?.accumulator?.free();
  song?.quick?.free();
  if (song) song.quick = null;
  songs.delete(id);
}

/**
 * One path from samples to embeddings: an extractor with a model family's feature
 * settings, and the model whose `embed` turns those features into what is kept per song
 * (musicnn's backbone; for the tutorial networks the features themselves).
 */
function pipeline(features, embedder, totalSamples, sampleRate) {
  const extractor = FeatureExtractor.withSettings(features);
  try {
    const info = extractor.beginSong(totalSamples, sampleRate);
    const key = embedder?.embeddingKey() ?? extractor.featureKey();
    return { key, extractor, embedder, info, embeddings: [] };
  } catch (e) {
    extractor.free();
    throw e;
  }
}

/** Features → embeddings of one pipeline (the features themselves when it has no
 *  model: the tutorial MFCCs kept beside a song). */
function embed(p, features) {
  return p.embedder ? p.embedder.embed(features) : features;
}

async function begin({ id, model, totalSamples, sampleRate, quick, embeddings = false }) {
  const { model: loaded, card } = await modelOrError(model);
  // A song of ten segments or fewer is heard whole either way.
  let pass = quick ? new QuickSong(card.features, totalSamples, sampleRate) : null;
  if (pass?.coversSong()) {
    pass.free();
    pass = null;
  }
  if (pass && quick === 'only') {
    beginQuick(id, {
      model, only: true, segments: 0, featureMs: 0, classifyMs: 0, helperPatches: 0, withEmbeddings: embeddings,
    }, pass);
    return;
  }
  let song;
  try {
    song = { ...streamedSong(model, loaded, card, totalSamples, sampleRate), withEmbeddings: embeddings };
  } catch (e) {
    pass?.free();
    throw e;
  }
  if (pass) {
    beginQuick(id, song, pass);
    return;
  }
  songs.set(id, song);
  postMessage({ type: MSG.SONG, id, info: song.info });
  postMessage({ type: MSG.NEED, id });
}

/** A song to stream through `loaded`'s extractors, chunk by chunk. */
function streamedSong(model, loaded, card, totalSamples, sampleRate) {
  // The model's own features, and the tutorial MFCCs beside them when the model hears
  // something else, so a switch to a tutorial network needs no second decode.
  const pipelines = [pipeline(card.features, loaded, totalSamples, sampleRate)];
  try {
    if (pipelines[0].key !== reference.featureKey()) {
      pipelines.push(pipeline(reference.settings(), null, totalSamples, sampleRate));
    }
  } catch (e) {
    pipelines.forEach((p) => p.extractor.free());
    throw e;
  }
  const { info } = pipelines[0];
  const accumulator = loaded.newSong(Float64Array.from(info.segmentStarts));
  return {
    pipelines, info, model, accumulator, segments: 0, featureMs: 0, classifyMs: 0,
    helperPatches: 0, known: new Map(),
  };
}

/** Starts the quick pass of `song` (`pass`: its QuickSong): asks for its pieces. */
function beginQuick(id, song, pass) {
  song.quick = pass;
  song.info ??= pass.info();
  song.pieces = pass.pieces();
  songs.set(id, song);
  postMessage({ type: MSG.SONG, id, info: song.info });
  postMessage({ type: MSG.PIECES, id, pieces: song.pieces });
}

/** The quick pass: the pieces' features, embedded (helpers too) in order. */
async function quickEmbeddings(song, loaded, audio) {
  const start = performance.now();
  const parts = audio.map((channels, k) => song.quick.features(k, channels));
  const features = concat(parts);
  const featured = performance.now();
  song.featureMs += featured - start;
  const per = parts[0].length;
  const embeddings = new Array(parts.length);
  song.helperPatches += await embedInOrder({
    features, per, count: parts.length, pool: loaded.pool,
    local: (k) => loaded.model.embed(parts[k]),
    onReady: (k, embedding) => { embeddings[k] = embedding; },
    cancelled: () => song.quick === null,
  });
  song.classifyMs += performance.now() - featured;
  return embeddings;
}

/** The pieces arrived: the first answer (then the whole song), or the quick scan's result. */
async function quickPieces({ id, pieces: audio }) {
  const song = songs.get(id);
  if (!song?.quick) return;
  const loaded = await loadModel(song.model);
  const embeddings = await quickEmbeddings(song, loaded, audio);
  if (song.quick === null) return;  // forgotten meanwhile
  if (song.only) {
    finishQuick(id, song, loaded, embeddings);
    return;
  }
  const segments = song.pieces.flatMap(({ segment }, k) => {
    song.known.set(segment, embeddings[k]);
    return song.accumulator.add(segment, embeddings[k]);
  });
  song.quick.free();
  song.quick = null;
  postMessage({ type: MSG.QUICK, id, segments, soFar: song.accumulator.soFar(), total: song.info.segments });
  postMessage({ type: MSG.NEED, id });
}

/** A quick scan's end: the verdict on the spread segments alone, as `classify --quick`. */
function finishQuick(id, song, loaded, embeddings) {
  const end = song.quick.finish();
  const starts = Float64Array.from(song.quick.starts());
  forget(id);
  if (end.silent || end.notMusic) {
    postMessage(end.silent ? { type: MSG.SILENT, id, message: messages.silent }
      : { type: MSG.NOT_MUSIC, id, message: end.notMusic });
    return;
  }
  const accumulator = loaded.model.newSong(starts);
  const all = concat(embeddings);
  let result;
  try {
    accumulator.add(0, all);
    result = accumulator.result();
  } finally {
    accumulator.free();
  }
  postMessage({
    type: MSG.DONE, id, result, peaks: new Float32Array(0), model: song.model, quick: true,
    ...(song.withEmbeddings ? { embeddings: all, embeddingKey: loaded.model.embeddingKey() } : {}),
    wasmBytes: wasm.memory.buffer.byteLength, featureMs: song.featureMs, classifyMs: song.classifyMs,
    helperPatches: song.helperPatches,
  });
}

/** Feeds one chunk (and, with `last`, the end of the song) to every pipeline. The
 *  others' embeddings are done here (their features, for the tutorial MFCCs); returns
 *  the features the song's own pipeline completed, to embed next. */
function feed(song, channels, last) {
  return song.pipelines.map((p, i) => {
    let features = p.extractor.pushAudio(channels);
    if (last) {
      const tail = p.extractor.flushAudio();
      if (tail.length > 0) features = features.length > 0 ? concat([features, tail]) : tail;
    }
    if (i > 0 && features.length > 0) p.embeddings.push(embed(p, features));
    return features;
  })[0];
}

/** Embeds, classifies and reports the segments in `features` (the song's own pipeline),
 *  each one as soon as it and those before it are done; the song's accumulator (Rust)
 *  gives their verdicts and the verdict so far. */
async function classifySegments(id, song, loaded, features) {
  const own = song.pipelines[0];
  const per = song.info.framesPerSegment * song.info.featureWidth;
  const count = features.length / per;
  const report = (first, segmentFeatures, embeddings) => {
    own.embeddings.push(embeddings);
    const segments = song.accumulator.add(first, embeddings);
    song.segments += segmentFeatures.length / per;
    postMessage({ type: MSG.SEGMENTS, id, first, features: segmentFeatures.slice() });
    postMessage({
      type: MSG.PROGRESS, id, done: song.segments, total: song.info.segments, segments,
      soFar: song.accumulator.soFar(), wasmBytes: wasm.memory.buffer.byteLength,
    });
  };
  const start = performance.now();
  if (!loaded.pool) {  // no backbone: the whole chunk at once
    report(song.segments, features, embed(own, features));
    song.classifyMs += performance.now() - start;
    return;
  }
  const first = song.segments;
  // The quick pass's segments among these are embedded already.
  const known = new Map([...song.known].filter(([s]) => s >= first && s < first + count).map(([s, e]) => [s - first, e]));
  known.forEach((_, k) => song.known.delete(first + k));
  song.helperPatches += await embedReusing({
    features, per, count, known, pool: loaded.pool,
    local: (k) => own.embedder.embed(features.subarray(k * per, (k + 1) * per)),
    onReady: (k, embeddings) => report(first + k, features.subarray(k * per, (k + 1) * per), embeddings),
    cancelled: () => !song.pipelines.length,
  });
  song.classifyMs += performance.now() - start;
}

async function chunk({ id, channels, last }) {
  const song = songs.get(id);
  if (!song?.pipelines.length) return;  // cancelled or forgotten
  const loaded = await loadModel(song.model);
  if (!song.pipelines.length) return;  // forgotten meanwhile
  const start = performance.now();
  const features = feed(song, channels, last);
  song.featureMs += performance.now() - start;
  if (features.length > 0) await classifySegments(id, song, loaded, features);
  if (!song.pipelines.length) return;  // forgotten while its patches were embedded
  if (!last) {
    postMessage({ type: MSG.NEED, id });
    return;
  }
  const own = song.pipelines[0].extractor;
  const end = own.finishSong();
  const peaks = own.waveformPeaks();
  const wasmBytes = wasm.memory.buffer.byteLength;
  for (const p of song.pipelines) {
    p.extractor.free();
    p.extractor = null;
    p.embeddings = [concat(p.embeddings)];
  }
  if (end.silent || end.notMusic) {
    forget(id);
    postMessage(end.silent ? { type: MSG.SILENT, id, message: messages.silent }
      : { type: MSG.NOT_MUSIC, id, message: end.notMusic });
    return;
  }
  // The song's result from all its embeddings at once, exactly as `classify` and a switch
  // back to this model compute it (the head's batches decide the last bits).
  const result = songResult(loaded.model, song.pipelines[0]);
  song.accumulator.free();
  song.accumulator = null;
  song.done = true;
  const [kept] = song.pipelines;
  postMessage({
    type: MSG.DONE, id, result, peaks, model: song.model, wasmBytes,
    ...(song.withEmbeddings ? { embeddings: kept.embeddings[0].slice(), embeddingKey: kept.key } : {}),
    featureMs: song.featureMs, classifyMs: song.classifyMs, helperPatches: song.helperPatches,
  }, [peaks.buffer]);
}

/** The song's result from a model and the song's embeddings for it (in Rust: the
 *  same accumulator as while the song streamed in). */
function songResult(model, p) {
  const accumulator = model.newSong(Float64Array.from(p.info.segmentStarts));
  try {
    accumulator.add(0, p.embeddings[0]);
    return accumulator.result();
  } finally {
    accumulator.free();
  }
}

async function rerun({ id, song: songId, model }) {
  const song = songs.get(songId);
  if (!song?.done) throw new Error('that song is no longer held; classify it again');
  const loaded = await modelOrError(model);
  const key = loaded.model.embeddingKey();
  const held = song.pipelines.find((p) => p.key === key);
  if (!held) {
    throw new Error(`that song was analysed for another kind of model; drop it again to classify it with “${model}”`);
  }
  const start = performance.now();
  const result = songResult(loaded.model, held);
  song.model = model;
  postMessage({
    type: MSG.RESULT, id, model, result, classifyMs: performance.now() - start,
    info: held.info,
  });
}

/** The decoder package (symphonia in wasm), loaded the first time it is needed. */
let decoder = null;
function loadDecoder() {
  decoder ??= decoderPackage().then(async (pkg) => {
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
  const { model: loaded, card } = await modelOrError(model);
  const listener = LiveListener.withSettings(sampleRate, card.features);
  const live = { listener, port, busyMs: 0 };
  listeners.set(id, live);
  port.onmessage = ({ data: frames }) => {
    if (listeners.get(id) !== live) return;
    const start = performance.now();
    try {
      const { windows, features } = listener.push(frames);
      const size = features.length / Math.max(1, windows.length);
      const verdicts = windows.map((w, k) => (w.quiet || w.notMusic ? null
        : loaded.classify(features.subarray(k * size, (k + 1) * size), Float64Array.of(w.startS))));
      live.busyMs += performance.now() - start;
      windows.forEach((w, k) => postMessage({
        type: MSG.LIVE, id, endS: w.endS, quiet: w.quiet, notMusic: w.notMusic ?? null, rms: w.rms,
        result: verdicts[k], busyMs: live.busyMs,
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
      case MSG.PIECE_AUDIO: await quickPieces(data); break;
      case MSG.RERUN: await rerun(data); break;
      case MSG.FORGET: forget(data.id); break;
      case MSG.DECODE: await decode(data); break;
      case MSG.LISTEN: await listen(data); break;
      case MSG.STOP: stop(data.id); break;
      case MSG.ADD_MODEL: case MSG.TRAIN: case MSG.TRAIN_CANCEL: case MSG.TRAIN_LIMITS: await trainingMessage(data); break;
    }
  } catch (e) {
    if ([MSG.BEGIN, MSG.CHUNK, MSG.PIECE_AUDIO].includes(data.type)) forget(data.id);
    postMessage({ type: MSG.ERROR, id: data.id ?? null, model: data.model, message: e.message ?? String(e) });
  }
};
