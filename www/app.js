// The page: takes a file, decodes it with Web Audio, has the worker compute MFCCs, and
// draws the waveform and the MFCC heatmap of the whole song.
import { MSG } from './messages.js';

const $ = (id) => document.getElementById(id);
const ui = {
  drop: $('drop'), file: $('file'), status: $('status'), statusText: $('status-text'),
  progress: $('progress'), cancel: $('cancel'), result: $('result'), title: $('result-title'),
  facts: $('result-facts'), waveform: $('waveform'), heatmap: $('heatmap'),
  heatmapShape: $('heatmap-shape'), axis: $('heatmap-axis'),
};

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let settings = null;             // the extractor's feature settings, from the worker
let settingsReady;
const settingsPromise = new Promise((resolve) => { settingsReady = resolve; });
let job = null;                  // the analysis in progress
let nextId = 1;

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

worker.onmessage = ({ data }) => {
  if (data.type === MSG.READY) {
    settings = data.settings;
    settingsReady(settings);
    setState('idle');
    return;
  }
  if (data.type === MSG.ERROR && data.id === null) return fail(data.message);
  if (!job || data.id !== job.id) return;  // a cancelled job's late messages
  switch (data.type) {
    case MSG.SONG:
      job.info = data.info;
      job.segments = new Array(data.info.segments);
      break;
    case MSG.SEGMENT:
      job.segments[data.index] = data.mfcc;
      if (job.info.segments > 4) {
        showStatus(`Computing features… segment ${data.index + 1} of ${job.info.segments}`,
          { progress: (data.index + 1) / job.info.segments, cancellable: true });
      }
      break;
    case MSG.DONE:
      finish(data);
      break;
    case MSG.ERROR:
      fail(`Could not analyse “${job.name}”: ${data.message}`);
      break;
  }
};
worker.onerror = (e) => fail(`The analyser stopped: ${e.message || 'worker error'}`);

async function decode(file) {
  const bytes = await file.arrayBuffer();
  if (bytes.byteLength === 0) throw new Error('the file is empty');
  // Decode straight to the feature rate: Web Audio's resampler runs natively during
  // decoding, and a file already at that rate arrives untouched.
  const context = new OfflineAudioContext(1, 1, settings.sample_rate);
  try {
    return await context.decodeAudioData(bytes);
  } catch (e) {
    throw new Error('this browser cannot decode it as audio (it is not an audio file, or it is damaged or in an unsupported format)');
  }
}

async function analyse(file) {
  if (job) worker.postMessage({ type: MSG.CANCEL, id: job.id });
  const id = nextId++;
  job = { id, name: file.name || 'the file', start: performance.now() };
  const thisJob = job;
  setState('working');
  ui.result.hidden = true;
  showStatus(`Decoding “${job.name}”…`);
  await settingsPromise;
  let buffer;
  try {
    buffer = await decode(file);
  } catch (e) {
    if (job === thisJob) fail(`Could not read “${thisJob.name}”: ${e.message}`);
    return;
  }
  if (job !== thisJob) return;
  job.decodeMs = performance.now() - job.start;
  job.channels = buffer.numberOfChannels;
  showStatus(`Computing features of “${job.name}”…`, { cancellable: true });
  const channels = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) channels.push(buffer.getChannelData(c).slice());
  worker.postMessage({ type: MSG.ANALYSE, id, channels, sampleRate: buffer.sampleRate },
    channels.map((c) => c.buffer));
}

function finish({ featureMs, peaks }) {
  const { info, segments, name, start, decodeMs, channels } = job;
  const totalMs = performance.now() - start;
  job = null;
  ui.status.hidden = true;
  ui.result.hidden = false;
  ui.title.textContent = name;
  const notes = [];
  if (info.padded) notes.push(`shorter than one ${info.segmentSeconds} s segment, so padded with silence`);
  ui.facts.textContent = [
    `${formatTime(info.seconds)} · ${channels} channel${channels === 1 ? '' : 's'} · ${info.segments} segment${info.segments === 1 ? '' : 's'} of ${info.segmentSeconds} s`,
    `features in ${featureMs.toFixed(0)} ms (decoding ${decodeMs.toFixed(0)} ms, total ${totalMs.toFixed(0)} ms)`,
    ...notes,
  ].join(' · ');
  ui.heatmapShape.textContent = `${info.nMfcc} coefficients × ${info.segments * info.framesPerSegment} frames (each row scaled to its own range)`;
  drawWaveform(peaks);
  drawHeatmap(segments, info);
  drawAxis(info);
  window.lastAnalysis = { info, segments, featureMs, decodeMs, totalMs };
  setState('done');
}

function formatTime(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - 60 * m;
  return m > 0 ? `${m} min ${s.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

function cssVar(name) { return getComputedStyle(document.body).getPropertyValue(name).trim(); }

function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  canvas.height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  return canvas.getContext('2d');
}

function drawWaveform(peaks) {
  const ctx = fitCanvas(ui.waveform);
  const { width, height } = ui.waveform;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = cssVar('--gc-accent');
  const buckets = peaks.length / 2;
  const mid = height / 2;
  for (let x = 0; x < width; x++) {
    const b = Math.min(buckets - 1, Math.floor((x / width) * buckets));
    const lo = peaks[2 * b], hi = peaks[2 * b + 1];
    const top = mid - hi * mid, bottom = mid - lo * mid;
    ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
}

// A perceptually ordered colour map (viridis, sampled at 5 points and interpolated).
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function colour(t) {
  const x = Math.min(0.9999, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.floor(x), f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

function drawHeatmap(segments, info) {
  const frames = info.segments * info.framesPerSegment;
  const rows = info.nMfcc;
  const lo = new Array(rows).fill(Infinity), hi = new Array(rows).fill(-Infinity);
  for (const seg of segments) {
    for (let i = 0; i < seg.length; i++) {
      const k = i % rows;
      if (seg[i] < lo[k]) lo[k] = seg[i];
      if (seg[i] > hi[k]) hi[k] = seg[i];
    }
  }
  const image = new ImageData(frames, rows);
  segments.forEach((seg, s) => {
    for (let t = 0; t < info.framesPerSegment; t++) {
      for (let k = 0; k < rows; k++) {
        const v = seg[t * rows + k];
        const [r, g, b] = colour(hi[k] > lo[k] ? (v - lo[k]) / (hi[k] - lo[k]) : 0.5);
        // Coefficient 0 at the bottom, like a spectrogram.
        const p = 4 * ((rows - 1 - k) * frames + s * info.framesPerSegment + t);
        image.data.set([r, g, b, 255], p);
      }
    }
  });
  const source = new OffscreenCanvas(frames, rows);
  source.getContext('2d').putImageData(image, 0, 0);
  const ctx = fitCanvas(ui.heatmap);
  ctx.imageSmoothingEnabled = frames > ui.heatmap.width;
  ctx.drawImage(source, 0, 0, ui.heatmap.width, ui.heatmap.height);
}

function drawAxis(info) {
  const total = info.segments * info.segmentSeconds;
  // About one label per 90 px, so labels never collide on a phone.
  const ticks = Math.max(2, Math.min(6, Math.floor(ui.heatmap.clientWidth / 90)));
  ui.axis.replaceChildren(...Array.from({ length: ticks + 1 }, (_, i) => {
    const span = document.createElement('span');
    span.style.left = `${(100 * i) / ticks}%`;
    span.textContent = formatTime((total * i) / ticks);
    return span;
  }));
}

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
  setState('idle');
  showStatus('Cancelled.');
});

setState('starting');
