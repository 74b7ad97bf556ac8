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

/// The channels claimed by `source`'s `fmt ` chunk if it is a RIFF WAVE file whose
/// `fmt ` chunk can be found; `None` for any other file (the decoder judges those).
/// Leaves `source` at its start.
pub(super) fn read_wave_channels(
    source: &mut (impl Read + Seek),
) -> io::Result<Option<WaveChannels>> {
    source.seek(SeekFrom::Start(0))?;
    let found = find_fmt(source);
    source.seek(SeekFrom::Start(0))?;
    Ok(found.ok().flatten())
}

fn find_fmt(source: &mut (impl Read + Seek)) -> io::Result<Option<WaveChannels>> {
    let mut riff = [0u8; 12];
    source.read_exact(&mut riff)?;
    if &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return Ok(None);
    }
    for _ in 0..MAX_CHUNKS_BEFORE_FMT {
        let mut header = [0u8; 8];
        source.read_exact(&mut header)?;
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if &header[..4] == b"fmt " {
            let mut fmt = [0u8; 24];
            let wanted = (size as usize).min(fmt.len());
            source.read_exact(&mut fmt[..wanted])?;
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
        source.seek(SeekFrom::Current(i64::from(size) + i64::from(size & 1)))?;
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
        let found = read_wave_channels(&mut cursor).ok().flatten();
        assert_eq!(cursor.position(), 0, "left at the start");
        found
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
    fn other_files_and_truncated_headers_are_left_to_the_decoder() {
        assert_eq!(channels_of(b"OggS\0\0\0\0\0\0\0\0\0\0".to_vec()), None);
        let mut truncated = wave(1, 2, 0);
        truncated.truncate(30);
        assert_eq!(channels_of(truncated), None);
        assert_eq!(channels_of(Vec::new()), None);
    }
}
