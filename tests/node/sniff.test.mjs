// The page's sniffer (www/batch/sniff.js) gives every case of tests/fixtures/sniff_cases.json
// its verdict, extension and reason: the same cases the crate's src/audio/sniff.rs is
// tested on, so the page and `classify` agree on what is audio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sniff, sniffFile, SNIFF_BYTES } from '../../www/batch/sniff.js';

const CASES = JSON.parse(readFileSync(new URL('../fixtures/sniff_cases.json', import.meta.url), 'utf8'));
const EXTENSIONS = ['wav', 'mp3', 'aac', 'flac', 'ogg', 'au', 'aiff', 'm4a', 'webm', 'caf', 'amr'];

test('every case of the shared fixture gets its verdict, extension and reason', () => {
  assert.ok(CASES.length > 40, `${CASES.length} cases`);
  for (const { name, hex, audio, extension, reason } of CASES) {
    const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
    assert.ok(bytes.length <= SNIFF_BYTES, `${name}: more than ${SNIFF_BYTES} bytes`);
    const got = sniff(bytes);
    if (audio) {
      assert.deepEqual({ audio: got.audio, extension: got.extension }, { audio, extension }, name);
      assert.ok(typeof got.format === 'string' && got.format.length > 0, `${name}: no format name`);
    } else {
      assert.deepEqual(got, { audio, reason }, name);
    }
  }
});

test('the fixture covers every extension the decoder fallback knows', () => {
  const covered = new Set(CASES.filter((c) => c.audio).map((c) => c.extension));
  assert.deepEqual([...covered].sort(), [...EXTENSIONS].sort());
});

test('a Blob is judged by its first bytes only', async () => {
  const wav = Buffer.from(CASES.find((c) => c.name === 'WAV (RIFF)').hex, 'hex');
  const song = new Blob([wav, new Uint8Array(1 << 16).fill(0xff)]);
  assert.deepEqual(await sniffFile(song), { audio: true, format: 'WAV', extension: 'wav' });
  assert.deepEqual(await sniffFile(new Blob([])), { audio: false, reason: 'the file is empty' });
});
