// The page end to end in headless Chromium: drop or pick a file, see the waveform and the
// MFCC heatmap; bad input gets a clear message, never a blank page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { serve, launch, openPage, analyse, statusText, floatWav, tone, melody, nativeSamples, DATA, ROOT } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'target/screenshots');
let server, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

/** Fraction of distinct colours in the heatmap canvas: a drawn heatmap has many. */
async function heatmapVariety(page) {
  return page.evaluate(() => {
    const c = document.querySelector('genre-classifier').shadowRoot.getElementById('heatmap');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4 * 97) colours.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return colours.size;
  });
}

test('a real clip shows its waveform and the log-mel spectrogram musicnn hears', async () => {
  const { page, errors } = await openPage(browser, server.url, { viewport: { width: 1000, height: 900 } });
  assert.equal(await analyse(page, path.join(DATA, 'blues/blues.00000.ogg')), 'done');
  const facts = await page.textContent('#result-facts');
  assert.match(facts, /30\.0 s · 1 channel · 10 segments of 2\.99 s/);
  assert.match(await page.textContent('#heatmap-title'), /Log-mel spectrogram/);
  assert.equal(await page.textContent('#result-title'), 'blues.00000.ogg');
  assert.ok(await heatmapVariety(page) > 50, 'heatmap looks blank');
  assert.ok(await page.isHidden('#status'), 'status should be hidden after a result');
  const analysis = await page.evaluate(() => ({ n: document.querySelector('genre-classifier').lastAnalysis.segments.length, len: document.querySelector('genre-classifier').lastAnalysis.segments[0].length }));
  assert.deepEqual(analysis, { n: 10, len: 187 * 96 });
  await page.screenshot({ path: path.join(SHOTS, 'page-blues.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the page computes librosa-exact MFCCs from the samples it is given', async () => {
  // The crate's decoded samples of a fixture clip, as a float WAV at 22 050 Hz, reach the
  // worker untouched: the page's MFCCs must match librosa's within 1e-3.
  const fixtures = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/librosa_mfcc.json'), 'utf8'));
  const expected = fixtures.cases.find((c) => c.name === 'jazz.00002');
  const [samples] = nativeSamples([path.join(DATA, 'jazz/jazz.00002.ogg')]);
  const { page } = await openPage(browser, server.url);
  await page.selectOption('#model', 'cnn');
  await page.waitForFunction(() => document.querySelector('genre-classifier').classifier?.model === 'cnn');
  const file = { name: 'jazz.wav', mimeType: 'audio/wav', buffer: floatWav(samples, 22050) };
  assert.equal(await analyse(page, file), 'done');
  const ours = await page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.segments.map((s) => Array.from(s)));
  assert.equal(ours.length, expected.mfcc.length);
  let worst = 0;
  expected.mfcc.forEach((segment, s) => segment.flat().forEach((v, i) => { worst = Math.max(worst, Math.abs(v - ours[s][i])); }));
  assert.ok(worst <= 1e-3, `max |page - librosa| = ${worst}`);
  await page.close();
});

test('dropping a file on the drop zone analyses it', async () => {
  const { page } = await openPage(browser, server.url);
  const wav = floatWav(melody(4, 44100), 44100).toString('base64');
  await page.evaluate(() => { document.querySelector('genre-classifier').dataset.state = 'waiting'; });
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'dropped.wav', { type: 'audio/wav' }));
    document.querySelector('genre-classifier').shadowRoot.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, wav);
  await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('genre-classifier').dataset.state));
  assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').dataset.state), 'done');
  assert.match(await page.textContent('#result-facts'), /4\.0 s · 1 channel · 1 segment/);
  await page.close();
});

test('the keyboard opens the file chooser from the focused drop zone', async () => {
  const { page } = await openPage(browser, server.url);
  // Count activations of the file input rather than racing Playwright's chooser interception.
  await page.evaluate(() => {
    window.fileInputClicks = 0;
    document.querySelector('genre-classifier').shadowRoot.getElementById('file').addEventListener('click', (e) => { window.fileInputClicks++; e.preventDefault(); });
  });
  const focused = () => page.evaluate(() => document.querySelector('genre-classifier').shadowRoot.activeElement?.id);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'listen', 'the Listen button is the first tab stop');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'train-open', 'then Train your own (the page sets `train`)');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'model', 'then the model selector');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'drop', 'then the drop zone');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => window.fileInputClicks), 2);
  await page.close();
});

const badInputs = [
  ['a text file', { name: 'notes.mp3', mimeType: 'audio/mpeg', buffer: Buffer.from('this is not audio at all') }, /cannot decode it as audio/],
  ['an empty file', { name: 'empty.wav', mimeType: 'audio/wav', buffer: Buffer.alloc(0) }, /the file is empty/],
  ['half a second', { name: 'blip.wav', mimeType: 'audio/wav', buffer: floatWav(tone(0.5, 22050), 22050) }, /at least 1\.0 s is needed/],
  ['a truncated WAV header', { name: 'cut.wav', mimeType: 'audio/wav', buffer: floatWav(tone(3, 22050), 22050).subarray(0, 30) }, /cannot decode it as audio/],
];

for (const [what, file, message] of badInputs) {
  test(`${what} gets a clear message`, async () => {
    const { page, errors } = await openPage(browser, server.url);
    assert.equal(await analyse(page, file), 'error');
    const text = await statusText(page);
    assert.match(text, message);
    assert.match(text, new RegExp(file.name.replace('.', '\\.')));
    assert.equal(await page.getAttribute('#status', 'role'), 'alert');
    assert.deepEqual(errors, []);
    if (what === 'a text file') await page.screenshot({ path: path.join(SHOTS, 'page-not-audio.png') });
    await page.close();
  });
}

test('a 2 s clip at 8 kHz is resampled, looped to one patch, and says so', async () => {
  const { page } = await openPage(browser, server.url);
  assert.equal(await analyse(page, { name: 'short.wav', mimeType: 'audio/wav', buffer: floatWav(melody(2, 8000), 8000) }), 'done');
  assert.match(await page.textContent('#result-facts'), /looped to fill it/);
  await page.close();
});

test('at phone width and in dark mode the result fits the screen', async () => {
  const { page } = await openPage(browser, server.url, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  assert.equal(await analyse(page, path.join(DATA, 'rock/rock.00074.ogg')), 'done');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(21, 22, 26)');
  await page.screenshot({ path: path.join(SHOTS, 'page-phone-dark.png'), fullPage: true });
  await page.close();
});
