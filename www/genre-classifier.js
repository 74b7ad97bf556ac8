// <genre-classifier>: the whole drop-a-song experience as one element with its own shadow
// DOM, and the UI-free `loadClassifier` beside it. One script tag embeds it in any page:
//   <script type="module" src=".../genre-classifier.js"></script>
//   <genre-classifier></genre-classifier>
// Attributes: model (a shipped model's name or a model folder URL), compact, base-url.
// Events: genre-result, genre-progress, genre-error. Method: classify(file | blob | buffer).
// In a Web Worker only loadClassifier is defined (there is no DOM to put an element in).
import { loadClassifier, ClassifyError } from './classifier.js';
import { drawWaveform, drawHeatmap, drawAxis, formatTime, splitSegments, fitCanvas, cssVar } from './draw.js';
import { genreName, genreColours, drawTimeline, segmentAt, describeSegment } from './timeline.js';

export { loadClassifier, ClassifyError };

const HERE = new URL('./', import.meta.url);
const STORAGE_KEY = 'genre-classifier.model';
const SHIPPED = [['musicnn', 'musicnn (pretrained, best)'], ['cnn', 'cnn (convolutional)'], ['rnn', 'rnn (LSTM)'], ['ann', 'ann (dense)'], ['ann-reg', 'ann-reg (dense, regularised)']];
const SHOWN_GENRES = 5;

const TEMPLATE = `
<div class="toolbar">
  <button id="listen" type="button" hidden aria-pressed="false">Listen</button>
  <label class="model-choice">Model <select id="model"></select></label>
</div>
<section id="live" class="live result" hidden aria-labelledby="live-title">
  <h2 id="live-title">Listening to the microphone</h2>
  <p id="live-now" class="verdict" aria-live="polite"></p>
  <canvas id="live-timeline" class="timeline" role="img" aria-label="Genre heard over the last minute, newest on the right"></canvas>
  <p id="live-facts" class="facts"></p>
</section>
<label id="drop" class="drop" tabindex="0" aria-describedby="drop-hint">
  <input id="file" type="file" accept="audio/*,.au,.ogg,.oga,.flac,.wav,.mp3,.m4a,.opus" hidden>
  <span class="drop-title">Drop an audio file here</span>
  <span id="drop-hint" class="drop-hint">or press Enter to choose one (WAV, MP3, Ogg, FLAC…)</span>
</label>
<section id="status" class="status" role="status" aria-live="polite" hidden>
  <p id="status-text"></p>
  <progress id="progress" max="1" value="0" hidden></progress>
  <canvas id="progress-timeline" class="timeline" role="img" aria-label="Genre of the segments analysed so far" hidden></canvas>
  <button id="cancel" type="button" hidden>Cancel</button>
</section>
<section id="result" class="result" hidden aria-labelledby="result-title">
  <h2 id="result-title"></h2>
  <p id="result-facts" class="facts"></p>
  <p id="verdict" class="verdict" aria-live="polite"></p>
  <ol id="bars" class="bars" aria-label="Most likely genres"></ol>
  <p id="tags" class="facts" hidden></p>
  <figure>
    <figcaption class="timeline-caption">Genre through the song, one block per 3 s segment (hover, or focus and use the arrow keys)</figcaption>
    <canvas id="timeline" class="timeline" tabindex="0" role="img" aria-describedby="segment-detail"></canvas>
    <div id="timeline-axis" class="axis"></div>
    <p id="segment-detail" class="segment-detail" aria-live="polite"></p>
    <ul id="legend" class="legend" aria-label="Genre colours"></ul>
  </figure>
  <details id="card" class="card">
    <summary id="card-summary"></summary>
    <dl id="card-facts"></dl>
  </details>
  <details class="features-view" open>
    <summary>Features</summary>
    <figure>
      <figcaption>Waveform (mono)</figcaption>
      <canvas id="waveform" aria-label="Waveform of the song" role="img"></canvas>
    </figure>
    <figure>
      <figcaption><span id="heatmap-title">MFCC heatmap</span>: <span id="heatmap-shape"></span></figcaption>
      <canvas id="heatmap" aria-label="The features of the whole song" role="img"></canvas>
      <div id="heatmap-axis" class="axis"></div>
    </figure>
  </details>
</section>`;

const percent = (p, digits = 1) => `${(100 * p).toFixed(digits)} %`;
const kilobytes = (bytes) => `${Math.round(bytes / 1024).toLocaleString('en')} KB`;

function storedModel() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}
function remember(model) {
  try { localStorage.setItem(STORAGE_KEY, model); } catch { /* not remembered, still used */ }
}

/** The facts of a model card, as [term, value] pairs. */
function cardFacts(c) {
  const v = c.training?.validation;
  const trained = c.training;
  const facts = [
    ['Network', `${c.architecture.name}, ${c.parameters.toLocaleString('en')} parameters, weights ${kilobytes(c.weights.bytes)}`],
    ['Genres', c.labels.map(genreName).join(', ')],
    ['Features', featureFacts(c.features)],
  ];
  const backbone = c.architecture.source;
  if (backbone) {
    facts.push(['Backbone', `${backbone.network} from ${backbone.package} ${backbone.version} (${backbone.license} license): ${backbone.paper}; its 50 Million Song Dataset tags give a genre prior with weight ${c.architecture.tag_prior.weight}`]);
  }
  if (trained) {
    const tracks = (k) => trained.data.per_genre.reduce((n, g) => n + g[k], 0);
    facts.push(
      ['Validation', `${percent(v.track_accuracy)} of songs, ${percent(v.balanced_track_accuracy)} averaged over genres, ${percent(v.segment_accuracy)} of 3 s segments`],
      ['Per genre (songs right)', v.per_genre.map((g) => `${genreName(g.genre)} ${percent(g.track_accuracy, 0)} of ${g.tracks}`).join(' · ')],
      ['Training data', `${tracks('train_tracks')} songs for training, ${tracks('valid_tracks')} for validation; ${trained.split}`],
      ...(trained.excerpts ? [['Validation excerpts', `${percent(trained.excerpts.track_accuracy)} of ${trained.excerpts.confusion.flat().reduce((a, b) => a + b, 0)} short excerpts (2-3 s)`]] : []),
      ['Training', `best epoch ${trained.best_epoch} of ${trained.history.length}, ${Math.round(trained.seconds)} s on ${trained.backend}`],
    );
  }
  return facts;
}

/** What a model hears, in words. */
function featureFacts(f) {
  const seconds = (f.segment_samples / f.sample_rate).toFixed(2).replace(/\.?0+$/, '');
  return f.kind === 'log-mel'
    ? `log-mel spectrogram, ${f.n_mels} bands, patches of ${seconds} s at ${f.sample_rate} Hz`
    : `${f.n_mfcc} MFCCs × ${seconds} s segments at ${f.sample_rate} Hz`;
}

function defineElement() {
  class GenreClassifierElement extends HTMLElement {
    static get observedAttributes() { return ['model', 'live']; }

    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      const style = document.createElement('link');
      style.rel = 'stylesheet';
      style.href = new URL('genre-classifier.css', HERE).href;
      const body = document.createElement('div');
      body.innerHTML = TEMPLATE;
      root.append(style, body);
      this.ui = Object.fromEntries([...root.querySelectorAll('[id]')].map((e) => [e.id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), e]));
      this.classifier = null;
      this.shown = null;       // the song on screen
      this.job = null;         // { controller, name } of the song in progress
      this.selected = 0;       // the timeline's selected segment
      this.decodes = 0;
      this.wire();
    }

    connectedCallback() {
      if (!this.dataset.state) this.setState('starting');
      this.resizeObserver = new ResizeObserver(() => { if (this.shown) this.render(); });
      this.resizeObserver.observe(this);
      if (!this.starting) this.starting = this.start();
    }

    disconnectedCallback() {
      this.stopListening();
      this.resizeObserver?.disconnect();
      this.job?.controller.abort();
      this.job = null;
      // Free the worker's copy of the song's features; the result stays on screen.
      this.classifier?.forget();
      if (this.shown) this.shown.held = false;
    }

    attributeChangedCallback(name, old, value) {
      if (name === 'model' && old !== value && this.classifier && value) this.useModel(value);
      if (name === 'live') {
        this.ui.listen.hidden = value === null;
        if (value === null) this.stopListening();
      }
    }

    /** Where worker.js, pkg/ and models/ live: the base-url attribute, or next to this script. */
    get baseUrl() { return new URL(this.getAttribute('base-url') ?? HERE.href, document.baseURI); }

    /** The result on screen, with timings (what genre-result carried). */
    get lastResult() { return this.shown ? this.publicResult() : null; }

    async start() {
      const model = this.getAttribute('model') ?? storedModel() ?? SHIPPED[0][0];
      this.fillModels(model);
      try {
        this.classifier = await loadClassifier({ model, baseUrl: this.baseUrl });
      } catch (e) {
        if (model !== SHIPPED[0][0] && !this.hasAttribute('model')) {
          // A remembered model that no longer loads: fall back to the default.
          this.fillModels(SHIPPED[0][0]);
          try {
            this.classifier = await loadClassifier({ model: SHIPPED[0][0], baseUrl: this.baseUrl });
          } catch (again) {
            return this.fail(again.message);
          }
        } else {
          return this.fail(e.message.startsWith('Model') ? e.message : `Model “${model}” could not be loaded: ${e.message}`);
        }
      }
      this.showCard();
      if (this.dataset.state === 'starting') this.setState('idle');
    }

    fillModels(chosen) {
      const options = SHIPPED.some(([v]) => v === chosen) ? SHIPPED : [...SHIPPED, [chosen, `custom: ${chosen}`]];
      this.ui.model.replaceChildren(...options.map(([value, label]) => new Option(label, value, false, value === chosen)));
    }

    setState(state) { this.dataset.state = state; }

    showStatus(text, { error = false, progress = null, cancellable = false } = {}) {
      const { status, statusText } = this.ui;
      status.hidden = false;
      status.classList.toggle('error', error);
      status.setAttribute('role', error ? 'alert' : 'status');
      statusText.textContent = text;
      this.ui.progress.hidden = progress === null;
      if (progress === null) this.ui.progressTimeline.hidden = true;
      if (progress !== null) this.ui.progress.value = progress;
      this.ui.cancel.hidden = !cancellable;
    }

    fail(message, detail = {}) {
      this.setState('error');
      this.showStatus(message, { error: true });
      this.dispatchEvent(new CustomEvent('genre-error', { detail: { message, ...detail }, bubbles: true, composed: true }));
    }

    /** The timeline under the progress bar, filled in as segments are done (drawn at most
     *  once a frame, however often they arrive). */
    partialTimeline() {
      const canvas = this.ui.progressTimeline;
      const colours = genreColours(this.classifier?.card.labels ?? []);
      const segments = [];
      let info = null;
      let pending = false;
      const draw = () => {
        pending = false;
        if (this.ui.progress.hidden) return;
        canvas.hidden = false;
        drawTimeline(canvas, segments, info, colours, null);
        this.partialSegments = segments.length;
      };
      this.partialSegments = 0;
      return {
        add: (more, songInfo) => {
          segments.push(...more);
          info = songInfo ?? info;
          if (!pending && info) { pending = true; requestAnimationFrame(draw); }
        },
      };
    }

    /** Switches model; re-runs the song on screen from its stored features. */
    async useModel(model) {
      if (!this.classifier) {
        // No model has loaded yet (the first one failed): start over with this one.
        try {
          this.classifier = await loadClassifier({ model, baseUrl: this.baseUrl });
        } catch (e) {
          return this.fail(e.message, { reason: 'model' });
        }
        remember(model);
        this.showCard();
        this.ui.status.hidden = true;
        if (!this.job) this.setState('idle');
        return;
      }
      const previous = this.classifier.model;
      if (this.shown && !this.job) this.showStatus(`Loading model “${model}”…`);
      try {
        await this.classifier.setModel(model);
      } catch (e) {
        this.fillModels(previous);
        remember(previous);
        return this.fail(e.message, { reason: 'model' });
      }
      remember(model);
      this.fillModels(model);
      this.showCard();
      if (!this.shown || this.job) {
        if (!this.job) { this.ui.status.hidden = true; this.setState(this.shown ? 'done' : 'idle'); }
        return;
      }
      if (!this.shown.held) {
        this.showStatus('Drop the song again to classify it with this model.');
        this.setState('done');
        return;
      }
      try {
        const { result, model: used, classifyMs } = await this.classifier.reclassify();
        Object.assign(this.shown, { result, model: used });
        this.shown.timings.classifyMs = classifyMs;
        this.ui.status.hidden = true;
        this.render();
        this.setState('done');
        this.dispatchEvent(new CustomEvent('genre-result', { detail: this.publicResult(), bubbles: true, composed: true }));
      } catch (e) {
        this.fail(e.message, { reason: e.reason });
      }
    }

    showCard() {
      const { model, card } = this.classifier;
      const v = card.training?.validation;
      this.ui.cardSummary.textContent = `Model: ${model}` + (v ? ` · ${percent(v.track_accuracy, 0)} of validation songs right` : '')
        + ` · ${kilobytes(card.weights.bytes)}`;
      this.ui.cardFacts.replaceChildren(...cardFacts(card).flatMap(([term, value]) => {
        const dt = document.createElement('dt'); dt.textContent = term;
        const dd = document.createElement('dd'); dd.textContent = value;
        return [dt, dd];
      }));
    }

    /**
     * Classifies a song (File, Blob, ArrayBuffer, typed array or `{ channels, sampleRate }`)
     * and shows it. Resolves to the result (as `genre-result` carries it); rejects with the
     * reason, which the element also shows.
     */
    async classify(input) {
      this.job?.controller.abort();
      const name = input?.name || 'the file';
      const controller = new AbortController();
      const job = { controller, name };
      this.job = job;
      // Starting a new song frees the stored features of the one on screen.
      if (this.shown) this.shown.held = false;
      this.setState('working');
      this.showStatus(`Decoding “${name}”…`, { cancellable: true });
      try {
        await this.starting;
        if (!this.classifier) throw new ClassifyError('no model could be loaded; choose one in the model list', 'model');
        const sofar = {};
        const partial = this.partialTimeline();
        const analysis = await this.classifier.analyse(input, {
          signal: controller.signal,
          onDecoded: () => { this.decodes++; },
          onProgress: ({ done, total, segments, info, wasmBytes }) => {
            if (this.job !== job) return;
            this.lastProgress = { done, total, wasmBytes };
            partial.add(segments ?? [], info);
            // The genre so far (the mean of the segments done), on screen from the first.
            for (const seg of segments ?? []) {
              for (const [g, p] of Object.entries(seg.probabilities)) sofar[g] = (sofar[g] ?? 0) + p;
            }
            const lead = Object.entries(sofar).sort((a, b) => b[1] - a[1])[0]?.[0];
            const soFar = lead && done < total ? ` · so far ${genreName(lead)}` : '';
            this.showStatus(`Analysing “${name}”: segment ${done} of ${total}${soFar}`, { progress: done / total, cancellable: true });
            this.dispatchEvent(new CustomEvent('genre-progress', {
              detail: { done, total, genre: lead ?? null, segments: segments ?? [] }, bubbles: true, composed: true,
            }));
          },
        });
        if (this.job !== job) throw new ClassifyError('cancelled', 'cancelled');
        this.job = null;
        this.shown = { name, held: true, ...analysis };
        this.selected = 0;
        this.ui.status.hidden = true;
        this.render();
        this.setState('done');
        const detail = this.publicResult();
        this.dispatchEvent(new CustomEvent('genre-result', { detail, bubbles: true, composed: true }));
        return detail;
      } catch (e) {
        if (this.job === job) {
          this.job = null;
          // The result on screen was of another song: do not leave it under this message.
          this.shown = null;
          this.ui.result.hidden = true;
          this.classifier?.forget();
          const message = e.reason === 'silent' ? `“${name}” is ${e.message}.`
            : e.reason === 'model' ? e.message
              : `Could not analyse “${name}”: ${e.message}`;
          this.fail(message, { reason: e.reason ?? 'input' });
        }
        throw e;
      }
    }

    publicResult() {
      const { result, model, info, timings, name } = this.shown;
      return { file: name, ...result, model, seconds: info.seconds, timings: { ...timings } };
    }

    /** Starts live mode: the microphone, classified about once a second. */
    async startListening() {
      if (this.live) return;
      await this.starting;
      if (!this.classifier) return this.fail('no model could be loaded; choose one in the model list', { reason: 'model' });
      const live = { session: null, windows: [], model: this.classifier.model };
      this.live = live;
      this.liveWindows = live.windows;
      this.ui.listen.textContent = 'Stop';
      this.ui.listen.setAttribute('aria-pressed', 'true');
      this.ui.live.hidden = false;
      this.ui.liveNow.textContent = 'Starting the microphone…';
      this.ui.liveFacts.textContent = '';
      try {
        live.session = await this.classifier.listen({
          onWindow: (w) => this.liveWindow(live, w),
          onError: (e) => { this.stopListening(); this.fail(`Live mode stopped: ${e.message}`, { reason: 'live' }); },
        });
      } catch (e) {
        this.live = null;
        this.resetListenButton();
        this.ui.live.hidden = true;
        return this.fail(`Live mode: ${e.message}`, { reason: 'live' });
      }
      if (this.live !== live) { live.session.stop(); return; }
      this.ui.liveNow.textContent = 'Listening… the first verdict comes after 3 s.';
      this.ui.status.hidden = true;
    }

    stopListening() {
      if (!this.live) return;
      this.live.session?.stop();
      this.live = null;
      this.resetListenButton();
      this.ui.liveNow.textContent = 'Stopped; the microphone is released.';
    }

    resetListenButton() {
      this.ui.listen.textContent = 'Listen';
      this.ui.listen.setAttribute('aria-pressed', 'false');
    }

    liveWindow(live, w) {
      if (this.live !== live) return;
      live.windows.push({ endS: w.endS, quiet: w.quiet, genre: w.result?.genre ?? null, probabilities: w.result?.probabilities ?? null });
      if (live.windows.length > 600) live.windows.splice(0, live.windows.length - 600);
      const { ui } = this;
      if (w.quiet) {
        ui.liveNow.textContent = 'Listening… (too quiet to tell)';
      } else {
        const p = w.result.probabilities[w.result.genre];
        const strong = document.createElement('strong');
        strong.textContent = genreName(w.result.genre);
        ui.liveNow.replaceChildren('Now: ', strong, ` (${percent(p, 0)})`);
      }
      ui.liveFacts.textContent = `heard ${formatTime(w.endS)} · the worker was busy ${(100 * w.busyMs / 1000 / w.endS).toFixed(1)} % of the time`;
      this.drawLive(live);
      this.dispatchEvent(new CustomEvent('genre-live', { detail: { ...w }, bubbles: true, composed: true }));
    }

    drawLive(live) {
      const SPAN = 60;  // seconds shown, newest on the right
      const canvas = this.ui.liveTimeline;
      const ctx = fitCanvas(canvas);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const colours = genreColours(this.classifier.card.labels);
      const quiet = cssVar(canvas, '--border');
      const step = canvas.width / SPAN;
      const newest = live.windows.at(-1)?.endS ?? 0;
      for (const w of live.windows) {
        const x = canvas.width - (newest - w.endS + 1) * step;
        if (x + step < 0) continue;
        ctx.fillStyle = w.quiet ? quiet : colours[w.genre];
        ctx.fillRect(Math.floor(x), w.quiet ? canvas.height / 3 : 0, Math.ceil(step) - (step > 6 ? 1 : 0), w.quiet ? canvas.height / 3 : canvas.height);
      }
    }

    wire() {
      const { ui } = this;
      ui.listen.addEventListener('click', () => (this.live ? this.stopListening() : this.startListening()));
      ui.model.addEventListener('change', () => this.useModel(ui.model.value));
      const start = (file) => this.classify(file).catch(() => { /* shown in the element */ });
      ui.file.addEventListener('change', () => {
        if (ui.file.files[0]) start(ui.file.files[0]);
        ui.file.value = '';
      });
      ui.drop.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); ui.file.click(); }
      });
      for (const type of ['dragenter', 'dragover']) {
        ui.drop.addEventListener(type, (e) => { e.preventDefault(); ui.drop.classList.add('over'); });
      }
      for (const type of ['dragleave', 'drop']) ui.drop.addEventListener(type, () => ui.drop.classList.remove('over'));
      ui.drop.addEventListener('drop', (e) => {
        e.preventDefault();
        e.stopPropagation();
        const file = e.dataTransfer?.files?.[0];
        if (file) start(file);
        else this.fail('Nothing to analyse: drop an audio file.');
      });
      ui.cancel.addEventListener('click', () => {
        if (!this.job) return;
        this.job.controller.abort();
        this.job = null;
        this.setState(this.shown ? 'done' : 'idle');
        this.showStatus('Cancelled.');
      });
      ui.timeline.addEventListener('mousemove', (e) => {
        if (!this.shown) return;
        const rect = ui.timeline.getBoundingClientRect();
        this.selected = segmentAt(this.shown.result.segments, this.shown.info, (e.clientX - rect.left) / rect.width);
        this.redrawTimeline(true);
      });
      ui.timeline.addEventListener('mouseleave', () => this.shown && this.redrawTimeline());
      ui.timeline.addEventListener('focus', () => this.shown && this.redrawTimeline(true));
      ui.timeline.addEventListener('blur', () => this.shown && this.redrawTimeline(false));
      ui.timeline.addEventListener('keydown', (e) => {
        const steps = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
        if (e.key in steps) this.selectSegment(this.selected + steps[e.key]);
        else if (e.key === 'Home') this.selectSegment(0);
        else if (e.key === 'End') this.selectSegment(Infinity);
        else return;
        e.preventDefault();
      });
    }

    selectSegment(index) {
      if (!this.shown) return;
      this.selected = Math.max(0, Math.min(this.shown.result.segments.length - 1, index));
      this.redrawTimeline(true);
    }

    redrawTimeline(focused = this.shadowRoot.activeElement === this.ui.timeline) {
      const { result, info } = this.shown;
      drawTimeline(this.ui.timeline, result.segments, info, genreColours(this.classifier.card.labels), focused ? this.selected : null);
      this.ui.segmentDetail.textContent = describeSegment(result.segments[this.selected], info);
    }

    render() {
      const { ui } = this;
      const { name, info, result, timings, channels, model } = this.shown;
      ui.result.hidden = false;
      ui.resultTitle.textContent = name;
      const notes = [];
      const segmentSeconds = +info.segmentSeconds.toFixed(2);
      if (info.padded) notes.push(`shorter than one ${segmentSeconds} s segment, so ${info.shortSongFill === 'loop' ? 'looped to fill it' : 'padded with silence'}: the verdict is less reliable`);
      ui.resultFacts.textContent = [
        `${formatTime(info.seconds)} · ${channels} channel${channels === 1 ? '' : 's'} · ${info.segments} segment${info.segments === 1 ? '' : 's'} of ${segmentSeconds} s`,
        `result in ${timings.totalMs.toFixed(0)} ms (decoding ${timings.decodeMs.toFixed(0)} ms, features ${timings.featureMs.toFixed(0)} ms, ${model} ${timings.classifyMs.toFixed(0)} ms)`,
        ...notes,
      ].join(' · ');

      const labels = this.classifier.card.labels;
      const colours = genreColours(labels);
      const ranked = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
      const [top, p] = ranked[0];
      const strong = document.createElement('strong');
      strong.textContent = genreName(top);
      ui.verdict.replaceChildren('Most likely ', strong, ` (${percent(p, 0)})`);
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
      ui.tags.hidden = !result.tags?.length;
      ui.tags.textContent = result.tags?.length
        ? `Sounds like: ${result.tags.map((t) => `${t.tag} (${percent(t.probability, 0)})`).join(', ')}`
        : '';
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
      this.selected = Math.min(this.selected, result.segments.length - 1);
      this.redrawTimeline();
      drawAxis(ui.timelineAxis, ui.timeline, info.seconds);
      const { mfcc } = this.shown;
      this.lastAnalysis = {
        info, result, model, ...timings, wasmBytes: this.shown.wasmBytes,
        /** The features of each segment (MFCCs or log-mel bands; frames × values, frame-major). */
        get segments() { return splitSegments(mfcc, info.framesPerSegment * info.nMfcc); },
      };
      const spectrogram = info.featureKind === 'log-mel';
      ui.heatmapTitle.textContent = spectrogram ? 'Log-mel spectrogram (what musicnn hears)' : 'MFCC heatmap';
      ui.heatmapShape.textContent = `${info.nMfcc} ${spectrogram ? 'mel bands' : 'coefficients'} × ${info.segments * info.framesPerSegment} frames (each row scaled to its own range)`;
      if (!this.hasAttribute('compact')) {
        drawWaveform(ui.waveform, this.shown.peaks);
        drawHeatmap(ui.heatmap, mfcc, info);
        drawAxis(ui.heatmapAxis, ui.heatmap, info.segments * info.segmentSeconds);
      }
    }
  }
  customElements.define('genre-classifier', GenreClassifierElement);
}

if (globalThis.customElements && !customElements.get('genre-classifier')) defineElement();
