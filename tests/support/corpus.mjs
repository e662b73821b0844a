// The malformed-request corpus: loading the data files under tests/corpus/http/, filling
// their placeholders, sending each entry byte for byte, and checking the answer.
//
// Requests go through node:http rather than fetch, because fetch normalizes what the
// corpus needs to send as is: `..` segments and percent escapes in the path, duplicate
// headers, bodies with invalid UTF-8, and methods with a body fetch forbids.
//
// Entry format (see tests/corpus/http/README.md):
//   { "name", "method"?, "path", "headers"?, one of "form" | "body" | "bodyBase64" | "json",
//     "expect": { "status", "error"?, "errorCodes"?, "suberror"?, "description"?, "code"?, "platform"?, "empty"?,
//                 "html"?, "message"?, "redirect"?, "fragment"?, "state"?, "bearer"? } }
// `form` is an object or a list of [name, value] pairs (for duplicates); strings may hold
// `{{placeholders}}` (see `fill`).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";

const corpusDir = new URL("../corpus/http/", import.meta.url).pathname;

/** Every corpus file, sorted by name: `{file, description, defaults, entries}`. */
export function loadCorpus(dir = corpusDir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => {
      const data = JSON.parse(readFileSync(join(dir, file), "utf8"));
      assert.ok(Array.isArray(data.entries), `${file}: \`entries\` must be a list`);
      const names = new Set();
      for (const e of data.entries) {
        assert.equal(typeof e.name, "string", `${file}: every entry needs a name`);
        assert.ok(!names.has(e.name), `${file}: the entry name \`${e.name}\` appears twice`);
        names.add(e.name);
        assert.equal(typeof e.path, "string", `${file}: ${e.name}: path`);
        assert.equal(typeof e.expect?.status, "number", `${file}: ${e.name}: expect.status`);
      }
      return { file, description: data.description ?? "", defaults: data.defaults ?? {}, entries: data.entries };
    });
}

/** Built-in generators usable as placeholders in any string:
 * `{{repeat:N:text}}` text repeated N times; `{{nest:N}}` N nested arrays;
 * `{{nestobj:N}}` N nested objects. Everything else is looked up in `resolve`. */
const GENERATORS = {
  repeat: (n, ...text) => text.join(":").repeat(Number(n)),
  nest: (n) => "[".repeat(Number(n)) + "]".repeat(Number(n)),
  nestobj: (n) => '{"a":'.repeat(Number(n)) + "1" + "}".repeat(Number(n)),
};

/** Fills `{{name}}` placeholders in `text`; `resolve(name)` may be async. Within one
 * entry the same name always resolves to the same value (`cache`). */
export async function fill(text, resolve, cache) {
  const names = [...text.matchAll(/\{\{(.+?)\}\}/g)].map((m) => m[1]);
  for (const name of names) {
    if (cache.has(name)) continue;
    const [head, ...args] = name.split(":");
    const value = GENERATORS[head] && args.length > 0 ? GENERATORS[head](...args) : await resolve(name);
    assert.equal(typeof value, "string", `the placeholder {{${name}}} has no value`);
    cache.set(name, value);
  }
  return text.replace(/\{\{(.+?)\}\}/g, (_, name) => cache.get(name));
}

/** Turns an entry (with its file's defaults) into `{method, path, headers, body}`,
 * placeholders filled. `headers` is a list of [name, value] pairs; a default header set
 * to null in the entry is dropped. */
export async function prepare(entry, defaults, resolve) {
  const cache = new Map();
  const f = (s) => fill(String(s), resolve, cache);
  const merged = { ...(defaults.headers ?? {}), ...(entry.headers ?? {}) };
  const headers = [];
  for (const [name, value] of Object.entries(merged)) {
    if (value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.push([name, await f(v)]);
  }
  let body;
  if (entry.form !== undefined) {
    const pairs = Array.isArray(entry.form) ? entry.form : Object.entries(entry.form);
    const params = new URLSearchParams();
    for (const [k, v] of pairs) params.append(await f(k), await f(v));
    body = Buffer.from(params.toString());
  } else if (entry.json !== undefined) {
    body = Buffer.from(await f(JSON.stringify(entry.json)));
  } else if (entry.body !== undefined) {
    body = Buffer.from(await f(entry.body));
  } else if (entry.bodyBase64 !== undefined) {
    body = Buffer.from(entry.bodyBase64, "base64");
  }
  return { method: entry.method ?? defaults.method ?? "POST", path: await f(entry.path), headers, body };
}

/** Sends a prepared request as is; resolves to `{status, headers, text}`. */
export function send(baseUrl, { method, path, headers, body }) {
  const url = new URL(baseUrl);
  // With a header list node:http adds no Host header; HTTP/1.1 requires one.
  const flat = headers.some(([k]) => k.toLowerCase() === "host") ? [] : ["host", url.host];
  for (const [k, v] of headers) flat.push(k, v);
  if (body !== undefined && !headers.some(([k]) => k.toLowerCase() === "content-length")) {
    flat.push("content-length", String(body.length));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: flat, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path.slice(0, 80)} timed out`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Checks one answer against the entry's `expect`, and the rules every answer keeps:
 * never a 5xx, always JSON with a code (a string `error` for the protocol, `error.code`
 * for the admin API). Returns the parsed body. */
export function check(entry, res) {
  const where = `${entry.name}: ${res.status} ${res.text.slice(0, 400)}`;
  const want = entry.expect;
  assert.ok(res.status < 500, `a 5xx answer: ${where}`);
  assert.equal(res.status, want.status, `status: ${where}`);
  if (want.empty) {
    assert.equal(res.text, "", `an empty body: ${where}`);
    return undefined;
  }
  if (want.redirect !== undefined) return checkRedirect(want, res, where);
  if (want.html) return checkPage(want, res, where);
  if (want.platform && !String(res.headers["content-type"] ?? "").includes("json")) {
    // The runtime itself refused the request before the Worker saw it (e.g. header
    // size limits); only the status is the Worker's business.
    return undefined;
  }
  assert.match(String(res.headers["content-type"]), /^application\/json/, `content type: ${where}`);
  let body;
  try { body = JSON.parse(res.text); } catch { assert.fail(`not JSON: ${where}`); }
  if (res.status >= 400) {
    const protocol = typeof body.error === "string";
    const admin = typeof body.error?.code === "string";
    assert.ok(protocol || admin, `no error code: ${where}`);
    if (protocol && want.bearer) {
      // RFC 6750 §3: a resource's error carries `WWW-Authenticate: Bearer …` and only
      // `error` / `error_description` in the body.
      assert.match(String(res.headers["www-authenticate"] ?? ""), /^Bearer\b/, `www-authenticate: ${where}`);
      if (typeof want.bearer === "string") assert.match(res.headers["www-authenticate"], new RegExp(`error="${want.bearer}"`), `www-authenticate: ${where}`);
      assert.equal(typeof body.error_description, "string", `error_description: ${where}`);
    } else if (protocol) {
      for (const f of ["error_description", "trace_id", "correlation_id", "timestamp"]) {
        assert.equal(typeof body[f], "string", `${f}: ${where}`);
      }
      assert.ok(Array.isArray(body.error_codes), `error_codes: ${where}`);
    } else {
      assert.equal(typeof body.error.message, "string", `error.message: ${where}`);
      assert.ok(body.error.message.length > 0, `error.message: ${where}`);
    }
  }
  if (want.error !== undefined) assert.equal(body.error, want.error, `error: ${where}`);
  if (want.code !== undefined) assert.equal(body.error?.code, want.code, `error.code: ${where}`);
  if (want.errorCodes !== undefined) assert.deepEqual(body.error_codes, want.errorCodes, `error_codes: ${where}`);
  if (want.suberror !== undefined) assert.equal(body.suberror, want.suberror, `suberror: ${where}`);
  if (want.description !== undefined) assert.ok(String(body.error_description).includes(want.description), `error_description \`${body.error_description}\` lacks \`${want.description}\`: ${where}`);
  return body;
}

/** A hosted-page error (`expect.html`): HTML that is neither cached nor framed, no
 * `location` anywhere, and the person is told why in the page's alert (`expect.message`,
 * a substring of its text). */
function checkPage(want, res, where) {
  assert.match(String(res.headers["content-type"]), /^text\/html/, `content type: ${where}`);
  assert.equal(res.headers.location, undefined, `an error page never redirects: ${where}`);
  assert.equal(res.headers["cache-control"], "no-store", `cache-control: ${where}`);
  assert.match(String(res.headers["content-security-policy"]), /frame-ancestors 'none'/, `csp: ${where}`);
  if (res.status < 400) return undefined;
  const alert = /<p id="error"[^>]*role="alert">([\s\S]*?)<\/p>/.exec(res.text);
  assert.ok(alert, `no readable error on the page: ${where}`);
  const text = alert[1].replace(/<[^>]*>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  assert.ok(text.trim().length > 0, `an empty error message: ${where}`);
  if (want.message !== undefined) assert.ok(text.includes(want.message), `message \`${text}\` lacks \`${want.message}\`: ${where}`);
  return undefined;
}

/** An authorization error sent back to the client (`expect.redirect`: the registered
 * redirect URI it must go to): `303`, the response in the query (or `expect.fragment`),
 * with `error`, `error_description`, `iss` (RFC 9207) and `state` when expected. */
function checkRedirect(want, res, where) {
  const location = String(res.headers.location ?? "");
  assert.ok(location.startsWith(want.redirect), `location \`${location.slice(0, 200)}\`: ${where}`);
  assert.equal(res.text, "", `a redirect has no body: ${where}`);
  const url = new URL(location);
  const params = want.fragment ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
  if (want.error !== undefined) assert.equal(params.get("error"), want.error, `error: ${where}`);
  if (want.error !== undefined) assert.ok(params.get("error_description"), `error_description: ${where}`);
  if (want.state !== undefined) assert.equal(params.get("state"), want.state, `state: ${where}`);
  assert.ok(params.get("iss"), `iss: ${where}`);
  return params;
}
