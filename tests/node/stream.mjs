// The wasm streaming API as the worker drives it, for the Node tests: a song's channels
// pushed through a FeatureExtractor in chunks, and segments' embeddings added to a
// SongAccumulator in any order.

/** Streams `channels` (Float32Arrays at `rate`) through `extractor` in chunks of
 *  `chunk` samples; returns the song's info, the features of all its segments
 *  (concatenated) and how it ended. */
export function streamSong(extractor, channels, rate, chunk = 48_000) {
  const info = extractor.beginSong(channels[0].length, rate);
  const parts = [];
  for (let at = 0; at < channels[0].length; at += chunk) {
    parts.push(extractor.pushAudio(channels.map((c) => c.slice(at, at + chunk))));
  }
  parts.push(extractor.flushAudio());
  const end = extractor.finishSong();
  return { info, features: concat(parts), end };
}

/** The typed arrays end to end. */
export function concat(parts) {
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { all.set(p, offset); offset += p.length; }
  return all;
}

/** A song's result through the accumulator, adding its segments last first, one at a
 *  time (as helper workers may return them); checks `soFar` on the way. */
export function classifyStream(model, info, features) {
  const size = model.embeddingSize();
  const embeddings = model.embed(features);
  const song = model.newSong(Float64Array.from(info.segmentStarts));
  const soFar = [];
  try {
    for (let i = info.segments - 1; i >= 0; i--) {
      song.add(i, embeddings.subarray(i * size, (i + 1) * size));
      soFar.push(song.soFar());
    }
    return { result: song.result(), soFar };
  } finally {
    song.free();
  }
}
