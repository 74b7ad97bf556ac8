//! The wasm-bindgen API the page's worker calls (wasm32 only).
