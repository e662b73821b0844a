// OpenID Connect against the Worker in workerd: a certified relying-party library
// (openid-client 6, unmodified) drives discovery, the PKCE S256 authorization URL, the
// code exchange, userinfo and refresh; the test acts as a browser without JavaScript in
// between (plain GET and form POSTs of the hosted pages, parsed with jsdom), and reads
// the email and SMS codes from the dev outbox. Every token is verified with jose against
// the published JWKS.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { JSDOM } from "jsdom";
import { chromium } from "playwright-core";
import * as client from "openid-client";
import { authorizationRequest } from "../support/oidc_client.mjs";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { DESKTOP, shots } from "../support/browser.mjs";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, TYPES, assertLogClean, latestCode, nativeVars, post } from "../support/native.mjs";
import { bindingCookie, submitForm } from "../support/hosted.mjs";

const T = "oidc";
const PASSWORD = "Correct-Horse-Battery-9";
const REDIRECT = "http://127.0.0.1:9/callback";
const SCOPE = "openid profile email offline_access";
const USER = "oidc.user@example.com";
const PHONE = "+15557650101";
const seen = [PASSWORD, USER, PHONE];

const seed = () => randomBytes(32).toString("base64url");
let worker, issuer, config, jwks;
before(async () => {
  // Two keys, as during a rotation: the first signs, both are published.
  const vars = { ...nativeVars(), SIGNING_KEYS: JSON.stringify([{ kid: "new-2026", seed: seed() }, { kid: "old-2025", seed: seed() }]) };
  worker = await startWorker({ vars });
  issuer = `${worker.url}/${T}/v2.0`;
  config = await discover(APP);
  jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
});
after(async () => { await worker?.stop(); });

const discover = (clientId, tenant = T) =>
  client.discovery(new URL(`${worker.url}/${tenant}/v2.0`), clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });

/** A fresh authorization request: the URL openid-client builds, and its secrets. */
const authorization = (cfg, extra = {}) => authorizationRequest(cfg, { redirect_uri: REDIRECT, scope: SCOPE, ...extra });

/** A hosted page: status, document, and the form's fields. */
async function read(res) {
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  const html = await res.text();
  assert.ok(!/<script/i.test(html), "the pages run no script");
  const doc = new JSDOM(html).window.document;
  return { status: res.status, doc, html, h1: doc.querySelector("h1")?.textContent, binding: bindingCookie(res) };
}

const submit = (page, fields) => submitForm(worker.url, page, fields);


/** Posts `fields` and expects the next page. */
async function next(page, fields, h1) {
  const res = await submit(page, fields);
  const p = await read(res);
  if (h1) assert.equal(p.h1, h1, p.html);
  return p;
}

/** The redirect back to the client. */
function back(res) {
  assert.equal(res.status, 303, `expected a redirect back to the app, got ${res.status}`);
  return new URL(res.headers.get("location"));
}

/** Opens the first page of an authorization request. */
async function open(url) {
  const page = await read(await fetch(url, { redirect: "manual" }));
  assert.equal(page.status, 200, page.html);
  return page;
}

/** Signs `email` up through the hosted pages; returns the redirect back. */
async function signUp(url, email) {
  let page = await open(url);
  page = await next(page, { action: "switch" }, "Create an account");
  page = await next(page, { action: "email", email }, "Enter the code");
  const code = await latestCode(worker, email);
  seen.push(code);
  let res = await submit(page, { action: "code", code });
  page = await read(res);
  assert.equal(page.h1, "Choose a password", page.html);
  res = await submit(page, { action: "password", password: PASSWORD });
  if (res.status === 200) {
    page = await read(res);
    assert.equal(page.h1, "About you", page.html);
    res = await submit(page, { action: "attributes", "attr.displayName": "Oidc User" });
  }
  return back(res);
}

/** Signs `email` in with the password; returns the page or redirect after it. */
async function signIn(url, email) {
  let page = await open(url);
  assert.equal(page.h1, "Sign in");
  page = await next(page, { action: "email", email }, "Enter your password");
  return submit(page, { action: "password", password: PASSWORD });
}

async function verified(token, audience = APP) {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ["EdDSA"] });
  assert.equal(protectedHeader.alg, "EdDSA");
  assert.equal(protectedHeader.kid, "new-2026", "the first key of the ring signs");
  return payload;
}

async function exchange(cfg, a, callback) {
  return client.authorizationCodeGrant(cfg, callback, { pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true });
}

async function oauthError(promise, error) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.error, error, `${e.name}: ${e.message} ${JSON.stringify(e.cause ?? {})}`);
    return true;
  });
}

test("discovery and JWKS at Entra's paths: every key of the ring, issuer as in the tokens", async () => {
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, issuer);
  assert.equal(meta.authorization_endpoint, `${worker.url}/${T}/oauth2/v2.0/authorize`);
  assert.equal(meta.token_endpoint, `${worker.url}/${T}/oauth2/v2.0/token`);
  assert.equal(meta.jwks_uri, `${worker.url}/${T}/discovery/v2.0/keys`);
  assert.equal(meta.userinfo_endpoint, `${worker.url}/${T}/oidc/userinfo`);
  assert.deepEqual(meta.code_challenge_methods_supported, ["S256"]);
  assert.deepEqual(meta.id_token_signing_alg_values_supported, ["EdDSA"]);
  assert.deepEqual(meta.acr_values_supported, ["1", "2"]);
  const keys = await (await fetch(meta.jwks_uri)).json();
  assert.deepEqual(keys.keys.map((k) => k.kid), ["new-2026", "old-2025"]);
  for (const k of keys.keys) {
    assert.equal(k.kty, "OKP");
    assert.equal(k.crv, "Ed25519");
    assert.equal(k.d, undefined, "no private part is published");
  }
});

test("sign-up, sign-in, code exchange, userinfo and refresh with rotation", async () => {
  const first = await authorization(config);
  const cb = await signUp(first.url, USER);
  assert.equal(cb.origin + cb.pathname, REDIRECT);
  assert.equal(cb.searchParams.get("state"), first.state);
  assert.equal(cb.searchParams.get("iss"), issuer);
  const signedUp = await exchange(config, first, cb);
  seen.push(signedUp.access_token, signedUp.refresh_token, signedUp.id_token);
  await verified(signedUp.id_token);

  // Sign in with the password only.
  const a = await authorization(config);
  const tokens = await exchange(config, a, back(await signIn(a.url, USER)));
  seen.push(tokens.access_token, tokens.refresh_token);
  const id = await verified(tokens.id_token);
  assert.equal(id.nonce, a.nonce);
  assert.deepEqual(id.amr, ["pwd"]);
  assert.equal(id.acr, "1");
  assert.equal(typeof id.auth_time, "number");
  assert.ok(id.auth_time <= id.iat && id.iat - id.auth_time < 120);
  assert.equal(id.email, USER);
  assert.equal(typeof id.sid, "string");
  const at = await verified(tokens.access_token);
  assert.deepEqual(at.amr, ["pwd"]);
  assert.equal(at.scp, SCOPE);
  assert.equal(at.sid, id.sid);
  assert.deepEqual(tokens.claims().sub, id.sub);

  const info = await client.fetchUserInfo(config, tokens.access_token, id.sub);
  assert.equal(info.email, USER);
  assert.equal(info.preferred_username, USER);
  assert.equal(info.email_verified, true);
  // An ID token is not a bearer token.
  const idAsBearer = await fetch(config.serverMetadata().userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.id_token}` } });
  assert.equal(idAsBearer.status, 401);

  // Refresh rotates; the refreshed tokens keep the authentication.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  seen.push(refreshed.access_token, refreshed.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  const rid = await verified(refreshed.id_token);
  assert.equal(rid.auth_time, id.auth_time);
  assert.deepEqual(rid.amr, ["pwd"]);
  assert.equal(rid.sid, id.sid);
  assert.equal((await client.fetchUserInfo(config, refreshed.access_token, id.sub)).sub, id.sub);

  // The rotated token comes back: refused, and the whole family is revoked.
  await oauthError(client.refreshTokenGrant(config, tokens.refresh_token), "invalid_grant");
  await oauthError(client.refreshTokenGrant(config, refreshed.refresh_token), "invalid_grant");
  const revoked = await fetch(config.serverMetadata().userinfo_endpoint, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
  assert.equal(revoked.status, 401);
  assert.match(revoked.headers.get("www-authenticate"), /error="invalid_token"/);
});

test("hosted pages are accessible forms and say what went wrong on the page", async () => {
  const a = await authorization(config);
  let page = await open(a.url);
  assert.equal(page.doc.documentElement.lang, "en");
  assert.equal(page.doc.querySelectorAll("main h1").length, 1);
  const email = page.doc.querySelector("#email");
  assert.equal(email.getAttribute("autocomplete"), "username");
  assert.ok(page.doc.querySelector('label[for="email"]'));
  page = await next(page, { action: "email", email: "nobody@example.com" }, "Sign in");
  assert.equal(page.status, 400);
  assert.match(page.doc.querySelector('[role="alert"]').textContent, /could not find an account/);
  assert.equal(page.doc.querySelector("#email").getAttribute("aria-describedby"), "error");
  page = await next(page, { action: "email", email: USER }, "Enter your password");
  assert.equal(page.doc.querySelector("#password").getAttribute("autocomplete"), "current-password");
  page = await next(page, { action: "password", password: "wrong-password-1" }, "Enter your password");
  assert.equal(page.doc.querySelector('[role="alert"]').textContent, "that password is not correct");
  assert.equal(page.doc.querySelector("#password").getAttribute("aria-invalid"), "true");
  for (const input of page.doc.querySelectorAll("input:not([type=hidden])")) {
    assert.ok(page.doc.querySelector(`label[for="${input.id}"]`), `a label for ${input.id}`);
  }
  // Cancel goes back to the client with access_denied.
  const b = await authorization(config);
  const cancelled = back(await submit(await open(b.url), { action: "cancel" }));
  assert.equal(cancelled.searchParams.get("error"), "access_denied");
  assert.equal(cancelled.searchParams.get("state"), b.state);
});

test("a replayed page runs nothing; a replayed code or verifier is refused", async () => {
  const a = await authorization(config);
  let page = await open(a.url);
  const first = await next(page, { action: "email", email: USER }, "Enter your password");
  // The same form again (a double click, tests/e2e/hosted_double_submit.test.mjs): the
  // answer the first post gave, under the same next handle; the step does not run again.
  const replay = await read(await submit(page, { action: "email", email: USER }));
  assert.equal(replay.status, 200, replay.html);
  assert.equal(replay.h1, "Enter your password");
  const handle = (p) => p.doc.querySelector("input[name=interaction]").value;
  assert.equal(handle(replay), handle(first));
  const cb = back(await submit(first, { action: "password", password: PASSWORD }));
  // Wrong verifier: invalid_grant (the code stays usable by its owner).
  await oauthError(client.authorizationCodeGrant(config, cb, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedNonce: a.nonce, expectedState: a.state }), "invalid_grant");
  const tokens = await exchange(config, a, cb);
  seen.push(tokens.access_token, tokens.refresh_token);
  // Reused code: refused, and the tokens it gave are revoked.
  await oauthError(exchange(config, a, cb), "invalid_grant");
  const info = await fetch(config.serverMetadata().userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 401);
  await oauthError(client.refreshTokenGrant(config, tokens.refresh_token), "invalid_grant");
});

test("authorization errors: no redirect to an unregistered uri or for an unknown client", async () => {
  const evil = await authorization(config, { redirect_uri: "https://evil.example.com/cb" });
  let res = await fetch(evil.url, { redirect: "manual" });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("location"), null);
  assert.match((await read(res)).html, /not registered/);
  const unknown = new URL(evil.url);
  unknown.searchParams.set("client_id", "no-such-app");
  unknown.searchParams.set("redirect_uri", REDIRECT);
  res = await fetch(unknown, { redirect: "manual" });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("location"), null);
  // Other errors go back to the registered redirect uri with state (RFC 6749 4.1.2.1).
  const a = await authorization(config);
  for (const [change, error] of [
    [(u) => u.searchParams.delete("code_challenge"), "invalid_request"],
    [(u) => { u.searchParams.set("code_challenge", u.searchParams.get("state").padEnd(43, "x").slice(0, 43)); u.searchParams.set("code_challenge_method", "plain"); }, "invalid_request"],
    [(u) => u.searchParams.set("response_type", "token"), "unsupported_response_type"],
    [(u) => u.searchParams.set("scope", "profile"), "invalid_scope"],
    [(u) => u.searchParams.set("prompt", "none"), "login_required"],
  ]) {
    const u = new URL(a.url);
    change(u);
    const cb = back(await fetch(u, { redirect: "manual" }));
    assert.equal(cb.origin + cb.pathname, REDIRECT);
    assert.equal(cb.searchParams.get("error"), error, u.search);
    assert.equal(cb.searchParams.get("state"), a.state);
    assert.equal(cb.searchParams.get("iss"), issuer);
  }
  // The token endpoint refuses an unknown client and a malformed code.
  const form = (p) => fetch(config.serverMetadata().token_endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(p) });
  res = await form({ grant_type: "authorization_code", client_id: "no-such-app", code: "vac_x", redirect_uri: REDIRECT, code_verifier: "a".repeat(43) });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, "invalid_client");
  res = await form({ grant_type: "authorization_code", client_id: APP, code: "vac_x", redirect_uri: REDIRECT, code_verifier: "a".repeat(43) });
  assert.equal((await res.json()).error, "invalid_grant");
});

test("step-up: acr_values=2 forces a second factor, and userinfo challenges a weaker token", async () => {
  const weak = await authorization(config);
  const weakTokens = await exchange(config, weak, back(await signIn(weak.url, USER)));
  seen.push(weakTokens.access_token);
  const userinfo = config.serverMetadata().userinfo_endpoint;
  let res = await fetch(`${userinfo}?acr_values=2`, { headers: { authorization: `Bearer ${weakTokens.access_token}` } });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, "insufficient_user_authentication");
  assert.match(res.headers.get("www-authenticate"), /error="insufficient_user_authentication".*acr_values="2"/);

  const a = await authorization(config, { acr_values: "2", max_age: "0", prompt: "login" });
  let page = await read(await signIn(a.url, USER));
  assert.equal(page.h1, "Add a second way to verify it is you", page.html);
  assert.equal(page.doc.querySelector("#phone").getAttribute("autocomplete"), "tel");
  page = await next(page, { action: "register", channel: "sms", phone: PHONE }, "Enter the code");
  assert.equal(page.doc.querySelector("#code").getAttribute("autocomplete"), "one-time-code");
  const code = await latestCode(worker, PHONE);
  seen.push(code);
  const tokens = await exchange(config, a, back(await submit(page, { action: "code", code })));
  seen.push(tokens.access_token, tokens.refresh_token);
  const id = await verified(tokens.id_token);
  assert.equal(id.acr, "2");
  assert.deepEqual(id.amr, ["pwd", "sms", "mfa"]);
  res = await fetch(`${userinfo}?acr_values=2`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(res.status, 200);

  // Next time the registered phone is offered straight away.
  const again = await authorization(config, { acr_values: "2" });
  page = await read(await signIn(again.url, USER));
  assert.equal(page.h1, "Enter the code", page.html);
  assert.match(page.html, /text message/);
});

test("an authentication context: acr_values=c1 meets its Conditional Access policy, and the tokens say so in acrs", async () => {
  const policies = `${worker.url}/${T}/v1.0/identity/conditionalAccess/policies`;
  const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  let res = await fetch(policies, {
    method: "POST", headers: admin,
    body: JSON.stringify({
      displayName: "Require MFA for high-value transfers", state: "enabled",
      conditions: { clientAppTypes: ["all"], users: { includeUsers: ["All"] },
        applications: { includeAuthenticationContextClassReferences: ["c1"] } },
      grantControls: { operator: "OR", builtInControls: ["mfa"] },
    }),
  });
  const created = await res.text();
  assert.equal(res.status, 201, created);
  const { id } = JSON.parse(created);
  try {
    // A customer of its own, with email as the second factor: the phone of USER has had
    // as many codes from this network as the SMS velocity allows for a while.
    const email = "context.user@example.com";
    seen.push(email);
    const plain = await authorization(config);
    // Without the context the policy does not apply: the password alone, and no `acrs`.
    const weak = await exchange(config, plain, await signUp(plain.url, email));
    seen.push(weak.access_token, weak.refresh_token);
    assert.equal((await verified(weak.id_token)).acrs, undefined);
    const userinfo = config.serverMetadata().userinfo_endpoint;
    res = await fetch(`${userinfo}?acr_values=c1`, { headers: { authorization: `Bearer ${weak.access_token}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate"), /error="insufficient_user_authentication".*acr_values="c1"/);

    // Asked for c1, the policy requires a second factor, registered there and then.
    const a = await authorization(config, { acr_values: "c1" });
    let page = await read(await signIn(a.url, email));
    assert.equal(page.h1, "Add a second way to verify it is you", page.html);
    page = await next(page, { action: "register", channel: "email", email }, "Enter the code");
    const code = await latestCode(worker, email);
    seen.push(code);
    const tokens = await exchange(config, a, back(await submit(page, { action: "code", code })));
    seen.push(tokens.access_token, tokens.refresh_token);
    const idToken = await verified(tokens.id_token);
    assert.deepEqual(idToken.acrs, ["c1"]);
    assert.deepEqual(idToken.amr, ["pwd", "otp", "mfa"]);
    assert.deepEqual((await verified(tokens.access_token)).acrs, ["c1"]);
    res = await fetch(`${userinfo}?acr_values=c1`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(res.status, 200, await res.text());
    // A refreshed token keeps what the sign-in proved.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    seen.push(refreshed.access_token, refreshed.refresh_token);
    assert.deepEqual((await verified(refreshed.access_token)).acrs, ["c1"]);
  } finally {
    res = await fetch(`${policies}/${id}`, { method: "DELETE", headers: admin });
    assert.equal(res.status, 204);
  }
});

test("single sign-on: the session cookie resumes; prompt=login and max_age sign in afresh; acr_values=2 steps up", async () => {
  const a = await authorization(config);
  let res = await signIn(a.url, USER);
  const cookieOf = (r) => {
    const c = r.headers.get("set-cookie");
    assert.match(c, /^vestibule_session=vct_[A-Za-z0-9_-]{43}; Path=\/oidc\/; HttpOnly; SameSite=Lax$/, "a session cookie (no Expires), not Secure over http");
    return c.split(";")[0];
  };
  let cookie = cookieOf(res);
  const id1 = await verified((await exchange(config, a, back(res))).id_token);
  const get = (url) => fetch(url, { redirect: "manual", headers: { cookie } });

  // The session is resumed without a page; the authentication is the same one.
  const b = await authorization(config);
  res = await get(b.url);
  const id2 = await verified((await exchange(config, b, back(res))).id_token);
  cookie = cookieOf(res);
  assert.equal(id2.auth_time, id1.auth_time);
  assert.deepEqual(id2.amr, ["pwd"]);
  assert.equal(id2.sub, id1.sub);
  assert.notEqual(id2.sid, id1.sid, "each authorization starts its own token family");
  const none = await authorization(config, { prompt: "none" });
  res = await get(none.url);
  assert.ok(back(res).searchParams.get("code"), "prompt=none resumes a session");
  cookie = cookieOf(res);

  // prompt=login and an exceeded max_age show the sign-in page again.
  assert.equal((await read(await get((await authorization(config, { prompt: "login" })).url))).h1, "Sign in");
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await read(await get((await authorization(config, { max_age: "0" })).url))).h1, "Sign in");
  const fresh = await authorization(config, { max_age: "3600" });
  res = await get(fresh.url);
  assert.equal(res.status, 303, "a recent enough session is resumed");
  cookie = cookieOf(res);

  // acr_values=2 asks only for the missing second factor (the phone registered earlier).
  const up = await authorization(config, { acr_values: "2" });
  const page = await read(await get(up.url));
  assert.equal(page.h1, "Enter the code", page.html);
  const code = await latestCode(worker, PHONE);
  seen.push(code);
  const form = page.doc.querySelector("form");
  res = await fetch(new URL(form.getAttribute("action"), worker.url), {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `${cookie}; ${page.binding}` },
    body: new URLSearchParams({ interaction: form.querySelector("[name=interaction]").value, action: "code", code }),
  });
  const id3 = await verified((await exchange(config, up, back(res))).id_token);
  assert.equal(id3.acr, "2");
  assert.deepEqual(id3.amr, ["pwd", "sms", "mfa"]);
  assert.ok(id3.auth_time > id1.auth_time);
});

test("app registrations: bad config refused and never stored, registered apps sign in", async () => {
  const base = `${worker.url}/${T}/v1.0/applications`;
  const call = (method, url, body, token = ADMIN) => fetch(url, {
    method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body && JSON.stringify(body),
  });
  assert.equal((await call("GET", base, undefined, "wrong")).status, 401);
  let res = await call("POST", base, { displayName: "Shop", appId: "shop-app", spa: { redirectUris: ["http://evil.example.com/cb", "javascript:alert(1)"] } });
  assert.equal(res.status, 400);
  const err = (await res.json()).error;
  assert.equal(err.code, "oidc.redirect_uri_invalid");
  assert.equal(err.target, "spa.redirectUris[0]");
  assert.equal(err.details.length, 2);
  assert.deepEqual((await (await call("GET", base)).json()).value, [], "nothing was stored");

  res = await call("POST", base, { displayName: "Shop", appId: "shop-app", spa: { redirectUris: ["http://127.0.0.1:9/shop"] }, publicClient: { redirectUris: ["com.example.shop:/auth"] } });
  assert.equal(res.status, 201);
  const app = await res.json();
  assert.equal(app.appId, "shop-app");
  assert.equal((await call("POST", base, { displayName: "Twin", appId: "shop-app" })).status, 400, "appId is unique");
  res = await call("PATCH", `${base}/${app.id}`, { web: { redirectUris: ["https://shop.example.com/cb#frag"] } });
  assert.equal(res.status, 400);
  assert.deepEqual((await (await call("GET", `${base}/${app.id}`)).json()).web, undefined, "a refused patch stores nothing");
  const generated = await (await call("POST", `${worker.url}/v1.0/applications`, { displayName: "Default tenant app" })).json();
  assert.match(generated.appId, /^[0-9a-f-]{36}$/);

  // The registered app signs in through the same pages, with its own redirect uri only.
  const shop = await discover("shop-app");
  const bad = await authorization(shop);
  res = await fetch(bad.url, { redirect: "manual" });
  assert.equal(res.status, 400, "the demo app's loopback rule does not apply to a registration");
  const a = await authorization(shop, { redirect_uri: "http://127.0.0.1:9/shop" });
  const tokens = await exchange(shop, a, back(await signIn(a.url, USER)));
  seen.push(tokens.access_token, tokens.refresh_token);
  const id = await verified(tokens.id_token, "shop-app");
  assert.equal(id.aud, "shop-app");
  // A code for one client cannot be redeemed by another.
  const b = await authorization(shop, { redirect_uri: "http://127.0.0.1:9/shop" });
  const cb = back(await signIn(b.url, USER));
  await oauthError(client.authorizationCodeGrant(config, cb, { pkceCodeVerifier: b.verifier, expectedNonce: b.nonce, expectedState: b.state }), "invalid_grant");
  const refreshed = await client.refreshTokenGrant(shop, tokens.refresh_token);
  assert.equal((await verified(refreshed.id_token, "shop-app")).sub, id.sub);
  assert.equal((await call("DELETE", `${base}/${app.id}`)).status, 204);
  res = await fetch((await authorization(shop, { redirect_uri: "http://127.0.0.1:9/shop" })).url, { redirect: "manual" });
  assert.equal(res.status, 400, "a deleted app is unknown");
});

test("native auth shares the refresh code: a reused rotated refresh token revokes its family", async () => {
  let r = await post(worker, T, "oauth2/v2.0/initiate", { username: USER, challenge_type: TYPES, capabilities: CAPS });
  r = await post(worker, T, "oauth2/v2.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  r = await post(worker, T, "oauth2/v2.0/token", { continuation_token: r.body.continuation_token, grant_type: "password", password: PASSWORD, scope: "openid offline_access" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const first = r.body.refresh_token;
  const sid = (await verified(r.body.id_token)).sid;
  r = await post(worker, T, "oauth2/v2.0/token", { grant_type: "refresh_token", refresh_token: first, scope: "openid offline_access" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const second = r.body.refresh_token;
  assert.equal((await verified(r.body.id_token)).sid, sid);
  seen.push(first, second);
  r = await post(worker, T, "oauth2/v2.0/token", { grant_type: "refresh_token", refresh_token: first, scope: "openid offline_access" });
  assert.equal(r.body.error, "invalid_grant");
  r = await post(worker, T, "oauth2/v2.0/token", { grant_type: "refresh_token", refresh_token: second, scope: "openid offline_access" });
  assert.equal(r.body.error, "invalid_grant", "the family was revoked");
});

test("forgot password: a code by email, a new password, then signed in", async () => {
  const email = "reset.user@example.com";
  const NEW_PASSWORD = "Brand-New-Passphrase-7";
  seen.push(email, NEW_PASSWORD);
  const a = await authorization(config);
  await exchange(config, a, await signUp(a.url, email));
  const b = await authorization(config);
  let page = await open(b.url);
  assert.ok(page.doc.querySelector('button[value="reset"]'), "the sign-in page offers a reset");
  page = await next(page, { action: "reset", email }, "Enter the code");
  const code = await latestCode(worker, email);
  seen.push(code);
  page = await next(page, { action: "code", code }, "Choose a new password");
  assert.equal(page.doc.querySelector("#password").getAttribute("autocomplete"), "new-password");
  const weak = await next(page, { action: "password", password: "short" }, "Choose a new password");
  assert.match(weak.doc.querySelector('[role="alert"]').textContent, /choose another password/);
  const tokens = await exchange(config, b, back(await submit(weak, { action: "password", password: NEW_PASSWORD })));
  seen.push(tokens.access_token, tokens.refresh_token);
  assert.ok((await verified(tokens.id_token)).amr.includes("otp"), "the reset code counts as a method");
  // The new password works on the sign-in page.
  const c = await authorization(config);
  page = await next(await open(c.url), { action: "email", email }, "Enter your password");
  await exchange(config, c, back(await submit(page, { action: "password", password: NEW_PASSWORD })));
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
test("headless Chromium with JavaScript off, in a fresh (private) context, signs in on the hosted pages", { skip: !existsSync(CHROMIUM) && "no Chromium" }, async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  try {
    // A new context keeps no storage between runs, like a private window; no script runs.
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
    await context.route("http://127.0.0.1:9/**", (route) => route.fulfill({ status: 200, contentType: "text/plain", body: "app callback" }));
    const page = await context.newPage();
    const a = await authorization(config);
    await page.goto(a.url.href);
    assert.equal(await page.title(), "Sign in");
    await page.getByLabel("Email address").fill(USER);
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("Password").fill("not-the-password-0");
    await page.getByRole("button", { name: "Sign in" }).click();
    assert.equal(await page.getByRole("alert").innerText(), "that password is not correct");
    assert.equal(await page.getByLabel("Password").getAttribute("aria-describedby"), "error");
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "oidc-password-error.png"), fullPage: true });
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:9\/callback\?/);
    const cookies = await context.cookies(`${worker.url}/${T}/`);
    assert.deepEqual(cookies.map((c) => c.name).sort(), ["vestibule_bind", "vestibule_session"]);
    for (const c of cookies) {
      assert.equal(c.httpOnly, true, c.name);
      assert.equal(c.sameSite, "Lax", c.name);
    }
    assert.equal(cookies.find((c) => c.name === "vestibule_session").expires, -1, "a session cookie");
    assert.ok(cookies.find((c) => c.name === "vestibule_bind").expires > Date.now() / 1000, "the binding cookie is short-lived");
    const tokens = await exchange(config, a, new URL(page.url()));
    seen.push(tokens.access_token, tokens.refresh_token);
    assert.deepEqual((await verified(tokens.id_token)).amr, ["pwd"]);
    await context.close();
  } finally {
    await browser.close();
  }
});

test("no secret or personal value reaches the log", () => {
  assertLogClean(worker.output(), seen);
});
