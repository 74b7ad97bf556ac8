// "Your labels": a model trained in the page on a dozen GTZAN clips of each of four
// genres (a folder whose sub-folders are the labels) tells held-back clips of those
// genres apart, reports its cross-validated score, is kept in the browser, and its
// downloaded files give the same answers through `classify --model`. Bad labels get
// clear messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, openPage, DATA, ROOT } from './helpers.mjs';

const GENRES = ['blues', 'classical', 'jazz', 'pop'];
const SHOTS = path.join(ROOT, 'target/screenshots');
let server, browser, dir;

/** The first `count` clips of `genre` the data holds in a split (train or valid: other
 *  artists than train's). */
function clips(split, genre, count) {
  const listed = readFileSync(path.join(DATA, 'splits', `${split}_filtered.txt`), 'utf8').trim().split('\n')
    .filter((line) => line.startsWith(`${genre}/`)).map((line) => path.join(DATA, line.replace(/\.wav$/, '.ogg')))
    .filter((file) => existsSync(file)).slice(0, count);
  assert.equal(listed.length, count, `${count} ${split} clips of ${genre}`);
  return listed;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gc-train-'));
  for (const genre of GENRES) {
    mkdirSync(path.join(dir, 'labels', `my ${genre}`), { recursive: true });
    for (const clip of clips('train', genre, 12)) copyFileSync(clip, path.join(dir, 'labels', `my ${genre}`, path.basename(clip)));
  }
  mkdirSync(path.join(dir, 'held-back'));
  for (const genre of GENRES) for (const clip of clips('valid', genre, 5)) copyFileSync(clip, path.join(dir, 'held-back', path.basename(clip)));
  mkdirSync(SHOTS, { recursive: true });
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const status = (page) => page.textContent('[data-part="status"]');

test('a folder of labels trains a model that tells held-back clips apart, equal to classify --model with its files', { timeout: 900_000 }, async () => {
  const { page } = await openPage(browser, server.url);
  await page.click('#train-open');
  await page.setInputFiles('[data-part="folder-input"]', path.join(dir, 'labels'));
  assert.deepEqual(await page.$$eval('.train-label input:not([type=file])', (inputs) => inputs.map((i) => i.value).sort()),
    GENRES.map((g) => `my ${g}`).sort());
  await page.fill('[data-part="name"]', 'four-genres');
  await page.click('[data-part="train"]');
  await page.waitForFunction(() => /Trained|Could not/.test(document.querySelector('genre-classifier').shadowRoot.querySelector('[data-part="status"]').textContent), null, { timeout: 600_000 });
  assert.match(await status(page), /Trained “four-genres” \(listening [\d.]+ s, training [\d.]+ s\)/);
  console.log(await status(page));
  const report = await page.textContent('[data-part="report"]');
  assert.match(report, /Cross-validated over \d+ folds/);
  await page.screenshot({ path: path.join(SHOTS, 'train-report.png'), fullPage: true });
  assert.equal(await page.$eval('#model', (s) => s.value), 'trained:four-genres');

  // Held-back clips (30 s: a quick scan hears them whole) through the library table with
  // the new model, and natively with its downloaded files.
  await page.setInputFiles('#folder', path.join(dir, 'held-back'));
  await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.batch === 'done', null, { timeout: 300_000 });
  const outputs = await page.evaluate(() => document.querySelector('genre-classifier').batch.run.outputs);
  const right = outputs.filter(({ file, result }) => result && `my ${path.basename(file).split('.')[0]}` === result.genre);
  assert.ok(right.length >= 15, `${right.length} of ${outputs.length} held-back clips right`);

  const modelDir = path.join(dir, 'model');
  mkdirSync(modelDir);
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('.train-models li button:text("Download")');
  for (let waited = 0; downloads.length < 2; waited += 100) {
    assert.ok(waited < 20_000, `${downloads.length} of the model's 2 files downloaded`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(downloads.map((d) => d.suggestedFilename()).sort(), ['card.json', 'model.bpk']);
  for (const d of downloads) await d.saveAs(path.join(modelDir, d.suggestedFilename()));
  const native = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--bin', 'classify', '--', '--json', '--model', modelDir, path.join(dir, 'held-back')],
    { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l));
  for (const expected of native) {
    const { result } = outputs.find((o) => path.basename(o.file) === path.basename(expected.file));
    assert.equal(result.genre, expected.genre, expected.file);
    for (const [label, p] of Object.entries(expected.probabilities)) {
      assert.ok(Math.abs(result.probabilities[label] - p) < 1e-4, `${expected.file} ${label}: ${result.probabilities[label]} vs ${p}`);
    }
  }
  // The same songs trained natively (train --own-labels) give the same verdicts.
  const nativeDir = path.join(dir, 'native-model');
  execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--bin', 'train', '--', '--own-labels', path.join(ROOT, 'www/models/musicnn'),
    '--data', path.join(dir, 'labels'), '--out', nativeDir, '--name', 'four-genres'], { cwd: ROOT, encoding: 'utf8' });
  const trainedNatively = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--bin', 'classify', '--', '--json', '--model', nativeDir, path.join(dir, 'held-back')],
    { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l));
  let largest = 0;
  for (const expected of trainedNatively) {
    const { result } = outputs.find((o) => path.basename(o.file) === path.basename(expected.file));
    assert.equal(result.genre, expected.genre, `trained natively: ${expected.file}`);
    for (const [label, p] of Object.entries(expected.probabilities)) largest = Math.max(largest, Math.abs(result.probabilities[label] - p));
  }
  console.log(`trained in the page vs natively: largest probability difference ${largest.toExponential(2)}`);
  assert.ok(largest < 0.05, `${largest}`);
  await page.close();
});

test('the model is kept across visits, listed in the selector, and can be deleted', { timeout: 300_000 }, async () => {
  const { page } = await openPage(browser, server.url);
  const options = () => page.$$eval('#model option', (o) => o.map((x) => x.value));
  // Trained on two labels of four songs each: no score, a warning, a model all the same.
  const encoded = (genre) => clips('train', genre, 4).map((file) => ({ name: path.basename(file), base64: readFileSync(file).toString('base64') }));
  const model = await page.evaluate(async ({ slow, loud }) => {
    const element = document.querySelector('genre-classifier');
    const files = (list) => list.map(({ name, base64 }) => new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name));
    const view = await element.openTraining();
    const trained = await element.classifier.trainModel({ slow: files(slow), loud: files(loud) }, { name: 'kept', store: view.store });
    await view.keep(trained);
    return { warnings: trained.report.warnings, cv: trained.report.cross_validation };
  }, { slow: encoded('classical'), loud: encoded('pop') });
  assert.ok(model.cv == null, 'no score with 4 songs a label');
  assert.match(model.warnings.join(' '), /at least 5/);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'idle');
  await page.click('#train-open');
  await page.waitForFunction(() => [...document.querySelector('genre-classifier').shadowRoot.querySelectorAll('#model option')].some((o) => o.value === 'trained:kept'), null, { timeout: 20_000 });
  await page.selectOption('#model', 'trained:kept');
  await page.waitForFunction(() => document.querySelector('genre-classifier').classifier?.model === 'trained:kept', null, { timeout: 60_000 });
  assert.deepEqual(await page.evaluate(() => document.querySelector('genre-classifier').classifier.card.labels), ['slow', 'loud']);
  await page.click('.train-models li button:text("Delete")');
  await page.waitForFunction(() => !document.querySelector('genre-classifier').shadowRoot.querySelector('.train-models li'));
  await page.reload();
  await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'idle');
  await page.click('#train-open');
  await page.waitForSelector('[data-part="no-models"]:not([hidden])');
  assert.ok(!(await options()).includes('trained:kept'));
  await page.close();
});

test('labels that cannot make a model get a clear message', { timeout: 120_000 }, async () => {
  const { page } = await openPage(browser, server.url);
  const attempt = (examples) => page.evaluate(async (examples) => {
    const element = document.querySelector('genre-classifier');
    await element.openTraining();
    const files = (n) => Array.from({ length: n }, (_, i) => new File([new Uint8Array(16)], `s${i}.wav`));
    try {
      await element.classifier.trainModel(Object.fromEntries(Object.entries(examples).map(([k, n]) => [k, files(n)])));
      return 'trained';
    } catch (e) {
      return e.message;
    }
  }, examples);
  assert.match(await attempt({ only: 3 }), /at least two labels/);
  assert.match(await attempt({ a: 2, b: 0 }), /no songs for “b”/);
  assert.match(await attempt({ 'a/b': 2, c: 2 }), /character a file name cannot have/);
  assert.match(await attempt({ ' ': 2, c: 2 }), /a label has no name/);
  assert.match(await attempt({ [`${'x'.repeat(200)}`]: 1, c: 1 }), /longer than/);
  assert.match(await attempt(Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`l${i}`, 1]))), /more than/);
  assert.match(await attempt({ a: 2, b: 2 }), /could be used|not audio|cannot decode/);
  await page.close();
});
