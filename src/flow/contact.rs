//! Email addresses and phone numbers: normalization, validation and masking.
//!
//! Emails are compared case-insensitively (trimmed and lowercased), as Entra does.
//! Phone numbers must be E.164 and valid for their country's numbering plan
//! ([`crate::sms::phone`]); spaces, dashes, dots and parentheses typed by a person are
//! removed first.

/// The normalized form of an email address, or `None` if it is not one we accept.
///
/// Only one spelling per mailbox is accepted, because the normalized address is the
/// username, the key of the email index and of the send caps: every extra spelling of
/// one mailbox would be another account and another send budget into the same inbox.
/// So, stricter than RFC 5321 and as Entra External ID, Auth0 and Cognito behave:
/// - the local part is an RFC 5322 dot-atom: `A-Z a-z 0-9` and ``!#$%&'*+/=?^_`{|}~-``,
///   with single dots not at either end. Quoted strings (`"victim"@…` is the same
///   mailbox as `victim@…`), comments (`victim(x)@…`), backslashes and spaces are
///   refused;
/// - the domain is a host name: at least two labels of 1–63 letters, digits and
///   hyphens, no hyphen at a label's ends, a top-level label that is not all digits (so
///   no IPv4 address), no address literal (`[192.0.2.1]`), no trailing dot;
/// - ASCII only: a Unicode (EAI, RFC 6531) local part is refused, and an
///   internationalized domain must be typed in its `xn--` form. Entra's own sign-up
///   page validates with an ASCII-only pattern, many mail senders cannot deliver to
///   SMTPUTF8 addresses, and Unicode brings case-folding and normalization variants
///   (NFC/NFKC, `K` U+212A lowercasing to `k`) that are more spellings of one mailbox.
///
/// At most 64 bytes before the `@` and 254 in all (RFC 5321 §4.5.3.1).
pub fn normalize_email(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if !trimmed.is_ascii() || trimmed.len() > 254 {
        return None;
    }
    let email = trimmed.to_ascii_lowercase();
    let (local, domain) = email.split_once('@')?;
    (dot_atom(local) && host_name(domain)).then_some(email)
}

/// An RFC 5322 `dot-atom-text` of at most 64 bytes: atoms of `atext` joined by single dots.
fn dot_atom(local: &str) -> bool {
    local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
        })
}

/// A DNS host name of two or more letter-digit-hyphen labels (RFC 1123 §2.1), whose
/// last label is not all digits, so that an IPv4 address is not one.
fn host_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let top_ok = labels
        .last()
        .is_some_and(|top| !top.bytes().all(|b| b.is_ascii_digit()));
    labels.len() >= 2
        && top_ok
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The E.164 form of a phone number, or `None` if it is not one valid for its country
/// ([`crate::sms::phone::parse`] says why).
pub fn normalize_phone(raw: &str) -> Option<String> {
    crate::sms::phone::parse(raw).ok().map(|n| n.to_e164())
}

/// A label that lets a person recognise their address without revealing it,
/// e.g. `a***e@e***.com`.
pub fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.split_once('@') else {
        return "***".to_string();
    };
    let first = local.chars().next().map(String::from).unwrap_or_default();
    let last = if local.chars().count() > 2 {
        local.chars().last().map(String::from).unwrap_or_default()
    } else {
        String::new()
    };
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let host_first = host.chars().next().map(String::from).unwrap_or_default();
    format!("{first}***{last}@{host_first}***.{tld}")
}

/// A label showing the country code start and the last two digits, e.g. `+1*******67`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n < 5 {
        return "***".to_string();
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 2 || i + 2 >= n { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        let long_local = format!("{}@example.com", "a".repeat(64));
        let long_label = format!("a@{}.com", "b".repeat(63));
        let accepted: &[(&str, &str)] = &[
            ("  Alice@Example.COM ", "alice@example.com"),
            ("first.last@example.com", "first.last@example.com"),
            ("victim+news@example.com", "victim+news@example.com"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            (
                "!#$%&'*+/=?^_`{|}~-@example.com",
                "!#$%&'*+/=?^_`{|}~-@example.com",
            ),
            ("a@b.co", "a@b.co"),
            ("a@sub-domain.example.co.uk", "a@sub-domain.example.co.uk"),
            ("a@123.example.com", "a@123.example.com"),
            ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
            (&long_local, &long_local),
            (&long_label, &long_label),
        ];
        for (raw, normalized) in accepted {
            assert_eq!(normalize_email(raw).as_deref(), Some(*normalized), "{raw}");
        }
        let too_long_local = format!("{}@example.com", "a".repeat(65));
        let too_long_label = format!("a@{}.com", "b".repeat(64));
        let too_long = format!("a@{}.com", vec!["b".repeat(60); 5].join("."));
        let refused = [
            "",
            "alice",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "@c.com",
            "a@",
            "a@.com",
            "a@c..com",
            "a@c.com.",
            // Quoted strings, comments and escapes: other spellings of `victim@…`.
            "\"victim\"@example.com",
            "\"vic tim\"@example.com",
            "\"\"@example.com",
            "victim(x)@example.com",
            "(x)victim@example.com",
            "victim@(x)example.com",
            "vic\\tim@example.com",
            "vic\ttim@example.com",
            "vic\0tim@example.com",
            "victim@example.com\r\nbcc: x@example.com",
            // Dots: not at the ends, not doubled.
            ".victim@example.com",
            "victim.@example.com",
            "vic..tim@example.com",
            // Other characters outside atext.
            "vic,tim@example.com",
            "vic;tim@example.com",
            "vic:tim@example.com",
            "<victim>@example.com",
            "vic[tim]@example.com",
            // Non-ASCII: EAI local parts, Unicode domains, look-alikes.
            "jos\u{e9}@example.com",
            "\u{212a}elvin@example.com",
            "victim@b\u{fc}cher.example",
            "victim@example\u{3002}com",
            "victim@exam\u{ad}ple.com",
            // Domains that are not host names.
            "victim@[192.0.2.1]",
            "victim@[IPv6:2001:db8::1]",
            "victim@192.0.2.1",
            "victim@localhost",
            "victim@-example.com",
            "victim@example-.com",
            "victim@exa_mple.com",
            "victim@example.c%m",
            &too_long_local,
            &too_long_label,
            &too_long,
        ];
        for bad in refused {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones_must_be_e164() {
        assert_eq!(
            normalize_phone("+1 (555) 123-4567"),
            Some("+15551234567".into())
        );
        for bad in [
            "5551234567",
            "+0123456789",
            "+1234",
            "+1234567890123456",
            "+1555abc4567",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn masks_hide_most_of_the_value() {
        assert_eq!(mask_email("alice@example.com"), "a***e@e***.com");
        assert_eq!(mask_phone("+15551234567"), "+1********67");
        assert!(!mask_email("bo@x.io").contains("bo@"));
    }
}
