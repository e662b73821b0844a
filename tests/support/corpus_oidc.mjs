// OpenID Connect fixtures for the malformed-request corpus: a browser without JavaScript
// that signs up through the hosted pages once, keeps the single sign-on cookie, and from
// then on gets fresh authorization codes in one request; plus hand-signed JWTs (expired,
// wrong key, wrong issuer, `alg: none`) for the userinfo endpoint.
import assert from "node:assert/strict";
import { createHash, createPrivateKey, randomBytes, sign } from "node:crypto";
import { JSDOM } from "jsdom";
import { bindingCookie, submitForm } from "./hosted.mjs";

/** The PKCE pair and the redirect URI every corpus code is issued with (the demo client
 * accepts any loopback redirect URI). */
export const VERIFIER = `corpus-verifier-${"v".repeat(40)}`;
export const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");
export const REDIRECT = "http://127.0.0.1:9/cb";

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const decode = (part) => JSON.parse(Buffer.from(part, "base64url"));

/** A JWS signed with an Ed25519 seed (base64url), as the Worker's keyring signs. */
export function signJwt(header, payload, seed) {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seed, "base64url")]);
  const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
}

/** Variants of a real access token: each must be refused by userinfo. */
export function forgedTokens(access, idToken, { seed }) {
  const [h, p] = access.split(".");
  const header = decode(h);
  const payload = decode(p);
  const now = Math.floor(Date.now() / 1000);
  const other = randomBytes(32).toString("base64url");
  const sig = access.split(".")[2];
  const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
  return {
    expired: signJwt(header, { ...payload, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, seed),
    wrongKey: signJwt(header, payload, other),
    unknownKid: signJwt({ ...header, kid: "not-a-key" }, payload, seed),
    wrongIssuer: signJwt(header, { ...payload, iss: payload.iss.replace(/\/[^/]+\/v2\.0$/, "/corpus-other/v2.0") }, seed),
    audienceList: signJwt(header, { ...payload, aud: [payload.aud, "someone-else"] }, seed),
    notYetValid: signJwt(header, { ...payload, nbf: now + 3600, iat: now + 3600, exp: now + 7200 }, seed),
    noScope: signJwt(header, { ...payload, scp: undefined }, seed),
    algNone: `${b64({ ...header, alg: "none" })}.${p}.`,
    hs256: `${b64({ ...header, alg: "HS256" })}.${p}.${sig}`,
    flippedSignature: `${h}.${p}.${flipped}`,
    strippedSignature: `${h}.${p}.`,
    idToken,
  };
}

/** A hosted page: status, document and HTML. */
async function read(res) {
  const html = await res.text();
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/, `${res.status} ${html.slice(0, 300)}`);
  return { status: res.status, html, doc: new JSDOM(html).window.document };
}

/** The binding cookie of the corpus's browser: every `Browser` is a tab of one browser,
 * so every sign-in it opens is bound to this cookie, and an entry that posts one of their
 * handles sends it (`{{oidc.binding}}`), as the browser would. */
let binding;
export const corpusBinding = () => binding;

/** The browser: `tenant`'s hosted pages, with the SSO cookie once signed in. */
export class Browser {
  constructor(worker, tenant, seen) {
    this.worker = worker;
    this.tenant = tenant;
    this.seen = seen;
    this.cookie = undefined;
  }

  url(extra = {}) {
    const q = new URLSearchParams({
      client_id: "vestibule-demo-app", redirect_uri: REDIRECT, response_type: "code", scope: "openid profile email offline_access",
      state: "corpus-state", nonce: "corpus-nonce", code_challenge: CHALLENGE, code_challenge_method: "S256", ...extra,
    });
    return `${this.worker.url}/${this.tenant}/oauth2/v2.0/authorize?${q}`;
  }

  async get(url) {
    const res = await fetch(url, { redirect: "manual", headers: this.cookie ? { cookie: this.cookie } : {} });
    this.keep(res);
    return res;
  }

  keep(res) {
    const set = res.headers.get("set-cookie");
    if (set && !bindingCookie(res)) this.cookie = set.split(";")[0];
  }

  async submit(page, fields) {
    const res = await submitForm(this.worker.url, page, fields, binding ? { cookie: binding } : {});
    this.keep(res);
    return res;
  }

  /** The first page of a fresh authorization request (no cookie: always a page). */
  async open(extra = {}) {
    const res = await fetch(this.url(extra), { redirect: "manual", headers: binding ? { cookie: binding } : {} });
    binding = bindingCookie(res) ?? binding;
    const page = await read(res);
    assert.equal(page.status, 200, page.html);
    return page;
  }

  /** A fresh interaction handle, as the first page's hidden field holds it. */
  async handle() {
    const page = await this.open();
    const value = page.doc.querySelector("input[name=interaction]")?.value;
    assert.equal(typeof value, "string", page.html.slice(0, 500));
    this.seen.push(value);
    return { value, page };
  }

  /** A handle already posted once (the page it came from was replaced). */
  async usedHandle() {
    const { value, page } = await this.handle();
    const res = await this.submit(page, { action: "switch" });
    assert.equal(res.status, 200);
    return value;
  }

  /** A handle of the page reached by posting each of `steps` in turn from the first page
   * (e.g. the code page of a sign-up, the password page of a sign-in), and its heading. */
  async handleAfter(...steps) {
    let page = await this.open();
    for (const fields of steps) page = await read(await this.submit(page, fields));
    const value = page.doc.querySelector("input[name=interaction]")?.value;
    assert.equal(typeof value, "string", page.html.slice(0, 500));
    this.seen.push(value);
    return { value, h1: page.doc.querySelector("h1")?.textContent };
  }

  /** Signs `email` up through the hosted pages; returns the code it ends with. */
  async signUp(email, password, latestCode) {
    let page = await this.open();
    page = await read(await this.submit(page, { action: "switch" }));
    page = await read(await this.submit(page, { action: "email", email }));
    const code = await latestCode(this.worker, email);
    this.seen.push(code);
    page = await read(await this.submit(page, { action: "code", code }));
    let res = await this.submit(page, { action: "password", password });
    if (res.status === 200) res = await this.submit(await read(res), { action: "attributes", "attr.displayName": "Corpus User" });
    return this.codeFrom(res);
  }

  codeFrom(res) {
    assert.equal(res.status, 303, `expected a redirect back to the app, got ${res.status}`);
    const url = new URL(res.headers.get("location"));
    assert.ok(url.href.startsWith(REDIRECT), url.href);
    const code = url.searchParams.get("code");
    assert.ok(code, url.href);
    this.seen.push(code);
    return code;
  }

  /** A fresh code through single sign-on: one request. */
  async code() {
    assert.ok(this.cookie, "sign up first");
    return this.codeFrom(await this.get(this.url()));
  }

  /** Redeems `code`; returns the token response. */
  async exchange(code) {
    const res = await fetch(`${this.worker.url}/${this.tenant}/oauth2/v2.0/token`, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: "vestibule-demo-app", grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    this.seen.push(body.access_token, body.id_token, body.refresh_token);
    return body;
  }
}
