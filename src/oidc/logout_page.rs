//! The pages of a sign-out that waits for the person ([`super::logout_confirm`]): the
//! question, and the answer to "Stay signed in". Same document shell, style and escaping
//! as the sign-in pages ([`super::html`]); a plain form that works without JavaScript,
//! the two choices as the form's two submit buttons, so keyboard and screen-reader users
//! get both as buttons with their visible names.

use super::html::{button, escape, head, tail};
use super::logout_confirm::Confirmation;
use std::fmt::Write as _;

/// The confirmation page. `form_action` is the logout endpoint's path on this origin;
/// `csrf` the token bound to the browser's session.
pub fn render_confirm(page: &Confirmation, form_action: &str, csrf: &str) -> String {
    let title = match &page.app_name {
        Some(name) => format!("Sign out of {name}?"),
        None => "Sign out?".to_string(),
    };
    let mut out = String::with_capacity(2048);
    head(&mut out, &title);
    let _ = write!(out, "<h1>{}</h1>", escape(&title));
    if let Some(error) = &page.error {
        let _ = write!(
            out,
            "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    // The application is only named, never vouched for: the request proved nothing.
    let request = match &page.app_name {
        Some(name) => format!(
            "A request to sign you out in the name of {} arrived, but it did not prove that it came from there",
            escape(name)
        ),
        None => {
            "A request to sign you out arrived, but it did not prove where it came from".to_string()
        }
    };
    let _ = write!(
        out,
        "<p>{request}, so nothing changes unless you choose.</p>\
<p>Signing out ends your session on this device: the applications that use it will ask you to sign in again.</p>"
    );
    if let Some(note) = &page.return_refused {
        let _ = write!(out, "<p id=\"return\">{}</p>", escape(note));
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}\">",
        escape(form_action)
    );
    hidden(&mut out, "csrf", Some(csrf));
    hidden(&mut out, "client_id", page.client_id.as_deref());
    hidden(
        &mut out,
        "post_logout_redirect_uri",
        page.post_logout_redirect_uri.as_deref(),
    );
    hidden(&mut out, "state", page.state.as_deref());
    button(&mut out, "sign_out", "Sign out", false);
    button(&mut out, "stay", "Stay signed in", true);
    out.push_str("</form>");
    tail(&mut out);
    out
}

fn hidden(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        );
    }
}

/// The page after "Stay signed in": nothing changed.
pub fn render_still_signed_in() -> String {
    let title = "You are still signed in";
    let mut out = String::with_capacity(1024);
    head(&mut out, title);
    let _ = write!(
        out,
        "<h1>{title}</h1><p>Nothing was changed. You can close this window, or go back to the application.</p>"
    );
    tail(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Confirmation {
        Confirmation {
            app_name: Some("Shop <b>".into()),
            client_id: Some("shop\"x".into()),
            post_logout_redirect_uri: Some("https://shop.example.com/bye?a=1&b=2".into()),
            state: Some("'><script>alert(1)</script>".into()),
            return_refused: None,
            error: None,
        }
    }

    #[test]
    fn the_question_is_an_escaped_form_with_two_buttons() {
        let html = render_confirm(&page(), "/t/oauth2/v2.0/logout", "123.mac");
        assert!(html.starts_with("<!doctype html><html lang=\"en\">"));
        assert!(
            html.contains("<h1>Sign out of Shop &lt;b&gt;?</h1>"),
            "{html}"
        );
        assert!(html.contains("<form method=\"post\" action=\"/t/oauth2/v2.0/logout\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"123.mac\">"));
        assert!(html.contains("name=\"client_id\" value=\"shop&quot;x\""));
        assert!(html.contains(
            "name=\"post_logout_redirect_uri\" value=\"https://shop.example.com/bye?a=1&amp;b=2\""
        ));
        assert!(html.contains("value=\"&#39;&gt;&lt;script&gt;"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("name=\"action\" value=\"sign_out\""));
        assert!(html.contains("name=\"action\" value=\"stay\" class=\"secondary\""));
        assert!(html.contains(">Stay signed in</button>"));
        assert!(!html.contains("role=\"alert\""), "no error, no alert");
    }

    #[test]
    fn an_unknown_client_gets_the_generic_question_and_refusals_are_shown() {
        let generic = Confirmation {
            return_refused: Some("`<x>` is not registered".into()),
            error: Some("this sign-out page has expired".into()),
            ..Confirmation::default()
        };
        let html = render_confirm(&generic, "/t/oauth2/v2.0/logout", "t");
        assert!(html.contains("<h1>Sign out?</h1>"));
        assert!(html.contains(
            "A request to sign you out arrived, but it did not prove where it came from"
        ));
        assert!(html.contains(
            "<p id=\"error\" class=\"error\" role=\"alert\">this sign-out page has expired</p>"
        ));
        assert!(html.contains("<p id=\"return\">`&lt;x&gt;` is not registered</p>"));
        assert!(!html.contains("name=\"client_id\""));
        assert!(!html.contains("name=\"post_logout_redirect_uri\""));
        assert!(!html.contains("name=\"state\""));
    }

    #[test]
    fn staying_says_nothing_changed() {
        let html = render_still_signed_in();
        assert!(html.contains("<h1>You are still signed in</h1>"));
        assert!(!html.contains("<form"));
    }
}
