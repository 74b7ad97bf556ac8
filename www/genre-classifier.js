// <genre-classifier>: the whole drop-a-song experience as one element (attributes,
// events and methods: README.md, "Embedding the widget"), and `loadClassifier` beside it (in a Web
// Worker only that). Its parts are in element/; batch/ (many songs) and train/ ("Train
// your own") load when first needed.
import { loadClassifier, ClassifyError } from './classifier.js';
import { splitSegments } from './draw.js';
import { buildShadow } from './element/template.js';
import { ResultView } from './element/view.js';
import { SongProgress } from './element/song-progress.js';
import { ModelChoice } from './element/model-choice.js';
import { LiveMode } from './element/live.js';
import { showCard } from './element/card.js';
import { filesFromInput, filesFromDrop } from './gather-files.js';

export { loadClassifier, ClassifyError };
export { Classifier, shippedModels } from './classifier.js';

/** The widget's stylesheet: in the folder `base` when one is given (the base-url
 *  attribute), else beside this script, by the literal URL bundlers follow and copy. */
function stylesheetUrl(base) {
  return base ? new URL('genre-classifier.css', base).href : new URL('./genre-classifier.css', import.meta.url).href;
}
const NO_MODEL = 'no model could be loaded; choose one in the model list';

/** What `lastAnalysis` holds: the result on screen with its timings, and its features. */
function analysisOf({ info, result, model, timings, wasmBytes, features }) {
  return {
    info, result, model, ...timings, wasmBytes,
    /** The features of each segment (MFCCs or log-mel bands; frames × values, frame-major). */
    get segments() { return splitSegments(features, info.framesPerSegment * info.featureWidth); },
  };
}

// A Web Worker has no HTMLElement: there the class is defined on a stand-in, and not registered.
export class GenreClassifierElement extends (globalThis.HTMLElement ?? class {}) {
  static get observedAttributes() { return ['model', 'live', 'train']; }

  constructor() {
    super();
    const ui = buildShadow(this.attachShadow({ mode: 'open' }), stylesheetUrl(this.baseUrl));
    this.ui = ui;
    this.classifier = null;
    this.decodes = 0;
    this.view = new ResultView(ui, { compact: () => this.hasAttribute('compact') });
    this.songProgress = new SongProgress(ui, {
      onCancel: () => {
        this.setState(this.view.song ? 'done' : 'idle');
        this.songProgress.show('Cancelled.');
      },
    });
    this.modelChoice = new ModelChoice(ui.model);
    this.liveMode = new LiveMode(ui);
    this.wire();
  }

  connectedCallback() {
    if (!this.dataset.state) this.setState('starting');
    const css = stylesheetUrl(this.baseUrl);
    if (this.ui.stylesheet.href !== css) this.ui.stylesheet.href = css;
    this.resizeObserver = new ResizeObserver(() => this.view.render());
    this.resizeObserver.observe(this);
    if (!this.starting) this.starting = this.start();
  }

  disconnectedCallback() {
    this.liveMode.stop();
    this.resizeObserver?.disconnect();
    this.songProgress.abort();
    // Free the worker's copy of the song's features; the result stays on screen.
    this.classifier?.forget();
    if (this.view.song) this.view.song.held = false;
  }

  attributeChangedCallback(name, old, value) {
    if (name === 'model' && old !== value && this.classifier && value) this.useModel(value);
    if (name === 'train') this.ui.trainOpen.hidden = value === null;
    if (name === 'live') {
      this.ui.listen.hidden = value === null;
      if (value === null) this.liveMode.stop();
    }
  }

  /** Where worker.js, pkg/, models/ and the stylesheet live: the base-url attribute, or
   *  null for beside this script (wherever a bundler put them). */
  get baseUrl() {
    const attribute = this.getAttribute('base-url');
    return attribute === null ? null : new URL(attribute, document.baseURI);
  }

  /** The result on screen, with timings (what genre-result carried). */
  get lastResult() { return this.view.song ? this.publicResult() : null; }

  /** Live mode's windows (of the session running, or the last one). */
  get liveWindows() { return this.liveMode.windows; }

  /** Segments drawn on the progress timeline of the song in progress. */
  get partialSegments() { return this.songProgress.drawnSegments; }

  async start() {
    try {
      this.classifier = await this.modelChoice.open(this.getAttribute('model'), this.baseUrl);
    } catch (e) {
      return this.fail(e.message);
    }
    showCard(this.ui, this.classifier);
    if (this.dataset.state === 'starting') this.setState('idle');
  }

  setState(state) { this.dataset.state = state; }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    return detail;
  }

  fail(message, detail = {}) {
    this.setState('error');
    this.songProgress.show(message, { error: true });
    this.emit('genre-error', { message, ...detail });
  }

  /** Switches model; re-runs the song on screen from its stored features. */
  async useModel(model) {
    if (!this.classifier) return this.firstModel(model);
    const previous = this.classifier.model;
    const busy = () => this.songProgress.job !== null;
    if (this.view.song && !busy()) this.songProgress.show(`Loading model “${model}”…`);
    try {
      if (model.startsWith('trained:')) await (await import('./train/trainer.js')).loadStored(this.classifier.engine, model);
      await this.classifier.setModel(model);
    } catch (e) {
      this.modelChoice.show(previous);
      this.modelChoice.remember(previous);
      return this.fail(e.message, { reason: 'model' });
    }
    this.modelChoice.remember(model);
    this.modelChoice.show(model);
    showCard(this.ui, this.classifier);
    if (busy()) return;
    if (this.view.song) return this.rerun();
    this.songProgress.hide();
    this.setState('idle');
  }

  /** "Train your own" (the `train` attribute): its view, loaded the first time it opens.
   *  Resolves to the view (`element.training`, for tests and the curious). */
  async openTraining() {
    this.trainingLoading ??= import('./train/train-view.js').then(({ TrainView }) => (this.training = new TrainView(this.shadowRoot, this)));
    const view = await this.trainingLoading;
    view.section.hidden = false;
    return view;
  }

  /** Loads `model` when no model has loaded yet (the first one failed): starts over with it. */
  async firstModel(model) {
    try {
      this.classifier = await loadClassifier({ model, baseUrl: this.baseUrl });
    } catch (e) {
      return this.fail(e.message, { reason: 'model' });
    }
    this.modelChoice.remember(model);
    showCard(this.ui, this.classifier);
    this.songProgress.hide();
    if (!this.songProgress.job) this.setState('idle');
  }

  /** The song on screen again, with the model now chosen. */
  async rerun() {
    if (!this.view.song.held) {
      this.songProgress.show('Drop the song again to classify it with this model.');
      this.setState('done');
      return;
    }
    try {
      const { result, model, classifyMs } = await this.classifier.reclassify();
      Object.assign(this.view.song, { result, model });
      this.view.song.timings.classifyMs = classifyMs;
      this.showSong(this.view.song, { fromStart: false });
    } catch (e) {
      this.fail(e.message, { reason: e.reason });
    }
  }

  /**
   * Classifies a song (File, Blob, ArrayBuffer, typed array or `{ channels, sampleRate }`)
   * and shows it. Resolves to the result (as `genre-result` carries it); rejects with the
   * reason, which the element also shows.
   */
  async classify(input, { name = input?.name || 'the file' } = {}) {
    const job = this.songProgress.begin(name);
    // Starting a new song frees the stored features of the one on screen.
    if (this.view.song) this.view.song.held = false;
    this.setState('working');
    this.songProgress.show(`Decoding “${name}”…`, { cancellable: true });
    try {
      const analysis = await this.analyse(input, job);
      if (!this.songProgress.end(job)) throw new ClassifyError('cancelled', 'cancelled');
      return this.showSong({ name, held: true, ...analysis }, { fromStart: true });
    } catch (e) {
      if (this.songProgress.end(job)) this.failSong(name, e);
      throw e;
    }
  }

  /** The classifier's analysis of `input`, shown in progress as the song `job`. */
  async analyse(input, job) {
    await this.starting;
    if (!this.classifier) throw new ClassifyError(NO_MODEL, 'model');
    const { labels } = this.classifier.card;
    return this.classifier.analyse(input, {
      signal: job.controller.signal,
      onDecoded: () => { this.decodes++; },
      onProgress: ({ done, total, segments, soFar, info, wasmBytes, quick = false }) => {
        if (!this.songProgress.isCurrent(job)) return;
        this.lastProgress = { done, total, wasmBytes };
        const genre = soFar?.genre ?? null;
        this.songProgress.update(job, { done, total, segments: segments ?? [], genre, unsure: soFar?.unsure, info, quick }, labels);
        this.emit('genre-progress', { done, total, genre, segments: segments ?? [], quick });
      },
    });
  }

  /** Puts `song` on screen and announces it; returns what genre-result carried. */
  showSong(song, { fromStart }) {
    this.songProgress.hide();
    this.view.show(song, this.classifier.card.labels, { fromStart });
    this.lastAnalysis = analysisOf(song);
    this.setState('done');
    return this.emit('genre-result', this.publicResult());
  }

  /** Says why the song called `name` could not be classified (`e`). */
  failSong(name, e) {
    // The result on screen was of another song: do not leave it under this message.
    this.view.clear();
    this.classifier?.forget();
    const message = e.reason === 'silent' ? `“${name}” is ${e.message}.`
      : e.reason === 'not-music' ? `“${name}” ${e.message}.`
        : e.reason === 'model' ? e.message
          : `Could not analyse “${name}”: ${e.message}`;
    this.fail(message, { reason: e.reason ?? 'input' });
  }

  publicResult() {
    const { result, model, info, timings, name } = this.view.song;
    return { file: name, ...result, model, seconds: info.seconds, timings: { ...timings } };
  }

  /**
   * Classifies many songs (Files, or `{ file, path }`) into the library table, telling
   * audio from other files by content (those are listed as skipped). Fires
   * genre-batch-progress per song and genre-batch-done at the end; resolves to the
   * outputs, one per song: `{ file, result }` or `{ file, error, reason }`.
   */
  async classifyAll(inputs, { unreadable = [] } = {}) {
    await this.starting;
    if (!this.classifier) {
      this.fail(NO_MODEL, { reason: 'model' });
      throw new ClassifyError(NO_MODEL, 'model');
    }
    return (await this.batchMode()).start(this.classifier, [...inputs], unreadable);
  }

  /** The many-songs mode (batch/batch.js), loaded the first time many songs arrive: it is
   *  not part of the page's first download. */
  batchMode() {
    // `this.batch`: the mode once loaded (the table's run, for tests and the curious).
    this.batchLoading ??= import('./batch/batch.js').then(({ Batch }) => (this.batch = new Batch(this.ui, {
      emit: (type, detail) => this.emit(type, detail),
      onOpen: (song) => this.openStored(song),
    })));
    return this.batchLoading;
  }

  /** Files given at once (`{ files: [{ file, path }], unreadable, folders }`): one song
   *  alone is shown as ever; several, or a folder, go to the library table. */
  take({ files, unreadable = [], folders = 0 }) {
    const quiet = () => { /* shown in the element */ };
    if (files.length === 1 && folders === 0 && unreadable.length === 0) return this.classify(files[0].file).catch(quiet);
    if (files.length === 0 && folders === 0 && unreadable.length === 0) return this.fail('Nothing to analyse: drop an audio file.');
    return this.classifyAll(files, { unreadable }).catch(quiet);
  }

  /** Shows a song of the library table in the full view: its stored result at once, then,
   *  where its file can be read again, the waveform and features from a new analysis. */
  openStored({ output, summary, input }) {
    if (output.error) {
      this.songProgress.show(`Could not analyse “${output.file}”: ${output.error}`, { error: true });
      return;
    }
    const { result } = output;
    this.view.show({ name: output.file, ...summary, result, model: result.model, peaks: null, features: null, held: false },
      Object.keys(result.probabilities), { fromStart: true });
    this.ui.result.scrollIntoView?.({ block: 'start' });
    const file = input?.file ?? input;
    if (typeof Blob !== 'undefined' && file instanceof Blob) this.classify(file, { name: output.file }).catch(() => {});
  }

  /** Starts live mode: the microphone, classified about once a second. */
  async startListening() {
    if (this.liveMode.listening) return;
    await this.starting;
    if (!this.classifier) return this.fail(NO_MODEL, { reason: 'model' });
    try {
      const listening = await this.liveMode.start(this.classifier, {
        onWindow: (w) => this.emit('genre-live', { ...w }),
        onError: (e) => this.fail(`Live mode stopped: ${e.message}`, { reason: 'live' }),
      });
      if (listening) this.songProgress.hide();
    } catch (e) {
      this.fail(`Live mode: ${e.message}`, { reason: 'live' });
    }
  }

  /** The toolbar and the drop zone: a file chosen or dropped is classified. */
  wire() {
    const { ui } = this;
    ui.listen.addEventListener('click', () => (this.liveMode.listening ? this.liveMode.stop() : this.startListening()));
    ui.model.addEventListener('change', () => this.useModel(ui.model.value));
    ui.file.addEventListener('change', () => {
      if (ui.file.files.length) this.take({ files: filesFromInput(ui.file) });
      ui.file.value = '';
    });
    ui.chooseFolder.addEventListener('click', () => ui.folder.click());
    ui.trainOpen.addEventListener('click', () => this.openTraining());
    ui.folder.addEventListener('change', () => {
      this.take({ files: filesFromInput(ui.folder), folders: 1 });
      ui.folder.value = '';
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
      filesFromDrop(e.dataTransfer).then((given) => this.take(given));
    });
  }
}

if (globalThis.customElements && !customElements.get('genre-classifier')) {
  customElements.define('genre-classifier', GenreClassifierElement);
}
