// The wasm build (www/pkg) run in Node: its MFCCs equal the native build's within 5e-4
// on real clips and synthetic signals, and match librosa's fixtures within 1e-3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = path.resolve(ROOT, '../shared/data/gtzan');
const { initSync, FeatureExtractor } = await import(path.join(ROOT, 'www/pkg/genre_classifier.js'));
const { streamSong } = await import('./stream.mjs');
initSync({ module: readFileSync(path.join(ROOT, 'www/pkg/genre_classifier_bg.wasm')) });

const SOURCES = [
  `${DATA}/blues/blues.00000.ogg`, `${DATA}/jazz/jazz.00002.ogg`, `${DATA}/metal/metal.00000.ogg`,
  'synth:silence', 'synth:white_noise', 'synth:clipped_tone', 'synth:short_tone',
];

/** Native samples and MFCCs of each source, from examples/dump_samples.rs. */
function nativeDump() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-wasm-'));
  try {
    const out = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--example', 'dump_samples', '--', '--mfcc', dir, ...SOURCES],
      { cwd: ROOT, encoding: 'utf8' });
    return out.trim().split('\n').map((line) => {
      const entry = JSON.parse(line);
      const floats = (file) => { const b = readFileSync(file); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
      return { ...entry, samples: floats(entry.file), mfcc: floats(entry.file.replace(/\.f32$/, '.mfcc.f32')) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wasmMfcc(samples) {
  const extractor = new FeatureExtractor();
  const { info, features } = streamSong(extractor, [samples], 22050);
  extractor.free();
  return { info, all: features };
}

const native = nativeDump();

test('wasm MFCCs equal the native build\'s within 5e-4', () => {
  // Native runs rustfft's AVX kernels and wasm its scalar ones, so the last bits of the
  // spectrum differ. That matters most where a band's power is close to the floor, as in
  // the harmonics gaps of the clipped tone. The bound is half the librosa budget.
  let worst = { diff: 0 };
  for (const entry of native) {
    const { info, all } = wasmMfcc(entry.samples);
    assert.equal(info.segments, entry.segments, entry.source);
    assert.equal(all.length, entry.mfcc.length, entry.source);
    all.forEach((v, i) => {
      const diff = Math.abs(v - entry.mfcc[i]);
      if (diff > worst.diff) worst = { diff, value: entry.mfcc[i], source: entry.source };
    });
  }
  assert.ok(worst.diff <= 5e-4, `|wasm - native| = ${worst.diff} at ${worst.value} (${worst.source})`);
});

test('wasm MFCCs match librosa within 1e-3', () => {
  const fixtures = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/librosa_mfcc.json'), 'utf8'));
  const byName = new Map(fixtures.cases.filter((c) => c.pad_mode === 'constant').map((c) => [c.source, c]));
  let worst = 0;
  for (const entry of native) {
    const key = entry.source.startsWith('synth:') ? entry.source : `gtzan/${path.relative(DATA, entry.source)}`;
    const expected = byName.get(key);
    assert.ok(expected, `no fixture for ${key}`);
    const { all } = wasmMfcc(entry.samples);
    expected.mfcc.flat(2).forEach((v, i) => { worst = Math.max(worst, Math.abs(v - all[i])); });
  }
  assert.ok(worst <= 1e-3, `max |wasm - librosa| = ${worst}`);
});

test('bad input gets a clear error, never a crash', () => {
  const extractor = new FeatureExtractor();
  assert.throws(() => extractor.pushAudio([new Float32Array(10)]), /beginSong first/);
  assert.throws(() => extractor.beginSong(0, 22050), /empty/);
  assert.throws(() => extractor.beginSong(5000, 22050), /at least 1\.0 s/);
  assert.throws(() => extractor.beginSong(30000, 100), /sample rate 100 Hz/);
  assert.throws(() => extractor.beginSong(1.5, 22050), /not a sample count/);
  extractor.beginSong(30000, 22050);
  assert.throws(() => extractor.pushAudio([]), /no channels/);
  assert.throws(() => extractor.pushAudio([new Float32Array(100), new Float32Array(99)]), /channel 1/);
  extractor.pushAudio([new Float32Array(100)]);
  assert.throws(() => extractor.pushAudio([new Float32Array(100), new Float32Array(100)]), /2 channels; the song has 1/);
  assert.throws(() => extractor.pushAudio([Float32Array.of(NaN)]), /sample 100 .* is not a number/);
  assert.throws(() => extractor.finishSong(), /samples long/);
  // Eight channels at 8 kHz: downmixed and resampled as they stream, then analysed.
  const channels = Array.from({ length: 8 }, () => new Float32Array(8000 * 4).map((_, i) => Math.sin(i / 5) * 0.3));
  const { info, features, end } = streamSong(extractor, channels, 8000, 5000);
  assert.equal(info.segments, 1);
  assert.ok(Math.abs(info.seconds - 4) < 0.01, String(info.seconds));
  assert.equal(info.featureWidth, 13);
  assert.equal(features.length, 130 * 13);
  assert.equal(end.silent, false);
  extractor.free();
});

test('the extractor reports the one settings struct', () => {
  const extractor = new FeatureExtractor();
  const settings = extractor.settings();
  assert.equal(settings.sample_rate, 22050);
  assert.equal(settings.pad_mode, 'constant');
  const reflect = FeatureExtractor.withSettings({ ...settings, pad_mode: 'reflect' });
  assert.equal(reflect.settings().pad_mode, 'reflect');
  assert.throws(() => FeatureExtractor.withSettings({ ...settings, n_fft: 2047 }), /n_fft/);
  assert.throws(() => FeatureExtractor.withSettings({ ...settings, window: 'hamming' }), /unknown field/);
});
