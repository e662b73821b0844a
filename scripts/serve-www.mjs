#!/usr/bin/env node
// Serves the browser demo the way any static host would: the repository root is the web
// root, so /www/ (the demo) and /pkg/ (the built npm package it imports through an import
// map) are both reachable, and nothing else is. No dependencies, 127.0.0.1 only.
//
//   node scripts/serve-www.mjs [port]        (or PORT=8080 node scripts/serve-www.mjs)
//
// Port 0 (the default) asks the system for a free port. The first line printed is the URL,
// `http://127.0.0.1:<port>/www/`, so tests and scripts can read it.
import { createServer } from "node:http";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// Only these top-level folders are published: the rest of the repository (sources,
// .dev.vars, .wrangler state) has no business on a web server, even a local one.
const PUBLIC = ["www", "pkg"];
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

function parsePort(argv, env) {
  const fromArgs = argv.find((a) => /^\d+$/.test(a)) ?? argv.find((a) => a.startsWith("--port="))?.slice(7);
  const text = fromArgs ?? env.PORT ?? "0";
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`\`${text}\` is not a port number (0-65535)`);
  }
  return port;
}

function send(res, status, text, headers = {}) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

/** Maps a URL path to a file under a public folder, or null when it must not be served. */
function resolvePath(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const relative = normalize(decoded).replace(/^[/\\]+/, "");
  const top = relative.split(/[/\\]/)[0];
  if (!PUBLIC.includes(top) || relative.split(sep).includes("..")) return null;
  return join(root, relative);
}

async function handle(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return send(res, 405, "method not allowed\n", { allow: "GET, HEAD" });
  }
  const { pathname } = new URL(req.url ?? "/", "http://127.0.0.1");
  if (pathname === "/" || pathname === "/www") return send(res, 302, "", { location: "/www/" });
  let file = resolvePath(pathname);
  if (!file) return send(res, 404, "not found\n");
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    if (!pathname.endsWith("/")) return send(res, 302, "", { location: `${pathname}/` });
    file = join(file, "index.html");
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) return send(res, 404, "not found\n");
  res.writeHead(200, {
    "content-type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    "content-length": info.size,
    // A demo under active development: always fetch the newest build.
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  if (req.method === "HEAD") return res.end();
  createReadStream(file).on("error", () => res.destroy()).pipe(res);
}

const port = parsePort(process.argv.slice(2), process.env);
const server = createServer((req, res) => {
  handle(req, res).catch((e) => send(res, 500, `internal error: ${e?.message ?? e}\n`));
});
server.listen(port, "127.0.0.1", () => {
  const { port: actual } = server.address();
  console.log(`http://127.0.0.1:${actual}/www/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
