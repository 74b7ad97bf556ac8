// The project page around its <genre-classifier>: a file dropped anywhere on the page goes
// to the widget instead of making the browser navigate away to it.
const widget = document.querySelector('genre-classifier');
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files?.[0];
  if (file) widget.classify(file).catch(() => { /* the widget shows the reason */ });
});
