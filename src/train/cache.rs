//! The on-disk feature cache: MFCC segments per audio file, keyed by the file (path, size,
//! modification time) and the feature settings, so a second training run skips decoding.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::atomic_file::write_atomically;
use crate::card::sha256_hex;
use crate::features::{FeatureFrames, FeatureSettings, SegmentFeatures, SegmentSpan};

const MAGIC: &[u8; 4] = b"GCF1";

/// A folder of cached segment features.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
    settings_json: String,
}

impl FeatureCache {
    /// A cache in `dir` for features made with `settings`.
    pub fn new(dir: &Path, settings: &FeatureSettings) -> Self {
        Self {
            dir: dir.to_path_buf(),
            settings_json: serde_json::to_string(settings).unwrap_or_default(),
        }
    }

    /// The cache entry's file for `variant` of `audio`, or `None` if the file cannot be
    /// examined.
    fn entry(&self, audio: &Path, variant: &str) -> Option<PathBuf> {
        let meta = std::fs::metadata(audio).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        let canonical = std::fs::canonicalize(audio).ok()?;
        let key = format!(
            "{}\n{}\n{}\n{}\n{variant}",
            canonical.display(),
            meta.len(),
            modified,
            self.settings_json
        );
        Some(
            self.dir
                .join(format!("{}.gcf", &sha256_hex(key.as_bytes())[..32])),
        )
    }

    /// The cached segments (`variant`: which cut of the song) of `audio`, if present and
    /// intact.
    pub fn load(&self, audio: &Path, variant: &str) -> Option<Vec<SegmentFeatures>> {
        let bytes = std::fs::read(self.entry(audio, variant)?).ok()?;
        decode(&bytes)
    }

    /// Stores the segments (`variant`: which cut of the song) of `audio` (atomically).
    pub fn store(
        &self,
        audio: &Path,
        variant: &str,
        segments: &[SegmentFeatures],
    ) -> std::io::Result<()> {
        let Some(entry) = self.entry(audio, variant) else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.dir)?;
        write_atomically(&entry, |w| w.write_all(&encode(segments)))
    }
}

fn encode(segments: &[SegmentFeatures]) -> Vec<u8> {
    let (frames, coefficients) = segments
        .first()
        .map_or((0, 0), |s| (s.features.frames, s.features.width));
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    for v in [segments.len(), frames, coefficients] {
        out.extend_from_slice(&(v as u64).to_le_bytes());
    }
    for s in segments {
        out.extend_from_slice(&(s.span.start as u64).to_le_bytes());
        out.extend_from_slice(&(s.span.audio_samples as u64).to_le_bytes());
        for x in &s.features.data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

fn decode(bytes: &[u8]) -> Option<Vec<SegmentFeatures>> {
    let mut rest = bytes.strip_prefix(MAGIC)?;
    let next_u64 = |rest: &mut &[u8]| -> Option<usize> {
        let (head, tail) = rest.split_at_checked(8)?;
        *rest = tail;
        usize::try_from(u64::from_le_bytes(head.try_into().ok()?)).ok()
    };
    let count = next_u64(&mut rest)?;
    let frames = next_u64(&mut rest)?;
    let coefficients = next_u64(&mut rest)?;
    let values = frames.checked_mul(coefficients)?;
    let expected = count.checked_mul(16 + values * 4)?;
    if rest.len() != expected {
        return None;
    }
    let mut segments = Vec::with_capacity(count);
    for _ in 0..count {
        let start = next_u64(&mut rest)?;
        let audio_samples = next_u64(&mut rest)?;
        let (data, tail) = rest.split_at_checked(values * 4)?;
        rest = tail;
        segments.push(SegmentFeatures {
            span: SegmentSpan {
                start,
                audio_samples,
            },
            features: FeatureFrames {
                frames,
                width: coefficients,
                data: data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            },
        });
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_survive_a_round_trip_and_damage_is_a_miss() {
        let segment = SegmentFeatures {
            span: SegmentSpan {
                start: 66150,
                audio_samples: 1000,
            },
            features: FeatureFrames {
                frames: 2,
                width: 3,
                data: vec![1.0, -2.5, 3.25, 0.0, f32::MIN_POSITIVE, 7.0],
            },
        };
        let bytes = encode(&[segment.clone(), segment.clone()]);
        assert_eq!(decode(&bytes), Some(vec![segment.clone(), segment]));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode(b"GCF2"), None);
    }
}
