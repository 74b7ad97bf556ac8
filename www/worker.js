// The feature worker: owns the wasm instance, turns channel data into MFCC segments, and
// streams them back so the page stays responsive and can show progress on long files.
import init, { FeatureExtractor } from './pkg/genre_classifier.js';
import { MSG } from './messages.js';

const WAVEFORM_BUCKETS = 2000;
let extractor = null;
let cancelled = new Set();

const ready = (async () => {
  await init();
  extractor = new FeatureExtractor();
  postMessage({ type: MSG.READY, settings: extractor.settings() });
})().catch((e) => postMessage({ type: MSG.ERROR, id: null, message: `The analyser failed to start: ${e.message ?? e}` }));

// Yield to the event loop so a 'cancel' message can arrive between segments.
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

async function analyse({ id, channels, sampleRate }) {
  await ready;
  const start = performance.now();
  const info = extractor.loadSong(channels, sampleRate);
  channels = null;
  postMessage({ type: MSG.SONG, id, info });
  let lastBreath = performance.now();
  for (let index = 0; index < info.segments; index++) {
    if (performance.now() - lastBreath > 50) {
      await breathe();
      lastBreath = performance.now();
      if (cancelled.has(id)) {
        extractor.clearSong();
        cancelled.delete(id);
        return;
      }
    }
    const mfcc = extractor.segmentMfcc(index);
    postMessage({ type: MSG.SEGMENT, id, index, mfcc }, [mfcc.buffer]);
  }
  const featureMs = performance.now() - start;
  const peaks = extractor.waveformPeaks(WAVEFORM_BUCKETS);
  extractor.clearSong();
  postMessage({ type: MSG.DONE, id, featureMs, peaks }, [peaks.buffer]);
}

onmessage = async ({ data }) => {
  if (data.type === MSG.CANCEL) {
    cancelled.add(data.id);
  } else if (data.type === MSG.ANALYSE) {
    try {
      await analyse(data);
    } catch (e) {
      postMessage({ type: MSG.ERROR, id: data.id, message: e.message ?? String(e) });
    }
  }
};
