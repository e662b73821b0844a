// The Flow counts every code it sends against the same send counters the Worker keeps
// (settings.emailVelocity / smsVelocity), in the app's storage. Before, an app built on the
// package let anyone start flow after flow for one address: an inbox flooded, or, with
// SMS, a pumping run billed to the app.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Flow, memoryStorage } from "vestibule";
import { APP, emailPasswordConfig as config } from "../support/flow_config.mjs";


/** A Flow on a recording memory storage, a fake inbox and a settable clock. */
function harness({ failDelivery = () => false } = {}) {
  const inner = memoryStorage();
  const written = [];
  const storage = {
    get: (k) => inner.get(k),
    set: (k, v, meta) => { written.push([k, v]); inner.set(k, v, meta); },
    delete: (k) => inner.delete(k),
  };
  const inbox = [];
  const clock = { now: 1_800_000_000 };
  const flow = new Flow({
    config: config(), codeKey: "5a".repeat(32), storage, now: () => clock.now,
    deliver: (d) => { if (failDelivery(d)) throw new Error("provider down"); inbox.push(d); },
  });
  return { flow, inbox, clock, written, storage };
}

/** A new sign-up for `email` up to its code: the challenge's answer and the flow id it ran on. */
async function askForCode(h, email, context) {
  const started = await h.flow.start({ type: "startSignUp", appId: APP, email, password: "Correct-Horse-Battery-9" }, context);
  assert.equal(started.reply?.type, "started", JSON.stringify(started));
  const answer = await h.flow.next(started.flowId, { type: "challenge" }, context);
  return { answer, flowId: started.flowId };
}

test("one address gets its burst of codes, then the next flow is refused with retryAfter and sends nothing", async () => {
  const h = harness();
  for (let i = 0; i < 5; i++) {
    const { answer } = await askForCode(h, "zoe@example.com");
    assert.equal(answer.reply?.type, "codeSent", JSON.stringify(answer));
    h.clock.now += 1;
  }
  const { answer, flowId } = await askForCode(h, "Zoe@Example.com");
  assert.equal(answer.error?.code, "delivery.too_many", JSON.stringify(answer));
  assert.equal(answer.error.target, "deliver");
  assert.ok(answer.retryAfter > 0, JSON.stringify(answer));
  assert.equal(h.inbox.length, 5, "no sixth code went out");
  // Nothing of the refused step was applied: its flow id still asks for the code, and it
  // goes out once the wait is over.
  h.clock.now += answer.retryAfter;
  const later = await h.flow.next(flowId, { type: "challenge" });
  assert.equal(later.reply?.type, "codeSent", JSON.stringify(later));
  assert.equal(h.inbox.length, 6);
  // The counters are stored under keyed hashes: no address in a key or a value.
  const counters = h.written.filter(([k]) => k.startsWith("send/"));
  assert.ok(counters.length > 0, "the counters are in the app's storage");
  for (const [k, v] of counters) assert.ok(!/zoe|example/i.test(k + v), `${k} ${v}`);
});

test("with the caller's IP, one network's flood does not stop the owner asking from another", async () => {
  const h = harness();
  const attacker = { ip: "203.0.113.9" };
  let refused;
  for (let i = 0; i < 8 && !refused; i++) {
    const { answer } = await askForCode(h, "ada@example.com", attacker);
    if (answer.error) refused = answer;
    h.clock.now += 1;
  }
  assert.equal(refused?.error.code, "delivery.too_many", "the attacker's network is capped");
  const { answer } = await askForCode(h, "ada@example.com", { ip: "198.51.100.7" });
  assert.equal(answer.reply?.type, "codeSent", `the owner's own network still gets a code: ${JSON.stringify(answer)}`);
});

test("a send that fails is not counted", async () => {
  let failing = true;
  const h = harness({ failDelivery: () => failing });
  for (let i = 0; i < 6; i++) {
    const { answer } = await askForCode(h, "lin@example.com");
    assert.equal(answer.error?.code, "delivery.failed", JSON.stringify(answer));
    h.clock.now += 1;
  }
  failing = false;
  const { answer } = await askForCode(h, "lin@example.com");
  assert.equal(answer.reply?.type, "codeSent", JSON.stringify(answer));
});

test("a damaged stored counter is counted afresh instead of blocking the address", async () => {
  const h = harness();
  await askForCode(h, "max@example.com");
  const keys = [...new Set(h.written.filter(([k]) => k.startsWith("send/")).map(([k]) => k))];
  assert.ok(keys.length > 0);
  for (const k of keys) h.storage.set(k, "damaged", { expiresAt: h.clock.now + 60, now: h.clock.now });
  h.clock.now += 1;
  const { answer } = await askForCode(h, "max@example.com");
  assert.equal(answer.reply?.type, "codeSent", JSON.stringify(answer));
  for (const k of keys) assert.notEqual(h.storage.get(k), "damaged", "replaced by a real count");
});
