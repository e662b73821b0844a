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
  id?: string;
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
  signInConditions?: Record<string, unknown>;
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
