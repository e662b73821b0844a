//! One form post (or a resumed session) through the flow engine: step with the input,
//! apply the effects exactly as native auth does (users to KV, codes to delivery, audit
//! to the log), follow the automatic inputs [`crate::oidc::hosted::after_step`] names,
//! and stop at the next page, the token grant, or an error for the client. When the flow
//! asks for a CAPTCHA before an SMS and the widget is configured, the CAPTCHA page is
//! shown instead, with the flow as it was before that step ([`crate::oidc::captcha`]).

use super::super::native::Fail;
use super::super::native::delivery::Delivery;
use super::super::native::effects::{self, Target};
use super::super::native::kv::Store;
use super::super::native::setup::Setup;
use super::super::request;
use crate::flow::{
    AccessPolicy, Entropy, FlowConfig, FlowInput, FlowState, NoPolicies, StepContext, TokenGrant,
    UserLookup,
};
use crate::native::delivery as delivery_rules;
use crate::oidc::acr::RequireMfa;
use crate::oidc::captcha;
use crate::oidc::hosted::{self, Next, Page};
use crate::oidc::interaction::Interaction;
use crate::time::Timestamp;
use crate::worker::route::Ctx;
use worker::Request;
use worker::kv::KvStore;

/// How one form post ended.
pub enum Outcome {
    /// Show the interaction's page (with this error).
    Page(Option<String>),
    /// Tokens were granted: issue a code.
    SignedIn(TokenGrant),
    /// Send this error to the client.
    Deny {
        /// `error`.
        error: &'static str,
        /// `error_description`.
        description: String,
    },
}

/// What a run needs: the tenant's setup and the same senders, guard and log as native
/// auth.
pub struct Run<'a> {
    /// KV.
    pub kv: &'a KvStore,
    /// The tenant.
    pub tenant: &'a str,
    /// Its configuration and keys.
    pub setup: Setup,
    /// How codes are delivered.
    pub delivery: Delivery,
    /// Where ended sign-in attempts are recorded.
    pub sign_in_log: crate::worker::sign_in_log::SignInLog,
    /// The Durable Object guard (code attempts, SMS velocity).
    pub guard: crate::worker::guard::Client,
    /// Now.
    pub now: Timestamp,
    /// The CAPTCHA widget's site key, when the check is configured.
    pub captcha_site_key: Option<String>,
}

impl<'a> Run<'a> {
    /// Loads everything a run of `tenant` needs for this request.
    pub async fn load(
        ctx: &Ctx,
        req: &Request,
        kv: &'a KvStore,
        tenant: &'a str,
        now: Timestamp,
    ) -> std::result::Result<Run<'a>, Fail> {
        let setup = super::super::native::setup::load(ctx, tenant).await?;
        let delivery = Delivery::load(ctx, tenant, setup.delivery_hooks.as_deref())?;
        Ok(Run {
            kv,
            tenant,
            setup,
            delivery,
            sign_in_log: crate::worker::sign_in_log::SignInLog::for_env(ctx),
            guard: crate::worker::guard::Client::for_request(ctx, req),
            now,
            captcha_site_key: crate::worker::sms_captcha::site_key(ctx),
        })
    }
}

impl Run<'_> {
    /// Steps the flow with `input`, then with the automatic inputs that follow, and
    /// leaves the next page (or the end) in `interaction`.
    pub async fn drive(
        &self,
        interaction: &mut Interaction,
        mut state: Option<FlowState>,
        mut input: FlowInput,
    ) -> std::result::Result<Outcome, Fail> {
        let store = Store::new(self.kv, self.tenant);
        let config: FlowConfig = match crate::oidc::apps::flow_serving(
            &self.setup.config,
            &interaction.request.client_id,
        ) {
            Some(c)
                if super::apps::is_registered(
                    self.kv,
                    self.tenant,
                    &interaction.request.client_id,
                )
                .await? =>
            {
                c
            }
            _ => (*self.setup.config).clone(),
        };
        // As in native auth: a channel that cannot deliver is not offered.
        let config =
            crate::native::delivery::only_deliverable(&config, |c| self.delivery.can_send(c))
                .unwrap_or(config);
        let tenant_policy: &dyn AccessPolicy = match &self.setup.policies {
            Some(set) => set.as_ref(),
            None => &NoPolicies,
        };
        let policy = RequireMfa {
            inner: tenant_policy,
            mfa: interaction.request.acr().mfa,
        };
        for _ in 0..hosted::MAX_AUTO_STEPS {
            let user = match (&state, &input) {
                (None, FlowInput::StartSignIn(s)) => store.user_by_email(s.email.expose()).await?,
                (None, FlowInput::StartSignUp(s)) => store.user_by_email(s.email.expose()).await?,
                (None, FlowInput::StartStepUp(s)) => store.user(&s.session.user_id).await?,
                (None, FlowInput::StartPasswordReset(s)) => {
                    store.user_by_email(s.email.expose()).await?
                }
                (Some(st), _) => match st.user_lookup() {
                    UserLookup::Id(id) => store.user(&id).await?,
                    UserLookup::Email(e) => store.user_by_email(e.expose()).await?,
                },
                (None, _) => None,
            };
            let entropy = Entropy::new(request::random::<{ Entropy::RECOMMENDED_LEN }>()?.to_vec());
            // One password step per account at a time, as in native auth: the record is
            // read again under the hold.
            let (held, user) = match user {
                Some(u) if crate::guard::password::needs_hold(&input, state.as_ref()) => match self
                    .guard
                    .hold_and_read(&store, self.setup.code_key(), &u.id, self.now)
                    .await
                {
                    Ok((hold, fresh)) => (Some(hold), fresh),
                    Err(Fail::Protocol(e)) => {
                        interaction.flow = state;
                        return Ok(Outcome::Page(Some(e.for_person())));
                    }
                    Err(e) => return Err(e),
                },
                user => (None, user),
            };
            let release =
                async |held: Option<crate::worker::guard::Hold>,
                       ended: Option<crate::flow::user::Lockout>| {
                    if let Some(hold) = held {
                        self.guard.release(hold, ended, self.now).await;
                    }
                };
            let judged = user.as_ref().map(|u| (u.id.clone(), u.lockout));
            let base = user.clone();
            let ctx = StepContext {
                config: &config,
                code_key: self.setup.code_key(),
                access_policy: &policy,
                now: self.now,
                entropy,
                user,
            };
            // An input that may text a number, kept for the CAPTCHA page, which runs it
            // again once the check passes.
            let retry = self
                .captcha_site_key
                .as_ref()
                .and_then(|_| captcha::Retry::of(&input));
            let step = match self
                .guard
                .step(self.tenant, state.clone(), input, ctx)
                .await
            {
                Ok(Ok(step)) => step,
                // The guard refused the code (no tries left, already used): say so on the
                // page the user is on.
                Err(Fail::Protocol(e)) => {
                    release(held, None).await;
                    interaction.flow = state;
                    return Ok(Outcome::Page(Some(e.for_person())));
                }
                Err(e) => {
                    release(held, None).await;
                    return Err(e);
                }
                Ok(Err(e)) => {
                    release(held, None).await;
                    worker::console_warn!("interaction: flow refused the input ({})", e.code());
                    interaction.flow = state;
                    return Ok(Outcome::Page(Some(
                        "that did not work; try again or start over".to_string(),
                    )));
                }
            };
            let target = Target {
                kv: self.kv,
                tenant: self.tenant,
                delivery: &self.delivery,
                app_id: &interaction.request.client_id,
                correlation_id: None,
                sign_in_log: self.sign_in_log,
                now: self.now,
                guard: &self.guard,
                code_key: self.setup.code_key(),
                base: base.as_ref(),
            };
            let ended = judged.as_ref().map(|(id, lockout)| {
                crate::guard::password::ended_with(lockout, id, &step.effects)
            });
            let applied = effects::apply(&target, step.effects).await;
            if let Ok(effects::Applied {
                cleared: Some(id), ..
            }) = &applied
            {
                let key = self.setup.code_key();
                self.guard
                    .clear_lockout(key, self.tenant, id, self.now, false)
                    .await;
            }
            release(held, ended).await;
            let applied = applied?;
            if let Some((channel, why)) = applied.undelivered {
                // Keep the page and the state the user had (counting the failed send),
                // and say what happened, as native auth answers with the same words.
                // A send that cannot have gone out is given back to the velocity caps.
                let key = self.setup.code_key();
                self.guard
                    .refund_sends(key, self.tenant, channel, why)
                    .await;
                // It may still arrive: on to the code page, as if sent, with a note. Kept
                // here with an error, the person asked again, and the second code voided
                // the one on its way. A resend there is a new code, after its wait.
                if delivery_rules::may_have_gone_out(why, step.state.as_ref())
                    && let Next::Show(page) = hosted::after_step(step.state.as_ref(), &step.reply)
                {
                    interaction.page = page;
                    interaction.flow = step.state;
                    return Ok(Outcome::Page(Some(delivery_rules::late_notice(channel))));
                }
                let others = state
                    .as_ref()
                    .map(|s| delivery_rules::other_channels(s, channel))
                    .unwrap_or_default();
                interaction.flow = state.map(delivery_rules::after_failed_send);
                let error = delivery_rules::failure_error(channel, why, &others);
                return Ok(Outcome::Page(Some(error.for_person())));
            }
            if let (Some(site_key), Some(retry)) = (&self.captcha_site_key, &retry)
                && let Some(page) = captcha::page(&step.reply, state.as_ref(), retry, site_key)
            {
                interaction.page = page;
                interaction.flow = state;
                return Ok(Outcome::Page(None));
            }
            let grant = applied.grant;
            match hosted::after_step(step.state.as_ref(), &step.reply) {
                Next::Auto(next) => {
                    state = step.state;
                    input = *next;
                }
                Next::Show(page) => {
                    interaction.page = page;
                    interaction.flow = step.state;
                    return Ok(Outcome::Page(None));
                }
                Next::Again(message) => {
                    interaction.flow = step.state;
                    return Ok(Outcome::Page(Some(message)));
                }
                Next::Restart(message) => {
                    let sign_up = matches!(interaction.page, Page::Email { sign_up: true, .. })
                        || hosted::is_sign_up(state.as_ref());
                    let email = match &interaction.page {
                        Page::Email { email, .. } => email.clone(),
                        _ => None,
                    };
                    interaction.page = Page::Email { sign_up, email };
                    interaction.flow = None;
                    return Ok(Outcome::Page(Some(message)));
                }
                Next::SignedIn => {
                    return match grant {
                        Some(grant) => Ok(Outcome::SignedIn(grant)),
                        None => Err(crate::native::NativeError::server_error(
                            "the flow signed in without a grant",
                        )
                        .into()),
                    };
                }
                Next::Deny { error, description } => {
                    return Ok(Outcome::Deny { error, description });
                }
            }
        }
        worker::console_error!("interaction: too many automatic steps");
        interaction.flow = None;
        interaction.page = Page::Email {
            sign_up: false,
            email: None,
        };
        Ok(Outcome::Page(Some(
            "something went wrong; start again".to_string(),
        )))
    }
}
