//! A reader for TensorFlow checkpoints in the tensor-bundle format (TF ≥ 1.x `.index` +
//! `.data-00000-of-00001`), enough to load pretrained weights such as musicnn's.
//!
//! Written by hand because no maintained Rust crate reads TF checkpoints without linking
//! TensorFlow itself (the `tensorflow` crate binds libtensorflow). The format is small:
//!
//! - The `.index` file is an SSTable (LevelDB's table format): data blocks of entries with
//!   prefix-compressed keys and a restart array, each followed by a 5-byte trailer
//!   (compression type, masked crc32c); an index block pointing at the data blocks; a
//!   metaindex block (unused); and a 48-byte footer with both block handles and the magic
//!   number. TF writes it uncompressed.
//! - Its keys are tensor names, sorted; each value is a `BundleEntryProto` (dtype, shape,
//!   shard, offset, size, crc32c). The empty key holds the `BundleHeaderProto`.
//! - The data file holds the raw little-endian tensors at those offsets.
//!
//! The protobuf messages are decoded by a few lines of varint code below. Every length
//! and offset read from the files is checked against the input before it is used, so a
//! malformed file gives a [`CheckpointError`] and never a panic or a large allocation.

use std::collections::BTreeMap;

use thiserror::Error;

/// Magic number at the end of a LevelDB / TensorFlow table (`kTableMagicNumber`).
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Size of the table footer: two block handles padded to 40 bytes, then the magic.
const FOOTER_LEN: usize = 48;
/// Each block is followed by its compression type (1 byte) and masked crc32c (4 bytes).
const BLOCK_TRAILER_LEN: usize = 5;
/// `kMaskDelta` of TF's (and LevelDB's) masked crc32c.
const CRC_MASK_DELTA: u32 = 0xa282_ead8;
/// `DataType::DT_FLOAT`.
const DT_FLOAT: i64 = 1;

/// What is wrong with a checkpoint, or with a tensor asked of it.
#[derive(Debug, Error, PartialEq)]
pub enum CheckpointError {
    /// The index is shorter than a table footer.
    #[error("checkpoint index is {len} bytes, shorter than the {FOOTER_LEN}-byte table footer")]
    IndexTooShort {
        /// Length of the index.
        len: usize,
    },
    /// The footer does not end with the table magic number.
    #[error(
        "checkpoint index has magic number {found:#018x}, not a TensorFlow table ({TABLE_MAGIC:#018x})"
    )]
    BadMagic {
        /// The last 8 bytes, little-endian.
        found: u64,
    },
    /// A block of the index is malformed: bad handle, checksum, compression or entries.
    #[error("checkpoint index, {block} at byte {offset}: {reason}")]
    MalformedIndex {
        /// Which block: "footer", "index block" or "data block".
        block: &'static str,
        /// Byte offset of the block in the index file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The bundle header (the entry under the empty key) is missing.
    #[error("checkpoint index has no bundle header (empty key)")]
    MissingHeader,
    /// The bundle header asks for something this reader does not do.
    #[error("checkpoint bundle header: {0}")]
    UnsupportedHeader(String),
    /// A tensor's entry could not be decoded or is inconsistent.
    #[error("checkpoint entry of tensor `{name}`: {reason}")]
    MalformedEntry {
        /// The tensor.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor's bytes lie (partly) beyond the end of the data file.
    #[error(
        "tensor `{name}`: bytes {offset}..{offset}+{size} lie beyond the {data_len}-byte data file"
    )]
    OutOfBounds {
        /// The tensor.
        name: String,
        /// Its offset in the data file.
        offset: u64,
        /// Its size in bytes.
        size: u64,
        /// Length of the data file.
        data_len: usize,
    },
    /// The checkpoint has no tensor of that name.
    #[error("checkpoint has no tensor `{name}`")]
    MissingTensor {
        /// The tensor asked for.
        name: String,
    },
    /// The tensor is not of the element type asked for.
    #[error("tensor `{name}` has dtype {dtype}, not float32")]
    WrongDtype {
        /// The tensor.
        name: String,
        /// Its dtype, as TF names it (`DT_INT64`) or by number.
        dtype: String,
    },
    /// The tensor is not of the shape asked for.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    WrongShape {
        /// The tensor.
        name: String,
        /// The shape asked for.
        expected: Vec<usize>,
        /// The shape in the checkpoint.
        found: Vec<usize>,
    },
    /// The tensor's stored byte size does not match its shape and dtype.
    #[error("tensor `{name}` is stored as {size} bytes, but its shape {shape:?} needs {needed}")]
    SizeMismatch {
        /// The tensor.
        name: String,
        /// Stored size in bytes.
        size: u64,
        /// Its shape.
        shape: Vec<usize>,
        /// Bytes the shape needs.
        needed: u64,
    },
    /// The tensor's bytes do not match their stored checksum.
    #[error(
        "tensor `{name}`: crc32c of its bytes is {computed:#010x}, the index says {stored:#010x}"
    )]
    BadChecksum {
        /// The tensor.
        name: String,
        /// The (unmasked) checksum in the index.
        stored: u32,
        /// The checksum of the bytes in the data file.
        computed: u32,
    },
}

/// One tensor's entry in the bundle (a decoded `BundleEntryProto`).
#[derive(Debug, Clone, PartialEq)]
struct BundleEntry {
    dtype: i64,
    shape: Vec<usize>,
    offset: u64,
    size: u64,
    /// Unmasked crc32c of the tensor bytes.
    crc32c: u32,
}

/// A TensorFlow checkpoint: its tensor entries by name, and the data file they point into.
#[derive(Debug, Clone)]
pub struct TfCheckpoint {
    entries: BTreeMap<String, BundleEntry>,
    data: Vec<u8>,
}

impl TfCheckpoint {
    /// Parses the `.index` file of a single-shard bundle, checking every entry against
    /// `data`, the `.data-00000-of-00001` file (which is copied).
    pub fn parse(index: &[u8], data: &[u8]) -> Result<Self, CheckpointError> {
        Self::parse_owned(index, data.to_vec())
    }

    /// [`TfCheckpoint::parse`], taking the data file by value (no copy).
    pub fn parse_owned(index: &[u8], data: Vec<u8>) -> Result<Self, CheckpointError> {
        let table = read_table(index)?;
        let mut entries = BTreeMap::new();
        let mut header = None;
        for (key, value) in table {
            if key.is_empty() {
                header = Some(value);
                continue;
            }
            let name = String::from_utf8(key).map_err(|e| CheckpointError::MalformedEntry {
                name: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                reason: "the name is not UTF-8".into(),
            })?;
            let entry = decode_entry(&value).map_err(|reason| CheckpointError::MalformedEntry {
                name: name.clone(),
                reason,
            })?;
            let in_bounds = entry
                .offset
                .checked_add(entry.size)
                .is_some_and(|end| end <= data.len() as u64);
            if !in_bounds {
                return Err(CheckpointError::OutOfBounds {
                    name,
                    offset: entry.offset,
                    size: entry.size,
                    data_len: data.len(),
                });
            }
            entries.insert(name, entry);
        }
        check_header(&header.ok_or(CheckpointError::MissingHeader)?)?;
        Ok(Self { entries, data })
    }

    /// The names of the tensors, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The shape of tensor `name`, if there is one.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.entries.get(name).map(|e| e.shape.as_slice())
    }

    /// Whether tensor `name` is float32 (`DT_FLOAT`); `None` if there is no such tensor.
    pub fn is_f32(&self, name: &str) -> Option<bool> {
        self.entries.get(name).map(|e| e.dtype == DT_FLOAT)
    }

    /// The float32 tensor `name` in row-major order, after checking its dtype, that its
    /// shape is `expected_shape`, and its checksum.
    pub fn tensor_f32(
        &self,
        name: &str,
        expected_shape: &[usize],
    ) -> Result<Vec<f32>, CheckpointError> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| CheckpointError::MissingTensor { name: name.into() })?;
        if entry.dtype != DT_FLOAT {
            return Err(CheckpointError::WrongDtype {
                name: name.into(),
                dtype: dtype_name(entry.dtype),
            });
        }
        if entry.shape != expected_shape {
            return Err(CheckpointError::WrongShape {
                name: name.into(),
                expected: expected_shape.to_vec(),
                found: entry.shape.clone(),
            });
        }
        let needed = entry
            .shape
            .iter()
            .try_fold(4u64, |n, &d| n.checked_mul(d as u64));
        if needed != Some(entry.size) {
            return Err(CheckpointError::SizeMismatch {
                name: name.into(),
                size: entry.size,
                shape: entry.shape.clone(),
                needed: needed.unwrap_or(u64::MAX),
            });
        }
        // In bounds: checked when parsing.
        let start = entry.offset as usize;
        let bytes = &self.data[start..start + entry.size as usize];
        let computed = crc32c::crc32c(bytes);
        if computed != entry.crc32c {
            return Err(CheckpointError::BadChecksum {
                name: name.into(),
                stored: entry.crc32c,
                computed,
            });
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

/// TF's name of a `DataType` number, for the common ones.
fn dtype_name(dtype: i64) -> String {
    match dtype {
        1 => "DT_FLOAT".into(),
        2 => "DT_DOUBLE".into(),
        3 => "DT_INT32".into(),
        4 => "DT_UINT8".into(),
        7 => "DT_STRING".into(),
        9 => "DT_INT64".into(),
        10 => "DT_BOOL".into(),
        19 => "DT_HALF".into(),
        n => format!("dtype {n}"),
    }
}

/// Undoes TF's crc masking: `masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8`.
fn unmask_crc(masked: u32) -> u32 {
    masked.wrapping_sub(CRC_MASK_DELTA).rotate_left(15)
}

/// TF's crc masking (the inverse of [`unmask_crc`]).
#[cfg(test)]
fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(CRC_MASK_DELTA)
}

/// Key-value pairs of a table or block, in order.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A cursor over bytes, reading varints and slices, that never reads past the end.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// A base-128 varint of at most 64 bits.
    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(format!("varint truncated at byte {}", self.pos));
            };
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(format!("varint overflows 64 bits at byte {}", self.pos - 1));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("varint longer than 10 bytes at byte {}", self.pos))
    }

    /// A varint that must fit a `u32` (LevelDB's lengths).
    fn varint32(&mut self) -> Result<usize, String> {
        let v = self.varint()?;
        u32::try_from(v)
            .map(|v| v as usize)
            .map_err(|_| format!("length {v} does not fit 32 bits"))
    }

    /// The next `len` bytes.
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "{len} bytes asked for at byte {}, only {} left",
                    self.pos,
                    self.bytes.len().saturating_sub(self.pos)
                )
            })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn fixed32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A LevelDB block handle: where a block lies in the table file.
#[derive(Debug, Clone, Copy)]
struct BlockHandle {
    offset: u64,
    size: u64,
}

impl BlockHandle {
    fn decode(cursor: &mut Cursor) -> Result<Self, String> {
        Ok(Self {
            offset: cursor.varint()?,
            size: cursor.varint()?,
        })
    }
}

/// All key-value pairs of an SSTable, in order.
fn read_table(index: &[u8]) -> Result<Pairs, CheckpointError> {
    let len = index.len();
    if len < FOOTER_LEN {
        return Err(CheckpointError::IndexTooShort { len });
    }
    let footer = &index[len - FOOTER_LEN..];
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&footer[40..]);
    let found = u64::from_le_bytes(magic);
    if found != TABLE_MAGIC {
        return Err(CheckpointError::BadMagic { found });
    }
    let footer_error = |reason: String| CheckpointError::MalformedIndex {
        block: "footer",
        offset: (len - FOOTER_LEN) as u64,
        reason,
    };
    let mut cursor = Cursor::new(&footer[..40]);
    let _metaindex = BlockHandle::decode(&mut cursor).map_err(footer_error)?;
    let index_handle = BlockHandle::decode(&mut cursor).map_err(footer_error)?;

    let index_block = read_block(index, index_handle, "index block")?;
    let mut pairs: Pairs = Vec::new();
    for (_, handle_bytes) in index_block {
        let handle = BlockHandle::decode(&mut Cursor::new(&handle_bytes)).map_err(|reason| {
            CheckpointError::MalformedIndex {
                block: "index block",
                offset: index_handle.offset,
                reason: format!("bad data block handle: {reason}"),
            }
        })?;
        for (key, value) in read_block(index, handle, "data block")? {
            if let Some((last, _)) = pairs.last()
                && *last >= key
            {
                return Err(CheckpointError::MalformedIndex {
                    block: "data block",
                    offset: handle.offset,
                    reason: format!(
                        "keys out of order: `{}` after `{}`",
                        String::from_utf8_lossy(&key),
                        String::from_utf8_lossy(last)
                    ),
                });
            }
            pairs.push((key, value));
        }
    }
    Ok(pairs)
}

/// The entries of the block at `handle`, after checking its trailer (uncompressed, crc).
fn read_block(
    file: &[u8],
    handle: BlockHandle,
    block: &'static str,
) -> Result<Pairs, CheckpointError> {
    let error = |reason: String| CheckpointError::MalformedIndex {
        block,
        offset: handle.offset,
        reason,
    };
    let end = handle
        .offset
        .checked_add(handle.size)
        .and_then(|e| e.checked_add(BLOCK_TRAILER_LEN as u64))
        .filter(|&e| e <= file.len() as u64)
        .ok_or_else(|| {
            error(format!(
                "block of {} bytes (+{BLOCK_TRAILER_LEN} trailer) runs past the end of the {}-byte index",
                handle.size,
                file.len()
            ))
        })?;
    let start = handle.offset as usize;
    let contents_end = end as usize - BLOCK_TRAILER_LEN;
    let contents = &file[start..contents_end];
    let compression = file[contents_end];
    if compression != 0 {
        return Err(error(format!(
            "compression type {compression} (only uncompressed tables are read)"
        )));
    }
    let mut trailer = [0u8; 4];
    trailer.copy_from_slice(&file[contents_end + 1..end as usize]);
    let stored = unmask_crc(u32::from_le_bytes(trailer));
    // The checksum covers the contents and the compression type byte.
    let computed = crc32c::crc32c(&file[start..=contents_end]);
    if stored != computed {
        return Err(error(format!(
            "crc32c is {computed:#010x}, the trailer says {stored:#010x}"
        )));
    }
    decode_block(contents).map_err(error)
}

/// The key-value pairs of one block's contents (keys prefix-compressed against the
/// previous key; a restart array of `u32` offsets and its length at the end).
fn decode_block(contents: &[u8]) -> Result<Pairs, String> {
    if contents.len() < 4 {
        return Err(format!(
            "{} bytes, too short for a restart count",
            contents.len()
        ));
    }
    let mut count = [0u8; 4];
    count.copy_from_slice(&contents[contents.len() - 4..]);
    let restarts = u32::from_le_bytes(count) as usize;
    let entries_end = restarts
        .checked_mul(4)
        .and_then(|r| r.checked_add(4))
        .and_then(|r| contents.len().checked_sub(r))
        .ok_or_else(|| {
            format!(
                "{restarts} restart points do not fit in {} bytes",
                contents.len()
            )
        })?;
    let mut cursor = Cursor::new(&contents[..entries_end]);
    let mut pairs: Pairs = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    while !cursor.is_empty() {
        let shared = cursor.varint32()?;
        let unshared = cursor.varint32()?;
        let value_len = cursor.varint32()?;
        if shared > key.len() {
            return Err(format!(
                "entry shares {shared} bytes with a {}-byte previous key",
                key.len()
            ));
        }
        let suffix = cursor.take(unshared)?;
        let value = cursor.take(value_len)?;
        key.truncate(shared);
        key.extend_from_slice(suffix);
        pairs.push((key.clone(), value.to_vec()));
    }
    Ok(pairs)
}

/// Protobuf wire types.
const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;
const WIRE_FIXED32: u64 = 5;

/// One field of a protobuf message.
enum Field<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
    Fixed64,
}

/// The fields of a protobuf message, in order, as `(number, value)`.
fn proto_fields(message: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut cursor = Cursor::new(message);
    let mut fields = Vec::new();
    while !cursor.is_empty() {
        let tag = cursor.varint()?;
        let (number, wire) = (tag >> 3, tag & 7);
        let field = match wire {
            WIRE_VARINT => Field::Varint(cursor.varint()?),
            WIRE_FIXED64 => {
                cursor.take(8)?;
                Field::Fixed64
            }
            WIRE_LEN => {
                let len = usize::try_from(cursor.varint()?).map_err(|e| e.to_string())?;
                Field::Bytes(cursor.take(len)?)
            }
            WIRE_FIXED32 => Field::Fixed32(cursor.fixed32()?),
            other => return Err(format!("field {number} has unsupported wire type {other}")),
        };
        fields.push((number, field));
    }
    Ok(fields)
}

/// Decodes a `BundleEntryProto`:
/// `dtype = 1; shape = 2; shard_id = 3; offset = 4; size = 5; crc32c = 6 (fixed32); slices = 7`.
fn decode_entry(message: &[u8]) -> Result<BundleEntry, String> {
    let mut entry = BundleEntry {
        dtype: 0,
        shape: Vec::new(),
        offset: 0,
        size: 0,
        crc32c: 0,
    };
    let mut has_crc = false;
    for (number, field) in proto_fields(message)? {
        match (number, field) {
            (1, Field::Varint(v)) => entry.dtype = v as i64,
            (2, Field::Bytes(b)) => entry.shape = decode_shape(b)?,
            (3, Field::Varint(shard)) if shard != 0 => {
                return Err(format!(
                    "it lies in shard {shard}; only single-shard bundles are read"
                ));
            }
            (4, Field::Varint(v)) => entry.offset = v,
            (5, Field::Varint(v)) => entry.size = v,
            (6, Field::Fixed32(v)) => {
                entry.crc32c = unmask_crc(v);
                has_crc = true;
            }
            (7, Field::Bytes(_)) => {
                return Err("it is a partitioned (sliced) variable, which is not supported".into());
            }
            (1..=7, _) => return Err(format!("field {number} has the wrong wire type")),
            _ => {}
        }
    }
    if !has_crc && entry.size > 0 {
        return Err("it has no crc32c".into());
    }
    Ok(entry)
}

/// Decodes a `TensorShapeProto` (`dim = 2 { size = 1; name = 2 }; unknown_rank = 3`).
fn decode_shape(message: &[u8]) -> Result<Vec<usize>, String> {
    let mut shape = Vec::new();
    for (number, field) in proto_fields(message)? {
        match (number, field) {
            (2, Field::Bytes(dim)) => {
                let mut size = 0u64;
                for (n, f) in proto_fields(dim)? {
                    if let (1, Field::Varint(v)) = (n, f) {
                        size = v;
                    }
                }
                // Negative sizes (-1: unknown) arrive as huge two's-complement varints.
                let size = u32::try_from(size)
                    .map_err(|_| format!("dimension {} is {}", shape.len(), size as i64))?;
                shape.push(size as usize);
            }
            (3, Field::Varint(v)) if v != 0 => return Err("its rank is unknown".into()),
            _ => {}
        }
    }
    Ok(shape)
}

/// Checks the `BundleHeaderProto` (`num_shards = 1; endianness = 2; version = 3`): one
/// shard, little-endian.
fn check_header(message: &[u8]) -> Result<(), CheckpointError> {
    let fields = proto_fields(message)
        .map_err(|e| CheckpointError::UnsupportedHeader(format!("undecodable: {e}")))?;
    for (number, field) in fields {
        match (number, field) {
            (1, Field::Varint(shards)) if shards != 1 => {
                return Err(CheckpointError::UnsupportedHeader(format!(
                    "{shards} shards; only single-shard bundles are read"
                )));
            }
            (2, Field::Varint(endianness)) if endianness != 0 => {
                return Err(CheckpointError::UnsupportedHeader(
                    "big-endian tensors are not supported".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Writes tensor bundles the way TensorFlow does, for tests of the reader.
#[cfg(test)]
pub(crate) mod writer {
    use super::*;

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn field_varint(out: &mut Vec<u8>, number: u64, v: u64) {
        varint(out, number << 3);
        varint(out, v);
    }

    fn field_bytes(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
        varint(out, (number << 3) | WIRE_LEN);
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    /// A serialised `BundleEntryProto`.
    pub fn entry(dtype: u64, shape: &[i64], offset: u64, size: u64, crc: u32) -> Vec<u8> {
        let mut shape_proto = Vec::new();
        for &d in shape {
            let mut dim = Vec::new();
            field_varint(&mut dim, 1, d as u64);
            field_bytes(&mut shape_proto, 2, &dim);
        }
        let mut out = Vec::new();
        field_varint(&mut out, 1, dtype);
        field_bytes(&mut out, 2, &shape_proto);
        field_varint(&mut out, 4, offset);
        field_varint(&mut out, 5, size);
        varint(&mut out, (6 << 3) | WIRE_FIXED32);
        out.extend_from_slice(&mask_crc(crc).to_le_bytes());
        out
    }

    /// A serialised `BundleHeaderProto` with `num_shards` and little-endian.
    pub fn header(num_shards: u64) -> Vec<u8> {
        let mut out = Vec::new();
        field_varint(&mut out, 1, num_shards);
        out
    }

    /// A block of `pairs` with a restart point every `restart_every` entries.
    fn block(pairs: &[(Vec<u8>, Vec<u8>)], restart_every: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut restarts = Vec::new();
        let mut last: &[u8] = &[];
        for (i, (key, value)) in pairs.iter().enumerate() {
            let shared = if i % restart_every == 0 {
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
        for r in &restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
        out
    }

    /// Appends a block and its trailer; returns its handle `(offset, size)`.
    fn push_block(file: &mut Vec<u8>, contents: &[u8]) -> (u64, u64) {
        let offset = file.len() as u64;
        file.extend_from_slice(contents);
        file.push(0);
        let crc = crc32c::crc32c(&file[offset as usize..]);
        file.extend_from_slice(&mask_crc(crc).to_le_bytes());
        (offset, contents.len() as u64)
    }

    /// A table of sorted `pairs`, `per_block` entries to a data block.
    pub fn table(pairs: &[(Vec<u8>, Vec<u8>)], per_block: usize) -> Vec<u8> {
        let mut file = Vec::new();
        let mut index = Vec::new();
        for chunk in pairs.chunks(per_block.max(1)) {
            let (offset, size) = push_block(&mut file, &block(chunk, 2));
            let mut handle = Vec::new();
            varint(&mut handle, offset);
            varint(&mut handle, size);
            // The last key of the block is a valid separator.
            index.push((chunk[chunk.len() - 1].0.clone(), handle));
        }
        let meta = push_block(&mut file, &block(&[], 1));
        let index_handle = push_block(&mut file, &block(&index, 1));
        let mut footer = Vec::new();
        for (o, s) in [meta, index_handle] {
            varint(&mut footer, o);
            varint(&mut footer, s);
        }
        footer.resize(40, 0);
        footer.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
        file.extend_from_slice(&footer);
        file
    }

    /// A bundle `(index, data)` of float tensors `(name, shape, values)`, given sorted.
    pub fn bundle(tensors: &[(&str, &[i64], &[f32])]) -> (Vec<u8>, Vec<u8>) {
        let mut data = Vec::new();
        let mut pairs = vec![(Vec::new(), header(1))];
        for (name, shape, values) in tensors {
            let offset = data.len() as u64;
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            data.extend_from_slice(&bytes);
            let e = entry(1, shape, offset, bytes.len() as u64, crc32c::crc32c(&bytes));
            pairs.push((name.as_bytes().to_vec(), e));
        }
        (table(&pairs, 2), data)
    }
}

#[cfg(test)]
mod tests {
    use super::writer::*;
    use super::*;

    fn sample() -> (Vec<u8>, Vec<u8>) {
        bundle(&[
            ("conv2d/bias", &[3], &[1.0, 2.0, 3.0]),
            (
                "conv2d/kernel",
                &[2, 1, 1, 3],
                &[0.5, -0.5, 1.5, -1.5, 2.5, -2.5],
            ),
            ("conv2d_1/bias", &[1], &[7.0]),
            ("dense/kernel", &[2, 2], &[1.0, 0.0, 0.0, 1.0]),
            ("global_step", &[], &[0.0]),
        ])
    }

    #[test]
    #[allow(clippy::manual_rotate)] // LevelDB's definition, spelled as it spells it.
    fn masking_round_trips_and_matches_leveldb() {
        for crc in [0, 1, 0xdead_beef, u32::MAX] {
            assert_eq!(unmask_crc(mask_crc(crc)), crc);
        }
        // LevelDB's definition, literally.
        let crc = 0x1234_5678u32;
        assert_eq!(
            mask_crc(crc),
            ((crc >> 15) | (crc << 17)).wrapping_add(0xa282_ead8)
        );
    }

    #[test]
    fn a_synthetic_bundle_reads_back() {
        let (index, data) = sample();
        let ckpt = TfCheckpoint::parse(&index, &data).unwrap();
        let names: Vec<&str> = ckpt.names().collect();
        assert_eq!(
            names,
            [
                "conv2d/bias",
                "conv2d/kernel",
                "conv2d_1/bias",
                "dense/kernel",
                "global_step"
            ]
        );
        assert_eq!(ckpt.shape("conv2d/kernel"), Some(&[2, 1, 1, 3][..]));
        assert_eq!(
            ckpt.tensor_f32("conv2d/kernel", &[2, 1, 1, 3]).unwrap(),
            [0.5, -0.5, 1.5, -1.5, 2.5, -2.5]
        );
        assert_eq!(ckpt.tensor_f32("conv2d_1/bias", &[1]).unwrap(), [7.0]);
        assert_eq!(ckpt.tensor_f32("global_step", &[]).unwrap(), [0.0]);
    }

    #[test]
    fn tensor_errors_name_the_tensor() {
        let (index, data) = sample();
        let ckpt = TfCheckpoint::parse(&index, &data).unwrap();
        let err = ckpt.tensor_f32("nope", &[1]).unwrap_err();
        assert_eq!(
            err,
            CheckpointError::MissingTensor {
                name: "nope".into()
            }
        );
        let err = ckpt.tensor_f32("conv2d/bias", &[4]).unwrap_err();
        assert!(
            matches!(err, CheckpointError::WrongShape { ref name, .. } if name == "conv2d/bias")
        );
        assert!(err.to_string().contains("conv2d/bias"), "{err}");
    }

    #[test]
    fn a_wrong_dtype_is_refused() {
        let data = 5i64.to_le_bytes().to_vec();
        let pairs = vec![
            (Vec::new(), header(1)),
            (
                b"global_step".to_vec(),
                entry(9, &[], 0, 8, crc32c::crc32c(&data)),
            ),
        ];
        let ckpt = TfCheckpoint::parse(&table(&pairs, 4), &data).unwrap();
        assert_eq!(
            ckpt.tensor_f32("global_step", &[]).unwrap_err(),
            CheckpointError::WrongDtype {
                name: "global_step".into(),
                dtype: "DT_INT64".into()
            }
        );
    }

    #[test]
    fn a_corrupted_tensor_fails_its_checksum() {
        let (index, mut data) = sample();
        data[4] ^= 1; // inside conv2d/bias
        let ckpt = TfCheckpoint::parse(&index, &data).unwrap();
        assert!(matches!(
            ckpt.tensor_f32("conv2d/bias", &[3]).unwrap_err(),
            CheckpointError::BadChecksum { ref name, .. } if name == "conv2d/bias"
        ));
        // The other tensors are still fine.
        assert!(ckpt.tensor_f32("conv2d_1/bias", &[1]).is_ok());
    }

    #[test]
    fn a_truncated_data_file_is_out_of_bounds() {
        let (index, data) = sample();
        let err = TfCheckpoint::parse(&index, &data[..data.len() - 1]).unwrap_err();
        assert!(matches!(err, CheckpointError::OutOfBounds { .. }), "{err}");
        let err = TfCheckpoint::parse(&index, &[]).unwrap_err();
        assert!(matches!(err, CheckpointError::OutOfBounds { .. }), "{err}");
    }

    #[test]
    fn absurd_sizes_and_offsets_are_refused_before_allocating() {
        let pairs = vec![
            (Vec::new(), header(1)),
            (b"huge".to_vec(), entry(1, &[1 << 30], 0, 1 << 42, 0)),
        ];
        let err = TfCheckpoint::parse(&table(&pairs, 4), &[0; 16]).unwrap_err();
        assert!(matches!(err, CheckpointError::OutOfBounds { .. }), "{err}");
        let pairs = vec![
            (Vec::new(), header(1)),
            (b"far".to_vec(), entry(1, &[1], u64::MAX - 1, 4, 0)),
        ];
        let err = TfCheckpoint::parse(&table(&pairs, 4), &[0; 16]).unwrap_err();
        assert!(matches!(err, CheckpointError::OutOfBounds { .. }), "{err}");
        // A size that disagrees with the shape.
        let pairs = vec![
            (Vec::new(), header(1)),
            (
                b"odd".to_vec(),
                entry(1, &[3], 0, 8, crc32c::crc32c(&[0; 8])),
            ),
        ];
        let ckpt = TfCheckpoint::parse(&table(&pairs, 4), &[0; 16]).unwrap();
        assert!(matches!(
            ckpt.tensor_f32("odd", &[3]).unwrap_err(),
            CheckpointError::SizeMismatch { .. }
        ));
        // Negative (unknown) dimensions.
        let pairs = vec![
            (Vec::new(), header(1)),
            (b"neg".to_vec(), entry(1, &[-1], 0, 0, 0)),
        ];
        let err = TfCheckpoint::parse(&table(&pairs, 4), &[]).unwrap_err();
        assert!(
            matches!(err, CheckpointError::MalformedEntry { .. }),
            "{err}"
        );
    }

    #[test]
    fn every_truncation_of_the_index_is_an_error() {
        let (index, data) = sample();
        for len in 0..index.len() {
            assert!(
                TfCheckpoint::parse(&index[..len], &data).is_err(),
                "truncated to {len}"
            );
        }
    }

    #[test]
    fn every_single_bit_flip_of_the_index_is_an_error_or_harmless() {
        // Any flip must be caught (crc, magic, handles) or leave a readable table: never panic.
        let (index, data) = sample();
        for byte in 0..index.len() {
            for bit in 0..8 {
                let mut bad = index.clone();
                bad[byte] ^= 1 << bit;
                if let Ok(ckpt) = TfCheckpoint::parse(&bad, &data) {
                    for name in ckpt.names() {
                        let shape = ckpt.shape(name).unwrap_or(&[]).to_vec();
                        let _ = ckpt.tensor_f32(name, &shape);
                    }
                }
            }
        }
    }

    #[test]
    fn garbage_blocks_with_valid_checksums_are_errors_not_panics() {
        // Hand-made block contents fed to the decoder directly: absurd lengths and
        // restart counts, over-long shared prefixes, truncated varints.
        let cases: [&[u8]; 6] = [
            &[],
            &[0xff, 0xff, 0xff, 0xff],
            &[5, 1, 1, b'a', b'b', 0, 0, 0, 0],
            &[0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0],
            &[0, 2, 0x80, 0, 0, 0, 0],
            &[0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, b'k', 0, 0, 0, 0],
        ];
        for case in cases {
            assert!(decode_block(case).is_err(), "{case:?}");
        }
        // Protobuf: truncated, wrong wire types, huge lengths.
        for message in [
            &[0x0a, 0xff, 0x01][..],
            &[0x08],
            &[0x0b],
            &[0x12, 0x05, 0x01],
        ] {
            assert!(decode_entry(message).is_err(), "{message:?}");
        }
    }

    #[test]
    fn a_bad_magic_number_and_headers_are_named() {
        let (mut index, data) = sample();
        let n = index.len();
        index[n - 1] ^= 0xff;
        assert!(matches!(
            TfCheckpoint::parse(&index, &data).unwrap_err(),
            CheckpointError::BadMagic { .. }
        ));
        let pairs = vec![(b"a".to_vec(), entry(1, &[], 0, 0, 0))];
        assert_eq!(
            TfCheckpoint::parse(&table(&pairs, 4), &[]).unwrap_err(),
            CheckpointError::MissingHeader
        );
        let pairs = vec![(Vec::new(), header(2))];
        assert!(matches!(
            TfCheckpoint::parse(&table(&pairs, 4), &[]).unwrap_err(),
            CheckpointError::UnsupportedHeader(_)
        ));
    }
}
