// The typed, non-throwing JavaScript API over the wasm exports. JSON text crosses the
// boundary; every failure, including input that cannot be serialized, comes back as
// `{ error: { code, message, target? } }`.
import * as wasm from "./vestibule.js";

function encode(input) {
  try {
    const text = JSON.stringify(input);
    if (text === undefined) return { error: inputError("the input must be a JSON-compatible object") };
    return { text };
  } catch (e) {
    return { error: inputError(`the input cannot be serialized as json: ${e?.message ?? e}`) };
  }
}

function inputError(message) {
  return { code: "input.not_json", message };
}

function call(fn, input) {
  const { text, error } = encode(input);
  if (error) return { error };
  return JSON.parse(fn(text));
}

export function version() {
  return JSON.parse(wasm.versionJson());
}

export function whatIf(input) {
  return call(wasm.whatIfJson, input);
}

export function evaluate(input) {
  return call(wasm.evaluateJson, input);
}

export function validatePolicies(input) {
  const { text, error } = encode(input);
  if (error) return { valid: false, errors: [error] };
  return JSON.parse(wasm.validatePoliciesJson(text));
}

// Compiled sets are released when garbage collected (wasm-bindgen registers a
// FinalizationRegistry); `free()` releases one at once.
class PolicyEngine {
  #compiled;
  #names;
  constructor(compiled) {
    this.#compiled = compiled;
    this.#names = JSON.parse(compiled.policyNamesJson());
  }
  evaluate(input) { return this.#use((c, text) => expand(c.evaluateCompact(text), this.#names), input); }
  whatIf(input) { return this.#use((c, text) => JSON.parse(c.whatIfJson(text)), input); }
  free() { this.#compiled?.free(); this.#compiled = undefined; }
  #use(fn, input) {
    if (!this.#compiled) return { error: { code: "input.engine_freed", message: "this policy engine was freed; compile the policies again" } };
    const { text, error } = encode(input);
    if (error) return { error };
    return fn(this.#compiled, text);
  }
}

// Rebuilds the enforcement answer from the compact form of `evaluateCompact` (the Rust side,
// src/policy/compiled_api.rs, documents it): an error envelope is one line of JSON; an answer
// is the decision as JSON, a newline, then per policy `index\tresult\treason\tunmet,controls\n`.
// The objects are the ones JSON.parse would build from the JSON answer, keys in the same order.
function expand(text, names) {
  const end = text.indexOf("\n");
  if (end < 0) return JSON.parse(text);
  const decision = JSON.parse(text.slice(0, end));
  const policies = [];
  for (let pos = end + 1; pos < text.length;) {
    const t1 = text.indexOf("\t", pos);
    const t2 = text.indexOf("\t", t1 + 1);
    const t3 = text.indexOf("\t", t2 + 1);
    const nl = text.indexOf("\n", t3 + 1);
    const [id, displayName] = names[+text.slice(pos, t1)];
    const record = { id, displayName, result: text.slice(t1 + 1, t2), reasons: t3 > t2 + 1 ? [text.slice(t2 + 1, t3)] : [] };
    if (nl > t3 + 1) record.unmetControls = text.slice(t3 + 1, nl).split(",");
    policies.push(record);
    pos = nl + 1;
  }
  return { decision, policies };
}

export function compilePolicies(input) {
  const { text, error } = encode(input);
  if (error) return { error };
  const compiled = wasm.compilePoliciesJson(text);
  if (compiled) return { engine: new PolicyEngine(compiled) };
  const { errors } = JSON.parse(wasm.validatePoliciesJson(text));
  const [first = { code: "policy.invalid", message: "the policies are not valid" }] = errors;
  return { error: errors.length > 1 ? { ...first, details: errors } : first };
}

export { Flow, memoryStorage, localStorageStorage, memoryUsers } from "./flow.js";
