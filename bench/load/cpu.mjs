// CPU time per request of each native-auth step, two ways.
//
// 1. isolate (what Cloudflare bills): a V8 CPU profile of the Worker's isolate over the N
//    requests of the step, taken through wrangler dev's inspector (isolate-profile.mjs):
//    the sampled non-idle time divided by N. It counts JS and wasm, "(program)" (V8 and
//    workerd native work for the isolate outside any JS frame: compilation, API glue) and
//    "(garbage collector)" (both also shown on their own), and leaves out "(idle)" and
//    everything outside the isolate (waits for KV, Durable Objects, fetch; workerd's HTTP
//    handling; miniflare's entry worker and local KV, which run in other isolates).
//    Sampling error: a sample every ~0.1 ms, so a few hundred samples per step; V8
//    samples on wall-clock time, so a busy machine inflates it and a starved sampler
//    deflates it: compare runs taken back to back. Two local differences: the guard
//    Durable Object runs in the Worker's isolate under wrangler dev, so the steps that
//    call it (a code challenge, a code check) include its CPU, which Cloudflare bills to
//    the object; and each console call (the audit lines) is also serialized for
//    wrangler's inspector session.
// 2. process (an upper bound): the CPU time of the whole workerd process that runs the
//    Worker (wrangler dev starts two: its dev proxy on the public port, and the
//    Worker's), all threads, from /proc/<pid>/task/*/schedstat in ns, cross-checked with
//    utime+stime from /proc/<pid>/stat, over the same window, divided by N. It includes
//    workerd's HTTP handling, miniflare's entry worker, the local KV simulation and the
//    profiler's own sampling; a GET /healthz baseline measured the same way estimates that
//    fixed part, and "net" subtracts it.
//
// 3. where the isolate time goes (isolate-profile.mjs `attribute`): each sample by its
//    leaf frame into our wasm, the wasm<->JS trampolines, the bundle's JS glue, workerd's
//    native API code (labelled by the wasm-bindgen import that called it: `get ← call` is
//    a KV read, `fetch ← fetch` the guard stub, `(native) ← call` the audit console line),
//    miniflare's wrappers, "(program)" and GC; and the guard Durable Object's share. V8
//    does not give every native API call a frame of its own: the JS import shim that made
//    it then carries its time (glue). Between identical runs on this shared 2-core machine
//    the per-step totals move by 10-30% (the sampler counts wall time while the isolate is
//    entered, so CPU contention inflates it; the argon2id row is a speed reference):
//    compare builds A/B, back to back, and trust a per-label change more than a total.
//
// The requests a step needs first (earlier steps, outbox reads) run before the window.
//
//   bash scripts/bench-cpu.sh [--n 200] [--json out.json] [--top 8] [--profiles dir]
//
// --top lists the functions with the most self time per step; --profiles writes each
// step's .cpuprofile (open in Chrome DevTools). Password steps (argon2id, default
// m = 19 MiB, t = 2, p = 1) are measured with fewer requests (--n-password, default 30).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startWorker } from "../../tests/support/worker.mjs";
import { CAPS, BENCH_EMAIL_VELOCITY, TYPES, flowConfig, nativeVars, post, requireMfa } from "../../tests/support/native.mjs";
import { IsolateProfiler, attribute, guardMarkers, summarize } from "./isolate-profile.mjs";

const { values: opts } = parseArgs({
  options: {
    n: { type: "string", default: "200" },
    "n-password": { type: "string", default: "30" },
    json: { type: "string" },
    top: { type: "string", default: "0" },
    profiles: { type: "string" },
    "interval-us": { type: "string", default: "50" },
  },
});
const N = Number(opts.n);
const N_PASSWORD = Number(opts["n-password"]);
const TENANT = "cpu";
const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
const FLOWS_PER_USER = 10; // the dev outbox keeps 20 messages per address
const TICK_NS = 1e9 / 100; // USER_HZ
const TOP = Number(opts.top);
const INTERVAL_US = Number(opts["interval-us"]);

/** The workerd processes in wrangler's process group: `worker` runs the Worker (and its
 * local KV), `proxy` is wrangler's dev proxy, the one bound to the public port. */
function workerdPids(groupLeader, publicPort) {
  const found = { worker: [], proxy: [] };
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (comm !== "workerd" || Number(fields[2]) !== groupLeader) continue;
      const args = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      const proxy = args.some((a) => a.startsWith("--socket-addr=entry=") && a.endsWith(`:${publicPort}`));
      found[proxy ? "proxy" : "worker"].push(Number(name));
    } catch { /* gone */ }
  }
  assert.equal(found.worker.length, 1, `workerd processes: ${JSON.stringify(found)}`);
  return found;
}

/** CPU time of every thread of `pid`, in ns (schedstat), and utime+stime in ns (ticks). */
function cpuOf(pid) {
  let sched = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try { sched += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]); } catch { /* thread ended */ }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { sched, ticks: (Number(f[11]) + Number(f[12])) * TICK_NS };
}

const ctOf = (r, what) => {
  assert.equal(typeof r.body.continuation_token, "string", `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.continuation_token;
};

async function main() {
  const worker = await startWorker({ vars: nativeVars(), timeoutMs: 120_000, inspector: true });
  const results = {};
  const profiles = [];
  const profiler = await IsolateProfiler.connect(worker.inspectorPort);
  if (opts.profiles) mkdirSync(opts.profiles, { recursive: true });
  try {
    const pids = workerdPids(worker.pid, new URL(worker.url).port);
    const cpu = () => {
      const w = cpuOf(pids.worker[0]);
      const all = [...pids.worker, ...pids.proxy].map(cpuOf).reduce((a, b) => ({ sched: a.sched + b.sched, ticks: a.ticks + b.ticks }));
      return { ...w, all: all.sched };
    };
    /** Runs `calls` (thunks) one after another inside the measured window. */
    async function measure(name, calls, check) {
      await new Promise((r) => setTimeout(r, 300));
      await profiler.start(INTERVAL_US);
      const c0 = cpu();
      const out = [];
      for (const call of calls) out.push(await call());
      const c1 = cpu();
      const profile = await profiler.stop();
      // Outside the window: the bundle's source, to name the glue frames.
      profiles.push({ name, n: calls.length, profile, sources: await profiler.sources(profile) });
      for (const r of out) check(r);
      const per = (a, b) => (b - a) / 1e6 / calls.length;
      const iso = summarize(profile, { top: TOP });
      const perUs = (us) => us / 1e3 / calls.length;
      results[name] = {
        n: calls.length,
        isolate: { msPerRequest: perUs(iso.busyUs), programMs: perUs(iso.programUs), gcMs: perUs(iso.gcUs), samples: iso.samples, intervalUs: iso.intervalUs, top: iso.top.map(([f, us]) => [f, perUs(us)]) },
        msPerRequest: per(c0.sched, c1.sched), msPerRequestTicks: per(c0.ticks, c1.ticks), msPerRequestWithProxy: per(c0.all, c1.all),
      };
      if (opts.profiles) {
        const base = join(opts.profiles, name.replace(/[^a-z0-9]+/gi, "-"));
        writeFileSync(`${base}.cpuprofile`, JSON.stringify(profile));
        // The scripts' lines by scriptId, to name glue frames offline (attribute()).
        writeFileSync(`${base}.sources.json`, JSON.stringify(Object.fromEntries(profiles.at(-1).sources)));
      }
      return out;
    }
    const is200 = (r) => assert.equal(r.status, 200, JSON.stringify(r.body));

    await requireMfa(worker, TENANT);
    // Every flow comes from one IP and each user gets several codes: raise the email code
    // caps so the run measures the steps, not the velocity guard's refusals.
    const config = flowConfig({ settings: { mfaEnforcement: "conditional", emailVelocity: BENCH_EMAIL_VELOCITY } });
    const res = await fetch(`${worker.url}/_dev/native/${TENANT}/flow-config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(config) });
    assert.equal(res.status, 200, await res.text());
    const users = Array.from({ length: Math.ceil(N / FLOWS_PER_USER) }, (_, i) => `cpu-${i}@bench.example`);
    const outbox = async (to) => (await (await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent(to)}`)).json()).messages;
    for (const email of users) {
      let r = await post(worker, TENANT, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
      r = await post(worker, TENANT, "signup/v1.0/challenge", { continuation_token: ctOf(r, "signup start"), challenge_type: TYPES });
      r = await post(worker, TENANT, "signup/v1.0/continue", { continuation_token: ctOf(r, "signup challenge"), grant_type: "oob", oob: (await outbox(email))[0].code });
      r = await post(worker, TENANT, TOKEN, { continuation_token: ctOf(r, "signup continue"), grant_type: "continuation_token" });
      r = await post(worker, TENANT, "register/v1.0/introspect", { continuation_token: ctOf(r, "token") });
      r = await post(worker, TENANT, "register/v1.0/challenge", { continuation_token: ctOf(r, "introspect"), challenge_type: "oob", challenge_target: email, challenge_channel: "email" });
      r = await post(worker, TENANT, "register/v1.0/continue", { continuation_token: ctOf(r, "register challenge"), grant_type: "continuation_token" });
      is200(await post(worker, TENANT, TOKEN, { continuation_token: ctOf(r, "register continue"), grant_type: "continuation_token" }));
    }
    const userOf = (i) => users[i % users.length];
    const range = (n) => Array.from({ length: n }, (_, i) => i);

    const plain = (path, init) => async () => ({ status: (await fetch(`${worker.url}${path}`, init)).status, body: {} });
    await measure("healthz (baseline)", range(N).map(() => plain("/healthz")), is200);
    // One local KV write and one read through the dev routes: what the simulation costs.
    await measure("dev route: 1 KV put", range(N).map((i) => plain(`/_dev/kv/cpu-${i}`, { method: "PUT", body: "x".repeat(300) })), is200);
    await measure("dev route: 1 KV get", range(N).map((i) => plain(`/_dev/kv/cpu-${i}`)), is200);
    const initiated = await measure("initiate", range(N).map((i) => () => post(worker, TENANT, "oauth2/v2.0/initiate", { username: userOf(i), challenge_type: TYPES, capabilities: CAPS })), is200);
    const challenged = await measure("challenge (password)", initiated.map((r) => () => post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: ctOf(r, "initiate"), challenge_type: TYPES })), is200);
    // The password step: argon2id at the default parameters. Measured on the first
    // N_PASSWORD flows; the rest go through the same step outside the window.
    const first = await measure("token (password, argon2id m=19MiB t=2)", challenged.slice(0, N_PASSWORD).map((r) => () => post(worker, TENANT, TOKEN, { continuation_token: ctOf(r, "challenge"), grant_type: "password", password: PASSWORD })), (r) => assert.equal(r.body.suberror, "mfa_required"));
    const rest = [];
    for (const r of challenged.slice(N_PASSWORD)) rest.push(await post(worker, TENANT, TOKEN, { continuation_token: ctOf(r, "challenge"), grant_type: "password", password: PASSWORD }));
    const mfaRequired = [...first, ...rest];
    const introspected = await measure("introspect", mfaRequired.map((r) => () => post(worker, TENANT, "oauth2/v2.0/introspect", { continuation_token: ctOf(r, "mfa_required") })), is200);
    const mfaChallenged = await measure("challenge (mfa method id)", introspected.map((r) => () => post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: ctOf(r, "introspect"), challenge_type: TYPES, id: r.body.methods[0].id })), is200);
    // Codes, outside the window: user u's flows were challenged in order, and the outbox
    // lists the newest first.
    const codes = [];
    for (const [u, email] of users.entries()) {
      const mine = range(N).filter((i) => i % users.length === u);
      const messages = await outbox(email);
      mine.forEach((i, k) => { codes[i] = messages[mine.length - 1 - k].code; });
    }
    const tokens = await measure("token (mfa_oob, signs 2 JWTs)", mfaChallenged.map((r, i) => () => post(worker, TENANT, TOKEN, { continuation_token: ctOf(r, "mfa challenge"), grant_type: "mfa_oob", oob: codes[i] })), is200);
    await measure("token (refresh_token, signs 2 JWTs)", tokens.map((r) => () => post(worker, TENANT, TOKEN, { grant_type: "refresh_token", refresh_token: r.body.refresh_token })), is200);

    const base = results["healthz (baseline)"].msPerRequest;
    console.log(`\nCPU per request (wrangler dev, local KV), N=${N} (password step N=${N_PASSWORD})`);
    console.log("isolate: V8 profile of the Worker's isolate, non-idle (incl. program and GC, also shown alone); samples: sampled, at the median interval");
    console.log("process: the Worker's workerd process (/proc); net: minus the healthz baseline; ticks: utime+stime cross-check; +proxy: with wrangler's dev proxy");
    console.log(`${"step".padEnd(40)} ${"isolate".padStart(8)} ${"program".padStart(8)} ${"gc".padStart(6)} ${"samples".padStart(12)} | ${"process".padStart(8)} ${"net".padStart(8)} ${"ticks".padStart(7)} ${"+proxy".padStart(8)}  (ms/req)`);
    for (const [name, r] of Object.entries(results)) {
      r.netMsPerRequest = name.startsWith("healthz") ? 0 : r.msPerRequest - base;
      const i = r.isolate;
      console.log(`${name.padEnd(40)} ${i.msPerRequest.toFixed(3).padStart(8)} ${i.programMs.toFixed(3).padStart(8)} ${i.gcMs.toFixed(3).padStart(6)} ${`${i.samples}@${i.intervalUs}µs`.padStart(12)} | ${r.msPerRequest.toFixed(3).padStart(8)} ${r.netMsPerRequest.toFixed(3).padStart(8)} ${r.msPerRequestTicks.toFixed(2).padStart(7)} ${r.msPerRequestWithProxy.toFixed(3).padStart(8)}`);
    }
    // Where the isolate time goes (isolate-profile.mjs `attribute`), per request.
    const markers = guardMarkers(profiles);
    const CATS = ["wasm", "boundary", "glue", "runtime", "devWrap", "program", "gc"];
    console.log(`\nIsolate CPU by category (ms/req; self time of the sampled leaf frame; guard markers: ${[...markers].join(", ") || "none"})`);
    console.log("wasm: our Rust; boundary: wasm<->JS trampolines; glue: build/index.js (wasm-bindgen + worker crate JS); runtime: workerd's native API code (KV, DO stub, Request/Response, console, ...);");
    console.log("devWrap: miniflare's wrappers; guard: the part under the guard Durable Object (same isolate under wrangler dev; Cloudflare bills it to the object), already inside the columns");
    console.log(`${"step".padEnd(40)} ${"isolate".padStart(8)} ${CATS.map((c) => c.padStart(8)).join(" ")} | ${"guard".padStart(7)} ${"worker".padStart(7)}`);
    for (const { name, n, profile, sources } of profiles) {
      const a = attribute(profile, sources, markers);
      const per = (us) => us / 1e3 / n;
      const r = results[name];
      r.isolate.categories = Object.fromEntries(CATS.map((c) => [c, per(a.all[c])]));
      r.isolate.guard = { msPerRequest: per(a.guardUs), ...Object.fromEntries(CATS.map((c) => [c, per(a.guard[c])])) };
      r.isolate.workerMsPerRequest = per(a.busyUs - a.guardUs);
      r.isolate.runtime = [...a.runtime].sort((x, y) => y[1] - x[1]).map(([k, us]) => [k, per(us)]);
      r.isolate.glue = [...a.glue].sort((x, y) => y[1] - x[1]).map(([k, us]) => [k, per(us)]);
      console.log(`${name.padEnd(40)} ${per(a.busyUs).toFixed(3).padStart(8)} ${CATS.map((c) => per(a.all[c]).toFixed(3).padStart(8)).join(" ")} | ${per(a.guardUs).toFixed(3).padStart(7)} ${per(a.busyUs - a.guardUs).toFixed(3).padStart(7)}`);
    }
    if (TOP > 0) {
      for (const { name } of profiles) {
        const r = results[name].isolate;
        console.log(`\n${name}: runtime calls (ms/req) | glue (ms/req)`);
        for (let k = 0; k < TOP; k++) {
          const [rt, g] = [r.runtime[k], r.glue[k]];
          if (!rt && !g) break;
          console.log(`  ${rt ? `${rt[1].toFixed(3).padStart(7)}  ${rt[0]}`.padEnd(48) : "".padEnd(48)} | ${g ? `${g[1].toFixed(3).padStart(7)}  ${g[0]}` : ""}`);
        }
      }

      for (const [name, r] of Object.entries(results)) {
        console.log(`\n${name}: most self time (ms/req)`);
        for (const [f, ms] of r.isolate.top) console.log(`  ${ms.toFixed(3).padStart(7)}  ${f}`);
      }
    }
    if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  } finally {
    profiler.close();
    await worker.stop();
  }
}

await main();
