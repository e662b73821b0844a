//! A [`SignIn`] normalised once per evaluation: enum values parsed, ids lowercased only
//! when needed, the IP address parsed. Unknown or malformed values become "unknown" here
//! (the JSON entry points reject them earlier with a path); this keeps `enforce` total.

use super::model::{
    ClientAppType, GraphEnum, GuestType, Platform, RiskLevel, TransferMethod, UserAction,
};
use super::signin::SignIn;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::net::IpAddr;

/// What the sign-in targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// An application (`None` when the sign-in names no app).
    App(Option<Cow<'a, str>>),
    /// A user action (`None` when the action is not one Graph defines).
    Action(Option<UserAction>),
}

/// The normalised facts of one sign-in.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// Lowercase user id.
    pub user_id: Cow<'a, str>,
    /// The guest type, when the user is a guest or external user.
    pub guest: Option<GuestType>,
    /// The guest's home tenant, lowercase.
    pub external_tenant: Option<Cow<'a, str>>,
    /// Group ids as given (compare with [`lower`]).
    pub groups: &'a [String],
    /// Role template ids as given (compare with [`lower`]).
    pub roles: &'a [String],
    /// The app or user action.
    pub target: Target<'a>,
    /// Authentication context ids as given (compare with [`lower`]).
    pub contexts: &'a [String],
    /// `None` when unknown (or given as `all`).
    pub platform: Option<Platform>,
    /// `None` when unknown (or given as `all`).
    pub client: Option<ClientAppType>,
    /// Unknown risk is `none`.
    pub sign_in_risk: RiskLevel,
    /// Unknown risk is `none`.
    pub user_risk: RiskLevel,
    /// `None`: no transfer method.
    pub flow: Option<TransferMethod>,
    /// The parsed client IP.
    pub ip: Option<IpAddr>,
    /// Uppercase country code.
    pub country: Option<Cow<'a, str>>,
    /// Device properties; `None` is an unregistered device.
    pub device: Option<&'a Map<String, Value>>,
    /// `passwordChange` is satisfied.
    pub password_changed: bool,
}

/// Whether `c` can be an ISO 3166-1 alpha-2 country: two ASCII letters, and not `XX`
/// (user-assigned; Cloudflare's "no country information").
fn is_country(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) && !c.eq_ignore_ascii_case("XX")
}

/// `s` in lowercase, borrowing when it already is.
pub fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

fn parse<T: GraphEnum>(s: Option<&String>) -> Option<T> {
    s.and_then(|s| T::parse(s))
}

impl<'a> Facts<'a> {
    /// Normalises a sign-in.
    pub fn of(s: &'a SignIn) -> Facts<'a> {
        let guest_type = parse::<GuestType>(s.external_user_type.as_ref());
        let guest = match (s.is_guest || s.external_user_type.is_some(), guest_type) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(GuestType::B2bCollaborationGuest),
            (false, _) => None,
        };
        let target = match &s.user_action {
            Some(a) => Target::Action(UserAction::parse(a)),
            None if s.app_id.is_empty() => Target::App(None),
            None => Target::App(Some(lower(&s.app_id))),
        };
        // Cloudflare's pseudo-countries (`XX` unknown, `T1` Tor) and anything else that
        // is not two letters name no country: such a sign-in is from an unknown country
        // (`includeUnknownCountriesAndRegions`), not from a country no location lists.
        let country = s.country.as_deref().filter(|c| is_country(c)).map(|c| {
            if c.bytes().any(|b| b.is_ascii_lowercase()) {
                Cow::Owned(c.to_ascii_uppercase())
            } else {
                Cow::Borrowed(c)
            }
        });
        Facts {
            user_id: lower(&s.user_id),
            guest,
            external_tenant: s.external_tenant_id.as_deref().map(lower),
            groups: &s.group_ids,
            roles: &s.role_ids,
            target,
            contexts: &s.auth_contexts,
            platform: parse::<Platform>(s.device_platform.as_ref()).filter(|p| *p != Platform::All),
            client: parse::<ClientAppType>(s.client_app_type.as_ref())
                .filter(|c| *c != ClientAppType::All),
            sign_in_risk: parse::<RiskLevel>(s.sign_in_risk.as_ref()).unwrap_or(RiskLevel::None),
            user_risk: parse::<RiskLevel>(s.user_risk.as_ref()).unwrap_or(RiskLevel::None),
            flow: parse::<TransferMethod>(s.authentication_flow.as_ref()),
            ip: s.ip_address.as_deref().and_then(|ip| ip.parse().ok()),
            country,
            device: s.device.as_ref(),
            password_changed: s.password_changed,
        }
    }

    /// Whether the device reports `isCompliant: true` (grant control `compliantDevice`).
    pub fn device_compliant(&self) -> bool {
        self.device
            .and_then(|d| d.get("isCompliant"))
            .is_some_and(|v| {
                v == &Value::Bool(true)
                    || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
            })
    }

    /// Whether the device is hybrid joined, `trustType` `ServerAD` (`domainJoinedDevice`).
    pub fn device_domain_joined(&self) -> bool {
        self.device
            .and_then(|d| d.get("trustType"))
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("ServerAD"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_unknowns() {
        let s = SignIn {
            user_id: "ABC".into(),
            app_id: "App".into(),
            device_platform: Some("IOS".into()),
            client_app_type: Some("all".into()),
            sign_in_risk: Some("bogus".into()),
            country: Some("us".into()),
            ip_address: Some("not an ip".into()),
            is_guest: true,
            ..SignIn::default()
        };
        let f = Facts::of(&s);
        assert_eq!(f.user_id, "abc");
        assert_eq!(f.target, Target::App(Some(Cow::Borrowed("app"))));
        assert_eq!(f.platform, Some(Platform::IOs));
        assert_eq!(f.client, None);
        assert_eq!(f.sign_in_risk, RiskLevel::None);
        assert_eq!(f.country.as_deref(), Some("US"));
        assert_eq!(f.ip, None);
        assert_eq!(f.guest, Some(GuestType::B2bCollaborationGuest));
        assert!(matches!(lower("abc"), Cow::Borrowed(_)));
        for unknown in ["XX", "xx", "T1", "A1", "USA", ""] {
            let s = SignIn {
                country: Some(unknown.into()),
                ..SignIn::default()
            };
            assert_eq!(Facts::of(&s).country, None, "{unknown}");
        }
    }
}
