// Delivery hooks against the Worker in workerd: codes go out as signed JSON POSTs to
// receivers this test runs on 127.0.0.1, which check every request with the reference
// Standard Webhooks verifier (npm `standardwebhooks`). Covers the deployment hooks
// (rotation: one signature per secret), tenant hooks (KV document naming a secret), the
// 5 s budget and the single retry, failures that keep the flow, and SMS turned off.
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, randomBytes, verify as edVerify } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { freePort, startWorker } from "../support/worker.mjs";
import { ADMIN, CAPS, TYPES, assertLogClean, flowConfig, nativeVars, post, requireMfa } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
const secret = () => `whsec_${randomBytes(32).toString("base64")}`;
const EMAIL_NEW = secret();
const EMAIL_OLD = secret(); // the receiver still holds the old secret: rotation
const ED_SEED = randomBytes(32);
const EMAIL_ED = `whsk_${ED_SEED.toString("base64")}`;
const SMS_SECRET = secret();
const TENANT_SECRET = secret();
const seen = [EMAIL_NEW, EMAIL_OLD, EMAIL_ED, SMS_SECRET, TENANT_SECRET];

/**
 * One HTTP server for every receiver: the path picks the receiver, each with its own
 * secret, behaviour and record of requests.
 */
function receivers() {
  const routes = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const r = routes.get(req.url);
      if (!r) { res.writeHead(404).end(); return; }
      const body = Buffer.concat(chunks).toString("utf8");
      const entry = { headers: { ...req.headers }, body, at: Date.now() };
      r.requests.push(entry);
      try {
        new Webhook(r.secret).verify(body, req.headers);
        entry.verified = true;
      } catch (e) {
        entry.verified = false;
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: String(e.message) }));
        return;
      }
      const json = JSON.parse(body);
      seen.push(json.data.otpContext.oneTimeCode);
      const { status = 200, delayMs = 0 } = r.respond(r.requests.length) ?? {};
      if (delayMs) await new Promise((ok) => setTimeout(ok, delayMs));
      if (!res.destroyed) res.writeHead(status, { "content-type": "application/json" }).end("{}");
    });
  });
  return {
    server,
    add(path, secretValue, respond = () => ({ status: 200 })) {
      const r = { secret: secretValue, respond, requests: [] };
      routes.set(path, r);
      return r;
    },
    async listen() {
      await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
      return `http://127.0.0.1:${server.address().port}`;
    },
  };
}

const hub = receivers();
const email = hub.add("/email", EMAIL_OLD, () => ({ status: 202 }));
const sms = hub.add("/sms", SMS_SECRET);
let worker;
let base;
before(async () => {
  base = await hub.listen();
  worker = await startWorker({
    vars: {
      ...nativeVars(),
      EMAIL_HOOK_URL: `${base}/email`,
      EMAIL_HOOK_SECRETS: `${EMAIL_NEW} ${EMAIL_OLD} ${EMAIL_ED}`,
      SMS_HOOK_URL: `${base}/sms`,
      SMS_HOOK_SECRETS: SMS_SECRET,
      E2E_HOOK_SECRETS: TENANT_SECRET,
    },
  });
});
after(async () => {
  await worker?.stop();
  hub.server.closeAllConnections();
  hub.server.close();
});

const ct = (r) => {
  assert.equal(typeof r.body.continuation_token, "string", JSON.stringify(r.body));
  seen.push(r.body.continuation_token);
  return r.body.continuation_token;
};
const codeOf = (entry) => JSON.parse(entry.body).data.otpContext.oneTimeCode;
const lastCode = (receiver) => codeOf(receiver.requests.at(-1));

/** The tenant's hooks document through the admin API. */
function hooksApi(tenant, method, doc) {
  return fetch(`${worker.url}/${tenant}/v1.0/vestibule/deliveryHooks`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: doc === undefined ? undefined : JSON.stringify(doc),
  });
}

async function putHooks(tenant, doc) {
  const res = await hooksApi(tenant, "PUT", doc);
  assert.equal(res.status, 200, await res.text());
}

/** Starts a sign-up of `address` up to the point where `/challenge` sends the email code. */
async function signUpToChallenge(tenant, address) {
  seen.push(address, PASSWORD);
  const r = await post(worker, tenant, "signup/v1.0/start", { username: address, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return ct(r);
}
const challenge = (tenant, token) => post(worker, tenant, "signup/v1.0/challenge", { continuation_token: token, challenge_type: TYPES });

/** Asserts the clear delivery error: server_error 503 with the description's advice. */
function isDeliveryError(r, { codes, advice }) {
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.error, "server_error");
  assert.deepEqual(r.body.error_codes, codes);
  assert.match(r.body.error_description, advice);
  assert.equal(r.body.continuation_token, undefined);
  assert.ok(!/127\.0\.0\.1|whsec_/.test(r.body.error_description), "no receiver detail reaches the client");
}

/** Completes a sign-up whose code went to `receiver`; returns the auto sign-in token. */
async function finishSignUp(tenant, challenged, receiver) {
  const r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: ct(challenged), grant_type: "oob", oob: lastCode(receiver) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return ct(r);
}

test("a 202 receiver gets one signed OnOtpSend-shaped POST that it verifies with its old secret and the Ed25519 key", async () => {
  const address = "hooked@example.com";
  const token = await signUpToChallenge("plain", address);
  const r = await challenge("plain", token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.challenge_type, "oob");
  assert.equal(email.requests.length, 1);
  const [got] = email.requests;
  assert.ok(got.verified, "standardwebhooks verified the delivery");
  assert.equal(got.headers["content-type"], "application/json");
  assert.match(got.headers["webhook-id"], /^msg_[A-Za-z0-9_-]{22}$/);
  const signatures = got.headers["webhook-signature"].split(" ");
  assert.deepEqual(signatures.map((s) => s.split(",")[0]), ["v1", "v1", "v1a"], "one signature per secret");
  // The v1a signature verifies with the public half of the whsk_ key.
  const signed = Buffer.from(`${got.headers["webhook-id"]}.${got.headers["webhook-timestamp"]}.${got.body}`);
  assert.ok(edVerify(null, signed, publicKeyOf(ED_SEED), Buffer.from(signatures[2].slice(4), "base64")));

  const body = JSON.parse(got.body);
  assert.equal(body.type, "microsoft.graph.authenticationEvent.emailOtpSend");
  assert.equal(body.source, "/tenants/plain/applications/vestibule-demo-app");
  assert.equal(body.data["@odata.type"], "microsoft.graph.onOtpSendCalloutData");
  assert.equal(body.data.otpContext.identifier, address);
  assert.match(body.data.otpContext.oneTimeCode, /^\d{8}$/);
  assert.equal(body.data.tenantId, "plain");
  assert.equal(body.data.authenticationContext.requestType, "signUp");
  assert.equal(body.data.authenticationContext.clientServicePrincipal.appId, "vestibule-demo-app");
  // The code that went to the hook completes the sign-up; nothing went to the outbox.
  await finishSignUp("plain", r, email);
  const outbox = await (await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent(address)}`)).json();
  assert.deepEqual(outbox.messages, []);
});

/** The public key of an Ed25519 seed (wrapped as PKCS#8 for node:crypto). */
function publicKeyOf(seed) {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  return createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
}

test("429 then 200: one retry with the same webhook-id, each attempt signed", async () => {
  const r429 = hub.add("/retry", TENANT_SECRET, (n) => ({ status: n === 1 ? 429 : 200 }));
  await putHooks("retry", { email: { url: `${base}/retry`, secretName: "E2E_HOOK_SECRETS" } });
  const r = await challenge("retry", await signUpToChallenge("retry", "retry@example.com"));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r429.requests.length, 2);
  const [first, second] = r429.requests;
  assert.ok(first.verified && second.verified);
  assert.equal(first.headers["webhook-id"], second.headers["webhook-id"]);
  assert.equal(first.body, second.body);
  assert.ok(second.at - first.at >= 200, "the retry waits a moment");
  await finishSignUp("retry", r, r429);
});

test("500 and a closed port fail at once with the clear error; the flow is kept", async () => {
  const r500 = hub.add("/fail", TENANT_SECRET, () => ({ status: 500 }));
  await putHooks("fail", { email: { url: `${base}/fail`, secretName: "E2E_HOOK_SECRETS" } });
  const token = await signUpToChallenge("fail", "fail@example.com");
  isDeliveryError(await challenge("fail", token), { codes: [1003002], advice: /by email: the delivery service refused it; try again later with the same continuation token/ });
  assert.equal(r500.requests.length, 1, "500 is not retried");

  const closed = await freePort();
  await putHooks("down", { email: { url: `http://127.0.0.1:${closed}/`, secretName: "E2E_HOOK_SECRETS" } });
  const downToken = await signUpToChallenge("down", "down@example.com");
  const started = Date.now();
  isDeliveryError(await challenge("down", downToken), { codes: [], advice: /could not be reached/ });
  assert.ok(Date.now() - started < 5000, "a refused connection does not wait out the budget");
  // The kept state: once the receiver answers, the same token works.
  const up = hub.add("/up", TENANT_SECRET);
  await putHooks("down", { email: { url: `${base}/up`, secretName: "E2E_HOOK_SECRETS" } });
  const r = await challenge("down", downToken);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(up.requests.length, 1);
  await finishSignUp("down", r, up);
});

test("a receiver slower than the budget: one attempt, abandoned after about 5 s", async () => {
  const slow = hub.add("/slow", TENANT_SECRET, () => ({ status: 200, delayMs: 7000 }));
  await putHooks("slow", { email: { url: `${base}/slow`, secretName: "E2E_HOOK_SECRETS" } });
  const token = await signUpToChallenge("slow", "slow@example.com");
  const started = Date.now();
  isDeliveryError(await challenge("slow", token), { codes: [1003005], advice: /did not answer in time/ });
  const took = Date.now() - started;
  // Not before the budget is spent, and before the receiver would have answered (7 s).
  assert.ok(took >= 4500 && took < 7000, `answered after ${took} ms`);
  console.log(`# slow receiver: the client had its answer after ${took} ms`);
  await new Promise((ok) => setTimeout(ok, 2500));
  assert.equal(slow.requests.length, 1, "a timeout is not retried");
});

test("a wrong secret: the receiver answers 401, the client gets the clear error, and a later retry works", async () => {
  const strict = hub.add("/strict", secret());
  await putHooks("strict", { email: { url: `${base}/strict`, secretName: "E2E_HOOK_SECRETS" } });
  const token = await signUpToChallenge("strict", "strict@example.com");
  isDeliveryError(await challenge("strict", token), { codes: [1003002], advice: /refused it/ });
  assert.equal(strict.requests.length, 1);
  assert.equal(strict.requests[0].verified, false);
  strict.secret = TENANT_SECRET; // the receiver gets the right secret
  const r = await challenge("strict", token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(strict.requests.length, 2);
  assert.ok(strict.requests[1].verified);
  assert.notEqual(strict.requests[0].headers["webhook-id"], strict.requests[1].headers["webhook-id"], "a new send is a new delivery");
  await finishSignUp("strict", r, strict);
});

test("SMS failing at registration: the error offers email and the same token registers it", async () => {
  const down = hub.add("/sms-down", TENANT_SECRET, () => ({ status: 402 }));
  await putHooks("fallback", { sms: { url: `${base}/sms-down`, secretName: "E2E_HOOK_SECRETS" } });
  await requireMfa(worker, "fallback");
  const address = "fallback@example.com";
  const r0 = await challenge("fallback", await signUpToChallenge("fallback", address));
  const signedUp = await finishSignUp("fallback", r0, email);
  let r = await post(worker, "fallback", TOKEN, { continuation_token: signedUp, grant_type: "continuation_token", username: address });
  assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
  r = await post(worker, "fallback", "register/v1.0/introspect", { continuation_token: ct(r) });
  assert.deepEqual(r.body.methods.map((m) => m.id), ["email", "sms"]);
  const t = ct(r);
  seen.push("+15550001111");
  isDeliveryError(
    await post(worker, "fallback", "register/v1.0/challenge", { continuation_token: t, challenge_type: "oob", challenge_target: "+15550001111", challenge_channel: "sms" }),
    { codes: [1003002], advice: /by SMS: the delivery service refused it; choose another method \(email\)/ },
  );
  assert.equal(down.requests.length, 1);
  r = await post(worker, "fallback", "register/v1.0/challenge", { continuation_token: t, challenge_type: "oob", challenge_target: address, challenge_channel: "email" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.challenge_type, "preverified", "the sign-up email was proven in this flow");
  r = await post(worker, "fallback", TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
});

test("SMS turned off for a tenant: not offered at registration, and a user with only SMS is blocked", async () => {
  await putHooks("nosms", { sms: null });
  await requireMfa(worker, "nosms");
  const address = "nosms@example.com";
  const r0 = await challenge("nosms", await signUpToChallenge("nosms", address));
  let r = await post(worker, "nosms", TOKEN, { continuation_token: await finishSignUp("nosms", r0, email), grant_type: "continuation_token", username: address });
  r = await post(worker, "nosms", "register/v1.0/introspect", { continuation_token: ct(r) });
  assert.deepEqual(r.body.methods.map((m) => m.id), ["email"], "SMS has no sender");

  // A tenant whose methods policy allows only SMS: register it while SMS works...
  const cfg = flowConfig({ settings: {} });
  cfg.authenticationMethodsPolicy.authenticationMethodConfigurations[0].state = "disabled";
  const put = await fetch(`${worker.url}/_dev/native/smsonly/flow-config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(cfg) });
  assert.equal(put.status, 200, await put.text());
  await requireMfa(worker, "smsonly");
  const user = "smsonly@example.com";
  const phone = "+15550002222";
  seen.push(phone);
  const s0 = await challenge("smsonly", await signUpToChallenge("smsonly", user));
  r = await post(worker, "smsonly", TOKEN, { continuation_token: await finishSignUp("smsonly", s0, email), grant_type: "continuation_token", username: user });
  r = await post(worker, "smsonly", "register/v1.0/introspect", { continuation_token: ct(r) });
  r = await post(worker, "smsonly", "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(JSON.parse(sms.requests.at(-1).body).type, "vestibule.authenticationEvent.smsOtpSend");
  r = await post(worker, "smsonly", "register/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: lastCode(sms) });
  r = await post(worker, "smsonly", TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  // ...then the provider fails: the MFA challenge errors, the token is kept, a retry works.
  const signIn = async () => {
    let s = await post(worker, "smsonly", "oauth2/v2.0/initiate", { username: user, challenge_type: TYPES, capabilities: CAPS });
    s = await post(worker, "smsonly", "oauth2/v2.0/challenge", { continuation_token: ct(s), challenge_type: TYPES });
    return post(worker, "smsonly", TOKEN, { continuation_token: ct(s), grant_type: "password", password: PASSWORD, scope: "openid" });
  };
  r = await signIn();
  assert.equal(r.body.suberror, "mfa_required", JSON.stringify(r.body));
  r = await post(worker, "smsonly", "oauth2/v2.0/introspect", { continuation_token: ct(r) });
  const [method] = r.body.methods;
  const mfaToken = ct(r);
  const before = sms.requests.length;
  sms.respond = () => ({ status: 503 });
  isDeliveryError(
    await post(worker, "smsonly", "oauth2/v2.0/challenge", { continuation_token: mfaToken, challenge_type: TYPES, id: method.id }),
    { codes: [1003002], advice: /by SMS: .*try again later with the same continuation token/ },
  );
  assert.equal(sms.requests.length - before, 2, "503 is retried once");
  sms.respond = () => ({ status: 200 });
  r = await post(worker, "smsonly", "oauth2/v2.0/challenge", { continuation_token: mfaToken, challenge_type: TYPES, id: method.id });
  assert.equal(r.body.challenge_type, "oob", JSON.stringify(r.body));
  r = await post(worker, "smsonly", TOKEN, { continuation_token: ct(r), grant_type: "mfa_oob", oob: lastCode(sms), scope: "openid" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token);

  // The subscription lapses and the operator turns SMS off: a clear block, no SMS sent.
  await putHooks("smsonly", { sms: null });
  const sent = sms.requests.length;
  r = await signIn();
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.error_description, /a second factor is required and none can be used or registered/);
  assert.equal(sms.requests.length, sent);
});

test("the admin API refuses a bad hooks document with the member at fault and stores nothing", async () => {
  await putHooks("bad", { email: { url: `${base}/email`, secretName: "E2E_HOOK_SECRETS" } });
  const before = await (await hooksApi("bad", "GET")).json();
  const res = await hooksApi("bad", "PUT", { sms: { url: "http://sms.example.com/", secretName: "E2E_HOOK_SECRETS" } });
  assert.equal(res.status, 400);
  const { error } = await res.json();
  assert.equal(error.code, "hook.url_not_https");
  assert.equal(error.target, "sms.url");
  const named = await hooksApi("bad", "PUT", { sms: { url: "https://sms.example.com/", secretName: "CODE_KEY" } });
  assert.equal((await named.json()).error.code, "hook.secret_name_invalid");
  assert.deepEqual(await (await hooksApi("bad", "GET")).json(), before, "a refused document stores nothing");
  const unauthorized = await fetch(`${worker.url}/bad/v1.0/vestibule/deliveryHooks`);
  assert.equal(unauthorized.status, 401);
  assert.equal((await hooksApi("bad", "DELETE")).status, 204);
  assert.deepEqual(await (await hooksApi("bad", "GET")).json(), {});
});

test("nothing secret reaches the Worker log: no code, no secret, no address, no token", () => {
  assertLogClean(worker.output(), seen);
  assert.match(worker.output(), /delivery hook failed \(timeout, 1 attempt/);
  assert.match(worker.output(), /"event":"code\.delivery_failed"/);
});
