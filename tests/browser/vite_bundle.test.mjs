// The package in a bundler, as a user gets it: `npm install vestibule` (a real copy in
// node_modules, not a link), a stock Vite config, `import ... from "vestibule"`. Both the
// production build and the dev server must load the wasm and answer in headless Chromium.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { after, before, test } from "node:test";
import { build, createServer as createViteServer } from "vite";
import { launchChromium, root, shot } from "../support/browser.mjs";

let scratch;
let app;
let context;
before(async () => {
  assert.ok(existsSync(join(root, "pkg", "browser.js")), "build the package first: bash scripts/build-pkg.sh");
  scratch = mkdtempSync(join(tmpdir(), "vestibule-vite-"));
  app = join(scratch, "app");
  cpSync(join(root, "tests", "fixtures", "vite-app"), app, { recursive: true });
  cpSync(join(root, "pkg"), join(app, "node_modules", "vestibule"), { recursive: true });
  context = await launchChromium(scratch);
});
after(async () => {
  await context?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Opens `url`, waits for the app to report, and returns what it computed. */
async function answerAt(url, name) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  await page.goto(url);
  await page.waitForSelector("body[data-ready]", { timeout: 15_000 }).catch(() => {});
  const text = await page.locator("#result").innerText();
  await shot(page, name);
  await page.close();
  assert.deepEqual(problems, [], "the page reported errors");
  return JSON.parse(text);
}

function assertAnswer(out) {
  assert.match(out.version, /^\d+\.\d+\.\d+$/);
  assert.equal(out.applies, true, "What If: the MFA policy applies to alice");
  assert.equal(out.brokenValid, false);
  assert.equal(typeof out.brokenCode, "string");
}

/** A static file server for the build output on a free loopback port. */
function serveStatic(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer(async (req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname)));
    const file = path.endsWith(sep) ? join(path, "index.html") : path;
    if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

test("vite build: the bundled app loads the wasm asset and answers", async () => {
  const outDir = join(scratch, "dist");
  await build({ root: app, logLevel: "silent", build: { outDir, emptyOutDir: true } });
  const assets = readdirSync(join(outDir, "assets"));
  assert.ok(assets.some((f) => f.endsWith(".wasm")), `the wasm was emitted as an asset: ${assets}`);
  const server = await serveStatic(outDir);
  try {
    assertAnswer(await answerAt(`http://127.0.0.1:${server.address().port}/`, "vite-build"));
  } finally {
    server.close();
  }
});

test("vite dev server: the app loads the package through the dev server and answers", async () => {
  const server = await createViteServer({
    root: app,
    logLevel: "silent",
    server: { host: "127.0.0.1", port: 0, strictPort: false },
    cacheDir: join(scratch, "vite-cache"),
  });
  await server.listen();
  try {
    const { port } = server.httpServer.address();
    assertAnswer(await answerAt(`http://127.0.0.1:${port}/`, "vite-dev"));
  } finally {
    await server.close();
  }
});
