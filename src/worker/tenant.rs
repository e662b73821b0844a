//! Which tenant a request is for. The native-auth base URL carries it (`/{tenant}/oauth2/…`);
//! admin paths without one use `DEFAULT_TENANT`. All data is keyed by the tenant's key
//! ([`crate::routes::tenant_key`]: valid and lowercased, for the path and the variable alike).

use crate::routes::tenant_key;
use crate::worker::route::Ctx;
const FALLBACK: &str = "default";

/// The tenant of this route, or `None` when the segment is not a valid tenant name.
pub fn from_route(ctx: &Ctx) -> Option<String> {
    match ctx.param("tenant") {
        Some(t) => tenant_key(t),
        None => Some(
            ctx.var("DEFAULT_TENANT")
                .ok()
                .and_then(|v| tenant_key(&v.to_string()))
                .unwrap_or_else(|| FALLBACK.to_string()),
        ),
    }
}
