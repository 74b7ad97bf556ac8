//! The training loop: Adam on class-weighted cross-entropy, shuffled mini-batches,
//! validation after each epoch, early stopping on the validation loss keeping the best
//! weights.

use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::card::EpochRecord;
use crate::inference::{argmax, probabilities};
use crate::models::{Architecture, Network};

/// Segments as one flat, normalised array with their labels.
#[derive(Debug, Clone, Copy)]
pub struct Examples<'a> {
    /// `count × frames × coefficients` values.
    pub data: &'a [f32],
    /// The label of each segment.
    pub labels: &'a [usize],
    /// Frames per segment.
    pub frames: usize,
    /// Coefficients per frame.
    pub coefficients: usize,
}

impl Examples<'_> {
    /// The number of segments.
    fn len(&self) -> usize {
        self.labels.len()
    }

    /// The segments `indices` as one batch, as they are.
    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<3> {
        self.augmented_batch(indices, device, None, 0.0)
    }

    /// A batch; with `rng`, each segment gets a random time mask (up to 1/6 of its
    /// frames) and one random coefficient mask, set to the normalised mean (0): a cheap
    /// SpecAugment that keeps a small network from memorising the few tracks of rare genres.
    /// With `gain_range` > 0 it also gets a random loudness change: coefficient 0 (the
    /// log energy) moves by up to ± `gain_range` (normalised units).
    fn augmented_batch(
        &self,
        indices: &[usize],
        device: &Device,
        mut rng: Option<&mut StdRng>,
        gain_range: f32,
    ) -> Tensor<3> {
        let size = self.frames * self.coefficients;
        let mut values = Vec::with_capacity(indices.len() * size);
        for &i in indices {
            let start = values.len();
            values.extend_from_slice(&self.data[i * size..(i + 1) * size]);
            if let Some(rng) = rng.as_deref_mut() {
                let segment = &mut values[start..];
                let width = rng.random_range(0..=self.frames / 6);
                let first = rng.random_range(0..=self.frames - width);
                segment[first * self.coefficients..(first + width) * self.coefficients].fill(0.0);
                let c = rng.random_range(0..self.coefficients);
                segment
                    .iter_mut()
                    .skip(c)
                    .step_by(self.coefficients)
                    .for_each(|x| *x = 0.0);
                if gain_range > 0.0 {
                    let offset = rng.random_range(-gain_range..=gain_range);
                    segment
                        .iter_mut()
                        .step_by(self.coefficients)
                        .for_each(|x| *x += offset);
                }
            }
        }
        Tensor::from_data(
            TensorData::new(values, [indices.len(), self.frames, self.coefficients]),
            device,
        )
    }
}

/// Optimiser and loop settings.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Segments per batch.
    pub batch_size: usize,
    /// Most epochs.
    pub max_epochs: usize,
    /// Epochs without improvement of the validation loss before stopping.
    pub patience: usize,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
    /// Loss weight of each class (training).
    pub class_weights: Vec<f32>,
    /// Whether to mask random frames and coefficients of training segments.
    pub augment: bool,
    /// Largest random loudness change of a training segment, in normalised units of
    /// coefficient 0 (0: none; only with `augment`).
    pub gain_range: f32,
    /// Mixup: each batch is blended with a shuffled copy of itself by λ ~ Beta(α, α),
    /// 0 < α ≤ 1, and the loss blends both labels alike (0: off).
    pub mixup_alpha: f32,
    /// Label smoothing of the training loss (0: none).
    pub label_smoothing: f32,
    /// Whether to draw progress bars.
    pub show_progress: bool,
}

/// What training produced.
#[derive(Debug)]
pub struct Fitted {
    /// The weights with the lowest validation loss, in inference mode.
    pub network: Network,
    /// One record per epoch run.
    pub history: Vec<EpochRecord>,
    /// The epoch of `network`, from 1.
    pub best_epoch: usize,
}

/// A draw from Beta(α, α), 0 < α ≤ 1, by Jöhnk's method, which accepts at least half of
/// its tries in that range (written here because the rand_distr release that has Beta
/// needs a newer rand than burn's). Larger α are treated as 1.
fn beta_sample(rng: &mut StdRng, alpha: f32) -> f32 {
    let alpha = alpha.min(1.0);
    let inverse = 1.0 / f64::from(alpha);
    for _ in 0..10_000 {
        let x = rng.random::<f64>().powf(inverse);
        let y = rng.random::<f64>().powf(inverse);
        if x + y <= 1.0 && x + y > 0.0 {
            return (x / (x + y)) as f32;
        }
    }
    0.5
}

/// Segment probabilities of `examples` under `network` (in inference mode).
pub fn predict(network: &Network, examples: &Examples, device: &Device) -> Vec<Vec<f32>> {
    let indices: Vec<usize> = (0..examples.len()).collect();
    let mut out = Vec::with_capacity(examples.len());
    for chunk in indices.chunks(256) {
        let p = probabilities(network, examples.batch(chunk, device)).unwrap_or_default();
        let classes = p.len() / chunk.len().max(1);
        out.extend(p.chunks(classes.max(1)).map(<[f32]>::to_vec));
    }
    out
}

/// Weighted mean negative log-likelihood and accuracy of probabilities against labels.
fn weighted_loss_and_accuracy(probs: &[Vec<f32>], labels: &[usize], weights: &[f32]) -> (f64, f64) {
    let (mut loss, mut weight, mut hits) = (0f64, 0f64, 0usize);
    for (p, &l) in probs.iter().zip(labels) {
        let w = f64::from(weights[l]);
        loss -= w * f64::from(p[l].max(1e-12)).ln();
        weight += w;
        hits += usize::from(argmax(p) == l);
    }
    (
        loss / weight.max(1e-12),
        hits as f64 / probs.len().max(1) as f64,
    )
}

/// Trains `architecture` on `train`, validating on `valid` after each epoch: every epoch
/// shuffles the training segments, takes one optimiser step per mini-batch, validates,
/// and keeps the weights with the lowest validation loss, stopping `patience` epochs
/// after them.
pub fn fit(
    architecture: &Architecture,
    train: &Examples,
    valid: &Examples,
    options: &FitOptions,
    on_epoch: impl FnMut(&EpochRecord),
) -> Fitted {
    fit_from(
        architecture,
        |device| architecture.init(device),
        train,
        valid,
        options,
        on_epoch,
    )
}

/// [`fit`], starting from the network `start` builds on the (seeded) training device
/// instead of a fresh one: how a head starts from pretrained layers.
pub fn fit_from(
    architecture: &Architecture,
    start: impl FnOnce(&Device) -> Network,
    train: &Examples,
    valid: &Examples,
    options: &FitOptions,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Fitted {
    let (mut trainer, mut network) = Trainer::new(architecture, start, options);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut stopping = EarlyStopping::default();
    let batches = train.len().div_ceil(options.batch_size.max(1));
    for epoch in 1..=options.max_epochs {
        order.shuffle(&mut trainer.rng);
        let bar = epoch_bar(epoch, batches, options.show_progress);
        let (trained, totals) = trainer.train_epoch(network, train, &order, &bar);
        network = trained;
        let inference = network.valid();
        let (valid_loss, valid_accuracy) = trainer.validate(&inference, valid);
        let record = totals.record(epoch, valid_loss, valid_accuracy);
        finish_epoch_bar(&bar, &record, options.show_progress);
        on_epoch(&record);
        if stopping.should_stop(record, inference, options.patience) {
            break;
        }
    }
    stopping.finish(network)
}

/// What one training run keeps besides the network: its optimiser and loss, and the one
/// random source of shuffling, augmentation and mixup.
struct Trainer<'a> {
    /// The loop settings.
    options: &'a FitOptions,
    /// The inference device, for validation.
    device: Device,
    /// The autodiff device the network trains on.
    train_device: Device,
    /// Adam and its moments.
    optimizer: ModuleOptimizer,
    /// The class-weighted (and maybe smoothed) training loss.
    loss_fn: CrossEntropyLoss,
    /// Class weights of the validation loss: all 1 (see [`Trainer::new`]).
    valid_weights: Vec<f32>,
    /// Weight of the architecture's L2 penalty.
    l2: f64,
    /// Shuffles the epochs, draws the augmentation masks and the mixup partners.
    rng: StdRng,
}

impl<'a> Trainer<'a> {
    /// The trainer and the network `start` builds for `architecture` on the training
    /// device, all seeded by `options.seed`.
    fn new(
        architecture: &Architecture,
        start: impl FnOnce(&Device) -> Network,
        options: &'a FitOptions,
    ) -> (Self, Network) {
        let device = crate::models::cpu_device();
        let train_device = device.clone().autodiff();
        train_device.seed(options.seed);
        let network = start(&train_device);
        let optimizer = AdamConfig::new().with_epsilon(1e-7).init();
        let classes = architecture.classes();
        let loss_fn = CrossEntropyLossConfig::new()
            .with_weights(Some(options.class_weights.clone()))
            .with_smoothing((options.label_smoothing > 0.0).then_some(options.label_smoothing))
            .init(&train_device);
        // As Keras does with class weights: they shape the training loss only; the
        // validation loss that early stopping watches is the plain mean over validation
        // segments.
        let valid_weights = vec![1.0; classes];
        let l2 = architecture.l2();
        let rng = StdRng::seed_from_u64(options.seed);
        let trainer = Self {
            options,
            device,
            train_device,
            optimizer,
            loss_fn,
            valid_weights,
            l2,
            rng,
        };
        (trainer, network)
    }

    /// One pass over `train` in mini-batches in `order`, stepping the optimiser after
    /// each: the updated network and the epoch's running totals.
    fn train_epoch(
        &mut self,
        mut network: Network,
        train: &Examples,
        order: &[usize],
        bar: &ProgressBar,
    ) -> (Network, EpochTotals) {
        let mut totals = EpochTotals::default();
        for chunk in order.chunks(self.options.batch_size.max(1)) {
            let (trained, loss, hits) = self.train_batch(network, train, chunk);
            network = trained;
            totals.loss_sum += f64::from(loss) * chunk.len() as f64;
            totals.hits += hits;
            totals.seen += chunk.len();
            bar.inc(1);
            bar.set_message(format!(
                "loss {:.4} acc {:.3}",
                totals.loss_sum / totals.seen as f64,
                totals.hits as f64 / totals.seen as f64
            ));
        }
        (network, totals)
    }

    /// One optimiser step on the training segments `chunk`, augmented and mixed up as the
    /// options say: the updated network, the batch's loss and how many it got right.
    fn train_batch(
        &mut self,
        network: Network,
        train: &Examples,
        chunk: &[usize],
    ) -> (Network, f32, usize) {
        let options = self.options;
        let mut input = train.augmented_batch(
            chunk,
            &self.train_device,
            options.augment.then_some(&mut self.rng),
            options.gain_range,
        );
        let targets = label_tensor(train, chunk, &self.train_device);
        let mixup = Mixup::draw(
            &mut self.rng,
            chunk,
            options.mixup_alpha,
            &self.train_device,
        );
        if let Some(mixup) = &mixup {
            input = mixup.blend(input);
        }
        let logits = network.forward(input);
        let hits = correct(&logits, train, chunk);
        let mut loss = match &mixup {
            Some(mixup) => {
                let partner_targets = label_tensor(train, &mixup.partner_ids, &self.train_device);
                self.loss_fn
                    .forward(logits.clone(), targets)
                    .mul_scalar(mixup.lambda)
                    + self
                        .loss_fn
                        .forward(logits, partner_targets)
                        .mul_scalar(1.0 - mixup.lambda)
            }
            None => self.loss_fn.forward(logits, targets),
        };
        if let Some(penalty) = network.penalty(self.l2) {
            loss = loss + penalty;
        }
        let loss_value = loss
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .ok()
            .and_then(|v| v.first().copied())
            .unwrap_or(f32::NAN);
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        let network = self.optimizer.step(options.learning_rate, network, grads);
        (network, loss_value, hits)
    }

    /// Unweighted mean loss and accuracy of `network` (in inference mode) over `valid`.
    fn validate(&self, network: &Network, valid: &Examples) -> (f64, f64) {
        let probs = predict(network, valid, &self.device);
        weighted_loss_and_accuracy(&probs, valid.labels, &self.valid_weights)
    }
}

/// The labels of the training segments `ids`, as a tensor on `device`.
fn label_tensor(train: &Examples, ids: &[usize], device: &Device) -> Tensor<1, Int> {
    Tensor::<1, Int>::from_data(
        TensorData::new(
            ids.iter()
                .map(|&i| train.labels[i] as i64)
                .collect::<Vec<_>>(),
            [ids.len()],
        ),
        device,
    )
}

/// How many of the training segments `chunk` the `logits` classify right.
fn correct(logits: &Tensor<2>, train: &Examples, chunk: &[usize]) -> usize {
    let predicted = logits
        .clone()
        .argmax(1)
        .into_data()
        .iter::<i64>()
        .collect::<Vec<_>>();
    predicted
        .iter()
        .zip(chunk)
        .filter(|(p, i)| **p as usize == train.labels[**i])
        .count()
}

/// The mixup of one batch: each segment's partner (a shuffled copy of the batch) and the
/// partners' weight `1 - lambda`.
struct Mixup {
    /// Weight of the batch itself, λ ~ Beta(α, α).
    lambda: f32,
    /// The training segment id of each segment's partner.
    partner_ids: Vec<usize>,
    /// The position in the batch of each segment's partner.
    partner_index: Tensor<1, Int>,
}

impl Mixup {
    /// The partners and λ of the batch `chunk`, or `None` when mixup is off (`alpha` 0)
    /// or the batch has one segment.
    fn draw(rng: &mut StdRng, chunk: &[usize], alpha: f32, device: &Device) -> Option<Self> {
        (alpha > 0.0 && chunk.len() > 1).then(|| {
            let mut partner: Vec<usize> = (0..chunk.len()).collect();
            partner.shuffle(rng);
            let lambda = beta_sample(rng, alpha);
            let partner_ids: Vec<usize> = partner.iter().map(|&p| chunk[p]).collect();
            let partner_index = Tensor::<1, Int>::from_data(
                TensorData::new(
                    partner.iter().map(|&p| p as i64).collect::<Vec<_>>(),
                    [partner.len()],
                ),
                device,
            );
            Self {
                lambda,
                partner_ids,
                partner_index,
            }
        })
    }

    /// `input` blended with its partners: `λ·input + (1 - λ)·partners`.
    fn blend(&self, input: Tensor<3>) -> Tensor<3> {
        input.clone().mul_scalar(self.lambda)
            + input
                .select(0, self.partner_index.clone())
                .mul_scalar(1.0 - self.lambda)
    }
}

/// Running totals of one training epoch.
#[derive(Debug, Default)]
struct EpochTotals {
    /// Sum over segments of the batch loss.
    loss_sum: f64,
    /// Segments classified right.
    hits: usize,
    /// Segments trained on.
    seen: usize,
}

impl EpochTotals {
    /// The epoch's record, with its validation figures.
    fn record(&self, epoch: usize, valid_loss: f64, valid_accuracy: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: self.loss_sum / self.seen.max(1) as f64,
            train_accuracy: self.hits as f64 / self.seen.max(1) as f64,
            valid_loss,
            valid_accuracy,
        }
    }
}

/// The progress bar of epoch `epoch`, of `batches` steps (hidden without `show`).
fn epoch_bar(epoch: usize, batches: usize, show: bool) -> ProgressBar {
    let bar = super::progress_bar(
        batches,
        "epoch {prefix:>3} [{bar:30}] {pos}/{len} {msg}",
        show,
    );
    bar.set_prefix(epoch.to_string());
    bar
}

/// Ends an epoch's bar with its figures; where bars are hidden (a log file, CI) but
/// progress is wanted, prints them as one plain line instead.
fn finish_epoch_bar(bar: &ProgressBar, record: &EpochRecord, show_progress: bool) {
    let summary = format!(
        "loss {:.4} acc {:.3} | valid loss {:.4} acc {:.3}",
        record.train_loss, record.train_accuracy, record.valid_loss, record.valid_accuracy
    );
    if show_progress && bar.is_hidden() {
        eprintln!("epoch {:>3} {summary}", record.epoch);
    }
    bar.finish_with_message(summary);
}

/// The network with the lowest validation loss so far, with that loss and its epoch.
struct Best {
    /// The validation loss.
    loss: f64,
    /// The epoch, from 1.
    epoch: usize,
    /// The weights, in inference mode.
    network: Network,
}

/// Early stopping's bookkeeping: every epoch's record and the best epoch so far.
#[derive(Default)]
struct EarlyStopping {
    /// One record per epoch run.
    history: Vec<EpochRecord>,
    /// The best epoch so far (`None` before the first).
    best: Option<Best>,
}

impl EarlyStopping {
    /// Keeps `record`, and `network` (the epoch's weights) if its validation loss is the
    /// lowest yet; true when `patience` epochs have passed since the best one.
    fn should_stop(&mut self, record: EpochRecord, network: Network, patience: usize) -> bool {
        let (epoch, loss) = (record.epoch, record.valid_loss);
        self.history.push(record);
        let improved = self.best.as_ref().is_none_or(|best| loss < best.loss);
        if improved {
            self.best = Some(Best {
                loss,
                epoch,
                network,
            });
            false
        } else {
            self.best
                .as_ref()
                .is_some_and(|best| epoch - best.epoch >= patience)
        }
    }

    /// The result: the best epoch's weights, or `last` (in inference mode, epoch 0) if no
    /// epoch ran.
    fn finish(self, last: Network) -> Fitted {
        let (network, best_epoch) = match self.best {
            Some(best) => (best.network, best.epoch),
            None => (last.valid(), 0),
        };
        Fitted {
            network,
            history: self.history,
            best_epoch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Ann, HeadFitOptions, HeadRows, LinearHead, default_head, fit_linear_head};

    /// Rows of `width` values in `classes` overlapping clusters, deterministic.
    fn rows(n: usize, width: usize, classes: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
        let values = labels
            .iter()
            .flat_map(|&l| {
                let noise: Vec<f32> = (0..width).map(|_| rng.random_range(-1.0..1.0)).collect();
                noise
                    .into_iter()
                    .enumerate()
                    .map(move |(i, x)| x + if i % classes == l { 0.5 } else { 0.0 })
            })
            .collect();
        (values, labels)
    }

    #[test]
    fn the_plain_head_fit_is_burns_fit_of_a_linear_head_from_zero_weights() {
        // Full batches, so that the order of the rows (shuffled by different generators)
        // does not matter: the two loops then differ only in float rounding.
        let (width, classes) = (40, 3);
        let (train, train_labels) = rows(90, width, classes, 1);
        let (valid, valid_labels) = rows(30, width, classes, 2);
        let class_weights = vec![1.0, 2.0, 0.5];
        let examples = |data, labels| Examples {
            data,
            labels,
            frames: 1,
            coefficients: width,
        };
        let config = default_head(width, classes);
        let options = FitOptions {
            learning_rate: 0.01,
            batch_size: 90,
            max_epochs: 25,
            patience: 25,
            seed: 3,
            class_weights: class_weights.clone(),
            augment: false,
            gain_range: 0.0,
            mixup_alpha: 0.0,
            label_smoothing: 0.0,
            show_progress: false,
        };
        let burn = fit_from(
            &Architecture::Ann(config.clone()),
            |device| {
                let zeros = LinearHead::zeros(width, classes);
                Network::Ann(Ann::linear(&config, &zeros, device).unwrap())
            },
            &examples(&train, &train_labels),
            &examples(&valid, &valid_labels),
            &options,
            |_| {},
        );
        let plain = fit_linear_head(
            &HeadRows::new(&train, width, &train_labels).unwrap(),
            &HeadRows::new(&valid, width, &valid_labels).unwrap(),
            &class_weights,
            &HeadFitOptions {
                learning_rate: 0.01,
                batch_size: 0,
                max_epochs: 25,
                patience: 25,
                l2: 0.0,
                seed: 3,
            },
            |_, _| true,
        )
        .unwrap();
        assert_eq!(burn.best_epoch, plain.best_epoch);
        let (first, last) = (&plain.history[0], &plain.history[24]);
        assert!(
            last.train_loss < 0.8 * first.train_loss,
            "{first:?} {last:?}"
        );
        for (b, p) in burn.history.iter().zip(&plain.history) {
            // Measured: within 1e-6 over the 25 epochs.
            assert!((b.train_loss - p.train_loss).abs() < 1e-5, "{b:?} {p:?}");
            assert!((b.valid_loss - p.valid_loss).abs() < 1e-5, "{b:?} {p:?}");
        }
        let probabilities = predict(
            &burn.network,
            &examples(&valid, &valid_labels),
            &crate::models::cpu_device(),
        );
        for (i, p) in probabilities.iter().enumerate() {
            let q = plain.head.probabilities(&valid[i * width..(i + 1) * width]);
            for (a, b) in p.iter().zip(&q) {
                assert!((a - b).abs() < 1e-4, "row {i}: {p:?} {q:?}");
            }
        }
    }

    #[test]
    fn beta_draws_lie_in_the_unit_interval_around_one_half_and_small_alpha_favours_the_ends() {
        let mut rng = StdRng::seed_from_u64(3);
        for alpha in [0.2f32, 0.4, 1.0] {
            let draws: Vec<f32> = (0..4000).map(|_| beta_sample(&mut rng, alpha)).collect();
            assert!(draws.iter().all(|x| (0.0..=1.0).contains(x)), "α {alpha}");
            let mean = draws.iter().sum::<f32>() / draws.len() as f32;
            assert!((mean - 0.5).abs() < 0.03, "α {alpha}: mean {mean}");
            let middle = draws.iter().filter(|x| (0.1..0.9).contains(*x)).count() as f32
                / draws.len() as f32;
            // Beta(0.2, 0.2) puts 33 % of its mass in (0.1, 0.9); Beta(1, 1) 80 %.
            match alpha {
                0.2 => assert!((0.28..0.38).contains(&middle), "α 0.2: {middle}"),
                1.0 => assert!((0.76..0.84).contains(&middle), "α 1: {middle}"),
                _ => {}
            }
        }
    }
}
