// The download budget, checked against what Chromium really fetches: every file the page
// loads before the first song is in the measured list, and together they stay under 1.5 MB
// gzipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage } from './helpers.mjs';
import { pageFiles, measure, BUDGET } from '../node/page_size.mjs';

test('the page, its wasm and the default model download in under 1.5 MB gzipped', async () => {
  const server = await serve();
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const fetched = new Set();
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === new URL(server.url).origin) fetched.add(url.pathname.slice(1) || 'index.html');
    });
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'idle', null, { timeout: 20_000 });
    // Worker requests are not always reported to the page; the listed files must cover
    // every request that was.
    const listed = new Set(await pageFiles());
    for (const file of fetched) assert.ok(listed.has(file), `${file} is downloaded but not measured`);
    for (const needed of ['index.html', 'genre-classifier.js', 'genre-classifier.css', 'classifier.js', 'worker.js', 'pkg/genre_classifier_bg.wasm']) assert.ok(listed.has(needed));
    const { total } = await measure();
    assert.ok(total <= BUDGET, `page download is ${total} bytes gzipped; budget ${BUDGET}`);
  } finally {
    await browser.close();
    server.stop();
  }
});
