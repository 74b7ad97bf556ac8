// "Your labels" without a UI: `classifier.trainModel({ label: [File, ...] }, options)`
// embeds each song with the classifier's backbone (the ten segments spread over it, as a
// quick scan takes them), caches the embeddings by the song's content hash, and has the
// worker fit a genre head on them in wasm. Loaded on first use: not part of the page's
// first download. Only embeddings and results are kept, never audio.
import { MSG } from '../messages.js';
import { ClassifyError } from '../classifier.js';
import { contentHash } from './store.js';

/** Characters a label may not have: it names files and folders when a model is saved. */
const UNSAFE = /[/\\:*?"<>|\u0000-\u001f\u007f]/;

/** Asks the worker something with one answer of type `answer`. */
function ask(engine, message, answer, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = engine.request(message, (data) => {
      engine.finish(id);
      if (data.type === answer) resolve(data);
      else reject(new ClassifyError(data.message, data.reason ?? 'train'));
    }, transfer);
  });
}

/** What training allows (Rust's limits). */
export async function trainingLimits(classifier) {
  return (await ask(classifier.engine, { type: MSG.TRAIN_LIMITS }, MSG.TRAIN_LIMITS)).limits;
}

/** Refuses labels a model cannot have, saying why; returns them trimmed. */
export function checkLabels(names, limits) {
  const labels = names.map((n) => String(n).trim());
  const problem = (why) => { throw new ClassifyError(why, 'train'); };
  if (labels.length < 2) problem('make at least two labels: a model tells labels apart');
  if (labels.length > limits.maxLabels) problem(`${labels.length} labels is more than ${limits.maxLabels}, the most a model may have`);
  for (const label of labels) {
    if (label === '') problem('a label has no name');
    if (label.length > limits.maxLabelChars) problem(`the label “${label.slice(0, 20)}…” is longer than ${limits.maxLabelChars} characters`);
    if (UNSAFE.test(label)) problem(`the label “${label}” has a character a file name cannot have (/ \\ : * ? " < > |)`);
  }
  const seen = new Set();
  for (const label of labels) {
    if (seen.has(label.toLowerCase())) problem(`the label “${label}” is given twice`);
    seen.add(label.toLowerCase());
  }
  return labels;
}

/** The songs of `examples` ({ label: [File|Blob] }) as [{ label (index), file, name }],
 *  refusing empty labels and too many songs. */
function songsOf(examples, labels, limits) {
  const songs = labels.flatMap((label, index) => [...examples[Object.keys(examples)[index]]]
    .map((file, k) => ({ label: index, file, name: file?.webkitRelativePath || file?.name || `${label} ${k + 1}` })));
  const empty = labels.filter((_, i) => !songs.some((s) => s.label === i));
  if (empty.length) throw new ClassifyError(`no songs for ${empty.map((l) => `“${l}”`).join(', ')}: drop some on each label`, 'train');
  if (songs.length > limits.maxSongs) {
    throw new ClassifyError(`${songs.length} songs is more than ${limits.maxSongs}, the most one model is trained on here`, 'train');
  }
  return songs;
}

/** Each model's embedding key (what its embeddings depend on), learnt from its first
 *  embedded song: the store is looked up under it. */
const embeddingKeys = new Map();

/** One song's embeddings: from the store when its content was embedded before, else
 *  computed (a quick scan's ten spread segments) and stored. */
async function embedOne(classifier, song, { store, signal }) {
  const hash = await contentHash(song.file);
  const known = embeddingKeys.get(classifier.model);
  const cached = known && await store?.getEmbeddings(known, hash).catch(() => null);
  if (cached) return { ...song, hash, ...cached };
  const analysis = await classifier.analyse(song.file, { signal, keep: false, quick: 'only', embeddings: true });
  embeddingKeys.set(classifier.model, analysis.embeddingKey);
  const entry = { embeddings: analysis.embeddings, segments: analysis.result.segments.length, seconds: analysis.info.seconds, name: song.name };
  await store?.putEmbeddings(analysis.embeddingKey, hash, entry).catch(() => { /* storage full: kept for this visit */ });
  return { ...song, hash, ...entry };
}

/** Refuses a song given under two labels (by content), naming it and both labels. */
function checkDuplicates(embedded, labels) {
  const byHash = new Map();
  for (const song of embedded) {
    const other = byHash.get(song.hash);
    if (other && other.label !== song.label) {
      throw new ClassifyError(`“${song.name}” is under both “${labels[other.label]}” and “${labels[song.label]}”: a song can have one label`, 'train');
    }
    byHash.set(song.hash, song);
  }
}

/** Embeds every song, a few at a time; songs that cannot be embedded are skipped with
 *  the reason. Resolves to `{ embedded, skipped }`. */
async function embedAll(classifier, songs, { store, signal, onProgress }) {
  const embedded = [];
  const skipped = [];
  let done = 0;
  let next = 0;
  const lane = async () => {
    while (next < songs.length) {
      const song = songs[next++];
      if (signal?.aborted) throw new ClassifyError('cancelled', 'cancelled');
      try {
        embedded.push(await embedOne(classifier, song, { store, signal }));
      } catch (e) {
        if (e.reason === 'cancelled') throw e;
        skipped.push({ file: song.name, label: song.label, error: e.message });
      }
      onProgress?.({ stage: 'embedding', done: ++done, total: songs.length, file: song.name });
    }
  };
  await Promise.all([lane(), lane()]);
  return { embedded, skipped };
}

/** Has the worker fit the head; resolves to its `{ card, weights, report }`. */
function fit(classifier, labels, embedded, { name, signal, onProgress }) {
  const { engine } = classifier;
  return new Promise((resolve, reject) => {
    const songs = embedded.map(({ label, embeddings }) => ({ label, embeddings: embeddings.slice() }));
    const id = engine.request({ type: MSG.TRAIN, model: classifier.model, labels, songs, name }, (data) => {
      if (data.type === MSG.TRAIN_PROGRESS) { onProgress?.({ stage: data.stage, done: data.done, total: data.total }); return; }
      engine.finish(id);
      signal?.removeEventListener('abort', abort);
      if (data.type === MSG.TRAINED) resolve(data);
      else reject(new ClassifyError(data.message, data.reason ?? 'train'));
    }, songs.map((s) => s.embeddings.buffer));
    const abort = () => engine.worker.postMessage({ type: MSG.TRAIN_CANCEL, id });
    signal?.addEventListener('abort', abort);
  });
}

/** A model trained in the page: its card, its files, and `load(engine)` for setModel. */
export class TrainedModel {
  constructor(name, cardText, weights, report = null) {
    this.name = name;
    this.cardText = cardText;
    this.weights = weights;
    /** The model card: labels, backbone and checksum, songs per label, cross-validated figures. */
    this.card = JSON.parse(cardText);
    /** How it was trained (the card's `own_labels`): `{ name, songs_per_label, segments,
     *  cross_validation: { folds, accuracy, balanced_accuracy, per_label: [{ label, songs,
     *  accuracy }], confusion } | null, warnings }`. */
    this.report = report ?? this.card.own_labels ?? null;
  }

  /** The files `train` writes and `classify --model DIR` reads. */
  async files() {
    return {
      'card.json': new Blob([this.cardText], { type: 'application/json' }),
      'model.bpk': new Blob([this.weights], { type: 'application/octet-stream' }),
    };
  }

  /** Registers the model with `engine`'s worker (once); resolves to the name it is known by. */
  async load(engine) {
    const key = `trained:${this.name}`;
    if (!engine.models.has(key)) {
      const weights = this.weights.slice();
      const loading = ask(engine, { type: MSG.ADD_MODEL, model: key, card: this.cardText, weights }, MSG.MODEL, [weights.buffer])
        .then((data) => data.card);
      engine.models.set(key, loading);
      loading.catch(() => engine.models.delete(key));
    }
    await engine.models.get(key);
    return key;
  }
}

/**
 * Trains a model on `examples` ({ label: [File | Blob, ...] }) over `classifier`'s
 * backbone. Options: `name` (the model's), `onProgress({ stage, done, total })` (stages
 * 'embedding', 'cross-validation', 'training'), `signal`, `store` (a TrainStore that
 * caches embeddings by content). Resolves to a TrainedModel; rejects with a ClassifyError
 * (reason 'train') saying what is wrong with the labels or songs.
 */
export async function trainModel(classifier, examples, { name = 'my-model', onProgress, signal, store } = {}) {
  const limits = await trainingLimits(classifier);
  const labels = checkLabels(Object.keys(examples), limits);
  const songs = songsOf(examples, labels, limits);
  const start = performance.now();
  const { embedded, skipped } = await embedAll(classifier, songs, { store, signal, onProgress });
  const embedMs = performance.now() - start;
  checkDuplicates(embedded, labels);
  const missing = labels.filter((_, i) => !embedded.some((s) => s.label === i));
  if (missing.length) {
    throw new ClassifyError(`none of the songs of ${missing.map((l) => `“${l}”`).join(', ')} could be used (${skipped.filter((s) => missing.includes(labels[s.label])).map((s) => `${s.file}: ${s.error}`).join('; ')})`, 'train');
  }
  const { card, weights, report, trainMs } = await fit(classifier, labels, embedded, { name, signal, onProgress });
  const model = new TrainedModel(name, card, weights, report);
  /** Songs that could not be used: `[{ file, label, error }]`. */
  model.skipped = skipped;
  /** How long embedding the songs (those not cached) and training (cross-validation
   *  included) took, in ms. */
  model.timings = { embedMs, trainMs };
  return model;
}

/** Registers the model kept in this browser as `key` ('trained:<name>') with `engine`'s
 *  worker, unless it is already; rejects when the store does not hold it. */
export async function loadStored(engine, key) {
  if (engine.models.has(key)) return;
  const { TrainStore } = await import('./store.js');
  const store = await TrainStore.open();
  const name = key.slice('trained:'.length);
  const stored = await store.loadModel(name);
  store.close();
  if (!stored) throw new ClassifyError(`Model “${name}” is not kept in this browser any more`, 'model');
  await new TrainedModel(stored.name, stored.card, stored.weights).load(engine);
}

