// The wasm build (www/pkg) loading the shipped models in Node, through the one streaming
// API the page's worker uses (FeatureExtractor → GenreModel.embed → SongAccumulator): it
// classifies real clips with the same probabilities as the native `classify --json`
// (within 1e-4), and refuses corrupt weights and mismatched settings with the reason.
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
const { initSync, FeatureExtractor, GenreModel, shippedModels } = await import(path.join(ROOT, 'www/pkg/genre_classifier.js'));
const { streamSong, classifyStream } = await import('./stream.mjs');
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
  const extractor = FeatureExtractor.withSettings(model.card().features);
  model.checkExtractor(extractor);
  const { info, features } = streamSong(extractor, [samples], 22050);
  extractor.free();
  return { info, ...classifyStream(model, info, features) };
}

for (const name of ['cnn', 'musicnn']) {
  test(`the wasm ${name} gives the CLI's probabilities within 1e-4, in any segment order`, () => {
    const dir = path.join(ROOT, 'www/models', name);
    const cli = cargo(['--bin', 'classify', '--', '--json', '--model', dir, ...CLIPS])
      .trim().split('\n').map((l) => JSON.parse(l));
    const model = new GenreModel(readFileSync(path.join(dir, 'card.json'), 'utf8'), readFileSync(path.join(dir, 'model.bpk')));
    const samples = nativeSamples();
    CLIPS.forEach((clip, k) => {
      const { info, result: ours, soFar } = classifyInWasm(model, samples[k]);
      const theirs = cli[k];
      assert.equal(ours.genre, theirs.genre, clip);
      for (const [genre, p] of Object.entries(theirs.probabilities)) {
        assert.ok(Math.abs(ours.probabilities[genre] - p) <= 1e-4, `${clip} ${genre}: wasm ${ours.probabilities[genre]} vs cli ${p}`);
      }
      assert.deepEqual(ours.tags?.map((t) => t.tag), theirs.tags?.map((t) => t.tag), `${clip} tags`);
      assert.equal(ours.segments.length, theirs.segments.length);
      ours.segments.forEach((s, i) => {
        assert.equal(s.start_s, theirs.segments[i].start_s);
        assert.equal(s.genre, theirs.segments[i].genre, `${clip} segment ${i}`);
      });
      // So far: first the last segment alone, at the end the whole song.
      assert.equal(soFar[0].genre, ours.segments.at(-1).genre);
      assert.equal(soFar.at(-1).genre, ours.genre);
      for (const [genre, p] of Object.entries(ours.probabilities)) {
        assert.ok(Math.abs(soFar.at(-1).probabilities[genre] - p) <= 1e-6, `${clip} so far ${genre}`);
      }
      assert.equal(soFar.length, info.segments);
    });
    model.free();
  });
}

test('the shipped models come from Rust, the default first', () => {
  const shipped = shippedModels();
  assert.equal(shipped[0].name, 'musicnn');
  for (const { name, label } of shipped) {
    assert.ok(label.startsWith(name), label);
    assert.equal(JSON.parse(readFileSync(path.join(ROOT, 'www/models', name, 'card.json'), 'utf8')).architecture.name, name);
  }
});

test('a song missing segments has no result, and bad embeddings are refused', () => {
  const model = new GenreModel(cardJson, weights);
  const song = model.newSong(Float64Array.of(0, 3));
  assert.throws(() => song.soFar(), /no segments/);
  assert.throws(() => song.add(0, new Float32Array(5)), /embedding values/);
  song.add(1, new Float32Array(model.embeddingSize()));
  assert.equal(typeof song.soFar().genre, 'string');
  assert.throws(() => song.result(), /1 of the song's 2 segments/);
  assert.throws(() => song.add(2, new Float32Array(model.embeddingSize())), /segment 2/);
  assert.throws(() => model.embed(new Float32Array(7)), /do not make segments/);
  song.free();
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
