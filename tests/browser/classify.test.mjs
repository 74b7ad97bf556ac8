// Classifying in the page, end to end in headless Chromium: the genres and timeline shown
// for real clips, the same probabilities as `classify --json`, switching models, and each
// kind of awkward input (silent, many channels, odd rates, a two-hour file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, classifyCli, openPage, analyse, statusText, au, wav, tone, melody, nativeSamples, DATA, ROOT } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'target/screenshots');
let server, browser, scratch;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), 'gc-classify-'));
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** What the page shows: the bars' genres and percentages, and the verdict line. */
async function shown(page) {
  return page.evaluate(() => ({
    verdict: document.querySelector('genre-classifier').shadowRoot.getElementById('verdict').textContent,
    bars: [...document.querySelector('genre-classifier').shadowRoot.querySelectorAll('#bars li')].map((li) => ({
      genre: li.dataset.genre, text: li.querySelector('.bar-value').textContent,
    })),
    result: document.querySelector('genre-classifier').lastAnalysis.result,
    model: document.querySelector('genre-classifier').lastAnalysis.model,
  }));
}

test('a real clip shows its genres as bars and a timeline that agree with the result', async () => {
  const { page, errors } = await openPage(browser, server.url, { viewport: { width: 1000, height: 1200 } });
  assert.equal(await analyse(page, path.join(DATA, 'classical/classical.00000.ogg')), 'done');
  const { verdict, bars, result, model } = await shown(page);
  assert.equal(model, 'musicnn');
  assert.equal(result.segments.length, 10);
  const ranked = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
  assert.equal(result.genre, 'classical', 'the shipped musicnn model gets this validation clip right');
  assert.match(verdict, result.unsure ? /^Unsure: perhaps Classical \(\d+ % confident\)/ : /^Most likely Classical \(\d+ % confident\)$/);
  assert.equal(verdict.includes(`${(100 * result.confidence).toFixed(0)} %`), true, 'the confidence shown is Rust\'s');
  assert.deepEqual(bars.map((b) => b.genre), ranked.slice(0, 5).map(([g]) => g));
  bars.forEach((b, i) => assert.equal(b.text, `${(100 * ranked[i][1]).toFixed(1)} %`));
  const sum = Object.values(result.probabilities).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
  // Keyboard on the timeline: End selects the last segment and describes it.
  await page.focus('#timeline');
  await page.keyboard.press('End');
  assert.match(await page.textContent('#segment-detail'), /^0:26–0:29 \(3\.0 s\): \w/);
  await page.keyboard.press('ArrowLeft');
  assert.match(await page.textContent('#segment-detail'), /^0:23–0:26/);
  // Hover shows the segment under the pointer.
  const box = await page.locator('#timeline').boundingBox();
  await page.mouse.move(box.x + box.width * 0.15, box.y + box.height / 2);
  assert.match(await page.textContent('#segment-detail'), /^0:0[2-5]–0:0[5-8]/);
  assert.match(await page.getAttribute('#timeline', 'aria-label'), /of 10 segments/);
  // The card of the model in use.
  assert.match(await page.textContent('#card-summary'), /Model: musicnn · \d+ % of validation songs right · [\d,]+ KB/);
  // The backbone's tags, and its credit in the card.
  assert.match(await page.textContent('#tags'), /^Sounds like: [^,]+ \(\d+ %\), /);
  assert.deepEqual(result.tags.map((t) => t.tag).length, 5);
  await page.click('#card-summary');
  assert.match(await page.textContent('#card-facts'), /802,229 parameters/);
  assert.match(await page.textContent('#card-facts'), /MSD_musicnn from musicnn 0\.1\.0 \(ISC license\)/);
  await page.screenshot({ path: path.join(SHOTS, 'classify-classical.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the page gives classify --json\'s probabilities within 1e-4 for a 22 050 Hz WAV', async () => {
  const clips = ['metal/metal.00000.ogg', 'pop/pop.00002.ogg'];
  const samples = nativeSamples(clips.map((c) => path.join(DATA, c)));
  const { page } = await openPage(browser, server.url);
  for (const [k, clip] of clips.entries()) {
    const file = path.join(scratch, `${path.basename(clip, '.ogg')}.wav`);
    writeFileSync(file, wav([samples[k]], 22050));
    const cli = classifyCli(file);
    assert.equal(await analyse(page, file), 'done');
    const { result } = await shown(page);
    assert.equal(result.genre, cli.genre);
    for (const [genre, p] of Object.entries(cli.probabilities)) {
      assert.ok(Math.abs(result.probabilities[genre] - p) <= 1e-4, `${clip} ${genre}: page ${result.probabilities[genre]} vs cli ${p}`);
    }
    assert.deepEqual(result.segments.map((s) => [s.start_s, s.genre]), cli.segments.map((s) => [s.start_s, s.genre]));
    assert.deepEqual(result.tags.map((t) => t.tag), cli.tags.map((t) => t.tag));
    result.tags.forEach((t, i) => assert.ok(Math.abs(t.probability - cli.tags[i].probability) <= 1e-4, `${clip} tag ${t.tag}`));
  }
  await page.close();
});

test('a Sun AU file, which Web Audio cannot decode, is decoded by the crate\'s own decoder', async () => {
  // GTZAN as users have it is .au: the page falls back to symphonia/ausnd in wasm and gives
  // what classify --json gives for the same file.
  const [samples] = nativeSamples([path.join(DATA, 'jazz/jazz.00000.ogg')]);
  const file = path.join(scratch, 'jazz.00000.au');
  writeFileSync(file, au(samples, 22050));
  const cli = classifyCli(file);
  const { page, errors } = await openPage(browser, server.url);
  assert.equal(await analyse(page, file), 'done');
  const { result } = await shown(page);
  assert.equal(result.genre, cli.genre);
  for (const [genre, p] of Object.entries(cli.probabilities)) {
    assert.ok(Math.abs(result.probabilities[genre] - p) <= 1e-4, `${genre}: page ${result.probabilities[genre]} vs cli ${p}`);
  }
  assert.match(await page.textContent('#result-facts'), /30\.0 s · 1 channel · 10 segments/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('switching models re-runs on the same song without decoding it again, and is remembered', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, server.url);
  assert.equal(await analyse(page, path.join(DATA, 'jazz/jazz.00000.ogg')), 'done');
  const before = await shown(page);
  assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').decodes), 1);
  // From musicnn to the tutorial networks (the MFCCs were computed beside the embeddings)
  // and back, all from what the worker kept of the one decode.
  for (const model of ['cnn', 'rnn', 'ann', 'ann-reg', 'musicnn']) {
    await page.evaluate(() => { document.querySelector('genre-classifier').dataset.state = 'waiting'; });
    await page.selectOption('#model', model);
    await page.waitForFunction((m) => document.querySelector('genre-classifier').dataset.state === 'done' && document.querySelector('genre-classifier').lastAnalysis.model === m, model);
    const now = await shown(page);
    assert.match(await page.textContent('#card-summary'), new RegExp(`^Model: ${model} ·`));
    assert.match(await page.textContent('#result-facts'), new RegExp(` ${model} \\d+ ms`));
    if (model === 'musicnn') assert.deepEqual(now.result.probabilities, before.result.probabilities);
    else assert.notDeepEqual(now.result.probabilities, before.result.probabilities);
  }
  await page.selectOption('#model', 'rnn');
  await page.waitForFunction(() => document.querySelector('genre-classifier').lastAnalysis.model === 'rnn');
  assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').decodes), 1, 'the song was decoded once');
  // A new visit starts with the model chosen last.
  const again = await openPage(context, server.url);
  assert.equal(await again.page.inputValue('#model'), 'rnn');
  assert.match(await again.page.textContent('#card-summary'), /^Model: rnn ·/);
  await context.close();
});

test('no network request is made after the page and the model have loaded', async () => {
  const { page } = await openPage(browser, server.url);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  assert.equal(await analyse(page, path.join(DATA, 'rock/rock.00074.ogg')), 'done');
  assert.equal(await analyse(page, { name: 'tune.wav', mimeType: 'audio/wav', buffer: wav([melody(5, 22050)], 22050) }), 'done');
  assert.deepEqual(requests, []);
  await page.close();
});

const awkward = [
  ['silence', 'silence.wav', () => wav([new Float32Array(22050 * 5)], 22050), 'error', /“silence\.wav” is silent/],
  ['six channels', 'surround.wav', () => wav(Array.from({ length: 6 }, (_, c) => melody(5, 44100, 110 * (c + 1))), 44100, { bits: 16 }), 'done', /5\.0 s · 6 channels · 2 segments/],
  ['192 kHz', 'hires.wav', () => wav([melody(4, 192000)], 192000, { bits: 16 }), 'done', /4\.0 s · 1 channel · 1 segment/],
  ['8 kHz', 'phone.wav', () => wav([melody(10, 8000)], 8000, { bits: 16 }), 'done', /10\.0 s · 1 channel · 3 segments/],
  ['a 2.5 s clip', 'short.wav', () => wav([melody(2.5, 22050, 330)], 22050), 'done', /looped to fill it: the verdict is less reliable/],
  ['a pure tone', 'tone.wav', () => wav([tone(6, 22050)], 22050), 'error', /“tone\.wav” does not sound like music: it is a pure tone/],
];

for (const [what, name, make, state, message] of awkward) {
  test(`${what}: ${state === 'done' ? 'classified' : 'a clear message'}`, async () => {
    const { page, errors } = await openPage(browser, server.url);
    assert.equal(await analyse(page, { name, mimeType: 'audio/wav', buffer: make() }), state);
    if (state === 'done') {
      assert.match(await page.textContent('#result-facts'), message);
      assert.equal((await page.$$('#bars li')).length, 5);
    } else {
      assert.match(await statusText(page), message);
      assert.equal(await page.getAttribute('#status', 'role'), 'alert');
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
}

/** A mono 16-bit WAV of `seconds` at 8 kHz, written in pieces (a two-hour file is 115 MB). */
function longWav(file, seconds) {
  const rate = 8000;
  const frames = seconds * rate;
  const fd = openSync(file, 'w');
  const header = wav([new Float32Array(0)], rate, { bits: 16 });
  header.writeUInt32LE(36 + 2 * frames, 4);
  header.writeUInt32LE(2 * frames, 40);
  writeSync(fd, header);
  const block = Buffer.alloc(2 * rate * 60);
  for (let minute = 0; minute < seconds / 60; minute++) {
    for (let i = 0; i < rate * 60; i++) {
      const t = (minute * 60 * rate + i) / rate;
      block.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * (200 + 50 * Math.sin(t / 7)) * t)), 2 * i);
    }
    writeSync(fd, block);
  }
  closeSync(fd);
}

test('a two-hour file shows progress in bounded memory and can be cancelled', async () => {
  const file = path.join(scratch, 'two-hours.wav');
  longWav(file, 2 * 3600);
  const { page, errors } = await openPage(browser, server.url);
  await page.evaluate(() => { document.querySelector('genre-classifier').dataset.state = 'waiting'; });
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => (document.querySelector('genre-classifier').lastProgress?.done ?? 0) >= 100, null, { timeout: 120_000 });
  const progress = await page.evaluate(() => document.querySelector('genre-classifier').lastProgress);
  assert.equal(progress.total, 2406);
  // 100 segments in, the worker's wasm memory has not grown with the song: two hours of
  // mono audio alone would be 635 MB at 22 050 Hz.
  assert.ok(progress.wasmBytes < 64 * 2 ** 20, `wasm memory ${progress.wasmBytes} bytes`);
  // The first answer (from ten segments spread over it) came, and the rest is filling in.
  assert.match(await statusText(page), /^“two-hours\.wav”: (most likely|perhaps) \S+ · checking the whole song, segment \d+ of 2406$/);
  assert.ok(await page.isVisible('#progress'));
  // The timeline fills in as segments are done: its start painted, its end not yet.
  await page.waitForFunction(() => document.querySelector('genre-classifier').partialSegments >= 100);
  const timeline = await page.evaluate(() => {
    const canvas = document.querySelector('genre-classifier').shadowRoot.getElementById('progress-timeline');
    const alpha = (x) => canvas.getContext('2d').getImageData(x, canvas.height / 2, 1, 1).data[3];
    return { hidden: canvas.hidden, start: alpha(0), end: alpha(canvas.width - 1) };
  });
  assert.deepEqual(timeline, { hidden: false, start: 255, end: 0 });
  await page.screenshot({ path: path.join(SHOTS, 'classify-two-hours-progress.png') });
  await page.click('#cancel');
  assert.equal(await statusText(page), 'Cancelled.');
  // The page is still usable.
  assert.equal(await analyse(page, path.join(DATA, 'pop/pop.00002.ogg')), 'done');
  assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.result.segments.length), 10);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a model with other feature settings or corrupt weights is refused with the reason', async () => {
  // A copy of the page whose musicnn card asks for zero padding and whose rnn weights are cut.
  const www = path.join(scratch, 'www');
  cpSync(path.join(ROOT, 'www'), www, { recursive: true });
  const cardFile = path.join(www, 'models/musicnn/card.json');
  const card = JSON.parse(readFileSync(cardFile, 'utf8'));
  card.features.pad_mode = 'constant';
  writeFileSync(cardFile, JSON.stringify(card));
  const weights = path.join(www, 'models/rnn/model.bpk');
  writeFileSync(weights, readFileSync(weights).subarray(0, 1000));
  const tampered = await serve(www);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(tampered.url);
    await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'error', null, { timeout: 20_000 });
    assert.match(await statusText(page), /^Model “musicnn” could not be loaded: .*pad_mode/);
    // A song dropped now gets a message, not a hang.
    assert.equal(await analyse(page, path.join(DATA, 'pop/pop.00002.ogg')), 'error');
    assert.match(await statusText(page), /could not be loaded|no model/);
    await page.selectOption('#model', 'rnn');
    await page.waitForFunction(() => /rnn/.test(document.querySelector('genre-classifier').shadowRoot.getElementById('status-text').textContent));
    assert.match(await statusText(page), /^Model “rnn” could not be loaded: .*(corrupt|truncated)/);
    // A working model makes the page usable again.
    await page.selectOption('#model', 'ann');
    await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'idle');
    assert.equal(await analyse(page, path.join(DATA, 'pop/pop.00002.ogg')), 'done');
    assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.model), 'ann');
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    tampered.stop();
  }
});
