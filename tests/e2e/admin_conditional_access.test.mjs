// The Conditional Access admin API in Graph paths and shapes, against the Worker in workerd.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";

const ADMIN = "test-admin-secret-0123456789abcdef";
let worker;
before(async () => { worker = await startWorker({ vars: { ADMIN_TOKEN: ADMIN } }); });
after(async () => { await worker?.stop(); });

const CA = "/v1.0/identity/conditionalAccess";
function call(method, path, body, { token = ADMIN, contentType = "application/json" } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = contentType;
  return fetch(`${worker.url}${path}`, {
    method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

const mfaForAll = {
  displayName: "Require multifactor authentication for all users",
  state: "enabledForReportingButNotEnforced",
  templateId: "a3d0a415-b068-4326-9251-f9cdf9feeb64",
  conditions: {
    clientAppTypes: ["all"],
    applications: { includeApplications: ["All"], excludeApplications: [] },
    users: { includeUsers: ["All"], excludeUsers: ["11111111-1111-1111-1111-111111111111"], excludeRoles: ["d29b2b05-8046-44ba-8758-1e26182fcf32"] },
  },
  grantControls: { operator: "OR", builtInControls: ["mfa"] },
};

test("every admin request needs the admin credential", async () => {
  for (const token of [null, "wrong-secret-0123456789abcdef0123"]) {
    const res = await call("GET", `${CA}/policies`, undefined, { token });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "admin.unauthorized");
  }
});

test("a policy is created, read, listed, patched to On and deleted", async () => {
  const created = await call("POST", `${CA}/policies`, mfaForAll);
  assert.equal(created.status, 201);
  const policy = await created.json();
  assert.match(policy.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(policy.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(policy.conditions, mfaForAll.conditions);

  const list = await (await call("GET", `${CA}/policies`)).json();
  assert.ok(list["@odata.context"].endsWith("#identity/conditionalAccess/policies"));
  assert.deepEqual(list.value.map((p) => p.id), [policy.id]);

  const patched = await call("PATCH", `${CA}/policies/${policy.id}`, { state: "enabled" });
  assert.equal(patched.status, 200);
  assert.equal((await patched.json()).state, "enabled");
  const read = await (await call("GET", `${CA}/policies/${policy.id}`)).json();
  assert.equal(read.state, "enabled");
  assert.equal(read.displayName, mfaForAll.displayName);

  assert.equal((await call("DELETE", `${CA}/policies/${policy.id}`)).status, 204);
  const gone = await call("GET", `${CA}/policies/${policy.id}`);
  assert.equal(gone.status, 404);
  assert.equal((await gone.json()).error.code, "admin.not_found");
});

test("a bad policy is refused with its JSON path and nothing is stored", async () => {
  const before = (await (await call("GET", `${CA}/policies`)).json()).value.length;
  const bad = { ...mfaForAll, conditions: { ...mfaForAll.conditions, users: { includeUsers: ["All"], inculdeGroups: [] } } };
  const res = await call("POST", `${CA}/policies`, bad);
  assert.equal(res.status, 400);
  const { error } = await res.json();
  assert.match(error.target, /conditions\.users\.inculdeGroups/);

  const both = { ...mfaForAll, grantControls: { operator: "OR", builtInControls: ["mfa"], authenticationStrength: { id: "00000000-0000-0000-0000-000000000002" } } };
  assert.equal((await call("POST", `${CA}/policies`, both)).status, 400);

  const dup = await call("POST", `${CA}/policies`, '{"displayName":"a","state":"enabled","state":"disabled"}');
  assert.equal(dup.status, 400);
  assert.equal((await dup.json()).error.code, "policy.duplicate_key");

  const after = (await (await call("GET", `${CA}/policies`)).json()).value.length;
  assert.equal(after, before);
});

test("bodies must be JSON objects of a sane size", async () => {
  const wrongType = await call("POST", `${CA}/policies`, "displayName=x", { contentType: "application/x-www-form-urlencoded" });
  assert.equal(wrongType.status, 415);
  const huge = await call("POST", `${CA}/policies`, JSON.stringify({ displayName: "x".repeat(300_000) }));
  assert.equal(huge.status, 413);
  const notJson = await call("POST", `${CA}/policies`, "{not json");
  assert.equal(notJson.status, 400);
  const array = await call("POST", `${CA}/policies`, "[]");
  assert.equal(array.status, 400);
});

test("a named location in use by a policy cannot be deleted, and What If uses both", async () => {
  const loc = await call("POST", `${CA}/namedLocations`, {
    "@odata.type": "#microsoft.graph.ipNamedLocation", displayName: "Office", isTrusted: true,
    ipRanges: [{ "@odata.type": "#microsoft.graph.iPv4CidrRange", cidrAddress: "203.0.113.0/24" }],
  });
  assert.equal(loc.status, 201);
  const location = await loc.json();
  const pol = await call("POST", `${CA}/policies`, {
    ...mfaForAll, displayName: "MFA outside the office", state: "enabled",
    conditions: { ...mfaForAll.conditions, locations: { includeLocations: ["All"], excludeLocations: [location.id] } },
  });
  assert.equal(pol.status, 201, JSON.stringify(await pol.clone().json()));
  const policy = await pol.json();

  const refused = await call("DELETE", `${CA}/namedLocations/${location.id}`);
  assert.equal(refused.status, 400);
  assert.equal((await call("GET", `${CA}/namedLocations/${location.id}`)).status, 200);

  const evaluate = (ip) => call("POST", `${CA}/evaluate`, {
    signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn", userId: "22222222-2222-2222-2222-222222222222" },
    signInContext: { "@odata.type": "#microsoft.graph.applicationContext", includeApplications: ["app-1"] },
    signInConditions: { clientAppType: "browser", ipAddress: ip },
    appliedPoliciesOnly: false,
  });
  const outside = await evaluate("198.51.100.7");
  assert.equal(outside.status, 200);
  const outsideResult = (await outside.json()).value.find((r) => r.id === policy.id);
  assert.equal(outsideResult.policyApplies, true);
  const inside = (await (await evaluate("203.0.113.9")).json()).value.find((r) => r.id === policy.id);
  assert.equal(inside.policyApplies, false);
  assert.deepEqual(inside.analysisReasons, "location");
});

test("@odata.context pasted from a Graph response is accepted and never stored or echoed", async () => {
  const context = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/namedLocations/$entity";
  const created = await call("POST", `${CA}/namedLocations`, {
    "@odata.context": context, "@odata.type": "#microsoft.graph.ipNamedLocation",
    displayName: "Lab (mapped range)", isTrusted: false,
    ipRanges: [{ "@odata.type": "#microsoft.graph.iPv6CidrRange", cidrAddress: "::ffff:10.0.0.0/104" }],
  });
  assert.equal(created.status, 201);
  const location = await created.json();
  assert.equal(location["@odata.context"], undefined);
  const patched = await call("PATCH", `${CA}/namedLocations/${location.id}`, { "@odata.context": context, displayName: "Lab" });
  assert.equal(patched.status, 200);
  assert.equal((await patched.json())["@odata.context"], undefined);
  const read = await (await call("GET", `${CA}/namedLocations/${location.id}`)).json();
  assert.equal(read.displayName, "Lab");
  assert.equal(read["@odata.context"], undefined);
  const policy = await call("POST", `${CA}/policies`, { ...mfaForAll, "@odata.context": context.replace("namedLocations", "policies") });
  assert.equal(policy.status, 201);
  const { id } = await policy.json();
  const list = await (await call("GET", `${CA}/policies`)).json();
  assert.ok(list.value.every((p) => !("@odata.context" in p)), JSON.stringify(list));
  assert.equal((await call("DELETE", `${CA}/policies/${id}`)).status, 204);
  assert.equal((await call("DELETE", `${CA}/namedLocations/${location.id}`)).status, 204);
});
