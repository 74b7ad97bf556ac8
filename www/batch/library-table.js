// The library table: one row per song of a batch, with its state until it is done, then
// its genre, confidence (and whether the model is unsure), top tags, length and a mini
// timeline. Every column sorts (click its heading); a genre filter narrows the rows; a
// row's name opens the song's full view.
import { genreName, genreColours, drawTimeline } from '../timeline.js';
import { formatTime } from '../draw.js';
import { percent } from '../element/format.js';

const STATES = { queued: 'Queued', decoding: 'Decoding…', classifying: 'Classifying…', cancelled: 'Cancelled' };
const TAGS_SHOWN = 3;

/** How much of the song agrees with its verdict: the share of segments of its genre. */
const agreement = (r) => r.segments.filter((s) => s.genre === r.genre).length / Math.max(1, r.segments.length);

/** Sort keys per column; rows without a result sort after those with one. */
const KEYS = {
  file: (row) => row.name.toLowerCase(),
  genre: (row) => (row.result ? genreName(row.result.genre) : null),
  confidence: (row) => row.result?.confidence ?? null,
  tags: (row) => row.result?.tags?.[0]?.tag ?? null,
  seconds: (row) => row.result?.seconds ?? null,
  timeline: (row) => (row.result ? agreement(row.result) : null),
};

function compareRows(column, direction) {
  const key = KEYS[column];
  return (a, b) => {
    const x = key(a), y = key(b);
    if (x === null || y === null) return (x === null) - (y === null) || a.index - b.index;
    return (x < y ? -1 : x > y ? 1 : a.index - b.index) * direction;
  };
}

const cell = (text = '') => Object.assign(document.createElement('td'), { textContent: text });

export class LibraryTable {
  /** `ui`: the element's parts by id; `onOpen(index)`: a row's song was chosen. */
  constructor(ui, { onOpen }) {
    this.ui = ui;
    this.onOpen = onOpen;
    this.rows = [];
    this.sort = { column: null, direction: 1 };
    for (const th of ui.libraryTable.querySelectorAll('th[data-column]')) {
      th.querySelector('button').addEventListener('click', () => this.sortBy(th.dataset.column));
    }
    ui.libraryFilter.addEventListener('change', () => this.applyFilter());
  }

  /** Starts over with one queued row per name in `names`; `labels`: the genres to filter by. */
  reset(names, labels) {
    this.rows = names.map((name, index) => this.newRow(name, index));
    this.ui.libraryRows.replaceChildren(...this.rows.map((row) => row.tr));
    const filter = this.ui.libraryFilter;
    const options = [['', 'All genres'], ...labels.map((g) => [g, genreName(g)]), ['unsure', 'Unsure'], ['error', 'Errors']];
    filter.replaceChildren(...options.map(([value, text]) => Object.assign(document.createElement('option'), { value, textContent: text })));
    this.colours = genreColours(labels);
    this.sort = { column: null, direction: 1 };
    this.markSorted();
  }

  newRow(name, index) {
    const tr = document.createElement('tr');
    const open = Object.assign(document.createElement('button'), { type: 'button', className: 'song-name', textContent: name, title: name });
    open.addEventListener('click', () => this.onOpen(index));
    const nameCell = document.createElement('th');
    nameCell.scope = 'row';
    nameCell.append(open);
    const canvas = Object.assign(document.createElement('canvas'), { className: 'mini-timeline' });
    const timeline = document.createElement('td');
    timeline.append(canvas);
    const cells = { genre: cell(STATES.queued), confidence: cell(), tags: cell(), seconds: cell(), timeline, canvas, open };
    tr.append(nameCell, cells.genre, cells.confidence, cells.tags, cells.seconds, timeline);
    tr.dataset.state = 'queued';
    tr.addEventListener('click', (e) => { if (e.target.tagName !== 'BUTTON') this.onOpen(index); });
    return { index, name, tr, cells, result: null, error: null, drawn: false };
  }

  /** Shows a song's step: 'decoding', 'classifying', 'cancelled' ('done' and 'error' come
   *  with `finish`). */
  setState(index, state) {
    const row = this.rows[index];
    if (!row || row.result || row.error) return;
    row.tr.dataset.state = state;
    if (STATES[state]) row.cells.genre.textContent = STATES[state];
  }

  /** Fills in a finished song from its batch output (`{ result }` or `{ error }`). */
  finish(index, { result, error }) {
    const row = this.rows[index];
    const { cells } = row;
    row.tr.dataset.state = result ? 'done' : 'error';
    if (!result) {
      row.error = error;
      cells.genre.textContent = error;
      cells.genre.className = 'row-error';
      // The message takes the room of the columns it has no values for.
      cells.genre.colSpan = 4;
      for (const empty of [cells.confidence, cells.tags, cells.seconds]) empty.hidden = true;
    } else {
      row.result = result;
      cells.genre.replaceChildren(swatch(this.colours[result.genre]), genreName(result.genre));
      cells.confidence.textContent = percent(result.confidence, 0);
      if (result.unsure) cells.confidence.append(' ', Object.assign(document.createElement('span'), { className: 'unsure', textContent: 'unsure' }));
      cells.tags.textContent = (result.tags ?? []).slice(0, TAGS_SHOWN).map((t) => t.tag).join(', ');
      cells.seconds.textContent = formatTime(result.seconds);
      cells.canvas.setAttribute('aria-label', `${Math.round(100 * agreement(result))} % of the song sounds ${genreName(result.genre)}`);
      cells.canvas.setAttribute('role', 'img');
    }
    this.applyFilter(row);
    if (this.sort.column) this.placeSorted();
  }

  /** Draws a done row's mini timeline once it is on screen. */
  draw(row) {
    if (row.drawn || !row.result || row.tr.hidden || !row.tr.isConnected) return;
    const { result } = row;
    const segmentSeconds = result.segments.length > 1 ? result.segments[1].start_s - result.segments[0].start_s : result.seconds;
    drawTimeline(row.cells.canvas, result.segments, { seconds: result.seconds, segmentSeconds }, this.colours, null);
    row.drawn = row.cells.canvas.width > 1;
  }

  /** Shows only the rows the filter lets through (one `row`, or all). */
  applyFilter(only = null) {
    const wanted = this.ui.libraryFilter.value;
    const shown = (row) => !wanted
      || (wanted === 'error' ? row.error !== null : wanted === 'unsure' ? row.result?.unsure === true : row.result?.genre === wanted);
    for (const row of only ? [only] : this.rows) {
      row.tr.hidden = !shown(row);
      this.draw(row);
    }
  }

  /** Sorts by `column`; the same column again reverses the order. */
  sortBy(column) {
    this.sort = { column, direction: this.sort.column === column ? -this.sort.direction : 1 };
    this.markSorted();
    this.placeSorted();
  }

  placeSorted() {
    const sorted = [...this.rows].sort(compareRows(this.sort.column, this.sort.direction));
    this.ui.libraryRows.append(...sorted.map((row) => row.tr));
  }

  markSorted() {
    for (const th of this.ui.libraryTable.querySelectorAll('th[data-column]')) {
      const sorted = th.dataset.column === this.sort.column;
      th.setAttribute('aria-sort', sorted ? (this.sort.direction > 0 ? 'ascending' : 'descending') : 'none');
    }
  }

  /** The names of the rows on screen, in their order (what a person sees). */
  visibleNames() {
    return [...this.ui.libraryRows.children].filter((tr) => !tr.hidden).map((tr) => tr.querySelector('.song-name').textContent);
  }
}

function swatch(colour) {
  const span = document.createElement('span');
  span.className = 'swatch';
  span.style.background = colour;
  return span;
}
