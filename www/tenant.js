// The demo "tenant": every setting the admin console edits, in one plain JSON object kept
// in localStorage, so any page of the demo (the admin console now, the customer app later)
// reads the same configuration. This module does not import the engine: reading the
// tenant costs nothing, and the customer app decides with `vestibule` itself.
//
// Usage from another page:
//
//   import { loadTenant, onTenantChange, policyInput, mfaMethods } from "./tenant.js";
//   let tenant = loadTenant();
//   onTenantChange((t) => { tenant = t; });          // the admin saved something (any tab)
//   evaluate({ ...policyInput(tenant), signIn, satisfied, now });
//
// Shape (schemaVersion 1). Graph-shaped parts use Microsoft Graph's JSON as is:
//
//   {
//     schemaVersion: 1,
//     organization: { displayName, domain },
//     directory: {
//       users:  [{ id, displayName, mail, description, groupIds: string[], roleIds: string[],
//                  breakGlass?: true }],   // groupIds/roleIds feed SignIn.groupIds/roleIds
//       groups: [{ id, displayName }],
//     },
//     applications: [{ appId, displayName, description }],   // SignIn.appId is an appId
//     conditionalAccess: {
//       policies:       ConditionalAccessPolicy[],   // Graph conditionalAccessPolicy, valid
//       namedLocations: NamedLocation[],             // Graph ip/countryNamedLocation, valid
//     },                                             // (both pass validatePolicies together)
//     authenticationMethodsPolicy: {                 // Graph authenticationMethodsPolicy
//       id, displayName,
//       authenticationMethodConfigurations: [
//         { "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
//           id: "Email", state: "enabled" | "disabled", allowExternalIdToUseEmailOtp, includeTargets },
//         { "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
//           id: "Sms", state: "enabled" | "disabled", includeTargets },
//       ],
//     },
//     // The local account's first factor, as chosen in an External ID user flow:
//     // "emailPassword" (EmailPassword-OAUTH) or "emailOtp" (EmailOtpSignup-OAUTH).
//     localAccount: { method: "emailPassword" | "emailOtp" },
//     // SMS calling-code opt-ins: the `smsOptions` of Graph's
//     // onPhoneMethodLoadStartExternalUsersAuthHandler (numbers without "+").
//     smsRegions: { includeAdditionalRegions: number[], excludeRegions: number[] },
//   }
import { OPT_IN_CALLING_CODES } from "./countries.js";
import { seedTenant } from "./seed.js";

/** The localStorage key the tenant lives under. */
export const STORAGE_KEY = "vestibule-demo.tenant.v1";
const EVENT = "vestibule:tenant";
const VERSION = 1;

let memory = null; // used when localStorage is unavailable (private mode, quota)

export { seedTenant };

/** The saved tenant, or the seeded one when nothing (usable) is saved yet. */
export function loadTenant() {
  let text = memory;
  try {
    text = globalThis.localStorage?.getItem(STORAGE_KEY) ?? memory;
  } catch {
    // storage blocked: fall back to this page's memory
  }
  if (text) {
    try {
      const tenant = JSON.parse(text);
      if (tenant?.schemaVersion === VERSION) return tenant;
    } catch {
      // unreadable: start from the seed again
    }
  }
  return seedTenant();
}

/** Stores the tenant and tells this page's listeners; other tabs hear it via `storage`. */
export function saveTenant(tenant) {
  const text = JSON.stringify(tenant);
  memory = text;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, text);
  } catch {
    // kept in memory only
  }
  globalThis.dispatchEvent?.(new CustomEvent(EVENT, { detail: structuredClone(tenant) }));
}

/** Forgets every change and returns the seeded tenant. */
export function resetTenant() {
  const tenant = seedTenant();
  saveTenant(tenant);
  return tenant;
}

/** Calls `listener(tenant)` after every save, in this tab or another; returns an unsubscribe. */
export function onTenantChange(listener) {
  const local = (e) => listener(e.detail);
  const other = (e) => {
    if (e.key === STORAGE_KEY) listener(loadTenant());
  };
  globalThis.addEventListener?.(EVENT, local);
  globalThis.addEventListener?.("storage", other);
  return () => {
    globalThis.removeEventListener?.(EVENT, local);
    globalThis.removeEventListener?.("storage", other);
  };
}

/** The `{ policies, namedLocations }` part of every engine call. */
export function policyInput(tenant) {
  const { policies, namedLocations } = tenant.conditionalAccess;
  return { policies, namedLocations };
}

/** The directory entry of a user, or undefined. */
export function findUser(tenant, userId) {
  return tenant.directory.users.find((u) => u.id === userId);
}

/** Whether a method ("Email" or "Sms") is enabled in the authentication methods policy. */
export function methodEnabled(tenant, id) {
  const config = tenant.authenticationMethodsPolicy.authenticationMethodConfigurations.find((c) => c.id === id);
  return config?.state === "enabled";
}

/**
 * The second factors a user can complete, as engine method names: email OTP counts only when
 * the first factor is email + password (an email OTP first factor cannot also be the
 * second, S-EXT-MFA); SMS counts when enabled.
 */
export function mfaMethods(tenant) {
  const methods = [];
  if (methodEnabled(tenant, "Email") && tenant.localAccount.method === "emailPassword") methods.push("email");
  if (methodEnabled(tenant, "Sms")) methods.push("sms");
  return methods;
}

/** Whether an SMS code may be sent to a calling code (a number such as 44 or 234). */
export function smsAllowedTo(tenant, callingCode) {
  const { includeAdditionalRegions, excludeRegions } = tenant.smsRegions;
  if (excludeRegions.includes(callingCode)) return false;
  return !OPT_IN_CALLING_CODES.includes(callingCode) || includeAdditionalRegions.includes(callingCode);
}
