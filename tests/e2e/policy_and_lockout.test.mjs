// Enforcement at the edge, against the Worker in workerd: a Conditional Access block from a
// country named location stops the sign-in after the password (and the sign-in log says
// why), and repeated wrong passwords lock the account until the wait is over.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { CAPS, TYPES, adminCall, assertLogClean, nativeVars, post, recordingCt, signUpWithPassword } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
let worker;
const seen = [PASSWORD];
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

const ct = recordingCt(seen);

const admin = (tenant, method, path, body) => adminCall(worker, method, `${tenant}/v1.0/${path}`, body);

/** A native form POST that claims to come from `country` (Cloudflare's `cf-ipcountry`). */
const postFrom = (tenant, path, params, country) => post(worker, tenant, path, params, { headers: { "cf-ipcountry": country } });

const signUp = (tenant, email) => signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });

/** Initiate + challenge from `country`; returns the continuation token for the password. */
async function toPassword(tenant, email, country = "NL") {
  let r = await postFrom(tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS }, country);
  r = await postFrom(tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, country);
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  return ct(r);
}

test("a block policy on a country named location stops the sign-in, and the log says which policy", async () => {
  const tenant = "blocking";
  const location = await admin(tenant, "POST", "identity/conditionalAccess/namedLocations", {
    "@odata.type": "#microsoft.graph.countryNamedLocation",
    displayName: "Embargoed", countriesAndRegions: ["KP"], includeUnknownCountriesAndRegions: false,
  });
  assert.equal(location.status, 201, JSON.stringify(location.body));
  const policy = await admin(tenant, "POST", "identity/conditionalAccess/policies", {
    displayName: "Block embargoed countries", state: "enabled",
    conditions: {
      clientAppTypes: ["all"],
      applications: { includeApplications: ["All"] },
      users: { includeUsers: ["All"] },
      locations: { includeLocations: [location.body.id] },
    },
    grantControls: { operator: "OR", builtInControls: ["block"] },
  });
  assert.equal(policy.status, 201, JSON.stringify(policy.body));
  const email = "traveller@example.com";
  await signUp(tenant, email);

  const blocked = await postFrom(tenant, TOKEN, { continuation_token: await toPassword(tenant, email, "KP"), grant_type: "password", password: PASSWORD, scope: "openid" }, "KP");
  assert.equal(blocked.status, 400, JSON.stringify(blocked.body));
  assert.equal(blocked.body.error, "access_denied");
  assert.deepEqual(blocked.body.error_codes, [53003]);
  assert.equal(blocked.body.access_token, undefined);

  const home = await postFrom(tenant, TOKEN, { continuation_token: await toPassword(tenant, email, "NL"), grant_type: "password", password: PASSWORD, scope: "openid" }, "NL");
  assert.equal(home.status, 200, JSON.stringify(home.body));
  seen.push(home.body.access_token, home.body.id_token);

  const log = await admin(tenant, "GET", `auditLogs/signIns?$filter=${encodeURIComponent("status/errorCode eq 53003")}`);
  assert.equal(log.status, 200, JSON.stringify(log.body));
  const [record] = log.body.value;
  assert.ok(record, "the blocked attempt is in the sign-in log");
  assert.equal(record.conditionalAccessStatus, "failure");
  const applied = record.appliedConditionalAccessPolicies.find((p) => p.id === policy.body.id);
  assert.equal(applied.result, "failure");
  assert.deepEqual(applied.enforcedGrantControls, ["block"]);
  assert.equal(record.location.countryOrRegion, "KP");
});

test("wrong passwords lock the account: then even the right password is refused", async () => {
  const tenant = "locking";
  const settings = await admin(tenant, "PATCH", "vestibule/flowSettings", { lockout: { freeFailures: 2, baseWaitSeconds: 300 } });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  const email = "forgetful@example.com";
  await signUp(tenant, email);
  const wrong = [];
  for (let i = 0; i < 3; i++) {
    const r = await post(worker, tenant, TOKEN, { continuation_token: await toPassword(tenant, email), grant_type: "password", password: `Wrong-Password-${i}` });
    wrong.push(r.body.error_codes?.[0]);
  }
  assert.deepEqual(wrong.slice(0, 2), [50126, 50126], "the free failures are plain wrong passwords");
  const locked = await post(worker, tenant, TOKEN, { continuation_token: await toPassword(tenant, email), grant_type: "password", password: PASSWORD });
  assert.equal(locked.status, 400, JSON.stringify(locked.body));
  assert.equal(locked.body.error, "invalid_grant");
  assert.deepEqual(locked.body.error_codes, [50053], "locked, not signed in");
  assert.equal(locked.body.access_token, undefined);
});

test("no code, password, token or email reaches the Worker log", () => {
  assertLogClean(worker.output(), seen);
});
