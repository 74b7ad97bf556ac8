// Browser benchmark (prints figures; not a test), in headless Chromium on this machine:
// - wasm MFCC time of a 30 s clip inside the page's worker;
// - drop to result (decoding, features, network, drawing) for a 30 s GTZAN clip, a 30 s
//   44.1 kHz stereo MP3 and a 5-minute one, with the default model;
// - the network alone on one song with each shipped model.
// Run via ./build.sh bench.
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { serve, launch, openPage, analyse, DATA, ROOT } from './helpers.mjs';

const RUNS = 6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The MP3s of benches/make_bench_audio.py, made once with the librosa venv's soundfile. */
function benchSongs() {
  const dir = path.join(ROOT, 'target/bench-audio');
  if (!existsSync(path.join(dir, 'song-5min.mp3'))) {
    const python = execFileSync(path.join(ROOT, 'tests/fixtures/librosa_env.sh'), { encoding: 'utf8' }).trim();
    // The first clip of each genre.
    const clips = readdirSync(DATA, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'splits')
      .map((d) => path.join(DATA, d.name, readdirSync(path.join(DATA, d.name)).filter((f) => f.endsWith('.ogg')).sort()[0]))
      .sort();
    execFileSync(python, [path.join(ROOT, 'benches/make_bench_audio.py'), dir, ...clips], { stdio: 'inherit' });
  }
  return { mp3: path.join(dir, 'song-30s.mp3'), long: path.join(dir, 'song-5min.mp3') };
}

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
  console.log(`wasm MFCC of a 30 s clip in Chromium's worker: median ${median(feature.slice(1)).toFixed(1)} ms, `
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
