// Review (rvnative): what a continuation token guarantees when requests race on it. The
// guard Durable Object makes one-time codes safe under concurrency; these tests ask the
// same of the two other inputs a token takes: a password (the account lockout must count
// every wrong guess), the redemption of a finished flow (tokens at most once), and any
// step that moves the flow to a new token (one token never becomes several).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { TYPES, latestCode, nativeVars, post } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
let worker;
before(async () => {
  worker = await startWorker({ vars: nativeVars() });
});
after(async () => { await worker?.stop(); });

async function signUp(tenant, email) {
  let r = await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  const code = await latestCode(worker, email);
  r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.continuation_token;
}

/** A signed-up user's sign-in, at the password step: its continuation token. */
async function atPassword(email) {
  const done = await signUp("race", email);
  assert.equal((await post(worker, "race", TOKEN, { continuation_token: done, grant_type: "continuation_token" })).status, 200);
  let r = await post(worker, "race", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES });
  r = await post(worker, "race", "oauth2/v2.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  assert.equal(r.body.challenge_type, "password");
  return r.body.continuation_token;
}

test("control: wrong passwords sent one after the other lock the account after 6", async () => {
  const pw = await atPassword("serial-password@example.com");
  const codes = [];
  for (let i = 0; i < 8; i++) {
    const a = await post(worker, "race", TOKEN, { continuation_token: pw, grant_type: "password", password: `Wrong-Guess-${i}-xyz` });
    codes.push(a.body.error_codes?.[0]);
  }
  console.log(`serial: ${codes.join(" ")}`);
  assert.deepEqual(codes, [50126, 50126, 50126, 50126, 50126, 50126, 50053, 50053]);
});

// Review finding, fixed: a burst of 30 on one token was judged 30 times and never locked
// the account; now one password step per account runs at a time (the guard holds it).
test("concurrent wrong passwords on one token are all counted by the account lockout", async () => {
  const pw = await atPassword("race-password@example.com");
  // 30 guesses at once. Sent one after the other (the control above), the lockout (5 free
  // failures, then waits) judges 6 (50126) and refuses the rest (50053).
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) => post(worker, "race", TOKEN, { continuation_token: pw, grant_type: "password", password: `Wrong-Guess-${i}-xyz` })),
  );
  const judged = answers.filter((a) => a.body.error_codes?.includes(50126)).length;
  const refused = answers.filter((a) => a.body.error_codes?.includes(50053)).length;
  console.log(`burst of 30: judged=${judged} refused=${refused}`);
  assert.equal(judged + refused, 30, JSON.stringify(answers.map((a) => a.body.error_codes)));
  assert.ok(judged >= 1 && judged <= 6, `at most 6 passwords judged before the lockout, got ${judged}`);
  // The guesses that follow, one at a time, are judged only up to the same 6 in all.
  let more = 0;
  for (let i = 0; i < 8; i++) {
    const a = await post(worker, "race", TOKEN, { continuation_token: pw, grant_type: "password", password: `Wrong-Again-${i}-xyz` });
    if (a.body.error_codes?.includes(50126)) more++;
    else assert.deepEqual(a.body.error_codes, [50053], JSON.stringify(a.body));
  }
  assert.ok(judged + more <= 6, `judged ${judged} in the burst and ${more} after: the lockout counts them all`);
});

// Review finding, fixed: it minted 1 to 10 token sets before a token-granting step spent its
// continuation token through the guard object.
test("a finished flow's continuation token redeems to tokens at most once under concurrency", async () => {
  const email = "race-redeem@example.com";
  const done = await signUp("race", email);
  const answers = await Promise.all(
    Array.from({ length: 10 }, () => post(worker, "race", TOKEN, { continuation_token: done, grant_type: "continuation_token" })),
  );
  const issued = answers.filter((a) => a.status === 200 && typeof a.body.refresh_token === "string").length;
  console.log(`10 concurrent redemptions: ${issued} token responses`);
  assert.equal(issued, 1, "one continuation token, one set of tokens");
});

test("a step that moves the flow on without sending anything is single use too: one token never becomes several", async () => {
  // Initiate's token, sent to /challenge ten times at once: each answer would be a live
  // token at the password step (its own fork of the flow) if only KV guarded it.
  const email = "race-fork@example.com";
  await signUp("race", email);
  const start = await post(worker, "race", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const answers = await Promise.all(Array.from({ length: 10 }, () =>
    post(worker, "race", "oauth2/v2.0/challenge", { continuation_token: start.body.continuation_token, challenge_type: TYPES })));
  const live = answers.filter((a) => a.status === 200);
  assert.equal(live.length, 1, `${live.length} of 10 replays got a token of their own`);
  for (const a of answers.filter((x) => x.status !== 200)) assert.equal(a.body.error, "invalid_grant", JSON.stringify(a.body));
  // The one that went on is a working token at the password step.
  const r = await post(worker, "race", TOKEN, { continuation_token: live[0].body.continuation_token, grant_type: "password", password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

// Review finding, fixed: the old refresh token kept working after the reset.
test("a password reset ends the sessions signed in with the old password", async () => {
  const email = "reset-revokes@example.com";
  const done = await signUp("race", email);
  const signedIn = await post(worker, "race", TOKEN, { continuation_token: done, grant_type: "continuation_token", scope: "openid profile offline_access" });
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const oldRefresh = signedIn.body.refresh_token;
  // Sessions are compared with the change in whole seconds (a session signed in within the
  // second of the reset is the reset's own), so the reset comes a second later.
  await new Promise((r) => setTimeout(r, 1100));
  // The owner resets the password (e.g. because it leaked).
  let r = await post(worker, "race", "resetpassword/v1.0/start", { username: email, challenge_type: "oob redirect" });
  r = await post(worker, "race", "resetpassword/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: "oob redirect" });
  const code = await latestCode(worker, email);
  r = await post(worker, "race", "resetpassword/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: code });
  // The code is proven a second before the new password is set, as a person types it.
  await new Promise((res) => setTimeout(res, 1100));
  r = await post(worker, "race", "resetpassword/v1.0/submit", { continuation_token: r.body.continuation_token, new_password: "Brand-New-Passphrase-8" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, "race", "resetpassword/v1.0/poll_completion", { continuation_token: r.body.continuation_token });
  assert.equal(r.body.status, "succeeded");
  // MSAL's sign-in after the reset: that session began after the change and lives on.
  const after = await post(worker, "race", TOKEN, { continuation_token: r.body.continuation_token, grant_type: "continuation_token", scope: "openid profile offline_access" });
  assert.equal(after.status, 200, JSON.stringify(after.body));
  const own = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: after.body.refresh_token, scope: "openid profile offline_access" });
  assert.equal(own.status, 200, `the reset's own session refreshes: ${JSON.stringify(own.body)}`);
  const refreshed = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: oldRefresh, scope: "openid profile offline_access" });
  console.log(`refresh with the pre-reset token: ${refreshed.status} ${refreshed.body.error ?? "tokens issued"}`);
  assert.equal(refreshed.status, 400, "the pre-reset refresh token is refused");
  assert.equal(refreshed.body.error, "invalid_grant");
  assert.deepEqual(refreshed.body.error_codes, [50173]);
  // The new password signs in and its session refreshes.
  let s = await post(worker, "race", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES });
  s = await post(worker, "race", "oauth2/v2.0/challenge", { continuation_token: s.body.continuation_token, challenge_type: TYPES });
  s = await post(worker, "race", TOKEN, { continuation_token: s.body.continuation_token, grant_type: "password", password: "Brand-New-Passphrase-8", scope: "openid profile offline_access" });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const fresh = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: s.body.refresh_token, scope: "openid profile offline_access" });
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
});

test("one refresh token presented at once by many requests rotates once, and the copies revoke the family", async () => {
  const done = await signUp("race", "race-refresh@example.com");
  const signedIn = await post(worker, "race", TOKEN, { continuation_token: done, grant_type: "continuation_token", scope: "openid profile offline_access" });
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const answers = await Promise.all(Array.from({ length: 8 }, () =>
    post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: signedIn.body.refresh_token, scope: "openid profile offline_access" })));
  const rotated = answers.filter((a) => a.status === 200);
  assert.equal(rotated.length, 1, JSON.stringify(answers.map((a) => a.status)));
  // A copy was presented, so the family is revoked: the one rotated token is dead too.
  const after = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: rotated[0].body.refresh_token, scope: "openid profile offline_access" });
  assert.equal(after.status, 400, JSON.stringify(after.body));
});

test("a sign-up's own session refreshes although its password was given before the account existed", async () => {
  const email = "slow-signup@example.com";
  let r = await post(worker, "race", "signup/v1.0/start", { username: email, challenge_type: TYPES, password: PASSWORD });
  r = await post(worker, "race", "signup/v1.0/challenge", { continuation_token: r.body.continuation_token, challenge_type: TYPES });
  // A person reads the mail: the account (and its password time) comes a while later.
  await new Promise((res) => setTimeout(res, 1100));
  const code = await latestCode(worker, email);
  r = await post(worker, "race", "signup/v1.0/continue", { continuation_token: r.body.continuation_token, grant_type: "oob", oob: code });
  const signedIn = await post(worker, "race", TOKEN, { continuation_token: r.body.continuation_token, grant_type: "continuation_token", scope: "openid profile offline_access" });
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const refreshed = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: signedIn.body.refresh_token, scope: "openid profile offline_access" });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
});

// A session's refresh tokens are spent in their family's guard object, each under its own
// name: one rotation must not make the next token of the family look used, and a copied
// token presented after several rotations must still be caught as reuse.
test("a session's refresh tokens rotate one after another, and an old one presented again revokes the session", async () => {
  const email = "family-chain@example.com";
  const done = await signUp("race", email);
  const signedIn = await post(worker, "race", TOKEN, { continuation_token: done, grant_type: "continuation_token", scope: "openid profile offline_access" });
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const chain = [signedIn.body.refresh_token];
  for (let i = 0; i < 4; i++) {
    const r = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: chain.at(-1), scope: "openid profile offline_access" });
    assert.equal(r.status, 200, `rotation ${i + 1}: ${JSON.stringify(r.body)}`);
    chain.push(r.body.refresh_token);
  }
  assert.equal(new Set(chain).size, 5, "each rotation gave a new token");
  // The second token, copied before it was rotated, comes back.
  const reused = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: chain[1], scope: "openid profile offline_access" });
  assert.equal(reused.status, 400, JSON.stringify(reused.body));
  assert.equal(reused.body.error, "invalid_grant");
  const latest = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: chain.at(-1), scope: "openid profile offline_access" });
  assert.equal(latest.status, 400, `the session was revoked, its newest token too: ${JSON.stringify(latest.body)}`);
  // Another session of the same account is its own family, untouched.
  const again = await post(worker, "race", "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES });
  let r = await post(worker, "race", "oauth2/v2.0/challenge", { continuation_token: again.body.continuation_token, challenge_type: TYPES });
  r = await post(worker, "race", TOKEN, { continuation_token: r.body.continuation_token, grant_type: "password", password: PASSWORD, scope: "openid profile offline_access" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const other = await post(worker, "race", TOKEN, { grant_type: "refresh_token", refresh_token: r.body.refresh_token, scope: "openid profile offline_access" });
  assert.equal(other.status, 200, JSON.stringify(other.body));
});
