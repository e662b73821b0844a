// With DEV_ROUTES off, as in a deployment, the diagnostics routes do not exist.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";

let worker;
before(async () => { worker = await startWorker({ vars: { DEV_ROUTES: "off" } }); });
after(async () => { await worker?.stop(); });

test("dev routes answer 404 when DEV_ROUTES is off", async () => {
  for (const [method, path] of [["GET", "/_dev/kv/x"], ["PUT", "/_dev/kv/x"], ["POST", "/_dev/fetch?url=http://127.0.0.1:1/"], ["PUT", "/_dev/native/t/users/u-1/lockout"], ["GET", "/_dev/native/t/users/u-1/record"], ["PUT", "/_dev/native/t/users/u-1/record"]]) {
    const res = await fetch(`${worker.url}${path}`, { method, body: method === "PUT" ? "v" : undefined });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal((await res.json()).error.code, "route.not_found");
  }
});
