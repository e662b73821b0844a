// The entry points initialise the wasm on import, so the init functions are not re-exported
// as part of the API: everything else is.
export { version } from "./vestibule.js";
export type { BuildInfo } from "./vestibule.js";
