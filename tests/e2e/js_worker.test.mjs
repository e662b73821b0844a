// The npm package inside a Cloudflare Worker written in JavaScript, in workerd: wrangler
// bundles `import "vestibule"` through the `workerd` export condition and its .wasm import.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";

let worker;
before(async () => {
  worker = await startWorker({ config: "tests/fixtures/js-worker/wrangler.toml", healthPath: "/version", vars: {} });
});
after(async () => { await worker?.stop(); });

test("the package loads in a JS Worker and reports its version", async () => {
  const res = await fetch(`${worker.url}/version`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).name, "vestibule");
});

test("policy decisions run inside the JS Worker", async () => {
  const one = await (await fetch(`${worker.url}/decide?methods=password`)).json();
  assert.equal(one.decision.type, "require");
  assert.equal(one.decision.mfa, true);
  const two = await (await fetch(`${worker.url}/decide?methods=password,sms`)).json();
  assert.deepEqual(two.decision, { type: "allow" });
  const res = await fetch(`${worker.url}/whatif`, {
    method: "POST",
    body: JSON.stringify({
      signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn", userId: "u1" },
      signInContext: { "@odata.type": "#microsoft.graph.applicationContext", includeApplications: ["shop"] },
      signInConditions: { clientAppType: "browser" },
    }),
  });
  const body = await res.json();
  assert.equal(body.value[0].policyApplies, true);
});
