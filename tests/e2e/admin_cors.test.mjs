// The admin API and browsers: no CORS at all unless ADMIN_CORS_ORIGINS lists the caller's
// exact origin (as scripts/dev.sh does for the demo), and even then the credential is
// still required. See src/admin/cors.rs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADMIN, nativeVars } from "../support/native.mjs";
import { startWorker } from "../support/worker.mjs";

const DEMO = "http://127.0.0.1:8080";
const POLICIES = "contoso/v1.0/identity/conditionalAccess/policies";
let open;
let closed;

before(async () => {
  open = await startWorker({ vars: { ...nativeVars(), ADMIN_CORS_ORIGINS: `${DEMO} http://localhost:8080` } });
  closed = await startWorker({ vars: nativeVars() });
});
after(async () => {
  await open?.stop();
  await closed?.stop();
});

const preflight = (worker, origin) => fetch(`${worker.url}/${POLICIES}`, {
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
});
const list = (worker, origin, token = ADMIN) => fetch(`${worker.url}/${POLICIES}`, {
  headers: { origin, ...(token ? { authorization: `Bearer ${token}` } : {}) },
});

test("without ADMIN_CORS_ORIGINS the admin API sends no CORS header, even to an authorized call", async () => {
  const pre = await preflight(closed, DEMO);
  assert.equal(pre.status, 401);
  assert.equal(pre.headers.get("access-control-allow-origin"), null);
  const res = await list(closed, DEMO);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), null);
});

test("a listed origin gets its preflight and reads answers; the credential is still required", async () => {
  const pre = await preflight(open, DEMO);
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), DEMO);
  assert.match(pre.headers.get("access-control-allow-headers"), /authorization/);
  assert.match(pre.headers.get("access-control-allow-methods"), /PATCH/);
  assert.match(pre.headers.get("vary") ?? "", /Origin/);

  const ok = await list(open, "http://localhost:8080");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("access-control-allow-origin"), "http://localhost:8080");

  const refused = await list(open, DEMO, null);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("access-control-allow-origin"), DEMO, "the page can read why it was refused");
  assert.equal((await refused.json()).error.code, "admin.unauthorized");
});

test("an origin that is not listed gets no CORS header", async () => {
  for (const origin of ["http://127.0.0.1:8081", "https://evil.example", "null"]) {
    const pre = await preflight(open, origin);
    assert.equal(pre.status, 401, origin);
    assert.equal(pre.headers.get("access-control-allow-origin"), null, origin);
    const res = await list(open, origin);
    assert.equal(res.status, 200, origin);
    assert.equal(res.headers.get("access-control-allow-origin"), null, origin);
    // Answers vary by origin once a list is set, so no cache mixes them up.
    assert.match(res.headers.get("vary") ?? "", /Origin/, origin);
  }
  // Without a list nothing varies by origin.
  assert.doesNotMatch((await list(closed, DEMO)).headers.get("vary") ?? "", /Origin/);
});
