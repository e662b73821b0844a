//! Authentication strengths: the three built-in ones and custom `allowedCombinations`,
//! reduced to what the methods of this product (password, email OTP, SMS OTP) can meet.
//!
//! A combination such as `password,sms` is met when every mode in it has been satisfied in
//! the session. Modes we do not offer (`fido2`, `windowsHelloForBusiness`...) make their
//! combination unmeetable here. A strength with no meetable combination (Passwordless MFA,
//! Phishing-resistant MFA) can never be satisfied, so the engine blocks rather than asking
//! the user for something no flow can provide.

use super::model::{GraphEnum, graph_enum};
use super::signin::AuthMethod;

graph_enum! {
    /// `authenticationMethodModes`.
    pub enum AuthMode {
        /// Password.
        Password = "password",
        /// Voice call.
        Voice = "voice",
        /// Hardware OATH token.
        HardwareOath = "hardwareOath",
        /// Software OATH token.
        SoftwareOath = "softwareOath",
        /// SMS one-time code.
        Sms = "sms",
        /// FIDO2 security key.
        Fido2 = "fido2",
        /// Windows Hello for Business.
        WindowsHelloForBusiness = "windowsHelloForBusiness",
        /// Microsoft Authenticator push.
        MicrosoftAuthenticatorPush = "microsoftAuthenticatorPush",
        /// Device-bound push (passwordless phone sign-in).
        DeviceBasedPush = "deviceBasedPush",
        /// One-time Temporary Access Pass.
        TemporaryAccessPassOneTime = "temporaryAccessPassOneTime",
        /// Multi-use Temporary Access Pass.
        TemporaryAccessPassMultiUse = "temporaryAccessPassMultiUse",
        /// Email one-time passcode.
        Email = "email",
        /// Certificate, single factor.
        X509CertificateSingleFactor = "x509CertificateSingleFactor",
        /// Certificate, multifactor.
        X509CertificateMultiFactor = "x509CertificateMultiFactor",
        /// Federated single factor.
        FederatedSingleFactor = "federatedSingleFactor",
        /// Federated multifactor.
        FederatedMultiFactor = "federatedMultiFactor",
    }
}

impl AuthMode {
    /// The method of this product that proves this mode, if we offer one.
    pub fn method(self) -> Option<AuthMethod> {
        match self {
            AuthMode::Password => Some(AuthMethod::Password),
            AuthMode::Email => Some(AuthMethod::Email),
            AuthMode::Sms => Some(AuthMethod::Sms),
            _ => None,
        }
    }
}

/// One bit per [`AuthMethod`], so a set of satisfied methods is a `u8`.
pub fn method_bit(method: AuthMethod) -> u8 {
    match method {
        AuthMethod::Password => 1,
        AuthMethod::Email => 2,
        AuthMethod::Sms => 4,
    }
}

/// The methods of a bit set, in [`AuthMethod`] order.
pub fn methods_of(mask: u8) -> Vec<AuthMethod> {
    [AuthMethod::Password, AuthMethod::Email, AuthMethod::Sms]
        .into_iter()
        .filter(|m| mask & method_bit(*m) != 0)
        .collect()
}

/// An authentication strength as a grant control.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthStrength {
    /// The strength policy id, when given.
    pub id: Option<String>,
    /// `allowedCombinations`, each a set of modes (built-ins use their documented list).
    pub combinations: Vec<Vec<AuthMode>>,
}

impl AuthStrength {
    /// The combinations our methods can meet, each as a method bit set, deduplicated and
    /// sorted so the result is deterministic. Empty means the strength is unmeetable here.
    pub fn meetable(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self
            .combinations
            .iter()
            .filter_map(|combo| {
                combo
                    .iter()
                    .try_fold(0u8, |acc, mode| mode.method().map(|m| acc | method_bit(m)))
            })
            .filter(|mask| *mask != 0)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The id of the built-in "Multifactor authentication" strength.
pub const MULTIFACTOR_ID: &str = "00000000-0000-0000-0000-000000000002";
/// The id of the built-in "Passwordless MFA" strength.
pub const PASSWORDLESS_ID: &str = "00000000-0000-0000-0000-000000000003";
/// The id of the built-in "Phishing-resistant MFA" strength.
pub const PHISHING_RESISTANT_ID: &str = "00000000-0000-0000-0000-000000000004";

const MULTIFACTOR: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
    "deviceBasedPush",
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "password,microsoftAuthenticatorPush",
    "password,softwareOath",
    "password,hardwareOath",
    "password,x509CertificateSingleFactor",
    "password,x509CertificateMultiFactor",
    "password,sms",
    "password,voice",
    "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor",
    "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor",
    "sms,federatedSingleFactor",
    "voice,federatedSingleFactor",
];
const PASSWORDLESS: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
    "deviceBasedPush",
];
const PHISHING_RESISTANT: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
];

/// The documented combinations of a built-in strength, by id.
pub fn built_in(id: &str) -> Option<Vec<Vec<AuthMode>>> {
    let list = match id {
        MULTIFACTOR_ID => MULTIFACTOR,
        PASSWORDLESS_ID => PASSWORDLESS,
        PHISHING_RESISTANT_ID => PHISHING_RESISTANT,
        _ => return None,
    };
    list.iter()
        .map(|c| parse_combination(c).ok())
        .collect::<Option<Vec<_>>>()
}

/// Parses one `allowedCombinations` entry: modes joined by `,` (the docs also show
/// `"password, sms"` with a space, so blanks around modes are allowed). Modes are sorted
/// and deduplicated. The error is the offending mode, for the caller's message.
pub fn parse_combination(text: &str) -> Result<Vec<AuthMode>, String> {
    let mut modes = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        match AuthMode::parse(part) {
            Some(m) => modes.push(m),
            None => return Err(part.to_string()),
        }
    }
    modes.sort_unstable();
    modes.dedup();
    Ok(modes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strength(id: &str) -> AuthStrength {
        AuthStrength {
            id: Some(id.into()),
            combinations: built_in(id).unwrap(),
        }
    }

    #[test]
    fn only_password_plus_sms_of_the_built_ins_is_meetable_here() {
        let pw_sms = method_bit(AuthMethod::Password) | method_bit(AuthMethod::Sms);
        assert_eq!(strength(MULTIFACTOR_ID).meetable(), vec![pw_sms]);
        assert!(strength(PASSWORDLESS_ID).meetable().is_empty());
        assert!(strength(PHISHING_RESISTANT_ID).meetable().is_empty());
        assert!(built_in("nope").is_none());
    }

    #[test]
    fn custom_combinations_accept_blanks_and_reject_unknown_modes() {
        let combo = parse_combination("sms, password").unwrap();
        assert_eq!(combo, vec![AuthMode::Password, AuthMode::Sms]);
        assert_eq!(parse_combination("password,nfc").unwrap_err(), "nfc");
        let custom = AuthStrength {
            id: None,
            combinations: vec![
                parse_combination("password,email").unwrap(),
                parse_combination("email,password").unwrap(),
                parse_combination("fido2").unwrap(),
            ],
        };
        assert_eq!(custom.meetable(), vec![1 | 2]);
        assert_eq!(
            methods_of(1 | 4),
            vec![AuthMethod::Password, AuthMethod::Sms]
        );
    }
}
