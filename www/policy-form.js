// The form view of one Conditional Access policy. It edits the draft object in place,
// touching only the fields it shows: everything else in the JSON (platforms, session
// controls, ids it does not know) is kept as it is. Each group carries `data-path`, the
// policy-relative JSON path that validation errors are matched against.
import { AUTH_CONTEXTS, CLIENT_APP_TYPES, RISK_LEVELS, contextName, principalName } from "./explain.js";
import { checkbox, field, h, radios, toggled } from "./ui.js";

const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : null);
const arr = (v) => (Array.isArray(v) ? v : []);

/** Ensures `parent[key]` is an object (replacing a wrong-typed value) and returns it. */
function child(parent, key) {
  if (!obj(parent[key])) parent[key] = {};
  return parent[key];
}

/**
 * Builds the form for `draft`. `changed({ rerender })` is called after every edit; text
 * fields pass `rerender: false` so typing keeps focus.
 */
export function policyForm(draft, tenant, changed) {
  if (!obj(draft)) {
    return h("p", { class: "notice" }, "This JSON is not a policy object, so the form cannot show it. Fix it in the JSON view.");
  }
  const conditions = () => child(draft, "conditions");
  const edit = (fn, rerender = true) => () => { fn(); changed({ rerender }); };

  const name = h("input", { type: "text", id: "pf-name", value: draft.displayName ?? "", autocomplete: "off",
    onInput: (e) => { draft.displayName = e.target.value; changed({ rerender: false }); } });
  const description = h("textarea", { id: "pf-description", rows: 2,
    onInput: (e) => { draft.description = e.target.value; changed({ rerender: false }); } });
  description.value = draft.description ?? "";

  return h("div", { class: "policy-form" },
    h("section", { class: "form-section", "aria-labelledby": "pf-basics" },
      h("h3", { id: "pf-basics" }, "Basics"),
      field({ label: "Name", control: name, path: "displayName" }),
      field({ label: "Description (optional)", control: description, path: "description" }),
      radios({ legend: "State", name: "pf-state", path: "state", value: draft.state,
        hint: "Report-only evaluates and logs the policy without enforcing it: the safe way to try a policy first.",
        options: [
          { value: "enabled", label: "On", hint: "Enforced at every sign-in" },
          { value: "enabledForReportingButNotEnforced", label: "Report-only", hint: "Logged, never enforced" },
          { value: "disabled", label: "Off", hint: "Not evaluated" },
        ],
        onChange: (v) => { draft.state = v; changed({ rerender: true }); } })),
    usersSection(draft, tenant, conditions, edit),
    appsSection(draft, tenant, conditions, edit),
    conditionsSection(draft, tenant, conditions, edit),
    grantSection(draft, edit),
    h("p", { class: "hint" }, "Settings the form does not show (device platforms, session controls, guests) are kept as they are; edit them in the JSON view."));
}

function usersSection(draft, tenant, conditions, edit) {
  const users = () => child(conditions(), "users");
  const u = obj(obj(draft.conditions)?.users) ?? {};
  const include = arr(u.includeUsers);
  const mode = include.includes("All") ? "all" : include.includes("None") ? "none" : "select";
  const people = tenant.directory.users;
  const groups = tenant.directory.groups;
  const pick = (key, id, on) => { users()[key] = toggled(arr(users()[key]), id, on); };
  const label = (user) => `${user.displayName}${user.breakGlass ? " (break-glass)" : ""}`;
  return h("section", { class: "form-section", "aria-labelledby": "pf-users", dataset: { path: "conditions.users" } },
    h("h3", { id: "pf-users" }, "Users"),
    radios({ legend: "Include", name: "pf-users-include", value: mode, path: "conditions.users.includeUsers",
      options: [
        { value: "all", label: "All users" },
        { value: "select", label: "Selected users and groups" },
        { value: "none", label: "No users" },
      ],
      onChange: (v) => edit(() => {
        const target = users();
        const specific = arr(target.includeUsers).filter((x) => x !== "All" && x !== "None");
        if (v === "all") { target.includeUsers = ["All"]; delete target.includeGroups; }
        else if (v === "none") { target.includeUsers = ["None"]; delete target.includeGroups; }
        else target.includeUsers = specific;
      })() }),
    mode === "select" ? h("fieldset", { class: "choices nested", dataset: { path: "conditions.users.includeGroups" } },
      h("legend", {}, "Included users and groups"),
      h("p", { class: "hint" }, "The directory's people, for What If. Customers who sign up in the customer app are none of them and in no group, here or on the Worker."),
      people.map((p) => checkbox({ id: `pf-inc-user-${p.id}`, label: label(p), checked: include.includes(p.id),
        onChange: (on) => edit(() => pick("includeUsers", p.id, on))() })),
      groups.map((g) => checkbox({ id: `pf-inc-group-${g.id}`, label: `${g.displayName} (group)`,
        checked: arr(u.includeGroups).includes(g.id), onChange: (on) => edit(() => pick("includeGroups", g.id, on))() }))) : null,
    h("fieldset", { class: "choices", dataset: { path: "conditions.users.excludeUsers" } },
      h("legend", {}, "Exclude"),
      h("p", { class: "hint" }, "Exclusions win over inclusions. Keep an emergency access (break-glass) account out of every policy so an admin can always sign in."),
      people.map((p) => checkbox({ id: `pf-exc-user-${p.id}`, label: label(p), checked: arr(u.excludeUsers).includes(p.id),
        onChange: (on) => edit(() => pick("excludeUsers", p.id, on))() })),
      groups.map((g) => checkbox({ id: `pf-exc-group-${g.id}`, label: `${g.displayName} (group)`,
        checked: arr(u.excludeGroups).includes(g.id), onChange: (on) => edit(() => pick("excludeGroups", g.id, on))() })),
      unknownIds([...arr(u.excludeUsers), ...arr(u.excludeGroups)], tenant)));
}

/** Ids the directory does not know are kept; say so instead of hiding them. */
function unknownIds(ids, tenant) {
  const unknown = ids.filter((id) => principalName(tenant, id) === id && id !== "GuestsOrExternalUsers");
  return unknown.length ? h("p", { class: "hint" }, `Also excluded (not in the demo directory): ${unknown.join(", ")}`) : null;
}

function appsSection(draft, tenant, conditions, edit) {
  const apps = () => child(conditions(), "applications");
  const a = obj(obj(draft.conditions)?.applications) ?? {};
  const include = arr(a.includeApplications);
  const contexts = arr(a.includeAuthenticationContextClassReferences);
  // A policy covers apps or authentication contexts (what an app asks for before a
  // sensitive action, such as the bank's transfer), never both; switching drops the other.
  const mode = contexts.length && !include.length ? "context" : include.includes("All") ? "all" : "select";
  const setMode = (v) => {
    const target = apps();
    if (v === "context") {
      target.includeApplications = [];
      target.includeAuthenticationContextClassReferences = contexts.length ? contexts : Object.keys(AUTH_CONTEXTS).slice(0, 1);
      return;
    }
    delete target.includeAuthenticationContextClassReferences;
    target.includeApplications = v === "all" ? ["All"] : include.filter((x) => x !== "All" && x !== "None");
  };
  const knownContexts = [...new Set([...Object.keys(AUTH_CONTEXTS), ...contexts])];
  return h("section", { class: "form-section", "aria-labelledby": "pf-apps", dataset: { path: "conditions.applications" } },
    h("h3", { id: "pf-apps" }, "Target apps"),
    radios({ legend: "Apps this policy covers", name: "pf-apps", value: mode, path: "conditions.applications.includeApplications",
      options: [{ value: "all", label: "All apps" }, { value: "select", label: "Selected apps" },
        { value: "context", label: "Authentication context", hint: "When an app asks for it, as the bank does before a transfer" }],
      onChange: (v) => edit(() => setMode(v))() }),
    mode === "select" ? h("fieldset", { class: "choices nested" },
      h("legend", {}, "Selected apps"),
      tenant.applications.map((app) => checkbox({ id: `pf-app-${app.appId}`, label: app.displayName,
        hint: app.description, checked: include.includes(app.appId),
        onChange: (on) => edit(() => { apps().includeApplications = toggled(arr(apps().includeApplications), app.appId, on); })() }))) : null,
    mode === "context" ? h("fieldset", { class: "choices nested", dataset: { path: "conditions.applications.includeAuthenticationContextClassReferences" } },
      h("legend", {}, "Authentication contexts"),
      knownContexts.map((id) => checkbox({ id: `pf-context-${id}`, label: contextName(id),
        hint: AUTH_CONTEXTS[id] ? "Woodgrove Bank asks for it before a transfer" : undefined, checked: contexts.includes(id),
        onChange: (on) => edit(() => {
          apps().includeAuthenticationContextClassReferences = toggled(arr(apps().includeAuthenticationContextClassReferences), id, on);
        })() }))) : null);
}

function conditionsSection(draft, tenant, conditions, edit) {
  const c = obj(draft.conditions) ?? {};
  const loc = obj(c.locations);
  const include = arr(loc?.includeLocations);
  const exclude = arr(loc?.excludeLocations);
  const locMode = !loc || include.includes("All") ? "any" : "select";
  const locations = () => child(conditions(), "locations");
  const named = [...tenant.conditionalAccess.namedLocations.map((l) => ({ id: l.id, label: l.displayName,
    hint: l.ipRanges ? "IP ranges" : `Countries: ${arr(l.countriesAndRegions).join(", ")}` })),
  { id: "AllTrusted", label: "All trusted locations", hint: "Every IP location marked trusted" }];
  const setLocMode = (v) => {
    if (v === "any") {
      if (exclude.length) locations().includeLocations = ["All"];
      else delete conditions().locations;
    } else locations().includeLocations = include.filter((x) => x !== "All");
  };
  const types = arr(c.clientAppTypes);
  const appMode = types.includes("all") ? "all" : "select";
  const risks = arr(c.signInRiskLevels);
  return h("section", { class: "form-section", "aria-labelledby": "pf-conditions" },
    h("h3", { id: "pf-conditions" }, "Conditions"),
    h("div", { class: "group", dataset: { path: "conditions.locations" } },
      radios({ legend: "Locations", name: "pf-loc", value: locMode,
        options: [{ value: "any", label: "Any location" }, { value: "select", label: "Selected locations" }],
        onChange: (v) => edit(() => setLocMode(v))() }),
      locMode === "select" ? h("fieldset", { class: "choices nested", dataset: { path: "conditions.locations.includeLocations" } },
        h("legend", {}, "Include sign-ins from"),
        named.map((l) => checkbox({ id: `pf-loc-inc-${l.id}`, label: l.label, hint: l.hint, checked: include.includes(l.id),
          onChange: (on) => edit(() => { locations().includeLocations = toggled(arr(locations().includeLocations), l.id, on); })() }))) : null,
      h("fieldset", { class: "choices nested", dataset: { path: "conditions.locations.excludeLocations" } },
        h("legend", {}, "Exclude sign-ins from"),
        named.map((l) => checkbox({ id: `pf-loc-exc-${l.id}`, label: l.label, hint: l.hint, checked: exclude.includes(l.id),
          onChange: (on) => edit(() => {
            const target = locations();
            if (!arr(target.includeLocations).length) target.includeLocations = ["All"];
            target.excludeLocations = toggled(arr(target.excludeLocations), l.id, on);
          })() })))),
    h("div", { class: "group", dataset: { path: "conditions.clientAppTypes" } },
      radios({ legend: "Client apps", name: "pf-clients", value: appMode,
        options: [{ value: "all", label: "All client apps" }, { value: "select", label: "Selected client apps" }],
        onChange: (v) => edit(() => {
          conditions().clientAppTypes = v === "all" ? ["all"] : ["browser", "mobileAppsAndDesktopClients"];
        })() }),
      appMode === "select" ? h("fieldset", { class: "choices nested" },
        h("legend", {}, "Selected client apps"),
        Object.entries(CLIENT_APP_TYPES).map(([value, label]) => checkbox({ id: `pf-client-${value}`, label,
          checked: types.includes(value),
          onChange: (on) => edit(() => { conditions().clientAppTypes = toggled(arr(conditions().clientAppTypes), value, on); })() }))) : null),
    h("fieldset", { class: "choices", dataset: { path: "conditions.signInRiskLevels" } },
      h("legend", {}, "Sign-in risk"),
      h("p", { class: "hint" }, "Leave all unticked to apply at any risk level."),
      Object.entries(RISK_LEVELS).map(([value, label]) => checkbox({ id: `pf-risk-${value}`, label, checked: risks.includes(value),
        onChange: (on) => edit(() => {
          const next = toggled(arr(conditions().signInRiskLevels), value, on);
          if (next.length) conditions().signInRiskLevels = next;
          else delete conditions().signInRiskLevels;
        })() }))));
}

function grantSection(draft, edit) {
  const g = obj(draft.grantControls) ?? {};
  const controls = arr(g.builtInControls);
  const mode = controls.includes("block") ? "block" : "grant";
  const grant = () => child(draft, "grantControls");
  return h("section", { class: "form-section", "aria-labelledby": "pf-grant", dataset: { path: "grantControls" } },
    h("h3", { id: "pf-grant" }, "Access controls"),
    radios({ legend: "Grant", name: "pf-grant", value: mode, path: "grantControls.builtInControls",
      options: [
        { value: "block", label: "Block access", hint: "Nobody in scope can sign in" },
        { value: "grant", label: "Grant access", hint: "Possibly after extra steps, chosen below" },
      ],
      onChange: (v) => edit(() => {
        if (v === "block") draft.grantControls = { operator: "OR", builtInControls: ["block"] };
        else {
          grant().builtInControls = controls.filter((c) => c !== "block").concat(controls.length <= 1 ? ["mfa"] : []);
          grant().operator ??= "OR";
        }
      })() }),
    mode === "grant" ? h("fieldset", { class: "choices nested" },
      h("legend", {}, "Require"),
      checkbox({ id: "pf-grant-mfa", label: "Multifactor authentication", hint: "Email one-time passcode or SMS, after the first factor",
        checked: controls.includes("mfa"),
        onChange: (on) => edit(() => { grant().builtInControls = toggled(arr(grant().builtInControls), "mfa", on); })() }),
      checkbox({ id: "pf-grant-password", label: "Password change", hint: "For risky users; the policy must cover all apps",
        checked: controls.includes("passwordChange"),
        onChange: (on) => edit(() => { grant().builtInControls = toggled(arr(grant().builtInControls), "passwordChange", on); })() })) : null,
    mode === "grant" && controls.length > 1 ? radios({ legend: "For several controls", name: "pf-operator", value: g.operator,
      path: "grantControls.operator",
      options: [{ value: "AND", label: "Require all the selected controls" }, { value: "OR", label: "Require one of the selected controls" }],
      onChange: (v) => edit(() => { grant().operator = v; })() }) : null);
}
