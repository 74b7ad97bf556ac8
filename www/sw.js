// The service worker that makes the page an installable app that works offline. It keeps
// one cache per build, named after the build's version in sw-version.js (written by
// scripts/precache.mjs when ./build.sh builds the packages, with a hash of each file):
// - install: downloads the page, the default model and the wasm packages this browser's
//   worker will use (SIMD or plain, chosen as worker.js chooses), checks each against its
//   hash, and takes over from an older version at once;
// - activate: deletes the caches of every other version;
// - fetch: the build's files from its own cache first. One missing there (the browser
//   evicted it) comes from the network, and is kept again only if it is this build's, so a
//   cache never mixes builds. Other shipped models are kept the first time they load.
//   Anything else goes to the network untouched;
// - share target: audio files shared to the installed app (a POST to ./share) are kept in
//   the shared cache, and the page opens at ./?shared, where page.js classifies them.
// Each build changes sw-version.js, which the browser compares byte for byte when it
// looks for an update: a new build is a new service worker.
importScripts('sw-version.js');

const { version: VERSION, files: PAGE, simd: SIMD_PACKAGES, plain: PLAIN_PACKAGES, models: MODELS } = self.PRECACHE;
const PREFIX = 'genre-classifier-';
/** This build's cache. */
const CACHE = `${PREFIX}${VERSION}`;
/** Files shared to the app until the page takes them (page.js names it too). */
const SHARED = `${PREFIX}shared`;
const SCOPE = new URL('./', self.location.href);
const SHARE_ACTION = new URL('share', SCOPE).pathname;

/** Whether this browser runs wasm SIMD: the probe worker.js uses to choose its package. */
function wasmSimd() {
  const probe = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
    65, 0, 253, 15, 253, 98, 11];
  try {
    return WebAssembly.validate(new Uint8Array(probe));
  } catch {
    return false;
  }
}

/** What install downloads: the page, the default model, and this browser's packages. */
const INSTALLED = { ...PAGE, ...(wasmSimd() ? SIMD_PACKAGES : PLAIN_PACKAGES) };
/** Every file this build may keep, with the hash of its contents. */
const KNOWN = { ...MODELS, ...SIMD_PACKAGES, ...PLAIN_PACKAGES, ...PAGE };

/** The first 16 hex digits of the SHA-256 of `response`'s body (as precache.mjs writes). */
async function hashOf(response) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await response.arrayBuffer()));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 16);
}

/** Keeps `response` as `file` in `cache` if it is this build's file; resolves to whether. */
async function keepIfOurs(cache, file, response) {
  if (!response.ok || await hashOf(response.clone()) !== KNOWN[file]) return false;
  await cache.put(new URL(file, SCOPE), response);
  return true;
}

/** Downloads this build's files into its cache; rejects if one fails or is not this
 *  build's (the server already has a newer one: the next visit tries again). */
async function install() {
  const cache = await caches.open(CACHE);
  try {
    await Promise.all(Object.keys(INSTALLED).map(async (file) => {
      const response = await fetch(new Request(new URL(file, SCOPE), { cache: 'no-cache' }));
      if (!await keepIfOurs(cache, file, response)) {
        throw new Error(`${file}: ${response.ok ? `not the file of build ${VERSION}` : response.status}`);
      }
    }));
  } catch (e) {
    await caches.delete(CACHE);
    throw e;
  }
  await self.skipWaiting();
}

/** Deletes the caches of other builds (the shared files stay until the page takes them). */
async function activate() {
  const stale = (await caches.keys()).filter((name) => name.startsWith(PREFIX) && name !== CACHE && name !== SHARED);
  await Promise.all(stale.map((name) => caches.delete(name)));
}

/** The build's name for `url` ('index.html', 'pkg/…', 'models/…'), or null when it is
 *  not one of the build's files. A navigation to the app's folder is index.html. */
function fileOf(url, navigation) {
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return null;
  const file = decodeURIComponent(url.pathname.slice(SCOPE.pathname.length));
  if (navigation && file === '') return 'index.html';
  return Object.hasOwn(KNOWN, file) ? file : null;
}

/** `file` from this build's cache; else from the network, kept if it is this build's. */
async function cacheFirst(event, file) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(new URL(file, SCOPE));
  if (hit) return hit;
  const response = await fetch(event.request);
  event.waitUntil(keepIfOurs(cache, file, response.clone()).catch(() => false));
  return response;
}

/** A share to the installed app: keeps its files (in order) and opens the page, which
 *  classifies them. Earlier shares the page never took are dropped. */
async function receiveShare(request) {
  let files = [];
  try {
    files = (await request.formData()).getAll('files').filter((f) => f instanceof File && f.size > 0);
  } catch { /* not a form: open the page all the same */ }
  await caches.delete(SHARED);
  const cache = await caches.open(SHARED);
  for (const [i, file] of files.entries()) {
    const headers = { 'content-type': file.type || 'application/octet-stream', 'x-file-name': encodeURIComponent(file.name) };
    await cache.put(new URL(`shared/${i}`, SCOPE), new Response(file, { headers }));
  }
  return Response.redirect(new URL(files.length ? './?shared' : './', SCOPE).href, 303);
}

self.addEventListener('install', (event) => event.waitUntil(install()));
self.addEventListener('activate', (event) => event.waitUntil(activate()));
self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method === 'POST' && url.origin === SCOPE.origin && url.pathname === SHARE_ACTION) {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method !== 'GET') return;
  const file = fileOf(url, request.mode === 'navigate');
  if (file) event.respondWith(cacheFirst(event, file));
});
