// Authentication settings: which second factors exist (the Graph authenticationMethodsPolicy
// Email and Sms configurations), how local accounts sign in first, and which SMS calling
// codes that are off by default the tenant opts in to. Every change is saved at once.
import { OPT_IN_CALLING_CODES, OPT_IN_EXAMPLES } from "./countries.js";
import { METHODS, list } from "./explain.js";
import { mfaMethods } from "./tenant.js";
import { checkbox, clone, h, radios, replace } from "./ui.js";

/** Mounts the page into `root`. */
export function methodsPage(root, app) {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", id: "methods-status" });

  function update(mutate, message) {
    const tenant = clone(app.tenant());
    mutate(tenant);
    app.commit(tenant);
    status.className = "status status-ok";
    status.textContent = message;
  }

  const config = (tenant, id) => tenant.authenticationMethodsPolicy.authenticationMethodConfigurations.find((c) => c.id === id);

  function render() {
    const tenant = app.tenant();
    const emailOn = config(tenant, "Email")?.state === "enabled";
    const smsOn = config(tenant, "Sms")?.state === "enabled";
    const local = tenant.localAccount.method;
    const second = mfaMethods(tenant);
    const { includeAdditionalRegions, excludeRegions } = tenant.smsRegions;
    const focused = document.activeElement?.id;

    const methodSwitch = (id, label, hint, on) => checkbox({ id: `method-${id}`, role: "switch", label, hint, checked: on,
      onChange: (value) => update((t) => { config(t, id).state = value ? "enabled" : "disabled"; },
        `${label} ${value ? "enabled" : "disabled"}.`) });

    const excludeInput = h("input", { type: "text", id: "sms-exclude", inputmode: "numeric", autocomplete: "off",
      value: excludeRegions.join(", "), "aria-describedby": "sms-exclude-hint sms-exclude-error" });
    const excludeError = h("p", { class: "field-error", id: "sms-exclude-error", role: "alert", hidden: true });

    replace(root,
      h("div", { class: "page-head" },
        h("div", {},
          h("h2", { id: "methods-title", tabindex: "-1" }, "Authentication methods"),
          h("p", { class: "lede" }, "How customers prove who they are. Conditional Access decides when a second factor is needed; these settings decide which factors exist."),
          h("p", { class: "hint" }, "Changes are saved as soon as you make them."),
          status)),
      h("div", { class: "cards" },
        h("section", { class: "card", "aria-labelledby": "methods-mfa" },
          h("h3", { id: "methods-mfa" }, "Second factors"),
          methodSwitch("Email", "Email one-time passcode", "A 6-digit code sent to the customer's email address.", emailOn),
          methodSwitch("Sms", "SMS text message", "A 6-digit code sent by SMS. Not usable as a first factor.", smsOn),
          h("p", { class: second.length ? "callout" : "callout callout-warning" },
            second.length
              ? `A sign-in that needs MFA can finish with: ${list(second.map((m) => METHODS[m]), "or")}.`
              : "No second factor is available: a sign-in that needs MFA cannot finish. Turn on at least one method."),
          local === "emailOtp" && emailOn
            ? h("p", { class: "callout callout-warning" }, "Customers sign in with an email one-time passcode, so email cannot also be their second factor; only SMS can.")
            : null),
        h("section", { class: "card", "aria-labelledby": "methods-local" },
          h("h3", { id: "methods-local" }, "Local account sign-in"),
          radios({ legend: "First factor for local accounts", name: "local-method", value: local,
            options: [
              { value: "emailPassword", label: "Email with password", hint: "Email OTP stays available as a second factor" },
              { value: "emailOtp", label: "Email with one-time passcode", hint: "Passwordless; then only SMS can be the second factor" },
            ],
            onChange: (v) => update((t) => { t.localAccount.method = v; },
              `Local accounts now sign in with ${v === "emailPassword" ? "email and password" : "an email one-time passcode"}.`) })),
        h("section", { class: "card", "aria-labelledby": "methods-regions" },
          h("h3", { id: "methods-regions" }, "SMS regions"),
          h("p", { class: "hint" }, `SMS codes to ${OPT_IN_CALLING_CODES.length} calling codes are off by default to limit SMS fraud. Opt in to the regions your customers live in.`),
          h("fieldset", { class: "choices columns" },
            h("legend", {}, "Opt in to SMS for"),
            OPT_IN_EXAMPLES.map(({ code, name }) => checkbox({ id: `sms-region-${code}`, label: `${name} (+${code})`,
              checked: includeAdditionalRegions.includes(code),
              onChange: (on) => update((t) => {
                const rest = t.smsRegions.includeAdditionalRegions.filter((c) => c !== code);
                t.smsRegions.includeAdditionalRegions = on ? [...rest, code].sort((a, b) => a - b) : rest;
              }, `SMS to +${code} ${on ? "allowed" : "off again"}.`) }))),
          h("form", { class: "inline-form", onSubmit: (e) => {
            e.preventDefault();
            const codes = excludeInput.value.split(/[\s,;]+/).filter(Boolean);
            const bad = codes.filter((c) => !/^\d{1,4}$/.test(c));
            const overlap = codes.map(Number).filter((c) => includeAdditionalRegions.includes(c));
            const problem = bad.length ? `\`${bad[0]}\` is not a calling code (1 to 4 digits)`
              : overlap.length ? `+${overlap[0]} is also opted in; a code cannot be both` : "";
            excludeError.hidden = !problem;
            excludeError.textContent = problem.replaceAll("`", "");
            if (problem) excludeInput.setAttribute("aria-invalid", "true");
            else excludeInput.removeAttribute("aria-invalid");
            if (problem) return excludeInput.focus();
            update((t) => { t.smsRegions.excludeRegions = [...new Set(codes.map(Number))]; }, "Blocked calling codes saved.");
          } },
          h("div", { class: "field" },
            h("label", { for: "sms-exclude" }, "Never send SMS to these calling codes"),
            h("p", { class: "hint", id: "sms-exclude-hint" }, "Numbers without +, separated by commas, for example 44, 33."),
            excludeError,
            excludeInput),
          h("button", { type: "submit", class: "button secondary", id: "sms-exclude-save" }, "Save blocked codes"))),
        h("section", { class: "card wide", "aria-labelledby": "methods-json" },
          h("h3", { id: "methods-json" }, "As Microsoft Graph sees it"),
          h("details", { class: "raw" }, h("summary", {}, "authenticationMethodsPolicy"),
            h("pre", { class: "code" }, JSON.stringify(tenant.authenticationMethodsPolicy, null, 2))),
          h("details", { class: "raw" }, h("summary", {}, "onPhoneMethodLoadStart listener (SMS regions)"),
            h("pre", { class: "code" }, JSON.stringify({
              "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartListener",
              handler: { "@odata.type": "#microsoft.graph.onPhoneMethodLoadStartExternalUsersAuthHandler",
                smsOptions: tenant.smsRegions, voiceOptions: { includeAdditionalRegions: [], excludeRegions: [] } },
            }, null, 2))))));
    if (focused) root.querySelector(`#${CSS.escape(focused)}`)?.focus();
  }

  render();
  return { refresh: render };
}
