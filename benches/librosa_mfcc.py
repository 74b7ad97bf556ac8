"""Times librosa 0.11's MFCC of whole clips, segment by segment as the tutorial does.

Usage: python librosa_mfcc.py FILE.f32... (raw float32 clips from examples/dump_samples.rs).
Prints one JSON line per clip with the best-of-N milliseconds. Run with one thread
(benches/mfcc_vs_librosa.sh sets the BLAS/OpenMP thread variables) for a per-core figure.
"""

import json
import sys
import time

import librosa
import numpy as np

SR, SEGMENT, REPEATS = 22050, 66150, 20


def clip_mfcc(y):
    return [
        librosa.feature.mfcc(y=y[i * SEGMENT : (i + 1) * SEGMENT], sr=SR, n_mfcc=13, n_fft=2048, hop_length=512)
        for i in range(len(y) // SEGMENT)
    ]


for path in sys.argv[1:]:
    y = np.fromfile(path, dtype="<f4")
    clip_mfcc(y)  # warm-up: librosa caches the filterbank and FFT plans
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        clip_mfcc(y)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"clip": path, "seconds": len(y) / SR, "segments": len(y) // SEGMENT, "ms": best * 1e3}))
