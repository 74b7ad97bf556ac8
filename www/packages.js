// The files the worker loads besides scripts: the wasm packages and the default model.
// Every one is named by a literal `new URL('./…', import.meta.url)` or `import('./…')`, the
// form Vite and webpack 5 follow: a bundled app gets them copied and renamed with no
// configuration (the npm package, `./build.sh package`). Served as they are in www/, the
// same URLs point beside this file.

/** Whether this browser runs wasm SIMD: validates the smallest module that uses it
 *  (v128 result, i8x16.splat, i8x16.popcnt). */
function wasmSimd() {
  const probe = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
    65, 0, 253, 15, 253, 98, 11];
  try {
    return WebAssembly.validate(new Uint8Array(probe));
  } catch {
    return false;
  }
}

/** The packages for this browser: with SIMD, the small one and the decoder beside it;
 *  without, the plain package, which holds both. */
export const SIMD = wasmSimd();

/** The main package's JS glue (features, models, live mode). */
export function mainPackage() {
  return SIMD ? import('./pkg/genre_classifier.js') : import('./pkg-plain/genre_classifier.js');
}

/** The decoder package's JS glue (symphonia in wasm); it finds its own wasm beside it. */
export function decoderPackage() {
  return SIMD ? import('./pkg-decode/genre_classifier.js') : import('./pkg-plain/genre_classifier.js');
}

/** The main package's wasm, compiled once in worker.js and handed to the helpers. */
export const MAIN_WASM = SIMD
  ? new URL('./pkg/genre_classifier_bg.wasm', import.meta.url)
  : new URL('./pkg-plain/genre_classifier_bg.wasm', import.meta.url);

/** The shipped models whose files a bundler is told of: the default one (the first that
 *  `shippedModels()` lists, as tests/node/packages.test.mjs checks). */
export const MODEL_FILES = {
  musicnn: {
    card: new URL('./models/musicnn/card.json', import.meta.url),
    weights: new URL('./models/musicnn/model.bpk', import.meta.url),
  },
};

/** Whether every shipped model's folder is in models/ beside worker.js, as in www/. The npm
 *  package holds only `MODEL_FILES` (scripts/package.mjs sets this to false there), so its
 *  worker offers only those, unless it is served from a `baseUrl` holding them all. */
export const ALL_MODELS_BESIDE = true;
