//! Hostile bytes against every parser (issue 14): headers that lie about their sizes, and
//! every input the fuzz targets (fuzz/, `fuzz/run.sh`) found to crash, hang or allocate
//! too much, kept here so that the normal test suite guards each fix.
//!
//! A counting allocator records the largest single allocation of the test's thread, so
//! the tests can say "refused before allocating", not only "refused".

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;

use genre_classifier::audio::Clip;
use genre_classifier::audio::decode::{DecodeError, MAX_CHANNELS, decode_bytes};
use genre_classifier::card::{
    CARD_FILE, MAX_CARD_BYTES, MAX_PARAMETERS, MAX_WEIGHTS_BYTES, ModelCard, WEIGHTS_FILE,
    WeightsInfo,
};
use genre_classifier::features::{FeatureExtractor, FeatureSettings};
use genre_classifier::inference::{Classifier, ModelError, load_model_dir};
use genre_classifier::models::{AnnConfig, Architecture, cpu_device};

/// The system allocator, noting the largest allocation each thread makes.
struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

// SAFETY: every call is passed on to `System` unchanged; the thread-local is
// const-initialised and has no destructor, so noting a size never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the largest allocation it made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

const MB: usize = 1 << 20;

/// A 16-bit mono WAV of `frames` samples written by hound, its header then patched to
/// claim `channels` and `rate`.
fn wav_claiming(channels: u16, rate: u32, frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Vec::new();
    let mut writer = hound::WavWriter::new(Cursor::new(&mut bytes), spec).unwrap();
    for i in 0..frames {
        writer.write_sample(((i % 64) as i16 - 32) * 500).unwrap();
    }
    writer.finalize().unwrap();
    assert_eq!(&bytes[12..16], b"fmt ", "hound's plain PCM header");
    bytes[22..24].copy_from_slice(&channels.to_le_bytes());
    bytes[24..28].copy_from_slice(&rate.to_le_bytes());
    bytes
}

/// A Sun AU file (big-endian header, then `data`).
fn au(encoding: u32, rate: u32, channels: u32, data_size: u32, data: &[u8]) -> Vec<u8> {
    let mut out = b".snd".to_vec();
    for word in [24, data_size, encoding, rate, channels] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Asserts that decoding found the file corrupt for a reason that says `what`.
fn assert_corrupt_file(result: Result<impl std::fmt::Debug, DecodeError>, what: &str) {
    match result {
        Err(DecodeError::Corrupt { reason, .. }) => assert!(reason.contains(what), "{reason}"),
        other => panic!("expected a corrupt file ({what}), got {other:?}"),
    }
}

/// Asserts that loading found the weights corrupt for a reason that says `what`.
fn assert_corrupt_weights(result: Result<Classifier, ModelError>, what: &str) {
    match result {
        Err(ModelError::CorruptWeights { reason, .. }) => {
            assert!(reason.contains(what), "{reason}")
        }
        Err(other) => panic!("expected corrupt weights ({what}), got {other}"),
        Ok(_) => panic!("expected corrupt weights ({what}), got a model"),
    }
}

fn rate_error(result: Result<impl std::fmt::Debug, DecodeError>, rate: u32) {
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("sample rate {rate} Hz is not supported")),
        "{err}"
    );
}

#[test]
fn wav_with_an_impossible_sample_rate_is_refused_before_decoding() {
    for rate in [0, 10_000_000] {
        let (result, largest) =
            largest_allocation(|| decode_bytes("a.wav", wav_claiming(1, rate, 4096)));
        rate_error(result, rate);
        assert!(largest < MB, "{largest} bytes allocated");
    }
}

#[test]
fn au_with_an_impossible_sample_rate_is_refused_before_decoding() {
    for rate in [0, 10_000_000] {
        let file = au(3, rate, 1, 8, &[0; 8]);
        rate_error(decode_bytes("a.au", file), rate);
    }
}

#[test]
fn files_claiming_255_channels_are_refused() {
    let (wav, largest) =
        largest_allocation(|| decode_bytes("a.wav", wav_claiming(255, 22_050, 255 * 4)));
    assert!(
        matches!(wav, Err(DecodeError::TooManyChannels { channels: 255, .. })),
        "{wav:?}"
    );
    assert!(largest < MB, "{largest} bytes allocated");
    let au = decode_bytes("a.au", au(3, 22_050, 255, 2 * 255 * 4, &[0; 2 * 255 * 4]));
    match au {
        Err(DecodeError::TooManyChannels { channels: 255, .. }) => {}
        other => panic!("expected too many channels, got {other:?}"),
    }
    const { assert!(MAX_CHANNELS >= 24, "22.2 surround decodes") };
}

#[test]
fn files_claiming_gigabytes_allocate_what_they_hold() {
    // A WAV whose data chunk claims 4 GB, and an AU claiming 2 GB, each holding 1 KB.
    let mut wav = wav_claiming(1, 22_050, 512);
    let data = wav.windows(4).position(|w| w == b"data").unwrap();
    wav[4..8].copy_from_slice(&0xffff_fff8u32.to_le_bytes());
    wav[data + 4..data + 8].copy_from_slice(&0xffff_ff00u32.to_le_bytes());
    let au = au(3, 22_050, 1, 0x7fff_0000, &[1; 1024]);
    for (name, bytes) in [("a.wav", wav), ("a.au", au)] {
        let (result, largest) = largest_allocation(|| decode_bytes(name, bytes));
        let decoded = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.mono.len(), 512, "{name}");
        assert!(largest < MB, "{name}: {largest} bytes allocated");
    }
}

/// The card of a small ann on the default features, with weights to match.
fn small_ann() -> (ModelCard, Vec<u8>) {
    let device = cpu_device();
    let features = FeatureSettings::default();
    let architecture = Architecture::Ann(AnnConfig {
        inputs: features.values_per_segment(),
        hidden: vec![2],
        dropout: 0.0,
        l2: 0.0,
        classes: 2,
    });
    let mut card = ModelCard {
        format: genre_classifier::card::CARD_FORMAT.into(),
        version: genre_classifier::card::CARD_VERSION,
        architecture,
        labels: vec!["blues".into(), "rock".into()],
        normalization: genre_classifier::card::Normalization {
            mean: vec![0.0; features.n_mfcc],
            std: vec![1.0; features.n_mfcc],
        },
        features,
        parameters: 0,
        weights: WeightsInfo::of(WEIGHTS_FILE, &[]),
        calibration: None,
        training: None,
        own_labels: None,
    };
    let network = card.architecture.init(&device);
    let weights = Classifier::export_weights(&network, &card).unwrap();
    card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
    (card, weights)
}

fn load(card: &ModelCard, weights: &[u8]) -> Result<Classifier, ModelError> {
    Classifier::load(
        &serde_json::to_string(card).unwrap(),
        weights,
        &cpu_device(),
    )
}

#[test]
fn a_card_claiming_huge_layers_is_refused_before_allocating() {
    let (mut card, weights) = small_ann();
    assert!(load(&card, &weights).is_ok());
    let Architecture::Ann(ann) = &mut card.architecture else {
        unreachable!()
    };
    ann.hidden = vec![1 << 19, 1 << 19];
    let (result, largest) = largest_allocation(|| load(&card, &weights));
    let err = result.unwrap_err().to_string();
    assert!(err.contains(&MAX_PARAMETERS.to_string()), "{err}");
    assert!(largest < 4 * MB, "{largest} bytes allocated");
}

#[test]
fn a_card_claiming_more_parameters_than_its_weights_hold_is_refused() {
    // The card and weights agree on the checksum, as a hostile server makes them, but a
    // burnpack file without tensors or metadata cannot hold the ann's 3 000 parameters.
    let (mut card, _) = small_ann();
    let weights = burn::store::burn_pack::Writer::new(Vec::new())
        .into_bytes()
        .unwrap()
        .to_vec();
    card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
    assert_corrupt_weights(load(&card, &weights), "parameters");
}

#[test]
fn settings_that_would_cost_gigabytes_or_minutes_are_refused() {
    let base = FeatureSettings::default();
    let cases = [
        FeatureSettings {
            n_fft: 1 << 30,
            segment_samples: 1 << 31,
            ..base.clone()
        },
        FeatureSettings {
            segment_samples: usize::MAX,
            ..base.clone()
        },
        FeatureSettings {
            n_mels: 1 << 20,
            ..base.clone()
        },
        FeatureSettings {
            hop_length: 1,
            ..base.clone()
        },
        FeatureSettings {
            sample_rate: 10_000_000,
            fmax: 5_000_000.0,
            ..base.clone()
        },
        FeatureSettings {
            ref_power: f64::INFINITY,
            ..base.clone()
        },
        // Found by the settings fuzz target (over 2 s in its instrumented build): 15 s
        // segments at 44.1 kHz, hop 290, n_fft 5696, 13 M of FFT work a segment.
        FeatureSettings {
            sample_rate: 44_100,
            fmax: 11_025.0,
            hop_length: 290,
            n_fft: 5696,
            segment_samples: 662_150,
            ..base.clone()
        },
        // Found next: n_fft 8372 (4 · 7 · 13 · 23), whose FFT takes Bluestein's algorithm,
        // within the work budget but several times slower than its size says.
        FeatureSettings {
            hop_length: 204,
            n_fft: 8372,
            n_mels: 492,
            n_mfcc: 92,
            fmin: 5.0,
            ..base.clone()
        },
    ];
    for settings in cases {
        let (result, largest) = largest_allocation(|| FeatureExtractor::new(settings.clone()));
        assert!(result.is_err(), "{settings:?} accepted");
        assert!(largest < MB, "{settings:?}: {largest} bytes allocated");
    }
    // What stays accepted: a 30 s segment with librosa's defaults, and FFT sizes such as
    // 400 (25 ms at 16 kHz) and 1764 (2² · 3² · 7²).
    let long = FeatureSettings {
        segment_samples: 30 * 22_050,
        ..base.clone()
    };
    assert!(FeatureExtractor::new(long).is_ok());
    for n_fft in [400, 1764] {
        let odd_size = FeatureSettings {
            n_fft,
            hop_length: 200,
            ..base.clone()
        };
        assert!(FeatureExtractor::new(odd_size).is_ok(), "n_fft {n_fft}");
    }
}

#[test]
fn weights_stored_in_another_precision_than_their_metadata_says_are_refused() {
    // Found by the model_weights fuzz target: f16 tensors in a file whose metadata says
    // f32 loaded, then panicked in the first matmul ("dtype mismatch").
    use burn::store::{HalfPrecisionAdapter, ModuleAdapter, ModuleSnapshot};
    let (mut card, _) = small_ann();
    let network = card.architecture.init(&cpu_device());
    let adapter: Box<dyn ModuleAdapter> = Box::new(HalfPrecisionAdapter::new());
    let tensors = network.collect(None, Some(adapter), false);
    let weights = burn::store::burn_pack::Writer::new(tensors)
        .with_metadata(genre_classifier::inference::META_WEIGHT_PRECISION, "f32")
        .into_bytes()
        .unwrap()
        .to_vec();
    card.weights = WeightsInfo::of(WEIGHTS_FILE, &weights);
    assert_corrupt_weights(load(&card, &weights), "precision");
}

#[test]
fn an_au_header_pointing_past_the_end_of_the_file_is_refused() {
    // Found by the audio fuzz target: data size "unknown" and a data offset past the end
    // made ausnd subtract with overflow (a panic in debug builds).
    let file = au(3, 22_050, 1, u32::MAX, &[0; 16]);
    let mut lying = file.clone();
    lying[4..8].copy_from_slice(&0xffff_ff00u32.to_be_bytes());
    assert_corrupt_file(decode_bytes("a.au", lying), "past the end");
    assert_eq!(decode_bytes("a.au", file).unwrap().mono.len(), 8);
}

/// A WAVE_FORMAT_EXTENSIBLE file (hound writes one for 24-bit samples): 6 channels named
/// by the mask 0x3F, 64 frames.
fn extensible_wav() -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 6,
        sample_rate: 22_050,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Vec::new();
    let mut writer = hound::WavWriter::new(Cursor::new(&mut bytes), spec).unwrap();
    for i in 0..6 * 64 {
        writer.write_sample((i % 50) * 1000).unwrap();
    }
    writer.finalize().unwrap();
    assert_eq!(
        &bytes[20..22],
        &0xfffeu16.to_le_bytes(),
        "an extensible header"
    );
    assert_eq!(
        &bytes[40..44],
        &0x3fu32.to_le_bytes(),
        "hound's mask for 6 channels"
    );
    bytes
}

#[test]
fn wave_headers_whose_channel_mask_cannot_be_repaired_are_refused() {
    // Found by the audio fuzz target: an extensible header claiming 65 286 channels made
    // symphonia-format-riff shift its channel mask with overflow (a panic with overflow
    // checks). So does a mask with its top bit set that names too few channels.
    let good = extensible_wav();
    assert_eq!(decode_bytes("a.wav", good.clone()).unwrap().mono.len(), 64);
    let mut many = good.clone();
    many[22..24].copy_from_slice(&65_286u16.to_le_bytes());
    assert!(
        matches!(
            decode_bytes("a.wav", many),
            Err(DecodeError::TooManyChannels {
                channels: 65_286,
                ..
            })
        ),
        "65 286 channels"
    );
    // Found next: the same behind two bytes of junk, which symphonia's probe skips.
    let mut behind_junk = vec![0xff, 0xf0];
    behind_junk.extend_from_slice(&good);
    behind_junk[2 + 22..2 + 24].copy_from_slice(&5119u16.to_le_bytes());
    assert!(
        matches!(
            decode_bytes("a.wav", behind_junk),
            Err(DecodeError::TooManyChannels { channels: 5119, .. })
        ),
        "5119 channels behind junk"
    );
    let mut top_bit = good;
    top_bit[40..44].copy_from_slice(&0x8000_0001u32.to_le_bytes());
    assert_corrupt_file(
        decode_bytes("a.wav", top_bit),
        "channel mask 0x80000001 names 2",
    );
}

#[test]
fn log_mel_settings_whose_frames_overrun_their_segment_are_refused() {
    // Found by the settings fuzz target: n_fft 92 with hop 32 validated, but a segment of
    // 8 hops then held only 7 frames, and every segment was refused by the network.
    let settings: FeatureSettings = serde_json::from_str(
        r#"{"kind": "log-mel", "sample_rate": 16000, "segment_samples": 256,
            "min_song_samples": 64, "short_song_fill": "loop", "n_fft": 92,
            "hop_length": 32, "n_mels": 4, "n_mfcc": 4, "fmin": 0.0, "fmax": 8000.0,
            "pad_mode": "reflect", "amin": 2e-10, "ref_power": 1.0, "top_db": null}"#,
    )
    .unwrap();
    let err = settings.validate().unwrap_err().to_string();
    assert!(err.contains("exactly a hop"), "{err}");
    assert!(FeatureSettings::musicnn().validate().is_ok());
}

#[test]
fn cards_and_weights_larger_than_any_model_are_refused_before_reading() {
    let (mut card, weights) = small_ann();
    // A card padded past the card limit (the page's download stops there too).
    let mut padded = serde_json::to_value(&card).unwrap();
    padded["padding"] = serde_json::Value::String(" ".repeat(MAX_CARD_BYTES as usize));
    match Classifier::load(&padded.to_string(), &weights, &cpu_device()) {
        Err(ModelError::TooLarge { what, max, .. }) => {
            assert_eq!((what.as_str(), max), ("model card", MAX_CARD_BYTES))
        }
        other => panic!("expected a too-large card, got {other:?}"),
    }
    // A card that says its weights are larger than any network could need.
    card.weights.bytes = MAX_WEIGHTS_BYTES + 1;
    let err = load(&card, &weights).unwrap_err().to_string();
    assert!(err.contains(&MAX_WEIGHTS_BYTES.to_string()), "{err}");
    // A folder whose weights file is 2 GB (sparse): refused from its size, unread.
    let (card, _) = small_ann();
    let dir = std::env::temp_dir().join(format!("gc-huge-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(CARD_FILE), serde_json::to_string(&card).unwrap()).unwrap();
    std::fs::File::create(dir.join(WEIGHTS_FILE))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let (result, largest) = largest_allocation(|| load_model_dir(&dir, &cpu_device()));
    std::fs::remove_dir_all(&dir).unwrap();
    match result {
        Err(ModelError::TooLarge { what, bytes, max }) => {
            assert!(what.contains(WEIGHTS_FILE), "{what}");
            assert_eq!((bytes, max), (2 << 30, MAX_WEIGHTS_BYTES));
        }
        other => panic!("expected too-large weights, got {:?}", other.err()),
    }
    assert!(largest < 4 * MB, "{largest} bytes allocated");
}

#[test]
fn samples_that_are_not_numbers_are_refused_with_their_time() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut samples = vec![0.1_f32; 44_100 * 3];
        samples[66_150] = bad;
        let err = Clip::from_mono(samples, 44_100, 22_050)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sample 66150 (at 1.50 s) is not a number"),
            "{err}"
        );
    }
}
