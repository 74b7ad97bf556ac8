// Is this file audio? Told from its first bytes, not its name: a folder of songs also
// holds covers, playlists and notes, and a song may have lost its extension. What is not
// audio gets a reason in words ("not audio: it is a JPEG image").
//
// The same rules as the crate's src/audio/sniff.rs (the CLI's folder scan): both give
// every case of tests/fixtures/sniff_cases.json its verdict, extension and reason.

/** How many bytes of a file `sniff` looks at. */
export const SNIFF_BYTES = 64;

/** The reason given for an empty file. */
export const EMPTY_REASON = 'the file is empty';

/** The reason given for bytes that are neither a known audio format nor a known other kind. */
export const UNKNOWN_REASON = 'not a known kind of audio file (WAV, MP3, AAC, FLAC, Ogg, AU, AIFF, M4A, WebM, CAF, AMR)';

/** A signature of audio: `parts` ([offset, latin1 bytes]) say it is `format`, decoded as `extension`. */
const audio = (format, extension, ...parts) => ({ parts, verdict: { audio: true, format, extension } });
/** A signature of a file that is not audio but `what` (e.g. "a PNG image"). */
const other = (what, ...parts) => ({ parts, verdict: { audio: false, reason: `not audio: it is ${what}` } });

/** Signatures, tried in order: the byte strings (latin1) each at its offset, and the verdict. */
const SIGNATURES = [
  audio('WAV', 'wav', [0, 'RIFF'], [8, 'WAVE']),
  audio('WAV (RF64)', 'wav', [0, 'RF64'], [8, 'WAVE']),
  audio('AIFF', 'aiff', [0, 'FORM'], [8, 'AIFF']),
  audio('AIFF-C', 'aiff', [0, 'FORM'], [8, 'AIFC']),
  audio('MP3 (ID3 tag)', 'mp3', [0, 'ID3']),
  audio('FLAC', 'flac', [0, 'fLaC']),
  audio('Ogg', 'ogg', [0, 'OggS']),
  audio('Sun AU', 'au', [0, '.snd']),
  audio('WebM/Matroska', 'webm', [0, '\x1a\x45\xdf\xa3']),
  audio('Core Audio', 'caf', [0, 'caff']),
  audio('AMR', 'amr', [0, '#!AMR']),
  other('a JPEG image', [0, '\xff\xd8\xff']),
  other('a PNG image', [0, '\x89PNG']),
  other('a GIF image', [0, 'GIF8']),
  other('a WebP image', [0, 'RIFF'], [8, 'WEBP']),
  other('a video (AVI)', [0, 'RIFF'], [8, 'AVI ']),
  other('a PDF document', [0, '%PDF']),
  other('a ZIP archive or office document', [0, 'PK\x03\x04']),
  other('a program (ELF)', [0, '\x7fELF']),
  other('a gzip archive', [0, '\x1f\x8b\x08']),
];

/** MP4 (ISO base media) major brands of files that are not audio, and what they are. Any
 *  other brand is taken for audio: M4A, or an MP4 whose sound can be decoded. */
const NOT_AUDIO_BRANDS = [
  ['a video (QuickTime)', ['qt  ']],
  ['a video (MP4)', ['avc1', 'M4V ']],
  ['an image (HEIF)', ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']],
  ['an image (AVIF)', ['avif', 'avis']],
  ['a raw photo (Canon CR3)', ['crx ']],
];

/** Whether `bytes` hold `text` (latin1) at `at`. */
const holds = (bytes, at, text) => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/** The verdict on an MP4 (ISO base media) file by its major brand, or null if it is not one. */
function mp4(bytes) {
  if (!holds(bytes, 4, 'ftyp')) return null;
  const known = NOT_AUDIO_BRANDS.find(([, brands]) => brands.some((brand) => holds(bytes, 8, brand)));
  if (known) return { audio: false, reason: `not audio: it is ${known[0]}` };
  return { audio: true, format: 'MP4 audio', extension: 'm4a' };
}

/** The verdict on a bare MPEG audio frame header at the start, or null if it is not one:
 *  11 sync bits, then either ADTS (AAC: layer 00, 12 sync bits, a sample rate index that
 *  exists) or MP1/2/3 (a version, layer, bitrate and sample rate that exist). */
function mpegFrame(bytes) {
  if (bytes.length < 4 || bytes[0] !== 0xff || (bytes[1] & 0xe0) !== 0xe0) return null;
  const version = (bytes[1] >> 3) & 3;
  const layer = (bytes[1] >> 1) & 3;
  if (layer === 0) {
    const adts = (bytes[1] & 0xf0) === 0xf0 && ((bytes[2] >> 2) & 0xf) <= 12;
    return adts ? { audio: true, format: 'AAC (ADTS)', extension: 'aac' } : null;
  }
  const bitrate = bytes[2] >> 4;
  const rate = (bytes[2] >> 2) & 3;
  return version !== 1 && bitrate !== 15 && rate !== 3 ? { audio: true, format: 'MPEG audio', extension: 'mp3' } : null;
}

/** Control characters (Unicode's Cc) other than tab, line feed and carriage return. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Whether `bytes` (the first bytes of a file) are text: valid UTF-8 (its last character
 *  may be cut off) with no control characters besides tab and line ends. */
function looksLikeText(bytes) {
  let text;
  try {
    // Streaming keeps a cut last character back instead of calling it invalid.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: true });
  } catch {
    return false;
  }
  return text.length > 0 && !CONTROL.test(text);
}

/** What the first bytes of a file say: `{ audio: true, format, extension }` or `{ audio:
 *  false, reason }`. */
export function sniff(bytes) {
  if (bytes.length === 0) return { audio: false, reason: EMPTY_REASON };
  const known = SIGNATURES.find(({ parts }) => parts.every(([at, text]) => holds(bytes, at, text)));
  if (known) return { ...known.verdict };
  const verdict = mp4(bytes) ?? mpegFrame(bytes);
  if (verdict) return verdict;
  if (looksLikeText(bytes)) return { audio: false, reason: 'not audio: it is text' };
  return { audio: false, reason: UNKNOWN_REASON };
}

/** `sniff` of a File or Blob's first bytes. */
export async function sniffFile(file) {
  try {
    return sniff(new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()));
  } catch (e) {
    return { audio: false, reason: `it could not be read (${e.message || e.name})` };
  }
}
