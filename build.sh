#!/usr/bin/env bash
# The one entry point: ./build.sh [COMMAND]
#   build (default)  the wasm packages into www/pkg* (and the native tools)
#   wasm             only the wasm packages
#   serve [PORT]     build, then serve www/ at http://127.0.0.1:PORT (default 8080, or $PORT)
#   package          build, then pack the npm package (the element, the API, their types, the
#                    wasm packages, the default model) into target/npm/ (scripts/package.mjs)
#   setup            install only what the build, tests and benchmarks need (test runs it first)
#   test             every test: Rust unit/integration, wasm in Node, browser end-to-end
#   bench            speed benchmarks that print figures (native vs librosa, wasm in Chromium)
#   bench-backends   only the wasm backend comparison (burn flex vs ndarray, SIMD or not)
#   fixtures         regenerate the librosa reference fixtures
#   fuzz [SECONDS]   fuzz every parser for SECONDS each (default 60; fuzz/run.sh)
#   train [ARGS]     train every recipe `train --list-recipes` names (ARGS go to each run)
# Machine set-up (Debian packages, the wasm toolchain and its Debian fallback route,
# wasm-bindgen-cli, rustup components, Node, npm packages, Chromium, Python) lives in
# scripts/setup.sh; each command below calls the parts it uses.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# log, die, TARGET, setup, wasm_toolchain (sets WASM_CARGO), ensure_wasm_bindgen_cli,
# ensure_browser_tools, ensure_pip.
source "$ROOT/scripts/setup.sh"
WASM_TARGET_DIR="$ROOT/target/wasm"
PKG="$ROOT/www/pkg"

# --- build -------------------------------------------------------------------------------
# wasm_package OUT_DIR TARGET_DIR [RUSTFLAGS] [cargo args...]: one wasm-bindgen package.
# The shipped packages use wasm SIMD, with burn's SIMD kernels (the crate feature `simd`):
# musicnn's matmuls run at 13-15 G multiply-adds/s with them and 3-5 without
# (../shared/docs/PERFORMANCE.md; `./build.sh bench` prints ours). Browsers without wasm
# SIMD get the plain package, www/pkg-plain (no SIMD, with the decoder), which the worker
# picks by WebAssembly.validate.
WASM_FLAGS="-C target-feature=+simd128"
wasm_package() {
    local out="$1" target_dir="$2" flags="${3-$WASM_FLAGS}"
    shift 3 || shift $#
    wasm_toolchain
    ensure_wasm_bindgen_cli
    RUSTFLAGS="$flags --cfg getrandom_backend=\"wasm_js\"" CARGO_TARGET_DIR="$target_dir" \
        "${WASM_CARGO[@]}" --quiet --profile wasm --lib --target "$TARGET" "$@"
    wasm-bindgen --target web --no-typescript --out-dir "$out" "$target_dir/$TARGET/wasm/genre_classifier.wasm"
}

build_wasm() {
    log "building the wasm package"
    local start=$SECONDS
    wasm_package "$PKG" "$WASM_TARGET_DIR" "${WASM_FLAGS}" --no-default-features --features simd
    log "building the decoder package (for files Web Audio cannot decode, and Web Workers)"
    wasm_package "$ROOT/www/pkg-decode" "$WASM_TARGET_DIR" "${WASM_FLAGS}" --features simd
    log "building the plain package (browsers without wasm SIMD)"
    wasm_package "$ROOT/www/pkg-plain" "$ROOT/target/wasm-plain" ""
    local size gz
    size=$(stat -c %s "$PKG/genre_classifier_bg.wasm")
    gz=$(gzip -9 -c "$PKG/genre_classifier_bg.wasm" | wc -c)
    log "www/pkg ready in $((SECONDS - start)) s: wasm $((size / 1024)) KiB, $((gz / 1024)) KiB gzipped"
    if command -v node >/dev/null; then node "$ROOT/tests/node/page_size.mjs" >&2; fi
    write_precache
}

# www/sw-version.js: the build's version and the files the service worker (www/sw.js) keeps
# for offline use, each with its hash (scripts/precache.mjs). Without Node there is none, and
# the page works online only (the service worker does not install).
write_precache() {
    if command -v node >/dev/null; then
        node "$ROOT/scripts/precache.mjs" "$ROOT/www"
    else
        rm -f "$ROOT/www/sw-version.js"
        log "no Node: www/sw-version.js not written, so the page will not work offline"
    fi
}

build_native() {
    log "building the native tools"
    cargo build --quiet --release --bins
}

serve() {
    local port="${1:-${PORT:-8080}}"
    log "serving www/ at http://127.0.0.1:$port/ (Ctrl-C to stop)"
    exec python3 "$ROOT/tests/serve.py" --port "$port" --dir "$ROOT/www"
}

# --- test --------------------------------------------------------------------------------
# Every runner runs to its end (--no-fail-fast); the status is non-zero if any failed.
run_tests() {
    local failed=0
    mkdir -p "$ROOT/target"
    rust_lints || failed=1
    rust_tests || failed=1
    build_wasm
    wasm_lints || failed=1
    ensure_browser_tools
    node_tests || failed=1
    summary
    return $failed
}

rust_lints() {
    local failed=0
    log "cargo fmt --check and clippy"
    cargo fmt --check || failed=1
    cargo clippy --quiet --all-targets -- -D warnings || failed=1
    return $failed
}

rust_tests() {
    log "Rust unit and integration tests"
    cargo test --profile ci --no-fail-fast 2>&1 | tee "$ROOT/target/cargo-test.log" | grep -E '^(test result|running|error|failures:|---- )|panicked' || true
    ! grep -q '^error\|FAILED\|panicked' "$ROOT/target/cargo-test.log"
}

# Clippy on the wasm target (src/web/), without and with every feature (decoder, bench). Only on the rustup
# route: the Debian route has no prebuilt wasm32 std for clippy to check against.
wasm_lints() {
    local failed=0 features
    [ "${WASM_CARGO[0]}" = cargo ] || return 0
    log "clippy on the wasm target (src/web/)"
    for features in --no-default-features --all-features; do
        RUSTFLAGS="--cfg getrandom_backend=\"wasm_js\"" CARGO_TARGET_DIR="$WASM_TARGET_DIR" \
            cargo clippy --quiet --lib --target "$TARGET" "$features" -- -D warnings || failed=1
    done
    return $failed
}

node_tests() {
    log "wasm in Node and browser end-to-end tests (Chromium)"
    node --test --test-reporter=spec tests/node/ tests/browser/ 2>&1 | tee "$ROOT/target/node-test.log"
}

summary() {  # one plain closing line over both runners
    local passed failed
    passed=$(grep -ho '[0-9]* passed' "$ROOT/target/cargo-test.log" | awk '{s+=$1} END {print s+0}')
    failed=$(grep -ho '[0-9]* failed' "$ROOT/target/cargo-test.log" | awk '{s+=$1} END {print s+0}')
    local node_passed node_failed
    node_passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$ROOT/target/node-test.log" | tail -1)
    node_failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$ROOT/target/node-test.log" | tail -1)
    passed=$((passed + ${node_passed:-0}))
    failed=$((failed + ${node_failed:-0}))
    echo "cargo test and node --test: $passed passed, $failed failed"
}

# --- bench -------------------------------------------------------------------------------
bench() {
    benches/mfcc_vs_librosa.sh
    benches/preprocess_vs_librosa.sh
    build_wasm; ensure_browser_tools
    cargo build --quiet --release --bin classify
    cargo bench --quiet --bench musicnn
    bench_package
    node tests/browser/bench_musicnn.mjs
    node tests/browser/bench.mjs
    node tests/browser/bench_live.mjs
    node tests/browser/bench_library.mjs
    bench_wasm_backends
}

# The page's package plus the benchmark-only exports (the `bench` feature: MusicnnBench)
# into www/pkg-bench, served beside the page for tests/browser/bench_musicnn.mjs; the
# page's own packages leave them out.
bench_package() {
    log "building the benchmark package (the page's, with MusicnnBench)"
    wasm_package "$ROOT/www/pkg-bench" "$WASM_TARGET_DIR-bench" "$WASM_FLAGS" \
        --no-default-features --features simd,bench
}

# The wasm backend comparison: packages with both burn backends, with and without SIMD,
# timed in Chromium by tests/browser/bench_backends.mjs.
bench_wasm_backends() {
    local dir="$ROOT/target/wasm-bench"
    log "building wasm packages with flex and ndarray, with SIMD"
    wasm_package "$dir/simd" "$dir/target-simd" "$WASM_FLAGS" --no-default-features --features wasm-backends,simd
    log "building wasm packages with flex and ndarray, without SIMD"
    wasm_package "$dir/no-simd" "$dir/target-no-simd" "" --no-default-features --features wasm-backends
    node tests/browser/bench_backends.mjs "$dir/simd" "$dir/no-simd"
}

# --- train -------------------------------------------------------------------------------
# Trains every recipe the train binary knows, on ../shared/data/gtzan (GC_DATA) and its
# short excerpts (GC_EXCERPTS), with the fault-filtered split lists in $data/splits. Each
# recipe (architecture, features, split, optimiser, augmentation, prior share, seed) is
# data in the library, so `train --recipe NAME` alone reproduces a shipped model.
# `train --list-recipes` prints "NAME<TAB>OUTDIR", OUTDIR relative to the repository:
# www/models/NAME for the shipped models, target/models/NAME for those trained only for
# comparison (cnn-random: the tutorial's random segment split). Extra arguments go to
# every run.
train_models() {
    local data="${GC_DATA:-../shared/data/gtzan}" excerpts="${GC_EXCERPTS:-../shared/data/gtzan-excerpts}"
    [ -f "$data/manifest.csv" ] || die "no data at $data (set GC_DATA)"
    [ -f "$excerpts/manifest.csv" ] || die "no excerpts at $excerpts (set GC_EXCERPTS)"
    ensure_pip  # pip fetches musicnn's wheel, once, into target/musicnn
    cargo build --quiet --release --bin train
    local train="$ROOT/target/release/train" recipes name out
    recipes="$("$train" --list-recipes)" || die "train --list-recipes failed"
    [ -n "$recipes" ] || die "train --list-recipes named no recipe"
    while IFS=$'\t' read -r name out; do
        if [ -z "$name" ] || [ -z "$out" ]; then
            die "train --list-recipes: expected NAME<TAB>OUTDIR, got '$name'"
        fi
        log "training $name into $out"
        "$train" --recipe "$name" --data "$data" --extra-data "$excerpts" \
            --split-dir "$data/splits" --out "$ROOT/$out" "$@" </dev/null
    done <<<"$recipes"
}

case "${1:-build}" in
    build) build_wasm; build_native ;;
    wasm) build_wasm ;;
    serve) shift; build_wasm; serve "$@" ;;
    package) build_wasm; ensure_node; node "$ROOT/scripts/package.mjs" ;;
    setup) setup ;;
    test) setup; run_tests ;;
    bench) bench ;;
    bench-backends) ensure_browser_tools; bench_wasm_backends ;;
    fixtures) tests/fixtures/make_librosa_fixtures.sh ;;
    fuzz) shift; exec fuzz/run.sh "$@" ;;
    train) shift; train_models "$@" ;;
    *) die "unknown command '$1' (build | wasm | setup | serve [PORT] | package | test | bench | bench-backends | fixtures | fuzz [SECONDS] | train [ARGS])" ;;
esac
