// Review of the admin API, against the Worker in workerd: defects an administrator
// (often one coming from Microsoft Entra and its Graph scripts) would hit. Each test
// failed before its fix.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, APP, CAPS, TYPES, adminCall, assertLogClean, latestCode, nativeVars, post, recordingCt, requireMfa, signUpWithPassword, signUpWithPhone } from "../support/native.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const TOKEN = "oauth2/v2.0/token";
const CA = "identity/conditionalAccess";
let worker;
const seen = [PASSWORD];
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

const ct = recordingCt(seen);

/** An admin call on `w` (the shared worker unless given); `path` starts after the host. */
const admin = (method, path, body, { w = worker, authorization } = {}) => adminCall(w, method, path, body, { authorization });

/** A native form POST that claims to come from `country` (Cloudflare's `cf-ipcountry`). */
const postFrom = (tenant, path, params, country) => post(worker, tenant, path, params, { headers: { "cf-ipcountry": country } });

const signUp = (tenant, email) => signUpWithPassword(worker, tenant, email, PASSWORD, { token: ct, seen });

/** Initiate, challenge and password from `country`: the token step's answer. */
async function signInFrom(tenant, email, country) {
  let r = await postFrom(tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS }, country);
  r = await postFrom(tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES }, country);
  assert.equal(r.body.challenge_type, "password", JSON.stringify(r.body));
  r = await postFrom(tenant, TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD, scope: "openid" }, country);
  seen.push(r.body.access_token, r.body.id_token, r.body.refresh_token);
  return r;
}

// Before: the Worker compiled the tenant's policies only under `mfaEnforcement:
// "conditional"`, so after an admin set `off` (or the stricter `always`) in
// vestibule/flowSettings, a block policy silently stopped applying: tokens from an
// embargoed country. docs/flow-decisions.md promises a block blocks under every setting.
for (const enforcement of ["off", "always"]) {
  test(`a Conditional Access block still blocks with mfaEnforcement "${enforcement}"`, async () => {
    const tenant = `rv-block-${enforcement}`;
    const location = await admin("POST", `${tenant}/v1.0/${CA}/namedLocations`, {
      "@odata.type": "#microsoft.graph.countryNamedLocation",
      displayName: "Embargoed", countriesAndRegions: ["KP"],
    });
    assert.equal(location.status, 201, JSON.stringify(location.body));
    const policy = await admin("POST", `${tenant}/v1.0/${CA}/policies`, {
      displayName: "Block embargoed countries", state: "enabled",
      conditions: {
        clientAppTypes: ["all"], applications: { includeApplications: ["All"] },
        users: { includeUsers: ["All"] }, locations: { includeLocations: [location.body.id] },
      },
      grantControls: { operator: "OR", builtInControls: ["block"] },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    const settings = await admin("PATCH", `${tenant}/v1.0/vestibule/flowSettings`, { mfaEnforcement: enforcement });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    const email = `traveller-${enforcement}@example.com`;
    await signUp(tenant, email);

    const blocked = await signInFrom(tenant, email, "KP");
    assert.equal(blocked.status, 400, JSON.stringify(blocked.body));
    assert.equal(blocked.body.error, "access_denied", JSON.stringify(blocked.body));
    assert.deepEqual(blocked.body.error_codes, [53003]);
    assert.equal(blocked.body.access_token, undefined);

    // The log names the policy that blocked.
    const log = await admin("GET", `${tenant}/v1.0/auditLogs/signIns?$filter=${encodeURIComponent("status/errorCode eq 53003")}`);
    assert.equal(log.status, 200, JSON.stringify(log.body));
    const applied = log.body.value[0]?.appliedConditionalAccessPolicies?.find((p) => p.id === policy.body.id);
    assert.equal(applied?.result, "failure", JSON.stringify(log.body));

    // Outside the location the setting decides as before: `off` lets the password through.
    if (enforcement === "off") {
      const home = await signInFrom(tenant, email, "NL");
      assert.equal(home.status, 200, JSON.stringify(home.body));
    }
  });
}

// With the policies now consulted under `off`, the log must not call a sign-in the
// setting let through a Conditional Access failure: the MFA policy it overrode is reported
// `notEnabled`, the status `notApplied` and the requirement single-factor.
test('under mfaEnforcement "off" an MFA policy it overrode is not logged as a failure', async () => {
  const tenant = "rv-off-log";
  await requireMfa(worker, tenant);
  const settings = await admin("PATCH", `${tenant}/v1.0/vestibule/flowSettings`, { mfaEnforcement: "off" });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));
  const email = "single-factor@example.com";
  await signUp(tenant, email);
  const signedIn = await signInFrom(tenant, email, "NL");
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  const log = await admin("GET", `${tenant}/v1.0/auditLogs/signIns?$filter=${encodeURIComponent("status/errorCode eq 0")}&$top=1`);
  const [record] = log.body.value;
  assert.equal(record.conditionalAccessStatus, "notApplied", JSON.stringify(record));
  assert.equal(record.authenticationRequirement, "singleFactorAuthentication", JSON.stringify(record));
  assert.deepEqual(record.appliedConditionalAccessPolicies.map((p) => [p.result, p.enforcedGrantControls]), [["notEnabled", []]]);
});

// Before: `GET /users?$top=999`, the usual Graph call for "as many as you can", was a 400
// because a page here holds at most 100. Graph accepts 1 to 999 and may return fewer than
// `$top` with an `@odata.nextLink` (server-driven paging); so does this service now.
test("GET /users accepts Graph's $top range (1 to 999) and pages server-side", async () => {
  const tenant = "rv-users-top";
  await signUp(tenant, "paged@example.com");
  for (const top of ["999", "101"]) {
    const r = await admin("GET", `${tenant}/v1.0/users?$top=${top}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.value.length, 1, JSON.stringify(r.body));
  }
  const tooMany = await admin("GET", `${tenant}/v1.0/users?$top=1000`);
  assert.equal(tooMany.status, 400, JSON.stringify(tooMany.body));
  assert.equal(tooMany.body.error.code, "admin.invalid_query");
  assert.match(tooMany.body.error.message, /999/);
});

// Before: `Authorization: bearer <secret>` was a 401. The scheme is case-insensitive
// (RFC 9110 §11.1, RFC 6750), and HTTP clients and proxies that lowercase it are common.
test("the admin credential's scheme is matched case-insensitively, the secret exactly", async () => {
  const path = `rv-auth/v1.0/${CA}/policies`;
  for (const scheme of ["Bearer", "bearer", "BEARER"]) {
    const r = await admin("GET", path, undefined, { authorization: `${scheme} ${ADMIN}` });
    assert.equal(r.status, 200, `${scheme}: ${JSON.stringify(r.body)}`);
  }
  for (const authorization of [`Bearer ${ADMIN.toUpperCase()}`, `Basic ${ADMIN}`, `Bearer${ADMIN}`, "Bearer ", "bearer"]) {
    const r = await admin("GET", path, undefined, { authorization });
    assert.equal(r.status, 401, `${authorization}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "admin.unauthorized");
  }
});

// Before: a 401 without `WWW-Authenticate`, which HTTP requires of every 401 (RFC 9110
// §15.5.2; RFC 6750 §3 for bearer tokens): clients that authenticate on demand had no
// scheme to answer.
test("a refused admin request names the Bearer scheme in WWW-Authenticate", async () => {
  for (const headers of [{}, { authorization: "Bearer wrong-wrong-wrong-wrong-wrong" }]) {
    const res = await fetch(`${worker.url}/rv-auth/v1.0/users`, { headers });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="[^"]+"$/);
    assert.equal((await res.json()).error.code, "admin.unauthorized");
  }
  const ok = await fetch(`${worker.url}/rv-auth/v1.0/users`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("www-authenticate"), null);
});

// Before: `DEFAULT_TENANT` was used as written while every `/{tenant}/` path is lowercased,
// so with `DEFAULT_TENANT=Contoso` what an admin wrote under `/v1.0/` went to a tenant no
// sign-in reads (`/Contoso/oauth2/…` is tenant `contoso`): an MFA policy never applied.
test("DEFAULT_TENANT names the same tenant as its path, whatever its case", async () => {
  const other = await startWorker({ vars: { ...nativeVars(), DEFAULT_TENANT: "Contoso" } });
  try {
    const created = await admin("POST", `v1.0/${CA}/policies`, {
      displayName: "Require MFA", state: "enabled",
      conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] } },
      grantControls: { operator: "OR", builtInControls: ["mfa"] },
    }, { w: other, authorization: `Bearer ${ADMIN}` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const tenant of ["contoso", "Contoso"]) {
      const list = await admin("GET", `${tenant}/v1.0/${CA}/policies`, undefined, { w: other });
      assert.deepEqual(list.body.value.map((p) => p.id), [created.body.id], tenant);
    }
  } finally {
    await other.stop();
  }
});

// Before: `$filter` (and `$orderby`, `$skip`, …) on the Graph collections was ignored, so
// `GET applications?$filter=appId eq '<mine>'`, the usual Graph lookup by client id,
// answered with every app: a script acting on `value[0]` acted on the wrong one.
test("an OData option that would narrow a collection is refused, not ignored", async () => {
  const tenant = "rv-filter";
  const first = await admin("POST", `${tenant}/v1.0/applications`, { displayName: "First", appId: "first-app" });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const mine = await admin("POST", `${tenant}/v1.0/applications`, { displayName: "Mine", appId: "my-app" });
  assert.equal(mine.status, 201, JSON.stringify(mine.body));
  const cases = [
    ["applications", `$filter=${encodeURIComponent("appId eq 'my-app'")}`, "$filter"],
    [`${CA}/policies`, `$filter=${encodeURIComponent("state eq 'enabled'")}`, "$filter"],
    [`${CA}/namedLocations`, "$orderby=displayName", "$orderby"],
    ["identity/authenticationEventListeners", "$skip=1", "$skip"],
    ["identity/authenticationEventsFlows", "filter=id%20eq%20'x'", "filter"],
  ];
  for (const [path, query, option] of cases) {
    const r = await admin("GET", `${tenant}/v1.0/${path}?${query}`);
    assert.equal(r.status, 400, `${path}?${query}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, "admin.invalid_query");
    assert.equal(r.body.error.target, option);
  }
  // Options that only shape the answer still get the whole list.
  const all = await admin("GET", `${tenant}/v1.0/applications?$select=id,appId&$top=1&$count=true`);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.deepEqual(all.body.value.map((a) => a.appId).sort(), ["first-app", "my-app"]);
  // Users and sign-in logs keep their own rules.
  assert.equal((await admin("GET", `${tenant}/v1.0/auditLogs/signIns?$filter=${encodeURIComponent("appId eq 'my-app'")}`)).status, 200);
});

// Before: a create answered 201 with the item but no `Location` (OData 4.01 §11.4.2.1:
// the response to a create contains the created entity's URL), so a client following it,
// as OData clients do, had nowhere to go.
test("every create answers 201 with a Location that reads the created item", async () => {
  const tenant = "rv-location";
  const creates = [
    [`${CA}/namedLocations`, { "@odata.type": "#microsoft.graph.countryNamedLocation", displayName: "Home", countriesAndRegions: ["NL"] }],
    [`${CA}/policies`, {
      displayName: "Report MFA", state: "enabledForReportingButNotEnforced",
      conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] } },
      grantControls: { operator: "OR", builtInControls: ["mfa"] },
    }],
    ["applications", { displayName: "Located" }],
    ["identity/authenticationEventListeners", {
      "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartListener",
      conditions: { applications: { includeAllApplications: true } }, priority: 500,
      handler: { "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler", smsOptions: { includeAdditionalRegions: [], excludeRegions: [44] } },
    }],
    ["identity/authenticationEventsFlows", {
      "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow", displayName: "Own flow",
      conditions: { applications: { includeApplications: [{ appId: APP }] } },
      onAuthenticationMethodLoadStart: { identityProviders: [{ id: "EmailPassword-OAUTH" }] },
    }],
  ];
  for (const [path, body] of creates) {
    const res = await fetch(`${worker.url}/${tenant}/v1.0/${path}?$select=id`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const created = await res.json();
    assert.equal(res.status, 201, `${path}: ${JSON.stringify(created)}`);
    assert.equal(res.headers.get("location"), `${worker.url}/${tenant}/v1.0/${path}/${created.id}`, path);
    const read = await admin("GET", res.headers.get("location").slice(worker.url.length + 1));
    assert.equal(read.status, 200, `${path}: ${JSON.stringify(read.body)}`);
    assert.equal(read.body.id, created.id);
  }
});

/** Resident memory of the workerd processes of `w`, in KiB (Linux `ps`). */
function workerdRssKib(w) {
  const out = execFileSync("ps", ["-o", "rss=,comm=", "-g", String(w.pid)]).toString();
  return out.split("\n").filter((l) => /workerd/.test(l))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]), 0);
}

// Before: the admin API (and every form endpoint: native auth, the hosted pages) read the
// whole body and only then compared its size with the limit. Two 80 MB bodies grew
// workerd by ~250 MB (each buffered in JS and again in wasm memory, which never shrinks);
// on Cloudflare one such request, on the native endpoints from anyone, is over an
// isolate's 128 MB. Now a body is refused by its declared length, or, sent without one,
// read chunk by chunk with what passes the limit dropped, and never held whole. (Local
// workerd drains an unread body before answering, so timing is not what is checked.)
test("an oversized body is refused without being held in memory", async () => {
  const big = new Uint8Array(80 * 1024 * 1024).fill(32);
  const before = workerdRssKib(worker);
  const refused = await fetch(`${worker.url}/rv-body/v1.0/${CA}/policies`, {
    method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: big,
  });
  assert.equal(refused.status, 413);
  assert.equal((await refused.json()).error.code, "request.too_large");
  const native = await fetch(`${worker.url}/rv-body/oauth2/v2.0/initiate`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: big,
  });
  assert.equal(native.status, 400);
  assert.equal((await native.json()).error, "invalid_request");
  const streamed = await fetch(`${worker.url}/rv-body/v1.0/${CA}/policies`, {
    method: "POST", duplex: "half",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: new ReadableStream({
      start(c) { for (let i = 0; i < 80; i++) c.enqueue(big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024)); c.close(); },
    }),
  });
  assert.equal(streamed.status, 413);
  const grownMib = (workerdRssKib(worker) - before) / 1024;
  assert.ok(grownMib < 80, `workerd grew by ${grownMib.toFixed(0)} MiB for three refused 80 MiB bodies`);
  // A small body sent without a length still works, and so does the next request on the
  // connection after a refused one.
  const chunked = await fetch(`${worker.url}/rv-body/v1.0/${CA}/policies`, {
    method: "POST", duplex: "half",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: new ReadableStream({
      start(c) { for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode(" ".repeat(16 * 1024))); c.close(); },
    }),
  });
  assert.equal(chunked.status, 413, await chunked.text());
  const small = await admin("POST", `rv-body/v1.0/${CA}/namedLocations`, {
    "@odata.type": "#microsoft.graph.countryNamedLocation", displayName: "Small", countriesAndRegions: ["NL"],
  });
  assert.equal(small.status, 201, JSON.stringify(small.body));
});

// Before: an item's id was matched exactly, so `GET …/policies/0854951D-…` (a GUID as some
// tools print it) was a 404 although Graph reads GUIDs in any case, and the policy engine
// compares ids that way too (docs/policy-semantics.md).
test("an item's GUID is read in any case on GET, PATCH and DELETE", async () => {
  const tenant = "rv-guid-case";
  const created = await admin("POST", `${tenant}/v1.0/${CA}/namedLocations`, {
    "@odata.type": "#microsoft.graph.countryNamedLocation", displayName: "Home", countriesAndRegions: ["NL"],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const upper = created.body.id.toUpperCase();
  assert.notEqual(upper, created.body.id);
  const read = await admin("GET", `${tenant}/v1.0/${CA}/namedLocations/${upper}`);
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.equal(read.body.id, created.body.id, "the id keeps its own spelling");
  const patched = await admin("PATCH", `${tenant}/v1.0/${CA}/namedLocations/${upper}`, { displayName: "Home office" });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal((await admin("DELETE", `${tenant}/v1.0/${CA}/namedLocations/${upper}`)).status, 204);
  assert.equal((await admin("GET", `${tenant}/v1.0/${CA}/namedLocations/${created.body.id}`)).status, 404);
});

// Before: deleting a named location a policy still used was refused as
// "no named location has the id `<it>`", about the policy: read as if the location were
// already gone, and not saying which policy to change.
test("deleting a named location in use names the policy that uses it", async () => {
  const tenant = "rv-in-use";
  const location = await admin("POST", `${tenant}/v1.0/${CA}/namedLocations`, {
    "@odata.type": "#microsoft.graph.ipNamedLocation", displayName: "Office",
    ipRanges: [{ "@odata.type": "#microsoft.graph.iPv4CidrRange", cidrAddress: "203.0.113.0/24" }],
  });
  assert.equal(location.status, 201, JSON.stringify(location.body));
  const policy = await admin("POST", `${tenant}/v1.0/${CA}/policies`, {
    displayName: "MFA outside the office", state: "enabled",
    conditions: {
      clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] },
      locations: { includeLocations: ["All"], excludeLocations: [location.body.id] },
    },
    grantControls: { operator: "OR", builtInControls: ["mfa"] },
  });
  assert.equal(policy.status, 201, JSON.stringify(policy.body));
  const refused = await admin("DELETE", `${tenant}/v1.0/${CA}/namedLocations/${location.body.id}`);
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, "admin.location_in_use");
  assert.equal(refused.body.error.target, "policies[0].conditions.locations.excludeLocations");
  assert.match(refused.body.error.message, /MFA outside the office/);
  assert.ok(refused.body.error.message.includes(policy.body.id), refused.body.error.message);
  // Once the policy no longer names it, it goes.
  const patched = await admin("PATCH", `${tenant}/v1.0/${CA}/policies/${policy.body.id}`, {
    conditions: { ...policy.body.conditions, locations: undefined },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal((await admin("DELETE", `${tenant}/v1.0/${CA}/namedLocations/${location.body.id}`)).status, 204);
});

// Before: PATCH could change an app's `appId` (its client id), which Graph keeps
// read-only: the user flow, Conditional Access and the SMS listeners still named the old
// id, so a policy requiring MFA for the app silently stopped applying to it.
test("an application's appId cannot be changed by PATCH", async () => {
  const tenant = "rv-app-id";
  const app = await admin("POST", `${tenant}/v1.0/applications`, { displayName: "Shop", appId: "shop" });
  assert.equal(app.status, 201, JSON.stringify(app.body));
  const renamed = await admin("PATCH", `${tenant}/v1.0/applications/${app.body.id}`, { appId: "shop2" });
  assert.equal(renamed.status, 400, JSON.stringify(renamed.body));
  assert.equal(renamed.body.error.code, "app.app_id_read_only");
  assert.equal(renamed.body.error.target, "appId");
  assert.equal((await admin("GET", `${tenant}/v1.0/applications/${app.body.id}`)).body.appId, "shop");
  // The same value, as in a body pasted from a GET, is fine.
  const same = await admin("PATCH", `${tenant}/v1.0/applications/${app.body.id}`, { appId: "shop", displayName: "Shop (EU)" });
  assert.equal(same.status, 200, JSON.stringify(same.body));
  assert.equal(same.body.displayName, "Shop (EU)");
});

// Before: an administrator who took a lost phone off an account left the code already sent
// to it valid for its lifetime; whoever held the phone finished the sign-in with it.
test("a code sent to a phone method deleted since then signs no one in", async () => {
  const tenant = "rv-removed-phone";
  const email = "lost.phone@example.com";
  const phone = "+15550107799";
  await requireMfa(worker, tenant);
  await signUpWithPhone(worker, tenant, email, PASSWORD, phone, { token: ct, seen });

  let r;
  r = await post(worker, tenant, "oauth2/v2.0/initiate", { username: email, challenge_type: TYPES, capabilities: CAPS });
  r = await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES });
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "password", password: PASSWORD, scope: "openid" });
  assert.equal(r.body.suberror, "mfa_required", JSON.stringify(r.body));
  r = await post(worker, tenant, "oauth2/v2.0/introspect", { continuation_token: ct(r) });
  const [method] = r.body.methods;
  r = await post(worker, tenant, "oauth2/v2.0/challenge", { continuation_token: ct(r), challenge_type: TYPES, id: method.id });
  const code = await latestCode(worker, phone);
  seen.push(code);

  const user = (await admin("GET", `${tenant}/v1.0/users`)).body.value.find((u) => u.mail === email);
  const phones = await admin("GET", `${tenant}/v1.0/users/${user.id}/authentication/phoneMethods`);
  assert.equal(phones.body.value.length, 1, JSON.stringify(phones.body));
  const removed = await admin("DELETE", `${tenant}/v1.0/users/${user.id}/authentication/phoneMethods/${phones.body.value[0].id}`);
  assert.equal(removed.status, 204, JSON.stringify(removed.body));

  const late = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "mfa_oob", oob: code, scope: "openid" });
  assert.equal(late.status, 400, JSON.stringify(late.body));
  assert.equal(late.body.access_token, undefined);
});

test("the log holds none of the secrets, codes or addresses used here", () => {
  assertLogClean(worker.output(), seen.filter(Boolean));
});
