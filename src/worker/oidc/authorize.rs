//! `GET|POST /{tenant}/oauth2/v2.0/authorize` and the hosted pages' form posts at
//! `POST /{tenant}/oidc/interaction`.
//!
//! The authorization request is checked by [`crate::oidc::authorize`]; a good one opens
//! an [`Interaction`] and shows the first page. Each form post runs the flow engine
//! exactly as a native-auth step does (same KV users, same code delivery, same access
//! policy), with [`crate::oidc::hosted`] choosing the next page. When the flow issues
//! tokens, an authorization code is stored instead and the browser is sent to the
//! client's redirect URI.

use super::super::native::{Fail, http};
use super::super::{request, tenant};
use super::captcha;
use super::drive::{Outcome, Run};
use super::pages;
use crate::flow::{
    FlowInput, Session, StartPasswordReset, StartSignIn, StartSignUp, StartStepUp, TokenGrant,
};
use crate::native::Form;
use crate::oidc::authorize::{self, AuthorizeError, AuthorizeRequest, response_url};
use crate::oidc::binding;
use crate::oidc::code::CodeRecord;
use crate::oidc::hosted::{self, Action, Page, StartKind};
use crate::oidc::html::{View, render};
use crate::oidc::interaction::Interaction;
use crate::oidc::replay::{self, Replay};
use crate::oidc::sso::{self, SsoSession};
use crate::pii::Pii;
use crate::time::Timestamp;
use crate::token::{HandleKind, lookup_key, new_handle};
use crate::worker::route::Ctx;
use worker::kv::KvStore;
use worker::{Method, Request, Response, Result};

fn interaction_key(tenant: &str, lookup: &str) -> String {
    format!("oidc/{tenant}/interaction/{lookup}")
}

/// The KV key of an authorization code's record.
pub fn code_key(tenant: &str, lookup: &str) -> String {
    format!("oidc/{tenant}/code/{lookup}")
}

/// The authorization endpoint (GET, or POST with a form body, OIDC Core §3.1.2.1).
pub async fn authorize(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some(tenant) = tenant::from_route(&ctx) else {
        return pages::error(404, "this sign-in address names no valid tenant");
    };
    let query = match req.method() {
        Method::Get => req.url()?.query().unwrap_or_default().to_string(),
        Method::Post => match http::form_body(&mut req).await {
            Ok(body) => match String::from_utf8(body) {
                Ok(text) => text,
                Err(_) => {
                    return pages::error(
                        400,
                        "the authorization request could not be read: the form is not valid utf-8",
                    );
                }
            },
            Err(_) => return pages::error(400, "the authorization request could not be read"),
        },
        _ => return super::super::reply::method_not_allowed(),
    };
    let (_, issuer) = super::issuer_of(&req, &tenant)?;
    let client_id = match authorize::client_id(&query) {
        Ok(id) => id,
        Err(e) => return refuse(&e, &issuer),
    };
    let kv = ctx.kv("KV")?;
    let client = super::apps::client(&kv, &tenant, &client_id).await?;
    let checked = match authorize::validate(&query, client.as_ref()) {
        Ok(r) => r,
        Err(e) => return refuse(&e, &issuer),
    };
    let now = request::now();
    let secure = req.url()?.scheme() == "https";
    let cookie = req.headers().get("cookie").ok().flatten();
    // Bind the sign-in to this browser ([`binding`]): keep the cookie it holds (its other
    // tabs' sign-ins are bound to it too), else a fresh one.
    let secrets = match super::super::native::setup::secrets(&ctx) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let bind = binding::value_for(cookie.as_deref(), secure, &request::random()?);
    let bound = binding::digest(&secrets.0, &tenant, &bind);
    let bind_cookie = binding::set_cookie(&bind, &tenant, secure);
    let mut interaction = Interaction::new(checked, bound, now);
    let sso_lookup = sso::read_cookie(cookie.as_deref())
        .and_then(|h| lookup_key(HandleKind::ContinuationToken, h).ok());
    let session = match &sso_lookup {
        Some(k) => {
            crate::worker::kv_json::get::<SsoSession>(&kv, &sso_key(&tenant, k.as_str())).await?
        }
        None => None,
    };
    let Some(session) = session.filter(|s| sso::may_resume(s, &interaction.request, now)) else {
        if interaction.request.prompt_none {
            return deny(
                &interaction.request,
                &issuer,
                "login_required",
                "the user must sign in",
            );
        }
        return bound_page(
            show(&kv, &tenant, &interaction, None, now).await,
            &bind_cookie,
        );
    };
    // Resume the browser's session through the flow engine's step-up: the access policy
    // and acr_values are judged again, and only what is missing is asked for.
    let input = FlowInput::StartStepUp(StartStepUp {
        app_id: interaction.request.client_id.clone(),
        session: Session {
            user_id: session.user_id.clone(),
            methods: session.methods.clone(),
            signed_in_at: Some(session.began()),
        },
        auth_contexts: interaction.request.acr().auth_contexts,
        capabilities: Default::default(),
        challenge_types: Default::default(),
        facts: http::facts(&req),
    });
    let run = match Run::load(&ctx, &req, &kv, &tenant, now).await {
        Ok(run) => run,
        Err(e) => return failed(e),
    };
    let outcome = match run.drive(&mut interaction, None, input).await {
        Ok(o) => o,
        Err(e) => return failed(e),
    };
    let finish = Finish {
        kv: &kv,
        tenant: &tenant,
        issuer: &issuer,
        secure,
        old_session: sso_lookup,
        now,
    };
    match outcome {
        Outcome::Page(_) if interaction.request.prompt_none => deny(
            &interaction.request,
            &issuer,
            "interaction_required",
            "the sign-in needs the user",
        ),
        Outcome::Page(error) => bound_page(
            show(&kv, &tenant, &interaction, error.as_deref(), now).await,
            &bind_cookie,
        ),
        Outcome::SignedIn(grant) => finish.signed_in(&interaction.request, grant).await,
        Outcome::Deny { error, description } => {
            deny(&interaction.request, &issuer, error, &description)
        }
    }
}

/// A page that opens an interaction, with the browser's binding cookie.
fn bound_page(page: Result<Response>, cookie: &str) -> Result<Response> {
    let page = page?;
    page.headers().append("set-cookie", cookie)?;
    Ok(page)
}

/// The KV key of a single sign-on session.
pub(super) fn sso_key(tenant: &str, lookup: &str) -> String {
    format!("oidc/{tenant}/sso/{lookup}")
}

/// An invalid authorization request: a page, or the error sent to the client.
fn refuse(e: &AuthorizeError, issuer: &str) -> Result<Response> {
    match e {
        AuthorizeError::Page { code, message } => {
            worker::console_warn!("authorize: refused without redirect ({code})");
            pages::error(400, message)
        }
        AuthorizeError::Redirect(r) => pages::redirect(&r.url(issuer)),
    }
}

/// Stores the interaction under a fresh handle and renders its page.
async fn show(
    kv: &KvStore,
    tenant: &str,
    interaction: &Interaction,
    error: Option<&str>,
    now: Timestamp,
) -> Result<Response> {
    Ok(store_and_render(kv, tenant, interaction, error, now)
        .await?
        .0)
}

/// [`show`] for a form post: notes the page in `led_to`, for a second post of the form.
async fn show_posted(
    kv: &KvStore,
    tenant: &str,
    interaction: &Interaction,
    error: Option<&str>,
    now: Timestamp,
    led_to: &mut Option<Replay>,
) -> Result<Response> {
    let (response, handle) = store_and_render(kv, tenant, interaction, error, now).await?;
    *led_to = Some(Replay::Page {
        handle,
        error: error.map(str::to_string),
    });
    Ok(response)
}

/// Stores the interaction under a fresh handle and renders its page; the page and the
/// handle.
async fn store_and_render(
    kv: &KvStore,
    tenant: &str,
    interaction: &Interaction,
    error: Option<&str>,
    now: Timestamp,
) -> Result<(Response, crate::pii::Secret<String>)> {
    let handle = new_handle(HandleKind::ContinuationToken, &request::random::<32>()?);
    kv.put(
        &interaction_key(tenant, handle.lookup_key.as_str()),
        serde_json::to_string(interaction)?,
    )?
    .expiration_ttl(interaction.ttl(now))
    .execute()
    .await?;
    let page = render_page(tenant, interaction, handle.token.expose(), error)?;
    Ok((page, handle.token))
}

/// Renders the interaction's page with `handle` in its form.
fn render_page(
    tenant: &str,
    interaction: &Interaction,
    handle: &str,
    error: Option<&str>,
) -> Result<Response> {
    let form_action = format!("/{tenant}/oidc/interaction");
    let html = render(&View {
        page: &interaction.page,
        client_name: &interaction.request.client_name,
        form_action: &form_action,
        handle,
        error,
    });
    let status = if error.is_some() { 400 } else { 200 };
    pages::page(status, &interaction.page, html)
}

/// One post per hosted-page handle ([`replay`]): the handle's guard object says which
/// post runs, and keeps its answer for the others.
struct FormOnce {
    guard: crate::worker::guard::Client,
    secrets: super::super::native::setup::Secrets,
    lookup: String,
    /// The posted form's digest ([`replay::form_digest`]).
    form: String,
}

impl FormOnce {
    fn new(ctx: &Ctx, req: &Request, lookup: &str, body: &[u8]) -> std::result::Result<Self, Fail> {
        Ok(FormOnce {
            guard: crate::worker::guard::Client::for_request(ctx, req),
            secrets: super::super::native::setup::secrets(ctx)?,
            lookup: lookup.to_string(),
            form: replay::form_digest(body),
        })
    }

    /// `None` for the first post; else what it answered, once it has.
    async fn spend(
        &self,
        tenant: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> std::result::Result<Option<replay::Later>, Fail> {
        self.guard
            .spend_form(
                &self.secrets.0,
                tenant,
                &self.lookup,
                &self.form,
                until,
                now,
            )
            .await
    }

    async fn settle(&self, tenant: &str, replay: String, now: Timestamp) {
        self.guard
            .settle_form(&self.secrets.0, tenant, &self.lookup, replay, now)
            .await;
    }

    /// A later post: waits for the first post's answer and gives the same one.
    async fn replayed(&self, kv: &KvStore, tenant: &str, now: Timestamp) -> Result<Response> {
        let tries = replay::WAIT_MS / replay::POLL_MS;
        for _ in 0..tries {
            let kept = match self.spend(tenant, now, request::now()).await {
                Ok(Some(replay::Later::Kept(kept))) => kept,
                Ok(Some(replay::Later::Wait)) => {
                    worker::Delay::from(std::time::Duration::from_millis(replay::POLL_MS)).await;
                    continue;
                }
                // Past the window (or the object forgot the handle): the page was used.
                Ok(Some(replay::Later::Refused) | None) => break,
                Err(e) => return failed(e),
            };
            match replay::from_text(&kept) {
                Some(Replay::Redirect { location }) => return pages::redirect(location.expose()),
                Some(Replay::Page { handle, error }) => {
                    let Ok(lookup) = lookup_key(HandleKind::ContinuationToken, handle.expose())
                    else {
                        break;
                    };
                    let key = interaction_key(tenant, lookup.as_str());
                    let Some(next) = crate::worker::kv_json::get::<Interaction>(kv, &key).await?
                    else {
                        break;
                    };
                    return render_page(tenant, &next, handle.expose(), error.as_deref());
                }
                None => break,
            }
        }
        pages::error(400, EXPIRED)
    }
}

const CROSS_SITE: &str = "this sign-in form was sent from another website, so it was not accepted; go back to the application and sign in again";

const EXPIRED: &str = "this sign-in page has expired or was already used; go back to the application and sign in again";

/// A form post from a hosted page.
pub async fn interaction(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Some(tenant) = tenant::from_route(&ctx) else {
        return pages::error(404, "this sign-in address names no valid tenant");
    };
    let site = req.headers().get("sec-fetch-site").ok().flatten();
    if crate::oidc::interaction::posted_from_another_site(site.as_deref()) {
        worker::console_warn!("interaction: refused a form post from another site");
        return pages::error(403, CROSS_SITE);
    }
    let Ok(body) = http::form_body(&mut req).await else {
        return pages::error(400, "the form could not be read");
    };
    let form = match Form::parse(&body) {
        Ok(form) => form,
        Err(e) => {
            return pages::error(
                400,
                &format!("the form could not be read: {}", e.description),
            );
        }
    };
    let kv = ctx.kv("KV")?;
    let now = request::now();
    let Some(lookup) = form
        .get("interaction")
        .and_then(|h| lookup_key(HandleKind::ContinuationToken, h).ok())
    else {
        return pages::error(400, EXPIRED);
    };
    let key = interaction_key(&tenant, lookup.as_str());
    let Some(interaction) = crate::worker::kv_json::get::<Interaction>(&kv, &key).await? else {
        return pages::error(400, EXPIRED);
    };
    if interaction.expired(now) {
        return pages::error(400, EXPIRED);
    }
    // Only the browser that opened the sign-in may post its handle ([`binding`]): checked
    // before the handle is spent, so a refused post changes nothing.
    let secure = req.url()?.scheme() == "https";
    let cookie = req.headers().get("cookie").ok().flatten();
    let secrets = match super::super::native::setup::secrets(&ctx) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    if let Err(refusal) = binding::check(
        &secrets.0,
        &tenant,
        interaction.binding.as_deref(),
        binding::read_cookie(cookie.as_deref(), secure),
    ) {
        worker::console_warn!(
            "interaction: refused a form post from another browser ({})",
            refusal.code()
        );
        return pages::error(refusal.status(), refusal.message());
    }
    // One post per handle, decided by the handle's object: a second post of the same form
    // (a double click) runs nothing and answers as the first did ([`replay`]). The page's
    // record stays in KV until it expires, so such a post finds it.
    let once = match FormOnce::new(&ctx, &req, lookup.as_str(), &body) {
        Ok(once) => once,
        Err(e) => return failed(e),
    };
    match once.spend(&tenant, interaction.expires_at, now).await {
        Ok(None) => {}
        // An old form sent again after the replay window: used, as before.
        Ok(Some(replay::Later::Refused)) => return pages::error(400, EXPIRED),
        Ok(Some(_)) => return once.replayed(&kv, &tenant, now).await,
        Err(e) => return failed(e),
    }
    let mut led_to = None;
    let answer = posted(
        &req,
        &ctx,
        &kv,
        &tenant,
        &form,
        interaction,
        now,
        &mut led_to,
    )
    .await;
    if let Ok(r) = &answer {
        let location = r.headers().get("location").ok().flatten();
        if let Some(text) = replay::redirect(r.status_code(), location)
            .or(led_to)
            .as_ref()
            .and_then(replay::to_text)
        {
            once.settle(&tenant, text, now).await;
        }
    }
    answer
}

/// The rest of a form post, once its handle is spent: runs the step and answers. Every
/// page it shows is noted in `led_to`, for a second post of the same form.
#[allow(
    clippy::too_many_arguments,
    reason = "one post's pieces; `led_to` is the one output besides the answer"
)]
async fn posted(
    req: &Request,
    ctx: &Ctx,
    kv: &KvStore,
    tenant: &str,
    form: &Form,
    mut interaction: Interaction,
    now: Timestamp,
    led_to: &mut Option<Replay>,
) -> Result<Response> {
    let (_, issuer) = super::issuer_of(req, tenant)?;
    let secure = req.url()?.scheme() == "https";
    let cookie = req.headers().get("cookie").ok().flatten();
    let old_session = sso::read_cookie(cookie.as_deref())
        .and_then(|h| lookup_key(HandleKind::ContinuationToken, h).ok());
    let field = |name: &str| form.get(name).map(str::to_string);
    let posted = match captcha::post(ctx, req, &mut interaction, &field, now).await {
        // The CAPTCHA passed: step the kept flow (the check recorded) with the kept input.
        Some(captcha::Next::Run(state, input)) => {
            interaction.flow = Some(*state);
            Ok(Action::Flow(input))
        }
        Some(captcha::Next::Show(error)) => {
            return show_posted(kv, tenant, &interaction, error.as_deref(), now, led_to).await;
        }
        None => hosted::action(&interaction.page, interaction.flow.as_ref(), &field),
    };
    let action = match posted {
        Ok(a) => a,
        Err(message) => {
            return show_posted(kv, tenant, &interaction, Some(&message), now, led_to).await;
        }
    };
    let (state, input) = match action {
        Action::Cancel => {
            return deny(
                &interaction.request,
                &issuer,
                "access_denied",
                "the user cancelled the sign-in",
            );
        }
        Action::Switch { sign_up } => {
            interaction.page = Page::Email {
                sign_up,
                email: None,
            };
            interaction.flow = None;
            return show_posted(kv, tenant, &interaction, None, now, led_to).await;
        }
        Action::Start { kind, email } => {
            interaction.page = Page::Email {
                sign_up: kind == StartKind::SignUp,
                email: Some(email.clone()),
            };
            (None, start_input(&interaction.request, kind, email, req))
        }
        Action::Flow(input) => match interaction.flow.take() {
            Some(state) => (Some(state), *input),
            None => return pages::error(400, EXPIRED),
        },
    };
    let run = match Run::load(ctx, req, kv, tenant, now).await {
        Ok(run) => run,
        Err(e) => return failed(e),
    };
    match run.drive(&mut interaction, state, input).await {
        Ok(Outcome::Page(error)) => {
            show_posted(kv, tenant, &interaction, error.as_deref(), now, led_to).await
        }
        Ok(Outcome::SignedIn(grant)) => {
            let finish = Finish {
                kv,
                tenant,
                issuer: &issuer,
                secure,
                old_session,
                now,
            };
            finish.signed_in(&interaction.request, grant).await
        }
        Ok(Outcome::Deny { error, description }) => {
            deny(&interaction.request, &issuer, error, &description)
        }
        Err(e) => failed(e),
    }
}

/// The start input for the email page.
fn start_input(
    r: &AuthorizeRequest,
    kind: StartKind,
    email: Pii<String>,
    req: &Request,
) -> FlowInput {
    let facts = http::facts(req);
    let app_id = r.client_id.clone();
    match kind {
        StartKind::SignUp => FlowInput::StartSignUp(StartSignUp {
            app_id,
            email,
            password: None,
            attributes: Default::default(),
            capabilities: Default::default(),
            challenge_types: Default::default(),
            facts,
        }),
        StartKind::SignIn => FlowInput::StartSignIn(StartSignIn {
            app_id,
            email,
            capabilities: Default::default(),
            challenge_types: Default::default(),
            facts,
            auth_contexts: r.acr().auth_contexts,
        }),
        StartKind::ResetPassword => FlowInput::StartPasswordReset(StartPasswordReset {
            app_id,
            email,
            capabilities: Default::default(),
            facts,
        }),
    }
}

/// Sends an error to the client's redirect URI (RFC 6749 §4.1.2.1).
fn deny(r: &AuthorizeRequest, issuer: &str, error: &str, description: &str) -> Result<Response> {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = &r.state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    pages::redirect(&response_url(&r.redirect_uri, r.response_mode, &params))
}

fn failed(e: Fail) -> Result<Response> {
    match e {
        Fail::Protocol(e) => {
            worker::console_error!("interaction: {} ({})", e.error, e.status);
            pages::error(
                500,
                "the sign-in service is not configured correctly; try again later",
            )
        }
        Fail::Runtime(_) => {
            worker::console_error!("interaction: runtime failure");
            pages::error(
                503,
                "the sign-in service could not complete the request; try again shortly",
            )
        }
    }
}

/// What a finished sign-in needs to answer.
struct Finish<'a> {
    kv: &'a KvStore,
    tenant: &'a str,
    issuer: &'a str,
    secure: bool,
    old_session: Option<crate::token::LookupKey>,
    now: Timestamp,
}

impl Finish<'_> {
    /// Stores an authorization code and the browser's single sign-on session, and sends
    /// the browser back to the client with the code.
    async fn signed_in(&self, r: &AuthorizeRequest, grant: TokenGrant) -> Result<Response> {
        let (kv, tenant, now) = (self.kv, self.tenant, self.now);
        let session = SsoSession::new(grant.user_id.clone(), grant.methods.clone(), now);
        let sso = new_handle(HandleKind::ContinuationToken, &request::random::<32>()?);
        kv.put(
            &sso_key(tenant, sso.lookup_key.as_str()),
            serde_json::to_string(&session)?,
        )?
        .expiration_ttl(session.ttl(now))
        .execute()
        .await?;
        if let Some(old) = &self.old_session {
            kv.delete(&sso_key(tenant, old.as_str())).await?;
        }
        let family: String = request::random::<16>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let record = CodeRecord::new(r, grant, family, now);
        let handle = new_handle(HandleKind::AuthorizationCode, &request::random::<32>()?);
        kv.put(
            &code_key(tenant, handle.lookup_key.as_str()),
            serde_json::to_string(&record)?,
        )?
        .expiration_ttl(crate::native::tokens::kv_ttl(record.expires_at, now))
        .execute()
        .await?;
        let mut params = vec![("code", handle.token.expose().as_str())];
        if let Some(state) = &r.state {
            params.push(("state", state));
        }
        params.push(("iss", self.issuer));
        let resp = pages::redirect(&response_url(&r.redirect_uri, r.response_mode, &params))?;
        resp.headers().set(
            "set-cookie",
            &sso::set_cookie(sso.token.expose(), tenant, self.secure),
        )?;
        Ok(resp)
    }
}
