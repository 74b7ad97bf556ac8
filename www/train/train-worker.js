// The worker's half of "Train your own" (imported by worker.js when training is first
// asked for, so not part of the page's first download): fits a genre head on the songs'
// embeddings with the crate's HeadTrainer, in wasm, in steps, so that progress is
// reported and a cancel is heard between them. The trainer is in the package loaded
// only when needed (pkg-decode: the decoder and the trainer), never in the first download.
import { MSG } from '../messages.js';
import { decoderPackage } from '../packages.js';

let trainerPackage = null;
const cancelled = new Set();  // ids of training jobs told to stop

/** The package with HeadTrainer, loaded and started once. */
function loadTrainer() {
  trainerPackage ??= decoderPackage().then(async (pkg) => {
    await pkg.default();
    return pkg;
  });
  trainerPackage.catch(() => { trainerPackage = null; });
  return trainerPackage;
}

/** Lets the worker take its messages (a cancel) between steps. */
const yieldToEvents = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A model given as files (trained in the page, or opened from disk), kept under
 *  `model` in the worker's `models`. */
async function addModel({ id, model, card, weights }, { ready, models, modelFromFiles }) {
  await ready;
  const loading = modelFromFiles(card, new Uint8Array(weights));
  models.set(model, loading);
  loading.catch(() => models.delete(model));
  try {
    postMessage({ type: MSG.MODEL, id, model, card: (await loading).card });
  } catch (e) {
    throw new Error(`Model “${model}” could not be loaded: ${e.message ?? e}`);
  }
}

/** One of the worker's training messages (see messages.js); `worker`: what it shares
 *  of itself ({ ready, models, modelOrError, modelFromFiles }). */
export async function handle(data, worker) {
  switch (data.type) {
    case MSG.ADD_MODEL: await addModel(data, worker); break;
    case MSG.TRAIN_CANCEL: cancelled.add(data.id); break;
    case MSG.TRAIN_LIMITS:
      postMessage({ type: MSG.TRAIN_LIMITS, id: data.id, limits: (await loadTrainer()).trainingLimits() });
      break;
    case MSG.TRAIN: {
      const { files } = await worker.modelOrError(data.model);
      await train({ ...data, base: files }, postMessage);
      break;
    }
  }
}

/**
 * Trains a head for `labels` on `songs` ([{ label, embeddings }]: a label's index and a
 * song's segment embeddings) over the backbone of `base` ({ card, weights }: the shipped
 * model's files), posting 'train-progress' after each step and 'trained' at the end
 * ({ card, weights, report }).
 */
export async function train({ id, base, labels, songs, name }, post) {
  const pkg = await loadTrainer();
  const start = performance.now();
  const trainer = new pkg.HeadTrainer(base.card, base.weights, labels, name);
  try {
    for (const { label, embeddings } of songs) trainer.addSong(label, embeddings);
    for (;;) {
      const progress = trainer.step();
      post({ type: MSG.TRAIN_PROGRESS, id, ...progress });
      if (progress.finished) break;
      await yieldToEvents();
      if (cancelled.delete(id)) {
        post({ type: MSG.ERROR, id, message: 'cancelled', reason: 'cancelled' });
        return;
      }
    }
    const { card, weights, report } = trainer.finish();
    post({ type: MSG.TRAINED, id, card, weights, report, trainMs: performance.now() - start }, [weights.buffer]);
  } finally {
    trainer.free();
  }
}
