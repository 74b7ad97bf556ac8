#!/usr/bin/env bash
# The tutorial's preprocessing end to end, ours against librosa 0.11, one core each: decode
# 20 GTZAN clips (the first two of each genre), compute 10 segments of 13 MFCCs each, write
# the JSON. Ours is `features` (release build); librosa's is benches/librosa_preprocess.py
# (librosa.load, librosa.feature.mfcc per segment, json.dump). Prints the median of several
# runs of each side, alternated, and the ratios.
#
#   benches/preprocess_vs_librosa.sh [RUNS]     (default 7; GC_DATA, GC_BENCH_CORE,
#                                                CARGO_TARGET_DIR)
#
# GC_FEATURES=path/to/features times that build instead of building this tree's.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-7}"
core="${GC_BENCH_CORE:-0}"
data="${GC_DATA:-$root/../shared/data/gtzan}"
python="$(tests/fixtures/librosa_env.sh)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for dir in "$data"/*/; do
    files=("$dir"*.ogg)
    [ -e "${files[0]}" ] || continue
    mkdir -p "$tmp/data/$(basename "$dir")"
    ln -s "${files[@]:0:2}" "$tmp/data/$(basename "$dir")/"
done
features="${GC_FEATURES:-}"
if [ -z "$features" ]; then
    cargo build --quiet --release --bin features
    features="${CARGO_TARGET_DIR:-$root/target}/release/features"
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
"$python" - "$runs" "$core" "$tmp" "$features" "$root/benches/librosa_preprocess.py" <<'PY'
import json, resource, statistics, subprocess, sys, time

runs, core, tmp, features, script = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
data = f"{tmp}/data"
commands = {
    "ours": [features, data, "--out", f"{tmp}/ours.json"],
    "librosa": [sys.executable, script, data, f"{tmp}/librosa.json"],
    "librosa_indent": [sys.executable, script, data, f"{tmp}/librosa-indent.json", "--indent", "4"],
}


def timed(cmd):
    """Wall and CPU (user + sys) seconds of one run on one core, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(["taskset", "-c", core, *cmd], check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


for cmd in commands.values():  # warm-up: page cache, librosa's first-run caches
    timed(cmd)
results = {name: [] for name in commands}
for _ in range(runs):
    for name, cmd in commands.items():
        wall, cpu, out = timed(cmd)
        inner = json.loads(out.splitlines()[-1]) if name != "ours" else {}
        results[name].append({"wall": wall, "cpu": cpu, "work": inner.get("work_ms", 0) / 1e3,
                              "work_cpu": inner.get("work_cpu_ms", 0) / 1e3})
med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in results.items()}

ours, theirs = json.load(open(f"{tmp}/ours.json")), json.load(open(f"{tmp}/librosa.json"))
assert ours["mapping"] == theirs["mapping"] and ours["labels"] == theirs["labels"], "different segments"
diff = max(abs(a - b) for s, t in zip(ours["mfcc"], theirs["mfcc"]) for f, g in zip(s, t) for a, b in zip(f, g))
n_files, n_segments = len(set(ours["files"])), len(ours["mfcc"])

o, l, li = med["ours"], med["librosa"], med["librosa_indent"]
print(f"{n_files} clips, {n_segments} segments, one core each, median of {runs} runs; "
      f"same segments and labels on both sides, largest MFCC difference {diff:.1e}")
print(f"{'':44} {'wall s':>7} {'cpu s':>7}")
print(f"{'ours: features, whole process':44} {o['wall']:7.3f} {o['cpu']:7.3f}")
print(f"{'librosa: whole process':44} {l['wall']:7.3f} {l['cpu']:7.3f}")
print(f"{'librosa: work only (no start-up, imports)':44} {l['work']:7.3f} {l['work_cpu']:7.3f}")
print(f"{'librosa: work only, json.dump indent=4':44} {li['work']:7.3f} {li['work_cpu']:7.3f}")
print(f"end to end, ours (whole process) against librosa's work only: {l['work'] / o['wall']:.1f}x faster "
      f"(librosa's whole process: {l['wall'] / o['wall']:.1f}x; with the tutorial's indent=4: "
      f"{li['work'] / o['wall']:.1f}x; by CPU time, work only: {l['work_cpu'] / o['cpu']:.1f}x)")
PY
