// What the customer app says, in plain words: the engine's rejections and blocks for the
// customer, and its decisions for the person watching the demo. No DOM, no engine calls.

const PASSWORD_PROBLEMS = {
  password_too_short: "Use at least 8 characters.",
  password_too_long: "Use at most 256 characters.",
  password_too_weak: "Use at least three of: lowercase letters, capital letters, numbers, symbols, and letters of scripts without case (such as Chinese or Arabic).",
  password_banned: "It is too common or contains your email name.",
  password_recently_used: "It is the password you have now; choose a new one.",
  password_is_invalid: "It contains characters a password can't have.",
};

/** "in 5 minutes", "in 40 seconds". */
const within = (seconds) => (seconds >= 90 ? `in ${Math.ceil(seconds / 60)} minutes` : `in ${seconds} seconds`);

/**
 * A rejection (Reply `rejected`) as a sentence for the customer, shown next to the input.
 * `region` is the calling code of the number refused, `email` whether email is offered too.
 */
export function rejectionText(rejection, { channel, region, email = true } = {}) {
  switch (rejection?.code) {
    case "sms_region_blocked": {
      const where = rejection.region ?? region;
      return `We can't send text messages to ${where ? `+${where} numbers` : "numbers in that country"}. Use another number${email ? " or choose email" : ""}.`;
    }
    case "send_refused": return rejection.retryAfter
      ? `Too many codes were sent here recently. Try again ${within(Number(rejection.retryAfter))}.`
      : "Too many codes were sent here recently. Try again later.";
    case "user_not_found": return "We couldn't find an account with that email address. Check it, or create an account.";
    case "user_already_exists": return "An account with this email address already exists. Sign in instead.";
    case "invalid_password": return "That password isn't right. Try again, or reset your password.";
    case "password_refused": return `Choose a stronger password. ${PASSWORD_PROBLEMS[rejection.problem] ?? ""}`.trim();
    case "invalid_code": {
      const left = rejection.attemptsLeft;
      return left === undefined ? "That code isn't right." : `That code isn't right. ${left} ${left === 1 ? "try" : "tries"} left for this code.`;
    }
    case "code_expired": return "This code has expired. Send a new one.";
    case "code_attempts_exhausted": return "Too many wrong tries for this code. Send a new one.";
    case "resend_too_soon": return `Wait ${rejection.retryAfter ?? 60} seconds before asking for a new code.`;
    case "too_many_codes": return "Too many codes were sent for this sign-in. Start again later.";
    case "account_locked": return rejection.until
      ? `Too many failed attempts. Try again after ${new Date(rejection.until * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}.`
      : "This account is disabled after too many failed attempts. Contact Woodgrove Bank.";
    case "attribute_validation_failed": return `Check ${(rejection.attributes ?? []).map((a) => (a === "displayName" ? "your display name" : a)).join(", ") || "the details"}.`;
    case "invalid_target": return channel === "sms"
      ? "Enter the number in international format, starting with + and the country code, e.g. +44 7700 900123."
      : "Enter a valid email address.";
    case "channel_not_allowed": return "This method can't be used for your account.";
    case "method_not_found": return "That method is no longer available. Start again.";
    case "flow_expired": return "This took too long and has expired. Start again.";
    case "sign_up_disabled": return "New accounts can't be created at the moment.";
    case "unauthorized_client": return "This app isn't allowed to sign customers in.";
    case "password_reset_unavailable": return "Your account signs in with a one-time code, so it has no password to reset.";
    default: return rejection?.message || "That didn't work. Try again.";
  }
}

/** Why a flow ended without tokens (Reply `blocked`), for the customer. */
export function blockedText(reply, policyName) {
  const names = reply.policyNames ?? (reply.policyIds ?? []).map(policyName);
  switch (reply.reason) {
    case "policy": return names.length
      ? `Your sign-in was blocked by a security policy (${names.map((n) => `“${n}”`).join(", ")}).`
      : "Your sign-in was blocked by a security policy.";
    case "noUsableSecondFactor": return "A second verification step is required, but no method is available for your account. Contact Woodgrove Bank.";
    case "riskWithoutRegisteredMethod": return "This sign-in looks unusual and your account has no verification method registered yet, so it can't continue.";
    case "passwordChangeImpossible": return "A password change is required, but your account has no password.";
    default: return reply.message || "This sign-in can't be completed.";
  }
}

const METHOD_WORDS = { password: "password", email: "email code", sms: "SMS code" };

/** `["password", "sms"]` → "password and SMS code". */
export function methodsText(methods) {
  const words = [...new Set(methods)].map((m) => METHOD_WORDS[m] ?? m);
  return words.length <= 1 ? (words[0] ?? "nothing") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/** `["a", "b"]` → "“a” and “b”". */
export function quoted(names) {
  const q = names.map((n) => `“${n}”`);
  return q.length <= 1 ? (q[0] ?? "") : `${q.slice(0, -1).join(", ")} and ${q.at(-1)}`;
}
