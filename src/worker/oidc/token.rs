//! `grant_type=authorization_code` at the shared `/{tenant}/oauth2/v2.0/token`
//! endpoint: the code's record is checked by [`crate::oidc::code::exchange`] (single use,
//! expiry, client, redirect URI, PKCE), then tokens are minted exactly as native auth
//! mints them, with the request's `nonce` and the code's session family as `sid`.

use super::super::native::kv::Store;
use super::super::native::{Fail, setup, tokens};
use super::authorize::code_key;
use crate::native::tokens::{RefreshSession, TokenSettings};
use crate::native::{Form, Meta, NativeError, NativeResponse};
use crate::oidc::code::{CodeRecord, Exchange, exchange as decide};
use crate::token::{HandleKind, lookup_key};
use crate::worker::route::Ctx;
use worker::Request;

/// How long a spent code's marker is kept: as long as the sessions it could have started.
const SPENT_MARKER_TTL: u64 = 86_400;

fn invalid_client() -> NativeError {
    let mut e = NativeError::new(
        "invalid_client",
        "the client is not registered here (`client_id`)",
    );
    e.status = 401;
    e
}

/// Redeems an authorization code.
pub async fn exchange(
    req: &Request,
    ctx: &Ctx,
    tenant: &str,
    form: &Form,
    meta: &Meta,
) -> Result<NativeResponse, Fail> {
    let now = meta.now;
    let client_id = form.get("client_id").ok_or_else(invalid_client)?;
    let kv = ctx.kv("KV")?;
    if super::apps::client(&kv, tenant, client_id).await?.is_none() {
        return Err(invalid_client().into());
    }
    let code = form.require("code")?;
    let unknown = || {
        Fail::from(NativeError::new(
            "invalid_grant",
            "the authorization code is invalid",
        ))
    };
    let lookup = lookup_key(HandleKind::AuthorizationCode, code).map_err(|_| unknown())?;
    let key = code_key(tenant, lookup.as_str());
    let record = crate::worker::kv_json::get::<CodeRecord>(&kv, &key)
        .await?
        .ok_or_else(unknown)?;
    let store = Store::new(&kv, tenant);
    let verdict = |record: &CodeRecord| {
        decide(
            record,
            client_id,
            form.get("redirect_uri"),
            form.get("code_verifier"),
            now,
        )
    };
    let mut exchange = verdict(&record);
    let setup = setup::load(ctx, tenant).await?;
    if exchange == Exchange::Issue {
        // Checked before the code is spent, so a fault here leaves it redeemable.
        let user = store.user(&record.grant.user_id).await?;
        crate::oidc::code::account_may_redeem(user.as_ref())?;
        // The KV record may not show a redemption made moments ago at another location:
        // the guard decides which request redeems it. A later one is a replay, judged as
        // if the record already said so. The code is spent in its account's object, as
        // the account's continuation and refresh tokens are: it knows an administrator's
        // disable or deletion at once, where this location's KV (read just above) may
        // show it a minute later, and the hosted pages that issued the code spent no
        // token there.
        let guard = crate::worker::guard::Client::for_request(ctx, req);
        let first = guard
            .spend(
                setup.code_key(),
                tenant,
                lookup.as_str(),
                crate::worker::guard::SpendIn::Account(&record.grant.user_id),
                record.expires_at,
                now,
            )
            .await?
            .map_err(|_closed| Fail::from(crate::oidc::code::account_closed_error()))?;
        if !first {
            exchange = verdict(&record.clone().spent());
        }
    }
    if let Exchange::Refuse { error, revoke } = exchange {
        if let Some(family) = revoke {
            worker::console_warn!(
                "token: an authorization code was replayed; session family revoked"
            );
            store.revoke_family(&family, SPENT_MARKER_TTL).await?;
        }
        return Err(error.into());
    }
    // Spent before anything else can fail; the marker recognises a replay.
    kv.put(
        &key,
        serde_json::to_string(&record.clone().spent()).map_err(worker::Error::from)?,
    )?
    .expiration_ttl(SPENT_MARKER_TTL)
    .execute()
    .await?;
    let origin = req.url()?.origin().ascii_serialization();
    let settings = TokenSettings::new(
        crate::native::tokens::issuer(&origin, tenant),
        tenant.to_string(),
    );
    let mut session = RefreshSession::new(&record.grant, &record.scope, &settings, now);
    session.family = record.family.clone();
    let body = tokens::mint(
        &store,
        &setup,
        &settings,
        &record.grant,
        &session,
        now,
        record.nonce.as_deref(),
    )
    .await?;
    Ok(NativeResponse { status: 200, body })
}
