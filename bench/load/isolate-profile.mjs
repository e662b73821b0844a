// A V8 CPU profile of the Worker's isolate, taken through the Chrome DevTools Protocol
// endpoint that `wrangler dev --inspector-port` exposes (tests/support/worker.mjs starts
// it on 127.0.0.1). This is the part Cloudflare bills as CPU time: the isolate executing
// JS and wasm (and V8's own work for it: compilation, GC), not the time it waits for KV,
// Durable Objects or fetch, and not workerd's HTTP handling or the local KV simulation.
//
// How the profile is read: V8 samples the isolate's thread only while the isolate is
// entered (workerd enters it to run the Worker, and marks it "(idle)" while it holds it
// but waits). A sample stands for the time since the previous one; the first sample after
// a stretch outside the isolate would carry that whole stretch, so every delta longer
// than GAP_FACTOR times the median delta (the effective sampling interval) counts as one
// median interval instead. Busy time = the weights of all samples except "(idle)";
// "(program)" (V8 and workerd native code running for the isolate outside any JS or wasm
// frame, e.g. compilation, API glue) and "(garbage collector)" are included in it and
// also reported on their own.
import WebSocket from "ws";

/** A delta this many times the median is a gap outside the isolate, not busy time. */
const GAP_FACTOR = 4;

/** A CDP session with the Worker's isolate. wrangler's proxy lets one client connect. */
export class IsolateProfiler {
  static async connect(inspectorPort) {
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
    const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${inspectorPort}: ${JSON.stringify(targets)}`);
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    const self = new IsolateProfiler(ws);
    await self.send("Profiler.enable");
    return self;
  }

  constructor(ws) {
    this.ws = ws;
    this.next = 0;
    this.pending = new Map();
    // wrangler's proxy also forwards the answers to its own requests (ids from 1e8) and
    // events; only our ids resolve. workerd answers commands without a `result` object.
    this.scripts = new Map();
    ws.on("message", (data) => {
      const m = JSON.parse(data.toString());
      if (m.method === "Debugger.scriptParsed") this.scripts.set(m.params.scriptId, m.params.url);
      const waiter = m.id !== undefined && this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      if (m.error) waiter.reject(new Error(`${waiter.method}: ${JSON.stringify(m.error)}`));
      else waiter.resolve(m.result ?? {});
    });
  }

  send(method, params = {}) {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling every `intervalUs` (V8 may sample less often than asked). */
  async start(intervalUs) {
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
  }

  /** Stops sampling; returns the raw profile (.cpuprofile format). */
  async stop() {
    return (await this.send("Profiler.stop")).profile;
  }

  /** The source text of every script a profile names (by scriptId), read once through
   * the Debugger domain after sampling (enabling it costs nothing while measuring). Used
   * to name the wasm-bindgen import a glue frame is (`__wbg_get_…`): the bundle wrangler
   * serves is the unminified build/index.js, one import shim per line. */
  async sources(profile) {
    const ids = new Set(profile.nodes.map((n) => n.callFrame.scriptId).filter((id) => id && id !== "0"));
    await this.send("Debugger.enable");
    const out = new Map();
    try {
      for (const id of ids) {
        try {
          const { scriptSource } = await this.send("Debugger.getScriptSource", { scriptId: id });
          if (typeof scriptSource === "string" && !scriptSource.startsWith("\0asm")) out.set(id, scriptSource.split("\n"));
        } catch { /* a wasm module or a gone script: no lines */ }
      }
    } finally {
      await this.send("Debugger.disable");
    }
    return out;
  }

  close() {
    this.ws.close();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};

/** Busy, program and GC time (µs) of a profile, with the sampling interval and the
 * functions with the most self time. Names: JS functions by name, wasm functions as V8
 * shows them (`wasm-function[i]`: the Worker's wasm is built without a names section). */
export function summarize(profile, { top = 0 } = {}) {
  const name = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName || `(anonymous ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber})`]));
  const tick = median(profile.timeDeltas);
  const out = { samples: profile.samples.length, intervalUs: tick, busyUs: 0, idleUs: 0, programUs: 0, gcUs: 0, self: new Map() };
  profile.samples.forEach((id, k) => {
    const delta = profile.timeDeltas[k] ?? 0;
    const w = delta > GAP_FACTOR * tick ? tick : delta;
    const fn = name.get(id);
    if (fn === "(idle)") { out.idleUs += w; return; }
    out.busyUs += w;
    if (fn === "(program)") out.programUs += w;
    if (fn === "(garbage collector)") out.gcUs += w;
    out.self.set(fn, (out.self.get(fn) ?? 0) + w);
  });
  out.top = [...out.self].sort((a, b) => b[1] - a[1]).slice(0, top);
  delete out.self;
  return out;
}

// ---- Attribution: where a step's isolate CPU goes, by the sampled stack ----
//
// Every non-idle sample is put in exactly one category by its leaf frame (self time):
//   wasm     our Rust code (frames of the wasm module, `wasm-function[i]`)
//   boundary the wasm↔JS trampolines V8 and wasm-bindgen generate (`js-to-wasm:…`,
//            `wasm-to-js`, `… externref shim…`)
//   glue     JS of the Worker bundle (build/index.js: wasm-bindgen's import shims and
//            the worker crate's JS; under wrangler dev also its middleware facade)
//   runtime  native frames (workerd's C++ API bindings: KV get/put, the Durable Object
//            stub, Request/Response, console, queueMicrotask, TextDecoder …) and the
//            runtime's own JS (`node-internal:`, `cloudflare-internal:`)
//   devWrap  scripts only wrangler dev / miniflare add to the isolate (`__mf_*`)
//   program  "(program)": V8/workerd native work for the isolate outside any frame
//   gc       "(garbage collector)"
// Runtime samples are also labelled by the wasm-bindgen import that called them
// (`get ← __wbg_get`), read from the bundle's source line, so a KV read, a Durable
// Object fetch and a console line can be told apart.
//
// The guard Durable Object: under wrangler dev it is instantiated in the Worker's own
// isolate, so its CPU is in this profile (Cloudflare bills it to the object). A sample is
// the guard's when its stack holds the object's JS entry (the glue line calling
// `guard_fetch`/`guard_alarm`, or miniflare's `__mf_do_wrapper`) or a "guard marker": the
// outermost wasm function of a stack that reaches the object's SQL storage (`exec`,
// `deleteAll`, `setAlarm`, `sql`, `storage`) and that no stack of the Worker's own
// stub calls (`getByName`, `fetch`) contains, i.e. the poll function of the object's
// request future. Markers come from all the run's profiles (one wasm module, so one
// numbering). Nothing is subtracted on a guess: what is not matched stays the Worker's.

const DO_IMPORTS = new Set(["exec", "deleteAll", "setAlarm", "sql", "storage", "toArray"]);
const STUB_IMPORTS = new Set(["getByName", "fetch"]);

/** The frames of one profile, indexed, with a way to walk a sample's stack. */
function indexProfile(profile, sources) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const line = (cf) => sources?.get(cf.scriptId)?.[cf.lineNumber] ?? "";
  /** The wasm-bindgen import a bundle line defines (`__wbg_get_57b…:` → `get`). */
  const importOf = (cf) => /__wbg_([A-Za-z0-9]+(?:_[A-Za-z][A-Za-z0-9]*)*?)_[0-9a-f]{16}\s*[:(]/.exec(line(cf))?.[1];
  const stack = (id) => {
    const out = [];
    for (let x = id; x !== undefined; x = parent.get(x)) out.push(byId.get(x).callFrame);
    return out; // leaf first
  };
  return { byId, stack, importOf, line };
}

const isWasm = (cf) => cf.url.startsWith("wasm://");
/** A wasm function's identity: its name (`wasm-function[i]` in the stripped build). */
const wasmIndex = (cf) => (isWasm(cf) && !isBoundary(cf) ? cf.functionName : undefined);
const isBoundary = (cf) => cf.functionName === "wasm-to-js" || cf.functionName.startsWith("js-to-wasm") || (isWasm(cf) && / shim/.test(cf.functionName));
const isBundle = (cf) => cf.url === "index.js" || cf.url.endsWith("/index.js") || cf.url.endsWith("shim.mjs");

/** The guard's marker functions (wasm indices) over all of a run's profiles. */
export function guardMarkers(runs) {
  const doStacks = [];
  const workerFns = new Set();
  for (const { profile, sources } of runs) {
    const ix = indexProfile(profile, sources);
    for (const id of new Set(profile.samples)) {
      const st = ix.stack(id);
      // The API called: the native leaf's name, else the import the glue frame defines.
      const api = st[0].url === "" && st[0].functionName ? st[0].functionName : st.map(ix.importOf).find(Boolean);
      const fns = st.map(wasmIndex).filter(Boolean).reverse(); // root first
      if (DO_IMPORTS.has(api)) doStacks.push(fns);
      if (STUB_IMPORTS.has(api)) fns.forEach((f) => workerFns.add(f));
    }
  }
  const markers = new Set();
  if (workerFns.size === 0) return markers; // cannot tell the two apart: mark nothing
  for (const fns of doStacks) {
    const first = fns.find((f) => !workerFns.has(f));
    if (first) markers.add(first);
  }
  return markers;
}

/** Splits a profile's busy time (µs, gap-capped as in `summarize`) by category, for the
 * whole isolate and for the guard Durable Object's share of it. */
export function attribute(profile, sources, markers = new Set()) {
  const ix = indexProfile(profile, sources);
  const tick = median(profile.timeDeltas);
  const zero = () => ({ wasm: 0, boundary: 0, glue: 0, runtime: 0, devWrap: 0, program: 0, gc: 0 });
  const out = { all: zero(), guard: zero(), runtime: new Map(), glue: new Map(), guardUs: 0, busyUs: 0 };
  profile.samples.forEach((id, k) => {
    const delta = profile.timeDeltas[k] ?? 0;
    const w = delta > GAP_FACTOR * tick ? tick : delta;
    const st = ix.stack(id);
    const leaf = st[0];
    const name = leaf.functionName;
    if (name === "(idle)") return;
    out.busyUs += w;
    let cat;
    if (name === "(program)") cat = "program";
    else if (name === "(garbage collector)") cat = "gc";
    else if (isBoundary(leaf)) cat = "boundary";
    else if (isWasm(leaf)) cat = "wasm";
    else if (leaf.url.includes("__mf_")) cat = "devWrap";
    else if (isBundle(leaf)) cat = "glue";
    else cat = "runtime"; // native API frames (no url), node-internal:, cloudflare-internal:
    const guard = st.some((cf) => markers.has(wasmIndex(cf)) || cf.url.includes("__mf_do_wrapper") || /guard_(fetch|alarm)\(/.test(ix.line(cf)));
    out.all[cat] += w;
    if (guard) { out.guard[cat] += w; out.guardUs += w; }
    const imp = st.map(ix.importOf).find(Boolean);
    if (cat === "runtime") {
      const label = `${name || "(native)"}${imp ? ` ← ${imp}` : ""}${guard ? " [guard]" : ""}`;
      out.runtime.set(label, (out.runtime.get(label) ?? 0) + w);
    }
    if (cat === "glue") {
      const label = `${imp ?? (name || `(anonymous ${leaf.lineNumber})`)}${guard ? " [guard]" : ""}`;
      out.glue.set(label, (out.glue.get(label) ?? 0) + w);
    }
  });
  return out;
}
