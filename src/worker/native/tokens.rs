//! Minting tokens for an `IssueTokens` effect, and the `refresh_token` grant.
//!
//! ID and access tokens are EdDSA JWTs signed with the first key of `SIGNING_KEYS`.
//! The refresh token is an opaque `vrt_` handle; KV keeps the [`RefreshSession`] under
//! its lookup key. Each use rotates it (the old key is deleted, a new handle issued)
//! and the session keeps its original end, so refreshing never extends a sign-in.

use super::Fail;
use super::kv::Store;
use super::setup::Setup;
use crate::flow::TokenGrant;
use crate::native::tokens::{self, IssuedTokens, RefreshSession, RefreshUse, TokenSettings};
use crate::native::{Meta, NativeError, NativeResponse};
use crate::pii::Secret;
use crate::time::Timestamp;
use crate::token::{HandleKind, lookup_key, refresh_token_handle};
use crate::worker::request;
use serde_json::Value;

/// Signs the tokens for `grant` and stores the refresh session; the token response body.
/// The ID token carries `nonce` when the authorization request had one; both tokens
/// carry the session family as `sid` (a new family for a new sign-in).
pub async fn mint(
    store: &Store<'_>,
    setup: &Setup,
    settings: &TokenSettings,
    grant: &TokenGrant,
    session: &RefreshSession,
    now: Timestamp,
    nonce: Option<&str>,
) -> Result<Value, Fail> {
    let sign = |claims: &crate::token::Claims| {
        crate::token::issue(setup.keyring(), claims).map_err(|e| {
            Fail::from(NativeError::server_error(format!(
                "the tokens could not be signed ({})",
                e.code()
            )))
        })
    };
    let refresh = refresh_token_handle(&request::random::<32>()?);
    let mut session = session.clone();
    if session.family.is_empty() {
        session.family = tokens::family_of(refresh.lookup_key.as_str());
    }
    let mut id_claims = tokens::id_token_claims(grant, settings, now);
    id_claims.nonce = nonce.map(str::to_string);
    id_claims.sid = Some(session.family.clone());
    let id_token = sign(&id_claims)?;
    let jti = request::new_id()?;
    let mut access_claims = tokens::access_token_claims(grant, &session.scope, settings, now, &jti);
    access_claims.sid = Some(session.family.clone());
    let access_token = sign(&access_claims)?;
    store
        .put_refresh(&refresh.lookup_key, &session, now)
        .await?;
    let issued = IssuedTokens {
        access_token: access_token.expose(),
        id_token: id_token.expose(),
        refresh_token: refresh.token.expose(),
    };
    Ok(tokens::token_response(
        &issued,
        grant,
        &session.scope,
        settings,
        session.expires_at.since(now).0,
    ))
}

/// `grant_type=refresh_token`: new tokens for the same authentication, or
/// `invalid_grant` for a token that is unknown, used, expired, another client's, or
/// whose account is gone or disabled. A rotated token presented again revokes its whole
/// session family, so a copied refresh token stops working for thief and owner alike.
/// `served` says whether the client may use this tenant (its user flow, or an app
/// registration).
#[allow(
    clippy::too_many_arguments,
    reason = "the pieces of one grant request, each from a different part of the Worker"
)]
pub async fn refresh(
    store: &Store<'_>,
    guard: &crate::worker::guard::Client,
    setup: &Setup,
    settings: &TokenSettings,
    client_id: &str,
    presented: &Secret<String>,
    meta: &Meta,
    served: bool,
) -> Result<NativeResponse, Fail> {
    let now = meta.now;
    if !served {
        return Err(NativeError::unauthorized_client().into());
    }
    let invalid = || Fail::from(NativeError::invalid_token("refresh token"));
    let key = lookup_key(HandleKind::RefreshToken, presented.expose()).map_err(|_| invalid())?;
    let session = store.refresh(&key).await?.ok_or_else(invalid)?;
    // The user is read with the revocation marker (one call); it is used only if the
    // token may rotate.
    let (revoked, user) = store
        .revoked_and_user(&session.family, &session.user_id)
        .await?;
    let mut verdict = tokens::refresh_use(&session, client_id, revoked);
    if verdict == RefreshUse::Rotate {
        // Refused before the spend: an expired token needs no guard object.
        if now >= session.expires_at {
            return Err(NativeError::new(
                "invalid_grant",
                "AADSTS700082: the refresh token has expired; sign in again",
            )
            .code(700_082)
            .into());
        }
        // KV may not show a rotation made moments ago at another location: the token's
        // guard object decides which request rotates it. A later one is a reuse, judged
        // as if the record already said so.
        // Spent in the account's object, which knows a disable or deletion made at
        // another location before KV shows it here.
        let within = crate::worker::guard::SpendIn::Account(&session.user_id);
        let first = guard
            .spend(
                setup.code_key(),
                store.tenant(),
                key.as_str(),
                within,
                session.expires_at,
                now,
            )
            .await?
            .map_err(|_closed| invalid())?;
        if !first {
            let mut copy = session.clone();
            copy.used = true;
            verdict = tokens::refresh_use(&copy, client_id, revoked);
        }
    }
    match verdict {
        RefreshUse::Rotate => {}
        RefreshUse::Refuse => return Err(invalid()),
        RefreshUse::RevokeFamily(family) => {
            worker::console_warn!(
                "refresh: a rotated refresh token was reused; session family revoked"
            );
            store.revoke_family(&family, session.ttl(now)).await?;
            return Err(invalid());
        }
    }
    // Used once: marked before anything else can fail, and kept as a marker so that a
    // second use is recognised as a copy.
    let mut spent = session.clone();
    spent.used = true;
    store.put_refresh(&key, &spent, now).await?;
    let user = user.filter(|u| !u.lockout.disabled).ok_or_else(invalid)?;
    if tokens::ended_by_password_change(&session, user.password_changed_at) {
        return Err(tokens::password_changed_error().into());
    }
    let grant = session.grant(user.email.clone(), user.display_name.clone());
    let body = mint(store, setup, settings, &grant, &session, now, None).await?;
    Ok(NativeResponse { status: 200, body })
}
