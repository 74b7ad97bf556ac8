#!/usr/bin/env python3
"""Accuracy of model folders on the validation split, through `classify --json`: the whole
pipeline a user runs (decoding, features, backbone, head), not the trainer's cached
embeddings. Tracks are the filtered split's validation list (splits/valid_filtered.txt),
excerpts the excerpt manifest's `valid` rows. Used to measure what storing weights as
int8 or f16 costs against the f32 network.

    benches/validation_accuracy.py CLASSIFY DATA EXCERPTS MODEL_DIR...
"""
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict


def validation_files(data, excerpts):
    with open(os.path.join(data, "manifest.csv")) as f:
        by_id = {row["id"]: row for row in csv.DictReader(f)}
    with open(os.path.join(data, "splits", "valid_filtered.txt")) as f:
        ids = [os.path.splitext(os.path.basename(line.strip()))[0] for line in f if line.strip()]
    tracks = [(os.path.join(data, by_id[i]["file"]), by_id[i]["genre"]) for i in ids if i in by_id]
    with open(os.path.join(excerpts, "manifest.csv")) as f:
        clips = [(os.path.join(excerpts, r["file"]), r["genre"]) for r in csv.DictReader(f) if r["split"] == "valid"]
    return {"tracks": tracks, "excerpts": clips}


def predictions(classify, model, files):
    out = subprocess.run([classify, "--json", "--model", model, *files], check=True,
                         capture_output=True, text=True).stdout
    return {r["file"]: r["genre"] for r in map(json.loads, out.splitlines()) if "genre" in r}


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    classify, data, excerpts, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    sets = validation_files(data, excerpts)
    print(f"{'model':40} {'tracks':>16} {'balanced':>9} {'excerpts':>16}")
    for model in models:
        cells = []
        for name in ("tracks", "excerpts"):
            files = sets[name]
            guess = predictions(classify, model, [f for f, _ in files])
            right = sum(guess.get(f) == g for f, g in files)
            per = defaultdict(lambda: [0, 0])
            for f, g in files:
                per[g][0] += guess.get(f) == g
                per[g][1] += 1
            balanced = 100 * sum(r / n for r, n in per.values()) / len(per)
            cells.append((right, len(files), balanced))
        (tr, tn, tb), (er, en, _) = cells
        print(f"{model:40} {tr:3}/{tn} {100 * tr / tn:5.1f} % {tb:7.1f} % {er:3}/{en} {100 * er / en:5.1f} %")


if __name__ == "__main__":
    main()
