//! Tests of the sign-out confirmation: who may end a session without asking, and the
//! anti-forgery token of the confirmation form.

use super::*;
use crate::oidc::apps::Redirects;
use crate::token::Claims;

const SESSION: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn key(byte: u8) -> CodeKey {
    CodeKey::new(vec![byte; 32]).unwrap()
}

fn shop() -> Client {
    Client {
        app_id: "shop".into(),
        display_name: "Shop".into(),
        redirects: Redirects::Registered(vec!["https://shop.example.com/bye".into()]),
    }
}

fn request(client_id: Option<&str>, uri: Option<&str>, answer: Option<Answer>) -> LogoutRequest {
    LogoutRequest {
        id_token_hint: None,
        client_id: client_id.map(str::to_string),
        post_logout_redirect_uri: uri.map(str::to_string),
        state: Some("st".into()),
        answer,
    }
}

fn valid(aud: &str, sid: &str) -> Hint {
    let mut c = Claims::new("iss", "user-1", aud, Timestamp(1000), Timestamp(2000));
    c.sid = Some(sid.into());
    Hint::Valid(Box::new(c))
}

#[test]
fn a_hint_vouches_only_for_its_own_users_session() {
    let mine = valid("shop", "fam");
    assert_eq!(hint_for_session(mine.clone(), Session::Of("user-1")), mine);
    // Someone else's genuine token: asked, and the family is not revoked.
    let other = hint_for_session(valid("shop", "fam"), Session::Of("victim"));
    assert_eq!(other, Hint::Invalid);
    let r = request(Some("shop"), BYE, None);
    assert!(matches!(
        plan(&r, &other, Some(&shop()), true, false),
        Plan::Confirm(_)
    ));
    // A session that could not be read: its user is unknown, so nothing is vouched for.
    assert_eq!(
        hint_for_session(valid("shop", "fam"), Session::Unreadable),
        Hint::Invalid
    );
    // No session: the hint keeps its meaning (its own family may still be revoked).
    assert_eq!(hint_for_session(mine.clone(), Session::None), mine);
    assert_eq!(
        hint_for_session(Hint::Absent, Session::Of("u")),
        Hint::Absent
    );
}

fn confirm() -> Option<Answer> {
    Some(Answer::SignOut {
        csrf: Some("t".into()),
    })
}

const BYE: Option<&str> = Some("https://shop.example.com/bye");

#[test]
fn the_token_is_bound_to_key_tenant_session_and_time() {
    let now = Timestamp(1_000_000);
    let t = csrf_token(&key(1), "contoso", SESSION, now);
    assert!(t.starts_with("1000600."), "{t}");
    assert!(t.len() < crate::oidc::logout::MAX_CSRF_LEN);
    assert!(csrf_valid(&key(1), "contoso", SESSION, &t, now));
    assert!(csrf_valid(
        &key(1),
        "contoso",
        SESSION,
        &t,
        Timestamp(1_000_599)
    ));
    assert!(
        !csrf_valid(&key(1), "contoso", SESSION, &t, Timestamp(1_000_600)),
        "expired"
    );
    assert!(
        !csrf_valid(&key(2), "contoso", SESSION, &t, now),
        "another key"
    );
    assert!(
        !csrf_valid(&key(1), "fabrikam", SESSION, &t, now),
        "another tenant"
    );
    let other = SESSION.replace('9', "8");
    assert!(
        !csrf_valid(&key(1), "contoso", &other, &t, now),
        "another session"
    );
}

#[test]
fn tampered_or_malformed_tokens_are_refused() {
    let now = Timestamp(1_000_000);
    let t = csrf_token(&key(1), "t", SESSION, now);
    let (_, mac) = t.split_once('.').unwrap();
    // A later expiry with the same MAC, or one beyond what is ever issued.
    assert!(!csrf_valid(
        &key(1),
        "t",
        SESSION,
        &format!("1000599.{mac}"),
        now
    ));
    let far = csrf_token(&key(1), "t", SESSION, Timestamp(1_000_001));
    assert!(!csrf_valid(&key(1), "t", SESSION, &far, Timestamp(999_000)));
    let truncated = &t[..t.len() - 1];
    for bad in [
        "",
        ".",
        "x",
        truncated,
        "1000600.",
        "+1000600.AAAA",
        "1000600.!!!!",
        "99999999999999999999999.AAAA",
        &format!("1000600.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
    ] {
        assert!(!csrf_valid(&key(1), "t", SESSION, bad, now), "{bad:?}");
    }
}

#[test]
fn a_trusted_request_signs_out_at_once() {
    let r = request(Some("shop"), BYE, None);
    let Plan::SignOut(d) = plan(&r, &valid("shop", "fam"), Some(&shop()), true, false) else {
        panic!("a valid hint signs out");
    };
    assert_eq!(
        d.redirect.as_deref(),
        Some("https://shop.example.com/bye?state=st")
    );
    assert_eq!(d.revoke_family.as_deref(), Some("fam"));
}

#[test]
fn an_unproven_request_with_a_session_asks_first() {
    for hint in [Hint::Absent, Hint::Invalid, valid("other-app", "fam")] {
        let r = request(Some("shop"), BYE, None);
        let Plan::Confirm(page) = plan(&r, &hint, Some(&shop()), true, false) else {
            panic!("{hint:?} asks");
        };
        assert_eq!(page.app_name.as_deref(), Some("Shop"));
        assert_eq!(page.client_id.as_deref(), Some("shop"));
        assert_eq!(page.post_logout_redirect_uri.as_deref(), BYE);
        assert_eq!(page.state.as_deref(), Some("st"));
        assert_eq!((&page.return_refused, &page.error), (&None, &None));
        assert_eq!(page.status(), 200);
    }
}

#[test]
fn the_page_drops_a_return_address_that_is_not_registered() {
    let r = request(Some("shop"), Some("https://evil.example/bye"), None);
    let Plan::Confirm(page) = plan(&r, &Hint::Absent, Some(&shop()), true, false) else {
        panic!("asks");
    };
    assert_eq!(page.post_logout_redirect_uri, None);
    assert!(
        page.return_refused
            .unwrap()
            .contains("`https://evil.example/bye` is not registered for Shop")
    );
    let r = request(Some("nobody"), BYE, None);
    let Plan::Confirm(page) = plan(&r, &Hint::Absent, None, true, false) else {
        panic!("asks");
    };
    assert_eq!((page.app_name, page.client_id), (None, None));
    assert!(
        page.return_refused
            .unwrap()
            .contains("`nobody` is not registered")
    );
    let r = request(None, BYE, None);
    let Plan::Confirm(page) = plan(&r, &Hint::Absent, None, true, false) else {
        panic!("asks");
    };
    assert!(
        page.return_refused
            .unwrap()
            .contains("did not identify itself")
    );
    // A client found through something other than `client_id` is not named.
    let r = request(None, BYE, None);
    let Plan::Confirm(page) = plan(&r, &Hint::Invalid, Some(&shop()), true, false) else {
        panic!("asks");
    };
    assert_eq!((page.app_name, page.post_logout_redirect_uri), (None, None));
}

#[test]
fn a_confirmation_signs_out_only_with_a_valid_token() {
    let r = request(Some("shop"), BYE, confirm());
    let Plan::SignOut(d) = plan(&r, &Hint::Absent, Some(&shop()), true, true) else {
        panic!("confirmed");
    };
    assert_eq!(
        d.redirect.as_deref(),
        Some("https://shop.example.com/bye?state=st")
    );
    assert_eq!(
        d.revoke_family, None,
        "nothing is revoked without a valid hint"
    );
    let Plan::Confirm(page) = plan(&r, &Hint::Absent, Some(&shop()), true, false) else {
        panic!("a bad token asks again");
    };
    assert_eq!(page.error.as_deref(), Some(CSRF_REFUSED));
    assert_eq!(page.status(), 400);
    assert_eq!(page.post_logout_redirect_uri.as_deref(), BYE);
    // An invalid hint smuggled into the confirmed form does not block the redirect
    // the person confirmed, and revokes nothing.
    let mut with_hint = r.clone();
    with_hint.id_token_hint = Some("forged".into());
    let Plan::SignOut(d) = plan(&with_hint, &Hint::Invalid, Some(&shop()), true, true) else {
        panic!("confirmed");
    };
    assert!(d.redirect.is_some() && d.revoke_family.is_none());
}

#[test]
fn staying_keeps_the_session_without_a_token() {
    let r = request(Some("shop"), BYE, Some(Answer::Stay));
    assert_eq!(
        plan(&r, &Hint::Absent, Some(&shop()), true, false),
        Plan::Stay
    );
    let Plan::SignOut(d) = plan(&r, &Hint::Absent, Some(&shop()), false, false) else {
        panic!("nothing to keep");
    };
    assert_eq!((d.redirect, d.notice), (None, None));
}

#[test]
fn without_a_session_there_is_nothing_to_confirm() {
    let r = request(Some("shop"), BYE, None);
    let Plan::SignOut(d) = plan(&r, &Hint::Absent, Some(&shop()), false, false) else {
        panic!("nothing to end");
    };
    assert_eq!(
        d.redirect.as_deref(),
        Some("https://shop.example.com/bye?state=st")
    );
    let Plan::SignOut(d) = plan(&r, &Hint::Invalid, Some(&shop()), false, false) else {
        panic!("nothing to end");
    };
    assert_eq!(d.redirect, None, "a forged hint still never redirects");
    // A forged answer without a session ends nothing either way.
    let forged = request(Some("shop"), None, confirm());
    assert!(matches!(
        plan(&forged, &Hint::Absent, Some(&shop()), false, false),
        Plan::SignOut(Decision { redirect: None, .. })
    ));
}

#[test]
fn an_unreadable_request_asks_generically_or_ends_nothing() {
    let Plan::Confirm(page) = plan_unreadable("too large".into(), true) else {
        panic!("a live session is never ended by a request nobody can read");
    };
    assert_eq!(page.status(), 400);
    assert_eq!(page.error.as_deref(), Some("too large"));
    assert_eq!((page.app_name, page.client_id), (None, None));
    let Plan::SignOut(d) = plan_unreadable("too large".into(), false) else {
        panic!("nothing to end");
    };
    assert_eq!(
        (d.redirect, d.notice.as_deref(), d.revoke_family),
        (None, Some("too large"), None)
    );
}
