// What "Train your own" keeps in the browser between visits, in IndexedDB:
// - embeddings: each song's musicnn embeddings (a Float32Array of segments × size values),
//   keyed by `${embeddingKey}:${hash}` (which embedding model and settings made them, and
//   the SHA-256 of the song's bytes), so adding a song or a label never recomputes the
//   others;
// - models: the models a person trained, keyed by name: the card (JSON text) and the
//   weights (bytes), to list, load and delete.
// Nothing else is stored, never audio: only Float32Array embeddings and model bytes are
// accepted. Where IndexedDB is missing or refuses to open (private windows, storage turned
// off, a SecurityError), TrainStore.open gives an in-memory store with the same methods
// and `persistent = false`, so training still works for the visit. A write refused because
// the browser's storage is full rejects with an Error whose `reason` is 'quota'.

const DATABASE_VERSION = 1;
const EMBEDDINGS = 'embeddings';
const MODELS = 'models';
/** How long IndexedDB may take to open before the store falls back to memory (some
 *  browsers never answer an open in a private window). */
const OPEN_TIMEOUT_MS = 10_000;
/** What contentHash gives: 64 lowercase hex digits (no ':', so keys split unambiguously). */
const HASH = /^[0-9a-f]{64}$/;

/** The hex SHA-256 of a File's or Blob's bytes: the song's identity in the store, the same
 *  whatever the file is called. Rejects with a readable Error if the file cannot be read or
 *  the page cannot hash (crypto.subtle needs https:// or localhost). */
export async function contentHash(blob) {
  if (!(blob instanceof Blob)) throw new Error('contentHash needs a File or Blob (the song file).');
  if (!globalThis.crypto?.subtle) {
    throw new Error('This page cannot identify songs: the browser computes SHA-256 only on https:// or localhost pages.');
  }
  // The whole file is read into memory in one go, then hashed: fine for songs of up to a
  // few hundred MB (crypto.subtle has no incremental digest). Larger files would need a
  // streaming SHA-256 over blob.stream().
  let bytes;
  try {
    bytes = await blob.arrayBuffer();
  } catch (error) {
    throw new Error(`Could not read ${blob.name ? `"${blob.name}"` : 'the file'} to identify it: ${error?.message ?? error}`, { cause: error });
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether `error` is the browser saying its storage is full. */
function isQuotaError(error) {
  return error?.name === 'QuotaExceededError' || error?.name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** An Error for a failed storage operation described by `action` ("Could not keep …"):
 *  for a full storage, one that says so, that nothing trained is lost, and has
 *  `reason = 'quota'`; otherwise `action` and the browser's message. */
function storageError(action, error) {
  if (isQuotaError(error)) {
    const quota = new Error(`${action}: the browser's storage is full. Nothing trained is lost: it is all still here `
      + 'for this visit. To keep it for your next visit, delete saved models you no longer need (or free space '
      + 'in the browser) and try again.', { cause: error });
    quota.reason = 'quota';
    return quota;
  }
  return new Error(`${action}: ${error?.message ?? error}`, { cause: error });
}

/** The record key of a song's embeddings; throws a readable Error for a bad key or hash. */
function embeddingsKey(embeddingKey, hash) {
  if (typeof embeddingKey !== 'string' || embeddingKey === '') {
    throw new Error('The embedding key (which model and settings made the embeddings) must be a non-empty string.');
  }
  if (typeof hash !== 'string' || !HASH.test(hash)) {
    throw new Error(`"${hash}" is not a song's content hash: expected the 64 lowercase hex digits contentHash() gives.`);
  }
  return `${embeddingKey}:${hash}`;
}

/** The record of a song's embeddings (a copy of the values, never audio); throws a readable
 *  Error when the arguments are not embeddings. */
function embeddingsRecord({ embeddings, segments, seconds, name = '' } = {}) {
  if (!(embeddings instanceof Float32Array)) {
    throw new Error('Only embeddings can be kept: `embeddings` must be a Float32Array (segments × size values), not audio.');
  }
  if (!Number.isInteger(segments) || segments <= 0 || embeddings.length === 0 || embeddings.length % segments !== 0) {
    throw new Error(`The embeddings do not split into segments: ${embeddings.length} values for ${segments} segments.`);
  }
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`The song's length must be a number of seconds, not ${seconds}.`);
  }
  if (typeof name !== 'string') throw new Error('The song\'s name must be text.');
  return { embeddings: embeddings.slice().buffer, segments, seconds, name };
}

/** The record of a trained model (a copy of its bytes); throws a readable Error when the
 *  name, card or weights are not what a model has. */
function modelRecord({ name, card, weights, savedAt = new Date().toISOString() } = {}) {
  if (typeof name !== 'string' || name.trim() === '') throw new Error('A model needs a name to be saved.');
  if (typeof card !== 'string') throw new Error(`The card of model "${name}" must be JSON text.`);
  let parsed;
  try {
    parsed = JSON.parse(card);
  } catch (error) {
    throw new Error(`The card of model "${name}" is not valid JSON: ${error.message}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`The card of model "${name}" must be a JSON object.`);
  }
  let bytes;
  if (weights instanceof ArrayBuffer) bytes = weights.slice(0);
  else if (weights instanceof Uint8Array) bytes = weights.slice().buffer;
  else throw new Error(`The weights of model "${name}" must be bytes (a Uint8Array or an ArrayBuffer).`);
  if (typeof savedAt !== 'string' && !(typeof savedAt === 'number' && Number.isFinite(savedAt))) {
    throw new Error(`When model "${name}" was saved must be a date string or a number of milliseconds.`);
  }
  return { name, card, weights: bytes, savedAt };
}

/** The labels a model card names, or [] when the card cannot be read. */
function labelsOf(card) {
  try {
    const { labels } = JSON.parse(card);
    return Array.isArray(labels) ? labels : [];
  } catch {
    return [];
  }
}

/** Opens (creating or upgrading) the IndexedDB database `name` with its two object
 *  stores; rejects if IndexedDB is missing, refuses, or does not answer in time. */
function openDatabase(name) {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined' || !indexedDB) throw new Error('this browser has no IndexedDB');
    const request = indexedDB.open(name, DATABASE_VERSION);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`IndexedDB did not open within ${OPEN_TIMEOUT_MS / 1000} s`));
    }, OPEN_TIMEOUT_MS);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of [EMBEDDINGS, MODELS]) if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
    };
    request.onsuccess = () => {
      clearTimeout(timer);
      const db = request.result;
      const missing = [EMBEDDINGS, MODELS].filter((store) => !db.objectStoreNames.contains(store));
      if (timedOut || missing.length) {
        db.close();
        if (missing.length) reject(new Error(`database "${name}" has no ${missing.join(' or ')} store`));
        return;
      }
      // Another tab upgrading the database must not wait for this one.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error ?? new Error('IndexedDB refused to open'));
    };
  });
}

/** Records kept in IndexedDB: get, put, getAll and delete in one object store each. */
class IndexedDbRecords {
  /** Over the open database `db`. */
  constructor(db) { this.db = db; }

  /** Runs the request `work(store)` makes in a transaction on `storeName`; resolves to its
   *  result once the transaction has completed (a write is then on disk), rejects with the
   *  browser's error (a QuotaExceededError when the storage is full). */
  run(storeName, mode, work) {
    return new Promise((resolve, reject) => {
      let transaction;
      let request;
      try {
        transaction = this.db.transaction(storeName, mode);
        request = work(transaction.objectStore(storeName));
      } catch (error) {
        try { transaction?.abort(); } catch { /* already over */ }
        reject(error);
        return;
      }
      transaction.oncomplete = () => resolve(request.result);
      transaction.onabort = () => reject(transaction.error ?? request.error ?? new Error('the transaction was aborted'));
    });
  }

  /** The record at `key` in `store`, or undefined. */
  get(store, key) { return this.run(store, 'readonly', (s) => s.get(key)); }
  /** Keeps `value` at `key` in `store`. */
  async put(store, key, value) { await this.run(store, 'readwrite', (s) => s.put(value, key)); }
  /** Every record in `store`. */
  getAll(store) { return this.run(store, 'readonly', (s) => s.getAll()); }
  /** Forgets the record at `key` in `store` (nothing happens if there is none). */
  async delete(store, key) { await this.run(store, 'readwrite', (s) => s.delete(key)); }
  /** Closes the database. */
  close() { this.db.close(); }
}

/** The in-memory records of each database name, for this visit: a store opened again
 *  (after close(), or by another view) finds what was kept before. */
const memoryDatabases = new Map();

/** Records kept in memory for this visit only, with the methods of IndexedDbRecords;
 *  values are copied in and out (as IndexedDB does), so callers cannot change them. */
class MemoryRecords {
  /** The records of database `name` (empty at the first open in this visit). */
  constructor(name) {
    if (!memoryDatabases.has(name)) memoryDatabases.set(name, { [EMBEDDINGS]: new Map(), [MODELS]: new Map() });
    this.stores = memoryDatabases.get(name);
  }

  /** The record at `key` in `store`, or undefined. */
  async get(store, key) {
    const value = this.stores[store].get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  /** Keeps `value` at `key` in `store`. */
  async put(store, key, value) { this.stores[store].set(key, structuredClone(value)); }
  /** Every record in `store`. */
  async getAll(store) { return [...this.stores[store].values()].map((value) => structuredClone(value)); }
  /** Forgets the record at `key` in `store`. */
  async delete(store, key) { this.stores[store].delete(key); }
  /** Nothing to close: the records stay for this visit. */
  close() {}
}

/** The songs' embeddings and the trained models, kept across visits (IndexedDB) or, where
 *  the browser does not allow that, for this visit only (`persistent` false). Open one
 *  with `await TrainStore.open()`. */
export class TrainStore {
  #records;
  #closed = false;

  /** Use TrainStore.open(). `records` is IndexedDbRecords or MemoryRecords. */
  constructor(records, { persistent, fallbackReason = null }) {
    this.#records = records;
    /** Whether what is stored is kept for the next visit (false: in memory only). */
    this.persistent = persistent;
    /** Why the store is in memory only (the browser's message), or null. */
    this.fallbackReason = fallbackReason;
  }

  /** Opens the store in the IndexedDB database `name` (created at first use); when
   *  IndexedDB is missing, refuses (private windows, storage turned off, a SecurityError)
   *  or does not answer, an in-memory store for this visit (`persistent` false,
   *  `fallbackReason` says why; opening `name` again in this visit finds its records).
   *  Never rejects. */
  static async open(name = 'genre-classifier') {
    try {
      return new TrainStore(new IndexedDbRecords(await openDatabase(name)), { persistent: true });
    } catch (error) {
      const fallbackReason = `${error?.name && error.name !== 'Error' ? `${error.name}: ` : ''}${error?.message ?? error}`;
      return new TrainStore(new MemoryRecords(name), { persistent: false, fallbackReason });
    }
  }

  /** The records, or a readable Error once the store is closed. */
  #open() {
    if (this.#closed) throw new Error('This training store is closed: open it again with TrainStore.open().');
    return this.#records;
  }

  /** Runs `operation(records)`, turning a failure into storageError(action, …). */
  async #do(action, operation) {
    const records = this.#open();
    try {
      return await operation(records);
    } catch (error) {
      throw storageError(action, error);
    }
  }

  /** The embeddings kept for the song whose content hash is `hash`, made with
   *  `embeddingKey`: `{ embeddings: Float32Array, segments, seconds, name }`, or null. */
  async getEmbeddings(embeddingKey, hash) {
    const key = embeddingsKey(embeddingKey, hash);
    const record = await this.#do('Could not read the saved embeddings', (r) => r.get(EMBEDDINGS, key));
    if (!(record?.embeddings instanceof ArrayBuffer)) return null;  // none, or unreadable: compute again
    const { embeddings, segments, seconds, name } = record;
    return { embeddings: new Float32Array(embeddings), segments, seconds, name };
  }

  /** Keeps a copy of a song's embeddings (`segments × size` values in a Float32Array, the
   *  song's length in `seconds`, its file `name`) under its content hash and the
   *  `embeddingKey` that made them, replacing any kept before. */
  async putEmbeddings(embeddingKey, hash, { embeddings, segments, seconds, name } = {}) {
    const key = embeddingsKey(embeddingKey, hash);
    const record = embeddingsRecord({ embeddings, segments, seconds, name });
    await this.#do(`Could not keep the embeddings of "${record.name || hash}"`, (r) => r.put(EMBEDDINGS, key, record));
  }

  /** Keeps a trained model under its `name`, replacing one of that name: its `card` (JSON
   *  text, with the `labels` it tells apart), its `weights` (a Uint8Array or an
   *  ArrayBuffer, copied) and when it was saved (`savedAt`, now as an ISO date by
   *  default). Resolves to its entry in listModels(). */
  async saveModel({ name, card, weights, savedAt } = {}) {
    const record = modelRecord({ name, card, weights, savedAt });
    await this.#do(`Could not keep the model "${record.name}" for your next visit`, (r) => r.put(MODELS, record.name, record));
    return { name: record.name, labels: labelsOf(record.card), savedAt: record.savedAt };
  }

  /** The saved models, `[{ name, labels, savedAt }]` sorted by name (as people sort them,
   *  localeCompare), the labels read from each card ([] for a card without them). Reads
   *  every model's weights too: fine for the small heads trained here. */
  async listModels() {
    const records = await this.#do('Could not list the saved models', (r) => r.getAll(MODELS));
    return records.map(({ name, card, savedAt }) => ({ name, labels: labelsOf(card), savedAt }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The model saved as `name`: `{ name, card, weights: Uint8Array, savedAt }`, or null. */
  async loadModel(name) {
    if (typeof name !== 'string') throw new Error('A model is loaded by its name.');
    const record = await this.#do(`Could not load the model "${name}"`, (r) => r.get(MODELS, name));
    if (!record) return null;
    return { name: record.name, card: record.card, weights: new Uint8Array(record.weights), savedAt: record.savedAt };
  }

  /** Deletes the model saved as `name` (nothing happens if there is none). */
  async deleteModel(name) {
    if (typeof name !== 'string') throw new Error('A model is deleted by its name.');
    await this.#do(`Could not delete the model "${name}"`, (r) => r.delete(MODELS, name));
  }

  /** How much this site stores and may store, `{ usage, quota }` in bytes, from
   *  navigator.storage.estimate(); null where the browser cannot tell. */
  async usage() {
    if (typeof navigator === 'undefined' || typeof navigator.storage?.estimate !== 'function') return null;
    try {
      const { usage, quota } = await navigator.storage.estimate();
      return { usage, quota };
    } catch {
      return null;
    }
  }

  /** Closes the store; its later calls reject (an in-memory store's records stay for
   *  this visit, for the next TrainStore.open of the same name). */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#records.close();
  }
}
