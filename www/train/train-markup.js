// The "Train your own" view's markup (train-view.js fills it in).

/** The view's parts, by `data-part`, and its styles (loaded with it, not before). */
export const TRAIN_MARKUP = `
<style>
.train { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 1rem; margin-bottom: 1rem; }
.train-head { display: flex; justify-content: space-between; align-items: center; }
.train h2 { margin: 0; font-size: 1.2rem; }
.train-labels { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0.75rem; margin: 0.75rem 0; }
.train-label { border: 1px solid var(--border); border-radius: calc(var(--radius) / 2); padding: 0.5rem; }
.train-label-head { display: flex; gap: 0.5rem; align-items: center; }
.train-label-head input { flex: 1; min-width: 0; font-weight: 600; }
.train-drop { display: block; margin: 0.5rem 0; padding: 0.75rem; border: 2px dashed var(--border); border-radius: calc(var(--radius) / 2); text-align: center; cursor: pointer; font-size: 0.9rem; }
.train-songs { margin: 0; padding-left: 1.2rem; max-height: 8rem; overflow: auto; font-size: 0.85rem; }
.train-actions { display: flex; flex-wrap: wrap; gap: 0.5rem 0.75rem; align-items: center; }
.train progress { width: 100%; }
.train-status.error, .train-warning { color: var(--error, #b00020); }
.train-report table { border-collapse: collapse; margin: 0.5rem 0; font-variant-numeric: tabular-nums; }
.train-report th, .train-report td { border: 1px solid var(--border); padding: 0.2rem 0.5rem; text-align: right; }
.train-report caption { text-align: left; font-weight: 600; }
.train-models li { margin: 0.25rem 0; }
</style>
<div class="train-head"><h2>Train your own</h2><button type="button" data-part="close">Close</button></div>
<p class="train-hint">Make a label for each kind of song you want told apart, drop songs or folders
on each, then Train. With 5 songs a label or more you get a cross-validated score. Songs never
leave this machine; only what the network heard in them is kept, to train again quickly.</p>
<div class="train-labels" data-part="labels"></div>
<div class="train-actions">
  <button type="button" data-part="add">Add a label</button>
  <button type="button" data-part="folder">Choose a folder of labels</button>
  <input type="file" data-part="folder-input" webkitdirectory multiple hidden>
  <label>Model name <input data-part="name" value="my-model" maxlength="80"></label>
  <button type="button" data-part="train" class="primary">Train</button>
  <button type="button" data-part="cancel" hidden>Cancel</button>
</div>
<progress data-part="progress" max="1" value="0" hidden></progress>
<p data-part="status" class="train-status" role="status" aria-live="polite"></p>
<div data-part="report" class="train-report" hidden></div>
<h3>Your models</h3>
<p data-part="no-models">None yet: train one, or open one (its card.json and model.bpk).</p>
<ul data-part="models" class="train-models"></ul>
<p data-part="storage" class="train-status"></p>
<button type="button" data-part="open">Open model…</button>
<input type="file" data-part="open-input" multiple accept=".json,.bpk" hidden>
`;
