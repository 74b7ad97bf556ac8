"""The tutorial's preprocessing.py with librosa 0.11, as one timed run.

Usage: python librosa_preprocess.py DATA_DIR OUT.json [--indent N]

Walks DATA_DIR/<genre>/*, loads each file at 22 050 Hz (librosa.load), cuts it into at
most ten 3 s segments, computes librosa.feature.mfcc of each, and writes the tutorial's
JSON ({"mapping", "labels", "mfcc"}, plus "files" as the `features` tool writes) with
json.dump: compact, the layout `features` writes, or with --indent 4 as the tutorial
writes it. Prints one JSON line: the milliseconds of start-up (imports) and of the work. benches/preprocess_vs_librosa.sh times the whole process around it as well.
"""

import json
import os
import sys
import time

SR, SEGMENT, SEGMENTS, N_MFCC, N_FFT, HOP = 22050, 66150, 10, 13, 2048, 512

# Start-up, reported apart from the work: librosa imports its submodules (scipy, soundfile,
# numba...) on first use, so one MFCC of silence is part of it.
start = time.perf_counter()
import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile  # noqa: E402, F401

librosa.feature.mfcc(y=np.zeros(SEGMENT, np.float32), sr=SR, n_mfcc=N_MFCC, n_fft=N_FFT, hop_length=HOP)
imported, imported_cpu = time.perf_counter(), time.process_time()
FRAMES = 1 + SEGMENT // HOP  # 130

root, out = sys.argv[1], sys.argv[2]
indent = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--indent" else None
data = {"mapping": [], "labels": [], "mfcc": [], "files": []}
genres = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
for label, genre in enumerate(genres):
    data["mapping"].append(genre)
    folder = os.path.join(root, genre)
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        signal, sr = librosa.load(path, sr=SR)
        for d in range(min(SEGMENTS, len(signal) // SEGMENT)):
            segment = signal[d * SEGMENT : (d + 1) * SEGMENT]
            mfcc = librosa.feature.mfcc(y=segment, sr=sr, n_mfcc=N_MFCC, n_fft=N_FFT, hop_length=HOP).T
            if len(mfcc) == FRAMES:
                data["mfcc"].append(mfcc.tolist())
                data["labels"].append(label)
                data["files"].append(path)
with open(out, "w") as fp:
    json.dump(data, fp, indent=indent)
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({"startup_ms": (imported - start) * 1e3, "work_ms": (done - imported) * 1e3,
                  "work_cpu_ms": (done_cpu - imported_cpu) * 1e3, "segments": len(data["mfcc"])}))
