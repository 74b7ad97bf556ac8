// Shared helpers for the browser tests and benchmarks: serve www/ on a free loopback
// port and drive Debian's Chromium with playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Launches headless Chromium with the flags this workplace needs, and `extraArgs`. */
export function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic', ...extraArgs],
  });
}

/** Headless Chromium whose microphone plays `wavFile` in a loop, with permission granted. */
export function launchWithMicrophone(wavFile) {
  return launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wavFile}`, '--autoplay-policy=no-user-gesture-required']);
}

/** Opens the page and waits until its worker has loaded the wasm. */
export async function openPage(browser, url, options = {}) {
  const page = await browser.newPage(options);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'idle', null, { timeout: 20_000 });
  return { page, errors };
}

/** Chooses `file` (a path, or { name, mimeType, buffer }) in the page's file input and
 *  waits for the analysis to finish or fail; returns the final state. */
export async function analyse(page, file, timeout = 60_000) {
  await page.evaluate(() => { document.querySelector('genre-classifier').dataset.state = 'waiting'; });
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('genre-classifier').dataset.state), null, { timeout });
  return page.evaluate(() => document.querySelector('genre-classifier').dataset.state);
}

/** A WAV file of `channels` (arrays of samples in [-1, 1]) at `rate`: 32-bit float, or
 *  16-bit integer PCM with `{ bits: 16 }`. */
export function wav(channels, rate, { bits = 32 } = {}) {
  const frames = channels[0].length;
  const n = channels.length;
  const bytes = bits / 8;
  const data = Buffer.alloc(frames * n * bytes);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++) {
      const at = (i * n + c) * bytes;
      if (bits === 32) data.writeFloatLE(channels[c][i], at);
      else data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(channels[c][i] * 32767))), at);
    }
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0); header.writeUInt32LE(36 + data.length, 4); header.write('WAVE', 8);
  header.write('fmt ', 12); header.writeUInt32LE(16, 16); header.writeUInt16LE(bits === 32 ? 3 : 1, 20);
  header.writeUInt16LE(n, 22); header.writeUInt32LE(rate, 24); header.writeUInt32LE(rate * n * bytes, 28);
  header.writeUInt16LE(n * bytes, 32); header.writeUInt16LE(bits, 34); header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** A Sun AU file (GTZAN's own format) of mono `samples` at `rate`, 16-bit big-endian PCM. */
export function au(samples, rate) {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16BE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), 2 * i));
  const header = Buffer.alloc(24);
  header.write('.snd', 0);
  [24, data.length, 3, rate, 1].forEach((v, i) => header.writeUInt32BE(v, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** A 32-bit float mono WAV file of `samples` at `rate`. */
export const floatWav = (samples, rate) => wav([samples], rate);

/** `seconds` of a sine at `freq` Hz, amplitude 0.4. */
export const tone = (seconds, rate, freq = 440) =>
  Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.4 * Math.sin((2 * Math.PI * freq * i) / rate));

/** `seconds` of a tune the music check takes for music: a note (with its octave) that
 *  changes every quarter second, over quiet noise. `base` shifts it (a different tune per
 *  channel). A pure tone is "not music". */
export function melody(seconds, rate, base = 220) {
  const steps = [1, 1.26, 1.5, 2, 1.78];
  let seed = 12345;
  const noise = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  return Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => {
    const f = base * steps[Math.floor((4 * i) / rate) % steps.length];
    const t = i / rate;
    return 0.3 * Math.sin(2 * Math.PI * f * t) + 0.2 * Math.sin(4 * Math.PI * f * t) + 0.05 * noise();
  });
}

/** Decoded samples of GTZAN clips from the crate's own decoder (examples/dump_samples.rs),
 *  as mono Float32Arrays at 22 050 Hz. */
export function nativeSamples(clips) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-samples-'));
  try {
    const out = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--example', 'dump_samples', '--', dir, ...clips],
      { cwd: ROOT, encoding: 'utf8' });
    return out.trim().split('\n').map((line) => {
      const b = readFileSync(JSON.parse(line).file);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The text of the page's status line. */
export async function statusText(page) { return (await page.textContent('#status-text')).trim(); }

/** `classify --json` of `file` with a shipped model, parsed. */
export function classifyCli(file, model = 'musicnn') {
  const out = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--bin', 'classify', '--',
    '--json', '--model', path.join(ROOT, 'www/models', model), file], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out);
}

/** The MP3s of benches/make_bench_audio.py, made once with the librosa venv's soundfile. */
export function benchSongs() {
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
