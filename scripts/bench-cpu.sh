#!/usr/bin/env bash
# CPU time per request of each native-auth step on the local workerd process
# (bench/load/cpu.mjs; options pass through, e.g. --n 200). Needs a fresh
# scripts/build-worker.sh.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
[ -f build/index_bg.wasm ] || { log "no Worker build: run scripts/build-worker.sh first"; exit 1; }
exec node bench/load/cpu.mjs "$@"
