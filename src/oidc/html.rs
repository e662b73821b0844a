//! Server-rendered HTML for the hosted pages: plain forms that work without JavaScript
//! (all but the CAPTCHA page, whose widget needs it and which says so without it),
//! accessible by construction (a `lang`, a `<main>` with one `<h1>`, a `<label>` for every
//! field, `autocomplete` tokens password managers and SMS autofill use, the error text in
//! a `role="alert"` paragraph that each field at fault names in `aria-describedby`).
//!
//! Hand-written rather than a template crate: there are seven small pages, and a
//! template engine (askama adds a proc-macro build and its own escaping rules to learn)
//! would not remove the one thing that matters, escaping. Every dynamic value goes
//! through [`escape`], which encodes the five characters that can end a text node or an
//! attribute value (`& < > " '`); attribute values are always double-quoted. Nothing
//! dynamic is ever placed in a URL, script or style context.

use super::hosted::{Page, label};
use crate::flow::Channel;
use crate::flow::attributes::AttributeType;
use std::fmt::Write as _;

/// Escapes text for an HTML text node or a double-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Everything one page shows.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// What to ask for.
    pub page: &'a Page,
    /// The application's display name.
    pub client_name: &'a str,
    /// Where the form posts (a path of this origin).
    pub form_action: &'a str,
    /// The interaction handle, sent back in a hidden field.
    pub handle: &'a str,
    /// The refusal to show, if any.
    pub error: Option<&'a str>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
label,legend{display:block;font-weight:600;margin-top:1rem}input[type=email],input[type=password],input[type=text],input[type=tel]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.error{color:#a00;font-weight:600}.secondary{background:none;border:none;color:#0645ad;text-decoration:underline;cursor:pointer;padding:0}";

pub(super) fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\"><title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    );
}

pub(super) fn tail(out: &mut String) {
    out.push_str("</main></body></html>");
}

/// `aria-describedby` and `aria-invalid` for a field when an error is shown.
fn described(error: Option<&str>) -> &'static str {
    if error.is_some() {
        " aria-describedby=\"error\" aria-invalid=\"true\""
    } else {
        ""
    }
}

fn input(
    out: &mut String,
    id: &str,
    label_text: &str,
    kind: &str,
    autocomplete: &str,
    extra: &str,
    error: Option<&str>,
) {
    let _ = write!(
        out,
        "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{id}\" type=\"{kind}\" autocomplete=\"{autocomplete}\"{extra}{}>",
        escape(label_text),
        described(error)
    );
}

pub(super) fn button(out: &mut String, action: &str, text: &str, secondary: bool) {
    let class = if secondary {
        " class=\"secondary\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<p><button type=\"submit\" name=\"action\" value=\"{action}\"{class} formnovalidate>{}</button></p>",
        escape(text)
    );
}

fn title(page: &Page) -> &'static str {
    match page {
        Page::Email { sign_up: false, .. } => "Sign in",
        Page::Email { sign_up: true, .. } => "Create an account",
        Page::Password => "Enter your password",
        Page::NewPassword { sign_up: true } => "Choose a password",
        Page::NewPassword { sign_up: false } => "Choose a new password",
        Page::Code { .. } => "Enter the code",
        Page::ChooseMethod { .. } => "Verify it is you",
        Page::Register { .. } => "Add a second way to verify it is you",
        Page::Attributes { .. } => "About you",
        Page::Captcha { .. } => "Confirm you are a person",
    }
}

/// Cloudflare Turnstile's widget script, the one script any page loads.
pub const TURNSTILE_SCRIPT: &str = "https://challenges.cloudflare.com/turnstile/v0/api.js";

/// The `Content-Security-Policy` of a page that runs no script (every page but the
/// CAPTCHA page, and the error pages). `form-action` is left unset because Chromium
/// applies it to the redirect that follows a form post, which goes to the application.
pub const NO_SCRIPT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

/// The `Content-Security-Policy` of `page`. The CAPTCHA page may load the widget's
/// script and frame from its origin only (Turnstile's documented policy); inline script
/// stays forbidden everywhere.
pub fn content_security_policy(page: &Page) -> &'static str {
    match page {
        Page::Captcha { .. } => {
            "default-src 'none'; script-src https://challenges.cloudflare.com; frame-src https://challenges.cloudflare.com; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
        }
        _ => NO_SCRIPT_CSP,
    }
}

/// The page as a complete HTML document.
pub fn render(view: &View<'_>) -> String {
    let mut out = String::with_capacity(4096);
    let t = title(view.page);
    head(&mut out, t);
    let _ = write!(
        out,
        "<h1>{}</h1><p>to continue to {}</p>",
        escape(t),
        escape(view.client_name)
    );
    if let Some(error) = view.error {
        let _ = write!(
            out,
            "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"interaction\" value=\"{}\">",
        escape(view.form_action),
        escape(view.handle)
    );
    let err = view.error;
    match view.page {
        Page::Email { sign_up, email } => {
            let value = email
                .as_ref()
                .map(|e| format!(" value=\"{}\"", escape(e.expose())))
                .unwrap_or_default();
            input(
                &mut out,
                "email",
                "Email address",
                "email",
                if *sign_up { "email" } else { "username" },
                &format!(" required autofocus spellcheck=\"false\"{value}"),
                err,
            );
            button(&mut out, "email", "Next", false);
            if !*sign_up {
                button(&mut out, "reset", "Forgot your password?", true);
            }
            button(
                &mut out,
                "switch",
                if *sign_up {
                    "I have an account: sign in"
                } else {
                    "No account? Create one"
                },
                true,
            );
        }
        Page::Password => {
            input(
                &mut out,
                "password",
                "Password",
                "password",
                "current-password",
                " required autofocus",
                err,
            );
            button(&mut out, "password", "Sign in", false);
        }
        Page::NewPassword { .. } => {
            input(
                &mut out,
                "password",
                "New password",
                "password",
                "new-password",
                " required autofocus minlength=\"8\"",
                err,
            );
            button(&mut out, "password", "Continue", false);
        }
        Page::Code {
            channel,
            target_label,
            code_length,
            resend,
        } => {
            let where_to = match channel {
                Channel::Email => "email",
                Channel::Sms => "text message",
            };
            let _ = write!(
                out,
                "<p>We sent a {code_length}-digit code by {where_to} to {}.</p>",
                escape(target_label)
            );
            input(
                &mut out,
                "code",
                "Code",
                "text",
                "one-time-code",
                &format!(
                    " required autofocus inputmode=\"numeric\" pattern=\"[0-9]*\" maxlength=\"{code_length}\""
                ),
                err,
            );
            button(&mut out, "code", "Verify", false);
            if *resend {
                button(&mut out, "resend", "Send a new code", true);
            }
        }
        Page::ChooseMethod { methods } => {
            out.push_str("<fieldset><legend>Where should we send a code?</legend>");
            for (i, m) in methods.iter().enumerate() {
                let how = match m.channel {
                    Channel::Email => "Email",
                    Channel::Sms => "Text message",
                };
                let checked = if i == 0 { " checked" } else { "" };
                let _ = write!(
                    out,
                    "<div><input type=\"radio\" id=\"method-{i}\" name=\"method\" value=\"{}\"{checked}{}><label for=\"method-{i}\" style=\"display:inline;font-weight:normal\">{how} to {}</label></div>",
                    escape(&m.id),
                    described(err),
                    escape(&m.login_hint)
                );
            }
            out.push_str("</fieldset>");
            button(&mut out, "method", "Send code", false);
        }
        Page::Register { methods } => {
            out.push_str("<p>This sign-in needs a second way to verify it is you. Add one now.</p><fieldset><legend>Method</legend>");
            for (i, m) in methods.iter().enumerate() {
                let (value, how) = match m.channel {
                    Channel::Email => ("email", "Email"),
                    Channel::Sms => ("sms", "Text message to a phone"),
                };
                let checked = if i == 0 { " checked" } else { "" };
                let _ = write!(
                    out,
                    "<div><input type=\"radio\" id=\"channel-{value}\" name=\"channel\" value=\"{value}\"{checked}><label for=\"channel-{value}\" style=\"display:inline;font-weight:normal\">{how}</label></div>"
                );
            }
            out.push_str("</fieldset>");
            for m in methods {
                match m.channel {
                    Channel::Sms => input(
                        &mut out,
                        "phone",
                        "Phone number, with country code (e.g. +15551234567)",
                        "tel",
                        "tel",
                        "",
                        err,
                    ),
                    Channel::Email => {
                        let value = m
                            .login_hint
                            .as_ref()
                            .map(|e| format!(" value=\"{}\"", escape(e.expose())))
                            .unwrap_or_default();
                        input(
                            &mut out,
                            "email",
                            "Email address",
                            "email",
                            "email",
                            &value,
                            err,
                        );
                    }
                }
            }
            button(&mut out, "register", "Send code", false);
        }
        // The only page that needs JavaScript: the widget fills `cf-turnstile-response`
        // in this form. Without it the page says so and offers the other methods.
        Page::Captcha {
            site_key, other, ..
        } => {
            let _ = write!(
                out,
                "<p id=\"captcha-help\">Before we send your code by text message, confirm you are a person: \
                 complete the check below, then select <strong>Send the code</strong>.</p>\
                 <script src=\"{TURNSTILE_SCRIPT}\" async defer></script>\
                 <div class=\"cf-turnstile\" data-sitekey=\"{}\" data-response-field-name=\"cf-turnstile-response\"></div>\
                 <noscript><p>This check needs JavaScript, which is turned off in this browser. {}</p></noscript>",
                escape(site_key),
                if other.is_some() {
                    "Use another method instead, or turn JavaScript on and sign in again."
                } else {
                    "Turn JavaScript on and sign in again, or cancel."
                }
            );
            button(&mut out, "captcha", "Send the code", false);
            if other.is_some() {
                button(&mut out, "other", "Use another method", true);
            }
        }
        Page::Attributes { attributes } => {
            for (i, spec) in attributes.iter().enumerate() {
                let id = format!("attr.{}", spec.name);
                let required = if spec.required { " required" } else { "" };
                match spec.data_type {
                    AttributeType::Boolean => {
                        let _ = write!(
                            out,
                            "<div><input type=\"checkbox\" id=\"attr-{i}\" name=\"{}\" value=\"true\"{}><label for=\"attr-{i}\" style=\"display:inline\">{}</label></div>",
                            escape(&id),
                            described(err),
                            escape(label(spec))
                        );
                    }
                    _ => {
                        let autocomplete = if spec.name == "displayName" {
                            "name"
                        } else {
                            "off"
                        };
                        let _ = write!(
                            out,
                            "<label for=\"attr-{i}\">{}</label><input id=\"attr-{i}\" name=\"{}\" type=\"text\" autocomplete=\"{autocomplete}\"{required}{}>",
                            escape(label(spec)),
                            escape(&id),
                            described(err)
                        );
                    }
                }
            }
            button(&mut out, "attributes", "Continue", false);
        }
    }
    button(&mut out, "cancel", "Cancel", true);
    out.push_str("</form>");
    tail(&mut out);
    out
}

/// An error page: for a request that cannot be sent back to the application.
pub fn render_error(title: &str, message: &str) -> String {
    let mut out = String::with_capacity(1024);
    head(&mut out, title);
    let _ = write!(
        out,
        "<h1>{}</h1><p id=\"error\" role=\"alert\">{}</p><p>Go back to the application and try again.</p>",
        escape(title),
        escape(message)
    );
    tail(&mut out);
    out
}

/// The page after a sign-out that does not go back to the application (RP-Initiated
/// Logout, [`super::logout`]): the person learns they are signed out and, when the
/// application's return address was refused, why they stay here.
pub fn render_signed_out(notice: Option<&str>) -> String {
    let title = "You are signed out";
    let mut out = String::with_capacity(1024);
    head(&mut out, title);
    let _ = write!(out, "<h1>{title}</h1>");
    if let Some(notice) = notice {
        let _ = write!(out, "<p id=\"error\" role=\"alert\">{}</p>", escape(notice));
    }
    out.push_str("<p>You are no longer signed in on this device. You can close this window, or go back to the application and sign in again.</p>");
    tail(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Pii;

    fn view<'a>(page: &'a Page, error: Option<&'a str>) -> View<'a> {
        View {
            page,
            client_name: "Shop <b>",
            form_action: "/t/oidc/interaction",
            handle: "vih_abc",
            error,
        }
    }

    #[test]
    fn dynamic_text_is_escaped_everywhere() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let page = Page::Email {
            sign_up: false,
            email: Some(Pii::new("\"><script>alert(1)</script>".into())),
        };
        let html = render(&view(&page, Some("<img src=x onerror=alert(1)>")));
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn pages_are_accessible_forms() {
        let page = Page::Code {
            channel: Channel::Email,
            target_label: "a***@example.com".into(),
            code_length: 8,
            resend: true,
        };
        let html = render(&view(&page, Some("that code is not correct")));
        assert!(html.starts_with("<!doctype html><html lang=\"en\">"));
        assert!(html.contains("<label for=\"code\">Code</label>"));
        assert!(html.contains("autocomplete=\"one-time-code\""));
        assert!(html.contains("aria-describedby=\"error\""));
        assert!(html.contains("<p id=\"error\" class=\"error\" role=\"alert\">"));
        assert!(html.contains("<form method=\"post\" action=\"/t/oidc/interaction\">"));
        assert!(html.contains("name=\"interaction\" value=\"vih_abc\""));
        assert!(!html.contains("<script"));
        let pw = render(&view(&Page::Password, None));
        assert!(pw.contains("autocomplete=\"current-password\""));
        assert!(!pw.contains("aria-describedby"), "no error, no reference");
        let new_pw = render(&view(&Page::NewPassword { sign_up: true }, None));
        assert!(new_pw.contains("autocomplete=\"new-password\""));
        let email = render(&view(
            &Page::Email {
                sign_up: true,
                email: None,
            },
            None,
        ));
        assert!(email.contains("type=\"email\" autocomplete=\"email\""));
        let err = render_error("Sign-in error", "the address <x> is not registered");
        assert!(err.contains("&lt;x&gt;") && err.contains("lang=\"en\""));
    }

    #[test]
    fn the_captcha_page_shows_the_widget_with_the_escaped_site_key() {
        let page = Page::Captcha {
            retry: crate::oidc::captcha::Retry::SelectMethod { id: "m".into() },
            site_key: "k\"<x".into(),
            other: None,
        };
        let html = render(&view(&page, None));
        assert!(html.contains("class=\"cf-turnstile\" data-sitekey=\"k&quot;&lt;x\""));
        assert!(html.contains(&format!("<script src=\"{TURNSTILE_SCRIPT}\"")));
        assert!(html.contains("Before we send your code by text message"));
        assert!(html.contains("<noscript><p>This check needs JavaScript"));
        assert!(html.contains("Turn JavaScript on and sign in again, or cancel."));
        assert!(html.contains("value=\"captcha\""));
        assert!(html.contains("value=\"cancel\""));
        assert!(
            !html.contains("value=\"other\""),
            "no other method to offer"
        );
        assert!(
            content_security_policy(&page).contains("script-src https://challenges.cloudflare.com")
        );
        assert!(
            content_security_policy(&page).contains("frame-src https://challenges.cloudflare.com")
        );

        let with_other = Page::Captcha {
            retry: crate::oidc::captcha::Retry::SelectMethod { id: "m".into() },
            site_key: "k".into(),
            other: Some(Box::new(Page::Password)),
        };
        let html = render(&view(&with_other, None));
        assert!(html.contains("Use another method instead"));
        assert!(html.contains("value=\"other\""));
    }

    #[test]
    fn only_the_captcha_page_may_load_a_script() {
        for page in [Page::Password, Page::NewPassword { sign_up: true }] {
            let csp = content_security_policy(&page);
            assert!(csp.starts_with("default-src 'none'"));
            assert!(!csp.contains("script-src"), "{csp}");
            assert!(!render(&view(&page, None)).contains("<script"));
        }
    }

    #[test]
    fn the_signed_out_page_escapes_its_notice_and_runs_no_script() {
        let plain = render_signed_out(None);
        assert!(plain.contains("<h1>You are signed out</h1>"));
        assert!(!plain.contains("role=\"alert\""));
        let html = render_signed_out(Some("`<script>alert(1)</script>` is not registered"));
        assert!(html.contains("role=\"alert\""));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }
}
