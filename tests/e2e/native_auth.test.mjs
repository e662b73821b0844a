// The native authentication API over HTTP against the Worker in workerd, with raw form
// calls: the protocol details MSAL relies on, and the errors for bad or hostile input.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { CAPS, TYPES, assertLogClean, flowConfig, latestCode, nativeVars, post, requireMfa, isError } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const PHONE = "+15557654321";
let worker;
const seen = []; // every code, password, token, phone and email used: none may reach the log
before(async () => {
  worker = await startWorker({ vars: nativeVars() });
  await requireMfa(worker, "mfa");
});
after(async () => { await worker?.stop(); });

const TOKEN = "oauth2/v2.0/token";
const ct = (r) => {
  assert.equal(typeof r.body.continuation_token, "string", JSON.stringify(r.body));
  seen.push(r.body.continuation_token);
  return r.body.continuation_token;
};

/** Signs up `email` with a password; returns the continuation token for the auto sign-in. */
async function signUp(tenant, email) {
  seen.push(email, PASSWORD);
  let r = await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  assert.equal(r.body.challenge_type, "oob");
  assert.equal(r.body.code_length, 8);
  const code = await latestCode(worker, email);
  seen.push(code);
  r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return ct(r);
}

test("every answer is JSON with the request id header, and preflight allows MSAL's headers", async () => {
  const pre = await fetch(`${worker.url}/plain/oauth2/v2.0/initiate`, {
    method: "OPTIONS",
    headers: { origin: "http://127.0.0.1:3000", "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-client-sku, client-request-id" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  for (const h of ["x-client-sku", "x-client-ver", "x-client-os", "x-client-cpu", "x-client-current-telemetry", "x-client-last-telemetry", "client-request-id", "content-type"]) {
    assert.ok(pre.headers.get("access-control-allow-headers").includes(h), h);
  }
  assert.equal(pre.headers.get("access-control-expose-headers"), "x-ms-request-id");
  // An app's own header added through MSAL's requestInterceptor passes the preflight too.
  const custom = await fetch(`${worker.url}/plain/oauth2/v2.0/initiate`, {
    method: "OPTIONS",
    headers: { origin: "http://127.0.0.1:3000", "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-shop-session" },
  });
  assert.match(custom.headers.get("access-control-allow-headers"), /(^|, )x-shop-session$/);
  assert.equal(custom.headers.get("vary"), "Access-Control-Request-Headers");
  for (const path of ["oauth2/v2.0/initiate", "signup/v1.0/start", "resetpassword/v1.0/start", "register/v1.0/introspect", "resetpassword/v1.0/poll_completion"]) {
    const r = await post(worker, "plain", path, {});
    assert.equal(r.status, 400, path);
    assert.match(r.headers.get("x-ms-request-id"), /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.get("x-ms-request-id"), r.body.trace_id);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
  }
  const get = await fetch(`${worker.url}/plain/oauth2/v2.0/token`);
  assert.equal(get.status, 405);
  assert.equal((await get.json()).error.code, "route.method_not_allowed");
  const json = await fetch(`${worker.url}/plain/oauth2/v2.0/initiate`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error, "invalid_request");
  // The client's request id comes back as the correlation id.
  const res = await fetch(`${worker.url}/plain/oauth2/v2.0/initiate`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "client-request-id": "0b5e2a41-0000-4000-8000-000000000001" }, body: "client_id=x" });
  assert.equal((await res.json()).correlation_id, "0b5e2a41-0000-4000-8000-000000000001");
});

test("parameter rules: client id, username, redirect, grant types", async () => {
  const email = "rules@example.com";
  isError(await post(worker, "plain", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES }, { clientId: "wrong-client" }), "unauthorized_client");
  isError(await post(worker, "plain", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES }, { clientId: null }), "invalid_request", { code: 900144 });
  isError(await post(worker, "plain", "oauth2/v2.0/initiate", { username: email, challenge_type: "password oob" }), "invalid_request", { code: 901007 });
  isError(await post(worker, "plain", "signup/v1.0/start", { username: email, challenge_type: "oob" }), "invalid_request", { code: 901007 });
  isError(await post(worker, "plain", "oauth2/v2.0/initiate", { username: "not an email", challenge_type: TYPES }), "invalid_request", { code: 90100 });
  isError(await post(worker, "plain", "oauth2/v2.0/initiate", { username: email, challenge_type: "otp redirect" }), "unsupported_challenge_type");
  isError(await post(worker, "plain", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES }), "user_not_found");
  isError(await post(worker, "plain", TOKEN, { continuation_token: "x", grant_type: "client_credentials" }), "unsupported_grant_type");
  isError(await post(worker, "plain", "signup/v1.0/start", { username: email, challenge_type: TYPES, attributes: "not json" }), "invalid_request");
  // Unknown parameters are ignored, the 2025 `capability` spelling is accepted.
  const r = await post(worker, "plain", "signup/v1.0/start", { username: email, challenge_type: TYPES, capability: "registration_required,mfa_required", x_unknown: "1", client_info: "1" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(ct(r), /^vct_[A-Za-z0-9_-]{43}$/);
});

test("forged, replayed and misused continuation tokens are refused without touching the flow", async () => {
  const forged = `vct_${"A".repeat(43)}`;
  isError(await post(worker, "plain", "oauth2/v2.0/challenge", { continuation_token: forged, challenge_type: TYPES }), "invalid_grant", { code: 55200 });
  isError(await post(worker, "plain", "oauth2/v2.0/challenge", { continuation_token: "garbage", challenge_type: TYPES }), "invalid_grant", { code: 55200 });
  const email = "replay@example.com";
  const start = await post(worker, "plain", "signup/v1.0/start", { username: email, challenge_type: TYPES, password: PASSWORD });
  const t1 = ct(start);
  // Another tenant, another client, another flow's endpoint: refused, and t1 still works.
  isError(await post(worker, "other", "signup/v1.0/challenge", { continuation_token: t1, challenge_type: TYPES }), "invalid_grant");
  isError(await post(worker, "plain", "resetpassword/v1.0/challenge", { continuation_token: t1, challenge_type: TYPES }), "invalid_request", { code: 55200 });
  const next = await post(worker, "plain", "signup/v1.0/challenge", { continuation_token: t1, challenge_type: TYPES });
  assert.equal(next.status, 200, JSON.stringify(next.body));
  const t2 = ct(next);
  assert.notEqual(t2, t1, "rotated at every step");
  // Replaying the used token fails; a wrong code keeps the current one.
  isError(await post(worker, "plain", "signup/v1.0/challenge", { continuation_token: t1, challenge_type: TYPES }), "invalid_grant", { code: 55200 });
  const wrong = await post(worker, "plain", "signup/v1.0/continue", { continuation_token: t2, grant_type: "oob", oob: "00000000" });
  isError(wrong, "invalid_grant", { suberror: "invalid_oob_value" });
  assert.equal(wrong.body.continuation_token, undefined);
  const code = await latestCode(worker, email);
  seen.push(code, email, PASSWORD);
  const done = await post(worker, "plain", "signup/v1.0/continue", { continuation_token: t2, grant_type: "oob", oob: code });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  isError(await post(worker, "plain", "signup/v1.0/continue", { continuation_token: t2, grant_type: "oob", oob: code }), "invalid_grant", { code: 55200 });
  // No MFA policy in this tenant: the continuation redeems straight to tokens.
  const tokens = await post(worker, "plain", TOKEN, { continuation_token: ct(done), grant_type: "continuation_token", username: email, scope: "openid profile offline_access" });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  seen.push(tokens.body.access_token, tokens.body.id_token, tokens.body.refresh_token);
});

test("an expired flow answers expired_token", async () => {
  // A tenant whose reset window is one second.
  const config = flowConfig({ settings: { mfaEnforcement: "conditional", resetWindowSeconds: 1 } });
  const put = await fetch(`${worker.url}/_dev/native/shortreset/flow-config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(config) });
  assert.equal(put.status, 200, await put.text());
  const email = "expiry@example.com";
  const t = await signUp("shortreset", email);
  assert.equal((await post(worker, "shortreset", TOKEN, { continuation_token: t, grant_type: "continuation_token" })).status, 200);
  let r = await post(worker, "shortreset", "resetpassword/v1.0/start", { username: email, challenge_type: "oob redirect" });
  r = await post(worker, "shortreset", "resetpassword/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob redirect" });
  const code = await latestCode(worker, email);
  seen.push(code);
  r = await post(worker, "shortreset", "resetpassword/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
  assert.equal(r.body.expires_in, 1);
  const late = ct(r);
  await new Promise((ok) => setTimeout(ok, 2100));
  isError(await post(worker, "shortreset", "resetpassword/v1.0/submit", { continuation_token: late, new_password: "Another-Passphrase-5" }), "expired_token", { code: 552003 });
  isError(await post(worker, "shortreset", "resetpassword/v1.0/submit", { continuation_token: late, new_password: "Another-Passphrase-5" }), "invalid_grant", { code: 55200 });
});

test("MFA: registration_required after sign-up, then mfa_required at the next sign-in", async () => {
  const email = "mfa-user@example.com";
  const t = await signUp("mfa", email);
  let r = await post(worker, "mfa", TOKEN, { continuation_token: t, grant_type: "continuation_token", username: email });
  isError(r, "invalid_grant", { suberror: "registration_required", code: 50076 });
  r = await post(worker, "mfa", "register/v1.0/introspect", { continuation_token: ct(r) });
  assert.deepEqual(r.body.methods.map((m) => m.id), ["email", "sms"]);
  seen.push(PHONE);
  r = await post(worker, "mfa", "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: PHONE, challenge_channel: "sms" });
  assert.equal(r.body.challenge_type, "oob");
  assert.equal(r.body.challenge_channel, "sms");
  const sms = await latestCode(worker, PHONE);
  seen.push(sms);
  r = await post(worker, "mfa", "register/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: sms });
  r = await post(worker, "mfa", TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);

  // Sign in: wrong password (50126) keeps the token; the right one needs MFA.
  r = await post(worker, "mfa", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS });
  r = await post(worker, "mfa", "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  assert.equal(r.body.challenge_type, "password");
  const pw = ct(r);
  isError(await post(worker, "mfa", TOKEN, { continuation_token: pw, grant_type: "password", password: "Wrong-Password-42" }), "invalid_grant", { code: 50126 });
  r = await post(worker, "mfa", TOKEN, { continuation_token: pw, grant_type: "password", password: PASSWORD, scope: "openid profile offline_access", client_info: "1" });
  isError(r, "invalid_grant", { suberror: "mfa_required", code: 50076 });
  r = await post(worker, "mfa", "oauth2/v2.0/introspect", { continuation_token: ct(r) });
  const [method] = r.body.methods;
  assert.equal(method.challenge_channel, "sms");
  assert.ok(!method.login_hint.includes("7654"), "the number is masked");
  r = await post(worker, "mfa", "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: method.id });
  assert.equal(r.body.challenge_type, "oob");
  const mt = ct(r);
  isError(await post(worker, "mfa", TOKEN, { continuation_token: mt, grant_type: "mfa_oob", oob: "12345678" }), "invalid_grant", { suberror: "invalid_oob_value" });
  const code = await latestCode(worker, PHONE);
  seen.push(code);
  r = await post(worker, "mfa", TOKEN, { continuation_token: mt, grant_type: "mfa_oob", oob: code, scope: "openid profile offline_access" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (const f of ["access_token", "id_token", "refresh_token", "client_info"]) assert.equal(typeof r.body[f], "string", f);
  assert.equal(r.body.token_type, "Bearer");
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  const claims = JSON.parse(Buffer.from(r.body.id_token.split(".")[1], "base64url"));
  assert.deepEqual(claims.amr, ["pwd", "sms", "mfa"]);
  assert.equal(claims.tid, "mfa");
  assert.equal(claims.iss, `${worker.url}/mfa/v2.0`);

  // The refresh token rotates: the new one works, the old one is dead.
  const rt = r.body.refresh_token;
  const refreshed = await post(worker, "mfa", TOKEN, { grant_type: "refresh_token", refresh_token: rt, scope: "openid" });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  assert.notEqual(refreshed.body.refresh_token, rt);
  seen.push(refreshed.body.access_token, refreshed.body.id_token, refreshed.body.refresh_token);
  assert.deepEqual(JSON.parse(Buffer.from(refreshed.body.id_token.split(".")[1], "base64url")).amr, ["pwd", "sms", "mfa"]);
  isError(await post(worker, "mfa", TOKEN, { grant_type: "refresh_token", refresh_token: rt }), "invalid_grant");
  isError(await post(worker, "mfa", TOKEN, { grant_type: "refresh_token", refresh_token: refreshed.body.refresh_token }, { clientId: "other-app" }), "unauthorized_client");
});

test("without capabilities the API answers redirect instead of the MFA loop", async () => {
  const email = "no-caps@example.com";
  await signUp("mfa", email);
  let r = await post(worker, "mfa", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES });
  r = await post(worker, "mfa", "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  r = await post(worker, "mfa", TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.challenge_type, "redirect");
  assert.match(r.body.redirect_reason, /registration_required/);
  assert.equal(r.body.continuation_token, undefined);
});

test("the log holds no code, password, token, phone number or email", () => {
  assertLogClean(worker.output(), seen);
});
