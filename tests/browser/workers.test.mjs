// The page's wasm packages and helper workers, in headless Chromium: a browser without
// wasm SIMD gets the plain package and a working page; the default model's patches are
// shared with a helper worker; a helper that dies mid-song, or no helper at all (one
// core), still gives the same verdict.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { serve, launch, openPage, analyse, DATA, ROOT } from './helpers.mjs';

const CLIP = path.join(DATA, 'rock/rock.00000.ogg');
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

/** A page whose worker.js gets `worker` put before its own code, and packages.js (which
 *  worker.js imports, so it runs first) `packages` (how a test makes the worker see
 *  another browser), recording every request. Service workers are blocked:
 *  sw.js would download the packages for offline use, which is not the worker's choice. */
async function pageWith({ worker = '', packages = '' } = {}) {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const requests = [];
  context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  const patch = (file, prefix) => context.route(`**/${file}`, (route) => route.fulfill({
    contentType: 'text/javascript',
    body: prefix + readFileSync(path.join(ROOT, 'www', file), 'utf8'),
  }));
  if (worker) await patch('worker.js', worker);
  if (packages) await patch('packages.js', packages);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'idle', null, { timeout: 30_000 });
  return { page, context, requests, errors };
}

async function verdict(page) {
  assert.equal(await analyse(page, CLIP, 120_000), 'done', await page.textContent('#status-text'));
  return page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.result);
}

let reference = null;
async function referenceVerdict() {
  if (!reference) {
    const { page, context } = await pageWith();
    reference = await verdict(page);
    await context.close();
  }
  return reference;
}

const close = (a, b) => Object.keys(a.probabilities).every((g) => Math.abs(a.probabilities[g] - b.probabilities[g]) < 1e-4);

const helperPatches = (page) => page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.helperPatches);

test('a browser with wasm SIMD gets the SIMD package and a helper worker that takes patches', async () => {
  const { page, context, requests } = await pageWith();
  await verdict(page);
  // By the second song the helper has surely loaded its model.
  const result = await verdict(page);
  assert.ok(requests.includes('/pkg/genre_classifier_bg.wasm'));
  assert.ok(!requests.some((r) => r.startsWith('/pkg-plain/')), 'the plain package was not needed');
  assert.ok(requests.includes('/embed-worker.js'), 'a helper worker was started');
  assert.ok(await helperPatches(page) > 0, 'the helper computed some of the patches');
  assert.ok(close(result, await referenceVerdict()), 'shared or not, the same probabilities');
  await context.close();
});

test('a browser without wasm SIMD gets the plain package and the same verdict', async () => {
  const { page, context, requests, errors } = await pageWith({ packages: 'WebAssembly.validate = () => false;\n' });
  const result = await verdict(page);
  assert.ok(requests.includes('/pkg-plain/genre_classifier_bg.wasm'), 'the plain package was fetched');
  assert.ok(!requests.includes('/pkg/genre_classifier_bg.wasm'), 'the SIMD package was not fetched');
  assert.ok(close(result, await referenceVerdict()), 'plain and SIMD builds agree within 1e-4');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a helper worker that dies mid-song: the song still completes with the same verdict', async () => {
  // The helper is killed as it is handed its first patch (worker.js sees no answer and
  // no error event, as when a browser kills a worker).
  const { page, context } = await pageWith({
    worker: `const send = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (m, t) {
        if (m?.type === 'embed') { this.terminate(); return; }
        return send.call(this, m, t);
      };\n`,
  });
  // Wait until the helper has loaded, so that it is given a patch and dies with it.
  await page.waitForTimeout(3000);
  const result = await verdict(page);
  assert.equal(await helperPatches(page), 0, 'the dead helper computed nothing');
  assert.ok(close(result, await referenceVerdict()));
  // The page stays usable: a second song works too.
  assert.ok(close(await verdict(page), await referenceVerdict()));
  await context.close();
});

test('one core: no helper worker, the same verdict', async () => {
  const { page, context, requests } = await pageWith({
    worker: "Object.defineProperty(navigator, 'hardwareConcurrency', { value: 1 });\n",
  });
  const result = await verdict(page);
  assert.ok(!requests.includes('/embed-worker.js'), 'no helper on one core');
  assert.ok(close(result, await referenceVerdict()));
  await context.close();
});

test('segments are reported as they are done, the genre so far on screen', async () => {
  const { page, context } = await pageWith();
  await page.evaluate(() => {
    window.progress = [];
    document.addEventListener('genre-progress', (e) => window.progress.push(e.detail));
  });
  await verdict(page);
  const progress = await page.evaluate(() => window.progress);
  assert.ok(progress.length >= 10, `one event per segment (got ${progress.length})`);
  assert.deepEqual(progress.map((p) => p.done), progress.map((_, i) => i + 1));
  assert.ok(progress.every((p) => p.segments.length === 1 && typeof p.genre === 'string'));
  const starts = progress.map((p) => p.segments[0].start_s);
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b), 'in song order');
  await context.close();
});
