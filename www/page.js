// The project page around its <genre-classifier>: a file dropped anywhere on the page goes
// to the widget instead of making the browser navigate away to it. As an installed app
// (manifest.webmanifest), it also classifies the files the system opens with it or shares
// to it, works offline through its service worker (sw.js), and says when a new version
// has taken over.
import { filesFromDrop } from './gather-files.js';

const widget = document.querySelector('genre-classifier');
/** The files shared to the app, kept by sw.js until this page takes them. */
const SHARED_CACHE = 'genre-classifier-shared';

const classify = (file) => widget.classify(file).catch(() => { /* the widget shows the reason */ });

window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  filesFromDrop(e.dataTransfer).then((given) => widget.take(given));
});

/** Classifies `files`: one is shown alone, several go to the widget's library table. */
async function classifyAll(files) {
  if (files.length === 1) await classify(files[0]);
  else if (files.length > 1) await widget.classifyAll(files).catch(() => { /* the widget shows the reason */ });
}

/** Files the system opens with the installed app (its file_handlers), where the browser
 *  has the launch queue. */
function takeLaunchedFiles() {
  if (!('launchQueue' in window)) return;
  window.launchQueue.setConsumer(async ({ files = [] }) => {
    classifyAll(await Promise.all(files.map((handle) => handle.getFile())));
  });
}

/** Files shared to the installed app (its share_target): sw.js kept them and opened the
 *  page at ./?shared. Takes them out of the cache and classifies them. */
async function takeSharedFiles() {
  const url = new URL(location.href);
  if (!url.searchParams.has('shared')) return;
  url.searchParams.delete('shared');
  history.replaceState(null, '', url);  // a reload does not look again
  if (!('caches' in window)) return;
  const cache = await caches.open(SHARED_CACHE);
  const files = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    const name = decodeURIComponent(response.headers.get('x-file-name') ?? '') || 'shared audio';
    files.push(new File([await response.blob()], name, { type: response.headers.get('content-type') ?? '' }));
    await cache.delete(request);
  }
  await classifyAll(files);
}

/** Says, in the page's notice line, that a new version now serves the page. */
function showUpdated() {
  const notice = document.getElementById('notice');
  const reload = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Reload now' });
  reload.addEventListener('click', () => location.reload());
  notice.replaceChildren('Updated to the new version. ', reload);
}

/** Resolves once the widget has started (its wasm and first model loaded, or failed), so
 *  that the service worker's downloads never delay the first song. */
function widgetStarted() {
  return new Promise((resolve) => {
    const started = () => widget.dataset.state && widget.dataset.state !== 'starting';
    if (started()) return resolve();
    const watch = new MutationObserver(() => { if (started()) { watch.disconnect(); resolve(); } });
    watch.observe(widget, { attributes: true, attributeFilter: ['data-state'] });
  });
}

/** Registers sw.js where the browser has service workers and the page came over http(s)
 *  (a page opened from a file works as it always did, online only). */
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  // A page that already had a service worker and gets another: a new version took over.
  const controlled = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (controlled) showUpdated(); });
  await widgetStarted();
  try {
    await navigator.serviceWorker.register('sw.js', { updateViaCache: 'none' });
  } catch (e) {
    console.warn(`No offline use: the service worker did not register (${e.message})`);
  }
}

takeLaunchedFiles();
takeSharedFiles();
registerServiceWorker();
