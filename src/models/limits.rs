//! How large a network a card may describe, and the checks and parameter counts each
//! architecture's config builds its own `validate` and `parameters` from. A card is
//! anyone's JSON: these run before anything else reads its sizes.

/// Most parameters a card's network may have: 16 times the largest shipped model (the
/// ann's million), 64 MB of f32.
pub const MAX_PARAMETERS: u64 = 1 << 24;

/// Largest single size in a card's network (a width, a filter count, a kernel), so that
/// no sum or product of a few of them overflows, even in 32-bit wasm.
pub const MAX_DIMENSION: usize = 1 << 20;

/// `value` is a size in `1..=`[`MAX_DIMENSION`]; the error names `what`.
pub(crate) fn positive(what: &str, value: usize) -> Result<(), String> {
    if value == 0 {
        Err(format!("{what} must be positive"))
    } else if value > MAX_DIMENSION {
        Err(format!(
            "{what} is {value}; at most {MAX_DIMENSION} is supported"
        ))
    } else {
        Ok(())
    }
}

/// A dropout rate in `[0, 1)`.
pub(crate) fn dropout(value: f64) -> Result<(), String> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("dropout {value} is not in [0, 1)"))
    }
}

/// An L2 factor: a non-negative number.
pub(crate) fn l2(value: f64) -> Result<(), String> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(format!("l2 {value} is not a non-negative number"))
    }
}

/// Parameters of a dense layer with bias; `None` on overflow.
pub(crate) fn dense(inputs: usize, outputs: usize) -> Option<u64> {
    (inputs as u64)
        .checked_mul(outputs as u64)?
        .checked_add(outputs as u64)
}

/// Adds up parameter counts, `None` on overflow.
pub(crate) fn total(counts: impl IntoIterator<Item = Option<u64>>) -> Option<u64> {
    counts
        .into_iter()
        .try_fold(0u64, |sum, count| sum.checked_add(count?))
}
