// Session 7 review of sign-up and password reset over the native-auth wire, against the
// Worker in workerd: the password rules fixed in src/flow/password.rs, as MSAL sees them
// (the same `invalid_grant` + suberror answers, the same flow otherwise).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { CAPS, TYPES, assertLogClean, ct, flowConfig, isError, latestCode, nativeVars, post } from "../support/native.mjs";

const TOKEN = "oauth2/v2.0/token";
const TENANT = "rvflows";
// Chinese, digits and a symbol: before the fix `password_too_weak` (CJK letters counted as
// "other", the symbol's class), though long and all Unicode as NIST SP 800-63B allows.
const CJK_PASSWORD = "我的密码很安全啊2024!";
let worker;
const seen = [CJK_PASSWORD];
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => {
  if (worker) assertLogClean(worker.output(), seen);
  await worker?.stop();
});

async function signUp(email, password) {
  seen.push(email, password);
  let r = await post(worker, TENANT, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password });
  if (r.status !== 200) return r;
  r = await post(worker, TENANT, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  const code = await latestCode(worker, email);
  seen.push(code);
  return post(worker, TENANT, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
}

async function signIn(email, password) {
  let r = await post(worker, TENANT, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS });
  r = await post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  return post(worker, TENANT, TOKEN, { continuation_token: ct(r), grant_type: "password", password, scope: "openid" });
}

test("sign-up refuses the email address itself as the password, even with a short local part", async () => {
  const email = "al1@example.com";
  seen.push(email);
  const r = await post(worker, TENANT, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: "Al1@Example.com" });
  isError(r, "invalid_grant", { suberror: "password_banned", code: 399246 });
});

test("a password in a script without case signs up, signs in, and is refused as a reset to the address", async () => {
  const email = "mei@example.com";
  const done = await signUp(email, CJK_PASSWORD);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const signedIn = await signIn(email, CJK_PASSWORD);
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  seen.push(signedIn.body.access_token, signedIn.body.id_token);

  let r = await post(worker, TENANT, "resetpassword/v1.0/start", { username: email, challenge_type: "oob redirect" });
  r = await post(worker, TENANT, "resetpassword/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob redirect" });
  const code = await latestCode(worker, email);
  seen.push(code);
  r = await post(worker, TENANT, "resetpassword/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const submit = ct(r);
  const refused = await post(worker, TENANT, "resetpassword/v1.0/submit", { continuation_token: submit, new_password: "MEI@example.com1" });
  isError(refused, "invalid_grant", { suberror: "password_banned", code: 399246 });
  // The refusal keeps the client's token in force: a good password still completes the reset.
  const ok = await post(worker, TENANT, "resetpassword/v1.0/submit", { continuation_token: submit, new_password: "パスワード-2024-新しい" });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.poll_interval, 2);
  const poll = await post(worker, TENANT, "resetpassword/v1.0/poll_completion", { continuation_token: ct(ok) });
  assert.equal(poll.body.status, "succeeded", JSON.stringify(poll.body));
});

// An int64 attribute whose validationRegEx allows 18 to 99: MSAL sends the app's values with
// JSON.stringify, so a number typed into a number field arrives as a JSON number. The regex
// held for "5" but not for 5; now both are `attribute_validation_failed`, naming the attribute.
test("a password typed in another Unicode form signs in: NFC at sign-up, NFD or full-width at sign-in", async () => {
  const email = "zoe.unicode@example.com";
  // One keyboard types é and è as single characters (NFC); another, or a paste from some
  // macOS apps, as e/e plus combining accents (NFD); a Japanese one may give full-width
  // digits. NFKC makes them one secret (NIST SP 800-63B §5.1.1.2).
  const nfc = "Caf\u00e9-Cr\u00e8me-42";
  const nfd = "Cafe\u0301-Cre\u0300me-42";
  const wide = "Caf\u00e9-Cr\u00e8me-\uff14\uff12";
  assert.notEqual(nfc, nfd);
  seen.push(nfd, wide);
  const done = await signUp(email, nfc);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  for (const typed of [nfd, wide, nfc]) {
    const r = await signIn(email, typed);
    assert.equal(r.status, 200, `${JSON.stringify(typed)}: ${JSON.stringify(r.body)}`);
    seen.push(r.body.access_token, r.body.id_token);
  }
  const wrong = await signIn(email, "Cafe-Creme-42");
  isError(wrong, "invalid_grant", { code: 50126 });
});

test("sign-up attributes: a JSON number is held to the attribute's validationRegEx", async () => {
  const config = flowConfig({ settings: { mfaEnforcement: "off" } });
  config.userFlow.onAttributeCollection = {
    attributes: [{ id: "email", dataType: "string" }, { id: "extension_app_Age", dataType: "int64" }],
    attributeCollectionPage: { views: [{ inputs: [
      { attribute: "email", hidden: true, required: true },
      { attribute: "extension_app_Age", inputType: "text", required: true, validationRegEx: "^(1[89]|[2-9][0-9])$" },
    ] }] },
  };
  const put = await fetch(`${worker.url}/_dev/native/rvattrs/flow-config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(config) });
  assert.equal(put.status, 200, await put.text());
  const email = "age@example.com";
  const password = "Correct-Horse-Battery-9";
  seen.push(email, password);
  for (const age of [5, "5"]) {
    const r = await post(worker, "rvattrs", "signup/v1.0/start", { username: email, challenge_type: TYPES, password, attributes: JSON.stringify({ extension_app_Age: age }) });
    isError(r, "invalid_grant", { suberror: "attribute_validation_failed" });
    assert.deepEqual(r.body.invalid_attributes.map((a) => a.name), ["extension_app_Age"], JSON.stringify(r.body));
  }
  const ok = await post(worker, "rvattrs", "signup/v1.0/start", { username: email, challenge_type: TYPES, password, attributes: JSON.stringify({ extension_app_Age: 36 }) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});
