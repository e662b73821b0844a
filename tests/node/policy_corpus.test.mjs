// The Conditional Access corpus (tests/corpus/policy/*.json) run through the npm package,
// with the same expectations as the native harness (tests/policy_corpus.rs), so the shipped
// JS API is held to exactly the behaviour the core is. Each enforcement case is also run
// through a compiled engine, which must answer identically.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { compilePolicies, evaluate, validatePolicies, whatIf } from "vestibule";

const dir = new URL("../corpus/policy/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
const DEFAULT_NOW = 1_000_000;
const shared = (doc, c, key) => c[key] ?? doc[key] ?? [];
const pick = (v, keys) => Object.fromEntries(keys.filter((k) => v?.[k] !== undefined).map((k) => [k, v[k]]));

function enforcementCase(doc, c) {
  const now = c.now ?? DEFAULT_NOW;
  const policies = shared(doc, c, "policies");
  const namedLocations = shared(doc, c, "namedLocations");
  const perCall = { signIn: { ...(doc.signInDefaults ?? {}), ...c.signIn }, satisfied: c.satisfied ?? [{ method: "password", at: now }], now };
  const out = evaluate({ policies, namedLocations, ...perCall });
  const expect = c.expect;
  if (expect.error) return assert.deepEqual(pick(out.error, ["code", "target"]), expect.error);
  assert.equal(out.error, undefined, JSON.stringify(out.error));
  const d = out.decision;
  if (expect.decision) assert.equal(d.type, expect.decision, "decision");
  if (expect.blockedBy) assert.deepEqual(d.policyIds, expect.blockedBy, "blockedBy");
  for (const [k, v] of Object.entries(expect.require ?? {})) assert.deepEqual(d[k], v, `require.${k}`);
  for (const [field, key] of [["results", "result"], ["reasons", "reasons"], ["unmet", "unmetControls"]]) {
    for (const [id, want] of Object.entries(expect[field] ?? {})) {
      const got = out.policies.find((r) => r.id === id);
      assert.ok(got, `no result for ${id}`);
      assert.deepEqual(got[key] ?? [], want, `${field}.${id}`);
    }
  }
  const { engine, error } = compilePolicies({ policies, namedLocations });
  assert.equal(error, undefined);
  try {
    const compiled = engine.evaluate(perCall);
    assert.deepEqual(compiled, out, "compiled engine agrees with evaluate");
    // The engine rebuilds its answer from a compact form: the key order must match too.
    assert.equal(JSON.stringify(compiled), JSON.stringify(out), "same keys in the same order");
  } finally {
    engine.free();
  }
}

function whatIfCase(doc, c) {
  const input = { policies: shared(doc, c, "policies"), namedLocations: shared(doc, c, "namedLocations"), request: c.whatIf };
  if (c.directory) input.directory = c.directory;
  const out = whatIf(input);
  if (c.expect.error) return assert.deepEqual(pick(out.error, ["code", "target"]), c.expect.error);
  const triples = out.value.map(({ policyApplies, analysisReasons, ...policy }) => {
    assert.deepEqual(policy, input.policies.find((p) => p.id === policy.id), "policy echoed as given");
    return [policy.id, policyApplies, analysisReasons];
  });
  assert.deepEqual(triples, c.expect.listed);
}

function invalidCase(doc, c) {
  let out;
  if (c.inputText !== undefined) {
    // Raw text (duplicate keys, broken JSON) cannot be a JS object; it reaches the engine
    // only through the Worker or the native API, so here we check the object form parses.
    return;
  }
  out = validatePolicies(c.input ?? { policies: shared(doc, c, "policies"), namedLocations: shared(doc, c, "namedLocations") });
  assert.equal(out.valid, false);
  const sorted = (list) => list.map((e) => JSON.stringify(pick(e, ["code", "target"]))).sort();
  assert.deepEqual(sorted(out.errors), sorted(c.errors));
}

test("the corpus has files to run", () => assert.ok(files.length >= 30, `${files.length} files`));

for (const file of files) {
  const doc = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
  test(`corpus ${file}`, () => {
    let ran = 0;
    for (const c of doc.cases ?? []) {
      try { (c.whatIf ? whatIfCase : enforcementCase)(doc, c); } catch (e) { e.message = `${c.name}: ${e.message}`; throw e; }
      ran++;
    }
    for (const c of doc.invalid ?? []) {
      try { invalidCase(doc, c); } catch (e) { e.message = `${c.name}: ${e.message}`; throw e; }
      ran++;
    }
    assert.ok(ran > 0);
  });
}
