//! The wasm-bindgen API of the npm package (feature `js`).
//!
//! Every function takes and returns plain JSON-compatible values and never throws: bad
//! input comes back as `{"error": {code, message, target}}`. The JSON-string entry points
//! of the core do the work, so the Worker, native tests and JS share one code path.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Which engine build answers, so apps can log it. */
export interface BuildInfo { name: "vestibule"; version: string }
"#;

/// `{ name, version }` of this build, so apps can log which engine they run.
#[wasm_bindgen(unchecked_return_type = "BuildInfo")]
pub fn version() -> JsValue {
    to_js(&crate::about::build_info())
}

/// Serializes a core value for JS; plain objects rather than `Map`s, so results can be
/// handed straight to `JSON.stringify` and compared with Graph's documents.
fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
