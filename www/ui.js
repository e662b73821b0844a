// Tiny DOM helpers: the demo has no framework, so views are built with `h` and rebuilt
// when their data changes. Text always goes in as text nodes (never as HTML).

/**
 * Creates an element. `attrs`: `class`, `text`, `on<Event>` handlers, booleans (set when
 * true), `dataset` (an object) and any other attribute; children may be nested arrays,
 * strings or null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled" || key === "hidden") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let counter = 0;
/** A fresh element id with a readable prefix. */
export function uid(prefix = "id") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled control: label, optional hint, the control, and a slot for its error. */
export function field({ label, hint, control, path }) {
  const id = control.id || uid("field");
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field", dataset: path ? { path } : undefined },
    h("label", { for: id }, label), hintEl, control);
}

/** A fieldset of radio buttons (ids `<name>-<value>`); `onChange(value)` fires on selection. */
export function radios({ legend, name, options, value, onChange, path, hint }) {
  const hintId = hint ? `${name}-hint` : undefined;
  return h("fieldset", { class: "choices", dataset: path ? { path } : undefined, "aria-describedby": hintId },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    options.map((o) => {
      const id = `${name}-${o.value}`;
      return h("div", { class: "choice" },
        h("input", { type: "radio", id, name, value: o.value, checked: o.value === value,
          onChange: () => onChange(o.value) }),
        h("label", { for: id }, o.label, o.hint ? h("span", { class: "choice-hint" }, o.hint) : null));
    }));
}

/** One checkbox with its label (and an optional hint under it). */
export function checkbox({ label, checked, onChange, hint, disabled, id = uid("check"), role }) {
  return h("div", { class: "choice" },
    h("input", { type: "checkbox", id, checked, disabled, role, onChange: (e) => onChange(e.target.checked) }),
    h("label", { for: id }, label, hint ? h("span", { class: "choice-hint" }, hint) : null));
}

/** A status badge; the text carries the meaning, the colour only repeats it. */
export function badge(text, tone = "neutral") {
  return h("span", { class: `badge badge-${tone}` }, text);
}

/** Deep copy of plain JSON data. */
export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Adds `item` to `list` when `on`, removes it otherwise; returns a new array. */
export function toggled(list, item, on) {
  const rest = (list ?? []).filter((x) => x !== item);
  return on ? [...rest, item] : rest;
}

/** A random v4-style id for new policies and locations (Graph assigns these server-side). */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts (127.0.0.1 is one)
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
