#!/usr/bin/env bash
# The one entry point: ./build.sh [build|setup|serve [PORT]|test|bench|fixtures|train]
#   build (default)  the wasm package into www/pkg (and the native tools)
#   serve [PORT]     build, then serve www/ at http://127.0.0.1:PORT (default 8080, or $PORT)
#   setup            install only what the build, tests and benchmarks need (test runs it first)
#   test             every test: Rust unit/integration, wasm in Node, browser end-to-end
#   bench            speed benchmarks that print figures (native vs librosa, wasm in Chromium)
#   bench-backends   only the wasm backend comparison (burn flex vs ndarray, SIMD or not)
#   fixtures         regenerate the librosa reference fixtures
#   fuzz [SECONDS]   fuzz every parser for SECONDS each (default 60; fuzz/run.sh)
# Installs what a fresh machine lacks (Debian packages, wasm-bindgen-cli, npm packages),
# only when missing, and uses the plain rustup wasm32 target wherever it is available
# (GC_WASM_ROUTE=debian forces the fallback route described in wasm_toolchain).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
TARGET=wasm32-unknown-unknown
WASM_TARGET_DIR="$ROOT/target/wasm"
PKG="$ROOT/www/pkg"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
APT_UPDATED=
deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
apt_install() {  # apt_install PACKAGE... (only the missing ones)
    local missing=() p
    for p in "$@"; do [ -z "${APT_UPGRADE:-}" ] && deb_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "please install these packages with your system's package manager: ${missing[*]}"
    log "installing Debian packages: ${missing[*]}"
    local apt_log="$ROOT/target/.apt.log"
    mkdir -p "$ROOT/target"
    # Update the package list first (once per run): a fresh image has none, and a stale
    # one fails (404) or, worse, installs old versions (rustc-web 1.85 instead of 1.96).
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq >&2 || log "apt-get update failed; trying the package list as it is"
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null 2>"$apt_log" && return 0
    cat "$apt_log" >&2
    die "could not install Debian packages: ${missing[*]}. Run by hand: sudo apt-get update && sudo apt-get install ${missing[*]}"
}
apt_upgrade() { APT_UPGRADE=1 apt_install "$@"; }  # install, or upgrade to the newest version

# --- the wasm toolchain ---------------------------------------------------------------
# Sets WASM_CARGO (a command array) and the environment for building $TARGET.
# Route 1: rustup has (or can download) the wasm32 standard library: plain stable cargo.
# Route 2: Debian's rustc-web/cargo-web with std built from rust-web-src (-Z build-std),
#          linked with the rustup toolchain's rust-lld (see TOOLCHAIN.md).
WASM_RUSTC_MIN=1.95  # the oldest rustc the dependencies accept (burn 0.22 needs 1.95)
debian_rustc_ok() {
    local v
    v="$(/usr/bin/rustc --version 2>/dev/null | awk '{print $2}')"
    [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$WASM_RUSTC_MIN" "${v%%-*}" | sort -V | head -1)" = "$WASM_RUSTC_MIN" ]
}
wasm_toolchain() {
    local sysroot route_file="$ROOT/target/.wasm-route"
    sysroot="$(rustc --print sysroot)"
    if [ "${GC_WASM_ROUTE:-}" = debian ]; then
        : # forced, to exercise the fallback
    elif [ -d "$sysroot/lib/rustlib/$TARGET/lib" ]; then
        WASM_CARGO=(cargo build); return
    fi
    if [ -z "${GC_WASM_ROUTE:-}" ] && [ "$(cat "$route_file" 2>/dev/null)" != debian ] && command -v rustup >/dev/null; then
        log "trying: rustup target add $TARGET"
        if timeout 90 rustup target add "$TARGET" >&2 && [ -d "$sysroot/lib/rustlib/$TARGET/lib" ]; then
            WASM_CARGO=(cargo build); return
        fi
        log "rustup cannot fetch the $TARGET standard library here; using Debian's toolchain"
        mkdir -p "$ROOT/target" && echo debian >"$route_file"
    fi
    [ "${GC_WASM_ROUTE:-}" = debian ] || log "(to try rustup again later: rm target/.wasm-route)"
    command -v apt-get >/dev/null \
        || die "no wasm32 standard library: run 'rustup target add $TARGET' (needs rustup and its download server)"
    apt_install rustc-web cargo-web rust-web-src
    if ! debian_rustc_ok; then
        log "Debian's $(/usr/bin/rustc --version) is older than the $WASM_RUSTC_MIN the dependencies need: upgrading"
        apt_upgrade rustc-web cargo-web rust-web-src
        debian_rustc_ok || die "Debian's $(/usr/bin/rustc --version) is too old (need $WASM_RUSTC_MIN, from bookworm-security); use the rustup route: rm -f target/.wasm-route; rustup target add $TARGET"
    fi
    [ -d /usr/lib/rustlib/src/rust/library ] || die "rust-web-src did not provide the std source"
    local lld="$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
    if [ ! -x "$lld" ]; then
        apt_install lld-19; lld=/usr/bin/wasm-ld-19
    fi
    # Debian's compiler for the wasm build only, not exported: the native builds that
    # follow in the same run must keep the rustup toolchain (and its cached target/).
    WASM_CARGO=(env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld"
        /usr/bin/cargo build -Z build-std=std,panic_abort)
}

wasm_bindgen_version() { grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p'; }

# The wasm-bindgen binary whose version is $1: the one on PATH, else the one in cargo's
# install root (CARGO_INSTALL_ROOT, else CARGO_HOME). Prints its path.
cargo_install_bin() { echo "${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"; }
find_wasm_bindgen() {
    local c
    for c in "$(command -v wasm-bindgen 2>/dev/null || true)" "$(cargo_install_bin)/wasm-bindgen"; do
        [ -n "$c" ] && [ -x "$c" ] || continue
        if [ "$("$c" --version 2>/dev/null | awk '{print $2}')" = "$1" ]; then echo "$c"; return 0; fi
    done
    return 1
}

# Makes `wasm-bindgen` on PATH the version in Cargo.lock (the two must match exactly),
# installing wasm-bindgen-cli with cargo when needed. The locked install comes first; it
# fails when wasm-bindgen-cli's own lockfile pins a crate version the registry no longer
# serves (0.2.130 pins webpki-roots 1.0.11), and then the same exact version is installed
# with freshly resolved dependencies.
ensure_wasm_bindgen_cli() {
    local want bin dir install_log
    want="$(wasm_bindgen_version)"
    [ -n "$want" ] || die "wasm-bindgen is not in Cargo.lock"
    if ! bin="$(find_wasm_bindgen "$want")"; then
        dir="$(cargo_install_bin)"
        install_log="$ROOT/target/.wasm-bindgen-install.log"
        mkdir -p "$ROOT/target"
        log "installing wasm-bindgen-cli $want into $dir (once; takes a few minutes)"
        if ! cargo install --quiet --force --locked wasm-bindgen-cli --version "=$want" 2>"$install_log"; then
            log "the locked install failed ($(grep -m1 '^error' "$install_log" || echo 'see above')); installing $want without --locked"
            cargo install --quiet --force wasm-bindgen-cli --version "=$want" 2>>"$install_log" || true
        fi
        bin="$(find_wasm_bindgen "$want")" || {
            cat "$install_log" >&2
            die "could not install wasm-bindgen-cli $want (the version in Cargo.lock). Run by hand:
    cargo install wasm-bindgen-cli --version =$want
then make sure '$dir' is on PATH and 'wasm-bindgen --version' prints $want, and run ./build.sh again."
        }
    fi
    # The right binary may sit in the install root without being first (or at all) on PATH.
    if [ "$(command -v wasm-bindgen 2>/dev/null)" != "$bin" ]; then
        PATH="$(dirname "$bin"):$PATH"; export PATH; hash -r
    fi
}

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

build_native() {
    log "building the native tools"
    cargo build --quiet --release --bins
}

# --- browser test tooling --------------------------------------------------------------
NODE_MIN=20  # playwright-core 1.65 (package-lock.json) needs Node 20 or later
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
# True when node_modules holds exactly the versions package-lock.json lists.
npm_packages_current() {
    [ -d "$ROOT/node_modules" ] && node -e '
        const lock = require(process.argv[1] + "/package-lock.json");
        for (const [p, v] of Object.entries(lock.packages)) {
            if (p && require(process.argv[1] + "/" + p + "/package.json").version !== v.version) process.exit(1);
        }' "$ROOT" 2>/dev/null
}
ensure_browser_tools() {
    command -v node >/dev/null || apt_install nodejs
    command -v npm >/dev/null || apt_install npm
    if [ "$(node_major)" -lt "$NODE_MIN" ]; then
        die "Node $(node --version) is too old: the tests need Node $NODE_MIN or later (playwright-core). Install a newer Node.js (for example from your distribution's backports or nodejs.org), put it first on PATH, and run ./build.sh again."
    fi
    # Debian's Chromium at /usr/bin/chromium, or the browser that CHROMIUM names.
    if [ -n "${CHROMIUM:-}" ]; then
        [ -x "$CHROMIUM" ] || die "CHROMIUM=$CHROMIUM is not an executable"
    elif [ ! -x /usr/bin/chromium ]; then
        apt_install chromium
        [ -x /usr/bin/chromium ] || die "the chromium package gave no /usr/bin/chromium; set CHROMIUM to a Chromium or Chrome executable"
    fi
    if ! npm_packages_current; then
        log "installing npm packages from package-lock.json"
        npm ci --loglevel=error --no-audit --no-fund \
            || die "npm ci failed (see above); the npm registry must be reachable. Run by hand in $ROOT: npm ci"
    fi
}

# Rust components that `test` uses (a minimal rustup profile lacks them).
ensure_rust_components() {
    local c
    for c in rustfmt clippy; do
        if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
            log "installing the rustup component $c"
            rustup component add "$c" >&2 || die "cargo ${c/rustfmt/fmt} is missing. Run by hand: rustup component add $c"
        fi
    done
}

# `./build.sh setup`: installs everything the build, the tests and the benchmarks need,
# each thing only when it is missing. `test` runs it first; the other commands call the
# parts they use.
setup() {
    local start=$SECONDS
    wasm_toolchain
    ensure_wasm_bindgen_cli
    ensure_rust_components
    ensure_browser_tools
    command -v python3 >/dev/null || apt_install python3
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv  # bench and fixtures venvs
    log "setup done in $((SECONDS - start)) s: wasm build with ${WASM_CARGO[*]}, $(wasm-bindgen --version), node $(node --version), $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -1)"
}

serve() {
    local port="${1:-${PORT:-8080}}"
    log "serving www/ at http://127.0.0.1:$port/ (Ctrl-C to stop)"
    exec python3 "$ROOT/tests/serve.py" --port "$port" --dir "$ROOT/www"
}

run_tests() {
    local failed=0
    log "cargo fmt --check and clippy"
    cargo fmt --check || failed=1
    cargo clippy --quiet --all-targets -- -D warnings || failed=1
    log "Rust unit and integration tests"
    cargo test --profile ci --no-fail-fast 2>&1 | tee "$ROOT/target/cargo-test.log" | grep -E '^(test result|running|error|failures:|---- )|panicked' || true
    grep -q '^error\|FAILED\|panicked' "$ROOT/target/cargo-test.log" && failed=1
    build_wasm
    if [ "${WASM_CARGO[0]}" = cargo ]; then
        log "clippy on the wasm target (src/web.rs)"
        for features in --no-default-features --all-features; do
            RUSTFLAGS="--cfg getrandom_backend=\"wasm_js\"" CARGO_TARGET_DIR="$WASM_TARGET_DIR" \
                cargo clippy --quiet --lib --target "$TARGET" "$features" -- -D warnings || failed=1
        done
    fi
    ensure_browser_tools
    log "wasm in Node and browser end-to-end tests (Chromium)"
    node --test --test-reporter=spec tests/node/ tests/browser/ 2>&1 | tee "$ROOT/target/node-test.log" \
        || failed=1
    summary
    return $failed
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

# Trains the four shipped models on ../shared/data/gtzan (fault-filtered split, fixed
# seed) into www/models/<name>/, then the cnn on the tutorial's random segment split into
# target/models/cnn-random/ for comparison (capped at 60 epochs: on that split the
# validation loss keeps falling, as segments of one song sit on both sides). Extra
# arguments go to every `train` run.
# musicnn's recipe, chosen on validation by the mean over seeds (README "Training";
# benches/musicnn_recipes.sh compares recipes).
MUSICNN_RECIPE=(--shifted-segments --tag-prior-weight 0.4)

train_models() {
    local data="${GC_DATA:-../shared/data/gtzan}"
    [ -f "$data/manifest.csv" ] || die "no data at $data (set GC_DATA)"
    # pip fetches musicnn's wheel (Debian's python3 comes without it).
    command -v python3 >/dev/null || apt_install python3
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    cargo build --quiet --release --bin train
    local excerpts="${GC_EXCERPTS:-../shared/data/gtzan-excerpts}"
    [ -f "$excerpts/manifest.csv" ] || die "no excerpts at $excerpts (set GC_EXCERPTS)"
    # The default model: musicnn's backbone (the PyPI wheel musicnn==0.1.0, fetched once
    # by pip into target/musicnn) and a genre head on the clips and the short excerpts.
    # Its recipe was chosen on the validation split by the mean over seeds (README).
    log "training musicnn (pretrained backbone + genre head)"
    "$ROOT/target/release/train" --data "$data" --extra-data "$excerpts" --model musicnn \
        --split filtered --split-dir "$data/splits" --out "$ROOT/www/models/musicnn" \
        "${MUSICNN_RECIPE[@]}" "$@"
    local model recipe
    for model in ann ann-reg cnn rnn; do
        # The cnn's regularisation was chosen on the validation split, by the mean over
        # five seeds (README "Training"); the others keep the tutorial's recipe.
        recipe=()
        [ "$model" = cnn ] && recipe=(--mixup 0.4 --gain-db 6 --label-smoothing 0.1 --patience 30)
        log "training $model"
        "$ROOT/target/release/train" --data "$data" --model "$model" --split filtered \
            --split-dir "$data/splits" --out "$ROOT/www/models/$model" "${recipe[@]}" "$@"
    done
    log "training cnn on a random segment split (the tutorial's figure, for comparison)"
    "$ROOT/target/release/train" --data "$data" --model cnn --split random --epochs 60 \
        --out "$ROOT/target/models/cnn-random" "$@"
}

case "${1:-build}" in
    build) build_wasm; build_native ;;
    serve) shift; build_wasm; serve "$@" ;;
    setup) setup ;;
    test) setup; run_tests ;;
    bench)
        benches/mfcc_vs_librosa.sh
        benches/preprocess_vs_librosa.sh
        build_wasm; ensure_browser_tools
        cargo build --quiet --release --bin classify
        cargo bench --quiet --bench musicnn
        node tests/browser/bench_musicnn.mjs
        node tests/browser/bench.mjs
        node tests/browser/bench_live.mjs
        bench_wasm_backends ;;
    bench-backends) ensure_browser_tools; bench_wasm_backends ;;
    fixtures) tests/fixtures/make_librosa_fixtures.sh ;;
    fuzz) shift; exec fuzz/run.sh "$@" ;;
    train) shift; train_models "$@" ;;
    *) die "unknown command '$1' (build | setup | serve [PORT] | test | bench | fixtures | fuzz [SECONDS] | train)" ;;
esac
