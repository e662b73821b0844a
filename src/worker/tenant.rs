//! Which tenant a request is for. The native-auth base URL carries it (`/{tenant}/oauth2/…`);
//! admin paths without one use `DEFAULT_TENANT`. All data is keyed by the tenant name.

use crate::worker::route::Ctx;
const FALLBACK: &str = "default";

/// The tenant of this route, or `None` when the segment is not a valid tenant name.
pub fn from_route(ctx: &Ctx) -> Option<String> {
    match ctx.param("tenant") {
        Some(t) => valid(t).then(|| t.to_ascii_lowercase()),
        None => Some(
            ctx.var("DEFAULT_TENANT")
                .map(|v| v.to_string())
                .ok()
                .filter(|t| valid(t))
                .unwrap_or_else(|| FALLBACK.to_string()),
        ),
    }
}

/// Tenant names are DNS-label-like (`contoso`, `contoso.onmicrosoft.com`, a GUID), so they
/// are safe inside KV keys and cannot smuggle `/`.
fn valid(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !name.starts_with('.')
}
