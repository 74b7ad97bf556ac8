// Hostile models and files, in headless Chromium: a `model` URL whose server sends 2 GB,
// never answers, or serves a card and weights that contradict each other gets a clear
// message in bounded time; the working model stays and the worker survives. A song whose
// samples are not numbers gets a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serve, launch, openPage, analyse, statusText, freePort, wav, tone, DATA, ROOT } from './helpers.mjs';

const MODELS = path.join(ROOT, 'www/models');
const musicnnCard = readFileSync(path.join(MODELS, 'musicnn/card.json'), 'utf8');
const cnnWeights = readFileSync(path.join(MODELS, 'cnn/model.bpk'));
const CHUNK = Buffer.alloc(64 * 1024);

/** Streams zeros until the client goes away (a body of unbounded size). */
function endless(res) {
  const more = () => { if (!res.destroyed) res.write(CHUNK, () => setTimeout(more, 1)); };
  more();
}

/** What the hostile server sends for each model folder's card.json and model.bpk. */
const folders = {
  // Claims 2 GB up front.
  'two-gigabytes': {
    card: (res) => res.end(musicnnCard),
    weights: (res) => { res.writeHead(200, { 'Content-Length': String(2 ** 31) }); endless(res); },
  },
  // Sends weights without a length, for ever.
  'endless-weights': {
    card: (res) => res.end(musicnnCard),
    weights: (res) => { res.writeHead(200); endless(res); },
  },
  // A card that never ends.
  'endless-card': {
    card: (res) => { res.writeHead(200); res.write('{"format": "genre-classifier model card", "pad": "'); endless(res); },
    weights: (res) => res.end(cnnWeights),
  },
  // Accepts the request and never answers.
  'never-answers': { card: () => {}, weights: () => {} },
  // musicnn's card with the cnn's weights.
  'other-weights': {
    card: (res) => res.end(musicnnCard),
    weights: (res) => res.end(cnnWeights),
  },
  // The same, the card's checksum and size rewritten to match those weights.
  'forged-checksum': {
    card: (res) => {
      const card = JSON.parse(musicnnCard);
      card.weights.bytes = cnnWeights.length;
      card.weights.sha256 = createHash('sha256').update(cnnWeights).digest('hex');
      res.end(JSON.stringify(card));
    },
    weights: (res) => res.end(cnnWeights),
  },
};

let server, hostile, browser;
const open = new Set();

before(async () => {
  server = await serve();
  const port = await freePort();
  hostile = http.createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    res.setHeader('Access-Control-Allow-Origin', '*');
    const [, folder, file] = req.url.split('/');
    const serveFile = folders[folder]?.[file === 'card.json' ? 'card' : 'weights'];
    if (!serveFile) { res.writeHead(404); res.end(); return; }
    serveFile(res);
  });
  await new Promise((resolve) => hostile.listen(port, '127.0.0.1', resolve));
  hostile.url = `http://127.0.0.1:${port}/`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  for (const res of open) res.destroy();
  hostile?.close();
  server?.stop();
});

const expected = [
  ['two-gigabytes', /: its weights file is 2147 MB, more than (0\.84 MB, the size its card gives|71 MB, the most a model may have)/, 5_000],
  ['endless-weights', /: its weights file is larger than 0\.84 MB, the size its card gives/, 10_000],
  ['endless-card', /: its card is larger than 1\.05 MB, the most a model may have/, 10_000],
  ['never-answers', /: its (card|weights file) did not arrive: the server sent nothing for 15 s/, 25_000],
  ['other-weights', /weights file is for another model: they were trained on other feature settings/, 5_000],
  ['forged-checksum', /weights file is for another model: they were trained on other feature settings/, 5_000],
];

test('hostile model URLs get a clear message in bounded time; the working model stays and the worker survives', async () => {
  const { page, errors } = await openPage(browser, server.url);
  const wasmRequests = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(r.url()); });
  for (const [folder, message, bound] of expected) {
    const url = `${hostile.url}${folder}/`;
    const started = Date.now();
    await page.evaluate((u) => document.querySelector('genre-classifier').setAttribute('model', u), url);
    await page.waitForFunction((u) => {
      const el = document.querySelector('genre-classifier');
      return el.dataset.state === 'error' && el.shadowRoot.getElementById('status-text').textContent.includes(u);
    }, url, { timeout: bound + 5_000 });
    const ms = Date.now() - started;
    const text = await statusText(page);
    assert.match(text, /^Model “http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/” could not be loaded: /, folder);
    assert.match(text, message, folder);
    assert.ok(ms < bound, `${folder}: the message took ${ms} ms`);
    assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').classifier.model), 'musicnn', folder);
    assert.equal(await page.inputValue('#model'), 'musicnn', folder);
    if (folder === 'two-gigabytes') await page.screenshot({ path: path.join(ROOT, 'target/screenshots/hostile-model-2gb.png') });
  }
  // The worker still classifies with the working model, without starting again.
  await page.evaluate(() => document.querySelector('genre-classifier').removeAttribute('model'));
  assert.equal(await analyse(page, path.join(DATA, 'pop/pop.00002.ogg')), 'done', await statusText(page));
  const analysis = await page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis);
  assert.equal(analysis.model, 'musicnn');
  assert.equal(analysis.result.segments.length, 10);
  assert.deepEqual(wasmRequests, [], 'the worker loaded its wasm again');
  assert.deepEqual(errors, []);
  await page.close();
});

/** A mono float WAV: a tone with `bad` (NaN or ±Infinity) from 1.0 s on for 10 samples. */
function poisoned(bad) {
  const samples = tone(3, 22050);
  samples.fill(bad, 22050, 22060);
  return wav([samples], 22050);
}

for (const [what, bad] of [['NaN', NaN], ['infinite', Infinity]]) {
  test(`a WAV whose samples are ${what} gets a clear message`, async () => {
    const { page, errors } = await openPage(browser, server.url);
    const name = `${what}.wav`;
    assert.equal(await analyse(page, { name, mimeType: 'audio/wav', buffer: poisoned(bad) }), 'error');
    const text = await statusText(page);
    assert.match(text, new RegExp(`“${name}”`));
    assert.match(text, /sample 22050 \(at 1\.00 s\) is not a number \(NaN or infinite\)/);
    assert.equal(await page.getAttribute('#status', 'role'), 'alert');
    // The page stays usable.
    assert.equal(await analyse(page, path.join(DATA, 'pop/pop.00002.ogg')), 'done');
    assert.deepEqual(errors, []);
    await page.close();
  });
}
