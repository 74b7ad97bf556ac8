// Live-mode cost benchmark (prints figures; not a test), in headless Chromium with a fake
// microphone playing a real clip: the worker's busy time per second of audio, and the CPU
// time of the page's renderer process (main thread, worker and audio thread together)
// while listening, against the same page idle. Run via ./build.sh bench.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launchWithMicrophone, openPage, wav, nativeSamples, DATA } from './helpers.mjs';

const SECONDS = 20;
const scratch = mkdtempSync(path.join(tmpdir(), 'gc-bench-live-'));
const [samples] = nativeSamples([path.join(DATA, 'jazz/jazz.00002.ogg')]);
const file = path.join(scratch, 'jazz.wav');
writeFileSync(file, wav([samples], 22050, { bits: 16 }));
const server = await serve();
const browser = await launchWithMicrophone(file);
try {
  const { page } = await openPage(browser, server.url);
  const cdp = await browser.newBrowserCDPSession();
  /** CPU seconds of all renderer processes so far. */
  const rendererCpu = async () => {
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    return processInfo.filter((p) => p.type === 'renderer').reduce((s, p) => s + p.cpuTime, 0);
  };
  const measure = async (seconds) => {
    const before = await rendererCpu();
    const start = Date.now();
    await page.waitForTimeout(seconds * 1000);
    return (await rendererCpu() - before) / ((Date.now() - start) / 1000);
  };
  const idle = await measure(SECONDS / 2);
  await page.click('#listen');
  await page.waitForFunction(() => (document.querySelector('genre-classifier').liveWindows?.length ?? 0) >= 2, null, { timeout: 60_000 });
  const listening = await measure(SECONDS);
  const last = await page.evaluate(() => {
    const w = document.querySelector('genre-classifier').liveWindows;
    return { count: w.length };
  });
  const facts = await page.textContent('#live-facts');
  console.log(`live mode, ${SECONDS} s: the renderer process used ${(100 * listening).toFixed(1)} % of one core `
    + `(idle page: ${(100 * idle).toFixed(1)} %, so live mode costs ${(100 * (listening - idle)).toFixed(1)} %); `
    + `${last.count} windows; ${facts.replace(/^heard [^·]*· /, '')}`);
  await page.click('#listen');
} finally {
  await browser.close();
  server.stop();
  rmSync(scratch, { recursive: true, force: true });
}
