// "Engine: local Worker". The same customer pages, but every step is an HTTP
// call to the Worker's native authentication API (Entra External ID protocol V1: form-encoded
// POSTs to /{tenant}/oauth2/v2.0/initiate|challenge|token|introspect, /signup/v1.0/*,
// /resetpassword/v1.0/*, /register/v1.0/*), and codes are read from the Worker's dev outbox
// (`GET /_dev/outbox?to=`, only when the Worker runs with DEV_ROUTES=on).
//
// This module speaks the protocol and answers in the `Flow` reply shapes (js/index.d.ts),
// so the customer pages do not know which engine they talk to. The Worker keeps its own
// users; the console's policies and methods reach it through its admin API (worker-sync.js).
// Step-up, which native authentication has no call for, is the Worker's OpenID Connect
// sign-in in a pop-up window (worker-step-up.js).
//
//   const engine = workerEngine({ baseUrl: "http://127.0.0.1:8787", tenant: "contoso", onDelivery });
//   let r = await engine.start({ type: "startSignIn", appId: WORKER_CLIENT_ID, email });
import { jwtClaims } from "./jwt.js";
import { stepUpAtWorker } from "./worker-step-up.js";

export const WORKER_URL = "http://127.0.0.1:8787";

/**
 * The Worker this page talks to: `?worker=http://127.0.0.1:<port>` in the page's URL, else
 * WORKER_URL. Only loopback http(s) URLs are taken, since the person's admin credential is
 * sent there: a crafted link cannot point the page at someone else's server.
 */
export function workerUrlFrom(search = globalThis.location?.search ?? "") {
  const given = new URLSearchParams(search).get("worker");
  if (!given) return WORKER_URL;
  try {
    const url = new URL(given);
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (loopback && ["http:", "https:"].includes(url.protocol) && url.pathname === "/" && !url.search && !url.username) return url.origin;
  } catch { /* not a URL */ }
  return WORKER_URL;
}
/** The client the Worker's built-in user flow serves (src/native/defaults.rs). */
export const WORKER_CLIENT_ID = "vestibule-demo-app";
export const WORKER_TENANT = "contoso";

const CHALLENGE_TYPES = "oob password redirect";
const CAPABILITIES = "mfa_required registration_required";
const SCOPE = "openid profile offline_access";

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A native-auth error body as a Flow reply or error. */
export function fromError(body) {
  const { error, suberror, error_codes: codes = [], error_description: description = "" } = body;
  const has = (c) => codes.includes(c);
  let rejection;
  if (error === "user_not_found") rejection = { code: "user_not_found" };
  else if (error === "user_already_exists") rejection = { code: "user_already_exists" };
  else if (suberror === "invalid_oob_value") rejection = { code: "invalid_code" };
  else if (suberror?.startsWith("password_")) rejection = { code: "password_refused", problem: suberror };
  else if (suberror === "attribute_validation_failed") {
    rejection = { code: "attribute_validation_failed", attributes: (body.invalid_attributes ?? []).map((a) => a.name) };
  } else if (has(50126)) rejection = { code: "invalid_password" };
  else if (has(50053)) rejection = { code: "account_locked" };
  else if (error === "slow_down") rejection = { code: "resend_too_soon", retryAfter: 60 };
  else if (error === "expired_token") rejection = { code: "flow_expired" };
  // One suberror for two refusals; the Worker's description tells a region from a method.
  else if (suberror === "provider_blocked_by_admin") rejection = { code: /phone region/.test(description) ? "sms_region_blocked" : "channel_not_allowed" };
  else if (suberror === "provider_blocked_by_rep") rejection = { code: "send_refused", retryAfter: body.retry_after };
  else if (has(901001)) rejection = { code: "invalid_target" };
  if (rejection) return { reply: { type: "rejected", rejection: { ...rejection, message: description } } };
  if (error === "access_denied") {
    return { reply: { type: "blocked", reason: has(53004) ? "noUsableSecondFactor" : "policy", policyIds: [], message: description } };
  }
  return { error: { code: `native.${error ?? "unknown"}`, message: description || "the Worker refused the request" } };
}

/**
 * An engine over the Worker. `onDelivery(message)` gets codes read from the dev outbox;
 * `onOutboxError(text)` is told when the outbox cannot be read from this page.
 */
export function workerEngine({ baseUrl = WORKER_URL, tenant = WORKER_TENANT, onDelivery, onOutboxError, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const flows = new Map(); // our flow id -> { family, phase, ct, email }
  const addresses = new Set(); // every address this page used: the outbox is read per address
  const seen = new Set();

  async function post(path, fields) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) body.set(k, v);
    let response;
    try {
      response = await fetchImpl(`${baseUrl}/${encodeURIComponent(tenant)}/${path}`, {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body,
      });
    } catch (e) {
      return { status: 0, body: { error: "network", error_description: `the Worker at ${baseUrl} did not answer (${e?.message ?? e}); start it with \`bash scripts/dev.sh\`` } };
    }
    let json = {};
    try {
      json = await response.json();
    } catch {
      json = { error: "not_json", error_description: `the Worker answered ${response.status} without JSON` };
    }
    return { status: response.status, body: json };
  }

  async function readOutbox(label) {
    for (const to of addresses) {
      let messages;
      try {
        const r = await fetchImpl(`${baseUrl}/_dev/outbox?to=${encodeURIComponent(to)}&tenant=${encodeURIComponent(tenant)}`);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        messages = (await r.json()).messages ?? [];
      } catch (e) {
        onOutboxError?.(`The Worker's dev outbox could not be read from this page (${e?.message ?? e}). It needs DEV_ROUTES=on and a CORS header on /_dev/outbox; meanwhile read codes with: curl '${baseUrl}/_dev/outbox?to=${to}'`);
        return;
      }
      for (const m of [...messages].reverse()) {
        const key = `${m.to}|${m.code}|${m.sentAt}`;
        if (seen.has(key)) continue;
        seen.add(key);
        onDelivery?.({ channel: m.channel, to: m.to, code: m.code, purpose: m.purpose, expiresAt: m.expiresAt, sentAt: m.sentAt, label: label ?? m.to });
      }
    }
  }

  /** Stores the flow under a fresh id (a used id is forgotten, as with Flow). */
  function keep(oldId, flow, ct) {
    if (oldId) flows.delete(oldId);
    const id = randomId();
    flows.set(id, { ...flow, ct: ct ?? flow.ct });
    return id;
  }

  async function answer(oldId, flow, r, onOk) {
    const ct = r.body.continuation_token;
    if (r.status === 200 && r.body.challenge_type === "redirect") {
      flows.delete(oldId);
      return { flowId: null, reply: { type: "redirect", reason: r.body.redirect_reason ?? "the Worker asks for a web sign-in" } };
    }
    if (r.status === 200) return onOk(r.body, ct);
    if (r.body.error === "invalid_grant" && (r.body.suberror === "mfa_required" || r.body.suberror === "registration_required")) {
      const mfa = r.body.suberror === "mfa_required";
      const listed = await post(mfa ? "oauth2/v2.0/introspect" : "register/v1.0/introspect", { client_id: WORKER_CLIENT_ID, continuation_token: ct });
      if (listed.status !== 200) return { flowId: keep(oldId, flow, ct), ...fromError(listed.body) };
      const methods = (listed.body.methods ?? []).map((m) => ({ id: m.id, channel: m.challenge_channel, loginHint: m.login_hint }));
      return { flowId: keep(oldId, { ...flow, phase: mfa ? "mfaChoose" : "registerChoose" }, listed.body.continuation_token),
        reply: { type: mfa ? "mfaRequired" : "registrationRequired", methods } };
    }
    if (r.body.error === "credential_required") {
      return { flowId: keep(oldId, { ...flow, phase: "signUpPassword" }, ct), reply: { type: "credentialRequired" } };
    }
    if (r.body.error === "attributes_required") {
      const attributes = (r.body.required_attributes ?? []).map((a) => ({ name: a.name, required: a.required, label: a.name }));
      return { flowId: keep(oldId, { ...flow, phase: "signUpAttributes" }, ct), reply: { type: "attributesRequired", attributes } };
    }
    const mapped = fromError(r.body);
    const ends = mapped.error || mapped.reply.type === "blocked";
    if (ends && !ct) flows.delete(oldId);
    return { flowId: ends && !ct ? null : keep(oldId, flow, ct), ...mapped };
  }

  async function codeSent(oldId, flow, body, ct, phase, target) {
    const label = body.challenge_target_label ?? body.challenge_target ?? target;
    if (target) addresses.add(target);
    await readOutbox(label);
    return { flowId: keep(oldId, { ...flow, phase }, ct),
      reply: { type: "codeSent", channel: body.challenge_channel, targetLabel: label, codeLength: body.code_length, interval: body.interval ?? 60, expiresIn: 600 } };
  }

  function tokens(oldId, flow, body) {
    flows.delete(oldId);
    const claims = jwtClaims(body.id_token) ?? {};
    const grant = { userId: claims.oid ?? claims.sub, email: claims.preferred_username ?? flow.email, displayName: claims.name,
      amr: claims.amr ?? [], acr: claims.acr ?? "", acrs: [], authTime: claims.auth_time ?? Math.floor(Date.now() / 1000),
      methods: [], claims };
    return { flowId: null, reply: { type: "signedIn", userId: grant.userId, amr: grant.amr, acr: grant.acr }, tokens: grant };
  }

  async function token(oldId, flow, fields) {
    const r = await post("oauth2/v2.0/token", { client_id: WORKER_CLIENT_ID, continuation_token: flow.ct, scope: SCOPE, client_info: "1", ...fields });
    return answer(oldId, flow, r, (body) => tokens(oldId, flow, body));
  }

  const starts = {
    startSignIn: { path: "oauth2/v2.0/initiate", family: "signIn" },
    startSignUp: { path: "signup/v1.0/start", family: "signUp" },
    startPasswordReset: { path: "resetpassword/v1.0/start", family: "reset" },
  };

  return {
    kind: "worker",
    /**
     * Step-up for a sensitive action. Native authentication has no call for it, so this is
     * the Worker's OpenID Connect sign-in in `popup` (worker-step-up.js); the outbox is read
     * while the window is open, so its codes reach the inbox and phone.
     */
    stepUp({ popup, session, authContexts }) {
      addresses.add(String(session.email).toLowerCase());
      return stepUpAtWorker({ popup, baseUrl, tenant, clientId: WORKER_CLIENT_ID, session, authContexts, fetchImpl, onTick: () => readOutbox() });
    },
    async start(input) {
      const how = starts[input?.type];
      if (!how) {
        return { error: { code: "worker.unsupported", message: `\`${input?.type}\` has no native authentication call; step-up goes through \`stepUp\`` } };
      }
      const email = String(input.email ?? "").trim();
      addresses.add(email.toLowerCase());
      const r = await post(how.path, {
        client_id: WORKER_CLIENT_ID, username: email, challenge_type: how.family === "reset" ? "oob redirect" : CHALLENGE_TYPES,
        capabilities: CAPABILITIES, password: input.password,
        attributes: input.attributes && Object.keys(input.attributes).length ? JSON.stringify(input.attributes) : undefined,
      });
      const flow = { family: how.family, phase: "started", email };
      return answer(null, flow, r, (_b, ct) => ({ flowId: keep(null, flow, ct), reply: { type: "started" } }));
    },

    async next(flowId, input) {
      const flow = flows.get(flowId);
      if (!flow) return { error: { code: "flow.not_found", message: "this flow has ended, expired or was already continued; start again" } };
      const base = { client_id: WORKER_CLIENT_ID, continuation_token: flow.ct };
      const { family, phase } = flow;
      const prefix = family === "signIn" ? "oauth2/v2.0" : family === "signUp" ? "signup/v1.0" : "resetpassword/v1.0";
      switch (input.type) {
        case "challenge": {
          const r = await post(`${prefix}/challenge`, { ...base, challenge_type: family === "reset" ? "oob redirect" : CHALLENGE_TYPES });
          return answer(flowId, flow, r, (body, ct) => {
            if (body.challenge_type === "password") {
              return { flowId: keep(flowId, { ...flow, phase: family === "signUp" ? "signUpPassword" : "password" }, ct), reply: { type: family === "signUp" ? "credentialRequired" : "passwordRequired" } };
            }
            return codeSent(flowId, flow, body, ct, `${family}Code`, flow.email.toLowerCase());
          });
        }
        case "submitPassword": {
          if (family === "signIn") return token(flowId, flow, { grant_type: "password", password: input.password });
          if (family === "signUp") {
            const r = await post("signup/v1.0/continue", { ...base, grant_type: "password", password: input.password });
            return answer(flowId, flow, r, (_b, ct) => ({ flowId: keep(flowId, { ...flow, phase: "signedUp" }, ct), reply: { type: "verified" } }));
          }
          const r = await post("resetpassword/v1.0/submit", { ...base, new_password: input.password });
          return answer(flowId, flow, r, (body, ct) => ({ flowId: keep(flowId, { ...flow, phase: "polling" }, ct), reply: { type: "resetSubmitted", pollInterval: body.poll_interval ?? 2 } }));
        }
        case "submitCode": {
          if (phase === "mfaCode") return token(flowId, flow, { grant_type: "mfa_oob", oob: input.code });
          if (phase === "registerCode") {
            const r = await post("register/v1.0/continue", { ...base, grant_type: "oob", oob: input.code });
            return answer(flowId, flow, r, (_b, ct) => ({ flowId: keep(flowId, { ...flow, phase: "registered" }, ct), reply: { type: "verified" } }));
          }
          if (family === "signIn") return token(flowId, flow, { grant_type: "oob", oob: input.code });
          if (family === "signUp") {
            const r = await post("signup/v1.0/continue", { ...base, grant_type: "oob", oob: input.code });
            return answer(flowId, flow, r, (_b, ct) => ({ flowId: keep(flowId, { ...flow, phase: "signedUp" }, ct), reply: { type: "verified" } }));
          }
          const r = await post("resetpassword/v1.0/continue", { ...base, grant_type: "oob", oob: input.code });
          return answer(flowId, flow, r, (body, ct) => ({ flowId: keep(flowId, { ...flow, phase: "newPassword" }, ct), reply: { type: "verified", expiresIn: body.expires_in } }));
        }
        case "submitAttributes": {
          const r = await post("signup/v1.0/continue", { ...base, grant_type: "attributes", attributes: JSON.stringify(input.attributes) });
          return answer(flowId, flow, r, (_b, ct) => ({ flowId: keep(flowId, { ...flow, phase: "signedUp" }, ct), reply: { type: "verified" } }));
        }
        case "selectMethod": {
          const r = await post("oauth2/v2.0/challenge", { ...base, challenge_type: CHALLENGE_TYPES, id: input.id });
          return answer(flowId, flow, r, (body, ct) => codeSent(flowId, flow, body, ct, "mfaCode"));
        }
        case "registerMethod": {
          const r = await post("register/v1.0/challenge", { ...base, challenge_type: "oob", challenge_target: input.target, challenge_channel: input.channel });
          return answer(flowId, flow, r, (body, ct) => (body.challenge_type === "preverified"
            ? { flowId: keep(flowId, { ...flow, phase: "preverified" }, ct), reply: { type: "preverified" } }
            : codeSent(flowId, flow, body, ct, "registerCode", input.target.toLowerCase())));
        }
        case "continue": {
          const r = await post("register/v1.0/continue", { ...base, grant_type: "continuation_token" });
          return answer(flowId, flow, r, (_b, ct) => ({ flowId: keep(flowId, { ...flow, phase: "registered" }, ct), reply: { type: "verified" } }));
        }
        case "pollCompletion": {
          const r = await post("resetpassword/v1.0/poll_completion", base);
          return answer(flowId, flow, r, (body, ct) => {
            if (body.status === "succeeded") return { flowId: keep(flowId, { ...flow, family: "signIn", phase: "reset" }, ct), reply: { type: "resetCompleted" } };
            if (body.status === "failed") return { flowId: null, reply: { type: "rejected", rejection: { code: "password_refused", problem: "password_is_invalid" } } };
            return { flowId: keep(flowId, flow, ct), reply: { type: "resetSubmitted", pollInterval: 2 } };
          });
        }
        case "redeemContinuation":
          return token(flowId, flow, { grant_type: "continuation_token", username: family === "signUp" && phase === "signedUp" ? flow.email : undefined });
        case "cancel":
          flows.delete(flowId);
          return { flowId: null, reply: { type: "cancelled" } };
        default:
          return { error: { code: "worker.unsupported", message: `\`${input.type}\` has no native authentication call` } };
      }
    },

    findUser: async () => undefined,
  };
}
