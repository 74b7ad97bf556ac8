// The element's shadow DOM: its markup, its stylesheet, and its parts by id.

const TEMPLATE = `
<div class="toolbar">
  <button id="listen" type="button" hidden aria-pressed="false">Listen</button>
  <button id="train-open" type="button" hidden>Train your own</button>
  <label class="model-choice">Model <select id="model"></select></label>
</div>
<section id="live" class="live result" hidden aria-labelledby="live-title">
  <h2 id="live-title">Listening to the microphone</h2>
  <p id="live-now" class="verdict" aria-live="polite"></p>
  <canvas id="live-timeline" class="timeline" role="img" aria-label="Genre heard over the last minute, newest on the right"></canvas>
  <p id="live-facts" class="facts"></p>
</section>
<label id="drop" class="drop" tabindex="0" aria-describedby="drop-hint">
  <input id="file" type="file" accept="audio/*,.au,.ogg,.oga,.flac,.wav,.mp3,.m4a,.opus" multiple hidden>
  <span class="drop-title">Drop songs or a folder here</span>
  <span id="drop-hint" class="drop-hint">or press Enter to choose files (WAV, MP3, Ogg, FLAC…); several songs go to a table</span>
</label>
<div class="drop-more">
  <button id="choose-folder" type="button">Choose a folder</button>
  <input id="folder" type="file" webkitdirectory multiple hidden>
</div>
<section id="status" class="status" role="status" aria-live="polite" hidden>
  <p id="status-text"></p>
  <progress id="progress" max="1" value="0" hidden></progress>
  <canvas id="progress-timeline" class="timeline" role="img" aria-label="Genre of the segments analysed so far" hidden></canvas>
  <button id="cancel" type="button" hidden>Cancel</button>
</section>
<section id="library" class="library" hidden aria-labelledby="library-title">
  <h2 id="library-title">Your songs</h2>
  <div class="library-bar">
    <p id="library-progress" role="status" aria-live="polite"></p>
    <progress id="library-bar" max="1" value="0"></progress>
    <button id="library-cancel" type="button">Cancel</button>
  </div>
  <div class="library-tools">
    <label>Show <select id="library-filter"></select></label>
    <label title="Classify ten parts spread over each song instead of all of it: much faster on long songs, the same verdict for nearly all"><input id="library-quick" type="checkbox" checked> Quick scan</label>
    <button id="export-csv" type="button">Export CSV</button>
    <button id="export-json" type="button">Export JSON</button>
  </div>
  <div id="library-table-wrap" class="table-wrap">
    <table id="library-table">
      <thead><tr>
        <th data-column="file" scope="col"><button type="button">Song</button></th>
        <th data-column="genre" scope="col"><button type="button">Genre</button></th>
        <th data-column="confidence" scope="col"><button type="button">Confidence</button></th>
        <th data-column="tags" scope="col"><button type="button">Tags</button></th>
        <th data-column="seconds" scope="col"><button type="button">Length</button></th>
        <th data-column="timeline" scope="col"><button type="button" title="Sorts by how much of the song agrees with its genre">Timeline</button></th>
      </tr></thead>
      <tbody id="library-rows"></tbody>
    </table>
  </div>
  <details id="skipped" class="skipped" hidden>
    <summary id="skipped-summary"></summary>
    <ul id="skipped-list"></ul>
  </details>
</section>
<section id="result" class="result" hidden aria-labelledby="result-title">
  <h2 id="result-title"></h2>
  <p id="result-facts" class="facts"></p>
  <p id="verdict" class="verdict" aria-live="polite"></p>
  <ol id="bars" class="bars" aria-label="Most likely genres"></ol>
  <p id="tags" class="facts" hidden></p>
  <figure>
    <figcaption class="timeline-caption">Genre through the song, one block per 3 s segment (hover, or focus and use the arrow keys)</figcaption>
    <canvas id="timeline" class="timeline" tabindex="0" role="img" aria-describedby="segment-detail"></canvas>
    <div id="timeline-axis" class="axis"></div>
    <p id="segment-detail" class="segment-detail" aria-live="polite"></p>
    <ul id="legend" class="legend" aria-label="Genre colours"></ul>
  </figure>
  <details id="card" class="card">
    <summary id="card-summary"></summary>
    <dl id="card-facts"></dl>
  </details>
  <details id="features-view" class="features-view" open>
    <summary>Features</summary>
    <figure>
      <figcaption>Waveform (mono)</figcaption>
      <canvas id="waveform" aria-label="Waveform of the song" role="img"></canvas>
    </figure>
    <figure>
      <figcaption><span id="heatmap-title">MFCC heatmap</span>: <span id="heatmap-shape"></span></figcaption>
      <canvas id="heatmap" aria-label="The features of the whole song" role="img"></canvas>
      <div id="heatmap-axis" class="axis"></div>
    </figure>
  </details>
</section>`;

/** Fills the shadow `root` with the stylesheet at `cssHref` and the markup; returns every
 *  element with an id, by its id in camelCase ("status-text" → statusText). */
export function buildShadow(root, cssHref) {
  const style = document.createElement('link');
  style.rel = 'stylesheet';
  style.id = 'stylesheet';
  style.href = cssHref;
  const body = document.createElement('div');
  body.innerHTML = TEMPLATE;
  root.append(style, body);
  return Object.fromEntries([...root.querySelectorAll('[id]')].map((e) => [e.id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), e]));
}
