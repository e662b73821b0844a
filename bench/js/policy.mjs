// Policy decisions through the npm package in Node, JSON boundary included: the per-call
// input is stringified in JS, parsed in wasm, decided, serialized and parsed back.
// Run: node bench/js/policy.mjs   (after scripts/build-pkg.sh). Bounded: a fixed number of
// iterations per case, so it always ends.
import { performance } from "node:perf_hooks";

const t0 = performance.now();
const { compilePolicies, evaluate } = await import("vestibule");
const tImport = performance.now() - t0;

// A realistic tenant of 20 policies: MFA for all with break-glass exclusions, per-app MFA,
// group and role scoping, locations, risk, legacy-auth block, report-only rollouts.
function tenant(n) {
  const namedLocations = [
    { "@odata.type": "#microsoft.graph.ipNamedLocation", id: "loc-office", displayName: "Office", isTrusted: true,
      ipRanges: [{ "@odata.type": "#microsoft.graph.iPv4CidrRange", cidrAddress: "203.0.113.0/24" }] },
    { "@odata.type": "#microsoft.graph.countryNamedLocation", id: "loc-blocked", displayName: "Blocked countries",
      countriesAndRegions: ["KP", "IR"], includeUnknownCountriesAndRegions: false },
  ];
  const policies = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 5;
    const base = { id: `p${i}`, displayName: `policy ${i}`, state: i % 4 === 3 ? "enabledForReportingButNotEnforced" : "enabled" };
    const users = { includeUsers: ["All"], excludeUsers: ["break-glass-1", "break-glass-2"] };
    if (kind === 0) policies.push({ ...base, conditions: { users, applications: { includeApplications: ["All"] }, clientAppTypes: ["all"] }, grantControls: { operator: "OR", builtInControls: ["mfa"] } });
    if (kind === 1) policies.push({ ...base, conditions: { users: { includeGroups: [`g${i}`, "g-staff"] }, applications: { includeApplications: [`app-${i}`, "bank"] } }, grantControls: { operator: "OR", builtInControls: ["mfa"] } });
    if (kind === 2) policies.push({ ...base, conditions: { users, applications: { includeApplications: ["All"] }, locations: { includeLocations: ["All"], excludeLocations: ["AllTrusted"] } }, grantControls: { operator: "OR", builtInControls: ["mfa"] } });
    if (kind === 3) policies.push({ ...base, conditions: { users, applications: { includeApplications: ["All"] }, signInRiskLevels: ["high", "medium"] }, grantControls: { operator: "AND", builtInControls: ["mfa"] } });
    if (kind === 4) policies.push({ ...base, conditions: { users, applications: { includeApplications: ["All"] }, locations: { includeLocations: ["loc-blocked"] } }, grantControls: { operator: "OR", builtInControls: ["block"] } });
  }
  return { policies, namedLocations };
}

const perCall = {
  signIn: { userId: "alice", appId: "bank", groupIds: ["g-staff"], ipAddress: "198.51.100.7", country: "NL", clientAppType: "browser", signInRisk: "low" },
  satisfied: [{ method: "password", at: 1_800_000_000 }],
  now: 1_800_000_010,
};

function measure(label, iterations, fn) {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn(); // warm-up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const us = ((performance.now() - start) * 1000) / iterations;
  console.log(`${label.padEnd(52)} ${us.toFixed(2).padStart(9)} µs/decision`);
  return us;
}

const firstCallStart = performance.now();
const firstAnswer = evaluate({ ...tenant(20), ...perCall });
const tFirst = performance.now() - firstCallStart;
if (firstAnswer.error) throw new Error(JSON.stringify(firstAnswer.error));
console.log(`import (wasm compile + instantiate)                  ${tImport.toFixed(2).padStart(9)} ms`);
console.log(`first evaluate after import (20 policies)            ${tFirst.toFixed(2).padStart(9)} ms`);

for (const n of [1, 20, 100, 1000]) {
  const { engine, error } = compilePolicies(tenant(n));
  if (error) throw new Error(JSON.stringify(error));
  measure(`compiled engine, ${n} policies`, n >= 1000 ? 2000 : 20000, () => engine.evaluate(perCall));
  engine.free();
}
const t20 = tenant(20);
measure("one-shot evaluate(), 20 policies parsed every call", 5000, () => evaluate({ ...t20, ...perCall }));
