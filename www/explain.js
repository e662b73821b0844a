// Plain words for what the engine answers: Graph values (analysisReasons, policy results,
// decisions, controls) become sentences an admin can act on, with the names from the
// tenant instead of ids. Pure functions of their inputs; no engine calls here.
import { countryName } from "./countries.js";
import { TRANSFER_CONTEXT } from "./flow-config.js";

/** The authentication contexts the demo's apps ask for, by id (Graph `authenticationContextClassReference`). */
export const AUTH_CONTEXTS = { [TRANSFER_CONTEXT.id]: TRANSFER_CONTEXT.displayName };
/** "High-value transfer (c1)", or the bare id for a context no app here asks for. */
export const contextName = (id) => (AUTH_CONTEXTS[id] ? `${AUTH_CONTEXTS[id]} (${id})` : id);

export const CLIENT_APP_TYPES = {
  browser: "Browser",
  mobileAppsAndDesktopClients: "Mobile apps and desktop clients",
  exchangeActiveSync: "Exchange ActiveSync",
  other: "Other clients (legacy authentication)",
};
export const PLATFORMS = {
  android: "Android", iOS: "iOS", windows: "Windows", macOS: "macOS", linux: "Linux", windowsPhone: "Windows Phone",
};
export const RISK_LEVELS = { high: "High", medium: "Medium", low: "Low", none: "No risk" };
export const STATES = {
  enabled: { label: "On", tone: "success" },
  enabledForReportingButNotEnforced: { label: "Report-only", tone: "warning" },
  disabled: { label: "Off", tone: "neutral" },
};
const CONTROLS = {
  block: "block access",
  mfa: "multifactor authentication",
  passwordChange: "a password change",
  compliantDevice: "a compliant device",
  domainJoinedDevice: "a hybrid-joined device",
  approvedApplication: "an approved client app",
  compliantApplication: "an app protection policy",
};
export const METHODS = { password: "Password", email: "Email one-time passcode", sms: "SMS text message" };

/** Joins names as "a, b and c". */
export function list(items, last = "and") {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${last} ${items.at(-1)}`;
}
const quote = (name) => `“${name}”`;
const upper = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** A name for a user, group or role id, or a special value, from the tenant's directory. */
export function principalName(tenant, id) {
  if (id === "All") return "All users";
  if (id === "None") return "No users";
  if (id === "GuestsOrExternalUsers") return "Guests and external users";
  const user = tenant.directory.users.find((u) => u.id === id);
  if (user) return user.displayName;
  const group = tenant.directory.groups.find((g) => g.id === id);
  if (group) return `${group.displayName} (group)`;
  return id;
}

export function appName(tenant, id) {
  if (id === "All") return "All apps";
  if (id === "None") return "No apps";
  return tenant.applications.find((a) => a.appId === id)?.displayName ?? id;
}

export function locationName(tenant, id) {
  if (id === "All") return "Any location";
  if (id === "AllTrusted") return "All trusted locations";
  return tenant.conditionalAccess.namedLocations.find((l) => l.id === id)?.displayName ?? id;
}

/** What a policy grants, in a few words: "Block access", "Require MFA", "Grant access". */
export function grantSummary(policy) {
  const g = policy.grantControls;
  const controls = g?.builtInControls ?? [];
  if (controls.includes("block")) return "Block access";
  const parts = controls.map((c) => (c === "mfa" ? "MFA" : CONTROLS[c] ?? c));
  if (g?.authenticationStrength) parts.push("an authentication strength");
  if (!parts.length) return "Grant access";
  return `Require ${list(parts, g?.operator === "OR" ? "or" : "and")}`;
}

/** Who a policy targets: "All users except Break-glass admin". */
export function usersSummary(tenant, policy) {
  const u = policy.conditions?.users ?? {};
  const include = [...(u.includeUsers ?? []), ...(u.includeGroups ?? []), ...(u.includeRoles ?? [])];
  const exclude = [...(u.excludeUsers ?? []), ...(u.excludeGroups ?? []), ...(u.excludeRoles ?? [])];
  const who = include.length ? list(include.map((id) => principalName(tenant, id))) : "No users";
  return exclude.length ? `${who} except ${list(exclude.map((id) => principalName(tenant, id)))}` : who;
}

export function appsSummary(tenant, policy) {
  const a = policy.conditions?.applications ?? {};
  const include = a.includeApplications ?? [];
  const contexts = a.includeAuthenticationContextClassReferences ?? [];
  if (!include.length && contexts.length) return `Authentication context ${list(contexts.map(contextName), "or")}`;
  const text = include.length ? list(include.map((id) => appName(tenant, id))) : "No apps";
  const exclude = a.excludeApplications ?? [];
  return exclude.length ? `${text} except ${list(exclude.map((id) => appName(tenant, id)))}` : text;
}

/**
 * The sign-in being explained: the directory user, the app, and the facts entered, plus
 * `matchedLocations`: the named location ids the sign-in is in (and "AllTrusted" when one
 * of them is trusted), as the engine decided them.
 */
function whereText(ctx) {
  const bits = [];
  if (ctx.country) bits.push(`${countryName(ctx.country)} (${ctx.country})`);
  if (ctx.ipAddress) bits.push(ctx.ipAddress);
  return bits.length ? bits.join(", ") : "an unknown location";
}

function inLocations(ids, ctx) {
  return ids.filter((id) => id === "All" || ctx.matchedLocations.has(id));
}

const levels = (values) => list((values ?? []).map((r) => (RISK_LEVELS[r] ?? r).toLowerCase()), "or");
const riskOf = (who, level) => (level === "none" ? `${who} has no risk`
  : level ? `${who} has ${level} risk` : `the risk of ${who} is not known`);

/** Why a policy does not apply: a short label ("Not applied: user excluded") and a sentence. */
export function whyNotApplied(policy, reason, ctx) {
  const { tenant, user } = ctx;
  const c = policy.conditions ?? {};
  switch (reason) {
    case "users": {
      const u = c.users ?? {};
      const byUser = (u.excludeUsers ?? []).includes(user.id);
      const groups = (u.excludeGroups ?? []).filter((g) => user.groupIds.includes(g));
      const roles = (u.excludeRoles ?? []).filter((r) => user.roleIds.includes(r));
      if (byUser) {
        return { label: "Not applied: user excluded",
          detail: `${user.displayName} is listed under the policy's excluded users${user.breakGlass ? " (an emergency access account)" : ""}.` };
      }
      if (groups.length || roles.length) {
        const names = groups.map((g) => principalName(tenant, g));
        return { label: "Not applied: user excluded",
          detail: `${user.displayName} is a member of ${names.length ? list(names) : "an excluded role"}, which the policy excludes.` };
      }
      return { label: "Not applied: user not included",
        detail: `The policy targets ${usersSummary(tenant, policy)}; ${user.displayName} is not one of them.` };
    }
    case "application": {
      const excluded = (c.applications?.excludeApplications ?? []).includes(ctx.appId);
      return excluded
        ? { label: "Not applied: app excluded", detail: `The policy excludes ${appName(tenant, ctx.appId)}.` }
        : { label: "Not applied: app not included",
          detail: `The policy covers ${appsSummary(tenant, policy)}, not ${appName(tenant, ctx.appId)}.` };
    }
    case "location": {
      const l = c.locations ?? {};
      const excludedBy = inLocations(l.excludeLocations ?? [], ctx);
      if (excludedBy.length) {
        return { label: "Not applied: location excluded",
          detail: `The sign-in comes from ${whereText(ctx)}, which is in ${list(excludedBy.map((id) => quote(locationName(tenant, id))))}, a location the policy excludes.` };
      }
      const wanted = (l.includeLocations ?? []).map((id) => quote(locationName(tenant, id)));
      return { label: "Not applied: location not included",
        detail: `The sign-in comes from ${whereText(ctx)}, which is not in ${list(wanted, "or")}.` };
    }
    case "clientApps":
      return { label: "Not applied: client app not selected",
        detail: `The policy covers ${list((c.clientAppTypes ?? []).map((t) => CLIENT_APP_TYPES[t] ?? t), "or")}; ${ctx.clientAppType
          ? `this sign-in is ${CLIENT_APP_TYPES[ctx.clientAppType] ?? ctx.clientAppType}` : "this sign-in names no client app, like the customer app's"}.` };
    case "signInRisk":
      return { label: "Not applied: sign-in risk not selected",
        detail: `The policy covers ${levels(c.signInRiskLevels)} sign-in risk; ${riskOf("this sign-in", ctx.signInRisk)}.` };
    case "userRisk":
      return { label: "Not applied: user risk not selected",
        detail: `The policy covers ${levels(c.userRiskLevels)} user risk; ${riskOf("this user", ctx.userRisk)}.` };
    case "devicePlatform":
      return { label: "Not applied: device platform not selected",
        detail: `The policy does not cover ${PLATFORMS[ctx.devicePlatform] ?? "an unknown platform"}.` };
    case "policyNotEnabled":
      return { label: "Not applied: policy is off", detail: "The policy is turned off, so it is not evaluated." };
    case "devices":
      return { label: "Not applied: device filter", detail: "The policy's device filter does not match this device." };
    case "userActions":
      return { label: "Not applied: user action", detail: "The policy targets a user action, not an app sign-in." };
    case "authenticationContext": {
      const wanted = list((c.applications?.includeAuthenticationContextClassReferences ?? []).map(contextName), "or");
      return { label: "Not applied: authentication context",
        detail: `The policy applies when an app asks for ${wanted || "an authentication context"}; this sign-in did not ask.` };
    }
    case "authenticationFlow":
      return { label: "Not applied: authentication flow", detail: "The policy targets a device-code or transfer flow; this sign-in used neither." };
    default:
      return { label: `Not applied: ${reason}`, detail: "The first condition that did not match is shown." };
  }
}

/** Why a policy applies: each configured condition and how this sign-in matches it. */
export function whyApplied(policy, ctx) {
  const { tenant, user } = ctx;
  const c = policy.conditions ?? {};
  const u = c.users ?? {};
  const lines = [];
  const direct = (u.includeUsers ?? []).includes(user.id);
  const groups = (u.includeGroups ?? []).filter((g) => user.groupIds.includes(g));
  if ((u.includeUsers ?? []).includes("All")) lines.push(`Users: all users, and ${user.displayName} is not excluded`);
  else if (direct) lines.push(`Users: ${user.displayName} is listed directly`);
  else if (groups.length) lines.push(`Users: ${user.displayName} is in ${list(groups.map((g) => principalName(tenant, g)))}`);
  else lines.push(`Users: ${user.displayName} is in scope`);
  const apps = c.applications?.includeApplications ?? [];
  const asked = (c.applications?.includeAuthenticationContextClassReferences ?? []).filter((id) => (ctx.authContexts ?? []).includes(id));
  if (!apps.length && asked.length) lines.push(`Authentication context: ${appName(tenant, ctx.appId)} asks for ${list(asked.map(contextName))}`);
  else lines.push(apps.includes("All") ? "Apps: all apps" : `Apps: ${appName(tenant, ctx.appId)} is selected`);
  const included = (c.locations?.includeLocations ?? []).filter((id) => id !== "All" && ctx.matchedLocations.has(id));
  if (included.length) {
    lines.push(`Location: ${whereText(ctx)} is in ${list(included.map((id) => quote(locationName(tenant, id))))}`);
  } else if (c.locations?.excludeLocations?.length) {
    lines.push(`Location: ${whereText(ctx)} is outside ${list(c.locations.excludeLocations.map((id) => quote(locationName(tenant, id))), "and")}`);
  }
  if (c.signInRiskLevels?.length) lines.push(`Sign-in risk: ${(RISK_LEVELS[ctx.signInRisk] ?? ctx.signInRisk).toLowerCase()} is selected`);
  if (c.userRiskLevels?.length) lines.push(`User risk: ${(RISK_LEVELS[ctx.userRisk] ?? ctx.userRisk).toLowerCase()} is selected`);
  const types = c.clientAppTypes ?? [];
  if (types.length && !types.includes("all")) lines.push(`Client app: ${CLIENT_APP_TYPES[ctx.clientAppType] ?? ctx.clientAppType} is selected`);
  if (c.platforms?.includePlatforms?.length) lines.push(`Platform: ${PLATFORMS[ctx.devicePlatform] ?? ctx.devicePlatform} is covered`);
  return lines;
}

/** The first factor What If assumes done, by the tenant's local account method, in words. */
export const FIRST_FACTORS = { password: "the password", email: "the email code" };

/**
 * What enforcement did with one policy (an evaluate `PolicyResult`), in plain words;
 * `first` is the first factor done ("password" or "email").
 */
export function outcomeText(result, first = "password") {
  const unmet = result.unmetControls ?? [];
  const needs = list(unmet.filter((c) => c !== "block").map((c) => CONTROLS[c] ?? c));
  switch (result.result) {
    case "success": return { label: "Satisfied", tone: "success", detail: "The controls it requires are already met." };
    case "failure":
      return unmet.includes("block")
        ? { label: "Blocks the sign-in", tone: "danger", detail: "This policy blocks access; nothing the user does can satisfy it." }
        : { label: `Requires ${needs || "more"}`, tone: "warning", detail: `Not met yet: ${FIRST_FACTORS[first]} alone is not enough.` };
    case "notApplied": return { label: "Not applied", tone: "neutral", detail: "Its conditions do not match this sign-in." };
    case "notEnabled": return { label: "Off", tone: "neutral", detail: "The policy is turned off." };
    case "reportOnlySuccess": return { label: "Report-only: would be satisfied", tone: "neutral", detail: "Logged only; nothing is enforced." };
    case "reportOnlyFailure":
      return { label: "Report-only: would block", tone: "neutral", detail: "Logged only: if it were on, this sign-in would be blocked." };
    case "reportOnlyInterrupted":
      return { label: `Report-only: would require ${needs || "user action"}`, tone: "neutral",
        detail: `Logged only: if it were on, the user would have to complete ${needs || "an extra step"}. The user is not asked now.` };
    case "reportOnlyNotApplied": return { label: "Report-only: not applied", tone: "neutral", detail: "Its conditions do not match this sign-in." };
    default: return { label: result.result, tone: "neutral", detail: "" };
  }
}

/**
 * The decision in words: `title` (Blocked / MFA required / Allowed), `tone`, and `lines`
 * explaining which policies decided it and what the user can do next.
 */
export function decisionText(enforcement, ctx) {
  const { decision, policies } = enforcement;
  const byId = new Map(policies.map((p) => [p.id, p]));
  const names = (ids) => list(ids.map((id) => quote(byId.get(id)?.displayName ?? id)));
  const reportOnly = policies.filter((p) => p.result === "reportOnlyInterrupted" || p.result === "reportOnlyFailure");
  const footnote = reportOnly.length
    ? [`Report-only: ${names(reportOnly.map((p) => p.id))} would also act on this sign-in if turned on; it is logged, not enforced.`]
    : [];
  if (decision.type === "block") {
    return { title: "Blocked", tone: "danger", lines: [
      `${names(decision.policyIds)} blocks this sign-in. Block wins over every other control, so the user cannot sign in, even with MFA.`,
      ...footnote] };
  }
  if (decision.type === "require") {
    const needs = [];
    if (decision.mfa) needs.push("a second factor (MFA)");
    if (decision.authenticationStrengths?.length) needs.push("a stronger method combination");
    if (decision.reauthentication) needs.push("signing in again");
    if (decision.passwordChange) needs.push("a password change");
    const methods = ctx.mfaMethods.map((m) => METHODS[m]);
    const next = !decision.mfa ? []
      : methods.length ? [`${upper(FIRST_FACTORS[ctx.firstFactor ?? "password"])} is done; the user can finish with ${list(methods, "or")}.`]
        : ["No second-factor method is enabled for this tenant, so this user cannot finish signing in. Turn on Email OTP or SMS under Authentication methods."];
    return { title: decision.mfa ? "MFA required" : "More required", tone: "warning", lines: [
      `${names(decision.policyIds)} ${decision.policyIds.length > 1 ? "require" : "requires"} ${list(needs)} before access is granted.`,
      ...next, ...footnote] };
  }
  return { title: "Allowed", tone: "success", lines: [
    `No enforced policy asks for more than ${FIRST_FACTORS[ctx.firstFactor ?? "password"]}, so the sign-in goes through.`, ...footnote] };
}
