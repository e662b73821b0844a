# Sourced by every script: one place for tool versions, paths and the offline switches.
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$CARGO_HOME/bin:$ROOT/node_modules/.bin:$PATH"

WORKER_BUILD_VERSION="0.8.7"
# The CLI must equal the wasm-bindgen crate in Cargo.lock; read it from there so they never drift.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$ROOT/Cargo.lock")"
export WORKER_BUILD_VERSION WASM_BINDGEN_VERSION

# worker-build would download wasm-bindgen and wasm-opt from GitHub without these.
export WASM_BINDGEN_BIN="$CARGO_HOME/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"

# wrangler: no telemetry, no request.cf download, logs kept inside the repo.
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export XDG_CONFIG_HOME="$ROOT/.tools/config"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
