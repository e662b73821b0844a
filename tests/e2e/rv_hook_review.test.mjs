// Review (session 6, hookreview): delivery hook behaviour a real deployment hits, against
// the Worker in workerd with real receivers on 127.0.0.1 checked by the reference
// Standard Webhooks verifier (npm `standardwebhooks`). Each was a defect fixed in session
// 6 and stays as a regression.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { startWorker } from "../support/worker.mjs";
import { ADMIN, CAPS, TYPES, assertLogClean, ct, nativeVars, post, requireMfa } from "../support/native.mjs";

const PASSWORD = "Review-Hooks-Passphrase-42";
const TOKEN = "oauth2/v2.0/token";
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;

/** One server, a receiver per path: verifies every request, records it, answers as told. */
function receivers() {
  const routes = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const r = routes.get(req.url);
      if (!r) { res.writeHead(404).end(); return; }
      const body = Buffer.concat(chunks).toString("utf8");
      const entry = { headers: { ...req.headers }, body, at: Date.now() };
      r.requests.push(entry);
      try { new Webhook(SECRET).verify(body, req.headers); entry.verified = true; } catch { entry.verified = false; }
      const { status = 200, delayMs = 0, headers = {}, text = "{}" } = r.respond(r.requests.length) ?? {};
      if (delayMs) await new Promise((ok) => setTimeout(ok, delayMs));
      if (!res.destroyed) res.writeHead(status, { "content-type": "application/json", ...headers }).end(text);
    });
  });
  return {
    server,
    routes,
    add(path, respond = () => ({ status: 200 })) {
      const r = { respond, requests: [] };
      routes.set(path, r);
      return r;
    },
    async listen() {
      await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
      return `http://127.0.0.1:${server.address().port}`;
    },
  };
}

const hub = receivers();
let worker;
let base;
before(async () => {
  base = await hub.listen();
  worker = await startWorker({ vars: { ...nativeVars(), E2E_HOOK_SECRETS: SECRET } });
});
after(async () => {
  await worker?.stop();
  hub.server.closeAllConnections();
  hub.server.close();
});

const codeOf = (entry) => JSON.parse(entry.body).data.otpContext.oneTimeCode;

async function putHooks(tenant, doc) {
  const res = await fetch(`${worker.url}/${tenant}/v1.0/vestibule/deliveryHooks`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify(doc),
  });
  assert.equal(res.status, 200, await res.text());
}

async function signUpToChallenge(tenant, address) {
  const r = await post(worker, tenant, "signup/v1.0/start", { username: address, challenge_type: TYPES, capabilities: CAPS, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return ct(r);
}
const challenge = (tenant, token) => post(worker, tenant, "signup/v1.0/challenge", { continuation_token: token, challenge_type: TYPES });

test("a 307 from the receiver is not followed to another host and fails with the clear error", async () => {
  const elsewhere = hub.add("/elsewhere");
  // `localhost` is another host name than the configured 127.0.0.1.
  const port = new URL(base).port;
  const redirecting = hub.add("/redirect", () => ({ status: 307, headers: { location: `http://localhost:${port}/elsewhere` } }));
  await putHooks("redir", { email: { url: `${base}/redirect`, secretName: "E2E_HOOK_SECRETS" } });
  const r = await challenge("redir", await signUpToChallenge("redir", "redir@example.com"));
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.error, "server_error");
  assert.equal(redirecting.requests.length, 1);
  assert.equal(elsewhere.requests.length, 0, "the redirect was followed: the code went to another host");
});

test("a 204 and a 200 with a large body both count as delivered", async () => {
  const empty = hub.add("/204", () => ({ status: 204, text: "" }));
  await putHooks("nocontent", { email: { url: `${base}/204`, secretName: "E2E_HOOK_SECRETS" } });
  let r = await challenge("nocontent", await signUpToChallenge("nocontent", "nocontent@example.com"));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(empty.requests.length, 1);
  const big = hub.add("/big", () => ({ status: 200, text: JSON.stringify({ pad: "x".repeat(2_000_000) }) }));
  await putHooks("bigbody", { email: { url: `${base}/big`, secretName: "E2E_HOOK_SECRETS" } });
  r = await challenge("bigbody", await signUpToChallenge("bigbody", "bigbody@example.com"));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(big.requests.length, 1);
});

test("a connection dropped without an answer is retried once with the same webhook-id", async () => {
  // Its own server: the first request's socket is destroyed without an answer (a network
  // error for the Worker), the second is answered 200.
  const seenHere = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verified = true;
      try { new Webhook(SECRET).verify(body, req.headers); } catch { verified = false; }
      seenHere.push({ id: req.headers["webhook-id"], verified });
      if (seenHere.length === 1) req.socket.destroy();
      else res.writeHead(200).end("{}");
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  try {
    await putHooks("flaky", { email: { url: `http://127.0.0.1:${server.address().port}/`, secretName: "E2E_HOOK_SECRETS" } });
    const r = await challenge("flaky", await signUpToChallenge("flaky", "flaky@example.com"));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  } finally {
    server.closeAllConnections();
    server.close();
  }
  assert.equal(seenHere.length, 2);
  assert.equal(seenHere[0].id, seenHere[1].id);
  assert.ok(seenHere[0].verified && seenHere[1].verified);
});

test("a receiver that times out but sent the code: the user's retry sends no second, different code", async () => {
  // The receiver passes the code to the SMS/email provider at once, then answers too late.
  const slow = hub.add("/late", (n) => (n === 1 ? { status: 200, delayMs: 6500 } : { status: 200 }));
  await putHooks("late", { email: { url: `${base}/late`, secretName: "E2E_HOOK_SECRETS" } });
  const token = await signUpToChallenge("late", "late@example.com");
  const first = await challenge("late", token);
  assert.equal(first.status, 503, JSON.stringify(first.body));
  assert.deepEqual(first.body.error_codes, [1003005]);
  assert.equal(slow.requests.length, 1);
  const delivered = codeOf(slow.requests[0]); // what reached the user's inbox
  // The client retries with the same token, as the error tells it to: the code that may
  // have arrived is offered again, and nothing new is sent.
  const retry = await challenge("late", token);
  assert.equal(retry.status, 200, JSON.stringify(retry.body));
  assert.equal(retry.body.challenge_type, "oob");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(slow.requests.length, 1, "no second code went out");
  const r = await post(worker, "late", "signup/v1.0/continue", { continuation_token: ct(retry), grant_type: "oob", oob: delivered });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test("failed SMS deliveries do not use up the SMS velocity: once the provider is back the user can register", async () => {
  const tenant = "smsback";
  const emailHook = hub.add("/smsback-email");
  let providerUp = false;
  const sms = hub.add("/smsback-sms", () => ({ status: providerUp ? 200 : 503 }));
  await putHooks(tenant, {
    email: { url: `${base}/smsback-email`, secretName: "E2E_HOOK_SECRETS" },
    sms: { url: `${base}/smsback-sms`, secretName: "E2E_HOOK_SECRETS" },
  });
  await requireMfa(worker, tenant);
  const address = "smsback@example.com";
  let r = await challenge(tenant, await signUpToChallenge(tenant, address));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await post(worker, tenant, "signup/v1.0/continue", { continuation_token: ct(r), grant_type: "oob", oob: codeOf(emailHook.requests.at(-1)) });
  r = await post(worker, tenant, TOKEN, { continuation_token: ct(r), grant_type: "continuation_token", username: address });
  assert.equal(r.body.suberror, "registration_required", JSON.stringify(r.body));
  r = await post(worker, tenant, "register/v1.0/introspect", { continuation_token: ct(r) });
  const t = ct(r);
  const phone = "+15550003333";
  const register = () => post(worker, tenant, "register/v1.0/challenge", { continuation_token: t, challenge_type: "oob", challenge_target: phone, challenge_channel: "sms" });
  // The provider is down: three tries, each a clear 503 asking to try again.
  for (let i = 0; i < 3; i++) {
    r = await register();
    assert.equal(r.status, 503, JSON.stringify(r.body));
  }
  const failedPosts = sms.requests.length;
  assert.equal(failedPosts, 6, "each try is one 503 and one retry");
  // The provider is back: the same token, as the error said.
  providerUp = true;
  r = await register();
  assert.equal(r.status, 200, `no SMS was ever sent, yet the retry is refused: ${JSON.stringify(r.body)}`);
  assert.equal(sms.requests.length, failedPosts + 1);
});

test("a 429 with Retry-After longer than the budget is not retried at once", async () => {
  // Standard Webhooks (reference, peers-and-standards.md): "Honor `retry-after`".
  const limited = hub.add("/limited", (n) => (n === 1 ? { status: 429, headers: { "retry-after": "30" } } : { status: 200 }));
  await putHooks("limited", { email: { url: `${base}/limited`, secretName: "E2E_HOOK_SECRETS" } });
  const r = await challenge("limited", await signUpToChallenge("limited", "limited@example.com"));
  const gaps = limited.requests.slice(1).map((q, i) => q.at - limited.requests[i].at);
  assert.equal(limited.requests.length, 1, `the receiver asked for 30 s and was called again after ${gaps.join(", ")} ms (answer ${r.status})`);
  assert.equal(r.status, 503, JSON.stringify(r.body));
});

test("a 503 with Retry-After as an HTTP-date 30 s ahead is not retried either", async () => {
  const dated = hub.add("/dated", (n) => (n === 1 ? { status: 503, headers: { "retry-after": new Date(Date.now() + 30_000).toUTCString() } } : { status: 200 }));
  await putHooks("dated", { email: { url: `${base}/dated`, secretName: "E2E_HOOK_SECRETS" } });
  const r = await challenge("dated", await signUpToChallenge("dated", "dated@example.com"));
  assert.equal(dated.requests.length, 1, `answer ${r.status}`);
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.deepEqual(r.body.error_codes, [1003002]);
});

test("a 503 with Retry-After within the budget is retried once, after the wait it asked for", async () => {
  const waited = hub.add("/waited", (n) => (n === 1 ? { status: 503, headers: { "retry-after": "2" } } : { status: 200 }));
  await putHooks("waited", { email: { url: `${base}/waited`, secretName: "E2E_HOOK_SECRETS" } });
  const r = await challenge("waited", await signUpToChallenge("waited", "waited@example.com"));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(waited.requests.length, 2);
  const [first, second] = waited.requests;
  assert.equal(first.headers["webhook-id"], second.headers["webhook-id"]);
  assert.ok(second.verified);
  // Two seconds asked; the clocks of the two processes differ by little.
  assert.ok(second.at - first.at >= 1900, `retried after ${second.at - first.at} ms`);
});

test("one continuation token submitted to /challenge five times at once sends one code", async () => {
  const counted = hub.add("/concurrent");
  await putHooks("concurrent", { email: { url: `${base}/concurrent`, secretName: "E2E_HOOK_SECRETS" } });
  const token = await signUpToChallenge("concurrent", "concurrent@example.com");
  // A double-tapped "send code" button, or a client retrying on a slow network.
  const answers = await Promise.all(Array.from({ length: 5 }, () => challenge("concurrent", token)));
  const ok = answers.filter((r) => r.status === 200);
  const codes = new Set(counted.requests.map(codeOf));
  assert.equal(counted.requests.length, 1, `${ok.length} of 5 replays were answered 200 and ${counted.requests.length} codes (${codes.size} distinct) went out`);
  assert.equal(ok.length, 1, "one replay goes on");
  for (const r of answers.filter((a) => a.status !== 200)) assert.equal(r.body.error, "invalid_grant", JSON.stringify(r.body));
});

test("control: the same token replayed after its answer is refused and sends nothing", async () => {
  const counted = hub.add("/sequential");
  await putHooks("sequential", { email: { url: `${base}/sequential`, secretName: "E2E_HOOK_SECRETS" } });
  const token = await signUpToChallenge("sequential", "sequential@example.com");
  const first = await challenge("sequential", token);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const again = await challenge("sequential", token);
  assert.equal(again.status, 400, JSON.stringify(again.body));
  assert.equal(counted.requests.length, 1);
});

test("nothing secret reaches the Worker log in these journeys", () => {
  const seen = [SECRET, PASSWORD, "+15550003333"];
  for (const path of ["/elsewhere", "/redirect", "/204", "/big", "/late", "/smsback-email", "/smsback-sms", "/limited", "/dated", "/waited", "/concurrent", "/sequential"]) {
    const r = hub.routes?.get(path);
    if (r) for (const q of r.requests) { seen.push(codeOf(q)); seen.push(JSON.parse(q.body).data.otpContext.identifier); }
  }
  assert.ok(seen.length > 10, "the journeys sent codes");
  assertLogClean(worker.output(), seen);
});
