// Shows the engine's validation errors where they belong: each ErrorBody carries a JSON
// path (`target`, e.g. `policies[2].conditions.users.bogus`); a form group declares the
// path it edits in `data-path`, and the error goes next to the deepest group that owns it.
import { h } from "./ui.js";

/** A message with its `backticked` user input shown as code. */
export function messageNodes(message) {
  return String(message).split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part));
}

/**
 * Splits errors into those under `prefix` (e.g. `policies[2]`), with `path` made relative
 * to it, and the rest.
 */
export function splitErrors(errors, prefix) {
  const mine = [];
  const others = [];
  for (const e of errors) {
    const target = e.target ?? "";
    if (target === prefix) mine.push({ ...e, path: "" });
    else if (target.startsWith(`${prefix}.`)) mine.push({ ...e, path: target.slice(prefix.length + 1) });
    else if (target.startsWith(`${prefix}[`)) mine.push({ ...e, path: target.slice(prefix.length) });
    else others.push(e);
  }
  return { mine, others };
}

const owns = (groupPath, path) =>
  path === groupPath || path.startsWith(`${groupPath}.`) || path.startsWith(`${groupPath}[`);

/**
 * Puts each error (with a relative `path`) next to the deepest `[data-path]` group in
 * `container` that owns it, marks that group's controls invalid, and returns the errors
 * no group owns.
 */
export function decorate(container, errors) {
  for (const old of container.querySelectorAll(".field-error")) old.remove();
  for (const el of container.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const ids = (el.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => id && !id.startsWith("err-"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  const groups = [...container.querySelectorAll("[data-path]")];
  const unplaced = [];
  errors.forEach((error, n) => {
    const owner = groups
      .filter((g) => owns(g.dataset.path, error.path))
      .sort((a, b) => b.dataset.path.length - a.dataset.path.length)[0];
    if (!owner) return unplaced.push(error);
    const id = `err-${container.id || "c"}-${n}`;
    const note = h("p", { class: "field-error", id },
      h("span", { class: "visually-hidden" }, "Error: "), messageNodes(error.message), " ",
      h("code", { class: "path" }, error.target ?? error.path));
    const anchor = owner.querySelector(":scope > legend, :scope > label, :scope > h3");
    if (anchor) anchor.after(note);
    else owner.prepend(note);
    for (const control of owner.querySelectorAll("input, select, textarea")) {
      control.setAttribute("aria-invalid", "true");
      const ids = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
      control.setAttribute("aria-describedby", [...ids, id].join(" "));
    }
    return undefined;
  });
  return unplaced;
}
