//! A hosted page's form posted twice: a double click on "Continue".
//!
//! The browser sends the form twice and shows the answer to the second post. Each page's
//! handle is good for one post, so the second post got "this sign-in page has expired or
//! was already used", or, when it read the handle before the first post removed it, ran
//! the step again and sent a second code that voided the first.
//!
//! Now a post spends its handle with the handle's guard object first
//! ([`crate::guard::spend`]): one post runs, however the two race. When it has answered,
//! it leaves its answer with the object ([`Replay`]), and a later post of the same handle
//! waits for that and answers the same: the same next page under the same handle, or the
//! same redirect. Only for [`crate::guard::spend::REPLAY_WINDOW`] after the first post:
//! an old form sent again later is refused as before, so an old handle does not lead on
//! through the flow.
use crate::pii::Secret;

/// What the post that spent a handle answered.
#[derive(Debug, Clone)]
pub enum Replay {
    /// A page: the handle it was stored under, and the error it showed.
    Page {
        /// The next page's handle (the hidden `interaction` field).
        handle: Secret<String>,
        /// The error shown with it, if any.
        error: Option<String>,
    },
    /// A redirect to the client (with an authorization code, or an error). The single
    /// sign-on cookie the first answer set is not repeated: only the code needs to
    /// reach the client, and it is bound to the client's PKCE verifier.
    Redirect {
        /// The `Location`.
        location: Secret<String>,
    },
}

/// What a later post of a spent handle learns from the handle's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Later {
    /// The first post's answer, as [`to_text`] wrote it.
    Kept(String),
    /// The first post is still running: ask again.
    Wait,
    /// No answer will come (the replay window is over): the page was used.
    Refused,
}

/// How long a second post waits for the first one's answer: longer than a step takes
/// with a code to send (the delivery budget is about 5 s).
pub const WAIT_MS: u64 = 6_000;

/// How often it asks the handle's object meanwhile.
pub const POLL_MS: u64 = 150;

/// A digest of a posted form's body: a double click sends the same bytes twice, and
/// only that second post gets the first one's answer. A different form sent with a used
/// handle (back, then another address) is refused as before, not answered as the first.
pub fn form_digest(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(body)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The handle's name for its spend object, apart from continuation tokens'.
pub fn spend_name(lookup: &str) -> String {
    format!("interaction/{lookup}")
}

/// The answer to repeat, as text for the object: the kind, then its values, a line
/// each (handles and URLs hold no line breaks; an error message comes last). Plain text
/// rather than JSON: a serde codec for this one value cost more wasm than it is worth.
pub fn to_text(replay: &Replay) -> Option<String> {
    Some(match replay {
        Replay::Page { handle, error } => match error {
            Some(error) => format!("page\n{}\n{error}", handle.expose()),
            None => format!("page\n{}", handle.expose()),
        },
        Replay::Redirect { location } => format!("redirect\n{}", location.expose()),
    })
}

/// The answer the object kept, if it is one [`to_text`] wrote.
pub fn from_text(text: &str) -> Option<Replay> {
    let mut parts = text.splitn(3, '\n');
    let (kind, value, rest) = (parts.next()?, parts.next()?, parts.next());
    if value.is_empty() {
        return None;
    }
    match kind {
        "page" => Some(Replay::Page {
            handle: Secret::new(value.to_string()),
            error: rest.map(str::to_string),
        }),
        "redirect" if rest.is_none() => Some(Replay::Redirect {
            location: Secret::new(value.to_string()),
        }),
        _ => None,
    }
}

/// The answer to keep for a redirect (303 and its `Location`), when there is one.
pub fn redirect(status: u16, location: Option<String>) -> Option<Replay> {
    match (status, location) {
        (301..=303 | 307 | 308, Some(location)) => Some(Replay::Redirect {
            location: Secret::new(location),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_round_trips_through_the_object() {
        let page = Replay::Page {
            handle: Secret::new("h-2".into()),
            error: Some("that code is not right".into()),
        };
        let text = to_text(&page).unwrap();
        assert_eq!(text, "page\nh-2\nthat code is not right");
        let Some(Replay::Page { handle, error }) = from_text(&text) else {
            panic!("{text}")
        };
        assert_eq!(handle.expose(), "h-2");
        assert_eq!(error.as_deref(), Some("that code is not right"));
        assert!(from_text("not ours").is_none());
        assert!(from_text("page\n").is_none());
        let Some(Replay::Page { error: None, .. }) = from_text("page\nh-3") else {
            panic!("no error")
        };
        let back = to_text(&Replay::Redirect {
            location: Secret::new("https://app.example/cb?code=c".into()),
        })
        .unwrap();
        assert!(
            matches!(from_text(&back), Some(Replay::Redirect { location }) if location.expose() == "https://app.example/cb?code=c")
        );
    }

    #[test]
    fn a_form_digest_tells_the_same_post_from_another() {
        let a = form_digest(b"interaction=h&action=email&email=a%40example.com");
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            form_digest(b"interaction=h&action=email&email=a%40example.com")
        );
        assert_ne!(
            a,
            form_digest(b"interaction=h&action=email&email=b%40example.com")
        );
    }

    #[test]
    fn only_a_redirect_with_a_location_is_kept_as_one() {
        let back = redirect(303, Some("https://app.example/cb?code=c".into()));
        assert!(
            matches!(back, Some(Replay::Redirect { location }) if location.expose().ends_with("code=c"))
        );
        assert!(redirect(303, None).is_none());
        assert!(redirect(200, Some("x".into())).is_none());
        assert!(redirect(400, None).is_none());
    }
}
