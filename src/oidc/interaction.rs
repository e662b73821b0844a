//! What the hosted pages keep between two form posts: the checked authorization request,
//! the page on screen, and the flow state. It is stored server-side under the lookup key
//! of an opaque handle (`vct_`-style, 256 bits) that the page carries in a hidden form
//! field; the handle is replaced at every post, so a page left in the browser history or
//! a copied form cannot replay an old state. The interaction is bound to the browser that
//! opened it by a short-lived cookie whose keyed hash it records ([`super::binding`]), so
//! another browser cannot post its handle (login CSRF); the pages need no other cookie and
//! no browser storage, so they behave the same in a private window. The one cookie set
//! after a sign-in is the optional single sign-on session ([`super::sso`]).

use super::authorize::AuthorizeRequest;
use super::hosted::Page;
use crate::flow::FlowState;
use crate::time::{Seconds, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a person has between two pages before the sign-in must start again.
pub const INTERACTION_LIFETIME: Seconds = Seconds(30 * 60);

/// One sign-in on the hosted pages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Interaction {
    /// The authorization request being answered.
    pub request: AuthorizeRequest,
    /// The page on screen.
    pub page: Page,
    /// The flow, once an email was entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowState>,
    /// The interaction ends here.
    pub expires_at: Timestamp,
    /// The keyed hash of the browser's binding cookie ([`super::binding::digest`]); a
    /// form post must carry that cookie. Absent only in records stored before bindings
    /// existed, which are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
}

impl Interaction {
    /// A new interaction on the first page: sign-up for `prompt=create`, else sign-in,
    /// with the email prefilled from `login_hint`, bound to the browser whose binding
    /// cookie hashes to `binding`.
    pub fn new(request: AuthorizeRequest, binding: String, now: Timestamp) -> Self {
        let page = Page::Email {
            sign_up: request.prompt_create,
            email: request.login_hint.clone().map(crate::pii::Pii::new),
        };
        Interaction {
            request,
            page,
            flow: None,
            expires_at: now.plus(INTERACTION_LIFETIME),
            binding: Some(binding),
        }
    }

    /// Whether it is past its lifetime.
    pub fn expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// The KV TTL: the time left, at least 60 seconds.
    pub fn ttl(&self, now: Timestamp) -> u64 {
        crate::native::tokens::kv_ttl(self.expires_at, now)
    }
}

/// Whether a hosted-page form post came from another site, by its `Sec-Fetch-Site`
/// header (Fetch Metadata). The pages only ever post to themselves (`same-origin`), so a
/// `cross-site` or `same-site` post is someone else's page submitting a handle it holds:
/// login CSRF, where an attacker posts the last form of their own sign-in from the
/// victim's browser and the answer plants the attacker's single sign-on cookie there
/// (RFC 6749 §10.12). `Origin` cannot decide this: the pages' `no-referrer` policy makes
/// browsers send `Origin: null` on their own posts. A browser that sends no
/// `Sec-Fetch-Site` is let through here (it predates Fetch Metadata); the interaction's
/// binding cookie ([`super::binding`]) refuses another browser's post there.
pub fn posted_from_another_site(sec_fetch_site: Option<&str>) -> bool {
    sec_fetch_site.is_some_and(|site| {
        let site = site.trim();
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pages_own_posts_are_accepted() {
        assert!(!posted_from_another_site(Some("same-origin")));
        assert!(!posted_from_another_site(Some("none")));
        assert!(!posted_from_another_site(None));
        assert!(posted_from_another_site(Some("cross-site")));
        assert!(posted_from_another_site(Some("same-site")));
        assert!(posted_from_another_site(Some("Cross-Site")));
    }
}
