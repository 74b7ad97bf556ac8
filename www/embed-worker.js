// A helper for worker.js: its own wasm instance and copy of a model with a backbone
// (musicnn), embedding the patches it is sent, so a song's patches are computed on more
// than one core without SharedArrayBuffer (embedding sites need no COOP/COEP headers).
//
// worker.js → here: { type: 'load', module, card, weights }     the compiled main package
//                                                            (packages.js), the model
//                   { type: 'embed', job, features }          one or more patches
// here → worker.js: { type: 'loaded' } | { type: 'embedded', job, embeddings }
//                   | { type: 'failed', job, message }         (job null: the load failed)
import { mainPackage } from './packages.js';

let model = null;

onmessage = async ({ data }) => {
  if (data.type === 'load') {
    try {
      const pkg = await mainPackage();
      await pkg.default({ module_or_path: data.module });
      model = new pkg.GenreModel(data.card, new Uint8Array(data.weights));
      postMessage({ type: 'loaded' });
    } catch (e) {
      postMessage({ type: 'failed', job: null, message: e.message ?? String(e) });
    }
  } else if (data.type === 'embed') {
    try {
      const embeddings = model.embed(data.features);
      postMessage({ type: 'embedded', job: data.job, embeddings }, [embeddings.buffer]);
    } catch (e) {
      postMessage({ type: 'failed', job: data.job, message: e.message ?? String(e) });
    }
  }
};
