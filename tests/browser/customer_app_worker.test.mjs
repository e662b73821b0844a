// The customer app's "Local Worker" switch in a real browser: the same pages, but every
// step is the real Worker in workerd (tests/support/worker.mjs) over its native
// authentication API, and the console's configuration reaches it through the admin API
// with the ADMIN_TOKEN the person pastes in. The Worker answers this page's origin only
// because ADMIN_CORS_ORIGINS lists it, as scripts/dev.sh does for the demo.
// Screenshots go to test-output/screenshots/.
//
//   bash scripts/build-pkg.sh && bash scripts/build-worker.sh
//   node --test --test-force-exit --test-concurrency=1 tests/browser/customer_app_worker.test.mjs
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openPage, root, shot, startDemo, textOf as waitText } from "../support/browser.mjs";
import { bank, decisions, expectScreen as expectScreenWithin, messages } from "../support/customer_page.mjs";
import { assertAccessible } from "../support/accessibility.mjs";
import { ADMIN, nativeVars } from "../support/native.mjs";
import { startWorker } from "../support/worker.mjs";

let baseUrl;
let context;
let demo;
let worker;

before(async () => {
  assert.ok(existsSync(join(root, "build", "index.js")), "the Worker is not built: run `bash scripts/build-worker.sh` first");
  demo = await startDemo("vestibule-customer-worker-");
  ({ baseUrl, context } = demo);
  worker = await startWorker({ vars: { ...nativeVars(), ADMIN_CORS_ORIGINS: new URL(baseUrl).origin } });
});

after(async () => {
  await worker?.stop();
  await demo?.stop();
});

/**
 * The customer app pointed at the test's Worker (`?worker=`). Page errors, failed requests
 * (a CORS refusal is one) and console errors fail the journey, except Chromium's own line
 * for each 4xx answer: native auth answers `mfa_required` and friends with 400, as Entra.
 */
async function openWorkerDemo() {
  const page = await openPage(context, `${baseUrl}?worker=${encodeURIComponent(worker.url)}#customer`,
    { failOnDialog: true, allowConsole: /status of 4\d\d/ });
  await page.getByRole("radio", { name: `Local Worker (${worker.url})` }).check();
  await expectScreen(page, "Sign in");
  return page;
}

const textOf = (locator, pattern, timeout = 15_000) => waitText(locator, pattern, timeout);
const claim = (page, name) => bank(page).locator(`dd[data-claim="${name}"]`).innerText();
const expectScreen = (page, title) => expectScreenWithin(page, title, 15_000);

/** The code of the newest message on a device once there are more than `count`. */
async function codeFrom(page, name, count, purpose) {
  const list = messages(page, name);
  const end = Date.now() + 15_000;
  while ((await list.count()) <= count) {
    if (Date.now() > end) assert.fail(`no new message on the ${name}: ${await decisions(page).innerText()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const text = await list.first().innerText();
  if (purpose) assert.match(text, purpose);
  const code = text.match(/\b(\d{6,8})\b/)?.[1]; // the Worker's built-in flow sends 8 digits
  assert.ok(code, `no code in ${JSON.stringify(text)}`);
  return code;
}

async function enterCode(page, code) {
  await bank(page).getByLabel("Verification code").fill(code);
  await bank(page).getByRole("button", { name: "Verify" }).click();
}

/** Enters the Worker's admin credential; the page pushes the console's configuration. */
async function pushWith(page, token) {
  await page.getByLabel("The Worker's ADMIN_TOKEN (from .dev.vars)").fill(token);
  await page.getByLabel("The Worker's ADMIN_TOKEN (from .dev.vars)").press("Tab");
}

/** Signs up with email + password; ends on the screen after the email code. */
async function signUp(page, { email, name, password }) {
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await expectScreen(page, "Create your account");
  await bank(page).getByLabel("Email address").fill(email);
  await bank(page).getByLabel("Display name").fill(name);
  await bank(page).getByLabel("Password", { exact: true }).fill(password);
  const emails = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", emails));
}

async function signInWithPassword(page, email, password) {
  await bank(page).getByLabel("Email address").fill(email);
  await bank(page).getByRole("button", { name: "Continue" }).click();
  await expectScreen(page, "Enter your password");
  await bank(page).getByLabel("Password", { exact: true }).fill(password);
  await bank(page).getByRole("button", { name: "Sign in" }).click();
}

async function signOut(page) {
  await bank(page).getByRole("button", { name: "Sign out" }).click();
  await expectScreen(page, "Sign in");
}

const DAN = { email: "dan@example.com", name: "Dan Park", password: "Correct-Horse-9" };

test("without a push the Worker decides with its own (empty) policies: no second factor", async () => {
  const page = await openWorkerDemo();
  await textOf(page.locator("#worker-push-status"), /^Nothing pushed: enter the Worker's ADMIN_TOKEN/);

  await signUp(page, DAN);
  await expectScreen(page, `Hello, ${DAN.name}`);
  assert.deepEqual(JSON.parse(await claim(page, "amr")), ["pwd"]);
  await signOut(page);
  await signInWithPassword(page, DAN.email, DAN.password);
  await expectScreen(page, `Hello, ${DAN.name}`);
  assert.deepEqual(JSON.parse(await claim(page, "amr")), ["pwd"]);
  assert.doesNotMatch(await decisions(page).innerText(), /MFA required/);
  await page.done("customer-worker-no-push");
});

test("a wrong credential: the push shows the Worker's error code and nothing changes", async () => {
  const page = await openWorkerDemo();
  await pushWith(page, "not-the-admin-token");
  await textOf(page.locator("#worker-push-status"),
    /^The Worker refused the push at “read the Worker's Conditional Access policies”: admin\.unauthorized: send the admin credential as `Authorization: Bearer <secret>`\./);
  await textOf(decisions(page), /The Worker refused the configuration\./);
  await page.done("customer-worker-push-refused");
});

test("pushed console policies: sign-up registers a phone for SMS before any token", async () => {
  const page = await openWorkerDemo();
  await pushWith(page, ADMIN);
  await textOf(page.locator("#worker-push-status"), /^Pushed at .*: 6 Conditional Access policies, 2 named locations, the Email and SMS switches, the SMS regions/);

  await signUp(page, { email: "erin@example.com", name: "Erin Cole", password: "Correct-Horse-9" });
  // "Require MFA for the banking app", pushed with the bank mapped to the Worker's client.
  await expectScreen(page, "Add a second way to sign in");
  await textOf(decisions(page), /MFA required by the Worker, deciding with the Conditional Access policies pushed from this console/);
  assert.equal(await bank(page).getByRole("heading", { name: "Token claims" }).count(), 0);

  await bank(page).getByRole("radio", { name: "Text message (SMS)" }).check();
  await bank(page).getByLabel("Mobile phone number").fill("+44 7700 900123");
  const texts = await messages(page, "Phone").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your phone");
  await enterCode(page, await codeFrom(page, "Phone", texts));
  await expectScreen(page, "Hello, Erin Cole");
  const amr = JSON.parse(await claim(page, "amr"));
  assert.ok(amr.includes("mfa") && amr.includes("sms"), `amr ${JSON.stringify(amr)}`);
  await page.done("customer-worker-signup-sms");
});

test("pushed console policies: the same password sign-in that needed nothing now asks for an email code", async () => {
  const page = await openWorkerDemo();
  await pushWith(page, ADMIN);
  await textOf(page.locator("#worker-push-status"), /^Pushed at /);

  // Dan signed in with the password alone before the push; now the policy asks for more.
  await signInWithPassword(page, DAN.email, DAN.password);
  await expectScreen(page, "Add a second way to sign in");
  await textOf(decisions(page), /Password accepted\. MFA required by the Worker, deciding with the Conditional Access policies pushed from this console/);
  await bank(page).getByRole("radio", { name: "Email" }).check();
  await bank(page).getByLabel("Email address for codes").fill(DAN.email);
  let inbox = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", inbox));
  await expectScreen(page, `Hello, ${DAN.name}`);
  await signOut(page);

  // With the email registered: password, then the email code as the second factor.
  await signInWithPassword(page, DAN.email, DAN.password);
  await expectScreen(page, "Verify it's you");
  assert.equal(await bank(page).getByRole("heading", { name: "Token claims" }).count(), 0, "no tokens after the password alone");
  await bank(page).getByRole("radio", { name: /^Email to d\*+n@/ }).check();
  inbox = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", inbox));
  await expectScreen(page, `Hello, ${DAN.name}`);
  const amr = JSON.parse(await claim(page, "amr"));
  assert.ok(amr.includes("mfa") && amr.includes("pwd"), `amr ${JSON.stringify(amr)}`);

  assert.deepEqual(JSON.parse(await claim(page, "acrs")), []);
  await shot(page, "customer-worker-signin-email-mfa");

  // A step-up window closed half-way sends nothing, and says so next to the amount.
  const balance = await bank(page).locator(".account-balance").innerText();
  let opened = context.waitForEvent("page");
  await bank(page).getByRole("button", { name: "Transfer money" }).click();
  await (await opened).close();
  await textOf(bank(page).locator("#transfer-amount-error"), /^the sign-in window was closed before the Worker finished; no money was sent$/);
  assert.equal(await bank(page).locator(".account-balance").innerText(), balance);
  assert.equal(await bank(page).locator("#transfer-receipt").count(), 0);

  // The transfer steps up for c1 through the Worker's OpenID Connect sign-in in a pop-up
  // (native authentication has no call for it): the email comes from login_hint, the
  // password again (native sign-in leaves no session at the Worker), then the email code,
  // which reaches this page's inbox while the window is open.
  opened = context.waitForEvent("page");
  await bank(page).getByRole("button", { name: "Transfer money" }).click();
  const popup = await opened;
  await textOf(decisions(page), /Transfer asks for authentication context c1 .*: continue in the Worker's sign-in window\./);
  await popup.waitForURL((url) => url.href.startsWith(`${worker.url}/contoso/oauth2/v2.0/authorize?`));
  assert.equal(new URL(popup.url()).searchParams.get("acr_values"), "c1");
  assert.equal(await popup.getByLabel("Email address").inputValue(), DAN.email);
  await popup.getByRole("button", { name: "Next" }).click();
  await popup.getByLabel("Password").fill(DAN.password);
  inbox = await messages(page, "Inbox").count();
  await popup.getByRole("button", { name: "Sign in" }).click();
  await popup.getByLabel("Code").fill(await codeFrom(page, "Inbox", inbox));
  await shot(popup, "customer-worker-step-up-window");
  await assertAccessible(popup, "the Worker's hosted code page");
  await popup.getByRole("button", { name: "Verify" }).click();
  await popup.waitForEvent("close");
  await textOf(bank(page).locator("#transfer-receipt"), /^Sent £250\.00 to /);
  await textOf(decisions(page), /Step-up done: authentication context c1 granted/);
  assert.deepEqual(JSON.parse(await claim(page, "acrs")), ["c1"]);
  assert.ok(JSON.parse(await claim(page, "amr")).includes("mfa"));
  await page.done("customer-worker-step-up");
});


test("a console save is pushed at once: SMS switched off in Authentication methods, the Worker offers email only", async () => {
  const page = await openWorkerDemo();
  await pushWith(page, ADMIN);
  await textOf(page.locator("#worker-push-status"), /^Pushed at /);

  await page.getByRole("link", { name: "Authentication methods" }).click();
  await page.getByRole("switch", { name: /SMS text message/ }).uncheck();
  await textOf(page.getByRole("status").filter({ hasText: "disabled" }), /SMS text message disabled/);
  await page.getByRole("link", { name: "Customer app" }).click();
  await textOf(decisions(page), /The console saved: the Worker now has this console's configuration\./);

  await signUp(page, { email: "fay@example.com", name: "Fay Wu", password: "Correct-Horse-9" });
  await expectScreen(page, "Add a second way to sign in");
  assert.equal(await bank(page).getByRole("radio", { name: "Text message (SMS)" }).count(), 0, "the Worker still offered SMS");
  await bank(page).getByRole("radio", { name: "Email" }).check();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Hello, Fay Wu");
  await page.done("customer-worker-console-save-pushed");
});

test("?worker= takes only a loopback origin, since the admin credential is sent there", async () => {
  const { WORKER_URL, workerUrlFrom } = await import("../../www/native-client.js");
  assert.equal(workerUrlFrom("?worker=http%3A%2F%2F127.0.0.1%3A39000"), "http://127.0.0.1:39000");
  assert.equal(workerUrlFrom("?worker=http://localhost:8787/"), "http://localhost:8787");
  for (const bad of ["?worker=https://evil.example", "?worker=http://127.0.0.1.evil.example:80", "?worker=http://127.0.0.1:1/x",
    "?worker=http://user@127.0.0.1:1", "?worker=javascript:alert(1)", "?worker=", ""]) {
    assert.equal(workerUrlFrom(bad), WORKER_URL, bad);
  }
});

test("the step-up's authorization request: PKCE S256 over a fresh 256-bit verifier, fresh state and nonce, acr_values and login_hint", async () => {
  const { createHash } = await import("node:crypto");
  const { authorizationRequest } = await import("../../www/worker-step-up.js");
  const ask = () => authorizationRequest({ baseUrl: "http://127.0.0.1:8787", tenant: "contoso", clientId: "vestibule-demo-app",
    redirectUri: "http://127.0.0.1:8080/www/oidc-callback.html", loginHint: "dan@example.com", acrValues: ["c1"] });
  const a = await ask();
  const b = await ask();
  const url = new URL(a.url);
  assert.equal(url.origin + url.pathname, "http://127.0.0.1:8787/contoso/oauth2/v2.0/authorize");
  const p = Object.fromEntries(url.searchParams);
  assert.equal(p.code_challenge_method, "S256");
  assert.equal(p.code_challenge, createHash("sha256").update(a.verifier).digest("base64url"));
  assert.match(a.verifier, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url (RFC 7636: 43-128 characters)");
  assert.deepEqual([p.state, p.nonce], [a.state, a.nonce]);
  assert.ok(a.state.length >= 22 && a.nonce.length >= 22);
  assert.deepEqual({ response_type: p.response_type, client_id: p.client_id, acr_values: p.acr_values, login_hint: p.login_hint, redirect_uri: p.redirect_uri },
    { response_type: "code", client_id: "vestibule-demo-app", acr_values: "c1", login_hint: "dan@example.com", redirect_uri: "http://127.0.0.1:8080/www/oidc-callback.html" });
  assert.ok(a.verifier !== b.verifier && a.state !== b.state && a.nonce !== b.nonce, "each request has its own secrets");
});

test("pushed policies name the Worker's location ids and its client for the bank", async () => {
  const { policyForWorker } = await import("../../www/worker-sync.js");
  const { APPS, LOCATIONS, seedTenant } = await import("../../www/seed.js");
  const policies = seedTenant().conditionalAccess.policies;
  const ids = new Map([[LOCATIONS.headOffice, "worker-office"], [LOCATIONS.blockedCountries, "worker-blocked"]]);
  const pushed = policies.map((p) => policyForWorker(p, ids));
  const bankPolicy = pushed.find((p) => p.displayName === "Require MFA for the banking app");
  assert.deepEqual(bankPolicy.conditions.applications.includeApplications, ["vestibule-demo-app"]);
  assert.ok(!JSON.stringify(pushed).includes(APPS.bank), "the console's bank app id is not sent");
  assert.deepEqual(pushed.find((p) => p.displayName === "Require MFA for staff outside the office").conditions.locations,
    { includeLocations: ["All"], excludeLocations: ["worker-office"] });
  assert.ok(pushed.every((p) => !("id" in p)), "server-owned ids are left out");
  assert.ok(policies.some((p) => JSON.stringify(p).includes(APPS.bank)), "the console's own policies are not changed");
});

test("a policy the Worker refuses half-way leaves its previous policies in place: new items first, undone on refusal", async () => {
  const { pushTenant } = await import("../../www/worker-sync.js");
  const { seedTenant } = await import("../../www/seed.js");
  const tenant = seedTenant();
  // A stand-in admin API that holds one old policy and one old location, and refuses the
  // second policy it is asked to create.
  const store = { policies: new Map([["old-p", {}]]), locations: new Map([["old-l", {}]]) };
  let made = 0, policyPosts = 0;
  const calls = [];
  const fetchImpl = async (url, { method, body }) => {
    const path = new URL(url).pathname.replace(/^.*\/v1\.0\//, "");
    calls.push(`${method} ${path}`);
    const kind = path.includes("policies") ? "policies" : "locations";
    const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
    if (method === "GET") return json(200, { value: [...store[kind].keys()].map((id) => ({ id })) });
    if (method === "POST") {
      if (kind === "policies" && ++policyPosts === 2) {
        return json(400, { error: { code: "policy.invalid", message: "refused for the test", target: "conditions" } });
      }
      const id = `new-${++made}`;
      store[kind].set(id, JSON.parse(body));
      return json(201, { id });
    }
    if (method === "DELETE") { store[kind].delete(decodeURIComponent(path.split("/").pop())); return new Response(null, { status: 204 }); }
    return json(500, {});
  };
  const r = await pushTenant({ baseUrl: "http://127.0.0.1:1", token: "t", tenant, fetchImpl });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "policy.invalid");
  assert.match(r.error.step, /^create policy/);
  assert.match(r.error.kept, /previous Conditional Access policies/);
  assert.deepEqual([...store.policies.keys()], ["old-p"], "only the previous policy is left");
  assert.deepEqual([...store.locations.keys()], ["old-l"], "only the previous location is left");
  assert.ok(!calls.some((c) => c.startsWith("PATCH")), "nothing after the refusal was pushed");
});
