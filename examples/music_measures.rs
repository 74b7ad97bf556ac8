//! Prints the music check's measures (`features::SegmentSignal`, mean over segments) of
//! audio files and of the generated signals that are not music, at musicnn's settings:
//! how the check's thresholds were set. `music_measures [--loudness LUFS] FILE...`
use std::path::Path;

use anyhow::Result;
use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::{FeatureExtractor, FeatureSettings, MusicEvidence, SegmentSignal};
use genre_classifier::synth;

fn measures(extractor: &mut FeatureExtractor, samples: &[f32]) -> Result<SegmentSignal> {
    let settings = extractor.settings().clone();
    let mut evidence = MusicEvidence::default();
    for segment in extractor.song(samples)? {
        evidence.add_features(&segment.features, &settings);
    }
    Ok(evidence.mean().unwrap_or_default())
}

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut settings = FeatureSettings::musicnn();
    settings.segment_loudness_lufs = Some(-20.0);
    if args.first().is_some_and(|a| a == "--loudness") && args.len() > 1 {
        settings.segment_loudness_lufs = args[1].parse().ok();
        args.drain(..2);
    }
    let rate = settings.sample_rate;
    let mut extractor = FeatureExtractor::new(settings)?;
    println!("variation\tpauses\ttonal\tdepth\tprate\tname");
    let print = |name: &str, s: SegmentSignal| {
        println!(
            "{:.4}\t{:.3}\t{:.3}\t{:.2}\t{:.2}\t{name}",
            s.variation, s.pauses, s.tonal_share, s.envelope_depth, s.pause_rate
        )
    };
    for (name, samples) in synth::not_music(12.0, rate) {
        print(name, measures(&mut extractor, &samples)?);
    }
    for file in &args {
        match load_clip(Path::new(file), rate) {
            Ok(clip) => print(file, measures(&mut extractor, &clip.samples)?),
            Err(e) => eprintln!("{file}: {e}"),
        }
    }
    Ok(())
}
