// The customer app's flow configuration, derived from the demo tenant every time it is
// used, so what an admin changes in the console (methods on/off, the local account's first
// factor, Conditional Access policies) is what the next sign-in follows. No DOM here: the
// same functions run in Node for checks.
//
//   const config = flowConfig(tenant);                 // FlowConfig (see js/index.d.ts)
//   new Flow({ config, conditionalAccess: conditionalAccess(tenant), ... });
import { OPT_IN_CALLING_CODES } from "./countries.js";
import { policyInput, smsAllowedTo } from "./tenant.js";

/** The identity provider id of each local account method (External ID user flows). */
export const LOCAL_ACCOUNT_PROVIDERS = {
  emailPassword: "EmailPassword-OAUTH",
  emailOtp: "EmailOtpSignup-OAUTH",
};

/** The authentication context the bank asks for before a transfer (Graph `authenticationContextClassReference`). */
export const TRANSFER_CONTEXT = { id: "c1", displayName: "High-value transfer" };

/**
 * The user flow, methods policy and settings for the tenant: a sign-up and sign-in flow for
 * every app in the tenant, collecting a display name, with MFA decided by Conditional Access.
 */
export function flowConfig(tenant) {
  const provider = LOCAL_ACCOUNT_PROVIDERS[tenant.localAccount?.method] ?? LOCAL_ACCOUNT_PROVIDERS.emailPassword;
  return {
    authenticationMethodsPolicy: structuredClone(tenant.authenticationMethodsPolicy),
    userFlow: {
      "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
      displayName: `${tenant.organization.displayName} sign-up and sign-in`,
      conditions: { applications: { includeApplications: tenant.applications.map(({ appId }) => ({ appId })) } },
      onInteractiveAuthFlowStart: { isSignUpAllowed: true },
      onAuthenticationMethodLoadStart: { identityProviders: [{ id: provider }] },
      onAttributeCollection: {
        attributes: [
          { id: "email", dataType: "string" },
          { id: "displayName", dataType: "string", displayName: "Display name" },
        ],
        attributeCollectionPage: { views: [{ inputs: [
          { attribute: "email", hidden: true, required: true },
          { attribute: "displayName", label: "Display name", inputType: "text", required: true },
        ] }] },
      },
    },
    // External ID's model: Conditional Access decides when a second factor is needed.
    settings: { mfaEnforcement: "conditional", codes: { length: 6 } },
  };
}

/** The Conditional Access input of the flow: the tenant's policies and named locations. */
export function conditionalAccess(tenant) {
  return structuredClone(policyInput(tenant));
}

/** The tenant's local account method in words. */
export function localAccountLabel(tenant) {
  return tenant.localAccount?.method === "emailOtp" ? "email with one-time passcode" : "email with password";
}

/**
 * Whether the tenant lets an SMS code go to `number` (E.164), and the calling code that
 * decided. Calling codes are prefix-free, except that longer codes such as 1876 (Jamaica)
 * sit inside 1, so the longest listed prefix wins; a number under no listed code is allowed.
 */
export function smsRegionCheck(tenant, number) {
  const digits = String(number).trim().replace(/^\+/, "");
  const { includeAdditionalRegions, excludeRegions } = tenant.smsRegions;
  const listed = new Set([...OPT_IN_CALLING_CODES, ...includeAdditionalRegions, ...excludeRegions]);
  for (let n = Math.min(4, digits.length); n >= 1; n -= 1) {
    const code = Number(digits.slice(0, n));
    if (listed.has(code)) return { allowed: smsAllowedTo(tenant, code), callingCode: code, excluded: excludeRegions.includes(code) };
  }
  return { allowed: true, callingCode: null, excluded: false };
}
