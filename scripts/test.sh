#!/usr/bin/env bash
# README command 2: installs what is missing, then runs every check and every test.
# Fails on the first red step.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
start=$(date +%s)
step() { log "$* ($(( $(date +%s) - start ))s)"; }

VESTIBULE_NEED_BROWSER=1 bash scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "clippy: core (no features)"
cargo clippy --quiet --all-targets -- -D warnings
step "clippy: js adapter (wasm32)"
cargo clippy --quiet --lib --target wasm32-unknown-unknown --features js -- -D warnings
step "clippy: worker adapter (wasm32)"
cargo clippy --quiet --lib --target wasm32-unknown-unknown --features worker -- -D warnings

step "cargo test (core, native)"
cargo test --quiet

step "build: npm package"
bash scripts/build-pkg.sh
step "build: Worker"
bash scripts/build-worker.sh

step "tsc --noEmit on the package types"
tsc --noEmit -p tests/types/tsconfig.json

step "node tests (package)"
node --test --test-force-exit --test-reporter=spec tests/node/

step "browser tests (demo in headless Chromium)"
node --test --test-force-exit --test-concurrency=1 --test-reporter=spec tests/browser/

step "end-to-end tests (Worker in workerd)"
node --test --test-force-exit --test-concurrency=1 --test-reporter=spec tests/e2e/

step "wasm sizes"
bash scripts/sizes.sh
step "all green"
