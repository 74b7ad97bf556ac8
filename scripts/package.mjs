// Writes the npm package of the widget and its API: target/npm/genre-classifier-VERSION.tgz
// (./build.sh package runs it after building the wasm packages).
//   node scripts/package.mjs [OUT_DIR]
// Nothing here is a hand-kept list of files: the package holds what the element's and the
// API's modules reach through `import`, `import()` and `new URL('…', import.meta.url)`,
// followed from genre-classifier.js and classifier.js (so the wasm packages, the worker,
// the stylesheet and the default model's files, the ones packages.js names), plus the
// type declarations beside them, a README, the licence and the model's attribution.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WWW = path.join(ROOT, 'www');
/** The package's name on the registry (free there when chosen: `npm view genre-classifier`). */
export const NAME = 'genre-classifier';
/** The modules a user imports: the element (with the API), and the API alone. */
const ENTRIES = ['genre-classifier.js', 'classifier.js'];

/** Files (relative to www/) that `file` names by a relative import or asset URL. */
function referencesOf(file) {
  // Comments first: they may show the forms without naming a file.
  const source = readFileSync(path.join(WWW, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [
    /\bfrom\s+'(\.{1,2}\/[^']+)'/g,
    /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g,
    /new URL\(\s*'([^':]+)'\s*,\s*import\.meta\.url\s*\)/g,
  ];
  const found = patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1]));
  return found.map((ref) => path.posix.normalize(path.posix.join(path.posix.dirname(file), ref)));
}

/** Every file reachable from `ENTRIES`, sorted. */
export function reachableFiles() {
  const seen = new Set();
  const queue = [...ENTRIES];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    if (!existsSync(path.join(WWW, file))) throw new Error(`www/${file} is named but missing: run ./build.sh wasm first`);
    seen.add(file);
    if (file.endsWith('.js')) queue.push(...referencesOf(file));
  }
  return [...seen].sort();
}

/** packages.js as the package ships it: only the default model is beside the worker. */
function packagedPackagesJs(source) {
  const flag = 'export const ALL_MODELS_BESIDE = true;';
  if (!source.includes(flag)) throw new Error(`www/packages.js no longer says '${flag}'`);
  return source.replace(flag, 'export const ALL_MODELS_BESIDE = false;');
}

/** The crate's version (Cargo.toml's [package] version): the package's version too. */
function crateVersion() {
  const match = readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8').match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) throw new Error('Cargo.toml has no version');
  return match[1];
}

/** package.json: ES modules, an `exports` map with types, the element as a side effect. */
function manifest(version) {
  return {
    name: NAME,
    version,
    description: 'Music genre classification in the browser: a <genre-classifier> element and a UI-free API, '
      + 'running a pretrained musicnn network in WebAssembly. No audio leaves the machine.',
    keywords: ['music', 'genre', 'classification', 'audio', 'webassembly', 'wasm', 'web-component', 'musicnn'],
    license: 'MIT',
    type: 'module',
    main: './genre-classifier.js',
    module: './genre-classifier.js',
    types: './genre-classifier.d.ts',
    exports: {
      '.': { types: './genre-classifier.d.ts', default: './genre-classifier.js' },
      './classifier': { types: './classifier.d.ts', default: './classifier.js' },
      './genre-classifier.css': './genre-classifier.css',
      './package.json': './package.json',
    },
    sideEffects: ['./genre-classifier.js'],
  };
}

/** Copies what the package holds into `stage`; returns the files' paths (relative). */
function stageFiles(stage) {
  const files = [...reachableFiles(), 'genre-classifier.d.ts', 'classifier.d.ts'];
  for (const file of files) {
    const to = path.join(stage, file);
    mkdirSync(path.dirname(to), { recursive: true });
    if (file === 'packages.js') writeFileSync(to, packagedPackagesJs(readFileSync(path.join(WWW, file), 'utf8')));
    else copyFileSync(path.join(WWW, file), to);
  }
  copyFileSync(path.join(ROOT, 'scripts/npm/README.md'), path.join(stage, 'README.md'));
  copyFileSync(path.join(ROOT, 'scripts/npm/LICENSE'), path.join(stage, 'LICENSE'));
  copyFileSync(path.join(ROOT, 'docs/THIRD_PARTY.md'), path.join(stage, 'THIRD_PARTY.md'));
  return files;
}

/** Stages and packs the package into `out`; resolves to the tarball's path. */
export function buildPackage(out = path.join(ROOT, 'target/npm')) {
  const stage = path.join(out, 'package');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const version = crateVersion();
  stageFiles(stage);
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest(version), null, 2)}\n`);
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }));
  return { tarball: path.join(out, packed.filename), packed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { tarball, packed } = buildPackage(process.argv[2] && path.resolve(process.argv[2]));
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
  for (const f of packed.files) console.log(`  ${f.path.padEnd(40)} ${mb(f.size).padStart(10)}`);
  console.log(`${path.relative(ROOT, tarball)}: ${mb(statSync(tarball).size)} packed, ${mb(packed.unpackedSize)} unpacked, `
    + `${packed.files.length} files (onnxruntime-web's wasm alone is 12.8 MB; Essentia.js ships 2 MB of wasm plus 1.2 MB of TF.js)`);
}
