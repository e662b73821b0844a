// The Worker's log across whole journeys: sign-up with SMS registration, sign-in with
// MFA (with a wrong password and a wrong code on the way), token refresh, and a password
// reset followed by the sign-in it leads to. Afterwards no code, password, token,
// continuation token, email address or phone number (in any common formatting) may
// appear anywhere in the Worker's output, and nothing may have panicked.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { CAPS, TYPES, assertLogClean, latestCode, nativeVars, post, requireMfa } from "../support/native.mjs";

const TENANT = "logs";
const TOKEN = "oauth2/v2.0/token";
const EMAIL = "Log.Hygiene@Example.com";
const PASSWORD = "Correct-Horse-Battery-9";
const NEW_PASSWORD = "Staple-Lantern-Orbit-47";
// Sent formatted; the Worker normalizes it to +15550102345, which must not leak either.
const PHONE = "+1 (555) 010-2345";
const vars = nativeVars();
const seen = [EMAIL, EMAIL.toLowerCase(), PASSWORD, NEW_PASSWORD, PHONE, "+15550102345", vars.ADMIN_TOKEN, vars.CODE_KEY, JSON.parse(vars.SIGNING_KEYS)[0].seed];
let worker;
before(async () => {
  worker = await startWorker({ vars });
  await requireMfa(worker, TENANT);
});
after(async () => { await worker?.stop(); });

const step = async (path, params, want = 200) => {
  const r = await post(worker, TENANT, path, params);
  assert.equal(r.status, want, `${path}: ${JSON.stringify(r.body)}`);
  for (const k of ["continuation_token", "access_token", "id_token", "refresh_token", "client_info"]) {
    if (typeof r.body[k] === "string") seen.push(r.body[k]);
  }
  return r;
};
const code = async (to) => {
  const c = await latestCode(worker, to);
  seen.push(c);
  return c;
};

/** Answers an `mfa_required` with the SMS method; returns the token response. */
async function smsMfa(r) {
  r = await step("oauth2/v2.0/introspect", { continuation_token: r.body.continuation_token });
  const sms = r.body.methods.find((m) => m.challenge_channel === "sms");
  assert.ok(sms, JSON.stringify(r.body));
  r = await step("oauth2/v2.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES, id: sms.id });
  await step(TOKEN, { continuation_token: r.body.continuation_token, grant_type: "mfa_oob", oob: "00000000" }, 400);
  return step(TOKEN, { continuation_token: r.body.continuation_token, grant_type: "mfa_oob", oob: await code(PHONE), scope: "openid profile offline_access" });
}

test("sign-up with SMS registration, sign-in with MFA, refresh, password reset", async () => {
  // Sign-up; the policy asks for a second factor, so an SMS number is registered.
  let r = await step("signup/v1.0/start", { username: EMAIL, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD, attributes: JSON.stringify({ displayName: "Log Hygiene" }) });
  r = await step("signup/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  r = await step("signup/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: await code(EMAIL) });
  r = await step(TOKEN, { continuation_token: r.body.continuation_token, grant_type: "continuation_token", username: EMAIL }, 400);
  assert.equal(r.body.suberror, "registration_required");
  r = await step("register/v1.0/introspect", { continuation_token: r.body.continuation_token });
  r = await step("register/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: "oob", challenge_target: PHONE, challenge_channel: "sms" });
  r = await step("register/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: await code(PHONE) });
  r = await step(TOKEN, { continuation_token: r.body.continuation_token, grant_type: "continuation_token" });

  // Sign-in: a wrong password first, then the right one and the SMS code.
  r = await step("oauth2/v2.0/initiate", { username: EMAIL, challenge_type: TYPES, capabilities: CAPS });
  r = await step("oauth2/v2.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  const pw = r.body.continuation_token;
  await step(TOKEN, { continuation_token: pw, grant_type: "password", password: "Wrong-Password-42" }, 400);
  r = await step(TOKEN, { continuation_token: pw, grant_type: "password", password: PASSWORD }, 400);
  assert.equal(r.body.suberror, "mfa_required");
  r = await smsMfa(r);
  r = await step(TOKEN, { grant_type: "refresh_token", refresh_token: r.body.refresh_token });

  // Password reset, then the sign-in it continues into.
  r = await step("resetpassword/v1.0/start", { username: EMAIL, challenge_type: TYPES, capabilities: CAPS });
  r = await step("resetpassword/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  r = await step("resetpassword/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: await code(EMAIL) });
  r = await step("resetpassword/v1.0/submit", { continuation_token: r.body.continuation_token, new_password: NEW_PASSWORD });
  let poll = r.body.continuation_token;
  for (let i = 0; i < 10; i++) {
    r = await step("resetpassword/v1.0/poll_completion", { continuation_token: poll });
    if (r.body.status === "succeeded") break;
    poll = r.body.continuation_token ?? poll;
    await new Promise((done) => setTimeout(done, (r.body.poll_interval ?? 1) * 200));
  }
  assert.equal(r.body.status, "succeeded", JSON.stringify(r.body));
  r = await step(TOKEN, { continuation_token: r.body.continuation_token, grant_type: "continuation_token", username: EMAIL }, 400);
  assert.equal(r.body.suberror, "mfa_required");
  r = await smsMfa(r);
  assert.equal(typeof r.body.access_token, "string");
});

test("the log holds no code, password, token, email or phone number, and no panic", () => {
  const output = worker.output();
  for (const sign of [/panicked at/i, /RuntimeError/, /\bunreachable\b/, /Uncaught/]) {
    assert.ok(!sign.test(output), `the log shows ${sign}`);
  }
  assert.ok(seen.length > 20, `${seen.length} values collected`);
  assertLogClean(output, seen);
});

test("the log check itself catches a value in another case or a phone number in any formatting", () => {
  const audit = "audit tenant=logs {}\n";
  for (const leak of ["+15550102345", "15550102345", "5550102345", "+1 555 010 2345", "(555) 010-2345", "555.010.2345", "+1-555-010-2345", "log.hygiene@example.com", encodeURIComponent(EMAIL)]) {
    assert.throws(() => assertLogClean(`${audit}user ${leak} signed in`, [PHONE, EMAIL]), assert.AssertionError, leak);
  }
  assertLogClean(`${audit}trace 0b5e2a41-0000-4000-8000-000000000001 took 12 ms at 2026-11-23 18:10:13Z`, [PHONE, EMAIL]);
});
