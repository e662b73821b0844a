// The admin API beyond Conditional Access, against the Worker in workerd: the
// authentication methods policy, the user flow and Vestibule's flow settings (all one
// stored flow configuration that native auth reads on the next sign-in), and users with
// their registered phone methods. Writes are driven through the native-auth endpoints to
// show they take effect; refused writes must leave the stored configuration unchanged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, CAPS, TYPES, assertLogClean, latestCode, nativeVars, post, requireMfa, isError } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
const METHODS = "v1.0/policies/authenticationMethodsPolicy";
const FLOWS = "v1.0/identity/authenticationEventsFlows";
const SETTINGS = "v1.0/vestibule/flowSettings";
let worker;
const seen = []; // codes, passwords, tokens, phones, emails, names: none may reach the log
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

async function admin(method, tenant, path, body, { token = ADMIN } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${worker.url}/${tenant}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const ok = async (p, status = 200) => { const r = await p; assert.equal(r.status, status, JSON.stringify(r.body)); return r.body; };

const ct = (r) => {
  assert.equal(typeof r.body.continuation_token, "string", JSON.stringify(r.body));
  seen.push(r.body.continuation_token);
  return r.body.continuation_token;
};

/** Signs up `email` with a password; returns the answer of the auto sign-in token call. */
async function signUp(tenant, email, { clientId } = {}) {
  seen.push(email, PASSWORD);
  const opts = clientId ? { clientId } : {};
  let r = await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD }, opts);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, opts);
  assert.equal(r.body.challenge_type, "oob", JSON.stringify(r.body));
  const code = await latestCode(worker, email);
  seen.push(code);
  r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: code }, opts);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: email }, opts);
}

/** Initiate, challenge and password: the answer of the password token call. */
async function signIn(tenant, email) {
  let r = await post(worker, tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS });
  if (r.status !== 200) return r;
  r = await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  if (r.status !== 200) return r;
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  return post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD, scope: "openid" });
}

/** After `registration_required`: registers `phone` for SMS and returns the token answer. */
async function registerSms(tenant, r, phone) {
  isError(r, "invalid_grant", { suberror: "registration_required" });
  r = await post(worker, tenant, "register/v1.0/introspect", { continuation_token: ct(r) });
  assert.ok(r.body.methods.some((m) => m.id === "sms"), JSON.stringify(r.body));
  seen.push(phone);
  r = await post(worker, tenant, "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" });
  const sms = await latestCode(worker, phone);
  seen.push(sms);
  r = await post(worker, tenant, "register/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: sms });
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r;
}

test("every new admin path needs the admin credential", async () => {
  for (const path of [METHODS, `${METHODS}/authenticationMethodConfigurations/Sms`, FLOWS, SETTINGS, "v1.0/users"]) {
    for (const token of [null, "wrong-secret-0123456789abcdef0123"]) {
      const r = await admin("GET", "anyone", path, undefined, { token });
      assert.equal(r.status, 401, path);
      assert.equal(r.body.error.code, "admin.unauthorized");
    }
    const r = await admin("PATCH", "anyone", path, { x: 1 }, { token: null });
    assert.equal(r.status, 401, path);
  }
});

test("a tenant with nothing stored shows the built-in flow in Graph shapes", async () => {
  const policy = await ok(admin("GET", "fresh", METHODS));
  assert.equal(policy.id, "authenticationMethodsPolicy");
  assert.deepEqual(policy.authenticationMethodConfigurations.map((c) => [c.id, c.state, c["@odata.type"]]), [
    ["Email", "enabled", "#microsoft.graph.emailAuthenticationMethodConfiguration"],
    ["Sms", "enabled", "#microsoft.graph.smsAuthenticationMethodConfiguration"],
  ]);
  const fido = await ok(admin("GET", "fresh", `${METHODS}/authenticationMethodConfigurations/Fido2`));
  assert.equal(fido.state, "disabled", "a method never configured is off");
  assert.equal((await admin("GET", "fresh", `${METHODS}/authenticationMethodConfigurations/Pigeon`)).status, 404);
  const flows = await ok(admin("GET", "fresh", FLOWS));
  assert.equal(flows.value.length, 1);
  assert.equal(flows.value[0].id, "default");
  assert.equal(flows.value[0]["@odata.type"], "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow");
  const settings = await ok(admin("GET", "fresh", SETTINGS));
  assert.equal(settings.mfaEnforcement, "conditional");
  assert.equal(settings.codes.length, 8);
  assert.equal((await admin("DELETE", "fresh", SETTINGS)).status, 405);
});

test("disabling SMS in the methods policy: sign-up registration and MFA stop offering it", async () => {
  const tenant = "smsoff";
  await requireMfa(worker, tenant);
  // Before: a user registers SMS.
  const early = "early-sms@example.com";
  await registerSms(tenant, await signUp(tenant, early), "+15550100001");

  await ok(admin("PATCH", tenant, `${METHODS}/authenticationMethodConfigurations/Sms`, {
    "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", state: "disabled",
  }), 204);
  const policy = await ok(admin("GET", tenant, METHODS));
  assert.deepEqual(policy.authenticationMethodConfigurations.map((c) => [c.id, c.state]), [["Email", "enabled"], ["Sms", "disabled"]]);

  // A new sign-up is offered email only.
  let r = await signUp(tenant, "late-sms@example.com");
  isError(r, "invalid_grant", { suberror: "registration_required" });
  r = await post(worker, tenant, "register/v1.0/introspect", { continuation_token: ct(r) });
  assert.deepEqual(r.body.methods.map((m) => m.id), ["email"]);
  isError(await post(worker, tenant, "register/v1.0/challenge", { continuation_token: ct(r), challenge_type: "oob", challenge_target: "+15550100002", challenge_channel: "sms" }), "access_denied", { suberror: "provider_blocked_by_admin" });

  // The early user's SMS method is no longer usable, and an account with a method of its
  // own does not get to register a new one with its password alone: a clear block.
  r = await signIn(tenant, early);
  isError(r, "access_denied");
  assert.deepEqual(r.body.error_codes, [53004]);
  assert.match(r.body.error_description, /none can be used or registered/);

  // Enabling it again through the policy PATCH (merged by id) restores SMS.
  const back = await ok(admin("PATCH", tenant, METHODS, { authenticationMethodConfigurations: [{ id: "Sms", state: "enabled" }] }));
  assert.deepEqual(back.authenticationMethodConfigurations.map((c) => [c.id, c.state]), [["Email", "enabled"], ["Sms", "enabled"]]);
  r = await signIn(tenant, early);
  isError(r, "invalid_grant", { suberror: "mfa_required" });
  r = await post(worker, tenant, "oauth2/v2.0/introspect", { continuation_token: ct(r) });
  assert.deepEqual(r.body.methods.map((m) => m.challenge_channel), ["sms"]);
});

test("invalid writes are refused with the JSON path and change nothing", async () => {
  const tenant = "strict";
  await ok(admin("PATCH", tenant, SETTINGS, { codes: { length: 6 } }));
  const before = {
    policy: await ok(admin("GET", tenant, METHODS)),
    flows: await ok(admin("GET", tenant, FLOWS)),
    settings: await ok(admin("GET", tenant, SETTINGS)),
  };
  const cases = [
    ["PATCH", METHODS, { authenticationMethodConfigurations: [{ id: "Sms", state: "disabled" }, { id: "Carrier", state: "enabled" }] }, "admin.unknown_method", "authenticationMethodConfigurations[1].id"],
    ["PATCH", METHODS, { authenticationMethodConfigurations: [{ id: "Email", state: "sometimes" }] }, "admin.invalid_value", "authenticationMethodConfigurations[0].state"],
    ["PATCH", `${METHODS}/authenticationMethodConfigurations/Sms`, { state: "maybe" }, "admin.invalid_value", "state"],
    ["PATCH", `${METHODS}/authenticationMethodConfigurations/Sms`, { "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration" }, "admin.odata_type_mismatch", "@odata.type"],
    ["PATCH", SETTINGS, { codes: { length: 5 } }, "flow.invalid_config", "codes.length"],
    ["PATCH", SETTINGS, { mfaEnforcement: "sometimes", codes: { length: 8 } }, "admin.invalid_value", "mfaEnforcement"],
    ["PATCH", SETTINGS, { lockout: { maxConsecutiveFailures: 500 } }, "flow.invalid_config", "lockout.maxConsecutiveFailures"],
    ["PATCH", `${FLOWS}/default`, { onAuthenticationMethodLoadStart: { identityProviders: [{ id: "Google-OAUTH" }] } }, "flow.invalid_config", "onAuthenticationMethodLoadStart.identityProviders"],
    ["POST", FLOWS, { "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow", displayName: "no local account", onAuthenticationMethodLoadStart: { identityProviders: [] } }, "flow.invalid_config", "onAuthenticationMethodLoadStart.identityProviders"],
    ["PATCH", `${FLOWS}/default`, { id: "mine" }, "admin.read_only_field", "id"],
  ];
  for (const [method, path, body, code, target] of cases) {
    const r = await admin(method, tenant, path, body);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.equal(r.body.error.target, target, JSON.stringify(r.body));
    assert.ok(r.body.error.message.length > 0);
  }
  const notJson = await fetch(`${worker.url}/${tenant}/${SETTINGS}`, { method: "PATCH", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: "{not json" });
  assert.equal(notJson.status, 400);
  assert.equal((await admin("PATCH", tenant, `${METHODS}/authenticationMethodConfigurations/Pigeon`, { state: "enabled" })).status, 404);
  assert.equal((await admin("DELETE", tenant, `${FLOWS}/default`)).status, 409);
  assert.deepEqual({
    policy: await ok(admin("GET", tenant, METHODS)),
    flows: await ok(admin("GET", tenant, FLOWS)),
    settings: await ok(admin("GET", tenant, SETTINGS)),
  }, before);
});

test("flow settings take effect on the next sign-up: 6-digit codes", async () => {
  const tenant = "sixdigits";
  const s = await ok(admin("PATCH", tenant, SETTINGS, { codes: { length: 6 } }));
  assert.equal(s.codes.length, 6);
  assert.equal(s.codes.lifetimeSeconds, 600, "the merge patch keeps what it does not name");
  const email = "six@example.com";
  seen.push(email, PASSWORD);
  let r = await post(worker, tenant, "signup/v1.0/start", { username: email, challenge_type: TYPES, password: PASSWORD });
  r = await post(worker, tenant, "signup/v1.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  assert.equal(r.body.code_length, 6);
  const code = await latestCode(worker, email);
  seen.push(code);
  assert.match(code, /^\d{6}$/);
});

test("user flows: one per tenant, serving the apps its conditions name", async () => {
  const tenant = "woodgrove";
  const flow = await ok(admin("POST", tenant, FLOWS, {
    "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
    displayName: "Woodgrove sign-up",
    description: "kept as written",
    conditions: { applications: { includeApplications: [{ appId: "woodgrove-app" }] } },
    onInteractiveAuthFlowStart: { isSignUpAllowed: true },
    onAuthenticationMethodLoadStart: { identityProviders: [{ id: "EmailPassword-OAUTH" }] },
  }), 201);
  assert.match(flow.id, /^[0-9a-f-]{36}$/);
  assert.equal(flow.description, "kept as written");
  assert.deepEqual((await ok(admin("GET", tenant, FLOWS))).value.map((f) => f.id), [flow.id]);
  const second = await admin("POST", tenant, FLOWS, { onAuthenticationMethodLoadStart: { identityProviders: [{ id: "EmailPassword-OAUTH" }] } });
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, "admin.user_flow_exists");

  // The demo app is no longer served; the flow's app is.
  isError(await post(worker, tenant, "signup/v1.0/start", { username: "wg@example.com", challenge_type: TYPES, password: PASSWORD }), "unauthorized_client");
  const r = await signUp(tenant, "wg@example.com", { clientId: "woodgrove-app" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);

  // Graph's way of adding an app to a flow, and PATCH turning sign-up off.
  await ok(admin("POST", tenant, `${FLOWS}/${flow.id}/conditions/applications/includeApplications`, { "@odata.type": "#microsoft.graph.authenticationConditionApplication", appId: "vestibule-demo-app" }), 201);
  const apps = await ok(admin("GET", tenant, `${FLOWS}/${flow.id}/conditions/applications/includeApplications`));
  assert.deepEqual(apps.value.map((a) => a.appId), ["woodgrove-app", "vestibule-demo-app"]);
  await ok(admin("PATCH", tenant, `${FLOWS}/${flow.id}`, { onInteractiveAuthFlowStart: { isSignUpAllowed: false } }), 204);
  isError(await post(worker, tenant, "signup/v1.0/start", { username: "wg2@example.com", challenge_type: TYPES, password: PASSWORD }), "invalid_request");

  // DELETE brings the built-in user flow back; the settings stay.
  await ok(admin("DELETE", tenant, `${FLOWS}/${flow.id}`), 204);
  assert.equal((await admin("GET", tenant, `${FLOWS}/${flow.id}`)).status, 404);
  assert.deepEqual((await ok(admin("GET", tenant, FLOWS))).value.map((f) => f.id), ["default"]);
  const start = await post(worker, tenant, "signup/v1.0/start", { username: "wg3@example.com", challenge_type: TYPES, password: PASSWORD });
  assert.equal(start.status, 200, JSON.stringify(start.body));
});

test("users: listed after sign-up in Graph shape, paged, patched, disabled and deleted", async () => {
  const tenant = "people";
  const emails = ["ada@example.com", "grace@example.com"];
  for (const email of emails) {
    const r = await signUp(tenant, email);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  }
  const all = await ok(admin("GET", tenant, "v1.0/users"));
  assert.deepEqual(all.value.map((u) => u.mail).sort(), emails);
  const ada = all.value.find((u) => u.mail === "ada@example.com");
  assert.deepEqual(ada.identities, [{ signInType: "emailAddress", issuer: tenant, issuerAssignedId: "ada@example.com" }]);
  assert.equal(ada.accountEnabled, true);
  assert.match(ada.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(all["@odata.nextLink"], undefined);

  // Paging with $top and the next link.
  const first = await ok(admin("GET", tenant, "v1.0/users?$top=1"));
  assert.equal(first.value.length, 1);
  assert.ok(first["@odata.nextLink"], JSON.stringify(first));
  const nextUrl = new URL(first["@odata.nextLink"]);
  const rest = await ok(admin("GET", tenant, `v1.0/users${nextUrl.search}`));
  assert.deepEqual([...first.value, ...rest.value].map((u) => u.mail).sort(), emails);
  assert.equal((await admin("GET", tenant, "v1.0/users?$top=1000")).body.error.code, "admin.invalid_query");
  // Finding one account by its address, the two ways Graph does; any other filter is refused.
  const byFilter = async (filter) => (await ok(admin("GET", tenant, `v1.0/users?$filter=${encodeURIComponent(filter)}`))).value.map((u) => u.id);
  assert.deepEqual(await byFilter("mail eq 'ada@example.com'"), [ada.id]);
  assert.deepEqual(await byFilter(`identities/any(c:c/issuerAssignedId eq 'Ada@Example.com' and c/issuer eq '${tenant}')`), [ada.id]);
  assert.deepEqual(await byFilter("identities/any(c:c/issuerAssignedId eq 'ada@example.com' and c/issuer eq 'elsewhere')"), []);
  assert.deepEqual(await byFilter("mail eq 'nobody@example.com'"), []);
  const unsupported = await admin("GET", tenant, `v1.0/users?$filter=${encodeURIComponent("displayName eq 'Ada'")}`);
  assert.equal(unsupported.status, 400);
  assert.equal(unsupported.body.error.code, "admin.invalid_query");

  // PATCH displayName; other properties are refused.
  seen.push("Ada Lovelace");
  await ok(admin("PATCH", tenant, `v1.0/users/${ada.id}`, { displayName: "Ada Lovelace" }), 204);
  assert.equal((await ok(admin("GET", tenant, `v1.0/users/${ada.id}`))).displayName, "Ada Lovelace");
  const mail = await admin("PATCH", tenant, `v1.0/users/${ada.id}`, { mail: "other@example.com" });
  assert.equal(mail.status, 400);
  assert.equal(mail.body.error.target, "mail");

  // A disabled account cannot sign in (invalid_grant, 50053, as after the lockout limit).
  await ok(admin("PATCH", tenant, `v1.0/users/${ada.id}`, { accountEnabled: false }), 204);
  assert.equal((await ok(admin("GET", tenant, `v1.0/users/${ada.id}`))).accountEnabled, false);
  isError(await signIn(tenant, "ada@example.com"), "invalid_grant", { code: 50053 });
  await ok(admin("PATCH", tenant, `v1.0/users/${ada.id}`, { accountEnabled: true }), 204);
  const again = await signIn(tenant, "ada@example.com");
  assert.equal(again.status, 200, JSON.stringify(again.body));
  seen.push(again.body.access_token, again.body.id_token, again.body.refresh_token);

  // DELETE removes the record and the email index: the address can sign up anew.
  await ok(admin("DELETE", tenant, `v1.0/users/${ada.id}`), 204);
  assert.equal((await admin("GET", tenant, `v1.0/users/${ada.id}`)).status, 404);
  isError(await post(worker, tenant, "oauth2/v2.0/initiate", { username: "ada@example.com", challenge_type: TYPES }), "user_not_found");
  const reborn = await signUp(tenant, "ada@example.com");
  assert.equal(reborn.status, 200, JSON.stringify(reborn.body));
  seen.push(reborn.body.access_token, reborn.body.id_token, reborn.body.refresh_token);
  const newAda = (await ok(admin("GET", tenant, "v1.0/users"))).value.find((u) => u.mail === "ada@example.com");
  assert.notEqual(newAda.id, ada.id);
  assert.equal((await admin("GET", tenant, "v1.0/users/not..an/id")).status, 404);
});

test("deleting a phone method makes the next sign-in ask to register again", async () => {
  const tenant = "phones";
  await requireMfa(worker, tenant);
  const email = "phone-user@example.com";
  const phone = "+15550100003";
  await registerSms(tenant, await signUp(tenant, email), phone);
  const [user] = (await ok(admin("GET", tenant, "v1.0/users"))).value;
  const phones = await ok(admin("GET", tenant, `v1.0/users/${user.id}/authentication/phoneMethods`));
  assert.equal(phones.value.length, 1);
  assert.equal(phones.value[0].phoneNumber, phone);
  assert.equal(phones.value[0].phoneType, "mobile");
  const all = await ok(admin("GET", tenant, `v1.0/users/${user.id}/authentication/methods`));
  assert.deepEqual(all.value.map((m) => m["@odata.type"]), ["#microsoft.graph.passwordAuthenticationMethod", "#microsoft.graph.phoneAuthenticationMethod"]);
  let r = await signIn(tenant, email);
  isError(r, "invalid_grant", { suberror: "mfa_required" });

  await ok(admin("DELETE", tenant, `v1.0/users/${user.id}/authentication/phoneMethods/${phones.value[0].id}`), 204);
  assert.deepEqual((await ok(admin("GET", tenant, `v1.0/users/${user.id}/authentication/phoneMethods`))).value, []);
  assert.equal((await admin("DELETE", tenant, `v1.0/users/${user.id}/authentication/phoneMethods/${phones.value[0].id}`)).status, 404);
  r = await signIn(tenant, email);
  await registerSms(tenant, r, "+15550100004");
});

test("tenants are isolated", async () => {
  await ok(admin("PATCH", "iso-a", SETTINGS, { mfaEnforcement: "always" }));
  await ok(admin("PATCH", "iso-a", `${METHODS}/authenticationMethodConfigurations/Email`, { state: "disabled" }), 204);
  const r = await signUp("iso-a", "iso@example.com");
  isError(r, "invalid_grant", { suberror: "registration_required" });
  assert.equal((await ok(admin("GET", "iso-b", SETTINGS))).mfaEnforcement, "conditional");
  const policyB = await ok(admin("GET", "iso-b", METHODS));
  assert.deepEqual(policyB.authenticationMethodConfigurations.map((c) => c.state), ["enabled", "enabled"]);
  const [userA] = (await ok(admin("GET", "iso-a", "v1.0/users"))).value;
  assert.ok(userA);
  assert.deepEqual((await ok(admin("GET", "iso-b", "v1.0/users"))).value, []);
  assert.equal((await admin("GET", "iso-b", `v1.0/users/${userA.id}`)).status, 404);
  assert.equal((await admin("DELETE", "iso-b", `v1.0/users/${userA.id}`)).status, 404);
  assert.equal((await ok(admin("GET", "iso-a", `v1.0/users/${userA.id}`))).mail, "iso@example.com");
});

test("the log holds no code, password, token, phone number, email or name", () => {
  assertLogClean(worker.output(), seen);
});
