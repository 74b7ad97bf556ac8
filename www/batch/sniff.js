// Is this file audio? Told from its first bytes, not its name: a folder of songs also
// holds covers, playlists and notes, and a song may have lost its extension. What is not
// audio gets a reason in words ("a JPEG image", "text").

/** How many bytes of a file `sniff` looks at. */
export const SNIFF_BYTES = 64;

const ascii = (bytes, at, text) => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/** MPEG audio frame header at `at`: 11 sync bits, a layer, a bitrate and a sample rate
 *  that exist (MP3, MP2), or an ADTS header (AAC). */
function mpegFrame(bytes, at) {
  if (bytes[at] !== 0xff || (bytes[at + 1] & 0xe0) !== 0xe0) return null;
  const layer = (bytes[at + 1] >> 1) & 3;
  if (layer === 0) return (bytes[at + 1] & 0xf6) === 0xf0 ? 'AAC (ADTS)' : null;
  const bitrate = bytes[at + 2] >> 4;
  const rate = (bytes[at + 2] >> 2) & 3;
  return bitrate !== 15 && rate !== 3 ? 'MPEG audio' : null;
}

/** Audio containers and codecs: their name, the extension decoders know them by, their
 *  signature. */
const AUDIO = [
  ['WAV', 'wav', (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE')],
  ['WAV (RF64)', 'wav', (b) => ascii(b, 0, 'RF64') && ascii(b, 8, 'WAVE')],
  ['AIFF', 'aiff', (b) => ascii(b, 0, 'FORM') && (ascii(b, 8, 'AIFF') || ascii(b, 8, 'AIFC'))],
  ['MP3 (ID3 tag)', 'mp3', (b) => ascii(b, 0, 'ID3')],
  ['FLAC', 'flac', (b) => ascii(b, 0, 'fLaC')],
  ['Ogg', 'ogg', (b) => ascii(b, 0, 'OggS')],
  ['Sun AU', 'au', (b) => ascii(b, 0, '.snd')],
  ['MP4 audio', 'm4a', (b) => ascii(b, 4, 'ftyp') && !/^(qt|avc|heic|heix|mif1|crx)/.test(String.fromCharCode(...b.subarray(8, 12)))],
  ['WebM/Matroska', 'webm', (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3],
  ['Core Audio', 'caf', (b) => ascii(b, 0, 'caff')],
  ['AMR', 'amr', (b) => ascii(b, 0, '#!AMR')],
];

/** Common files that are not audio, by their signature, for the reason given. */
const NOT_AUDIO = [
  ['a JPEG image', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['a PNG image', (b) => b[0] === 0x89 && ascii(b, 1, 'PNG')],
  ['a GIF image', (b) => ascii(b, 0, 'GIF8')],
  ['a WebP image', (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')],
  ['a video (AVI)', (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'AVI ')],
  ['a PDF document', (b) => ascii(b, 0, '%PDF')],
  ['a ZIP archive or office document', (b) => ascii(b, 0, 'PK\u0003\u0004')],
  ['a video (QuickTime)', (b) => ascii(b, 4, 'ftyp') && ascii(b, 8, 'qt')],
  ['an image (HEIF)', (b) => ascii(b, 4, 'ftyp')],
];

/** Whether `bytes` (the first bytes of a file) look like text: no control characters
 *  besides tab and line ends, and valid UTF-8. */
function looksLikeText(bytes) {
  if (bytes.some((c) => c < 9 || (c > 13 && c < 32) || c === 127)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.max(0, bytes.length - 3)));
    return true;
  } catch {
    return false;
  }
}

/** What the first bytes of a file say: `{ audio: true, format, extension }` or `{ audio:
 *  false, reason }`. */
export function sniff(bytes) {
  if (bytes.length === 0) return { audio: false, reason: 'the file is empty' };
  const known = AUDIO.find(([, , test]) => test(bytes));
  if (known) return { audio: true, format: known[0], extension: known[1] };
  const mpeg = mpegFrame(bytes, 0);
  if (mpeg) return { audio: true, format: mpeg, extension: mpeg.startsWith('AAC') ? 'aac' : 'mp3' };
  const other = NOT_AUDIO.find(([, test]) => test(bytes));
  if (other) return { audio: false, reason: `not audio: it is ${other[0]}` };
  if (looksLikeText(bytes)) return { audio: false, reason: 'not audio: it is text' };
  return { audio: false, reason: 'not a kind of audio file this page knows (WAV, MP3, Ogg, FLAC, AU, AIFF, M4A, WebM)' };
}

/** `sniff` of a File or Blob's first bytes. */
export async function sniffFile(file) {
  try {
    return sniff(new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()));
  } catch (e) {
    return { audio: false, reason: `it could not be read (${e.message || e.name})` };
  }
}
