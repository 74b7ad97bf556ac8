// Helper workers (embed-worker.js) that embed a song's patches beside worker.js, and the
// order-keeping scheduler that shares the patches between them and worker.js itself.
//
// One helper fewer than the cores, at most MAX_HELPERS: on 2 cores, worker.js and one
// helper. A helper that fails or dies hands its patch back, and the song completes on the
// others (worker.js always takes part), so fewer cores or a lost helper cost time only.

import { spawnWorker } from './spawn-worker.js';

const MAX_HELPERS = 3;

/** Zero-delay yield to the event loop, so that helpers' answers are taken in between
 *  patches (a MessageChannel message is not clamped like nested timers). */
function yieldToEvents() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { channel.port1.close(); resolve(); };
    channel.port2.postMessage(0);
  });
}

/** A helper worker, by the literal form bundlers follow; where the browser refuses it
 *  (this script on another origin than the page), through a same-origin blob. */
function startHelperWorker() {
  const name = 'genre-classifier helper';
  try {
    return new Worker(new URL('./embed-worker.js', import.meta.url), { type: 'module', name });
  } catch {
    return spawnWorker(new URL('embed-worker.js', new URL(import.meta.url)), name);
  }
}

/** One helper worker holding a copy of the model. */
class Helper {
  constructor(module, card, weights) {
    this.jobs = new Map();  // job → { resolve, reject }
    this.nextJob = 0;
    this.dead = false;
    this.worker = startHelperWorker();
    this.loaded = new Promise((resolve, reject) => { this.onLoaded = { resolve, reject }; });
    this.loaded.catch(() => {});
    this.worker.onmessage = ({ data }) => this.answer(data);
    this.worker.onerror = (e) => { e.preventDefault?.(); this.die(e.message || 'the helper worker stopped'); };
    this.worker.postMessage({ type: 'load', module, card, weights: weights.slice(0) });
  }

  answer(data) {
    if (data.type === 'loaded') { this.ready = true; this.onLoaded.resolve(); return; }
    if (data.type === 'failed' && data.job === null) { this.die(data.message); return; }
    const job = this.jobs.get(data.job);
    this.jobs.delete(data.job);
    if (data.type === 'embedded') job?.resolve(data.embeddings);
    else job?.reject(new Error(data.message));
  }

  die(message) {
    if (this.dead) return;
    this.dead = true;
    this.ready = false;
    this.worker.terminate();
    this.onLoaded.reject(new Error(message));
    for (const job of this.jobs.values()) job.reject(new Error(message));
    this.jobs.clear();
  }

  /** Embeds `features`; a helper that has not answered after `timeoutMs` is taken for
   *  dead (a worker that closed or hung sends no error). */
  embed(features, timeoutMs) {
    if (this.dead) return Promise.reject(new Error('the helper worker stopped'));
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.die('the helper worker did not answer'), timeoutMs);
      const settle = (f) => (v) => { clearTimeout(timer); f(v); };
      this.jobs.set(job, { resolve: settle(resolve), reject: settle(reject) });
      this.worker.postMessage({ type: 'embed', job, features }, [features.buffer]);
    });
  }
}

/** Helpers for one model; `size` 0 gives a pool that leaves all work to worker.js. */
export class EmbedPool {
  constructor(module, card, weights, size = EmbedPool.defaultSize()) {
    this.helpers = [];
    for (let i = 0; i < size; i++) {
      try {
        this.helpers.push(new Helper(module, card, weights));
      } catch {
        break;  // no Worker here (or too many): the others carry on
      }
    }
  }

  /** One helper fewer than the cores the browser reports, at most MAX_HELPERS. */
  static defaultSize() {
    const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
    return Math.max(0, Math.min(cores - 1, MAX_HELPERS));
  }

  /** Resolves once every helper has loaded its model or failed, or after `ms`. */
  settled(ms) {
    const all = Promise.allSettled(this.helpers.map((h) => h.loaded));
    return Promise.race([all, new Promise((resolve) => setTimeout(resolve, ms))]);
  }

  /** Live helpers that have their model loaded. */
  ready() { return this.helpers.filter((h) => h.ready && !h.dead); }

  /** Stops every helper. */
  close() { this.helpers.forEach((h) => h.die('closed')); this.helpers = []; }
}

/**
 * Embeds `count` patches (`per` values each, in `features`), with `local(k)` computing
 * patch k here and idle helpers of `pool` taking others. Calls `onReady(k, embedding)`
 * in patch order as soon as patch k and all before it are done; resolves to the number
 * of patches the helpers computed once all are done. `cancelled()` true stops early
 * (resolves, nothing more reported).
 *
 * worker.js takes patches from the front and helpers from the back, so the first
 * verdicts come soonest; a patch a failed helper hands back is taken by whoever is free.
 */
export async function embedInOrder({ features, per, count, local, pool, onReady, cancelled }) {
  const results = new Array(count);
  const handedBack = [];
  let front = 0;         // next patch for worker.js
  let back = count;      // patches back..count-1 went to helpers
  let emitted = 0;
  let wake = null;       // resolves worker.js's wait for a helper
  const busy = new Set();
  let slowestLocalMs = 0;
  let byHelpers = 0;
  // A helper is given 20 times worker.js's slowest patch (at least 5 s) to answer.
  const timeoutMs = () => Math.max(5000, 20 * slowestLocalMs);
  const poke = () => { const w = wake; wake = null; w?.(); };
  const emit = () => {
    while (emitted < count && results[emitted] !== undefined && !cancelled()) {
      onReady(emitted, results[emitted]);
      results[emitted] = null;  // reported: let it go
      emitted++;
    }
  };
  const takeFront = () => (handedBack.length > 0 ? handedBack.shift() : front < back ? front++ : -1);
  const takeBack = () => (handedBack.length > 0 ? handedBack.shift() : back > front ? --back : -1);
  const feed = (helper) => {
    if (busy.has(helper) || cancelled()) return;
    const k = takeBack();
    if (k < 0) return;
    busy.add(helper);
    helper.embed(features.slice(k * per, (k + 1) * per), timeoutMs()).then((embedding) => {
      busy.delete(helper);
      results[k] = embedding;
      byHelpers++;
      emit();
      feed(helper);
      poke();
    }, () => {
      busy.delete(helper);
      handedBack.push(k);
      poke();
    });
  };
  const feedAll = () => { for (const helper of pool?.ready() ?? []) feed(helper); };

  feedAll();
  while (emitted < count && !cancelled()) {
    const k = takeFront();
    if (k >= 0) {
      const start = performance.now();
      results[k] = local(k);
      slowestLocalMs = Math.max(slowestLocalMs, performance.now() - start);
      emit();
      await yieldToEvents();  // take the helpers' answers, hand them more
      feedAll();
    } else if (busy.size > 0) {
      await new Promise((resolve) => { wake = resolve; });
    } else {
      break;  // nothing left anywhere (only when cancelled meanwhile)
    }
  }
  return byHelpers;
}

/**
 * Like embedInOrder, with the embeddings of some patches already known (`known`: patch
 * index → embedding, from the quick pass): only the others are computed, and `onReady`
 * still gets every patch in order. Resolves to the number the helpers computed.
 */
export async function embedReusing({ features, per, count, known, local, pool, onReady, cancelled }) {
  const todo = [];
  for (let k = 0; k < count; k++) if (!known.has(k)) todo.push(k);
  let next = 0;  // the next patch to report
  const reportKnown = (upTo) => {
    for (; next < upTo && !cancelled(); next++) onReady(next, known.get(next));
  };
  let helped = 0;
  if (todo.length > 0) {
    const compact = todo.length === count ? features : new Float32Array(todo.length * per);
    if (compact !== features) todo.forEach((k, j) => compact.set(features.subarray(k * per, (k + 1) * per), j * per));
    helped = await embedInOrder({
      features: compact, per, count: todo.length, pool, cancelled,
      local: (j) => local(todo[j]),
      onReady: (j, embedding) => { reportKnown(todo[j]); onReady(todo[j], embedding); next = todo[j] + 1; },
    });
  }
  reportKnown(count);
  return helped;
}
