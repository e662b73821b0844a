//! The body of the code delivery hook, serialized once to the exact bytes that are signed
//! and sent.
//!
//! The Worker asks a tenant's delivery endpoint to send a one-time code by email or SMS.
//! The body is modeled on Entra External ID's `OnOtpSend` custom authentication extension
//! (the email OTP custom provider), so a receiver written for Entra needs only the
//! Standard Webhooks check in place of Entra's bearer token:
//!
//! ```json
//! {
//!   "type": "microsoft.graph.authenticationEvent.emailOtpSend",
//!   "source": "/tenants/contoso/applications/vestibule-demo-app",
//!   "data": {
//!     "@odata.type": "microsoft.graph.onOtpSendCalloutData",
//!     "otpContext": {
//!       "identifier": "someone@example.com",
//!       "oneTimeCode": "12345678",
//!       "expiresAt": 1700000600
//!     },
//!     "tenantId": "contoso",
//!     "authenticationContext": {
//!       "correlationId": "0b5e2a41-0000-4000-8000-000000000001",
//!       "client": { "locale": "fr-CA" },
//!       "requestType": "signUp",
//!       "clientServicePrincipal": { "appId": "vestibule-demo-app" }
//!     }
//!   }
//! }
//! ```
//!
//! - `type` says the channel: `microsoft.graph.authenticationEvent.emailOtpSend` (Entra's
//!   own name, unchanged) or `vestibule.authenticationEvent.smsOtpSend` (Entra documents
//!   no SMS counterpart, so the name is ours). For SMS, `identifier` is an E.164 number.
//! - `otpContext.expiresAt` (unix seconds) is ours: the message can say how long the code
//!   works. `client` (with `locale`) and `correlationId` appear only when known.
//! - `requestType` is what the code is for: `signUp`, `signIn`, `passwordReset`, `mfa` or
//!   `registration` (Entra documents only `signUp`).
//! - Entra's listener and extension ids have no counterpart and are left out.
//!
//! [`seal`] turns the payload into a [`Delivery`]: the body bytes and the signed headers,
//! which must go out unchanged (re-serializing JSON is the classic cause of failed
//! verification). A retry calls [`seal`] again with the same message id and a new
//! timestamp. The code is in the body in clear, protected by TLS and the signature only,
//! so the receiver must not log bodies. Any `2xx` answer counts as sent; its body is not
//! read.

use super::secrets::SigningSecrets;
use super::signature::{MessageId, WebhookHeaders, sign};
use crate::pii::{Pii, Secret};
use crate::time::Timestamp;
use serde::{Serialize, Serializer};

/// The event type, which also says which channel to deliver on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeDeliveryType {
    /// Send the code by email (`microsoft.graph.authenticationEvent.emailOtpSend`).
    Email,
    /// Send the code by SMS (`vestibule.authenticationEvent.smsOtpSend`).
    Sms,
}

impl CodeDeliveryType {
    /// The wire value of `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeDeliveryType::Email => "microsoft.graph.authenticationEvent.emailOtpSend",
            CodeDeliveryType::Sms => "vestibule.authenticationEvent.smsOtpSend",
        }
    }
}

/// What the code is for, so the receiver can pick the message template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl DeliveryPurpose {
    /// The wire value of `requestType` (the flow engine's `CodePurpose` names).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryPurpose::SignUp => "signUp",
            DeliveryPurpose::SignIn => "signIn",
            DeliveryPurpose::PasswordReset => "passwordReset",
            DeliveryPurpose::Mfa => "mfa",
            DeliveryPurpose::Registration => "registration",
        }
    }
}

/// One code delivery; serializes to the `OnOtpSend`-shaped body documented above.
#[derive(Debug, Clone)]
pub struct CodeDelivery {
    /// Email or SMS.
    pub kind: CodeDeliveryType,
    /// The tenant the user signs in to.
    pub tenant: String,
    /// The app (client id) the user signs in to.
    pub app_id: String,
    /// The email address or E.164 phone number.
    pub to: Pii<String>,
    /// The one-time code.
    pub code: Secret<String>,
    /// What the code is for.
    pub purpose: DeliveryPurpose,
    /// When the code stops working, so the message can say so.
    pub expires_at: Timestamp,
    /// BCP 47 language tag for the message, if known.
    pub locale: Option<String>,
    /// The client's request id, for the receiver's logs.
    pub correlation_id: Option<String>,
}

impl Serialize for CodeDelivery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            kind: self.kind.as_str(),
            source: format!("/tenants/{}/applications/{}", self.tenant, self.app_id),
            data: Data {
                odata_type: "microsoft.graph.onOtpSendCalloutData",
                otp_context: OtpContext {
                    identifier: &self.to,
                    one_time_code: &self.code,
                    expires_at: self.expires_at,
                },
                tenant_id: &self.tenant,
                authentication_context: AuthenticationContext {
                    correlation_id: self.correlation_id.as_deref(),
                    client: self.locale.as_deref().map(|locale| Client { locale }),
                    request_type: self.purpose.as_str(),
                    client_service_principal: ServicePrincipal {
                        app_id: &self.app_id,
                    },
                },
            },
        }
        .serialize(serializer)
    }
}

/// The envelope, borrowing from [`CodeDelivery`] so the code is not copied.
#[derive(Serialize)]
struct Wire<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    source: String,
    data: Data<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Data<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    otp_context: OtpContext<'a>,
    tenant_id: &'a str,
    authentication_context: AuthenticationContext<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OtpContext<'a> {
    identifier: &'a Pii<String>,
    one_time_code: &'a Secret<String>,
    expires_at: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthenticationContext<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<Client<'a>>,
    request_type: &'static str,
    client_service_principal: ServicePrincipal<'a>,
}

#[derive(Serialize)]
struct Client<'a> {
    locale: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServicePrincipal<'a> {
    app_id: &'a str,
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
            app_id: "shop".into(),
            to: Pii::new("+15550100".into()),
            code: Secret::new("123456".into()),
            purpose: DeliveryPurpose::Mfa,
            expires_at: Timestamp(1_700_000_600),
            locale: None,
            correlation_id: None,
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
            concat!(
                r#"{"type":"vestibule.authenticationEvent.smsOtpSend","source":"/tenants/contoso/applications/shop","#,
                r#""data":{"@odata.type":"microsoft.graph.onOtpSendCalloutData","#,
                r#""otpContext":{"identifier":"+15550100","oneTimeCode":"123456","expiresAt":1700000600},"#,
                r#""tenantId":"contoso","authenticationContext":{"requestType":"mfa","clientServicePrincipal":{"appId":"shop"}}}}"#
            )
        );
        let mut email = delivery();
        email.kind = CodeDeliveryType::Email;
        email.purpose = DeliveryPurpose::PasswordReset;
        email.locale = Some("fr-CA".into());
        email.correlation_id = Some("c-1".into());
        let json = serde_json::to_value(&email).unwrap();
        assert_eq!(
            json["type"],
            "microsoft.graph.authenticationEvent.emailOtpSend"
        );
        let context = &json["data"]["authenticationContext"];
        assert_eq!(context["requestType"], "passwordReset");
        assert_eq!(context["client"]["locale"], "fr-CA");
        assert_eq!(context["correlationId"], "c-1");
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
        let printed = format!("{sealed:?} {:?}", delivery());
        assert!(!printed.contains("123456"), "{printed}");
        assert!(!printed.contains("15550100"), "{printed}");
    }
}
