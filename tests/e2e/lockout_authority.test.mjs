// The account lockout's failure count is kept by the account's guard Durable Object, not
// only by the user record in KV. KV is eventually consistent across locations: a location
// that still shows an older record (fewer failures) must not judge a password on it, or
// guesses spread over many locations escape the lockout. One `wrangler dev` has one KV, so
// the test makes KV show such an older record through a test-only dev route
// (`PUT /_dev/native/:tenant/users/:id/lockout`, which writes the record and tells no
// object), then checks what the next password gets. It also checks the other direction:
// what lowers the count (an administrator's re-enable, a complete sign-in) reaches the
// object, or its copy would lock the account again.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { TYPES, adminCall, assertLogClean, latestCode, nativeVars, post, recordingCt, requireMfa, signUpWithPassword, signUpWithPhone, tryPassword } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
let worker;
const seen = [PASSWORD];
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

const admin = (tenant, method, path, body) => adminCall(worker, method, `${tenant}/v1.0/${path}`, body);

const ct = recordingCt(seen);

/** Signs `email` up in `tenant` and returns the new user's id. */
async function signUp(tenant, email) {
  await signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  const users = await admin(tenant, "GET", "users");
  assert.equal(users.status, 200, JSON.stringify(users.body));
  const user = users.body.value.find((u) => u.mail === email);
  assert.ok(user, "the new user is listed");
  return user.id;
}

const errorCode = (r) => r.body.error_codes?.[0] ?? (r.status === 200 ? "signed-in" : JSON.stringify(r.body));

/** Makes KV show `lockout` in the user's record, as an older copy at another location
 * would, without telling the account's guard object. */
async function staleRecord(tenant, id, lockout = {}) {
  const res = await fetch(`${worker.url}/_dev/native/${tenant}/users/${id}/lockout`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(lockout),
  });
  assert.equal(res.status, 204, await res.text());
}

test("a locked account stays locked when KV shows an older record, until an administrator re-enables it", async () => {
  const tenant = "authority";
  const settings = await admin(tenant, "PATCH", "vestibule/flowSettings", { lockout: { freeFailures: 2, baseWaitSeconds: 300 } });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  const email = "guessed-at@example.com";
  const id = await signUp(tenant, email);

  const wrong = [];
  for (let i = 0; i < 3; i++) wrong.push(errorCode(await tryPassword(worker, tenant, email, `Wrong-Password-${i}`, { token: ct, seen })));
  assert.deepEqual(wrong, [50126, 50126, 50126], "three wrong passwords are judged; the third starts a wait");
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), 50053, "control: locked");

  // Another location's KV still shows the record from before the guesses.
  await staleRecord(tenant, id, {});
  const stale = await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
  assert.equal(stale.status, 400, JSON.stringify(stale.body));
  assert.equal(stale.body.error, "invalid_grant");
  assert.deepEqual(stale.body.error_codes, [50053], "the object's count locks, whatever the record at this location says");
  assert.equal(stale.body.access_token, undefined);
  assert.equal(errorCode(await tryPassword(worker, tenant, email, "Wrong-Password-x", { token: ct, seen })), 50053, "nor is a guess judged");

  // An administrator re-enables the account: the object forgets its count. The record is
  // then made stale again (older than both the lock and the unlock), so only the object
  // can tell that the account was cleared.
  const enabled = await admin(tenant, "PATCH", `users/${id}`, { accountEnabled: true });
  assert.equal(enabled.status, 204, JSON.stringify(enabled.body));
  await staleRecord(tenant, id, {});
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), "signed-in", "unlocked");
  assert.equal(errorCode(await tryPassword(worker, tenant, email, "Wrong-Password-y", { token: ct, seen })), 50126);
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), "signed-in", "one wrong password does not lock again");
});

test("a complete sign-in clears the object's count, so the next wrong password starts from one", async () => {
  const tenant = "healing";
  const settings = await admin(tenant, "PATCH", "vestibule/flowSettings", {
    lockout: { freeFailures: 2, baseWaitSeconds: 1, maxWaitSeconds: 1 },
  });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  const email = "forgetful-again@example.com";
  const id = await signUp(tenant, email);
  const wrong = [];
  for (let i = 0; i < 3; i++) wrong.push(errorCode(await tryPassword(worker, tenant, email, `Wrong-Password-${i}`, { token: ct, seen })));
  assert.deepEqual(wrong, [50126, 50126, 50126]);

  // The one-second wait passes; the count (3) stays. KV here shows the record from before
  // the guesses, so the sign-in is judged with the object's count.
  let signedIn;
  for (let i = 0; i < 20 && signedIn?.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 500));
    await staleRecord(tenant, id, {});
    signedIn = await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
    assert.ok([200, 400].includes(signedIn.status), JSON.stringify(signedIn.body));
    if (signedIn.status === 400) assert.deepEqual(signedIn.body.error_codes, [50053], "only the wait refuses it");
  }
  assert.equal(signedIn.status, 200, "signed in once the wait is over");

  // Again an older record in KV (no trace of the sign-in's clear): had the object kept its
  // count of 3, one more wrong password would make 4 and lock the account.
  await staleRecord(tenant, id, {});
  assert.equal(errorCode(await tryPassword(worker, tenant, email, "Wrong-Password-z", { token: ct, seen })), 50126);
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), "signed-in", "not locked after one wrong password");
});

test("a sign-in completed by a second factor, in a later request than the password, clears the object's count too", async () => {
  const tenant = "second-factor";
  const phone = "+15550107788";
  seen.push(phone);
  await requireMfa(worker, tenant);
  const settings = await admin(tenant, "PATCH", "vestibule/flowSettings", {
    lockout: { freeFailures: 2, baseWaitSeconds: 1, maxWaitSeconds: 1 },
  });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  // Sign up and register the phone as the second factor.
  const email = "two-factors@example.com";
  seen.push(email);
  await signUpWithPhone(worker, tenant, email, PASSWORD, phone, { token: ct, seen });
  const id = (await admin(tenant, "GET", "users")).body.value.find((u) => u.mail === email).id;

  const wrong = [];
  for (let i = 0; i < 3; i++) wrong.push(errorCode(await tryPassword(worker, tenant, email, `Wrong-Password-${i}`, { token: ct, seen })));
  assert.deepEqual(wrong, [50126, 50126, 50126]);
  // Once the one-second wait is over, the right password leads to the second factor
  // (50076); the object keeps the count of 3 through that password step.
  let pw;
  for (let i = 0; i < 20 && pw?.body.error_codes?.[0] !== 50076; i++) {
    await new Promise((res) => setTimeout(res, 500));
    pw = await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen });
    assert.ok([50053, 50076].includes(errorCode(pw)), JSON.stringify(pw.body));
  }
  assert.deepEqual(pw.body.error_codes, [50076], "the password is accepted once the wait is over");
  let r = await post(worker, tenant, "oauth2/v2.0/introspect", { continuation_token: ct(pw) });
  const [method] = r.body.methods;
  r = await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: method.id });
  const mfaCode = await latestCode(worker, phone);
  seen.push(mfaCode);
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "mfa_oob", oob: mfaCode, scope: "openid" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);

  // An older record in KV again: only the object can know the count was cleared.
  await staleRecord(tenant, id, {});
  assert.equal(errorCode(await tryPassword(worker, tenant, email, "Wrong-Password-z", { token: ct, seen })), 50126);
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), 50076, "not locked after one wrong password: on to the second factor");
});

test("an administrator's disable holds when KV shows an older record, and a write of that record does not undo it", async () => {
  const tenant = "disabled";
  const email = "compromised@example.com";
  const id = await signUp(tenant, email);
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), "signed-in", "control: enabled");

  const disabled = await admin(tenant, "PATCH", `users/${id}`, { accountEnabled: false });
  assert.equal(disabled.status, 204, JSON.stringify(disabled.body));
  // Another location's KV still shows the record from before the disable (no password has
  // been judged since the disable, so only the administrator's word can have reached the
  // account's object): the password is judged with the object's copy, which knows of it.
  await staleRecord(tenant, id, {});
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), 50053, "disabled, whatever the record at this location says");

  // That location writes the older record back whole (here an administrator renames the
  // user there): the write keeps the disable instead of undoing it for every location.
  await staleRecord(tenant, id, {});
  const renamed = await admin(tenant, "PATCH", `users/${id}`, { displayName: "Renamed Elsewhere" });
  assert.equal(renamed.status, 204, JSON.stringify(renamed.body));
  const shown = await admin(tenant, "GET", `users/${id}`);
  assert.equal(shown.body.displayName, "Renamed Elsewhere");
  assert.equal(shown.body.accountEnabled, false, "the written record is still disabled");

  // Only an administrator's re-enable lifts it.
  const enabled = await admin(tenant, "PATCH", `users/${id}`, { accountEnabled: true });
  assert.equal(enabled.status, 204, JSON.stringify(enabled.body));
  assert.equal(errorCode(await tryPassword(worker, tenant, email, PASSWORD, { token: ct, seen })), "signed-in", "enabled again");
});

test("no code, password, token or email reaches the Worker log", () => {
  assertLogClean(worker.output(), seen.filter(Boolean));
});
