#!/usr/bin/env bash
# README command 1: installs what is missing, then runs the Worker locally in workerd
# (wrangler dev) on 127.0.0.1:8787 with KV persisted under .wrangler/state and the dev
# outbox routes on.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
# Local secrets live in .dev.vars (git-ignored), made once with fresh random values.
if [ ! -f .dev.vars ]; then
  node -e 'const r=(n)=>require("crypto").randomBytes(n).toString("base64url");
    console.log(`ADMIN_TOKEN="${r(32)}"`)' > .dev.vars
  log "wrote local secrets to .dev.vars (ADMIN_TOKEN is the admin API bearer secret)"
fi
exec wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state \
  --var DEV_ROUTES:on --show-interactive-dev-session=false
