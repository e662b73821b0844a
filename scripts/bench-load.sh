#!/usr/bin/env bash
# Load benchmark: the Worker in local workerd, full sign-in with email MFA under a fixed
# number of concurrent clients for a fixed time (bench/load/run.mjs; options pass through,
# e.g. --duration 20 --concurrency 8 --hashing light). Needs a fresh scripts/build-worker.sh.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
[ -f build/index_bg.wasm ] || { log "no Worker build: run scripts/build-worker.sh first"; exit 1; }
exec node bench/load/run.mjs "$@"
