// The UI-free API: `const c = await loadClassifier({ model: 'musicnn' }); await c.classify(file)`.
// Every classifier made from the same base URL shares one worker, so one wasm instance, and
// each model is loaded once. Works in a page (no bundler needed) and inside a Web Worker.
import { MSG } from './messages.js';
import { spawnWorker } from './spawn-worker.js';

/** Samples per channel sent to the worker at a time: about 48 s at 22 050 Hz. */
const CHUNK_SAMPLES = 1 << 20;
/** This module's URL: files named relative to it are beside it. */
const HERE = new URL(import.meta.url);
const WORKER_NAME = 'genre-classifier';
const engines = new Map();   // base URL ('' for beside this script) → Engine

/** The worker beside this script, by the literal form bundlers follow (and bundle). A
 *  browser refuses it at once when this script is on another origin than the page (an
 *  embedding site): then it starts through a same-origin blob (spawn-worker.js). */
function startWorkerBeside() {
  try {
    return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: WORKER_NAME });
  } catch {
    return spawnWorker(new URL('worker.js', HERE), WORKER_NAME);
  }
}

/** The shared worker of one base URL and the requests in flight to it. */
class Engine {
  /** `base`: the folder holding worker.js, pkg/ and models/, or null for beside this script. */
  constructor(base) {
    this.base = base;
    this.handlers = new Map();
    this.models = new Map();
    this.nextId = 1;
    /** Resolves to the worker's 'ready' message: `{ settings, shippedModels, messages }`. */
    this.ready = new Promise((resolve, reject) => { this.started = { resolve, reject }; });
    this.ready.catch(() => {});
    this.worker = base ? spawnWorker(new URL('worker.js', base), WORKER_NAME) : startWorkerBeside();
    this.worker.onmessage = ({ data }) => {
      if (data.type === MSG.READY) this.started.resolve(data);
      else if (data.type === MSG.ERROR && data.id === null) this.started.reject(new Error(data.message));
      else this.handlers.get(data.id)?.(data);
    };
    this.worker.onerror = (e) => {
      const message = `The analyser stopped: ${e.message || 'the worker could not start'}`;
      this.started.reject(new Error(message));
      for (const handler of [...this.handlers.values()]) handler({ type: MSG.ERROR, message });
    };
  }

  /** Sends a request; `onMessage` gets every answer to it until `finish(id)`. */
  request(message, onMessage, transfer = []) {
    const id = this.nextId++;
    this.handlers.set(id, onMessage);
    this.worker.postMessage({ ...message, id }, transfer);
    return id;
  }

  finish(id) { this.handlers.delete(id); }

  /** Live mode's AudioWorklet module, beside worker.js. */
  get workletUrl() {
    return this.base ? new URL('live-worklet.js', this.base) : new URL('./live-worklet.js', import.meta.url);
  }

  /** Loads a model (once per engine); resolves to its card. */
  loadModel(model) {
    if (!this.models.has(model)) {
      const loading = this.ready.then(() => new Promise((resolve, reject) => {
        const id = this.request({ type: MSG.MODEL, model }, (data) => {
          this.finish(id);
          if (data.type === MSG.MODEL) resolve(data.card);
          else reject(new Error(data.message));
        });
      }));
      this.models.set(model, loading);
      loading.catch(() => this.models.delete(model));  // a failed load may be retried
    }
    return this.models.get(model);
  }
}

/** The engine of the files in `base` (null or undefined: beside this script). */
function engineFor(base) {
  let key = base == null ? '' : new URL(base, HERE).href;
  if (key === new URL('.', HERE).href) key = '';  // this script's own folder, named
  if (!engines.has(key)) engines.set(key, new Engine(key || null));
  return engines.get(key);
}

/** An error with a `reason` the widget can show: 'silent', 'not-music', 'cancelled', 'input',
 *  'model', 'live'. */
export class ClassifyError extends Error {
  constructor(message, reason) {
    super(message);
    this.name = 'ClassifyError';
    this.reason = reason;
  }
}

const cancelled = () => new ClassifyError('cancelled', 'cancelled');

/** `CHUNK_SAMPLES` (or what is left) of `audio` from sample `from`: a Float32Array per channel. */
const chunkOf = (audio, from) => samplesOf(audio, from, Math.min(CHUNK_SAMPLES, audio.length - from));

/** `count` samples of `audio` from sample `from`: a Float32Array per channel. */
function samplesOf(audio, from, count) {
  const channels = [];
  for (let c = 0; c < audio.numberOfChannels; c++) {
    const part = new Float32Array(count);
    audio.copyFromChannel(part, c, from);
    channels.push(part);
  }
  return channels;
}

/** Audio already decoded (an AudioBuffer, or `{ channels, sampleRate }`) at `rate` Hz:
 *  as it is, or resampled by Web Audio where it is at another rate. */
async function atRate(audio, rate) {
  if (audio.sampleRate === rate) return audio;
  if (typeof OfflineAudioContext === 'undefined') {
    throw new ClassifyError(`audio at ${audio.sampleRate} Hz needs Web Audio to resample, which this context `
      + `(a Web Worker) lacks: pass it at ${rate} Hz`, 'input');
  }
  let buffer = audio;
  if (!(typeof AudioBuffer !== 'undefined' && audio instanceof AudioBuffer)) {
    try {
      buffer = new AudioBuffer({ numberOfChannels: audio.numberOfChannels, length: audio.length, sampleRate: audio.sampleRate });
    } catch (e) {
      throw new ClassifyError(`cannot take this audio: ${e.message}`, 'input');
    }
    for (let c = 0; c < audio.numberOfChannels; c++) buffer.copyToChannel(audio.channels[c], c);
  }
  const length = Math.ceil((buffer.length * rate) / buffer.sampleRate);
  const context = new OfflineAudioContext(buffer.numberOfChannels, Math.max(1, length), rate);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  source.start();
  return context.startRendering();
}

/** Decodes file bytes in the worker with the crate's own decoder (symphonia and ausnd in
 *  wasm): for formats Web Audio cannot decode (Sun AU, GTZAN's own format) and for Web
 *  Workers, which have no Web Audio. Resolves to mono `{ channels, sampleRate }`. */
function decodeInWorker(engine, bytes, name) {
  return new Promise((resolve, reject) => {
    const id = engine.request({ type: MSG.DECODE, name, bytes }, (data) => {
      engine.finish(id);
      if (data.type === MSG.DECODED) {
        resolve({ channels: [data.samples], sampleRate: data.sampleRate, sourceChannels: data.channels });
      } else {
        reject(new Error(data.message));
      }
    }, [bytes]);
  });
}

/** Decoded audio at `rate` Hz from a File, Blob, ArrayBuffer, typed array, AudioBuffer, or
 *  `{ channels: Float32Array[], sampleRate }`. */
async function decode(engine, input, rate) {
  if (input && Array.isArray(input.channels)) {
    const { channels, sampleRate } = input;
    if (channels.length === 0 || !channels.every((c) => c instanceof Float32Array && c.length === channels[0].length)) {
      throw new ClassifyError('channels must be equally long Float32Arrays', 'input');
    }
    return atRate({ channels, numberOfChannels: channels.length, sourceChannels: input.sourceChannels, length: channels[0].length, sampleRate,
      copyFromChannel: (out, c, from) => out.set(channels[c].subarray(from, from + out.length)) }, rate);
  }
  if (typeof AudioBuffer !== 'undefined' && input instanceof AudioBuffer) return atRate(input, rate);
  let bytes;
  if (input instanceof ArrayBuffer) bytes = input.slice(0);
  else if (ArrayBuffer.isView(input)) bytes = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
  else if (typeof Blob !== 'undefined' && input instanceof Blob) bytes = await input.arrayBuffer();
  else throw new ClassifyError('give a File, Blob, ArrayBuffer or { channels, sampleRate }', 'input');
  if (bytes.byteLength === 0) throw new ClassifyError('the file is empty', 'input');
  const name = input?.name ?? '';
  if (typeof OfflineAudioContext !== 'undefined') {
    // Decode straight to the feature rate: Web Audio's resampler runs natively during
    // decoding, and a file already at that rate arrives untouched. decodeAudioData takes
    // the bytes over, so keep a copy for the fallback.
    const context = new OfflineAudioContext(1, 1, rate);
    try {
      return await context.decodeAudioData(bytes.slice(0));
    } catch {
      // Not a format this browser decodes: try the crate's own decoder.
    }
  }
  try {
    const decoded = await decodeInWorker(engine, bytes, name);
    return decode(engine, decoded, rate);
  } catch (e) {
    throw new ClassifyError(`this browser cannot decode it as audio (it is not an audio file, or it is damaged or in an unsupported format: ${e.message})`, 'input');
  }
}

/** A classifier bound to one model; see loadClassifier. */
export class Classifier {
  /** `ready`: the worker's 'ready' message; `card`: the card of `model`. */
  constructor(engine, { settings, shippedModels, messages }, model, card) {
    this.engine = engine;
    /** The feature settings of the wasm extractor (the crate's one settings struct). */
    this.settings = settings;
    /** The shipped models, `[{ name, label }]` in the order a list shows them, the default first. */
    this.shippedModels = shippedModels;
    /** Messages for the person, as the crate words them. */
    this.messages = messages;
    /** The model in use: a shipped model's name or a folder URL. */
    this.model = model;
    /** Its card: labels, features, architecture, validation figures. */
    this.card = card;
    this.lastSong = null;
  }

  /** Switches to another model (loaded once per page): a shipped model's name, a folder
   *  URL, or a model `trainModel` made; resolves to its card. */
  async setModel(model) {
    if (typeof model?.load === 'function') model = await model.load(this.engine);
    const card = await this.engine.loadModel(model);
    this.model = model;
    this.card = card;
    return card;
  }

  /**
   * Classifies a song: a File, Blob, ArrayBuffer, AudioBuffer or
   * `{ channels: Float32Array[], sampleRate }`. Resolves to `{ genre, probabilities,
   * segments: [{ start_s, genre, probabilities }], model, seconds, timings }`, the shape of
   * `classify --json` plus the model, length and times. Options: `onProgress({ done,
   * total, segments, soFar })` (segments: the verdicts of the segments just done, in
   * order; soFar: the verdict of all segments done so far, in the result's shape),
   * `signal` (an AbortSignal to cancel).
   */
  async classify(input, options = {}) {
    const { result, model, info, timings } = await this.analyse(input, options);
    return { ...result, model, seconds: info.seconds, timings };
  }

  /**
   * Classifies many songs (Files, Blobs, `{ file, path }` or anything `classify` takes), a
   * few at a time, keeping only their results. Resolves to one output per input, in their
   * order: `{ file, result }` or `{ file, error, reason }` (`file`: the path or name;
   * non-audio files are told by their first bytes). `onProgress({ done, total, index,
   * result })` gets each song as it completes; aborting `signal` stops the rest, which get
   * the error 'cancelled', and keeps what is done. `quick: true` classifies only ten
   * segments spread over each song, as `classify --quick` does: much faster on long songs.
   */
  async classifyAll(inputs, { onProgress, signal, concurrency, quick = false } = {}) {
    // The batch queue loads the first time many songs arrive: not part of the first download.
    const { classifyAll } = await import('./batch/library.js');
    return classifyAll(this, inputs, {
      signal, concurrency, quick, onProgress: onProgress && (({ song, ...progress }) => onProgress(progress)),
    });
  }

  /** Trains a model on your own labelled songs (`{ label: [File | Blob] }`) over this
   *  model's backbone; see train/trainer.js (loaded on first use). Resolves to a model
   *  with its `card`, `report` and `files()`, which `setModel` takes. */
  async trainModel(examples, options) {
    const { trainModel } = await import('./train/trainer.js');
    return trainModel(this, examples, options);
  }

  /** Decoded audio at the features' rate from what `classify` takes: a batch decodes one
   *  song while the worker classifies another, then passes the audio to `analyse`. */
  decode(input) { return decode(this.engine, input, this.settings.sample_rate); }

  /** Like classify, with everything the widget draws: `{ result, model, info, timings,
   *  peaks, features (chunks of segments), channels, wasmBytes }`. With `keep: false` the
   *  worker lets the song go at once (a batch), and the last song stays the one kept.
   *  `quick`: 'first' (a first answer from ten spread segments; the default when kept),
   *  'only' (just those, as `classify --quick`) or null; `embeddings: true` adds the
   *  segments' embeddings (`embeddings`, `embeddingKey`), to train a head on. */
  async analyse(input, { onProgress, onDecoded, signal, keep = true, quick = keep ? 'first' : null, embeddings = false } = {}) {
    const start = performance.now();
    if (signal?.aborted) throw cancelled();
    const audio = await decode(this.engine, input, this.settings.sample_rate);
    if (signal?.aborted) throw cancelled();
    const decodeMs = performance.now() - start;
    onDecoded?.(audio);
    if (keep && this.lastSong !== null) this.forget();
    const song = await this.stream(audio, { onProgress, signal, start, quick, embeddings });
    if (keep) this.lastSong = song.id;
    else this.engine.worker.postMessage({ type: MSG.FORGET, id: song.id });
    return {
      result: song.result, model: song.model, info: song.info, peaks: song.peaks, features: song.features,
      channels: audio.sourceChannels ?? audio.numberOfChannels, wasmBytes: song.wasmBytes,
      embeddings: song.embeddings, embeddingKey: song.embeddingKey,
      timings: {
        decodeMs, featureMs: song.featureMs, classifyMs: song.classifyMs, firstSegmentMs: song.firstSegmentMs,
        firstAnswerMs: song.firstAnswerMs,
        helperPatches: song.helperPatches ?? 0,
        totalMs: performance.now() - start,
      },
    };
  }

  /** Sends decoded `audio` to the worker, a chunk each time it asks for one, and passes on
   *  its progress. Resolves to the worker's 'done' message with the song's `info`, its
   *  features (`features`, the chunks of segments as they came) and when the first segment's verdict arrived (ms after `start`). */
  stream(audio, { onProgress, signal, start, quick, embeddings }) {
    const { engine } = this;
    return new Promise((resolve, reject) => {
      let sent = 0;
      let info = null;
      let firstSegmentMs = null;
      let firstAnswerMs = null;  // when the first verdict came (the quick pass's, or the first segment's)
      const features = [];
      const stop = (error) => {
        engine.finish(id);
        signal?.removeEventListener('abort', abort);
        reject(error);
      };
      const abort = () => {
        engine.worker.postMessage({ type: MSG.FORGET, id });
        stop(cancelled());
      };
      const id = engine.request({
        type: MSG.BEGIN, model: this.model, totalSamples: audio.length, sampleRate: audio.sampleRate, quick, embeddings,
      }, (data) => {
        switch (data.type) {
          case MSG.SONG: info = data.info; break;
          case MSG.NEED: {
            const channels = chunkOf(audio, sent);
            sent += channels[0].length;
            engine.worker.postMessage({ type: MSG.CHUNK, id, channels, last: sent >= audio.length },
              channels.map((c) => c.buffer));
            break;
          }
          case MSG.PIECES: {
            const pieces = data.pieces.map(({ from, to }) => samplesOf(audio, from, to - from));
            engine.worker.postMessage({ type: MSG.PIECE_AUDIO, id, pieces }, pieces.flat().map((c) => c.buffer));
            break;
          }
          case MSG.QUICK:
            firstAnswerMs ??= performance.now() - start;
            onProgress?.({ done: 0, total: data.total, segments: data.segments, soFar: data.soFar, info, quick: true });
            break;
          case MSG.SEGMENTS: features.push(data.features); break;
          case MSG.PROGRESS:
            firstSegmentMs ??= performance.now() - start;
            firstAnswerMs ??= firstSegmentMs;
            onProgress?.({ done: data.done, total: data.total, segments: data.segments, soFar: data.soFar, info, wasmBytes: data.wasmBytes });
            break;
          case MSG.SILENT: stop(new ClassifyError(data.message, 'silent')); break;
          case MSG.NOT_MUSIC: stop(new ClassifyError(data.message, 'not-music')); break;
          case MSG.ERROR: stop(new ClassifyError(data.message, 'input')); break;
          case MSG.DONE:
            engine.finish(id);
            signal?.removeEventListener('abort', abort);
            resolve({ ...data, info, features, firstSegmentMs, firstAnswerMs: firstAnswerMs ?? performance.now() - start });
            break;
        }
      });
      signal?.addEventListener('abort', abort);
    });
  }

  /** The last song again with the current model, from its stored features (no decoding).
   *  Resolves to `{ result, model, classifyMs }`. */
  reclassify() {
    if (this.lastSong === null) return Promise.reject(new ClassifyError('no song to classify again', 'input'));
    const song = this.lastSong;
    return new Promise((resolve, reject) => {
      const id = this.engine.request({ type: MSG.RERUN, song, model: this.model }, (data) => {
        this.engine.finish(id);
        if (data.type === MSG.RESULT) resolve({ result: data.result, model: data.model, classifyMs: data.classifyMs });
        else reject(new ClassifyError(data.message, 'model'));
      });
    });
  }

  /**
   * Live mode: classifies what the microphone hears, about once a second, until `stop()`.
   * `onWindow({ endS, quiet, rms, result, busyMs })` gets each 3 s window: `result` is
   * its verdict, or null when the window is too quiet to classify. Resolves to
   * `{ stop, sampleRate }` once listening; rejects with a message saying why it cannot
   * (permission denied, no microphone, no AudioWorklet).
   */
  async listen({ onWindow, onError } = {}) {
    if (typeof AudioWorkletNode === 'undefined' || typeof AudioContext === 'undefined') {
      throw new ClassifyError('this browser lacks AudioWorklet, which live mode needs', 'live');
    }
    if (!globalThis.navigator?.mediaDevices?.getUserMedia) {
      throw new ClassifyError('this browser cannot capture audio here (live mode needs https or localhost)', 'live');
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (e) {
      const reasons = {
        NotAllowedError: 'microphone access was denied; allow it in the browser to listen',
        SecurityError: 'microphone access was denied; allow it in the browser to listen',
        NotFoundError: 'no microphone was found: connect an audio input device',
        OverconstrainedError: 'no microphone was found: connect an audio input device',
        NotReadableError: 'the microphone could not be opened (another program may be using it)',
      };
      throw new ClassifyError(reasons[e.name] ?? `the microphone could not be opened: ${e.message}`, 'live');
    }
    const context = new AudioContext();
    const release = () => {
      for (const track of stream.getTracks()) track.stop();
      context.close().catch(() => {});
    };
    try {
      await context.audioWorklet.addModule(this.engine.workletUrl);
      const source = context.createMediaStreamSource(stream);
      // One explicit channel: the browser downmixes the microphone to mono.
      const node = new AudioWorkletNode(context, 'live-capture', {
        numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit',
      });
      const { port1, port2 } = new MessageChannel();
      node.port.postMessage({ port: port1 }, [port1]);
      source.connect(node);
      const { engine } = this;
      const id = engine.request({ type: MSG.LISTEN, model: this.model, sampleRate: context.sampleRate, port: port2 }, (data) => {
        if (data.type === MSG.LIVE) onWindow?.(data);
        else if (data.type === MSG.ERROR) { stop(); onError?.(new ClassifyError(data.message, 'live')); }
      }, [port2]);
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        node.port.postMessage({ stop: true });
        source.disconnect();
        release();
        engine.worker.postMessage({ type: MSG.STOP, id });
        engine.finish(id);
      };
      return { stop, sampleRate: context.sampleRate };
    } catch (e) {
      release();
      throw new ClassifyError(`live mode could not start: ${e.message}`, 'live');
    }
  }

  /** Frees the last song's stored features in the worker. */
  forget() {
    if (this.lastSong !== null) this.engine.worker.postMessage({ type: MSG.FORGET, id: this.lastSong });
    this.lastSong = null;
  }
}

/**
 * Loads a classifier: `await loadClassifier({ model: 'musicnn' })`. `model` is a shipped
 * model's name or the URL of a model folder (card.json + model.bpk), by default the first
 * of `shippedModels`; `baseUrl` is where worker.js, pkg/ and models/ live (by default
 * beside this script, or wherever a bundler put them). Rejects with the reason when the
 * wasm or the model cannot be loaded.
 */
export async function loadClassifier({ model, baseUrl } = {}) {
  const engine = engineFor(baseUrl);
  const ready = await engine.ready;
  const chosen = model ?? ready.shippedModels[0].name;
  const card = await engine.loadModel(chosen);
  return new Classifier(engine, ready, chosen, card);
}

/** The shipped models, `[{ name, label }]` in the order a list shows them, the default
 *  first: what the worker at `baseUrl` offers (no model is loaded for it). */
export async function shippedModels({ baseUrl } = {}) {
  return (await engineFor(baseUrl).ready).shippedModels;
}
