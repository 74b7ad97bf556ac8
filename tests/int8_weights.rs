//! The shipped musicnn model stores its convolution and dense weights as int8 with
//! per-channel scales: they load and classify, and weights whose scales lie are refused
//! with a clear error (even when the card's checksum was updated to match them).

use std::path::Path;

use burn::store::burn_pack::{Bytes, Reader, Writer};
use genre_classifier::card::sha256_hex;
use genre_classifier::inference::{Classifier, ModelError};
use genre_classifier::models::{META_INT8_SCALES, cpu_device};
use serde_json::Value;

fn shipped() -> (String, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/models/musicnn");
    let card = std::fs::read_to_string(dir.join("card.json")).unwrap();
    let weights = std::fs::read(dir.join("model.bpk")).unwrap();
    (card, weights)
}

/// The shipped weights with their scales metadata replaced by `edit(scales)`, and a card
/// whose checksum and size match the new bytes.
fn with_scales(edit: impl FnOnce(&mut Value)) -> (String, Vec<u8>) {
    let (card, weights) = shipped();
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(weights)).unwrap();
    let metadata = reader.metadata().clone();
    let tensors = reader.into_tensors().unwrap();
    let mut scales: Value = serde_json::from_str(&metadata[META_INT8_SCALES]).unwrap();
    edit(&mut scales);
    let mut writer = Writer::new(tensors);
    for (key, value) in &metadata {
        let value = if key == META_INT8_SCALES {
            scales.to_string()
        } else {
            value.clone()
        };
        writer = writer.with_metadata(key, &value);
    }
    let bytes = writer.into_bytes().unwrap().to_vec();
    let mut card: Value = serde_json::from_str(&card).unwrap();
    card["weights"]["bytes"] = bytes.len().into();
    card["weights"]["sha256"] = sha256_hex(&bytes).into();
    (card.to_string(), bytes)
}

fn load(card: &str, weights: &[u8]) -> Result<Classifier, ModelError> {
    Classifier::load(card, weights, &cpu_device())
}

/// Why loading is refused (the test fails if it is not).
fn refusal(card: &str, weights: &[u8]) -> String {
    match load(card, weights) {
        Ok(_) => panic!("the weights were accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_shipped_weights_are_int8_and_load() {
    let (card, weights) = shipped();
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(weights.clone())).unwrap();
    assert_eq!(
        reader
            .metadata()
            .get("genre-classifier.weight-precision")
            .map(String::as_str),
        Some("int8")
    );
    assert!(load(&card, &weights).is_ok());
}

#[test]
fn a_rewritten_file_with_the_same_scales_still_loads() {
    // The control for the tests below: rewriting alone breaks nothing.
    let (card, weights) = with_scales(|_| {});
    load(&card, &weights).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn scales_out_of_range_are_refused() {
    let (card, weights) = with_scales(|s| {
        let first = s.as_object_mut().unwrap().values_mut().next().unwrap();
        first["scales"][0] = 1e12.into();
    });
    let e = refusal(&card, &weights);
    assert!(e.contains("scale out of range"), "{e}");
}

#[test]
fn negative_or_missing_scales_are_refused() {
    let (card, weights) = with_scales(|s| {
        let first = s.as_object_mut().unwrap().values_mut().next().unwrap();
        first["scales"][3] = (-0.5).into();
    });
    let e = refusal(&card, &weights);
    assert!(e.contains("out of range"), "{e}");

    let (card, weights) = with_scales(|s| {
        let map = s.as_object_mut().unwrap();
        let name = map.keys().next().unwrap().clone();
        map.remove(&name);
    });
    let e = refusal(&card, &weights);
    assert!(e.contains("has no scales"), "{e}");

    let (card, weights) = with_scales(|s| *s = Value::String("not scales".into()));
    let e = refusal(&card, &weights);
    assert!(e.contains("without readable scales"), "{e}");
}

#[test]
fn truncated_int8_weights_are_refused() {
    let (card, weights) = shipped();
    let cut = &weights[..weights.len() / 2];
    let mut card: Value = serde_json::from_str(&card).unwrap();
    card["weights"]["bytes"] = cut.len().into();
    card["weights"]["sha256"] = sha256_hex(cut).into();
    let e = refusal(&card.to_string(), cut);
    assert!(e.contains("corrupt or truncated"), "{e}");
}
