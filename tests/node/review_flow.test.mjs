// Session 7 review of the package's Flow in sign-up and password reset: each test failed on
// the package before its fix.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Flow } from "vestibule";
import { APP, emailPasswordConfig } from "../support/flow_config.mjs";

const config = emailPasswordConfig();

/** The user store an app writes first: records keyed by their `email` field, looked up as
 * given. The engine saves records with the address it normalized. */
function exactUsers() {
  const byEmail = new Map();
  const byId = new Map();
  return {
    findById: (id) => byId.get(id),
    findByEmail: (email) => byEmail.get(email),
    save: (user) => { byId.set(user.id, user); byEmail.set(user.email, user); },
    all: () => [...byId.values()],
  };
}

function harness(opts = {}) {
  const outbox = [];
  const users = opts.users ?? exactUsers();
  const flow = new Flow({
    config, codeKey: "5a".repeat(32), users,
    deliver: opts.deliver ?? ((d) => { outbox.push(d); }),
    ...opts.flow,
  });
  const lastCode = (to) => outbox.filter((d) => d.to === to).at(-1)?.code;
  return { flow, outbox, users, lastCode };
}

async function signUp(h, email, password) {
  let r = await h.flow.start({ type: "startSignUp", appId: APP, email, password });
  assert.equal(r.reply?.type, "started", JSON.stringify(r));
  r = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(r.reply?.type, "codeSent", JSON.stringify(r));
  r = await h.flow.next(r.flowId, { type: "submitCode", code: h.lastCode(email.trim().toLowerCase()) });
  assert.equal(r.reply?.type, "verified", JSON.stringify(r));
  return r;
}

// A phone keyboard capitalizes the first letter: `Zoe@example.com` is the same account as
// `zoe@example.com` (the engine ignores case), but the Flow handed the typed spelling to
// `users.findByEmail`, so a store keyed by the saved address answered "no such user": the
// reset said `user_not_found`, and a sign-up was let through to its email code for an address
// that already has an account.
test("an address typed with capitals or spaces finds the account in a store keyed by the saved address", async () => {
  const h = harness();
  await signUp(h, "zoe@example.com", "Correct-Horse-9");
  assert.equal(h.users.all().length, 1);

  const reset = await h.flow.start({ type: "startPasswordReset", appId: APP, email: " Zoe@Example.com " });
  assert.equal(reset.reply?.type, "started", JSON.stringify(reset));

  const signIn = await h.flow.start({ type: "startSignIn", appId: APP, email: "Zoe@example.com" });
  assert.equal(signIn.reply?.type, "started", JSON.stringify(signIn));

  const again = await h.flow.start({ type: "startSignUp", appId: APP, email: "ZOE@example.com", password: "Another-Horse-8" });
  assert.equal(again.reply?.rejection?.code, "user_already_exists", JSON.stringify(again));
  assert.equal(h.outbox.length, 1, "no sign-up code for an address that has an account");

  // An address the engine refuses is never looked up: it is answered as input data.
  let looked = 0;
  const h2 = harness({ users: { ...exactUsers(), findByEmail: () => { looked += 1; } } });
  const bad = await h2.flow.start({ type: "startPasswordReset", appId: APP, email: "\"zoe\"@example.com" });
  assert.equal(bad.error?.code, "flow.invalid_input", JSON.stringify(bad));
  assert.equal(looked, 0);
});

/** Whether `promise` settles before a generous sentinel (a hang detector, not a timing). */
async function settles(promise, ms = 5000) {
  let timer;
  const hung = new Promise((resolve) => { timer = setTimeout(() => resolve("hung"), ms); });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

// A delivery service that accepts the connection and never answers left the step pending for
// ever, and with it the flow id's claim: every retry of that flow id answered `flow.busy`,
// so the user could neither get a code nor go back. Now the step is cut off; as in the Worker,
// the code may have gone out, so the retry answers with that same code instead of a second
// one that would void it.
test("a delivery that never answers is cut off: the step answers as data and the flow id can be retried", async () => {
  let hang = true;
  const outbox = [];
  const hung = [];
  const h = harness({
    deliver: (d) => (hang ? (hung.push(d), new Promise(() => {})) : void outbox.push(d)),
    flow: { deliveryTimeoutMs: 50 },
  });
  const r = await h.flow.start({ type: "startSignUp", appId: APP, email: "kai@example.com", password: "Correct-Horse-9" });
  const first = await settles(h.flow.next(r.flowId, { type: "challenge" }));
  assert.notEqual(first, "hung", "the step never answered");
  assert.equal(first.error?.code, "delivery.timed_out", JSON.stringify(first));
  assert.equal(first.error?.target, "deliver");
  hang = false;
  const retried = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(retried.reply?.type, "codeSent", JSON.stringify(retried));
  assert.equal(outbox.length, 0, "the code that may have arrived is offered again, not replaced");
  const verified = await h.flow.next(retried.flowId, { type: "submitCode", code: hung[0].code });
  assert.equal(verified.reply?.type, "verified", JSON.stringify(verified));

  // A timeout that is not a positive number is refused as data, not used.
  const odd = harness({ flow: { deliveryTimeoutMs: "soon" } });
  const s = await odd.flow.start({ type: "startSignUp", appId: APP, email: "lee@example.com", password: "Correct-Horse-9" });
  assert.equal(s.error?.code, "flow.invalid_option", JSON.stringify(s));
  assert.equal(s.error?.target, "deliveryTimeoutMs");
});

// A server makes a Flow per request, and its storage is an object literal over the app's
// database, made in the handler too. The claim that makes one flow id count once was kept per
// storage object, so per-request wrappers shared none: twenty guesses sent at once against one
// code were twenty guesses (the code's cap of 5 tries read the same count in each), and one
// right code could mint a grant per concurrent request.
test("flow ids count once across Flow objects made per request, over storage wrappers made per request", async () => {
  const db = new Map();
  const users = exactUsers();
  const outbox = [];
  const grants = [];
  const perRequest = () => new Flow({
    config, codeKey: "5a".repeat(32), users,
    storage: { get: (k) => db.get(k), set: (k, v) => void db.set(k, v), delete: (k) => void db.delete(k) },
    deliver: (d) => { outbox.push(d); },
    onTokens: (t) => { grants.push(t); },
  });
  const email = "ivo@example.com";
  let r = await perRequest().start({ type: "startSignUp", appId: APP, email, password: "Correct-Horse-9" });
  r = await perRequest().next(r.flowId, { type: "challenge" });
  assert.equal(r.reply?.type, "codeSent", JSON.stringify(r));
  const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    perRequest().next(r.flowId, { type: "submitCode", code: String(10000000 + i) })));
  const evaluated = guesses.filter((x) => x.reply?.type === "rejected");
  assert.equal(evaluated.length, 1, JSON.stringify(guesses.map((x) => x.reply?.rejection?.code ?? x.error?.code)));

  // The account is made; a password sign-in's grant, raced by two requests, is issued once.
  let next = evaluated[0].flowId;
  const code = outbox.filter((d) => d.to === email).at(-1).code;
  r = await perRequest().next(next, { type: "submitCode", code });
  assert.equal(r.reply?.type, "verified", JSON.stringify(r));
  let s = await perRequest().start({ type: "startSignIn", appId: APP, email });
  s = await perRequest().next(s.flowId, { type: "challenge" });
  const before = grants.length;
  const both = await Promise.all([1, 2].map(() => perRequest().next(s.flowId, { type: "submitPassword", password: "Correct-Horse-9" })));
  assert.deepEqual(both.map((x) => x.reply?.type ?? x.error.code).sort(), ["flow.busy", "signedIn"]);
  assert.equal(grants.length, before + 1, "one flow id, one grant");
});

// A provider that fails after accepting (a 502 from a proxy once the mail went out) answers
// every send with an error. The step kept nothing, so the flow's cap on codes never counted:
// each "resend" sent one more code, without end. As in the Worker, a failed send now counts.
test("a send that keeps failing counts against the flow's code cap, so retries cannot send without end", async () => {
  let attempts = 0;
  const h = harness({ deliver: () => { attempts += 1; throw new Error("502 after sending"); } });
  const r = await h.flow.start({ type: "startSignUp", appId: APP, email: "noa@example.com", password: "Correct-Horse-9" });
  const answers = [];
  let id = r.flowId;
  for (let i = 0; i < 12; i += 1) {
    const a = await h.flow.next(id, { type: "challenge" });
    answers.push(a.error?.code ?? a.reply?.rejection?.code ?? a.reply?.type);
    id = a.flowId ?? id; // an error keeps the id; a rejection moves the flow to a new one
  }
  assert.equal(attempts, 10, JSON.stringify(answers));
  assert.deepEqual(answers.slice(10), ["too_many_codes", "too_many_codes"]);
});

// One password typed on two keyboards: `é` as one character (NFC) at sign-up, as `e` + a
// combining accent (NFD) or with full-width digits at sign-in. The package hashed the text
// as typed, so the second spelling was a wrong password; it now normalizes (NFKC) first.
test("a password typed in another Unicode form signs in", async () => {
  const h = harness();
  const nfc = "Caf\u00e9-Cr\u00e8me-42";
  let r = await signUp(h, "zoe.unicode@example.com", nfc);
  for (const typed of ["Cafe\u0301-Cre\u0300me-42", "Caf\u00e9-Cr\u00e8me-\uff14\uff12", nfc]) {
    r = await h.flow.start({ type: "startSignIn", appId: APP, email: "zoe.unicode@example.com" });
    r = await h.flow.next(r.flowId, { type: "challenge" });
    assert.equal(r.reply?.type, "passwordRequired", JSON.stringify(r));
    r = await h.flow.next(r.flowId, { type: "submitPassword", password: typed });
    assert.equal(r.reply?.type, "signedIn", `${JSON.stringify(typed)}: ${JSON.stringify(r)}`);
  }
  r = await h.flow.start({ type: "startSignIn", appId: APP, email: "zoe.unicode@example.com" });
  r = await h.flow.next(r.flowId, { type: "challenge" });
  r = await h.flow.next(r.flowId, { type: "submitPassword", password: "Cafe-Creme-42" });
  assert.equal(r.reply?.type, "rejected", JSON.stringify(r));
});

// A storage whose database connection is lost never answers: the step hung, and its flow id
// stayed claimed, so every retry was `flow.busy`. Each callback now has a time limit.
test("a storage call that never answers fails the step and frees the flow id", async () => {
  let hang = false;
  const map = new Map();
  const storage = {
    get: (k) => (hang ? new Promise(() => {}) : map.get(k)),
    set: (k, v) => { map.set(k, v); },
    delete: (k) => { map.delete(k); },
  };
  const h = harness({ flow: { storage, callbackTimeoutMs: 200 } });
  const started = await h.flow.start({ type: "startSignUp", appId: APP, email: "hang@example.com", password: "Correct-Horse-9" });
  assert.equal(started.reply?.type, "started", JSON.stringify(started));
  hang = true;
  const stuck = await Promise.race([
    h.flow.next(started.flowId, { type: "challenge" }),
    new Promise((resolve) => setTimeout(() => resolve("still waiting after 5 s"), 5000)),
  ]);
  assert.equal(stuck.error?.code, "callback.failed", JSON.stringify(stuck));
  assert.equal(stuck.error.target, "storage.get");
  hang = false;
  const retried = await h.flow.next(started.flowId, { type: "challenge" });
  assert.equal(retried.reply?.type, "codeSent", `the id is free again: ${JSON.stringify(retried)}`);
  const bad = await harness({ flow: { callbackTimeoutMs: "soon" } }).flow.start({ type: "startSignIn", appId: APP, email: "x@example.com" });
  assert.equal(bad.error?.code, "flow.invalid_option");
  assert.equal(bad.error.target, "callbackTimeoutMs");
});
