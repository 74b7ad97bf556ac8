// Embedding, end to end in headless Chromium: a page on a second localhost port embeds the
// widget served from the first; two widgets share one worker; the classify() method, the
// file input and the events; removing and re-adding an element; loadClassifier without UI,
// in a page and inside a Web Worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, classifyCli, wav, nativeSamples, DATA, ROOT } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'target/screenshots');
const CLIP = path.join(DATA, 'classical/classical.00000.ogg');
let widget, host, browser, scratch;

/** The page's classifier workers (worker.js), not counting their helper workers. */
async function mainWorkers(page) {
  const names = await Promise.all(page.workers().map((w) => w.evaluate(() => self.name).catch(() => '')));
  return names.filter((n) => n === 'genre-classifier').length;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), 'gc-embed-'));
  widget = await serve();
  writeFileSync(path.join(scratch, 'host.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A site that embeds the classifier</title>
<script type="module" src="${widget.url}genre-classifier.js"></script>
<style>h2 { color: rgb(255, 0, 0); } .drop { border: 9px solid lime; }</style></head>
<body style="font-family: sans-serif; max-width: 700px; margin: 1rem auto">
<h1>Someone else's site</h1>
<genre-classifier id="one"></genre-classifier>
<genre-classifier id="two" compact model="ann" style="--gc-accent: #b5179e"></genre-classifier>
<script>
  window.events = [];
  for (const type of ['genre-result', 'genre-progress', 'genre-error']) {
    document.addEventListener(type, (e) => window.events.push({ type, id: e.target.id, detail: e.detail }));
  }
</script></body></html>`);
  host = await serve(scratch);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  widget?.stop();
  host?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const idle = (page, id) => page.waitForFunction((i) => document.getElementById(i)?.dataset.state === 'idle', id, { timeout: 30_000 });

test('a page on another origin embeds two widgets that share one worker', async () => {
  assert.notEqual(new URL(widget.url).port, new URL(host.url).port);
  const page = await browser.newPage({ viewport: { width: 800, height: 1400 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const cards = [];
  page.on('request', (r) => { if (r.url().endsWith('card.json')) cards.push(r.url()); });
  await page.goto(`${host.url}host.html`);
  await idle(page, 'one');
  await idle(page, 'two');
  assert.equal(await mainWorkers(page), 1, 'one worker (one wasm instance) for both widgets');

  // classify() with a File: resolves to the result, and genre-progress and genre-result fire.
  const bytes = readFileSync(CLIP).toString('base64');
  const result = await page.evaluate(async (b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return document.getElementById('one').classify(new File([data], 'classical.ogg'));
  }, bytes);
  assert.equal(result.genre, 'classical');
  assert.equal(result.model, 'musicnn');
  assert.equal(result.segments.length, 10);
  const events = await page.evaluate(() => window.events);
  const progress = events.filter((e) => e.type === 'genre-progress' && e.id === 'one');
  assert.ok(progress.length >= 1);
  const last = progress.at(-1).detail;
  assert.deepEqual({ done: last.done, total: last.total }, { done: 10, total: 10 });
  assert.equal(typeof last.genre, 'string');
  assert.equal(last.segments.length, 1);
  const done = events.filter((e) => e.type === 'genre-result' && e.id === 'one');
  assert.equal(done.length, 1);
  assert.deepEqual(done[0].detail.probabilities, result.probabilities);

  // The compact widget through its own file input, with its own model.
  await page.setInputFiles('#two #file', CLIP);
  await page.waitForFunction(() => document.getElementById('two').dataset.state === 'done');
  const second = await page.evaluate(() => window.events.filter((e) => e.type === 'genre-result' && e.id === 'two').at(-1).detail);
  assert.equal(second.model, 'ann');
  assert.equal(second.file, 'classical.00000.ogg');
  assert.notDeepEqual(second.probabilities, result.probabilities);
  assert.ok(await page.isHidden('#two #card'), 'compact hides the card');

  // Styles: the host's theme property reaches in; the host's own rules do not.
  const styles = await page.evaluate(() => {
    const root = document.getElementById('two').shadowRoot;
    const drop = getComputedStyle(root.querySelector('.drop'));
    return {
      accent: drop.getPropertyValue('--accent').trim(),
      border: drop.borderTopWidth,
      title: getComputedStyle(root.getElementById('result-title')).color,
    };
  });
  assert.deepEqual(styles, { accent: '#b5179e', border: '2px', title: 'rgb(29, 29, 31)' });

  // Changing the model attribute re-runs the song on screen.
  await page.evaluate(() => document.getElementById('two').setAttribute('model', 'rnn'));
  await page.waitForFunction(() => window.events.filter((e) => e.type === 'genre-result' && e.id === 'two').at(-1).detail.model === 'rnn');
  assert.equal(await page.inputValue('#two #model'), 'rnn');

  // Each model's card was fetched once, from the widget's origin.
  assert.deepEqual(cards.map((u) => new URL(u).pathname).sort(), ['/models/ann/card.json', '/models/musicnn/card.json', '/models/rnn/card.json']);
  assert.ok(cards.every((u) => u.startsWith(widget.url)));

  // A bad file: the promise rejects with the reason and genre-error fires.
  const failure = await page.evaluate(async () => {
    try {
      await document.getElementById('one').classify(new File([new TextEncoder().encode('not audio')], 'notes.mp3'));
      return null;
    } catch (e) {
      return e.message;
    }
  });
  assert.match(failure, /cannot decode it as audio/);
  const error = await page.evaluate(() => window.events.filter((e) => e.type === 'genre-error').at(-1));
  assert.equal(error.id, 'one');
  assert.match(error.detail.message, /Could not analyse “notes\.mp3”: .*cannot decode/);
  await page.screenshot({ path: path.join(SHOTS, 'embed-two-widgets.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('an element can be removed and added again, and a new one joins the same worker', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${host.url}host.html`);
  await idle(page, 'one');
  const bytes = readFileSync(CLIP).toString('base64');
  const genres = await page.evaluate(async (b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const one = document.getElementById('one');
    const out = [];
    for (let i = 0; i < 3; i++) {
      one.remove();
      document.body.append(one);
      out.push((await one.classify(new File([data], `again-${i}.ogg`))).genre);
    }
    const three = document.createElement('genre-classifier');
    three.id = 'three';
    // A model given by the URL of its folder.
    three.setAttribute('model', new URL('models/rnn', document.querySelector('script[type=module]').src).href);
    document.body.append(three);
    const byUrl = await three.classify(new File([data], 'three.ogg'));
    out.push(byUrl.genre, byUrl.model.endsWith('/models/rnn'));
    // Removed while working: no error, no result.
    const pending = three.classify(new File([data], 'removed.ogg')).then(() => 'finished', (e) => e.reason);
    three.remove();
    out.push(await pending);
    return out;
  }, bytes);
  assert.deepEqual(genres, ['classical', 'classical', 'classical', 'classical', true, 'cancelled']);
  assert.equal(await mainWorkers(page), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('loadClassifier works without UI in a page and inside a Web Worker', async () => {
  const [samples] = nativeSamples([path.join(DATA, 'pop/pop.00002.ogg')]);
  const file = path.join(scratch, 'pop.wav');
  writeFileSync(file, wav([samples], 22050));
  const cli = classifyCli(file, 'cnn');
  const page = await browser.newPage();
  await page.goto(`${host.url}host.html`);
  const wavBase64 = readFileSync(file).toString('base64');
  const results = await page.evaluate(async ({ base, b64 }) => {
    const { loadClassifier } = await import(`${base}genre-classifier.js`);
    const classifier = await loadClassifier({ model: 'cnn' });
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const inPage = await classifier.classify(bytes.buffer);
    // Decoded samples at another rate are resampled by Web Audio.
    const tone = await classifier.classify({ channels: [Float32Array.from({ length: 8000 * 4 }, (_, i) => 0.3 * Math.sin(i * 0.3))], sampleRate: 8000 });
    // Inside a Web Worker: decoded samples, and files through the crate's own decoder.
    const source = `import { loadClassifier } from '${base}genre-classifier.js';
      onmessage = async ({ data }) => {
        try {
          const c = await loadClassifier({ model: 'cnn' });
          const r = await c.classify({ channels: [data.samples], sampleRate: 22050 });
          // A file: no Web Audio here, so the crate's own decoder reads it.
          const f = await c.classify(new Blob([data.file]));
          let fileError = null;
          try { await c.classify(new Blob([new Uint8Array(16)])); } catch (e) { fileError = e.message; }
          postMessage({ genre: r.genre, probabilities: r.probabilities, fromFile: { genre: f.genre, probabilities: f.probabilities }, fileError });
        } catch (e) { postMessage({ error: e.message }); }
      };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
    const header = 44;
    const samples = new Float32Array(bytes.buffer.slice(header));
    const inWorker = await new Promise((resolve) => { worker.onmessage = ({ data }) => resolve(data); worker.postMessage({ samples, file: bytes }); });
    worker.terminate();
    return { inPage: { genre: inPage.genre, probabilities: inPage.probabilities }, inWorker, tone: { seconds: tone.seconds, segments: tone.segments.length } };
  }, { base: widget.url, b64: wavBase64 });
  assert.equal(results.inWorker.error, undefined, results.inWorker.error);
  for (const [where, r] of Object.entries({ page: results.inPage, worker: results.inWorker, 'worker, from the file': results.inWorker.fromFile })) {
    assert.equal(r.genre, cli.genre, where);
    for (const [genre, p] of Object.entries(cli.probabilities)) {
      assert.ok(Math.abs(r.probabilities[genre] - p) <= 1e-4, `${where} ${genre}: ${r.probabilities[genre]} vs cli ${p}`);
    }
  }
  assert.match(results.inWorker.fileError, /cannot decode it as audio/);
  assert.deepEqual(results.tone, { seconds: 4, segments: 1 });
  await page.close();
});
