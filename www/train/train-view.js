// "Train your own" in the element (its `train` attribute shows the button that opens it;
// this module loads then, not before the first song): labels with the songs dropped on
// each (or a folder whose sub-folders are the labels), Train with a progress bar and
// Cancel, the cross-validated report, and the models kept in this browser (use,
// download, delete, open from files).
import { filesFromDrop, filesFromInput } from '../gather-files.js';
import { TrainStore } from './store.js';
import { TrainedModel } from './trainer.js';
import { showReport } from './report-view.js';
import { TRAIN_MARKUP } from './train-markup.js';

/** A label's card: its name, its songs, a drop zone. */
function labelCard(label, { onRemove, onFiles }) {
  const card = document.createElement('div');
  card.className = 'train-label';
  card.innerHTML = `<div class="train-label-head"><input aria-label="Label name" maxlength="80">
    <span class="train-count"></span><button type="button" class="train-remove" aria-label="Remove label">Remove</button></div>
    <label class="train-drop" tabindex="0">Drop songs or folders for this label, or choose files
    <input type="file" multiple accept="audio/*,.au,.ogg,.flac,.wav,.mp3,.m4a,.opus" hidden></label>
    <ul class="train-songs"></ul>`;
  const [name, count, remove, drop, input, list] = ['input', '.train-count', '.train-remove', '.train-drop', '.train-drop input', '.train-songs']
    .map((s) => card.querySelector(s));
  name.value = label.name;
  name.addEventListener('input', () => { label.name = name.value; });
  remove.addEventListener('click', onRemove);
  input.addEventListener('change', () => onFiles(filesFromInput(input)));
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    filesFromDrop(e.dataTransfer).then(({ files }) => onFiles(files));
  });
  const render = () => {
    count.textContent = `${label.files.length} song${label.files.length === 1 ? '' : 's'}`;
    list.replaceChildren(...label.files.slice(0, 50).map((f) => Object.assign(document.createElement('li'), { textContent: f.path })));
  };
  render();
  return { card, render };
}

/** Labels from a folder chosen whole: each sub-folder's songs under its name. */
function labelsFromFolder(files) {
  const byLabel = new Map();
  for (const f of files) {
    const parts = f.path.split('/');
    if (parts.length < 3) continue;  // a file at the top: no label
    const label = parts[1];
    if (!byLabel.has(label)) byLabel.set(label, []);
    byLabel.get(label).push(f);
  }
  // In name order, as `train --own-labels` takes them, so that both train the same model.
  const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byLabel].sort(([a], [b]) => byName(a, b))
    .map(([name, songs]) => ({ name, files: songs.sort((a, b) => byName(a.path, b.path)) }));
}

export class TrainView {
  /** `root`: the element's shadow root; `host`: the element (its classifier and model choice). */
  constructor(root, host) {
    this.host = host;
    this.labels = [{ name: 'label 1', files: [] }, { name: 'label 2', files: [] }];
    this.section = document.createElement('section');
    this.section.className = 'train';
    this.section.id = 'train';
    this.section.innerHTML = TRAIN_MARKUP;
    root.querySelector('#drop').before(this.section);
    this.part = (name) => this.section.querySelector(`[data-part="${name}"]`);
    this.wire();
    this.renderLabels();
    this.ready = TrainStore.open().then((store) => { this.store = store; return this.renderModels(); });
  }

  wire() {
    const on = (part, type, f) => this.part(part).addEventListener(type, f);
    on('add', 'click', () => { this.labels.push({ name: `label ${this.labels.length + 1}`, files: [] }); this.renderLabels(); });
    on('folder', 'click', () => this.part('folder-input').click());
    on('folder-input', 'change', () => {
      const labels = labelsFromFolder(filesFromInput(this.part('folder-input')));
      if (labels.length) { this.labels = labels; this.renderLabels(); } else this.say('That folder has no sub-folders of songs: make one per label.', true);
    });
    on('train', 'click', () => this.train());
    on('cancel', 'click', () => this.controller?.abort());
    on('open', 'click', () => this.part('open-input').click());
    on('open-input', 'change', () => this.openFiles([...this.part('open-input').files]));
    on('close', 'click', () => { this.section.hidden = true; });
  }

  renderLabels() {
    this.part('labels').replaceChildren(...this.labels.map((label) => {
      const view = labelCard(label, {
        onRemove: () => { this.labels = this.labels.filter((l) => l !== label); this.renderLabels(); },
        onFiles: (files) => { label.files.push(...files); view.render(); },
      });
      return view.card;
    }));
  }

  /** Shows `text` in the status line (an error when `error`). */
  say(text, error = false) {
    const status = this.part('status');
    status.textContent = text;
    status.classList.toggle('error', error);
    status.setAttribute('role', error ? 'alert' : 'status');
  }

  /** Trains on the labels on screen; shows the report, keeps and uses the model. */
  async train() {
    const examples = Object.fromEntries(this.labels.map((l) => [l.name, l.files.map((f) => f.file)]));
    const name = this.part('name').value.trim() || 'my-model';
    const bar = this.part('progress');
    this.controller = new AbortController();
    this.busy(true);
    try {
      const model = await this.host.classifier.trainModel(examples, {
        name, signal: this.controller.signal, store: this.store?.persistent ? this.store : null,
        onProgress: ({ stage, done, total }) => {
          bar.value = done / Math.max(1, total);
          this.say(stage === 'embedding' ? `Listening to the songs: ${done} of ${total}` : `Training (${stage}): ${done} of ${total}`);
        },
      });
      showReport(this.part('report'), model);
      await this.keep(model);
      const seconds = (ms) => (ms / 1000).toFixed(1);
      this.say(`Trained “${name}” (listening ${seconds(model.timings.embedMs)} s, training ${seconds(model.timings.trainMs)} s): it is now the model in use.`
        + `${model.skipped.length ? ` ${model.skipped.length} song(s) could not be used (see below).` : ''}`);
    } catch (e) {
      this.say(e.reason === 'cancelled' ? 'Training cancelled.' : `Could not train: ${e.message}`, e.reason !== 'cancelled');
    } finally {
      this.busy(false);
    }
  }

  busy(on) {
    this.part('train').disabled = on;
    this.part('cancel').hidden = !on;
    this.part('progress').hidden = !on;
  }

  /** Stores `model` in this browser (where it can), lists it and uses it. */
  async keep(model) {
    await this.ready;
    try {
      await this.store.saveModel({ name: model.name, card: model.cardText, weights: model.weights, savedAt: Date.now() });
    } catch (e) {
      this.say(`${e.message}`, true);
    }
    this.session ??= new Map();
    this.session.set(model.name, model);
    await this.host.useModel(await model.load(this.host.classifier.engine));
    await this.renderModels();
  }

  /** The model called `name`, from this visit or the store. */
  async modelNamed(name) {
    const held = this.session?.get(name);
    if (held) return held;
    const stored = await this.store.loadModel(name);
    return stored && new TrainedModel(stored.name, stored.card, stored.weights);
  }

  async renderModels() {
    const names = new Set([...(await this.store.listModels()).map((m) => m.name), ...(this.session?.keys() ?? [])]);
    this.host.modelChoice.trained = [...names];
    this.host.modelChoice.show(this.host.classifier?.model);
    this.part('models').replaceChildren(...[...names].sort().map((name) => this.modelRow(name)));
    this.part('no-models').hidden = names.size > 0;
    this.part('storage').textContent = this.store.persistent ? ''
      : 'This browser does not let the page keep models (a private window?): download a model to keep it.';
  }

  modelRow(name) {
    const li = document.createElement('li');
    li.innerHTML = '<span class="train-model-name"></span> <button type="button">Use</button> <button type="button">Download</button> <button type="button">Delete</button>';
    li.firstElementChild.textContent = name;
    const [use, download, remove] = li.querySelectorAll('button');
    use.addEventListener('click', async () => this.host.useModel(await (await this.modelNamed(name)).load(this.host.classifier.engine)));
    download.addEventListener('click', async () => this.download(await this.modelNamed(name)));
    remove.addEventListener('click', async () => {
      await this.store.deleteModel(name);
      this.session?.delete(name);
      await this.renderModels();
    });
    return li;
  }

  /** Offers the model's two files; put them in one folder for `classify --model DIR`. */
  async download(model) {
    for (const [file, blob] of Object.entries(await model.files())) {
      const url = URL.createObjectURL(blob);
      Object.assign(document.createElement('a'), { href: url, download: file }).click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
  }

  /** "Open model": a card.json and a model.bpk chosen together. */
  async openFiles(files) {
    const card = files.find((f) => f.name.endsWith('.json'));
    const weights = files.find((f) => f.name.endsWith('.bpk'));
    if (!card || !weights) {
      this.say('Choose both files of a model: its card.json and its model.bpk.', true);
      return;
    }
    try {
      const text = await card.text();
      const name = JSON.parse(text).training?.name ?? card.name.replace(/\.json$/, '');
      await this.keep(new TrainedModel(name, text, new Uint8Array(await weights.arrayBuffer())));
      this.say(`Opened “${name}”: it is now the model in use.`);
    } catch (e) {
      this.say(`Could not open that model: ${e.message}`, true);
    }
  }
}
