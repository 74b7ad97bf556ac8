// The "Fast answers" benchmark (prints figures; not a test), on this machine:
// - the real MSD_musicnn network in headless Chromium's wasm, stage by stage: ms per
//   patch, G multiply-adds/s, and burn's matmul rate on the same shapes (MusicnnBench;
//   `cargo bench --bench musicnn` prints the same natively);
// - the targets: drop to verdict (first drop after the page opened, and warm),
//   the first segment's genre on screen, a 5-minute MP3 (its first answer and the whole song), native `classify` of one clip
//   and of 100, and the page's download.
// Run via ./build.sh bench (after the wasm and native builds).
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { serve, launch, openPage, analyse, benchSongs, DATA, ROOT } from './helpers.mjs';
import { measure } from '../node/page_size.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const CLIP = path.join(DATA, 'blues/blues.00000.ogg');
const rows = [];  // [measure, target, measured, met]
const row = (measure, target, value, unit, met) => rows.push([measure, target, `${value} ${unit}`, met ? 'yes' : 'no']);

async function stages(page) {
  const lines = await page.evaluate(async () => {
    const pkg = await import('/pkg-bench/genre_classifier.js');  // the page's package with MusicnnBench (./build.sh bench builds it)
    await pkg.default();
    const [card, weights] = await Promise.all([
      fetch('/models/musicnn/card.json').then((r) => r.text()),
      fetch('/models/musicnn/model.bpk').then((r) => r.arrayBuffer()),
    ]);
    const model = new pkg.GenreModel(card, new Uint8Array(weights));
    const time = (f, n) => {
      f();  // warm-up
      const t = [];
      for (let i = 0; i < n; i++) { const s = performance.now(); f(); t.push(performance.now() - s); }
      return t.sort((a, b) => a - b)[Math.floor(n / 2)];
    };
    const out = [];
    for (const formulation of ['unfolded', 'conv2d']) {
      const bench = new pkg.MusicnnBench(model, 1, formulation);
      let total = 0;
      out.push(`\n${formulation} front end, one patch, median of 5 (wasm, one thread)`);
      out.push(`${'stage'.padEnd(28)} ${'M MAC'.padStart(8)} ${'ms'.padStart(8)} ${'G MAC/s'.padStart(8)} ${'matmul G/s'.padStart(11)}`);
      bench.stages().forEach((s, i) => {
        const ms = time(() => bench.run(i), 5);
        total += ms;
        const rate = (t) => (s.macs / t / 1e6).toFixed(1);
        const mm = s.matmul ? rate(time(() => bench.runMatmul(i), 5)) : '-';
        out.push(`${s.name.padEnd(28)} ${(s.macs / 1e6).toFixed(1).padStart(8)} ${ms.toFixed(1).padStart(8)} ${rate(ms).padStart(8)} ${mm.padStart(11)}`);
      });
      out.push(`${'sum of stages'.padEnd(28)} ${''.padStart(8)} ${total.toFixed(1).padStart(8)}`);
      bench.free();
    }
    const patch = new Float32Array(187 * 96).map((_, i) => (i * 7919 % 4000) / 1000);
    const one = time(() => model.embed(patch), 5);
    out.push(`\nwhole backbone in wasm (GenreModel.embed), one patch: ${one.toFixed(1)} ms`);
    return out;
  });
  console.log(lines.join('\n'));
}

/** Drops `file` on the widget; the timings of that analysis. */
async function drop(page, file, timeout = 120_000) {
  if (await analyse(page, file, timeout) !== 'done') throw new Error(`analysis of ${file} failed: ${await page.textContent('#status-text')}`);
  return page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis);
}

function nativeClassify() {
  const bin = process.env.CLASSIFY ?? path.join(ROOT, 'target/release/classify');
  if (!existsSync(bin)) throw new Error('build target/release/classify first (./build.sh bench does)');
  const wall = (files) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(bin, ['--json', ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  wall([CLIP]);
  const one = median(Array.from({ length: 5 }, () => wall([CLIP])));
  row('native `classify` of a 30 s clip, whole process', '≤ 0.3 s', (one / 1000).toFixed(2), 's', one <= 300);
  const clips = readdirSync(DATA, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'splits')
    .flatMap((d) => readdirSync(path.join(DATA, d.name)).filter((f) => f.endsWith('.ogg')).sort().slice(0, 10)
      .map((f) => path.join(DATA, d.name, f)));
  const files = clips.slice(0, 100);
  const ms = wall(files);
  const rate = files.length / (ms / 1000);
  row(`native \`classify\` of ${files.length} clips of 30 s, all cores`, '≥ 4 clips/s', rate.toFixed(1), 'clips/s', rate >= 4);
}

const server = await serve();
const browser = await launch();
try {
  // Cold: a new page each time, its first drop.
  const cold = [];
  const first = [];
  for (let i = 0; i < 3; i++) {
    const { page } = await openPage(browser, server.url);
    cold.push((await drop(page, CLIP)).totalMs);
    if (i === 0) await stages(page);
    await page.close();
  }
  const { page } = await openPage(browser, server.url);
  await drop(page, CLIP);
  const warm = [];
  for (let i = 0; i < 5; i++) {
    const a = await drop(page, CLIP);
    warm.push(a.totalMs);
    first.push(a.firstSegmentMs);
  }
  const { long } = benchSongs();
  const coldMs = median(cold);
  const warmMs = median(warm);
  const firstMs = median(first);
  row('30 s clip, drop to verdict, first drop after the page opened', '≤ 1.0 s', (coldMs / 1000).toFixed(2), 's', coldMs <= 1000);
  row('same, warm', '≤ 0.7 s', (warmMs / 1000).toFixed(2), 's', warmMs <= 700);
  row("first segment's genre on screen, warm", '≤ 0.3 s', (firstMs / 1000).toFixed(2), 's', firstMs <= 300);
  const longs = [await drop(page, long, 300_000), await drop(page, long, 300_000)];
  const longFirstMs = median(longs.map((a) => a.firstAnswerMs));
  const longMs = median(longs.map((a) => a.totalMs));
  row("5-minute MP3, the first answer (ten segments spread over it) on screen", '≤ 2 s', (longFirstMs / 1000).toFixed(2), 's', longFirstMs <= 2000);
  row('5-minute MP3, the timeline filling in as it goes', '≤ 6 s', (longMs / 1000).toFixed(1), 's', longMs <= 6000);
  const workers = await page.evaluate(() => navigator.hardwareConcurrency);
  nativeClassify();
  const bytes = (await measure()).total;
  row('page download before the first song, gzipped', '≤ 1.5 MB', (bytes / 1e6).toFixed(2), 'MB', bytes <= 1_500_000);
  console.log(`\nTargets (Chromium sees ${workers} cores; worker.js plus ${Math.max(0, Math.min(workers - 1, 3))} helper workers)`);
  console.log('| measure | target | measured | met |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('(live mode with the default model: see bench_live.mjs above)');
} finally {
  await browser.close();
  server.stop();
}
