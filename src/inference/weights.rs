//! A network's weights as burnpack bytes: reading them for a card (refusing weights that
//! are corrupt, truncated, or made for another model) and writing them after training.

use burn::prelude::*;
use burn::store::burn_pack::{Bytes, Reader, Writer};
use burn::store::{BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};

use super::ModelError;
use crate::card::{MAX_WEIGHTS_BYTES, ModelCard, sha256_hex};
use crate::features::FeatureSettings;
use crate::models::{
    Architecture, Int8Dequantizer, Int8Scales, META_INT8_SCALES, Network, check_int8_scales,
    quantize_int8,
};

/// Burnpack metadata key holding the labels (JSON) the weights were trained for.
pub const META_LABELS: &str = "genre-classifier.labels";
/// Burnpack metadata key holding the feature settings (JSON) the weights were trained on.
pub const META_FEATURES: &str = "genre-classifier.features";
/// Burnpack metadata key holding the architecture (JSON) of the weights.
pub const META_ARCHITECTURE: &str = "genre-classifier.architecture";
/// Burnpack metadata key saying how convolution and dense weights are stored: `"int8"`
/// (a quarter of the f32 download, scales under [`crate::models::META_INT8_SCALES`],
/// dequantised at load), `"f16"` (earlier weights, widened back at load), `"f32"` or
/// absent.
pub const META_WEIGHT_PRECISION: &str = "genre-classifier.weight-precision";

fn read_meta<T: serde::de::DeserializeOwned>(reader: &Reader, key: &str) -> Option<T> {
    reader
        .metadata()
        .get(key)
        .and_then(|v| serde_json::from_str(v).ok())
}

/// The network `card` describes, with the weights in `weights` loaded into it.
pub(super) fn load_network(
    card: &ModelCard,
    weights: &[u8],
    device: &Device,
) -> Result<Network, ModelError> {
    if weights.len() as u64 > MAX_WEIGHTS_BYTES {
        return Err(ModelError::TooLarge {
            what: "weights file".into(),
            bytes: weights.len() as u64,
            max: MAX_WEIGHTS_BYTES,
        });
    }
    let corrupt = |reason: String| ModelError::CorruptWeights {
        bytes: weights.len(),
        reason,
    };
    let bytes = Bytes::from_bytes_vec(weights.to_vec());
    let reader = Reader::from_bytes(bytes.clone()).map_err(|e| corrupt(e.to_string()))?;
    check_metadata(&reader, card)?;
    check_checksum(weights, card)?;
    // Every parameter takes at least one byte (int8): a card that claims more than its
    // weights can hold is refused before its network is allocated.
    let parameters = card.architecture.parameters().unwrap_or(u64::MAX);
    if parameters > weights.len() as u64 {
        return Err(corrupt(format!(
            "the card's {} network has {parameters} parameters, more than the weights hold",
            card.architecture.name()
        )));
    }
    let mut network = card.architecture.init(device);
    let mut store = store_for(&reader, bytes).map_err(corrupt)?;
    network
        .load_from(&mut store)
        .map_err(|e| corrupt(e.to_string()))?;
    if let Some(tensor) = first_non_f32(&network) {
        return Err(corrupt(format!(
            "a tensor of shape {tensor} is stored in another precision than the file's metadata says"
        )));
    }
    Ok(network)
}

/// Refuses weights whose metadata names other labels, features or architecture.
fn check_metadata(reader: &Reader, card: &ModelCard) -> Result<(), ModelError> {
    if let Some(labels) = read_meta::<Vec<String>>(reader, META_LABELS)
        && labels != card.labels
    {
        return Err(ModelError::ForeignWeights(format!(
            "they were trained for the labels [{}], the card lists [{}]",
            labels.join(", "),
            card.labels.join(", ")
        )));
    }
    if let Some(features) = read_meta::<FeatureSettings>(reader, META_FEATURES) {
        let differences = card.features.differences(&features);
        if !differences.is_empty() {
            return Err(ModelError::ForeignWeights(format!(
                "they were trained on other feature settings than the card's: {}",
                differences.join("; ")
            )));
        }
    }
    if let Some(arch) = read_meta::<Architecture>(reader, META_ARCHITECTURE)
        && arch != card.architecture
    {
        return Err(ModelError::ForeignWeights(format!(
            "they are for a {} network, the card describes a {} network of another shape",
            arch.name(),
            card.architecture.name()
        )));
    }
    Ok(())
}

/// Refuses weights whose size or checksum differ from the card's.
fn check_checksum(weights: &[u8], card: &ModelCard) -> Result<(), ModelError> {
    let sha256 = sha256_hex(weights);
    if weights.len() as u64 != card.weights.bytes || sha256 != card.weights.sha256 {
        return Err(ModelError::WeightsMismatch {
            expected_bytes: card.weights.bytes,
            expected_sha256: card.weights.sha256.clone(),
            bytes: weights.len(),
            sha256,
        });
    }
    Ok(())
}

/// A store over `bytes` that widens f16 or dequantises int8 tensors, as the file's
/// metadata says they are stored.
fn store_for(reader: &Reader, bytes: Bytes) -> Result<BurnpackStore, String> {
    let store = BurnpackStore::from_bytes(Some(bytes.clone()));
    match reader
        .metadata()
        .get(META_WEIGHT_PRECISION)
        .map(String::as_str)
    {
        Some("f16") => Ok(store.with_from_adapter(HalfPrecisionAdapter::new())),
        Some("int8") => {
            let scales: Int8Scales = read_meta(reader, META_INT8_SCALES)
                .ok_or("int8 weights without readable scales in their metadata")?;
            let tensors = Reader::from_bytes(bytes)
                .and_then(Reader::into_tensors)
                .map_err(|e| e.to_string())?;
            check_int8_scales(&scales, &tensors)?;
            Ok(store.with_from_adapter(Int8Dequantizer::new(scales)))
        }
        Some("f32") | None => Ok(store),
        Some(other) => Err(format!("unknown weight precision “{other}”")),
    }
}

/// The shape and dtype of the first float parameter of `network` that is not f32, if
/// any. burn keeps a loaded tensor in the dtype it was stored in, and the networks run in
/// f32: a file whose tensors are f16 while its metadata says f32 (or whose adapter skips
/// them) would load, then panic in the first matmul.
fn first_non_f32(network: &Network) -> Option<String> {
    struct Check(Option<String>);
    impl burn::module::ModuleVisitor for Check {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let value = param.val();
            if self.0.is_none() && value.dtype() != burn::tensor::DType::F32 {
                self.0 = Some(format!("{:?} ({:?})", value.dims(), value.dtype()));
            }
        }
    }
    let mut check = Check(None);
    network.visit(&mut check);
    check.0
}

/// The network's weights as burnpack bytes, with labels, features and architecture
/// recorded in the metadata; int8 kernels where the architecture stores them so.
pub(super) fn export_weights(network: &Network, card: &ModelCard) -> Result<Vec<u8>, ModelError> {
    let json =
        |v: Result<String, serde_json::Error>| v.map_err(|e| ModelError::Network(e.to_string()));
    let int8 = card.architecture.stores_int8();
    // Tensors without their random parameter ids, so the same training gives the same
    // file byte for byte.
    let tensors: Vec<_> = network
        .collect(None, None, false)
        .into_iter()
        .map(|mut t| {
            t.param_id = None;
            t
        })
        .collect();
    let (tensors, scales) = if int8 {
        quantize_int8(tensors).map_err(ModelError::Network)?
    } else {
        (tensors, Int8Scales::new())
    };
    let mut writer = Writer::new(tensors);
    if int8 {
        writer = writer.with_metadata(META_INT8_SCALES, &json(serde_json::to_string(&scales))?);
    }
    let bytes = writer
        .with_metadata(META_LABELS, &json(serde_json::to_string(&card.labels))?)
        .with_metadata(META_FEATURES, &json(serde_json::to_string(&card.features))?)
        .with_metadata(
            META_ARCHITECTURE,
            &json(serde_json::to_string(&card.architecture))?,
        )
        .with_metadata(META_WEIGHT_PRECISION, if int8 { "int8" } else { "f32" })
        .into_bytes()
        .map_err(|e| ModelError::Network(e.to_string()))?;
    Ok(bytes.to_vec())
}
