// On the hosted pages, a code whose delivery service answered after the time budget may
// still reach the person (the provider passed it on, then was slow to say so). The page
// goes on to the code entry with a note, as if it was sent, and the code that arrives
// late works; a "send again" there is a new code. Keeping the person on the page with an
// error made them ask again, and the second code voided the one already on its way.
// The SMS hook is a real receiver on 127.0.0.1; email codes go to the dev outbox.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { assertLogClean, workerWithSmsHook } from "../support/native.mjs";
import { alertText as alert, readPage as read, signUpToSecondFactor, submitForm } from "../support/hosted.mjs";

const T = "slowtext";
const REDIRECT = "http://127.0.0.1:9/callback";
const PASSWORD = "Hosted-Slow-Passphrase-7";
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const US = { "cf-ipcountry": "US" };

let worker;
let stop;
/** Every SMS the hook got. The first is answered after the Worker's 5 s budget. */
const texts = [];

before(async () => {
  ({ worker, stop } = await workerWithSmsHook(T, SECRET, (body, res) => {
    texts.push(body);
    const delay = texts.length === 1 ? 6500 : 0;
    setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end("{}"), delay);
  }));
});

after(async () => { await stop?.(); });

const submit = (page, fields) => submitForm(worker.url, page, fields, US);
const codeOf = (text) => JSON.parse(text).data.otpContext.oneTimeCode;

test("hosted pages: an SMS confirmed late leads to the code page, and that code registers the phone", async () => {
  const email = "slow.text@example.com";
  const phone = "+12025550182";
  let page = await signUpToSecondFactor(worker, T, { email, password: PASSWORD, redirectUri: REDIRECT, headers: US });

  page = await read(await submit(page, { action: "register", channel: "sms", phone }));
  assert.equal(texts.length, 1, "one SMS, not retried");
  assert.equal(page.h1, "Enter the code", `the person is sent back instead: ${alert(page) || page.html}`);
  assert.match(alert(page), /slow to confirm/, "and told the text may be late");

  // The text arrives after all: its code registers the phone and signs the person in.
  page = await read(await submit(page, { action: "code", code: codeOf(texts[0]) }));
  assert.equal(page.status, 303, `${page.h1}: ${alert(page) || page.html}`);
  assert.ok(page.location?.startsWith(REDIRECT) && new URL(page.location).searchParams.get("code"), page.location);
  assert.equal(texts.length, 1, "no second SMS went out");
});

test("nothing secret reaches the Worker log", () => {
  const seen = [SECRET, PASSWORD, "+12025550182"];
  for (const t of texts) seen.push(codeOf(t));
  assertLogClean(worker.output(), seen);
});
