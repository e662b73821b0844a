#!/usr/bin/env bash
# Builds the Worker (feature `worker`) into build/ with the pinned tools. wrangler runs this
# as its [build] command. VESTIBULE_PREBUILT=1 reuses an existing build (the tests build once
# and then start several wrangler instances).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if [ "${VESTIBULE_PREBUILT:-0}" = 1 ] && [ -f build/index.js ]; then
  exit 0
fi
worker-build --release --features worker
