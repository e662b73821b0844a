// Public types of the `vestibule` package. The wasm glue (vestibule.js) is internal; these
// are the functions the entry points export. Objects are plain JSON: they can be stored,
// logged (they hold no secrets) and compared with Microsoft Graph's documents.

/** Which engine build answers, so apps can log it. */
export interface BuildInfo { name: "vestibule"; version: string }

/** A stable error: assert on `code`; `message` is for people; `target` is the JSON path. */
export interface ErrorBody {
  code: string;
  message: string;
  target?: string;
  /** Every problem, when there is more than one. */
  details?: ErrorBody[];
}
export interface ErrorEnvelope { error: ErrorBody }

/** A Graph `conditionalAccessPolicy` (v1.0). Unknown fields are rejected, not ignored. */
export interface ConditionalAccessPolicy {
  "@odata.type"?: "#microsoft.graph.conditionalAccessPolicy";
  /** Required: results, decisions and references name policies by id. */
  id: string;
  displayName: string;
  description?: string | null;
  state: "enabled" | "disabled" | "enabledForReportingButNotEnforced";
  conditions: Record<string, unknown>;
  grantControls?: {
    operator: "AND" | "OR";
    builtInControls?: string[];
    customAuthenticationFactors?: string[];
    termsOfUse?: string[];
    authenticationStrength?: { id: string; allowedCombinations?: string[]; [k: string]: unknown } | null;
  } | null;
  sessionControls?: Record<string, unknown> | null;
  createdDateTime?: string | null;
  modifiedDateTime?: string | null;
  templateId?: string | null;
  [field: string]: unknown;
}

/** A Graph `ipNamedLocation` or `countryNamedLocation`. */
export type NamedLocation =
  | { "@odata.type": "#microsoft.graph.ipNamedLocation"; id?: string; displayName: string; isTrusted?: boolean;
      ipRanges: { "@odata.type": "#microsoft.graph.iPv4CidrRange" | "#microsoft.graph.iPv6CidrRange"; cidrAddress: string }[];
      [field: string]: unknown }
  | { "@odata.type": "#microsoft.graph.countryNamedLocation"; id?: string; displayName: string;
      countriesAndRegions: string[]; includeUnknownCountriesAndRegions?: boolean;
      countryLookupMethod?: "clientIpAddress" | "authenticatorAppGps"; [field: string]: unknown };

export interface PolicyInput { policies: ConditionalAccessPolicy[]; namedLocations?: NamedLocation[] }

/** The Graph `evaluate` request body (What If). */
export interface GraphEvaluateRequest {
  signInIdentity: { "@odata.type": "#microsoft.graph.userSignIn"; userId: string; externalTenantId?: string; externalUserType?: string };
  signInContext:
    | { "@odata.type": "#microsoft.graph.applicationContext"; includeApplications: string[] }
    | { "@odata.type": "#microsoft.graph.userActionContext"; userAction: string }
    | { "@odata.type": "#microsoft.graph.authContext"; authenticationContextValue: string };
  /** Required, as in Graph; `{}` when nothing is known about the sign-in. */
  signInConditions: Record<string, unknown>;
  appliedPoliciesOnly?: boolean;
}
export interface Directory { groupIds?: string[]; roleIds?: string[] }
export interface WhatIfInput extends PolicyInput { request: GraphEvaluateRequest; directory?: Directory }
/** Each result is the policy itself plus the analysis. */
export type WhatIfAnalysis = ConditionalAccessPolicy & { policyApplies: boolean; analysisReasons: string };
export interface WhatIfResponse { value: WhatIfAnalysis[] }

export type AuthMethod = "password" | "email" | "sms";
export interface SatisfiedMethod { method: AuthMethod; /** unix seconds */ at: number }
/** One sign-in after its first factor. */
export interface SignIn {
  userId: string;
  appId: string;
  isGuest?: boolean;
  groupIds?: string[];
  roleIds?: string[];
  userAction?: string;
  authContexts?: string[];
  ipAddress?: string;
  country?: string;
  clientAppType?: string;
  devicePlatform?: string;
  signInRisk?: string;
  userRisk?: string;
  device?: Record<string, unknown>;
  authenticationFlow?: string;
  externalUserType?: string;
  externalTenantId?: string;
  passwordChanged?: boolean;
}
export interface EvaluateInput extends PolicyInput { signIn: SignIn; satisfied?: SatisfiedMethod[]; /** unix seconds */ now: number }
export interface Requirements {
  mfa: boolean;
  /** Each unmet strength: any one combination (a set of methods) satisfies it. */
  authenticationStrengths: AuthMethod[][][];
  reauthentication: boolean;
  passwordChange: boolean;
  policyIds: string[];
}
export type Decision =
  | { type: "allow" }
  | { type: "block"; policyIds: string[] }
  | ({ type: "require" } & Requirements);
export type PolicyOutcome =
  | "success" | "failure" | "notApplied" | "notEnabled"
  | "reportOnlySuccess" | "reportOnlyFailure" | "reportOnlyNotApplied" | "reportOnlyInterrupted";
export interface PolicyResult { id: string; displayName: string; result: PolicyOutcome; reasons: string[]; unmetControls?: string[] }
export interface Enforcement { decision: Decision; policies: PolicyResult[] }
export interface Validation { valid: boolean; errors: ErrorBody[] }

export function version(): BuildInfo;
/** What If: exactly the Graph response body, or an error envelope. Never throws. */
export function whatIf(input: WhatIfInput): WhatIfResponse | ErrorEnvelope;
/** Enforcement: the decision with per-policy results, or an error envelope. Never throws. */
export function evaluate(input: EvaluateInput): Enforcement | ErrorEnvelope;
/** Every problem in a policy set, each with its JSON path. Never throws. */
export function validatePolicies(input: PolicyInput): Validation;

/** A policy set compiled once; only the per-sign-in input crosses into wasm per call. */
export interface PolicyEngine {
  evaluate(input: { signIn: SignIn; satisfied?: SatisfiedMethod[]; now: number }): Enforcement | ErrorEnvelope;
  whatIf(input: { request: GraphEvaluateRequest; directory?: Directory }): WhatIfResponse | ErrorEnvelope;
  /** Releases the compiled set now instead of at garbage collection. */
  free(): void;
}
export function compilePolicies(input: PolicyInput): { engine: PolicyEngine; error?: undefined } | { engine?: undefined; error: ErrorBody };

// ---- Flows -------------------------------------------------------------------------

/** The flow configuration: Graph `authenticationMethodsPolicy`, the user flow
 * (`externalUsersSelfServiceSignUpEventsFlow` shape) and Vestibule's own settings. */
export interface FlowConfig {
  authenticationMethodsPolicy: Record<string, unknown>;
  userFlow: Record<string, unknown>;
  settings?: {
    mfaEnforcement?: "off" | "always" | "conditional";
    [setting: string]: unknown;
  };
}
export type Channel = "email" | "sms";
export interface Capabilities { mfaRequired?: boolean; registrationRequired?: boolean }
/** A start input opens a flow; the others continue one. */
export type FlowInput =
  | { type: "startSignIn"; appId: string; email: string; capabilities?: Capabilities; challengeTypes?: unknown; facts?: Record<string, unknown>; authContexts?: string[] }
  | { type: "startSignUp"; appId: string; email: string; password?: string; attributes?: Record<string, unknown>; capabilities?: Capabilities; challengeTypes?: unknown; facts?: Record<string, unknown> }
  | { type: "startPasswordReset"; appId: string; email: string; capabilities?: Capabilities; facts?: Record<string, unknown> }
  | { type: "startStepUp"; appId: string; session: StepUpSession; authContexts?: string[]; capabilities?: Capabilities; challengeTypes?: unknown; facts?: Record<string, unknown> }
  | { type: "startMethodChange"; appId: string; session: StepUpSession; change: Record<string, unknown>; facts?: Record<string, unknown> }
  | { type: "challenge"; challengeTypes?: unknown }
  | { type: "submitPassword"; password: string }
  | { type: "submitCode"; code: string }
  | { type: "submitAttributes"; attributes: Record<string, unknown> }
  | { type: "listMethods" }
  | { type: "selectMethod"; id: string }
  | { type: "registerMethod"; channel: Channel; target: string }
  | { type: "continue" }
  | { type: "pollCompletion" }
  | { type: "redeemContinuation" }
  | { type: "cancel" };
/** A signed-in session as the app kept it from `TokenGrant`. With `signedInAt` (unix
 * seconds, when its tokens were issued), a password change or reset after it ends the
 * session: its methods stop counting and the first factor is asked again. */
export interface StepUpSession { userId: string; methods: SatisfiedMethod[]; signedInAt?: number }
export interface MfaMethod { id: string; channel: Channel; loginHint: string }
export interface RegistrationMethod { id: string; channel: Channel; loginHint?: string }
/** What a step answers; `type` tells which. */
export type Reply =
  | { type: "started" | "passwordRequired" | "preverified" | "credentialRequired" | "resetCompleted" | "reauthenticationRequired" | "passwordChangeRequired" | "cancelled" }
  | { type: "codeSent"; channel: Channel; targetLabel: string; target?: string; codeLength: number; interval: number; expiresIn: number }
  | { type: "attributesRequired"; attributes: Record<string, unknown>[] }
  | { type: "verified"; expiresIn?: number }
  | { type: "resetSubmitted"; pollInterval: number }
  | { type: "mfaRequired" | "mfaMethods"; methods: MfaMethod[] }
  | { type: "registrationRequired" | "registrationMethods"; methods: RegistrationMethod[] }
  | { type: "signedIn"; userId: string; amr: string[]; acr: string }
  | { type: "methodChanged"; methodId: string }
  | { type: "redirect"; reason: string }
  | { type: "blocked"; reason: string; policyIds: string[] }
  | { type: "rejected"; rejection: { code: string; [detail: string]: unknown } };
/** A code for the app to deliver (email or SMS). */
export interface CodeDelivery { channel: Channel; to: string; code: string; purpose: string; expiresAt: number }
/** What tokens should say: issued only when every required control was met in the flow. */
export interface TokenGrant { userId: string; appId: string; email: string; displayName?: string; amr: string[]; acr: string; acrs: string[]; authTime: number; methods: SatisfiedMethod[] }
export interface AuditEvent { at: number; flow: string; event: string; userId?: string; appId: string; channel?: Channel; reason?: string }
/** A user record as the engine stores it; keep it wherever the app keeps users, and hand it
 * back exactly: the engine refuses fields it does not know (a store's own bookkeeping
 * columns belong beside the record, not in it). */
export interface UserRecord {
  id: string;
  email: string;
  passwordHash?: string;
  displayName?: string;
  attributes?: Record<string, unknown>;
  groups?: string[];
  strongMethods?: { id: string; channel: Channel; target: string; registeredAt: number }[];
  lockout?: { consecutiveFailures?: number; lockedUntil?: number; disabled?: boolean };
  createdAt: number;
  passwordChangedAt?: number;
}
/** Where flow states live between steps, and the send counters (under `send/…` keys, with
 * their own `meta.expiresAt`). A callback that throws or rejects makes the step
 * answer `callback.failed` with the callback's name as `target` (so do the UserStore's and
 * the other callbacks). A flow id is continued by one call at a time in a process (a second
 * call meanwhile answers `flow.busy`), whichever Flow or storage object it goes through;
 * processes that share a storage need a lock of their own around `next`. */
export interface FlowStorage {
  get(flowId: string): string | undefined | null | Promise<string | undefined | null>;
  /** `meta.expiresAt` is when the engine stops accepting this state and `meta.now` the
   * Flow's clock, both unix seconds: a store with a time-to-live can keep the state for
   * `expiresAt - now` seconds. */
  set(flowId: string, state: string, meta?: { expiresAt: number; now: number }): void | Promise<void>;
  delete(flowId: string): void | Promise<void>;
}
/** The app's users. Two sign-ups for one email that finish at the same moment both end in
 * `save` of a new record: a store shared by several processes should make the email unique
 * (a unique index) so that the second save fails. */
export interface UserStore {
  findById(id: string): UserRecord | undefined | Promise<UserRecord | undefined>;
  /** Called with the address as the engine compares it (trimmed, ASCII lowercased), the
   * form saved records carry, not as typed. */
  findByEmail(email: string): UserRecord | undefined | Promise<UserRecord | undefined>;
  save(user: UserRecord): void | Promise<void>;
}
export interface FlowOptions {
  config: FlowConfig;
  /** The key codes are hashed with: at least 32 bytes, hex or base64. Keep it secret. */
  codeKey: string;
  /** Conditional Access, used when `settings.mfaEnforcement` is `conditional`. */
  conditionalAccess?: PolicyInput;
  storage?: FlowStorage;
  users?: UserStore;
  /** Delivers a code; throw to report failure. The step then answers `delivery.failed`
   * and its flow id stays valid for a retry; the failed send counts against the flow's cap
   * on codes (`settings.codes.maxCodesPerFlow`). */
  deliver?: (delivery: CodeDelivery) => void | Promise<void>;
  /** How long `deliver` may take, in milliseconds (default 10000). A step whose delivery
   * has not settled by then answers `delivery.timed_out`; the code may still arrive, so the
   * retry (a `challenge` on the same flow id) answers with that code instead of sending a
   * second one. */
  deliveryTimeoutMs?: number;
  /** How long each of the other callbacks (storage, users, `onTokens`, `onAudit`, `now`) may
   * take, in milliseconds (default 30000). One that has not settled by then fails the step
   * as `callback.failed` naming it, and frees the flow id for a retry. */
  callbackTimeoutMs?: number;
  onTokens?: (grant: TokenGrant) => void | Promise<void>;
  onAudit?: (event: AuditEvent) => void | Promise<void>;
  /** Unix seconds; defaults to the system clock. */
  now?: () => number;
}
/** `delivery.too_many` (a send counter refused the code) carries `retryAfter`, seconds. */
export type StepResult = { flowId: string | null; reply: Reply; tokens?: TokenGrant; error?: undefined } | (ErrorEnvelope & { flowId?: undefined; reply?: undefined; retryAfter?: number });
/** About the request a step serves. A context of another shape (not an object, `ip` not
 * non-empty text) answers `flow.invalid_context` naming it, rather than silently counting
 * without the network. */
export interface StepContext {
  /** The caller's IP address: the send counters per network count only with it. */
  ip?: string;
}
/** Runs flows. Before a step's code goes out it passes the same send counters the Worker
 * keeps (`settings.emailVelocity`, `settings.smsVelocity`: per address or number, per
 * network with `context.ip`, per account and per calling code), stored in `storage` under
 * `send/…` keys (keyed hashes: no address or number in clear). A refused send answers
 * `delivery.too_many` with `retryAfter`, and nothing of the step is applied. As in the
 * Worker, a send is counted before its code goes out (parallel requests in one process
 * queue per counter, so a burst cannot all pass one count) and given back if it failed; a
 * timed-out send stays counted. Counts are not atomic across processes. */
export class Flow {
  constructor(options: FlowOptions);
  start(input: FlowInput, context?: StepContext): Promise<StepResult>;
  next(flowId: string, input: FlowInput, context?: StepContext): Promise<StepResult>;
}
/** In-memory flow states; expired ones are dropped as new ones are stored. */
export function memoryStorage(): FlowStorage;
/** Flow states in `localStorage` under `prefix`, each with its expiry (`<prefix><id>.expires`);
 * expired ones are dropped as new ones are stored. */
export function localStorageStorage(prefix?: string, store?: Storage): FlowStorage;
export function memoryUsers(initial?: UserRecord[]): UserStore & { all(): UserRecord[] };
