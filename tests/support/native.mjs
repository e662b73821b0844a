// Helpers for the native-auth end-to-end tests: fresh secrets for the Worker, raw form
// calls, the dev outbox, Conditional Access through the admin API, and the log check.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { startWorker } from "./worker.mjs";

export const APP = "vestibule-demo-app";
export const TYPES = "password oob redirect";
export const CAPS = "mfa_required registration_required";
export const ADMIN = `e2e-admin-${randomBytes(16).toString("hex")}`;

/** Worker vars: the admin credential, a code key and an Ed25519 keyring, all fresh. */
export function nativeVars() {
  return {
    ADMIN_TOKEN: ADMIN,
    CODE_KEY: randomBytes(32).toString("base64url"),
    SIGNING_KEYS: JSON.stringify([{ kid: "e2e-1", seed: randomBytes(32).toString("base64url") }]),
  };
}

/** POSTs a native-auth form, with extra request `headers` (Cloudflare's `cf-ipcountry`);
 * returns status, JSON body and headers. */
export async function post(worker, tenant, path, params, { clientId = APP, headers = {} } = {}) {
  const body = new URLSearchParams(clientId === null ? params : { client_id: clientId, ...params });
  const res = await fetch(`${worker.url}/${tenant}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { assert.fail(`${path} answered non-JSON (${res.status}): ${text}`); }
  return { status: res.status, body: json, headers: res.headers };
}

/** The continuation token of an answer, which must carry one. */
export function ct(r) {
  assert.equal(typeof r.body.continuation_token, "string", JSON.stringify(r.body));
  return r.body.continuation_token;
}

/** [`ct`] that also records each token in `seen`, for a test's log check. */
export const recordingCt = (seen) => (r) => {
  const token = ct(r);
  seen.push(token);
  return token;
};

/** Asserts a native-auth error: 400, `error`, optional `suberror` and single error code,
 * and the full envelope MSAL reads (description, timestamp, trace and correlation ids). */
export function isError(r, error, { suberror, code } = {}) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error, error, JSON.stringify(r.body));
  if (suberror !== undefined) assert.equal(r.body.suberror, suberror, JSON.stringify(r.body));
  if (code !== undefined) assert.deepEqual(r.body.error_codes, [code], JSON.stringify(r.body));
  for (const f of ["error_description", "timestamp", "trace_id", "correlation_id"]) {
    assert.equal(typeof r.body[f], "string", `${f}: ${JSON.stringify(r.body)}`);
  }
}

/** The latest code the outbox holds for `to` (email or phone). */
export async function latestCode(worker, to) {
  const res = await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  const { messages } = await res.json();
  assert.ok(messages.length > 0, `no code was sent to ${to}`);
  return messages[0].code;
}

/** Creates a Conditional Access policy requiring MFA of every user for every app. */
export async function requireMfa(worker, tenant) {
  const res = await fetch(`${worker.url}/${tenant}/v1.0/identity/conditionalAccess/policies`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({
      displayName: "Require MFA for all users",
      state: "enabled",
      conditions: {
        clientAppTypes: ["all"],
        applications: { includeApplications: ["All"] },
        users: { includeUsers: ["All"] },
      },
      grantControls: { operator: "OR", builtInControls: ["mfa"] },
    }),
  });
  assert.equal(res.status, 201, await res.text());
}

/** Asserts that none of `secrets` (codes, passwords, tokens, phone numbers, emails)
 * appears in the Worker's log: as given, URL-encoded, in any letter case, and for phone
 * numbers in any common formatting (digits only, with spaces, dashes, dots or
 * parentheses, with or without the country code). Lines of the dev outbox reader are left
 * out: that route exists only with DEV_ROUTES=on, and its query string is the test
 * harness's. */
export function assertLogClean(output, secrets) {
  const lines = output.split("\n").filter((l) => !l.includes("/_dev/outbox"));
  const log = lines.join("\n");
  const lower = log.toLowerCase();
  assert.ok(/audit tenant=/.test(log), "the journeys wrote audit lines");
  const show = (s, hit) => `the log contains a secret or personal value (${s.slice(0, 3)}…):\n${lines.filter(hit).join("\n")}`;
  for (const s of new Set(secrets.filter((x) => typeof x === "string" && x.length >= 6))) {
    for (const v of new Set([s, encodeURIComponent(s)].map((x) => x.toLowerCase()))) {
      assert.ok(!lower.includes(v), show(s, (l) => l.toLowerCase().includes(v)));
    }
    const national = phoneNational(s);
    if (national) {
      const hit = (l) => digitRuns(l).some((run) => run.includes(national));
      assert.ok(!lines.some(hit), show(s, hit));
    }
  }
}

/** The national part of a phone number (its last ten digits at most), or null when `s`
 * does not look like one: 7 to 15 digits, written with `+`, spaces, `-`, `.`, `(`, `)`. */
export function phoneNational(s) {
  if (!/^\+?[\d\s().-]+$/.test(s)) return null;
  const digits = s.replace(/\D/g, "");
  if (digits.length < 7 || digits.length > 15) return null;
  return digits.slice(-10);
}

/** Every run of digits in `line` that is written as one number (digits joined by at most
 * two of space, `-`, `.`, `(`, `)`, `/`), with the separators removed. */
function digitRuns(line) {
  return (line.match(/\d(?:[\s().\/-]{0,2}\d)*/g) ?? []).map((r) => r.replace(/\D/g, ""));
}

/** `settings.emailVelocity` for tests that send many codes to one address or from one
 * IP on purpose (fixtures, not abuse): caps far above what they send. */
/** For the benchmarks, which send hundreds of codes from one IP in a few seconds: at most
 * 255 a second (the cap's `burst` is a u8), so a run measures steps, not refusals. */
export const BENCH_EMAIL_VELOCITY = {
  address: { burst: 255, windowSeconds: 1, cooldownsSeconds: [1], quietSeconds: 2 },
  ip: { burst: 255, windowSeconds: 1, cooldownsSeconds: [1], quietSeconds: 2 },
  addressAllIps: { burst: 255, windowSeconds: 1, cooldownsSeconds: [1], quietSeconds: 2 },
};

export const ROOMY_EMAIL_VELOCITY = {
  address: { burst: 200, windowSeconds: 600, cooldownsSeconds: [1], quietSeconds: 600 },
  ip: { burst: 200, windowSeconds: 600, cooldownsSeconds: [1], quietSeconds: 600 },
  addressAllIps: { burst: 200, windowSeconds: 600, cooldownsSeconds: [1], quietSeconds: 600 },
};

/** A flow configuration like the built-in one (src/native/defaults.rs), with `settings`
 * replaced, for `PUT /_dev/native/:tenant/flow-config`. */
export function flowConfig({ settings }) {
  const everyone = [{ targetType: "group", id: "all_users" }];
  return {
    authenticationMethodsPolicy: {
      authenticationMethodConfigurations: [
        { id: "Email", state: "enabled", includeTargets: everyone },
        { id: "Sms", state: "enabled", includeTargets: everyone },
      ],
    },
    userFlow: {
      conditions: { applications: { includeApplications: [{ appId: APP }] } },
      onAuthenticationMethodLoadStart: { identityProviders: [{ id: "EmailPassword-OAUTH" }] },
    },
    settings,
  };
}

/** An admin API call; `path` starts after the host (`{tenant}/v1.0/…`). `authorization`
 * replaces the admin bearer (null sends none). The body is parsed when there is one. */
export async function adminCall(worker, method, path, body, { authorization = `Bearer ${ADMIN}` } = {}) {
  const headers = authorization === null ? {} : { authorization };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${worker.url}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Signs `email` up with `password` over native auth (start, challenge, the emailed code);
 * asserts the sign-up ends verified. `token` reads a continuation token (and may record it
 * for a log check); `seen` collects what must not reach the log. */
export async function signUpWithPassword(worker, tenant, email, password, { token = ct, seen = [] } = {}) {
  seen.push(email);
  let r = await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password });
  r = await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: token(r), challenge_type: TYPES });
  const code = await latestCode(worker, email);
  seen.push(code);
  r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: token(r), grant_type: "oob", oob: code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r;
}

/** [`signUpWithPassword`] in a tenant that requires MFA, then the phone registered as the
 * second factor by its texted code; returns the token response (asserted 200), its tokens
 * recorded in `seen`. */
export async function signUpWithPhone(worker, tenant, email, password, phone, { token = ct, seen = [] } = {}) {
  let r = await signUpWithPassword(worker, tenant, email, password, { token, seen });
  r = await post(worker, tenant, "oauth2/v2.0/token", { continuation_token: token(r), grant_type: "continuation_token", username: email });
  assert.deepEqual(r.body.error_codes, [50076], JSON.stringify(r.body));
  r = await post(worker, tenant, "register/v1.0/introspect", { continuation_token: token(r) });
  r = await post(worker, tenant, "register/v1.0/challenge", { continuation_token: token(r), challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" });
  const registration = await latestCode(worker, phone);
  seen.push(phone, registration);
  r = await post(worker, tenant, "register/v1.0/continue", { continuation_token: token(r), grant_type: "oob", oob: registration });
  r = await post(worker, tenant, "oauth2/v2.0/token", { continuation_token: token(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r;
}

/** A Worker whose tenant `tenant` requires MFA and texts its codes through a real SMS hook
 * receiver on 127.0.0.1, signed with `secret`. `answer(body, res)` answers each request the
 * receiver gets (its body as text). `stop()` ends both. */
export async function workerWithSmsHook(tenant, secret, answer) {
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => answer(Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise((ok) => receiver.listen(0, "127.0.0.1", ok));
  const worker = await startWorker({ vars: { ...nativeVars(), E2E_HOOK_SECRETS: secret } });
  const put = await adminCall(worker, "PUT", `${tenant}/v1.0/vestibule/deliveryHooks`, {
    sms: { url: `http://127.0.0.1:${receiver.address().port}/sms`, secretName: "E2E_HOOK_SECRETS" },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await requireMfa(worker, tenant);
  const stop = async () => {
    await worker.stop();
    receiver.closeAllConnections();
    await new Promise((ok) => receiver.close(ok));
  };
  return { worker, receiver, stop };
}

/** A user record as KV stores it now (test-only dev route `GET /_dev/native/:tenant/users/:id/record`). */
export async function readUserRecord(worker, tenant, id) {
  const res = await fetch(`${worker.url}/_dev/native/${tenant}/users/${id}/record`);
  assert.equal(res.status, 200, "the record is stored");
  return res.json();
}

/** Makes KV show `record` again (with its email index entry), as KV at another location that
 * has not seen later writes would, telling no guard object. */
export async function showStaleRecord(worker, tenant, record) {
  const res = await fetch(`${worker.url}/_dev/native/${tenant}/users/${record.id}/record`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(record),
  });
  assert.equal(res.status, 204, await res.text());
}

/** One password sign-in up to the password: initiate, challenge, then `password` at
 * /token. Returns the first answer that is not a step on (a refused initiate or
 * challenge), else the token answer; tokens it gives are recorded in `seen`. */
export async function tryPassword(worker, tenant, email, password, { token = ct, seen = [] } = {}) {
  let r = await post(worker, tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS });
  if (r.status !== 200 || !r.body.continuation_token) return r;
  r = await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: token(r), challenge_type: TYPES });
  if (r.status !== 200) return r;
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  r = await post(worker, tenant, "oauth2/v2.0/token", { continuation_token: token(r), grant_type: "password", password, scope: "openid" });
  if (r.body.access_token) seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r;
}
