// Browser benchmark (prints figures; not a test): wasm MFCC time of a 30 s clip inside the
// page's worker, and drop-to-heatmap time, in headless Chromium. Run via ./build.sh bench.
import path from 'node:path';
import { serve, launch, openPage, analyse, DATA } from './helpers.mjs';

const RUNS = 8;
const clip = path.join(DATA, 'blues/blues.00000.ogg');
const server = await serve();
const browser = await launch();
try {
  const { page } = await openPage(browser, server.url);
  const feature = [], total = [], decode = [];
  for (let i = 0; i < RUNS; i++) {
    if (await analyse(page, clip) !== 'done') throw new Error('analysis failed');
    const r = await page.evaluate(() => window.lastAnalysis);
    feature.push(r.featureMs); total.push(r.totalMs); decode.push(r.decodeMs);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const warm = (xs) => xs.slice(1);  // the first run includes compiling the wasm
  console.log(`wasm MFCC of a 30 s clip in Chromium's worker: median ${median(warm(feature)).toFixed(1)} ms, `
    + `best ${Math.min(...warm(feature)).toFixed(1)} ms, first run ${feature[0].toFixed(1)} ms`);
  console.log(`decoding (Web Audio, to 22 050 Hz): median ${median(warm(decode)).toFixed(1)} ms`);
  console.log(`drop to heatmap: median ${median(warm(total)).toFixed(1)} ms over ${RUNS - 1} warm runs`);
} finally {
  await browser.close();
  server.stop();
}
