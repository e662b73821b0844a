// A person double-clicks "Continue" on a hosted page. The browser sends the form twice and
// shows the answer to the second post. Each page's handle is good for one post, so that
// second post used to get "this sign-in page has expired or was already used" (or, when it
// read the handle before the first post removed it, ran the step a second time and sent a
// second code). A second post of a form now runs nothing and answers with where the first
// one led: the same next page, or the same redirect.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";
import { assertLogClean, latestCode, nativeVars } from "../support/native.mjs";
import { authorizeUrl, readPage, submitForm } from "../support/hosted.mjs";

const PASSWORD = "Correct-Horse-Battery-9";
const REDIRECT = "http://127.0.0.1:9/callback";
let worker;
const seen = [PASSWORD];
before(async () => { worker = await startWorker({ vars: nativeVars() }); });
after(async () => { await worker?.stop(); });

async function authorize(tenant) {
  const page = await readPage(await fetch(authorizeUrl(worker, tenant, REDIRECT), { redirect: "manual" }));
  assert.equal(page.status, 200, page.html);
  return page;
}

const handleOf = (page) => page.doc.querySelector("input[name=interaction]")?.value;

async function outboxCount(to) {
  const res = await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent(to)}`);
  return (await res.json()).messages.length;
}

/** Posts `fields` from `page` twice, the second a moment after the first, as a double
 * click does; both answers. */
async function doubleSubmit(page, fields) {
  const first = submitForm(worker.url, page, fields);
  await new Promise((ok) => setTimeout(ok, 20));
  const second = submitForm(worker.url, page, fields);
  return Promise.all([first.then(readPage), second.then(readPage)]);
}

test("a form posted twice sends one code and both answers show the same next page", async () => {
  const tenant = "double-submit";
  const email = "double@example.com";
  seen.push(email);
  let page = await authorize(tenant);
  page = await readPage(await submitForm(worker.url, page, { action: "switch" }));
  const [one, two] = await doubleSubmit(page, { action: "email", email });
  for (const answer of [one, two]) assert.equal(answer.h1, "Enter the code", `${answer.status} ${answer.doc.querySelector("[role=alert]")?.textContent ?? answer.h1}`);
  assert.equal(handleOf(one), handleOf(two), "both answers carry the next page's one handle");
  assert.equal(await outboxCount(email), 1, "one code was sent");

  // The page the browser shows (the second answer) goes on.
  const code = await latestCode(worker, email);
  seen.push(code);
  const [three, four] = await doubleSubmit(two, { action: "code", code });
  assert.equal(three.h1, four.h1);
  assert.equal(handleOf(three), handleOf(four));
  page = await readPage(await submitForm(worker.url, four, { action: "password", password: PASSWORD }));
  if (page.h1 === "About you") page = await readPage(await submitForm(worker.url, page, { action: "attributes", "attr.displayName": "Double" }));
  assert.equal(page.status, 303, `${page.status} ${page.h1}`);
  assert.ok(page.location.startsWith(REDIRECT), page.location);
});

test("the last form posted twice redirects both answers with the one authorization code", async () => {
  const tenant = "double-finish";
  const email = "double-finish@example.com";
  seen.push(email);
  let page = await authorize(tenant);
  page = await readPage(await submitForm(worker.url, page, { action: "switch" }));
  page = await readPage(await submitForm(worker.url, page, { action: "email", email }));
  const code = await latestCode(worker, email);
  seen.push(code);
  page = await readPage(await submitForm(worker.url, page, { action: "code", code }));
  let finish = { action: "password", password: PASSWORD };
  if (page.h1 !== "About you") {
    const [one, two] = await doubleSubmit(page, finish);
    assert.equal(one.status, 303, `${one.status} ${one.h1}`);
    assert.equal(two.status, 303, `${two.status} ${two.h1}`);
    assert.equal(one.location, two.location, "one code, one redirect");
    seen.push(new URL(one.location).searchParams.get("code"));
    return;
  }
  page = await readPage(await submitForm(worker.url, page, finish));
  finish = { action: "attributes", "attr.displayName": "Double" };
  const [one, two] = await doubleSubmit(page, finish);
  assert.equal(one.status, 303, `${one.status} ${one.h1}`);
  assert.equal(two.status, 303, `${two.status} ${two.h1} ${two.doc.querySelector("[role=alert]")?.textContent}`);
  assert.equal(one.location, two.location, "one code, one redirect");
  seen.push(new URL(one.location).searchParams.get("code"));
});

test("no code, password or email reaches the Worker log", () => {
  assertLogClean(worker.output(), seen);
});
