// The customer's simulated email inbox and phone: where the one-time codes the engine asks
// the app to deliver (the Flow's `deliver` callback, or the Worker's dev outbox) arrive.
// Each message shows what it is for and the masked address the app showed the customer,
// never more; new messages are announced politely to screen readers.
import { h, replace } from "./ui.js";

/** What each code purpose (CodeDelivery.purpose) means to the customer. */
export const PURPOSES = {
  signUp: "Verify your email address to finish creating your account",
  signIn: "Your sign-in code",
  passwordReset: "Reset your password",
  mfa: "Your security code (second step)",
  registration: "Confirm this is yours to add it to your account",
};

const SENDER = "Woodgrove Bank";
const ICONS = {
  inbox: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/></svg>',
  phone: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><rect x="6" y="2" width="12" height="20" rx="2.5"/><path d="M10.5 18.5h3"/></svg>',
};
const icon = (name) => {
  const el = h("span", { class: "device-icon", "aria-hidden": "true" });
  el.innerHTML = ICONS[name];
  return el;
};

/**
 * Mounts the inbox into `inboxRoot` and the phone into `phoneRoot`; returns
 * `{ deliver(message), clear() }` where a message is `{ channel, code, purpose, label, sentAt }`.
 */
export function createDevices(inboxRoot, phoneRoot) {
  const messages = { email: [], sms: [] };
  const announcer = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite", id: "devices-announcer" });

  const inboxList = h("ol", { class: "device-list", "aria-label": "Emails, newest first", reversed: true, tabindex: "0" });
  const phoneList = h("ol", { class: "device-list", "aria-label": "Text messages, newest first", reversed: true, tabindex: "0" });
  replace(inboxRoot,
    h("div", { class: "device-head" },
      h("h3", { id: "inbox-title" }, icon("inbox"), "Inbox"),
      h("p", { class: "hint" }, "The customer's email. Codes sent by email arrive here.")),
    inboxList, announcer);
  replace(phoneRoot,
    h("div", { class: "device-head" },
      h("h3", { id: "phone-title" }, icon("phone"), "Phone"),
      h("p", { class: "hint" }, "The customer's phone. Codes sent by SMS arrive here.")),
    phoneList);

  function render() {
    for (const [list, items, channel] of [[inboxList, messages.email, "email"], [phoneList, messages.sms, "sms"]]) {
      if (!items.length) {
        replace(list, h("li", { class: "device-empty" }, channel === "email" ? "No email yet." : "No text messages yet."));
        continue;
      }
      replace(list, [...items].reverse().map((m, i) => message(m, i === 0)));
    }
  }

  function message(m, newest) {
    const time = new Date(m.sentAt * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const title = PURPOSES[m.purpose] ?? "Your code";
    const body = m.channel === "sms"
      ? `${SENDER}: ${m.code} is your code. ${title}. Don't share it with anyone.`
      : `Use ${m.code} to continue. It expires in 10 minutes. If you didn't ask for it, ignore this email.`;
    return h("li", { class: `device-message${newest ? " is-new" : ""}`, dataset: { purpose: m.purpose, channel: m.channel } },
      h("p", { class: "device-meta" },
        h("span", { class: "device-from" }, SENDER),
        h("span", { class: "device-time" }, time)),
      m.channel === "email" ? h("p", { class: "device-subject" }, title) : null,
      h("p", { class: "device-to" }, `To ${m.label}`),
      h("p", { class: "device-body" }, body),
      h("p", { class: "device-code", "aria-label": `Code ${m.code.split("").join(" ")}` }, m.code));
  }

  render();
  return {
    deliver(m) {
      messages[m.channel === "sms" ? "sms" : "email"].push(m);
      render();
      announcer.textContent = `New ${m.channel === "sms" ? "text message" : "email"} from ${SENDER}: ${PURPOSES[m.purpose] ?? "a code"}, sent to ${m.label}.`;
    },
    clear() {
      messages.email = [];
      messages.sms = [];
      render();
      announcer.textContent = "";
    },
  };
}
