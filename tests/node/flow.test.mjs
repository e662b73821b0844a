// The Flow class as a Node app uses it: codes reach a fake inbox and phone through the
// deliver callback, users live in memory, and tokens come only after every factor.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Flow, localStorageStorage, memoryStorage, memoryUsers } from "vestibule";

const APP = "woodgrove";
function config(provider = "EmailPassword-OAUTH", mfaEnforcement = "always", smsState = "enabled") {
  return {
    authenticationMethodsPolicy: {
      id: "authenticationMethodsPolicy",
      authenticationMethodConfigurations: [
        { "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", id: "Email", state: "enabled",
          includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false }] },
        { "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", id: "Sms", state: smsState,
          includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false, isUsableForSignIn: false }] },
      ],
    },
    userFlow: {
      "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
      displayName: "Woodgrove Bank",
      conditions: { applications: { includeApplications: [{ appId: APP }] } },
      onInteractiveAuthFlowStart: { isSignUpAllowed: true },
      onAuthenticationMethodLoadStart: { identityProviders: [{ id: provider }] },
      onAttributeCollection: {
        attributes: [{ id: "email", dataType: "string" }, { id: "displayName", dataType: "string" }],
        attributeCollectionPage: { views: [{ inputs: [
          { attribute: "email", hidden: true, required: true },
          { attribute: "displayName", label: "Display Name", inputType: "text", required: true },
        ] }] },
      },
    },
    settings: { mfaEnforcement, passwords: { hashing: { memoryKib: 8, iterations: 1, parallelism: 1 } } },
  };
}

function harness(opts = {}) {
  const outbox = [];
  const users = memoryUsers();
  const tokens = [];
  const flow = new Flow({
    config: opts.config ?? config(), codeKey: "5a".repeat(32), users, ...(opts.storage ? { storage: opts.storage } : {}),
    deliver: opts.deliver ?? ((d) => { outbox.push(d); }),
    onTokens: (t) => { tokens.push(t); },
  });
  const lastCode = (to) => outbox.filter((d) => d.to === to).at(-1)?.code;
  return { flow, outbox, users, tokens, lastCode };
}

async function signUp(h, email, password) {
  let r = await h.flow.start({ type: "startSignUp", appId: APP, email, password, attributes: { displayName: "Zoe" } });
  assert.equal(r.reply.type, "started", JSON.stringify(r));
  r = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(r.reply.type, "codeSent");
  r = await h.flow.next(r.flowId, { type: "submitCode", code: h.lastCode(email) });
  assert.equal(r.reply.type, "verified", JSON.stringify(r.reply));
  return r;
}

test("sign-up with SMS registration: the account exists before MFA, tokens come after the phone is verified", async () => {
  const h = harness();
  let r = await signUp(h, "zoe@example.com", "Correct-Horse-9");
  assert.equal(h.users.all().length, 1, "account created before the MFA step");
  assert.equal(h.tokens.length, 0);
  r = await h.flow.next(r.flowId, { type: "redeemContinuation" });
  assert.equal(r.reply.type, "registrationRequired");
  r = await h.flow.next(r.flowId, { type: "registerMethod", channel: "sms", target: "+15551234567" });
  assert.equal(r.reply.type, "codeSent");
  assert.equal(r.reply.channel, "sms");
  assert.equal(h.tokens.length, 0);
  r = await h.flow.next(r.flowId, { type: "submitCode", code: h.lastCode("+15551234567") });
  if (r.reply.type === "verified") r = await h.flow.next(r.flowId, { type: "redeemContinuation" });
  assert.equal(r.reply.type, "signedIn", JSON.stringify(r.reply));
  assert.ok(r.tokens.amr.includes("mfa"));
  assert.equal(r.flowId, null);
  assert.equal(h.tokens.length, 1);
});

test("password sign-in with email MFA, and a flow id works only once", async () => {
  const h = harness({ config: config("EmailPassword-OAUTH", "always") });
  let r = await signUp(h, "amy@example.com", "Correct-Horse-9");
  r = await h.flow.next(r.flowId, { type: "redeemContinuation" });
  r = await h.flow.next(r.flowId, { type: "registerMethod", channel: "email", target: "amy@example.com" });
  if (r.reply.type === "preverified") r = await h.flow.next(r.flowId, { type: "continue" });
  else r = await h.flow.next(r.flowId, { type: "submitCode", code: h.lastCode("amy@example.com") });
  if (r.reply.type === "verified") r = await h.flow.next(r.flowId, { type: "redeemContinuation" });
  assert.equal(r.reply.type, "signedIn", JSON.stringify(r.reply));

  r = await h.flow.start({ type: "startSignIn", appId: APP, email: "Amy@Example.com" });
  const started = r.flowId;
  r = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(r.reply.type, "passwordRequired");
  const replay = await h.flow.next(started, { type: "challenge" });
  assert.equal(replay.error.code, "flow.not_found", "a used flow id is refused");
  r = await h.flow.next(r.flowId, { type: "submitPassword", password: "Correct-Horse-9" });
  assert.equal(r.reply.type, "mfaRequired");
  assert.equal(h.tokens.length, 1, "no new tokens after the password alone");
  const [method] = r.reply.methods;
  assert.equal(method.channel, "email");
  r = await h.flow.next(r.flowId, { type: "selectMethod", id: method.id });
  assert.equal(r.reply.type, "codeSent");
  const wrong = await h.flow.next(r.flowId, { type: "submitCode", code: "00000000" });
  assert.equal(wrong.reply.type, "rejected");
  assert.equal(wrong.reply.rejection.code, "invalid_code");
  r = await h.flow.next(wrong.flowId, { type: "submitCode", code: h.lastCode("amy@example.com") });
  assert.equal(r.reply.type, "signedIn", JSON.stringify(r.reply));
  assert.deepEqual([...r.tokens.amr].sort(), ["mfa", "otp", "pwd"]);
});

test("an input's fields may come in any order: `type` need not be first", async () => {
  const h = harness({ config: config("EmailPassword-OAUTH", "off") });
  let r = await h.flow.start({ email: "ida@example.com", password: "Correct-Horse-9", appId: APP, type: "startSignUp", attributes: { displayName: "Ida" } });
  assert.equal(r.reply.type, "started", JSON.stringify(r));
  r = await h.flow.next(r.flowId, { type: "challenge" });
  r = await h.flow.next(r.flowId, { code: h.lastCode("ida@example.com"), type: "submitCode" });
  assert.equal(r.reply.type, "verified", JSON.stringify(r.reply));
  const misnamed = await h.flow.next(r.flowId, { code: "1", type: "submitKode" });
  assert.match(misnamed.error.message, /unknown variant `submitKode`/, JSON.stringify(misnamed));
});

test("a storage that reorders the state's keys (a JSON column sorting them) still works", async () => {
  const sortKeys = (v) => Array.isArray(v) ? v.map(sortKeys)
    : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v;
  const rows = new Map();
  const storage = {
    get: async (id) => rows.get(id),
    set: async (id, text) => { rows.set(id, JSON.stringify(sortKeys(JSON.parse(text)))); },
    delete: async (id) => { rows.delete(id); },
  };
  const h = harness({ config: config("EmailPassword-OAUTH", "off"), storage });
  let r = await h.flow.start({ type: "startSignUp", appId: APP, email: "uma@example.com", password: "Correct-Horse-9", attributes: { displayName: "Uma" } });
  assert.notEqual(Object.keys(JSON.parse([...rows.values()][0]))[0], "step", "the storage really moved `step`");
  r = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(r.reply.type, "codeSent", JSON.stringify(r));
  r = await h.flow.next(r.flowId, { type: "submitCode", code: h.lastCode("uma@example.com") });
  assert.equal(r.reply.type, "verified", JSON.stringify(r.reply));
});

test("a failed delivery keeps the flow where it was, so the user can retry", async () => {
  let failNext = true;
  const outbox = [];
  const h = harness({ deliver: (d) => { if (failNext) { failNext = false; throw new Error("provider down"); } outbox.push(d); } });
  let r = await h.flow.start({ type: "startSignUp", appId: APP, email: "kai@example.com", password: "Correct-Horse-9" });
  const failed = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(failed.error.code, "delivery.failed");
  const retried = await h.flow.next(r.flowId, { type: "challenge" });
  assert.equal(retried.reply.type, "codeSent");
  assert.equal(outbox.length, 1);
});

test("bad input comes back as data, never an exception", async () => {
  const h = harness();
  for (const input of [undefined, null, {}, { type: "challenge" }, { type: "startSignIn" }, { type: "startSignIn", appId: 5, email: [] }]) {
    const r = await h.flow.start(input);
    assert.equal(typeof r.error?.code, "string", JSON.stringify(r));
  }
  assert.equal((await h.flow.next("nope", { type: "challenge" })).error.code, "flow.not_found");
  assert.equal((await h.flow.next(undefined, { type: "challenge" })).error.code, "flow.not_found");
  const cyclic = {}; cyclic.self = cyclic;
  const r = await h.flow.start({ type: "startSignIn", appId: APP, email: "a@example.com", facts: cyclic });
  assert.equal(r.error.code, "input.not_json");
});

test("another spelling of one mailbox is not an address: no account, no code sent", async () => {
  const h = harness();
  for (const email of ['"zoe"@example.com', "zoe(x)@example.com", "zo\\e@example.com", "zoé@example.com"]) {
    const r = await h.flow.start({ type: "startSignUp", appId: APP, email, password: "Correct-Horse-42", attributes: { displayName: "Zoe" } });
    assert.equal(r.error?.code, "flow.invalid_input", `${email}: ${JSON.stringify(r)}`);
    assert.equal(r.error?.target, "input.email", email);
  }
  assert.equal(h.outbox.length, 0);
  await signUp(h, "zoe@example.com", "Correct-Horse-42");
});

test("one flow id continued twice at once counts once: no second grant, no extra code guesses", async () => {
  const h = harness({ config: config("EmailPassword-OAUTH", "always") });
  let r = await signUp(h, "eve@example.com", "Correct-Horse-9");
  r = await h.flow.next(r.flowId, { type: "redeemContinuation" });
  r = await h.flow.next(r.flowId, { type: "registerMethod", channel: "email", target: "eve@example.com" });
  if (r.reply.type === "preverified") r = await h.flow.next(r.flowId, { type: "continue" });
  if (r.reply.type === "verified") r = await h.flow.next(r.flowId, { type: "redeemContinuation" });
  assert.equal(r.reply.type, "signedIn", JSON.stringify(r.reply));
  const signInToCode = async () => {
    let s = await h.flow.start({ type: "startSignIn", appId: APP, email: "eve@example.com" });
    s = await h.flow.next(s.flowId, { type: "challenge" });
    s = await h.flow.next(s.flowId, { type: "submitPassword", password: "Correct-Horse-9" });
    return h.flow.next(s.flowId, { type: "selectMethod", id: s.reply.methods[0].id });
  };

  r = await signInToCode();
  const code = h.lastCode("eve@example.com");
  const grants = h.tokens.length;
  const both = await Promise.all([h.flow.next(r.flowId, { type: "submitCode", code }), h.flow.next(r.flowId, { type: "submitCode", code })]);
  assert.deepEqual(both.map((x) => x.reply?.type ?? x.error.code).sort(), ["flow.busy", "signedIn"]);
  assert.equal(h.tokens.length, grants + 1, "one code, one grant");

  // Twenty wrong guesses sent at once against one id are one guess, not twenty.
  r = await signInToCode();
  const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => h.flow.next(r.flowId, { type: "submitCode", code: String(10000000 + i) })));
  assert.equal(guesses.filter((x) => x.reply?.type === "rejected").length, 1, JSON.stringify(guesses.map((x) => x.reply?.type ?? x.error.code)));
  assert.equal(guesses.filter((x) => x.error?.code === "flow.busy").length, 19);
});

test("a step that issues tokens uses up its flow id even when onTokens throws, so it cannot be replayed", async () => {
  const grants = [];
  let failTokens = false;
  const outbox = [];
  const users = memoryUsers();
  const flow = new Flow({
    config: config("EmailPassword-OAUTH", "off"), codeKey: "5a".repeat(32), users,
    deliver: (d) => { outbox.push(d); },
    onTokens: (t) => { grants.push(t); if (failTokens) throw new Error("session store down"); },
  });
  const h = { flow, lastCode: (to) => outbox.filter((d) => d.to === to).at(-1)?.code };
  await signUp(h, "ola@example.com", "Correct-Horse-9");
  let r = await flow.start({ type: "startSignIn", appId: APP, email: "ola@example.com" });
  r = await flow.next(r.flowId, { type: "challenge" });
  const id = r.flowId;
  failTokens = true;
  const failed = await flow.next(id, { type: "submitPassword", password: "Correct-Horse-9" });
  assert.equal(failed.error?.code, "callback.failed", JSON.stringify(failed));
  assert.equal(failed.error?.target, "onTokens");
  assert.match(failed.error.message, /session store down/);
  failTokens = false;
  const before = grants.length;
  const replay = await flow.next(id, { type: "submitPassword", password: "Correct-Horse-9" });
  assert.equal(replay.error?.code, "flow.not_found", JSON.stringify(replay));
  assert.equal(grants.length, before, "no second grant from the same flow id");
});

test("the app's failing callbacks come back as data naming the callback, never as a rejection", async () => {
  const boom = (what) => () => { throw new Error(`${what} down`); };
  const cases = [
    ["storage.get", { storage: { ...memoryStorage(), get: boom("get") } }, "next"],
    ["storage.set", { storage: { ...memoryStorage(), set: async () => { throw new Error("set down"); } } }, "start"],
    ["users.findByEmail", { users: { ...memoryUsers(), findByEmail: boom("users") } }, "start"],
    ["now", { now: boom("clock") }, "start"],
  ];
  for (const [target, opts, call] of cases) {
    const flow = new Flow({ config: config(), codeKey: "5a".repeat(32), deliver: () => {}, ...opts });
    const r = call === "start"
      ? await flow.start({ type: "startSignUp", appId: APP, email: "kim@example.com", password: "Correct-Horse-42", attributes: { displayName: "Kim" } })
      : await flow.next("0123abcd", { type: "challenge" });
    assert.equal(r.error?.code, "callback.failed", `${target}: ${JSON.stringify(r)}`);
    assert.equal(r.error.target, target);
  }
  // No localStorage in Node: the storage says so instead of a TypeError escaping.
  const flow = new Flow({ config: config(), codeKey: "5a".repeat(32), storage: localStorageStorage("x.", undefined) });
  const r = await flow.start({ type: "startSignUp", appId: APP, email: "kim@example.com", password: "Correct-Horse-42", attributes: { displayName: "Kim" } });
  assert.equal(r.error?.target, "storage.set", JSON.stringify(r));
  assert.match(r.error.message, /no localStorage here/);
  // Options that are not an object are the engine's input error, not a constructor throw.
  const bare = await new Flow(null).start({ type: "startSignIn", appId: APP, email: "kim@example.com" });
  assert.equal(typeof bare.error?.code, "string", JSON.stringify(bare));
});

test("a next state that cannot be stored leaves the previous flow id working, so the step can be retried", async () => {
  const inner = memoryStorage();
  let failSet = false;
  const storage = { ...inner, set: (k, v, meta) => { if (failSet) throw new Error("disk full"); return inner.set(k, v, meta); } };
  const h = harness({ storage });
  await signUp(h, "lee@example.com", "Correct-Horse-42");
  let r = await h.flow.start({ type: "startSignIn", appId: APP, email: "lee@example.com" });
  r = await h.flow.next(r.flowId, { type: "challenge" });
  const id = r.flowId;
  failSet = true;
  const failed = await h.flow.next(id, { type: "submitPassword", password: "Correct-Horse-42" });
  assert.equal(failed.error?.target, "storage.set", JSON.stringify(failed));
  failSet = false;
  const retried = await h.flow.next(id, { type: "submitPassword", password: "Correct-Horse-42" });
  assert.equal(typeof retried.flowId, "string", JSON.stringify(retried));
  assert.notEqual(retried.reply.type, "rejected", JSON.stringify(retried));
});

test("memory storage drops flows whose lifetime has passed, so abandoned flows do not pile up", async () => {
  let clock = 1_700_000_000; // behind the system clock: the storage must go by the Flow's
  const seen = new Map();
  const inner = memoryStorage();
  const storage = { ...inner, set: (k, v, meta) => { seen.set(k, meta); return inner.set(k, v, meta); } };
  const flow = new Flow({ config: config(), codeKey: "5a".repeat(32), storage, now: () => clock, deliver: () => {} });
  const signUp = { type: "startSignUp", appId: APP, email: "max@example.com", password: "Correct-Horse-42", attributes: { displayName: "Max" } };
  const first = await flow.start(signUp);
  const { expiresAt, now } = seen.get(first.flowId);
  assert.equal(now, clock);
  assert.ok(expiresAt > clock, "set is told when the state expires");
  clock = expiresAt;
  await flow.start(signUp);
  assert.notEqual(inner.get(first.flowId), undefined, "kept until its last second");
  clock = expiresAt + 60; // sweeps run at most once a minute
  await flow.start(signUp);
  assert.equal(inner.get(first.flowId), undefined, "the expired flow was dropped");
});

test("a value of the wrong shape is named by its JSON path in the input or the config", async () => {
  const h = harness();
  const r = await h.flow.start({ type: "startSignIn", appId: APP, email: 5 });
  assert.equal(r.error?.code, "flow.invalid_input", JSON.stringify(r));
  assert.equal(r.error.target, "input.email");
  assert.doesNotMatch(r.error.message, /line \d+ column/);
  const c = config();
  c.settings.mfaEnforcement = "sometimes";
  const bad = await new Flow({ config: c, codeKey: "5a".repeat(32) }).start({ type: "startSignIn", appId: APP, email: "a@example.com" });
  assert.equal(bad.error?.code, "flow.invalid_input", JSON.stringify(bad));
  assert.equal(bad.error.target, "config.settings.mfaEnforcement");
});

// A browser keeps localStorage for good: flows a person walked away from stayed in the
// origin's 5 MB until it filled. Each flow's expiry is now kept next to it, and a later
// write sweeps the expired ones.
test("localStorageStorage drops abandoned flows once they expire", async () => {
  class FakeStorage {
    #m = new Map();
    get length() { return this.#m.size; }
    key(i) { return [...this.#m.keys()][i] ?? null; }
    getItem(k) { return this.#m.has(k) ? this.#m.get(k) : null; }
    setItem(k, v) { this.#m.set(k, String(v)); }
    removeItem(k) { this.#m.delete(k); }
    keys() { return [...this.#m.keys()]; }
  }
  const store = new FakeStorage();
  store.setItem("app.theme", "dark"); // the app's own keys are left alone
  let clock = 1_800_000_000;
  const flow = new Flow({
    config: config(), codeKey: "5a".repeat(32), deliver: () => {}, now: () => clock,
    storage: localStorageStorage("vf.", store),
  });
  const start = (email) => flow.start({ type: "startSignUp", appId: APP, email, password: "Correct-Horse-42", attributes: { displayName: "Kim" } });
  const abandoned = [];
  for (const email of ["a@example.com", "b@example.com", "c@example.com"]) {
    const r = await start(email);
    assert.equal(r.reply?.type, "started", JSON.stringify(r));
    abandoned.push(r.flowId);
  }
  const flows = () => store.keys().filter((k) => k.startsWith("vf.") && !k.endsWith(".expires"));
  assert.equal(flows().length, 3);
  clock += 2 * 3600; // past every flow's lifetime
  const fresh = await start("d@example.com");
  assert.equal(fresh.reply?.type, "started", JSON.stringify(fresh));
  assert.deepEqual(flows(), [`vf.${fresh.flowId}`], "only the live flow is kept");
  assert.deepEqual(store.keys().sort(), ["app.theme", `vf.${fresh.flowId}`, `vf.${fresh.flowId}.expires`].sort());
  const next = await flow.next(fresh.flowId, { type: "challenge" });
  assert.equal(next.reply?.type, "codeSent", JSON.stringify(next));
  assert.ok(!store.keys().includes(`vf.${fresh.flowId}`), "a used id is gone with its expiry");
  assert.ok(!store.keys().includes(`vf.${fresh.flowId}.expires`));
});
