// The page as an installable, offline app, in headless Chromium: its manifest and icons;
// a first visit that installs the service worker, then a page that loads and classifies a
// song with the network gone; files shared to the app; a cache the browser evicted; a
// model that cannot download offline; and a new build taking over from an old one.
// Each test serves its own copy of www/ with its own sw-version.js (scripts/precache.mjs,
// as ./build.sh writes it), so that it can change the build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, analyse, statusText, floatWav, melody, DATA, ROOT } from './helpers.mjs';
import { writePrecache } from '../../scripts/precache.mjs';

const CLIP = path.join(DATA, 'blues/blues.00000.ogg');
const PREFIX = 'genre-classifier-';
const copies = [];
let browser;

before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of www/ (one build) with its own sw-version.js: `{ dir, version }`. */
async function build() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-pwa-'));
  copies.push(dir);
  cpSync(path.join(ROOT, 'www'), dir, { recursive: true, filter: (f) => path.basename(f) !== 'sw-version.js' });
  return { dir, version: await writePrecache(dir) };
}

/** The build's list as sw-version.js holds it. */
function precacheOf(dir) {
  const self = {};
  new Function('self', readFileSync(path.join(dir, 'sw-version.js'), 'utf8'))(self);
  return self.PRECACHE;
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(bytes.toString('latin1', 12, 16), 'IHDR');
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

const waitIdle = (page, timeout = 30_000) => page.waitForFunction(
  () => ['idle', 'done'].includes(document.querySelector('genre-classifier').dataset.state), null, { timeout });

/** Opens `url` in a new context; waits until the widget is idle. */
async function visit(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await waitIdle(page);
  return { context, page, errors };
}

/** Waits until the service worker of `version` is activated (its activate handler done);
 *  returns the page's cache names and the files in that cache (paths relative to the site). */
async function installed(page, version) {
  await page.evaluate(async (name) => {
    for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      const active = (await navigator.serviceWorker.getRegistration())?.active;
      if (active?.state === 'activated' && await caches.has(name)) return;
    }
    throw new Error(`no service worker activated with ${name}`);
  }, `${PREFIX}${version}`);
  return page.evaluate(async (name) => ({
    names: await caches.keys(),
    files: (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname.slice(1)).sort(),
  }), `${PREFIX}${version}`);
}

test('the manifest has what installing needs, its icons are the sizes it says, favicon.ico exists', async () => {
  const { dir } = await build();
  const server = await serve(dir);
  try {
    const response = await fetch(new URL('manifest.webmanifest', server.url));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/manifest\+json/);
    const manifest = await response.json();
    assert.equal(manifest.name, 'Genre classifier');
    assert.ok(manifest.short_name && manifest.short_name.length <= 12, 'a short name fits under an icon');
    assert.ok(manifest.description);
    assert.equal(manifest.start_url, './');
    assert.equal(manifest.scope, './');
    assert.equal(manifest.display, 'standalone');
    for (const key of ['theme_color', 'background_color']) assert.match(manifest[key], /^#[0-9a-f]{6}$/i, key);
    const icons = Object.fromEntries(manifest.icons.map((i) => [`${i.type} ${i.sizes} ${i.purpose}`, i.src]));
    for (const [kind, src] of Object.entries(icons)) {
      const bytes = Buffer.from(await (await fetch(new URL(src, server.url))).arrayBuffer());
      if (kind.startsWith('image/png')) assert.equal(pngSize(bytes), kind.split(' ')[1], src);
      else assert.match(bytes.toString('utf8'), /^<svg[^>]*viewBox/, src);
    }
    for (const kind of ['image/png 192x192 any', 'image/png 512x512 any', 'image/png 512x512 maskable', 'image/svg+xml any any']) {
      assert.ok(icons[kind], `an icon ${kind}`);
    }
    const [handler] = manifest.file_handlers;
    assert.equal(handler.action, './');
    assert.deepEqual(handler.accept['audio/*'], ['.mp3', '.wav', '.ogg', '.flac', '.m4a', '.au', '.aiff']);
    const share = manifest.share_target;
    assert.deepEqual([share.method, share.enctype], ['POST', 'multipart/form-data']);
    assert.equal(share.params.files[0].name, 'files');
    assert.ok(share.params.files[0].accept.includes('audio/*'));
    const ico = Buffer.from(await (await fetch(new URL('/favicon.ico', server.url))).arrayBuffer());
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1], 'an ICO header');
    assert.ok(ico.readUInt16LE(4) >= 1);
    await chromiumReadsManifest(server.url);
  } finally {
    server.stop();
  }
});

/** Chromium finds the manifest from the page, parses it without errors, would install
 *  the app (but for the test's private profile), and sees the theme colours for light and
 *  dark. */
async function chromiumReadsManifest(url) {
  const { context, page, errors } = await visit(url);
  const cdp = await context.newCDPSession(page);
  const { url: manifestUrl, errors: problems, manifest } = await cdp.send('Page.getAppManifest');
  assert.equal(manifestUrl, new URL('manifest.webmanifest', url).href);
  assert.deepEqual(problems, [], 'Chromium reads the manifest without complaint');
  assert.equal(manifest.shareTarget?.action, new URL('share', url).href);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito'), [], 'installable');
  const themes = await page.$$eval('meta[name=theme-color]', (m) => m.map((e) => e.media));
  assert.deepEqual(themes.sort(), ['(prefers-color-scheme: dark)', '(prefers-color-scheme: light)']);
  assert.equal(await page.$eval('link[rel=icon][type="image/svg+xml"]', (l) => l.getAttribute('href')), 'favicon.svg');
  assert.deepEqual(errors, []);
  await context.close();
}

test('after one visit, the page loads and classifies a song with the network gone', async () => {
  const { dir, version } = await build();
  const list = precacheOf(dir);
  const server = await serve(dir);
  const { context, page, errors } = await visit(server.url);
  try {
    const { files } = await installed(page, version);
    const expected = [...Object.keys(list.files), ...Object.keys(list.simd)].sort();
    assert.deepEqual(files, expected, 'the page, the default model and the SIMD packages are kept');
    assert.ok(files.includes('models/musicnn/model.bpk') && files.includes('pkg-decode/genre_classifier_bg.wasm'));
    assert.ok(!files.some((f) => f.startsWith('pkg-plain/')), 'a browser with SIMD does not keep the plain package');
    server.stop();
    await context.setOffline(true);
    await page.reload();
    await waitIdle(page);
    assert.equal(await page.evaluate(() => navigator.onLine), false);
    assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the service worker serves the page');
    assert.equal(await analyse(page, CLIP), 'done', await statusText(page));
    assert.equal(await page.textContent('#result-title'), 'blues.00000.ogg');
    assert.match(await page.textContent('#verdict'), /^Most likely \S/);
    mkdirSync(path.join(ROOT, 'target'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'target/pwa-offline.png'), fullPage: true });
    // A model never loaded before cannot come: the person is told why.
    await page.selectOption('#model', 'cnn');
    await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'error');
    assert.match(await statusText(page), /Model “cnn” could not be loaded: .*offline/);
    assert.equal(await page.textContent('#result-title'), 'blues.00000.ogg', 'the song on screen stays');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.stop();
  }
});

test('a file shared to the app is classified; other models are kept once loaded; an evicted cache refills', async () => {
  const { dir, version } = await build();
  const server = await serve(dir);
  const { context, page, errors } = await visit(server.url);
  try {
    await installed(page, version);
    await page.reload();
    await waitIdle(page);
    await shareFile(page, 'shared.wav', floatWav(melody(4, 22050), 22050));
    await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'done', null, { timeout: 60_000 });
    assert.equal(await page.textContent('#result-title'), 'shared.wav');
    assert.equal(new URL(page.url()).search, '', 'the page forgets ?shared once it took the files');
    assert.deepEqual(await page.evaluate(async () => (await (await caches.open('genre-classifier-shared')).keys()).length), 0);
    // Another model: downloaded once, then kept (checked against its hash).
    await page.selectOption('#model', 'cnn');
    await page.waitForFunction(() => document.querySelector('genre-classifier').classifier?.model === 'cnn');
    const cached = (file) => kept(page, `${PREFIX}${version}`, file);
    await cached('models/cnn/model.bpk');
    // The browser evicts the cache: the page still loads, from the network, and the
    // service worker keeps this build's files again as they come.
    await page.evaluate((name) => caches.delete(name), `${PREFIX}${version}`);
    await page.reload();
    await waitIdle(page);
    await cached('index.html');
    await cached('pkg/genre_classifier_bg.wasm');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.stop();
  }
});

/** Waits (up to 30 s) until the cache `name` holds `file`. */
function kept(page, name, file) {
  return page.evaluate(async ([name, file]) => {
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      if (await caches.match(file, { cacheName: name })) return;
    }
    throw new Error(`${name} never held ${file}`);
  }, [name, file]);
}

/** Shares `name` (bytes `body`) to the app as the system would: a multipart POST of its
 *  `files` field to the manifest's share_target action. */
async function shareFile(page, name, body) {
  await page.evaluate(({ name, b64 }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const form = Object.assign(document.createElement('form'), { method: 'POST', action: 'share', enctype: 'multipart/form-data' });
    const input = Object.assign(document.createElement('input'), { type: 'file', name: 'files' });
    const files = new DataTransfer();
    files.items.add(new File([bytes], name, { type: 'audio/wav' }));
    input.files = files.files;
    form.append(input);
    document.body.append(form);
    form.submit();
  }, { name, b64: body.toString('base64') });
  await page.waitForURL((url) => url.pathname === '/' && !url.search.includes('shared'), { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('genre-classifier')?.dataset.state === 'working'
    || document.querySelector('genre-classifier')?.dataset.state === 'done', null, { timeout: 30_000 });
}

test('a new build takes over from the old one: its own cache, the old one deleted, the person told', async () => {
  const { dir, version: a } = await build();
  const server = await serve(dir);
  const { context, page, errors } = await visit(server.url);
  try {
    await installed(page, a);
    await page.reload();
    await waitIdle(page);
    assert.equal(await page.textContent('#notice'), '', 'no notice on the first install');
    // Build B: a changed page, and its sw-version.js written again.
    const index = path.join(dir, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('<head>', '<head>\n  <meta name="build" content="B">'));
    const b = await writePrecache(dir);
    assert.notEqual(b, a);
    // The reload is served by A; the browser finds B, which installs and takes over.
    await page.reload();
    assert.equal(await page.locator('meta[name=build]').count(), 0, 'A served this load');
    await page.waitForFunction(() => document.getElementById('notice').textContent.includes('Updated to the new version'), null, { timeout: 60_000 });
    const { names, files } = await installed(page, b);
    assert.deepEqual(names, [`${PREFIX}${b}`], 'A\'s cache is deleted');
    assert.ok(files.includes('index.html'));
    assert.match(await page.evaluate(() => navigator.serviceWorker.controller.scriptURL), /\/sw\.js$/);
    await page.getByRole('button', { name: 'Reload now' }).click();
    await page.waitForLoadState('load');
    await waitIdle(page);
    assert.equal(await page.getAttribute('meta[name=build]', 'content'), 'B', 'B serves the page now');
    assert.equal(await page.textContent('#notice'), '');
    server.stop();  // all of B from its cache
    assert.equal(await analyse(page, CLIP), 'done', await statusText(page));
    assert.match(await page.textContent('#verdict'), /^Most likely \S/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    server.stop();
  }
});
