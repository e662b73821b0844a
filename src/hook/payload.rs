//! The body of the code delivery hook, serialized once to the exact bytes that are signed
//! and sent.
//!
//! The Worker asks a tenant's delivery endpoint to send a one-time code by email or SMS.
//! [`seal`] turns the payload into a [`Delivery`]: the body bytes and the signed headers,
//! which must go out unchanged (re-serializing JSON is the classic cause of failed
//! verification). A retry calls [`seal`] again with the same message id and a new
//! timestamp.
//!
//! The code is in the payload in clear, protected by TLS and the signature only, so the
//! receiver must not log bodies. Wire names of `purpose` match the flow engine's
//! `CodePurpose` (`signUp`, `signIn`, `passwordReset`, `mfa`, `registration`).

use super::secrets::SigningSecrets;
use super::signature::{MessageId, WebhookHeaders, sign};
use crate::pii::{Pii, Secret};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The event type, which also says which channel to deliver on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeDeliveryType {
    /// Send the code by email.
    #[serde(rename = "vestibule.code.email")]
    Email,
    /// Send the code by SMS.
    #[serde(rename = "vestibule.code.sms")]
    Sms,
}

/// What the code is for, so the receiver can pick the message template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryPurpose {
    /// Proving the email address at sign-up.
    SignUp,
    /// Email one-time passcode as the first factor.
    SignIn,
    /// Proving the email address before a password reset.
    PasswordReset,
    /// A second factor.
    Mfa,
    /// Proving a new strong method while registering it.
    Registration,
}

/// The JSON body of one code delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeDelivery {
    /// `vestibule.code.email` or `vestibule.code.sms`.
    #[serde(rename = "type")]
    pub kind: CodeDeliveryType,
    /// The tenant the user signs in to.
    pub tenant: String,
    /// The email address or E.164 phone number.
    pub to: Pii<String>,
    /// The one-time code.
    pub code: Secret<String>,
    /// What the code is for.
    pub purpose: DeliveryPurpose,
    /// When the code stops working, so the message can say so.
    pub expires_at: Timestamp,
    /// BCP 47 language tag for the message, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// One signed delivery attempt: send `body` with `headers` and `content-type:
/// application/json`, byte for byte.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The `webhook-*` headers.
    pub headers: WebhookHeaders,
    /// The exact body that was signed. Contains the code: never log it.
    pub body: Secret<Vec<u8>>,
}

/// Serializes `payload` once and signs those bytes for this attempt.
pub fn seal(
    secrets: &SigningSecrets,
    msg_id: &MessageId,
    timestamp: Timestamp,
    payload: &CodeDelivery,
) -> Delivery {
    // A struct of strings and integers always serializes; an empty body would fail
    // the receiver's parsing rather than deliver something unintended.
    let body = serde_json::to_vec(payload).unwrap_or_default();
    let headers = sign(secrets, msg_id, timestamp, &body);
    Delivery {
        headers,
        body: Secret::new(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::signature::{DEFAULT_TOLERANCE, verify};

    fn delivery() -> CodeDelivery {
        CodeDelivery {
            kind: CodeDeliveryType::Sms,
            tenant: "contoso".into(),
            to: Pii::new("+15550100".into()),
            code: Secret::new("123456".into()),
            purpose: DeliveryPurpose::Mfa,
            expires_at: Timestamp(1_700_000_600),
            locale: None,
        }
    }

    #[test]
    fn the_body_has_the_documented_shape() {
        let secrets = SigningSecrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sealed = seal(
            &secrets,
            &MessageId::from_random(&[0; 16]),
            Timestamp(1),
            &delivery(),
        );
        assert_eq!(
            std::str::from_utf8(sealed.body.expose()).unwrap(),
            r#"{"type":"vestibule.code.sms","tenant":"contoso","to":"+15550100","code":"123456","purpose":"mfa","expires_at":1700000600}"#
        );
        let mut email = delivery();
        email.kind = CodeDeliveryType::Email;
        email.purpose = DeliveryPurpose::PasswordReset;
        email.locale = Some("fr-CA".into());
        let json = serde_json::to_value(&email).unwrap();
        assert_eq!(json["type"], "vestibule.code.email");
        assert_eq!(json["purpose"], "passwordReset");
        assert_eq!(json["locale"], "fr-CA");
    }

    #[test]
    fn the_sent_bytes_are_the_signed_bytes() {
        let secrets = SigningSecrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sealed = seal(
            &secrets,
            &MessageId::from_random(&[4; 16]),
            Timestamp(50),
            &delivery(),
        );
        verify(
            &secrets.verifying(),
            &sealed.headers,
            sealed.body.expose(),
            Timestamp(50),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
        let printed = format!("{sealed:?}");
        assert!(!printed.contains("123456"), "{printed}");
    }
}
