//! A music library on disk (native): the files under the folders and files `classify`
//! is given, in a deterministic order ([`walk`]), and a deterministic share of them for
//! one of several machines ([`shard`]). Whether a file is audio is decided by its bytes
//! ([`crate::audio::sniff`]), when it is read.

pub mod shard;
pub mod walk;

pub use shard::{Shard, ShardError};
pub use walk::{Entry, list};
