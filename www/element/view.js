// The result on screen: the song's facts, the verdict and the bars of the likeliest genres,
// the tags, the genre timeline (hover it, or focus it and use the arrow keys, for one
// segment's detail) and the features view (waveform and heatmap).
import { drawWaveform, drawHeatmap, drawAxis, formatTime } from '../draw.js';
import { genreName, genreColours, drawTimeline, segmentAt, describeSegment } from '../timeline.js';
import { percent } from './format.js';

const SHOWN_GENRES = 5;

/** The tags line; when the strongest genre-naming tag speaks for another genre than the
 *  verdict (Rust's `tags_lean`), it says so rather than leaving two lists to contradict. */
function tagLine(result) {
  const tags = result.tags.map((t) => `${t.tag} (${percent(t.probability, 0)})`).join(', ');
  const lean = result.tags_lean
    ? ` — the tags lean ${genreName(result.tags_lean)}, the genre model says ${genreName(result.genre)}`
    : '';
  return `Sounds like: ${tags}${lean}`;
}

export class ResultView {
  /** `ui`: the element's parts by id; `compact()`: whether the features view is left out. */
  constructor(ui, { compact }) {
    this.ui = ui;
    this.compact = compact;
    this.song = null;      // what is on screen: { name, info, result, timings, channels, model, peaks, features }
    this.labels = [];      // the genres of the model that gave the result, in its order
    this.selected = 0;     // the timeline's selected segment
    this.wire();
  }

  /** Shows `song` classified by a model with these `labels`; `fromStart` selects its first
   *  segment (a new song), otherwise the selection stays (the same song, another model). */
  show(song, labels, { fromStart = false } = {}) {
    this.song = song;
    this.labels = labels;
    if (fromStart) this.selected = 0;
    this.render();
  }

  /** Takes the result off the screen. */
  clear() {
    this.song = null;
    this.ui.result.hidden = true;
  }

  /** Draws everything again (at the element's new size). */
  render() {
    if (!this.song) return;
    const { ui, song } = this;
    ui.result.hidden = false;
    ui.resultTitle.textContent = song.name;
    ui.resultFacts.textContent = songFacts(song);
    const colours = genreColours(this.labels);
    this.renderVerdict(colours);
    this.renderLegend(colours);
    this.renderTimeline();
    this.renderFeatures();
  }

  renderVerdict(colours) {
    const { ui } = this;
    const { result } = this.song;
    const ranked = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
    const strong = document.createElement('strong');
    strong.textContent = genreName(result.genre);
    ui.verdict.replaceChildren(result.unsure ? 'Unsure: perhaps ' : 'Most likely ', strong,
      ` (${percent(result.confidence, 0)} confident)`);
    ui.bars.replaceChildren(...ranked.slice(0, SHOWN_GENRES).map(([genre, q]) => bar(genre, q, colours[genre])));
    ui.tags.hidden = !result.tags?.length;
    ui.tags.textContent = result.tags?.length ? tagLine(result) : '';
  }

  renderLegend(colours) {
    this.ui.legend.replaceChildren(...this.labels.map((genre) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span'); swatch.className = 'swatch'; swatch.style.background = colours[genre];
      li.append(swatch, genreName(genre));
      return li;
    }));
  }

  renderTimeline() {
    const { ui } = this;
    const { result, info } = this.song;
    const counts = {};
    for (const s of result.segments) counts[s.genre] = (counts[s.genre] ?? 0) + 1;
    ui.timeline.setAttribute('aria-label', 'Genre of each segment: ' + Object.entries(counts)
      .sort((a, b) => b[1] - a[1]).map(([g, n]) => `${genreName(g)} in ${n}`).join(', ')
      + ` of ${result.segments.length} segments`);
    this.selected = Math.min(this.selected, result.segments.length - 1);
    this.redrawTimeline();
    drawAxis(ui.timelineAxis, ui.timeline, info.seconds);
  }

  renderFeatures() {
    const { ui } = this;
    const { info, features, peaks } = this.song;
    // A song of a batch keeps no features: the view has none to draw until it is analysed again.
    ui.featuresView.hidden = !features;
    if (!features) return;
    const spectrogram = info.featureKind === 'log-mel';
    ui.heatmapTitle.textContent = spectrogram ? 'Log-mel spectrogram (what the model hears)' : 'MFCC heatmap';
    ui.heatmapShape.textContent = `${info.featureWidth} ${spectrogram ? 'mel bands' : 'coefficients'} × ${info.segments * info.framesPerSegment} frames (each row scaled to its own range)`;
    if (!this.compact()) {
      drawWaveform(ui.waveform, peaks);
      drawHeatmap(ui.heatmap, features, info);
      drawAxis(ui.heatmapAxis, ui.heatmap, info.segments * info.segmentSeconds);
    }
  }

  /** Selects segment `index` (clamped to the song) and outlines it. */
  selectSegment(index) {
    if (!this.song) return;
    this.selected = Math.max(0, Math.min(this.song.result.segments.length - 1, index));
    this.redrawTimeline(true);
  }

  redrawTimeline(focused = this.ui.timeline.getRootNode().activeElement === this.ui.timeline) {
    const { result, info } = this.song;
    drawTimeline(this.ui.timeline, result.segments, info, genreColours(this.labels), focused ? this.selected : null);
    this.ui.segmentDetail.textContent = describeSegment(result.segments[this.selected], info);
  }

  /** The timeline answers the mouse and the keyboard. */
  wire() {
    const { timeline } = this.ui;
    timeline.addEventListener('mousemove', (e) => {
      if (!this.song) return;
      const rect = timeline.getBoundingClientRect();
      this.selected = segmentAt(this.song.result.segments, this.song.info, (e.clientX - rect.left) / rect.width);
      this.redrawTimeline(true);
    });
    timeline.addEventListener('mouseleave', () => this.song && this.redrawTimeline());
    timeline.addEventListener('focus', () => this.song && this.redrawTimeline(true));
    timeline.addEventListener('blur', () => this.song && this.redrawTimeline(false));
    timeline.addEventListener('keydown', (e) => {
      const steps = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
      if (e.key in steps) this.selectSegment(this.selected + steps[e.key]);
      else if (e.key === 'Home') this.selectSegment(0);
      else if (e.key === 'End') this.selectSegment(Infinity);
      else return;
      e.preventDefault();
    });
  }
}

/** "30.0 s · 1 channel · 10 segments of 2.99 s · result in 812 ms (...)", and a note when
 *  the song was shorter than one segment. */
function songFacts({ info, timings, channels, model }) {
  const segmentSeconds = +info.segmentSeconds.toFixed(2);
  const notes = [];
  if (info.padded) notes.push(`shorter than one ${segmentSeconds} s segment, so ${info.shortSongFill === 'loop' ? 'looped to fill it' : 'padded with silence'}: the verdict is less reliable`);
  return [
    `${formatTime(info.seconds)} · ${channels} channel${channels === 1 ? '' : 's'} · ${info.segments} segment${info.segments === 1 ? '' : 's'} of ${segmentSeconds} s`,
    `result in ${timings.totalMs.toFixed(0)} ms (decoding ${timings.decodeMs.toFixed(0)} ms, features ${timings.featureMs.toFixed(0)} ms, ${model} ${timings.classifyMs.toFixed(0)} ms)`,
    ...notes,
  ].join(' · ');
}

/** One bar: the genre's name, a bar as long as its probability `q`, and the figure. */
function bar(genre, q, colour) {
  const li = document.createElement('li');
  li.dataset.genre = genre;
  const label = document.createElement('span'); label.className = 'bar-label'; label.textContent = genreName(genre);
  const track = document.createElement('span'); track.className = 'bar-track';
  const fill = document.createElement('span'); fill.className = 'bar-fill';
  fill.style.width = `${(100 * q).toFixed(1)}%`;
  fill.style.background = colour;
  track.append(fill);
  const value = document.createElement('span'); value.className = 'bar-value'; value.textContent = percent(q);
  li.append(label, track, value);
  return li;
}
