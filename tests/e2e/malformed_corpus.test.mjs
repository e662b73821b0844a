// The malformed-request corpus against the Worker in workerd: every native-auth endpoint,
// the OpenID Connect endpoints (authorize, hosted-page posts, code and refresh grants,
// userinfo, discovery) and the admin API, with broken bodies, wrong content types and
// methods, missing, duplicate and unknown parameters, forged, truncated, replayed,
// expired and foreign tokens, codes and handles, bad redirect URIs, bad OData queries,
// bad tenant segments, path traversal and huge headers.
//
// Hand-written entries live in tests/corpus/http/*.json (format: that folder's README);
// the runner adds generated ones (every endpoint × every generic fault) below. Every
// answer must be below 500 and carry a code (JSON) or a readable message (HTML pages);
// afterwards a normal sign-up, an MFA sign-in and an OIDC code flow must still work, the
// admin data and tenant configuration must be intact, and the Worker log must hold no
// panic and no secret.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, ROOMY_EMAIL_VELOCITY, TYPES, assertLogClean, flowConfig, latestCode, nativeVars, post, requireMfa } from "../support/native.mjs";
import { check, loadCorpus, prepare, send } from "../support/corpus.mjs";
import { Browser, CHALLENGE, REDIRECT, VERIFIER, corpusBinding, forgedTokens } from "../support/corpus_oidc.mjs";

const TENANT = "corpus"; // MFA required by a Conditional Access policy
const OTHER = "corpus-other"; // another tenant, for foreign tokens
const SHORT = "corpus-short"; // reset window of one second, for expired tokens
const ADMIN_TENANT = "corpus-admin"; // admin entries write here, never to TENANT
const OIDC_TENANT = "corpus-oidc"; // OpenID Connect: the built-in flow, a second app registered
const APP_B = "corpus-app-b"; // a registered web app of OIDC_TENANT (redirect APP_B_REDIRECT)
const APP_B_REDIRECT = "https://app-b.corpus.example/cb";
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

// OpenID Connect: one browser signed up in OIDC_TENANT, holding the single sign-on cookie.
let browser;
const oidcFixed = {
  tenant: OIDC_TENANT, redirect: encodeURIComponent(REDIRECT), redirectRaw: REDIRECT, challenge: CHALLENGE, verifier: VERIFIER,
  appB: APP_B, appBRedirect: encodeURIComponent(APP_B_REDIRECT),
};
async function oidcValue(name) {
  if (name in oidcFixed) return oidcFixed[name];
  if (name === "code") return browser.code();
  if (name === "codeUsed") {
    const code = await browser.code();
    await browser.exchange(code);
    return code;
  }
  if (name === "interaction") return (await browser.handle()).value;
  if (name === "binding") return corpusBinding() ?? (await browser.handle(), corpusBinding());
  if (name === "interactionUsed") return browser.usedHandle();
  if (name === "codePage") {
    const email = freshEmail("oidc-code");
    seen.push(email);
    const { value, h1 } = await new Browser(worker, OIDC_TENANT, seen).handleAfter({ action: "switch" }, { action: "email", email });
    assert.equal(h1, "Enter the code");
    return value;
  }
  if (name === "passwordPage") {
    // A user of its own, three fixtures each: wrong passwords never lock anyone out.
    if (!shared.pwUser || shared.pwUses >= 3) {
      shared.pwUser = freshEmail("oidc-pw");
      shared.pwUses = 0;
      await signUp(OIDC_TENANT, shared.pwUser);
    }
    shared.pwUses += 1;
    const { value, h1 } = await new Browser(worker, OIDC_TENANT, seen).handleAfter({ action: "email", email: shared.pwUser });
    assert.equal(h1, "Enter your password");
    return value;
  }
  if (name === "interactionForeign") return (await new Browser(worker, OTHER, seen).handle()).value;
  if (name === "access" || name === "refresh") {
    const tokens = await browser.exchange(await browser.code());
    return name === "access" ? tokens.access_token : tokens.refresh_token;
  }
  if (name === "cookie") {
    // The live single sign-on cookie: the final check signs in through it, so an entry
    // that ended the session would fail there.
    const value = browser.cookie.split("=").slice(1).join("=");
    seen.push(value);
    return value;
  }
  if (name === "cookieUsed") {
    // Every sign-in through single sign-on replaces the session: the old cookie is dead.
    const old = browser.cookie.split("=").slice(1).join("=");
    await browser.code();
    seen.push(old);
    return old;
  }
  if (name === "refreshUsed") {
    const tokens = await browser.exchange(await browser.code());
    const r = ok(await post(worker, OIDC_TENANT, TOKEN, { grant_type: "refresh_token", refresh_token: tokens.refresh_token }), "refresh");
    seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
    return tokens.refresh_token;
  }
  if (name === "accessRevoked" || name === "refreshRevoked") {
    // A replayed code revokes the session family its first redemption started.
    const code = await browser.code();
    const tokens = await browser.exchange(code);
    const replay = await post(worker, OIDC_TENANT, TOKEN, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
    assert.equal(replay.body.error, "invalid_grant", JSON.stringify(replay.body));
    return name === "accessRevoked" ? tokens.access_token : tokens.refresh_token;
  }
  if (name.startsWith("forged.")) {
    shared.forged ??= await (async () => {
      const tokens = await browser.exchange(await browser.code());
      const [key] = JSON.parse(vars.SIGNING_KEYS);
      const forged = forgedTokens(tokens.access_token, tokens.id_token, key);
      seen.push(...Object.values(forged));
      return forged;
    })();
    const value = shared.forged[name.slice(7)];
    assert.equal(typeof value, "string", `no forged token \`${name}\``);
    return value;
  }
  throw new Error(`unknown placeholder {{oidc.${name}}}`);
}
/** What the admin entries of ADMIN_TENANT may not change, read through the admin API. */
const ADMIN_STATE_PATHS = [
  "applications/{applicationId}", "applications", "policies/authenticationMethodsPolicy",
  "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email",
  "identity/authenticationEventsFlows", "vestibule/flowSettings", "vestibule/deliveryHooks",
  "users/{userId}", "users/{userId}/authentication/methods",
];
async function adminState() {
  const state = {};
  for (const path of ADMIN_STATE_PATHS) {
    const url = path.replace("{applicationId}", shared.applicationId).replace("{userId}", shared.userId);
    const res = await fetch(`${worker.url}/${ADMIN_TENANT}/v1.0/${url}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const text = await res.text();
    assert.equal(res.status, 200, `${url}: ${text}`);
    state[path] = JSON.parse(text);
  }
  return state;
}

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
  if (name === "policyId" || name === "locationId" || name === "applicationId" || name === "userId") return shared[name];
  if (name.startsWith("oidc.")) return oidcValue(name.slice(5));
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
      { name: `${ep}: binary garbage`, path, headers: FORM, bodyBase64: GARBAGE, expect: invalid(400, { errorCodes: [], description: "is not valid utf-8" }) },
      { name: `${ep}: content type with a suffix`, path, headers: { "content-type": "application/x-www-form-urlencodedXYZ" }, form: { client_id: APP, ...valid }, expect: invalid(400, { description: "application/x-www-form-urlencoded" }) },
      { name: `${ep}: client_id escaped to invalid utf-8`, path, headers: FORM, body: "client_id=%FF%FE", expect: invalid(400, { description: "`client_id` is not valid utf-8" }) },
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
    // The token is past its reset window: every endpoint says so (the window's end is the
    // stored record's deadline), not only `submit`.
    const late = { status: 400, error: "expired_token", errorCodes: [552003] };
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

/** The tenant admin API's writable resources, with the method that writes each: every
 * credential and body fault the Conditional Access paths get, and a refused write must
 * leave the stored configuration as it was (the runner compares afterwards). */
const TENANT_ADMIN_WRITES = [
  ["POST", "applications"],
  ["PATCH", "applications/{{applicationId}}"],
  ["PATCH", "policies/authenticationMethodsPolicy"],
  ["PATCH", "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/email"],
  ["POST", "identity/authenticationEventsFlows"],
  ["PATCH", "vestibule/flowSettings"],
  ["PUT", "vestibule/deliveryHooks"],
  ["PATCH", "users/{{userId}}"],
];
function generatedTenantAdmin() {
  const out = [];
  const auth = { authorization: "Bearer {{admin}}", "content-type": "application/json" };
  for (const [method, p] of TENANT_ADMIN_WRITES) {
    const path = `/{{adminTenant}}/v1.0/${p}`;
    const n = `${method} ${p.replace(/\{\{\w+\}\}/, "{id}")}`;
    const bad = (name, extra, expect) => out.push({ name: `${n}: ${name}`, method, path, headers: auth, ...extra, expect });
    bad("no credential", { headers: { "content-type": "application/json" }, json: {} }, { status: 401, code: "admin.unauthorized" });
    bad("wrong credential", { headers: { ...auth, authorization: "Bearer wrong-wrong-wrong-wrong-wrong-wrong" }, json: {} }, { status: 401, code: "admin.unauthorized" });
    bad("credential with a suffix", { headers: { ...auth, authorization: "Bearer {{admin}}x" }, json: {} }, { status: 401, code: "admin.unauthorized" });
    bad("basic scheme", { headers: { ...auth, authorization: "Basic {{admin}}" }, json: {} }, { status: 401, code: "admin.unauthorized" });
    bad("credential twice", { headers: { ...auth, authorization: ["Bearer {{admin}}", "Bearer {{admin}}"] }, json: {} }, { status: 401, code: "admin.unauthorized" });
    bad("no content type", { headers: { authorization: "Bearer {{admin}}" }, body: "{}" }, { status: 415, code: "request.unsupported_media_type" });
    bad("form content type", { headers: { ...auth, "content-type": "application/x-www-form-urlencoded" }, body: "a=b" }, { status: 415, code: "request.unsupported_media_type" });
    bad("empty body", { body: "" }, { status: 400, code: "policy.invalid_json" });
    bad("truncated json", { body: '{"displayName": "x", ' }, { status: 400, code: "policy.invalid_json" });
    bad("trailing garbage", { body: '{"displayName": "x"} {}' }, { status: 400, code: "policy.invalid_json" });
    bad("invalid utf-8", { bodyBase64: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString("base64") }, { status: 400, code: "request.invalid_utf8" });
    bad("raw NUL in a string", { body: '{"displayName": "a\u0000b"}' }, { status: 400, code: "policy.invalid_json" });
    bad("byte order mark", { body: '\ufeff{"displayName": "x"}' }, { status: 400, code: "policy.invalid_json" });
    bad("arrays nested 200 deep", { body: '{"displayName": {{nest:200}}}' }, { status: 400, code: "policy.invalid_json" });
    bad("objects nested 40000 deep", { body: "{{nestobj:40000}}" }, { status: 400, code: "policy.invalid_json" });
    bad("body over 256 KiB", { body: '{"displayName": "{{repeat:270000:a}}"}' }, { status: 413, code: "request.too_large" });
    bad("duplicate key", { body: '{"displayName": "x", "displayName": "y"}' }, { status: 400, code: "policy.duplicate_key" });
  }
  return out;
}

/** OpenID Connect: every authorization parameter repeated (an error page: which value
 * would be the real one?), by GET and by form POST, and every token parameter repeated. */
const AUTHORIZE_PARAMS = {
  client_id: "vestibule-demo-app", redirect_uri: REDIRECT, response_type: "code", scope: "openid", state: "s1",
  nonce: "n1", code_challenge: CHALLENGE, code_challenge_method: "S256", prompt: "login", max_age: "60",
};
const CODE_PARAMS = { client_id: APP, grant_type: "authorization_code", code: "{{oidc.code}}", redirect_uri: REDIRECT, code_verifier: VERIFIER };
function generatedOidc() {
  const out = [];
  const path = "/{{oidc.tenant}}/oauth2/v2.0/authorize";
  for (const name of Object.keys(AUTHORIZE_PARAMS)) {
    const params = new URLSearchParams(AUTHORIZE_PARAMS);
    params.append(name, AUTHORIZE_PARAMS[name]);
    const expect = { status: 400, html: true, message: `the parameter \`${name}\` appears more than once` };
    out.push({ name: `authorize: ${name} twice`, method: "GET", path: `${path}?${params}`, expect });
    out.push({ name: `authorize: ${name} twice in a form post`, method: "POST", path, headers: FORM, body: params.toString(), expect });
  }
  for (const name of Object.keys(CODE_PARAMS)) {
    const form = [...Object.entries(CODE_PARAMS), [name, CODE_PARAMS[name]]];
    out.push({ name: `token: ${name} twice`, path: "/{{oidc.tenant}}/oauth2/v2.0/token", headers: FORM, form, expect: { status: 400, error: "invalid_request" } });
  }
  for (const [what, path] of [["authorize", "oauth2/v2.0/authorize"], ["interaction", "oidc/interaction"], ["logout", "oauth2/v2.0/logout"]]) {
    for (const tenant of ["bad!tenant", "t".repeat(101), "a%20b", "%00"]) {
      out.push({ name: `${what}: tenant \`${tenant.slice(0, 12)}\``, path: `/${tenant}/${path}`, headers: FORM, body: "", expect: { status: 404, html: true } });
    }
    // The runtime resolves `..` before routing: no tenant is left, so no route matches.
    out.push({ name: `${what}: tenant \`..\``, path: `/%2e%2e/${path}`, headers: FORM, body: "", expect: { status: 404, code: "route.not_found" } });
  }
  return out;
}

// --- the run -----------------------------------------------------------------------

const files = loadCorpus();
const generated = [
  { file: "generated: native auth", defaults: {}, entries: generatedNative() },
  { file: "generated: admin API", defaults: {}, entries: generatedAdmin() },
  { file: "generated: tenant admin API", defaults: {}, entries: generatedTenantAdmin() },
  { file: "generated: OpenID Connect", defaults: {}, entries: generatedOidc() },
];
const all = [...files, ...generated];

before(async () => {
  worker = await startWorker({ vars, timeoutMs: 120_000 });
  await requireMfa(worker, TENANT);
  // The corpus sends a hundred email codes from one address within seconds, and the
  // expired tokens come from one reset code per step endpoint to one address: more than
  // the email velocity caps let through by default (tests/e2e/guard.test.mjs tests those).
  for (const [tenant, extra] of [[TENANT, {}], [SHORT, { resetWindowSeconds: 1 }]]) {
    const put = await fetch(`${worker.url}/_dev/native/${tenant}/flow-config`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(flowConfig({ settings: { mfaEnforcement: "conditional", emailVelocity: ROOMY_EMAIL_VELOCITY, ...extra } })),
    });
    assert.equal(put.status, 200, await put.text());
  }
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
  // Tenant configuration and records the admin entries must not change.
  const write = async (method, path, body, status) => {
    const r = await fetch(`${worker.url}/${ADMIN_TENANT}/v1.0/${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.equal(r.status, status, `${method} ${path}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const app = await write("POST", "applications", { appId: "corpus-shop", displayName: "Corpus shop", web: { redirectUris: ["https://shop.corpus.example/cb"] } }, 201);
  shared.applicationId = app.id;
  await write("PATCH", "vestibule/flowSettings", { mfaEnforcement: "conditional" }, 200);
  const adminUser = freshEmail("admin-user");
  await signUp(ADMIN_TENANT, adminUser);
  const users = await (await fetch(`${worker.url}/${ADMIN_TENANT}/v1.0/users`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  assert.equal(users.value?.length, 1, JSON.stringify(users));
  shared.userId = users.value[0].id;
  shared.adminState = await adminState();
  // OpenID Connect: a second registered app, and a browser signed up through the pages.
  const b = await fetch(`${worker.url}/${OIDC_TENANT}/v1.0/applications`, {
    method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ appId: APP_B, displayName: "Corpus app B", web: { redirectUris: [APP_B_REDIRECT] } }),
  });
  assert.equal(b.status, 201, await b.text());
  browser = new Browser(worker, OIDC_TENANT, seen);
  shared.oidcUser = freshEmail("oidc");
  seen.push(shared.oidcUser);
  await browser.exchange(await browser.signUp(shared.oidcUser, PASSWORD, latestCode));
  // The account the final check signs in with: the corpus never touches it.
  shared.main = freshEmail("main");
  await signUp(TENANT, shared.main);
  const wanted = all.flatMap((f) => f.entries).reduce((n, e) => n + (JSON.stringify(e).match(/\{\{ct\.expired\}\}/g) ?? []).length, 0);
  await makeExpired(wanted);
});
after(async () => { await worker?.stop(); });

test("the corpus holds at least 1200 requests", () => {
  const count = all.reduce((n, f) => n + f.entries.length, 0);
  assert.ok(count >= 1200, `${count} entries`);
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

  test("the tenant configuration, app registrations and users are unchanged", async () => {
    const now = await adminState();
    for (const path of ADMIN_STATE_PATHS) assert.deepEqual(now[path], shared.adminState[path], path);
  });

  test("an OpenID Connect code flow still works, with a fresh sign-in and through single sign-on", async () => {
    const fresh = new Browser(worker, OIDC_TENANT, seen);
    const page = await fresh.open();
    const res = await fresh.submit(page, { action: "email", email: shared.oidcUser });
    assert.equal(res.status, 200);
    const { JSDOM } = await import("jsdom");
    const html = await res.text();
    const next = { status: 200, html, doc: new JSDOM(html).window.document };
    const tokens = await fresh.exchange(fresh.codeFrom(await fresh.submit(next, { action: "password", password: PASSWORD })));
    const info = await fetch(`${worker.url}/${OIDC_TENANT}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(info.status, 200, await info.clone().text());
    assert.equal((await info.json()).email, shared.oidcUser);
    const again = await browser.exchange(await browser.code());
    assert.equal(typeof again.id_token, "string");
    const refreshed = await post(worker, OIDC_TENANT, TOKEN, { grant_type: "refresh_token", refresh_token: again.refresh_token });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    seen.push(refreshed.body.access_token, refreshed.body.id_token, refreshed.body.refresh_token);
  });

  test("the Worker log holds no panic and no secret", () => {
    const output = worker.output();
    for (const sign of [/panicked at/i, /RuntimeError/, /\bunreachable\b/, /Uncaught/, /internal error/]) {
      assert.ok(!sign.test(output), `the log shows ${sign}:\n${output.split("\n").filter((l) => sign.test(l)).join("\n")}`);
    }
    assertLogClean(output, seen);
  });
});
