#!/usr/bin/env bash
# Builds the npm package into pkg/ from the same crate and Cargo.lock as the Worker, with the
# `js` feature only (the Worker entry point stays out: it shadows `fetch` and adds ~330 KB).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
# Speed over size for the package: opt-level 3 with LLVM's inliner capped at 40 (default
# 250) decides 20 policies in ~18 us through the JS API (bench/js/policy.mjs) at 320.8 KB
# gzip; the Worker's size-first "z" is 278.9 KB gzip but ~27 us, over the 20 us target.
# Neither fits the 200 KB gzip budget: most of the module is the flow engine and the
# serde code of its configuration, state and inputs, not the policy engine.
# Its own target dir, so the Worker's build and this one do not rebuild each other.
RUSTFLAGS="${RUSTFLAGS:-} -Cllvm-args=-inline-threshold=40" \
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo build --quiet --lib --release --target wasm32-unknown-unknown \
  --features js --target-dir target/pkg
rm -rf pkg && mkdir -p pkg
"$WASM_BINDGEN_BIN" target/pkg/wasm32-unknown-unknown/release/vestibule.wasm \
  --target web --out-dir pkg --out-name vestibule
"$WASM_OPT_BIN" pkg/vestibule_bg.wasm -O3 --strip-debug \
  --enable-bulk-memory --enable-reference-types --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue \
  -o pkg/vestibule_bg.wasm
cp js/*.js js/*.d.ts pkg/
node scripts/write-pkg-manifest.mjs
# Resolve `import "vestibule"` to pkg/ for the repo's own tests and the demo, as an installed
# dependency would be.
mkdir -p node_modules && ln -sfn ../pkg node_modules/vestibule
