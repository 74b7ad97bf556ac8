// Writes www/sw-version.js, what the service worker (www/sw.js) imports: the build's
// version and the files it may keep, each with a hash of its contents. ./build.sh runs it
// after building the wasm packages; tests run it on copies of www/.
//   node scripts/precache.mjs [WWW_DIR]
// Nothing here is a hand-kept list: the page's files are found by their place in www/, the
// packages by their folder, and the default model is the first the wasm package ships.
//   files    the page (index.html, its scripts, styles, manifest and icons, and batch/, train/,
//            which it loads when many songs arrive) and the default
//            model: fetched when the service worker installs
//   simd     pkg/ and pkg-decode/: also fetched at install where the browser has wasm SIMD
//   plain    pkg-plain/: fetched at install instead where it has not (worker.js chooses the
//            same way)
//   models   every shipped model's card and weights: kept when first downloaded
// The version is a hash of all of them, so any change to any of them is a new version.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The file the service worker imports, relative to www/. */
export const OUTPUT = 'sw-version.js';
/** Files in www/ that are not the page: the service worker itself and the embedding demo. */
const NOT_PAGE = new Set(['sw.js', OUTPUT, 'embed-example.html']);

/** Paths (relative to `www`, with '/') of the files under `dir` (relative) that `keep`. */
function filesIn(www, dir, keep = () => true) {
  const full = path.join(www, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).filter((name) => statSync(path.join(full, name)).isFile())
    .map((name) => (dir ? `${dir}/${name}` : name)).filter(keep).sort();
}

/** The first of the shipped models, as the wasm package in `www`/pkg lists them. */
async function defaultModel(www) {
  const url = pathToFileURL(path.join(www, 'pkg/genre_classifier.js')).href;
  const { initSync, shippedModels } = await import(url);
  initSync({ module: readFileSync(path.join(www, 'pkg/genre_classifier_bg.wasm')) });
  return shippedModels()[0].name;
}

/** The first 16 hex digits of the SHA-256 of a file's bytes (what sw.js checks too). */
const hashOf = (www, file) => createHash('sha256').update(readFileSync(path.join(www, file))).digest('hex').slice(0, 16);

/** `{ file: hash }` for `files`. */
const hashed = (www, files) => Object.fromEntries(files.map((f) => [f, hashOf(www, f)]));

/** What sw-version.js holds for the build in `www`: `{ version, files, simd, plain, models }`. */
export async function precacheList(www) {
  const page = filesIn(www, '', (f) => /\.(html|js|css|webmanifest|svg|ico)$/.test(f) && !NOT_PAGE.has(f));
  if (!page.includes('index.html')) throw new Error(`${www} has no index.html`);
  const model = await defaultModel(www);
  const modelFiles = readdirSync(path.join(www, 'models')).sort()
    .flatMap((m) => [`models/${m}/card.json`, `models/${m}/model.bpk`])
    .filter((f) => existsSync(path.join(www, f)));
  const shipped = [`models/${model}/card.json`, `models/${model}/model.bpk`];
  const list = {
    files: hashed(www, [...page, ...filesIn(www, 'element'), ...filesIn(www, 'batch'), ...filesIn(www, 'train'), ...filesIn(www, 'icons'), ...shipped]),
    simd: hashed(www, [...filesIn(www, 'pkg'), ...filesIn(www, 'pkg-decode')]),
    plain: hashed(www, filesIn(www, 'pkg-plain')),
    models: hashed(www, modelFiles),
  };
  if (!Object.keys(list.simd).length || !Object.keys(list.plain).length) throw new Error(`${www} lacks the wasm packages`);
  // sw.js counts too: a change to how it serves is a new version, with a cache of its own.
  const all = Object.values(list).flatMap((group) => Object.entries(group).map(([f, h]) => `${f} ${h}\n`));
  if (existsSync(path.join(www, 'sw.js'))) all.push(`sw.js ${hashOf(www, 'sw.js')}\n`);
  const version = createHash('sha256').update([...new Set(all)].sort().join('')).digest('hex').slice(0, 12);
  return { version, ...list };
}

/** Writes `www`/sw-version.js for the build there; resolves to its version. */
export async function writePrecache(www) {
  const list = await precacheList(www);
  writeFileSync(path.join(www, OUTPUT), '// Written by scripts/precache.mjs (./build.sh): the build\'s version and the files\n'
    + '// sw.js keeps, with the first 16 hex digits of the SHA-256 of each. Not in git.\n'
    + `self.PRECACHE = ${JSON.stringify(list, null, 2)};\n`);
  return list.version;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const www = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../www'));
  const version = await writePrecache(www);
  console.error(`${path.join(www, OUTPUT)}: version ${version}`);
}
