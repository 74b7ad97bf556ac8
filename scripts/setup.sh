#!/usr/bin/env bash
# Machine set-up for build.sh, which sources this file; run alone, it does `./build.sh setup`.
# Installs what a fresh machine lacks (Debian packages, wasm-bindgen-cli, rustup components,
# npm packages, Chromium), only when missing, and uses the plain rustup wasm32 target
# wherever it is available (GC_WASM_ROUTE=debian forces the fallback route described in
# wasm_toolchain). A step that cannot be done says what to run by hand.
#
# Defines: log, die, TARGET; setup (everything below), wasm_toolchain (sets WASM_CARGO),
# ensure_wasm_bindgen_cli, ensure_rust_components, ensure_browser_tools, ensure_python,
# ensure_pip, apt_install.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=wasm32-unknown-unknown

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------------
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
# rust-toolchain.toml names only the channel ("stable"), so that no cargo command has to
# download anything; route 2 runs /usr/bin/cargo with RUSTC=/usr/bin/rustc, which ignore it.
WASM_RUSTC_MIN=1.95  # the oldest rustc the dependencies accept (burn 0.22 needs 1.95)
debian_rustc_ok() {
    local v
    v="$(/usr/bin/rustc --version 2>/dev/null | awk '{print $2}')"
    [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$WASM_RUSTC_MIN" "${v%%-*}" | sort -V | head -1)" = "$WASM_RUSTC_MIN" ]
}
wasm_toolchain() {
    local sysroot
    sysroot="$(rustc --print sysroot)"
    if [ "${GC_WASM_ROUTE:-}" = debian ]; then
        : # forced, to exercise the fallback
    elif [ -d "$sysroot/lib/rustlib/$TARGET/lib" ] || rustup_wasm_target "$sysroot"; then
        WASM_CARGO=(cargo build); return
    fi
    debian_wasm_toolchain "$sysroot"
}

# Route 1's download, tried once: a machine where it failed remembers that in
# target/.wasm-route and goes straight to route 2 afterwards.
rustup_wasm_target() {
    local sysroot="$1" route_file="$ROOT/target/.wasm-route"
    [ -z "${GC_WASM_ROUTE:-}" ] && [ "$(cat "$route_file" 2>/dev/null)" != debian ] \
        && command -v rustup >/dev/null || return 1
    log "trying: rustup target add $TARGET"
    if timeout 90 rustup target add "$TARGET" >&2 && [ -d "$sysroot/lib/rustlib/$TARGET/lib" ]; then
        return 0
    fi
    log "rustup cannot fetch the $TARGET standard library here; using Debian's toolchain"
    mkdir -p "$ROOT/target" && echo debian >"$route_file"
    return 1
}

# Route 2.
debian_wasm_toolchain() {
    local sysroot="$1"
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
    # shellcheck disable=SC2054  # "std,panic_abort" is one argument
    WASM_CARGO=(env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld"
        /usr/bin/cargo build -Z build-std=std,panic_abort)
}

# --- wasm-bindgen-cli -----------------------------------------------------------------
wasm_bindgen_version() { grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p'; }

# The wasm-bindgen binary whose version is $1: the one on PATH, else the one in cargo's
# install root (CARGO_INSTALL_ROOT, else CARGO_HOME). Prints its path.
cargo_install_bin() { echo "${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"; }
find_wasm_bindgen() {
    local c
    for c in "$(command -v wasm-bindgen 2>/dev/null || true)" "$(cargo_install_bin)/wasm-bindgen"; do
        if [ -z "$c" ] || [ ! -x "$c" ]; then continue; fi
        if [ "$("$c" --version 2>/dev/null | awk '{print $2}')" = "$1" ]; then echo "$c"; return 0; fi
    done
    return 1
}

# Makes `wasm-bindgen` on PATH the version in Cargo.lock (the two must match exactly),
# installing wasm-bindgen-cli with cargo when needed.
ensure_wasm_bindgen_cli() {
    local want bin
    want="$(wasm_bindgen_version)"
    [ -n "$want" ] || die "wasm-bindgen is not in Cargo.lock"
    if ! bin="$(find_wasm_bindgen "$want")"; then
        install_wasm_bindgen_cli "$want"
        bin="$(find_wasm_bindgen "$want")"
    fi
    # The right binary may sit in the install root without being first (or at all) on PATH.
    if [ "$(command -v wasm-bindgen 2>/dev/null)" != "$bin" ]; then
        PATH="$(dirname "$bin"):$PATH"; export PATH; hash -r
    fi
}

# install_wasm_bindgen_cli VERSION, into cargo's install root. The locked install
# comes first; it fails when wasm-bindgen-cli's own lockfile pins a crate version the
# registry no longer serves (0.2.130 pins webpki-roots 1.0.11), and then the same exact
# version is installed with freshly resolved dependencies.
install_wasm_bindgen_cli() {
    local want="$1" dir install_log="$ROOT/target/.wasm-bindgen-install.log"
    dir="$(cargo_install_bin)"
    mkdir -p "$ROOT/target"
    log "installing wasm-bindgen-cli $want into $dir (once; takes a few minutes)"
    if ! cargo install --quiet --force --locked wasm-bindgen-cli --version "=$want" 2>"$install_log"; then
        log "the locked install failed ($(grep -m1 '^error' "$install_log" || echo 'see above')); installing $want without --locked"
        cargo install --quiet --force wasm-bindgen-cli --version "=$want" 2>>"$install_log" || true
    fi
    find_wasm_bindgen "$want" >/dev/null && return 0
    cat "$install_log" >&2
    die "could not install wasm-bindgen-cli $want (the version in Cargo.lock). Run by hand:
    cargo install wasm-bindgen-cli --version =$want
then make sure '$dir' is on PATH and 'wasm-bindgen --version' prints $want, and run ./build.sh again."
}

# --- Rust components --------------------------------------------------------------------
# Rust components that `test` uses (a minimal rustup profile lacks them). They are not in
# rust-toolchain.toml: a component named there that is missing would make rustup try to
# download it before any cargo command, where it may not reach its server.
ensure_rust_components() {
    local c
    for c in rustfmt clippy; do
        if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
            log "installing the rustup component $c"
            rustup component add "$c" >&2 || die "cargo ${c/rustfmt/fmt} is missing. Run by hand: rustup component add $c"
        fi
    done
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
# Node and npm (the tests, the service worker's file list, the npm package).
ensure_node() {
    command -v node >/dev/null || apt_install nodejs
    command -v npm >/dev/null || apt_install npm
    if [ "$(node_major)" -lt "$NODE_MIN" ]; then
        die "Node $(node --version) is too old: the tests need Node $NODE_MIN or later (playwright-core). Install a newer Node.js (for example from your distribution's backports or nodejs.org), put it first on PATH, and run ./build.sh again."
    fi
}
ensure_browser_tools() {
    ensure_node
    ensure_chromium
    if ! npm_packages_current; then
        log "installing npm packages from package-lock.json"
        npm ci --loglevel=error --no-audit --no-fund \
            || die "npm ci failed (see above); the npm registry must be reachable. Run by hand in $ROOT: npm ci"
    fi
}
# Debian's Chromium at /usr/bin/chromium, or the browser that CHROMIUM names.
ensure_chromium() {
    if [ -n "${CHROMIUM:-}" ]; then
        [ -x "$CHROMIUM" ] || die "CHROMIUM=$CHROMIUM is not an executable"
    elif [ ! -x /usr/bin/chromium ]; then
        apt_install chromium
        [ -x /usr/bin/chromium ] || die "the chromium package gave no /usr/bin/chromium; set CHROMIUM to a Chromium or Chrome executable"
    fi
}

# --- Python ---------------------------------------------------------------------------
# bench and fixtures make their own venvs (librosa, musicnn's TensorFlow).
ensure_python() {
    command -v python3 >/dev/null || apt_install python3
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
}
# train: pip fetches musicnn's wheel (Debian's python3 comes without pip).
ensure_pip() {
    command -v python3 >/dev/null || apt_install python3
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
}

# --- Test speech ----------------------------------------------------------------------
# The music check's tests speak with espeak-ng (a spoken weather report is not music).
ensure_speech() {
    command -v espeak-ng >/dev/null || apt_install espeak-ng
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
    ensure_python
    ensure_speech
    log "setup done in $((SECONDS - start)) s: wasm build with ${WASM_CARGO[*]}, $(wasm-bindgen --version), node $(node --version), $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -1)"
}

# Run alone (scripts/setup.sh), not sourced: set the machine up.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    cd "$ROOT"
    setup
fi
