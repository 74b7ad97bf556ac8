// Many songs at once: several files or a folder give a library table (one row per song,
// sortable, filterable), non-audio files are skipped by content, the exports, the batch
// events, classifyAll with a signal, and 200 songs in bounded memory. The content
// sniffing and CSV quoting are checked in Node too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, launch, openPage, floatWav, wav, au, melody, DATA, ROOT } from './helpers.mjs';
import { sniff } from '../../www/batch/sniff.js';
import { csvField, toCsv, CSV_COLUMNS } from '../../www/batch/export.js';

const SHOTS = path.join(ROOT, 'target/screenshots');
let server, browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const song = (name, seconds, base = 220, rate = 22050) => ({ name, mimeType: 'audio/wav', buffer: floatWav(melody(seconds, rate, base), rate) });
const text = (name, body) => ({ name, mimeType: 'text/plain', buffer: Buffer.from(body) });
const silent = (name) => ({ name, mimeType: 'audio/wav', buffer: floatWav(new Float32Array(3 * 22050), 22050) });

/** Records the batch events on `page` in window.batchEvents. */
const recordEvents = (page) => page.evaluate(() => {
  window.batchEvents = [];
  for (const type of ['genre-batch-progress', 'genre-batch-done']) {
    document.addEventListener(type, (e) => window.batchEvents.push({ type, detail: JSON.parse(JSON.stringify(e.detail)) }));
  }
});

/** Chooses `files` in `input` and waits until the batch is over. */
async function runBatch(page, files, input = '#file', timeout = 120_000) {
  await page.evaluate(() => { delete document.querySelector('genre-classifier').dataset.batch; });
  await page.setInputFiles(input, files);
  await page.waitForFunction(() => ['done', 'cancelled'].includes(document.querySelector('genre-classifier').dataset.batch), null, { timeout });
}

/** The table's rows on screen: [{ name, state, cells }]. */
const rows = (page) => page.evaluate(() => [...document.querySelector('genre-classifier').shadowRoot.querySelectorAll('#library-rows tr')]
  .filter((tr) => !tr.hidden).map((tr) => ({ name: tr.querySelector('.song-name').textContent, state: tr.dataset.state, cells: [...tr.cells].map((c) => c.textContent.trim()) })));

test('the first bytes tell audio from other files', () => {
  const bytes = (s, pad = 16) => Uint8Array.from([...Buffer.from(s, 'latin1'), ...new Array(pad).fill(0)]);
  assert.equal(sniff(floatWav(melody(1, 8000), 8000)).format, 'WAV');
  assert.equal(sniff(au(melody(1, 8000), 8000)).format, 'Sun AU');
  assert.equal(sniff(bytes('ID3\u0004\u0000')).format, 'MP3 (ID3 tag)');
  assert.equal(sniff(Uint8Array.of(0xff, 0xfb, 0x90, 0x64, 0, 0)).format, 'MPEG audio');
  assert.equal(sniff(Uint8Array.of(0xff, 0xf1, 0x50, 0x80, 0, 0)).format, 'AAC (ADTS)');
  assert.equal(sniff(bytes('fLaC')).format, 'FLAC');
  assert.equal(sniff(bytes('OggS')).format, 'Ogg');
  assert.equal(sniff(bytes('\u0000\u0000\u0000\u0020ftypM4A ')).format, 'MP4 audio');
  assert.equal(sniff(bytes('FORM\u0000\u0000\u0000\u0000AIFF')).format, 'AIFF');
  assert.match(sniff(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0x10)).reason, /JPEG image/);
  assert.match(sniff(bytes('\u0089PNG\r\n')).reason, /PNG image/);
  assert.match(sniff(bytes('%PDF-1.7')).reason, /PDF/);
  assert.match(sniff(Buffer.from('#EXTM3U\nsong.mp3\n')).reason, /text/);
  assert.match(sniff(new Uint8Array(0)).reason, /empty/);
  assert.match(sniff(Uint8Array.of(1, 2, 3, 4, 5, 200, 7)).reason, /not a known kind of audio file/);
});

test('CSV fields are quoted where they must be', () => {
  assert.equal(csvField('plain.wav'), 'plain.wav');
  assert.equal(csvField('a, b.wav'), '"a, b.wav"');
  assert.equal(csvField('say "hi".wav'), '"say ""hi"".wav"');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(null), '');
  const csv = toCsv([
    { file: 'x.wav', result: { genre: 'rock', confidence: 0.91234, unsure: false, tags: [{ tag: 'rock' }, { tag: 'hard rock' }], seconds: 30 } },
    { file: 'y.wav', error: 'silent, so no genre', reason: 'silent' },
  ]);
  assert.equal(csv, `${CSV_COLUMNS.join(',')}\nx.wav,rock,0.9123,false,rock; hard rock,30.00,\ny.wav,,,,,,"silent, so no genre"\n`);
});

test('several files: a row per song, a non-audio file skipped, the batch events', async () => {
  const { page, errors } = await openPage(browser, server.url, { viewport: { width: 1000, height: 1000 } });
  await recordEvents(page);
  await runBatch(page, [song('one.wav', 3), text('notes.txt', 'not a song at all\n'), song('two.wav', 5, 330), silent('quiet.wav')]);
  const shown = await rows(page);
  assert.deepEqual(shown.map((r) => r.name), ['one.wav', 'two.wav', 'quiet.wav']);
  assert.deepEqual(shown.map((r) => r.state), ['done', 'done', 'error']);
  assert.match(shown[2].cells[1], /silent/);
  assert.match(await page.textContent('#skipped'), /notes\.txt: not audio: it is text/);
  assert.match(await page.textContent('#library-progress'), /2 of 3 songs classified \(1 could not be classified, 1 skipped\)/);
  const events = await page.evaluate(() => window.batchEvents);
  const progress = events.filter((e) => e.type === 'genre-batch-progress');
  assert.deepEqual(progress.map((e) => e.detail.done).sort(), [1, 2, 3]);
  assert.ok(progress.every((e) => e.detail.total === 3 && e.detail.result.file));
  const done = events.filter((e) => e.type === 'genre-batch-done');
  assert.equal(done.length, 1);
  const { results } = done[0].detail;
  assert.deepEqual(results.map((r) => r.file), ['one.wav', 'two.wav', 'quiet.wav']);
  for (const r of results.slice(0, 2)) {
    assert.equal(typeof r.result.genre, 'string');
    assert.equal(typeof r.result.confidence, 'number');
    assert.equal(typeof r.result.unsure, 'boolean');
    assert.equal(r.error, undefined);
  }
  assert.equal(results[2].reason, 'silent');
  assert.equal(await page.evaluate(() => document.querySelector('genre-classifier').dataset.state), 'idle', 'no song view was opened');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the table sorts by each column, filters by genre, and a row opens the full view', async () => {
  const { page } = await openPage(browser, server.url, { viewport: { width: 1000, height: 1100 } });
  await runBatch(page, [song('b-medium.wav', 5, 330), song('a-long.wav', 8, 262), song('c-short.wav', 3, 196)]);
  const order = async () => (await rows(page)).map((r) => r.name);
  const sortBy = (column) => page.click(`th[data-column="${column}"] button`);
  await sortBy('seconds');
  assert.deepEqual(await order(), ['c-short.wav', 'b-medium.wav', 'a-long.wav']);
  await sortBy('seconds');
  assert.deepEqual(await order(), ['a-long.wav', 'b-medium.wav', 'c-short.wav']);
  assert.equal(await page.getAttribute('th[data-column="seconds"]', 'aria-sort'), 'descending');
  await sortBy('file');
  assert.deepEqual(await order(), ['a-long.wav', 'b-medium.wav', 'c-short.wav']);
  const results = await page.evaluate(() => document.querySelector('genre-classifier').batch.run.outputs.map((o) => o.result));
  await sortBy('confidence');
  const confidences = (await order()).map((n) => results[['b-medium.wav', 'a-long.wav', 'c-short.wav'].indexOf(n)].confidence);
  assert.deepEqual(confidences, [...confidences].sort((a, b) => a - b));
  for (const column of ['genre', 'tags', 'timeline']) {
    await sortBy(column);
    assert.equal((await order()).length, 3, `sorting by ${column} keeps every row`);
  }
  // Filter by the first song's genre: only the rows of that genre stay.
  const genre = results[0].genre;
  await page.selectOption('#library-filter', genre);
  const filtered = await order();
  const expected = ['b-medium.wav', 'a-long.wav', 'c-short.wav'].filter((_, i) => results[i].genre === genre);
  assert.deepEqual([...filtered].sort(), expected.sort());
  await page.selectOption('#library-filter', 'error');
  assert.deepEqual(await order(), []);
  await page.selectOption('#library-filter', '');
  // A row opens the full view of that song: at once from its result, then with its features.
  await page.click('.song-name:text("a-long.wav")');
  assert.equal(await page.textContent('#result-title'), 'a-long.wav');
  await page.waitForFunction(() => document.querySelector('genre-classifier').dataset.state === 'done');
  assert.match(await page.textContent('#result-facts'), /8\.0 s · 1 channel/);
  assert.ok(await page.isVisible('#features-view'));
  const shown = await page.evaluate(() => document.querySelector('genre-classifier').lastResult);
  assert.ok(Math.abs(shown.confidence - results[1].confidence) < 1e-6, 'the same result as the row');
  await page.close();
});

test('Export CSV downloads the table, errors included; Export JSON the full results', async () => {
  const { page } = await openPage(browser, server.url);
  await runBatch(page, [song('plain.wav', 3), song('with, comma "and quotes".wav', 4, 330), silent('quiet.wav')]);
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  assert.match(csvDownload.suggestedFilename(), /^genres-\d{4}-\d\d-\d\d\.csv$/);
  const csv = readFileSync(await csvDownload.path(), 'utf8');
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'file,genre,confidence,unsure,tags,seconds,error');
  assert.equal(lines.length, 4);
  assert.match(lines[1], /^plain\.wav,[a-z]+,0\.\d{4},(true|false),[^,]*,3\.00,$/);
  assert.match(lines[2], /^"with, comma ""and quotes""\.wav",[a-z]+,0\.\d{4},(true|false),[^,]*,4\.00,$/);
  assert.match(lines[3], /^quiet\.wav,,,,,,"?silent/);
  const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const json = JSON.parse(readFileSync(await jsonDownload.path(), 'utf8'));
  assert.equal(json.model, 'musicnn');
  assert.equal(json.results.length, 3);
  assert.equal(json.results[0].result.segments.length, 1);
  assert.equal(typeof json.results[1].result.probabilities.rock, 'number');
  assert.equal(json.results[2].reason, 'silent');
  await page.close();
});

test('a chosen folder: songs by their paths, other files skipped', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-folder-'));
  try {
    const root = path.join(dir, 'crate');
    mkdirSync(path.join(root, 'disc 1'), { recursive: true });
    mkdirSync(path.join(root, 'disc 2'), { recursive: true });
    writeFileSync(path.join(root, 'disc 1', 'track.wav'), floatWav(melody(3, 22050), 22050));
    writeFileSync(path.join(root, 'disc 2', 'track.wav'), floatWav(melody(3, 22050, 330), 22050));
    writeFileSync(path.join(root, 'disc 2', 'no-extension'), au(melody(3, 22050, 262), 22050));
    writeFileSync(path.join(root, 'cover.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]));
    const { page } = await openPage(browser, server.url);
    await runBatch(page, root, '#folder');
    const shown = (await rows(page)).map((r) => r.name).sort();
    assert.deepEqual(shown, ['crate/disc 1/track.wav', 'crate/disc 2/no-extension', 'crate/disc 2/track.wav']);
    const notDone = (await rows(page)).filter((r) => r.state !== 'done');
    assert.deepEqual(notDone, []);
    assert.match(await page.textContent('#skipped'), /crate\/cover\.jpg: not audio: it is a JPEG image/);
    await page.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `classify` natively over `folder`: its CSV (in `dir`) and its --json lines by file name. */
function classifyFolder(folder, dir) {
  const csv = path.join(dir, 'native.csv');
  const out = execFileSync('cargo', ['run', '--quiet', '--profile', 'ci', '--bin', 'classify', '--', '--json', '--csv', csv, folder],
    { cwd: ROOT, encoding: 'utf8' });
  const results = Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l)).map((r) => [path.basename(r.file), r]));
  return { csv: readFileSync(csv, 'utf8'), results };
}

test('a folder of clips: each row equals classify --json (1e-4), and the CSVs agree but for the paths', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-parity-'));
  try {
    const root = path.join(dir, 'clips');
    mkdirSync(root);
    for (const clip of ['blues/blues.00000.ogg', 'jazz/jazz.00000.ogg', 'metal/metal.00000.ogg']) {
      copyFileSync(path.join(DATA, clip), path.join(root, path.basename(clip)));
    }
    const native = classifyFolder(root, dir);
    const { page } = await openPage(browser, server.url);
    await runBatch(page, root, '#folder');
    const outputs = await page.evaluate(() => document.querySelector('genre-classifier').batch.run.outputs);
    assert.equal(outputs.length, 3);
    for (const { file, result } of outputs) {
      const expected = native.results[path.basename(file)];
      assert.equal(result.genre, expected.genre, file);
      assert.equal(result.unsure, expected.unsure, file);
      assert.ok(Math.abs(result.confidence - expected.confidence) < 1e-4, file);
      for (const [genre, p] of Object.entries(expected.probabilities)) {
        assert.ok(Math.abs(result.probabilities[genre] - p) < 1e-4, `${file} ${genre}: ${result.probabilities[genre]} vs ${p}`);
      }
    }
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const withoutPaths = (csv) => csv.trimEnd().split('\n').map((line) => line.replace(/^[^,]*\//, '')).sort();
    assert.deepEqual(withoutPaths(readFileSync(await download.path(), 'utf8')), withoutPaths(native.csv));
    await page.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dropped folder is walked with the Entries API, a batch of entries at a time', async () => {
  const { page } = await openPage(browser, server.url);
  const found = await page.evaluate(async () => {
    const { filesFromDrop } = await import('./gather-files.js');
    const file = (fullPath) => ({ isFile: true, isDirectory: false, fullPath, name: fullPath.split('/').pop(), file: (ok) => ok(new File(['x'], fullPath.split('/').pop())) });
    // readEntries hands out two entries at a time, then an empty batch.
    const folder = (fullPath, children) => ({
      isFile: false, isDirectory: true, fullPath, name: fullPath.split('/').pop(),
      createReader: () => { let at = 0; return { readEntries: (ok) => { ok(children.slice(at, at + 2)); at += 2; } }; },
    });
    const tree = folder('/album', [file('/album/c.mp3'), file('/album/a.mp3'), folder('/album/bonus', [file('/album/bonus/b.ogg')]), file('/album/d.flac')]);
    const dataTransfer = { items: [{ kind: 'file', webkitGetAsEntry: () => tree }], files: [] };
    const { files, folders } = await filesFromDrop(dataTransfer);
    return { paths: files.map((f) => f.path), folders };
  });
  assert.deepEqual(found, { paths: ['album/a.mp3', 'album/bonus/b.ogg', 'album/c.mp3', 'album/d.flac'], folders: 1 });
  await page.close();
});

test('classifyAll without the UI: outputs in order, and an AbortSignal stops the rest', async () => {
  const { page } = await openPage(browser, server.url);
  const wavs = Array.from({ length: 8 }, (_, i) => floatWav(melody(3, 22050, 200 + 20 * i), 22050).toString('base64'));
  const outcome = await page.evaluate(async (encoded) => {
    const { loadClassifier } = await import('./classifier.js');
    const classifier = await loadClassifier();
    const files = encoded.map((b64, i) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `song${i}.wav`));
    const controller = new AbortController();
    const seen = [];
    const outputs = await classifier.classifyAll(files, {
      signal: controller.signal,
      onProgress: ({ done, total, result }) => { seen.push({ done, total, file: result.file }); if (done === 3) controller.abort(); },
    });
    const all = await classifier.classifyAll([files[0], new Blob(['just text']), { file: files[1], path: 'dir/song1.wav' }]);
    return { seen, outputs, all };
  }, wavs);
  assert.equal(outcome.outputs.length, 8);
  assert.deepEqual(outcome.outputs.map((o) => o.file), Array.from({ length: 8 }, (_, i) => `song${i}.wav`));
  const finished = outcome.outputs.filter((o) => o.result);
  const cancelled = outcome.outputs.filter((o) => o.reason === 'cancelled');
  assert.ok(finished.length >= 3 && finished.length <= 4, `${finished.length} finished before the abort took`);
  assert.equal(finished.length + cancelled.length, 8, 'the rest were cancelled');
  assert.ok(cancelled.length >= 4);
  assert.ok(outcome.seen.every((p) => p.total === 8));
  assert.equal(outcome.all[0].file, 'song0.wav');
  assert.ok(outcome.all[0].result.genre);
  assert.match(outcome.all[1].error, /not audio: it is text/);
  assert.equal(outcome.all[2].file, 'dir/song1.wav');
  assert.ok(outcome.all[2].result.genre);
  await page.close();
});

test('Cancel in the page stops the rest and keeps the rows done', async () => {
  const { page } = await openPage(browser, server.url);
  await page.evaluate(() => document.addEventListener('genre-batch-progress', (e) => {
    if (e.detail.done === 2) document.querySelector('genre-classifier').shadowRoot.getElementById('library-cancel').click();
  }));
  await runBatch(page, Array.from({ length: 10 }, (_, i) => song(`s${i}.wav`, 3, 200 + 15 * i)));
  const states = (await rows(page)).map((r) => r.state);
  assert.ok(states.filter((s) => s === 'done').length >= 2);
  assert.ok(states.filter((s) => s === 'cancelled').length >= 6, states.join());
  assert.match(await page.textContent('#library-progress'), /^Cancelled: \d+ of 10 songs classified/);
  await page.close();
});

/** The page's JS heap in bytes after a garbage collection (through the DevTools protocol). */
async function heapAfterGc(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize').value;
}

test('200 songs: every one classified, in bounded memory', async () => {
  const { page } = await openPage(browser, server.url, { viewport: { width: 1000, height: 1200 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const before = await heapAfterGc(page, cdp);
  const files = Array.from({ length: 200 }, (_, i) => ({
    name: `song-${String(i).padStart(3, '0')}.wav`, mimeType: 'audio/wav',
    buffer: wav([melody(2, 8000, 150 + (i % 40) * 7)], 8000, { bits: 16 }),
  }));
  const start = Date.now();
  await runBatch(page, files, '#file', 600_000);
  const seconds = (Date.now() - start) / 1000;
  const shown = await rows(page);
  assert.equal(shown.length, 200);
  assert.ok(shown.every((r) => r.state === 'done'), shown.filter((r) => r.state !== 'done').map((r) => `${r.name}: ${r.cells[1]}`).join('; '));
  const grown = (await heapAfterGc(page, cdp)) - before;
  console.log(`200 songs of 2 s in ${seconds.toFixed(0)} s; the page's JS heap grew ${(grown / 1e6).toFixed(1)} MB`);
  assert.ok(grown < 40e6, `the JS heap grew ${(grown / 1e6).toFixed(1)} MB`);
  await page.close();
});

test('a screenshot of the table, light layout', async () => {
  const { page } = await openPage(browser, server.url, { viewport: { width: 1000, height: 1000 }, colorScheme: 'light' });
  const clips = ['blues/blues.00000.ogg', 'classical/classical.00000.ogg', 'metal/metal.00000.ogg', 'reggae/reggae.00000.ogg', 'jazz/jazz.00000.ogg']
    .map((clip) => ({ name: path.basename(clip), mimeType: 'audio/ogg', buffer: readFileSync(path.join(DATA, clip)) }));
  await runBatch(page, [...clips, song('a generated tune.wav', 6, 330), silent('silence.wav'), text('playlist.m3u', '#EXTM3U\n')]);
  await page.click('th[data-column="confidence"] button');
  await page.screenshot({ path: path.join(SHOTS, 'library-table.png'), fullPage: true });
  await page.close();
});
