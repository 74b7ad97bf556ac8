//! Telling audio files from other files by their first bytes, not their names: a folder
//! scan classifies what is audio whatever it is called, and names what it skips and why.
//!
//! Pure and target-independent (no I/O), so the page can ask the same question of the
//! first bytes of a dropped file. A file recognised here may still fail to decode (it may
//! be truncated or use a codec we lack); one refused here is certainly not worth decoding.

/// Bytes of a file's start that [`sniff`] looks at (an ID3 tag is skipped by its size
/// only, so this is enough for every signature below).
pub const SNIFF_BYTES: usize = 64;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// An audio container or stream we can try to decode, named (e.g. `"wav"`).
    Audio(&'static str),
    /// Not audio, and why (e.g. `"a PNG image"`, `"text"`, `"an empty file"`).
    NotAudio(String),
}

/// Audio signatures: (offset, bytes, format).
const AUDIO_MAGIC: [(usize, &[u8], &str); 11] = [
    (8, b"WAVE", "wav"),
    (0, b"fLaC", "flac"),
    (0, b"OggS", "ogg"),
    (0, b"ID3", "mp3"),
    (0, b".snd", "au"),
    (8, b"AIFF", "aiff"),
    (8, b"AIFC", "aiff"),
    (0, b"caff", "caf"),
    (4, b"ftyp", "mp4"),
    (0, b"\x1a\x45\xdf\xa3", "mkv/webm"),
    (0, b"RF64", "wav"),
];

/// Signatures of common files that are not audio: (offset, bytes, what it is).
const OTHER_MAGIC: [(usize, &[u8], &str); 9] = [
    (0, b"\x89PNG", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a zip archive"),
    (0, b"\x7fELF", "a program"),
    (8, b"WEBP", "a WebP image"),
    (8, b"AVI ", "an AVI video"),
    (0, b"\x1f\x8b", "a gzip archive"),
];

/// What `header`, the first bytes of a file (at least [`SNIFF_BYTES`] when the file is
/// that long), says the file is. Recognises WAV (RIFF, RF64), FLAC, Ogg, MP3 (with an
/// ID3 tag or a bare MPEG audio frame), ADTS AAC, Sun AU, AIFF, CAF, MP4/M4A and
/// Matroska/WebM; anything else is [`Sniffed::NotAudio`] with a short reason.
pub fn sniff(header: &[u8]) -> Sniffed {
    let at = |offset: usize, magic: &[u8]| header.get(offset..offset + magic.len()) == Some(magic);
    if header.is_empty() {
        return Sniffed::NotAudio("an empty file".into());
    }
    if let Some((_, _, format)) = AUDIO_MAGIC.iter().find(|(o, m, _)| at(*o, m)) {
        return Sniffed::Audio(format);
    }
    if let Some(format) = mpeg_frame(header) {
        return Sniffed::Audio(format);
    }
    if let Some((_, _, what)) = OTHER_MAGIC.iter().find(|(o, m, _)| at(*o, m)) {
        return Sniffed::NotAudio(format!("not audio: {what}"));
    }
    if looks_like_text(header) {
        return Sniffed::NotAudio("not audio: text".into());
    }
    Sniffed::NotAudio("not a known audio format".into())
}

/// The format of a bare MPEG audio frame header at the start (MP1/2/3 or ADTS AAC):
/// 11 sync bits, then a valid version and layer.
fn mpeg_frame(header: &[u8]) -> Option<&'static str> {
    let (&b0, &b1) = (header.first()?, header.get(1)?);
    if b0 != 0xff || b1 & 0xe0 != 0xe0 {
        return None;
    }
    let version = (b1 >> 3) & 0b11;
    let layer = (b1 >> 1) & 0b11;
    match (version, layer) {
        // Version bits 01 are reserved.
        (0b01, _) => None,
        // Layer 00 is ADTS (AAC) with MPEG-4 or MPEG-2 version bits 1x.
        (0b10 | 0b11, 0b00) => Some("aac"),
        (_, 0b00) => None,
        _ => Some("mp3"),
    }
}

/// Whether `header` is plain text: valid UTF-8 (up to a cut last character) with no
/// control characters other than whitespace.
fn looks_like_text(header: &[u8]) -> bool {
    let text = match std::str::from_utf8(header) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&header[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(start: &[u8]) -> Vec<u8> {
        let mut v = start.to_vec();
        v.resize(SNIFF_BYTES, 0);
        v
    }

    #[test]
    fn audio_containers_are_recognised_by_their_bytes() {
        let cases: [(&[u8], &str); 9] = [
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
            (b"fLaC\x00\x00\x00\x22", "flac"),
            (b"OggS\x00\x02", "ogg"),
            (b"ID3\x04\x00\x00", "mp3"),
            (b"\xff\xfb\x90\x64", "mp3"),
            (b"\xff\xf1\x50\x80", "aac"),
            (b".snd\x00\x00\x00\x18", "au"),
            (b"FORM\x00\x00\x10\x00AIFF", "aiff"),
            (b"\x00\x00\x00\x20ftypM4A ", "mp4"),
        ];
        for (bytes, format) in cases {
            assert_eq!(sniff(&padded(bytes)), Sniffed::Audio(format), "{bytes:?}");
        }
    }

    #[test]
    fn other_files_are_refused_with_a_reason() {
        let reason = |bytes: &[u8]| match sniff(bytes) {
            Sniffed::NotAudio(r) => r,
            Sniffed::Audio(f) => panic!("{bytes:?} taken for {f}"),
        };
        assert_eq!(reason(b""), "an empty file");
        assert!(reason(&padded(b"\x89PNG\r\n\x1a\n")).contains("PNG"));
        assert!(reason(&padded(b"\xff\xd8\xff\xe0")).contains("JPEG"));
        assert!(reason(b"cover art credits\nline two\n").contains("text"));
        // UTF-8 cut in the middle of a character is still text.
        assert!(reason("café é".as_bytes().split_last().unwrap().1).contains("text"));
        assert_eq!(
            reason(&[0x00, 0x01, 0x02, 0x03]),
            "not a known audio format"
        );
        // A RIFF file that is not WAVE (an AVI) is not audio.
        assert!(reason(&padded(b"RIFF\x00\x00\x00\x00AVI LIST")).contains("AVI"));
        // Frame sync with the reserved version is not an MPEG frame.
        assert_eq!(
            reason(&padded(b"\xff\xea\x00\x00")),
            "not a known audio format"
        );
    }
}
