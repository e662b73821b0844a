// The Worker in the real Workers runtime: health, a KV round trip through real requests,
// and an outbound fetch to a server this test runs on 127.0.0.1 (what delivery hooks need).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { startWorker } from "../support/worker.mjs";

let worker;
before(async () => { worker = await startWorker(); });
after(async () => { await worker?.stop(); });

test("healthz answers with name and version as JSON", async () => {
  const res = await fetch(`${worker.url}/healthz`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /application\/json/);
  const body = await res.json();
  assert.equal(body.name, "vestibule");
  const cargo = (await import("node:fs")).readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8");
  assert.equal(body.version, cargo.match(/^version\s*=\s*"([^"]+)"/m)[1]);
});

test("a value written to KV through one request is read back by another", async () => {
  const key = `probe-${Date.now()}`;
  const missing = await fetch(`${worker.url}/_dev/kv/${key}`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "kv.not_found");

  const put = await fetch(`${worker.url}/_dev/kv/${key}`, { method: "PUT", body: "hello from the test" });
  assert.equal(put.status, 200);
  const got = await fetch(`${worker.url}/_dev/kv/${key}`);
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), { key, value: "hello from the test" });
});

test("the Worker reaches an HTTP server on 127.0.0.1", async () => {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(202, { "content-type": "application/json" });
    res.end(JSON.stringify({ accepted: true }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const target = `http://127.0.0.1:${server.address().port}/hook?n=1`;
    const res = await fetch(`${worker.url}/_dev/fetch?url=${encodeURIComponent(target)}`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 202, body: '{"accepted":true}' });
    assert.deepEqual(seen, ["/hook?n=1"]);
  } finally {
    server.close();
  }
});

test("the dev outbox answers cross-origin reads, so the demo can show codes", async () => {
  const res = await fetch(`${worker.url}/_dev/outbox?to=${encodeURIComponent("nobody@example.com")}`, {
    headers: { origin: "http://127.0.0.1:8080" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.deepEqual(await res.json(), { messages: [] });
});

test("the fetch probe refuses anything but loopback, so it is no open proxy", async () => {
  const res = await fetch(`${worker.url}/_dev/fetch?url=${encodeURIComponent("http://example.com/")}`, { method: "POST" });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, "request.url_not_allowed");
});

test("unknown routes and wrong methods answer JSON errors, not plain text", async () => {
  const cases = [
    ["GET", "/no/such/route", 404, "route.not_found"],
    ["GET", "/", 404, "route.not_found"],
    ["DELETE", "/healthz", 405, "route.method_not_allowed"],
  ];
  for (const [method, path, status, code] of cases) {
    const res = await fetch(`${worker.url}${path}`, { method });
    assert.equal(res.status, status, `${method} ${path}`);
    assert.match(res.headers.get("content-type"), /application\/json/);
    assert.equal((await res.json()).error.code, code);
  }
});
