// The element's many-songs mode (loaded when many songs first arrive, so not part of the
// page's first download; www/batch/ holds it, the table and the exports): the files given at once (several, or a folder) are told
// apart into songs and skipped files (by content), classified by the batch queue
// (library.js) into the library table, with the overall progress, Cancel, the exports and
// the batch events. Only results and small summaries are kept, never audio.
import { classifyAll, nameOf, timeLeft } from './library.js';
import { sniffFile } from './sniff.js';
import { toCsv, toJson, download } from './export.js';
import { LibraryTable } from './library-table.js';

/** Skipped files listed by name; the rest are counted. */
const SKIPPED_LISTED = 200;

/** "40 s left", "4 min left". */
function formatLeft(ms) {
  if (ms === null) return '';
  const s = Math.ceil(ms / 1000);
  return ` · ${s < 60 ? `${s} s` : `${Math.round(s / 60)} min`} left`;
}

/** Tells `items` ({ file, path }) apart by their first bytes: `{ songs, skipped }`. */
export async function sortOut(items) {
  const kinds = await Promise.all(items.map((item) => sniffFile(item.file)));
  const songs = items.filter((_, i) => kinds[i].audio);
  const skipped = items.flatMap((item, i) => (kinds[i].audio ? [] : [{ file: item.path, reason: kinds[i].reason }]));
  return { songs, skipped };
}

export class Batch {
  /** `ui`: the element's parts by id; `emit(type, detail)` fires an event; `onOpen(song)`
   *  shows a finished song (`{ output, summary, input }`) in the full view. */
  constructor(ui, { emit, onOpen }) {
    this.ui = ui;
    this.emit = emit;
    this.run = null;       // the batch on screen: { controller, songs, outputs, summaries, skipped, ... }
    this.table = new LibraryTable(ui, { onOpen: (index) => this.open(index) });
    this.onOpen = onOpen;
    ui.libraryCancel.addEventListener('click', () => this.cancel());
    ui.exportCsv.addEventListener('click', () => download(`${this.fileStem()}.csv`, toCsv(this.outputs()), 'text/csv'));
    ui.exportJson.addEventListener('click', () => download(`${this.fileStem()}.json`,
      toJson(this.outputs(), { model: this.run?.model, skipped: this.run?.skipped }), 'application/json'));
  }

  /** The outputs so far, in the order given: finished songs only while it runs. */
  outputs() { return (this.run?.outputs ?? []).filter(Boolean); }

  fileStem() { return `genres-${new Date().toISOString().slice(0, 10)}`; }

  cancel() { this.run?.controller.abort(); }

  /**
   * Classifies `inputs` (Files, or `{ file, path }`) with `classifier`, after telling audio from the
   * rest (`unreadable`: [{ path, reason }] found while gathering them). Resolves to the
   * outputs of the songs, one each, in the order given.
   */
  async start(classifier, inputs, unreadable = []) {
    this.cancel();
    const items = inputs.map((input, i) => (input?.file ? input : { file: input, path: nameOf(input, i) }));
    const controller = new AbortController();
    const { songs, skipped } = await sortOut(items);
    skipped.push(...unreadable.map(({ path, reason }) => ({ file: path, reason })));
    const run = { controller, songs, skipped, outputs: new Array(songs.length), summaries: new Array(songs.length), model: classifier.model, began: performance.now(), done: 0 };
    this.run = run;
    this.show(run, classifier.card.labels);
    if (songs.length === 0) return this.finish(run, []);
    const outputs = await classifyAll(classifier, songs, {
      signal: controller.signal,
      quick: this.ui.libraryQuick.checked,
      onState: (index, state) => this.run === run && this.table.setState(index, state),
      onProgress: (progress) => this.progress(run, progress),
    });
    return this.finish(run, outputs);
  }

  /** Puts the batch `run` on screen: the table's queued rows, the skipped files. */
  show(run, labels) {
    const { ui } = this;
    ui.library.hidden = false;
    ui.libraryCancel.hidden = false;
    ui.libraryBar.hidden = false;
    ui.libraryBar.value = 0;
    this.table.reset(run.songs.map((s, i) => nameOf(s, i)), labels);
    ui.libraryTableWrap.hidden = run.songs.length === 0;
    this.showSkipped(run.skipped);
    this.setText(run.songs.length ? `0 of ${run.songs.length}` : '');
    this.element().dataset.batch = 'running';
  }

  element() { return this.ui.library.getRootNode().host; }

  setText(text) { this.ui.libraryProgress.textContent = text; }

  showSkipped(skipped) {
    const { ui } = this;
    ui.skipped.hidden = skipped.length === 0;
    ui.skippedSummary.textContent = `${skipped.length} file${skipped.length === 1 ? '' : 's'} skipped (not audio, or unreadable)`;
    const items = skipped.slice(0, SKIPPED_LISTED).map(({ file, reason }) => Object.assign(document.createElement('li'), { textContent: `${file}: ${reason}` }));
    if (skipped.length > SKIPPED_LISTED) items.push(Object.assign(document.createElement('li'), { textContent: `and ${skipped.length - SKIPPED_LISTED} more` }));
    ui.skippedList.replaceChildren(...items);
  }

  /** One song of `run` finished: its row, the overall progress, the event. */
  progress(run, { done, total, index, result, song }) {
    run.outputs[index] = result;
    run.summaries[index] = song;
    run.done = done;
    if (this.run !== run) return;
    this.table.finish(index, result);
    this.ui.libraryBar.value = done / total;
    const left = formatLeft(timeLeft(done, total, performance.now() - run.began));
    this.setText(`${done} of ${total}${done < total ? left : ''}`);
    this.emit('genre-batch-progress', { done, total, result });
  }

  /** The batch `run` is over (all done, or cancelled): says so, fires the event. */
  finish(run, outputs) {
    run.outputs = outputs;
    if (this.run !== run) return outputs;
    const { ui } = this;
    const cancelled = run.controller.signal.aborted;
    const errors = outputs.filter((o) => o.error && o.reason !== 'cancelled').length;
    const classified = outputs.filter((o) => o.result).length;
    outputs.forEach((o, i) => { if (o.reason === 'cancelled') this.table.setState(i, 'cancelled'); });
    ui.libraryCancel.hidden = true;
    ui.libraryBar.hidden = true;
    const notes = [errors && `${errors} could not be classified`, run.skipped.length && `${run.skipped.length} skipped`].filter(Boolean);
    this.setText(outputs.length === 0 ? 'No songs here: none of the files given is audio.'
      : `${cancelled ? 'Cancelled: ' : ''}${classified} of ${outputs.length} songs classified${notes.length ? ` (${notes.join(', ')})` : ''}.`);
    this.element().dataset.batch = cancelled ? 'cancelled' : 'done';
    this.emit('genre-batch-done', { results: outputs, skipped: run.skipped });
    return outputs;
  }

  /** Shows the song of row `index` in the full view. */
  open(index) {
    const { run } = this;
    const output = run?.outputs[index];
    if (!output) return;
    this.onOpen({ output, summary: run.summaries[index], input: run.songs[index] });
  }
}
