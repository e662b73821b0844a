// Security review (session 5, rvoidc): attacks on the OpenID provider that must fail.
// Login CSRF on the hosted pages (refused by Fetch Metadata), and authorization codes and
// refresh tokens raced by concurrent requests (accepted once). Each test states the
// secure behaviour.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import * as client from "openid-client";
import { authorizationRequest } from "../support/oidc_client.mjs";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, latestCode, nativeVars } from "../support/native.mjs";
import { bindingCookie, submitForm } from "../support/hosted.mjs";

const T = "review";
const PASSWORD = "Correct-Horse-Battery-9";
const REDIRECT = "http://127.0.0.1:9/callback";
const SCOPE = "openid profile email offline_access";
const ATTACKER = "attacker@example.com";

let worker, config;
before(async () => {
  worker = await startWorker({ vars: nativeVars() });
  config = await client.discovery(new URL(`${worker.url}/${T}/v2.0`), APP, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  // The attacker's own account, made through the hosted sign-up.
  const a = await authorization();
  let page = await open(a.url);
  page = await next(page, { action: "switch" });
  page = await next(page, { action: "email", email: ATTACKER });
  const code = await latestCode(worker, ATTACKER);
  page = await next(page, { action: "code", code });
  let res = await submit(page, { action: "password", password: PASSWORD });
  if (res.status === 200) {
    page = await read(res);
    res = await submit(page, { action: "attributes", "attr.displayName": "Attacker" });
  }
  assert.equal(res.status, 303, "the attacker's sign-up ends with a redirect");
});
after(async () => { await worker?.stop(); });

const authorization = (extra = {}) => authorizationRequest(config, { redirect_uri: REDIRECT, scope: SCOPE, ...extra });

async function read(res) {
  const html = await res.text();
  return { status: res.status, html, doc: new JSDOM(html).window.document, binding: bindingCookie(res) };
}
const submit = (page, fields, headers) => submitForm(worker.url, page, fields, headers);
const next = async (page, fields) => read(await submit(page, fields));
const open = async (url) => read(await fetch(url, { redirect: "manual" }));

/** The attacker's sign-in, stopped on the password page (its form is what gets posted). */
async function attackerPasswordPage() {
  const a = await authorization();
  const page = await next(await open(a.url), { action: "email", email: ATTACKER });
  assert.match(page.html, /Enter your password/);
  return page;
}

test("login CSRF: a cross-site post of someone else's hosted form must not sign this browser in", async () => {
  // 1. The attacker starts a sign-in with their own account and keeps the password page.
  const page = await attackerPasswordPage();
  // 2. The victim's browser is made to post that form from another site (an auto-submitting
  //    form on evil.example): a top-level cross-site POST, no cookie of ours.
  const res = await submit(page, { action: "password", password: PASSWORD }, {
    origin: "https://evil.example", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate",
  });
  const setCookie = res.headers.get("set-cookie");
  console.log(`cross-site post: status ${res.status}, set-cookie ${setCookie ? setCookie.split("=")[0] : "none"}`);
  if (setCookie) {
    // 3. What the planted cookie does: the victim's next sign-in anywhere in the tenant
    //    resumes the attacker's session without a page.
    const cookie = setCookie.split(";")[0];
    const v = await authorization();
    const resumed = await fetch(v.url, { redirect: "manual", headers: { cookie } });
    const cb = new URL(resumed.headers.get("location") ?? "http://x/");
    const tokens = cb.searchParams.get("code")
      ? await client.authorizationCodeGrant(config, cb, { pkceCodeVerifier: v.verifier, expectedNonce: v.nonce, expectedState: v.state })
      : null;
    console.log(`victim's own authorization with the planted cookie: ${resumed.status}, signed in as ${tokens?.claims().email}`);
  }
  assert.equal(setCookie, null, "a cross-site form post planted a single sign-on session in the victim's browser");
  assert.equal(res.status, 403);
  assert.match(await res.text(), /sent from another website/);
  // The attacker's handle was not spent by the refused post, and the page's own
  // (same-origin) post still works.
  const own = await submit(page, { action: "password", password: PASSWORD }, { "sec-fetch-site": "same-origin" });
  assert.equal(own.status, 303);
});

test("an authorization code is accepted at most once, even by concurrent requests", async () => {
  const a = await authorization();
  const page = await next(await open(a.url), { action: "email", email: ATTACKER });
  const res = await submit(page, { action: "password", password: PASSWORD });
  assert.equal(res.status, 303);
  const code = new URL(res.headers.get("location")).searchParams.get("code");
  const body = new URLSearchParams({ grant_type: "authorization_code", client_id: APP, code, redirect_uri: REDIRECT, code_verifier: a.verifier });
  const answers = await Promise.all(Array.from({ length: 8 }, () =>
    fetch(config.serverMetadata().token_endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body })));
  const statuses = answers.map((r) => r.status);
  const issued = await Promise.all(answers.filter((r) => r.status === 200).map((r) => r.json()));
  console.log(`8 concurrent exchanges of one code: ${JSON.stringify(statuses)}; distinct refresh tokens ${new Set(issued.map((t) => t.refresh_token)).size}`);
  assert.ok(issued.length <= 1, `one code was exchanged ${issued.length} times`);
});

test("a refresh token rotates at most once, even under concurrent requests", async () => {
  const a = await authorization();
  const page = await next(await open(a.url), { action: "email", email: ATTACKER });
  const res = await submit(page, { action: "password", password: PASSWORD });
  const tokens = await client.authorizationCodeGrant(config, new URL(res.headers.get("location")), { pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state });
  const body = new URLSearchParams({ grant_type: "refresh_token", client_id: APP, refresh_token: tokens.refresh_token, scope: SCOPE });
  const answers = await Promise.all(Array.from({ length: 8 }, () =>
    fetch(config.serverMetadata().token_endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body })));
  const statuses = answers.map((r) => r.status);
  const issued = await Promise.all(answers.filter((r) => r.status === 200).map((r) => r.json()));
  console.log(`8 concurrent refreshes of one token: ${JSON.stringify(statuses)}`);
  // Each successful answer is a live refresh token of the same family: with more than one,
  // a thief racing the owner is never detected as reuse.
  assert.ok(issued.length <= 1, `one refresh token rotated ${issued.length} times`);
});

// Last: it disables the attacker's account the other tests sign in with.
test("a disabled account's single sign-on session gets no more codes", async () => {
  const a = await authorization();
  const page = await next(await open(a.url), { action: "email", email: ATTACKER });
  const res = await submit(page, { action: "password", password: PASSWORD });
  assert.equal(res.status, 303);
  const cookie = res.headers.get("set-cookie").split(";")[0];
  const tokens = await client.authorizationCodeGrant(config, new URL(res.headers.get("location")), { pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state });
  const id = tokens.claims().sub;
  const disabled = await fetch(`${worker.url}/${T}/v1.0/users/${id}`, {
    method: "PATCH", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ accountEnabled: false }),
  });
  assert.equal(disabled.status, 204, await disabled.text());
  // The browser comes back with its cookie: no code may be issued for the disabled account.
  const b = await authorization();
  const resumed = await fetch(b.url, { redirect: "manual", headers: { cookie } });
  const location = resumed.headers.get("location");
  console.log(`authorize with the disabled account's cookie: ${resumed.status} ${location ? "code=" + new URL(location).searchParams.has("code") : ""}`);
  assert.notEqual(resumed.status, 303, "a code was issued for a disabled account");
  assert.match(await resumed.text(), /account is locked/);
});
