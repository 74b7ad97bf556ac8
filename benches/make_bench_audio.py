"""Writes the browser benchmark's songs as users have them: 44.1 kHz stereo MP3s made
from GTZAN clips (a 30 s one, and a 5-minute one of ten clips back to back).

usage: make_bench_audio.py OUT_DIR CLIP...   (at least ten clips)
"""
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr


def stereo_44k(path):
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    up = soxr.resample(mono, rate, 44100, quality="HQ")
    # A slightly different right channel, so the decoder really has two to mix.
    return np.stack([up, 0.9 * up], axis=1)


def main():
    out, clips = Path(sys.argv[1]), sys.argv[2:]
    if len(clips) < 10:
        sys.exit("need ten clips")
    out.mkdir(parents=True, exist_ok=True)
    songs = [stereo_44k(c) for c in clips[:10]]
    sf.write(out / "song-30s.mp3", songs[0], 44100, format="MP3")
    sf.write(out / "song-5min.mp3", np.concatenate(songs), 44100, format="MP3")


if __name__ == "__main__":
    main()
