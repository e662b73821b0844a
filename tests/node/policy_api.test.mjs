// The policy half of the package as an app uses it: Graph-shaped in and out, errors as data,
// and nothing throws whatever is passed in.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicies, evaluate, validatePolicies, whatIf } from "vestibule";

const breakGlass = "11111111-1111-1111-1111-111111111111";
const mfaForAll = {
  id: "p-mfa", displayName: "Require MFA for all users", state: "enabled",
  conditions: {
    clientAppTypes: ["all"],
    applications: { includeApplications: ["All"] },
    users: { includeUsers: ["All"], excludeUsers: [breakGlass] },
  },
  grantControls: { operator: "OR", builtInControls: ["mfa"] },
};
const request = (userId) => ({
  signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn", userId },
  signInContext: { "@odata.type": "#microsoft.graph.applicationContext", includeApplications: ["shop"] },
  signInConditions: { clientAppType: "browser" },
  appliedPoliciesOnly: false,
});

test("whatIf returns the Graph response body with policyApplies and analysisReasons", () => {
  const out = whatIf({ policies: [mfaForAll], request: request("alice") });
  assert.deepEqual(Object.keys(out), ["value"]);
  assert.equal(out.value[0].id, "p-mfa");
  assert.equal(out.value[0].policyApplies, true);
  assert.equal(out.value[0].analysisReasons, "notSet");
  const excluded = whatIf({ policies: [mfaForAll], request: request(breakGlass) });
  assert.equal(excluded.value[0].policyApplies, false);
  assert.equal(excluded.value[0].analysisReasons, "users");
});

test("evaluate requires MFA after a password and allows after a second factor", () => {
  const base = { policies: [mfaForAll], signIn: { userId: "alice", appId: "shop" }, now: 1000 };
  const first = evaluate({ ...base, satisfied: [{ method: "password", at: 990 }] });
  assert.equal(first.decision.type, "require");
  assert.equal(first.decision.mfa, true);
  assert.deepEqual(first.policies.map((p) => p.result), ["failure"]);
  const second = evaluate({ ...base, satisfied: [{ method: "password", at: 990 }, { method: "sms", at: 999 }] });
  assert.deepEqual(second.decision, { type: "allow" });
  assert.equal(second.policies[0].result, "success");
});

test("bad input of any kind comes back as an error, never an exception", () => {
  const cyclic = { policies: [] }; cyclic.self = cyclic;
  const inputs = [undefined, null, 42, "text", [], {}, { policies: "x" }, cyclic, { policies: [], big: 10n },
    { policies: [{ ...mfaForAll, state: "on" }], signIn: { userId: "a", appId: "b" }, now: 1 },
    { policies: [mfaForAll], signIn: { userId: "a" }, now: -1 }];
  for (const input of inputs) {
    for (const fn of [whatIf, evaluate]) {
      let out;
      assert.doesNotThrow(() => { out = fn(input); });
      assert.equal(typeof out.error?.code, "string", `${fn.name}(${String(input)}) -> ${JSON.stringify(out)}`);
      assert.equal(typeof out.error.message, "string");
    }
    assert.doesNotThrow(() => validatePolicies(input));
    assert.doesNotThrow(() => compilePolicies(input));
  }
  const wrongState = evaluate({ policies: [{ ...mfaForAll, state: "on" }], signIn: { userId: "a", appId: "b" }, now: 1 });
  assert.equal(wrongState.error.target, "policies[0].state");
});

test("validatePolicies lists every problem with its JSON path", () => {
  const out = validatePolicies({ policies: [
    { ...mfaForAll, id: "a", state: "on" },
    { ...mfaForAll, id: "b", grantControls: { operator: "OR", builtInControls: ["mfa"], authenticationStrength: { id: "00000000-0000-0000-0000-000000000002" } } },
    { ...mfaForAll, id: "c", conditions: { ...mfaForAll.conditions, users: { includeUsers: ["All"], bogus: 1 } } },
  ] });
  assert.equal(out.valid, false);
  const targets = out.errors.map((e) => e.target);
  assert.ok(targets.includes("policies[0].state"), targets.join());
  assert.ok(targets.some((t) => t.startsWith("policies[1].grantControls")), targets.join());
  assert.ok(targets.includes("policies[2].conditions.users.bogus"), targets.join());
  assert.deepEqual(validatePolicies({ policies: [mfaForAll] }), { valid: true, errors: [] });
});

test("compilePolicies reports why it could not compile, and a freed engine says so", () => {
  const bad = compilePolicies({ policies: [{ ...mfaForAll, state: "on" }, { ...mfaForAll, id: "x", displayName: 5 }] });
  assert.equal(bad.engine, undefined);
  assert.equal(bad.error.target, "policies[0].state");
  assert.equal(bad.error.details.length, 2);
  const { engine } = compilePolicies({ policies: [mfaForAll] });
  assert.equal(engine.whatIf({ request: request("alice") }).value[0].policyApplies, true);
  engine.free();
  assert.equal(engine.evaluate({ signIn: { userId: "a", appId: "b" }, now: 1 }).error.code, "input.engine_freed");
});
