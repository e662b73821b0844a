// Review (session 6, hookreview): SMS fraud checks a real deployment hits, against the
// Worker in workerd. Each was a defect fixed in session 6 and stays as a regression.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, CAPS, TYPES, ct, latestCode, nativeVars, post as postForm, requireMfa } from "../support/native.mjs";

const PASSWORD = "Review-Sms-Passphrase-23";
const TOKEN = "oauth2/v2.0/token";
let worker;

before(async () => {
  worker = await startWorker({ vars: { ...nativeVars(), E2E_HOOK_SECRETS: `whsec_${randomBytes(32).toString("base64")}` } });
});
after(async () => { await worker?.stop(); });

const post = (tenant, path, params, headers = {}) => postForm(worker, tenant, path, params, { headers });

/** Signs `email` up on `tenant` (MFA required) from `headers` up to phone registration. */
async function toRegistration(tenant, email, headers) {
  let r = await post(tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD }, headers);
  r = await post(tenant, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, headers);
  r = await post(tenant, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: await latestCode(worker, email) }, headers);
  r = await post(tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: email }, headers);
  assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
  r = await post(tenant, "register/v1.0/introspect", { continuation_token: ct(r) }, headers);
  return ct(r);
}

// Cloudflare sends `cf-ipcountry: T1` for Tor exits and `XX` when it does not know.
for (const [label, country] of [["GB (control)", "GB"], ["Tor (T1)", "T1"], ["unknown (XX)", "XX"]]) {
  test(`a US number registered from ${label} gets the CAPTCHA redirect, not an SMS`, async () => {
    const tenant = `fraud${country.toLowerCase()}`;
    await requireMfa(worker, tenant);
    const headers = { "cf-ipcountry": country };
    const token = await toRegistration(tenant, `fraud-${country.toLowerCase()}@example.com`, headers);
    const phone = `+1202555${country === "GB" ? "0161" : country === "T1" ? "0162" : "0163"}`;
    const r = await post(tenant, "register/v1.0/challenge", { continuation_token: token, challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" }, headers);
    const outbox = await (await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent(phone)}`)).json();
    assert.equal(r.body.challenge_type, "redirect", `an SMS went out (${outbox.messages.length} in the outbox): ${JSON.stringify(r.body)}`);
    assert.deepEqual(outbox.messages, []);
  });
}

test("a Jamaican +1 658 number is refused like +1 876 until the app opts Jamaica in", async () => {
  const tenant = "jamaica";
  await requireMfa(worker, tenant);
  const US = { "cf-ipcountry": "US" };
  const register = async (email, phone) => {
    const token = await toRegistration(tenant, email, US);
    return post(tenant, "register/v1.0/challenge", { continuation_token: token, challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" }, US);
  };
  const k876 = await register("jm876@example.com", "+18765550123");
  assert.equal(k876.body.suberror, "provider_blocked_by_admin", JSON.stringify(k876.body));
  const k658 = await register("jm658@example.com", "+16582001234");
  assert.equal(k658.body.suberror, "provider_blocked_by_admin", `the 658 number got: ${JSON.stringify(k658.body)}`);
});

test("one continuation token sent to register/v1.0/challenge five times at once texts the number once", async () => {
  const tenant = "smsreplay";
  await requireMfa(worker, tenant);
  // A real SMS receiver (the dev outbox's read-modify-write loses concurrent appends).
  const texts = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      if (body.type === "vestibule.authenticationEvent.smsOtpSend") texts.push(body.data.otpContext.oneTimeCode);
      res.writeHead(200).end("{}");
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  try {
    const put = await fetch(`${worker.url}/${tenant}/v1.0/vestibule/deliveryHooks`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ sms: { url: `http://127.0.0.1:${server.address().port}/sms`, secretName: "E2E_HOOK_SECRETS" } }),
    });
    assert.equal(put.status, 200, await put.text());
    const US = { "cf-ipcountry": "US" };
    const token = await toRegistration(tenant, "replay@example.com", US);
    const phone = "+12025550170";
    const answers = await Promise.all(Array.from({ length: 5 }, () =>
      post(tenant, "register/v1.0/challenge", { continuation_token: token, challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" }, US)));
    const statuses = answers.map((r) => r.status).join(",");
    assert.equal(texts.length, 1, `answers ${statuses}; ${texts.length} SMS (${new Set(texts).size} distinct codes) went out`);
    // The replays that lost counted against nothing: the number's own budget is intact
    // for the next registrations (another account's, as a family sharing a phone).
    for (const email of ["replay2@example.com", "replay3@example.com"]) {
      const next = await toRegistration(tenant, email, US);
      const r = await post(tenant, "register/v1.0/challenge", { continuation_token: next, challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" }, US);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    assert.equal(texts.length, 3);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
