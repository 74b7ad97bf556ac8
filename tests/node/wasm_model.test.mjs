// The wasm build (www/pkg) loading a shipped model in Node: it classifies real clips with
// the same probabilities as the native `classify --json` (within 1e-4), and refuses
// corrupt weights and mismatched settings with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = path.resolve(ROOT, '../shared/data/gtzan');
const MODEL = path.join(ROOT, 'www/models/cnn');
const { initSync, FeatureExtractor, GenreModel } = await import(path.join(ROOT, 'www/pkg/genre_classifier.js'));
initSync({ module: readFileSync(path.join(ROOT, 'www/pkg/genre_classifier_bg.wasm')) });

const CLIPS = [`${DATA}/classical/classical.00000.ogg`, `${DATA}/pop/pop.00002.ogg`, `${DATA}/metal/metal.00000.ogg`];
const cardJson = readFileSync(path.join(MODEL, 'card.json'), 'utf8');
const weights = readFileSync(path.join(MODEL, 'model.bpk'));

function cargo(args) {
  return execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', ...args], { cwd: ROOT, encoding: 'utf8' });
}

/** Decoded samples of each clip, from the native decoder (examples/dump_samples.rs). */
function nativeSamples() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-model-'));
  try {
    return cargo(['--example', 'dump_samples', '--', dir, ...CLIPS]).trim().split('\n').map((line) => {
      const b = readFileSync(JSON.parse(line).file);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function classifyInWasm(model, samples) {
  const extractor = new FeatureExtractor();
  model.checkExtractor(extractor);
  const info = extractor.loadSong([samples], 22050);
  const size = info.framesPerSegment * info.nMfcc;
  const mfcc = new Float32Array(info.segments * size);
  for (let i = 0; i < info.segments; i++) mfcc.set(extractor.segmentMfcc(i), i * size);
  extractor.free();
  return model.classify(mfcc, Float64Array.from(info.segmentStarts));
}

test('the wasm classifier gives the CLI\'s probabilities within 1e-4', () => {
  const cli = cargo(['--bin', 'classify', '--', '--json', '--model', MODEL, ...CLIPS])
    .trim().split('\n').map((l) => JSON.parse(l));
  const model = new GenreModel(cardJson, weights);
  const samples = nativeSamples();
  CLIPS.forEach((clip, k) => {
    const ours = classifyInWasm(model, samples[k]);
    const theirs = cli[k];
    assert.equal(ours.genre, theirs.genre, clip);
    for (const [genre, p] of Object.entries(theirs.probabilities)) {
      assert.ok(Math.abs(ours.probabilities[genre] - p) <= 1e-4, `${clip} ${genre}: wasm ${ours.probabilities[genre]} vs cli ${p}`);
    }
    assert.equal(ours.segments.length, theirs.segments.length);
    ours.segments.forEach((s, i) => {
      assert.equal(s.start_s, theirs.segments[i].start_s);
      assert.equal(s.genre, theirs.segments[i].genre, `${clip} segment ${i}`);
    });
  });
  model.free();
});

test('the card comes back as an object, and bad weights or settings are refused', () => {
  const model = new GenreModel(cardJson, weights);
  const card = model.card();
  assert.equal(card.architecture.name, 'cnn');
  assert.equal(card.labels.length, 10);
  assert.equal(card.features.n_mfcc, 13);
  const reflect = FeatureExtractor.withSettings({ ...card.features, pad_mode: 'reflect' });
  assert.throws(() => model.checkExtractor(reflect), /pad_mode/);
  model.free();

  const flipped = Uint8Array.from(weights);
  flipped[flipped.length - 100] ^= 0x40;
  assert.throws(() => new GenreModel(cardJson, flipped), /does not match its card/);
  assert.throws(() => new GenreModel(cardJson, weights.subarray(0, 1000)), /corrupt or truncated/);
  assert.throws(() => new GenreModel('{"hello": 1}', weights), /not a model card/);
  const otherLabels = cardJson.replace('"country"', '"folk"');
  assert.throws(() => new GenreModel(otherLabels, weights), /for another model.*labels/);
});
