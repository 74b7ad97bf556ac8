//! `--shard K/N`: a deterministic share of a library, so that N jobs on N machines
//! classify it with no coordination but a shared file system.
//!
//! A file's share is a hash of its path (as written in the output) modulo N: it does not
//! depend on the other files, so files added between the runs of two shares still land
//! in exactly one share, and the concatenated outputs of shares 0..N hold every file once.

use std::str::FromStr;

/// Share `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 0.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

/// Why a `K/N` text is not a share.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    /// Not two whole numbers separated by `/`.
    #[error("'{0}' is not K/N (two whole numbers, e.g. 0/4)")]
    Syntax(String),
    /// `N` is 0 or `K` is not below it.
    #[error("share {index} of {count} does not exist: K must be 0 to N-1 and N at least 1")]
    OutOfRange {
        /// K.
        index: u64,
        /// N.
        count: u64,
    },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (k, n) = text.split_once('/').ok_or_else(syntax)?;
        let index: u64 = k.trim().parse().map_err(|_| syntax())?;
        let count: u64 = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 || index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    /// Whether the file written as `key` belongs to this share.
    pub fn contains(&self, key: &str) -> bool {
        fnv1a(key.as_bytes()) % self.count == self.index
    }
}

/// The 64-bit FNV-1a hash: fixed by its definition, so every build and machine agrees.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count)
            .map(|i| format!("music/artist {}/track {i:03}.mp3", i % 7))
            .collect()
    }

    #[test]
    fn every_file_is_in_exactly_one_share() {
        let files = names(500);
        for count in 1..=7 {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for file in &files {
                let holders = shards.iter().filter(|s| s.contains(file)).count();
                assert_eq!(holders, 1, "{file} in {holders} of {count} shares");
            }
            // Shares are roughly even: none holds under half its fair part.
            for shard in &shards {
                let held = files.iter().filter(|f| shard.contains(f)).count();
                assert!(held as u64 * count * 2 >= 500, "{shard:?} holds {held}");
            }
        }
    }

    #[test]
    fn files_added_later_do_not_move_the_others() {
        let before = names(100);
        let after = names(160);
        for count in 1..=7 {
            for index in 0..count {
                let shard = Shard { index, count };
                let kept: Vec<&String> = before.iter().filter(|f| shard.contains(f)).collect();
                let now: Vec<&String> = after[..100].iter().filter(|f| shard.contains(f)).collect();
                assert_eq!(kept, now);
            }
        }
    }

    #[test]
    fn k_of_n_is_parsed_and_checked() {
        assert_eq!("2/5".parse(), Ok(Shard { index: 2, count: 5 }));
        assert_eq!("0/1".parse(), Ok(Shard { index: 0, count: 1 }));
        assert!(matches!(
            "5/5".parse::<Shard>(),
            Err(ShardError::OutOfRange { .. })
        ));
        assert!(matches!(
            "0/0".parse::<Shard>(),
            Err(ShardError::OutOfRange { .. })
        ));
        for bad in ["", "3", "a/4", "1/b", "-1/4", "1/2/3"] {
            assert!(
                matches!(bad.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
    }
}
