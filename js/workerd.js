// Cloudflare Workers (JS): the bundler turns the .wasm import into a compiled module.
import wasmModule from "./vestibule_bg.wasm";
import { initSync } from "./vestibule.js";
initSync({ module: wasmModule });
export * from "./api.js";
