//! Why a model could not be loaded or run.

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The card is not JSON, not a model card, or malformed.
    #[error("model card is not valid: {0}")]
    Card(String),
    /// The card's parts contradict each other.
    #[error("model card is inconsistent: {0}")]
    Inconsistent(String),
    /// Per-segment data passed to the classifier do not fit together.
    #[error("segment data do not fit together: {0}")]
    SegmentData(String),
    /// The weights bytes are not a readable burnpack file.
    #[error("weights file is corrupt or truncated ({bytes} bytes): {reason}")]
    CorruptWeights {
        /// Size of what was given.
        bytes: usize,
        /// What the reader said.
        reason: String,
    },
    /// The weights were made for another model (labels, features or architecture).
    #[error("weights file is for another model: {0}")]
    ForeignWeights(String),
    /// A card or weights file larger than any model could be; refused before parsing.
    #[error("the {what} is {bytes} bytes; at most {max} are supported")]
    TooLarge {
        /// Which file (with its path, when read from disk).
        what: String,
        /// Its size.
        bytes: u64,
        /// The limit ([`crate::card::MAX_CARD_BYTES`] or [`crate::card::MAX_WEIGHTS_BYTES`]).
        max: u64,
    },
    /// The weights' checksum or size differ from what the card records.
    #[error(
        "weights file does not match its card (expected {expected_bytes} bytes, sha256 {expected_sha256}; got {bytes} bytes, sha256 {sha256}): it is corrupt or from another training run"
    )]
    WeightsMismatch {
        /// Size recorded in the card.
        expected_bytes: u64,
        /// Checksum recorded in the card.
        expected_sha256: String,
        /// Size given.
        bytes: usize,
        /// Checksum of what was given.
        sha256: String,
    },
    /// The card's feature settings differ from the extractor's.
    #[error("the model was trained on other feature settings: {}", .0.join("; "))]
    FeatureMismatch(Vec<String>),
    /// Segments do not have the shape the network takes.
    #[error("segments of {frames}x{coefficients} do not fit the network")]
    SegmentShape {
        /// Frames per segment given.
        frames: usize,
        /// Coefficients per frame given.
        coefficients: usize,
    },
    /// There was nothing to classify.
    #[error("no segments to classify")]
    NoSegments,
    /// The network failed to run or to export.
    #[error("network failed: {0}")]
    Network(String),
}
