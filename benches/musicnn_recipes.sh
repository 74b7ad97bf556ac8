#!/usr/bin/env bash
# Compares musicnn training recipes on the validation split, by the mean over seeds:
#
#   benches/musicnn_recipes.sh [-s "42 1 2"] 'NAME: train args' ['NAME: train args' ...]
#
# e.g. benches/musicnn_recipes.sh 'shipped: --shifted-segments' \
#          'prior-0.5: --shifted-segments --tag-prior-weight 0.5'
#
# Each recipe is trained once per seed on ../shared/data/gtzan + gtzan-excerpts (the
# fault-filtered split, as `./build.sh train` does) into target/recipes/<name>/<seed>/,
# from train's defaults for --model musicnn (the shipped recipe, `train --recipe musicnn`,
# adds --shifted-segments to them).
# Prints per seed and as the mean: validation tracks, tracks balanced over genres and
# excerpts at the recipe's tag-prior share, and the head alone (prior 0); then the mean
# at the shares 0.2-0.6 (every run evaluates each share of the prior). The embeddings
# come from the feature cache after the first run, so a recipe takes seconds a seed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seeds="42 1 2"
if [[ ${1:-} == -s ]]; then
    seeds=$2
    shift 2
fi
if (($# == 0)); then
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
data=${GC_DATA:-../shared/data/gtzan}
excerpts=${GC_EXCERPTS:-../shared/data/gtzan-excerpts}
cargo build --quiet --release --bin train

printf '%-22s %6s %8s %9s %9s %16s %8s\n' recipe seed tracks balanced excerpts "head alone: trk" epochs
for recipe in "$@"; do
    name=${recipe%%:*}
    read -r -a args <<<"${recipe#*:}"
    for seed in $seeds; do
        out=target/recipes/$name/$seed
        mkdir -p "$(dirname "$out")"
        ./target/release/train --data "$data" --extra-data "$excerpts" --model musicnn \
            --split filtered --split-dir "$data/splits" --out "$out" --seed "$seed" \
            "${args[@]}" >"$out.log" 2>&1 || {
            echo "$name seed $seed failed: see $out.log" >&2
            exit 1
        }
    done
    python3 - "$name" "$seeds" <<'PY'
import json, sys
name, seeds = sys.argv[1], sys.argv[2].split()
rows = []
for seed in seeds:
    t = json.load(open(f"target/recipes/{name}/{seed}/card.json"))["training"]
    head = next(g for g in t["tag_prior_grid"] if g["weight"] == 0.0)
    rows.append((t["validation"]["track_accuracy"], t["validation"]["balanced_track_accuracy"],
                 t["excerpts"]["track_accuracy"], head["track_accuracy"], t["best_epoch"]))
    print(f"{name:22s} {seed:>6s} {rows[-1][0]:8.1%} {rows[-1][1]:9.1%} {rows[-1][2]:9.1%} "
          f"{rows[-1][3]:16.1%} {rows[-1][4]:8d}")
mean = [sum(r[i] for r in rows) / len(rows) for i in range(4)]
print(f"{name:22s} {'mean':>6s} {mean[0]:8.1%} {mean[1]:9.1%} {mean[2]:9.1%} {mean[3]:16.1%}")
# The mean at each share of the prior (every run evaluates them all), to see whether a
# recipe would want another share than the one it ran with.
grids = [json.load(open(f"target/recipes/{name}/{seed}/card.json"))["training"]["tag_prior_grid"]
         for seed in seeds]
shares = []
for i, row in enumerate(grids[0]):
    m = [sum(g[i][k] for g in grids) / len(grids)
         for k in ("track_accuracy", "balanced_track_accuracy", "excerpt_accuracy")]
    shares.append(f"{row['weight']:.1f}: {m[0]:.1%} {m[1]:.1%} {m[2]:.1%}")
print(f"{'':22s}   mean by prior share (tracks, balanced, excerpts): " + " | ".join(shares[2:7]))
PY
done
