// The customer side of the demo: the Woodgrove Bank app signing customers up and in with
// the package's `Flow`, the customer's inbox and phone receiving the codes, and a log of
// what the engine decided at each step. The app follows the engine's replies and nothing
// else: which factor comes next, whether MFA is needed, and when tokens exist are the
// engine's answers, never the page's.
import { browserEngine } from "./browser-engine.js";
import { policiesForNoCustomer } from "./directory-scope.js";
import { blockedText, methodsText, quoted, rejectionText } from "./customer-text.js";
import { createDevices } from "./devices.js";
import { localAccountLabel, smsRegionCheck, TRANSFER_CONTEXT } from "./flow-config.js";
import { WORKER_CLIENT_ID, workerEngine, workerUrlFrom } from "./native-client.js";
import { APPS } from "./seed.js";
import { methodEnabled, mfaMethods, policyInput } from "./tenant.js";
import { h, replace } from "./ui.js";
import { blockingPolicies, pushTenant } from "./worker-sync.js";

/** Where the customer signs in from: Conditional Access sees these facts. */
const NETWORKS = [
  { id: "home", label: "Home broadband, United Kingdom (198.51.100.23)", facts: { ipAddress: "198.51.100.23", country: "GB" } },
  { id: "office", label: "Head office network (203.0.113.7)", facts: { ipAddress: "203.0.113.7", country: "GB" } },
  { id: "abroad", label: "Travelling, North Korea (175.45.176.10)", facts: { ipAddress: "175.45.176.10", country: "KP" } },
];
const PAYEES = ["Landlord (Fabrikam Lettings)", "Savings account", "Mum"];
const money = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });
/** Where the Worker's admin credential is kept: this tab only, never in the page's code. */
const TOKEN_KEY = "vestibule-demo.worker-admin-token";
const readToken = () => { try { return globalThis.sessionStorage?.getItem(TOKEN_KEY) ?? ""; } catch { return ""; } };
const keepToken = (t) => { try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch { /* private mode */ } };
/** The engine and network chosen in this tab, so a reload does not quietly switch them back. */
const CHOICES_KEY = "vestibule-demo.customer-choices";
const readChoices = () => { try { return JSON.parse(globalThis.sessionStorage?.getItem(CHOICES_KEY) ?? "{}") ?? {}; } catch { return {}; } };
const keepChoice = (key, value) => { try { sessionStorage.setItem(CHOICES_KEY, JSON.stringify({ ...readChoices(), [key]: value })); } catch { /* private mode */ } };

/** Mounts the page into `root`; `app` is the console's `{ engine, tenant, commit }`. */
export function customerPage(root, app) {
  const vestibule = app.engine;
  const chosen = readChoices();
  let mode = "browser";
  let network = NETWORKS.find((n) => n.id === chosen.network) ?? NETWORKS[0];
  // One screen at a time; `flowId` is the engine's current flow (null between flows).
  let s = { screen: "welcome" };
  let session = null; // the TokenGrant of the signed-in customer
  let balance = 2430.18;
  let receipt = null;

  const screen = h("div", { class: "bank-screen", id: "bank-screen" });
  const inbox = h("section", { class: "device card", "aria-labelledby": "inbox-title", id: "inbox" });
  const phone = h("section", { class: "device card device-phone", "aria-labelledby": "phone-title", id: "phone" });
  const devices = createDevices(inbox, phone);
  const outboxNote = h("p", { class: "callout callout-warning", id: "outbox-note", hidden: true });
  const log = h("ol", { class: "engine-steps", "aria-label": "Engine decisions, newest first", tabindex: "0" });
  const logAnnouncer = h("p", { class: "visually-hidden", "aria-live": "polite", id: "decision-announcer" });
  const modeNote = h("p", { class: "hint", id: "engine-mode-note" });
  const directoryNote = h("p", { class: "hint", id: "directory-note" });
  function renderDirectoryNote() {
    const noOne = policiesForNoCustomer(app.tenant());
    directoryNote.textContent = `Customers who sign up here are not in the console's directory and are in no group${noOne.length
      ? `, so ${quoted(noOne)} ${noOne.length > 1 ? "apply" : "applies"} to none of them` : ""}. What If answers for the directory's people.`;
  }
  renderDirectoryNote();
  const workerUrl = workerUrlFrom();
  // The console's configuration as last accepted by the Worker (null: nothing pushed yet).
  let pushed = null;
  const tokenInput = h("input", { id: "worker-admin-token", name: "worker-admin-token", class: "text-input", type: "password", autocomplete: "off",
    spellcheck: "false", value: readToken(), "aria-describedby": "worker-admin-token-hint",
    onChange: (e) => { keepToken(e.target.value.trim()); pushToWorker("The credential was entered"); } });
  const pushStatus = h("p", { class: "hint", id: "worker-push-status", role: "status" });
  const workerAdmin = h("div", { class: "worker-admin", id: "worker-admin", hidden: true },
    h("div", { class: "field" },
      h("label", { for: "worker-admin-token" }, "The Worker's ADMIN_TOKEN (from .dev.vars)"),
      h("p", { class: "hint", id: "worker-admin-token-hint" },
        `Kept in this tab only (sessionStorage) and sent only to ${workerUrl}, to push this console's Conditional Access policies, named locations, Email and SMS switches, SMS regions, user flow and code length through the Worker's admin API. Pushed when you enter it, when you switch to the Worker and whenever the console saves. Users and groups cannot be pushed.`),
      tokenInput),
    h("button", { type: "button", class: "button secondary", id: "worker-push", onClick: () => pushToWorker("Pushed on request") }, "Push the console's configuration now"),
    pushStatus);

  const onDelivery = (m) => devices.deliver(m);
  const engines = {
    browser: browserEngine({ vestibule, tenant: app.tenant, onDelivery }),
    worker: workerEngine({ baseUrl: workerUrl, onDelivery, onOutboxError: (text) => { outboxNote.textContent = text; outboxNote.hidden = false; } }),
  };
  const engine = () => engines[mode];
  const appId = () => (mode === "worker" ? WORKER_CLIENT_ID : APPS.bank);
  const tenant = () => app.tenant();
  const policyName = (id) => tenant().conditionalAccess.policies.find((p) => p.id === id)?.displayName ?? id;

  // ---- Decisions, in plain words -------------------------------------------------------

  function decide(title, detail, tone = "info") {
    const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    log.querySelector(".engine-step-empty")?.remove();
    log.prepend(h("li", { class: `engine-step engine-step-${tone}` },
      h("p", { class: "engine-step-title" }, h("span", { class: "engine-step-time" }, time), " ", title),
      detail ? h("p", { class: "engine-step-detail" }, detail) : null));
    logAnnouncer.textContent = title;
  }

  /**
   * Asks the engine (evaluate) which policies made this decision, for the sign-in the flow
   * is running: the same user, app, network and methods. In-browser mode only: the Worker
   * keeps its own policies.
   */
  async function policyReasons({ email, userId, satisfied, authContexts = [] }) {
    if (mode !== "browser") return null;
    const users = engine().users;
    const user = userId ? await users.findById(userId) : await users.findByEmail(email);
    if (!user) return null;
    const result = vestibule.evaluate({
      ...policyInput(tenant()),
      signIn: { userId: user.id, appId: appId(), groupIds: user.groups ?? [], authContexts, ...network.facts },
      satisfied, now: Math.floor(Date.now() / 1000),
    });
    if (result.error) return null;
    const named = (outcomes) => result.policies.filter((p) => outcomes.includes(p.result)).map((p) => p.displayName);
    return {
      requiring: named(["failure"]),
      satisfiedBy: named(["success"]),
      reportOnly: named(["reportOnlyFailure", "reportOnlyInterrupted"]),
    };
  }

  /** Who made the Worker's decision, in words: the pushed policies, or the Worker's own. */
  function workerDecider() {
    return pushed
      ? ` by the Worker, deciding with the Conditional Access policies pushed from this console at ${pushed.at}`
      : " by the Worker's own policies (nothing pushed from this console yet)";
  }

  /**
   * For a block for want of a second factor, what the admin can change: the policy that
   * asked for MFA and the method settings that left nothing to finish with.
   */
  async function noFactorWhy(reply) {
    if (reply.reason !== "noUsableSecondFactor") return "";
    const satisfied = s.kind === "stepUp" ? session.methods : [{ method: s.firstFactor ?? "password", at: Math.floor(Date.now() / 1000) }];
    const reasons = await policyReasons({ email: s.email, userId: session?.userId, satisfied, authContexts: s.kind === "stepUp" ? [TRANSFER_CONTEXT.id] : [] });
    const by = reasons?.requiring.length ? `MFA is required by ${quoted(reasons.requiring)}, but ` : "MFA is required, but ";
    if (mode === "worker") return `${by}the Worker has no second factor this account can use: check Email and SMS under Authentication methods and push again. `;
    const t = tenant();
    if (mfaMethods(t).length === 0) {
      const why = t.localAccount.method === "emailOtp" && methodEnabled(t, "Email")
        ? "email is the first factor and SMS is off" : "Email one-time passcode and SMS are both off";
      return `${by}${why} under Authentication methods. `;
    }
    return `${by}this account's registered methods are off under Authentication methods or already used in this sign-in. `;
  }

  function reportOnlyNote(reasons) {
    return reasons?.reportOnly.length
      ? ` Report-only: ${quoted(reasons.reportOnly)} would also ask for a second factor (logged, not enforced).`
      : "";
  }

  // ---- Running steps --------------------------------------------------------------------

  let busy = false;
  async function run(call, input) {
    if (busy) return;
    busy = true;
    screen.setAttribute("aria-busy", "true");
    for (const b of screen.querySelectorAll("button")) b.disabled = true;
    let r;
    try {
      r = await call();
    } finally {
      busy = false;
      screen.removeAttribute("aria-busy");
      for (const b of screen.querySelectorAll("button")) b.disabled = false;
    }
    await handle(r, input);
  }
  const start = (input) => run(() => engine().start({ ...input, ...(mode === "browser" ? { facts: network.facts } : {}) }), input);
  const next = (input) => run(() => engine().next(s.flowId, input), input);

  async function handle(r, input) {
    if (r.error) {
      const what = r.error.code.startsWith("stepUp.") ? "The step-up did not finish" : "The engine refused the step";
      decide(`${what}: ${r.error.message}`, `Error code ${r.error.code}${r.error.target ? ` at ${r.error.target}` : ""}.`, "bad");
      if (r.error.code === "flow.not_found") s.flowId = null;
      showError(r.error.code === "flow.not_found" ? "This step has expired. Start again." : r.error.message);
      return;
    }
    s.flowId = r.flowId;
    const reply = r.reply;
    switch (reply.type) {
      case "started":
        decide(s.kind === "signUp" ? "Sign-up started for a new account." : s.kind === "reset" ? "Password reset started." : "Account found; the engine chooses the first factor.");
        return next({ type: "challenge" });
      case "passwordRequired":
        s.firstFactor = "password";
        decide("First factor: password.", `The tenant's local accounts sign in with ${mode === "browser" || pushed ? localAccountLabel(tenant()) : "the Worker's user flow"}.`);
        return show("password");
      case "codeSent": {
        const where = reply.channel === "sms" ? "by SMS" : "by email";
        decide(`${/^(8|11|18)$/.test(String(reply.codeLength)) ? "An" : "A"} ${reply.codeLength}-digit code was sent ${where} to ${reply.targetLabel}.`, `It is valid for ${Math.round(reply.expiresIn / 60)} minutes; a new one can be asked for after ${reply.interval} seconds.`);
        if (s.kind === "signIn" && s.screen === "welcome") s.firstFactor = "email";
        return show("code", { channel: reply.channel, label: reply.targetLabel, length: reply.codeLength, resend: s.resend ?? input });
      }
      case "credentialRequired":
        return show("signUpPassword");
      case "attributesRequired":
        return show("attributes", { attributes: reply.attributes });
      case "verified":
        if (s.kind === "reset" && !s.passwordSet) {
          decide("Email verified: the customer may now choose a new password.", reply.expiresIn ? `The new password must come within ${Math.round(reply.expiresIn / 60)} minutes.` : null);
          return show("newPassword");
        }
        decide(s.kind === "signUp" && !s.registering ? "Email verified; the account is created. Signing in…" : "Verified. Asking the engine for tokens…",
          s.kind === "signUp" && !s.registering ? "The account exists before any second factor, as in External ID and B2C: the second factor is part of signing in." : null, "ok");
        return next({ type: "redeemContinuation" });
      case "preverified":
        decide("That email address was already verified in this flow, so no new code is needed.", null, "ok");
        return next({ type: "continue" });
      case "resetSubmitted":
        s.passwordSet = true;
        decide("New password accepted.", null, "ok");
        await new Promise((done) => setTimeout(done, mode === "worker" ? (reply.pollInterval ?? 2) * 1000 : 0));
        return next({ type: "pollCompletion" });
      case "resetCompleted":
        decide("Password reset complete. Signing the customer in…", null, "ok");
        return next({ type: "redeemContinuation" });
      case "mfaRequired":
      case "registrationRequired": {
        const satisfied = s.kind === "stepUp" ? session.methods : [{ method: s.firstFactor ?? "password", at: Math.floor(Date.now() / 1000) }];
        const reasons = await policyReasons({ email: s.email, userId: session?.userId, satisfied, authContexts: s.kind === "stepUp" ? [TRANSFER_CONTEXT.id] : [] });
        const by = reasons?.requiring.length ? ` by ${reasons.requiring.length > 1 ? "policies" : "policy"} ${quoted(reasons.requiring)}` : mode === "worker" ? workerDecider() : "";
        const before = s.kind === "stepUp" ? "The session has no second factor yet." : `${s.firstFactor === "email" ? "Email code" : "Password"} accepted.`;
        const what = reply.type === "mfaRequired"
          ? reply.methods.length === 1 ? "The customer has one registered method that can do it." : `The customer picks one of ${reply.methods.length} registered methods.`
          : "No second factor is registered yet, so the customer registers one now (just-in-time registration).";
        decide(`${before} MFA required${by}.`, `${what} No tokens until it is verified.${reportOnlyNote(reasons)}`, "warn");
        s.registering = reply.type === "registrationRequired";
        return show(reply.type === "mfaRequired" ? "mfaChoose" : "register", { methods: reply.methods });
      }
      case "signedIn":
        return signedIn(r.tokens);
      case "blocked": {
        // The Worker's answer names no policy; its sign-in log does, for an admin.
        const token = tokenInput.value.trim();
        const named = reply.reason === "policy" && mode === "worker" && token && s.email
          ? { ...reply, policyNames: await blockingPolicies({ baseUrl: workerUrl, token, email: s.email }) }
          : reply;
        decide(`Blocked: ${blockedText(named, policyName)}`, `${await noFactorWhy(named)}No tokens were issued and the flow is over.`, "bad");
        return show("blocked", { text: blockedText(named, policyName) });
      }
      case "redirect":
        decide(`The engine asks for a web sign-in instead: ${reply.reason}.`, null, "warn");
        return show("blocked", { text: "This sign-in needs to continue in the browser." });
      case "reauthenticationRequired":
        decide("The session is too old for this: the first factor is needed again.", null, "warn");
        return next({ type: "challenge" });
      case "passwordChangeRequired":
        decide("A policy requires a new password before tokens are issued.", null, "warn");
        s.kind = "passwordChange";
        return show("newPassword");
      case "rejected": {
        const regionRefused = reply.rejection.code === "sms_region_blocked";
        const text = rejectionText(reply.rejection, { channel: s.data?.channel ?? input?.channel,
          region: regionRefused && input?.target ? smsRegionCheck(tenant(), input.target).callingCode : undefined,
          email: Boolean(s.data?.methods?.some((m) => m.channel === "email")) });
        decide(`Refused: ${text}`, `Engine rejection \`${reply.rejection.code}\`${r.flowId ? "; the flow goes on." : "; the flow is over."}${regionRefused
          ? " SMS to this calling code is off: opt in under Authentication methods › SMS regions." : ""}`, "bad");
        if (!r.flowId && !["welcome", "signUp", "reset"].includes(s.screen)) {
          return show("blocked", { text, title: "Let's start again" });
        }
        return showError(text, reply.rejection.code);
      }
      case "cancelled":
        decide("Cancelled; nothing was issued.");
        return show("welcome");
      default:
        decide(`Unexpected reply \`${reply.type}\`.`, null, "bad");
    }
  }

  async function signedIn(tokens) {
    const methods = tokens.methods?.map((m) => m.method) ?? [];
    if (s.kind === "stepUp") {
      // The bank's own check, whichever engine answered: no money moves on tokens that do
      // not carry the context.
      if (!(tokens.acrs ?? []).includes(TRANSFER_CONTEXT.id)) {
        decide(`The tokens do not carry acrs ${TRANSFER_CONTEXT.id}, so the bank sent nothing.`, `acrs ${JSON.stringify(tokens.acrs ?? [])}, amr ${tokens.amr.join(", ")}.`, "bad");
        show("home");
        return showError(`The sign-in did not meet “${TRANSFER_CONTEXT.displayName}”; no money was sent.`);
      }
      const reasons = await policyReasons({ userId: tokens.userId, satisfied: tokens.methods, authContexts: [TRANSFER_CONTEXT.id] });
      session = { ...tokens, acrs: tokens.acrs };
      const { amount, payee } = s.transfer;
      balance -= amount;
      receipt = { amount, payee };
      decide(`Step-up done: authentication context ${TRANSFER_CONTEXT.id} granted (amr ${tokens.amr.join(", ")}).`,
        `${reasons?.satisfiedBy.length ? `${quoted(reasons.satisfiedBy)} ${reasons.satisfiedBy.length > 1 ? "are" : "is"} satisfied by the ${methodsText(methods)}. ` : ""}The bank moves the money only with tokens that carry acrs ${TRANSFER_CONTEXT.id}.`, "ok");
      return show("home", { focus: "receipt" });
    }
    const reasons = await policyReasons({ userId: tokens.userId, satisfied: tokens.methods });
    session = tokens;
    receipt = null;
    const why = reasons
      ? reasons.satisfiedBy.length ? `Every policy that applies is satisfied: ${quoted(reasons.satisfiedBy)}.` : "No enforced policy asks for more than the first factor."
      : "";
    decide(`Tokens issued after ${methodsText(methods.length ? methods : tokens.amr)}: amr ${tokens.amr.join(", ")}, acr ${tokens.acr}.`, `${why}${reportOnlyNote(reasons)}`, "ok");
    return show("home");
  }

  // ---- Screens --------------------------------------------------------------------------

  /** Shows a screen and moves focus into it (first field, or its heading). */
  function show(name, data = {}) {
    s = { ...s, screen: name, data };
    render();
    const target = data.focus === "receipt" ? screen.querySelector("#transfer-receipt")
      : name === "home" ? screen.querySelector("h3")
      : screen.querySelector("input:not([type=radio]):not([type=checkbox]), select") ?? screen.querySelector("h3");
    target?.focus();
  }

  /** Where an error belongs: next to the input the rejection is about, else the first one. */
  const FIELD_OF = {
    password_refused: "input[type=password]", invalid_password: "input[type=password]",
    user_not_found: "input[type=email]", user_already_exists: "input[type=email]",
    invalid_code: "#otp-code", code_expired: "#otp-code", code_attempts_exhausted: "#otp-code",
    resend_too_soon: "#otp-code", attribute_validation_failed: "#signup-name", sms_region_blocked: "#register-phone",
  };

  function showError(text, code) {
    const input = FIELD_OF[code] ? screen.querySelector(FIELD_OF[code]) : null;
    const slot = (input && screen.querySelector(`#${input.id}-error`))
      ?? [...screen.querySelectorAll(".field-error[data-for]")].find((el) => !el.parentElement?.closest("[hidden]"));
    if (!slot) return;
    slot.textContent = text;
    slot.hidden = false;
    const target = screen.querySelector(`#${slot.dataset.for}`);
    target?.setAttribute("aria-invalid", "true");
    target?.focus();
  }

  function begin(kind, email, extra = {}) {
    s = { screen: s.screen, kind, email, flowId: null, data: s.data };
    Object.assign(s, extra);
  }

  const errorSlot = (forId) => h("p", { class: "field-error", id: `${forId}-error`, "aria-live": "polite", dataset: { for: forId }, hidden: true });
  const input = (id, label, attrs = {}, hint) => h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    h("input", { id, name: id, class: "text-input", "aria-describedby": [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" "), ...attrs }),
    errorSlot(id));
  const form = (onSubmit, ...children) => h("form", { class: "bank-form", novalidate: true, onSubmit: (e) => {
    e.preventDefault();
    for (const el of screen.querySelectorAll(".field-error")) el.hidden = true;
    for (const el of screen.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    onSubmit(new FormData(e.target));
  } }, ...children);
  const value = (data, key) => String(data.get(key) ?? "").trim();
  const linkButton = (label, onClick) => h("button", { type: "button", class: "link", onClick }, label);
  const heading = (text) => h("h3", { tabindex: "-1", class: "screen-title" }, text);
  const need = (id, text) => { showErrorFor(id, text); return false; };
  function showErrorFor(id, text) {
    const slot = screen.querySelector(`#${id}-error`);
    slot.textContent = text;
    slot.hidden = false;
    screen.querySelector(`#${id}`).setAttribute("aria-invalid", "true");
    screen.querySelector(`#${id}`).focus();
  }
  const emailOk = (email) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);

  const screens = {
    welcome: () => {
      const otp = (mode === "browser" || pushed) && tenant().localAccount.method === "emailOtp";
      return [
        heading("Sign in"),
        h("p", { class: "screen-lede" }, otp ? "Enter your email address and we'll send you a one-time code." : "Enter your email address, then your password."),
        form((d) => {
          const email = value(d, "signin-email");
          if (!emailOk(email)) return need("signin-email", "Enter your email address, like name@example.com.");
          begin("signIn", email);
          return start({ type: "startSignIn", appId: appId(), email });
        }, input("signin-email", "Email address", { type: "email", autocomplete: "username", value: s.email ?? "" }),
        h("button", { type: "submit", class: "button wide" }, "Continue")),
        h("div", { class: "screen-links" },
          h("p", {}, "New to Woodgrove Bank? ", linkButton("Create an account", () => show("signUp"))),
          otp ? null : h("p", {}, linkButton("Forgot your password?", () => show("reset")))),
      ];
    },
    signUp: () => {
      const withPassword = (mode === "worker" && !pushed) || tenant().localAccount.method === "emailPassword";
      return [
        heading("Create your account"),
        h("p", { class: "screen-lede" }, withPassword ? "We'll email you a code to check the address is yours." : "No password needed: you'll sign in with a code sent to your email."),
        form((d) => {
          const email = value(d, "signup-email");
          const displayName = value(d, "signup-name");
          if (!emailOk(email)) return need("signup-email", "Enter your email address, like name@example.com.");
          if (!displayName) return need("signup-name", "Enter the name we should call you.");
          begin("signUp", email);
          return start({ type: "startSignUp", appId: appId(), email, attributes: { displayName },
            ...(withPassword ? { password: String(d.get("signup-password") ?? "") } : {}) });
        },
        input("signup-email", "Email address", { type: "email", autocomplete: "email" }),
        input("signup-name", "Display name", { type: "text", autocomplete: "name" }),
        withPassword ? input("signup-password", "Password", { type: "password", autocomplete: "new-password" },
          "At least 8 characters, with three of: lowercase, capitals, numbers, symbols, letters without case (such as Chinese).") : null,
        h("button", { type: "submit", class: "button wide" }, "Create account")),
        h("div", { class: "screen-links" }, h("p", {}, "Already have an account? ", linkButton("Sign in", () => show("welcome")))),
      ];
    },
    reset: () => [
      heading("Reset your password"),
      h("p", { class: "screen-lede" }, "We'll email you a code, then you choose a new password."),
      form((d) => {
        const email = value(d, "reset-email");
        if (!emailOk(email)) return need("reset-email", "Enter your email address, like name@example.com.");
        begin("reset", email, { firstFactor: "email" });
        return start({ type: "startPasswordReset", appId: appId(), email });
      }, input("reset-email", "Email address", { type: "email", autocomplete: "username", value: s.email ?? "" }),
      h("button", { type: "submit", class: "button wide" }, "Send code")),
      h("div", { class: "screen-links" }, h("p", {}, linkButton("Back to sign in", () => show("welcome")))),
    ],
    password: () => [
      heading("Enter your password"),
      h("p", { class: "screen-lede account-chip" }, s.email),
      form((d) => {
        const password = String(d.get("signin-password") ?? "");
        if (!password) return need("signin-password", "Enter your password.");
        return next({ type: "submitPassword", password });
      }, input("signin-password", "Password", { type: "password", autocomplete: "current-password" }),
      h("button", { type: "submit", class: "button wide" }, "Sign in")),
      h("div", { class: "screen-links" },
        h("p", {}, linkButton("Forgot your password?", () => show("reset"))),
        h("p", {}, linkButton("Use another account", () => show("welcome")))),
    ],
    signUpPassword: () => [
      heading("Create a password"),
      form((d) => next({ type: "submitPassword", password: String(d.get("signup-password2") ?? "") }),
        input("signup-password2", "Password", { type: "password", autocomplete: "new-password" },
          "At least 8 characters, with three of: lowercase, capitals, numbers, symbols, letters without case (such as Chinese)."),
        h("button", { type: "submit", class: "button wide" }, "Continue")),
    ],
    attributes: ({ attributes }) => [
      heading("A few details"),
      form((d) => next({ type: "submitAttributes", attributes: Object.fromEntries(attributes.map((a) => [a.name, value(d, `attr-${a.name}`)])) }),
        attributes.map((a) => input(`attr-${a.name}`, a.label ?? a.name, { type: "text" })),
        h("button", { type: "submit", class: "button wide" }, "Continue")),
    ],
    newPassword: () => [
      heading(s.kind === "passwordChange" ? "Choose a new password" : "Create a new password"),
      h("p", { class: "screen-lede account-chip" }, s.email ?? session?.email),
      form((d) => {
        const password = String(d.get("new-password") ?? "");
        if (!password) return need("new-password", "Enter a new password.");
        return next({ type: "submitPassword", password });
      }, input("new-password", "New password", { type: "password", autocomplete: "new-password" },
        "At least 8 characters, with three of: lowercase, capitals, numbers, symbols, letters without case (such as Chinese)."),
      h("button", { type: "submit", class: "button wide" }, "Save password")),
    ],
    code: ({ channel, label, length, resend }) => [
      heading(channel === "sms" ? "Check your phone" : "Check your email"),
      h("p", { class: "screen-lede" }, `We sent a ${length}-digit code to `, h("strong", {}, label), "."),
      form((d) => {
        const code = value(d, "otp-code").replace(/\s+/g, "");
        if (!/^\d+$/.test(code)) return need("otp-code", `Enter the ${length}-digit code.`);
        return next({ type: "submitCode", code });
      }, input("otp-code", "Verification code", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", maxlength: String(length + 2), class: "text-input code-input" }),
      h("button", { type: "submit", class: "button wide" }, "Verify")),
      h("div", { class: "screen-links" },
        resend ? h("p", {}, linkButton("Send a new code", () => { s.resend = resend; next(resend); })) : null,
        h("p", {}, linkButton("Cancel", () => cancel()))),
    ],
    mfaChoose: ({ methods }) => [
      heading("Verify it's you"),
      h("p", { class: "screen-lede" }, "For your security, Woodgrove Bank needs a second step. Where should we send a code?"),
      form((d) => {
        const id = String(d.get("mfa-method") ?? "");
        s.resend = { type: "selectMethod", id };
        return next({ type: "selectMethod", id });
      }, h("fieldset", { class: "choices method-choices" },
        h("legend", {}, "Send a code to"),
        methods.map((m, i) => h("div", { class: "choice" },
          h("input", { type: "radio", name: "mfa-method", id: `mfa-${i}`, value: m.id, checked: i === 0 }),
          h("label", { for: `mfa-${i}` }, `${m.channel === "sms" ? "Text message to" : "Email to"} ${m.loginHint}`)))),
      h("button", { type: "submit", class: "button wide" }, "Send code")),
      h("div", { class: "screen-links" }, h("p", {}, linkButton("Cancel", () => cancel()))),
    ],
    register: ({ methods }) => {
      const sms = methods.find((m) => m.channel === "sms");
      const email = methods.find((m) => m.channel === "email");
      let choice = sms ? "sms" : "email";
      const phoneField = input("register-phone", "Mobile phone number", { type: "tel", autocomplete: "tel", placeholder: "+44 7700 900123" },
        "In international format, starting with + and the country code.");
      const emailField = input("register-email", "Email address for codes", { type: "email", autocomplete: "email", value: email?.loginHint ?? "" });
      const sync = () => { phoneField.hidden = choice !== "sms"; emailField.hidden = choice !== "email"; };
      sync();
      return [
        heading("Add a second way to sign in"),
        h("p", { class: "screen-lede" }, "Woodgrove Bank asks for a second step when you sign in. Add a phone or email to receive codes."),
        form((d) => {
          if (choice === "sms") {
            const number = value(d, "register-phone").replace(/[\s\-().]/g, "");
            if (!/^\+\d{6,15}$/.test(number)) return need("register-phone", "Enter the number in international format, starting with + and the country code, e.g. +44 7700 900123.");
            if (mode === "browser") {
              const region = smsRegionCheck(tenant(), number);
              if (!region.allowed) {
                decide(`Phone number refused before registration: SMS to +${region.callingCode} is off for this tenant.`,
                  region.excluded ? "The admin blocked this calling code under Authentication methods › SMS regions." : "This calling code needs an opt-in under Authentication methods › SMS regions (telephony fraud protection).", "bad");
                return need("register-phone", `We can't send text messages to +${region.callingCode} numbers. Use another number${email ? " or choose email" : ""}.`);
              }
            }
            s.resend = { type: "registerMethod", channel: "sms", target: number };
            return next({ type: "registerMethod", channel: "sms", target: number });
          }
          const target = value(d, "register-email");
          if (!emailOk(target)) return need("register-email", "Enter a valid email address.");
          s.resend = { type: "registerMethod", channel: "email", target };
          return next({ type: "registerMethod", channel: "email", target });
        },
        h("fieldset", { class: "choices method-choices" },
          h("legend", {}, "Receive codes by"),
          [sms, email].filter(Boolean).map((m) => h("div", { class: "choice" },
            h("input", { type: "radio", name: "register-channel", id: `register-channel-${m.channel}`, value: m.channel, checked: m.channel === choice,
              onChange: () => { choice = m.channel; sync(); } }),
            h("label", { for: `register-channel-${m.channel}` }, m.channel === "sms" ? "Text message (SMS)" : "Email")))),
        phoneField, emailField,
        h("button", { type: "submit", class: "button wide" }, "Send code")),
        h("div", { class: "screen-links" }, h("p", {}, linkButton("Cancel", () => cancel()))),
      ];
    },
    blocked: ({ text, title }) => [
      heading(title ?? "You can't sign in right now"),
      h("p", { class: "callout callout-danger", role: "status" }, text),
      h("button", { type: "button", class: "button wide", onClick: () => show(session ? "home" : "welcome") }, session ? "Back to your accounts" : "Back to sign in"),
    ],
    home: () => homeScreen(),
  };

  function cancel() {
    if (s.flowId) engine().next(s.flowId, { type: "cancel" });
    decide("Cancelled by the customer; nothing was issued.");
    s.flowId = null;
    show(session && s.kind === "stepUp" ? "home" : "welcome");
  }

  function homeScreen() {
    const t = session;
    const name = t.displayName ?? t.email;
    const stepUpNote = h("p", { class: "field-error", id: "transfer-amount-error", "aria-live": "polite", dataset: { for: "transfer-amount" }, hidden: true });
    return [
      heading(`Hello, ${name}`),
      h("div", { class: "account-card" },
        h("p", { class: "account-label" }, "Everyday account •••• 4821"),
        h("p", { class: "account-balance" }, money.format(balance))),
      receipt ? h("p", { class: "callout transfer-receipt", id: "transfer-receipt", role: "status", tabindex: "-1" },
        `Sent ${money.format(receipt.amount)} to ${receipt.payee}.`) : null,
      h("h4", {}, "Transfer money"),
      form((d) => {
        const amount = Number(value(d, "transfer-amount").replace(/[£,]/g, ""));
        if (!(amount > 0)) return need("transfer-amount", "Enter an amount above £0.");
        if (amount > balance) return need("transfer-amount", `You can send up to ${money.format(balance)}.`);
        if (mode === "worker") {
          // Opened now, inside the person's click, or the browser blocks it; the Worker's
          // address follows once the request is ready.
          const popup = window.open("", "vestibule-step-up", "popup,width=520,height=760");
          if (!popup) return need("transfer-amount", "Allow pop-ups for this page: the Worker's sign-in for transfers opens in a window.");
          s = { ...s, kind: "stepUp", flowId: null, transfer: { amount, payee: value(d, "transfer-payee") }, resend: null };
          decide(`Transfer asks for authentication context ${TRANSFER_CONTEXT.id} (${TRANSFER_CONTEXT.displayName}): continue in the Worker's sign-in window.`,
            `Native authentication (V1) has no step-up call, so the bank runs the Worker's OpenID Connect sign-in: an authorization code request with PKCE and acr_values=${TRANSFER_CONTEXT.id}. The native sign-in left no session at the Worker, so its pages ask for the password again, then what Conditional Access requires for ${TRANSFER_CONTEXT.id}. Codes still arrive in the inbox and phone here.`);
          return run(() => engine().stepUp({ popup, session, authContexts: [TRANSFER_CONTEXT.id] }), { type: "stepUp" });
        }
        s = { ...s, kind: "stepUp", flowId: null, transfer: { amount, payee: value(d, "transfer-payee") }, resend: null };
        decide(`Transfer asks for authentication context ${TRANSFER_CONTEXT.id} (${TRANSFER_CONTEXT.displayName}).`,
          `Step-up with the session's methods: ${methodsText(t.methods.map((m) => m.method))}. Only what is missing is asked for.`);
        return start({ type: "startStepUp", appId: appId(), session: { userId: t.userId, methods: t.methods }, authContexts: [TRANSFER_CONTEXT.id] });
      },
      h("div", { class: "field" },
        h("label", { for: "transfer-payee" }, "To"),
        h("select", { id: "transfer-payee", name: "transfer-payee" }, PAYEES.map((p) => h("option", { value: p }, p)))),
      h("div", { class: "field" },
        h("label", { for: "transfer-amount" }, "Amount (£)"),
        h("p", { class: "hint", id: "transfer-amount-hint" }, `Transfers need the “${TRANSFER_CONTEXT.displayName}” context (${TRANSFER_CONTEXT.id}).`),
        h("input", { id: "transfer-amount", name: "transfer-amount", class: "text-input", type: "text", inputmode: "decimal", value: "250.00",
          "aria-describedby": "transfer-amount-hint transfer-amount-error" }),
        stepUpNote),
      h("button", { type: "submit", class: "button wide" }, "Transfer money")),
      claimsPanel(t),
      h("button", { type: "button", class: "button secondary wide", onClick: signOut }, "Sign out"),
    ];
  }

  function claimsPanel(t) {
    const when = new Date(t.authTime * 1000);
    const rows = [
      ["sub", t.userId],
      ["email", t.email],
      ["name", t.displayName ?? "—"],
      ["amr", JSON.stringify(t.amr)],
      ["acr", JSON.stringify(t.acr)],
      ["acrs", JSON.stringify(t.acrs ?? [])],
      ["auth_time", `${t.authTime} (${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })})`],
    ];
    return h("section", { class: "claims", "aria-labelledby": "claims-title" },
      h("h4", { id: "claims-title" }, "Token claims"),
      h("p", { class: "hint" }, mode === "browser"
        ? "What the engine's token grant says. It exists only once every factor Conditional Access required was verified."
        : "Read from the Worker's ID token."),
      h("dl", { class: "claims-list" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { dataset: { claim: k } }, v)])));
  }

  function signOut() {
    session = null;
    receipt = null;
    s = { screen: "welcome" };
    decide("Signed out: the app forgot the tokens.");
    show("welcome");
  }

  function render() {
    const build = screens[s.screen] ?? screens.welcome;
    replace(screen, h("div", { class: "screen", dataset: { screen: s.screen } }, build(s.data ?? {})));
  }

  // ---- Page frame ------------------------------------------------------------------------

  /**
   * Pushes the console's configuration to the Worker (worker-sync.js) when in Worker mode
   * and a credential was entered. `why` says what triggered it, for the log.
   */
  let pushing = Promise.resolve();
  function pushToWorker(why) {
    if (mode !== "worker") return pushing;
    const token = tokenInput.value.trim();
    if (!token) {
      pushed = null;
      pushStatus.textContent = "Nothing pushed: enter the Worker's ADMIN_TOKEN to make it decide with this console's policies. Until then it uses its own.";
      return pushing;
    }
    pushing = pushing.then(async () => {
      pushStatus.textContent = `Pushing the console's configuration to ${workerUrl}…`;
      const r = await pushTenant({ baseUrl: workerUrl, token, tenant: tenant() });
      if (r.ok) {
        pushed = { at: new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) };
        const what = `${r.summary.policies} Conditional Access policies, ${r.summary.namedLocations} named locations, the Email and SMS switches, the SMS regions, the user flow's sign-in method and attributes, and the code length`;
        const noOne = r.summary.appliesToNoOne;
        const notPushed = `Users and groups are not pushed (the Worker's admin API cannot create them; its customers are in no group)${noOne.length ? `, so ${quoted(noOne)} ${noOne.length > 1 ? "apply" : "applies"} to no one on the Worker` : ""}.`;
        pushStatus.textContent = `Pushed at ${pushed.at}: ${what}. ${notPushed} The Worker decides with them from its next step.`;
        decide(`${why}: the Worker now has this console's configuration.`, `${what}, through its admin API. ${notPushed}`, "ok");
      } else {
        pushed = null;
        const e = r.error;
        const text = `The Worker refused the push at “${e.step}”: ${e.code}: ${e.message}${e.target ? ` (at ${e.target})` : ""}.`;
        // The page sends the header itself: what the person can fix is the token.
        const advice = e.status === 401 ? " Copy ADMIN_TOKEN from .dev.vars again." : "";
        pushStatus.textContent = `${text} It keeps deciding with ${e.kept}.${advice}`;
        decide("The Worker refused the configuration.", text, "bad");
      }
      if (["welcome", "signUp"].includes(s.screen) && !screen.contains(document.activeElement)) render();
    }).catch((e) => {
      // A failure here must not stop every later push (the chain would stay rejected).
      pushed = null;
      pushStatus.textContent = `The push stopped on an error in this page: ${e?.message ?? e}.`;
    });
    return pushing;
  }

  function setMode(next) {
    mode = next;
    keepChoice("mode", next);
    session = null;
    s = { screen: "welcome" };
    outboxNote.hidden = true;
    workerAdmin.hidden = mode !== "worker";
    const networkSelect = root.querySelector("#customer-network");
    if (networkSelect) networkSelect.disabled = mode === "worker";
    modeNote.textContent = mode === "worker"
      ? `Every step is an HTTP call to the Worker at ${workerUrl} (native authentication API, client ${WORKER_CLIENT_ID}); it keeps its own customer accounts and, once pushed, decides with this console's policies and methods. Start it with bash scripts/dev.sh. Codes are read from its dev outbox. A transfer steps up through the Worker's OpenID Connect sign-in in a pop-up window, since native authentication has no call for it.`
      : "The engine runs in this page on WebAssembly; it follows the policies and methods set in this console. Customer accounts stay in this browser.";
    decide(mode === "worker" ? `Engine: local Worker at ${workerUrl}.` : "Engine: in this browser (WebAssembly).");
    render();
    if (mode === "worker") pushToWorker("Switched to the Worker");
  }

  replace(root,
    h("div", { class: "page-head" },
      h("div", {},
        h("h2", { id: "customer-title", tabindex: "-1" }, "Customer app"),
        h("p", { class: "lede" }, "Woodgrove Bank signing its customers up and in. Codes arrive in the customer's inbox and phone next to the app; what the engine decided at each step is explained underneath."))),
    h("section", { class: "card customer-controls", "aria-label": "Demo settings" },
      h("fieldset", { class: "choices engine-choice" },
        h("legend", {}, "Engine"),
        h("div", { class: "choice" },
          h("input", { type: "radio", name: "engine-mode", id: "engine-browser", value: "browser", checked: chosen.mode !== "worker", onChange: () => setMode("browser") }),
          h("label", { for: "engine-browser" }, "In this browser")),
        h("div", { class: "choice" },
          h("input", { type: "radio", name: "engine-mode", id: "engine-worker", value: "worker", checked: chosen.mode === "worker", onChange: () => setMode("worker") }),
          h("label", { for: "engine-worker" }, `Local Worker (${workerUrl})`))),
      h("div", { class: "field network-field" },
        h("label", { for: "customer-network" }, "Customer's network"),
        h("p", { class: "hint", id: "customer-network-hint" }, "In this browser only: the Worker sees the real request."),
        h("select", { id: "customer-network", "aria-describedby": "customer-network-hint", disabled: chosen.mode === "worker", onChange: (e) => {
          network = NETWORKS.find((n) => n.id === e.target.value) ?? NETWORKS[0];
          keepChoice("network", network.id);
          decide(`The customer is now on: ${network.label}.`, "Conditional Access sees this IP address and country at the next sign-in.");
        } }, NETWORKS.map((n) => h("option", { value: n.id, selected: n.id === network.id }, n.label)))),
      modeNote, directoryNote, workerAdmin),
    h("div", { class: "customer-layout" },
      h("section", { class: "bank-app", "aria-labelledby": "bank-name" },
        h("div", { class: "bank-bar" },
          h("span", { class: "bank-logo", "aria-hidden": "true" }),
          h("p", { class: "bank-name", id: "bank-name" }, "Woodgrove Bank")),
        screen),
      h("div", { class: "customer-side" },
        h("div", { class: "devices" }, inbox, phone),
        outboxNote,
        h("section", { class: "card engine-decisions", "aria-labelledby": "decisions-title" },
          h("h3", { id: "decisions-title" }, "What the engine decided"),
          log, logAnnouncer))));
  root.querySelector(".bank-logo").innerHTML = '<svg viewBox="0 0 32 32" focusable="false"><rect width="32" height="32" rx="8" fill="#0b6e4f"/><path d="M7 11l4 11 5-9 5 9 4-11" fill="none" stroke="#fff" stroke-width="2.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  log.append(h("li", { class: "engine-step-empty" }, "Nothing yet: sign up or sign in to see each decision."));
  setMode(chosen.mode === "worker" ? "worker" : "browser");
  log.replaceChildren(h("li", { class: "engine-step-empty" }, "Nothing yet: sign up or sign in to see each decision."));

  return {
    /** The tenant changed (the admin saved something): the next step follows it. */
    refresh() {
      renderDirectoryNote();
      pushToWorker("The console saved");
      if (["welcome", "signUp"].includes(s.screen) && !root.contains(document.activeElement)) render();
    },
  };
}
