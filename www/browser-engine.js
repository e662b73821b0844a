// "Engine: in this browser". The customer app drives the package's `Flow` exactly as any
// app would: flow state in memory, customer accounts in this browser's localStorage, codes
// handed to the simulated inbox and phone by the `deliver` callback. The flow configuration
// and the Conditional Access policies are read from the tenant at every step, so a change
// saved in the admin console applies to the next step.
//
//   const engine = browserEngine({ vestibule, tenant: () => tenant, onDelivery });
//   let r = await engine.start({ type: "startSignIn", appId, email });   // { flowId, reply, tokens? } | { error }
//   r = await engine.next(r.flowId, { type: "challenge" });
import { conditionalAccess, flowConfig } from "./flow-config.js";

/** Where customer accounts are kept (separate from the tenant's directory). */
export const USERS_KEY = "vestibule-demo.customers.v1";

/** A UserStore (see js/index.d.ts) over one localStorage entry, falling back to memory. */
export function browserUsers(key = USERS_KEY) {
  let memory = {};
  const read = () => {
    try {
      return JSON.parse(globalThis.localStorage?.getItem(key) ?? "null") ?? memory;
    } catch {
      return memory;
    }
  };
  const write = (all) => {
    memory = all;
    try {
      globalThis.localStorage?.setItem(key, JSON.stringify(all));
    } catch {
      // private mode or full: kept in memory for this page
    }
  };
  return {
    findById: (id) => read()[id],
    findByEmail: (email) => Object.values(read()).find((u) => u.email === String(email).trim().toLowerCase()),
    save: (user) => write({ ...read(), [user.id]: user }),
    all: () => Object.values(read()),
    clear: () => write({}),
  };
}

/** A random 32-byte code key for this page: codes only need to verify within the page. */
function pageCodeKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The engine running in this page. `onDelivery({ channel, to, code, purpose, expiresAt, label, sentAt })`
 * is called once the step that sent the code has answered, so the message can carry the
 * masked label the app shows (`codeSent.targetLabel`). `onAudit(event)` receives the
 * engine's audit events.
 */
export function browserEngine({ vestibule, tenant, onDelivery, onAudit, users = browserUsers() }) {
  const storage = vestibule.memoryStorage();
  const codeKey = pageCodeKey();

  async function run(call) {
    const sent = [];
    const current = tenant();
    const flow = new vestibule.Flow({
      config: flowConfig(current),
      conditionalAccess: conditionalAccess(current),
      codeKey, storage, users,
      deliver: (delivery) => { sent.push(delivery); },
      onAudit,
    });
    const result = await call(flow);
    const label = result.reply?.type === "codeSent" ? result.reply.targetLabel : undefined;
    for (const d of sent) {
      onDelivery?.({ ...d, label: label ?? (d.channel === "sms" ? "your phone" : "your email"), sentAt: Math.floor(Date.now() / 1000) });
    }
    return result;
  }

  return {
    kind: "browser",
    users,
    /** Step-up (authentication contexts) runs in this engine. */
    start: (input) => run((flow) => flow.start(input)),
    next: (flowId, input) => run((flow) => flow.next(flowId, input)),
    /** The stored account for an email, for explanations (groups feed Conditional Access). */
    findUser: async (email) => users.findByEmail(email),
  };
}
