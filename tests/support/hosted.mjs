// The hosted sign-in pages as a browser without JavaScript drives them.
import assert from "node:assert/strict";

/** Submits the page's form: every field as the page has it, overridden by `fields`
 * (including the pressed button's `action`), with extra request `headers` (a cookie, the
 * request's country). `page` is `{doc, html}` as the tests read a page. */
export function submitForm(baseUrl, page, fields, headers = {}) {
  const form = page.doc.querySelector("form");
  assert.ok(form, `no form on the page: ${page.html}`);
  const body = new URLSearchParams();
  for (const input of form.querySelectorAll("input")) {
    if ((input.type === "radio" || input.type === "checkbox") && !input.checked) continue;
    if (input.name && !(input.name in fields)) body.set(input.name, input.value);
  }
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  return fetch(new URL(form.getAttribute("action"), baseUrl), {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body,
  });
}
