// Shared helpers for the browser tests and benchmarks: serve www/ on a free loopback
// port and drive Debian's Chromium with playwright-core.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA = path.resolve(ROOT, '../shared/data/gtzan');

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Serves `dir` (default www/) with tests/serve.py; resolves to { url, stop }. */
export async function serve(dir = path.join(ROOT, 'www')) {
  const port = await freePort();
  const child = spawn('python3', [path.join(ROOT, 'tests/serve.py'), '--port', String(port), '--dir', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

/** Launches headless Chromium with the flags this workplace needs. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

/** Opens the page and waits until its worker has loaded the wasm. */
export async function openPage(browser, url, options = {}) {
  const page = await browser.newPage(options);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 20_000 });
  return { page, errors };
}

/** Chooses `file` (a path, or { name, mimeType, buffer }) in the page's file input and
 *  waits for the analysis to finish or fail; returns the final state. */
export async function analyse(page, file, timeout = 60_000) {
  await page.evaluate(() => { document.body.dataset.state = 'waiting'; });
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout });
  return page.evaluate(() => document.body.dataset.state);
}
