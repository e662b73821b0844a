// OpenID Connect RP-Initiated Logout 1.0 against the Worker in workerd: openid-client 6
// discovers `end_session_endpoint` and builds the logout URL (`buildEndSessionUrl`); the
// test is a browser without JavaScript that signs in on the hosted pages, keeps the
// single sign-on cookie, and logs out. Checked: with a valid id_token_hint the redirect
// goes only to a registered `post_logout_redirect_uri` (with `state`), the cookie is
// cleared and the KV session is gone (the next authorization asks for credentials), the
// hinted family's refresh token is revoked, and unregistered URIs or forged hints never
// redirect. Without a valid hint the session survives until the person confirms on the
// confirmation page (§2), whose form token is bound to the session: a cross-site link,
// a forged, missing or foreign token, or "Stay signed in" end nothing.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import * as client from "openid-client";
import { authorizationRequest } from "../support/oidc_client.mjs";
import { signJwt } from "../support/corpus_oidc.mjs";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, assertLogClean, latestCode, nativeVars } from "../support/native.mjs";
import { bindingCookie, submitForm } from "../support/hosted.mjs";

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
  assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal(res.headers.get("location"), null, "a page never redirects");
  const html = await res.text();
  assert.ok(!/<script/i.test(html), "the pages run no script");
  const doc = new JSDOM(html).window.document;
  return { status: res.status, doc, html, h1: doc.querySelector("h1")?.textContent, alert: doc.querySelector('[role="alert"]')?.textContent, binding: bindingCookie(res) };
}

const submit = (page, fields, cookie) => submitForm(worker.url, page, fields, cookie ? { cookie } : {});


const authorization = () => authorizationRequest(config, { redirect_uri: CALLBACK, scope: SCOPE });

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

/** The confirmation page: asks, keeps the session (no cookie change), and has the form. */
async function assertConfirm(res, { app = "Logout Shop", status = 200 } = {}) {
  assert.equal(res.headers.get("set-cookie"), null, "asking changes no cookie");
  const page = await read(res);
  assert.equal(page.status, status, page.html);
  assert.equal(page.h1, app ? `Sign out of ${app}?` : "Sign out?");
  const form = page.doc.querySelector("form");
  assert.equal(form.getAttribute("method"), "post");
  assert.equal(form.getAttribute("action"), `/${T}/oauth2/v2.0/logout`);
  const buttons = [...form.querySelectorAll("button")].map((b) => [b.value, b.textContent]);
  assert.deepEqual(buttons, [["sign_out", "Sign out"], ["stay", "Stay signed in"]]);
  const field = (name) => form.querySelector(`input[name="${name}"]`)?.value;
  assert.match(field("csrf") ?? "", /^\d+\.[A-Za-z0-9_-]{43}$/);
  seen.push(field("csrf"));
  return { ...page, field };
}

/** The session still signs in silently: `prompt=none` returns a code. Returns the rotated cookie. */
async function assertAlive(cookie) {
  const a = await authorization();
  a.url.searchParams.set("prompt", "none");
  const res = await get(a.url, cookie);
  assert.equal(res.status, 303, "the session is still alive");
  assert.ok(new URL(res.headers.get("location")).searchParams.get("code"), "prompt=none resumed the session");
  const next = cookieOf(res);
  await tokensFrom(a, res);
  return next;
}

/** The session is gone: `prompt=none` answers `login_required`. */
async function assertLoginRequired(cookie) {
  const a = await authorization();
  a.url.searchParams.set("prompt", "none");
  const res = await get(a.url, cookie);
  assert.equal(res.status, 303);
  const back = new URL(res.headers.get("location"));
  assert.equal(back.searchParams.get("error"), "login_required");
  assert.equal(back.searchParams.get("state"), a.state);
}

const LOGOUT = () => `${worker.url}/${T}/oauth2/v2.0/logout`;
const postForm = (fields, headers = {}) => fetch(LOGOUT(), {
  method: "POST", redirect: "manual",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(fields),
});

test("without a hint the session is kept until the person confirms; then 303 to the registered uri with state", async () => {
  const { cookie } = await signIn();
  const url = client.buildEndSessionUrl(config, { post_logout_redirect_uri: SIGNED_OUT, state: "s&1" });
  const page = await assertConfirm(await get(url, cookie));
  assert.equal(page.field("client_id"), APP_ID);
  assert.equal(page.field("post_logout_redirect_uri"), SIGNED_OUT);
  assert.equal(page.field("state"), "s&1");
  assert.equal(page.doc.querySelector("#return"), null, "the return address was accepted");
  const res = await submit(page, { action: "sign_out" }, cookie);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), `${SIGNED_OUT}?state=s%261`);
  assertCleared(res);
  await assertLoginRequired(cookie);
  await assertSignedOut(cookie);
});

test("an RP's form post without a hint asks too; confirming without a return address shows the signed-out page", async () => {
  const { cookie } = await signIn();
  const page = await assertConfirm(await postForm({ client_id: APP_ID }, { cookie }));
  assert.equal(page.field("post_logout_redirect_uri"), undefined);
  const res = await submit(page, { action: "sign_out" }, cookie);
  const done = await read(res);
  assert.equal(done.h1, "You are signed out");
  assertCleared(res);
  await assertLoginRequired(cookie);
});

test("a cross-site GET without a hint leaves the session alive", async () => {
  let { cookie } = await signIn();
  const res = await get(`${LOGOUT()}?post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`, cookie);
  const page = await assertConfirm(res, { app: null });
  assert.match(page.doc.querySelector("#return").textContent, /did not identify itself/);
  assert.equal(page.field("post_logout_redirect_uri"), undefined, "an unaccepted return address is dropped");
  cookie = await assertAlive(cookie);
  // An unregistered return address for a known app: the page says it was not accepted.
  const other = await assertConfirm(await get(client.buildEndSessionUrl(config, { post_logout_redirect_uri: "https://evil.example/bye" }), cookie));
  assert.match(other.doc.querySelector("#return").textContent, /`https:\/\/evil\.example\/bye` is not registered for Logout Shop/);
  assert.equal(other.field("post_logout_redirect_uri"), undefined);
  await assertAlive(cookie);
});

test("a forged, missing or another session's CSRF token does not sign out; the page asks again", async () => {
  let { cookie } = await signIn();
  const page = await assertConfirm(await get(client.buildEndSessionUrl(config, { post_logout_redirect_uri: SIGNED_OUT, state: "st" }), cookie));
  const token = page.field("csrf");
  const [exp, mac] = token.split(".");
  const forged = [
    `${exp}.${randomBytes(32).toString("base64url")}`,
    `${Number(exp) + 60}.${mac}`,
    `${exp}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`,
    "garbage",
  ];
  for (const csrf of forged) {
    const again = await assertConfirm(await submit(page, { action: "sign_out", csrf }, cookie), { status: 400 });
    assert.match(again.alert, /has expired or did not come from this site/);
    assert.equal(again.field("post_logout_redirect_uri"), SIGNED_OUT, "the page keeps the accepted return address");
  }
  const missing = new URLSearchParams({ action: "sign_out", client_id: APP_ID });
  await assertConfirm(await postForm(missing, { cookie }), { status: 400 });
  // Without the cookie (a cross-site post does not carry a SameSite=Lax cookie) there is
  // no session to end: the answer is the one for a browser without a session (the
  // registered return address), and the session lives on.
  const noCookie = await submit(page, { action: "sign_out" });
  assert.equal(noCookie.status, 303);
  assert.equal(noCookie.headers.get("location"), `${SIGNED_OUT}?state=st`);
  // A token issued to another session of the same browser profile does not work either.
  cookie = await assertAlive(cookie);
  const stale = await assertConfirm(await submit(page, { action: "sign_out" }, cookie), { status: 400 });
  assert.match(stale.alert, /did not come from this site/);
  // The content type is checked like every hosted form: no sign-out, the generic question.
  const body = new URLSearchParams({ action: "sign_out", csrf: stale.field("csrf"), client_id: APP_ID });
  const plain = await assertConfirm(await fetch(LOGOUT(), { method: "POST", redirect: "manual", headers: { "content-type": "text/plain", cookie }, body: body.toString() }), { app: null, status: 400 });
  assert.match(plain.alert, /could not be read/);
  cookie = await assertAlive(cookie);
  // The genuine token of the current session signs out.
  const fresh = await assertConfirm(await get(client.buildEndSessionUrl(config, {}), cookie));
  const res = await submit(fresh, { action: "sign_out" }, cookie);
  assertCleared(res);
  await assertLoginRequired(cookie);
});

test("Stay signed in keeps the session", async () => {
  let { cookie } = await signIn();
  const page = await assertConfirm(await get(client.buildEndSessionUrl(config, { post_logout_redirect_uri: SIGNED_OUT }), cookie));
  const res = await submit(page, { action: "stay" }, cookie);
  assert.equal(res.headers.get("set-cookie"), null);
  const stayed = await read(res);
  assert.equal(stayed.h1, "You are still signed in");
  cookie = await assertAlive(cookie);
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

test("a forged id_token_hint is not trusted: the person is asked, and confirming revokes nothing", async () => {
  const { tokens, cookie } = await signIn();
  const [h, p] = tokens.id_token.split(".");
  const decode = (part) => JSON.parse(Buffer.from(part, "base64url"));
  const forged = signJwt(decode(h), decode(p), randomBytes(32).toString("base64url"));
  const page = await assertConfirm(await get(client.buildEndSessionUrl(config, { id_token_hint: forged, post_logout_redirect_uri: SIGNED_OUT, state: "st" }), cookie));
  assert.equal(page.field("id_token_hint"), undefined, "the hint is not carried");
  const res = await submit(page, { action: "sign_out" }, cookie);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), `${SIGNED_OUT}?state=st`);
  assertCleared(res);
  await assertSignedOut(cookie);
  // Neither the forged hint nor the confirmation revoked the family.
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

test("another user's genuine ID token does not end this browser's session: the person is asked (§2)", async () => {
  // Anyone can sign up and hold a genuine ID token; a link carrying it must not sign a
  // victim out. Stand-in for the attacker's own token: the same app and keys, another sub.
  const { tokens, cookie } = await signIn();
  const [h, p] = tokens.id_token.split(".");
  const decode = (part) => JSON.parse(Buffer.from(part, "base64url"));
  const [key] = JSON.parse(vars.SIGNING_KEYS);
  const theirs = signJwt(decode(h), { ...decode(p), sub: "someone-else", oid: "someone-else", sid: "their-family" }, key.seed);
  seen.push(theirs);
  await assertConfirm(await get(client.buildEndSessionUrl(config, { id_token_hint: theirs, post_logout_redirect_uri: SIGNED_OUT, state: "st" }), cookie));
  const next = await assertAlive(cookie);
  // The victim's own refresh token still works: nothing of theirs was revoked.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  seen.push(refreshed.access_token, refreshed.refresh_token, refreshed.id_token);
  // The victim's own hint still signs out at once.
  const own = await get(client.buildEndSessionUrl(config, { id_token_hint: refreshed.id_token, post_logout_redirect_uri: SIGNED_OUT }), next);
  assert.equal(own.status, 302);
  assertCleared(own);
  await assertLoginRequired(next);
});

test("a hint for another client than client_id asks; an access token as hint without a session never redirects", async () => {
  let { tokens, cookie } = await signIn();
  const res = await get(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, client_id: "vestibule-demo-app", post_logout_redirect_uri: "http://127.0.0.1:9/cb" }), cookie);
  const page = await assertConfirm(res, { app: "Vestibule demo app" });
  assert.equal(page.field("client_id"), "vestibule-demo-app");
  cookie = await assertAlive(cookie);
  const at = await read(await get(client.buildEndSessionUrl(config, { id_token_hint: tokens.access_token, post_logout_redirect_uri: SIGNED_OUT })));
  assert.equal(at.h1, "You are signed out");
  assert.match(at.alert, /could not be verified/);
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
