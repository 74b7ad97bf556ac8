// The messages between the page and the feature worker, written down in one place.
//
// page → worker
//   { type: 'analyse', id, channels: Float32Array[], sampleRate }  (channel buffers transferred)
//   { type: 'cancel', id }
// worker → page
//   { type: 'ready', settings }            the extractor's feature settings (the one source of truth)
//   { type: 'song', id, info }             facts about the loaded song (segments, seconds, padded, ...)
//   { type: 'segment', id, index, mfcc }   MFCCs of one segment, frames × n_mfcc, frame-major
//   { type: 'done', id, featureMs, peaks } all segments sent; wasm time; waveform (min, max) pairs
//   { type: 'error', id, message }         a message for the person, naming the problem
export const MSG = Object.freeze({
  ANALYSE: 'analyse',
  CANCEL: 'cancel',
  READY: 'ready',
  SONG: 'song',
  SEGMENT: 'segment',
  DONE: 'done',
  ERROR: 'error',
});
