// Many songs at once, without a UI: a queue that classifies a list of files (a folder, a
// library) a few at a time, so that one song decodes while another is classified, and
// keeps of each song only its result, never its audio or features.
import { sniffFile } from './sniff.js';

/** Songs in flight at once: each decodes on its own (the browser decodes off the main
 *  thread), and the worker takes one at a time (its helpers already share each song's
 *  patches), so one song decoding while another is classified keeps both busy; more
 *  only holds more decoded audio. */
export const DEFAULT_CONCURRENCY = 2;

/** One at a time: `run(task)` waits for the tasks before it. */
function queue() {
  let last = Promise.resolve();
  return (task) => {
    const turn = last.then(task);
    last = turn.catch(() => {});
    return turn;
  };
}

/** The name a song is shown and exported under: its path in what was given, else its
 *  file name, else its place in the list. */
export function nameOf(input, index) {
  return input?.path || input?.file?.webkitRelativePath || input?.file?.name
    || input?.webkitRelativePath || input?.name || `song ${index + 1}`;
}

/** What to classify from an input: a `{ file, path }` pair gives its file. */
const audioOf = (input) => (input && input.file && !(input instanceof Blob) ? input.file : input);

/** What is kept of a song the full view can show again: its facts, not its audio. */
function summaryOf({ info, timings, channels }) {
  const { segmentStarts, ...facts } = info;
  return { info: facts, timings, channels };
}

/** `blob` named so that its extension is the one its content has: the crate's decoder,
 *  for what the browser cannot decode, goes by the name (a file may have lost its
 *  extension, or have a wrong one). The bytes are not copied. */
function withExtension(blob, extension) {
  const name = blob.name ?? '';
  if (name.toLowerCase().endsWith(`.${extension}`)) return blob;
  return new File([blob], `${name || 'song'}.${extension}`, { type: blob.type });
}

const CANCELLED = { error: 'cancelled', reason: 'cancelled' };

/** One song: `{ output: { file, result } | { file, error, reason }, song }` (song: the
 *  summary the widget keeps, when there is a result). Never rejects. */
async function classifyOne(classifier, input, index, { signal, onState, inWorker, quick }) {
  const file = nameOf(input, index);
  const audio = audioOf(input);
  if (signal?.aborted) return { output: { file, ...CANCELLED }, song: null };
  let named = audio;
  if (typeof Blob !== 'undefined' && audio instanceof Blob) {
    const kind = await sniffFile(audio);
    if (!kind.audio) return { output: { file, error: kind.reason, reason: 'input' }, song: null };
    named = withExtension(audio, kind.extension);
  }
  try {
    onState?.(index, 'decoding');
    const start = performance.now();
    const audio = await classifier.decode(named);
    const decodeMs = performance.now() - start;
    const analysis = await inWorker(() => {
      onState?.(index, 'classifying');
      return classifier.analyse(audio, { signal, keep: false, quick: quick ? 'only' : null });
    });
    const { result, model, info } = analysis;
    const timings = { ...analysis.timings, decodeMs, totalMs: decodeMs + analysis.timings.totalMs };
    return { output: { file, result: { ...result, model, seconds: info.seconds, timings } }, song: summaryOf(analysis) };
  } catch (e) {
    return { output: { file, error: e.message, reason: e.reason ?? 'input' }, song: null };
  }
}

/** A song's last state, from its output. */
const finalState = (output) => (output.reason === 'cancelled' ? 'cancelled' : output.error ? 'error' : 'done');

/**
 * Classifies `inputs` (Files, Blobs, `{ file, path }`, or anything `classify` takes) with
 * `classifier`, `concurrency` at a time. Resolves, once all are done or cancelled, to one
 * output per input in their order: `{ file, result }` or `{ file, error, reason }` (`file`:
 * the path or name). `onProgress({ done, total, index, result, song })` gets each song as
 * it completes (`result`: its output); `onState(index, state)` each song's step:
 * 'decoding', 'classifying', then 'done', 'error' or 'cancelled'. Aborting `signal`
 * stops the rest: the songs not finished get the error 'cancelled' (and no onProgress),
 * and what was done is kept. `quick`: only ten segments spread over each song (as
 * `classify --quick`).
 */
export async function classifyAll(classifier, inputs, { onProgress, onState, signal, quick = false, concurrency = DEFAULT_CONCURRENCY } = {}) {
  const list = [...inputs];
  const outputs = new Array(list.length);
  let next = 0;
  let done = 0;
  const inWorker = queue();
  const lane = async () => {
    while (next < list.length) {
      const index = next++;
      const { output, song } = await classifyOne(classifier, list[index], index, { signal, onState, inWorker, quick });
      outputs[index] = output;
      onState?.(index, finalState(output));
      if (output.reason === 'cancelled') continue;
      done++;
      onProgress?.({ done, total: list.length, index, result: output, song });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, list.length)) }, lane));
  return outputs;
}

/** Milliseconds left for `total` songs when `done` took `elapsedMs`, at the same pace;
 *  null until there is a pace to go by. */
export function timeLeft(done, total, elapsedMs) {
  if (done === 0 || elapsedMs <= 0) return null;
  return ((total - done) * elapsedMs) / done;
}
