// What If: simulate one sign-in against the tenant's policies. `whatIf` says, policy by
// policy, whether it applies and, if not, the first condition that did not match;
// `evaluate` with the first factor already done (the password, or the email code for an
// email one-time passcode tenant) gives the decision the server would enforce.
// Both answers are turned into plain words (explain.js).
import { COUNTRIES } from "./countries.js";
import {
  AUTH_CONTEXTS, CLIENT_APP_TYPES, PLATFORMS, RISK_LEVELS, STATES, contextName, decisionText, outcomeText, whyApplied, whyNotApplied,
} from "./explain.js";
import { messageNodes } from "./errors.js";
import { findUser, mfaMethods, policyInput } from "./tenant.js";
import { badge, field, h, replace } from "./ui.js";

/** Ready-made sign-ins, so the demo tells its stories in one click. */
function scenarios(tenant) {
  const byName = (name) => tenant.directory.users.find((u) => u.displayName.startsWith(name))?.id;
  const app = (name) => tenant.applications.find((a) => a.displayName.includes(name))?.appId;
  return [
    { label: "Bob from a blocked country", values: { user: byName("Bob"), app: app("Shop"), ip: "175.45.176.10", country: "KP" } },
    { label: "Alice banks from home", values: { user: byName("Alice"), app: app("Bank"), ip: "198.51.100.23", country: "GB" } },
    { label: "Alice at the office", values: { user: byName("Alice"), app: app("Shop"), ip: "203.0.113.40", country: "GB" } },
    { label: "Bob shops with a risky sign-in", values: { user: byName("Bob"), app: app("Shop"), ip: "192.0.2.77", country: "NL", risk: "high" } },
    { label: "Break-glass admin", values: { user: byName("Break-glass"), app: app("Bank"), ip: "175.45.176.10", country: "KP" } },
  ].filter((s) => s.values.user && s.values.app);
}

/** Mounts the page into `root`. */
export function whatIfPage(root, app) {
  let last = null; // the inputs of the last run, re-run when the policies change
  // The decision is announced (a live region that stays in the page); the policy-by-policy
  // detail under it is not, so a screen reader hears the verdict, not the whole list.
  const decisionBox = h("div", { id: "whatif-decision", "aria-live": "polite", "aria-atomic": "true" });
  const results = h("div", { class: "results", id: "whatif-results" });

  const select = (id, options, value) => h("select", { id },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));

  function render() {
    const tenant = app.tenant();
    const keep = last ?? {};
    const user = select("wi-user", tenant.directory.users.map((u) => [u.id, `${u.displayName} (${u.description})`]), keep.user);
    const appSel = select("wi-app", tenant.applications.map((a) => [a.appId, a.displayName]), keep.app);
    const ip = h("input", { type: "text", id: "wi-ip", inputmode: "decimal", autocomplete: "off", spellcheck: "false",
      placeholder: "e.g. 198.51.100.23", value: keep.ip ?? "198.51.100.23" });
    const country = select("wi-country", [["", "Unknown"], ...Object.entries(COUNTRIES).sort((a, b) => a[1].localeCompare(b[1]))],
      keep.country ?? "GB");
    // The customer app and the Worker name no client app, so only policies for all client
    // apps reach them: that is the default here, or What If would answer another sign-in.
    const client = select("wi-client", [["", "Not given"], ...Object.entries(CLIENT_APP_TYPES)], keep.client ?? "");
    const platform = select("wi-platform", [["", "Any or unknown"], ...Object.entries(PLATFORMS)], keep.platform ?? "");
    // What the app asks for: nothing (a sign-in) or an authentication context (the bank's
    // transfer step-up, which signs in to the app and asks for the context at once).
    const context = select("wi-context", [["", "None"], ...Object.keys(AUTH_CONTEXTS).map((id) => [id, contextName(id)])], keep.context ?? "");
    const risk = select("wi-risk", Object.entries(RISK_LEVELS).reverse(), keep.risk ?? "none");
    const userRisk = select("wi-user-risk", Object.entries(RISK_LEVELS).reverse(), keep.userRisk ?? "none");
    const groupsHint = h("p", { class: "hint", id: "wi-user-groups", "aria-live": "polite" });
    const showGroups = () => {
      const u = findUser(tenant, user.value);
      const names = (u?.groupIds ?? []).map((g) => tenant.directory.groups.find((x) => x.id === g)?.displayName ?? g);
      groupsHint.textContent = `Groups: ${names.length ? names.join(", ") : "none"}${u?.breakGlass ? " · break-glass account" : ""}`;
    };
    user.addEventListener("change", showGroups);
    user.setAttribute("aria-describedby", "wi-user-groups");
    showGroups();

    const read = () => ({ user: user.value, app: appSel.value, ip: ip.value.trim(), country: country.value,
      client: client.value, platform: platform.value, risk: risk.value, userRisk: userRisk.value, context: context.value });
    const apply = (values) => {
      const set = { user, app: appSel, ip, country, client, platform, risk, userRisk, context };
      for (const [key, el] of Object.entries(set)) if (key in values) el.value = values[key];
      showGroups();
    };

    replace(root,
      h("div", { class: "page-head" },
        h("div", {},
          h("h2", { id: "whatif-title", tabindex: "-1" }, "What If"),
          h("p", { class: "lede" }, "Simulate a sign-in to see which policies apply, why the others do not, and whether the user is allowed, asked for MFA or blocked."))),
      h("div", { class: "whatif-layout" },
        h("form", { class: "card whatif-form", "aria-labelledby": "wi-form-title", onSubmit: (e) => {
          e.preventDefault();
          last = read();
          run(last);
        } },
          h("h3", { id: "wi-form-title" }, "Sign-in to simulate"),
          h("div", { class: "scenarios", role: "group", "aria-labelledby": "wi-scenarios" },
            h("p", { id: "wi-scenarios", class: "hint" }, "Try a scenario:"),
            scenarios(tenant).map((s) => h("button", { type: "button", class: "chip", onClick: () => {
              apply({ client: "", context: "", platform: "", risk: "none", userRisk: "none", ...s.values });
              last = read();
              run(last);
            } }, s.label))),
          h("div", { class: "grid-2" },
            h("div", {}, field({ label: "User", control: user }), groupsHint),
            field({ label: "App", control: appSel }),
            field({ label: "IP address", control: ip }),
            field({ label: "Country", control: country }),
            field({ label: "Device platform", control: platform }),
            field({ label: "Sign-in risk", control: risk }),
            field({ label: "User risk", control: userRisk }),
            h("div", { class: "wide" }, field({ label: "Client app", control: client, hint: "The customer app and the Worker name none." })),
            h("div", { class: "wide" }, field({ label: "Authentication context", control: context, hint: "Woodgrove Bank asks for c1 before a transfer." }))),
          h("p", { class: "hint" }, tenant.localAccount.method === "emailOtp"
            ? "The user has just entered the code sent to their email; nothing else is done yet."
            : "The user has just entered a correct password; nothing else is done yet."),
          h("button", { type: "submit", class: "button" }, "Run What If")),
        h("section", { class: "whatif-output", "aria-labelledby": "whatif-results-title" },
          h("h3", { id: "whatif-results-title" }, "Results"),
          decisionBox,
          results)));
    if (!last) {
      replace(decisionBox);
      replace(results, h("p", { class: "empty" }, "Pick a sign-in and run What If, or try a scenario."));
    }
  }

  function run(values) {
    const tenant = app.tenant();
    const user = findUser(tenant, values.user);
    if (!user) return;
    const conditions = { signInRiskLevel: values.risk, userRiskLevel: values.userRisk };
    if (values.client) conditions.clientAppType = values.client;
    if (values.ip) conditions.ipAddress = values.ip;
    if (values.country) conditions.country = values.country;
    if (values.platform) conditions.devicePlatform = values.platform;
    const request = {
      signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn", userId: user.id },
      signInContext: { "@odata.type": "#microsoft.graph.applicationContext", includeApplications: [values.app] },
      signInConditions: conditions,
      appliedPoliciesOnly: false,
    };
    const directory = { groupIds: user.groupIds, roleIds: user.roleIds };
    const input = policyInput(tenant);
    let whatIf = app.engine.whatIf({ ...input, request, directory });
    if (values.context && !whatIf.error) {
      // Graph's What If takes an app or a context, not both; the bank's step-up asks for
      // both, so a policy applies when it applies to either (the decision below is the
      // engine's own, for both at once).
      const asked = app.engine.whatIf({ ...input, directory, request: { ...request,
        signInContext: { "@odata.type": "#microsoft.graph.authContext", authenticationContextValue: values.context } } });
      if (asked.error) whatIf = asked;
      else {
        const byId = new Map(asked.value.map((p) => [p.id, p]));
        whatIf = { ...whatIf, value: whatIf.value.map((p) => (!p.policyApplies && byId.get(p.id)?.policyApplies ? byId.get(p.id) : p)) };
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const signIn = { userId: user.id, appId: values.app, groupIds: user.groupIds, roleIds: user.roleIds,
      signInRisk: values.risk, userRisk: values.userRisk };
    if (values.client) signIn.clientAppType = values.client;
    if (values.context) signIn.authContexts = [values.context];
    if (values.ip) signIn.ipAddress = values.ip;
    if (values.country) signIn.country = values.country;
    if (values.platform) signIn.devicePlatform = values.platform;
    // The first factor the tenant's customers sign in with (methods page).
    const firstFactor = tenant.localAccount.method === "emailOtp" ? "email" : "password";
    const enforcement = app.engine.evaluate({ ...input, signIn, satisfied: [{ method: firstFactor, at: now }], now });
    const error = whatIf.error ?? enforcement.error;
    if (error) {
      replace(results);
      replace(decisionBox, h("div", { class: "callout callout-danger" },
        h("p", {}, h("strong", {}, "The engine could not run this sign-in: "), messageNodes(error.message)),
        error.target ? h("p", {}, "At ", h("code", { class: "path" }, error.target)) : null));
      return;
    }
    const ctx = { tenant, user, firstFactor, appId: values.app, authContexts: values.context ? [values.context] : [], ipAddress: values.ip, country: values.country,
      clientAppType: values.client, devicePlatform: values.platform, signInRisk: values.risk, userRisk: values.userRisk,
      matchedLocations: matchedLocations(app.engine, tenant, request, directory), mfaMethods: mfaMethods(tenant) };
    showResults(tenant, whatIf, enforcement, ctx, { request, signIn });
  }

  function showResults(tenant, whatIf, enforcement, ctx, sent) {
    const decision = decisionText(enforcement, ctx);
    const outcomes = new Map(enforcement.policies.map((p) => [p.id, p]));
    const applying = whatIf.value.filter((p) => p.policyApplies).length;
    replace(decisionBox,
      h("div", { class: `decision decision-${decision.tone}` },
        h("p", { class: "decision-kicker" }, `${ctx.user.displayName} signs in to ${tenant.applications.find((a) => a.appId === ctx.appId)?.displayName}${ctx.authContexts.length ? `, asking for ${ctx.authContexts.map(contextName).join(", ")}` : ""}`),
        h("h4", { class: "decision-title" }, h("span", { class: "visually-hidden" }, "Decision: "), decision.title),
        decision.lines.map((line) => h("p", {}, line))));
    replace(results,
      h("h4", { class: "section-title" }, `Policies: ${applying} of ${whatIf.value.length} apply`),
      h("ol", { class: "policy-results", "aria-label": "Policy by policy" },
        whatIf.value.map((p) => {
          const state = STATES[p.state] ?? { label: p.state, tone: "neutral" };
          const why = p.policyApplies ? null : whyNotApplied(p, p.analysisReasons, ctx);
          const outcome = outcomes.get(p.id);
          const enforced = outcome ? outcomeText(outcome, ctx.firstFactor) : null;
          return h("li", { class: `policy-result ${p.policyApplies ? "applies" : "skipped"}` },
            h("div", { class: "policy-result-head" },
              h("h5", {}, p.displayName),
              badge(state.label, state.tone)),
            p.policyApplies
              ? [h("p", { class: "verdict verdict-applies" },
                p.state === "enabledForReportingButNotEnforced" ? "Applies (report-only: logged, not enforced)" : "Applies"),
              h("ul", { class: "reasons" }, whyApplied(p, ctx).map((line) => h("li", {}, line)))]
              : [h("p", { class: "verdict" }, why.label), h("p", { class: "hint" }, why.detail)],
            enforced && p.policyApplies ? h("p", { class: `enforced enforced-${enforced.tone}` },
              h("strong", {}, `${enforced.label}. `), enforced.detail) : null);
        })),
      h("details", { class: "raw" }, h("summary", {}, "Graph What If request and response"),
        h("pre", { class: "code" }, JSON.stringify(sent.request, null, 2)),
        h("pre", { class: "code" }, JSON.stringify({ value: whatIf.value.map(({ id, displayName, policyApplies, analysisReasons }) =>
          ({ id, displayName, policyApplies, analysisReasons })) }, null, 2))),
      h("details", { class: "raw" }, h("summary", {}, "Enforcement (evaluate) input and decision"),
        h("pre", { class: "code" }, JSON.stringify({ signIn: sent.signIn, satisfied: [ctx.firstFactor] }, null, 2)),
        h("pre", { class: "code" }, JSON.stringify(enforcement, null, 2))));
    // On a phone the results sit under the form: bring the verdict into view.
    const box = decisionBox.getBoundingClientRect();
    if (!root.hidden && (box.top < 0 || box.top > window.innerHeight - 80)) {
      root.querySelector("#whatif-results-title").scrollIntoView({ block: "start", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
    }
  }

  render();
  return {
    refresh() {
      render();
      if (last) run(last);
    },
  };
}

/**
 * The named locations this sign-in is in, decided by the engine itself: one probe policy
 * per location, each including only that location, asked through the same What If call.
 * "AllTrusted" is in the set when a trusted IP location matched.
 */
function matchedLocations(engine, tenant, request, directory) {
  const ids = [...tenant.conditionalAccess.namedLocations.map((l) => l.id), "AllTrusted"];
  const probes = ids.map((id, n) => ({
    id: `probe-${n}`, displayName: id, state: "enabled",
    conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] },
      users: { includeUsers: ["All"] }, locations: { includeLocations: [id] } },
    grantControls: { operator: "OR", builtInControls: ["mfa"] },
  }));
  const out = engine.whatIf({ policies: probes, namedLocations: tenant.conditionalAccess.namedLocations, request, directory });
  return new Set((out.value ?? []).filter((r) => r.policyApplies).map((r) => r.displayName));
}
