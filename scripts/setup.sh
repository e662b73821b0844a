#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh machine, and nothing twice:
# each step checks for the exact version first. Binaries come only from crates.io, npm and
# Debian's archive.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$("$WASM_BINDGEN_BIN" --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (the Cargo.lock version)"
  # Not --locked: its lockfile wants a webpki-roots release the registry index lacks.
  cargo install --quiet wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(worker-build --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)" != "$WORKER_BUILD_VERSION" ]; then
  log "installing worker-build $WORKER_BUILD_VERSION"
  cargo install --quiet --locked worker-build --version "$WORKER_BUILD_VERSION"
fi

if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${VESTIBULE_NEED_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
