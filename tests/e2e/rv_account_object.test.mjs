// Review of session 9's account-object spends: the hosted pages' authorization code, and
// what reaches one account's object.
//
// A native step that grants tokens and a refresh token are spent in their account's
// object, which an administrator's disable or deletion reaches at once, so a location
// whose KV still shows the account enabled ends no native flow in tokens and refreshes no
// session. The hosted pages
// end in an authorization code instead, redeemed at the token endpoint, which read only
// KV (`account_may_redeem`): there, a code issued just before the disable still got
// tokens, and a refresh token with them. The code is now spent in the account's object
// too, at no extra object call.
//
// One `wrangler dev` has one KV, so the test makes KV show the record from before the
// disable through the test-only dev route (`showStaleRecord`), as KV at another location
// would.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as client from "openid-client";
import { startWorker } from "../support/worker.mjs";
import { authorizationRequest } from "../support/oidc_client.mjs";
import { bindingCookie, submitForm } from "../support/hosted.mjs";
import { JSDOM } from "jsdom";
import { APP, adminCall, assertLogClean, nativeVars, post, readUserRecord, recordingCt, showStaleRecord, signUpWithPassword, tryPassword } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const REDIRECT = "http://127.0.0.1:9/callback";
const seen = [PASSWORD];
const ct = recordingCt(seen);
let worker;
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

const admin = (tenant, method, path, body) => adminCall(worker, method, `${tenant}/v1.0/${path}`, body);

async function read(res) {
  const html = await res.text();
  const doc = new JSDOM(html).window.document;
  return { status: res.status, doc, html, h1: doc.querySelector("h1")?.textContent, binding: bindingCookie(res) };
}

/** Signs `email` in through the hosted pages with its password: the redirect back (with
 * the code) and the request's secrets. */
async function hostedSignIn(tenant, email) {
  const config = await client.discovery(new URL(`${worker.url}/${tenant}/v2.0`), APP, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const a = await authorizationRequest(config, { redirect_uri: REDIRECT, scope: "openid offline_access" });
  let page = await read(await fetch(a.url, { redirect: "manual" }));
  assert.equal(page.h1, "Sign in", page.html);
  page = await read(await submitForm(worker.url, page, { action: "email", email }));
  assert.equal(page.h1, "Enter your password", page.html);
  const res = await submitForm(worker.url, page, { action: "password", password: PASSWORD });
  assert.equal(res.status, 303, `signed in: ${res.status}`);
  const callback = new URL(res.headers.get("location"));
  assert.ok(callback.searchParams.get("code"), callback.href);
  seen.push(callback.searchParams.get("code"));
  return { config, a, callback };
}

const redeem = ({ config, a, callback }) =>
  client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true });

async function userId(tenant, email) {
  const users = await admin(tenant, "GET", "users");
  assert.equal(users.status, 200, JSON.stringify(users.body));
  return users.body.value.find((u) => u.mail === email).id;
}

test("an authorization code issued just before an administrator's disable gets no tokens where KV still shows the account enabled", async () => {
  const tenant = "rv-code-disable";
  const email = "code-disable@example.com";
  seen.push(email);
  await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const id = await userId(tenant, email);

  // Control: a code of an enabled account is redeemed.
  const tokens = await redeem(await hostedSignIn(tenant, email));
  assert.ok(tokens.access_token);
  seen.push(tokens.access_token, tokens.id_token, tokens.refresh_token);

  const signedIn = await hostedSignIn(tenant, email);
  const before = await readUserRecord(worker, tenant, id);
  const disabled = await admin(tenant, "PATCH", `users/${id}`, { accountEnabled: false });
  assert.equal(disabled.status, 204, JSON.stringify(disabled.body));
  await showStaleRecord(worker, tenant, before);
  await assert.rejects(redeem(signedIn), (e) => {
    assert.equal(e.error, "invalid_grant", `${e.name}: ${e.message}`);
    return true;
  }, "a disabled account's code gets no tokens");
});

test("an authorization code issued just before an administrator's deletion gets no tokens where KV still shows the account", async () => {
  const tenant = "rv-code-delete";
  const email = "code-delete@example.com";
  seen.push(email);
  await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const id = await userId(tenant, email);
  const signedIn = await hostedSignIn(tenant, email);
  const before = await readUserRecord(worker, tenant, id);
  const deleted = await admin(tenant, "DELETE", `users/${id}`);
  assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
  await showStaleRecord(worker, tenant, before);
  await assert.rejects(redeem(signedIn), (e) => {
    assert.equal(e.error, "invalid_grant", `${e.name}: ${e.message}`);
    return true;
  }, "a deleted account's code gets no tokens");
});

// Starting a sign-in needs nothing but the account's email, and every `/challenge` moves
// the flow to a new token. Spent in the account's object (one row, read and written whole
// by every password step and record write of the account, and capped at 2,048 names),
// anyone could fill it and have the owner's steps refused; such steps are spent in each
// flow's own object, and only a step that grants tokens (a proven factor) reaches the
// account's.
test("a flood of sign-ins started with an account's email alone does not stop its owner", async () => {
  const tenant = "rv-names";
  const email = "names@example.com";
  seen.push(email);
  await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const CAP = 2_048; // src/guard/spend.rs SHARED_MAX: the flood passes it
  let moved = 0;
  const refusals = [];
  // Eight sign-ins at a time, each asking for its challenge again and again: no password,
  // no code, only the email.
  const flow = async () => {
    let r = await post(worker, tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: "password oob redirect" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    let token = r.body.continuation_token;
    while (moved + refusals.length < CAP + 100) {
      r = await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: token, challenge_type: "password oob redirect" });
      if (r.status !== 200) {
        refusals.push(r);
        break;
      }
      moved += 1;
      token = r.body.continuation_token;
    }
  };
  await Promise.all(Array.from({ length: 8 }, flow));
  // The flood's eight flows started within a second or two, and flows of one account, app
  // and kind started in the same second share an object: that object may fill up and
  // refuse the flood itself (a retry later), never the owner.
  console.log(`flood: ${moved} challenges moved on, ${refusals.length} refused`);
  for (const r of refusals) assert.equal(r.body.error, "server_error", JSON.stringify(r.body));
  assert.ok(moved >= CAP / 2, `${moved} challenges moved on`);
  const owner = await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  assert.equal(owner.status, 200, `the owner signs in: ${JSON.stringify(owner.body)}`);
  assert.equal(typeof owner.body.access_token, "string");
});

test("no code, password, token or email reaches the Worker log", () => {
  assertLogClean(worker.output(), seen);
});
