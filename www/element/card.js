// The model card in words: the summary line and the facts under it (network, genres,
// features, backbone, validation figures, training data).
import { genreName } from '../timeline.js';
import { percent, kilobytes } from './format.js';

/** Shows the card of the classifier's model in the element's `ui`. */
export function showCard(ui, { model, card }) {
  const v = card.training?.validation;
  ui.cardSummary.textContent = `Model: ${model}` + (v ? ` · ${percent(v.track_accuracy, 0)} of validation songs right` : '')
    + ` · ${kilobytes(card.weights.bytes)}`;
  ui.cardFacts.replaceChildren(...cardFacts(card).flatMap(([term, value]) => {
    const dt = document.createElement('dt'); dt.textContent = term;
    const dd = document.createElement('dd'); dd.textContent = value;
    return [dt, dd];
  }));
}

/** The facts of a model card, as [term, value] pairs. */
function cardFacts(c) {
  const facts = [
    ['Network', `${c.architecture.name}, ${c.parameters.toLocaleString('en')} parameters, weights ${kilobytes(c.weights.bytes)}`],
    ['Genres', c.labels.map(genreName).join(', ')],
    ['Features', featureFacts(c.features)],
  ];
  const backbone = c.architecture.source;
  if (backbone) {
    facts.push(['Backbone', `${backbone.network} from ${backbone.package} ${backbone.version} (${backbone.license} license): ${backbone.paper}; its 50 Million Song Dataset tags give a genre prior with weight ${c.architecture.tag_prior.weight}`]);
  }
  if (c.training) facts.push(...trainingFacts(c.training));
  return facts;
}

/** How the model was trained and how well it did, as [term, value] pairs. */
function trainingFacts(trained) {
  const v = trained.validation;
  const tracks = (k) => trained.data.per_genre.reduce((n, g) => n + g[k], 0);
  return [
    ['Validation', `${percent(v.track_accuracy)} of songs, ${percent(v.balanced_track_accuracy)} averaged over genres, ${percent(v.segment_accuracy)} of 3 s segments`],
    ['Per genre (songs right)', v.per_genre.map((g) => `${genreName(g.genre)} ${percent(g.track_accuracy, 0)} of ${g.tracks}`).join(' · ')],
    ['Training data', `${tracks('train_tracks')} songs for training, ${tracks('valid_tracks')} for validation; ${trained.split}`],
    ...(trained.excerpts ? [['Validation excerpts', `${percent(trained.excerpts.track_accuracy)} of ${trained.excerpts.confusion.flat().reduce((a, b) => a + b, 0)} short excerpts (2-3 s)`]] : []),
    ['Training', `best epoch ${trained.best_epoch} of ${trained.history.length}, ${Math.round(trained.seconds)} s on ${trained.backend}`],
  ];
}

/** What a model hears, in words. */
function featureFacts(f) {
  const seconds = (f.segment_samples / f.sample_rate).toFixed(2).replace(/\.?0+$/, '');
  return f.kind === 'log-mel'
    ? `log-mel spectrogram, ${f.n_mels} bands, patches of ${seconds} s at ${f.sample_rate} Hz`
    : `${f.n_mfcc} MFCCs × ${seconds} s segments at ${f.sample_rate} Hz`;
}
