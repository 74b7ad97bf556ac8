// Starting a module worker from a script that may live on another origin (an embedding
// site): a worker script must come from the page's own origin, so a cross-origin one is
// started from a same-origin blob that imports it (over CORS).

/** A module worker running `url`, named `name` (tests tell workers apart by name). */
export function spawnWorker(url, name) {
  const options = { type: 'module', name };
  if (url.origin === self.location.origin) return new Worker(url, options);
  const source = new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(source), options);
}
