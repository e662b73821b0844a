// Starts the real Worker in workerd through `wrangler dev` on free loopback ports, with its
// own persisted KV directory, and stops the whole process group afterwards. The Worker must
// already be built (scripts/build-worker.sh); VESTIBULE_PREBUILT makes wrangler's [build]
// step reuse that build instead of rebuilding per test file.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @param {{vars?: Record<string,string>, timeoutMs?: number, config?: string, healthPath?: string, inspector?: boolean}} [opts]
 * @returns {Promise<{url: string, stop: () => Promise<void>, output: () => string, pid: number, inspectorPort?: number}>}
 * `pid` is wrangler's, the leader of the process group that also holds workerd.
 * `inspectorPort` (with `inspector: true`) is wrangler's Chrome DevTools Protocol proxy to
 * the Worker's isolate (bench/load/cpu.mjs profiles through it).
 *
 * A free port found here can be taken by another process before wrangler binds it (another
 * test run on the machine, say), so a start that fails with "Address already in use" is
 * tried again on new ports, up to three times.
 */
export async function startWorker(opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(String(e?.message))) throw e;
    }
  }
}

async function startOnce(opts) {
  const port = await freePort();
  const inspector = opts.inspector ? await freePort() : undefined;
  const state = mkdtempSync(join(tmpdir(), "vestibule-kv-"));
  const vars = opts.config ? { ...(opts.vars ?? {}) } : { DEV_ROUTES: "on", ...(opts.vars ?? {}) };
  const args = [
    "dev", ...(opts.config ? ["--config", opts.config] : []), "--ip", "127.0.0.1", "--port", String(port),
    ...(inspector ? ["--inspector-port", String(inspector)] : []), "--inspector-ip", "127.0.0.1",
    "--persist-to", state, "--show-interactive-dev-session=false", "--log-level", "info",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child = spawn(join(root, "node_modules/.bin/wrangler"), args, {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      VESTIBULE_PREBUILT: "1",
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      XDG_CONFIG_HOME: join(root, ".tools/config"),
      CI: "1",
    },
  });
  let output = "";
  const collect = (chunk) => { output += chunk.toString(); };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      try { process.kill(-child.pid, "SIGTERM"); } catch { /* already gone */ }
      const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch {} }, 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const url = `http://127.0.0.1:${port}`;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (/Ready on/.test(output)) {
      try {
        const res = await fetch(`${url}${opts.healthPath ?? "/healthz"}`);
        if (res.ok) return { url, stop, output: () => output, pid: child.pid, inspectorPort: inspector };
      } catch { /* not listening yet */ }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready:\n${output}`);
}
