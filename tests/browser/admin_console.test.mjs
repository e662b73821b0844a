// The admin console in a real browser (Debian's Chromium driven by playwright-core), served
// by scripts/serve-www.mjs and importing the built package from pkg/ as any app would.
// Journeys assert on what a person sees and what assistive technology is told (roles,
// names, visible text), never on internal state. Screenshots go to test-output/screenshots/.
//
//   bash scripts/build-pkg.sh && node --test tests/browser/
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DESKTOP, PHONE, openPage, shot, shots, startDemo, textOf as waitText } from "../support/browser.mjs";

let baseUrl;
let context;
let demo;

before(async () => {
  demo = await startDemo("vestibule-browser-");
  ({ baseUrl, context } = demo);
});

after(async () => {
  await demo?.stop();
});

/** A fresh console page at `#route` (see `openPage`). */
function openConsole(route, viewport = DESKTOP) {
  return openPage(context, `${baseUrl}#${route}`, { viewport });
}

/** `textOf` with this file's 5 s patience. */
const textOf = (locator, pattern, timeout = 5_000) => waitText(locator, pattern, timeout);

/** Fills the What If form and runs it. */
async function simulate(page, { user, app, ip, country }) {
  await page.getByLabel("User", { exact: true }).selectOption({ label: user });
  await page.getByLabel("App", { exact: true }).selectOption({ label: app });
  await page.getByLabel("IP address").fill(ip);
  await page.getByLabel("Country", { exact: true }).selectOption({ label: country });
  await page.getByRole("button", { name: "Run What If" }).click();
}

/** Waits for the announced decision heading, e.g. "Decision: Blocked". */
async function expectDecision(page, title) {
  const heading = page.getByRole("heading", { name: `Decision: ${title}`, exact: true });
  try {
    await heading.waitFor({ state: "visible", timeout: 5_000 });
  } catch {
    const seen = await page.getByRole("heading", { name: /^Decision:/ }).allInnerTexts();
    assert.fail(`expected the decision ${title}, saw ${JSON.stringify(seen)}`);
  }
}

/** The What If result card of one policy. */
const policyResult = (page, name) => page.getByRole("list", { name: "Policy by policy" })
  .getByRole("listitem").filter({ has: page.getByRole("heading", { name, exact: true }) });

test("a policy block explained in What If", async () => {
  const page = await openConsole("what-if");
  await simulate(page, { user: "Bob Jones (Customer)", app: "Contoso Shop", ip: "175.45.176.10", country: "North Korea" });

  await expectDecision(page, "Blocked");
  await textOf(page.locator("#whatif-decision"), /“Block sign-ins from blocked countries” blocks this sign-in/);
  const block = await textOf(policyResult(page, "Block sign-ins from blocked countries"), /Applies/);
  assert.match(block, /Location: North Korea \(KP\), 175\.45\.176\.10 is in “Blocked countries”/);
  assert.match(block, /Blocks the sign-in/);
  // The banking policy does not apply to the shop, and says why.
  assert.match(await policyResult(page, "Require MFA for the banking app").innerText(), /Not applied: app not included/);
  await shot(page, "whatif-blocked");

  // The same sign-in from the UK is not blocked: the decision follows the input.
  await simulate(page, { user: "Bob Jones (Customer)", app: "Contoso Shop", ip: "198.51.100.23", country: "United Kingdom" });
  await expectDecision(page, "Allowed");
  assert.match(await policyResult(page, "Block sign-ins from blocked countries").innerText(),
    /Not applied: location not included[\s\S]*United Kingdom \(GB\)[\s\S]*not in “Blocked countries”/);
  // Report-only MFA-for-all is reported but not enforced.
  await textOf(page.locator("#whatif-decision"), /Report-only: “Require MFA for all users” would also act/);
  await page.done();
});

test("MFA required by the banking app, and which methods can satisfy it", async () => {
  const page = await openConsole("what-if");
  await simulate(page, { user: "Alice Martin (Staff member)", app: "Woodgrove Bank", ip: "198.51.100.23", country: "United Kingdom" });
  await expectDecision(page, "MFA required");
  const why = await textOf(page.locator("#whatif-decision"), /requires? a second factor/);
  assert.match(why, /“Require MFA for the banking app”/);
  assert.match(why, /Email one-time passcode or SMS text message/);
  assert.match(await policyResult(page, "Require MFA for staff outside the office").innerText(),
    /Applies[\s\S]*Alice Martin is in Staff \(group\)[\s\S]*outside “Head office”/);
  await page.done("whatif-mfa-required");
});

test("a break-glass user is excluded from the MFA policy", async () => {
  const page = await openConsole("what-if");
  await simulate(page, { user: "Break-glass admin (Emergency access account)",
    app: "Woodgrove Bank", ip: "198.51.100.23", country: "United Kingdom" });
  const card = await textOf(policyResult(page, "Require MFA for all users"), /Not applied: user excluded/);
  assert.match(card, /Break-glass admin is listed under the policy's excluded users/);
  await expectDecision(page, "Allowed");
  await shot(page, "whatif-break-glass");

  // Someone who is not excluded is in scope of the same policy.
  await simulate(page, { user: "Bob Jones (Customer)", app: "Woodgrove Bank", ip: "198.51.100.23", country: "United Kingdom" });
  await textOf(policyResult(page, "Require MFA for all users"), /Applies \(report-only: logged, not enforced\)/);
  await page.done();
});

test("an invalid JSON edit shows its error and path and is not saved; the form and JSON stay in sync", async () => {
  const page = await openConsole("policies");
  const policies = page.getByRole("list", { name: "Policies" });
  await policies.getByRole("button", { name: "Require MFA for the banking app" }).click();
  await textOf(page.locator("#editor-title"), /^Require MFA for the banking app$/);

  // Form → JSON: report-only in the form shows up in the JSON.
  await page.getByRole("radio", { name: /^Report-only/ }).check();
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel(/^Policy JSON/);
  const edited = JSON.parse(await json.inputValue());
  assert.equal(edited.state, "enabledForReportingButNotEnforced");

  // JSON with an unknown field: the engine's error shows with its path and line, and Save refuses.
  edited.conditions.users.bogusField = true;
  await json.fill(JSON.stringify(edited, null, 2));
  const problems = page.getByRole("list", { name: "Problems in this JSON" });
  const problem = await textOf(problems, /policies\[1\]\.conditions\.users\.bogusField/);
  assert.match(problem, /^Line \d+: /);
  assert.match(problem, /unknown field bogusField/);
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "saved" }), /^Not saved: 1 problem to fix first\.$/i);
  await shot(page, "policy-json-error");

  // The form shows the same error next to the Users section.
  await page.getByRole("tab", { name: "Form" }).click();
  await textOf(page.getByRole("region", { name: "Users" }), /unknown field bogusField[\s\S]*policies\[1\]\.conditions\.users\.bogusField/);

  // Nothing was saved: after a reload the policy is still on and has no such field.
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  const item = policies.getByRole("listitem").filter({ has: page.getByRole("button", { name: "Require MFA for the banking app" }) });
  assert.match(await item.innerText(), /\bOn\b/);
  await item.getByRole("button").click();
  await page.getByRole("tab", { name: "JSON" }).click();
  const reloaded = JSON.parse(await json.inputValue());
  assert.equal(reloaded.state, "enabled");
  assert.equal(reloaded.conditions.users.bogusField, undefined);

  // JSON → form, and a valid save: report-only typed in the JSON ticks the form's radio.
  reloaded.state = "enabledForReportingButNotEnforced";
  await json.fill(JSON.stringify(reloaded, null, 2));
  await page.getByRole("tab", { name: "Form" }).click();
  assert.equal(await page.getByRole("radio", { name: /^Report-only/ }).isChecked(), true);
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved “Require MFA for the banking app”\.$/);
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  assert.match(await item.innerText(), /Report-only/);
  await page.done("policy-saved-report-only");
});

test("a new policy starts report-only without the break-glass account, and form choices reach the JSON", async () => {
  const page = await openConsole("policies");
  await page.getByRole("button", { name: "New policy" }).click();
  const users = page.getByRole("region", { name: "Users" });
  assert.equal(await page.getByRole("radio", { name: /^Report-only/ }).isChecked(), true);
  assert.equal(await users.getByRole("checkbox", { name: "Break-glass admin (break-glass)" }).isChecked(), true);
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Require MFA for staff in the shop");
  await users.getByRole("radio", { name: "Selected users and groups" }).check();
  await users.getByRole("checkbox", { name: "Staff (group)" }).first().check();
  await page.getByRole("region", { name: "Target apps" }).getByRole("radio", { name: "Selected apps" }).check();
  await page.getByRole("checkbox", { name: /^Contoso Shop/ }).check();
  await page.getByRole("tab", { name: "JSON" }).click();
  const policy = JSON.parse(await page.getByLabel(/^Policy JSON/).inputValue());
  assert.equal(policy.displayName, "Require MFA for staff in the shop");
  assert.equal(policy.conditions.users.includeGroups.length, 1);
  assert.deepEqual(policy.conditions.users.includeUsers, []);
  assert.equal(policy.conditions.applications.includeApplications.length, 1);
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved “Require MFA for staff in the shop”\.$/);
  const item = page.getByRole("list", { name: "Policies" }).getByRole("listitem").last();
  assert.match(await item.innerText(), /Require MFA for staff in the shop[\s\S]*Report-only[\s\S]*Staff \(group\) except Break-glass admin · Contoso Shop/);
  await page.done("policy-new");
});

test("a JSON syntax error is pointed at and blocks saving", async () => {
  const page = await openConsole("policies");
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel(/^Policy JSON/);
  await json.fill('{\n  "displayName": "Broken",\n  "state": enabled\n}');
  await textOf(page.getByRole("list", { name: "Problems in this JSON" }), /Line 3: JSON syntax error/);
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "saved" }), /^Not saved/);
  await page.done();
});

test("a named location edit is validated, and a saved one changes the What If answer", async () => {
  const page = await openConsole("locations");
  await page.getByRole("list", { name: "Named locations" }).getByRole("button", { name: "Blocked countries" }).click();
  const countries = page.getByRole("textbox", { name: "Countries and regions" });
  await countries.fill("KP, IR, SY, XX9");
  await textOf(page.locator("#location-form"), /XX9[\s\S]*not a two-letter iso 3166 country code[\s\S]*namedLocations\[0\]\.countriesAndRegions\[3\]/);
  await page.getByRole("button", { name: "Save location" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "saved" }), /^Not saved/);

  await countries.fill("KP, IR, SY, RU");
  await page.getByRole("button", { name: "Save location" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved “Blocked countries”\.$/);
  await shot(page, "locations");

  await page.getByRole("link", { name: "What If" }).click();
  await simulate(page, { user: "Bob Jones (Customer)", app: "Contoso Shop", ip: "95.24.1.1", country: "Russia" });
  await expectDecision(page, "Blocked");
  await page.done();
});

test("authentication method settings change what a sign-in needing MFA can use", async () => {
  const page = await openConsole("methods");
  await page.getByRole("switch", { name: /Email one-time passcode/ }).uncheck();
  await page.getByRole("switch", { name: /SMS text message/ }).uncheck();
  await textOf(page.getByRole("status").filter({ hasText: "disabled" }), /SMS text message disabled/);
  await textOf(page.locator("#methods"), /No second factor is available/);
  await page.getByRole("checkbox", { name: "Nigeria (+234)" }).check();
  await page.getByLabel("Never send SMS to these calling codes").fill("44, 12345");
  await page.getByRole("button", { name: "Save blocked codes" }).click();
  await textOf(page.locator("#sms-exclude-error"), /12345 is not a calling code/);
  await shot(page, "methods");

  // The tenant other pages read (tenant.js) holds the Graph shape.
  const tenant = await page.evaluate(async () => (await import("./tenant.js")).loadTenant());
  const states = Object.fromEntries(tenant.authenticationMethodsPolicy.authenticationMethodConfigurations.map((c) => [c.id, c.state]));
  assert.deepEqual(states, { Email: "disabled", Sms: "disabled" });
  assert.deepEqual(tenant.smsRegions.includeAdditionalRegions, [234]);

  await page.getByRole("link", { name: "What If" }).click();
  await simulate(page, { user: "Alice Martin (Staff member)", app: "Woodgrove Bank", ip: "198.51.100.23", country: "United Kingdom" });
  await textOf(page.locator("#whatif-decision"), /No second-factor method is enabled/);
  await page.done();
});

test("every page is labelled, has landmarks and fits a phone screen", async () => {
  const page = await openConsole("policies", PHONE);
  for (const route of ["policies", "locations", "methods", "what-if", "customer"]) {
    await page.getByRole("navigation", { name: "Admin console" }).locator(`a[href="#${route}"]`).click();
    const heading = page.locator(`#${route} h2`);
    await heading.waitFor({ state: "visible" });
    const report = await page.evaluate(() => {
      const visible = (el) => el.getClientRects().length > 0;
      const unlabelled = [...document.querySelectorAll("input, select, textarea, button")]
        .filter(visible)
        .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")
          || (el.tagName === "BUTTON" && el.textContent.trim())))
        .map((el) => el.outerHTML.slice(0, 80));
      return {
        unlabelled,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        landmarks: ["header", "nav", "main", "footer"].filter((s) => document.querySelector(s)),
        current: document.querySelector("[aria-current=page]")?.textContent.trim(),
      };
    });
    assert.deepEqual(report.unlabelled, [], `unlabelled controls on ${route}`);
    assert.ok(report.overflow <= 0, `${route} scrolls sideways by ${report.overflow}px on a phone`);
    assert.deepEqual(report.landmarks, ["header", "nav", "main", "footer"]);
    assert.ok(report.current, `no nav entry is marked current on ${route}`);
    await shot(page, `phone-${route}`);
  }
  // On a phone the verdict is brought into view under the form.
  await page.getByRole("navigation", { name: "Admin console" }).locator('a[href="#what-if"]').click();
  await page.getByRole("button", { name: "Bob from a blocked country" }).click();
  await expectDecision(page, "Blocked");
  const decision = page.getByRole("heading", { name: "Decision: Blocked" });
  await page.waitForFunction(() => {
    const r = document.querySelector("#whatif-decision").getBoundingClientRect();
    return r.top >= 0 && r.top < 120; // under the "Results" heading at the top of the screen
  }, null, { timeout: 5_000 });
  assert.ok(await decision.isVisible());
  await page.screenshot({ path: join(shots, "phone-whatif-result.png") });
  await page.evaluate(() => window.scrollTo(0, 0));

  // A keyboard user sees where focus is.
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { tag: document.activeElement.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.notEqual(outline.style, "none", `focused ${outline.tag} has no outline`);
  assert.ok(outline.width >= 2, `focused ${outline.tag} outline is ${outline.width}px`);
  await page.done();
});
