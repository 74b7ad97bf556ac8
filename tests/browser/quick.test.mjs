// The fast first answer and quick scans: a long song's verdict comes first from the ten
// segments spread over it, then the whole song fills in and equals `classify --json`; a
// quick scan of a folder gives `classify --quick --json`'s rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, openPage, analyse, DATA, ROOT } from './helpers.mjs';

let server, browser, dir, longSong;

/** GTZAN clips of several genres back to back, at their own rate: a song of 120 s. */
function joinClips(out) {
  const python = execFileSync(path.join(ROOT, 'tests/fixtures/librosa_env.sh'), { encoding: 'utf8' }).trim();
  const clips = ['blues/blues.00001.ogg', 'rock/rock.00001.ogg', 'rock/rock.00002.ogg', 'metal/metal.00001.ogg']
    .map((c) => path.join(DATA, c));
  execFileSync(python, ['-c', `import sys, numpy as np, soundfile as sf
parts = [sf.read(c, dtype='float32', always_2d=True) for c in sys.argv[2:]]
sf.write(sys.argv[1], np.concatenate([a for a, _ in parts]), parts[0][1], subtype='FLOAT')`, out, ...clips]);
  return out;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gc-quick-'));
  mkdirSync(path.join(dir, 'songs'));
  longSong = joinClips(path.join(dir, 'songs', 'long.wav'));
  copyFileSync(path.join(DATA, 'jazz/jazz.00001.ogg'), path.join(dir, 'songs', 'clip.ogg'));
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `classify` natively over `files` with `flags`: its --json lines by file name. */
function classifyNative(flags, files) {
  const out = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--bin', 'classify', '--', '--json', ...flags, ...files],
    { cwd: ROOT, encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l)).map((r) => [path.basename(r.file), r]));
}

/** Asserts that `result` is `expected` (a `classify --json` line) within 1e-4. */
function assertSame(result, expected, what) {
  assert.equal(result.genre, expected.genre, what);
  assert.equal(result.unsure, expected.unsure, what);
  assert.equal(result.segments.length, expected.segments.length, what);
  result.segments.forEach((s, i) => assert.ok(Math.abs(s.start_s - expected.segments[i].start_s) < 1e-6, `${what} segment ${i}`));
  for (const [genre, p] of Object.entries(expected.probabilities)) {
    assert.ok(Math.abs(result.probabilities[genre] - p) < 1e-4, `${what} ${genre}: ${result.probabilities[genre]} vs ${p}`);
  }
}

test('a long song: the first answer from ten spread segments, then the whole song, equal to classify --json', { timeout: 300_000 }, async () => {
  const { page } = await openPage(browser, server.url);
  await page.evaluate(() => {
    window.progress = [];
    document.addEventListener('genre-progress', (e) => window.progress.push(JSON.parse(JSON.stringify(e.detail))));
  });
  assert.equal(await analyse(page, longSong, 240_000), 'done');
  const progress = await page.evaluate(() => window.progress);
  const [first, ...rest] = progress;
  assert.equal(first.quick, true, 'the first progress is the quick answer');
  assert.equal(first.done, 0);
  assert.equal(first.total, 40);
  assert.equal(first.segments.length, 10);
  // Spread over the whole song: the last part lies in its last tenth.
  assert.ok(first.segments.at(-1).start_s >= 108, JSON.stringify(first.segments.map((s) => s.start_s)));
  assert.ok(rest.length > 0 && rest.every((p) => !p.quick && p.done > 0));
  const analysis = await page.evaluate(() => document.querySelector('genre-classifier').lastAnalysis);
  assert.ok(analysis.firstAnswerMs < analysis.totalMs, `first answer at ${analysis.firstAnswerMs} ms, the whole song at ${analysis.totalMs} ms`);
  console.log(`120 s song: first answer ${Math.round(analysis.firstAnswerMs)} ms, whole song ${Math.round(analysis.totalMs)} ms`);
  const result = await page.evaluate(() => document.querySelector('genre-classifier').publicResult());
  assertSame(result, classifyNative([], [longSong])['long.wav'], 'the whole song');
  await page.close();
});

test('a quick scan of a folder gives classify --quick --json; turned off, classify --json', { timeout: 300_000 }, async () => {
  const folder = path.join(dir, 'songs');
  const { page } = await openPage(browser, server.url);
  const scan = async () => {
    await page.evaluate(() => { delete document.querySelector('genre-classifier').dataset.batch; });
    await page.setInputFiles('#folder', folder);
    await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.batch === 'done', null, { timeout: 240_000 });
    return page.evaluate(() => document.querySelector('genre-classifier').batch.run.outputs);
  };
  assert.equal(await page.isChecked('#library-quick'), true, 'quick is the default');
  const quick = await scan();
  const nativeQuick = classifyNative(['--quick'], [folder]);
  assert.equal(quick.length, 2);
  for (const { file, result } of quick) assertSame(result, nativeQuick[path.basename(file)], `quick ${file}`);
  assert.equal(quick.find((o) => o.file.endsWith('long.wav')).result.segments.length, 10);
  await page.uncheck('#library-quick');
  const full = await scan();
  const nativeFull = classifyNative([], [folder]);
  for (const { file, result } of full) assertSame(result, nativeFull[path.basename(file)], `full ${file}`);
  assert.equal(full.find((o) => o.file.endsWith('long.wav')).result.segments.length, 40);
  await page.close();
});
