// Browsers and bundlers: fetch and instantiate the wasm next to this file once, at import.
import init from "./vestibule.js";
await init({ module_or_path: new URL("./vestibule_bg.wasm", import.meta.url) });
export * from "./api.js";
