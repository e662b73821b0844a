// Automated accessibility checks of the demo with axe-core (the engine behind Lighthouse's
// and Chrome DevTools' audits), in Debian's Chromium: every console page, and the screens a
// person meets on the way through a journey (errors shown, a code sent, signed in), on a
// desktop and a phone viewport. WCAG 2.0/2.1/2.2 A and AA rules; any violation fails with
// the rule, the elements and what to fix. axe finds about half of what a person with a
// screen reader would; the journeys in the other files check names, roles and focus.
//
//   bash scripts/build-pkg.sh && node --test tests/browser/accessibility.test.mjs
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertAccessible } from "../support/accessibility.mjs";
import { DESKTOP, PHONE, openPage, startDemo } from "../support/browser.mjs";
import { bank, expectScreen, messages } from "../support/customer_page.mjs";

let baseUrl;
let context;
let demo;

before(async () => {
  demo = await startDemo("vestibule-a11y-");
  ({ baseUrl, context } = demo);
});

after(async () => {
  await demo?.stop();
});

test("the check can fail: an unlabelled field and an image without text are reported", async () => {
  const page = await openPage(context, `${baseUrl}#policies`);
  await page.evaluate(() => {
    const main = document.querySelector("main");
    main.insertAdjacentHTML("beforeend", '<input id="axe-probe" type="text"><img src="data:," id="axe-probe-img">');
  });
  await assert.rejects(assertAccessible(page, "probe"), (e) => {
    assert.match(e.message, /label \(critical\)/);
    assert.match(e.message, /image-alt \(critical\)/);
    return true;
  });
  await page.close();
});

for (const viewport of [DESKTOP, PHONE]) {
  const size = viewport === PHONE ? "phone" : "desktop";

  test(`every console page passes axe on a ${size}`, async () => {
    for (const route of ["policies", "locations", "methods", "what-if", "customer"]) {
      const page = await openPage(context, `${baseUrl}#${route}`, { viewport });
      await assertAccessible(page, `#${route} (${size})`);
      await page.done();
    }
  });
}

test("What If with its result, and the policy form showing an error, pass axe", async () => {
  let page = await openPage(context, `${baseUrl}#what-if`);
  await page.getByLabel("User", { exact: true }).selectOption({ label: "Bob Jones (Customer)" });
  await page.getByLabel("App", { exact: true }).selectOption({ label: "Contoso Shop" });
  await page.getByLabel("IP address").fill("175.45.176.10");
  await page.getByLabel("Country", { exact: true }).selectOption({ label: "North Korea" });
  await page.getByRole("button", { name: "Run What If" }).click();
  await page.getByRole("heading", { name: "Decision: Blocked", exact: true }).waitFor();
  await assertAccessible(page, "What If result");
  await page.done();

  page = await openPage(context, `${baseUrl}#policies`);
  await page.getByRole("button", { name: "New policy" }).click();
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel(/^Policy JSON/);
  const edited = JSON.parse(await json.inputValue());
  edited.conditions.users.bogusField = true;
  await json.fill(JSON.stringify(edited, null, 2));
  await page.getByRole("list", { name: "Problems in this JSON" }).getByText(/bogusField/).first().waitFor();
  await page.getByRole("button", { name: "Save policy" }).click();
  await assertAccessible(page, "policy JSON with a problem");
  await page.getByRole("tab", { name: "Form" }).click();
  await page.getByRole("region", { name: "Users" }).getByText(/unknown field bogusField/).first().waitFor();
  await assertAccessible(page, "policy form with the problem next to its section");
  await page.done();
});

test("the customer app's screens pass axe through a sign-up: an error shown, a code sent, signed in", async () => {
  const page = await openPage(context, `${baseUrl}#customer`, { viewport: PHONE, failOnDialog: true });
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await expectScreen(page, "Create your account");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await bank(page).locator(".field-error:visible").first().waitFor();
  await assertAccessible(page, "sign-up with errors");

  await bank(page).getByLabel("Email address").fill("axe@example.com");
  await bank(page).getByLabel("Display name").fill("Ada Axe");
  const password = bank(page).getByLabel("Password", { exact: true });
  if (await password.count()) await password.fill("Correct-Horse-9");
  const emails = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email");
  while ((await messages(page, "Inbox").count()) <= emails) await new Promise((r) => setTimeout(r, 50));
  await assertAccessible(page, "code screen with a message in the inbox");

  const code = (await messages(page, "Inbox").first().innerText()).match(/\b(\d{6})\b/)?.[1];
  await bank(page).getByLabel("Verification code").fill(code);
  await bank(page).getByRole("button", { name: "Verify" }).click();
  await bank(page).getByRole("heading", { name: /^(Hello, Ada Axe|Add a second way to sign in)$/ }).waitFor();
  await assertAccessible(page, "after the code");
  await page.done();
});
