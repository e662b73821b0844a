// The hosted sign-in pages as a browser without JavaScript drives them.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { JSDOM } from "jsdom";
import { APP, latestCode } from "./native.mjs";

/** The cookie that binds a hosted sign-in to the browser that opened it, as a `Cookie`
 * pair: the one the authorization endpoint set on `res`, else the one the form post that
 * answered `res` carried (the Worker sets it once, a browser keeps sending it). */
export function bindingCookie(res) {
  const set = res.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => /^(__Host-)?vestibule_bind=/.test(c));
  return set ?? res.binding;
}

/** Submits the page's form: every field as the page has it, overridden by `fields`
 * (including the pressed button's `action`), with extra request `headers` (a cookie, the
 * request's country). `page` is `{doc, html, binding}` as the tests read a page; its
 * `binding` cookie goes with the post, as a browser sends it. */
export async function submitForm(baseUrl, page, fields, headers = {}) {
  const form = page.doc.querySelector("form");
  assert.ok(form, `no form on the page: ${page.html}`);
  const body = new URLSearchParams();
  for (const input of form.querySelectorAll("input")) {
    if ((input.type === "radio" || input.type === "checkbox") && !input.checked) continue;
    if (input.name && !(input.name in fields)) body.set(input.name, input.value);
  }
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  const cookie = [headers.cookie, page.binding].filter(Boolean).join("; ");
  const res = await fetch(new URL(form.getAttribute("action"), baseUrl), {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers, ...(cookie ? { cookie } : {}) }, body,
  });
  res.binding = page.binding;
  return res;
}

/** A hosted page as the tests read it: status, redirect target, DOM, HTML and heading. */
export async function readPage(res) {
  const html = await res.text();
  const doc = new JSDOM(html).window.document;
  return { status: res.status, location: res.headers.get("location"), doc, html, h1: doc.querySelector("h1")?.textContent, binding: bindingCookie(res) };
}

/** The page's alert text ("" when it shows none). */
export const alertText = (page) => page.doc.querySelector("[role=alert]")?.textContent ?? "";

/** An authorization request of `tenant` for `APP`: code + PKCE S256, fresh `state`/`nonce`. */
export function authorizeUrl(worker, tenant, redirectUri) {
  const url = new URL(`${worker.url}/${tenant}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: APP, response_type: "code", redirect_uri: redirectUri, scope: "openid",
    state: randomBytes(8).toString("hex"), nonce: randomBytes(8).toString("hex"),
    code_challenge: createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url"),
    code_challenge_method: "S256",
  })) url.searchParams.set(k, v);
  return url;
}

/** Opens the authorization endpoint of `tenant` for `APP` (code + PKCE S256) and walks the
 * hosted pages through sign-up with `email` and `password` (the emailed code from the dev
 * outbox) up to the page that asks for a second factor. `headers` go with every request. */
export async function signUpToSecondFactor(worker, tenant, { email, password, redirectUri, headers = {} }) {
  const submit = async (page, fields) => readPage(await submitForm(worker.url, page, fields, headers));
  let page = await readPage(await fetch(authorizeUrl(worker, tenant, redirectUri), { redirect: "manual", headers }));
  assert.equal(page.status, 200, page.html);
  page = await submit(page, { action: "switch" });
  page = await submit(page, { action: "email", email });
  assert.equal(page.h1, "Enter the code", page.html);
  page = await submit(page, { action: "code", code: await latestCode(worker, email) });
  page = await submit(page, { action: "password", password });
  if (page.h1 === "About you") page = await submit(page, { action: "attributes", "attr.displayName": "Hosted User" });
  assert.equal(page.h1, "Add a second way to verify it is you", page.html);
  return page;
}
