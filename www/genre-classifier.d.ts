// Types of the element (genre-classifier.js): `<genre-classifier>`, its attributes, events
// and members, and the UI-free API it re-exports (classifier.d.ts).
import type { AudioInput, BatchOutput, ClassifyErrorReason, ClassifyResult, LiveWindow, SegmentVerdict, Timings } from './classifier.js';

export * from './classifier.js';

/** What `genre-result` carries and `lastResult` holds: the result plus the file's name. */
export interface ElementResult extends ClassifyResult {
  file: string;
}

/** `genre-progress`: segments done, the genre so far, the verdicts of the segments just done. */
export interface ElementProgress {
  done: number;
  total: number;
  genre: string | null;
  segments: SegmentVerdict[];
  /** True for the first answer of a long song, from the ten segments spread over it. */
  quick: boolean;
}

/** `genre-error`: what the widget shows, and why where known. */
export interface ElementError {
  message: string;
  reason?: ClassifyErrorReason;
}

/** `genre-batch-progress`: one song of a batch as it completes. */
export interface ElementBatchProgress {
  done: number;
  total: number;
  result: BatchOutput;
}

/** `genre-batch-done`: every song of the batch, and the files skipped as not audio. */
export interface ElementBatchDone {
  results: BatchOutput[];
  skipped: { file: string; reason: string }[];
}

/** The element's own events; all bubble out of the shadow root (so a page can listen on
 *  `document`). */
export interface GenreClassifierEvents {
  'genre-result': CustomEvent<ElementResult>;
  'genre-progress': CustomEvent<ElementProgress>;
  'genre-error': CustomEvent<ElementError>;
  'genre-live': CustomEvent<LiveWindow>;
  'genre-batch-progress': CustomEvent<ElementBatchProgress>;
  'genre-batch-done': CustomEvent<ElementBatchDone>;
}

/** Every event the element fires: an element's, and its own. */
export interface GenreClassifierEventMap extends HTMLElementEventMap, GenreClassifierEvents {}

/** `<genre-classifier>`: drop a song, see its genre, confidence and timeline. Attributes:
 *  `model` (a shipped model's name or a model folder URL), `compact`, `live`, `base-url`. */
export class GenreClassifierElement extends HTMLElement {
  /** Shows the song and resolves to its result. */
  classify(input: AudioInput): Promise<ElementResult>;
  /** Classifies many songs into the library table, firing the batch events. */
  classifyAll(inputs: Iterable<Blob | { file: Blob; path?: string }>): Promise<BatchOutput[]>;
  /** The result on screen, or null. */
  readonly lastResult: ElementResult | null;
  /** The folder the worker, packages and stylesheet come from (the base-url attribute), or null for beside the script. */
  readonly baseUrl: URL | null;
  /** Live mode's windows (of the session running, or the last one). */
  readonly liveWindows: LiveWindow[];
  addEventListener<K extends keyof GenreClassifierEventMap>(
    type: K,
    listener: (this: GenreClassifierElement, event: GenreClassifierEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof GenreClassifierEventMap>(
    type: K,
    listener: (this: GenreClassifierElement, event: GenreClassifierEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** Timings of the result on screen (re-exported for convenience). */
export type { Timings };

declare global {
  interface HTMLElementTagNameMap {
    'genre-classifier': GenreClassifierElement;
  }
  interface DocumentEventMap extends GenreClassifierEvents {}
}
