//! What this build is, for health checks and the package's `version()`.

use serde::Serialize;

/// The product name, as reported by `/healthz` and the JS package.
pub const NAME: &str = "vestibule";

/// The crate version, taken from `Cargo.toml` at build time so it cannot drift.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The body of a health check: enough for an operator to see which build answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// Always [`NAME`].
    pub name: &'static str,
    /// Always [`VERSION`].
    pub version: &'static str,
}

/// The information about this build.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        name: NAME,
        version: VERSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_info_matches_the_manifest() {
        let info = build_info();
        assert_eq!(info.name, "vestibule");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["name"], "vestibule");
    }
}
