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
    ws.on("message", (data) => {
      const m = JSON.parse(data.toString());
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
