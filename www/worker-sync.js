// "Engine: local Worker": the console's tenant pushed to the Worker through its admin API
// (Graph paths, README "Admin API"), so the Worker decides with the policies and methods
// the person just edited. No DOM here.
//
//   const result = await pushTenant({ baseUrl, token, tenant });   // tenant = loadTenant()
//   result.ok ? result.summary : result.error   // error: { step, status, code, message, target, kept }
//
// What is pushed, replacing what the Worker's tenant held:
// - Conditional Access named locations and policies (the new ones created, then the old
//   ones deleted, and a refusal half-way undoes what it created; the Worker gives new ids,
//   so policies are rewritten to the new location ids, and the bank's app id to the
//   Worker's client `vestibule-demo-app`);
// - the authentication methods policy's Email and Sms configurations;
// - the SMS region opt-ins (one onPhoneMethodLoadStartListener);
// - the user flow's local account method and the attributes it collects;
// - the flow settings the console's engine runs with (code length, MFA enforcement).
// Users and groups are not pushed: the admin API has no call to create a user or set its
// groups, and the Worker keeps its own customers, so policies naming the console's users or
// groups (the break-glass exclusion, the Staff group) match nobody there. The summary names
// the policies that therefore apply to no one (`appliesToNoOne`), for the page to say.
//
// The admin credential is the caller's (the person pastes the local ADMIN_TOKEN); the
// Worker answers a browser only when ADMIN_CORS_ORIGINS lists this page's origin.
import { flowConfig } from "./flow-config.js";
import { WORKER_CLIENT_ID, WORKER_TENANT } from "./native-client.js";
import { policiesForNoCustomer } from "./directory-scope.js";
import { APPS } from "./seed.js";

const SERVER_FIELDS = ["id", "createdDateTime", "modifiedDateTime"];
const without = (item, fields) => Object.fromEntries(Object.entries(item).filter(([k]) => !fields.includes(k)));

/** The console's app ids as the Worker knows them. */
const workerAppId = (appId) => (appId === APPS.bank ? WORKER_CLIENT_ID : appId);

/** A policy with location and app ids rewritten for the Worker. */
export function policyForWorker(policy, locationIds) {
  const p = structuredClone(without(policy, SERVER_FIELDS));
  const loc = p.conditions?.locations;
  if (loc) {
    for (const key of ["includeLocations", "excludeLocations"]) {
      if (Array.isArray(loc[key])) loc[key] = loc[key].map((id) => locationIds.get(id) ?? id);
    }
  }
  const apps = p.conditions?.applications;
  if (apps) {
    for (const key of ["includeApplications", "excludeApplications"]) {
      if (Array.isArray(apps[key])) apps[key] = apps[key].map(workerAppId);
    }
  }
  return p;
}

/**
 * Pushes `tenant` (the console's tenant object) to the Worker at `baseUrl`. Stops at the
 * first refusal and returns the Worker's own error (code, message, JSON path).
 */
export async function pushTenant({ baseUrl, token, tenant, workerTenant = WORKER_TENANT, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const api = `${baseUrl}/${encodeURIComponent(workerTenant)}/v1.0`;
  let step = "";
  const call = async (method, path, body) => {
    let response;
    try {
      response = await fetchImpl(`${api}/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw { step, status: 0, code: "network", message: `the Worker at ${baseUrl} did not answer or refused this page's origin (${e?.message ?? e}); start it with \`bash scripts/dev.sh\`, which allows this demo's origin` };
    }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!response.ok) {
      const e = json?.error ?? {};
      throw { step, status: response.status, code: e.code ?? `http.${response.status}`, message: e.message ?? (text || response.statusText), target: e.target };
    }
    return json;
  };

  const ca = tenant.conditionalAccess;
  const summary = { policies: ca.policies.length, namedLocations: ca.namedLocations.length, appliesToNoOne: policiesForNoCustomer(tenant) };
  let pushedPolicies = false;
  let created = null;
  try {
    // New items first, old ones after: a refusal half-way (a policy the Worker's validation
    // rejects) must not leave the Worker with only some of the policies, which could be
    // less strict than either set. What was created before a refusal is removed again.
    step = "read the Worker's Conditional Access policies";
    const oldPolicies = (await call("GET", "identity/conditionalAccess/policies")).value.map((p) => p.id);
    step = "read the Worker's named locations";
    const oldLocations = (await call("GET", "identity/conditionalAccess/namedLocations")).value.map((l) => l.id);
    created = { policies: [], locations: [], all: false };
    try {
      const locationIds = new Map();
      for (const l of ca.namedLocations) {
        step = `create named location “${l.displayName}”`;
        const made = await call("POST", "identity/conditionalAccess/namedLocations", without(l, SERVER_FIELDS));
        created.locations.push(made.id);
        locationIds.set(l.id, made.id);
      }
      for (const p of ca.policies) {
        step = `create policy “${p.displayName}”`;
        const made = await call("POST", "identity/conditionalAccess/policies", policyForWorker(p, locationIds));
        created.policies.push(made.id);
      }
    } catch (e) {
      const undo = async () => {
        for (const id of created.policies) await call("DELETE", `identity/conditionalAccess/policies/${encodeURIComponent(id)}`);
        for (const id of created.locations) await call("DELETE", `identity/conditionalAccess/namedLocations/${encodeURIComponent(id)}`);
      };
      const undone = await undo().then(() => true, () => false);
      throw { ...e, kept: undone ? "its previous Conditional Access policies and everything else unchanged" : "its previous policies plus some of the new ones (removing them failed too)" };
    }
    created.all = true;
    step = "remove the Worker's previous Conditional Access policies";
    for (const id of oldPolicies) await call("DELETE", `identity/conditionalAccess/policies/${encodeURIComponent(id)}`);
    step = "remove the Worker's previous named locations";
    for (const id of oldLocations) await call("DELETE", `identity/conditionalAccess/namedLocations/${encodeURIComponent(id)}`);
    pushedPolicies = true;

    for (const c of tenant.authenticationMethodsPolicy.authenticationMethodConfigurations) {
      step = `switch ${c.id} ${c.state === "enabled" ? "on" : "off"}`;
      await call("PATCH", `policies/authenticationMethodsPolicy/authenticationMethodConfigurations/${encodeURIComponent(c.id)}`, without(c, ["id"]));
    }

    step = "set the SMS regions";
    const phoneListener = "#microsoft.graph.onPhoneMethodLoadStartListener";
    for (const l of (await call("GET", "identity/authenticationEventListeners")).value) {
      if (l["@odata.type"] === phoneListener) await call("DELETE", `identity/authenticationEventListeners/${encodeURIComponent(l.id)}`);
    }
    await call("POST", "identity/authenticationEventListeners", {
      "@odata.type": phoneListener,
      // The console's regions are tenant-wide: every app.
      conditions: { applications: { includeAllApplications: true } },
      handler: {
        "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
        smsOptions: { includeAdditionalRegions: [...tenant.smsRegions.includeAdditionalRegions], excludeRegions: [...tenant.smsRegions.excludeRegions] },
      },
    });

    step = "set the user flow's sign-in method and attributes";
    const flows = (await call("GET", "identity/authenticationEventsFlows")).value;
    const { userFlow, settings } = flowConfig(tenant);
    if (flows[0]) {
      await call("PATCH", `identity/authenticationEventsFlows/${encodeURIComponent(flows[0].id)}`, {
        onAuthenticationMethodLoadStart: userFlow.onAuthenticationMethodLoadStart,
        onAttributeCollection: userFlow.onAttributeCollection,
      });
    }

    // The console promises 6-digit codes and MFA by Conditional Access (flow-config.js);
    // the Worker's own default is Entra's 8 digits.
    step = "set the code length and MFA enforcement";
    await call("PATCH", "vestibule/flowSettings", settings);
  } catch (e) {
    const error = e?.step !== undefined ? e : { step, status: 0, code: "demo.bug", message: String(e?.message ?? e) };
    // What the Worker decides with now, for the page to say.
    error.kept ??= pushedPolicies
      ? "this console's Conditional Access policies, but not the rest from this step on"
      : created?.all
        ? "this console's Conditional Access policies plus some of its previous ones (removing them failed), and nothing else changed"
        : "its previous configuration";
    return { ok: false, error };
  }
  return { ok: true, summary };
}

/**
 * The names of the policies that blocked the newest sign-in of `email` at the Worker, read
 * from its sign-in log with the admin credential: native authentication answers a block
 * with 53003 and no policy, as Entra does. [] when the log has none or cannot be read.
 */
export async function blockingPolicies({ baseUrl, token, email, workerTenant = WORKER_TENANT, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const filter = `userPrincipalName eq '${String(email).replaceAll("'", "''")}' and conditionalAccessStatus eq 'failure'`;
  const url = `${baseUrl}/${encodeURIComponent(workerTenant)}/v1.0/auditLogs/signIns?$top=1&$filter=${encodeURIComponent(filter)}`;
  try {
    const response = await fetchImpl(url, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) return [];
    const newest = (await response.json()).value?.[0];
    return (newest?.appliedConditionalAccessPolicies ?? [])
      .filter((p) => p.result === "failure" && (p.enforcedGrantControls ?? []).includes("block"))
      .map((p) => p.displayName);
  } catch {
    return [];
  }
}
