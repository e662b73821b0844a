//! Email addresses and phone numbers: normalization, validation and masking.
//!
//! Emails are compared case-insensitively (trimmed and lowercased), as Entra does.
//! Phone numbers must be E.164 and valid for their country's numbering plan
//! ([`crate::sms::phone`]); spaces, dashes, dots and parentheses typed by a person are
//! removed first.

/// The normalized form of an email address, or `None` if it is not one.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return None;
    }
    Some(email)
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
        assert_eq!(
            normalize_email("  Alice@Example.COM "),
            Some("alice@example.com".into())
        );
        for bad in [
            "",
            "alice",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@c.com",
            "a@.com",
            "a@c..com",
        ] {
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
