// Load benchmark of the Worker in local workerd: the full native-auth sign-in with email
// MFA (initiate, challenge, token → mfa_required, introspect, challenge with the method
// id, token with the code from the dev outbox), driven by a fixed number of concurrent
// virtual clients for a fixed time. Prints requests/s, p50, p90, p99 and max per step and
// for the whole flow, and writes the same as JSON.
//
//   bash scripts/bench-load.sh [--duration 20] [--concurrency 8] [--users-per-client 3]
//                              [--hashing default|light] [--json out.json]
//
// Why not autocannon: each request needs the continuation token of the one before and a
// code read from the outbox in between, and autocannon's one histogram per run cannot
// attribute latency to a step. This driver is a bounded loop per virtual client (no new
// flow starts after the deadline; in-flight flows finish) and keeps every sample, so the
// percentiles are exact rather than histogram buckets.
//
// --hashing light stores a flow configuration with argon2id m = 4 MiB, t = 1 for the
// bench tenant before seeding, so the users' hashes, and therefore the password step of
// every sign-in, use it. The default keeps the engine's m = 19 MiB, t = 2, p = 1.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startWorker } from "../../tests/support/worker.mjs";
import { CAPS, BENCH_EMAIL_VELOCITY, TYPES, flowConfig, latestCode, nativeVars, post, requireMfa } from "../../tests/support/native.mjs";

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "20" },
    concurrency: { type: "string", default: "8" },
    "users-per-client": { type: "string", default: "2" },
    hashing: { type: "string", default: "default" },
    json: { type: "string" },
  },
});
const DURATION_S = Math.min(Number(opts.duration), 30); // short by design: a shared machine
const CONCURRENCY = Number(opts.concurrency);
const USERS_PER_CLIENT = Number(opts["users-per-client"]);
assert.ok(["default", "light"].includes(opts.hashing), "--hashing is default or light");
const TENANT = "bench";
const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
const STEPS = ["initiate", "challenge", "token_password", "introspect", "challenge_mfa", "outbox_read", "token_mfa"];

/** One timed call; throws on an unexpected answer so errors are counted, not hidden. */
async function timed(samples, step, fn) {
  const t0 = performance.now();
  const r = await fn();
  samples[step].push(performance.now() - t0);
  return r;
}

const expectCt = (r, what) => {
  if (typeof r.body.continuation_token !== "string") throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  return r.body.continuation_token;
};

async function signUp(worker, email) {
  let r = await post(worker, TENANT, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
  r = await post(worker, TENANT, "signup/v1.0/challenge", { continuation_token: expectCt(r, "signup start"), challenge_type: TYPES });
  r = await post(worker, TENANT, "signup/v1.0/continue", { continuation_token: expectCt(r, "signup challenge"), grant_type: "oob", oob: await latestCode(worker, email) });
  r = await post(worker, TENANT, TOKEN, { continuation_token: expectCt(r, "signup continue"), grant_type: "continuation_token" });
  assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
  r = await post(worker, TENANT, "register/v1.0/introspect", { continuation_token: expectCt(r, "token") });
  r = await post(worker, TENANT, "register/v1.0/challenge", { continuation_token: expectCt(r, "register introspect"), challenge_type: "oob", challenge_target: email, challenge_channel: "email" });
  const grant = r.body.challenge_type === "preverified" ? { grant_type: "continuation_token" } : { grant_type: "oob", oob: await latestCode(worker, email) };
  r = await post(worker, TENANT, "register/v1.0/continue", { continuation_token: expectCt(r, "register challenge"), ...grant });
  r = await post(worker, TENANT, TOKEN, { continuation_token: expectCt(r, "register continue"), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** One full sign-in with email MFA; every step timed. */
async function signIn(worker, email, samples) {
  let r = await timed(samples, "initiate", () => post(worker, TENANT, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS }));
  r = await timed(samples, "challenge", () => post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: expectCt(r, "initiate"), challenge_type: TYPES }));
  r = await timed(samples, "token_password", () => post(worker, TENANT, TOKEN, { continuation_token: expectCt(r, "challenge"), grant_type: "password", password: PASSWORD }));
  if (r.body.suberror !== "mfa_required") throw new Error(`token: ${JSON.stringify(r.body).slice(0, 200)}`);
  r = await timed(samples, "introspect", () => post(worker, TENANT, "oauth2/v2.0/introspect", { continuation_token: expectCt(r, "token") }));
  const id = r.body.methods?.[0]?.id;
  r = await timed(samples, "challenge_mfa", () => post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: expectCt(r, "introspect"), challenge_type: TYPES, id }));
  const code = await timed(samples, "outbox_read", () => latestCode(worker, email));
  r = await timed(samples, "token_mfa", () => post(worker, TENANT, TOKEN, { continuation_token: expectCt(r, "mfa challenge"), grant_type: "mfa_oob", oob: code }));
  if (r.status !== 200 || typeof r.body.access_token !== "string") throw new Error(`mfa token: ${JSON.stringify(r.body).slice(0, 200)}`);
}

function stats(values, seconds) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN);
  return { count: s.length, perSecond: s.length / seconds, p50: q(50), p90: q(90), p99: q(99), max: s.at(-1) ?? NaN };
}

async function main() {
  const worker = await startWorker({ vars: nativeVars(), timeoutMs: 120_000 });
  try {
    await requireMfa(worker, TENANT);
    // Every flow comes from one IP, as from an attacker: the email code caps are raised so
    // the run measures sign-ins, not the velocity guard's refusals.
    const hashing = opts.hashing === "light" ? { passwords: { hashing: { memoryKib: 4096, iterations: 1, parallelism: 1 } } } : {};
    const config = flowConfig({ settings: { mfaEnforcement: "conditional", emailVelocity: BENCH_EMAIL_VELOCITY, ...hashing } });
    const res = await fetch(`${worker.url}/_dev/native/${TENANT}/flow-config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(config) });
    assert.equal(res.status, 200, await res.text());
    // Each virtual client has its own users, so two flows never wait on one outbox.
    const users = Array.from({ length: CONCURRENCY }, (_, c) => Array.from({ length: USERS_PER_CLIENT }, (_, u) => `bench-${c}-${u}@bench.example`));
    const t0 = performance.now();
    for (const group of users) await Promise.all(group.map((e) => signUp(worker, e)));
    console.error(`seeded ${CONCURRENCY * USERS_PER_CLIENT} users (sign-up + email MFA registration, hashing ${opts.hashing}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const samples = Object.fromEntries([...STEPS, "flow"].map((s) => [s, []]));
    const errors = [];
    const start = performance.now();
    const deadline = start + DURATION_S * 1000;
    const hardStop = deadline + 30_000;
    await Promise.all(users.map(async (mine) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const f0 = performance.now();
        try {
          await signIn(worker, mine[i % mine.length], samples);
          samples.flow.push(performance.now() - f0);
        } catch (e) {
          errors.push(String(e.message ?? e).slice(0, 200));
          if (errors.length > 50 || performance.now() > hardStop) break;
        }
      }
    }));
    const seconds = (performance.now() - start) / 1000;
    const result = {
      tenant: TENANT, hashing: opts.hashing, durationSeconds: seconds, concurrency: CONCURRENCY, users: CONCURRENCY * USERS_PER_CLIENT,
      steps: Object.fromEntries([...STEPS, "flow"].map((s) => [s, stats(samples[s], seconds)])),
      requestsPerSecond: STEPS.reduce((n, s) => n + samples[s].length, 0) / seconds,
      errors: errors.length, firstErrors: errors.slice(0, 5),
    };
    const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-");
    console.log(`\nsign-in with email MFA, ${CONCURRENCY} clients, ${seconds.toFixed(1)} s, argon2id ${opts.hashing === "light" ? "m=4 MiB t=1 p=1 (light)" : "m=19 MiB t=2 p=1 (default)"}`);
    console.log(`${"step".padEnd(16)} ${"count".padStart(7)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p90 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}`);
    for (const [name, s] of Object.entries(result.steps)) {
      console.log(`${name.padEnd(16)} ${String(s.count).padStart(7)} ${s.perSecond.toFixed(1).padStart(8)} ${ms(s.p50).padStart(8)} ${ms(s.p90).padStart(8)} ${ms(s.p99).padStart(8)} ${ms(s.max).padStart(8)}`);
    }
    console.log(`all requests: ${result.requestsPerSecond.toFixed(1)}/s; flows: ${result.steps.flow.perSecond.toFixed(2)}/s; errors: ${errors.length}`);
    if (errors.length) console.log(`first errors:\n  ${result.firstErrors.join("\n  ")}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
    if (errors.length) process.exitCode = 1;
  } finally {
    await worker.stop();
  }
}

await main();
