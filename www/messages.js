// The messages between the page and the worker, written down in one place.
//
// page → worker
//   { type: 'model', name }                    load (once) and use a shipped model; re-runs the last song
//   { type: 'begin', id, totalSamples, sampleRate }  a song of that many samples per channel
//   { type: 'chunk', id, channels, last }      the next Float32Array per channel (buffers transferred)
//   { type: 'cancel', id }                     forget the song
// worker → page
//   { type: 'ready', settings }                the wasm is running; the extractor's feature settings
//   { type: 'model', name, card }              the model in use, with its card
//   { type: 'song', id, info }                 facts about the song (segments, seconds, padded, ...)
//   { type: 'need', id }                       send the next chunk (the page never sends ahead, so
//                                              memory stays bounded on long songs)
//   { type: 'segments', id, first, mfcc }      MFCCs of segments first.., frames × n_mfcc each, frame-major
//   { type: 'progress', id, done, total, wasmBytes }  segments classified so far; wasm memory size
//   { type: 'done', id, result, peaks, featureMs, classifyMs, wasmBytes }
//                                              the song's verdict (as `classify --json`, without file)
//   { type: 'result', id, result, model, classifyMs }  the last song again, with another model
//   { type: 'silent', id }                     the song is silent: there is no genre to tell
//   { type: 'error', id, message, model }      a message for the person, naming the problem
export const MSG = Object.freeze({
  MODEL: 'model',
  BEGIN: 'begin',
  CHUNK: 'chunk',
  CANCEL: 'cancel',
  READY: 'ready',
  SONG: 'song',
  NEED: 'need',
  SEGMENTS: 'segments',
  PROGRESS: 'progress',
  DONE: 'done',
  RESULT: 'result',
  SILENT: 'silent',
  ERROR: 'error',
});
