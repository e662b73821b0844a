// OpenID Connect RP-Initiated Logout 1.0 against the Worker in workerd: openid-client 6
// discovers `end_session_endpoint` and builds the logout URL (`buildEndSessionUrl`); the
// test is a browser without JavaScript that signs in on the hosted pages, keeps the
// single sign-on cookie, and logs out. Checked: the redirect goes only to a registered
// `post_logout_redirect_uri` (with `state`), the cookie is cleared and the KV session is
// gone (the next authorization asks for credentials), the hinted family's refresh token
// is revoked, and unregistered URIs or forged hints never redirect.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import * as client from "openid-client";
import { signJwt } from "../support/corpus_oidc.mjs";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, assertLogClean, latestCode, nativeVars } from "../support/native.mjs";
import { submitForm } from "../support/hosted.mjs";

const T = "logout";
const APP_ID = "logout-shop";
const CALLBACK = "http://127.0.0.1:9/shop";
const SIGNED_OUT = "http://127.0.0.1:9/signed-out";
const PASSWORD = "Correct-Horse-Battery-9";
const USER = "logout.user@example.com";
const SCOPE = "openid profile email offline_access";
const seen = [PASSWORD, USER];

let worker, vars, config;
before(async () => {
  vars = nativeVars();
  worker = await startWorker({ vars });
  const res = await fetch(`${worker.url}/${T}/v1.0/applications`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ displayName: "Logout Shop", appId: APP_ID, spa: { redirectUris: [CALLBACK, SIGNED_OUT] } }),
  });
  assert.equal(res.status, 201, await res.text());
  config = await client.discovery(new URL(`${worker.url}/${T}/v2.0`), APP_ID, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  await signUp();
});
after(async () => { await worker?.stop(); });

async function read(res) {
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.equal(res.headers.get("location"), null, "a page never redirects");
  const html = await res.text();
  assert.ok(!/<script/i.test(html), "the pages run no script");
  const doc = new JSDOM(html).window.document;
  return { status: res.status, doc, html, h1: doc.querySelector("h1")?.textContent, alert: doc.querySelector('[role="alert"]')?.textContent };
}

const submit = (page, fields, cookie) => submitForm(worker.url, page, fields, cookie ? { cookie } : {});


async function authorization() {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK, scope: SCOPE, nonce, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  return { url, verifier, nonce, state };
}

const get = (url, cookie) => fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });

/** The session cookie a sign-in set (`name=value`). */
function cookieOf(res) {
  const c = res.headers.get("set-cookie");
  assert.match(c ?? "", /^vestibule_session=vct_[A-Za-z0-9_-]{43}; Path=\/logout\/; HttpOnly; SameSite=Lax$/);
  return c.split(";")[0];
}

async function tokensFrom(a, res) {
  assert.equal(res.status, 303, `expected a redirect back to the app, got ${res.status}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(res.headers.get("location")), {
    pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true,
  });
  seen.push(tokens.access_token, tokens.refresh_token, tokens.id_token);
  return tokens;
}

async function signUp() {
  const a = await authorization();
  let page = await read(await get(a.url));
  page = await read(await submit(page, { action: "switch" }));
  assert.equal(page.h1, "Create an account", page.html);
  page = await read(await submit(page, { action: "email", email: USER }));
  assert.equal(page.h1, "Enter the code", page.html);
  const code = await latestCode(worker, USER);
  seen.push(code);
  page = await read(await submit(page, { action: "code", code }));
  assert.equal(page.h1, "Choose a password", page.html);
  let res = await submit(page, { action: "password", password: PASSWORD });
  if (res.status === 200) {
    page = await read(res);
    assert.equal(page.h1, "About you", page.html);
    res = await submit(page, { action: "attributes", "attr.displayName": "Logout User" });
  }
  await tokensFrom(a, res);
}

/** A fresh password sign-in: the tokens and the browser's session cookie. */
async function signIn() {
  const a = await authorization();
  let page = await read(await get(a.url));
  assert.equal(page.h1, "Sign in", page.html);
  page = await read(await submit(page, { action: "email", email: USER }));
  assert.equal(page.h1, "Enter your password", page.html);
  const res = await submit(page, { action: "password", password: PASSWORD });
  const cookie = cookieOf(res);
  const tokens = await tokensFrom(a, res);
  // The cookie works: the next authorization resumes the session without a page.
  const b = await authorization();
  const resumed = await get(b.url, cookie);
  assert.equal(resumed.status, 303, "the session is resumed before the logout");
  const next = cookieOf(resumed);
  await tokensFrom(b, resumed);
  return { tokens, cookie: next };
}

/** The logout answer's cookie is the session cookie, deleted with the attributes it was set with. */
function assertCleared(res) {
  assert.equal(res.headers.get("set-cookie"), "vestibule_session=; Path=/logout/; HttpOnly; SameSite=Lax; Max-Age=0");
}

/** An authorization request with `cookie` shows the sign-in page again. */
async function assertSignedOut(cookie) {
  const page = await read(await get((await authorization()).url, cookie));
  assert.equal(page.status, 200);
  assert.equal(page.h1, "Sign in", "the old session cookie no longer signs in");
}

test("discovery advertises the end-session endpoint at Entra's path", () => {
  assert.equal(config.serverMetadata().end_session_endpoint, `${worker.url}/${T}/oauth2/v2.0/logout`);
});

test("logout with a registered post_logout_redirect_uri: 302 there with state, session and refresh family ended", async () => {
  const { tokens, cookie } = await signIn();
  const state = client.randomState();
  const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: SIGNED_OUT, state });
  assert.equal(url.searchParams.get("client_id"), APP_ID);
  const res = await get(url, cookie);
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get("location"));
  assert.equal(`${location.origin}${location.pathname}`, SIGNED_OUT);
  assert.equal(location.searchParams.get("state"), state);
  assertCleared(res);
  await assertSignedOut(cookie);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === "invalid_grant", "the hinted family's refresh token is revoked");
});

test("logout by POST form with only client_id redirects too", async () => {
  const { cookie } = await signIn();
  const res = await fetch(`${worker.url}/${T}/oauth2/v2.0/logout`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({ client_id: APP_ID, post_logout_redirect_uri: SIGNED_OUT, state: "s&1" }),
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), `${SIGNED_OUT}?state=s%261`);
  assertCleared(res);
  await assertSignedOut(cookie);
});

test("an unregistered or inexact post_logout_redirect_uri never redirects: the signed-out page says why", async () => {
  for (const uri of ["https://evil.example/signed-out", `${SIGNED_OUT}/`, "http://127.0.0.1:10/signed-out"]) {
    const { tokens, cookie } = await signIn();
    const res = await get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: uri, state: "st" }), cookie);
    const page = await read(res);
    assert.equal(page.status, 200);
    assert.equal(page.h1, "You are signed out");
    assert.match(page.alert, /is not a registered address of Logout Shop/);
    assert.ok(page.alert.includes(uri), page.alert);
    assertCleared(res);
    await assertSignedOut(cookie);
  }
});

test("a forged id_token_hint never redirects, and the browser is still signed out", async () => {
  const { tokens, cookie } = await signIn();
  const [h, p] = tokens.id_token.split(".");
  const decode = (part) => JSON.parse(Buffer.from(part, "base64url"));
  const forged = signJwt(decode(h), decode(p), randomBytes(32).toString("base64url"));
  const res = await get(client.buildEndSessionUrl(config, { id_token_hint: forged, post_logout_redirect_uri: SIGNED_OUT, state: "st" }), cookie);
  const page = await read(res);
  assert.equal(page.status, 200);
  assert.match(page.alert, /could not be verified/);
  assertCleared(res);
  await assertSignedOut(cookie);
  // The forged hint revoked nothing.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  seen.push(refreshed.access_token, refreshed.refresh_token, refreshed.id_token);
});

test("an expired but genuine id_token_hint is accepted (RP-Initiated Logout §2)", async () => {
  const { tokens, cookie } = await signIn();
  const [h, p] = tokens.id_token.split(".");
  const decode = (part) => JSON.parse(Buffer.from(part, "base64url"));
  const now = Math.floor(Date.now() / 1000);
  const [key] = JSON.parse(vars.SIGNING_KEYS);
  const expired = signJwt(decode(h), { ...decode(p), iat: now - 7200, nbf: now - 7200, auth_time: now - 7200, exp: now - 3600 }, key.seed);
  seen.push(expired);
  const res = await get(client.buildEndSessionUrl(config, { id_token_hint: expired, post_logout_redirect_uri: SIGNED_OUT }), cookie);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), SIGNED_OUT, "no state sent, none appended");
  assertCleared(res);
  await assertSignedOut(cookie);
});

test("a hint for another client than client_id, or an access token as hint, never redirects", async () => {
  const { tokens, cookie } = await signIn();
  let res = await get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, client_id: "vestibule-demo-app", post_logout_redirect_uri: "http://127.0.0.1:9/cb" }), cookie);
  let page = await read(res);
  assert.match(page.alert, /could not be verified/);
  assertCleared(res);
  res = await get(client.buildEndSessionUrl(config, { id_token_hint: tokens.access_token, post_logout_redirect_uri: SIGNED_OUT }));
  page = await read(res);
  assert.match(page.alert, /could not be verified/);
});

test("without parameters or a cookie: the plain signed-out page; wrong method: 405", async () => {
  const res = await get(`${worker.url}/${T}/oauth2/v2.0/logout`);
  const page = await read(res);
  assert.equal(page.status, 200);
  assert.equal(page.h1, "You are signed out");
  assert.equal(page.alert, undefined, "no notice when nothing was refused");
  assert.equal(page.doc.documentElement.lang, "en");
  assertCleared(res);
  const dup = await read(await get(`${worker.url}/${T}/oauth2/v2.0/logout?state=a&state=b`));
  assert.equal(dup.status, 400);
  assert.match(dup.alert, /`state` appears more than once/);
  assert.equal((await fetch(`${worker.url}/${T}/oauth2/v2.0/logout`, { method: "DELETE" })).status, 405);
});

test("no secret or personal value reaches the log", () => {
  assertLogClean(worker.output(), seen);
});
