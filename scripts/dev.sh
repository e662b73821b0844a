#!/usr/bin/env bash
# README command 1: installs what is missing, then runs the Worker locally in workerd
# (wrangler dev) on 127.0.0.1:8787 with KV persisted under .wrangler/state and the dev
# outbox routes on.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
# Local secrets live in .dev.vars (git-ignored), made once with fresh random values; a
# secret added later is appended to an existing file.
touch .dev.vars
node -e 'const fs=require("fs"), r=(n)=>require("crypto").randomBytes(n).toString("base64url");
  const have=fs.readFileSync(".dev.vars","utf8"), add=[];
  const want={ADMIN_TOKEN:()=>r(32), CODE_KEY:()=>r(32),
    SIGNING_KEYS:()=>JSON.stringify([{kid:"dev-"+r(6),seed:r(32)}])};
  // Single quotes: dotenv keeps the JSON of SIGNING_KEYS literally.
  for (const [k,v] of Object.entries(want)) if (!new RegExp(`^${k}=`,"m").test(have)) add.push(`${k}='"'"'${v()}'"'"'`);
  if (add.length) fs.appendFileSync(".dev.vars", (have && !have.endsWith("\n") ? "\n" : "")+add.join("\n")+"\n");
  if (add.length) console.error("wrote "+add.map(a=>a.split("=")[0]).join(", ")+" to .dev.vars")'
# The browser demo (node scripts/serve-www.mjs 8080) may call the admin API from its own
# origin, to push its console's policies when the customer app is switched to this Worker;
# the admin credential is still required. DEMO_ORIGINS overrides the list; unset in
# production, the admin API sends no CORS headers at all.
exec wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state \
  --var DEV_ROUTES:on \
  --var "ADMIN_CORS_ORIGINS:${DEMO_ORIGINS:-http://127.0.0.1:8080 http://localhost:8080}" \
  --show-interactive-dev-session=false
