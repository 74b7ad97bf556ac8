// The page: takes a file, decodes it with Web Audio, streams it to the worker in chunks,
// and shows the song's genres, the genre of every 3 s segment along the song, the model's
// card, the waveform and the MFCC heatmap.
import { MSG } from './messages.js';
import { drawWaveform, drawHeatmap, drawAxis, formatTime, splitSegments } from './draw.js';
import { genreName, genreColours, drawTimeline, segmentAt, describeSegment } from './timeline.js';

const STORAGE_KEY = 'genre-classifier.model';
const CHUNK_SAMPLES = 1 << 20;   // per channel and message: about 48 s at 22 050 Hz
const SHOWN_GENRES = 5;

const $ = (id) => document.getElementById(id);
const ui = {
  model: $('model'), drop: $('drop'), file: $('file'), status: $('status'), statusText: $('status-text'),
  progress: $('progress'), cancel: $('cancel'), result: $('result'), title: $('result-title'),
  facts: $('result-facts'), verdict: $('verdict'), bars: $('bars'), timeline: $('timeline'),
  timelineAxis: $('timeline-axis'), detail: $('segment-detail'), legend: $('legend'),
  card: $('card'), cardSummary: $('card-summary'), cardFacts: $('card-facts'),
  modelSummary: $('model-summary'), waveform: $('waveform'), heatmap: $('heatmap'),
  heatmapShape: $('heatmap-shape'), heatmapAxis: $('heatmap-axis'),
};

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let settings = null;         // the extractor's feature settings, from the worker
let card = null;             // the card of the model in use
let modelInUse = null;       // its name
let job = null;              // the song being analysed
let shown = null;            // the song on screen: { name, info, mfcc, peaks, result, timings, ... }
let selected = 0;            // the timeline's selected segment
let nextId = 1;
let ready;
const readyPromise = new Promise((resolve) => { ready = resolve; });

function setState(state) { document.body.dataset.state = state; }

function showStatus(text, { error = false, progress = null, cancellable = false } = {}) {
  ui.status.hidden = false;
  ui.status.classList.toggle('error', error);
  ui.status.setAttribute('role', error ? 'alert' : 'status');
  ui.statusText.textContent = text;
  ui.progress.hidden = progress === null;
  if (progress !== null) ui.progress.value = progress;
  ui.cancel.hidden = !cancellable;
}

function fail(message) {
  job = null;
  setState('error');
  showStatus(message, { error: true });
}

// --- the model -----------------------------------------------------------------------------
function chosenModel() {
  let name = null;
  try { name = localStorage.getItem(STORAGE_KEY); } catch { /* storage blocked: use the default */ }
  return [...ui.model.options].some((o) => o.value === name) ? name : ui.model.value;
}

function remember(name) {
  try { localStorage.setItem(STORAGE_KEY, name); } catch { /* not remembered, still used */ }
}

ui.model.value = chosenModel();
ui.model.addEventListener('change', () => {
  remember(ui.model.value);
  if (shown && !job) showStatus(`Loading model “${ui.model.value}”…`);
  worker.postMessage({ type: MSG.MODEL, name: ui.model.value });
});

const percent = (p, digits = 1) => `${(100 * p).toFixed(digits)} %`;
const kilobytes = (bytes) => `${Math.round(bytes / 1024).toLocaleString('en')} KB`;

function showCard(name, c) {
  card = c;
  modelInUse = name;
  const v = c.training?.validation;
  const trained = c.training;
  ui.cardSummary.textContent = `Model: ${name}` + (v ? ` · ${percent(v.track_accuracy, 0)} of validation songs right` : '')
    + ` · ${kilobytes(c.weights.bytes)}`;
  ui.modelSummary.textContent = `Using the ${name} model (${c.parameters.toLocaleString('en')} parameters`
    + (v ? `, ${percent(v.track_accuracy, 0)} track accuracy on held-out artists` : '') + ').';
  const facts = [
    ['Network', `${c.architecture.name}, ${c.parameters.toLocaleString('en')} parameters, weights ${kilobytes(c.weights.bytes)}`],
    ['Genres', c.labels.map(genreName).join(', ')],
    ['Features', `${c.features.n_mfcc} MFCCs × ${c.features.segment_samples / c.features.sample_rate} s segments at ${c.features.sample_rate} Hz`],
  ];
  if (trained) {
    const tracks = (k) => trained.data.per_genre.reduce((n, g) => n + g[k], 0);
    facts.push(
      ['Validation', `${percent(v.track_accuracy)} of songs, ${percent(v.balanced_track_accuracy)} averaged over genres, ${percent(v.segment_accuracy)} of 3 s segments`],
      ['Per genre (songs right)', v.per_genre.map((g) => `${genreName(g.genre)} ${percent(g.track_accuracy, 0)} of ${g.tracks}`).join(' · ')],
      ['Training data', `${tracks('train_tracks')} songs for training, ${tracks('valid_tracks')} for validation; ${trained.split}`],
      ['Training', `best epoch ${trained.best_epoch} of ${trained.history.length}, ${Math.round(trained.seconds)} s on ${trained.backend}`],
    );
  }
  ui.cardFacts.replaceChildren(...facts.flatMap(([term, value]) => {
    const dt = document.createElement('dt'); dt.textContent = term;
    const dd = document.createElement('dd'); dd.textContent = value;
    return [dt, dd];
  }));
}

// --- the worker ------------------------------------------------------------------------------
worker.onmessage = ({ data }) => {
  switch (data.type) {
    case MSG.READY:
      settings = data.settings;
      ready();
      worker.postMessage({ type: MSG.MODEL, name: ui.model.value });
      return;
    case MSG.MODEL:
      showCard(data.name, data.card);
      if (!job && (shown ? shown.model === data.name : true)) ui.status.hidden = true;
      if (['starting', 'error'].includes(document.body.dataset.state) && !job) setState(shown ? 'done' : 'idle');
      return;
    case MSG.RESULT:
      if (shown && !job && data.id === shown.id) {
        shown.result = data.result;
        shown.model = data.model;
        shown.timings.classifyMs = data.classifyMs;
        ui.status.hidden = true;
        render();
        setState('done');
      }
      return;
    case MSG.ERROR:
      if (data.id !== null) break;
      if (data.model && modelInUse && data.model !== modelInUse) {
        // Keep using (and remembering) the model that works.
        ui.model.value = modelInUse;
        remember(modelInUse);
      }
      if (job) { worker.postMessage({ type: MSG.CANCEL, id: job.id }); job = null; }
      setState('error');
      showStatus(data.message, { error: true });
      return;
  }
  if (!job || data.id !== job.id) return;  // a cancelled job's late messages
  switch (data.type) {
    case MSG.SONG:
      job.info = data.info;
      break;
    case MSG.NEED:
      sendChunk();
      break;
    case MSG.SEGMENTS:
      job.mfcc.push(data.mfcc);
      break;
    case MSG.PROGRESS:
      window.lastProgress = { done: data.done, total: data.total, wasmBytes: data.wasmBytes };
      if (job.info.segments > 10) {
        showStatus(`Analysing “${job.name}”: segment ${data.done} of ${data.total}`,
          { progress: data.done / data.total, cancellable: true });
      }
      break;
    case MSG.DONE:
      finish(data);
      break;
    case MSG.SILENT:
      fail(`“${job.name}” is silent (nothing louder than -60 dBFS), so there is no genre to tell.`);
      break;
    case MSG.ERROR:
      fail(`Could not analyse “${job.name}”: ${data.message}`);
      break;
  }
};
worker.onerror = (e) => fail(`The analyser stopped: ${e.message || 'worker error'}`);

// --- analysing a file ------------------------------------------------------------------------
async function decode(file) {
  const bytes = await file.arrayBuffer();
  if (bytes.byteLength === 0) throw new Error('the file is empty');
  // Decode straight to the feature rate: Web Audio's resampler runs natively during
  // decoding, and a file already at that rate arrives untouched.
  const context = new OfflineAudioContext(1, 1, settings.sample_rate);
  try {
    return await context.decodeAudioData(bytes);
  } catch {
    throw new Error('this browser cannot decode it as audio (it is not an audio file, or it is damaged or in an unsupported format)');
  }
}

async function analyse(file) {
  if (job) worker.postMessage({ type: MSG.CANCEL, id: job.id });
  const id = nextId++;
  job = { id, name: file.name || 'the file', start: performance.now(), mfcc: [], sent: 0 };
  const thisJob = job;
  setState('working');
  showStatus(`Decoding “${job.name}”…`, { cancellable: true });
  await readyPromise;
  let buffer;
  try {
    buffer = await decode(file);
  } catch (e) {
    if (job === thisJob) fail(`Could not read “${thisJob.name}”: ${e.message}`);
    return;
  }
  if (job !== thisJob) return;
  job.buffer = buffer;
  window.decodes = (window.decodes ?? 0) + 1;
  job.decodeMs = performance.now() - job.start;
  worker.postMessage({ type: MSG.BEGIN, id, totalSamples: buffer.length, sampleRate: buffer.sampleRate });
}

/** Sends the next chunk of the decoded song; the worker asks for each in turn. */
function sendChunk() {
  const { buffer, id } = job;
  const count = Math.min(CHUNK_SAMPLES, buffer.length - job.sent);
  const channels = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = new Float32Array(count);
    buffer.copyFromChannel(data, c, job.sent);
    channels.push(data);
  }
  job.sent += count;
  const last = job.sent >= buffer.length;
  worker.postMessage({ type: MSG.CHUNK, id, channels, last }, channels.map((c) => c.buffer));
}

function finish({ result, peaks, featureMs, classifyMs, model, wasmBytes }) {
  const { id, info, mfcc, name, start, decodeMs, buffer } = job;
  const totalMs = performance.now() - start;
  job = null;
  shown = {
    id, name, info, mfcc, peaks, result, model, channels: buffer.numberOfChannels,
    timings: { decodeMs, featureMs, classifyMs, totalMs }, wasmBytes,
  };
  selected = 0;
  ui.status.hidden = true;
  render();
  setState('done');
}

// --- showing the result ----------------------------------------------------------------------
function render() {
  const { name, info, result, timings, channels } = shown;
  ui.result.hidden = false;
  ui.title.textContent = name;
  const notes = [];
  if (info.padded) notes.push(`shorter than one ${info.segmentSeconds} s segment, so padded with silence: the verdict is less reliable`);
  ui.facts.textContent = [
    `${formatTime(info.seconds)} · ${channels} channel${channels === 1 ? '' : 's'} · ${info.segments} segment${info.segments === 1 ? '' : 's'} of ${info.segmentSeconds} s`,
    `result in ${timings.totalMs.toFixed(0)} ms (decoding ${timings.decodeMs.toFixed(0)} ms, features ${timings.featureMs.toFixed(0)} ms, ${shown.model} ${timings.classifyMs.toFixed(0)} ms)`,
    ...notes,
  ].join(' · ');

  const labels = card.labels;
  const colours = genreColours(labels);
  const ranked = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
  const [top, p] = ranked[0];
  ui.verdict.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = genreName(top);
  ui.verdict.append('Most likely ', strong, ` (${percent(p, 0)})`);
  if (p < 0.4) ui.verdict.append(' — but the model is unsure');
  ui.bars.replaceChildren(...ranked.slice(0, SHOWN_GENRES).map(([genre, q]) => {
    const li = document.createElement('li');
    li.dataset.genre = genre;
    const label = document.createElement('span'); label.className = 'bar-label'; label.textContent = genreName(genre);
    const track = document.createElement('span'); track.className = 'bar-track';
    const fill = document.createElement('span'); fill.className = 'bar-fill';
    fill.style.width = `${(100 * q).toFixed(1)}%`;
    fill.style.background = colours[genre];
    track.append(fill);
    const value = document.createElement('span'); value.className = 'bar-value'; value.textContent = percent(q);
    li.append(label, track, value);
    return li;
  }));

  ui.legend.replaceChildren(...labels.map((genre) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span'); swatch.className = 'swatch'; swatch.style.background = colours[genre];
    li.append(swatch, genreName(genre));
    return li;
  }));
  const counts = {};
  for (const s of result.segments) counts[s.genre] = (counts[s.genre] ?? 0) + 1;
  ui.timeline.setAttribute('aria-label', 'Genre of each segment: ' + Object.entries(counts)
    .sort((a, b) => b[1] - a[1]).map(([g, n]) => `${genreName(g)} in ${n}`).join(', ')
    + ` of ${result.segments.length} segments`);
  selected = Math.min(selected, result.segments.length - 1);
  redrawTimeline();
  drawAxis(ui.timelineAxis, ui.timeline, info.seconds);
  const mfcc = shown.mfcc;
  window.lastAnalysis = {
    info, result, model: shown.model, ...timings, wasmBytes: shown.wasmBytes,
    /** The MFCCs of each segment (frames × coefficients, frame-major). */
    get segments() { return splitSegments(mfcc, info.framesPerSegment * info.nMfcc); },
  };

  ui.heatmapShape.textContent = `${info.nMfcc} coefficients × ${info.segments * info.framesPerSegment} frames (each row scaled to its own range)`;
  drawWaveform(ui.waveform, shown.peaks);
  drawHeatmap(ui.heatmap, shown.mfcc, info);
  drawAxis(ui.heatmapAxis, ui.heatmap, info.segments * info.segmentSeconds);
}

function redrawTimeline(focused = document.activeElement === ui.timeline) {
  const { result, info } = shown;
  drawTimeline(ui.timeline, result.segments, info, genreColours(card.labels), focused ? selected : null);
  ui.detail.textContent = describeSegment(result.segments[selected], info);
}

function selectSegment(index) {
  if (!shown) return;
  selected = Math.max(0, Math.min(shown.result.segments.length - 1, index));
  redrawTimeline(true);
}

ui.timeline.addEventListener('mousemove', (e) => {
  if (!shown) return;
  const rect = ui.timeline.getBoundingClientRect();
  selected = segmentAt(shown.result.segments, shown.info, (e.clientX - rect.left) / rect.width);
  redrawTimeline(true);
});
ui.timeline.addEventListener('mouseleave', () => shown && redrawTimeline());
ui.timeline.addEventListener('focus', () => shown && redrawTimeline(true));
ui.timeline.addEventListener('blur', () => shown && redrawTimeline(false));
ui.timeline.addEventListener('keydown', (e) => {
  const steps = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
  if (e.key in steps) selectSegment(selected + steps[e.key]);
  else if (e.key === 'Home') selectSegment(0);
  else if (e.key === 'End') selectSegment(Infinity);
  else return;
  e.preventDefault();
});
window.addEventListener('resize', () => { if (shown && !ui.result.hidden) render(); });

// --- input: drop, picker, keyboard ---------------------------------------------------------
ui.file.addEventListener('change', () => {
  if (ui.file.files[0]) analyse(ui.file.files[0]);
  ui.file.value = '';
});
ui.drop.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); ui.file.click(); }
});
for (const type of ['dragenter', 'dragover']) {
  ui.drop.addEventListener(type, (e) => { e.preventDefault(); ui.drop.classList.add('over'); });
}
for (const type of ['dragleave', 'drop']) {
  ui.drop.addEventListener(type, () => ui.drop.classList.remove('over'));
}
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  e.stopPropagation();
  const file = e.dataTransfer?.files?.[0];
  if (file) analyse(file);
  else fail('Nothing to analyse: drop an audio file.');
});
// A file dropped outside the drop zone must not navigate away from the page.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files?.[0];
  if (file) analyse(file);
});
ui.cancel.addEventListener('click', () => {
  if (!job) return;
  worker.postMessage({ type: MSG.CANCEL, id: job.id });
  job = null;
  setState(shown ? 'done' : 'idle');
  showStatus('Cancelled.');
});

setState('starting');
