// The model selector: the shipped models (and the custom one in use, if any), the choice
// remembered across visits, and the fallback to the default model when a remembered one
// no longer loads.
import { loadClassifier, shippedModels } from '../classifier.js';

const STORAGE_KEY = 'genre-classifier.model';

function storedModel() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

export class ModelChoice {
  /** `select`: the element's model selector. */
  constructor(select) {
    this.select = select;
    this.shipped = [];   // [{ name, label }] of the shipped models, the default first (from the worker)
    this.trained = [];   // names of the models trained in this browser (the train view lists them)
  }

  /** The model used when none is given or remembered: the first shipped one. */
  get defaultModel() { return this.shipped[0]?.name; }

  /** Lists the shipped models and those trained here in the selector, and `chosen` as a
   *  custom one if it is none of them; selects `chosen`. */
  show(chosen) {
    const known = [...this.shipped, ...this.trained.map((name) => ({ name: `trained:${name}`, label: `yours: ${name}` }))];
    const options = known.some((m) => m.name === chosen) ? known : [...known, { name: chosen, label: `custom: ${chosen}` }];
    this.select.replaceChildren(...options.map(({ name, label }) => new Option(label, name, false, name === chosen)));
  }

  /** Remembers `model` for the next visit (where storage is allowed). */
  remember(model) {
    try { localStorage.setItem(STORAGE_KEY, model); } catch { /* not remembered, still used */ }
  }

  /**
   * The first classifier, from `baseUrl`: the model `attribute` names, else the one chosen
   * last, else the default. A remembered model that no longer loads gives way to the
   * default. Rejects with a message for the person when no model loads.
   */
  async open(attribute, baseUrl) {
    let model = attribute ?? storedModel();
    try {
      this.shipped = await shippedModels({ baseUrl });
      model ??= this.defaultModel;
      this.show(model);
      return await loadClassifier({ model, baseUrl });
    } catch (e) {
      if (model === this.defaultModel || attribute !== null || !this.shipped.length) {
        throw new Error(e.message.startsWith('Model') || !model ? e.message : `Model “${model}” could not be loaded: ${e.message}`);
      }
    }
    // A remembered model that no longer loads: fall back to the default.
    this.show(this.defaultModel);
    return loadClassifier({ model: this.defaultModel, baseUrl });
  }
}
