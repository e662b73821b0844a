//! What a successful `/oauth2/v2.0/token` answers: the claims of the ID and access
//! tokens for a [`TokenGrant`], the response body MSAL validates (reference §9), and the
//! session a refresh token stands for.
//!
//! MSAL refuses a response without `access_token`, `id_token`, `refresh_token` (even
//! when `offline_access` was not asked for), `expires_in > 0`, `token_type: Bearer` and
//! `client_info`, so all of them are always sent. The ID token carries what MSAL builds
//! the account from (`oid`, `tid`, `sub`, `preferred_username`, `name`) plus `amr`,
//! `acr` and `auth_time` for relying parties that enforce step-up.

use crate::flow::TokenGrant;
use crate::pii::Pii;
use crate::policy::SatisfiedMethod;
use crate::time::{Seconds, Timestamp};
use crate::token::{Claims, ID_TOKEN_VERSION, amr_for, client_info};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Lifetimes and names the tokens are issued with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// `iss`: `{origin}/{tenant}/v2.0`.
    pub issuer: String,
    /// `tid` and `client_info.utid`: the tenant name.
    pub tenant: String,
    /// ID and access token lifetime (`expires_in`).
    pub token_lifetime: Seconds,
    /// Refresh token (session) lifetime, counted from the sign-in, not the last refresh.
    pub refresh_lifetime: Seconds,
}

impl TokenSettings {
    /// One hour tokens and a 24-hour session, as Entra gives single-page apps.
    pub fn new(issuer: impl Into<String>, tenant: impl Into<String>) -> Self {
        TokenSettings {
            issuer: issuer.into(),
            tenant: tenant.into(),
            token_lifetime: Seconds(3600),
            refresh_lifetime: Seconds(86_400),
        }
    }
}

/// The issuer of a tenant at `origin` (`https://id.example.com`): `{origin}/{tenant}/v2.0`,
/// the shape Entra v2.0 tokens carry.
pub fn issuer(origin: &str, tenant: &str) -> String {
    format!("{}/{tenant}/v2.0", origin.trim_end_matches('/'))
}

fn base_claims(grant: &TokenGrant, s: &TokenSettings, aud: &str, now: Timestamp) -> Claims {
    let mut c = Claims::new(
        s.issuer.clone(),
        grant.user_id.clone(),
        aud,
        now,
        now.plus(s.token_lifetime),
    );
    c.nbf = Some(now);
    // A method time after `now` (clock skew between isolates) would make the token
    // inconsistent; never claim authentication later than issuance.
    c.auth_time = Some(grant.auth_time.min(now));
    let methods: Vec<_> = grant.methods.iter().map(|m| m.method).collect();
    c.amr = amr_for(&methods);
    c.acr = Some(grant.acr.clone());
    c.acrs = grant.acrs.clone();
    c.oid = Some(grant.user_id.clone());
    c.tid = Some(s.tenant.clone());
    c
}

/// The session family of a new sign-in: the first refresh token's lookup key, cut to
/// 32 hex characters (128 bits). Derived, not drawn, so minting needs no extra entropy;
/// the lookup key is a hash of a secret and reveals nothing about the token.
pub fn family_of(first_lookup_key: &str) -> String {
    first_lookup_key.chars().take(32).collect()
}

/// The ID token's claims (audience: the app).
pub fn id_token_claims(grant: &TokenGrant, s: &TokenSettings, now: Timestamp) -> Claims {
    let mut c = base_claims(grant, s, &grant.app_id, now);
    c.preferred_username = Some(grant.email.clone());
    c.email = Some(grant.email.clone());
    c.name = grant.display_name.clone();
    c.ver = Some(ID_TOKEN_VERSION.to_string());
    c
}

/// The access token's claims. With only OpenID scopes asked for, the app itself is the
/// audience (there is no other resource yet); `scp` lists the scopes granted.
pub fn access_token_claims(
    grant: &TokenGrant,
    scope: &str,
    s: &TokenSettings,
    now: Timestamp,
    jti: &str,
) -> Claims {
    let mut c = base_claims(grant, s, &grant.app_id, now);
    c.scp = Some(scope.to_string());
    c.azp = Some(grant.app_id.clone());
    c.client_id = Some(grant.app_id.clone());
    c.jti = Some(jti.to_string());
    c.ver = Some(ID_TOKEN_VERSION.to_string());
    c
}

/// The signed tokens of one response.
#[derive(Debug, Clone)]
pub struct IssuedTokens<'a> {
    /// The access token.
    pub access_token: &'a str,
    /// The ID token.
    pub id_token: &'a str,
    /// The refresh token handle.
    pub refresh_token: &'a str,
}

/// The `/token` success body.
pub fn token_response(
    tokens: &IssuedTokens<'_>,
    grant: &TokenGrant,
    scope: &str,
    s: &TokenSettings,
    refresh_expires_in: u64,
) -> Value {
    json!({
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": s.token_lifetime.0,
        "ext_expires_in": s.token_lifetime.0,
        "refresh_token_expires_in": refresh_expires_in,
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "client_info": client_info(&grant.user_id, &s.tenant),
    })
}

/// What a refresh token stands for, stored under the handle's lookup key: the
/// authentication it continues (so refreshed tokens keep `amr`, `acr` and
/// `auth_time`), not a new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshSession {
    /// The user.
    pub user_id: String,
    /// The app it was issued to; only that app may redeem it.
    pub app_id: String,
    /// The scopes granted.
    pub scope: String,
    /// `amr` values as the grant gave them.
    pub amr: Vec<String>,
    /// `acr`.
    pub acr: String,
    /// Authentication contexts satisfied.
    pub acrs: Vec<String>,
    /// When the user last authenticated.
    pub auth_time: Timestamp,
    /// Methods with times.
    pub methods: Vec<SatisfiedMethod>,
    /// The session ends here; rotation does not extend it.
    pub expires_at: Timestamp,
    /// The session family: every refresh token rotated from one sign-in shares it, and
    /// the tokens carry it as `sid`. Empty in records written before families existed.
    #[serde(default)]
    pub family: String,
    /// This refresh token was rotated already. The record is kept as a marker until the
    /// session ends: presenting it again means it was copied, and the whole family is
    /// revoked (RFC 9700 §4.14.2).
    #[serde(default)]
    pub used: bool,
    /// When the session began (tokens first issued), kept through rotation: a password
    /// change after it ends the session. Not `auth_time`, which is the last *proof*: a
    /// reset proves its code before the new password is set, and a sign-up its password
    /// before the account exists, and neither flow may end its own session. Absent in
    /// records written before it existed (then `auth_time` stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_at: Option<Timestamp>,
}

impl RefreshSession {
    /// The session of a fresh sign-in.
    pub fn new(grant: &TokenGrant, scope: &str, s: &TokenSettings, now: Timestamp) -> Self {
        RefreshSession {
            user_id: grant.user_id.clone(),
            app_id: grant.app_id.clone(),
            scope: scope.to_string(),
            amr: grant.amr.clone(),
            acr: grant.acr.clone(),
            acrs: grant.acrs.clone(),
            auth_time: grant.auth_time,
            methods: grant.methods.clone(),
            expires_at: now.plus(s.refresh_lifetime),
            family: String::new(),
            used: false,
            signed_in_at: Some(now),
        }
    }

    /// The grant for refreshed tokens, with the user's current email and name.
    pub fn grant(&self, email: Pii<String>, display_name: Option<Pii<String>>) -> TokenGrant {
        TokenGrant {
            user_id: self.user_id.clone(),
            app_id: self.app_id.clone(),
            email,
            display_name,
            amr: self.amr.clone(),
            acr: self.acr.clone(),
            acrs: self.acrs.clone(),
            auth_time: self.auth_time,
            methods: self.methods.clone(),
        }
    }

    /// Seconds left, at least the 60 KV needs as a TTL.
    pub fn ttl(&self, now: Timestamp) -> u64 {
        kv_ttl(self.expires_at, now)
    }
}

/// What the refresh grant does with a presented refresh token's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Rotate it and issue tokens.
    Rotate,
    /// Refuse: unknown to this client, or its family was revoked.
    Refuse,
    /// Refuse, and revoke the family: a rotated token came back (it was copied).
    RevokeFamily(String),
}

/// The refresh grant's decision, before expiry and account checks: `family_revoked` is
/// whether the store holds a revocation for the session's family.
pub fn refresh_use(session: &RefreshSession, client_id: &str, family_revoked: bool) -> RefreshUse {
    if session.app_id != client_id {
        return RefreshUse::Refuse;
    }
    if session.used {
        return if session.family.is_empty() {
            RefreshUse::Refuse
        } else {
            RefreshUse::RevokeFamily(session.family.clone())
        };
    }
    if family_revoked {
        return RefreshUse::Refuse;
    }
    RefreshUse::Rotate
}

/// Whether the account's password changed after this session began: a reset or a change
/// is what a person does after a leak, so the sessions from before it end (AADSTS50173,
/// as Entra answers a grant revoked by a password change). The session that the change's
/// own flow began (the reset's sign-in, the sign-up's) began after it and lives on.
pub fn ended_by_password_change(session: &RefreshSession, changed_at: Option<Timestamp>) -> bool {
    let began = session.signed_in_at.unwrap_or(session.auth_time);
    changed_at.is_some_and(|at| began < at)
}

/// The refresh grant's error for a session a password change ended.
pub fn password_changed_error() -> crate::native::NativeError {
    crate::native::NativeError::new(
        "invalid_grant",
        "AADSTS50173: the password was changed after this sign-in, so its refresh token no longer works; sign in again",
    )
    .code(50_173)
}

/// A KV TTL for something that expires at `expires_at`: the time left, but at least 60
/// seconds (the KV minimum); the value itself keeps the exact expiry, checked on read.
pub fn kv_ttl(expires_at: Timestamp, now: Timestamp) -> u64 {
    expires_at.since(now).0.max(60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Pii;

    #[test]
    fn a_password_change_after_the_session_began_ends_it_but_not_the_one_it_began() {
        let mut s = session(false, "f");
        // A reset: its code was proven (auth_time) before the new password was set, and
        // its session began after that.
        s.signed_in_at = Some(Timestamp(100));
        s.auth_time = Timestamp(10);
        let signed_in = s.signed_in_at.unwrap();
        assert!(!ended_by_password_change(&s, None));
        assert!(!ended_by_password_change(&s, Some(signed_in)));
        assert!(!ended_by_password_change(
            &s,
            Some(Timestamp(signed_in.0 - 1))
        ));
        assert!(ended_by_password_change(
            &s,
            Some(Timestamp(signed_in.0 + 1))
        ));
        assert_eq!(password_changed_error().error_codes, vec![50_173]);
    }

    fn session(used: bool, family: &str) -> RefreshSession {
        let grant = TokenGrant {
            user_id: "u".into(),
            app_id: "app".into(),
            email: Pii::new("a@example.com".into()),
            display_name: None,
            amr: vec!["pwd".into()],
            acr: "1".into(),
            acrs: vec![],
            auth_time: Timestamp(10),
            methods: vec![],
        };
        let mut s = RefreshSession::new(
            &grant,
            "openid",
            &TokenSettings::new("i", "t"),
            Timestamp(10),
        );
        s.used = used;
        s.family = family.into();
        s
    }

    #[test]
    fn a_rotated_token_presented_again_revokes_its_family() {
        assert_eq!(
            refresh_use(&session(false, "f"), "app", false),
            RefreshUse::Rotate
        );
        assert_eq!(
            refresh_use(&session(true, "f"), "app", false),
            RefreshUse::RevokeFamily("f".into())
        );
        assert_eq!(
            refresh_use(&session(true, ""), "app", false),
            RefreshUse::Refuse
        );
        assert_eq!(
            refresh_use(&session(false, "f"), "app", true),
            RefreshUse::Refuse
        );
        assert_eq!(
            refresh_use(&session(false, "f"), "other", false),
            RefreshUse::Refuse
        );
        // Another client's marker does not let it revoke the owner's family.
        assert_eq!(
            refresh_use(&session(true, "f"), "other", false),
            RefreshUse::Refuse
        );
    }

    #[test]
    fn both_tokens_carry_the_contexts_the_sign_in_met_and_only_those() {
        let mut grant = session(false, "f").grant(Pii::new("a@example.com".into()), None);
        let s = TokenSettings::new("i", "t");
        let now = Timestamp(20);
        assert!(id_token_claims(&grant, &s, now).acrs.is_empty());
        grant.acrs = vec!["c1".into()];
        assert_eq!(id_token_claims(&grant, &s, now).acrs, ["c1"]);
        let access = access_token_claims(&grant, "openid", &s, now, "j");
        assert_eq!(access.acrs, ["c1"]);
        // Absent, not `[]`, when no context was met: the claim is optional in Entra too.
        let json = serde_json::to_value(access_token_claims(
            &session(false, "f").grant(Pii::new("a@example.com".into()), None),
            "openid",
            &s,
            now,
            "j",
        ))
        .unwrap();
        assert!(json.get("acrs").is_none());
    }

    #[test]
    fn the_family_is_a_prefix_of_the_first_lookup_key() {
        let key = "ab".repeat(32);
        assert_eq!(family_of(&key), "ab".repeat(16));
    }
}
