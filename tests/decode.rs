//! Decoding real files and bad input natively: every failure names the file and problem.

mod common;

use common::{TempDir, write_float_wav, write_wav};
use genre_classifier::audio::decode::{DecodeError, decode_file, load_clip};
use genre_classifier::synth;

#[test]
fn a_float_wav_at_the_feature_rate_decodes_bit_exactly() {
    let dir = TempDir::new("exact");
    let tone = synth::tone(440.0, 1.5, 22_050, 0.5);
    write_float_wav(&dir.join("t.wav"), &tone, 22_050);
    let clip = load_clip(&dir.join("t.wav"), 22_050).unwrap();
    assert_eq!(clip.samples, tone);
}

#[test]
fn eight_channels_at_192_khz_become_mono_at_22050() {
    let dir = TempDir::new("8ch");
    let tone = synth::tone(440.0, 2.0, 192_000, 0.5);
    let silent = vec![0.0; tone.len()];
    let mut channels = vec![silent; 8];
    channels[0] = tone.clone();
    channels[7] = tone;
    write_wav(&dir.join("x.wav"), &channels, 192_000);
    let decoded = decode_file(&dir.join("x.wav")).unwrap();
    assert_eq!((decoded.channels, decoded.sample_rate), (8, 192_000));
    let clip = load_clip(&dir.join("x.wav"), 22_050).unwrap();
    assert_eq!(clip.samples.len(), 44_100);
    // Two of eight channels carry a 0.5 tone: the mono peak is about 0.125.
    let peak = clip.samples[1000..40_000]
        .iter()
        .fold(0.0f32, |m, s| m.max(s.abs()));
    assert!((peak - 0.125).abs() < 0.005, "peak {peak}");
}

#[test]
fn sun_au_files_decode() {
    let dir = TempDir::new("au");
    let path = dir.join("clip.au");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let info = ausnd::AuWriteInfo {
        channels: 1,
        sample_rate: 22_050,
        sample_format: ausnd::SampleFormat::I16,
    };
    let mut writer = ausnd::AuWriter::new(&mut file, &info).unwrap();
    let tone: Vec<i16> = synth::tone(440.0, 1.0, 22_050, 0.5)
        .iter()
        .map(|s| (s * 32_767.0) as i16)
        .collect();
    writer.write_samples_i16(&tone).unwrap();
    writer.finalize().unwrap();
    drop(file);
    let decoded = decode_file(&path).unwrap();
    assert_eq!((decoded.sample_rate, decoded.mono.len()), (22_050, 22_050));
    assert!((decoded.mono[100] - f32::from(tone[100]) / 32_768.0).abs() < 1e-6);
}

#[test]
fn text_is_not_audio() {
    let dir = TempDir::new("text");
    std::fs::write(dir.join("notes.wav"), "this is not audio, just text").unwrap();
    let err = decode_file(&dir.join("notes.wav")).unwrap_err();
    assert!(matches!(err, DecodeError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.wav"), "{err}");
}

#[test]
fn a_truncated_file_keeps_what_is_there() {
    let dir = TempDir::new("trunc");
    let path = dir.join("cut.wav");
    write_wav(&path, &[synth::tone(440.0, 2.0, 22_050, 0.5)], 22_050);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let decoded = decode_file(&path).unwrap();
    assert!(
        decoded.mono.len() > 20_000 && decoded.mono.len() < 23_000,
        "{}",
        decoded.mono.len()
    );
}

#[test]
fn empty_and_missing_files_are_named() {
    let dir = TempDir::new("empty");
    std::fs::write(dir.join("empty.ogg"), b"").unwrap();
    let err = decode_file(&dir.join("empty.ogg")).unwrap_err();
    assert!(err.to_string().contains("empty.ogg"), "{err}");
    let err = decode_file(&dir.join("nope.mp3")).unwrap_err();
    assert!(
        matches!(err, DecodeError::Io { .. }) && err.to_string().contains("nope.mp3"),
        "{err}"
    );
}

#[test]
fn a_gtzan_clip_decodes_to_30_seconds_at_22050() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/gtzan/blues/blues.00000.ogg");
    let decoded = decode_file(&path).unwrap();
    assert_eq!((decoded.sample_rate, decoded.channels), (22_050, 1));
    assert!((decoded.mono.len() as f64 / 22_050.0 - 30.0).abs() < 0.05);
}
