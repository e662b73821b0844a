// Flow steps through the npm package in Node (wasm), including one argon2id password
// verification at the default parameters (m=19 MiB, t=2, p=1) and at the lighter Free-plan
// setting (m=4 MiB, t=1). Run: node bench/js/flow.mjs (after scripts/build-pkg.sh).
// Bounded: a fixed number of sign-ins per setting.
import { performance } from "node:perf_hooks";
import { Flow, memoryUsers } from "vestibule";

const APP = "bench-app";
const config = (hashing) => ({
  authenticationMethodsPolicy: { id: "authenticationMethodsPolicy", authenticationMethodConfigurations: [
    { "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", id: "Email", state: "enabled",
      includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false }] }] },
  userFlow: { "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow", displayName: "Bench",
    conditions: { applications: { includeApplications: [{ appId: APP }] } },
    onInteractiveAuthFlowStart: { isSignUpAllowed: true },
    onAuthenticationMethodLoadStart: { identityProviders: [{ id: "EmailPassword-OAUTH" }] },
    onAttributeCollection: { attributes: [{ id: "email", dataType: "string" }],
      attributeCollectionPage: { views: [{ inputs: [{ attribute: "email", hidden: true, required: true }] }] } } },
  settings: { mfaEnforcement: "off", ...(hashing ? { passwords: { hashing } } : {}) },
});

async function run(label, hashing, rounds) {
  const outbox = [];
  const flow = new Flow({ config: config(hashing), codeKey: "5a".repeat(32), users: memoryUsers(), deliver: (d) => outbox.push(d) });
  let r = await flow.start({ type: "startSignUp", appId: APP, email: "bench@example.com", password: "Correct-Horse-9" });
  r = await flow.next(r.flowId, { type: "challenge" });
  r = await flow.next(r.flowId, { type: "submitCode", code: outbox.at(-1).code });
  const times = { start: [], challenge: [], password: [] };
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    r = await flow.start({ type: "startSignIn", appId: APP, email: "bench@example.com" });
    times.start.push(performance.now() - t);
    t = performance.now();
    r = await flow.next(r.flowId, { type: "challenge" });
    times.challenge.push(performance.now() - t);
    t = performance.now();
    r = await flow.next(r.flowId, { type: "submitPassword", password: "Correct-Horse-9" });
    times.password.push(performance.now() - t);
    if (r.reply.type !== "signedIn") throw new Error(JSON.stringify(r.reply));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${label}: start ${(median(times.start) * 1000).toFixed(0)} µs, challenge ${(median(times.challenge) * 1000).toFixed(0)} µs, ` +
    `password step (argon2id verify + tokens) ${median(times.password).toFixed(2)} ms  (median of ${rounds})`);
}

await run("default hashing m=19456 KiB t=2 p=1", undefined, 15);
await run("Free-plan hashing m=4096 KiB t=1 p=1", { memoryKib: 4096, iterations: 1, parallelism: 1 }, 30);
