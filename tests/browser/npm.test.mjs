// The npm package as a web developer meets it: scripts/package.mjs packs the tarball
// (what ./build.sh package writes to target/npm/), a throwaway project installs it from the
// tarball beside Vite, webpack 5 and TypeScript from the registry, and then
// - a Vite app and a webpack app that only `import 'genre-classifier'` and put
//   <genre-classifier live> in their page build with no configuration for our files, and
//   each build, served, classifies a song in headless Chromium as `classify` does, with no
//   failed request, and listens to the microphone (live mode's worklet, which Vite inlines
//   as a data: URL);
// - the Vite app's element with base-url set to a host serving the package's folder loads
//   everything, the stylesheet too, from there;
// - a TypeScript file using the element, its events and the API type-checks with
//   `tsc --strict`, and one misusing them does not;
// - the tarball holds the element, the API, their types, the packages and the default model,
//   and not the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPackage, NAME } from '../../scripts/package.mjs';
import { serve, launchWithMicrophone, analyse, classifyCli, nativeSamples, wav, DATA, ROOT } from './helpers.mjs';

const CLIP = path.join(DATA, 'rock/rock.00000.ogg');
const TOOLS = ['vite@8', 'webpack@5', 'webpack-cli@6', 'typescript@5'];
const SHOTS = path.join(ROOT, 'target/screenshots');
let dir, tarball, packed, browser;

const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** Runs `cmd`, resolving to its stdout and stderr together, whatever its status. */
function output(cmd, args) {
  try {
    return { ok: true, text: execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    return { ok: false, text: `${e.stdout}${e.stderr}` };
  }
}

const PAGE = '<!doctype html><meta charset="utf-8"><title>app</title><genre-classifier live></genre-classifier>';

/** The throwaway project: the app's page and script, a webpack config, TypeScript files. */
function writeProject() {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  writeFileSync(path.join(dir, 'main.js'), "import 'genre-classifier';\n");
  writeFileSync(path.join(dir, 'index.html'), `${PAGE}<script type="module" src="./main.js"></script>`);
  writeFileSync(path.join(dir, 'webpack.config.cjs'),
    "module.exports = { mode: 'production', entry: './main.js', output: { path: __dirname + '/dist-webpack' } };\n");
  writeFileSync(path.join(dir, 'good.ts'), `import { loadClassifier, ClassifyError, type ClassifyResult } from 'genre-classifier';
import { loadClassifier as load } from 'genre-classifier/classifier';
const element = document.querySelector('genre-classifier');
element?.addEventListener('genre-result', (e) => console.log(e.detail.genre.toUpperCase(), e.detail.confidence.toFixed(2), e.detail.file));
document.addEventListener('genre-error', (e) => console.log(e.detail.reason === 'not-music'));
document.addEventListener('genre-batch-done', (e) => console.log(e.detail.results.map((r) => r.result?.genre ?? r.error).join(), e.detail.skipped.length));
export async function library(files: File[]): Promise<number> {
  const outputs = await (await loadClassifier()).classifyAll(files, { onProgress: (p) => console.log(p.done, p.result.file) });
  return outputs.filter((o) => o.result && o.result.confidence > 0.5).length;
}
export async function run(file: File): Promise<string> {
  const classifier = await loadClassifier({ model: 'musicnn' });
  try {
    const result: ClassifyResult = await classifier.classify(file, { onProgress: (p) => console.log(p.done / p.total) });
    return result.unsure ? 'unsure' : result.segments[0].genre;
  } catch (e) {
    return e instanceof ClassifyError ? e.reason : String(e);
  } finally {
    await (await load()).setModel('musicnn');
  }
}
`);
  writeFileSync(path.join(dir, 'bad.ts'), `import { loadClassifier } from 'genre-classifier';
const element = document.querySelector('genre-classifier');
element?.addEventListener('genre-result', (e) => console.log(e.detail.genre.toFixed(2)));
loadClassifier({ model: 7 });
document.querySelector('genre-classifier')?.classifyAll([42]);
`);
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gc-npm-'));
  ({ tarball, packed } = buildPackage(path.join(dir, 'npm')));
  writeProject();
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...TOOLS]);
  const microphone = path.join(dir, 'microphone.wav');
  writeFileSync(microphone, wav(nativeSamples([CLIP]), 22050, { bits: 16 }));
  browser = await launchWithMicrophone(microphone);
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Serves `dist`, opens `html` there and drops the clip on its <genre-classifier>, then
 *  listens for two live windows: the verdict, failed requests, the model list, the live
 *  windows and the stylesheet's URL. */
async function classifyIn(dist, html = '') {
  const server = await serve(dist);
  const page = await browser.newPage();
  const failed = [];
  // Chromium reports a worker's fetch read to its end through a stream reader as aborted
  // (net::ERR_ABORTED): only other failures, and error statuses, are missing files.
  page.on('requestfailed', (r) => { if (r.failure()?.errorText !== 'net::ERR_ABORTED') failed.push(r.url()); });
  page.on('response', (r) => {
    // The test page has no icon: the browser's own favicon.ico request is not the widget's.
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(server.url + html);
    await page.waitForFunction(() => document.querySelector('genre-classifier')?.dataset.state === 'idle', null, { timeout: 60_000 });
    const state = await analyse(page, CLIP, 120_000);
    const result = await page.evaluate(() => document.querySelector('genre-classifier').lastResult);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `npm-${path.basename(dist)}${html ? '-hosted' : ''}.png`), fullPage: true });
    const models = await page.evaluate(() => [...document.querySelector('genre-classifier').shadowRoot.querySelectorAll('#model option')].map((o) => o.value));
    const status = await page.evaluate(() => document.querySelector('genre-classifier').shadowRoot.querySelector('#status-text')?.textContent);
    const stylesheet = await page.evaluate(() => document.querySelector('genre-classifier').shadowRoot.querySelector('#stylesheet').href);
    const styled = await page.evaluate(() => getComputedStyle(document.querySelector('genre-classifier').shadowRoot.querySelector('#drop')).borderStyle);
    await page.click('#listen');
    await page.waitForFunction(() => (document.querySelector('genre-classifier').liveWindows?.length ?? 0) >= 2, null, { timeout: 30_000 });
    const live = await page.evaluate(() => document.querySelector('genre-classifier').liveWindows.length);
    await page.click('#listen');
    return { state, result, failed, models, status, live, stylesheet, styled };
  } finally {
    await page.close();
    server.stop();
  }
}

let native = null;
function assertClassified({ state, result, failed, models, status, live, styled }) {
  assert.equal(state, 'done', status);
  native ??= classifyCli(CLIP);
  assert.equal(result.genre, native.genre);
  for (const [genre, p] of Object.entries(native.probabilities)) {
    assert.ok(Math.abs(result.probabilities[genre] - p) < 1e-4, `${genre}: ${result.probabilities[genre]} in the app, ${p} natively`);
  }
  assert.ok(live >= 2, 'live mode heard the microphone');
  assert.equal(styled, 'dashed', 'the stylesheet applies');
  assert.deepEqual(failed, [], 'every file the widget asked for was there');
  assert.deepEqual(models, ['musicnn'], 'the package offers the model it holds');
}

test('a Vite app that imports the package builds without warnings about it and classifies a song', { timeout: 300_000 }, async () => {
  const build = output('npx', ['vite', 'build', '--outDir', 'dist-vite']);
  assert.ok(build.ok, build.text);
  assert.doesNotMatch(build.text, /doesn't exist at build time|genre-classifier.*warn/i, build.text);
  assertClassified(await classifyIn(path.join(dir, 'dist-vite')));
});

test('the Vite app with base-url naming a host of the package folder loads everything from there', { timeout: 300_000 }, async () => {
  const host = await serve(path.join(dir, 'node_modules', NAME));
  try {
    const index = readFileSync(path.join(dir, 'dist-vite/index.html'), 'utf8');
    const hosted = index.replace('<genre-classifier live>', `<genre-classifier live base-url="${host.url}">`);
    assert.notEqual(hosted, index);
    writeFileSync(path.join(dir, 'dist-vite/hosted.html'), hosted);
    const seen = await classifyIn(path.join(dir, 'dist-vite'), 'hosted.html');
    assertClassified(seen);
    assert.equal(seen.stylesheet, `${host.url}genre-classifier.css`);
  } finally {
    host.stop();
  }
});

test('a webpack 5 app that imports the package builds and classifies a song', { timeout: 300_000 }, async () => {
  const build = output('npx', ['webpack', '--config', 'webpack.config.cjs']);
  assert.ok(build.ok, build.text);
  assert.doesNotMatch(build.text, /ERROR|Module not found/, build.text);
  writeFileSync(path.join(dir, 'dist-webpack/index.html'), `${PAGE}<script src="./main.js"></script>`);
  assertClassified(await classifyIn(path.join(dir, 'dist-webpack')));
});

test('the types: code using the element, its events and the API passes tsc --strict; misuse fails', { timeout: 120_000 }, () => {
  const typed = output('npx', ['tsc', '--strict', '--noEmit', '--target', 'ES2022', '--module', 'ESNext',
    '--moduleResolution', 'bundler', '--lib', 'ES2022,DOM', 'good.ts']);
  assert.ok(typed.ok, typed.text);
  const misuse = output('npx', ['tsc', '--strict', '--noEmit', '--target', 'ES2022', '--module', 'ESNext',
    '--moduleResolution', 'bundler', '--lib', 'ES2022,DOM', 'bad.ts']);
  assert.ok(!misuse.ok, 'misuse is refused');
  assert.match(misuse.text, /bad\.ts\(3,.*toFixed/, misuse.text);
  assert.match(misuse.text, /bad\.ts\(4,.*number/, misuse.text);
  assert.match(misuse.text, /bad\.ts\(5,/, misuse.text);
});

test('the tarball holds the element, the API, types, packages and default model, not the page', () => {
  const files = packed.files.map((f) => f.path);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'THIRD_PARTY.md', 'genre-classifier.js', 'classifier.js',
    'genre-classifier.d.ts', 'classifier.d.ts', 'genre-classifier.css', 'worker.js', 'pkg/genre_classifier_bg.wasm',
    'pkg-plain/genre_classifier_bg.wasm', 'pkg-decode/genre_classifier_bg.wasm', 'models/musicnn/model.bpk']) {
    assert.ok(files.includes(f), `${f} ships`);
  }
  for (const f of ['index.html', 'page.js', 'sw.js', 'manifest.webmanifest']) assert.ok(!files.includes(f), `${f} does not ship`);
  assert.equal(packed.name, NAME);
  const mb = statSync(tarball).size / 1e6;
  assert.ok(mb < 6, `the tarball is ${mb.toFixed(2)} MB`);
});
