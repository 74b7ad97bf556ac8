// Browser benchmark (prints figures; not a test): burn's flex and ndarray backends, with
// and without wasm SIMD, on the four shipped networks, in headless Chromium.
// usage: node tests/browser/bench_backends.mjs PKG_DIR...  (packages built with the
// `wasm-backends` feature; ./build.sh bench builds them)
import path from 'node:path';
import { serve, launch, ROOT } from './helpers.mjs';

const packages = process.argv.slice(2);
if (packages.length === 0) throw new Error('usage: bench_backends.mjs PKG_DIR...');
const server = await serve(ROOT);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}www/index.html`);
  console.log('median ms over 15 runs; "10" = one 30 s song, "100" = a 5-minute song');
  console.log(`${'package'.padEnd(10)} ${'backend'.padEnd(8)} ${'mfcc 30 s'.padStart(10)} `
    + ['cnn', 'rnn', 'ann', 'ann-reg'].map((m) => `${m} 10 / 100`.padStart(18)).join(''));
  for (const pkg of packages) {
    const url = `${server.url}${path.relative(ROOT, pkg)}/genre_classifier.js`;
    const rows = await page.evaluate(async ({ url, base }) => {
      const wasm = await import(url);
      await wasm.default();
      const median = (f, n = 15) => {
        const t = [];
        for (let i = 0; i < n; i++) { const s = performance.now(); f(); t.push(performance.now() - s); }
        return t.sort((a, b) => a - b)[n >> 1];
      };
      const rate = 22050;
      const song = Float32Array.from({ length: 30 * rate }, (_, i) =>
        0.3 * Math.sin(2 * Math.PI * 220 * (i / rate) * (1 + i / rate / 30)) + 0.05 * Math.sin(i * 1.7));
      const extractor = new wasm.FeatureExtractor();
      let mfcc;
      const mfccMs = median(() => { extractor.beginSong(song.length, rate); mfcc = extractor.pushAudio([song]); });
      const long = new Float32Array(mfcc.length * 10);
      for (let k = 0; k < 10; k++) long.set(mfcc, k * mfcc.length);
      const out = [];
      for (const backend of ['flex', 'ndarray']) {
        const row = { backend, mfccMs, models: [] };
        for (const name of ['cnn', 'rnn', 'ann', 'ann-reg']) {
          const [card, weights] = await Promise.all([
            fetch(`${base}${name}/card.json`).then((r) => r.text()),
            fetch(`${base}${name}/model.bpk`).then((r) => r.arrayBuffer()),
          ]);
          const model = wasm.GenreModel.withBackend(card, new Uint8Array(weights), backend);
          // The network on every segment of the features: embed, then a song of them.
          const segments = (features) => features.length / model.embeddingSize();
          const classify = (features) => model.classify(features, new Float64Array(segments(features)));
          classify(mfcc);  // warm up
          row.models.push([median(() => classify(mfcc)), median(() => classify(long), 5)]);
          model.free();
        }
        out.push(row);
      }
      return out;
    }, { url, base: `${server.url}www/models/` });
    for (const r of rows) {
      console.log(`${path.basename(pkg).padEnd(10)} ${r.backend.padEnd(8)} ${r.mfccMs.toFixed(1).padStart(10)} `
        + r.models.map(([a, b]) => `${a.toFixed(1)} / ${b.toFixed(0)}`.padStart(18)).join(''));
    }
  }
} finally {
  await browser.close();
  server.stop();
}
