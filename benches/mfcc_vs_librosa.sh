#!/usr/bin/env bash
# Native MFCC speed against librosa 0.11, one core each, on the same decoded samples of
# five GTZAN clips. Prints both timings per clip and the speed ratio.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$(tests/fixtures/librosa_env.sh)"
data="$root/../shared/data/gtzan"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo build --quiet --release --example dump_samples
clips=("$data/blues/blues.00000.ogg" "$data/classical/classical.00000.ogg" "$data/jazz/jazz.00002.ogg"
       "$data/metal/metal.00000.ogg" "$data/pop/pop.00010.ogg")
target/release/examples/dump_samples "$tmp" "${clips[@]}" >/dev/null
files=("$tmp"/*.f32)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
ours="$(taskset -c 0 cargo bench --quiet --bench mfcc -- "${files[@]}" 2>/dev/null | grep '^{')"
theirs="$(taskset -c 0 "$python" benches/librosa_mfcc.py "${files[@]}")"
"$python" - "$ours" "$theirs" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines()]
theirs = [json.loads(l) for l in sys.argv[2].splitlines()]
print(f"{'clip':>8} {'seconds':>8} {'ours ms':>9} {'librosa ms':>11} {'ratio':>7}")
for i, (a, b) in enumerate(zip(ours, theirs)):
    print(f"{i:>8} {a['seconds']:>8.2f} {a['ms']:>9.2f} {b['ms']:>11.2f} {b['ms'] / a['ms']:>6.1f}x")
ta, tb = sum(a["ms"] for a in ours), sum(b["ms"] for b in theirs)
print(f"MFCC of a 30 s clip, one core: ours {ta / len(ours):.2f} ms, librosa {tb / len(theirs):.2f} ms, "
      f"ours is {tb / ta:.1f}x faster")
PY
