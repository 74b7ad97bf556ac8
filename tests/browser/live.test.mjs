// Live mode end to end in headless Chromium with a fake microphone that plays a real clip:
// the live genre agrees with the batch classification of the same file for most windows;
// quiet input shows "listening"; a pure tone is said not to sound like music; Stop releases the microphone; permission denied, no
// device and no AudioWorklet each get a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, launchWithMicrophone, openPage, analyse, statusText, wav, tone, nativeSamples, DATA, ROOT } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'target/screenshots');
let server, scratch;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), 'gc-live-'));
  server = await serve();
});
after(() => {
  server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Waits until the widget has `count` live windows; returns them. */
async function liveWindows(page, count, timeout = 40_000) {
  await page.waitForFunction((n) => (document.querySelector('genre-classifier').liveWindows?.length ?? 0) >= n, count, { timeout });
  return page.evaluate(() => document.querySelector('genre-classifier').liveWindows.slice());
}

test('live windows agree with the batch classification of the same clip', async () => {
  const [samples] = nativeSamples([path.join(DATA, 'classical/classical.00000.ogg')]);
  const file = path.join(scratch, 'classical.wav');
  writeFileSync(file, wav([samples], 22050, { bits: 16 }));
  const browser = await launchWithMicrophone(file);
  try {
    const { page, errors } = await openPage(browser, server.url, { viewport: { width: 1000, height: 900 } });
    assert.equal(await analyse(page, file), 'done');
    const batch = await page.evaluate(() => document.querySelector('genre-classifier').lastResult.genre);
    await page.click('#listen');
    const windows = await liveWindows(page, 10);
    const heard = windows.filter((w) => !w.quiet);
    assert.ok(heard.length >= 8, `${heard.length} of ${windows.length} windows loud enough`);
    const agree = heard.filter((w) => w.genre === batch).length / heard.length;
    console.log(`live mode: ${(100 * agree).toFixed(0)} % of ${heard.length} windows agree with the batch genre (${batch})`);
    assert.ok(agree >= 0.6, `only ${(100 * agree).toFixed(0)} % of live windows say ${batch}`);
    assert.match(await page.textContent('#live-now'), /^Now: \w/);
    assert.equal(await page.getAttribute('#listen', 'aria-pressed'), 'true');
    await page.screenshot({ path: path.join(SHOTS, 'live-classical.png'), fullPage: true });
    // Stop releases the microphone: no more windows, and the button is back.
    await page.click('#listen');
    const stopped = await page.evaluate(() => document.querySelector('genre-classifier').liveWindows.length);
    await page.waitForTimeout(2_500);
    assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').liveWindows.length), stopped);
    assert.match(await page.textContent('#live-now'), /microphone is released/);
    assert.equal(await page.textContent('#listen'), 'Listen');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('quiet input shows "listening" instead of a guess', async () => {
  const file = path.join(scratch, 'quiet.wav');
  writeFileSync(file, wav([new Float32Array(22050 * 5)], 22050, { bits: 16 }));
  const browser = await launchWithMicrophone(file);
  try {
    const { page } = await openPage(browser, server.url);
    await page.click('#listen');
    const windows = await liveWindows(page, 2);
    assert.ok(windows.every((w) => w.quiet && w.genre === null));
    assert.equal(await page.textContent('#live-now'), 'Listening… (too quiet to tell)');
    await page.click('#listen');
  } finally {
    await browser.close();
  }
});

test('a pure tone at the microphone is said not to sound like music, not given a genre', async () => {
  const file = path.join(scratch, 'tone.wav');
  writeFileSync(file, wav([tone(12, 22050, 440)], 22050, { bits: 16 }));
  const browser = await launchWithMicrophone(file);
  try {
    const { page, errors } = await openPage(browser, server.url);
    await page.click('#listen');
    const windows = await liveWindows(page, 5);
    // The first windows are heard before any judgement; from the third on, it is named.
    const judged = windows.slice(2);
    assert.ok(judged.every((w) => w.notMusic && w.genre === null), JSON.stringify(windows.map((w) => [w.notMusic, w.genre])));
    assert.match(judged[0].notMusic, /^does not sound like music: it is a pure tone/);
    assert.match(await page.textContent('#live-now'), /^Listening… this does not sound like music: it is a pure tone\.$/);
    await page.click('#listen');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

const refusals = [
  ['permission denied', null, /^Live mode: microphone access was denied/],
  ['no input device', () => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
  }, /^Live mode: no microphone was found/],
  ['a browser without AudioWorklet', () => { delete window.AudioWorkletNode; }, /^Live mode: this browser lacks AudioWorklet/],
];

for (const [what, script, message] of refusals) {
  test(`${what}: a clear message`, async () => {
    // A fake microphone, but without the fake-UI flag: headless Chromium denies access.
    const browser = await launch(['--use-fake-device-for-media-stream']);
    try {
      const context = await browser.newContext();
      if (script) await context.addInitScript(script);
      const { page, errors } = await openPage(context, server.url);
      await page.click('#listen');
      await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'error');
      assert.match(await statusText(page), message);
      assert.equal(await page.textContent('#listen'), 'Listen');
      // The page still classifies files.
      assert.equal(await analyse(page, path.join(DATA, 'pop/pop.00002.ogg')), 'done');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
