//! Fitting a linear (softmax-regression) head on embedding rows, in plain Rust: the same
//! computation natively and in wasm, so that the page's "your labels" and `train` can
//! give the same head for the same rows.
//!
//! The loop is the trainer's recipe for musicnn's default head (src/train/fit.rs): Adam
//! (β 0.9/0.999, ε 1e-7, burn's update) on the class-weighted mean cross-entropy over
//! shuffled mini-batches, the unweighted validation loss after each epoch, early
//! stopping `patience` epochs after the lowest one, whose weights are kept. It differs in
//! two ways: the weights start at zero (the loss is convex, so no random start is
//! needed, and the seed only orders the batches), and the shuffles come from a SplitMix64
//! seeded here rather than `rand`'s `StdRng`. Started from zero weights with full
//! batches, burn's loop and this one give the same losses within 1e-6 (a test in
//! `train::fit`).
//!
//! Why by hand rather than with burn's autodiff backend and optimiser, as the trainer
//! fits its other networks: the page runs in wasm, where this crate builds burn without
//! `autodiff` and `optim` (Cargo.toml: they are native-only dependencies), and a page that
//! must stay small should not download an autodiff engine and optimiser framework for one
//! matrix whose gradient is two lines (`p − onehot`, times the input). How many bytes
//! they would add has not been measured (it needs release wasm builds). Written out, the
//! arithmetic is also the same on both targets: f32 loops in a fixed order (Rust never
//! reorders or fuses float operations), `exp` and `ln` from `libm` rather than the
//! platform's, beta powers by repeated multiplication, and an integer generator for the
//! shuffles, so the same rows and seed give the same weights bit for bit natively and in
//! wasm, with or without SIMD (benches/head_fit_wasm.sh checks it in Node and times it).

use crate::card::EpochRecord;

/// Adam's first-moment decay (burn's default).
const BETA_1: f32 = 0.9;
/// Adam's second-moment decay (burn's default).
const BETA_2: f32 = 0.999;
/// Adam's ε: the trainer's (`AdamConfig::with_epsilon(1e-7)`, Keras' default).
const EPSILON: f32 = 1e-7;
/// The smallest probability the validation loss takes the logarithm of (the trainer's).
const MIN_PROBABILITY: f64 = 1e-12;
/// Training rows per pass over the weights: each pass reads a class's weights and
/// gradients once for this many rows rather than once a row. The sums are the same.
const BLOCK: usize = 4;

/// Why a head could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeadFitError {
    /// There are no training rows.
    #[error("there are no training rows to fit a head on")]
    NoRows,
    /// Values, widths and labels do not fit together.
    #[error("the rows do not fit together: {0}")]
    Shape(String),
    /// A row's label is not one of the classes.
    #[error("row {row} has label {label}, but there are only {classes} classes")]
    Label {
        /// The row.
        row: usize,
        /// Its label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A row has a NaN or infinite value.
    #[error("row {row} has a value that is not a finite number")]
    NotFinite {
        /// The row.
        row: usize,
    },
    /// The class weights are not one finite, non-negative number per class, with a
    /// positive one for some training row.
    #[error("class weights: {0}")]
    ClassWeights(String),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
    /// The progress callback asked to stop.
    #[error("training was cancelled after epoch {epoch}")]
    Cancelled {
        /// The last epoch run.
        epoch: usize,
    },
    /// The training loss stopped being a finite number.
    #[error("the training loss became {loss} in epoch {epoch}: lower the learning rate")]
    Diverged {
        /// The epoch.
        epoch: usize,
        /// The loss.
        loss: f64,
    },
}

/// Rows of a head's input (normalised embeddings, `width` values each, concatenated) and
/// the label of each.
#[derive(Debug, Clone, Copy)]
pub struct HeadRows<'a> {
    values: &'a [f32],
    width: usize,
    labels: &'a [usize],
}

impl<'a> HeadRows<'a> {
    /// `labels.len()` rows of `width` values each, concatenated in `values`.
    pub fn new(values: &'a [f32], width: usize, labels: &'a [usize]) -> Result<Self, HeadFitError> {
        if width == 0 {
            return Err(HeadFitError::Shape("rows of 0 values".into()));
        }
        if labels.len().checked_mul(width) != Some(values.len()) {
            return Err(HeadFitError::Shape(format!(
                "{} values are not {} rows of {width}",
                values.len(),
                labels.len()
            )));
        }
        Ok(Self {
            values,
            width,
            labels,
        })
    }

    /// No rows of `width` values.
    pub fn empty(width: usize) -> Self {
        Self {
            values: &[],
            width: width.max(1),
            labels: &[],
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `i`'s values.
    fn row(&self, i: usize) -> &'a [f32] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    /// Checks every label against `classes` and every value for finiteness.
    fn check(&self, classes: usize) -> Result<(), HeadFitError> {
        if let Some((row, &label)) = self.labels.iter().enumerate().find(|(_, l)| **l >= classes) {
            return Err(HeadFitError::Label {
                row,
                label,
                classes,
            });
        }
        match self.values.iter().position(|v| !v.is_finite()) {
            Some(i) => Err(HeadFitError::NotFinite {
                row: i / self.width,
            }),
            None => Ok(()),
        }
    }
}

/// Rows given one vector each, concatenated, and their common width.
pub fn flatten_rows(rows: &[Vec<f32>]) -> Result<(Vec<f32>, usize), HeadFitError> {
    let width = rows.first().map_or(0, Vec::len);
    if let Some(row) = rows.iter().position(|r| r.len() != width) {
        return Err(HeadFitError::Shape(format!(
            "row {row} has {} values, row 0 has {width}",
            rows[row].len()
        )));
    }
    Ok((rows.concat(), width))
}

/// Loss weights `(n / (classes × n_c))^power` of the classes of `labels`: power 1 gives
/// every class the same total weight, 0.5 meets halfway between that and the data's own
/// proportions (0: unweighted). Classes absent from `labels` get weight 0; labels not
/// below `classes` are not counted. The power is `libm`'s, the same on every target.
pub fn balanced_class_weights(labels: &[usize], classes: usize, power: f32) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for &l in labels {
        if let Some(count) = counts.get_mut(l) {
            *count += 1;
        }
    }
    let n: usize = counts.iter().sum();
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                libm::powf(n as f32 / (present as f32 * c as f32), power)
            }
        })
        .collect()
}

/// Optimiser and loop settings of [`fit_linear_head`].
#[derive(Debug, Clone, PartialEq)]
pub struct HeadFitOptions {
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Rows per step; 0 for the whole training set (full-batch gradient descent).
    pub batch_size: usize,
    /// Most epochs.
    pub max_epochs: usize,
    /// Epochs without a lower validation loss before stopping.
    pub patience: usize,
    /// Penalty `l2 · Σ w²` on the weights (not the biases), added to the training loss.
    pub l2: f32,
    /// Seed of the batches' order.
    pub seed: u64,
}

impl Default for HeadFitOptions {
    /// The musicnn recipe's: learning rate 1e-3, batches of 64, at most 300 epochs,
    /// patience 15, no L2, seed 42.
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            batch_size: 64,
            max_epochs: 300,
            patience: 15,
            l2: 0.0,
            seed: 42,
        }
    }
}

impl HeadFitOptions {
    /// Checks every setting's range, naming the first out of it.
    pub fn check(&self) -> Result<(), HeadFitError> {
        let bad = |m: &str| Err(HeadFitError::Options(m.into()));
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("the learning rate must be a positive number");
        }
        if self.max_epochs == 0 || self.patience == 0 {
            return bad("the most epochs and the patience must be at least 1");
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("the L2 penalty must be a non-negative number");
        }
        Ok(())
    }
}

/// A linear head: `logits = x · weight + bias`, laid out as burn's `Linear` is.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHead {
    /// Values per input row.
    pub inputs: usize,
    /// Number of classes.
    pub classes: usize,
    /// `[inputs, classes]`, row-major.
    pub weight: Vec<f32>,
    /// One per class.
    pub bias: Vec<f32>,
}

impl LinearHead {
    /// A head whose weights and biases are all 0 (every class equally likely).
    pub fn zeros(inputs: usize, classes: usize) -> Self {
        Self {
            inputs,
            classes,
            weight: vec![0.0; inputs * classes],
            bias: vec![0.0; classes],
        }
    }

    /// The logits of `row` (at least [`inputs`](Self::inputs) values) into `out`.
    fn logits_into(&self, row: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for (&x, weights) in row.iter().zip(self.weight.chunks_exact(self.classes)) {
            for (o, &w) in out.iter_mut().zip(weights) {
                *o += x * w;
            }
        }
    }

    /// The class probabilities of one row.
    pub fn probabilities(&self, row: &[f32]) -> Vec<f32> {
        let mut z = vec![0.0; self.classes];
        self.logits_into(row, &mut z);
        softmax_in_place(&mut z);
        z
    }
}

/// The head as the fit keeps it: weights `[classes, inputs]`, so that a logit is one dot
/// product over a row and its gradient one `a·x + y` over a row, both of which the
/// compiler turns into SIMD (with burn's `[inputs, classes]` layout and 10 classes, a fit
/// took 1.5 times as long).
#[derive(Debug, Clone)]
struct ClassMajor {
    inputs: usize,
    classes: usize,
    /// `[classes, inputs]`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl ClassMajor {
    /// All zeros.
    fn zeros(inputs: usize, classes: usize) -> Self {
        Self {
            inputs,
            classes,
            weight: vec![0.0; inputs * classes],
            bias: vec![0.0; classes],
        }
    }

    /// The logits of each of `rows` into `out`, one after the other; one pass over the
    /// weights for all of them.
    fn block_logits(&self, rows: &[&[f32]], out: &mut [f32]) {
        let classes = self.classes;
        for logits in out.chunks_exact_mut(classes).take(rows.len()) {
            logits.copy_from_slice(&self.bias);
        }
        for (k, weights) in self.weight.chunks_exact(self.inputs).enumerate() {
            for (logits, row) in out.chunks_exact_mut(classes).zip(rows) {
                logits[k] += dot(weights, row);
            }
        }
    }

    /// The same head in burn's layout.
    fn into_head(self) -> LinearHead {
        let (inputs, classes) = (self.inputs, self.classes);
        let mut weight = vec![0.0; inputs * classes];
        for (k, weights) in self.weight.chunks_exact(inputs).enumerate() {
            for (i, &w) in weights.iter().enumerate() {
                weight[i * classes + k] = w;
            }
        }
        LinearHead {
            inputs,
            classes,
            weight,
            bias: self.bias,
        }
    }
}

/// `Σ a·b` in eight interleaved partial sums (a fixed order, the same on every target,
/// that SIMD can run), then the sums pairwise and the tail.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .fold(0.0, |sum, (x, y)| sum + x * y);
    for (x, y) in a8.zip(b8) {
        for j in 0..8 {
            lanes[j] += x[j] * y[j];
        }
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    (((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))) + tail
}

/// `y += a·x`.
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// Softmax of `z` in place; returns the log of the normaliser, `ln Σ exp z`.
fn softmax_in_place(z: &mut [f32]) -> f32 {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in z.iter_mut() {
        *v = libm::expf(*v - max);
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
    max + libm::logf(sum)
}

/// The index of the largest value (the first of equals).
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// What [`fit_linear_head`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedHead {
    /// The weights of the epoch with the lowest validation loss (of the last epoch
    /// without validation rows).
    pub head: LinearHead,
    /// One record per epoch run; the validation figures are NaN without validation rows.
    pub history: Vec<EpochRecord>,
    /// The epoch of `head`, from 1.
    pub best_epoch: usize,
}

/// Fits a linear head on `train` (normalised rows and labels), one class per entry of
/// `class_weights` (each class's weight in the training loss), validating on `valid`
/// after each epoch; see the module docs. Without validation rows it runs
/// `max_epochs` and keeps the last. `progress(epoch, training loss)` is called after
/// each epoch; returning false cancels ([`HeadFitError::Cancelled`]).
pub fn fit_linear_head(
    train: &HeadRows,
    valid: &HeadRows,
    class_weights: &[f32],
    options: &HeadFitOptions,
    mut progress: impl FnMut(usize, f64) -> bool,
) -> Result<FittedHead, HeadFitError> {
    check_inputs(train, valid, class_weights, options)?;
    let mut fitter = Fitter::new(train.width, class_weights, options);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut best: Option<(f64, usize, ClassMajor)> = None;
    let mut history = Vec::new();
    for epoch in 1..=options.max_epochs {
        let (train_loss, train_accuracy) = fitter.epoch(train, &mut order);
        if !train_loss.is_finite() {
            return Err(HeadFitError::Diverged {
                epoch,
                loss: train_loss,
            });
        }
        let (valid_loss, valid_accuracy) = evaluate(&fitter.head, valid);
        history.push(EpochRecord {
            epoch,
            train_loss,
            train_accuracy,
            valid_loss,
            valid_accuracy,
        });
        if !progress(epoch, train_loss) {
            return Err(HeadFitError::Cancelled { epoch });
        }
        let improved = valid.is_empty() || best.as_ref().is_none_or(|b| valid_loss < b.0);
        if improved {
            best = Some((valid_loss, epoch, fitter.head.clone()));
        } else if best
            .as_ref()
            .is_some_and(|b| epoch - b.1 >= options.patience)
        {
            break;
        }
    }
    let (_, best_epoch, head) = best.unwrap_or((f64::NAN, 0, fitter.head));
    Ok(FittedHead {
        head: head.into_head(),
        history,
        best_epoch,
    })
}

/// Checks the options, both sides' rows against each other and the classes, and the
/// class weights.
fn check_inputs(
    train: &HeadRows,
    valid: &HeadRows,
    class_weights: &[f32],
    options: &HeadFitOptions,
) -> Result<(), HeadFitError> {
    options.check()?;
    if train.is_empty() {
        return Err(HeadFitError::NoRows);
    }
    if !valid.is_empty() && valid.width != train.width {
        return Err(HeadFitError::Shape(format!(
            "validation rows have {} values, training rows {}",
            valid.width, train.width
        )));
    }
    let classes = class_weights.len();
    if classes == 0 {
        return Err(HeadFitError::ClassWeights("there are none".into()));
    }
    if class_weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(HeadFitError::ClassWeights(
            "each must be a finite number of at least 0".into(),
        ));
    }
    train.check(classes)?;
    valid.check(classes)?;
    if train.labels.iter().all(|&l| class_weights[l] == 0.0) {
        return Err(HeadFitError::ClassWeights(
            "every training row's class has weight 0".into(),
        ));
    }
    Ok(())
}

/// Unweighted mean negative log-likelihood and accuracy of `head` on `rows` (NaN for
/// no rows), as the trainer's validation computes them.
fn evaluate(head: &ClassMajor, rows: &HeadRows) -> (f64, f64) {
    if rows.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut z = vec![0.0; head.classes];
    let (mut loss, mut hits) = (0.0f64, 0usize);
    for (i, &label) in rows.labels.iter().enumerate() {
        head.block_logits(&[rows.row(i)], &mut z);
        softmax_in_place(&mut z);
        loss -= libm::log(f64::from(z[label]).max(MIN_PROBABILITY));
        hits += usize::from(argmax(&z) == label);
    }
    let n = rows.len() as f64;
    (loss / n, hits as f64 / n)
}

/// Adam's state for one flat group of parameters.
struct Moments {
    /// First moments.
    first: Vec<f32>,
    /// Second moments.
    second: Vec<f32>,
}

impl Moments {
    /// Zero moments for `n` parameters.
    fn new(n: usize) -> Self {
        Self {
            first: vec![0.0; n],
            second: vec![0.0; n],
        }
    }

    /// One Adam step of `params` along `grads` with the step's `factor` (learning rate
    /// times the bias corrections) and `epsilon` (ε times √(1 − β₂ᵗ)), as burn does it.
    fn step(&mut self, params: &mut [f32], grads: &[f32], factor: f32, epsilon: f32) {
        let moments = self.first.iter_mut().zip(self.second.iter_mut());
        for ((p, &g), (m, v)) in params.iter_mut().zip(grads).zip(moments) {
            *m = BETA_1 * *m + (1.0 - BETA_1) * g;
            *v = BETA_2 * *v + (1.0 - BETA_2) * g * g;
            *p -= factor * *m / (v.sqrt() + epsilon);
        }
    }
}

/// One fit's state: the head, its gradients, Adam's moments and the batch order's
/// generator.
struct Fitter<'a> {
    options: &'a HeadFitOptions,
    class_weights: &'a [f32],
    head: ClassMajor,
    grad_weight: Vec<f32>,
    grad_bias: Vec<f32>,
    adam_weight: Moments,
    adam_bias: Moments,
    /// β₁ᵗ and β₂ᵗ after `t` steps.
    beta_powers: (f32, f32),
    /// Scratch: a block's logits, then probabilities, then loss gradients.
    z: Vec<f32>,
    rng: SplitMix64,
}

impl<'a> Fitter<'a> {
    /// A zero head over rows of `inputs` values, for `class_weights.len()` classes.
    fn new(inputs: usize, class_weights: &'a [f32], options: &'a HeadFitOptions) -> Self {
        let classes = class_weights.len();
        Self {
            options,
            class_weights,
            head: ClassMajor::zeros(inputs, classes),
            grad_weight: vec![0.0; inputs * classes],
            grad_bias: vec![0.0; classes],
            adam_weight: Moments::new(inputs * classes),
            adam_bias: Moments::new(classes),
            beta_powers: (1.0, 1.0),
            z: vec![0.0; BLOCK * classes],
            rng: SplitMix64(options.seed),
        }
    }

    /// One pass over `train` in batches, shuffled into `order` first: the epoch's mean
    /// training loss (weighted as the batches were, with the penalty) and accuracy.
    fn epoch(&mut self, train: &HeadRows, order: &mut [usize]) -> (f64, f64) {
        let batch = match self.options.batch_size {
            0 => order.len(),
            b => b,
        };
        if batch < order.len() {
            self.rng.shuffle(order);
        }
        let (mut loss_sum, mut hits) = (0.0f64, 0usize);
        for chunk in order.chunks(batch) {
            let (loss, batch_hits) = self.gradients(train, chunk);
            let penalty = self.add_penalty();
            self.step();
            loss_sum += (loss + penalty) * chunk.len() as f64;
            hits += batch_hits;
        }
        let n = order.len().max(1) as f64;
        (loss_sum / n, hits as f64 / n)
    }

    /// The gradients of the class-weighted mean cross-entropy over the rows `chunk`
    /// (`Σ w·nll / Σ w`, as burn's `CrossEntropyLoss` with weights): the batch's loss and
    /// how many rows it got right. A batch whose classes all weigh 0 has no gradient.
    /// Rows go [`BLOCK`] at a time through the weights, with every sum taken in the
    /// order of `chunk`, as row by row.
    fn gradients(&mut self, train: &HeadRows, chunk: &[usize]) -> (f64, usize) {
        self.grad_weight.fill(0.0);
        self.grad_bias.fill(0.0);
        let weights = self.class_weights;
        let total: f32 = chunk.iter().map(|&r| weights[train.labels[r]]).sum();
        let (mut loss, mut hits) = (0.0f64, 0usize);
        let classes = self.head.classes;
        for block in chunk.chunks(BLOCK) {
            let mut rows: [&[f32]; BLOCK] = [&[]; BLOCK];
            for (slot, &r) in rows.iter_mut().zip(block) {
                *slot = train.row(r);
            }
            let rows = &rows[..block.len()];
            let z = &mut self.z[..block.len() * classes];
            self.head.block_logits(rows, z);
            for (z, &r) in z.chunks_exact_mut(classes).zip(block) {
                let y = train.labels[r];
                hits += usize::from(argmax(z) == y);
                if total <= 0.0 {
                    continue;
                }
                let logit = z[y];
                let log_normaliser = softmax_in_place(z);
                let share = weights[y] / total;
                loss += f64::from(share) * f64::from(log_normaliser - logit);
                // d loss / d logits = share · (p − onehot(y)).
                z[y] -= 1.0;
                z.iter_mut().for_each(|g| *g *= share);
                for (g, &d) in self.grad_bias.iter_mut().zip(z.iter()) {
                    *g += d;
                }
            }
            if total > 0.0 {
                accumulate_outer(&mut self.grad_weight, rows, z, classes);
            }
        }
        (loss, hits)
    }

    /// Adds the L2 penalty's gradient (`2 · l2 · w`) to the weights' gradients; returns
    /// the penalty.
    fn add_penalty(&mut self) -> f64 {
        let l2 = self.options.l2;
        if l2 == 0.0 {
            return 0.0;
        }
        let mut squares = 0.0f64;
        for (g, &w) in self.grad_weight.iter_mut().zip(&self.head.weight) {
            *g += 2.0 * l2 * w;
            squares += f64::from(w) * f64::from(w);
        }
        f64::from(l2) * squares
    }

    /// One Adam step of weights and biases along their gradients.
    fn step(&mut self) {
        let (b1, b2) = (self.beta_powers.0 * BETA_1, self.beta_powers.1 * BETA_2);
        self.beta_powers = (b1, b2);
        let correction = (1.0 - b2).sqrt();
        let factor = self.options.learning_rate * correction / (1.0 - b1);
        let epsilon = EPSILON * correction;
        let head = &mut self.head;
        self.adam_weight
            .step(&mut head.weight, &self.grad_weight, factor, epsilon);
        self.adam_bias
            .step(&mut head.bias, &self.grad_bias, factor, epsilon);
    }
}

/// Adds `Σ_r deltas[r] ⊗ rows[r]` (each row's `classes` logit gradients times its
/// values) to `grad` (`[classes, inputs]`), in one pass over `grad`, rows in order: a
/// whole block of four as one expression per value (the same sums as four `axpy`s, with
/// a quarter of the loads and stores of `grad`).
fn accumulate_outer(grad: &mut [f32], rows: &[&[f32]], deltas: &[f32], classes: usize) {
    let inputs = grad.len() / classes.max(1);
    for (k, g) in grad.chunks_exact_mut(inputs.max(1)).enumerate() {
        let d = |r: usize| deltas[r * classes + k];
        if let [x0, x1, x2, x3] = rows {
            let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
            let xs = x0.iter().zip(x1.iter()).zip(x2.iter().zip(x3.iter()));
            for (g, ((a, b), (c, e))) in g.iter_mut().zip(xs) {
                *g = (((*g + d0 * a) + d1 * b) + d2 * c) + d3 * e;
            }
        } else {
            for (r, row) in rows.iter().enumerate() {
                axpy(g, d(r), row);
            }
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small generator whose output is the same
/// on every target, for the batches' order.
struct SplitMix64(u64);

impl SplitMix64 {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (> 0), by Lemire's multiply-shift.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Shuffles `items` (Fisher-Yates).
    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform noise in [−0.5, 0.5).
    fn noise(rng: &mut SplitMix64) -> f32 {
        (rng.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    /// `counts[c]` rows of class `c`, `width` values each: `2 + 2·⌊c / width⌋` at value
    /// `c mod width`, 0 elsewhere, plus `spread` times the sum of three uniform draws
    /// (deviation `spread / 2`) per value.
    fn clusters(counts: &[usize], width: usize, spread: f32, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = SplitMix64(seed);
        let (mut values, mut labels) = (Vec::new(), Vec::new());
        for (class, &count) in counts.iter().enumerate() {
            let peak = 2.0 + 2.0 * (class / width) as f32;
            for _ in 0..count {
                values.extend((0..width).map(|i| {
                    let centre = if i == class % width { peak } else { 0.0 };
                    let draws = noise(&mut rng) + noise(&mut rng) + noise(&mut rng);
                    centre + spread * draws
                }));
                labels.push(class);
            }
        }
        (values, labels)
    }

    fn accuracy(head: &LinearHead, rows: &HeadRows) -> f64 {
        let hits = (0..rows.len())
            .filter(|&i| argmax(&head.probabilities(rows.row(i))) == rows.labels[i])
            .count();
        hits as f64 / rows.len() as f64
    }

    fn fit(
        train: &HeadRows,
        valid: &HeadRows,
        weights: &[f32],
        options: &HeadFitOptions,
    ) -> FittedHead {
        fit_linear_head(train, valid, weights, options, |_, _| true).unwrap()
    }

    #[test]
    fn separable_classes_are_learned() {
        let (values, labels) = clusters(&[100, 100, 100, 100], 24, 1.0, 1);
        let (valid_values, valid_labels) = clusters(&[20, 20, 20, 20], 24, 1.0, 2);
        let train = HeadRows::new(&values, 24, &labels).unwrap();
        let valid = HeadRows::new(&valid_values, 24, &valid_labels).unwrap();
        let fitted = fit(&train, &valid, &[1.0; 4], &HeadFitOptions::default());
        let train_accuracy = accuracy(&fitted.head, &train);
        assert!(train_accuracy > 0.95, "train accuracy {train_accuracy}");
        assert!(accuracy(&fitted.head, &valid) > 0.9);
        let record = &fitted.history[fitted.best_epoch - 1];
        assert!(
            fitted
                .history
                .iter()
                .all(|r| r.valid_loss >= record.valid_loss)
        );
        assert!(fitted.history[0].train_loss > record.train_loss);
    }

    #[test]
    fn blocked_gradients_are_those_of_one_row_at_a_time() {
        let (values, labels) = clusters(&[4, 3], 5, 1.0, 11);
        let train = HeadRows::new(&values, 5, &labels).unwrap();
        let (weights, options) = ([1.0, 2.5], HeadFitOptions::default());
        let mut fitter = Fitter::new(5, &weights, &options);
        fitter.head.weight = (0..10).map(|i| (i as f32 - 4.5) / 7.0).collect();
        fitter.head.bias = vec![0.1, -0.2];
        let chunk = [6, 0, 3, 1, 5, 2, 4];
        let (loss, hits) = fitter.gradients(&train, &chunk);
        let total: f32 = chunk.iter().map(|&r| weights[labels[r]]).sum();
        let (mut want_weight, mut want_bias) = (vec![0.0f32; 10], vec![0.0f32; 2]);
        let (mut want_loss, mut want_hits) = (0.0f64, 0);
        for &r in &chunk {
            let (x, y) = (train.row(r), labels[r]);
            let head = &fitter.head;
            let mut z: Vec<f32> = (0..2)
                .map(|k| head.bias[k] + dot(&head.weight[k * 5..(k + 1) * 5], x))
                .collect();
            want_hits += usize::from(argmax(&z) == y);
            let logit = z[y];
            let log_normaliser = softmax_in_place(&mut z);
            let share = weights[y] / total;
            want_loss += f64::from(share) * f64::from(log_normaliser - logit);
            for (k, p) in z.iter().enumerate() {
                let d = share * (p - f32::from(u8::from(k == y)));
                want_bias[k] += d;
                for (i, &xi) in x.iter().enumerate() {
                    want_weight[k * 5 + i] += d * xi;
                }
            }
        }
        assert_eq!((loss, hits), (want_loss, want_hits));
        assert_eq!(fitter.grad_bias, want_bias);
        assert_eq!(fitter.grad_weight, want_weight);
    }

    /// The weights' bits of one small fit, pinned: the arithmetic is the same on every
    /// target (benches/head_fit_wasm.sh), so a change here is a change to the loop's
    /// arithmetic (update the checksum on purpose).
    #[test]
    fn a_small_fit_gives_the_same_bits_as_when_it_was_written() {
        let (values, labels) = clusters(&[13, 9, 11], 17, 2.0, 12);
        let (valid_values, valid_labels) = clusters(&[4, 4, 4], 17, 2.0, 13);
        let train = HeadRows::new(&values, 17, &labels).unwrap();
        let valid = HeadRows::new(&valid_values, 17, &valid_labels).unwrap();
        let options = HeadFitOptions {
            batch_size: 8,
            max_epochs: 30,
            patience: 5,
            l2: 1e-3,
            ..HeadFitOptions::default()
        };
        let weights = balanced_class_weights(&labels, 3, 0.5);
        let fitted = fit(&train, &valid, &weights, &options);
        let bytes: Vec<u8> = fitted
            .head
            .weight
            .iter()
            .chain(&fitted.head.bias)
            .chain(&weights)
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            crate::card::sha256_hex(&bytes),
            "4a5ec8c535774d790de7acfe7c0689bae5f8f1fe4b79247c3c47bfbd09ab53d0"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_weights_and_another_seed_other_ones() {
        let (values, labels) = clusters(&[60, 40, 50], 10, 4.0, 3);
        let (valid_values, valid_labels) = clusters(&[10, 10, 10], 10, 4.0, 4);
        let train = HeadRows::new(&values, 10, &labels).unwrap();
        let valid = HeadRows::new(&valid_values, 10, &valid_labels).unwrap();
        let options = HeadFitOptions {
            batch_size: 16,
            max_epochs: 40,
            seed: 7,
            ..HeadFitOptions::default()
        };
        let weights = balanced_class_weights(&labels, 3, 0.5);
        let first = fit(&train, &valid, &weights, &options);
        let second = fit(&train, &valid, &weights, &options);
        assert_eq!(first, second);
        let other = fit(
            &train,
            &valid,
            &weights,
            &HeadFitOptions { seed: 8, ..options },
        );
        assert_ne!(first.head.weight, other.head.weight);
    }

    #[test]
    fn class_weights_move_the_decision_towards_the_rare_class() {
        // One value per row: class 0 around 2, class 1 around 4 (deviation 0.85, so
        // they overlap); nine times as many rows of class 0. Unweighted, a row at 3.3
        // (nearer class 1's centre) is class 0 by the prior; with balanced weights it is
        // class 1.
        let (values, labels) = clusters(&[900, 100], 1, 1.7, 5);
        let train = HeadRows::new(&values, 1, &labels).unwrap();
        let options = HeadFitOptions {
            learning_rate: 0.05,
            batch_size: 0,
            max_epochs: 400,
            ..HeadFitOptions::default()
        };
        let none = HeadRows::empty(1);
        let plain = fit(&train, &none, &[1.0, 1.0], &options);
        let balanced = balanced_class_weights(&labels, 2, 1.0);
        assert!(
            (balanced[1] / balanced[0] - 9.0).abs() < 1e-4,
            "{balanced:?}"
        );
        let weighted = fit(&train, &none, &balanced, &options);
        let p_plain = plain.head.probabilities(&[3.3])[1];
        let p_weighted = weighted.head.probabilities(&[3.3])[1];
        assert!(p_plain < 0.5 && p_weighted > 0.5, "{p_plain} {p_weighted}");
        assert_eq!(plain.history.len(), 400);
        assert_eq!(plain.best_epoch, 400);
        assert!(plain.history[0].valid_loss.is_nan());
    }

    #[test]
    fn returning_false_from_progress_cancels() {
        let (values, labels) = clusters(&[30, 30], 4, 1.0, 6);
        let train = HeadRows::new(&values, 4, &labels).unwrap();
        let mut calls = Vec::new();
        let result = fit_linear_head(
            &train,
            &train,
            &[1.0, 1.0],
            &HeadFitOptions::default(),
            |epoch, loss| {
                calls.push((epoch, loss));
                epoch < 3
            },
        );
        assert_eq!(result, Err(HeadFitError::Cancelled { epoch: 3 }));
        assert_eq!(calls.len(), 3);
        assert!(
            calls
                .iter()
                .all(|(_, loss)| loss.is_finite() && *loss > 0.0)
        );
    }

    #[test]
    fn bad_rows_weights_and_options_are_refused() {
        let values = [0.0, 1.0, 2.0, f32::NAN];
        let fit_with = |rows: &HeadRows, weights: &[f32], options: &HeadFitOptions| {
            fit_linear_head(rows, &HeadRows::empty(2), weights, options, |_, _| true).unwrap_err()
        };
        let options = HeadFitOptions::default();
        assert!(HeadRows::new(&values, 3, &[0]).is_err());
        let nan = HeadRows::new(&values, 2, &[0, 1]).unwrap();
        assert_eq!(
            fit_with(&nan, &[1.0, 1.0], &options),
            HeadFitError::NotFinite { row: 1 }
        );
        let rows = HeadRows::new(&values[..2], 2, &[2]).unwrap();
        assert!(matches!(
            fit_with(&rows, &[1.0, 1.0], &options),
            HeadFitError::Label { label: 2, .. }
        ));
        let rows = HeadRows::new(&values[..2], 2, &[1]).unwrap();
        assert!(matches!(
            fit_with(&rows, &[1.0, 0.0], &options),
            HeadFitError::ClassWeights(_)
        ));
        let slow = HeadFitOptions {
            learning_rate: 0.0,
            ..options
        };
        assert!(matches!(
            fit_with(&rows, &[1.0, 1.0], &slow),
            HeadFitError::Options(_)
        ));
        assert_eq!(
            fit_with(&HeadRows::empty(2), &[1.0], &HeadFitOptions::default()),
            HeadFitError::NoRows
        );
        assert!(flatten_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
        assert_eq!(
            flatten_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]),
            Ok((vec![1.0, 2.0, 3.0, 4.0], 2))
        );
    }

    /// `count` rows of each of 10 classes, `width` values each, like normalised pooled
    /// embeddings: noise of deviation 1, and class `c` 0.3 higher on every value `i`
    /// with `i mod 10 = c`; classes that overlap, so that early stopping stops early, as
    /// on musicnn's embeddings (the shipped model's run: best epoch 3 of 18).
    fn embedding_like(count: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = SplitMix64(seed);
        let (mut values, mut labels) = (Vec::new(), Vec::new());
        for class in 0..10 {
            for _ in 0..count {
                values.extend((0..width).map(|i| {
                    let centre = if i % 10 == class { 0.3 } else { 0.0 };
                    centre + 2.0 * (noise(&mut rng) + noise(&mut rng) + noise(&mut rng))
                }));
                labels.push(class);
            }
        }
        (values, labels)
    }

    /// The time to fit musicnn's default head (1506 pooled values, 10 classes) on 500
    /// songs, natively, with the musicnn recipe's options and early stopping, and for all
    /// 300 epochs: `cargo test --profile ci --lib head_fit -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement: run it on purpose"]
    fn fitting_time_for_500_songs() {
        let width = 1506;
        for (per_song, what) in [(1, "one row a song"), (11, "11 segments a song")] {
            let (values, labels) = embedding_like(40 * per_song, width, 9);
            let (valid_values, valid_labels) = embedding_like(10 * per_song, width, 10);
            let train = HeadRows::new(&values, width, &labels).unwrap();
            let valid = HeadRows::new(&valid_values, width, &valid_labels).unwrap();
            for options in [
                HeadFitOptions::default(),
                HeadFitOptions {
                    patience: 300,
                    ..HeadFitOptions::default()
                },
            ] {
                let started = std::time::Instant::now();
                let fitted = fit(&train, &valid, &[1.0; 10], &options);
                let seconds = started.elapsed().as_secs_f64();
                let epochs = fitted.history.len();
                println!(
                    "500 songs, {what}: {} training + {} validation rows of {width}, 10 \
                     classes: {seconds:.2} s for {epochs} epochs ({:.1} ms an epoch), best \
                     epoch {} with validation accuracy {:.3}",
                    train.len(),
                    valid.len(),
                    1e3 * seconds / epochs as f64,
                    fitted.best_epoch,
                    fitted.history[fitted.best_epoch - 1].valid_accuracy
                );
            }
        }
    }
}
