// The messages between classifier.js and the worker, written down in one place. Every
// request carries an id; answers carry the id of the request they answer.
//
// classifier → worker
//   { type: 'model', id, model }               load (once) a model: a shipped name or a folder URL
//   { type: 'begin', id, model, totalSamples, sampleRate, quick, embeddings }  a song of that many
//                                              samples per channel; quick: 'first' (a first answer
//                                              from ten segments spread over it, then the whole
//                                              song), 'only' (just those: a quick scan) or absent;
//                                              embeddings: send the segments' embeddings with 'done'
//   { type: 'piece-audio', id, pieces }        the pieces asked for: a Float32Array per channel each
//   { type: 'chunk', id, channels, last }      the next Float32Array per channel (buffers transferred)
//   { type: 'rerun', id, song, model }         the finished song `song` again, with another model
//   { type: 'forget', id }                     drop the song (cancels it if still running)
//   { type: 'decode', id, name, bytes }        decode a file Web Audio cannot (or a worker without it)
//   { type: 'listen', id, model, sampleRate, port }  live mode: mono frames at sampleRate arrive
//                                              on `port` (from the AudioWorklet)
//   { type: 'stop', id }                       end live mode
//   { type: 'add-model', id, model, card, weights }  a model from its files (trained in the page)
//   { type: 'train', id, model, labels, songs, name }  a head for `labels` on `model`'s backbone
//                                              from songs' embeddings ([{ label, embeddings }])
//   { type: 'train-cancel', id }               stop training job `id`
//   { type: 'train-limits', id }               what training allows (answered in kind: { limits })
// worker → classifier
//   { type: 'ready', settings, shippedModels, messages }  the wasm is running; the extractor's
//                                              feature settings; the shipped models [{ name, label }],
//                                              the default first; messages for the person ({ silent })
//   { type: 'model', id, model, card }         the model is loaded; its card
//   { type: 'song', id, info }                 facts about the song (segments, seconds, padded, ...)
//   { type: 'need', id }                       send the next chunk (never sent ahead, so memory
//                                              stays bounded on long songs)
//   { type: 'pieces', id, pieces }             send these stretches of the song ([{ segment, from, to }],
//                                              samples at its own rate) for the quick pass
//   { type: 'quick', id, segments, soFar, total }  the first answer: the spread segments' verdicts
//                                              and theirs together; the whole song follows
//   { type: 'segments', id, first, features }  features of segments first.. (MFCCs or log-mel),
//                                              frames × featureWidth each, frame-major
//   { type: 'progress', id, done, total, segments, soFar, wasmBytes }  segments classified so
//                                              far, the verdicts of those just done, the verdict
//                                              of all done so far ({ genre, probabilities, tags },
//                                              from Rust); wasm memory size
//   { type: 'done', id, result, peaks, model, featureMs, classifyMs, helperPatches, wasmBytes,
//     embeddings?, embeddingKey? }             the song's verdict (as `classify --json`, without
//                                              file); its segments' embeddings when asked for
//   { type: 'result', id, model, result, classifyMs }  the answer to 'rerun'
//   { type: 'silent', id, message }            the song is silent: there is no genre to tell
//   { type: 'not-music', id, message }         the song does not sound like music (a tone,
//                                              noise, speech): the message says which, from Rust
//   { type: 'decoded', id, samples, sampleRate, sourceRate, channels }  the file, mono at the feature rate
//   { type: 'live', id, endS, quiet, notMusic, rms, result, busyMs }  one live window: its verdict
//                                              (`result`; null when quiet, or when the last few
//                                              windows did not sound like music: `notMusic` says
//                                              why) and the worker's time so far
//   { type: 'train-progress', id, stage, done, total, finished }  a training step
//   { type: 'trained', id, card, weights, report }  the trained model's files and its
//                                              cross-validated report
//   { type: 'error', id, model, message }      a message for the person, naming the problem
export const MSG = Object.freeze({
  MODEL: 'model',
  BEGIN: 'begin',
  CHUNK: 'chunk',
  RERUN: 'rerun',
  FORGET: 'forget',
  DECODE: 'decode',
  DECODED: 'decoded',
  LISTEN: 'listen',
  STOP: 'stop',
  LIVE: 'live',
  READY: 'ready',
  SONG: 'song',
  NEED: 'need',
  PIECES: 'pieces',
  PIECE_AUDIO: 'piece-audio',
  QUICK: 'quick',
  SEGMENTS: 'segments',
  PROGRESS: 'progress',
  DONE: 'done',
  RESULT: 'result',
  SILENT: 'silent',
  NOT_MUSIC: 'not-music',
  ERROR: 'error',
  ADD_MODEL: 'add-model',
  TRAIN: 'train',
  TRAIN_CANCEL: 'train-cancel',
  TRAIN_LIMITS: 'train-limits',
  TRAIN_PROGRESS: 'train-progress',
  TRAINED: 'trained',
});
