// The genre timeline: one coloured block per segment along the song, and the words that
// describe a segment when it is hovered or focused.
import { fitCanvas, cssVar, formatTime } from './draw.js';

// Ten well-separated colours (Tableau 10), assigned in label order; the legend and the
// hover text name the genre, so colour is never the only cue.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
  '#ff9da7', '#9c755f', '#bab0ac'];

const NAMES = { hiphop: 'Hip-hop' };

/** How a genre label is shown: "blues" → "Blues", "hiphop" → "Hip-hop". */
export function genreName(label) {
  return NAMES[label] ?? label.charAt(0).toUpperCase() + label.slice(1);
}

/** Genre → colour, by position in the model's labels. */
export function genreColours(labels) {
  return Object.fromEntries(labels.map((g, i) => [g, PALETTE[i % PALETTE.length]]));
}

/** The segment under a point `fraction` of the way along the song: the last one that
 *  starts at or before it (an end-aligned last segment overlaps its neighbour). */
export function segmentAt(segments, info, fraction) {
  const t = Math.max(0, Math.min(1, fraction)) * info.seconds;
  let lo = 0, hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid].start_s <= t) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** "0:03–0:06 · Blues 81 %, Jazz 9 %, Rock 4 %". */
export function describeSegment(segment, info) {
  if (!segment) return '';
  const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  const end = Math.min(info.seconds, segment.start_s + info.segmentSeconds);
  const top = Object.entries(segment.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([g, p]) => `${genreName(g)} ${(100 * p).toFixed(0)} %`).join(', ');
  return `${clock(segment.start_s)}–${clock(end)} (${formatTime(end - segment.start_s)}): ${top}`;
}

/** Draws the segments' genres; outlines the `selected` one when not null. */
export function drawTimeline(canvas, segments, info, colours, selected) {
  const ctx = fitCanvas(canvas);
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const x = (seconds) => (seconds / info.seconds) * width;
  const span = Math.min(info.segmentSeconds, info.seconds);
  segments.forEach((s) => {
    ctx.fillStyle = colours[s.genre];
    const left = Math.floor(x(s.start_s));
    const blockWidth = Math.max(1, Math.ceil(x(s.start_s + span)) - left);
    // A hairline between blocks wide enough to tell apart.
    ctx.fillRect(left, 0, blockWidth > 8 ? blockWidth - 1 : blockWidth, height);
  });
  if (selected !== null && segments[selected]) {
    const s = segments[selected];
    const ratio = window.devicePixelRatio || 1;
    ctx.lineWidth = 3 * ratio;
    ctx.strokeStyle = cssVar(canvas, '--fg');
    const left = x(s.start_s), right = Math.max(left + 4 * ratio, x(s.start_s + span));
    ctx.strokeRect(left + ctx.lineWidth / 2, ctx.lineWidth / 2, right - left - ctx.lineWidth, height - ctx.lineWidth);
  }
}
