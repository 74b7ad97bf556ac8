// Browser benchmark (prints figures; not a test), in headless Chromium on this machine:
// - the worker's feature time for a 30 s clip with the default model (musicnn: resampling
//   22 050 -> 16 000 Hz and the log-mel spectrogram);
// - drop to result (decoding, features, network, drawing) for a 30 s GTZAN clip, a 30 s
//   44.1 kHz stereo MP3 and a 5-minute one, with the default model;
// - the network alone on one song with each shipped model.
// Run via ./build.sh bench.
import path from 'node:path';
import { serve, launch, openPage, analyse, benchSongs, DATA } from './helpers.mjs';

const RUNS = 6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeDrops(page, file, runs = RUNS) {
  const rows = [];
  for (let i = 0; i < runs; i++) {
    if (await analyse(page, file, 120_000) !== 'done') throw new Error(`analysis of ${file} failed: ${await page.textContent('#status-text')}`);
    rows.push(await page.evaluate(() => {
      const { decodeMs, featureMs, classifyMs, totalMs } = document.querySelector('genre-classifier').lastAnalysis;
      return { decodeMs, featureMs, classifyMs, totalMs };
    }));
  }
  const warm = rows.slice(1);  // the first run includes compiling the wasm's hot paths
  const pick = (k) => median(warm.map((r) => r[k])).toFixed(0);
  return `drop to result ${pick('totalMs')} ms (decoding ${pick('decodeMs')}, features ${pick('featureMs')}, `
    + `network ${pick('classifyMs')}; median of ${warm.length} warm runs)`;
}

const songs = benchSongs();
const server = await serve();
const browser = await launch();
try {
  const { page } = await openPage(browser, server.url);
  const clip = path.join(DATA, 'blues/blues.00000.ogg');
  const feature = [];
  for (let i = 0; i < RUNS; i++) {
    await analyse(page, clip);
    feature.push(await page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.featureMs));
  }
  console.log(`features of a 30 s clip in Chromium's worker, default model (resampling to 16 kHz, log-mel): median ${median(feature.slice(1)).toFixed(1)} ms, `
    + `best ${Math.min(...feature.slice(1)).toFixed(1)} ms`);
  console.log(`30 s GTZAN clip (Ogg Vorbis, 22 050 Hz mono): ${await timeDrops(page, clip)}`);
  console.log(`30 s MP3 (44.1 kHz stereo): ${await timeDrops(page, songs.mp3)}`);
  console.log(`5-minute MP3 (44.1 kHz stereo): ${await timeDrops(page, songs.long, 4)}`);
  const use = async (model) => {
    await page.selectOption('#model', model);
    await page.waitForFunction((m) => document.querySelector('genre-classifier').lastAnalysis.model === m, model, { timeout: 60_000 });
    return page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis.classifyMs);
  };
  for (const model of ['cnn', 'rnn', 'ann', 'ann-reg']) {
    const other = model === 'ann' ? 'cnn' : 'ann';
    const times = [];
    for (let i = 0; i < 3; i++) { await use(other); times.push(await use(model)); }
    console.log(`${model}: network alone on the 5-minute song (100 segments), best of 3: ${Math.min(...times).toFixed(0)} ms`);
  }
} finally {
  await browser.close();
  server.stop();
}
