// The malformed-request corpus against the Worker in workerd: every native-auth endpoint
// and the admin API, with broken bodies, wrong content types and methods, missing,
// duplicate and unknown parameters, forged, truncated, replayed, expired and foreign
// continuation tokens, bad tenant segments, path traversal and huge headers.
//
// Hand-written entries live in tests/corpus/http/*.json (format: that folder's README);
// the runner adds generated ones (every endpoint × every generic fault) below. Every
// answer must be below 500 and JSON with a code; afterwards a normal sign-up and an MFA
// sign-in must still work, the admin data must be intact, and the Worker log must hold
// no panic and no secret.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, TYPES, assertLogClean, flowConfig, latestCode, nativeVars, post, requireMfa } from "../support/native.mjs";
import { check, loadCorpus, prepare, send } from "../support/corpus.mjs";

const TENANT = "corpus"; // MFA required by a Conditional Access policy
const OTHER = "corpus-other"; // another tenant, for foreign tokens
const SHORT = "corpus-short"; // reset window of one second, for expired tokens
const ADMIN_TENANT = "corpus-admin"; // admin entries write here, never to TENANT
const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";

let worker;
const vars = nativeVars();
const seen = [vars.ADMIN_TOKEN, vars.CODE_KEY, JSON.parse(vars.SIGNING_KEYS)[0].seed, PASSWORD];
let counter = 0;
const freshEmail = (tag) => `${tag}-${++counter}-${process.pid}@corpus.example`;

// --- journeys the fixtures are built from -------------------------------------------

const ok = (r, what) => {
  assert.ok(r.status === 200, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
};
const ct = (r, what = "step") => {
  assert.equal(typeof r.body.continuation_token, "string", `${what}: ${JSON.stringify(r.body)}`);
  seen.push(r.body.continuation_token);
  return r.body.continuation_token;
};
async function code(to) {
  const c = await latestCode(worker, to);
  seen.push(c);
  return c;
}

/** Signs up `email` and, where MFA is required, registers its email as the second
 * factor; returns the token response. */
async function signUp(tenant, email) {
  seen.push(email);
  let r = ok(await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD }), "signup start");
  r = ok(await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }), "signup challenge");
  r = ok(await post(worker, tenant, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: await code(email) }), "signup continue");
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: email });
  if (r.body.suberror === "registration_required") {
    r = ok(await post(worker, tenant, "register/v1.0/introspect", { continuation_token: ct(r) }), "register introspect");
    r = ok(await post(worker, tenant, "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: email, challenge_channel: "email" }), "register challenge");
    // The sign-up already verified this address: the server answers `preverified`.
    const grant = r.body.challenge_type === "preverified" ? { grant_type: "continuation_token" } : { grant_type: "oob", oob: await code(email) };
    r = ok(await post(worker, tenant, "register/v1.0/continue", { continuation_token: ct(r), ...grant }), "register continue");
    r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  }
  ok(r, "sign-up tokens");
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r.body;
}

/** Signs `email` in with its password and the email code; returns the token response. */
async function signIn(tenant, email) {
  let r = ok(await post(worker, tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS }), "initiate");
  r = ok(await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }), "challenge");
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD, scope: "openid profile offline_access" });
  if (r.body.suberror === "mfa_required") {
    r = ok(await post(worker, tenant, "oauth2/v2.0/introspect", { continuation_token: ct(r) }), "introspect");
    const [method] = r.body.methods;
    r = ok(await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: method.id }), "mfa challenge");
    r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "mfa_oob", oob: await code(email), scope: "openid profile offline_access" });
  }
  ok(r, "sign-in tokens");
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r.body;
}

// Sign-in fixtures use a pool of users; each user serves three fixtures, so the wrong
// passwords and codes the corpus sends never reach the lockout threshold.
let poolUser;
let poolUses = 0;
async function poolEmail() {
  if (!poolUser || poolUses >= 3) {
    poolUser = freshEmail("pool");
    poolUses = 0;
    await signUp(TENANT, poolUser);
  }
  poolUses += 1;
  return poolUser;
}

const at = {
  async signupChallenge(tenant = TENANT) {
    const r = await post(worker, tenant, "signup/v1.0/start", { username: freshEmail("su"), challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
    return ct(ok(r, "signup start"));
  },
  async signupCode() {
    const r = await post(worker, TENANT, "signup/v1.0/challenge", { continuation_token: await at.signupChallenge(), challenge_type: TYPES });
    return ct(ok(r, "signup challenge"));
  },
  async signinChallenge() {
    const r = await post(worker, TENANT, "oauth2/v2.0/initiate", { username: await poolEmail(), challenge_type: TYPES, capabilities: CAPS });
    return ct(ok(r, "initiate"));
  },
  async signinPassword() {
    const r = await post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: await at.signinChallenge(), challenge_type: TYPES });
    return ct(ok(r, "challenge"));
  },
  async mfaMethod() {
    const r = await post(worker, TENANT, TOKEN, { continuation_token: await at.signinPassword(), grant_type: "password", password: PASSWORD });
    assert.equal(r.body.suberror, "mfa_required", JSON.stringify(r.body));
    return ct(r);
  },
  async mfaCode() {
    let r = ok(await post(worker, TENANT, "oauth2/v2.0/introspect", { continuation_token: await at.mfaMethod() }), "introspect");
    r = await post(worker, TENANT, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: r.body.methods[0].id });
    return ct(ok(r, "mfa challenge"));
  },
  async registration() {
    const email = freshEmail("reg");
    seen.push(email);
    let r = ok(await post(worker, TENANT, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD }), "signup start");
    r = ok(await post(worker, TENANT, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }), "signup challenge");
    r = ok(await post(worker, TENANT, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: await code(email) }), "signup continue");
    r = await post(worker, TENANT, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
    assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
    return ct(r);
  },
  async registrationCode() {
    let r = ok(await post(worker, TENANT, "register/v1.0/introspect", { continuation_token: await at.registration() }), "register introspect");
    r = await post(worker, TENANT, "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: freshEmail("second"), challenge_channel: "email" });
    return ct(ok(r, "register challenge"));
  },
  async resetChallenge() {
    const r = await post(worker, TENANT, "resetpassword/v1.0/start", { username: await poolEmail(), challenge_type: TYPES, capabilities: CAPS });
    return ct(ok(r, "reset start"));
  },
  async resetCode() {
    const r = await post(worker, TENANT, "resetpassword/v1.0/challenge", { continuation_token: await at.resetChallenge(), challenge_type: TYPES });
    return ct(ok(r, "reset challenge"));
  },
  async resetNewPassword() {
    const r = await post(worker, TENANT, "resetpassword/v1.0/continue", { continuation_token: await at.resetCode(), grant_type: "oob", oob: await code(poolUser) });
    return ct(ok(r, "reset continue"));
  },
  /** A token that was already rotated away. */
  async used() {
    const t = await at.signupChallenge();
    ok(await post(worker, TENANT, "signup/v1.0/challenge", { continuation_token: t, challenge_type: TYPES }), "rotate");
    return t;
  },
  async truncated() {
    return (await at.signinChallenge()).slice(0, -1);
  },
  async foreign() {
    return at.signupChallenge(OTHER);
  },
};

// Expired tokens: reset flows in SHORT, past their one-second window. Each is deleted on
// first use, so the runner makes as many as the corpus names, all before the first entry.
const expired = [];
async function makeExpired(count) {
  const email = freshEmail("short");
  await signUp(SHORT, email);
  for (let i = 0; i < count; i++) {
    let r = ok(await post(worker, SHORT, "resetpassword/v1.0/start", { username: email, challenge_type: TYPES }), "reset start");
    r = ok(await post(worker, SHORT, "resetpassword/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }), "reset challenge");
    r = ok(await post(worker, SHORT, "resetpassword/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: await code(email) }), "reset continue");
    assert.equal(r.body.expires_in, 1);
    expired.push(ct(r));
  }
  await new Promise((done) => setTimeout(done, 2200));
}

const shared = {};
/** The value of a placeholder name. */
async function resolve(name) {
  const fixed = { tenant: TENANT, other: OTHER, short: SHORT, adminTenant: ADMIN_TENANT, admin: ADMIN, app: APP, types: TYPES, caps: CAPS, password: PASSWORD };
  if (name in fixed) return fixed[name];
  if (name === "email") return freshEmail("new");
  if (name === "user") return poolEmail();
  if (name === "ct.expired") {
    assert.ok(expired.length > 0, "more {{ct.expired}} placeholders than prepared tokens");
    return expired.shift();
  }
  if (name.startsWith("ct.") && at[name.slice(3)]) return at[name.slice(3)]();
  if (name === "rt" || name === "rt.used") {
    shared.rt ??= (await signIn(TENANT, await poolEmail())).refresh_token;
    if (name === "rt") return shared.rt;
    if (!shared.rtUsed) {
      const r = ok(await post(worker, TENANT, TOKEN, { grant_type: "refresh_token", refresh_token: shared.rt }), "refresh");
      seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
      shared.rtUsed = shared.rt;
      shared.rt = r.body.refresh_token;
    }
    return shared.rtUsed;
  }
  if (name === "policyId" || name === "locationId") return shared[name];
  throw new Error(`unknown placeholder {{${name}}}`);
}

// --- generated entries ---------------------------------------------------------------

/** Every native-auth endpoint, with the parameters that make a step request parse, so a
 * bad token is what gets refused. */
const STEP_PARAMS = {
  "oauth2/v2.0/challenge": { challenge_type: TYPES },
  "oauth2/v2.0/token": { grant_type: "password", password: "Not-The-Password-1" },
  "oauth2/v2.0/introspect": {},
  "signup/v1.0/challenge": { challenge_type: TYPES },
  "signup/v1.0/continue": { grant_type: "oob", oob: "00000000" },
  "resetpassword/v1.0/challenge": { challenge_type: TYPES },
  "resetpassword/v1.0/continue": { grant_type: "oob", oob: "00000000" },
  "resetpassword/v1.0/submit": { new_password: "Another-Passphrase-5" },
  "resetpassword/v1.0/poll_completion": {},
  "register/v1.0/introspect": {},
  "register/v1.0/challenge": { challenge_type: "oob", challenge_target: "second@corpus.example", challenge_channel: "email" },
  "register/v1.0/continue": { grant_type: "oob", oob: "00000000" },
};
const START_PARAMS = {
  "oauth2/v2.0/initiate": { username: "{{user}}", challenge_type: TYPES, capabilities: CAPS },
  "signup/v1.0/start": { username: "{{email}}", challenge_type: TYPES, capabilities: CAPS },
  "resetpassword/v1.0/start": { username: "{{user}}", challenge_type: TYPES },
};
const ENDPOINTS = [...Object.keys(START_PARAMS), ...Object.keys(STEP_PARAMS)];
const FORM = { "content-type": "application/x-www-form-urlencoded" };
// Bytes no form parser turns into `client_id=`: NUL, invalid UTF-8, a lone `%`.
const GARBAGE = Buffer.from([0, 0xff, 0xfe, 0x25, 0xc3, 0x28, 0x3d, 0x26, 0x3d, 0xed, 0xa0, 0x80, 0x01, 0x7f]).toString("base64");

function generatedNative() {
  const out = [];
  const invalid = (status = 400, extra = {}) => ({ status, error: "invalid_request", ...extra });
  for (const ep of ENDPOINTS) {
    const path = `/{{tenant}}/${ep}`;
    const valid = START_PARAMS[ep] ?? { continuation_token: `vct_${"A".repeat(43)}`, ...STEP_PARAMS[ep] };
    out.push(
      { name: `${ep}: empty form`, path, headers: FORM, body: "", expect: invalid(400, { errorCodes: [900144] }) },
      { name: `${ep}: no content type`, path, body: `client_id=${APP}`, expect: invalid() },
      { name: `${ep}: json instead of a form`, path, headers: { "content-type": "application/json" }, json: { client_id: APP, ...valid }, expect: invalid() },
      { name: `${ep}: multipart form`, path, headers: { "content-type": "multipart/form-data; boundary=x" }, body: `--x\r\ncontent-disposition: form-data; name="client_id"\r\n\r\n${APP}\r\n--x--\r\n`, expect: invalid() },
      { name: `${ep}: binary garbage`, path, headers: FORM, bodyBase64: GARBAGE, expect: invalid(400, { errorCodes: [900144] }) },
      { name: `${ep}: body over 256 KiB`, path, headers: FORM, body: `client_id=${APP}&x={{repeat:270000:a}}`, expect: invalid() },
      { name: `${ep}: client_id twice`, path, headers: FORM, form: [["client_id", APP], ["client_id", "other-app"], ...Object.entries(valid)], expect: invalid() },
      { name: `${ep}: client_id not an id`, path, headers: FORM, form: { client_id: "<script>alert(1)</script>", ...valid }, expect: { status: 400, error: "unauthorized_client", errorCodes: [700016] } },
      { name: `${ep}: client_id of 129 characters`, path, headers: FORM, form: { client_id: "a".repeat(129), ...valid }, expect: { status: 400, error: "unauthorized_client", errorCodes: [700016] } },
      { name: `${ep}: bad tenant segment`, path: `/bad!tenant/${ep}`, headers: FORM, form: { client_id: APP, ...valid }, expect: { status: 404, error: "invalid_request" } },
      { name: `${ep}: tenant segment of 101 characters`, path: `/${"t".repeat(101)}/${ep}`, headers: FORM, form: { client_id: APP, ...valid }, expect: { status: 404, error: "invalid_request" } },
      { name: `${ep}: unknown parameters only`, path, headers: FORM, form: { x_unknown: "1", client_info: "1", "": "" }, expect: invalid(400, { errorCodes: [900144] }) },
      { name: `${ep}: preflight`, method: "OPTIONS", path, headers: { origin: "https://app.example", "access-control-request-method": "POST" }, expect: { status: 204, empty: true } },
    );
    for (const method of ["GET", "PUT", "DELETE", "PATCH", "HEAD"]) {
      const empty = method === "HEAD";
      out.push({ name: `${ep}: ${method}`, method, path, headers: FORM, body: method === "GET" || empty ? undefined : `client_id=${APP}`, expect: { status: 405, ...(empty ? { empty: true } : { code: "route.method_not_allowed" }) } });
    }
  }
  // Unknown apps at the start endpoints: a well-formed client id this tenant does not serve.
  for (const ep of Object.keys(START_PARAMS)) {
    out.push({ name: `${ep}: unknown client_id`, path: `/{{tenant}}/${ep}`, headers: FORM, form: { client_id: "00000000-0000-0000-0000-000000000000", ...START_PARAMS[ep] }, expect: { status: 400, error: "unauthorized_client", errorCodes: [700016] } });
  }
  // Every step endpoint × every kind of bad continuation token.
  const badTokens = [
    ["forged", `vct_${"A".repeat(43)}`, TENANT],
    ["garbage", "not-a-token", TENANT],
    ["empty-looking", "vct_", TENANT],
    ["huge", "vct_{{repeat:20000:A}}", TENANT],
    ["truncated", "{{ct.truncated}}", TENANT],
    ["replayed", "{{ct.used}}", TENANT],
    ["from another tenant", "{{ct.foreign}}", TENANT],
    ["of another app", "{{ct.signupChallenge}}", TENANT, "other-app"],
  ];
  for (const ep of Object.keys(STEP_PARAMS)) {
    for (const [kind, token, tenant, clientId = APP] of badTokens) {
      out.push({ name: `${ep}: ${kind} continuation token`, path: `/${tenant}/${ep}`, headers: FORM, form: { client_id: clientId, continuation_token: token, ...STEP_PARAMS[ep] }, expect: { status: 400, error: "invalid_grant", errorCodes: [55200] } });
    }
    // The token is past its reset window: `submit` says so (and ends the flow); any other
    // endpoint refuses it for being at the wrong step, before looking at the time.
    const late = ep === "resetpassword/v1.0/submit"
      ? { status: 400, error: "expired_token", errorCodes: [552003] }
      : { status: 400, error: "invalid_request", errorCodes: [55200] };
    out.push({ name: `${ep}: expired continuation token`, path: `/${SHORT}/${ep}`, headers: FORM, form: { client_id: APP, continuation_token: "{{ct.expired}}", ...STEP_PARAMS[ep] }, expect: late });
    out.push({ name: `${ep}: no continuation token`, path: `/{{tenant}}/${ep}`, headers: FORM, form: { client_id: APP, ...STEP_PARAMS[ep] }, expect: { status: 400, error: "invalid_request", errorCodes: [900144] } });
  }
  return out;
}

const ADMIN_PATHS = [
  "/{{adminTenant}}/v1.0/identity/conditionalAccess/policies",
  "/{{adminTenant}}/v1.0/identity/conditionalAccess/namedLocations",
  "/{{adminTenant}}/v1.0/identity/conditionalAccess/evaluate",
  "/v1.0/identity/conditionalAccess/policies",
];
function generatedAdmin() {
  const out = [];
  const auth = { authorization: "Bearer {{admin}}", "content-type": "application/json" };
  for (const path of ADMIN_PATHS) {
    const p = path.replace("/{{adminTenant}}", "").replace("/v1.0/identity/conditionalAccess/", "");
    const n = `${path.startsWith("/v1.0") ? "default tenant " : ""}${p}`;
    out.push(
      { name: `${n}: no credential`, path, headers: { "content-type": "application/json" }, json: {}, expect: { status: 401, code: "admin.unauthorized" } },
      { name: `${n}: wrong credential`, path, headers: { ...auth, authorization: "Bearer wrong-wrong-wrong-wrong-wrong-wrong" }, json: {}, expect: { status: 401, code: "admin.unauthorized" } },
      { name: `${n}: credential with a suffix`, path, headers: { ...auth, authorization: "Bearer {{admin}}x" }, json: {}, expect: { status: 401, code: "admin.unauthorized" } },
      { name: `${n}: basic scheme`, path, headers: { ...auth, authorization: "Basic {{admin}}" }, json: {}, expect: { status: 401, code: "admin.unauthorized" } },
      { name: `${n}: credential twice`, path, headers: { ...auth, authorization: ["Bearer {{admin}}", "Bearer {{admin}}"] }, json: {}, expect: { status: 401, code: "admin.unauthorized" } },
      { name: `${n}: 8 KiB credential`, path, headers: { ...auth, authorization: "Bearer {{repeat:8192:x}}" }, json: {}, expect: { status: 401, code: "admin.unauthorized" } },
      { name: `${n}: no content type`, path, headers: { authorization: "Bearer {{admin}}" }, body: "{}", expect: { status: 415, code: "request.unsupported_media_type" } },
      { name: `${n}: form content type`, path, headers: { ...auth, "content-type": "application/x-www-form-urlencoded" }, body: "a=b", expect: { status: 415, code: "request.unsupported_media_type" } },
      { name: `${n}: empty body`, path, headers: auth, body: "", expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: truncated json`, path, headers: auth, body: '{"displayName": "x", "state": ', expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: trailing garbage`, path, headers: auth, body: '{"displayName": "x"} {}', expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: invalid utf-8`, path, headers: auth, bodyBase64: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString("base64"), expect: { status: 400, code: "request.invalid_utf8" } },
      { name: `${n}: raw NUL in a string`, path, headers: auth, body: '{"displayName": "a\u0000b"}', expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: byte order mark`, path, headers: auth, body: '\ufeff{"displayName": "x"}', expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: arrays nested 200 deep`, path, headers: auth, body: '{"displayName": {{nest:200}}}', expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: objects nested 40000 deep`, path, headers: auth, body: "{{nestobj:40000}}", expect: { status: 400, code: "policy.invalid_json" } },
      { name: `${n}: body over 256 KiB`, path, headers: auth, body: '{"displayName": "{{repeat:270000:a}}"}', expect: { status: 413, code: "request.too_large" } },
      { name: `${n}: duplicate key`, path, headers: auth, body: '{"state": "disabled", "state": "enabled"}', expect: { status: 400, code: "policy.duplicate_key" } },
      { name: `${n}: PUT`, method: "PUT", path, headers: auth, json: {}, expect: { status: 405, code: "route.method_not_allowed" } },
    );
  }
  return out;
}

// --- the run -----------------------------------------------------------------------

const files = loadCorpus();
const generated = [
  { file: "generated: native auth", defaults: {}, entries: generatedNative() },
  { file: "generated: admin API", defaults: {}, entries: generatedAdmin() },
];
const all = [...files, ...generated];

before(async () => {
  worker = await startWorker({ vars, timeoutMs: 120_000 });
  await requireMfa(worker, TENANT);
  const put = await fetch(`${worker.url}/_dev/native/${SHORT}/flow-config`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(flowConfig({ settings: { mfaEnforcement: "conditional", resetWindowSeconds: 1 } })),
  });
  assert.equal(put.status, 200, await put.text());
  // Admin data that the corpus must not damage.
  const admin = (path, body) => fetch(`${worker.url}/${ADMIN_TENANT}/v1.0/identity/conditionalAccess/${path}`, {
    method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify(body),
  });
  let res = await admin("namedLocations", { "@odata.type": "#microsoft.graph.ipNamedLocation", displayName: "Office", isTrusted: true, ipRanges: [{ "@odata.type": "#microsoft.graph.iPv4CidrRange", cidrAddress: "203.0.113.0/24" }] });
  assert.equal(res.status, 201, await res.clone().text());
  shared.location = await res.json();
  shared.locationId = shared.location.id;
  res = await admin("policies", {
    displayName: "Block outside the office", state: "disabled",
    conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] }, locations: { includeLocations: ["All"], excludeLocations: [shared.locationId] } },
    grantControls: { operator: "OR", builtInControls: ["block"] },
  });
  assert.equal(res.status, 201, await res.clone().text());
  shared.policy = await res.json();
  shared.policyId = shared.policy.id;
  // The account the final check signs in with: the corpus never touches it.
  shared.main = freshEmail("main");
  await signUp(TENANT, shared.main);
  const wanted = all.flatMap((f) => f.entries).reduce((n, e) => n + (JSON.stringify(e).match(/\{\{ct\.expired\}\}/g) ?? []).length, 0);
  await makeExpired(wanted);
});
after(async () => { await worker?.stop(); });

test("the corpus holds at least 200 requests", () => {
  const count = all.reduce((n, f) => n + f.entries.length, 0);
  assert.ok(count >= 200, `${count} entries`);
  assert.ok(files.length > 0, "hand-written corpus files exist");
});

for (const { file, defaults, entries } of all) {
  describe(file, () => {
    for (const entry of entries) {
      test(entry.name, async () => {
        const req = await prepare(entry, defaults, resolve);
        const res = await send(worker.url, req);
        check(entry, res);
      });
    }
  });
}

describe("after the corpus", () => {
  test("a new user signs up and an existing user signs in with MFA", async () => {
    const email = freshEmail("after");
    await signUp(TENANT, email);
    const tokens = await signIn(TENANT, shared.main);
    const claims = JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url"));
    assert.ok(claims.amr.includes("mfa"), JSON.stringify(claims.amr));
    const again = await signIn(TENANT, email);
    assert.equal(typeof again.access_token, "string");
  });

  test("the admin data is intact", async () => {
    const get = async (path) => {
      const res = await fetch(`${worker.url}/${ADMIN_TENANT}/v1.0/identity/conditionalAccess/${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      assert.equal(res.status, 200);
      return res.json();
    };
    assert.deepEqual(await get(`policies/${shared.policyId}`), shared.policy);
    assert.deepEqual(await get(`namedLocations/${shared.locationId}`), shared.location);
  });

  test("the Worker log holds no panic and no secret", () => {
    const output = worker.output();
    for (const sign of [/panicked at/i, /RuntimeError/, /\bunreachable\b/, /Uncaught/, /internal error/]) {
      assert.ok(!sign.test(output), `the log shows ${sign}:\n${output.split("\n").filter((l) => sign.test(l)).join("\n")}`);
    }
    assertLogClean(output, seen);
  });
});
