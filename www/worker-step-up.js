// Step-up through the Worker. Native authentication (V1) has no call that asks for an
// authentication context, so the bank does what an External ID app does before a sensitive
// action: an OpenID Connect authorization code request (PKCE S256, `acr_values=c1`) to the
// Worker's hosted pages. It runs in a pop-up window so this page keeps the customer's
// session and the pending transfer. The window ends on oidc-callback.html, which hands
// `?code&state` back to this origin only; the code is exchanged at the Worker's token
// endpoint (CORS-open, as every native-auth call) with the verifier only this page holds.
//
// Native sign-in leaves no browser session at the Worker (it sets no cookie), so its pages
// ask for the password again, then whatever Conditional Access requires for the context.
// No DOM here apart from the window the caller opened.
//
//   const popup = window.open("", "vestibule-step-up", "popup");   // inside the click
//   const r = await stepUpAtWorker({ popup, baseUrl, tenant, clientId, session, authContexts: ["c1"] });
//   r.error ?? r.tokens   // tokens: the Flow TokenGrant shape, read from the Worker's tokens
import { jwtClaims } from "./jwt.js";

/** The `type` of the message oidc-callback.js posts to the page that opened it. */
export const CALLBACK_MESSAGE = "vestibule.oidc-callback";

const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));
const refused = (code, message) => ({ error: { code, message } });

/** Where the Worker sends the browser back: the callback page next to this module. */
export const callbackUrl = () => new URL("./oidc-callback.html", import.meta.url).href;

/**
 * A fresh authorization request: its URL and the secrets the answer is checked with (a
 * 256-bit PKCE verifier, and `state` and `nonce` of 128 bits each).
 */
export async function authorizationRequest({ baseUrl, tenant, clientId, redirectUri, loginHint, acrValues }) {
  const verifier = random(32);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = random(16);
  const nonce = random(16);
  const url = new URL(`${baseUrl}/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize`);
  const params = {
    client_id: clientId, response_type: "code", redirect_uri: redirectUri, scope: "openid profile",
    state, nonce, code_challenge: base64url(new Uint8Array(digest)), code_challenge_method: "S256",
    acr_values: acrValues.join(" "), login_hint: loginHint,
  };
  for (const [k, v] of Object.entries(params)) if (v) url.searchParams.set(k, v);
  return { url: url.href, verifier, state, nonce, redirectUri };
}

/**
 * The callback page's answer from `popup`: `{params}`, or `{error}` when the person closed
 * the window or it ran past `timeoutMs`. `onTick` runs about once a second meanwhile (the
 * caller reads the dev outbox, so codes the Worker sends appear in the inbox and phone).
 * The window is closed here, not by the callback page: closing itself before this page
 * had read its message would look like the person giving up.
 */
function answerFrom(popup, { onTick, timeoutMs }) {
  return new Promise((resolve) => {
    const started = Date.now();
    let timer = null;
    const done = (value) => {
      clearInterval(timer);
      globalThis.removeEventListener("message", onMessage);
      try { popup.close(); } catch { /* already closed */ }
      resolve(value);
    };
    const onMessage = (e) => {
      if (e.origin !== globalThis.location.origin || e.source !== popup || e.data?.type !== CALLBACK_MESSAGE) return;
      done({ params: new URLSearchParams(String(e.data.search ?? "")) });
    };
    globalThis.addEventListener("message", onMessage);
    timer = setInterval(() => {
      if (popup.closed) return done(refused("stepUp.window_closed", "the sign-in window was closed before the Worker finished; no money was sent"));
      if (Date.now() - started > timeoutMs) return done(refused("stepUp.timeout", "the sign-in window was open for too long; no money was sent, start the transfer again"));
      onTick?.();
    }, 1000);
  });
}

/**
 * Steps `session` (the signed-in customer) up to `authContexts` at the Worker through
 * `popup`, a window the caller opened during the person's click (browsers block one opened
 * later). Answers in the `Flow` reply shape: `{reply: {type: "signedIn"}, tokens}` or
 * `{error}`. The tokens are refused unless they are for the same customer and answer this
 * request (`state`, `nonce`).
 */
export async function stepUpAtWorker({ popup, baseUrl, tenant, clientId, session, authContexts, onTick, timeoutMs = 10 * 60_000, fetchImpl = globalThis.fetch.bind(globalThis) }) {
  let request;
  try {
    request = await authorizationRequest({ baseUrl, tenant, clientId, redirectUri: callbackUrl(), loginHint: session.email, acrValues: authContexts });
    popup.location.href = request.url;
  } catch (e) {
    try { popup.close(); } catch { /* already closed */ }
    return refused("stepUp.not_started", `the sign-in window could not be opened at the Worker (${e?.message ?? e})`);
  }
  const back = await answerFrom(popup, { onTick, timeoutMs });
  if (back.error) return back;
  const params = back.params;
  if (params.get("state") !== request.state) {
    return refused("stepUp.state_mismatch", "the sign-in window answered a different request; no money was sent");
  }
  if (params.get("error")) {
    return refused(`oidc.${params.get("error")}`, params.get("error_description") || "the Worker did not sign the customer in");
  }
  const body = new URLSearchParams({
    grant_type: "authorization_code", client_id: clientId, code: params.get("code") ?? "",
    redirect_uri: request.redirectUri, code_verifier: request.verifier,
  });
  let answer;
  try {
    const response = await fetchImpl(`${baseUrl}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body,
    });
    answer = await response.json();
  } catch (e) {
    return refused("network", `the Worker at ${baseUrl} did not answer the code exchange (${e?.message ?? e})`);
  }
  if (answer.error) return refused(`oidc.${answer.error}`, answer.error_description || "the Worker refused the code");
  const claims = jwtClaims(answer.id_token);
  if (!claims || claims.nonce !== request.nonce) {
    return refused("stepUp.nonce_mismatch", "the Worker's ID token does not answer this request; no money was sent");
  }
  const userId = claims.oid ?? claims.sub;
  if (userId !== session.userId) {
    return refused("stepUp.other_account", `the Worker signed in another account, not ${session.email}; no money was sent`);
  }
  // What the bank's API would check: the access token's `acrs` (the ID token says the same).
  const acrs = jwtClaims(answer.access_token)?.acrs ?? [];
  const tokens = {
    userId, email: claims.preferred_username ?? session.email, displayName: claims.name ?? session.displayName,
    amr: claims.amr ?? [], acr: claims.acr ?? "", acrs, authTime: claims.auth_time ?? Math.floor(Date.now() / 1000),
    methods: [], claims,
  };
  return { flowId: null, reply: { type: "signedIn", userId, amr: tokens.amr, acr: tokens.acr }, tokens };
}
