//! `train`: learn one of the networks from a GTZAN-style folder and write the model
//! folder the page and `classify` load (weights, card, plots). `--model musicnn` trains a
//! genre head on musicnn's pretrained backbone, downloaded once from PyPI.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use genre_classifier::card::ModelCard;
use genre_classifier::features::{FeatureSettings, PadMode, ShortSongFill};
use genre_classifier::train::{
    self, FitOptions, SplitKind, SplitOptions, TrainOptions, Unlisted, tutorial_defaults,
};

/// Train a genre classifier (musicnn, ann, ann-reg, cnn or rnn) on labelled music.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Data folder: <genre>/<file>, genres/<genre>/*.au, Data/genres_original/<genre>/*.wav,
    /// or a folder with a manifest.csv (../shared/data/gtzan).
    #[arg(long)]
    data: PathBuf,
    /// More data folders with the same genres, trained and validated on alongside --data
    /// and evaluated apart (../shared/data/gtzan-excerpts); repeatable.
    #[arg(long)]
    extra_data: Vec<PathBuf>,
    /// Architecture: musicnn (pretrained backbone + trained head) or one of the tutorial's.
    #[arg(long, default_value = "cnn", value_parser = ["musicnn", "ann", "ann-reg", "cnn", "rnn"])]
    model: String,
    /// musicnn: where the musicnn==0.1.0 wheel is downloaded to (by pip, once).
    #[arg(long, default_value = "target/musicnn")]
    wheel_dir: PathBuf,
    /// musicnn: share of the backbone's tag prior in the final probabilities, 0 to 1.
    #[arg(long, default_value_t = 0.5)]
    tag_prior_weight: f32,
    /// musicnn: hidden layer widths of the genre head, comma-separated (none: logistic
    /// regression).
    #[arg(long, value_delimiter = ',')]
    head_hidden: Vec<usize>,
    /// musicnn: dropout after each hidden layer of the head.
    #[arg(long, default_value_t = 0.0)]
    head_dropout: f64,
    /// musicnn: start the head's hidden layer from musicnn's own back end (its dense 200
    /// and batch norms) and fine-tune it; the head gets that one hidden layer of 200.
    #[arg(long)]
    head_from_backbone: bool,
    /// How a song shorter than one segment is filled up: loop or silence (default: loop
    /// for musicnn, as its training did; silence for the tutorial's networks).
    #[arg(long, value_parser = ["loop", "silence"])]
    short_fill: Option<String>,
    /// Output model folder (weights, card.json, plots).
    #[arg(long)]
    out: PathBuf,
    /// Split: random (over segments, the tutorial's), track (random by track), filtered
    /// (the fault-filtered lists in --split-dir).
    #[arg(long, default_value = "track")]
    split: SplitKind,
    /// Folder of train_filtered.txt, valid_filtered.txt, test_filtered.txt
    /// (default: <data>/splits).
    #[arg(long)]
    split_dir: Option<PathBuf>,
    /// Where tracks missing from the filtered lists go: train, valid or skip.
    #[arg(long, default_value = "train")]
    unlisted: Unlisted,
    /// Fraction held out for validation by the random and track splits.
    #[arg(long, default_value_t = 0.25)]
    valid_fraction: f64,
    /// Adam learning rate (default: the tutorial's for the model).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Batch size (default: the tutorial's for the model).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Most epochs (default: the tutorial's for the model).
    #[arg(long)]
    epochs: Option<usize>,
    /// Stop after this many epochs without a lower validation loss.
    #[arg(long, default_value_t = 15)]
    patience: usize,
    /// Seed for initialisation, shuffling, dropout and the random splits.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train on the segments as they are, without random time and coefficient masks.
    #[arg(long)]
    no_augment: bool,
    /// Random loudness change of each training segment, up to ± this many dB (0: none).
    #[arg(long, default_value_t = 0.0)]
    gain_db: f32,
    /// Mixup strength α, up to 1: blend each batch with a shuffled copy by λ ~ Beta(α, α)
    /// (0: off).
    #[arg(long, default_value_t = 0.0)]
    mixup: f32,
    /// Label smoothing of the training loss (0: none).
    #[arg(long, default_value_t = 0.0)]
    label_smoothing: f32,
    /// Class balance of the loss: each genre's weight is (n / (genres × n_genre))^this;
    /// 1 weighs all genres equally, 0.5 meets the data halfway, 0 is unweighted.
    #[arg(long, default_value_t = 0.5)]
    class_balance: f32,
    /// Also train on a second cut of each training track, shifted by 1.5 s (doubles the
    /// training windows; did not lower the validation loss on ../shared/data/gtzan).
    #[arg(long)]
    shifted_segments: bool,
    /// Feature cache folder.
    #[arg(long, default_value = "target/feature-cache")]
    cache: PathBuf,
    /// Do not read or write the feature cache.
    #[arg(long)]
    no_cache: bool,
    /// Edge padding of segments: constant (librosa 0.10+) or reflect (librosa <= 0.8);
    /// default: constant for MFCCs, reflect for musicnn (as it was trained).
    #[arg(long, value_parser = ["constant", "reflect"])]
    pad_mode: Option<String>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1} %", v * 100.0))
}

fn print_summary(card: &ModelCard) {
    let Some(report) = &card.training else {
        return;
    };
    let v = &report.validation;
    println!(
        "\n{:<10} {:>7} {:>9} {:>9} {:>10}",
        "genre", "tracks", "track acc", "segments", "segment acc"
    );
    for g in &v.per_genre {
        println!(
            "{:<10} {:>7} {:>9} {:>9} {:>10}",
            g.genre,
            g.tracks,
            percent(g.track_accuracy),
            g.segments,
            percent(g.segment_accuracy)
        );
    }
    println!(
        "\n{}: validation track accuracy {} (balanced over genres {}), segment accuracy {}",
        card.architecture.name(),
        percent(Some(v.track_accuracy)),
        percent(Some(v.balanced_track_accuracy)),
        percent(Some(v.segment_accuracy))
    );
    if let Some(e) = &report.excerpts {
        println!(
            "validation excerpts: {} of {} right ({}), balanced over genres {}",
            e.confusion
                .iter()
                .enumerate()
                .map(|(g, row)| row[g])
                .sum::<usize>(),
            e.confusion.iter().flatten().sum::<usize>(),
            percent(Some(e.track_accuracy)),
            percent(Some(e.balanced_track_accuracy))
        );
        let per_genre: Vec<String> = e
            .per_genre
            .iter()
            .filter(|g| g.tracks > 0)
            .map(|g| format!("{} {} ({})", g.genre, percent(g.track_accuracy), g.tracks))
            .collect();
        println!("  per genre: {}", per_genre.join(", "));
    }
    if !report.tag_prior_grid.is_empty() {
        println!("tag prior share: validation tracks / balanced / excerpts");
        for p in &report.tag_prior_grid {
            println!(
                "  {:.1}: {} / {} / {}",
                p.weight,
                percent(Some(p.track_accuracy)),
                percent(Some(p.balanced_track_accuracy)),
                percent(p.excerpt_accuracy)
            );
        }
    }
    println!(
        "kept epoch {} of {}; {} parameters; weights {} bytes; training {:.0} s ({})",
        report.best_epoch,
        report.history.len(),
        card.parameters,
        card.weights.bytes,
        report.seconds,
        report.backend
    );
}

fn run(args: Args) -> Result<()> {
    let (lr, batch, epochs) = tutorial_defaults(&args.model);
    let base = if args.model == "musicnn" {
        FeatureSettings::musicnn()
    } else {
        FeatureSettings::default()
    };
    let features = FeatureSettings {
        pad_mode: match args.pad_mode.as_deref() {
            Some("reflect") => PadMode::Reflect,
            Some(_) => PadMode::Constant,
            None => base.pad_mode,
        },
        short_song_fill: match args.short_fill.as_deref() {
            Some("loop") => ShortSongFill::Loop,
            Some(_) => ShortSongFill::Silence,
            None => base.short_song_fill,
        },
        ..base
    };
    if !(0.0..=1.0).contains(&args.tag_prior_weight) {
        anyhow::bail!(
            "--tag-prior-weight {}: must be between 0 and 1",
            args.tag_prior_weight
        );
    }
    if !(0.0..1.0).contains(&args.head_dropout) {
        anyhow::bail!(
            "--head-dropout {}: must be at least 0 and below 1",
            args.head_dropout
        );
    }
    if !(0.0..=1.0).contains(&args.mixup) {
        anyhow::bail!("--mixup {}: must be between 0 (off) and 1", args.mixup);
    }
    if !(0.0..0.9).contains(&args.label_smoothing) {
        anyhow::bail!(
            "--label-smoothing {}: must be at least 0 and below 0.9",
            args.label_smoothing
        );
    }
    if !(0.0..=40.0).contains(&args.gain_db) {
        anyhow::bail!("--gain-db {}: must be between 0 and 40", args.gain_db);
    }
    if !(args.valid_fraction > 0.0 && args.valid_fraction < 1.0) {
        anyhow::bail!("--valid-fraction must be between 0 and 1");
    }
    let options = TrainOptions {
        data: args.data.clone(),
        architecture: args.model.clone(),
        extra_data: args.extra_data.clone(),
        wheel_dir: args.wheel_dir.clone(),
        tag_prior_weight: args.tag_prior_weight,
        head_hidden: args.head_hidden.clone(),
        head_dropout: args.head_dropout,
        head_from_backbone: args.head_from_backbone,
        out: args.out.clone(),
        split: SplitOptions {
            kind: args.split,
            valid_fraction: args.valid_fraction,
            split_dir: args.split_dir,
            unlisted: args.unlisted,
            seed: args.seed,
        },
        fit: FitOptions {
            learning_rate: args.learning_rate.unwrap_or(lr),
            batch_size: args.batch_size.unwrap_or(batch).max(1),
            max_epochs: args.epochs.unwrap_or(epochs),
            patience: args.patience.max(1),
            seed: args.seed,
            class_weights: Vec::new(),
            augment: !args.no_augment,
            gain_range: 0.0,
            mixup_alpha: args.mixup,
            label_smoothing: args.label_smoothing,
            show_progress: true,
        },
        gain_db: args.gain_db,
        cache: (!args.no_cache).then_some(args.cache),
        class_balance: args.class_balance,
        shifted_segments: args.shifted_segments,
        features,
    };
    let outcome = train::run(&options)
        .with_context(|| format!("training {} on {}", args.model, args.data.display()))?;
    for reason in &outcome.skipped {
        eprintln!("skipped: {reason}");
    }
    if let Some(report) = &outcome.card.training {
        let tracks: usize = report
            .data
            .per_genre
            .iter()
            .map(|g| g.train_tracks + g.valid_tracks)
            .sum();
        println!(
            "features: {tracks} tracks used, {} files read from the feature cache",
            outcome.cached_files
        );
    }
    if !outcome.skipped.is_empty() {
        eprintln!("{} files skipped", outcome.skipped.len());
    }
    print_summary(&outcome.card);
    for file in &outcome.files {
        println!("wrote {}", file.display());
    }
    Ok(())
}
