//! Telling audio files from other files by their first bytes, not their names: a folder
//! scan classifies what is audio whatever it is called, and names what it skips and why.
//!
//! Pure and target-independent (no I/O). The page asks the same question of a dropped
//! file's first bytes in `www/batch/sniff.js`, with the same rules: both give every case of
//! `tests/fixtures/sniff_cases.json` its verdict, extension and reason. A file recognised
//! here may still fail to decode (it may be truncated or use a codec we lack); one refused
//! here is certainly not worth decoding.

/// Bytes of a file's start that [`sniff`] looks at (enough for every signature below).
pub const SNIFF_BYTES: usize = 64;

/// The reason given for an empty file.
pub const EMPTY_REASON: &str = "the file is empty";

/// The reason given for bytes that are neither a known audio format nor a known other kind.
pub const UNKNOWN_REASON: &str =
    "not a known kind of audio file (WAV, MP3, AAC, FLAC, Ogg, AU, AIFF, M4A, WebM, CAF, AMR)";

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// An audio container or stream we can try to decode, by the extension decoders know
    /// it by: `wav`, `mp3` (also MP1/MP2 frames), `aac`, `flac`, `ogg`, `au`, `aiff`,
    /// `m4a`, `webm` (also Matroska), `caf` or `amr`.
    Audio(&'static str),
    /// Not audio, and why (e.g. `"not audio: it is a PNG image"`, `"the file is empty"`).
    NotAudio(String),
}

/// What a signature says: audio by its extension, or what other kind of file it is.
#[derive(Clone, Copy)]
enum Kind {
    Audio(&'static str),
    Other(&'static str),
}

/// Byte strings that a signature needs, each at its offset.
type Parts = &'static [(usize, &'static [u8])];

/// Signatures, tried in order: their byte strings, and what they say.
const SIGNATURES: [(Parts, Kind); 20] = [
    (&[(0, b"RIFF"), (8, b"WAVE")], Kind::Audio("wav")),
    (&[(0, b"RF64"), (8, b"WAVE")], Kind::Audio("wav")),
    (&[(0, b"FORM"), (8, b"AIFF")], Kind::Audio("aiff")),
    (&[(0, b"FORM"), (8, b"AIFC")], Kind::Audio("aiff")),
    (&[(0, b"ID3")], Kind::Audio("mp3")),
    (&[(0, b"fLaC")], Kind::Audio("flac")),
    (&[(0, b"OggS")], Kind::Audio("ogg")),
    (&[(0, b".snd")], Kind::Audio("au")),
    (&[(0, b"\x1a\x45\xdf\xa3")], Kind::Audio("webm")),
    (&[(0, b"caff")], Kind::Audio("caf")),
    (&[(0, b"#!AMR")], Kind::Audio("amr")),
    (&[(0, b"\xff\xd8\xff")], Kind::Other("a JPEG image")),
    (&[(0, b"\x89PNG")], Kind::Other("a PNG image")),
    (&[(0, b"GIF8")], Kind::Other("a GIF image")),
    (&[(0, b"RIFF"), (8, b"WEBP")], Kind::Other("a WebP image")),
    (&[(0, b"RIFF"), (8, b"AVI ")], Kind::Other("a video (AVI)")),
    (&[(0, b"%PDF")], Kind::Other("a PDF document")),
    (
        &[(0, b"PK\x03\x04")],
        Kind::Other("a ZIP archive or office document"),
    ),
    (&[(0, b"\x7fELF")], Kind::Other("a program (ELF)")),
    (&[(0, b"\x1f\x8b\x08")], Kind::Other("a gzip archive")),
];

/// MP4 (ISO base media) major brands of files that are not audio, and what they are. Any
/// other brand is taken for audio: M4A, or an MP4 whose sound can be decoded.
const NOT_AUDIO_BRANDS: [(&str, &[&[u8; 4]]); 5] = [
    ("a video (QuickTime)", &[b"qt  "]),
    ("a video (MP4)", &[b"avc1", b"M4V "]),
    (
        "an image (HEIF)",
        &[
            b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
        ],
    ),
    ("an image (AVIF)", &[b"avif", b"avis"]),
    ("a raw photo (Canon CR3)", &[b"crx "]),
];

/// Whether `header` holds `magic` at `offset`.
fn holds(header: &[u8], offset: usize, magic: &[u8]) -> bool {
    header.get(offset..offset + magic.len()) == Some(magic)
}

/// The reason given for a file that is `what` (e.g. `"a PNG image"`).
fn not_audio(what: &str) -> Sniffed {
    Sniffed::NotAudio(format!("not audio: it is {what}"))
}

/// What `header`, the first bytes of a file (at least [`SNIFF_BYTES`] when the file is
/// that long), says the file is. Recognises WAV (RIFF, RF64), AIFF and AIFF-C, MP3 (with
/// an ID3 tag or a bare MPEG audio frame, also MP1/MP2), ADTS AAC, FLAC, Ogg, Sun AU,
/// Matroska/WebM, CAF, AMR and MP4/M4A; anything else is [`Sniffed::NotAudio`] with a
/// short reason (what it is, when it is a common kind of file).
pub fn sniff(header: &[u8]) -> Sniffed {
    if header.is_empty() {
        return Sniffed::NotAudio(EMPTY_REASON.into());
    }
    let signature = SIGNATURES
        .iter()
        .find(|(parts, _)| parts.iter().all(|(at, magic)| holds(header, *at, magic)));
    if let Some((_, kind)) = signature {
        return match *kind {
            Kind::Audio(extension) => Sniffed::Audio(extension),
            Kind::Other(what) => not_audio(what),
        };
    }
    if let Some(sniffed) = mp4(header) {
        return sniffed;
    }
    if let Some(extension) = mpeg_frame(header) {
        return Sniffed::Audio(extension);
    }
    if looks_like_text(header) {
        return not_audio("text");
    }
    Sniffed::NotAudio(UNKNOWN_REASON.into())
}

/// What an MP4 (ISO base media) file is by its major brand, or `None` if it is not one.
fn mp4(header: &[u8]) -> Option<Sniffed> {
    if !holds(header, 4, b"ftyp") {
        return None;
    }
    let known = NOT_AUDIO_BRANDS
        .iter()
        .find(|(_, brands)| brands.iter().any(|brand| holds(header, 8, *brand)));
    Some(match known {
        Some((what, _)) => not_audio(what),
        None => Sniffed::Audio("m4a"),
    })
}

/// The extension of a bare MPEG audio frame header at the start, or `None` if it is not
/// one: 11 sync bits, then either ADTS (`aac`: layer 00, 12 sync bits, a sample rate
/// index that exists) or MP1/2/3 (`mp3`: a version, layer, bitrate and sample rate that
/// exist).
fn mpeg_frame(header: &[u8]) -> Option<&'static str> {
    let [b0, b1, b2, _, ..] = *header else {
        return None;
    };
    if b0 != 0xff || b1 & 0xe0 != 0xe0 {
        return None;
    }
    let (version, layer) = ((b1 >> 3) & 0b11, (b1 >> 1) & 0b11);
    if layer == 0 {
        return (b1 & 0xf0 == 0xf0 && (b2 >> 2) & 0x0f <= 12).then_some("aac");
    }
    let (bitrate, rate) = (b2 >> 4, (b2 >> 2) & 0b11);
    // Version 01, bitrate 1111 and sample rate 11 are reserved.
    (version != 0b01 && bitrate != 0b1111 && rate != 0b11).then_some("mp3")
}

/// Whether `header` is plain text: valid UTF-8 (up to a cut last character) with no
/// control characters other than tab and line ends.
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

    /// One case of the fixture the page's sniffer is tested on too.
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        hex: String,
        audio: bool,
        extension: Option<String>,
        reason: Option<String>,
    }

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn every_case_of_the_shared_fixture_gets_its_verdict_and_reason() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../../tests/fixtures/sniff_cases.json")).unwrap();
        assert!(cases.len() > 40, "{} cases", cases.len());
        for case in cases {
            let header = unhex(&case.hex);
            assert!(header.len() <= SNIFF_BYTES, "{}: too long", case.name);
            let got = match sniff(&header) {
                Sniffed::Audio(extension) => (true, Some(extension.to_owned()), None),
                Sniffed::NotAudio(reason) => (false, None, Some(reason)),
            };
            let expected = (case.audio, case.extension, case.reason);
            assert_eq!(got, expected, "{}", case.name);
        }
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
            (b"\x00\x00\x00\x20ftypM4A ", "m4a"),
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
        assert_eq!(reason(b""), "the file is empty");
        assert_eq!(
            reason(&padded(b"\x89PNG\r\n\x1a\n")),
            "not audio: it is a PNG image"
        );
        assert!(reason(&padded(b"\xff\xd8\xff\xe0")).contains("JPEG"));
        assert_eq!(
            reason(b"cover art credits\nline two\n"),
            "not audio: it is text"
        );
        // UTF-8 cut in the middle of a character is still text.
        assert!(reason("café é".as_bytes().split_last().unwrap().1).contains("text"));
        assert_eq!(reason(&[0x00, 0x01, 0x02, 0x03]), UNKNOWN_REASON);
        // A RIFF file that is not WAVE (an AVI) is not audio.
        assert!(reason(&padded(b"RIFF\x00\x00\x00\x00AVI LIST")).contains("AVI"));
        // Frame sync with the reserved version is not an MPEG frame.
        assert_eq!(reason(&padded(b"\xff\xea\x00\x00")), UNKNOWN_REASON);
    }
}
