// A trained model's cross-validated report in words and tables: the accuracy over all
// songs and per label, the confusion matrix, and the warnings (too few songs, labels it
// cannot tell apart), plus the songs that could not be used.

const pct = (x) => `${(100 * x).toFixed(0)} %`;

/** A table of `rows` (arrays of cells) under `head`; `caption` says what it is. */
function table(caption, head, rows) {
  const t = document.createElement('table');
  t.createCaption().textContent = caption;
  const tr = t.createTHead().insertRow();
  for (const h of head) tr.appendChild(Object.assign(document.createElement('th'), { textContent: h, scope: 'col' }));
  const body = t.createTBody();
  for (const row of rows) {
    const r = body.insertRow();
    row.forEach((cell, i) => r.appendChild(Object.assign(document.createElement(i === 0 ? 'th' : 'td'), { textContent: cell })));
  }
  return t;
}

/** Shows `model`'s report in `box`. */
export function showReport(box, model) {
  const { report, card } = model;
  const cv = report?.cross_validation;
  const parts = [];
  const p = (text, className) => parts.push(Object.assign(document.createElement('p'), { textContent: text, className: className ?? '' }));
  if (cv) {
    p(`Cross-validated over ${cv.folds} folds of songs: ${pct(cv.accuracy)} of songs right (${pct(cv.balanced_accuracy)} averaged over labels).`);
    parts.push(table('Per label', ['label', 'songs', 'right'], cv.per_label.map((l) => [l.label, String(l.songs), pct(l.accuracy)])));
    parts.push(table('Confusion (rows: the label given; columns: the label predicted)', ['', ...card.labels],
      cv.confusion.map((row, i) => [card.labels[i], ...row.map(String)])));
  } else {
    p('No cross-validated score: it needs at least 5 songs for each label.');
  }
  for (const w of report?.warnings ?? []) p(`Note: ${w}`, 'train-warning');
  for (const s of model.skipped ?? []) p(`Not used: ${s.file}: ${s.error}`, 'train-warning');
  box.replaceChildren(...parts);
  box.hidden = false;
}
