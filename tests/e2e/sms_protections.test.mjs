// SMS protections end to end in workerd: a phone in a region that is off by default is
// refused (access_denied / provider_blocked_by_admin) until the admin opts the region in
// for the app through the Graph authenticationEventListeners API; a number that is not
// valid for its country is invalid input (901001); bad listeners are refused and never
// stored; when fraud is suspected a native client gets the redirect fallback, and the
// loopback Turnstile-compatible siteverify server the Worker is configured with is never
// called (native auth has no widget token to verify).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, TYPES, ct, flowConfig, latestCode, nativeVars, requireMfa, isError } from "../support/native.mjs";

const PASSWORD = "Sms-Protections-Passphrase-7";
const TOKEN = "oauth2/v2.0/token";
const NIGERIA = "+2348031234567"; // 234 is on the default opt-in list
const UK = "+447700900123";
const SECRET = "e2e-captcha-secret";

let worker;
let siteverify;

/** POSTs a native-auth form for the demo app, with extra request headers. */
async function post(w, tenant, path, params, { headers = {} } = {}) {
  const res = await fetch(`${w.url}/${tenant}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ client_id: APP, ...params }),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { assert.fail(`${path} answered non-JSON (${res.status}): ${text}`); }
  return { status: res.status, body };
}
const verifyCalls = [];

before(async () => {
  siteverify = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      verifyCalls.push({ path: req.url, type: req.headers["content-type"], form });
      const ok = form.secret === SECRET && form.response === "good-token";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(ok ? { success: true, "error-codes": [] } : { success: false, "error-codes": ["invalid-input-response"] }));
    });
  });
  await new Promise((ok) => siteverify.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${siteverify.address().port}/turnstile/v0/siteverify`;
  worker = await startWorker({ vars: { ...nativeVars(), CAPTCHA_SITEVERIFY_URL: url, CAPTCHA_SECRET: SECRET } });
});

after(async () => {
  await worker?.stop();
  await new Promise((ok) => siteverify?.close(ok));
});



async function admin(method, path, body) {
  const res = await fetch(`${worker.url}/sms/v1.0/identity/authenticationEventListeners${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The region doc's example listener, for `app`, opting `include` in. */
function listener(app, include, exclude = []) {
  return {
    "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartListener",
    conditions: { applications: { includeApplications: [app] } },
    priority: 500,
    handler: {
      "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
      smsOptions: { includeAdditionalRegions: include, excludeRegions: exclude },
      voiceOptions: { includeAdditionalRegions: [], excludeRegions: [] },
    },
  };
}

/** Signs up `email` on `tenant` (MFA required) up to `register/v1.0/introspect`; returns
 * the continuation token for `register/v1.0/challenge`. */
async function toRegistration(tenant, email, headers = {}) {
  let r = await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD }, { headers });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  const code = await latestCode(worker, email);
  r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: email });
  isError(r, "invalid_grant", { suberror: "registration_required" });
  r = await post(worker, tenant, "register/v1.0/introspect", { continuation_token: ct(r) });
  assert.deepEqual(r.body.methods.map((m) => m.id), ["email", "sms"]);
  return ct(r);
}

const registerPhone = (tenant, token, phone) =>
  post(worker, tenant, "register/v1.0/challenge", { continuation_token: token, challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" });

test("a default-off region is blocked until the admin opts it in for the app", async () => {
  await requireMfa(worker, "sms");
  const token = await toRegistration("sms", "ng-user@example.com");
  const blocked = await registerPhone("sms", token, NIGERIA);
  isError(blocked, "access_denied", { suberror: "provider_blocked_by_admin" });
  assert.match(blocked.body.error_description, /blocked the phone region/);
  // The flow goes on: the same continuation token may try another number.

  // Another app's opt-in does not count.
  const other = await admin("POST", "", listener("some-other-app", [234]));
  assert.equal(other.status, 201, JSON.stringify(other.body));
  isError(await registerPhone("sms", token, NIGERIA), "access_denied", { suberror: "provider_blocked_by_admin" });

  const created = await admin("POST", "", listener(APP, [234], [971]));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(typeof created.body.id, "string");
  assert.deepEqual(created.body.handler.smsOptions, { includeAdditionalRegions: [234], excludeRegions: [971] });

  let r = await registerPhone("sms", token, NIGERIA);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.challenge_type, "oob");
  assert.equal(r.body.challenge_channel, "sms");
  const code = await latestCode(worker, NIGERIA);
  r = await post(worker, "sms", "register/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, "sms", TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(typeof r.body.access_token, "string");

  // The admin turns the region off again: the registered number is no longer texted,
  // and as it is the user's only second factor, sign-in ends with a clear block.
  const patched = await admin("PATCH", `/${created.body.id}`, { handler: listener(APP, [], [234]).handler });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  r = await post(worker, "sms", "oauth2/v2.0/initiate", { username: "ng-user@example.com", challenge_type: TYPES, capabilities: CAPS });
  r = await post(worker, "sms", "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  r = await post(worker, "sms", TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD });
  isError(r, "access_denied", { suberror: "provider_blocked_by_admin" });
});

test("a number that is not valid for its country is invalid input (901001)", async () => {
  await requireMfa(worker, "smsbad");
  const token = await toRegistration("smsbad", "bad-number@example.com");
  for (const bad of ["+44 0700 900123", "+1 123 456 7890", "+4477009001", "07700900123", "+44 77OO 900123", "+44123"]) {
    isError(await registerPhone("smsbad", token, bad), "invalid_request", { code: 901001 });
  }
  const ok = await registerPhone("smsbad", token, UK);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.challenge_target, UK);
});

test("bad listeners are refused with every problem and never stored", async () => {
  const bad = listener(APP, [222, "998", 12345], [222]);
  bad.priority = 5000;
  const r = await admin("POST", "", bad);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  const codes = [r.body.error.code, ...r.body.error.details.map((d) => d.code)];
  for (const c of ["sms.invalid_priority", "sms.invalid_region", "sms.region_overlap"]) assert.ok(codes.includes(c), `${c} in ${codes}`);
  const wrongType = await admin("POST", "", { ...listener(APP, [222]), "@odata.type": "#microsoft.graph.onTokenIssuanceStartListener" });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.body.error.code, "sms.unsupported_listener_type");

  const list = await admin("GET", "");
  assert.equal(list.status, 200);
  const before = list.body.value.length;
  const good = await admin("POST", "", listener("patch-app", [222]));
  assert.equal(good.status, 201);
  const refused = await admin("PATCH", `/${good.body.id}`, { handler: listener("patch-app", [222], [222]).handler });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, "sms.region_overlap");
  const read = await admin("GET", `/${good.body.id}`);
  assert.deepEqual(read.body.handler.smsOptions.excludeRegions, []);
  assert.equal((await admin("DELETE", `/${good.body.id}`)).status, 204);
  assert.equal((await admin("GET", `/${good.body.id}`)).status, 404);
  assert.equal((await admin("GET", "")).body.value.length, before);
  const anon = await fetch(`${worker.url}/sms/v1.0/identity/authenticationEventListeners`);
  assert.equal(anon.status, 401);
});

test("fraud suspected: a native client gets the redirect, and no token reaches siteverify", async () => {
  await requireMfa(worker, "smsfraud");
  const calls = verifyCalls.length;
  // The sign-up comes from a GB address (Cloudflare's cf-ipcountry); the phone is in the US.
  const token = await toRegistration("smsfraud", "abroad@example.com", { "cf-ipcountry": "GB" });
  const r = await registerPhone("smsfraud", token, "+12025550143");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.challenge_type, "redirect");
  assert.match(r.body.redirect_reason, /captcha.*country_mismatch/);
  const outbox = await (await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent("+12025550143")}`)).json();
  assert.deepEqual(outbox.messages, [], "no SMS was sent");
  assert.equal(verifyCalls.length, calls, "native auth never calls siteverify");

  // The same number from a US address goes through.
  const home = await toRegistration("smsfraud", "home@example.com", { "cf-ipcountry": "US" });
  const sent = await registerPhone("smsfraud", home, "+12025550143");
  assert.equal(sent.body.challenge_type, "oob", JSON.stringify(sent.body));

  // Mode `always` (e.g. a tenant that wants a CAPTCHA before every SMS).
  const config = flowConfig({ settings: { mfaEnforcement: "always", sms: { captcha: { mode: "always" } } } });
  const put = await fetch(`${worker.url}/_dev/native/smsalways/flow-config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(config) });
  assert.equal(put.status, 200, await put.text());
  const always = await toRegistration("smsalways", "always@example.com", { "cf-ipcountry": "GB" });
  const redirected = await registerPhone("smsalways", always, UK);
  assert.equal(redirected.body.challenge_type, "redirect", JSON.stringify(redirected.body));
  assert.match(redirected.body.redirect_reason, /always/);
});
