// User records live in KV, written whole, and KV shows a write at other locations only
// after up to a minute. A location that still shows the record from before a write, and
// writes it back (a failed password counted, an administrator's edit), used to undo that
// write everywhere: a password reset after a leak brought the leaked password back, a
// phone an administrator removed came back, a deleted account came back. Every record
// write now goes through the account's guard object, which merges it with the last
// record written (`src/guard/record.rs`), and a password is judged against that record.
//
// The same holds for an administrator's disable or deletion: the account's object spends
// none of the account's continuation or refresh tokens from then on.
//
// One `wrangler dev` has one KV, so the test makes KV show the older record through the
// test-only dev route `GET`/`PUT /_dev/native/:tenant/users/:id/record` (which tells no
// object), as KV at another location would.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { adminCall, assertLogClean, latestCode, nativeVars, post, recordingCt, requireMfa, signUpWithPassword, signUpWithPhone, readUserRecord, showStaleRecord, tryPassword } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const NEW_PASSWORD = "Another-Staple-Battery-7";
let worker;
const seen = [PASSWORD, NEW_PASSWORD];
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

const admin = (tenant, method, path, body) => adminCall(worker, method, `${tenant}/v1.0/${path}`, body);
const ct = recordingCt(seen);

async function userId(tenant, email) {
  const users = await admin(tenant, "GET", "users");
  assert.equal(users.status, 200, JSON.stringify(users.body));
  const user = users.body.value.find((u) => u.mail === email);
  assert.ok(user, "the user is listed");
  return user.id;
}

const signedIn = (r) => r.status === 200 && typeof r.body.access_token === "string";

async function resetPassword(tenant, email, password) {
  let r = await post(worker, tenant, "resetpassword/v1.0/start", { username: email, challenge_type: "oob redirect" });
  r = await post(worker, tenant, "resetpassword/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob redirect" });
  const code = await latestCode(worker, email);
  seen.push(code);
  r = await post(worker, tenant, "resetpassword/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
  r = await post(worker, tenant, "resetpassword/v1.0/submit", { continuation_token: ct(r), new_password: password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, tenant, "resetpassword/v1.0/poll_completion", { continuation_token: ct(r) });
  assert.equal(r.body.status, "succeeded", JSON.stringify(r.body));
}

test("a password reset holds where KV still shows the old record: the old password is refused there, and a write from there keeps the new one", async () => {
  const tenant = "stale-reset";
  const email = "reset-stale@example.com";
  seen.push(email);
  await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const id = await userId(tenant, email);
  const before = await readUserRecord(worker, tenant, id);
  await resetPassword(tenant, email, NEW_PASSWORD);
  const reset = await readUserRecord(worker, tenant, id);
  assert.notEqual(reset.passwordHash, before.passwordHash, "the reset changed the hash");

  await showStaleRecord(worker, tenant, before);
  const leaked = await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  assert.ok(!signedIn(leaked), `the password from before the reset signs no one in: ${leaked.status} ${leaked.body.error}`);
  // That failure was written from the old record; an administrator's edit made there too.
  const failed = await readUserRecord(worker, tenant, id);
  assert.equal(failed.passwordHash, reset.passwordHash, "the failure did not write the old password back");
  assert.equal(failed.lockout?.consecutiveFailures, 1, "the failure counted");

  await showStaleRecord(worker, tenant, before);
  const rename = await admin(tenant, "PATCH", `users/${id}`, { displayName: "Renamed Elsewhere" });
  assert.equal(rename.status, 204, JSON.stringify(rename.body));
  const renamed = await readUserRecord(worker, tenant, id);
  assert.equal(renamed.passwordHash, reset.passwordHash, "the edit did not write the old password back");
  assert.equal(renamed.displayName, "Renamed Elsewhere");
  assert.equal(renamed.lockout?.consecutiveFailures, 1, "nor the old failure count");

  assert.ok(!signedIn(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), "the old password stays refused");
  assert.ok(signedIn(await tryPassword(worker, tenant, email, NEW_PASSWORD, { token: ct, seen })), "the new one signs in");
});

test("a phone an administrator removed does not come back with a record written where KV still shows it", async () => {
  const tenant = "stale-phone";
  const email = "phone-stale@example.com";
  const phone = "+14255550123";
  await requireMfa(worker, tenant);
  await signUpWithPhone(worker, tenant, email, PASSWORD, phone, { token: ct, seen });
  const id = await userId(tenant, email);
  const before = await readUserRecord(worker, tenant, id);
  assert.equal(before.strongMethods?.length, 1, JSON.stringify(before.strongMethods));
  const methods = await admin(tenant, "GET", `users/${id}/authentication/phoneMethods`);
  assert.equal(methods.body.value.length, 1, JSON.stringify(methods.body));
  const removed = await admin(tenant, "DELETE", `users/${id}/authentication/phoneMethods/${methods.body.value[0].id}`);
  assert.equal(removed.status, 204, JSON.stringify(removed.body));

  // At a location whose KV still shows the phone: a wrong password, then an edit.
  await showStaleRecord(worker, tenant, before);
  assert.ok(!signedIn(await tryPassword(worker, tenant, email, "Wrong-Horse-Battery-1", { token: ct, seen })));
  assert.deepEqual((await readUserRecord(worker, tenant, id)).strongMethods ?? [], [], "the failure did not bring the phone back");
  await showStaleRecord(worker, tenant, before);
  const rename = await admin(tenant, "PATCH", `users/${id}`, { displayName: "Renamed Elsewhere" });
  assert.equal(rename.status, 204, JSON.stringify(rename.body));
  const after = await readUserRecord(worker, tenant, id);
  assert.deepEqual(after.strongMethods ?? [], [], "the edit did not bring the phone back");
  assert.equal(after.displayName, "Renamed Elsewhere");
});

test("a deleted account is not signed in or written back where KV still shows it", async () => {
  const tenant = "stale-delete";
  const email = "delete-stale@example.com";
  seen.push(email);
  await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const id = await userId(tenant, email);
  const before = await readUserRecord(worker, tenant, id);
  const deleted = await admin(tenant, "DELETE", `users/${id}`);
  assert.equal(deleted.status, 204, JSON.stringify(deleted.body));

  await showStaleRecord(worker, tenant, before);
  const r = await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  assert.ok(!signedIn(r), `a deleted account signs no one in: ${r.status} ${r.body.error}`);
  const edit = await admin(tenant, "PATCH", `users/${id}`, { displayName: "Back Again" });
  assert.equal(edit.status, 404, `an edit of the stale record is refused: ${edit.status} ${JSON.stringify(edit.body)}`);
  assert.equal((await readUserRecord(worker, tenant, id)).displayName, before.displayName, "nothing was written");
});

/** A signed-up account's first session: its refresh token. */
async function session(tenant, email) {
  const signedUp = await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const r = await post(worker, tenant, "oauth2/v2.0/token", { continuation_token: ct(signedUp), grant_type: "continuation_token", scope: "openid offline_access" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r.body.refresh_token;
}

const refresh = (tenant, token) => post(worker, tenant, "oauth2/v2.0/token", { grant_type: "refresh_token", refresh_token: token, scope: "openid offline_access" });

// A step that grants tokens, and every refresh, is spent in the account's object too,
// which an administrator's disable reaches at once: before, a location whose KV still
// showed the account enabled let a reset (or an email-code sign-in) end in tokens and a
// session refresh, for up to a minute.
test("an account an administrator disabled gets no tokens from a flow or a refresh where KV still shows it enabled, until re-enabled", async () => {
  const tenant = "stale-disable";
  const email = "disable-stale@example.com";
  const refreshToken = await session(tenant, email);
  const id = await userId(tenant, email);
  let r = await post(worker, tenant, "resetpassword/v1.0/start", { username: email, challenge_type: "oob redirect" });
  r = await post(worker, tenant, "resetpassword/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob redirect" });
  const pending = ct(r);
  const code = await latestCode(worker, email);
  seen.push(code);
  const before = await readUserRecord(worker, tenant, id);
  const disabled = await admin(tenant, "PATCH", `users/${id}`, { accountEnabled: false });
  assert.equal(disabled.status, 204, JSON.stringify(disabled.body));

  // Where KV still shows the account enabled, the reset runs to its end (the new password
  // is written through the account's object, which keeps the disable), but the sign-in it
  // leads to gets no tokens.
  await showStaleRecord(worker, tenant, before);
  r = await post(worker, tenant, "resetpassword/v1.0/continue", { continuation_token: pending, grant_type: "oob", oob: code });
  r = await post(worker, tenant, "resetpassword/v1.0/submit", { continuation_token: ct(r), new_password: NEW_PASSWORD });
  r = await post(worker, tenant, "resetpassword/v1.0/poll_completion", { continuation_token: ct(r) });
  assert.equal(r.body.status, "succeeded", JSON.stringify(r.body));
  await showStaleRecord(worker, tenant, before);
  const tokens = await post(worker, tenant, "oauth2/v2.0/token", { continuation_token: ct(r), grant_type: "continuation_token", scope: "openid offline_access" });
  assert.equal(tokens.status, 400, `a disabled account's reset ends in no tokens: ${JSON.stringify(tokens.body)}`);
  assert.equal(tokens.body.error, "invalid_grant");
  assert.deepEqual(tokens.body.error_codes, [50053], JSON.stringify(tokens.body));
  const refused = await refresh(tenant, refreshToken);
  assert.equal(refused.status, 400, `a disabled account's session does not refresh: ${JSON.stringify(refused.body)}`);
  assert.equal(refused.body.error, "invalid_grant");

  const enabled = await admin(tenant, "PATCH", `users/${id}`, { accountEnabled: true });
  assert.equal(enabled.status, 204, JSON.stringify(enabled.body));
  const again = await tryPassword(worker, tenant, email, NEW_PASSWORD, { token: ct, seen });
  assert.ok(signedIn(again), `re-enabled, the account signs in: ${again.status} ${JSON.stringify(again.body)}`);
});

test("a deleted account's session does not refresh where KV still shows the account", async () => {
  const tenant = "stale-delete-session";
  const email = "delete-session@example.com";
  const refreshToken = await session(tenant, email);
  const id = await userId(tenant, email);
  const before = await readUserRecord(worker, tenant, id);
  const deleted = await admin(tenant, "DELETE", `users/${id}`);
  assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
  await showStaleRecord(worker, tenant, before);
  const refused = await refresh(tenant, refreshToken);
  assert.equal(refused.status, 400, `a deleted account's session does not refresh: ${JSON.stringify(refused.body)}`);
  assert.equal(refused.body.error, "invalid_grant");
});

test("no code, password, token or email reaches the Worker log", () => {
  assertLogClean(worker.output(), seen);
});
