//! TensorFlow tensor bundles (`.index` SSTable + data file) written as TensorFlow writes
//! them, for the checkpoint target's seeds: a few loose tensors, and the full variable set
//! of a tiny musicnn, which `Musicnn::from_checkpoint` reads.

use genre_classifier::models::MusicnnConfig;

/// Magic number at the end of a table (`kTableMagicNumber`).
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;

/// A base-128 varint.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// TensorFlow's masked crc32c.
fn masked_crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
        .rotate_right(15)
        .wrapping_add(0xa282_ead8)
}

/// A `BundleEntryProto` of a float tensor.
fn entry(shape: &[usize], offset: usize, bytes: &[u8]) -> Vec<u8> {
    let mut dims = Vec::new();
    for &d in shape {
        let mut dim = Vec::new();
        varint(&mut dim, 1 << 3); // size = 1
        varint(&mut dim, d as u64);
        varint(&mut dims, (2 << 3) | 2); // dim = 2
        varint(&mut dims, dim.len() as u64);
        dims.extend_from_slice(&dim);
    }
    let mut out = Vec::new();
    varint(&mut out, 1 << 3); // dtype = 1: DT_FLOAT
    varint(&mut out, 1);
    varint(&mut out, (2 << 3) | 2); // shape
    varint(&mut out, dims.len() as u64);
    out.extend_from_slice(&dims);
    varint(&mut out, 4 << 3); // offset
    varint(&mut out, offset as u64);
    varint(&mut out, 5 << 3); // size
    varint(&mut out, bytes.len() as u64);
    varint(&mut out, (6 << 3) | 5); // crc32c, fixed32
    out.extend_from_slice(&masked_crc(bytes).to_le_bytes());
    out
}

/// A table block: entries with prefix-compressed keys, a restart every other entry.
fn block(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut restarts = Vec::new();
    let mut last: &[u8] = &[];
    for (i, (key, value)) in pairs.iter().enumerate() {
        let shared = if i % 2 == 0 {
            restarts.push(out.len() as u32);
            0
        } else {
            key.iter().zip(last).take_while(|(a, b)| a == b).count()
        };
        varint(&mut out, shared as u64);
        varint(&mut out, (key.len() - shared) as u64);
        varint(&mut out, value.len() as u64);
        out.extend_from_slice(&key[shared..]);
        out.extend_from_slice(value);
        last = key;
    }
    if restarts.is_empty() {
        restarts.push(0);
    }
    for r in &restarts {
        out.extend_from_slice(&r.to_le_bytes());
    }
    out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    out
}

/// Appends a block with its trailer (uncompressed, masked crc); returns its handle.
fn push_block(file: &mut Vec<u8>, contents: &[u8]) -> Vec<u8> {
    let offset = file.len();
    file.extend_from_slice(contents);
    file.push(0);
    let crc = masked_crc(&file[offset..]);
    file.extend_from_slice(&crc.to_le_bytes());
    let mut handle = Vec::new();
    varint(&mut handle, offset as u64);
    varint(&mut handle, contents.len() as u64);
    handle
}

/// An SSTable of sorted `pairs`, three to a data block.
fn table(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut file = Vec::new();
    let mut index = Vec::new();
    for chunk in pairs.chunks(3) {
        let handle = push_block(&mut file, &block(chunk));
        index.push((chunk[chunk.len() - 1].0.clone(), handle));
    }
    let meta = push_block(&mut file, &block(&[]));
    let index_handle = push_block(&mut file, &block(&index));
    let mut footer = meta;
    footer.extend_from_slice(&index_handle);
    footer.resize(40, 0);
    footer.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// A single-shard bundle `(index, data)` of float tensors `(name, shape)`, each filled
/// with small distinct values.
pub fn bundle(tensors: &[(String, Vec<usize>)]) -> (Vec<u8>, Vec<u8>) {
    let mut tensors = tensors.to_vec();
    tensors.sort();
    let mut data = Vec::new();
    // The header under the empty key: num_shards = 1.
    let mut pairs = vec![(Vec::new(), vec![1 << 3, 1])];
    for (name, shape) in &tensors {
        let offset = data.len();
        let count: usize = shape.iter().product();
        let bytes: Vec<u8> = (0..count)
            .flat_map(|i| (0.25 + i as f32 / 64.0).to_le_bytes())
            .collect();
        data.extend_from_slice(&bytes);
        pairs.push((name.as_bytes().to_vec(), entry(shape, offset, &bytes)));
    }
    (table(&pairs), data)
}

/// Every variable `Musicnn::from_checkpoint` reads for `config`, with its TF shape.
pub fn musicnn_variables(config: &MusicnnConfig) -> Vec<(String, Vec<usize>)> {
    type Vars = Vec<(String, Vec<usize>)>;
    fn bn(vars: &mut Vars, name: &str, channels: usize) {
        for var in ["gamma", "beta", "moving_mean", "moving_variance"] {
            vars.push((format!("{name}/{var}"), vec![channels]));
        }
    }
    fn conv(vars: &mut Vars, name: &str, kernel: [usize; 4]) {
        vars.push((format!("{name}/kernel"), kernel.to_vec()));
        vars.push((format!("{name}/bias"), vec![kernel[3]]));
    }
    let mut vars = Vars::new();
    bn(&mut vars, "batch_normalization", 1);
    for (i, width) in config.timbral_widths().into_iter().enumerate() {
        let name = if i == 0 { "conv2d" } else { "conv2d_1" };
        conv(&mut vars, name, [7, width, 1, config.timbral_filters]);
        bn(
            &mut vars,
            &format!("batch_normalization_{}", i + 1),
            config.timbral_filters,
        );
    }
    for (i, length) in [128, 64, 32].into_iter().enumerate() {
        conv(
            &mut vars,
            &format!("conv2d_{}", i + 2),
            [length, 1, 1, config.temporal_filters],
        );
        bn(
            &mut vars,
            &format!("batch_normalization_{}", i + 3),
            config.temporal_filters,
        );
    }
    for i in 0..3 {
        let inputs = if i == 0 {
            config.frontend_channels()
        } else {
            config.midend_filters
        };
        conv(
            &mut vars,
            &format!("conv2d_{}", i + 5),
            [7, inputs, 1, config.midend_filters],
        );
        bn(
            &mut vars,
            &format!("batch_normalization_{}", i + 6),
            config.midend_filters,
        );
    }
    let pooled = config.embedding_size();
    bn(&mut vars, "batch_normalization_9", pooled);
    vars.push(("dense/kernel".into(), vec![pooled, config.backend_units]));
    vars.push(("dense/bias".into(), vec![config.backend_units]));
    bn(&mut vars, "batch_normalization_10", config.backend_units);
    vars.push((
        "dense_1/kernel".into(),
        vec![config.backend_units, config.tags],
    ));
    vars.push(("dense_1/bias".into(), vec![config.tags]));
    vars
}
