// Node: Node's fetch cannot read file: URLs, so the wasm is read from disk and compiled once.
import { readFileSync } from "node:fs";
import { initSync } from "./vestibule.js";
initSync({ module: readFileSync(new URL("./vestibule_bg.wasm", import.meta.url)) });
export * from "./api.js";
