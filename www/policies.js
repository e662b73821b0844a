// The Conditional Access policies page: the list, and an editor with two views of the same
// draft (a form and the Graph JSON) that stay in sync. The draft is validated with the
// engine's `validatePolicies` as it changes, together with every other policy and the
// named locations, and can only be saved when the whole set is valid.
import { decorate, messageNodes, splitErrors } from "./errors.js";
import { STATES, appsSummary, grantSummary, usersSummary } from "./explain.js";
import { findPath, locatePaths, syntaxError } from "./jsonpath.js";
import { policyForm } from "./policy-form.js";
import { badge, clone, h, newId, replace } from "./ui.js";

const NEW = "__new__";
const pretty = (value) => JSON.stringify(value, null, 2);

/** Mounts the page into `root`; `app` gives the engine, the tenant and `commit`. */
export function policiesPage(root, app) {
  /** Per policy key: { draft, json, syntax, errors, others } (unsaved work survives switching). */
  const drafts = new Map();
  let selected = null;
  let tab = "form";
  let jsonTimer = null;
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", id: "policy-status" });
  const list = h("ul", { class: "item-list", "aria-label": "Policies" });
  const editor = h("div", { class: "editor", id: "policy-editor" });

  replace(root,
    h("div", { class: "page-head" },
      h("div", {},
        h("h2", { id: "policies-title", tabindex: "-1" }, "Conditional Access policies"),
        h("p", { class: "lede" }, "Policies decide, after the first factor, whether a sign-in is allowed, needs MFA or is blocked. They use the Microsoft Graph conditionalAccessPolicy shape.")),
      h("button", { type: "button", class: "button", id: "new-policy", onClick: () => open(NEW) }, "New policy")),
    h("div", { class: "master-detail" },
      h("div", { class: "master" }, list),
      editor));

  const saved = (key) => app.tenant().conditionalAccess.policies.find((p) => p.id === key);
  const indexOf = (key) => {
    const policies = app.tenant().conditionalAccess.policies;
    const i = policies.findIndex((p) => p.id === key);
    return i < 0 ? policies.length : i;
  };
  const isDirty = (key) => {
    const entry = drafts.get(key);
    return Boolean(entry) && (key === NEW || entry.syntax || pretty(entry.draft) !== pretty(saved(key)));
  };

  function entryFor(key) {
    if (!drafts.has(key)) {
      const draft = key === NEW ? blankPolicy(app.tenant()) : clone(saved(key));
      drafts.set(key, { draft, json: pretty(draft), syntax: null, errors: [], others: [] });
    }
    return drafts.get(key);
  }

  function renderList() {
    const { policies } = app.tenant().conditionalAccess;
    const items = policies.map((p) => ({ key: p.id, policy: drafts.get(p.id)?.draft ?? p }));
    if (drafts.has(NEW)) items.push({ key: NEW, policy: drafts.get(NEW).draft });
    replace(list, items.map(({ key, policy }) => {
      const state = STATES[policy?.state] ?? { label: String(policy?.state), tone: "neutral" };
      return h("li", { class: `item${key === selected ? " is-selected" : ""}` },
        h("button", { type: "button", class: "item-button", "aria-current": key === selected ? "true" : undefined,
          onClick: () => open(key) }, String(policy?.displayName || "Untitled policy")),
        h("div", { class: "item-meta" },
          badge(state.label, state.tone),
          isDirty(key) ? badge(key === NEW ? "Not saved yet" : "Unsaved changes", "info") : null,
          h("span", {}, safe(() => grantSummary(policy)))),
        h("p", { class: "item-detail" }, safe(() => `${usersSummary(app.tenant(), policy)} · ${appsSummary(app.tenant(), policy)}`)));
    }));
  }

  function open(key) {
    selected = key;
    entryFor(key);
    validate(key);
    renderList();
    renderEditor();
    editor.querySelector("h3")?.focus();
  }

  function renderEditor() {
    if (!selected) {
      replace(editor, h("div", { class: "empty" }, h("p", {}, "Choose a policy to edit it, or create a new one.")));
      return;
    }
    const entry = entryFor(selected);
    const tabs = [["form", "Form"], ["json", "JSON"]];
    replace(editor,
      h("div", { class: "editor-head" },
        h("h3", { id: "editor-title", tabindex: "-1" }),
        h("div", { class: "editor-badges", id: "editor-badges" })),
      h("div", { class: "error-summary", id: "policy-error-summary", tabindex: "-1", hidden: true }),
      h("div", { role: "tablist", "aria-label": "Policy views", class: "tabs", onKeydown: tabKeys },
        tabs.map(([id, label]) => h("button", { type: "button", role: "tab", id: `tab-${id}`, "aria-controls": `panel-${id}`,
          "aria-selected": String(tab === id), tabindex: tab === id ? "0" : "-1", onClick: () => showTab(id) }, label))),
      h("div", { role: "tabpanel", id: "panel-form", "aria-labelledby": "tab-form", hidden: tab !== "form" }),
      h("div", { role: "tabpanel", id: "panel-json", "aria-labelledby": "tab-json", hidden: tab !== "json" },
        h("label", { for: "policy-json" }, "Policy JSON (Microsoft Graph conditionalAccessPolicy)"),
        h("div", { class: "code-editor" },
          h("pre", { class: "gutter", id: "policy-json-gutter", "aria-hidden": "true" }),
          h("textarea", { id: "policy-json", class: "code", rows: 24, spellcheck: "false", autocapitalize: "off",
            wrap: "off", "aria-describedby": "policy-json-errors", onInput: onJsonInput,
            onScroll: (e) => { editor.querySelector("#policy-json-gutter").scrollTop = e.target.scrollTop; } })),
        h("div", { id: "policy-json-errors", class: "json-errors" }),
        h("button", { type: "button", class: "button secondary", onClick: formatJson }, "Format JSON")),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button", onClick: save }, "Save policy"),
        h("button", { type: "button", class: "button secondary", onClick: discard }, selected === NEW ? "Cancel" : "Discard changes"),
        selected === NEW ? null : h("button", { type: "button", class: "button danger", onClick: remove }, "Delete policy")),
      status);
    editor.querySelector("#policy-json").value = entry.json;
    renderForm();
    renderState();
  }

  function showTab(id) {
    flushJson(); // the other view must show what was just typed
    tab = id;
    for (const name of ["form", "json"]) {
      const button = editor.querySelector(`#tab-${name}`);
      button.setAttribute("aria-selected", String(name === id));
      button.tabIndex = name === id ? 0 : -1;
      editor.querySelector(`#panel-${name}`).hidden = name !== id;
    }
    editor.querySelector(`#tab-${id}`).focus();
  }

  function tabKeys(e) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
    e.preventDefault();
    showTab(e.key === "ArrowLeft" || e.key === "Home" ? "form" : "json");
  }

  function renderForm() {
    const panel = editor.querySelector("#panel-form");
    if (!panel) return;
    const entry = entryFor(selected);
    const focused = document.activeElement?.id;
    replace(panel,
      entry.syntax ? h("p", { class: "notice" }, "The JSON has a syntax error, so the form shows the last valid version. Fix the JSON to continue.") : null,
      safe(() => policyForm(entry.draft, app.tenant(), formChanged),
        h("p", { class: "notice" }, "The form cannot show this JSON; edit it in the JSON view.")));
    if (focused && panel.querySelector(`#${CSS.escape(focused)}`)) panel.querySelector(`#${CSS.escape(focused)}`).focus();
  }

  function formChanged({ rerender }) {
    const entry = entryFor(selected);
    entry.json = pretty(entry.draft);
    entry.syntax = null;
    editor.querySelector("#policy-json").value = entry.json;
    validate(selected);
    if (rerender) renderForm();
    renderState();
    renderList();
  }

  function onJsonInput(e) {
    const entry = entryFor(selected);
    entry.json = e.target.value;
    renderGutter(entry, new Set());
    clearTimeout(jsonTimer);
    jsonTimer = setTimeout(() => { jsonTimer = null; applyJson(entry); }, 250);
  }

  function applyJson(entry) {
    try {
      entry.draft = JSON.parse(entry.json);
      entry.syntax = null;
    } catch (error) {
      entry.syntax = syntaxError(entry.json) ?? { message: error.message };
    }
    validate(selected);
    renderForm();
    renderState();
    renderList();
  }

  /** Flushes a pending JSON edit (Save must see what was typed). */
  function flushJson() {
    if (!jsonTimer) return;
    clearTimeout(jsonTimer);
    jsonTimer = null;
    applyJson(entryFor(selected));
  }

  function formatJson() {
    flushJson();
    const entry = entryFor(selected);
    if (entry.syntax) return;
    entry.json = pretty(entry.draft);
    editor.querySelector("#policy-json").value = entry.json;
    renderState();
  }

  function candidate(key) {
    const policies = clone(app.tenant().conditionalAccess.policies);
    policies[indexOf(key)] = clone(entryFor(key).draft);
    return policies;
  }

  function validate(key) {
    const entry = entryFor(key);
    if (entry.syntax) return;
    const result = app.engine.validatePolicies({ policies: candidate(key),
      namedLocations: app.tenant().conditionalAccess.namedLocations });
    const { mine, others } = splitErrors(result.errors ?? [], `policies[${indexOf(key)}]`);
    entry.errors = mine;
    entry.others = others;
  }

  /** Badges, error summary, form decorations and the JSON error list, from the entry. */
  function renderState() {
    const entry = entryFor(selected);
    const draft = entry.draft;
    editor.querySelector("#editor-title").textContent = String(draft?.displayName || "Untitled policy");
    const state = STATES[draft?.state] ?? { label: "Invalid state", tone: "danger" };
    replace(editor.querySelector("#editor-badges"), badge(state.label, state.tone),
      isDirty(selected) ? badge(selected === NEW ? "Not saved yet" : "Unsaved changes", "info") : null);
    const unplaced = decorate(editor.querySelector("#panel-form"), entry.errors);
    const summary = editor.querySelector("#policy-error-summary");
    const problems = entry.errors.length + entry.others.length + (entry.syntax ? 1 : 0);
    summary.hidden = problems === 0;
    replace(summary, problems === 0 ? null : [
      h("h4", {}, problems === 1 ? "1 problem to fix before saving" : `${problems} problems to fix before saving`),
      h("ul", {},
        entry.syntax ? h("li", {}, `JSON syntax error${entry.syntax.line ? ` on line ${entry.syntax.line}` : ""}: `, messageNodes(entry.syntax.message)) : null,
        [...entry.errors, ...entry.others].map((e) => h("li", {}, h("code", { class: "path" }, e.target ?? ""), " ",
          messageNodes(e.message), unplaced.includes(e) ? h("span", { class: "hint" }, " (only in the JSON view)") : null)))]);
    renderJsonErrors(entry);
  }

  function renderJsonErrors(entry) {
    const box = editor.querySelector("#policy-json-errors");
    const textarea = editor.querySelector("#policy-json");
    const spans = entry.syntax ? null : safe(() => locatePaths(entry.json));
    const rows = entry.syntax
      ? [h("li", {}, entry.syntax.line ? h("strong", {}, `Line ${entry.syntax.line}: `) : null,
        "JSON syntax error: ", messageNodes(entry.syntax.message), " ",
        entry.syntax.offset !== undefined ? h("button", { type: "button", class: "link",
          onClick: () => select(textarea, { start: entry.syntax.offset, end: entry.syntax.offset + 1, line: entry.syntax.line }) }, "Show in JSON") : null)]
      : entry.errors.map((e) => {
        const span = spans ? findPath(spans, e.path) : undefined;
        return h("li", {},
          span ? h("strong", {}, `Line ${span.line}: `) : null,
          h("code", { class: "path" }, e.target), " ", messageNodes(e.message), " ",
          span ? h("button", { type: "button", class: "link", onClick: () => select(textarea, span) }, "Show in JSON") : null);
      });
    if (rows.length) textarea.setAttribute("aria-invalid", "true");
    else textarea.removeAttribute("aria-invalid");
    replace(box, rows.length ? h("ul", { class: "errors", "aria-label": "Problems in this JSON" }, rows) : null);
    const bad = new Set(entry.syntax ? [entry.syntax.line]
      : entry.errors.map((e) => spans && findPath(spans, e.path)?.line));
    renderGutter(entry, bad);
  }

  /** Line numbers beside the JSON, lines at fault marked, scrolled with the text. */
  function renderGutter(entry, bad) {
    const gutter = editor.querySelector("#policy-json-gutter");
    const count = entry.json.split("\n").length;
    replace(gutter, Array.from({ length: count }, (_, n) =>
      h("span", { class: bad.has(n + 1) ? "bad" : undefined }, `${n + 1}\n`)));
    gutter.scrollTop = editor.querySelector("#policy-json").scrollTop;
  }

  function save() {
    flushJson();
    const entry = entryFor(selected);
    validate(selected);
    renderState();
    const problems = entry.errors.length + entry.others.length + (entry.syntax ? 1 : 0);
    if (problems) {
      status.className = "status status-error";
      status.textContent = `Not saved: ${problems === 1 ? "1 problem" : `${problems} problems`} to fix first.`;
      editor.querySelector("#policy-error-summary").focus();
      return;
    }
    const tenant = clone(app.tenant());
    tenant.conditionalAccess.policies = candidate(selected);
    app.commit(tenant);
    const name = entry.draft.displayName;
    drafts.delete(selected);
    selected = entry.draft.id;
    renderList();
    renderEditor();
    status.className = "status status-ok";
    status.textContent = `Saved “${name}”.`;
    // The button pressed was replaced: keep a keyboard user in the editor, not at the top.
    keepFocus();
  }

  /** Focus after the editor was redrawn: its title, or "New policy" when nothing is open. */
  function keepFocus() {
    (selected ? editor.querySelector("#editor-title") : root.querySelector("#new-policy"))?.focus();
  }

  function discard() {
    drafts.delete(selected);
    if (selected === NEW) selected = null;
    renderList();
    renderEditor();
    if (selected) status.textContent = "Changes discarded.";
    keepFocus();
  }

  function remove() {
    const policy = saved(selected);
    // eslint-disable-next-line no-alert -- a native confirm is accessible and enough for a demo
    if (!policy || !confirm(`Delete the policy “${policy.displayName}”?`)) return;
    const tenant = clone(app.tenant());
    tenant.conditionalAccess.policies = tenant.conditionalAccess.policies.filter((p) => p.id !== selected);
    app.commit(tenant);
    drafts.delete(selected);
    selected = null;
    renderList();
    renderEditor();
    keepFocus();
  }

  /** The tenant changed elsewhere (another tab, a reset): keep only real unsaved work. */
  function refresh() {
    for (const key of [...drafts.keys()]) if (!isDirty(key)) drafts.delete(key);
    if (selected && selected !== NEW && !saved(selected) && !drafts.has(selected)) selected = null;
    for (const key of drafts.keys()) validate(key);
    renderList();
    renderEditor();
  }

  const first = app.tenant().conditionalAccess.policies[0];
  if (first) {
    selected = first.id;
    entryFor(first.id);
    validate(first.id);
  }
  renderList();
  renderEditor();
  return { refresh, open };
}

function select(textarea, span) {
  textarea.focus();
  textarea.setSelectionRange(span.start, span.end);
  // Scroll the selection into view: place the caret's line near the top.
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
  textarea.scrollTop = Math.max(0, (span.line - 3) * lineHeight);
}

function safe(fn, fallback = "") {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** A new policy starts as report-only and leaves break-glass accounts out. */
function blankPolicy(tenant) {
  return {
    id: newId(),
    displayName: "New policy",
    state: "enabledForReportingButNotEnforced",
    conditions: {
      clientAppTypes: ["all"],
      applications: { includeApplications: ["All"] },
      users: { includeUsers: ["All"], excludeUsers: tenant.directory.users.filter((u) => u.breakGlass).map((u) => u.id) },
    },
    grantControls: { operator: "OR", builtInControls: ["mfa"] },
  };
}
