// Types of the UI-free API (classifier.js): `loadClassifier`, `Classifier`, `ClassifyError`
// and the result objects, which are `classify --json`'s fields (the crate's
// `Classification`) plus the model, the song's length and the times.

/** Genre → probability (0..1), over the model's labels. */
export type GenreProbabilities = Record<string, number>;

/** One segment of the song (3 s for musicnn), in time order. */
export interface SegmentVerdict {
  /** Where the segment starts, in seconds. */
  start_s: number;
  /** Its most probable genre. */
  genre: string;
  probabilities: GenreProbabilities;
}

/** One of musicnn's Million Song Dataset tags, mean over the song's segments. */
export interface TagScore {
  tag: string;
  probability: number;
}

/** How long each stage took, in milliseconds. */
export interface Timings {
  decodeMs: number;
  featureMs: number;
  classifyMs: number;
  /** When the first segment's verdict arrived, after the start. */
  firstSegmentMs: number | null;
  /** When the first verdict arrived, after the start: for a song of more than ten
   *  segments, the quick answer from the ten spread over it. */
  firstAnswerMs: number | null;
  /** Patches a helper worker embedded (the rest were embedded by the main worker). */
  helperPatches: number;
  totalMs: number;
}

/** What `classify` resolves to. */
export interface ClassifyResult {
  /** The most probable genre. */
  genre: string;
  /** The top probability after calibration: how often a verdict this sure was right on validation. */
  confidence: number;
  /** Whether `confidence` is below the model card's threshold (chosen on validation). */
  unsure: boolean;
  /** The song's calibrated genre probabilities. */
  probabilities: GenreProbabilities;
  segments: SegmentVerdict[];
  /** musicnn's strongest tags, most probable first; absent for the tutorial networks. */
  tags?: TagScore[];
  /** The genre the tags speak for when it is not `genre`; absent when they agree. */
  tags_lean?: string;
  /** The model used: a shipped model's name or a folder URL. */
  model: string;
  /** The song's length in seconds. */
  seconds: number;
  timings: Timings;
}

/** Progress of one song, as its segments are classified. */
export interface ClassifyProgress {
  done: number;
  total: number;
  /** The verdicts of the segments just done, in order. */
  segments: SegmentVerdict[];
  /** The verdict of every segment done so far, in the result's shape. */
  soFar: Omit<ClassifyResult, 'model' | 'seconds' | 'timings'> | null;
  /** True for the first answer of a long song: `segments` are the ten spread over it. */
  quick?: boolean;
}

/** What `classify` takes: a file, its bytes, or decoded audio. */
export type AudioInput =
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | AudioBuffer
  | { channels: Float32Array[]; sampleRate: number };

/** Options of one classification. */
export interface ClassifyOptions {
  onProgress?: (progress: ClassifyProgress) => void;
  /** Cancels the song; `classify` then rejects with reason 'cancelled'. */
  signal?: AbortSignal;
}

/** The feature settings the wasm extractor computes (the crate's one settings struct). */
export interface FeatureSettings {
  sample_rate: number;
  [setting: string]: unknown;
}

/** A model's card: its labels, features, architecture and validation figures. */
export interface ModelCard {
  labels: string[];
  features: FeatureSettings;
  [field: string]: unknown;
}

/** A model the build ships, the default first. */
export interface ShippedModel {
  name: string;
  label: string;
}

/** One window of live mode (about a second of the microphone). */
export interface LiveWindow {
  /** Where the window ends, in seconds since listening began. */
  endS: number;
  /** Too quiet to classify. */
  quiet: boolean;
  /** "does not sound like music: …" when the last few windows did not (a tone, noise, speech); else null. */
  notMusic: string | null;
  rms: number;
  /** The window's verdict; null when quiet or not music. */
  result: Omit<ClassifyResult, 'model' | 'seconds' | 'timings'> | null;
  busyMs: number;
}

/** A song of a batch, as `classifyAll` takes it: anything `classify` takes, or a file
 *  with the path it is shown and exported under. */
export type BatchInput = AudioInput | { file: Blob; path?: string };

/** One song's outcome in a batch: its result, or why it has none. */
export type BatchOutput =
  | { file: string; result: ClassifyResult; error?: undefined; reason?: undefined }
  | { file: string; error: string; reason: ClassifyErrorReason; result?: undefined };

/** Progress of a batch, once per song as it completes. */
export interface BatchProgress {
  done: number;
  total: number;
  /** The song's place in the inputs. */
  index: number;
  result: BatchOutput;
}

/** Options of `trainModel`. */
export interface TrainOptions {
  /** The model's name (default 'my-model'). */
  name?: string;
  onProgress?: (progress: { stage: 'embedding' | 'cross-validation' | 'training'; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/** How a model of your own labels was trained: its card's `own_labels`. */
export interface TrainingRecord {
  name: string;
  songs_per_label: number[];
  segments: number;
  cross_validation?: {
    folds: number;
    accuracy: number;
    balanced_accuracy: number;
    per_label: { label: string; songs: number; accuracy: number }[];
    /** `confusion[given][predicted]`, songs. */
    confusion: number[][];
  } | null;
  warnings: string[];
}

/** A model trained in the page. */
export interface TrainedModel {
  name: string;
  card: ModelCard;
  report: TrainingRecord | null;
  /** Songs that could not be used. */
  skipped: { file: string; label: number; error: string }[];
  timings: { embedMs: number; trainMs: number };
  /** The files `train` writes and `classify --model DIR` reads. */
  files(): Promise<{ 'card.json': Blob; 'model.bpk': Blob }>;
}

/** Options of `classifyAll`. */
export interface BatchOptions {
  onProgress?: (progress: BatchProgress) => void;
  /** Stops the rest: songs not finished get the error 'cancelled'; what is done is kept. */
  signal?: AbortSignal;
  /** Songs in flight at once (default 2: one decodes while the worker classifies another). */
  concurrency?: number;
  /** Classify only the ten segments spread over each song, as `classify --quick` does
   *  (default false): much faster on long songs. */
  quick?: boolean;
}

/** Why a song could not be classified. */
export type ClassifyErrorReason = 'input' | 'silent' | 'not-music' | 'cancelled' | 'model' | 'live' | 'train';

/** An error with a reason a UI can show. */
export class ClassifyError extends Error {
  constructor(message: string, reason: ClassifyErrorReason);
  readonly name: 'ClassifyError';
  reason: ClassifyErrorReason;
}

/** A classifier bound to one model; every classifier from one base URL shares one worker. */
export class Classifier {
  private constructor();
  /** The model in use: a shipped model's name or a folder URL. */
  readonly model: string;
  readonly card: ModelCard;
  readonly settings: FeatureSettings;
  readonly shippedModels: ShippedModel[];
  /** Classifies a song. */
  classify(input: AudioInput, options?: ClassifyOptions): Promise<ClassifyResult>;
  /** Classifies many songs, a few at a time, keeping only their results; one output per
   *  input, in their order (non-audio files are told by their first bytes). */
  classifyAll(inputs: Iterable<BatchInput>, options?: BatchOptions): Promise<BatchOutput[]>;
  /** Switches to another model (loaded once per page); resolves to its card. */
  /** A shipped model's name, a model folder's URL, or a model `trainModel` made. */
  setModel(model: string | TrainedModel): Promise<ModelCard>;
  /** Trains a model of your own labels over this model's backbone (loaded on first use). */
  trainModel(examples: Record<string, Blob[]>, options?: TrainOptions): Promise<TrainedModel>;
  /** The last song again, with the current model, from its stored features. */
  reclassify(): Promise<{
    result: Omit<ClassifyResult, 'model' | 'seconds' | 'timings'>;
    model: string;
    classifyMs: number;
  }>;
  /** Live mode: the microphone, classified about once a second. */
  listen(handlers: {
    onWindow?: (window: LiveWindow) => void;
    onError?: (error: ClassifyError) => void;
  }): Promise<{ stop(): void; sampleRate: number }>;
  /** Frees the last song's stored features in the worker. */
  forget(): void;
}

/** Where the model comes from and where the widget's files are served. */
export interface LoadOptions {
  /** A shipped model's name, or the URL of a model folder (card.json + model.bpk); default: the first shipped. */
  model?: string;
  /** Where worker.js, pkg/ and models/ live; default: beside the script (or wherever a bundler put them). */
  baseUrl?: string | URL | null;
}

/** Loads a classifier; rejects with the reason when the wasm or the model cannot be loaded. */
export function loadClassifier(options?: LoadOptions): Promise<Classifier>;

/** The shipped models the worker at `baseUrl` offers, the default first. */
export function shippedModels(options?: { baseUrl?: string | URL | null }): Promise<ShippedModel[]>;
