// Review (session 6, hookreview): the sign-in record of a hosted-page (OIDC) sign-in
// lists the tenant's Conditional Access policies as a native-auth sign-in's record does.
// Before the fix in this branch (`oidc::acr::RequireMfa` now forwards `applied_policies`)
// hosted-page records had `appliedConditionalAccessPolicies: []`.
// The test acts as a browser without JavaScript (form posts parsed with jsdom).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, TYPES, latestCode, nativeVars, post } from "../support/native.mjs";
import { bindingCookie, submitForm } from "../support/hosted.mjs";

const T = "rvhosted";
const REDIRECT = "http://127.0.0.1:9/callback";
const PASSWORD = "Hosted-Log-Passphrase-8";
let worker;

before(async () => {
  worker = await startWorker({ vars: nativeVars() });
  // A report-only MFA policy: the admin wants to read what it would do before enabling it.
  const res = await fetch(`${worker.url}/${T}/v1.0/identity/conditionalAccess/policies`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({
      displayName: "Require MFA (report-only)", state: "enabledForReportingButNotEnforced",
      conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] } },
      grantControls: { operator: "OR", builtInControls: ["mfa"] },
    }),
  });
  assert.equal(res.status, 201, await res.text());
});
after(async () => { await worker?.stop(); });

async function read(res) {
  const html = await res.text();
  const doc = new JSDOM(html).window.document;
  return { status: res.status, doc, html, h1: doc.querySelector("h1")?.textContent, binding: bindingCookie(res) };
}
const submit = (page, fields) => submitForm(worker.url, page, fields);

async function signIns(email) {
  await new Promise((ok) => setTimeout(ok, 1000)); // KV list is eventually consistent
  const res = await fetch(`${worker.url}/${T}/v1.0/auditLogs/signIns?${new URLSearchParams({ $filter: `userPrincipalName eq '${email}'` })}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text).value;
}

test("control: a native-auth sign-up's record lists the report-only policy", async () => {
  const email = "native.log@example.com";
  let r = await post(worker, T, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
  r = await post(worker, T, "signup/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  r = await post(worker, T, "signup/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: await latestCode(worker, email) });
  r = await post(worker, T, "oauth2/v2.0/token", { continuation_token: r.body.continuation_token, grant_type: "continuation_token", username: email, scope: "openid" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const [record] = await signIns(email);
  assert.deepEqual(record.appliedConditionalAccessPolicies.map((p) => p.result), ["reportOnlyInterrupted"]);
});

test("a hosted-page sign-up's record lists the report-only policy too", async () => {
  const email = "hosted.log@example.com";
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${worker.url}/${T}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: APP, response_type: "code", redirect_uri: REDIRECT, scope: "openid",
    state: "s1", nonce: "n1",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
  })) url.searchParams.set(k, v);
  let page = await read(await fetch(url, { redirect: "manual" }));
  assert.equal(page.status, 200, page.html);
  page = await read(await submit(page, { action: "switch" }));
  assert.equal(page.h1, "Create an account", page.html);
  page = await read(await submit(page, { action: "email", email }));
  assert.equal(page.h1, "Enter the code", page.html);
  page = await read(await submit(page, { action: "code", code: await latestCode(worker, email) }));
  assert.equal(page.h1, "Choose a password", page.html);
  let res = await submit(page, { action: "password", password: PASSWORD });
  if (res.status === 200) {
    page = await read(res);
    assert.equal(page.h1, "About you", page.html);
    res = await submit(page, { action: "attributes", "attr.displayName": "Hosted User" });
  }
  assert.equal(res.status, 303, `expected the redirect back, got ${res.status}`);
  const records = await signIns(email);
  assert.equal(records.length, 1, JSON.stringify(records));
  assert.equal(records[0].status.errorCode, 0);
  assert.deepEqual(records[0].appliedConditionalAccessPolicies.map((p) => p.result), ["reportOnlyInterrupted"], JSON.stringify(records[0]));
});
