//! Weights stored as int8 with one scale per output channel, dequantised to f32 at load.
//!
//! musicnn's 782 k parameters are 3.1 MB as f32 and 1.6 MB as f16; as int8 they are
//! 0.8 MB, the biggest part of the page's download. Each convolution and dense weight
//! becomes `round(w / scale)` in −127..=127 with `scale = max |w| / 127` over its output
//! channel (symmetric, per channel: the usual scheme for CNN weights), and the scales go
//! into the weights file's metadata under [`META_INT8_SCALES`]. Biases and batch norms
//! stay f32. At load [`check`] refuses scales that are missing, of the wrong count, or
//! not finite and positive, before [`Int8Dequantizer`] turns the values back into f32
//! for the network, which then runs exactly as with f32 weights. burn's own quantised
//! tensors would keep int8 at run time, which these networks do not want (their matmuls
//! run in f32); that is why this is written here.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{ModuleAdapter, ModuleContext, bridge};
use burn::tensor::{DType, TensorData};
use serde::{Deserialize, Serialize};

/// Metadata key of the per-channel scales ([`Int8Scales`] as JSON).
pub const META_INT8_SCALES: &str = "genre-classifier.int8-scales";

/// The largest scale accepted at load: a weight of 127 · 1e3 is far beyond any trained
/// network's, and bounds what a crafted file can inject.
const MAX_SCALE: f32 = 1e3;

/// One quantised tensor's scales: one per index of its output-channel axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelScales {
    /// The output-channel axis (0 for conv weights, 1 for burn's `[in, out]` dense ones).
    pub axis: usize,
    /// `scale[c]`: the value of one int8 step in channel `c`.
    pub scales: Vec<f32>,
}

/// Scales of every quantised tensor, by its name in the weights file.
pub type Int8Scales = BTreeMap<String, ChannelScales>;

/// The output-channel axis of a tensor to quantise, or `None` to keep it: conv and dense
/// weights (named `…weight`, two or more axes) are quantised.
fn channel_axis(tensor: &PackTensor) -> Option<usize> {
    let rank = tensor.shape.len();
    let is_weight = tensor.name.ends_with("weight") && tensor.dtype == DType::F32;
    match rank {
        2 if is_weight => Some(1),
        r if is_weight && r > 2 => Some(0),
        _ => None,
    }
}

/// Quantises the conv and dense weights among `tensors` to int8; the others pass through.
/// Gives the tensors to write and the scales to record under [`META_INT8_SCALES`].
pub fn quantize(tensors: Vec<PackTensor>) -> Result<(Vec<PackTensor>, Int8Scales), String> {
    let mut scales = Int8Scales::new();
    let mut out = Vec::with_capacity(tensors.len());
    for tensor in tensors {
        let Some(axis) = channel_axis(&tensor) else {
            out.push(tensor);
            continue;
        };
        let (name, param_id) = (tensor.name.clone(), tensor.param_id);
        let shape: Vec<usize> = tensor.shape.to_vec();
        let data = bridge::into_data(tensor).map_err(|e| format!("{name}: {e}"))?;
        let values = data
            .try_into_vec::<f32>()
            .map_err(|e| format!("{name}: {e:?}"))?;
        let layout = Layout::of(&shape, axis);
        let mut max = vec![0.0f32; layout.channels];
        for (i, v) in values.iter().enumerate() {
            let c = layout.channel(i);
            max[c] = max[c].max(v.abs());
        }
        // An all-zero channel keeps scale 1 (its values quantise to 0 either way).
        let channel_scales: Vec<f32> = max
            .iter()
            .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
            .collect();
        let q: Vec<i8> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (v / channel_scales[layout.channel(i)])
                    .round()
                    .clamp(-127.0, 127.0) as i8
            })
            .collect();
        out.push(bridge::from_data(
            TensorData::new(q, shape),
            name.clone(),
            param_id,
        ));
        scales.insert(
            name,
            ChannelScales {
                axis,
                scales: channel_scales,
            },
        );
    }
    Ok((out, scales))
}

/// Checks `scales` against the weights file's tensors before anything is dequantised:
/// every int8 tensor has scales, every scale names an int8 tensor, counts match the
/// channel axis, and each scale is finite, positive and at most [`MAX_SCALE`].
pub fn check(scales: &Int8Scales, tensors: &[PackTensor]) -> Result<(), String> {
    for tensor in tensors.iter().filter(|t| t.dtype == DType::I8) {
        let Some(entry) = scales.get(&tensor.name) else {
            return Err(format!("the int8 tensor {} has no scales", tensor.name));
        };
        let Some(&channels) = tensor.shape.get(entry.axis) else {
            return Err(format!(
                "the scales of {} are for axis {}, the tensor has {} axes",
                tensor.name,
                entry.axis,
                tensor.shape.len()
            ));
        };
        if entry.scales.len() != channels {
            return Err(format!(
                "{} has {channels} channels but {} scales",
                tensor.name,
                entry.scales.len()
            ));
        }
        if let Some(bad) = entry
            .scales
            .iter()
            .find(|s| !(s.is_finite() && **s > 0.0 && **s <= MAX_SCALE))
        {
            return Err(format!(
                "{} has a scale out of range ({bad}; must be finite, above 0 and at most {MAX_SCALE})",
                tensor.name
            ));
        }
    }
    if let Some(name) = scales.keys().find(|name| {
        !tensors
            .iter()
            .any(|t| &t.name == *name && t.dtype == DType::I8)
    }) {
        return Err(format!(
            "scales are given for {name}, which is not an int8 tensor"
        ));
    }
    Ok(())
}

/// Turns the int8 tensors of a weights file back into f32 as the network loads them
/// (give it scales that passed [`check`]).
#[derive(Debug, Clone)]
pub struct Int8Dequantizer {
    scales: Arc<Int8Scales>,
}

impl Int8Dequantizer {
    /// A dequantiser for tensors with these scales.
    pub fn new(scales: Int8Scales) -> Self {
        Self {
            scales: Arc::new(scales),
        }
    }
}

impl ModuleAdapter for Int8Dequantizer {
    fn adapt(&self, tensor: PackTensor, _ctx: ModuleContext<'_>) -> PackTensor {
        if tensor.dtype != DType::I8 {
            return tensor;
        }
        let Some(entry) = self.scales.get(&tensor.name).cloned() else {
            return tensor; // check() refused such files; the load then reports the dtype
        };
        let (name, shape) = (tensor.name.clone(), tensor.shape.clone());
        let layout = Layout::of(&shape, entry.axis);
        bridge::map_data(tensor, name, DType::F32, shape.clone(), move |data| {
            let values = dequantize(data.as_slice::<i8>().unwrap_or_default(), &entry, layout);
            TensorData::new(values, shape.clone())
        })
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(self.clone())
    }
}

/// int8 values → f32, each times its channel's scale.
fn dequantize(values: &[i8], entry: &ChannelScales, layout: Layout) -> Vec<f32> {
    values
        .iter()
        .enumerate()
        .map(|(i, &q)| f32::from(q) * entry.scales[layout.channel(i)])
        .collect()
}

/// Where the channel index sits in a row-major tensor's flat index.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Elements after one step along the channel axis.
    inner: usize,
    /// Size of the channel axis.
    channels: usize,
}

impl Layout {
    fn of(shape: &[usize], axis: usize) -> Self {
        Self {
            inner: shape.iter().skip(axis + 1).product(),
            channels: shape.get(axis).copied().unwrap_or(1).max(1),
        }
    }

    /// The channel of flat index `i`.
    fn channel(&self, i: usize) -> usize {
        (i / self.inner.max(1)) % self.channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, values: Vec<f32>, shape: Vec<usize>) -> PackTensor {
        bridge::from_data(TensorData::new(values, shape), name.to_string(), None)
    }

    fn round_trip(values: Vec<f32>, shape: Vec<usize>) -> (Vec<f32>, Int8Scales) {
        let (q, scales) = quantize(vec![tensor("layer.weight", values, shape)]).unwrap();
        check(&scales, &q).unwrap();
        let entry = scales["layer.weight"].clone();
        let layout = Layout::of(&q[0].shape, entry.axis);
        let data = bridge::to_data(&q[0]).unwrap();
        let back = dequantize(data.as_slice::<i8>().unwrap(), &entry, layout);
        (back, scales)
    }

    #[test]
    fn dense_weights_get_one_scale_per_output_column() {
        // [in 2, out 3]: column 1 is 100× column 0.
        let values = vec![0.5, 50.0, -1.0, -0.25, -25.0, 0.0];
        let (back, scales) = round_trip(values.clone(), vec![2, 3]);
        assert_eq!(scales["layer.weight"].axis, 1);
        assert_eq!(scales["layer.weight"].scales.len(), 3);
        // Within half a step of its column's scale (column maxima 0.5, 50, 1).
        let column_max = [0.5f32, 50.0, 1.0];
        for (i, (b, v)) in back.iter().zip(&values).enumerate() {
            let half_step = column_max[i % 3] / 127.0 / 2.0;
            assert!((b - v).abs() <= half_step * 1.001, "{b} vs {v}");
        }
    }

    #[test]
    fn conv_weights_get_one_scale_per_filter() {
        let values: Vec<f32> = (0..24).map(|i| (i as f32 - 11.0) * 0.01).collect();
        let (back, scales) = round_trip(values.clone(), vec![3, 1, 2, 4]);
        assert_eq!(scales["layer.weight"].axis, 0);
        assert_eq!(scales["layer.weight"].scales.len(), 3);
        let worst = back
            .iter()
            .zip(&values)
            .map(|(b, v)| (b - v).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 0.12 / 127.0, "worst error {worst}");
    }

    #[test]
    fn biases_and_vectors_stay_f32() {
        let (q, scales) = quantize(vec![tensor("layer.bias", vec![1.0, 2.0], vec![2])]).unwrap();
        assert!(scales.is_empty());
        assert_eq!(q[0].dtype, DType::F32);
    }

    #[test]
    fn scales_that_lie_are_refused_naming_the_tensor() {
        let (q, scales) = quantize(vec![tensor("a.weight", vec![1.0; 6], vec![2, 3])]).unwrap();
        let mut bad = scales.clone();
        bad.get_mut("a.weight").unwrap().scales[0] = f32::NAN;
        assert!(check(&bad, &q).unwrap_err().contains("a.weight"));
        let mut bad = scales.clone();
        bad.get_mut("a.weight").unwrap().scales[1] = 1e9;
        assert!(check(&bad, &q).unwrap_err().contains("out of range"));
        let mut bad = scales.clone();
        bad.get_mut("a.weight").unwrap().scales.pop();
        assert!(check(&bad, &q).unwrap_err().contains("2 scales"));
        let mut bad = scales.clone();
        bad.get_mut("a.weight").unwrap().axis = 5;
        assert!(check(&bad, &q).unwrap_err().contains("axis 5"));
        assert!(
            check(&Int8Scales::new(), &q)
                .unwrap_err()
                .contains("no scales")
        );
        let mut extra = scales;
        extra.insert(
            "ghost".into(),
            ChannelScales {
                axis: 0,
                scales: vec![1.0],
            },
        );
        assert!(check(&extra, &q).unwrap_err().contains("ghost"));
    }
}
