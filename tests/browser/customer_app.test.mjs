// The customer app in a real browser (Debian's Chromium driven by playwright-core), served by
// scripts/serve-www.mjs: Woodgrove Bank signing customers up and in with the package's Flow
// running in the page. Codes are read from the on-page inbox and phone, exactly as a person
// would; assertions are on what a person sees (text next to inputs, headings, token claims)
// and on what assistive technology is told (roles and names). Screenshots go to
// test-output/screenshots/.
//
//   bash scripts/build-pkg.sh && node --test tests/browser/
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DESKTOP, PHONE, openPage, startDemo, textOf as waitText } from "../support/browser.mjs";
import { bank, decisions, device, expectScreen, messages } from "../support/customer_page.mjs";

let baseUrl;
let context;
let demo;

before(async () => {
  demo = await startDemo("vestibule-customer-");
  ({ baseUrl, context } = demo);
});

after(async () => {
  await demo?.stop();
});

/** A fresh page on the seeded tenant, with no customer accounts; page errors and dialogs fail the journey. */
function openDemo(route = "customer", viewport = DESKTOP) {
  return openPage(context, `${baseUrl}#${route}`, { viewport, failOnDialog: true });
}

/** `textOf` with this file's 10 s patience (flows take a few steps). */
const textOf = (locator, pattern, timeout = 10_000) => waitText(locator, pattern, timeout);

/** The error shown next to the input labelled `label` (tied by aria-describedby). */
async function errorNextTo(page, label, pattern) {
  const input = bank(page).getByLabel(label, { exact: true });
  await textOf(bank(page).locator(".field-error:visible"), pattern);
  assert.equal(await input.getAttribute("aria-invalid"), "true", `${label} is not marked invalid`);
  const described = (await input.getAttribute("aria-describedby")).split(" ");
  const errorId = await bank(page).locator(".field-error:visible").first().getAttribute("id");
  assert.ok(described.includes(errorId), `${label} is not described by its error`);
}

/**
 * Reads the code from the newest message on a device after `count` messages were there, as
 * a person would: the message says what it is for and where it went.
 */
async function codeFrom(page, name, count, purpose) {
  const list = messages(page, name);
  const end = Date.now() + 10_000;
  while ((await list.count()) <= count) {
    if (Date.now() > end) assert.fail(`no new message on the ${name}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const text = await list.first().innerText();
  if (purpose) assert.match(text, purpose);
  const code = text.match(/\b(\d{6})\b/)?.[1];
  assert.ok(code, `no code in ${JSON.stringify(text)}`);
  return code;
}

async function enterCode(page, code) {
  await bank(page).getByLabel("Verification code").fill(code);
  await bank(page).getByRole("button", { name: "Verify" }).click();
}

const claim = (page, name) => bank(page).locator(`dd[data-claim="${name}"]`).innerText();

/** Signs a new customer up and registers a phone for SMS codes; ends signed in. */
async function signUpWithSms(page, { email, name, password, phone }) {
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await expectScreen(page, "Create your account");
  await bank(page).getByLabel("Email address").fill(email);
  await bank(page).getByLabel("Display name").fill(name);
  if (password) await bank(page).getByLabel("Password", { exact: true }).fill(password);
  const emails = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", emails, /Verify your email address/));
  await expectScreen(page, "Add a second way to sign in");
  await bank(page).getByRole("radio", { name: "Text message (SMS)" }).check();
  await bank(page).getByLabel("Mobile phone number").fill(phone);
  const texts = await messages(page, "Phone").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your phone");
  await enterCode(page, await codeFrom(page, "Phone", texts, /Confirm this is yours/));
  await expectScreen(page, `Hello, ${name}`);
}

async function signOut(page) {
  await bank(page).getByRole("button", { name: "Sign out" }).click();
  await expectScreen(page, "Sign in");
}

async function signInWithPassword(page, email, password) {
  await bank(page).getByLabel("Email address").fill(email);
  await bank(page).getByRole("button", { name: "Continue" }).click();
  await expectScreen(page, "Enter your password");
  await bank(page).getByLabel("Password", { exact: true }).fill(password);
  await bank(page).getByRole("button", { name: "Sign in" }).click();
}

test("sign-up with SMS registration: weak password and opt-in region refused next to the input, tokens only after the phone", async () => {
  const page = await openDemo();
  await expectScreen(page, "Sign in");
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await bank(page).getByLabel("Email address").fill("zoe@example.com");
  await bank(page).getByLabel("Display name").fill("Zoe Lee");
  await bank(page).getByLabel("Password", { exact: true }).fill("password");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await errorNextTo(page, "Password", /^Choose a stronger password\. Use at least three of/);

  await bank(page).getByLabel("Password", { exact: true }).fill("Correct-Horse-9");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email");
  const code = await codeFrom(page, "Inbox", 0, /Verify your email address[\s\S]*To z\*+e@/);
  await enterCode(page, code);

  // The account exists, but a second factor is required before any token.
  await expectScreen(page, "Add a second way to sign in");
  await textOf(decisions(page), /MFA required by policy “Require MFA for the banking app”/);
  assert.equal(await bank(page).getByRole("heading", { name: "Token claims" }).count(), 0);

  // Nigeria (+234) needs an SMS opt-in the seeded tenant does not have.
  await bank(page).getByRole("radio", { name: "Text message (SMS)" }).check();
  await bank(page).getByLabel("Mobile phone number").fill("+234 803 123 4567");
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await errorNextTo(page, "Mobile phone number", /can't send text messages to \+234 numbers/);
  assert.equal(await messages(page, "Phone").count(), 0, "no SMS was sent to a refused region");

  await bank(page).getByLabel("Mobile phone number").fill("+44 7700 900123");
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your phone");
  const sms = await codeFrom(page, "Phone", 0, /To \+4\*+23[\s\S]*Confirm this is yours/);
  await enterCode(page, sms === "000000" ? "111111" : "000000");
  await errorNextTo(page, "Verification code", /^That code isn't right\. 4 tries left/);
  await enterCode(page, sms);

  await expectScreen(page, "Hello, Zoe Lee");
  assert.deepEqual(JSON.parse(await claim(page, "amr")).sort(), ["mfa", "pwd", "sms"]);
  assert.equal(JSON.parse(await claim(page, "acr")), "2");
  assert.match(await claim(page, "auth_time"), /^\d{10} \(/);
  await textOf(decisions(page), /Tokens issued after password and SMS code: amr pwd, sms, mfa, acr 2/);
  await page.done("customer-signup-sms");
});

test("password sign-in with email OTP as the second factor", async () => {
  const page = await openDemo();
  // Sign up, registering the sign-up email as the second factor (already verified: no code).
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await bank(page).getByLabel("Email address").fill("amy@example.com");
  await bank(page).getByLabel("Display name").fill("Amy Ng");
  await bank(page).getByLabel("Password", { exact: true }).fill("Correct-Horse-9");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await enterCode(page, await codeFrom(page, "Inbox", 0));
  await expectScreen(page, "Add a second way to sign in");
  await bank(page).getByRole("radio", { name: "Email" }).check();
  assert.equal(await bank(page).getByLabel("Email address for codes").inputValue(), "amy@example.com");
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Hello, Amy Ng");
  await textOf(decisions(page), /already verified in this flow/);
  await signOut(page);

  // Nobody by that name.
  await bank(page).getByLabel("Email address").fill("nobody@example.com");
  await bank(page).getByRole("button", { name: "Continue" }).click();
  await errorNextTo(page, "Email address", /couldn't find an account with that email address/);

  // Wrong password, then the right one: MFA by email, then tokens.
  await signInWithPassword(page, "amy@example.com", "wrong-password");
  await errorNextTo(page, "Password", /^That password isn't right/);
  await bank(page).getByLabel("Password", { exact: true }).fill("Correct-Horse-9");
  await bank(page).getByRole("button", { name: "Sign in" }).click();
  await expectScreen(page, "Verify it's you");
  await textOf(decisions(page), /Password accepted\. MFA required by policy “Require MFA for the banking app”/);
  assert.equal(await bank(page).getByRole("heading", { name: "Token claims" }).count(), 0, "no tokens after the password alone");
  const inbox = await messages(page, "Inbox").count();
  await bank(page).getByRole("radio", { name: /^Email to a\*+y@/ }).check();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", inbox, /Your security code \(second step\)/));
  await expectScreen(page, "Hello, Amy Ng");
  assert.deepEqual(JSON.parse(await claim(page, "amr")).sort(), ["mfa", "otp", "pwd"]);
  assert.equal(JSON.parse(await claim(page, "acr")), "2");
  await page.done("customer-signin-email-mfa");
});

test("an email one-time passcode account (set in the admin console) with SMS as its second factor", async () => {
  const page = await openDemo("methods");
  await page.getByRole("radio", { name: /^Email with one-time passcode/ }).check();
  await textOf(page.getByRole("status").filter({ hasText: "sign in" }), /one-time passcode/);
  await page.getByRole("link", { name: "Customer app" }).click();
  await textOf(bank(page), /we'll send you a one-time code/);

  // Sign-up asks for no password; registration offers only SMS (email is the first factor).
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  assert.equal(await bank(page).getByLabel("Password", { exact: true }).count(), 0);
  await bank(page).getByLabel("Email address").fill("kai@example.com");
  await bank(page).getByLabel("Display name").fill("Kai Otp");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await enterCode(page, await codeFrom(page, "Inbox", 0));
  await expectScreen(page, "Add a second way to sign in");
  assert.equal(await bank(page).getByRole("radio", { name: "Email" }).count(), 0, "email can't be the second factor of an email-code account");
  // A UK mobile: the customer is on a UK network, so no CAPTCHA is asked before the SMS
  // (a +1 number from there is "fraud suspected", and the in-browser engine redirects).
  await bank(page).getByLabel("Mobile phone number").fill("+447700900123");
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await enterCode(page, await codeFrom(page, "Phone", 0));
  await expectScreen(page, "Hello, Kai Otp");
  await signOut(page);

  // Sign-in: email code first, then SMS.
  await bank(page).getByLabel("Email address").fill("kai@example.com");
  const inbox = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Continue" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", inbox, /Your sign-in code/));
  await expectScreen(page, "Verify it's you");
  await textOf(decisions(page), /Email code accepted\. MFA required by policy “Require MFA for the banking app”/);
  const texts = await messages(page, "Phone").count();
  await bank(page).getByRole("radio", { name: /^Text message to / }).check();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await enterCode(page, await codeFrom(page, "Phone", texts, /Your security code/));
  await expectScreen(page, "Hello, Kai Otp");
  assert.deepEqual(JSON.parse(await claim(page, "amr")).sort(), ["mfa", "otp", "sms"]);
  await page.done("customer-otp-sms");
});

test("step-up: a password-only session is asked for the second factor before a transfer", async () => {
  const page = await openDemo();
  await signUpWithSms(page, { email: "sam@example.com", name: "Sam Poe", password: "Correct-Horse-9", phone: "+447700900456" });
  await signOut(page);

  // The admin turns the banking app's MFA policy off: a password is enough to sign in.
  await page.getByRole("link", { name: "Policies" }).click();
  await page.getByRole("list", { name: "Policies" }).getByRole("button", { name: "Require MFA for the banking app" }).click();
  await page.getByRole("radio", { name: /^Off/ }).check();
  await page.getByRole("button", { name: "Save policy" }).click();
  await textOf(page.getByRole("status").filter({ hasText: "Saved" }), /^Saved “Require MFA for the banking app”\.$/);
  await page.getByRole("link", { name: "Customer app" }).click();

  await signInWithPassword(page, "sam@example.com", "Correct-Horse-9");
  await expectScreen(page, "Hello, Sam Poe");
  assert.deepEqual(JSON.parse(await claim(page, "amr")), ["pwd"]);
  assert.equal(JSON.parse(await claim(page, "acr")), "1");

  // The transfer needs authentication context c1, which requires MFA: only the SMS is asked for.
  await bank(page).getByLabel("To", { exact: true }).selectOption({ label: "Landlord (Fabrikam Lettings)" });
  await bank(page).getByLabel("Amount (£)").fill("250");
  await bank(page).getByRole("button", { name: "Transfer money" }).click();
  await expectScreen(page, "Verify it's you");
  await textOf(decisions(page), /The session has no second factor yet\. MFA required by policy “Require MFA for high-value transfers”/);
  const texts = await messages(page, "Phone").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your phone");
  await enterCode(page, await codeFrom(page, "Phone", texts, /Your security code/));

  await expectScreen(page, "Hello, Sam Poe");
  await textOf(bank(page).getByRole("status"), /^Sent £250\.00 to Landlord \(Fabrikam Lettings\)\.$/);
  assert.deepEqual(JSON.parse(await claim(page, "acrs")), ["c1"]);
  assert.deepEqual(JSON.parse(await claim(page, "amr")).sort(), ["mfa", "pwd", "sms"]);
  await textOf(decisions(page), /Step-up done: authentication context c1 granted/);
  await page.done("customer-step-up");
});

test("password reset: code by email, weak password refused with the reason, then MFA and the new password works", async () => {
  const page = await openDemo();
  await signUpWithSms(page, { email: "rae@example.com", name: "Rae Kim", password: "Correct-Horse-9", phone: "+447700900789" });
  await signOut(page);

  await bank(page).getByRole("button", { name: "Forgot your password?" }).click();
  await expectScreen(page, "Reset your password");
  await bank(page).getByLabel("Email address").fill("rae@example.com");
  const inbox = await messages(page, "Inbox").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await expectScreen(page, "Check your email");
  await enterCode(page, await codeFrom(page, "Inbox", inbox, /Reset your password/));
  await expectScreen(page, "Create a new password");
  await bank(page).getByLabel("New password").fill("short");
  await bank(page).getByRole("button", { name: "Save password" }).click();
  await errorNextTo(page, "New password", /^Choose a stronger password\. Use at least 8 characters\.$/);
  await bank(page).getByLabel("New password").fill("New-Battery-77");
  await bank(page).getByRole("button", { name: "Save password" }).click();

  // Signed in by the reset, the bank's policy still wants a second factor: SMS.
  await expectScreen(page, "Verify it's you");
  let texts = await messages(page, "Phone").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await enterCode(page, await codeFrom(page, "Phone", texts));
  await expectScreen(page, "Hello, Rae Kim");
  await signOut(page);

  await signInWithPassword(page, "rae@example.com", "Correct-Horse-9");
  await errorNextTo(page, "Password", /^That password isn't right/);
  await bank(page).getByLabel("Password", { exact: true }).fill("New-Battery-77");
  await bank(page).getByRole("button", { name: "Sign in" }).click();
  await expectScreen(page, "Verify it's you");
  texts = await messages(page, "Phone").count();
  await bank(page).getByRole("button", { name: "Send code" }).click();
  await enterCode(page, await codeFrom(page, "Phone", texts));
  await expectScreen(page, "Hello, Rae Kim");
  await page.done("customer-password-reset");
});

test("the customer app on a phone: labelled, no sideways scrolling, new codes announced politely", async () => {
  const page = await openDemo("customer", PHONE);
  await bank(page).getByRole("button", { name: "Create an account" }).click();
  await bank(page).getByLabel("Email address").fill("lea@example.com");
  await bank(page).getByLabel("Display name").fill("Léa");
  await bank(page).getByLabel("Password", { exact: true }).fill("Correct-Horse-9");
  await bank(page).getByRole("button", { name: "Create account" }).click();
  await expectScreen(page, "Check your email");
  await textOf(page.locator("#devices-announcer"), /^New email from Woodgrove Bank: Verify your email address[\s\S]*sent to l\*+a@/);
  assert.equal(await page.locator("#devices-announcer").getAttribute("aria-live"), "polite");
  const report = await page.evaluate(() => {
    const visible = (el) => el.getClientRects().length > 0;
    return {
      unlabelled: [...document.querySelectorAll("#customer input, #customer select, #customer button")].filter(visible)
        .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent.trim())))
        .map((el) => el.outerHTML.slice(0, 80)),
      overflow: document.documentElement.scrollWidth - window.innerWidth,
    };
  });
  assert.deepEqual(report.unlabelled, []);
  assert.ok(report.overflow <= 0, `the customer app scrolls sideways by ${report.overflow}px`);
  await page.done("phone-customer-code");
});
