// A batch's results as files to keep: CSV (one row per song, errors included) and JSON
// (the full results), and the download of either.

/** The CSV's columns, in order. */
export const CSV_COLUMNS = ['file', 'genre', 'confidence', 'unsure', 'tags', 'seconds', 'error'];

/** A CSV field: quoted (quotes doubled) when it holds a comma, a quote, a line break or
 *  leading or trailing space. */
export function csvField(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One output of a batch (`{ file, result }` or `{ file, error }`) as CSV fields. */
function csvRow({ file, result, error }) {
  if (!result) return [file, '', '', '', '', '', error ?? ''];
  return [
    file, result.genre, result.confidence.toFixed(4), String(result.unsure),
    (result.tags ?? []).map((t) => t.tag).join('; '), result.seconds.toFixed(2), '',
  ];
}

/** The outputs of a batch as CSV text: a header, then one line per song. */
export function toCsv(outputs) {
  return [CSV_COLUMNS, ...outputs.map(csvRow)].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** The outputs of a batch as JSON text: `{ model, results, skipped }`. */
export function toJson(outputs, { model = null, skipped = [] } = {}) {
  return JSON.stringify({ model, results: outputs, skipped }, null, 2) + '\n';
}

/** Offers `text` for download as `filename`. */
export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
