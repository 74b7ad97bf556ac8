#!/usr/bin/env bash
# Fits the same linear head natively and in wasm (Node's V8, with and without SIMD) and
# checks that the weights are the same bit for bit; prints how long 500 songs' rows of
# 1506 values take to fit in each. src/models/head_fit.rs is compiled alone, in a small
# crate in a temporary folder (the module needs only libm and thiserror), optimised
# like the page's hot paths (opt-level 3), without building the whole crate.
#
#   benches/head_fit_wasm.sh          needs cargo, the wasm32-unknown-unknown target, node
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<'EOF'
[package]
name = "head_fit_wasm"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
libm = "0.2.16"
thiserror = "2.0.21"

[profile.dev]
opt-level = 3
debug = false

[workspace]
EOF
cat > "$work/src/lib.rs" <<EOF
//! head_fit.rs alone: a fit's checksum and timings, natively and in wasm.
#![allow(dead_code)]
mod card {
    //! The one type head_fit.rs takes from the crate's card module.
    #[derive(Debug, Clone, PartialEq)]
    pub struct EpochRecord {
        pub epoch: usize,
        pub train_loss: f64,
        pub train_accuracy: f64,
        pub valid_loss: f64,
        pub valid_accuracy: f64,
    }
    pub fn sha256_hex(_: &[u8]) -> String {
        String::new()
    }
}
#[path = "$root/src/models/head_fit.rs"]
mod head_fit;
use head_fit::*;

/// n rows of width values in 10 overlapping classes (class c 0.3 higher on every
/// value i with i mod classes = c), from a fixed generator.
fn data(n: usize, width: usize, classes: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let mut s = seed;
    let mut u = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let labels: Vec<usize> = (0..n).map(|i| (i * 7) % classes).collect();
    let mut values = Vec::with_capacity(n * width);
    for &l in &labels {
        for i in 0..width {
            values.push(2.0 * (u() + u() + u()) + if i % classes == l { 0.3 } else { 0.0 });
        }
    }
    (values, labels)
}

/// FNV-1a of a small fit's weights, biases and class weights (mini-batches, L2, early
/// stopping), with its epochs in the top bits.
#[unsafe(no_mangle)]
pub extern "C" fn fit_checksum() -> u64 {
    let (width, classes) = (300, 10);
    let (t, tl) = data(600, width, classes, 1);
    let (v, vl) = data(150, width, classes, 2);
    let train = HeadRows::new(&t, width, &tl).unwrap();
    let valid = HeadRows::new(&v, width, &vl).unwrap();
    let weights = balanced_class_weights(&tl, classes, 0.5);
    let options = HeadFitOptions { l2: 1e-4, max_epochs: 60, ..HeadFitOptions::default() };
    let fitted = fit_linear_head(&train, &valid, &weights, &options, |_, _| true).unwrap();
    let mut h: u64 = 0xcbf29ce484222325;
    for x in fitted.head.weight.iter().chain(&fitted.head.bias).chain(&weights) {
        for b in x.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    h ^ (fitted.best_epoch as u64) << 56 ^ (fitted.history.len() as u64) << 48
}

/// Fits 500 songs' rows (per_song each, 80 % training, 20 % validation) of 1506 values
/// in 10 classes with the musicnn recipe's options and this patience; returns the
/// epochs run times 1000 plus the best epoch.
#[unsafe(no_mangle)]
pub extern "C" fn timing(per_song: u32, patience: u32) -> u32 {
    let (width, classes) = (1506, 10);
    let n = 500 * per_song as usize;
    let (t, tl) = data(n * 4 / 5, width, classes, 3);
    let (v, vl) = data(n / 5, width, classes, 4);
    let train = HeadRows::new(&t, width, &tl).unwrap();
    let valid = HeadRows::new(&v, width, &vl).unwrap();
    let options = HeadFitOptions { patience: patience as usize, ..HeadFitOptions::default() };
    let fitted = fit_linear_head(&train, &valid, &[1.0; 10], &options, |_, _| true).unwrap();
    (fitted.history.len() * 1000 + fitted.best_epoch) as u32
}

#[cfg(test)]
mod native {
    #[test]
    fn native() {
        println!("checksum {:016x}", super::fit_checksum());
        for (per, patience) in [(1, 15), (11, 15), (11, 300)] {
            let t = std::time::Instant::now();
            let r = super::timing(per, patience);
            println!(
                "native: 500 songs x {per} rows, patience {patience}: {} epochs (best {}), {:.2} s",
                r / 1000,
                r % 1000,
                t.elapsed().as_secs_f64()
            );
        }
    }
}
EOF
export CARGO_TARGET_DIR="$work/target"
cd "$work"
native="$(cargo test -q -- --nocapture native 2>/dev/null | grep -E '^(checksum|native)')"
echo "$native"
want="$(echo "$native" | sed -n 's/^checksum //p')"
status=0
for flags in "" "-C target-feature=+simd128"; do
    RUSTFLAGS="$flags" cargo build -q --target wasm32-unknown-unknown
    got="$(node -e "
const fs = require('fs');
const wasm = fs.readFileSync('target/wasm32-unknown-unknown/debug/head_fit_wasm.wasm');
WebAssembly.instantiate(wasm, {}).then(({ instance }) => {
  const sum = BigInt.asUintN(64, instance.exports.fit_checksum()).toString(16).padStart(16, '0');
  console.log('checksum ' + sum);
  for (const [per, patience] of [[1, 15], [11, 15], [11, 300]]) {
    const t = Date.now();
    const r = instance.exports.timing(per, patience);
    console.log('wasm${flags:+ (simd128)}: 500 songs x ' + per + ' rows, patience ' + patience + ': '
      + Math.floor(r / 1000) + ' epochs (best ' + (r % 1000) + '), ' + ((Date.now() - t) / 1000).toFixed(2) + ' s');
  }
});")"
    echo "$got" | grep -v '^checksum'
    sum="$(echo "$got" | sed -n 's/^checksum //p')"
    if [ "$sum" != "$want" ]; then
        echo "wasm${flags:+ (simd128)}: checksum $sum differs from native $want" >&2
        status=1
    else
        echo "wasm${flags:+ (simd128)}: checksum $sum, the same bits as native"
    fi
done
exit $status
