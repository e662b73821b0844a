// Review of the Flow's send counters (tests/node/send_caps.test.mjs): what a server sees
// that one sequential caller does not. Requests for one address run at once, storage is a
// database that answers later (or hands a JSON column back parsed), and apps pass a
// context of the wrong shape.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Flow, memoryStorage } from "vestibule";
import { APP, emailPasswordConfig as config } from "../support/flow_config.mjs";

const PASSWORD = "Correct-Horse-Battery-9";

const later = () => new Promise((resolve) => setTimeout(resolve, 2));

/**
 * A Flow over a storage that answers asynchronously, as a database does (`parsed`: it hands
 * the send counters back as parsed JSON, as a JSON column does), a delivery that takes a
 * moment (`fail(d, n)` makes the n-th call fail) and a settable clock.
 */
function harness({ parsed = false, fail = () => false } = {}) {
  const inner = memoryStorage();
  const written = [];
  const storage = {
    get: async (k) => {
      await later();
      const v = inner.get(k);
      return parsed && k.startsWith("send/") && v !== undefined ? JSON.parse(v) : v;
    },
    set: async (k, v, meta) => { await later(); written.push(k); inner.set(k, v, meta); },
    delete: async (k) => { await later(); inner.delete(k); },
  };
  const inbox = [];
  let calls = 0;
  const clock = { now: 1_800_000_000 };
  const flow = new Flow({
    config: config(), codeKey: "5a".repeat(32), storage, now: () => clock.now,
    deliver: async (d) => {
      const n = calls++;
      await later();
      if (fail(d, n)) throw new Error("provider down");
      inbox.push(d);
    },
  });
  return { flow, inbox, clock, written, inner };
}

async function startFor(h, email, context) {
  const started = await h.flow.start({ type: "startSignUp", appId: APP, email, password: PASSWORD }, context);
  assert.equal(started.reply?.type, "started", JSON.stringify(started));
  return started.flowId;
}

/** `n` flows for `email` started, then all asking for their code at the same moment. */
async function parallelCodes(h, email, n) {
  const ids = [];
  for (let i = 0; i < n; i++) ids.push(await startFor(h, email));
  return Promise.all(ids.map((id) => h.flow.next(id, { type: "challenge" })));
}

test("a burst of parallel requests for one address gets the burst of codes, not one code each", async () => {
  const h = harness();
  const answers = await parallelCodes(h, "zoe@example.com", 8);
  const sent = answers.filter((a) => a.reply?.type === "codeSent");
  const refused = answers.filter((a) => a.error?.code === "delivery.too_many");
  assert.equal(sent.length, 5, JSON.stringify(answers));
  assert.equal(refused.length, 3, JSON.stringify(answers));
  assert.equal(h.inbox.length, 5, "no code beyond the burst went out");
  // The counts of all five are stored: the next request is refused too.
  h.clock.now += 1;
  const [next] = await parallelCodes(h, "zoe@example.com", 1);
  assert.equal(next.error?.code, "delivery.too_many", JSON.stringify(next));
});

test("a send that fails while others to the address go out is given back, and only it", async () => {
  // The first of five parallel sends fails: four codes went out, so a fifth may follow,
  // and then the address has had its burst.
  const h = harness({ fail: (_d, n) => n === 0 });
  const answers = await parallelCodes(h, "lin@example.com", 5);
  assert.equal(answers.filter((a) => a.error?.code === "delivery.failed").length, 1, JSON.stringify(answers));
  assert.equal(h.inbox.length, 4);
  h.clock.now += 1;
  const [fifth] = await parallelCodes(h, "lin@example.com", 1);
  assert.equal(fifth.reply?.type, "codeSent", JSON.stringify(fifth));
  h.clock.now += 1;
  const [sixth] = await parallelCodes(h, "lin@example.com", 1);
  assert.equal(sixth.error?.code, "delivery.too_many", JSON.stringify(sixth));
});

test("a storage that hands a counter back as parsed JSON (a JSON column) still caps the address", async () => {
  const h = harness({ parsed: true });
  const results = [];
  for (let i = 0; i < 6; i++) {
    const [answer] = await parallelCodes(h, "max@example.com", 1);
    results.push(answer.reply?.type ?? answer.error?.code);
    h.clock.now += 1;
  }
  assert.deepEqual(results, ["codeSent", "codeSent", "codeSent", "codeSent", "codeSent", "delivery.too_many"]);
  assert.equal(h.inbox.length, 5);
});

test("a stored counter that is neither text nor JSON is refused as data, not read as never counted", async () => {
  const h = harness();
  const [first] = await parallelCodes(h, "eve@example.com", 1);
  assert.equal(first.reply?.type, "codeSent");
  const keys = [...new Set(h.written.filter((k) => k.startsWith("send/")))];
  // A storage that answers a number (a driver's row count, say) for each counter.
  const get = h.inner.get;
  h.inner.get = (k) => (k.startsWith("send/") ? 7 : get(k));
  assert.ok(keys.length > 0);
  const [answer] = await parallelCodes(h, "eve@example.com", 1);
  assert.equal(answer.error?.code, "flow.state_unreadable", JSON.stringify(answer));
  assert.equal(answer.error.target, "storage.get");
  assert.equal(h.inbox.length, 1, "no code went out past a counter the Flow cannot read");
});

test("a refusal by a later counter stores nothing, not even the earlier counters' counts", async () => {
  // Each request comes from a new network, so the pair counter (address from this network)
  // always allows and the refusal comes from the address-from-all-networks counter.
  const h = harness();
  let refused;
  for (let i = 1; i <= 40 && !refused; i++) {
    const context = { ip: `198.51.100.${i}` };
    const id = await startFor(h, "ada@example.com", context);
    const before = h.written.length;
    const answer = await h.flow.next(id, { type: "challenge" }, context);
    if (answer.error) {
      refused = answer;
      assert.deepEqual(h.written.slice(before), [], "the refused step wrote nothing");
    }
    h.clock.now += 1;
  }
  assert.equal(refused?.error.code, "delivery.too_many");
  assert.match(refused.error.message, /this email address recently/);
});

test("a context of the wrong shape is answered as error data naming it, and nothing is sent", async () => {
  const h = harness();
  const input = { type: "startSignUp", appId: APP, email: "bo@example.com", password: PASSWORD };
  for (const [context, target] of [["203.0.113.9", "context"], [{ ip: 3405803785 }, "context.ip"], [{ ip: "" }, "context.ip"]]) {
    const started = await h.flow.start(input, context);
    assert.equal(started.error?.code, "flow.invalid_context", JSON.stringify(started));
    assert.equal(started.error.target, target);
  }
  const id = await startFor(h, "bo@example.com");
  const answer = await h.flow.next(id, { type: "challenge" }, { ip: ["203.0.113.9"] });
  assert.equal(answer.error?.code, "flow.invalid_context", JSON.stringify(answer));
  assert.equal(h.inbox.length, 0);
  // The flow id still works with a good context.
  const ok = await h.flow.next(id, { type: "challenge" }, { ip: "203.0.113.9" });
  assert.equal(ok.reply?.type, "codeSent", JSON.stringify(ok));
});

test("a Flow made per request over one storage still queues the counters: the cap holds", async () => {
  const h = harness();
  const ids = [];
  for (let i = 0; i < 7; i++) ids.push(await startFor(h, "kai@example.com"));
  const perRequest = () => new Flow({
    config: config(), codeKey: "5a".repeat(32), storage: {
      get: async (k) => { await later(); return h.inner.get(k); },
      set: async (k, v, meta) => { await later(); h.inner.set(k, v, meta); },
      delete: async (k) => { await later(); h.inner.delete(k); },
    }, now: () => h.clock.now, deliver: async (d) => { await later(); h.inbox.push(d); },
  });
  const answers = await Promise.all(ids.map((id) => perRequest().next(id, { type: "challenge" })));
  assert.equal(answers.filter((a) => a.reply?.type === "codeSent").length, 5, JSON.stringify(answers));
  assert.equal(h.inbox.length, 5);
});

test("a timed-out send stays counted; a step with no deliver callback gives its count back", async () => {
  const storage = memoryStorage();
  const clock = { now: 1_800_000_000 };
  const make = (options) => new Flow({ config: config(), codeKey: "5a".repeat(32), storage, now: () => clock.now, ...options });
  const ask = async (flow) => {
    const started = await flow.start({ type: "startSignUp", appId: APP, email: "tim@example.com", password: PASSWORD });
    clock.now += 1;
    return flow.next(started.flowId, { type: "challenge" });
  };
  const noSender = make({});
  for (let i = 0; i < 6; i++) assert.equal((await ask(noSender)).error?.code, "delivery.not_configured");
  const hanging = make({ deliver: () => new Promise(() => {}), deliveryTimeoutMs: 5 });
  const codes = [];
  for (let i = 0; i < 6; i++) {
    const answer = await ask(hanging);
    codes.push(answer.error?.code);
  }
  assert.deepEqual(codes, [...Array(5).fill("delivery.timed_out"), "delivery.too_many"]);
});

test("localStorageStorage keeps each counter's expiry next to it and sweeps it once forgotten", async () => {
  const { localStorageStorage } = await import("vestibule");
  const items = new Map();
  const fake = {
    get length() { return items.size; },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => void items.set(k, String(v)),
    removeItem: (k) => void items.delete(k),
  };
  const clock = { now: 1_800_000_000 };
  const flow = new Flow({ config: config(), codeKey: "5a".repeat(32), storage: localStorageStorage("app.", fake),
    now: () => clock.now, deliver: () => {} });
  const started = await flow.start({ type: "startSignUp", appId: APP, email: "liv@example.com", password: PASSWORD });
  assert.equal((await flow.next(started.flowId, { type: "challenge" })).reply?.type, "codeSent");
  const counters = [...items.keys()].filter((k) => k.startsWith("app.send/") && !k.endsWith(".expires"));
  assert.ok(counters.length > 0);
  for (const k of counters) assert.ok(Number(items.get(`${k}.expires`)) > clock.now, k);
  // A day and more later, the next write sweeps them.
  clock.now += 86_400 + 3_600 + 1;
  await flow.start({ type: "startSignUp", appId: APP, email: "other@example.com", password: PASSWORD });
  for (const k of counters) assert.ok(!items.has(k) && !items.has(`${k}.expires`), k);
});
