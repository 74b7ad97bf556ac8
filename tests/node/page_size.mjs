// What a visitor downloads to classify a song: the page, its scripts, styles and icons, the
// wasm package and the default model, gzipped at level 9. Run directly to print the table
// (./build.sh does after each build); tests/browser/size.test.mjs checks the list against
// what Chromium actually fetches and holds the total to the budget.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WWW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../www');
/** The download budget in bytes, gzipped: 1.5 MB (the "Fast answers" target), with the
 *  pretrained musicnn model as the default, its convolution and dense weights stored as
 *  int8 with per-channel scales. */
export const BUDGET = 1_500_000;

/** The default model: the first of the shipped models, as the wasm package (Rust) lists
 *  them. */
export async function defaultModel() {
  const { initSync, shippedModels } = await import(path.join(WWW, 'pkg/genre_classifier.js'));
  initSync({ module: readFileSync(path.join(WWW, 'pkg/genre_classifier_bg.wasm')) });
  return shippedModels()[0].name;
}

/** Paths (relative to www/) of everything the page loads before the first song. */
export async function pageFiles() {
  const top = readdirSync(WWW).filter((f) => /\.(html|js|css|svg|ico|webmanifest)$/.test(f) && !/^embed-example/.test(f));
  const element = readdirSync(path.join(WWW, 'element')).filter((f) => f.endsWith('.js')).map((f) => `element/${f}`);
  const pkg = existsSync(path.join(WWW, 'pkg')) ? readdirSync(path.join(WWW, 'pkg')).filter((f) => /\.(js|wasm)$/.test(f)).map((f) => `pkg/${f}`) : [];
  const model = await defaultModel();
  return [...top, ...element, ...pkg, `models/${model}/card.json`, `models/${model}/model.bpk`];
}

/** Gzipped size of each file, and the total. */
export async function measure(files) {
  files ??= await pageFiles();
  const rows = files.map((file) => {
    const bytes = readFileSync(path.join(WWW, file));
    return { file, bytes: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
  });
  return { rows, total: rows.reduce((n, r) => n + r.gzipped, 0) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows, total } = await measure();
  const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
  for (const r of rows.sort((a, b) => b.gzipped - a.gzipped)) {
    console.log(`  ${r.file.padEnd(34)} ${kb(r.bytes).padStart(10)} ${kb(r.gzipped).padStart(10)} gzipped`);
  }
  console.log(`page download (page, scripts, wasm, default model): ${kb(total)} gzipped; budget ${kb(BUDGET)}`
    + (total > BUDGET ? ' — OVER BUDGET' : ''));
}
