// The song in progress: its job (to cancel it), the status line (which also carries the
// element's other messages and its errors), the progress bar, the Cancel button, and the
// timeline of the segments done so far under the bar.
import { genreName, genreColours, drawTimeline } from '../timeline.js';

export class SongProgress {
  /** `ui`: the element's parts by id; `onCancel()` runs when the person cancels a song. */
  constructor(ui, { onCancel }) {
    this.ui = ui;
    this.job = null;          // the song in progress: { controller, name, ... }
    this.drawnSegments = 0;   // segments on the progress timeline
    ui.cancel.addEventListener('click', () => {
      if (!this.job) return;
      this.abort();
      onCancel();
    });
  }

  /** Starts a song called `name`, aborting the one in progress; returns its job, whose
   *  `controller.signal` cancels the analysis. */
  begin(name) {
    this.abort();
    this.job = { controller: new AbortController(), name, segments: [], info: null, colours: null, pending: false };
    this.drawnSegments = 0;
    return this.job;
  }

  /** Whether `job` is still the song in progress. */
  isCurrent(job) { return job !== null && this.job === job; }

  /** Ends `job` (finished or failed); false if it had already been replaced or cancelled. */
  end(job) {
    if (!this.isCurrent(job)) return false;
    this.job = null;
    return true;
  }

  /** Cancels the song in progress, if any. */
  abort() {
    this.job?.controller.abort();
    this.job = null;
  }

  /** Shows `text` in the status line: an `error` (read out as an alert), with a progress
   *  bar at `progress` (0-1) unless null, and the Cancel button if `cancellable`. */
  show(text, { error = false, progress = null, cancellable = false } = {}) {
    const { ui } = this;
    ui.status.hidden = false;
    ui.status.classList.toggle('error', error);
    ui.status.setAttribute('role', error ? 'alert' : 'status');
    ui.statusText.textContent = text;
    ui.progress.hidden = progress === null;
    if (progress === null) ui.progressTimeline.hidden = true;
    if (progress !== null) ui.progress.value = progress;
    ui.cancel.hidden = !cancellable;
  }

  hide() { this.ui.status.hidden = true; }

  /** Shows `job`'s progress: `done` of `total` segments, the `genre` so far (or null;
   *  `quick`: the first answer, from segments spread over the song; `unsure` as the
   *  calibration says),
   *  `segments` (the verdicts of those just done) added to the timeline of the song
   *  (`info`), whose genres are `labels`. */
  update(job, { done, total, segments, genre, unsure, info, quick }, labels) {
    job.colours ??= genreColours(labels);
    job.segments.push(...segments);
    job.info = info ?? job.info;
    if (!job.pending && job.info) {
      job.pending = true;
      requestAnimationFrame(() => this.drawTimeline(job));
    }
    job.answered ||= quick;
    if (job.answered && genre) {
      // The first answer (ten parts spread over the song), refined as the rest comes in.
      this.show(`“${job.name}”: ${unsure ? 'perhaps' : 'most likely'} ${genreName(genre)} · checking the whole song, segment ${done} of ${total}`,
        { progress: done / total, cancellable: true });
      return;
    }
    const soFar = genre && done < total ? ` · so far ${genreName(genre)}` : '';
    this.show(`Analysing “${job.name}”: segment ${done} of ${total}${soFar}`, { progress: done / total, cancellable: true });
  }

  /** The segments done so far under the progress bar, drawn at most once a frame however
   *  often they arrive. */
  drawTimeline(job) {
    job.pending = false;
    if (this.ui.progress.hidden) return;
    this.ui.progressTimeline.hidden = false;
    drawTimeline(this.ui.progressTimeline, job.segments, job.info, job.colours, null);
    this.drawnSegments = job.segments.length;
  }
}
