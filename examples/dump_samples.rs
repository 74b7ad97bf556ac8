//! Writes the exact samples the crate analyses, so that librosa can be fed the same ones.
//!
//! `dump_samples [--mfcc] OUT_DIR SOURCE...` where a SOURCE is an audio file (decoded and
//! resampled to 22 050 Hz as the crate does) or `synth:NAME` (see `synth::FIXTURE_SIGNALS`).
//! Each becomes `OUT_DIR/<n>.f32` (little-endian float32), and with `--mfcc` also
//! `OUT_DIR/<n>.mfcc.f32` (all segments' MFCCs, frame-major); one JSON line per source.
//! Used by tests/fixtures/make_librosa_fixtures.sh and benches/mfcc_vs_librosa.sh.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use genre_classifier::audio::decode::load_clip;
use genre_classifier::features::{FeatureExtractor, FeatureSettings};
use genre_classifier::synth;

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let with_mfcc = args.first().is_some_and(|a| a == "--mfcc");
    if with_mfcc {
        args.remove(0);
    }
    let Some((out_dir, sources)) = args.split_first() else {
        bail!("usage: dump_samples OUT_DIR SOURCE... (a file or synth:NAME)");
    };
    let rate = FeatureSettings::default().sample_rate;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {out_dir}"))?;
    for (i, source) in sources.iter().enumerate() {
        let samples = match source.strip_prefix("synth:") {
            Some(name) => synth::named(name).with_context(|| format!("unknown signal {name}"))?,
            None => load_clip(Path::new(source), rate)?.samples,
        };
        let file: PathBuf = Path::new(out_dir).join(format!("{i}.f32"));
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
        let mut segments = 0;
        if with_mfcc {
            let mut extractor = FeatureExtractor::new(FeatureSettings::default())?;
            let song = extractor.song(&samples)?;
            segments = song.len();
            let bytes: Vec<u8> = song
                .iter()
                .flat_map(|s| s.features.data.iter().flat_map(|v| v.to_le_bytes()))
                .collect();
            std::fs::write(file.with_extension("mfcc.f32"), bytes)?;
        }
        println!(
            "{}",
            serde_json::json!({
                "source": source, "file": file, "samples": samples.len(), "segments": segments,
            })
        );
    }
    Ok(())
}
