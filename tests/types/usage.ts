// Compiled with `tsc --noEmit` against the package's declarations: if the types drift from
// how an app uses them, the test command fails. The @ts-expect-error lines fail the build
// if a type decays to `any` or accepts what it must refuse.
import { compilePolicies, evaluate, validatePolicies, version, whatIf } from "vestibule";
import type { ConditionalAccessPolicy, Decision, Enforcement, ErrorEnvelope } from "vestibule";

const info = version();
const name: "vestibule" = info.name;
// @ts-expect-error BuildInfo has no such field; an `any` return type would accept it.
info.notAField;

const policy: ConditionalAccessPolicy = {
  id: "mfa-everyone",
  displayName: "MFA for everyone",
  state: "enabledForReportingButNotEnforced",
  conditions: { users: { includeUsers: ["All"] }, applications: { includeApplications: ["All"] } },
  grantControls: { operator: "OR", builtInControls: ["mfa"] },
};
// @ts-expect-error `state` only takes Graph's three values.
const badState: ConditionalAccessPolicy = { ...policy, state: "on" };

const answer = evaluate({ policies: [policy], signIn: { userId: "u", appId: "a" }, satisfied: [{ method: "password", at: 1 }], now: 2 });
function describe(a: Enforcement | ErrorEnvelope): string {
  if ("error" in a) return a.error.code;
  const d: Decision = a.decision;
  switch (d.type) {
    case "allow": return "allow";
    case "block": return d.policyIds.join(",");
    case "require": return d.mfa ? "mfa" : "other";
  }
}
// @ts-expect-error satisfied methods are password, email or sms.
evaluate({ policies: [policy], signIn: { userId: "u", appId: "a" }, satisfied: [{ method: "fido", at: 1 }], now: 2 });

const w = whatIf({
  policies: [policy],
  request: {
    signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn", userId: "u" },
    signInContext: { "@odata.type": "#microsoft.graph.applicationContext", includeApplications: ["a"] },
    signInConditions: { clientAppType: "browser" },
  },
});
// @ts-expect-error every policy in a set needs its `id` (the engine answers policy.missing_field).
const noId: ConditionalAccessPolicy = { displayName: policy.displayName, state: policy.state, conditions: policy.conditions };
whatIf({
  policies: [policy],
  // @ts-expect-error `signInConditions` is required (the engine answers policy.missing_field).
  request: {
    signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn", userId: "u" },
    signInContext: { "@odata.type": "#microsoft.graph.applicationContext", includeApplications: ["a"] },
  },
});
const applies: boolean = "value" in w ? w.value.every((r) => r.policyApplies) : false;
const valid: boolean = validatePolicies({ policies: [policy] }).valid;
const compiled = compilePolicies({ policies: [policy] });
if (compiled.engine) compiled.engine.free();

export default [name, describe(answer), applies, valid, badState, noId];

import { Flow, memoryUsers } from "vestibule";
import type { CodeDelivery, StepResult } from "vestibule";
const sent: CodeDelivery[] = [];
const flow = new Flow({ config: { authenticationMethodsPolicy: {}, userFlow: {} }, codeKey: "00".repeat(32), users: memoryUsers(), deliver: (d) => { sent.push(d); } });
export async function journey(): Promise<string> {
  const r: StepResult = await flow.start({ type: "startSignIn", appId: "a", email: "e@example.com" });
  if (r.error) return r.error.code;
  // @ts-expect-error a step input needs its fields: submitCode without a code is refused.
  await flow.next(r.flowId ?? "", { type: "submitCode" });
  return r.reply.type === "codeSent" ? r.reply.targetLabel : r.reply.type;
}
// The caller's IP feeds the per-network send counters; a refusal carries retryAfter.
export async function fromNetwork(ip: string): Promise<number | undefined> {
  const r = await flow.start({ type: "startSignIn", appId: "a", email: "e@example.com" }, { ip });
  if (r.error) return r.error.code === "delivery.too_many" ? r.retryAfter : undefined;
  await flow.next(r.flowId ?? "", { type: "challenge" }, { ip });
  // @ts-expect-error the IP is text, not a number.
  await flow.next(r.flowId ?? "", { type: "challenge" }, { ip: 3405803785 });
  return undefined;
}
// A delivery that may hang is cut off after `deliveryTimeoutMs`; the option is a number.
export const patient = new Flow({ config: { authenticationMethodsPolicy: {}, userFlow: {} }, codeKey: "00".repeat(32), deliveryTimeoutMs: 5000 });
// @ts-expect-error the timeout is milliseconds as a number, not text.
export const wrongTimeout = new Flow({ config: { authenticationMethodsPolicy: {}, userFlow: {} }, codeKey: "00".repeat(32), deliveryTimeoutMs: "5s" });
// The other callbacks' limit is a number of milliseconds too.
export const boundedCallbacks = new Flow({ config: { authenticationMethodsPolicy: {}, userFlow: {} }, codeKey: "00".repeat(32), callbackTimeoutMs: 2000 });
// @ts-expect-error callbackTimeoutMs is milliseconds, not a string
export const wrongCallbackTimeout = new Flow({ config: { authenticationMethodsPolicy: {}, userFlow: {} }, codeKey: "00".repeat(32), callbackTimeoutMs: "2s" });
