// The flow engine for JS apps: the app supplies where state and users live and how codes
// reach people; the engine decides everything else. Each step runs the pure core once,
// applies its effects (users saved, codes delivered), then stores the next state under a
// fresh flow id, so a stale id is never accepted twice. If a delivery fails, the previous flow
// id stays valid, so the user can simply retry (with the state the engine decides for a failed
// or timed-out send, as in the Worker). A callback of the
// app that throws (or rejects) is answered as error data naming it, never as a rejection.
import * as wasm from "./vestibule.js";

const START_TYPES = new Set(["startSignIn", "startSignUp", "startPasswordReset", "startStepUp", "startMethodChange"]);

/** State kept in a Map: for tests, servers with sticky sessions, and the demo. Abandoned
 * flows would otherwise stay forever, so each `set` first drops the entries whose flow has
 * expired by the Flow's clock (the engine refuses them anyway): memory stays bounded by the
 * flows started within one flow lifetime. */
export function memoryStorage() {
  const map = new Map();
  let nextSweep = -Infinity; // a sweep walks every entry, so at most once a minute
  return {
    get: (k) => map.get(k)?.text,
    set: (k, v, { expiresAt, now } = {}) => {
      if (Number.isFinite(now) && now >= nextSweep) {
        nextSweep = now + 60;
        for (const [key, e] of map) if (e.expiresAt < now) map.delete(key);
      }
      map.set(k, { text: v, expiresAt: Number.isFinite(expiresAt) ? expiresAt : Infinity });
    },
    delete: (k) => void map.delete(k),
  };
}

/** State kept in `localStorage` (browser), under a prefix. Each flow's expiry is kept next
 * to it (`<prefix><id>.expires`), and a write sweeps the expired ones (at most once a
 * minute): flows a person walked away from would otherwise stay in the origin's 5 MB for
 * ever. */
export function localStorageStorage(prefix = "vestibule.flow.", store = globalThis.localStorage) {
  const need = () => {
    if (!store) throw new Error("there is no localStorage here (Node, a worker); pass another storage");
    return store;
  };
  const EXPIRES = ".expires";
  let nextSweep = -Infinity;
  const sweep = (s, now) => {
    const due = [];
    for (let i = 0; i < s.length; i++) {
      const key = s.key(i);
      if (key?.startsWith(prefix) && key.endsWith(EXPIRES) && Number(s.getItem(key)) < now) due.push(key);
    }
    for (const key of due) {
      s.removeItem(key.slice(0, -EXPIRES.length));
      s.removeItem(key);
    }
  };
  return {
    get: (k) => need().getItem(prefix + k) ?? undefined,
    set: (k, v, { expiresAt, now } = {}) => {
      const s = need();
      if (Number.isFinite(now) && now >= nextSweep) {
        nextSweep = now + 60;
        sweep(s, now);
      }
      s.setItem(prefix + k, v);
      if (Number.isFinite(expiresAt)) s.setItem(prefix + k + EXPIRES, String(expiresAt));
    },
    delete: (k) => {
      const s = need();
      s.removeItem(prefix + k);
      s.removeItem(prefix + k + EXPIRES);
    },
  };
}

/** Users kept in memory, looked up by id or by normalized email. */
export function memoryUsers(initial = []) {
  const byId = new Map(initial.map((u) => [u.id, u]));
  return {
    findById: (id) => byId.get(id),
    findByEmail: (email) => [...byId.values()].find((u) => u.email === String(email).trim().toLowerCase()),
    save: (user) => void byId.set(user.id, user),
    all: () => [...byId.values()],
  };
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomHex(n) {
  const bytes = new Uint8Array(n);
  globalThis.crypto.getRandomValues(bytes);
  return hex(bytes);
}

/** The engine reads a tagged object's tag before its other fields (it does not buffer the
 * object to find it), so the tag goes first; the object is otherwise unchanged. */
function tagFirst(value, tag) {
  if (value === null || typeof value !== "object" || Array.isArray(value) || !(tag in value)) return value;
  return { [tag]: value[tag], ...value };
}

/** An input as the engine reads it: `type` first, and `action` first in a method change. */
function engineInput(input) {
  const out = tagFirst(input, "type");
  if (out !== input && out.change !== undefined) out.change = tagFirst(out.change, "action");
  return out;
}

/** A stored state as the engine reads it: `step` first, and `action` first in the method
 * change its common part may carry. */
function engineState(state) {
  const out = tagFirst(state, "step");
  if (out !== state && out.common?.methodChange) {
    out.common = { ...out.common, methodChange: tagFirst(out.common.methodChange, "action") };
  }
  return out;
}

/** Flow ids being continued right now, in this JS realm. A step reads the state, awaits the
 * app's callbacks, then replaces the id; two calls with one id in that window would both read
 * the same state, so a code could be guessed once per parallel call instead of once per
 * attempt and one code could mint two grants. The claim is taken before the first await.
 * It is one set for every Flow and storage: a server makes a Flow per request, often with a
 * storage object made per request over its database, and claims kept per storage object
 * were then shared by nothing. Flow ids are 128 random bits, so ids of different storages do
 * not meet. Storage spread over processes needs its own lock as well. */
const inFlight = new Set();

/** How long a `deliver` call may take before the step gives up on it. */
const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
const TIMED_OUT = Symbol("timed out");
const DELIVERED = Symbol("delivered");

/** Runs `fn`: DELIVERED once it resolves, TIMED_OUT if it has not settled within `ms`, and
 * its rejection if it fails. A delivery service that never answers would otherwise hold
 * the step, and its flow id's claim, for ever. */
async function withTimeout(fn, ms) {
  let timer;
  const limit = new Promise((resolve) => { timer = setTimeout(() => resolve(TIMED_OUT), ms); });
  try {
    return await Promise.race([Promise.resolve().then(fn).then(() => DELIVERED), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** The caller's IP address from a `start`/`next` context (`{ ip }`), or the error data
 * for a context of another shape. A context the Flow silently ignored would switch the
 * per-network send counters off without a word (`context` passed as the IP text itself,
 * `ip` as a number from a proxy library). */
function callerIp(context) {
  if (context === undefined || context === null) return { ip: undefined };
  if (typeof context !== "object" || Array.isArray(context)) {
    return error("flow.invalid_context", "pass the step's context as an object such as {ip: \"203.0.113.9\"}", "context");
  }
  const { ip } = context;
  if (ip === undefined || ip === null) return { ip: undefined };
  if (typeof ip !== "string" || ip.trim() === "") {
    return error("flow.invalid_context", "`context.ip` must be the caller's IP address as text, such as \"203.0.113.9\"", "context.ip");
  }
  return { ip };
}

/** Send counters being counted right now, in this JS realm: each key's latest holder's
 * promise, resolved when it is done. A count reads the counter, decides and writes it back
 * with awaits between; parallel requests for one address all read the same count, so
 * without this a burst of them each got a code however low the cap. One map for every
 * Flow and storage, as `inFlight` below, since a server makes a Flow per request. Every key
 * is claimed at once, synchronously, so holders queue by arrival and cannot deadlock.
 * Counters in storage shared by processes are still not atomic across them. */
const counterHolds = new Map();

async function holdingCounters(keys, fn) {
  const unique = [...new Set(keys)];
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const before = unique.map((k) => counterHolds.get(k));
  for (const k of unique) counterHolds.set(k, held);
  try {
    await Promise.all(before);
    return await fn();
  } finally {
    release();
    for (const k of unique) if (counterHolds.get(k) === held) counterHolds.delete(k);
  }
}

/** A send counter as the storage handed it back: its text, none, or the error data. A
 * storage over a JSON column hands it back parsed; read as "never counted", every send to
 * the address then passed. */
function storedCounter(stored) {
  if (stored === undefined || stored === null) return { text: undefined };
  if (typeof stored === "string") return { text: stored };
  if (typeof stored === "object" && !ArrayBuffer.isView(stored) && !(stored instanceof ArrayBuffer)) {
    try {
      return { text: JSON.stringify(stored) };
    } catch {
      // answered below
    }
  }
  return error("flow.state_unreadable", "a stored send counter is not text or json; the storage must return the text it was given", "storage.get");
}

function error(code, message, target) {
  return { error: target ? { code, message, target } : { code, message } };
}

/** A failed call of the app's own code, thrown through so `start`/`next` answer it as data.
 * The answer quotes the start of the callback's own error message: keep personal data out
 * of the errors your callbacks throw, or do not pass this message on. */
class CallbackFailed {
  constructor(name, cause) {
    this.answer = error("callback.failed", `the app's \`${name}\` callback failed: ${String(cause?.message ?? cause).slice(0, 200)}`, name);
  }
}

/** How long the app's other callbacks (storage, users, onTokens, onAudit, now) may take. */
const DEFAULT_CALLBACK_TIMEOUT_MS = 30_000;

/** Awaits the app's callback `name`; its throw or rejection, or no answer within `ms`,
 * becomes a CallbackFailed. A storage or user store that never answers (a lost database
 * connection) would otherwise hold the step, and its flow id's claim, for ever: every
 * retry then got `flow.busy`. */
async function app(name, fn, ms) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), limit]);
  } catch (e) {
    throw new CallbackFailed(name, e);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a step, answering a CallbackFailed as its error data. */
async function answered(run) {
  try {
    return await run();
  } catch (e) {
    if (e instanceof CallbackFailed) return e.answer;
    throw e;
  }
}

export class Flow {
  #config; #codeKey; #conditionalAccess; #storage; #users; #deliver; #onTokens; #onAudit; #now;
  #deliveryTimeoutMs; #callbackTimeoutMs; #optionError;

  /**
   * @param {object} options see index.d.ts (FlowOptions)
   */
  constructor(options) {
    const { config, codeKey, conditionalAccess, storage, users = memoryUsers(), deliver, onTokens, onAudit, now,
      deliveryTimeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS, callbackTimeoutMs = DEFAULT_CALLBACK_TIMEOUT_MS } = options ?? {};
    // The constructor never throws: a bad option is answered by every call instead.
    const millis = (v) => typeof v === "number" && v > 0 && v <= 2 ** 31 - 1;
    for (const [name, value] of [["deliveryTimeoutMs", deliveryTimeoutMs], ["callbackTimeoutMs", callbackTimeoutMs]]) {
      if (!millis(value) && !this.#optionError) {
        this.#optionError = error("flow.invalid_option", `\`${name}\` must be a number of milliseconds above 0`, name);
      }
    }
    this.#deliveryTimeoutMs = deliveryTimeoutMs;
    this.#callbackTimeoutMs = callbackTimeoutMs;
    this.#config = config;
    this.#codeKey = codeKey;
    this.#conditionalAccess = conditionalAccess;
    this.#storage = storage ?? memoryStorage();
    this.#users = users;
    this.#deliver = deliver;
    this.#onTokens = onTokens;
    this.#onAudit = onAudit;
    this.#now = typeof now === "function" ? now : () => Math.floor(Date.now() / 1000);
  }

  /** The app's callback `name`, under the callback time limit ([`app`]). */
  #app(name, fn) {
    return app(name, fn, this.#callbackTimeoutMs);
  }

  /** Opens a flow (`startSignIn`, `startSignUp`, `startPasswordReset`, `startStepUp`, `startMethodChange`).
   * `context.ip` is the caller's IP address, for the per-network send counters. */
  async start(input, context) {
    if (!input || !START_TYPES.has(input.type)) {
      return error("flow.not_a_start", "start a flow with a start input such as {type: \"startSignIn\", ...}", "input.type");
    }
    if (this.#optionError) return this.#optionError;
    const { ip, error: badContext } = callerIp(context);
    if (badContext) return { error: badContext };
    return answered(async () => {
      // The account is looked up by the address as the engine compares it, not as typed: a
      // store keyed by the saved (normalized) address must find `Zoe@example.com` too. A
      // spelling the engine refuses is not looked up; the engine answers it as input data.
      let user;
      if (input.email !== undefined) {
        const email = typeof input.email === "string" ? wasm.normalizeEmail(input.email) : undefined;
        if (email !== undefined) user = await this.#app("users.findByEmail", () => this.#users.findByEmail(email));
      } else if (input.session?.userId !== undefined) {
        user = await this.#app("users.findById", () => this.#users.findById(input.session.userId));
      }
      return this.#run(undefined, null, input, user, ip);
    });
  }

  /** Continues the flow stored under `flowId` with one step input; `context` as for `start`. */
  async next(flowId, input, context) {
    if (this.#optionError) return this.#optionError;
    const { ip, error: badContext } = callerIp(context);
    if (badContext) return { error: badContext };
    if (typeof flowId !== "string") return answered(() => this.#continue(flowId, input, ip));
    const busy = inFlight;
    if (busy.has(flowId)) {
      return error("flow.busy", "this flow is already handling a step; wait for its answer and continue from there", "flowId");
    }
    busy.add(flowId);
    try {
      return await answered(() => this.#continue(flowId, input, ip));
    } finally {
      busy.delete(flowId);
    }
  }

  async #continue(flowId, input, ip) {
    const stateText = typeof flowId === "string" ? await this.#app("storage.get", () => this.#storage.get(flowId)) : undefined;
    if (stateText === undefined || stateText === null) {
      return error("flow.not_found", "this flow has ended, expired or was already continued; start again", "flowId");
    }
    // The app's storage may hand the text back with its keys reordered (a JSON column that
    // sorts them, say); the engine reads tags first, so they are put first again.
    let state;
    try {
      state = engineState(JSON.parse(stateText));
    } catch {
      return error("flow.state_unreadable", "the stored flow state is not JSON; the storage must return the text it was given", "flowId");
    }
    const lookup = JSON.parse(wasm.flowUserLookupJson(JSON.stringify(state)));
    if (lookup.error) return lookup;
    const user = lookup.by === "id" ? await this.#app("users.findById", () => this.#users.findById(lookup.value))
      : await this.#app("users.findByEmail", () => this.#users.findByEmail(lookup.value));
    return this.#run(flowId, state, input, user, ip);
  }

  async #run(flowId, state, input, user, ip) {
    const now = await this.#app("now", () => this.#now());
    let callText;
    try {
      callText = JSON.stringify({
        config: this.#config, codeKey: this.#codeKey, state, input: engineInput(input), now,
        entropy: randomHex(64), user: user ?? null,
        ...(this.#conditionalAccess ? { conditionalAccess: this.#conditionalAccess } : {}),
        ...(ip !== undefined ? { ip } : {}),
      });
    } catch (e) {
      return error("input.not_json", `the input cannot be serialized as json: ${e?.message ?? e}`);
    }
    const answer = JSON.parse(wasm.stepJson(callText));
    if (answer.error) return answer;
    // The send counters come before anything is applied: a refused send leaves the flow id
    // and everything else as they were. As in the Worker, the count is stored before the
    // code goes out (a parallel request must see it) and given back if the code cannot
    // have gone out; a timed-out send stays counted.
    const counters = answer.sendCounters ?? [];
    const counted = await this.#countSends(counters, now);
    if (counted.error) return counted;
    let refund = counters.length > 0;
    try {
      return await this.#apply(flowId, state, answer, now, () => { refund = false; });
    } finally {
      if (refund) await this.#refundSends(counters, now).catch(() => {});
    }
  }

  /** The step's effects, then its next state. `sent()` is called once its code went out,
   * or may have (timed out): from then on its send counts stay. */
  async #apply(flowId, state, answer, now, sent) {
    // A step that grants tokens uses up its flow id before the grant leaves the engine: if an
    // effect then fails (onTokens, users.save), retrying the id must not grant again. Steps
    // that only send codes keep the id until delivery succeeded, so a failed send can retry.
    let consumed = false;
    if (flowId !== undefined && answer.effects.some((e) => e.type === "issueTokens")) {
      await this.#app("storage.delete", () => this.#storage.delete(flowId));
      consumed = true;
    }
    let tokens;
    for (const { type, ...effect } of answer.effects) {
      if (type === "createUser" || type === "updateUser") await this.#app("users.save", () => this.#users.save(effect));
      else if (type === "sendCode") {
        if (!this.#deliver) return error("delivery.not_configured", "no deliver callback was given, so the code cannot be sent");
        let outcome;
        try {
          outcome = await withTimeout(() => this.#deliver(effect), this.#deliveryTimeoutMs);
        } catch {
          outcome = undefined;
        }
        if (outcome === DELIVERED || outcome === TIMED_OUT) sent();
        if (outcome !== DELIVERED) {
          const timedOut = outcome === TIMED_OUT;
          await this.#keepAfterFailedSend(flowId, state, answer.state, timedOut, now);
          return timedOut
            ? error("delivery.timed_out", "the code could not be delivered in time; try again in a moment", "deliver")
            : error("delivery.failed", "the code could not be delivered; try again in a moment");
        }
      } else if (type === "issueTokens") {
        tokens = effect;
        await this.#app("onTokens", () => this.#onTokens?.(effect));
      } else if (type === "audit") await this.#app("onAudit", () => this.#onAudit?.(effect));
    }
    // The next state is stored before the old id is dropped: if storing fails, the old id
    // still works and the user can retry the step, instead of being left with neither.
    let nextId = null;
    if (answer.state) {
      nextId = randomHex(16);
      const text = JSON.stringify(answer.state);
      const meta = { expiresAt: answer.state.common?.expiresAt, now };
      await this.#app("storage.set", () => this.#storage.set(nextId, text, meta));
    }
    if (flowId !== undefined && !consumed) await this.#app("storage.delete", () => this.#storage.delete(flowId));
    return tokens ? { flowId: nextId, reply: answer.reply, tokens } : { flowId: nextId, reply: answer.reply };
  }

  /** Asks each send counter the step names (`sendCounters`, decided by the engine) whether
   * its code may go out: the first refusal answers `delivery.too_many` with `retryAfter`
   * and stores nothing. Without this, anyone could start flow after flow for one address or
   * number: an inbox flooded, or an SMS pumping run billed to the app. The counters live in
   * the app's storage under `send/…` keys (keyed hashes, no address or number); they are
   * read, decided and written while this realm holds them ([`holdingCounters`]), and are
   * not atomic across processes. */
  async #countSends(counters, now) {
    if (counters.length === 0) return {};
    return holdingCounters(counters.map((c) => c.key), async () => {
      // Each key's latest text: a key named twice counts both sends.
      const latest = new Map();
      for (const counter of counters) {
        let state;
        if (latest.has(counter.key)) {
          state = latest.get(counter.key).text;
        } else {
          const read = storedCounter(await this.#app("storage.get", () => this.#storage.get(counter.key)));
          if (read.error) return read;
          state = read.text;
        }
        const counterText = JSON.stringify(counter);
        let answer = JSON.parse(wasm.countSendJson(state, counterText, now));
        // A stored counter the engine cannot read (damaged, or another app's) is counted
        // afresh rather than blocking every send to that destination until it expires.
        if (answer.error?.code === "flow.state_invalid" && state !== undefined) {
          answer = JSON.parse(wasm.countSendJson(undefined, counterText, now));
        }
        if (answer.error) return answer;
        latest.set(counter.key, { text: JSON.stringify(answer.state), expiresAt: answer.forgetAt });
      }
      for (const [key, { text, expiresAt }] of latest) {
        await this.#app("storage.set", () => this.#storage.set(key, text, { expiresAt, now }));
      }
      return {};
    });
  }

  /** Gives back the counts of a send that cannot have gone out (failed, or no `deliver`),
   * as the Worker does: only that send's count ([`wasm.refundSendJson`]), so a send another
   * request counted meanwhile stays counted. */
  async #refundSends(counters, sentAt) {
    await holdingCounters(counters.map((c) => c.key), async () => {
      for (const counter of counters) {
        const read = storedCounter(await this.#app("storage.get", () => this.#storage.get(counter.key)));
        if (read.error || read.text === undefined) continue;
        const back = JSON.parse(wasm.refundSendJson(read.text, JSON.stringify(counter), sentAt));
        if (!back.state) continue;
        if (back.forgetAt === undefined) await this.#app("storage.delete", () => this.#storage.delete(counter.key));
        else await this.#app("storage.set", () => this.#storage.set(counter.key, JSON.stringify(back.state), { expiresAt: back.forgetAt, now: sentAt }));
      }
    });
  }

  /** A code was not delivered: the flow id the client holds stays valid, with the state the
   * engine decides (as in the Worker). After a failure, the state before the step with the
   * send counted against the flow's code cap, so retrying a failing send cannot send codes
   * without end; after a timeout, the step's own state with its code marked as possibly
   * delivered, so the retry answers with that code instead of a second one that voids it. */
  async #keepAfterFailedSend(flowId, before, next, timedOut, now) {
    if (flowId === undefined) return;
    const kept = JSON.parse(wasm.keptAfterFailedSendJson(JSON.stringify({ why: timedOut ? "timedOut" : "failed", before, next: next ?? null })));
    if (!kept.state) return;
    await this.#app("storage.set", () => this.#storage.set(flowId, JSON.stringify(kept.state), { expiresAt: kept.state.common?.expiresAt, now }));
  }
}
