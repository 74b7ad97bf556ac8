// Drawing the song's features: waveform, features heatmap (MFCCs or log-mel), and time
// axes under canvases.

/** "1 min 5 s" or "12.5 s". */
export function formatTime(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - 60 * m;
  return m > 0 ? `${m} min ${s.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

/** Value of a CSS custom property as `element` sees it. */
export function cssVar(element, name) { return getComputedStyle(element).getPropertyValue(name).trim(); }

/** Sizes a canvas's backing store to its layout size; returns its 2D context. */
export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  canvas.height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  return canvas.getContext('2d');
}

/** Splits chunks of concatenated segments into one array per segment. */
export function splitSegments(chunks, size) {
  const out = [];
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += size) out.push(chunk.subarray(at, at + size));
  }
  return out;
}

/** Draws (min, max) pairs as a filled envelope. */
export function drawWaveform(canvas, peaks) {
  const ctx = fitCanvas(canvas);
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = cssVar(canvas, '--accent');
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
function viridis(t) {
  const x = Math.min(0.9999, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.floor(x), f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

// Canvases are limited in width; long songs are averaged down to this many columns.
const MAX_COLUMNS = 4096;

/** Draws every frame's features (MFCCs or log-mel bands; chunks of concatenated segments),
 *  the first value at the bottom, each row scaled to its own range. */
export function drawHeatmap(canvas, chunks, info) {
  const rows = info.featureWidth;
  const frames = info.segments * info.framesPerSegment;
  const columns = Math.min(frames, MAX_COLUMNS);
  const sums = new Float64Array(columns * rows);
  const counts = new Uint32Array(columns);
  let frame = 0;
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += rows, frame++) {
      const col = Math.floor((frame * columns) / frames);
      counts[col]++;
      for (let k = 0; k < rows; k++) sums[col * rows + k] += chunk[at + k];
    }
  }
  const lo = new Array(rows).fill(Infinity), hi = new Array(rows).fill(-Infinity);
  for (let c = 0; c < columns; c++) {
    for (let k = 0; k < rows; k++) {
      const v = (sums[c * rows + k] /= Math.max(1, counts[c]));
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  }
  const image = new ImageData(columns, rows);
  for (let c = 0; c < columns; c++) {
    for (let k = 0; k < rows; k++) {
      const v = sums[c * rows + k];
      const [r, g, b] = viridis(hi[k] > lo[k] ? (v - lo[k]) / (hi[k] - lo[k]) : 0.5);
      image.data.set([r, g, b, 255], 4 * ((rows - 1 - k) * columns + c));
    }
  }
  const source = new OffscreenCanvas(columns, rows);
  source.getContext('2d').putImageData(image, 0, 0);
  const ctx = fitCanvas(canvas);
  ctx.imageSmoothingEnabled = columns > canvas.width;
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
}

/** Time labels under a canvas spanning `seconds`: about one per 90 px, so they never
 *  collide on a phone. */
export function drawAxis(axis, canvas, seconds) {
  const ticks = Math.max(2, Math.min(6, Math.floor(canvas.clientWidth / 90)));
  axis.replaceChildren(...Array.from({ length: ticks + 1 }, (_, i) => {
    const span = document.createElement('span');
    span.style.left = `${(100 * i) / ticks}%`;
    span.textContent = formatTime((seconds * i) / ticks);
    return span;
  }));
}
