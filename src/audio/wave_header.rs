//! Reading what a RIFF WAVE file's `fmt ` chunk claims, before symphonia parses it.
//!
//! Written here rather than taken from a crate because the point is to look at the
//! header *before* the decoder does: symphonia-format-riff 0.6.1 (the newest) repairs a
//! `WAVE_FORMAT_EXTENSIBLE` channel mask that names fewer channels than the header claims
//! by shifting ones into it, and those shifts overflow (a panic with overflow checks, a
//! garbage mask without) when 32 or more channels are missing or the mask's top bit is
//! set. Found by `fuzz/run.sh` (target `audio`).

use std::io::{self, Read, Seek, SeekFrom};

/// `WAVE_FORMAT_EXTENSIBLE`: the format tag whose `fmt ` chunk carries a channel mask.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Chunks read before `fmt ` is given up on (real files have it first or second).
const MAX_CHUNKS_BEFORE_FMT: usize = 64;

/// What a WAVE file's `fmt ` chunk says about its channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WaveChannels {
    /// The channel count the header claims.
    pub channels: u16,
    /// The speaker positions of a `WAVE_FORMAT_EXTENSIBLE` file (one bit each).
    pub channel_mask: Option<u32>,
}

impl WaveChannels {
    /// Whether the mask leaves channels unnamed in a way symphonia cannot repair without
    /// overflowing (see the module docs).
    pub fn mask_unrepairable(&self) -> bool {
        let Some(mask) = self.channel_mask else {
            return false;
        };
        let missing = i64::from(self.channels) - i64::from(mask.count_ones());
        missing >= 32 || (missing > 0 && mask & (1 << 31) != 0)
    }
}

/// How far into a file symphonia looks for a format's marker (its default
/// `max_probe_depth`, 1 MiB): a WAVE header anywhere in there may be the one it parses.
const PROBE_DEPTH: u64 = 1 << 20;

/// The channels claimed by the `fmt ` chunk of every RIFF WAVE header that starts in the
/// first [`PROBE_DEPTH`] bytes of `source` (symphonia skips leading junk to find one):
/// empty for a file with none, or whose `fmt ` chunk cannot be found (the decoder judges
/// those). Leaves `source` at its start.
pub(super) fn read_wave_channels(source: &mut (impl Read + Seek)) -> io::Result<Vec<WaveChannels>> {
    source.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    source
        .by_ref()
        .take(PROBE_DEPTH + 4096)
        .read_to_end(&mut head)?;
    source.seek(SeekFrom::Start(0))?;
    let starts = (0..head.len().saturating_sub(11).min(PROBE_DEPTH as usize))
        .filter(|&at| &head[at..at + 4] == b"RIFF" && &head[at + 8..at + 12] == b"WAVE");
    Ok(starts
        .filter_map(|at| find_fmt(&mut io::Cursor::new(&head[at + 12..])).ok())
        .flatten()
        .collect())
}

/// The `fmt ` chunk's channels, reading chunk after chunk from just past `WAVE`.
fn find_fmt(chunks: &mut (impl Read + Seek)) -> io::Result<Option<WaveChannels>> {
    for _ in 0..MAX_CHUNKS_BEFORE_FMT {
        let mut header = [0u8; 8];
        chunks.read_exact(&mut header)?;
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if &header[..4] == b"fmt " {
            let mut fmt = [0u8; 24];
            let wanted = (size as usize).min(fmt.len());
            chunks.read_exact(&mut fmt[..wanted])?;
            let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
            let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
            let channel_mask = (tag == FORMAT_EXTENSIBLE && wanted >= 24)
                .then(|| u32::from_le_bytes([fmt[20], fmt[21], fmt[22], fmt[23]]));
            return Ok(Some(WaveChannels {
                channels,
                channel_mask,
            }));
        }
        // Chunks are padded to an even length.
        chunks.seek(SeekFrom::Current(i64::from(size) + i64::from(size & 1)))?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A WAVE header: a `LIST` chunk of odd length, then `fmt ` with `tag`, `channels`
    /// and (extensible) `mask`.
    fn wave(tag: u16, channels: u16, mask: u32) -> Vec<u8> {
        let mut fmt = Vec::new();
        fmt.extend(tag.to_le_bytes());
        fmt.extend(channels.to_le_bytes());
        fmt.extend(44_100u32.to_le_bytes());
        fmt.extend((44_100u32 * 2 * u32::from(channels)).to_le_bytes());
        fmt.extend((2 * channels).to_le_bytes());
        fmt.extend(16u16.to_le_bytes());
        fmt.extend(22u16.to_le_bytes());
        fmt.extend(16u16.to_le_bytes());
        fmt.extend(mask.to_le_bytes());
        fmt.extend([0u8; 16]);
        let mut out = b"RIFF\0\0\0\0WAVELIST".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(b"abc\0fmt ");
        out.extend((fmt.len() as u32).to_le_bytes());
        out.extend(fmt);
        out
    }

    fn channels_of(bytes: Vec<u8>) -> Option<WaveChannels> {
        let mut cursor = Cursor::new(bytes);
        let found = read_wave_channels(&mut cursor).unwrap_or_default();
        assert_eq!(cursor.position(), 0, "left at the start");
        assert!(found.len() <= 1, "{found:?}");
        found.first().copied()
    }

    #[test]
    fn reads_the_fmt_chunk_after_a_padded_chunk() {
        let found = channels_of(wave(FORMAT_EXTENSIBLE, 6, 0x3F));
        assert_eq!(
            found,
            Some(WaveChannels {
                channels: 6,
                channel_mask: Some(0x3F)
            })
        );
        assert!(!found.is_some_and(|c| c.mask_unrepairable()));
        let pcm = channels_of(wave(1, 2, 0));
        assert_eq!(pcm.map(|c| (c.channels, c.channel_mask)), Some((2, None)));
    }

    #[test]
    fn flags_the_masks_symphonia_overflows_on() {
        let flagged = |channels, mask| {
            channels_of(wave(FORMAT_EXTENSIBLE, channels, mask))
                .is_some_and(|c| c.mask_unrepairable())
        };
        assert!(flagged(40, 0), "40 channels, none named");
        assert!(flagged(2, 0x8000_0000), "top bit set, one missing");
        assert!(!flagged(2, 0), "2 channels, unnamed: symphonia names them");
        assert!(!flagged(31, 0));
        assert!(!flagged(1, 0x3), "too many named: symphonia drops some");
        let pcm = channels_of(wave(1, 40, 0));
        assert!(
            !pcm.is_some_and(|c| c.mask_unrepairable()),
            "PCM has no mask"
        );
    }

    #[test]
    fn finds_a_header_after_leading_junk_as_symphonia_does() {
        // Found by the audio fuzz target: two bytes before `RIFF`, and symphonia's probe
        // still found the header.
        let mut bytes = vec![0xff, 0xf0];
        bytes.extend(wave(FORMAT_EXTENSIBLE, 5119, 0x0200_053f));
        let found = channels_of(bytes).map(|c| c.channels);
        assert_eq!(found, Some(5119));
    }

    #[test]
    fn other_files_and_truncated_headers_are_left_to_the_decoder() {
        assert_eq!(channels_of(b"OggS\0\0\0\0\0\0\0\0\0\0".to_vec()), None);
        let mut truncated = wave(1, 2, 0);
        truncated.truncate(30);
        assert_eq!(channels_of(truncated), None);
        assert_eq!(channels_of(Vec::new()), None);
    }
}
