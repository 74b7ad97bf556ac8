//! Getting musicnn's `MSD_musicnn` checkpoint (native only): the PyPI wheel
//! `musicnn==0.1.0` (ISC license) carries it, so pip fetches it and the checkpoint is read
//! straight out of the zip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

use super::tf_checkpoint::{CheckpointError, TfCheckpoint};
use crate::card::sha256_hex;

/// File name of the wheel pip downloads.
pub const WHEEL_FILE: &str = "musicnn-0.1.0-py3-none-any.whl";
/// The wheel's member holding the checkpoint's index.
pub const INDEX_MEMBER: &str = "musicnn/MSD_musicnn/.index";
/// The wheel's member holding the checkpoint's tensors.
pub const DATA_MEMBER: &str = "musicnn/MSD_musicnn/.data-00000-of-00001";

/// Largest member read out of the wheel: the checkpoint's data file is 9.5 MB (weights and
/// Adam slots); anything far larger is not musicnn's and is refused before inflating it.
const MAX_MEMBER_BYTES: u64 = 256 << 20;

/// Why the wheel could not be fetched or read.
#[derive(Debug, Error)]
pub enum WheelError {
    /// The cache folder could not be made, or the wheel read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// pip could not be started (no `python3`).
    #[error("could not run `{command}`: {source} (python3 with pip is needed to fetch musicnn)")]
    PipMissing {
        /// The command line.
        command: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// pip ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    PipFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of what it printed on stderr.
        stderr: String,
    },
    /// pip succeeded but the wheel is not where it should be.
    #[error("`{command}` succeeded but left no {}", path.display())]
    NotDownloaded {
        /// The command line.
        command: String,
        /// Where the wheel should be.
        path: PathBuf,
    },
    /// The file is not a readable zip archive.
    #[error("{}: not a zip archive: {reason}", path.display())]
    NotZip {
        /// The wheel.
        path: PathBuf,
        /// What the zip reader said.
        reason: String,
    },
    /// The wheel has no such member.
    #[error("{}: has no member {member}", path.display())]
    MissingMember {
        /// The wheel.
        path: PathBuf,
        /// The member.
        member: &'static str,
    },
    /// A member could not be read whole (truncated, corrupt, too large).
    #[error("{}: member {member}: {reason}", path.display())]
    BadMember {
        /// The wheel.
        path: PathBuf,
        /// The member.
        member: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint inside the wheel is malformed.
    #[error("{}: {source}", path.display())]
    Checkpoint {
        /// The wheel.
        path: PathBuf,
        /// What is wrong with the checkpoint.
        source: CheckpointError,
    },
}

/// `cache_dir/musicnn-0.1.0-py3-none-any.whl`, downloaded first with
/// `python3 -m pip download musicnn==0.1.0 --no-deps --only-binary=:all: -d cache_dir` if
/// it is not there yet.
pub fn fetch_wheel(cache_dir: &Path) -> Result<PathBuf, WheelError> {
    let wheel = cache_dir.join(WHEEL_FILE);
    if wheel.is_file() {
        return Ok(wheel);
    }
    std::fs::create_dir_all(cache_dir).map_err(|source| WheelError::Io {
        path: cache_dir.to_path_buf(),
        source,
    })?;
    let args = [
        "-m",
        "pip",
        "download",
        "musicnn==0.1.0",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
    ];
    let command = format!("python3 {} {}", args.join(" "), cache_dir.display());
    let output = Command::new("python3")
        .args(args)
        .arg(cache_dir)
        .output()
        .map_err(|source| WheelError::PipMissing {
            command: command.clone(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.trim().lines().rev().take(5).collect();
        return Err(WheelError::PipFailed {
            command,
            status: output.status.to_string(),
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    if !wheel.is_file() {
        return Err(WheelError::NotDownloaded {
            command,
            path: wheel,
        });
    }
    Ok(wheel)
}

/// The `MSD_musicnn` checkpoint inside the wheel at `wheel`, and the SHA-256 (hex) of its
/// data file, which identifies the weights.
pub fn read_checkpoint(wheel: &Path) -> Result<(TfCheckpoint, String), WheelError> {
    let bytes = std::fs::read(wheel).map_err(|source| WheelError::Io {
        path: wheel.to_path_buf(),
        source,
    })?;
    read_checkpoint_bytes(&bytes, wheel)
}

/// [`read_checkpoint`] of a wheel already in memory; `path` names it in errors.
fn read_checkpoint_bytes(bytes: &[u8], path: &Path) -> Result<(TfCheckpoint, String), WheelError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| WheelError::NotZip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let index = read_member(&mut archive, INDEX_MEMBER, path)?;
    let data = read_member(&mut archive, DATA_MEMBER, path)?;
    let sha256 = sha256_hex(&data);
    let ckpt =
        TfCheckpoint::parse_owned(&index, data).map_err(|source| WheelError::Checkpoint {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((ckpt, sha256))
}

/// The whole of `member`, checking its size against the archive's directory (and the
/// zip reader its CRC-32).
fn read_member(
    archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    member: &'static str,
    path: &Path,
) -> Result<Vec<u8>, WheelError> {
    let bad = |reason: String| WheelError::BadMember {
        path: path.to_path_buf(),
        member,
        reason,
    };
    let mut file = archive.by_name(member).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => WheelError::MissingMember {
            path: path.to_path_buf(),
            member,
        },
        other => bad(other.to_string()),
    })?;
    let size = file.size();
    if size > MAX_MEMBER_BYTES {
        return Err(bad(format!(
            "{size} bytes, more than the {MAX_MEMBER_BYTES} a musicnn checkpoint could need"
        )));
    }
    // The declared size is bounded above, and a member that inflates to more is cut
    // off one byte past it.
    let mut out = Vec::with_capacity(size as usize);
    (&mut file)
        .take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(e.to_string()))?;
    if out.len() as u64 != size {
        return Err(bad(format!(
            "inflates to {} bytes, the archive says {size}",
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::models::tf_checkpoint::writer::bundle;

    /// A zip with `members` (stored or deflated), as bytes.
    fn zip_of(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut out);
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in members {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap();
        out.into_inner()
    }

    fn tiny_bundle() -> (Vec<u8>, Vec<u8>) {
        bundle(&[("dense/bias", &[2], &[0.25, -4.0])])
    }

    #[test]
    fn a_checkpoint_is_read_out_of_a_wheel() {
        let (index, data) = tiny_bundle();
        let wheel = zip_of(&[(INDEX_MEMBER, &index), (DATA_MEMBER, &data)], false);
        let (ckpt, sha) = read_checkpoint_bytes(&wheel, Path::new("w.whl")).unwrap();
        assert_eq!(ckpt.tensor_f32("dense/bias", &[2]).unwrap(), [0.25, -4.0]);
        assert_eq!(sha, sha256_hex(&data));
    }

    #[test]
    fn not_a_zip_missing_and_truncated_members_are_named() {
        let path = Path::new("w.whl");
        let err = read_checkpoint_bytes(b"PK not really", path).unwrap_err();
        assert!(matches!(err, WheelError::NotZip { .. }), "{err}");
        assert!(err.to_string().contains("w.whl"), "{err}");

        let (index, data) = tiny_bundle();
        let wheel = zip_of(&[(INDEX_MEMBER, &index)], false);
        let err = read_checkpoint_bytes(&wheel, path).unwrap_err();
        assert!(
            matches!(
                err,
                WheelError::MissingMember {
                    member: DATA_MEMBER,
                    ..
                }
            ),
            "{err}"
        );

        // Every truncation of a wheel is an error, never a panic.
        let wheel = zip_of(&[(INDEX_MEMBER, &index), (DATA_MEMBER, &data)], true);
        for len in 0..wheel.len() {
            assert!(read_checkpoint_bytes(&wheel[..len], path).is_err(), "{len}");
        }
        // A corrupted member fails the zip's CRC-32 or the checkpoint's checks.
        for at in [40, 80, wheel.len() / 2] {
            let mut bad = wheel.clone();
            bad[at] ^= 0x55;
            let _ = read_checkpoint_bytes(&bad, path);
        }
    }

    #[test]
    fn a_malformed_checkpoint_in_the_wheel_is_named() {
        let (index, data) = tiny_bundle();
        let wheel = zip_of(&[(INDEX_MEMBER, &index[..10]), (DATA_MEMBER, &data)], false);
        let err = read_checkpoint_bytes(&wheel, Path::new("w.whl")).unwrap_err();
        assert!(
            matches!(
                err,
                WheelError::Checkpoint {
                    source: CheckpointError::IndexTooShort { len: 10 },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_cached_wheel_is_not_downloaded_again() {
        let dir = std::env::temp_dir().join(format!("gc-musicnn-wheel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(WHEEL_FILE), b"cached").unwrap();
        assert_eq!(fetch_wheel(&dir).unwrap(), dir.join(WHEEL_FILE));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
