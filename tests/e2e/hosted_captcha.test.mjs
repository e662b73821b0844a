// The CAPTCHA before an SMS on the hosted OIDC pages, end to end in workerd: a sign-in
// from a GB address that would text a US phone (fraud suspected: country mismatch) gets
// the CAPTCHA page, not an SMS. The Worker verifies the widget's token with a real
// Turnstile-compatible siteverify server on 127.0.0.1 started here, which answers
// success, failure, or too late (beyond the Worker's 3 s budget) and checks the form it
// gets (secret, response). A refused or late check keeps the page and the flow and sends
// nothing; the next try that passes sends the SMS, and the sign-in goes on. A resend in
// the same flow is not asked again; without JavaScript the page offers the other method.
// The test acts as a browser (form posts of the hosted pages, parsed with jsdom); it
// posts the token the widget would put in `cf-turnstile-response`.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import { startWorker } from "../support/worker.mjs";
import { APP, assertLogClean, flowConfig, latestCode, nativeVars, requireMfa } from "../support/native.mjs";
import { bindingCookie, submitForm } from "../support/hosted.mjs";

const T = "hcaptcha";
const REDIRECT = "http://127.0.0.1:9/callback";
const PASSWORD = "Hosted-Captcha-Passphrase-3";
const SECRET = `e2e-captcha-secret-${randomBytes(8).toString("hex")}`;
const SITE_KEY = "1x00000000000000000000AA";
const GB = { "cf-ipcountry": "GB" };
const US = { "cf-ipcountry": "US" };
const seen = [PASSWORD, SECRET];

let worker;
let siteverify;
/** Every call siteverify got: the form, and whether it had answered yet. */
const calls = [];
/** Slow answers still pending (so `after` can close the server at once). */
const pending = new Set();

before(async () => {
  siteverify = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      const call = {
        path: req.url, method: req.method, type: req.headers["content-type"],
        form: Object.fromEntries(new URLSearchParams(body)), answered: false,
      };
      calls.push(call);
      const answer = (ok) => {
        pending.delete(res);
        call.answered = true;
        if (res.destroyed) return;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(ok ? { success: true, "error-codes": [] } : { success: false, "error-codes": ["invalid-input-response"] }));
      };
      const token = call.form.response ?? "";
      const good = call.form.secret === SECRET;
      if (token.startsWith("slow-")) {
        pending.add(res);
        setTimeout(() => answer(good), 8000).unref();
      } else {
        answer(good && token.startsWith("pass-"));
      }
    });
  });
  await new Promise((ok) => siteverify.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${siteverify.address().port}/turnstile/v0/siteverify`;
  worker = await startWorker({
    vars: { ...nativeVars(), CAPTCHA_SITEVERIFY_URL: url, CAPTCHA_SECRET: SECRET, CAPTCHA_SITE_KEY: SITE_KEY },
  });
  // A resend may follow a second after the first code (the default is a minute).
  const put = await fetch(`${worker.url}/_dev/native/${T}/flow-config`, {
    method: "PUT", headers: { "content-type": "application/json" },
    body: JSON.stringify(flowConfig({ settings: { codes: { resendCooldownSeconds: 1 } } })),
  });
  assert.equal(put.status, 200, await put.text());
  await requireMfa(worker, T);
});

after(async () => {
  await worker?.stop();
  for (const res of pending) res.destroy();
  await new Promise((ok) => siteverify?.close(ok));
});

/** A fresh authorization request (code + PKCE S256) and its verifier. */
function authorization() {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${worker.url}/${T}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: APP, response_type: "code", redirect_uri: REDIRECT, scope: "openid",
    state: randomBytes(8).toString("hex"), nonce: randomBytes(8).toString("hex"),
    code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
  })) url.searchParams.set(k, v);
  return { url, verifier };
}

/** A hosted page: status, CSP, document and title. */
async function read(res) {
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const html = await res.text();
  const doc = new JSDOM(html).window.document;
  return { status: res.status, csp: res.headers.get("content-security-policy"), doc, html, h1: doc.querySelector("h1")?.textContent, binding: bindingCookie(res) };
}

/** From the request country `headers` name. */
const submit = (page, fields, headers = {}) => submitForm(worker.url, page, fields, headers);


async function next(page, fields, h1, headers) {
  const p = await read(await submit(page, fields, headers));
  if (h1) assert.equal(p.h1, h1, p.html);
  return p;
}

/** How many codes the dev outbox holds for `to`. */
async function sent(to) {
  const res = await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  return (await res.json()).messages.length;
}

/** The sign-in's redirect back to the app, exchanged for tokens; returns the ID token's claims. */
async function finish(res, verifier) {
  assert.equal(res.status, 303, `expected the redirect back, got ${res.status}: ${await res.text()}`);
  const back = new URL(res.headers.get("location"));
  assert.equal(back.origin + back.pathname, REDIRECT);
  const code = back.searchParams.get("code");
  assert.ok(code, `no code in ${back}`);
  const token = await fetch(`${worker.url}/${T}/oauth2/v2.0/token`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: APP, code, redirect_uri: REDIRECT, code_verifier: verifier }),
  });
  const body = await token.json();
  assert.equal(token.status, 200, JSON.stringify(body));
  seen.push(body.access_token, body.id_token);
  return JSON.parse(Buffer.from(body.id_token.split(".")[1], "base64url").toString());
}

/** Signs `email` up on the hosted pages from `headers`' country, up to the page that
 * asks for a second factor. */
async function signUpToRegistration(email, headers) {
  const a = authorization();
  let page = await read(await fetch(a.url, { redirect: "manual", headers }));
  assert.equal(page.status, 200, page.html);
  page = await next(page, { action: "switch" }, "Create an account", headers);
  page = await next(page, { action: "email", email }, "Enter the code", headers);
  const code = await latestCode(worker, email);
  seen.push(code);
  page = await next(page, { action: "code", code }, "Choose a password", headers);
  page = await read(await submit(page, { action: "password", password: PASSWORD }, headers));
  if (page.h1 === "About you") page = await next(page, { action: "attributes", "attr.displayName": "Captcha User" }, undefined, headers);
  assert.equal(page.h1, "Add a second way to verify it is you", page.html);
  return { page, verifier: a.verifier };
}

/** Asserts the CAPTCHA page: the widget with the site key, its script allowed by the CSP,
 * and what to do without JavaScript. */
function isCaptchaPage(page, status = 200) {
  assert.equal(page.status, status, page.html);
  assert.equal(page.h1, "Confirm you are a person", page.html);
  assert.equal(page.doc.querySelector(".cf-turnstile")?.getAttribute("data-sitekey"), SITE_KEY);
  assert.match(page.csp, /script-src https:\/\/challenges\.cloudflare\.com/);
  assert.match(page.csp, /frame-src https:\/\/challenges\.cloudflare\.com/);
  assert.match(page.doc.querySelector("noscript").textContent, /needs JavaScript/);
  assert.ok(page.doc.querySelector("button[value=captcha]"), "a submit button for the check");
}

const alert = (page) => page.doc.querySelector("[role=alert]")?.textContent ?? "";

test("no SMS before the CAPTCHA passes: a refused and a late check keep the page, the next pass sends it", async () => {
  const phone = "+12025550143";
  seen.push(phone);
  const { page: register, verifier } = await signUpToRegistration("captcha.reg@example.com", GB);
  let page = await next(register, { action: "register", channel: "sms", phone }, undefined, GB);
  isCaptchaPage(page);
  assert.equal(await sent(phone), 0, "no SMS before the check");
  assert.equal(calls.length, 0, "nothing verified yet");

  // Submitted without the widget's token: asked again, nothing verified or sent.
  page = await next(page, { action: "captcha" });
  isCaptchaPage(page, 400);
  assert.match(alert(page), /complete the check first/);
  assert.equal(calls.length, 0);

  // A refused token: the page again with the reason, no SMS.
  page = await next(page, { action: "captcha", "cf-turnstile-response": "fail-token-1" });
  isCaptchaPage(page, 400);
  assert.match(alert(page), /did not pass, so no text message was sent/);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].method, "POST");
  assert.equal(calls[0].path, "/turnstile/v0/siteverify");
  assert.equal(calls[0].type, "application/x-www-form-urlencoded");
  assert.equal(calls[0].form.secret, SECRET, "the configured secret is sent");
  assert.equal(calls[0].form.response, "fail-token-1", "the widget's token is sent");
  assert.equal(await sent(phone), 0, "no SMS after a refused check");

  // siteverify too slow: the Worker stops waiting and answers before siteverify does.
  page = await next(page, { action: "captcha", "cf-turnstile-response": "slow-token-1" });
  isCaptchaPage(page, 400);
  assert.match(alert(page), /could not be confirmed in time, so no text message was sent/);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].form.response, "slow-token-1");
  assert.equal(calls[1].answered, false, "the page came back before siteverify answered");
  assert.equal(await sent(phone), 0, "no SMS after a late check");

  // The next try passes: the SMS goes out and the flow goes on to the code.
  page = await next(page, { action: "captcha", "cf-turnstile-response": "pass-token-1" }, "Enter the code");
  assert.match(page.html, /text message/);
  assert.equal(calls.length, 3);
  assert.deepEqual([calls[2].form.secret, calls[2].form.response], [SECRET, "pass-token-1"]);
  assert.equal(await sent(phone), 1, "one SMS after the pass");
  const code = await latestCode(worker, phone);
  seen.push(code);
  const claims = await finish(await submit(page, { action: "code", code }), verifier);
  assert.ok(claims.amr.includes("sms") && claims.amr.includes("mfa"), JSON.stringify(claims.amr));
});

test("a later sign-in asks again and a resend in the same flow does not; from the phone's country nothing is asked", async () => {
  const phone = "+12025550143"; // registered by the previous test
  const a = authorization();
  let page = await read(await fetch(a.url, { redirect: "manual", headers: GB }));
  page = await next(page, { action: "email", email: "captcha.reg@example.com" }, "Enter your password", GB);
  const before = await sent(phone);
  page = await read(await submit(page, { action: "password", password: PASSWORD }, GB));
  isCaptchaPage(page);
  assert.equal(page.doc.querySelector("button[value=other]"), null, "a phone-only account has no other method");
  assert.match(page.doc.querySelector("noscript").textContent, /Turn JavaScript on and sign in again/);
  assert.equal(await sent(phone), before, "no SMS before the check");

  const calls0 = calls.length;
  page = await next(page, { action: "captcha", "cf-turnstile-response": "pass-token-2" }, "Enter the code");
  assert.equal(await sent(phone), before + 1);
  // "Send a new code" (after the resend cool-down): the check of this flow still counts.
  await new Promise((r) => setTimeout(r, 1100));
  page = await next(page, { action: "resend" }, "Enter the code");
  assert.equal(alert(page), "", page.html);
  assert.equal(await sent(phone), before + 2, "the resend went out");
  assert.equal(calls.length, calls0 + 1, "siteverify was called once in this flow");
  const code = await latestCode(worker, phone);
  seen.push(code);
  const claims = await finish(await submit(page, { action: "code", code }), a.verifier);
  assert.ok(claims.amr.includes("sms"), JSON.stringify(claims.amr));

  // From a US address a US phone is not suspected: the code is sent at once.
  const usPhone = "+12025550148";
  seen.push(usPhone);
  const { page: register } = await signUpToRegistration("captcha.home@example.com", US);
  page = await next(register, { action: "register", channel: "sms", phone: usPhone }, "Enter the code", US);
  assert.equal(calls.length, calls0 + 1, "no check asked");
  assert.equal(await sent(usPhone), 1);
});

test("without JavaScript the CAPTCHA page offers the other method, and the sign-in goes on with it", async () => {
  const phone = "+12025550147";
  const email = "captcha.nojs@example.com";
  seen.push(phone);
  const { page: register, verifier } = await signUpToRegistration(email, GB);
  let page = await next(register, { action: "register", channel: "sms", phone }, undefined, GB);
  isCaptchaPage(page);
  assert.match(page.doc.querySelector("noscript").textContent, /Use another method instead/);
  const calls0 = calls.length;
  page = await next(page, { action: "other" }, "Add a second way to verify it is you");
  const channels = [...page.doc.querySelectorAll("input[name=channel]")].map((i) => i.value);
  assert.deepEqual(channels, ["email"], "only the method that needs no text message");
  // The account email was proven at sign-up: registering it needs no new code.
  const claims = await finish(await submit(page, { action: "register", channel: "email", email }), verifier);
  assert.ok(claims.amr.includes("mfa"), JSON.stringify(claims.amr));
  assert.equal(await sent(phone), 0, "the phone was never texted");
  assert.equal(calls.length, calls0, "no check was run");
});

test("the hosted pages read Tor and an unknown country as the native API does: the CAPTCHA first", async () => {
  // Cloudflare's `cf-ipcountry` for a Tor exit (T1) and an unknown country (XX); before
  // session 6 both turned the country check off and the SMS went out.
  for (const [country, phone] of [["T1", "+12025550171"], ["XX", "+12025550172"]]) {
    seen.push(phone);
    const headers = { "cf-ipcountry": country };
    const { page: register } = await signUpToRegistration(`captcha.${country.toLowerCase()}@example.com`, headers);
    const page = await next(register, { action: "register", channel: "sms", phone }, undefined, headers);
    isCaptchaPage(page);
    assert.equal(await sent(phone), 0, `an SMS went out from ${country}`);
  }
});

test("the log says why a check failed, and holds no token, secret, code or phone number", () => {
  const log = worker.output();
  assert.match(log, /captcha: check failed \(refused\)/);
  assert.match(log, /captcha: check failed \(timed_out\)/);
  for (const c of calls) seen.push(c.form.response);
  assertLogClean(log, seen);
});
