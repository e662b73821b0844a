// Review (session 6, hookreview): sign-in attempts that end without a sign-in record,
// against the Worker in workerd: a redirect after the first factor is an interrupted
// attempt (50074) with its Conditional Access results.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, CAPS, TYPES, assertLogClean, ct, latestCode, nativeVars, post as postForm, requireMfa } from "../support/native.mjs";

const T = "rvlogs";
const PASSWORD = "Review-Logs-Passphrase-17";
const TOKEN = "oauth2/v2.0/token";
let worker;

before(async () => {
  worker = await startWorker({ vars: nativeVars() });
});
after(async () => { await worker?.stop(); });

/** A native-auth form POST on this file's tenant, with extra headers (`cf-ipcountry`). */
const post = (path, params, headers = {}) => postForm(worker, T, path, params, { headers });

async function signIns(filter) {
  const res = await fetch(`${worker.url}/${T}/v1.0/auditLogs/signIns?${new URLSearchParams({ $filter: filter })}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text).value;
}

test("a sign-in stopped by the SMS fraud check (redirect) leaves a sign-in record", async () => {
  await requireMfa(worker, T);
  const email = "traveller@example.com";
  const phone = "+12025550177";
  const US = { "cf-ipcountry": "US" };
  // Sign up from the US and register a US phone as second factor.
  let r = await post("signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD }, US);
  r = await post("signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, US);
  r = await post("signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: await latestCode(worker, email) }, US);
  r = await post(TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: email }, US);
  assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
  r = await post("register/v1.0/introspect", { continuation_token: ct(r) }, US);
  r = await post("register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" }, US);
  assert.equal(r.body.challenge_type, "oob", JSON.stringify(r.body));
  r = await post("register/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: await latestCode(worker, phone) }, US);
  r = await post(TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" }, US);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const before = await signIns(`userPrincipalName eq '${email}'`);

  // Later, a password sign-in from GB: the password is right, MFA is required, and the
  // SMS to the US phone is refused as suspected fraud (country mismatch): redirect.
  const GB = { "cf-ipcountry": "GB" };
  r = await post("oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS }, GB);
  r = await post("oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, GB);
  r = await post(TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD, scope: "openid" }, GB);
  assert.equal(r.body.suberror, "mfa_required", JSON.stringify(r.body));
  r = await post("oauth2/v2.0/introspect", { continuation_token: ct(r) }, GB);
  const sms = r.body.methods.find((m) => m.challenge_channel === "sms");
  assert.ok(sms, JSON.stringify(r.body));
  r = await post("oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: sms.id }, GB);
  assert.equal(r.body.challenge_type, "redirect", JSON.stringify(r.body));
  assert.match(r.body.redirect_reason, /captcha/);
  // The flow is over (the token is gone): this attempt has ended without tokens.
  await new Promise((ok) => setTimeout(ok, 1500)); // KV list is eventually consistent
  const after = await signIns(`userPrincipalName eq '${email}'`);
  assert.equal(after.length, before.length + 1, `records before ${before.length}, after ${after.length}: the ended attempt was not logged`);
  assert.notEqual(after[0].status.errorCode, 0);
});

test("a sign-in ended by the redirect for a client without mfa_required leaves a sign-in record", async () => {
  // The MFA policy of the first test is enabled in this tenant. The user has a phone.
  const email = "traveller@example.com";
  const before = await signIns(`userPrincipalName eq '${email}'`);
  // A client that does not declare `mfa_required` (older SDKs, hand-written clients).
  let r = await post("oauth2/v2.0/initiate", { username: email, challenge_type: TYPES }, { "cf-ipcountry": "US" });
  r = await post("oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, { "cf-ipcountry": "US" });
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  r = await post(TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD, scope: "openid" }, { "cf-ipcountry": "US" });
  assert.equal(r.body.challenge_type, "redirect", JSON.stringify(r.body));
  await new Promise((ok) => setTimeout(ok, 1500));
  const after = await signIns(`userPrincipalName eq '${email}'`);
  assert.equal(after.length, before.length + 1, `records before ${before.length}, after ${after.length}: the ended attempt was not logged`);
});

test("nothing secret reaches the Worker log in this journey", () => {
  assertLogClean(worker.output(), [PASSWORD, "+12025550177", "traveller@example.com"]);
});
