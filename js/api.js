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
  constructor(compiled) { this.#compiled = compiled; }
  evaluate(input) { return this.#use((c, text) => c.evaluateJson(text), input); }
  whatIf(input) { return this.#use((c, text) => c.whatIfJson(text), input); }
  free() { this.#compiled?.free(); this.#compiled = undefined; }
  #use(fn, input) {
    if (!this.#compiled) return { error: { code: "input.engine_freed", message: "this policy engine was freed; compile the policies again" } };
    const { text, error } = encode(input);
    if (error) return { error };
    return JSON.parse(fn(this.#compiled, text));
  }
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
