// Serves the demo with scripts/serve-www.mjs on a free loopback port and opens Debian's
// Chromium through playwright-core with a fresh profile, as every browser test needs.
// Chromium's own config and cache go to the scratch dir, not $HOME.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const shots = join(root, "test-output", "screenshots");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** @returns {Promise<{baseUrl: string, context: import("playwright-core").BrowserContext, stop: () => Promise<void>}>} */
export async function startDemo(scratchPrefix) {
  assert.ok(existsSync(join(root, "pkg", "browser.js")),
    "pkg/browser.js is missing: build the package first with `bash scripts/build-pkg.sh`");
  mkdirSync(shots, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), scratchPrefix));
  const server = spawn(process.execPath, [join(root, "scripts", "serve-www.mjs"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
  let context;
  const stop = async () => {
    await context?.close();
    server.kill();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const baseUrl = await new Promise((resolve, reject) => {
      let out = "";
      server.stdout.on("data", (chunk) => {
        out += chunk;
        const line = out.split("\n").find((l) => l.startsWith("http://"));
        if (line) resolve(line.trim());
      });
      server.once("exit", (code) => reject(new Error(`serve-www.mjs exited with ${code}`)));
      setTimeout(() => reject(new Error("serve-www.mjs printed no URL in 10 s")), 10_000);
    });
    context = await launchChromium(scratch);
    return { baseUrl, context, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Debian's Chromium, headless, with a fresh profile and its config and cache in `scratch`. */
export function launchChromium(scratch) {
  const xdg = join(scratch, "xdg");
  return chromium.launchPersistentContext(join(scratch, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    env: { ...process.env, XDG_CONFIG_HOME: xdg, XDG_CACHE_HOME: xdg },
  });
}

/**
 * A fresh page on the seeded tenant at `#route`: the first load in a tab clears saved state,
 * reloads in the same tab keep it. Page errors, console errors (but those `allowConsole`
 * matches), failed requests (and, with `failOnDialog`, any alert/confirm) are collected; `page.done(name)` takes a screenshot,
 * closes the page and fails the journey if anything was collected.
 */
export async function openPage(context, url, { viewport = DESKTOP, failOnDialog = false, allowConsole = null } = {}) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  await page.addInitScript(() => {
    if (!sessionStorage.getItem("tenant-cleared")) {
      localStorage.clear();
      sessionStorage.setItem("tenant-cleared", "yes");
    }
  });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !allowConsole?.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  if (failOnDialog) page.on("dialog", (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.goto(url);
  await page.waitForSelector("body[data-ready]", { timeout: 15_000 });
  page.done = async (name) => {
    if (name) await shot(page, name);
    await page.close();
    assert.deepEqual(problems, [], "the page reported errors");
  };
  return page;
}

/** A full-page screenshot, from the top (the side navigation is sticky). */
export async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Waits until the locator's visible text matches `pattern`, then returns that text. */
export async function textOf(locator, pattern, timeout) {
  const end = Date.now() + timeout;
  let text = "";
  for (;;) {
    text = (await locator.count()) ? await locator.first().innerText() : "";
    if (pattern.test(text)) return text;
    if (Date.now() > end) assert.fail(`expected text matching ${pattern}, saw: ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
