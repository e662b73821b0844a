// The real client: @azure/msal-browser/custom-auth (5.30.0, unmodified) in jsdom,
// against the Worker in workerd. If Microsoft's own SDK completes these journeys, the
// wire protocol is right where it matters. Set-up follows native-auth.md §10.3.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import { startWorker } from "../support/worker.mjs";
import { APP, assertLogClean, latestCode, nativeVars, requireMfa } from "../support/native.mjs";

const TENANT = "msal";
const PASSWORD = "Correct-Horse-Battery-9";
const NEW_PASSWORD = "Brand-New-Passphrase-7";
const PHONE = "+15551230987";
const SMS_USER = "sms.user@example.com";
const EMAIL_USER = "email.user@example.com";
const seen = [PASSWORD, NEW_PASSWORD, PHONE, SMS_USER, EMAIL_USER];

// Browser globals from jsdom; MSAL refuses to run without `window`.
const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: "http://127.0.0.1:3000/" });
const globals = { window: dom.window, document: dom.window.document, navigator: dom.window.navigator, localStorage: dom.window.localStorage, sessionStorage: dom.window.sessionStorage };
for (const [name, value] of Object.entries(globals)) {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}
Object.defineProperty(dom.window, "crypto", { value: webcrypto, configurable: true });
dom.window.fetch = globalThis.fetch;
// MSAL opens BroadcastChannels for cross-tab events; in Node they would keep the test
// process alive after the last test, so they are unref'd.
const NodeBroadcastChannel = globalThis.BroadcastChannel;
globalThis.BroadcastChannel = class extends NodeBroadcastChannel {
  constructor(name) { super(name); this.unref(); }
};
const { CustomAuthPublicClientApplication } = await import("@azure/msal-browser/custom-auth");

let worker;
before(async () => {
  worker = await startWorker({ vars: nativeVars() });
  await requireMfa(worker, TENANT);
});
after(async () => {
  await worker?.stop();
  // jsdom's window keeps timers alive; close it so the test process can exit.
  dom.window.close();
});

function config({ capabilities = ["mfa_required", "registration_required"] } = {}) {
  const port = new URL(worker.url).port;
  return {
    auth: { clientId: APP, authority: `https://127.0.0.1:${port}/${TENANT}`, redirectUri: "http://127.0.0.1:3000/" },
    customAuth: { challengeTypes: ["password", "oob"], authApiProxyUrl: `http://127.0.0.1:${port}/${TENANT}`, capabilities },
    cache: { cacheLocation: "sessionStorage" },
  };
}

async function code(to) {
  const c = await latestCode(worker, to);
  seen.push(c);
  return c;
}

function expectOk(result, check, label) {
  if (!result[check]()) {
    const e = result.error;
    assert.fail(`${label}: expected ${check}, got ${result.state?.constructor?.name} ${e ? `${e.errorData?.error} ${e.errorData?.errorDescription}` : ""}`);
  }
}

/** Claims of the completed sign-in, after remembering every token for the log check. */
async function finish(account, amr) {
  const claims = account.getAccount().idTokenClaims;
  assert.deepEqual(claims.amr, amr);
  assert.equal(claims.tid, TENANT);
  seen.push(account.getIdToken());
  // A forced refresh goes through the refresh_token grant at our /oauth2/v2.0/token.
  const refreshed = await account.getAccessToken({ forceRefresh: true, scopes: ["openid", "offline_access"] });
  expectOk(refreshed, "isCompleted", "getAccessToken");
  seen.push(refreshed.data.accessToken, refreshed.data.idToken);
  for (const key of Object.keys(sessionStorage)) {
    try {
      const item = JSON.parse(sessionStorage.getItem(key));
      if (item && typeof item.secret === "string") seen.push(item.secret);
    } catch { /* not a cache entry */ }
  }
  const out = await account.signOut();
  expectOk(out, "isCompleted", "signOut");
  return claims;
}

test("sign-up, then registration of an SMS method, then signed in", async () => {
  const app = await CustomAuthPublicClientApplication.create(config());
  const start = await app.signUp({ username: SMS_USER, password: PASSWORD });
  expectOk(start, "isCodeRequired", "signUp");
  assert.equal(start.state.getCodeLength(), 8);
  const wrong = await start.state.submitCode("00000000");
  assert.ok(wrong.isFailed() && wrong.error.isInvalidCode(), "a wrong code is reported as such");
  const created = await start.state.submitCode(await code(SMS_USER));
  expectOk(created, "isCompleted", "submitCode");
  const signIn = await created.state.signIn();
  expectOk(signIn, "isAuthMethodRegistrationRequired", "signIn after sign-up");
  const sms = signIn.state.getAuthMethods().find((m) => m.challenge_channel === "sms");
  assert.ok(sms, "sms is offered for registration");
  const challenged = await signIn.state.challengeAuthMethod({ authMethodType: sms, verificationContact: PHONE });
  expectOk(challenged, "isVerificationRequired", "challengeAuthMethod");
  assert.equal(challenged.state.getChannel(), "sms");
  const done = await challenged.state.submitChallenge(await code(PHONE));
  expectOk(done, "isCompleted", "submitChallenge");
  const claims = await finish(done.data, ["pwd", "sms", "mfa"]);
  assert.equal(claims.preferred_username, SMS_USER);
});

test("sign-up registering the verified email, then password sign-in with email MFA", async () => {
  const app = await CustomAuthPublicClientApplication.create(config());
  const start = await app.signUp({ username: EMAIL_USER, password: PASSWORD });
  expectOk(start, "isCodeRequired", "signUp");
  const created = await start.state.submitCode(await code(EMAIL_USER));
  expectOk(created, "isCompleted", "submitCode");
  const signIn = await created.state.signIn();
  expectOk(signIn, "isAuthMethodRegistrationRequired", "signIn after sign-up");
  const email = signIn.state.getAuthMethods().find((m) => m.challenge_channel === "email");
  // The sign-up email was proven minutes ago: `preverified`, no second code.
  const registered = await signIn.state.challengeAuthMethod({ authMethodType: email, verificationContact: EMAIL_USER });
  expectOk(registered, "isCompleted", "challengeAuthMethod (preverified)");
  await finish(registered.data, ["pwd", "otp", "mfa"]);

  const bad = await app.signIn({ username: EMAIL_USER, password: "Wrong-Password-42" });
  assert.ok(bad.isFailed() && bad.error.isPasswordIncorrect(), "wrong password is isPasswordIncorrect");
  const unknown = await app.signIn({ username: "nobody@example.com", password: PASSWORD });
  assert.ok(unknown.isFailed() && unknown.error.isUserNotFound(), "isUserNotFound");
  const first = await app.signIn({ username: EMAIL_USER, password: PASSWORD });
  expectOk(first, "isMfaRequired", "signIn");
  const [method] = first.state.getAuthMethods();
  assert.equal(method.challenge_channel, "email");
  const sent = await first.state.requestChallenge(method.id);
  expectOk(sent, "isVerificationRequired", "requestChallenge");
  const wrong = await sent.state.submitChallenge("00000000");
  assert.ok(wrong.isFailed(), "a wrong MFA code fails");
  const done = await sent.state.submitChallenge(await code(EMAIL_USER));
  expectOk(done, "isCompleted", "submitChallenge");
  await finish(done.data, ["pwd", "otp", "mfa"]);
});

test("password sign-in with SMS MFA", async () => {
  const app = await CustomAuthPublicClientApplication.create(config());
  const first = await app.signIn({ username: SMS_USER, password: PASSWORD });
  expectOk(first, "isMfaRequired", "signIn");
  const [method] = first.state.getAuthMethods();
  assert.equal(method.challenge_channel, "sms");
  assert.ok(!method.login_hint.includes("230987"), "the number is masked");
  const sent = await first.state.requestChallenge(method.id);
  expectOk(sent, "isVerificationRequired", "requestChallenge");
  const done = await sent.state.submitChallenge(await code(PHONE));
  expectOk(done, "isCompleted", "submitChallenge");
  await finish(done.data, ["pwd", "sms", "mfa"]);
});

test("password reset, then the automatic sign-in asks for the SMS factor", async () => {
  const app = await CustomAuthPublicClientApplication.create(config());
  const start = await app.resetPassword({ username: SMS_USER });
  expectOk(start, "isCodeRequired", "resetPassword");
  const verified = await start.state.submitCode(await code(SMS_USER));
  expectOk(verified, "isPasswordRequired", "submitCode");
  const weak = await verified.state.submitNewPassword("short");
  assert.ok(weak.isFailed() && weak.error.isInvalidPassword(), "a weak password is refused");
  const reset = await verified.state.submitNewPassword(NEW_PASSWORD);
  expectOk(reset, "isCompleted", "submitNewPassword");
  const signIn = await reset.state.signIn();
  expectOk(signIn, "isMfaRequired", "signIn after reset");
  const [method] = signIn.state.getAuthMethods();
  const sent = await signIn.state.requestChallenge(method.id);
  const done = await sent.state.submitChallenge(await code(PHONE));
  expectOk(done, "isCompleted", "submitChallenge");
  // The reset code proved the mailbox: email code + SMS, no password.
  await finish(done.data, ["otp", "sms", "mfa"]);
  const old = await app.signIn({ username: SMS_USER, password: PASSWORD });
  assert.ok(old.isFailed() && old.error.isPasswordIncorrect(), "the old password no longer works");
});

test("a client without the MFA capabilities is sent to the web fallback", async () => {
  const app = await CustomAuthPublicClientApplication.create(config({ capabilities: [] }));
  const r = await app.signIn({ username: SMS_USER, password: NEW_PASSWORD });
  assert.ok(r.isFailed() && r.error.isRedirectRequired(), `expected a redirect, got ${r.error?.errorData?.error}`);
});

test("the Worker's log holds no code, password, token, phone number or email", () => {
  assertLogClean(worker.output(), seen);
});
