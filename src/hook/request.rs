//! One HTTP request to a delivery hook, built from the flow's `SendCode` effect: the
//! Worker sends it as is (method, URL, headers, body) and only reports the outcome.

use super::config::HookEndpoint;
use super::payload::{CodeDelivery, CodeDeliveryType, DeliveryPurpose, seal};
use super::signature::MessageId;
use crate::flow::{self, Channel, CodePurpose};
use crate::pii::Secret;
use crate::time::Timestamp;

/// A request ready to send: `POST url` with `headers` and `body`, byte for byte.
#[derive(Debug, Clone)]
pub struct HookRequest {
    /// The receiver.
    pub url: String,
    /// `content-type` and the three `webhook-*` headers.
    pub headers: Vec<(&'static str, String)>,
    /// The signed body. Contains the code: never log it.
    pub body: Secret<Vec<u8>>,
}

/// Who the code is for, besides what the flow's effect says.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The app (client id).
    pub app_id: &'a str,
    /// The client's request id, if any.
    pub correlation_id: Option<&'a str>,
}

/// The hook payload for the flow's code delivery.
pub fn payload(code: &flow::CodeDelivery, cx: Context<'_>) -> CodeDelivery {
    CodeDelivery {
        kind: match code.channel {
            Channel::Email => CodeDeliveryType::Email,
            Channel::Sms => CodeDeliveryType::Sms,
        },
        tenant: cx.tenant.to_string(),
        app_id: cx.app_id.to_string(),
        to: code.to.clone(),
        code: code.code.clone(),
        purpose: match code.purpose {
            CodePurpose::SignUp => DeliveryPurpose::SignUp,
            CodePurpose::SignIn => DeliveryPurpose::SignIn,
            CodePurpose::PasswordReset => DeliveryPurpose::PasswordReset,
            CodePurpose::Mfa => DeliveryPurpose::Mfa,
            CodePurpose::Registration => DeliveryPurpose::Registration,
        },
        expires_at: code.expires_at,
        locale: None,
        correlation_id: cx.correlation_id.map(str::to_string),
    }
}

/// One attempt of `payload` to `endpoint` at `now`. A retry builds again with the same
/// `msg_id` (the receiver's idempotency key) and its own timestamp and signatures.
pub fn build(
    endpoint: &HookEndpoint,
    msg_id: &MessageId,
    now: Timestamp,
    payload: &CodeDelivery,
) -> HookRequest {
    let sealed = seal(endpoint.secrets(), msg_id, now, payload);
    let mut headers = vec![("content-type", "application/json".to_string())];
    headers.extend(
        sealed
            .headers
            .pairs()
            .into_iter()
            .map(|(name, value)| (name, value.to_string())),
    );
    HookRequest {
        url: endpoint.url().to_string(),
        headers,
        body: sealed.body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::signature::{DEFAULT_TOLERANCE, WebhookHeaders, verify};
    use crate::pii::Pii;

    const SECRETS: &str =
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsk_BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=";

    fn effect(channel: Channel) -> flow::CodeDelivery {
        flow::CodeDelivery {
            channel,
            to: Pii::new("+15550100".into()),
            code: Secret::new("73914205".into()),
            purpose: CodePurpose::Registration,
            expires_at: Timestamp(1_700_000_600),
        }
    }

    fn header<'a>(req: &'a HookRequest, name: &str) -> &'a str {
        req.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn the_request_is_a_signed_json_post_every_secret_verifies() {
        let endpoint =
            HookEndpoint::new("U", "https://sms.example.com/send", "S", SECRETS).unwrap();
        let cx = Context {
            tenant: "contoso",
            app_id: "shop",
            correlation_id: Some("c-9"),
        };
        let body = payload(&effect(Channel::Sms), cx);
        let id = MessageId::from_random(&[7; 16]);
        let req = build(&endpoint, &id, Timestamp(1_700_000_000), &body);
        assert_eq!(req.url, "https://sms.example.com/send");
        assert_eq!(header(&req, "content-type"), "application/json");
        assert_eq!(header(&req, "webhook-id"), id.as_str());
        assert_eq!(header(&req, "webhook-timestamp"), "1700000000");
        let signatures: Vec<&str> = header(&req, "webhook-signature").split(' ').collect();
        assert_eq!(signatures.len(), 2);
        assert!(signatures[0].starts_with("v1,") && signatures[1].starts_with("v1a,"));

        let json: serde_json::Value = serde_json::from_slice(req.body.expose()).unwrap();
        assert_eq!(json["type"], "vestibule.authenticationEvent.smsOtpSend");
        assert_eq!(json["data"]["otpContext"]["identifier"], "+15550100");
        assert_eq!(json["data"]["otpContext"]["oneTimeCode"], "73914205");
        assert_eq!(
            json["data"]["authenticationContext"]["requestType"],
            "registration"
        );

        let received = WebhookHeaders {
            webhook_id: header(&req, "webhook-id").into(),
            webhook_timestamp: header(&req, "webhook-timestamp").into(),
            webhook_signature: header(&req, "webhook-signature").into(),
        };
        // A receiver holding only the HMAC secret, or only the Ed25519 public key.
        let hmac = crate::hook::VerifyingSecrets::parse(SECRETS.split(' ').next().unwrap());
        let public = endpoint.secrets().public_keys().remove(0);
        for receiver in [
            hmac.unwrap(),
            crate::hook::VerifyingSecrets::parse(&public).unwrap(),
        ] {
            verify(
                &receiver,
                &received,
                req.body.expose(),
                Timestamp(1_700_000_030),
                DEFAULT_TOLERANCE,
            )
            .unwrap();
        }
        let printed = format!("{req:?}");
        assert!(!printed.contains("73914205"), "{printed}");
    }

    #[test]
    fn a_retry_keeps_the_id_and_the_body_and_signs_its_own_timestamp() {
        let endpoint = HookEndpoint::new("U", "http://127.0.0.1:9/", "S", SECRETS).unwrap();
        let cx = Context {
            tenant: "t",
            app_id: "a",
            correlation_id: None,
        };
        let body = payload(&effect(Channel::Email), cx);
        let id = MessageId::from_random(&[1; 16]);
        let first = build(&endpoint, &id, Timestamp(100), &body);
        let retry = build(&endpoint, &id, Timestamp(102), &body);
        assert_eq!(header(&first, "webhook-id"), header(&retry, "webhook-id"));
        assert_eq!(first.body.expose(), retry.body.expose());
        assert_ne!(
            header(&first, "webhook-signature"),
            header(&retry, "webhook-signature")
        );
    }
}
