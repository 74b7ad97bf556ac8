//! The seed corpus of each target, made from real encoders (hound's WAV writer), the
//! formats' specifications (Sun AU, MP3 and FLAC frames), the crate's own exporters
//! (cards and weights) and the settings the project ships. `fuzz/run.sh` adds cuts of
//! real Ogg files, the shipped cards and the data folder's manifest when they are there.

use std::io::Cursor;
use std::path::Path;

use genre_classifier::features::FeatureSettings;

use crate::checkpoint::{bundle, musicnn_variables};
use crate::models::{tiny_logmel_settings, tiny_mfcc_settings, tiny_models, tiny_musicnn};
use crate::{EXTENSIONS, join_two};

/// The names of the targets, as in Cargo.toml.
pub const TARGETS: [&str; 7] = [
    "audio",
    "model_card",
    "model_weights",
    "model_load",
    "settings",
    "manifest",
    "tf_checkpoint",
];

/// Writes `target`'s seeds into `dir` (created if missing); returns how many.
pub fn write(target: &str, dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let seeds = of(target).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("no target {target}"),
        )
    })?;
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes)?;
    }
    Ok(seeds.len())
}

/// The seeds of `target` as `(name, input)`, or `None` for an unknown target.
pub fn of(target: &str) -> Option<Vec<(String, Vec<u8>)>> {
    Some(match target {
        "audio" => audio(),
        "model_card" => tiny_models()
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("card-{i}"), m.card_json.clone().into_bytes()))
            .collect(),
        "model_weights" => tiny_models()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut input = vec![i as u8];
                input.extend_from_slice(&m.weights);
                (format!("weights-{i}"), input)
            })
            .collect(),
        "model_load" => tiny_models()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let input = join_two(m.card_json.as_bytes(), &m.weights);
                (format!("model-{i}"), input)
            })
            .collect(),
        "settings" => settings(),
        "manifest" => manifest(),
        "tf_checkpoint" => checkpoints(),
        _ => return None,
    })
}

/// The hint byte that names `ext` (see [`crate::split_audio`]).
fn hint(ext: &str) -> u8 {
    EXTENSIONS.iter().position(|e| *e == ext).unwrap_or(0) as u8
}

/// `bytes` behind the hint byte of `ext`.
fn with_hint(ext: &str, bytes: &[u8]) -> Vec<u8> {
    let mut input = vec![hint(ext)];
    input.extend_from_slice(bytes);
    input
}

/// A short chirp in `channels` channels, interleaved, in [-1, 1].
fn chirp(frames: usize, channels: usize) -> Vec<f64> {
    (0..frames * channels)
        .map(|i| {
            let (t, c) = ((i / channels) as f64, (i % channels) as f64);
            0.8 * (t * t * 0.002 + t * 0.3 + c).sin()
        })
        .collect()
}

/// A WAV file written by hound.
fn wav(channels: u16, rate: u32, bits: u16, float: bool, frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut bytes = Vec::new();
    let mut writer =
        hound::WavWriter::new(Cursor::new(&mut bytes), spec).expect("hound takes the spec");
    let full = f64::from((1u32 << (bits - 1)) - 1);
    for x in chirp(frames, usize::from(channels)) {
        let written = if float {
            writer.write_sample(x as f32)
        } else if bits <= 8 {
            writer.write_sample((x * full) as i8)
        } else if bits <= 16 {
            writer.write_sample((x * full) as i16)
        } else {
            writer.write_sample((x * full) as i32)
        };
        written.expect("hound writes to memory");
    }
    writer.finalize().expect("hound writes to memory");
    bytes
}

/// A Sun AU file: 24-byte header (big-endian), an annotation, then `data`.
pub fn au(encoding: u32, rate: u32, channels: u32, data_size: u32, data: &[u8]) -> Vec<u8> {
    let mut out = b".snd".to_vec();
    for word in [32, data_size, encoding, rate, channels] {
        out.extend_from_slice(&u32::to_be_bytes(word));
    }
    out.extend_from_slice(b"seed\0\0\0\0");
    out.extend_from_slice(data);
    out
}

/// Silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono) behind an ID3v2 tag.
fn mp3(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    // ID3v2.3 with one TIT2 (title) frame.
    let title = b"\0seed";
    let mut frame = b"TIT2".to_vec();
    frame.extend_from_slice(&(title.len() as u32).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(title);
    out.extend_from_slice(b"ID3\x03\x00\x00");
    let size = frame.len() as u32;
    out.extend_from_slice(&[
        (size >> 21) as u8 & 0x7f,
        (size >> 14) as u8 & 0x7f,
        (size >> 7) as u8 & 0x7f,
        size as u8 & 0x7f,
    ]);
    out.extend_from_slice(&frame);
    for _ in 0..frames {
        // 144 · 128000 / 44100 = 417 bytes; side information and main data all zero.
        out.extend_from_slice(&[0xff, 0xfb, 0x90, 0xc0]);
        out.extend(std::iter::repeat_n(0, 413));
    }
    out
}

/// Writes bits most significant first.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn put(&mut self, value: u64, width: u32) {
        for i in (0..width).rev() {
            if self.used == 0 {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= bit << (7 - self.used);
            }
            self.used = (self.used + 1) % 8;
        }
    }
}

/// CRC-8 (polynomial 0x07) of a FLAC frame header.
fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |mut crc, &b| {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// CRC-16 (polynomial 0x8005) of a FLAC frame.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |mut crc, &b| {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// A FLAC stream at 44.1 kHz, 16 bits, of `frames` frames of 64 samples: verbatim
/// subframes of a chirp, or constant ones.
fn flac(channels: u8, frames: usize, verbatim: bool) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut out = b"fLaC".to_vec();
    // STREAMINFO, the last metadata block.
    let mut info = Bits::default();
    info.put(BLOCK as u64, 16);
    info.put(BLOCK as u64, 16);
    info.put(0, 24);
    info.put(0, 24);
    info.put(44_100, 20);
    info.put(u64::from(channels - 1), 3);
    info.put(15, 5);
    info.put((frames * BLOCK) as u64, 36);
    info.put(0, 64);
    info.put(0, 64);
    out.extend_from_slice(&[0x80, 0, 0, info.bytes.len() as u8]);
    out.extend_from_slice(&info.bytes);
    let signal = chirp(frames * BLOCK, usize::from(channels));
    for f in 0..frames {
        let mut frame = Bits::default();
        frame.put(0b11_1111_1111_1110, 14); // sync
        frame.put(0, 2); // reserved, fixed block size
        frame.put(0b0110, 4); // block size: 8 bits at the end of the header
        frame.put(0b1001, 4); // 44.1 kHz
        frame.put(u64::from(channels - 1), 4); // independent channels
        frame.put(0b100, 3); // 16 bits per sample
        frame.put(0, 1);
        frame.put(f as u64, 8); // frame number, UTF-8 coded (below 128)
        frame.put((BLOCK - 1) as u64, 8);
        let header_crc = crc8(&frame.bytes);
        frame.put(u64::from(header_crc), 8);
        for c in 0..usize::from(channels) {
            let sample = |i: usize| {
                let x = signal[(f * BLOCK + i) * usize::from(channels) + c];
                ((x * 32_767.0) as i16) as u16 as u64
            };
            frame.put(0, 1);
            if verbatim {
                frame.put(0b00_0001, 6);
                frame.put(0, 1);
                for i in 0..BLOCK {
                    frame.put(sample(i), 16);
                }
            } else {
                frame.put(0, 6);
                frame.put(0, 1);
                frame.put(sample(0), 16);
            }
        }
        let crc = crc16(&frame.bytes);
        out.extend_from_slice(&frame.bytes);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

/// A 16-bit mono WAV whose header is patched to claim `channels` and `rate`.
pub fn lying_wav(channels: u16, rate: u32) -> Vec<u8> {
    let mut bytes = wav(1, 22_050, 16, false, 64);
    bytes[22..24].copy_from_slice(&channels.to_le_bytes());
    bytes[24..28].copy_from_slice(&rate.to_le_bytes());
    bytes
}

fn audio() -> Vec<(String, Vec<u8>)> {
    let mut seeds = vec![
        ("wav-mono16".into(), wav(1, 22_050, 16, false, 256)),
        ("wav-stereo16".into(), wav(2, 44_100, 16, false, 128)),
        ("wav-mono8".into(), wav(1, 8_000, 8, false, 256)),
        ("wav-stereo24".into(), wav(2, 48_000, 24, false, 96)),
        ("wav-mono32f".into(), wav(1, 16_000, 32, true, 128)),
        ("wav-6ch32".into(), wav(6, 11_025, 32, false, 32)),
        ("wav-255ch".into(), lying_wav(255, 22_050)),
        ("wav-rate0".into(), lying_wav(1, 0)),
        ("wav-rate10m".into(), lying_wav(1, 10_000_000)),
    ];
    let seeds_wav = seeds.len();
    for seed in &mut seeds[..seeds_wav] {
        seed.1 = with_hint("wav", &seed.1);
    }
    let pcm16: Vec<u8> = chirp(128, 1)
        .iter()
        .flat_map(|x| ((x * 32_767.0) as i16).to_be_bytes())
        .collect();
    let bytes8: Vec<u8> = pcm16.iter().step_by(2).copied().collect();
    let float: Vec<u8> = chirp(64, 2)
        .iter()
        .flat_map(|&x| (x as f32).to_be_bytes())
        .collect();
    let au_files = [
        ("au-ulaw", au(1, 8_000, 1, bytes8.len() as u32, &bytes8)),
        ("au-pcm8", au(2, 8_000, 1, bytes8.len() as u32, &bytes8)),
        ("au-pcm16", au(3, 22_050, 1, pcm16.len() as u32, &pcm16)),
        ("au-pcm24", au(4, 16_000, 2, 96, &pcm16[..96])),
        ("au-pcm32", au(5, 16_000, 2, 128, &pcm16[..128])),
        ("au-float", au(6, 44_100, 2, float.len() as u32, &float)),
        ("au-double", au(7, 44_100, 1, 128, &pcm16[..128])),
        ("au-alaw", au(27, 8_000, 1, bytes8.len() as u32, &bytes8)),
        ("au-unknown-size", au(3, 22_050, 1, u32::MAX, &pcm16)),
        ("au-huge-size", au(3, 22_050, 1, 0x7fff_0000, &pcm16)),
        ("au-255ch", au(3, 22_050, 255, pcm16.len() as u32, &pcm16)),
        ("au-rate0", au(3, 0, 1, pcm16.len() as u32, &pcm16)),
        (
            "au-rate10m",
            au(3, 10_000_000, 1, pcm16.len() as u32, &pcm16),
        ),
    ];
    for (name, bytes) in au_files {
        seeds.push((name.into(), with_hint("au", &bytes)));
    }
    seeds.push(("mp3-silence".into(), with_hint("mp3", &mp3(4))));
    seeds.push(("flac-verbatim".into(), with_hint("flac", &flac(1, 3, true))));
    seeds.push((
        "flac-constant".into(),
        with_hint("flac", &flac(2, 3, false)),
    ));
    seeds
}

fn settings() -> Vec<(String, Vec<u8>)> {
    let json = |s: &FeatureSettings| serde_json::to_vec_pretty(s).unwrap_or_default();
    let mut old = serde_json::to_value(FeatureSettings::default()).unwrap_or_default();
    if let Some(object) = old.as_object_mut() {
        object.remove("kind");
        object.remove("short_song_fill");
    }
    vec![
        ("default".into(), json(&FeatureSettings::default())),
        ("musicnn".into(), json(&FeatureSettings::musicnn())),
        ("tiny-mfcc".into(), json(&tiny_mfcc_settings())),
        ("tiny-logmel".into(), json(&tiny_logmel_settings())),
        ("old-card".into(), old.to_string().into_bytes()),
    ]
}

fn manifest() -> Vec<(String, Vec<u8>)> {
    let plain = "id,genre,split,file,source_rate_hz,seconds,note\n\
                 blues.00000,blues,valid,blues/blues.00000.ogg,22050,30.01,\n\
                 jazz.00054,jazz,unlisted,jazz/jazz.00054.ogg,22050,30.01,\n\
                 pop.00012,pop,train,pop/pop.00012.ogg,16000,29.98,resampled to 16 kHz\n";
    let quoted = "file,genre,id\n\
                  \"rock/a, b.wav\",rock,\"a, b\"\n\
                  \"metal/\"\"x\"\".au\",metal,x\n";
    vec![
        ("plain".into(), plain.as_bytes().to_vec()),
        ("quoted".into(), quoted.as_bytes().to_vec()),
    ]
}

fn checkpoints() -> Vec<(String, Vec<u8>)> {
    let loose: Vec<(String, Vec<usize>)> = vec![
        ("conv2d/bias".into(), vec![3]),
        ("conv2d/kernel".into(), vec![2, 1, 1, 3]),
        ("dense/kernel".into(), vec![2, 2]),
        ("global_step".into(), vec![]),
    ];
    let (index, data) = bundle(&loose);
    let (m_index, m_data) = bundle(&musicnn_variables(&tiny_musicnn()));
    vec![
        ("loose".into(), join_two(&index, &data)),
        ("musicnn".into(), join_two(&m_index, &m_data)),
    ]
}
