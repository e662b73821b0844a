//! A form post from the hosted CAPTCHA page: the core says what it asks for
//! ([`crate::oidc::captcha::post`]); a widget token is checked with `siteverify`
//! ([`crate::worker::sms_captcha::verify`]) and the core turns the verdict into the flow
//! step to run or the message to show ([`crate::oidc::captcha::after_siteverify`]).
//! Only the category of a failed check is logged, never the token or the service's text.

use crate::flow::{FlowInput, FlowState};
use crate::oidc::captcha::{self, Posted, Verified};
use crate::oidc::hosted::{self, Page};
use crate::oidc::interaction::Interaction;
use crate::time::Timestamp;
use crate::worker::route::Ctx;
use crate::worker::sms_captcha;
use worker::Request;

/// What the post leads to.
pub enum Next {
    /// Show the interaction's page (the CAPTCHA page again, or the other methods), with
    /// this message. Nothing was sent.
    Show(Option<String>),
    /// The check passed: step this flow state with this input (the SMS goes out).
    Run(Box<FlowState>, Box<FlowInput>),
}

/// Handles a post from the CAPTCHA page; `None` when `interaction` is not on it or the
/// post is one the other pages handle (cancel).
pub async fn post(
    ctx: &Ctx,
    req: &Request,
    interaction: &mut Interaction,
    field: &dyn Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Option<Next> {
    Some(match captcha::post(&interaction.page, field)? {
        Posted::Again(message) => Next::Show(Some(message.to_string())),
        Posted::Show(page) => {
            interaction.page = page;
            Next::Show(None)
        }
        Posted::Verify(token) => {
            let remote_ip = req.headers().get("cf-connecting-ip").ok().flatten();
            let verdict = sms_captcha::verify(ctx, &token, remote_ip.as_deref()).await;
            match captcha::after_siteverify(
                &interaction.page,
                interaction.flow.as_ref(),
                verdict,
                now,
            ) {
                Verified::Run(state, input) => Next::Run(state, input),
                Verified::Again(failure) => {
                    worker::console_warn!("captcha: check failed ({})", failure.as_str());
                    Next::Show(Some(failure.message().to_string()))
                }
                Verified::Restart(message) => {
                    interaction.page = Page::Email {
                        sign_up: hosted::is_sign_up(interaction.flow.as_ref()),
                        email: None,
                    };
                    interaction.flow = None;
                    Next::Show(Some(message.to_string()))
                }
            }
        }
    })
}
