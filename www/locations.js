// Named locations: IP ranges (optionally trusted) and countries, in the Graph
// ipNamedLocation / countryNamedLocation shapes that policies refer to by id. Edits are
// validated by the engine together with the policies before they can be saved.
import { countryName } from "./countries.js";
import { decorate, messageNodes, splitErrors } from "./errors.js";
import { badge, checkbox, clone, field, h, newId, replace } from "./ui.js";

const IP = "#microsoft.graph.ipNamedLocation";
const COUNTRY = "#microsoft.graph.countryNamedLocation";

const rangesText = (loc) => (loc.ipRanges ?? []).map((r) => r.cidrAddress).join("\n");
const parseRanges = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean).map((cidrAddress) => ({
  "@odata.type": cidrAddress.includes(":") ? "#microsoft.graph.iPv6CidrRange" : "#microsoft.graph.iPv4CidrRange", cidrAddress }));
const parseCountries = (text) => text.split(/[\s,;]+/).map((c) => c.trim().toUpperCase()).filter(Boolean);

/** Mounts the page into `root`. */
export function locationsPage(root, app) {
  let selected = null; // a location id, or a new draft's id
  let entry = null; // { draft, isNew, rangesText, countriesText, errors, others }
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const list = h("ul", { class: "item-list", "aria-label": "Named locations" });
  const editor = h("div", { class: "editor", id: "location-editor" });

  replace(root,
    h("div", { class: "page-head" },
      h("div", {},
        h("h2", { id: "locations-title", tabindex: "-1" }, "Named locations"),
        h("p", { class: "lede" }, "Networks and countries that policies include or exclude. The engine matches the sign-in's IP address against IP ranges, and its country against country lists.")),
      h("div", { class: "head-actions" },
        h("button", { type: "button", class: "button", id: "new-ip-location", onClick: () => create(IP) }, "New IP ranges location"),
        h("button", { type: "button", class: "button secondary", id: "new-country-location", onClick: () => create(COUNTRY) }, "New countries location"))),
    h("div", { class: "master-detail" }, h("div", { class: "master" }, list), editor));

  const locations = () => app.tenant().conditionalAccess.namedLocations;
  const usedBy = (id) => app.tenant().conditionalAccess.policies.filter((p) =>
    [...(p.conditions?.locations?.includeLocations ?? []), ...(p.conditions?.locations?.excludeLocations ?? [])].includes(id));

  function describe(loc) {
    if (loc["@odata.type"] === IP) return `${(loc.ipRanges ?? []).length} IP range(s)`;
    const names = (loc.countriesAndRegions ?? []).map(countryName);
    return names.join(", ") + (loc.includeUnknownCountriesAndRegions ? " and unknown countries" : "");
  }

  function renderList() {
    const items = [...locations()];
    if (entry?.isNew) items.push(entry.draft);
    replace(list, items.map((loc) => h("li", { class: `item${loc.id === selected ? " is-selected" : ""}` },
      h("button", { type: "button", class: "item-button", "aria-current": loc.id === selected ? "true" : undefined,
        onClick: () => open(loc.id) }, loc.displayName || "Untitled location"),
      h("div", { class: "item-meta" },
        badge(loc["@odata.type"] === IP ? "IP ranges" : "Countries", "neutral"),
        loc.isTrusted ? badge("Trusted", "success") : null,
        entry?.isNew && loc === entry.draft ? badge("Not saved yet", "info") : null),
      h("p", { class: "item-detail" }, describe(loc)))));
  }

  function open(id, focus = true) {
    const loc = locations().find((l) => l.id === id);
    if (loc) {
      selected = id;
      entry = { draft: clone(loc), isNew: false, rangesText: rangesText(loc),
        countriesText: (loc.countriesAndRegions ?? []).join(", "), errors: [], others: [] };
    }
    renderList();
    renderEditor();
    if (focus) editor.querySelector("h3")?.focus();
  }

  function create(type) {
    const draft = type === IP
      ? { "@odata.type": IP, id: newId(), displayName: "New IP location", isTrusted: false, ipRanges: [] }
      : { "@odata.type": COUNTRY, id: newId(), displayName: "New country location", countriesAndRegions: [],
        includeUnknownCountriesAndRegions: false, countryLookupMethod: "clientIpAddress" };
    selected = draft.id;
    entry = { draft, isNew: true, rangesText: "", countriesText: "", errors: [], others: [] };
    renderList();
    renderEditor();
    editor.querySelector("#loc-name")?.focus();
  }

  function changed() {
    const d = entry.draft;
    if (d["@odata.type"] === IP) d.ipRanges = parseRanges(entry.rangesText);
    else d.countriesAndRegions = parseCountries(entry.countriesText);
    validate();
    renderMessages();
  }

  function validate() {
    const namedLocations = clone(locations());
    const index = entry.isNew ? namedLocations.length : namedLocations.findIndex((l) => l.id === selected);
    namedLocations[index] = clone(entry.draft);
    const result = app.engine.validatePolicies({ policies: app.tenant().conditionalAccess.policies, namedLocations });
    const { mine, others } = splitErrors(result.errors ?? [], `namedLocations[${index}]`);
    entry.errors = mine;
    entry.others = others;
    return namedLocations;
  }

  function renderEditor() {
    if (!entry) {
      replace(editor, h("div", { class: "empty" }, h("p", {}, "Choose a named location to edit it, or create a new one.")));
      return;
    }
    const d = entry.draft;
    const isIp = d["@odata.type"] === IP;
    const users = entry.isNew ? [] : usedBy(d.id);
    const name = h("input", { type: "text", id: "loc-name", value: d.displayName ?? "", autocomplete: "off",
      onInput: (e) => { d.displayName = e.target.value; changed(); } });
    const ranges = h("textarea", { id: "loc-ranges", class: "code", rows: 5, spellcheck: "false",
      onInput: (e) => { entry.rangesText = e.target.value; changed(); } });
    ranges.value = entry.rangesText;
    const countries = h("input", { type: "text", id: "loc-countries", value: entry.countriesText, autocomplete: "off",
      autocapitalize: "characters", onInput: (e) => { entry.countriesText = e.target.value; changed(); } });
    replace(editor,
      h("div", { class: "editor-head" },
        h("h3", { id: "location-title", tabindex: "-1" }, d.displayName || "Untitled location"),
        h("div", { class: "editor-badges" }, badge(isIp ? "IP ranges" : "Countries", "neutral"))),
      h("div", { class: "policy-form", id: "location-form" },
        field({ label: "Name", control: name, path: "displayName" }),
        isIp ? [
          h("div", { dataset: { path: "isTrusted" } },
            checkbox({ id: "loc-trusted", label: "Mark as trusted location", checked: d.isTrusted,
              hint: "Policies can include or exclude “All trusted locations” at once.",
              onChange: (on) => { d.isTrusted = on; changed(); } })),
          field({ label: "IP ranges (CIDR), one per line", control: ranges, path: "ipRanges",
            hint: "IPv4 or IPv6, for example 203.0.113.0/24 or 2001:db8::/48. Masks must be longer than /8." }),
        ] : [
          field({ label: "Countries and regions", control: countries, path: "countriesAndRegions",
            hint: "Two-letter ISO 3166 codes separated by commas, for example KP, IR." }),
          h("p", { class: "hint", id: "loc-country-names", "aria-live": "polite" }),
          h("div", { dataset: { path: "includeUnknownCountriesAndRegions" } },
            checkbox({ id: "loc-unknown", label: "Include unknown countries and regions",
              hint: "Sign-ins whose country cannot be determined.",
              checked: d.includeUnknownCountriesAndRegions, onChange: (on) => { d.includeUnknownCountriesAndRegions = on; changed(); } })),
        ]),
      h("div", { class: "error-summary", id: "location-errors", tabindex: "-1", hidden: true }),
      h("details", { class: "raw" }, h("summary", {}, "Graph JSON"), h("pre", { class: "code", id: "location-json" })),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button", onClick: save }, "Save location"),
        h("button", { type: "button", class: "button secondary", onClick: discard }, entry.isNew ? "Cancel" : "Discard changes"),
        entry.isNew ? null : h("button", { type: "button", class: "button danger", disabled: users.length > 0,
          "aria-describedby": users.length ? "loc-used-by" : undefined, onClick: remove }, "Delete location")),
      users.length ? h("p", { class: "hint", id: "loc-used-by" },
        `Used by ${users.map((p) => `“${p.displayName}”`).join(", ")}; remove it from those policies before deleting it.`) : null,
      status);
    validate();
    renderMessages();
  }

  function renderMessages() {
    const d = entry.draft;
    editor.querySelector("#location-title").textContent = d.displayName || "Untitled location";
    editor.querySelector("#location-json").textContent = JSON.stringify(d, null, 2);
    const names = editor.querySelector("#loc-country-names");
    if (names) names.textContent = (d.countriesAndRegions ?? []).length ? `Selected: ${(d.countriesAndRegions).map(countryName).join(", ")}` : "";
    const unplaced = decorate(editor.querySelector("#location-form"), entry.errors);
    const summary = editor.querySelector("#location-errors");
    const all = [...unplaced, ...entry.others];
    summary.hidden = all.length === 0;
    replace(summary, all.length ? h("ul", {}, all.map((e) => h("li", {}, h("code", { class: "path" }, e.target ?? ""), " ", messageNodes(e.message)))) : null);
  }

  function save() {
    const namedLocations = validate();
    renderMessages();
    const problems = entry.errors.length + entry.others.length;
    if (problems) {
      status.className = "status status-error";
      status.textContent = `Not saved: ${problems === 1 ? "1 problem" : `${problems} problems`} to fix first.`;
      // The first field at fault (its error is tied to it), or the list of the others.
      (editor.querySelector("#location-form [aria-invalid=true]") ?? editor.querySelector("#location-errors:not([hidden])"))?.focus();
      return;
    }
    const tenant = clone(app.tenant());
    tenant.conditionalAccess.namedLocations = namedLocations;
    app.commit(tenant);
    const name = entry.draft.displayName;
    // The editor is redrawn under the Save button pressed: focus its title, not the page top.
    open(entry.draft.id, true);
    status.className = "status status-ok";
    status.textContent = `Saved “${name}”.`;
  }

  /** After the editor closed under the button pressed: back to the button that made a location of that kind. */
  const focusNewButton = (type) => root.querySelector(type === IP ? "#new-ip-location" : "#new-country-location")?.focus();

  function discard() {
    if (entry.isNew) {
      const type = entry.draft["@odata.type"];
      entry = null; selected = null; renderList(); renderEditor();
      focusNewButton(type);
      return;
    }
    open(selected);
    status.textContent = "Changes discarded.";
  }

  function remove() {
    // eslint-disable-next-line no-alert -- a native confirm is accessible and enough for a demo
    if (!confirm(`Delete the named location “${entry.draft.displayName}”?`)) return;
    const tenant = clone(app.tenant());
    tenant.conditionalAccess.namedLocations = locations().filter((l) => l.id !== selected);
    const type = entry.draft["@odata.type"];
    app.commit(tenant); // refresh() drops the entry of a location that is gone
    entry = null;
    selected = null;
    renderList();
    renderEditor();
    focusNewButton(type);
  }

  function refresh() {
    if (entry && !entry.isNew && !locations().some((l) => l.id === selected)) { entry = null; selected = null; }
    renderList();
    renderEditor();
  }

  const first = locations()[0];
  if (first) open(first.id, false);
  else {
    renderList();
    renderEditor();
  }
  return { refresh };
}
