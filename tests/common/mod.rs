//! Helpers shared by the integration tests: temporary folders and generated audio files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A fresh, empty temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `<tmp>/gc-<name>-<pid>`.
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("gc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// A path inside the folder.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes interleaved-by-channel `channels` as a 16-bit WAV file at `rate`.
pub fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            writer
                .write_sample((c[i].clamp(-1.0, 1.0) * 32_767.0) as i16)
                .unwrap();
        }
    }
    writer.finalize().unwrap();
}

/// Writes a mono float WAV (exact samples) at `rate`.
pub fn write_float_wav(path: &Path, samples: &[f32], rate: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        writer.write_sample(*s).unwrap();
    }
    writer.finalize().unwrap();
}
