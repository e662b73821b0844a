// Session 6 (smsfix): on the hosted sign-in pages, as in native auth, an SMS whose
// delivery failed (the provider answered 503: nothing was sent) does not use up the SMS
// velocity, so once the provider is back the user registers their phone. The SMS hook is
// a real receiver on 127.0.0.1; email codes go to the dev outbox.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { assertLogClean, workerWithSmsHook } from "../support/native.mjs";
import { alertText as alert, readPage as read, signUpToSecondFactor, submitForm } from "../support/hosted.mjs";

const T = "smsrefund";
const REDIRECT = "http://127.0.0.1:9/callback";
const PASSWORD = "Hosted-Refund-Passphrase-6";
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const US = { "cf-ipcountry": "US" };

let worker;
let stop;
let providerUp = false;
/** Every SMS the hook got, with the status it was answered. */
const texts = [];

before(async () => {
  ({ worker, stop } = await workerWithSmsHook(T, SECRET, (body, res) => {
    const status = providerUp ? 200 : 503;
    texts.push({ body, status });
    res.writeHead(status, { "content-type": "application/json" }).end("{}");
  }));
});

after(async () => { await stop?.(); });

const submit = (page, fields) => submitForm(worker.url, page, fields, US);

test("hosted pages: three SMS deliveries refused by the provider, then the phone registers once it is back", async () => {
  const email = "refund.hosted@example.com";
  const phone = "+12025550181";
  let page = await signUpToSecondFactor(worker, T, { email, password: PASSWORD, redirectUri: REDIRECT, headers: US });
  // The provider is down: each try is a 503 and its one retry, and the page (kept, with
  // the reason) is where the user tries again.
  for (let i = 0; i < 3; i++) {
    page = await read(await submit(page, { action: "register", channel: "sms", phone }));
    assert.match(alert(page), /could not be sent by SMS/, page.html);
  }
  assert.equal(texts.length, 6, "each try is one 503 and one retry");
  providerUp = true;
  page = await read(await submit(page, { action: "register", channel: "sms", phone }));
  assert.equal(page.h1, "Enter the code", `no SMS was ever sent, yet: ${alert(page) || page.html}`);
  assert.equal(texts.length, 7);
  assert.equal(texts.at(-1).status, 200);
});

test("nothing secret reaches the Worker log", () => {
  const seen = [SECRET, PASSWORD, "+12025550181"];
  for (const t of texts) seen.push(JSON.parse(t.body).data.otpContext.oneTimeCode);
  assertLogClean(worker.output(), seen);
});
