//! The typed model of a Graph `conditionalAccessPolicy` and `namedLocation`, after parsing.
//!
//! Parsing (in [`super::parse`]) turns Graph JSON into these types, and rejects whatever
//! they cannot express, so evaluation never meets an unknown value. Every field is public
//! so that a deliberately simple reference evaluator (the differential tests) can walk the
//! same model as the optimised engine in [`super::engine`].

use super::cidr::Cidr;
use super::device_filter::DeviceRule;
use super::strength::AuthStrength;
use crate::time::Seconds;
use serde_json::{Map, Value};

/// A Graph string enum: its wire names, parsed without regard to ASCII case because Graph
/// itself accepts `All` and `all` alike (the docs write `'includeApplications': 'none'`).
pub trait GraphEnum: Sized + Copy + 'static {
    /// Every member with its Graph spelling.
    const MEMBERS: &'static [(Self, &'static str)];

    /// The member named `s`, if any.
    fn parse(s: &str) -> Option<Self> {
        Self::MEMBERS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(s))
            .map(|(m, _)| *m)
    }

    /// The Graph spelling, for output and messages.
    fn as_str(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::MEMBERS
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("", |(_, name)| name)
    }

    /// All spellings joined for an error message (`a`, `b`).
    fn expected() -> String {
        Self::MEMBERS
            .iter()
            .map(|(_, n)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! graph_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }
        impl GraphEnum for $name {
            const MEMBERS: &'static [(Self, &'static str)] = &[$(($name::$variant, $text),)+];
        }
    };
}
pub(crate) use graph_enum;

graph_enum! {
    /// `conditionalAccessPolicyState`.
    pub enum PolicyState {
        /// Enforced.
        Enabled = "enabled",
        /// Off: reported as `notEnabled`.
        Disabled = "disabled",
        /// Report-only: evaluated and reported, never enforced.
        ReportOnly = "enabledForReportingButNotEnforced",
    }
}

graph_enum! {
    /// `conditionalAccessClientApp`.
    pub enum ClientAppType {
        /// Every client type.
        All = "all",
        /// Web browsers.
        Browser = "browser",
        /// Modern-auth mobile and desktop apps (native auth sign-ins are these).
        MobileAppsAndDesktopClients = "mobileAppsAndDesktopClients",
        /// Exchange ActiveSync (legacy).
        ExchangeActiveSync = "exchangeActiveSync",
        /// Exchange ActiveSync clients that support policies (legacy).
        EasSupported = "easSupported",
        /// Other legacy clients (IMAP, POP, SMTP...).
        Other = "other",
    }
}

graph_enum! {
    /// `conditionalAccessDevicePlatform`.
    pub enum Platform {
        /// Android.
        Android = "android",
        /// iOS and iPadOS.
        IOs = "iOS",
        /// Windows.
        Windows = "windows",
        /// Windows Phone.
        WindowsPhone = "windowsPhone",
        /// macOS.
        MacOs = "macOS",
        /// Linux.
        Linux = "linux",
        /// Any platform, including an unknown one (only in policies).
        All = "all",
    }
}

graph_enum! {
    /// `riskLevel`.
    pub enum RiskLevel {
        /// Low risk.
        Low = "low",
        /// Medium risk.
        Medium = "medium",
        /// High risk.
        High = "high",
        /// Risk computed but hidden from this tenant.
        Hidden = "hidden",
        /// No risk detected; also what an unknown risk is evaluated as.
        None = "none",
    }
}

graph_enum! {
    /// `conditionalAccessTransferMethods` (one member per flag).
    pub enum TransferMethod {
        /// The OAuth device code flow.
        DeviceCodeFlow = "deviceCodeFlow",
        /// Authentication transfer (sign-in moved from one device to another).
        AuthenticationTransfer = "authenticationTransfer",
    }
}

graph_enum! {
    /// `conditionalAccessGuestOrExternalUserTypes` (one member per flag).
    pub enum GuestType {
        /// A guest that is an account of this tenant.
        InternalGuest = "internalGuest",
        /// A B2B collaboration guest (what a guest of unknown type is evaluated as).
        B2bCollaborationGuest = "b2bCollaborationGuest",
        /// A B2B collaboration member.
        B2bCollaborationMember = "b2bCollaborationMember",
        /// A B2B direct connect user.
        B2bDirectConnectUser = "b2bDirectConnectUser",
        /// Any other external user.
        OtherExternalUser = "otherExternalUser",
        /// A service provider (GDAP) user.
        ServiceProvider = "serviceProvider",
    }
}

graph_enum! {
    /// `includeUserActions` values.
    pub enum UserAction {
        /// Registering security information (MFA methods).
        RegisterSecurityInfo = "urn:user:registersecurityinfo",
        /// Registering or joining a device.
        RegisterDevice = "urn:user:registerdevice",
    }
}

graph_enum! {
    /// `conditionalAccessGrantControl`.
    pub enum BuiltInControl {
        /// Block access.
        Block = "block",
        /// Two distinct factors.
        Mfa = "mfa",
        /// A device marked compliant.
        CompliantDevice = "compliantDevice",
        /// A hybrid (on-premises domain) joined device.
        DomainJoinedDevice = "domainJoinedDevice",
        /// An approved client app.
        ApprovedApplication = "approvedApplication",
        /// An app protection policy.
        CompliantApplication = "compliantApplication",
        /// A password change (risky users).
        PasswordChange = "passwordChange",
    }
}

/// One Conditional Access policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The Graph id (as given); required in a policy set, optional for a policy about to be created.
    pub id: Option<String>,
    /// The display name.
    pub display_name: String,
    /// Enabled, disabled or report-only.
    pub state: PolicyState,
    /// Assignments and conditions; all must match for the policy to apply.
    pub conditions: Conditions,
    /// What an applying policy requires. No controls means "apply and record".
    pub grant: GrantControls,
    /// `sessionControls.signInFrequency`, when enabled.
    pub sign_in_frequency: Option<SignInFrequency>,
    /// The policy object exactly as given, echoed by What If.
    pub source: Map<String, Value>,
}

/// `conditionalAccessConditionSet`. Empty lists and `None` mean "not configured", which
/// matches every sign-in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    /// `users`.
    pub users: Users,
    /// `applications` (target resources: apps, user actions or authentication contexts).
    pub applications: Applications,
    /// `clientAppTypes`.
    pub client_app_types: Vec<ClientAppType>,
    /// `platforms`.
    pub platforms: Option<Platforms>,
    /// `locations`.
    pub locations: Option<Locations>,
    /// `signInRiskLevels`.
    pub sign_in_risk_levels: Vec<RiskLevel>,
    /// `userRiskLevels`.
    pub user_risk_levels: Vec<RiskLevel>,
    /// `devices.deviceFilter`.
    pub device_filter: Option<DeviceFilter>,
    /// `authenticationFlows.transferMethods`.
    pub transfer_methods: Vec<TransferMethod>,
}

/// A member of `includeUsers` / `excludeUsers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// Every user, guests included.
    All,
    /// Nobody.
    None,
    /// Every guest or external user.
    GuestsOrExternalUsers,
    /// One user object id (kept lowercase).
    Id(String),
}

/// `conditionalAccessUsers`. Ids are kept lowercase; comparisons ignore ASCII case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Users {
    /// `includeUsers`.
    pub include_users: Vec<UserRef>,
    /// `excludeUsers` (never `All` or `None`).
    pub exclude_users: Vec<UserRef>,
    /// `includeGroups`.
    pub include_groups: Vec<String>,
    /// `excludeGroups`.
    pub exclude_groups: Vec<String>,
    /// `includeRoles` (directory role template ids).
    pub include_roles: Vec<String>,
    /// `excludeRoles`.
    pub exclude_roles: Vec<String>,
    /// `includeGuestsOrExternalUsers`.
    pub include_guests_or_external_users: Option<GuestsOrExternalUsers>,
    /// `excludeGuestsOrExternalUsers`.
    pub exclude_guests_or_external_users: Option<GuestsOrExternalUsers>,
}

/// `conditionalAccessGuestsOrExternalUsers`.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestsOrExternalUsers {
    /// The guest types selected (`none` parses to an empty list, which matches nobody).
    pub types: Vec<GuestType>,
    /// Which home tenants count.
    pub tenants: ExternalTenants,
}

/// `conditionalAccessExternalTenants`.
#[derive(Debug, Clone, PartialEq)]
pub enum ExternalTenants {
    /// Any tenant.
    All,
    /// Only these tenant ids (lowercase).
    Enumerated(Vec<String>),
}

/// A member of `includeApplications`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRef {
    /// Every application.
    All,
    /// No application.
    None,
    /// One application (client) id, lowercase.
    Id(String),
}

/// `conditionalAccessApplications`: exactly one of the three include lists is used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applications {
    /// `includeApplications`.
    pub include: Vec<AppRef>,
    /// `excludeApplications` (ids only).
    pub exclude: Vec<String>,
    /// `includeUserActions`.
    pub user_actions: Vec<UserAction>,
    /// `includeAuthenticationContextClassReferences` (e.g. `c1`), lowercase.
    pub auth_contexts: Vec<String>,
}

/// `conditionalAccessPlatforms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Platforms {
    /// `includePlatforms` (non-empty).
    pub include: Vec<Platform>,
    /// `excludePlatforms`.
    pub exclude: Vec<Platform>,
}

/// A member of `includeLocations` / `excludeLocations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationRef {
    /// Any location, known or not.
    All,
    /// Any IP named location marked `isTrusted`.
    AllTrusted,
    /// One named location id (lowercase).
    Id(String),
}

/// `conditionalAccessLocations`.
#[derive(Debug, Clone, PartialEq)]
pub struct Locations {
    /// `includeLocations` (non-empty).
    pub include: Vec<LocationRef>,
    /// `excludeLocations`.
    pub exclude: Vec<LocationRef>,
}

/// `conditionalAccessFilter` under `devices.deviceFilter`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceFilter {
    /// `include`: the policy applies to matching devices; `exclude`: to the others.
    pub include: bool,
    /// The parsed `rule`.
    pub rule: DeviceRule,
}

/// `conditionalAccessGrantControls`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrantControls {
    /// `operator`: `OR` when true; `AND` (the documented default) otherwise.
    pub any: bool,
    /// `builtInControls`, without duplicates, in input order.
    pub built_in: Vec<BuiltInControl>,
    /// `authenticationStrength`.
    pub strength: Option<AuthStrength>,
}

impl GrantControls {
    /// Whether the policy grants with no control at all.
    pub fn is_empty(&self) -> bool {
        self.built_in.is_empty() && self.strength.is_none()
    }
}

/// An enabled `signInFrequency` session control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInFrequency {
    /// How recent the methods must be: `value` hours/days, or five minutes for `everyTime`.
    pub window: Seconds,
    /// `frequencyInterval` is `everyTime`.
    pub every_time: bool,
    /// `authenticationType` is `secondaryAuthentication`: only the second factor expires.
    pub secondary_only: bool,
}

/// The clock-skew tolerance Entra documents for `everyTime` ("completed MFA in the last
/// 5 minutes" is not prompted again).
pub const EVERY_TIME_WINDOW: Seconds = Seconds(300);

/// A Graph `namedLocation`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedLocation {
    /// The id (lowercase) policies refer to.
    pub id: Option<String>,
    /// The display name.
    pub display_name: String,
    /// IP ranges or countries.
    pub kind: LocationKind,
}

/// The two named location types.
#[derive(Debug, Clone, PartialEq)]
pub enum LocationKind {
    /// `#microsoft.graph.ipNamedLocation`.
    Ip {
        /// `ipRanges`.
        ranges: Vec<Cidr>,
        /// `isTrusted`: counts for `AllTrusted`.
        trusted: bool,
    },
    /// `#microsoft.graph.countryNamedLocation` with `countryLookupMethod` `clientIpAddress`.
    Country {
        /// ISO 3166-1 alpha-2 codes, uppercase.
        countries: Vec<String>,
        /// `includeUnknownCountriesAndRegions`.
        include_unknown: bool,
    },
}

impl NamedLocation {
    /// Whether a sign-in from `ip` in `country` (uppercase) is in this location.
    pub fn contains(&self, ip: Option<std::net::IpAddr>, country: Option<&str>) -> bool {
        match &self.kind {
            LocationKind::Ip { ranges, .. } => {
                ip.is_some_and(|ip| ranges.iter().any(|r| r.contains(ip)))
            }
            LocationKind::Country {
                countries,
                include_unknown,
            } => match country {
                Some(c) => countries.iter().any(|k| k == c),
                None => *include_unknown,
            },
        }
    }

    /// Whether this is a trusted IP location (the members of `AllTrusted`).
    pub fn is_trusted(&self) -> bool {
        matches!(self.kind, LocationKind::Ip { trusted: true, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_ignoring_case_and_print_graph_spelling() {
        assert_eq!(Platform::parse("ios"), Some(Platform::IOs));
        assert_eq!(Platform::IOs.as_str(), "iOS");
        assert_eq!(PolicyState::parse("Enabled"), Some(PolicyState::Enabled));
        assert_eq!(RiskLevel::parse("unknownFutureValue"), None);
        assert!(BuiltInControl::expected().contains("`passwordChange`"));
    }

    #[test]
    fn country_locations_use_include_unknown_when_country_is_unknown() {
        let loc = NamedLocation {
            id: Some("x".into()),
            display_name: "x".into(),
            kind: LocationKind::Country {
                countries: vec!["KP".into()],
                include_unknown: true,
            },
        };
        assert!(loc.contains(None, Some("KP")));
        assert!(!loc.contains(None, Some("US")));
        assert!(loc.contains(None, None));
        assert!(!loc.is_trusted());
    }
}
