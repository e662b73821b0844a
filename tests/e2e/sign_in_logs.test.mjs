// Sign-in logs against the Worker in workerd: a report-only MFA policy is read in the log
// before it is switched on, every attempt leaves a Graph-shaped record, the OData filters
// work, and no record or log line holds a code, password, token or phone number.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, TYPES, assertLogClean, latestCode, nativeVars, post } from "../support/native.mjs";

const T = "logs";
const EMAIL = "log-user@example.com";
const PASSWORD = "Correct-Horse-Battery-9";
const PHONE = "+15557650042";
const TOKEN = "oauth2/v2.0/token";
let worker;
const seen = [EMAIL, PASSWORD, PHONE]; // none may reach the Worker log
const secrets = [PASSWORD, PHONE]; // none may reach a record (the email may: it is the UPN)
let userId;
let policyId;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

before(async () => {
  worker = await startWorker({ vars: nativeVars() });
});
after(async () => { await worker?.stop(); });

const ct = (r) => {
  assert.equal(typeof r.body.continuation_token, "string", JSON.stringify(r.body));
  seen.push(r.body.continuation_token);
  secrets.push(r.body.continuation_token);
  return r.body.continuation_token;
};
const keepTokens = (body) => {
  for (const t of [body.access_token, body.id_token, body.refresh_token]) if (t) { seen.push(t); secrets.push(t); }
};

async function admin(path, { method = "GET", body, auth = true, tenant = T } = {}) {
  const headers = auth ? { authorization: `Bearer ${ADMIN}` } : {};
  if (body) headers["content-type"] = "application/json";
  const prefix = tenant === null ? "" : `/${tenant}`;
  const res = await fetch(`${worker.url}${prefix}/v1.0/${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

/** Lists sign-ins with these query options; asserts a 200. */
async function signIns(params = {}, tenant = T) {
  const q = new URLSearchParams(params).toString();
  const r = await admin(`auditLogs/signIns${q ? `?${q}` : ""}`, { tenant });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body["@odata.context"], "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns");
  for (const s of secrets) assert.ok(!r.text.includes(s), `a record holds a secret (${s.slice(0, 4)}…)`);
  return r.body.value;
}

/** Initiate + challenge + password; returns the token response. */
async function signInWithPassword(password) {
  let r = await post(worker, T, "oauth2/v2.0/initiate", { username: EMAIL, challenge_type: TYPES, capabilities: CAPS });
  r = await post(worker, T, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  return post(worker, T, TOKEN, { continuation_token: ct(r), grant_type: "password", password, scope: "openid" });
}

test("a report-only MFA policy is logged as interrupted while the sign-in succeeds, then enforced", async () => {
  // An account, signed up while the tenant has no policy (tokens issued: a first record).
  let r = await post(worker, T, "signup/v1.0/start", { username: EMAIL, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
  r = await post(worker, T, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  const signUpCode = await latestCode(worker, EMAIL);
  seen.push(signUpCode); secrets.push(signUpCode);
  r = await post(worker, T, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: signUpCode });
  r = await post(worker, T, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: EMAIL });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  keepTokens(r.body);

  // Report-only first.
  const created = await admin("identity/conditionalAccess/policies", {
    method: "POST",
    body: {
      displayName: "Require MFA for all users (report-only)",
      state: "enabledForReportingButNotEnforced",
      conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] } },
      grantControls: { operator: "OR", builtInControls: ["mfa"] },
    },
  });
  assert.equal(created.status, 201, created.text);
  policyId = created.body.id;

  r = await signInWithPassword(PASSWORD);
  assert.equal(r.status, 200, `password alone still signs in: ${JSON.stringify(r.body)}`);
  keepTokens(r.body);
  let [latest] = await signIns({ $top: "1" });
  userId = latest.userId;
  assert.match(userId, /.+/);
  assert.equal(latest.userPrincipalName, EMAIL);
  assert.equal(latest.appId, APP);
  assert.equal(latest.isInteractive, true);
  assert.deepEqual(latest.status, { errorCode: 0, failureReason: null });
  assert.equal(latest.conditionalAccessStatus, "notApplied", "report-only never changes the status");
  assert.deepEqual(latest.appliedConditionalAccessPolicies, [{
    id: policyId, displayName: "Require MFA for all users (report-only)",
    enforcedGrantControls: ["mfa"], enforcedSessionControls: [],
    // MFA would have been asked for: the portal's "report-only: user action required".
    result: "reportOnlyInterrupted",
  }]);
  assert.equal(latest.authenticationRequirement, "singleFactorAuthentication");
  assert.deepEqual(latest.authenticationMethodsUsed, ["Password"]);
  assert.equal(latest.authenticationDetails[0].authenticationStepRequirement, "Primary authentication");
  assert.match(latest.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // The same record by id.
  const one = await admin(`auditLogs/signIns/${latest.id}`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body, latest);

  // A wrong password: a failure record with its error code and no policy results.
  r = await signInWithPassword("Wrong-Password-42");
  assert.equal(r.body.error, "invalid_grant");
  [latest] = await signIns({ $top: "1" });
  assert.equal(latest.status.errorCode, 50126);
  assert.equal(typeof latest.status.failureReason, "string");
  assert.equal(latest.conditionalAccessStatus, "notApplied");
  assert.deepEqual(latest.appliedConditionalAccessPolicies, []);
  assert.deepEqual(latest.authenticationDetails.map((d) => [d.authenticationMethod, d.succeeded]), [["Password", false]]);

  // Switch it on: the next sign-in needs MFA (here: register a phone just in time).
  await sleep(1100); // a new second, for the time filter below
  const on = await admin(`identity/conditionalAccess/policies/${policyId}`, { method: "PATCH", body: { state: "enabled" } });
  assert.equal(on.status, 200, on.text);
  r = await signInWithPassword(PASSWORD);
  assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
  r = await post(worker, T, "register/v1.0/introspect", { continuation_token: ct(r) });
  r = await post(worker, T, "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: PHONE, challenge_channel: "sms" });
  const sms = await latestCode(worker, PHONE);
  seen.push(sms); secrets.push(sms);
  r = await post(worker, T, "register/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: sms });
  r = await post(worker, T, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  keepTokens(r.body);
  [latest] = await signIns({ $top: "1" });
  assert.equal(latest.status.errorCode, 0);
  assert.equal(latest.conditionalAccessStatus, "success");
  assert.equal(latest.appliedConditionalAccessPolicies[0].result, "success");
  assert.equal(latest.authenticationRequirement, "multiFactorAuthentication");
  assert.deepEqual(latest.authenticationMethodsUsed, ["Password", "SMS"]);

  // The next sign-in: a wrong SMS code is a failed MFA (500121), then the right one.
  r = await signInWithPassword(PASSWORD);
  assert.equal(r.body.suberror, "mfa_required", JSON.stringify(r.body));
  r = await post(worker, T, "oauth2/v2.0/introspect", { continuation_token: ct(r) });
  const [method] = r.body.methods;
  r = await post(worker, T, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: method.id });
  const mt = ct(r);
  r = await post(worker, T, TOKEN, { continuation_token: mt, grant_type: "mfa_oob", oob: "12345678" });
  assert.equal(r.body.suberror, "invalid_oob_value");
  [latest] = await signIns({ $top: "1" });
  assert.equal(latest.status.errorCode, 500121);
  assert.equal(latest.conditionalAccessStatus, "failure");
  assert.equal(latest.appliedConditionalAccessPolicies[0].result, "failure");
  const mfaCode = await latestCode(worker, PHONE);
  seen.push(mfaCode); secrets.push(mfaCode);
  r = await post(worker, T, TOKEN, { continuation_token: mt, grant_type: "mfa_oob", oob: mfaCode, scope: "openid" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  keepTokens(r.body);

  // An unknown user is a record too, with no user id.
  r = await post(worker, T, "oauth2/v2.0/initiate", { username: "nobody-here@example.com", challenge_type: TYPES });
  assert.equal(r.body.error, "user_not_found");
  [latest] = await signIns({ $top: "1" });
  assert.equal(latest.status.errorCode, 50034);
  assert.equal(latest.userId, null);
});

test("filters by user, app, time and result, newest first; a bad filter is a 400", async () => {
  const all = await signIns();
  // sign-up, report-only, wrong password, enabled + MFA, wrong MFA code, MFA, unknown user
  assert.deepEqual(all.map((r) => r.status.errorCode), [50034, 0, 500121, 0, 50126, 0, 0]);
  const times = all.map((r) => r.createdDateTime);
  assert.deepEqual([...times].sort().reverse(), times, "newest first");
  assert.equal(new Set(all.map((r) => r.id)).size, all.length);

  const mine = await signIns({ $filter: `userId eq '${userId}'` });
  assert.equal(mine.length, 6);
  assert.ok(mine.every((r) => r.userId === userId));
  assert.equal((await signIns({ $filter: `userPrincipalName eq '${EMAIL.toUpperCase()}'` })).length, 6);
  assert.equal((await signIns({ $filter: `appId eq '${APP}'` })).length, 7);
  assert.equal((await signIns({ $filter: "appId eq 'another-app'" })).length, 0);

  const failures = await signIns({ $filter: "status/errorCode ne 0" });
  assert.deepEqual(failures.map((r) => r.status.errorCode), [50034, 500121, 50126]);
  const successes = await signIns({ $filter: "status/errorCode eq 0" });
  assert.equal(successes.length, 4);
  const enforced = await signIns({ $filter: "conditionalAccessStatus eq 'success'" });
  assert.equal(enforced.length, 2);

  // Time: the switch-on happened more than a second after the report-only sign-ins.
  const switchedOn = all[3].createdDateTime;
  const since = await signIns({ $filter: `createdDateTime ge ${switchedOn}` });
  assert.deepEqual(since.map((r) => r.id), all.slice(0, 4).map((r) => r.id));
  const until = await signIns({ $filter: `createdDateTime lt ${switchedOn}` });
  assert.deepEqual(until.map((r) => r.id), all.slice(4).map((r) => r.id));

  const combined = await signIns({ $filter: `userId eq '${userId}' and status/errorCode eq 0 and createdDateTime ge ${switchedOn}`, $top: "1" });
  assert.deepEqual(combined.map((r) => r.id), [all[1].id]);

  for (const [filter, code] of [
    ["appId eq 'a' or appId eq 'b'", "signIns.query_unsupported"],
    ["ipAddress eq '127.0.0.1'", "signIns.query_unsupported"],
    ["createdDateTime ge yesterday", "signIns.filter_invalid"],
    ["userId eq", "signIns.filter_invalid"],
  ]) {
    const bad = await admin(`auditLogs/signIns?${new URLSearchParams({ $filter: filter })}`);
    assert.equal(bad.status, 400, filter);
    assert.equal(bad.body.error.code, code, filter);
    assert.equal(typeof bad.body.error.message, "string");
  }
  const badTop = await admin("auditLogs/signIns?$top=0");
  assert.equal(badTop.status, 400);
  assert.equal(badTop.body.error.code, "signIns.top_invalid");
});

/** Follows `@odata.nextLink` from the first page of `params`; returns each page. */
async function pages(params) {
  const out = [];
  let url = `${worker.url}/${T}/v1.0/auditLogs/signIns?${new URLSearchParams(params)}`;
  while (url) {
    assert.ok(out.length < 20, "the links never end");
    assert.ok(url.startsWith(`${worker.url}/${T}/v1.0/auditLogs/signIns?`), url);
    const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text);
    out.push(body);
    url = body["@odata.nextLink"];
  }
  return out;
}

test("$top pages carry @odata.nextLink; following it lists every record once, in order", async () => {
  const all = (await signIns()).map((r) => r.id);
  assert.equal(all.length, 7);
  const three = await pages({ $top: "3" });
  assert.deepEqual(three.map((p) => p.value.length), [3, 3, 1]);
  assert.deepEqual(three.flatMap((p) => p.value.map((r) => r.id)), all, "no duplicates, no gaps");
  assert.match(three[0]["@odata.nextLink"], /[?&]\$skiptoken=[A-Za-z0-9_-]+/);
  assert.match(three[0]["@odata.nextLink"], /[?&]\$top=3(&|$)/);
  // A page that ends on the last record links nowhere (no empty last page).
  const exact = await pages({ $top: "7" });
  assert.equal(exact.length, 1);
  assert.equal(exact[0]["@odata.nextLink"], undefined);
  // The filter travels with the link: one success per page, all four, newest first.
  const successes = (await signIns({ $filter: "status/errorCode eq 0" })).map((r) => r.id);
  const ones = await pages({ $filter: "status/errorCode eq 0", $top: "1" });
  assert.deepEqual(ones.flatMap((p) => p.value.map((r) => r.id)), successes);
  assert.ok(ones.length >= 4 && ones.length <= 5, String(ones.length));
  // A token not issued here is refused.
  for (const token of ["forged", Buffer.from('{"k":"../other-tenant"}').toString("base64url")]) {
    const bad = await admin(`auditLogs/signIns?$top=3&$skiptoken=${token}`);
    assert.equal(bad.status, 400, `${token}: ${bad.text}`);
    assert.equal(bad.body.error.code, "signIns.skiptoken_invalid");
  }
});

test("the admin credential is required, ids are checked, tenants are apart", async () => {
  for (const path of ["auditLogs/signIns", "auditLogs/signIns/00000000-0000-7000-8000-000000000000"]) {
    const r = await admin(path, { auth: false });
    assert.equal(r.status, 401, path);
    assert.equal(r.body.error.code, "admin.unauthorized");
  }
  for (const id of ["00000000-0000-7000-8000-000000000000", "not-an-id", "..%2F..%2Fuser"]) {
    const r = await admin(`auditLogs/signIns/${id}`);
    assert.equal(r.status, 404, id);
  }
  // An app the user flow does not serve is a failed attempt too (700016).
  const refused = await post(worker, "apps", "oauth2/v2.0/initiate", { username: "someone@example.com", challenge_type: TYPES }, { clientId: "unknown-app" });
  assert.equal(refused.body.error, "unauthorized_client");
  await post(worker, "apps", "oauth2/v2.0/initiate", { username: "nobody@example.com", challenge_type: TYPES });
  const byApp = await signIns({ $filter: "appId eq 'unknown-app'" }, "apps");
  assert.deepEqual(byApp.map((x) => [x.status.errorCode, x.userPrincipalName]), [[700016, "someone@example.com"]]);
  assert.equal((await signIns({}, "apps")).length, 2);

  const post_ = await admin("auditLogs/signIns", { method: "POST", body: {} });
  assert.equal(post_.status, 405);
  assert.deepEqual(await signIns({}, "another-tenant"), []);
  // Without a tenant segment: the default tenant's log.
  const r = await post(worker, "default", "oauth2/v2.0/initiate", { username: "nobody-default@example.com", challenge_type: TYPES });
  assert.equal(r.body.error, "user_not_found");
  const dflt = await signIns({}, null);
  assert.deepEqual(dflt.map((x) => x.userPrincipalName), ["nobody-default@example.com"]);
});

test("no code, password, token, phone number or email reaches the Worker log", async () => {
  assertLogClean(worker.output(), seen);
});
