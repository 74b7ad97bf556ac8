// What "Train your own" keeps in the browser (www/train/store.js): content hashes of song
// files, the songs' embeddings (exact, across a close and a reload, one set per embedding
// key), the trained models (save, list with the card's labels, load, delete), the
// in-memory fallback where IndexedDB refuses to open, and a full storage as a readable
// Error with reason 'quota'. Each test has its own page (its own browser context) and
// its own database name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { serve, launch, openPage } from './helpers.mjs';

let server, browser;

before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

let databases = 0;
/** A database name no other test (or earlier run) uses. */
const uniqueName = (label) => `train-store-test-${label}-${process.pid}-${Date.now()}-${databases++}`;

/** Runs `body(page)` on a fresh page, then checks it threw nothing, and closes it. */
async function withPage(body) {
  const { page, errors } = await openPage(browser, server.url);
  try {
    await body(page);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
}

/** The hex SHA-256 of `text`: a valid content hash for the store. */
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The bytes (as plain numbers, to pass to the page) of `segments × size` float32 values
 *  from `seed`, with the awkward ones (-0, NaN, ±Infinity, the smallest subnormal, the
 *  largest float) near the start. */
function embeddingBytes(segments, size, seed) {
  const values = Float32Array.from({ length: segments * size }, (_, i) => Math.sin(i * 0.37 + seed) * (1 + (i % 97)) / 7);
  values.set([-0, NaN, Infinity, -Infinity, 1.4e-45, 3.4028234663852886e38], 1);
  return Array.from(new Uint8Array(values.buffer));
}

/** Page helpers: `floats(bytes)` is a Float32Array of those bytes; `bytesOf(f)` the bytes of
 *  the Float32Array `f` as plain numbers. */
const PAGE_HELPERS = `
  window.floats = (bytes) => new Float32Array(Uint8Array.from(bytes).buffer);
  window.bytesOf = (f) => Array.from(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
`;

test('contentHash: equal bytes hash equal, different bytes differ, 64 hex digits of SHA-256', async () => {
  const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7 + 3) % 256);
  await withPage(async (page) => {
    const r = await page.evaluate(async (data) => {
      const { contentHash } = await import('/train/store.js');
      const bytes = Uint8Array.from(data);
      const changed = bytes.slice();
      changed[50_000] ^= 1;
      let notAFile = null;
      try { await contentHash(bytes); } catch (e) { notAFile = e.message; }
      return {
        blob: await contentHash(new Blob([bytes])),
        // The same bytes in two pieces and under another name and type: the same song.
        file: await contentHash(new File([bytes.slice(0, 123), bytes.slice(123)], 'renamed.mp3', { type: 'audio/mpeg' })),
        changed: await contentHash(new Blob([changed])),
        empty: await contentHash(new Blob([])),
        notAFile,
      };
    }, Array.from(bytes));
    assert.match(r.blob, /^[0-9a-f]{64}$/);
    assert.match(r.changed, /^[0-9a-f]{64}$/);
    assert.equal(r.file, r.blob);
    assert.notEqual(r.changed, r.blob);
    assert.equal(r.blob, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(r.empty, createHash('sha256').digest('hex'));
    assert.match(r.notAFile, /File or Blob/);
  });
});

test('contentHash hashes a 300 MB file', async () => {
  const MB = 1 << 20;
  const chunks = 300;
  const chunk = Buffer.from(Uint8Array.from({ length: MB }, (_, i) => (i * 31 + (i >> 11)) % 251));
  const expected = createHash('sha256');
  for (let i = 0; i < chunks; i++) expected.update(chunk);
  expected.update('end');
  await withPage(async (page) => {
    const r = await page.evaluate(async ({ MB, chunks }) => {
      const { contentHash } = await import('/train/store.js');
      const chunk = Uint8Array.from({ length: MB }, (_, i) => (i * 31 + (i >> 11)) % 251);
      const file = new File([...new Array(chunks).fill(chunk), 'end'], 'long.wav', { type: 'audio/wav' });
      const start = performance.now();
      const hash = await contentHash(file);
      return { hash, size: file.size, ms: performance.now() - start };
    }, { MB, chunks });
    assert.equal(r.size, chunks * MB + 3);
    assert.equal(r.hash, expected.digest('hex'));
    assert.ok(r.ms < 30_000, `hashing took ${r.ms} ms`);
  });
});

test('embeddings round-trip exactly, and survive a close, a reopen and a page reload', async () => {
  const name = uniqueName('embeddings');
  const hash = sha256('song one');
  const bytes = embeddingBytes(10, 1556, 1);
  await withPage(async (page) => {
    await page.evaluate(PAGE_HELPERS);
    const r = await page.evaluate(async ({ name, hash, bytes }) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const before = await store.getEmbeddings('musicnn', hash);
      const embeddings = floats(bytes);
      await store.putEmbeddings('musicnn', hash, { embeddings, segments: 10, seconds: 29.98, name: 'One.mp3' });
      embeddings.fill(7);  // the store keeps a copy
      const got = await store.getEmbeddings('musicnn', hash);
      store.close();
      let afterClose = null;
      try { await store.getEmbeddings('musicnn', hash); } catch (e) { afterClose = e.message; }
      const reopened = await TrainStore.open(name);
      const again = await reopened.getEmbeddings('musicnn', hash);
      reopened.close();
      return {
        persistent: store.persistent, before,
        got: { ...got, embeddings: bytesOf(got.embeddings), isFloat32: got.embeddings instanceof Float32Array, length: got.embeddings.length },
        again: bytesOf(again.embeddings), afterClose,
      };
    }, { name, hash, bytes });
    assert.equal(r.persistent, true);
    assert.equal(r.before, null);
    assert.equal(r.got.isFloat32, true);
    assert.equal(r.got.length, 10 * 1556);
    assert.deepEqual(r.got.embeddings, bytes);
    assert.deepEqual({ segments: r.got.segments, seconds: r.got.seconds, name: r.got.name }, { segments: 10, seconds: 29.98, name: 'One.mp3' });
    assert.match(r.afterClose, /closed/);
    assert.deepEqual(r.again, bytes);

    await page.reload();
    await page.evaluate(PAGE_HELPERS);
    const reloaded = await page.evaluate(async ({ name, hash }) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const got = await store.getEmbeddings('musicnn', hash);
      store.close();
      return got && { ...got, embeddings: bytesOf(got.embeddings), persistent: store.persistent };
    }, { name, hash });
    assert.ok(reloaded, 'the embeddings are gone after a reload');
    assert.equal(reloaded.persistent, true);
    assert.deepEqual(reloaded.embeddings, bytes);
    assert.equal(reloaded.name, 'One.mp3');
  });
});

test('embeddings of different embedding keys and songs do not collide; a view keeps only its values', async () => {
  const name = uniqueName('keys');
  const [one, two] = [sha256('song one'), sha256('song two')];
  const [a, b, c] = [embeddingBytes(2, 8, 1), embeddingBytes(2, 8, 2), embeddingBytes(4, 4, 3)];
  await withPage(async (page) => {
    await page.evaluate(PAGE_HELPERS);
    const r = await page.evaluate(async ({ name, one, two, a, b, c }) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      await store.putEmbeddings('musicnn-v1', one, { embeddings: floats(a), segments: 2, seconds: 6, name: 'a' });
      await store.putEmbeddings('musicnn-v2', one, { embeddings: floats(b), segments: 2, seconds: 6, name: 'b' });
      // A view into a larger buffer: only its own values are kept.
      const big = new Float32Array(100).fill(9);
      big.set(floats(c), 10);
      await store.putEmbeddings('musicnn-v1', two, { embeddings: big.subarray(10, 26), segments: 4, seconds: 3, name: 'c' });
      const read = async (key, hash) => {
        const got = await store.getEmbeddings(key, hash);
        return got && { name: got.name, bytes: bytesOf(got.embeddings) };
      };
      const errors = [];
      for (const [key, hash] of [['', one], ['musicnn-v1', 'not-a-hash'], ['musicnn-v1', `x:${one.slice(2)}`]]) {
        try { await store.getEmbeddings(key, hash); errors.push(null); } catch (e) { errors.push(e.message); }
      }
      return {
        v1one: await read('musicnn-v1', one), v2one: await read('musicnn-v2', one), v1two: await read('musicnn-v1', two),
        v2two: await read('musicnn-v2', two), v3one: await read('musicnn-v3', one), errors,
      };
    }, { name, one, two, a, b, c });
    assert.deepEqual(r.v1one, { name: 'a', bytes: a });
    assert.deepEqual(r.v2one, { name: 'b', bytes: b });
    assert.deepEqual(r.v1two, { name: 'c', bytes: c });
    assert.equal(r.v2two, null);
    assert.equal(r.v3one, null);
    assert.match(r.errors[0], /embedding key/);
    assert.match(r.errors[1], /content hash/);
    assert.match(r.errors[2], /content hash/);
  });
});

test('only embeddings and models are stored, never audio', async () => {
  const name = uniqueName('only');
  const hash = sha256('song');
  await withPage(async (page) => {
    const r = await page.evaluate(async ({ name, hash }) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const audio = new Blob([new Uint8Array(1000)], { type: 'audio/wav' });
      const refused = [];
      const attempts = [
        () => store.putEmbeddings('musicnn', hash, { embeddings: audio, segments: 1, seconds: 1, name: 'a.wav' }),
        () => store.putEmbeddings('musicnn', hash, { embeddings: [1, 2, 3], segments: 1, seconds: 1, name: 'a.wav' }),
        () => store.putEmbeddings('musicnn', hash, { embeddings: new Float32Array(10), segments: 3, seconds: 1, name: 'a.wav' }),
        () => store.saveModel({ name: 'm', card: '{"labels":[]}', weights: audio }),
        () => store.saveModel({ name: 'm', card: 'not json', weights: new Uint8Array(4) }),
        () => store.saveModel({ name: '', card: '{"labels":[]}', weights: new Uint8Array(4) }),
      ];
      for (const attempt of attempts) {
        try { await attempt(); refused.push(null); } catch (e) { refused.push(e.message); }
      }
      // Extra fields are not kept.
      await store.putEmbeddings('musicnn', hash, { embeddings: new Float32Array(6), segments: 2, seconds: 1, name: 'a.wav', audio });
      await store.saveModel({ name: 'm', card: '{"labels":["x"]}', weights: new Uint8Array(4), audio });
      store.close();
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const all = (storeName) => new Promise((resolve) => {
        const request = db.transaction(storeName).objectStore(storeName).getAll();
        request.onsuccess = () => resolve(request.result);
      });
      const describe = (record) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Object.prototype.toString.call(v)]));
      const result = { stores: [...db.objectStoreNames], embeddings: (await all('embeddings')).map(describe), models: (await all('models')).map(describe), refused };
      db.close();
      return result;
    }, { name, hash });
    assert.deepEqual(r.stores, ['embeddings', 'models']);
    assert.deepEqual(r.embeddings, [{ embeddings: '[object ArrayBuffer]', segments: '[object Number]', seconds: '[object Number]', name: '[object String]' }]);
    assert.deepEqual(r.models, [{ name: '[object String]', card: '[object String]', weights: '[object ArrayBuffer]', savedAt: '[object String]' }]);
    assert.match(r.refused[0], /Float32Array/);
    assert.match(r.refused[1], /Float32Array/);
    assert.match(r.refused[2], /segments/);
    assert.match(r.refused[3], /bytes/);
    assert.match(r.refused[4], /not valid JSON/);
    assert.match(r.refused[5], /name/);
  });
});

test('models save, list (labels from the card, sorted by name), load, replace and delete', async () => {
  const name = uniqueName('models');
  await withPage(async (page) => {
    const r = await page.evaluate(async (name) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const card = (labels, extra = {}) => JSON.stringify({ format: 'genre-classifier model card', version: 1, labels, ...extra });
      const weights = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) % 256);
      const empty = await store.listModels();
      const saved = await store.saveModel({ name: 'zeta', card: card(['rock', 'jazz']), weights, savedAt: '2026-12-01T10:00:00.000Z' });
      weights.fill(0);  // the store keeps a copy
      await store.saveModel({ name: 'alpha', card: card(['mine', 'yours', 'theirs']), weights: Uint8Array.of(1, 2, 3).buffer, savedAt: 1764583200000 });
      await store.saveModel({ name: 'my band', card: JSON.stringify({ format: 'no labels' }), weights: new Uint8Array(0) });
      const listed = await store.listModels();
      const zeta = await store.loadModel('zeta');
      const alpha = await store.loadModel('alpha');
      await store.saveModel({ name: 'alpha', card: card(['new']), weights: Uint8Array.of(9) });
      const replaced = await store.loadModel('alpha');
      await store.deleteModel('zeta');
      await store.deleteModel('never saved');
      store.close();
      const reopened = await TrainStore.open(name);
      const afterReopen = await reopened.listModels();
      const deleted = await reopened.loadModel('zeta');
      reopened.close();
      const summary = (m) => m && { name: m.name, card: m.card, weights: Array.from(m.weights), isUint8: m.weights instanceof Uint8Array, savedAt: m.savedAt };
      return { empty, saved, listed, zeta: summary(zeta), alpha: summary(alpha), replaced: summary(replaced), afterReopen, deleted, expectedCard: card(['rock', 'jazz']) };
    }, name);
    assert.deepEqual(r.empty, []);
    assert.deepEqual(r.saved, { name: 'zeta', labels: ['rock', 'jazz'], savedAt: '2026-12-01T10:00:00.000Z' });
    assert.deepEqual(r.listed.map((m) => m.name), ['alpha', 'my band', 'zeta']);
    assert.deepEqual(r.listed.map((m) => m.labels), [['mine', 'yours', 'theirs'], [], ['rock', 'jazz']]);
    assert.equal(r.listed[0].savedAt, 1764583200000);
    assert.ok(!Number.isNaN(Date.parse(r.listed[1].savedAt)), `default savedAt ${r.listed[1].savedAt} is not a date`);
    assert.deepEqual(r.zeta, {
      name: 'zeta', card: r.expectedCard, weights: Array.from({ length: 5000 }, (_, i) => (i * 13) % 256),
      isUint8: true, savedAt: '2026-12-01T10:00:00.000Z',
    });
    assert.deepEqual(r.alpha.weights, [1, 2, 3]);
    assert.deepEqual(r.replaced.weights, [9]);
    assert.deepEqual(JSON.parse(r.replaced.card).labels, ['new']);
    assert.deepEqual(r.afterReopen.map((m) => [m.name, m.labels]), [['alpha', ['new']], ['my band', []]]);
    assert.equal(r.deleted, null);
  });
});

test('usage() reports the estimate, or null where the browser has none', async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async (name) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const usage = await store.usage();
      Object.defineProperty(navigator, 'storage', { value: undefined, configurable: true });
      const none = await store.usage();
      store.close();
      return { usage, none };
    }, uniqueName('usage'));
    assert.equal(typeof r.usage.usage, 'number');
    assert.ok(r.usage.quota > 0);
    assert.equal(r.none, null);
  });
});

/** On `page`: opens a store named `name` after `stub` (source run first), checks that it
 *  keeps embeddings and models for the visit; resolves to what it saw. */
function useFallback(page, name, hash, stub) {
  return page.evaluate(async ({ name, hash, stub }) => {
    window.openCalls = 0;
    new Function(stub)();
    const { TrainStore } = await import('/train/store.js');
    const store = await TrainStore.open(name);
    const embeddings = Float32Array.from({ length: 20 }, (_, i) => i / 3);
    await store.putEmbeddings('musicnn', hash, { embeddings, segments: 2, seconds: 6, name: 'a.mp3' });
    embeddings.fill(0);
    await store.saveModel({ name: 'mine', card: JSON.stringify({ labels: ['a', 'b'] }), weights: Uint8Array.of(4, 5, 6) });
    await store.saveModel({ name: 'another', card: JSON.stringify({ labels: ['c'] }), weights: Uint8Array.of(7) });
    // What a caller does with what it read does not change what is kept.
    (await store.getEmbeddings('musicnn', hash)).embeddings.fill(-1);
    (await store.loadModel('mine')).weights.fill(0);
    const got = await store.getEmbeddings('musicnn', hash);
    const listed = await store.listModels();
    const loaded = await store.loadModel('mine');
    store.close();
    // Opened again in this visit, the in-memory store still has what was kept.
    const again = await TrainStore.open(name);
    const kept = await again.listModels();
    await again.deleteModel('mine');
    const afterDelete = await again.listModels();
    return {
      persistent: store.persistent, fallbackReason: store.fallbackReason, openCalls: window.openCalls,
      got: Array.from(got.embeddings), listed, weights: Array.from(loaded.weights), kept, afterDelete, againPersistent: again.persistent,
    };
  }, { name, hash, stub });
}

/** Checks what useFallback saw (`tried`: that indexedDB.open was called). */
function assertFallback(r, { tried = true } = {}) {
  assert.equal(r.persistent, false);
  assert.equal(r.againPersistent, false);
  if (tried) assert.ok(r.openCalls >= 1, 'indexedDB.open was not tried');
  assert.deepEqual(r.got, Array.from(Float32Array.from({ length: 20 }, (_, i) => i / 3)));
  assert.deepEqual(r.listed.map(({ name, labels }) => ({ name, labels })), [{ name: 'another', labels: ['c'] }, { name: 'mine', labels: ['a', 'b'] }]);
  assert.deepEqual(r.weights, [4, 5, 6]);
  assert.deepEqual(r.kept.map((m) => m.name), ['another', 'mine']);
  assert.deepEqual(r.afterDelete.map((m) => m.name), ['another']);
}

test('when indexedDB.open throws (a SecurityError), training still works in memory, not persistent', async () => {
  await withPage(async (page) => {
    const r = await useFallback(page, uniqueName('security'), sha256('x'), `
      indexedDB.open = function () {
        window.openCalls++;
        throw new DOMException('Access to the IndexedDB API is denied in this context.', 'SecurityError');
      };`);
    assertFallback(r);
    assert.match(r.fallbackReason, /SecurityError/);
  });
});

test('when IndexedDB refuses to open asynchronously, or is missing, training still works in memory', async () => {
  await withPage(async (page) => {
    const name = uniqueName('refused');
    // A database already at a newer version: the open request fails with a VersionError.
    await page.evaluate((name) => new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 5);
      request.onsuccess = () => { request.result.close(); resolve(); };
      request.onerror = () => reject(request.error);
    }), name);
    const refused = await useFallback(page, name, sha256('y'), `
      const open = IDBFactory.prototype.open;
      indexedDB.open = function (...args) { window.openCalls++; return open.apply(this, args); };`);
    assertFallback(refused);
    assert.match(refused.fallbackReason, /VersionError/);
  });
  await withPage(async (page) => {
    const missing = await useFallback(page, uniqueName('missing'), sha256('z'), `
      Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });`);
    assertFallback(missing, { tried: false });
    assert.match(missing.fallbackReason, /no IndexedDB/);
  });
});

test('a write refused for quota rejects with reason "quota", saying storage is full and nothing is lost', async () => {
  const name = uniqueName('quota');
  const [one, two] = [sha256('one'), sha256('two')];
  await withPage(async (page) => {
    const r = await page.evaluate(async ({ name, one, two }) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const embeddings = new Float32Array(20).fill(0.5);
      await store.putEmbeddings('musicnn', one, { embeddings, segments: 2, seconds: 6, name: 'one.mp3' });
      const describe = (e) => ({ isError: e instanceof Error, message: e.message, reason: e.reason, cause: e.cause?.name });
      const put = IDBObjectStore.prototype.put;
      const failWith = (errorName) => {
        IDBObjectStore.prototype.put = function () { throw new DOMException('refused', errorName); };
      };
      const outcomes = {};
      failWith('QuotaExceededError');
      try { await store.putEmbeddings('musicnn', two, { embeddings, segments: 2, seconds: 6, name: 'two.mp3' }); } catch (e) { outcomes.embeddings = describe(e); }
      try { await store.saveModel({ name: 'mine', card: '{"labels":["a"]}', weights: new Uint8Array(8) }); } catch (e) { outcomes.model = describe(e); }
      failWith('DataError');
      try { await store.saveModel({ name: 'mine', card: '{"labels":["a"]}', weights: new Uint8Array(8) }); } catch (e) { outcomes.other = describe(e); }
      IDBObjectStore.prototype.put = put;
      outcomes.kept = (await store.getEmbeddings('musicnn', one))?.name ?? null;
      outcomes.notKept = await store.getEmbeddings('musicnn', two);
      outcomes.models = await store.listModels();
      // The store still works once there is room.
      await store.saveModel({ name: 'mine', card: '{"labels":["a"]}', weights: new Uint8Array(8) });
      outcomes.modelsAfter = (await store.listModels()).map((m) => m.name);
      store.close();
      return outcomes;
    }, { name, one, two });
    for (const outcome of [r.embeddings, r.model]) {
      assert.ok(outcome, 'the write did not reject');
      assert.equal(outcome.isError, true);
      assert.equal(outcome.reason, 'quota');
      assert.equal(outcome.cause, 'QuotaExceededError');
      assert.match(outcome.message, /storage is full/);
      assert.match(outcome.message, /Nothing trained is lost/);
    }
    assert.match(r.embeddings.message, /two\.mp3/);
    assert.match(r.model.message, /"mine"/);
    assert.ok(r.other, 'the DataError write did not reject');
    assert.equal(r.other.reason, undefined);
    assert.doesNotMatch(r.other.message, /storage is full/);
    assert.equal(r.kept, 'one.mp3');
    assert.equal(r.notKept, null);
    assert.deepEqual(r.models, []);
    assert.deepEqual(r.modelsAfter, ['mine']);
  });
});

test('a real full storage (a small quota for the origin) rejects the write with reason "quota"', async () => {
  const name = uniqueName('real-quota');
  await withPage(async (page) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(server.url).origin, quotaSize: 200_000 });
    const r = await page.evaluate(async ({ name, hash }) => {
      const { TrainStore } = await import('/train/store.js');
      const store = await TrainStore.open(name);
      const small = new Float32Array(100).fill(1);
      await store.putEmbeddings('musicnn', hash, { embeddings: small, segments: 10, seconds: 30, name: 'small.mp3' });
      // 10 × 1556 × 25 songs' worth: far over the 200 kB quota.
      const big = Float32Array.from({ length: 10 * 1556 * 25 }, (_, i) => Math.sin(i));
      let error = null;
      try { await store.saveModel({ name: 'too big', card: '{"labels":["a","b"]}', weights: new Uint8Array(big.buffer) }); } catch (e) { error = { message: e.message, reason: e.reason }; }
      const result = { error, small: (await store.getEmbeddings('musicnn', hash))?.name, models: await store.listModels() };
      store.close();
      return result;
    }, { name, hash: sha256('small') });
    assert.ok(r.error, 'a write over the quota did not reject');
    assert.equal(r.error.reason, 'quota');
    assert.match(r.error.message, /storage is full/);
    assert.equal(r.small, 'small.mp3');
    assert.deepEqual(r.models, []);
  });
});
