//! What the fuzz targets share: how each one cuts its input into the arguments of the
//! entry point it exercises, the small models the model targets load, and the seed corpus
//! of each target, written at run time (`GC_FUZZ_SEEDS=<dir> fuzz/target/.../<target>`)
//! from real encoders and the crate's own writers, so no binary is committed.
//!
//! Each target's `init` calls [`init`], which writes the seeds and exits when asked.

pub mod checkpoint;
pub mod models;
pub mod seeds;

use std::path::Path;

/// File-name extensions the audio target hands to the decoder as the format hint; the
/// input's first byte picks one.
pub const EXTENSIONS: [&str; 10] = [
    "wav", "au", "mp3", "flac", "ogg", "aiff", "caf", "mka", "m4a", "bin",
];

/// The audio target's input: `[hint][file bytes…]`. The hint's low bits pick the file
/// name's extension ([`EXTENSIONS`]); its top bit picks the rate the decoded song is
/// resampled to (musicnn's 16 kHz or the tutorial's 22 050 Hz).
pub fn split_audio(data: &[u8]) -> Option<(String, &[u8], u32)> {
    let (&hint, bytes) = data.split_first()?;
    let ext = EXTENSIONS[usize::from(hint & 0x7f) % EXTENSIONS.len()];
    let rate = if hint & 0x80 != 0 { 16_000 } else { 22_050 };
    Some((format!("input.{ext}"), bytes, rate))
}

/// Joins two byte strings as the two-part targets take them: a little-endian `u32`
/// length of the first, the first, then the second.
pub fn join_two(first: &[u8], second: &[u8]) -> Vec<u8> {
    let mut out = (first.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(first);
    out.extend_from_slice(second);
    out
}

/// Splits what [`join_two`] joined; a length past the end takes everything as the first.
pub fn split_two(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<4>()?;
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    Some(rest.split_at(len))
}

/// Called first by every target: with `GC_FUZZ_SEEDS` set, writes the target's seed
/// corpus into that folder and exits; otherwise does nothing.
pub fn init(target: &str) {
    let Some(dir) = std::env::var_os("GC_FUZZ_SEEDS") else {
        return;
    };
    let dir = Path::new(&dir);
    let written = seeds::write(target, dir).unwrap_or_else(|e| {
        eprintln!("{target}: cannot write seeds to {}: {e}", dir.display());
        std::process::exit(1)
    });
    eprintln!("{target}: {written} seeds in {}", dir.display());
    std::process::exit(0);
}
