// A review of the demo as the people it is for use it: an admin trying Conditional Access
// and the method settings, and a customer in the bank app. Each test is a defect the
// review found (it failed before its fix): focus lost after a step, errors nobody is told
// about, state lost on reload, What If answering differently from what the customer app
// then enforces, and the Worker switch not saying what it cannot push. Debian's Chromium
// through playwright-core, as the other browser tests; screenshots in
// test-output/screenshots/.
//
//   bash scripts/build-pkg.sh && bash scripts/build-worker.sh
//   node --test --test-force-exit --test-concurrency=1 tests/browser/review_demo.test.mjs
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openPage, root, shot, startDemo, textOf as waitText } from "../support/browser.mjs";
import { bank, decisions, expectScreen, messages } from "../support/customer_page.mjs";
import { assertAccessible } from "../support/accessibility.mjs";
import { ADMIN, nativeVars } from "../support/native.mjs";
import { startWorker } from "../support/worker.mjs";

let baseUrl;
let context;
let demo;
let worker; // started by the first test that needs it

before(async () => {
  demo = await startDemo("vestibule-review-");
  ({ baseUrl, context } = demo);
});

after(async () => {
  await worker?.stop();
  await demo?.stop();
});

const WORKER_BUILT = existsSync(join(root, "build", "index.js"));
const needsWorker = { skip: !WORKER_BUILT && "the Worker is not built: run `bash scripts/build-worker.sh`" };

/** The customer app on the real Worker, with the console's configuration pushed. */
async function openPushedWorkerDemo() {
  worker ??= await startWorker({ vars: { ...nativeVars(), ADMIN_CORS_ORIGINS: new URL(baseUrl).origin } });
  const page = await openPage(context, `${baseUrl}?worker=${encodeURIComponent(worker.url)}#customer`,
    { failOnDialog: true, allowConsole: /status of 4\d\d/ });
  await page.getByRole("radio", { name: `Local Worker (${worker.url})` }).check();
  const token = page.getByLabel("The Worker's ADMIN_TOKEN (from .dev.vars)");
  await token.fill(ADMIN);
  await token.press("Tab");
  await textOf(page.locator("#worker-push-status"), /^Pushed at /, 15_000);
  return page;
}

const openDemo = (route, options = {}) => openPage(context, `${baseUrl}#${route}`, options);
const textOf = (locator, pattern, timeout = 10_000) => waitText(locator, pattern, timeout);
/** The focused element, described for an assertion message. */
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return { tag: el?.tagName, id: el?.id, text: el?.textContent?.trim().slice(0, 60), inMain: Boolean(el?.closest("main")) };
});

async function codeFrom(page, name, count) {
  const list = messages(page, name);
  const end = Date.now() + 10_000;
  while ((await list.count()) <= count) {
    if (Date.now() > end) assert.fail(`no new message on the ${name}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await list.first().innerText()).match(/\b(\d{6,8})\b/)?.[1];
}

async function signUp(page, { email, name, password }) {
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await bank(page).getByLabel("Email address").fill(email);
  await bank(page).getByLabel("Display name").fill(name);
  await bank(page).getByLabel("Password", { exact: true }).fill(password);
  const inbox = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email");
  await bank(page).getByLabel("Verification code").fill(await codeFrom(page, "Inbox", inbox));
  await bank(page).getByRole("button", { name: "Verify" }).click();
}

/** Saves `policy` as a new one through the JSON view, as an admin pasting Graph JSON would. */
async function addPolicyAsJson(page, policy) {
  await page.getByRole("link", { name: "Policies" }).click();
  await page.getByRole("button", { name: "New policy" }).click();
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel(/^Policy JSON/);
  const draft = JSON.parse(await json.inputValue());
  await json.fill(JSON.stringify({ ...draft, ...policy }, null, 2));
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), new RegExp(`^Saved “${policy.displayName}”\\.$`));
}

async function turnOff(page, policyName) {
  await page.getByRole("link", { name: "Policies" }).click();
  await page.getByRole("list", { name: "Policies" }).getByRole("button", { name: policyName }).click();
  await page.getByRole("radio", { name: /^Off/ }).check();
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved /);
}

test("keyboard: after Save, Discard or Cancel in the policy editor, focus stays in the editor instead of falling to the page's top", async () => {
  const page = await openDemo("policies");
  await page.getByRole("radio", { name: /^Report-only/ }).check();
  await page.getByRole("button", { name: "Save policy" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved /);
  let at = await focused(page);
  assert.ok(at.inMain && at.tag !== "BODY", `after Save, focus is on ${JSON.stringify(at)}`);

  await page.getByRole("radio", { name: /^Off/ }).check();
  await page.getByRole("button", { name: "Discard changes" }).focus();
  await page.keyboard.press("Enter");
  at = await focused(page);
  assert.ok(at.inMain && at.tag !== "BODY", `after Discard, focus is on ${JSON.stringify(at)}`);

  await page.getByRole("button", { name: "New policy" }).click();
  await page.getByRole("button", { name: "Cancel" }).focus();
  await page.keyboard.press("Enter");
  at = await focused(page);
  assert.deepEqual([at.tag, at.text], ["BUTTON", "New policy"], `after Cancel, focus is on ${JSON.stringify(at)}`);

  await page.getByRole("list", { name: "Policies" }).getByRole("button", { name: "Require MFA for all users" }).click();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete policy" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.getByRole("list", { name: "Policies" }), /^(?![\s\S]*Require MFA for all users)/);
  at = await focused(page);
  assert.deepEqual([at.tag, at.text], ["BUTTON", "New policy"], `after Delete, focus is on ${JSON.stringify(at)}`);
  await page.done();
});

test("SMS blocked calling codes: a bad code is announced and focused; after a save focus stays on the button", async () => {
  const page = await openDemo("methods");
  const input = page.getByLabel("Never send SMS to these calling codes");
  await input.fill("44, 12345");
  await page.getByRole("button", { name: "Save blocked codes" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.locator("#sms-exclude-error"), /12345 is not a calling code/);
  const error = await page.locator("#sms-exclude-error").evaluate((el) => ({ role: el.getAttribute("role"), live: el.getAttribute("aria-live") }));
  assert.ok(error.role === "alert" || error.live, `the error is not in a live region: ${JSON.stringify(error)}`);
  assert.equal((await focused(page)).id, "sms-exclude", "focus is not on the input at fault");
  assert.equal(await input.getAttribute("aria-invalid"), "true");
  await assertAccessible(page, "Authentication methods with a blocked-code error");

  await input.fill("44");
  await page.getByRole("button", { name: "Save blocked codes" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.getByRole("status").filter({ hasText: "codes" }), /^Blocked calling codes saved\.$/);
  const at = await focused(page);
  assert.deepEqual([at.tag, at.text], ["BUTTON", "Save blocked codes"], `after saving, focus is on ${JSON.stringify(at)}`);
  await page.done();
});

test("What If asks about the client app the customer app really sends: a browser-only policy does not apply to it", async () => {
  const page = await openDemo("policies", { failOnDialog: true });
  await turnOff(page, "Require MFA for the banking app");
  await addPolicyAsJson(page, { displayName: "Require MFA in browsers", state: "enabled",
    conditions: { clientAppTypes: ["browser"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] } } });

  // The customer app (like the Worker) sends no client app type: a password is enough.
  await page.getByRole("link", { name: "Customer app" }).click();
  await signUp(page, { email: "cai@example.com", name: "Cai Ro", password: "Correct-Horse-9" });
  await expectScreen(page, "Hello, Cai Ro");

  // What If, left at its defaults, answers for that same sign-in.
  await page.getByRole("link", { name: "What If" }).click();
  await page.getByLabel("User", { exact: true }).selectOption({ label: "Bob Jones (Customer)" });
  await page.getByLabel("App", { exact: true }).selectOption({ label: "Woodgrove Bank" });
  await page.getByRole("button", { name: "Run What If" }).click();
  await page.getByRole("heading", { name: "Decision: Allowed", exact: true }).waitFor({ timeout: 5_000 })
    .catch(async () => assert.fail(`What If answered ${JSON.stringify(await page.locator("#whatif-decision").innerText())}, the customer app signed in with a password alone`));
  const card = page.getByRole("list", { name: "Policy by policy" }).getByRole("listitem")
    .filter({ has: page.getByRole("heading", { name: "Require MFA in browsers", exact: true }) });
  assert.match(await card.innerText(), /Not applied: client app not selected\s+The policy covers Browser; this sign-in names no client app, like the customer app's\./);
  const client = page.getByLabel("Client app", { exact: true });
  assert.equal(await client.inputValue(), "", "What If picks a client app the customer app does not send");
  assert.match(await page.locator(`#${await client.getAttribute("aria-describedby")}`).innerText(), /customer app/);

  // Choosing Browser shows the policy acting, so the choice is the admin's to make.
  await page.getByLabel("Client app", { exact: true }).selectOption({ label: "Browser" });
  await page.getByRole("button", { name: "Run What If" }).click();
  await page.getByRole("heading", { name: "Decision: MFA required", exact: true }).waitFor({ timeout: 5_000 });
  await page.done("review-whatif-client-app");
});

test("customer app: the engine choice and the customer's network survive a reload", async () => {
  const url = "http://127.0.0.1:9";
  const page = await openPage(context, `${baseUrl}?worker=${encodeURIComponent(url)}#customer`, { failOnDialog: true });
  await page.getByLabel("Customer's network").selectOption({ label: "Travelling, North Korea (175.45.176.10)" });
  await page.getByRole("radio", { name: `Local Worker (${url})` }).check();
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  assert.equal(await page.getByRole("radio", { name: `Local Worker (${url})` }).isChecked(), true, "the engine went back to the browser");
  assert.equal(await page.getByLabel("The Worker's ADMIN_TOKEN (from .dev.vars)").isVisible(), true);
  assert.match(await page.getByLabel("Customer's network").locator("option:checked").innerText(), /North Korea/);
  await page.done();
});

test("customer app: a block for want of any second factor tells the admin which policy asked and what is switched off", async () => {
  const page = await openDemo("methods", { failOnDialog: true });
  await page.getByRole("switch", { name: /Email one-time passcode/ }).uncheck();
  await page.getByRole("switch", { name: /SMS text message/ }).uncheck();
  await page.getByRole("link", { name: "Customer app" }).click();
  await signUp(page, { email: "noa@example.com", name: "Noa Li", password: "Correct-Horse-9" });
  await expectScreen(page, "You can't sign in right now");
  const log = await textOf(decisions(page), /Blocked/);
  assert.match(log, /“Require MFA for the banking app”/, "the log does not say which policy asked for MFA");
  assert.match(log, /Authentication methods/, "the log does not say where the admin turns a method back on");
  await page.done("review-no-second-factor");
});

test("customer accounts belong to no group: the customer app says which policies name console users or groups", async () => {
  const page = await openDemo("customer", { failOnDialog: true });
  // Where the admin picks groups, the form says it first.
  await page.getByRole("link", { name: "Policies" }).click();
  await page.getByRole("button", { name: "New policy" }).click();
  await page.getByRole("region", { name: "Users" }).getByRole("radio", { name: "Selected users and groups" }).check();
  assert.match(await page.getByRole("group", { name: "Included users and groups" }).innerText(), /Customers who sign up in the customer app are none of them and in no group/);
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("link", { name: "Customer app" }).click();
  const note = await textOf(page.locator("#directory-note"), /group/);
  assert.match(note, /“Require MFA for staff outside the office”/);
  // A group-only policy the admin adds shows up in the note at once.
  await addPolicyAsJson(page, { displayName: "Block the Customers group", state: "enabled",
    conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] },
      users: { includeGroups: ["8d2e4f6a-1b3c-4d5e-9f7a-2c4e6a8b0d20"] } },
    grantControls: { operator: "OR", builtInControls: ["block"] } });
  await page.getByRole("link", { name: "Customer app" }).click();
  await textOf(page.locator("#directory-note"), /“Block the Customers group”/);
  // And it is so: What If blocks Bob of the Customers group, a customer who signs up is not.
  await signUp(page, { email: "bob@example.net", name: "Bob Jones", password: "Correct-Horse-9" });
  await expectScreen(page, "Add a second way to sign in");
  await page.done("review-directory-note");
});

test("Local Worker: the push says users and groups cannot be pushed, and which pushed policies then apply to no one there", needsWorker, async () => {
  const page = await openPushedWorkerDemo();
  const status = await page.locator("#worker-push-status").innerText();
  assert.match(status, /users and groups are not pushed/i);
  assert.match(status, /“Require MFA for staff outside the office” applies to no one on the Worker/);
  await textOf(decisions(page), /“Require MFA for staff outside the office” applies to no one on the Worker/);
  await page.done("review-worker-push-directory");
});

test("Local Worker: an SMS region the tenant has not opted in to is refused in words the customer can act on", needsWorker, async () => {
  const page = await openPushedWorkerDemo();
  await signUp(page, { email: "ola@example.com", name: "Ola Ade", password: "Correct-Horse-9" });
  await expectScreen(page, "Add a second way to sign in", 15_000);
  await bank(page).getByRole("radio", { name: "Text message (SMS)" }).check();
  await bank(page).getByLabel("Mobile phone number").fill("+234 803 123 4567");
  await bank(page).getByRole("button", { name: "Send code" }).click();
  const error = await textOf(bank(page).locator("#register-phone-error"), /\S/, 15_000);
  assert.match(error, /^We can't send text messages to .*\. Use another number or choose email\.$/);
  assert.equal(await bank(page).getByLabel("Mobile phone number").getAttribute("aria-invalid"), "true");
  await textOf(decisions(page), /SMS regions/);
  assert.equal(await messages(page, "Phone").count(), 0);
  await assertAccessible(page, "the customer app in Worker mode with a refused number");
  await shot(page, "review-worker-sms-region");

  // The admin opts in to Nigeria; the push reaches the Worker and the same number gets its code.
  await page.getByRole("link", { name: "Authentication methods" }).click();
  await page.getByRole("checkbox", { name: "Nigeria (+234)" }).check();
  await page.getByRole("link", { name: "Customer app" }).click();
  await textOf(decisions(page), /The console saved: the Worker now has/, 15_000);
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your phone", 15_000);
  await page.done();
});

test("Local Worker: the customer's network cannot be picked, since the Worker sees the real request", async () => {
  const url = "http://127.0.0.1:9";
  const page = await openPage(context, `${baseUrl}?worker=${encodeURIComponent(url)}#customer`, { failOnDialog: true });
  const network = page.getByLabel("Customer's network");
  assert.equal(await network.isEnabled(), true);
  await page.getByRole("radio", { name: `Local Worker (${url})` }).check();
  assert.equal(await network.isEnabled(), false, "the page offers a network the Worker never sees");
  const described = await network.getAttribute("aria-describedby");
  assert.match(await page.locator(`#${described}`).innerText(), /real request/);
  await page.getByRole("radio", { name: "In this browser" }).check();
  assert.equal(await network.isEnabled(), true);
  await page.done();
});

test("Local Worker: a code refused for too many sends says when to try again, not that the method is not allowed", async () => {
  const { fromError } = await import("../../www/native-client.js");
  const { rejectionText } = await import("../../www/customer-text.js");
  const r = fromError({ error: "access_denied", suberror: "provider_blocked_by_rep", retry_after: 300,
    error_description: "too many codes were sent to this phone number recently; try again in 300 seconds" });
  assert.equal(r.reply.type, "rejected");
  assert.equal(rejectionText(r.reply.rejection), "Too many codes were sent here recently. Try again in 5 minutes.");
  const region = fromError({ error: "access_denied", suberror: "provider_blocked_by_admin",
    error_description: "the tenant administrator has blocked the phone region; try another verification method" });
  assert.equal(region.reply.rejection.code, "sms_region_blocked");
});

test("keyboard: after saving a named location focus stays in its editor", async () => {
  const page = await openDemo("locations");
  await page.getByRole("textbox", { name: "Countries and regions" }).fill("KP, IR, SY, RU");
  await page.getByRole("button", { name: "Save location" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved “Blocked countries”\.$/);
  const at = await focused(page);
  assert.ok(at.inMain && at.tag !== "BODY", `after Save, focus is on ${JSON.stringify(at)}`);
  await page.done();
});

test("the transfer policy shows its authentication context in the list and the form, not “No apps”", async () => {
  const page = await openDemo("policies");
  const item = page.getByRole("list", { name: "Policies" }).getByRole("listitem")
    .filter({ has: page.getByRole("button", { name: "Require MFA for high-value transfers" }) });
  const detail = await item.innerText();
  assert.doesNotMatch(detail, /No apps/);
  assert.match(detail, /High-value transfer \(c1\)/);
  await item.getByRole("button").click();
  const target = page.getByRole("region", { name: "Target apps" });
  assert.equal(await target.getByRole("radio", { name: "Authentication context" }).isChecked(), true);
  assert.equal(await target.getByRole("checkbox", { name: /^High-value transfer \(c1\)/ }).isChecked(), true);
  await assertAccessible(page, "the policy form targeting an authentication context");
  // Choosing apps instead drops the context from the JSON, so the two never mix.
  await target.getByRole("radio", { name: "Selected apps" }).check();
  await target.getByRole("checkbox", { name: /^Woodgrove Bank/ }).check();
  await page.getByRole("tab", { name: "JSON" }).click();
  const apps = JSON.parse(await page.getByLabel(/^Policy JSON/).inputValue()).conditions.applications;
  assert.equal(apps.includeAuthenticationContextClassReferences, undefined);
  assert.equal(apps.includeApplications.length, 1);
  await page.getByRole("tab", { name: "Form" }).click();
  await target.getByRole("radio", { name: "Authentication context" }).check();
  await page.getByRole("tab", { name: "JSON" }).click();
  assert.deepEqual(JSON.parse(await page.getByLabel(/^Policy JSON/).inputValue()).conditions.applications,
    { includeApplications: [], includeAuthenticationContextClassReferences: ["c1"] });
  await page.done("review-policy-auth-context");
});

test("What If can ask about a transfer: the authentication context the bank asks for, as its step-up then enforces", async () => {
  const page = await openDemo("policies", { failOnDialog: true });
  await turnOff(page, "Require MFA for the banking app");
  await page.getByRole("link", { name: "What If" }).click();
  await page.getByLabel("User", { exact: true }).selectOption({ label: "Bob Jones (Customer)" });
  await page.getByLabel("App", { exact: true }).selectOption({ label: "Woodgrove Bank" });
  await page.getByRole("button", { name: "Run What If" }).click();
  await page.getByRole("heading", { name: "Decision: Allowed", exact: true }).waitFor({ timeout: 5_000 });
  const card = page.getByRole("list", { name: "Policy by policy" }).getByRole("listitem")
    .filter({ has: page.getByRole("heading", { name: "Require MFA for high-value transfers", exact: true }) });
  assert.match(await card.innerText(), /High-value transfer \(c1\)/);

  await page.getByLabel("Authentication context", { exact: true }).selectOption({ label: "High-value transfer (c1)" });
  await page.getByRole("button", { name: "Run What If" }).click();
  await page.getByRole("heading", { name: "Decision: MFA required", exact: true }).waitFor({ timeout: 5_000 });
  assert.match(await page.locator("#whatif-decision").innerText(), /“Require MFA for high-value transfers” requires a second factor/);
  assert.match(await card.innerText(), /^Require MFA for high-value transfers[\s\S]*Applies[\s\S]*Woodgrove Bank asks for High-value transfer \(c1\)/);
  await assertAccessible(page, "What If for a transfer");
  await page.done("review-whatif-transfer");
});

test("Local Worker: a policy block names the policy, read from the Worker's sign-in log", needsWorker, async () => {
  const page = await openPushedWorkerDemo();
  await signUp(page, { email: "bea@example.com", name: "Bea Fox", password: "Correct-Horse-9" });
  await expectScreen(page, "Add a second way to sign in", 15_000);
  await bank(page).getByRole("button", { name: "Cancel" }).click();
  await addPolicyAsJson(page, { displayName: "Block the bank for now", state: "enabled",
    conditions: { clientAppTypes: ["all"], applications: { includeApplications: ["All"] }, users: { includeUsers: ["All"] } },
    grantControls: { operator: "OR", builtInControls: ["block"] } });
  await page.getByRole("link", { name: "Customer app" }).click();
  await textOf(decisions(page), /The console saved: the Worker now has/, 15_000);
  await bank(page).getByLabel("Email address").fill("bea@example.com");
  await bank(page).getByRole("button", { name: "Continue" }).click();
  await expectScreen(page, "Enter your password", 15_000);
  await bank(page).getByLabel("Password", { exact: true }).fill("Correct-Horse-9");
  await bank(page).getByRole("button", { name: "Sign in" }).click();
  await expectScreen(page, "You can't sign in right now", 15_000);
  await textOf(bank(page).getByRole("status"), /“Block the bank for now”/, 15_000);
  await textOf(decisions(page), /Blocked: .*“Block the bank for now”/, 15_000);
  await page.done("review-worker-policy-block");
});

test("Local Worker: codes have the 6 digits the console's method settings promise, once pushed", needsWorker, async () => {
  const page = await openPushedWorkerDemo();
  assert.match(await page.locator("#worker-push-status").innerText(), /code length/);
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await bank(page).getByLabel("Email address").fill("gus@example.com");
  await bank(page).getByLabel("Display name").fill("Gus Hale");
  await bank(page).getByLabel("Password", { exact: true }).fill("Correct-Horse-9");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email", 15_000);
  await textOf(bank(page), /We sent a 6-digit code to /, 15_000);
  assert.match(await codeFrom(page, "Inbox", 0), /^\d{6}$/);
  await page.done();
});

test("the note lists only policies that surely reach no customer: a customer's own id (from the token's sub) is not assumed to be nobody", async () => {
  const { policiesForNoCustomer } = await import("../../www/directory-scope.js");
  const { seedTenant, USERS, GROUPS } = await import("../../www/seed.js");
  const tenant = seedTenant();
  const policy = (displayName, users) => ({ displayName, state: "enabled", conditions: { users } });
  tenant.conditionalAccess.policies = [
    policy("Alice only", { includeUsers: [USERS.alice] }),
    policy("Staff", { includeGroups: [GROUPS.staff] }),
    policy("A customer by sub", { includeUsers: ["0b9f1c7e-5d3a-4e2b-9c8d-7a6f5e4d3c2b"] }),
    policy("Everyone", { includeUsers: ["All"], excludeGroups: [GROUPS.staff] }),
    { ...policy("Off", { includeGroups: [GROUPS.staff] }), state: "disabled" },
  ];
  assert.deepEqual(policiesForNoCustomer(tenant), ["Alice only", "Staff"]);
});

test("keyboard: a named location that cannot be saved takes focus to the field at fault; Cancel on a new one returns to its button", async () => {
  const page = await openDemo("locations");
  await page.getByRole("textbox", { name: "Countries and regions" }).fill("KP, XX9");
  await page.getByRole("button", { name: "Save location" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.getByRole("status").filter({ hasText: "saved" }), /^Not saved/);
  let at = await focused(page);
  assert.equal(at.id, "loc-countries", `after a refused Save, focus is on ${JSON.stringify(at)}`);

  await page.getByRole("button", { name: "New IP ranges location" }).click();
  await page.getByRole("button", { name: "Cancel" }).focus();
  await page.keyboard.press("Enter");
  at = await focused(page);
  assert.deepEqual([at.tag, at.text], ["BUTTON", "New IP ranges location"], `after Cancel, focus is on ${JSON.stringify(at)}`);

  // A location deleted (after its confirm) leaves focus on the button that makes one.
  await page.getByRole("button", { name: "New countries location" }).click();
  await page.getByRole("textbox", { name: "Countries and regions" }).fill("FR");
  await page.getByRole("button", { name: "Save location" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved /);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete location" }).focus();
  await page.keyboard.press("Enter");
  await textOf(page.getByRole("list", { name: "Named locations" }), /^(?![\s\S]*New country location)/);
  at = await focused(page);
  assert.deepEqual([at.tag, at.text], ["BUTTON", "New countries location"], `after Delete, focus is on ${JSON.stringify(at)}`);
  await page.done();
});

test("Local Worker: a wrong ADMIN_TOKEN is answered with what to do, not only the Worker's header advice", needsWorker, async () => {
  worker ??= await startWorker({ vars: { ...nativeVars(), ADMIN_CORS_ORIGINS: new URL(baseUrl).origin } });
  const page = await openPage(context, `${baseUrl}?worker=${encodeURIComponent(worker.url)}#customer`,
    { failOnDialog: true, allowConsole: /status of 4\d\d/ });
  await page.getByRole("radio", { name: `Local Worker (${worker.url})` }).check();
  const token = page.getByLabel("The Worker's ADMIN_TOKEN (from .dev.vars)");
  await token.fill("not-the-token");
  await token.press("Tab");
  await textOf(page.locator("#worker-push-status"), /Copy ADMIN_TOKEN from \.dev\.vars again\.$/, 15_000);
  await page.done();
});

test("What If follows the local account method: with email one-time passcode sign-in it speaks of the email code, not a password", async () => {
  const page = await openDemo("methods");
  await page.getByRole("radio", { name: /^Email with one-time passcode/ }).check();
  await page.getByRole("link", { name: "What If" }).click();
  assert.match(await page.locator("#what-if form").innerText(), /has just entered the code sent to their email/);
  await page.getByRole("button", { name: "Alice banks from home" }).click();
  await page.getByRole("heading", { name: "Decision: MFA required", exact: true }).waitFor({ timeout: 5_000 });
  const decision = await page.locator("#whatif-decision").innerText();
  assert.match(decision, /The email code is done; the user can finish with SMS text message\./);
  assert.doesNotMatch(decision, /password/i);
  const card = await page.getByRole("list", { name: "Policy by policy" }).getByRole("listitem")
    .filter({ has: page.getByRole("heading", { name: "Require MFA for the banking app", exact: true }) }).innerText();
  assert.match(card, /Not met yet: the email code alone is not enough\./);
  await page.done();
});
