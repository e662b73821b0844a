#!/usr/bin/env bash
# Prints the raw and gzip sizes of the Worker's and the package's wasm.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
printf '%-28s %12s %12s\n' "artifact" "raw bytes" "gzip -9"
for f in build/index_bg.wasm pkg/vestibule_bg.wasm; do
  if [ -f "$f" ]; then
    printf '%-28s %12s %12s\n' "$f" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
  fi
done
