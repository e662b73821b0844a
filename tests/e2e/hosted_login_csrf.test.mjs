// Login CSRF on the hosted pages from a browser that sends no Fetch Metadata (Safari
// before 16.4, some embedded webviews): the attacker opens their own authorization
// request, takes the page's hidden `interaction` handle, and makes the victim's browser
// post it with the attacker's credentials. Without a binding between the sign-in and the
// browser that opened it, that finishes the attacker's sign-in in the victim's browser
// and plants the attacker's single sign-on cookie there. Each sign-in is now bound to a
// cookie of the browser that opened it; a post without it, or with another browser's, is
// refused before its handle is spent.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { JSDOM } from "jsdom";
import * as client from "openid-client";
import { authorizationRequest } from "../support/oidc_client.mjs";
import { startWorker } from "../support/worker.mjs";
import { APP, latestCode, nativeVars } from "../support/native.mjs";
import { submitForm } from "../support/hosted.mjs";

const T = "csrf";
const PASSWORD = "Correct-Horse-Battery-9";
const REDIRECT = "http://127.0.0.1:9/callback";
const ATTACKER = "attacker@example.com";
const VICTIM = "victim@example.com";

/** A browser without Fetch Metadata: a cookie jar, no `Sec-Fetch-*` headers. */
class Browser {
  cookies = new Map();

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  keep(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async open(url) {
    const cookie = this.header();
    return read(this.keep(await fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} })));
  }

  /** Posts `page`'s form (which may be another browser's page) with this browser's cookies. */
  async post(page, fields) {
    const cookie = this.header();
    return this.keep(await submitForm(worker.url, page, fields, cookie ? { cookie } : {}));
  }
}

let worker, config;
before(async () => {
  worker = await startWorker({ vars: nativeVars() });
  config = await client.discovery(new URL(`${worker.url}/${T}/v2.0`), APP, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  for (const email of [ATTACKER, VICTIM]) {
    const b = new Browser();
    let page = await b.open((await authorization()).url);
    page = await read(await b.post(page, { action: "switch" }));
    page = await read(await b.post(page, { action: "email", email }));
    page = await read(await b.post(page, { action: "code", code: await latestCode(worker, email) }));
    let res = await b.post(page, { action: "password", password: PASSWORD });
    if (res.status === 200) res = await b.post(await read(res), { action: "attributes", "attr.displayName": "Someone" });
    assert.equal(res.status, 303, `the sign-up of ${email} ends with a redirect`);
  }
});
after(async () => { await worker?.stop(); });

const authorization = (extra = {}) => authorizationRequest(config, { redirect_uri: REDIRECT, scope: "openid profile email offline_access", ...extra });

async function read(res) {
  const html = await res.text();
  const doc = new JSDOM(html).window.document;
  return { status: res.status, html, doc, h1: doc.querySelector("h1")?.textContent };
}

/** The attacker's own sign-in, stopped on the password page in the attacker's browser. */
async function attackerPasswordPage(attacker) {
  const page = await read(await attacker.post(await attacker.open((await authorization()).url), { action: "email", email: ATTACKER }));
  assert.equal(page.h1, "Enter your password", page.html);
  return page;
}

/** Asserts a post was refused as another browser's: 403, no redirect, no cookie. */
async function refused(res, what) {
  assert.equal(res.headers.get("location"), null, `${what}: no redirect (no code, no error to the app)`);
  assert.equal(res.headers.get("set-cookie"), null, `${what}: no single sign-on cookie planted`);
  assert.equal(res.status, 403, what);
  assert.match(await res.text(), /not opened in this browser|started in another browser/, what);
}

test("the attacker's handle posted from a browser without Fetch Metadata is refused; the handle is not spent", async () => {
  const attacker = new Browser();
  const page = await attackerPasswordPage(attacker);

  // The victim's browser has no cookie of ours at all.
  const bare = new Browser();
  await refused(await bare.post(page, { action: "password", password: PASSWORD }), "no cookie");
  assert.equal(bare.cookies.size, 0);

  // The victim's browser has its own sign-in open (so its own binding cookie).
  const victim = new Browser();
  const own = await victim.open((await authorization()).url);
  assert.equal(own.h1, "Sign in", own.html);
  await refused(await victim.post(page, { action: "password", password: PASSWORD }), "the victim's own cookie");
  // No single sign-on session reached the victim: the next authorization asks for sign-in.
  assert.equal((await victim.open((await authorization()).url)).h1, "Sign in");

  // The victim's own sign-in still works in the victim's browser.
  let mine = await read(await victim.post(own, { action: "email", email: VICTIM }));
  assert.equal(mine.h1, "Enter your password", mine.html);
  const done = await victim.post(mine, { action: "password", password: PASSWORD });
  assert.equal(done.status, 303);
  assert.ok(new URL(done.headers.get("location")).searchParams.get("code"));

  // The refused posts spent nothing: the attacker's own browser finishes its sign-in.
  const back = await attacker.post(page, { action: "password", password: PASSWORD });
  assert.equal(back.status, 303, "the real browser's own post works");
  assert.ok(new URL(back.headers.get("location")).searchParams.get("code"));
  assert.ok(attacker.cookies.has("vestibule_session"));
});

test("several tabs of one browser each keep their own sign-in", async () => {
  const b = new Browser();
  const first = await b.open((await authorization()).url);
  const second = await b.open((await authorization()).url);
  const third = await b.open((await authorization({ prompt: "create" })).url);
  // The first tab's form still works after the second and third opened theirs.
  const one = await read(await b.post(first, { action: "email", email: VICTIM }));
  assert.equal(one.h1, "Enter your password", one.html);
  const two = await read(await b.post(second, { action: "email", email: ATTACKER }));
  assert.equal(two.h1, "Enter your password", two.html);
  const three = await read(await b.post(third, { action: "switch" }));
  assert.equal(three.h1, "Sign in", three.html);
  const done = await b.post(one, { action: "password", password: PASSWORD });
  assert.equal(done.status, 303);
});

test("the binding cookie: HttpOnly, SameSite=Lax, short-lived, not Secure over http; reused by the browser", async () => {
  const b = new Browser();
  const res = await fetch((await authorization()).url, { redirect: "manual" });
  const set = res.headers.getSetCookie();
  assert.equal(set.length, 1, JSON.stringify(set));
  assert.match(set[0], /^vestibule_bind=[A-Za-z0-9_-]{43}; Path=\/csrf\/; Max-Age=1800; HttpOnly; SameSite=Lax$/);
  b.keep(res);
  const value = b.cookies.get("vestibule_bind");
  // The browser's cookie is kept (its Max-Age renewed), so its other tabs stay bound.
  const again = await fetch((await authorization()).url, { redirect: "manual", headers: { cookie: b.header() } });
  assert.equal(again.headers.getSetCookie()[0].split(";")[0], `vestibule_bind=${value}`);
  // A malformed value is replaced, not trusted.
  const junk = await fetch((await authorization()).url, { redirect: "manual", headers: { cookie: "vestibule_bind=short" } });
  assert.notEqual(junk.headers.getSetCookie()[0].split(";")[0], "vestibule_bind=short");
});
