// Live mode's part of the element: the Listen button, the genre heard now, and the last
// minute's windows on a timeline, newest on the right.
import { fitCanvas, cssVar, formatTime } from '../draw.js';
import { genreName, genreColours } from '../timeline.js';
import { percent } from './format.js';

const SPAN_S = 60;         // seconds shown on the timeline
const KEPT_WINDOWS = 600;  // windows kept (about ten minutes)

export class LiveMode {
  /** `ui`: the element's parts by id. */
  constructor(ui) {
    this.ui = ui;
    this.session = null;   // the session listening now: { listening, windows, colours }
    this.windows = null;   // the windows of the last session, even once stopped
  }

  get listening() { return this.session !== null; }

  /**
   * Listens with `classifier`'s model until `stop()`. `onWindow(w)` gets each window once it
   * is on screen; `onError(e)` a failure after the start (listening has stopped by then).
   * Resolves to true once listening, or false if stopped while starting; rejects with the
   * reason the microphone could not be had.
   */
  async start(classifier, { onWindow, onError }) {
    const session = { listening: null, windows: [], colours: genreColours(classifier.card.labels) };
    this.session = session;
    this.windows = session.windows;
    this.setButton(true);
    this.ui.live.hidden = false;
    this.ui.liveNow.textContent = 'Starting the microphone…';
    this.ui.liveFacts.textContent = '';
    try {
      session.listening = await classifier.listen({
        onWindow: (w) => {
          if (this.session !== session) return;
          this.showWindow(session, w);
          onWindow(w);
        },
        onError: (e) => { this.stop(); onError(e); },
      });
    } catch (e) {
      this.session = null;
      this.setButton(false);
      this.ui.live.hidden = true;
      throw e;
    }
    if (this.session !== session) { session.listening.stop(); return false; }
    this.ui.liveNow.textContent = 'Listening… the first verdict comes after 3 s.';
    return true;
  }

  /** Stops listening and releases the microphone. */
  stop() {
    if (!this.session) return;
    this.session.listening?.stop();
    this.session = null;
    this.setButton(false);
    this.ui.liveNow.textContent = 'Stopped; the microphone is released.';
  }

  setButton(listening) {
    this.ui.listen.textContent = listening ? 'Stop' : 'Listen';
    this.ui.listen.setAttribute('aria-pressed', String(listening));
  }

  showWindow(session, w) {
    const { ui } = this;
    session.windows.push({
      endS: w.endS, quiet: w.quiet, notMusic: w.notMusic, genre: w.result?.genre ?? null, probabilities: w.result?.probabilities ?? null,
    });
    if (session.windows.length > KEPT_WINDOWS) session.windows.splice(0, session.windows.length - KEPT_WINDOWS);
    if (w.quiet) {
      ui.liveNow.textContent = 'Listening… (too quiet to tell)';
    } else if (w.notMusic) {
      ui.liveNow.textContent = `Listening… this ${w.notMusic}.`;
    } else {
      const p = w.result.probabilities[w.result.genre];
      const strong = document.createElement('strong');
      strong.textContent = genreName(w.result.genre);
      ui.liveNow.replaceChildren('Now: ', strong, ` (${percent(p, 0)})`);
    }
    ui.liveFacts.textContent = `heard ${formatTime(w.endS)} · the worker was busy ${(100 * w.busyMs / 1000 / w.endS).toFixed(1)} % of the time`;
    this.draw(session);
  }

  /** The last minute: a full block per window, a thin grey one where it was too quiet or
   *  did not sound like music. */
  draw(session) {
    const canvas = this.ui.liveTimeline;
    const ctx = fitCanvas(canvas);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const quiet = cssVar(canvas, '--border');
    const step = canvas.width / SPAN_S;
    const newest = session.windows.at(-1)?.endS ?? 0;
    for (const w of session.windows) {
      const x = canvas.width - (newest - w.endS + 1) * step;
      if (x + step < 0) continue;
      const thin = w.quiet || !w.genre;
      ctx.fillStyle = thin ? quiet : session.colours[w.genre];
      ctx.fillRect(Math.floor(x), thin ? canvas.height / 3 : 0, Math.ceil(step) - (step > 6 ? 1 : 0), thin ? canvas.height / 3 : canvas.height);
    }
  }
}
