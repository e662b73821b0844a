//! What an email velocity counter counts: one key per inbox and one per network, so
//! that the cheap ways of writing one inbox or one network many ways do not each get
//! a budget of their own.
//!
//! Only the counters' keys are normalised here. The code still goes to the address as
//! the person typed it (after [`crate::flow::contact::normalize_email`]), and the stored
//! user keeps it: `victim+news@example.com` is a different username from
//! `victim@example.com`, it only shares its send budget.

use std::net::IpAddr;

/// The key of an email address for the velocity counters: the inbox it reaches.
///
/// - Lowercased and trimmed, as [`crate::flow::contact::normalize_email`] already does.
///   Addresses reach here only in ASCII dot-atom form over a host name (that function
///   refuses quoted, commented and Unicode spellings), so no further folding is needed.
/// - A `+tag` is dropped from the local part (`victim+1@example.com` →
///   `victim@example.com`): plus-addressing is on by default at Gmail, Outlook.com,
///   Fastmail and Proton, so every tag would otherwise be a fresh budget into one
///   inbox. An address that is only a tag (`+tag@…`) is left whole.
/// - For `gmail.com` and `googlemail.com` (one service: `googlemail.com` becomes
///   `gmail.com`) dots are dropped from the local part: Gmail ignores them and never
///   lets two accounts differ only by dots, so `v.i.c.t.i.m@gmail.com` is the same
///   inbox, and a 30-letter name has 2^29 dotted spellings. Google Workspace domains
///   are left alone, because there dots do tell users apart.
///
/// Merging too much is the safe side: two distinct mailboxes that end up on one key (a
/// domain where `+` is part of real names) share one budget, so caps get stricter for
/// them and never looser, and each requester still has their own per-network budget
/// (the per-address cap counts per client network). Merging too little hands an
/// attacker a new budget per spelling, which is the hole this closes. Not merged, and
/// left to the per-IP cap: other subaddress separators (`-` at Yahoo needs the owner to
/// create each alias first), Fastmail's subdomain addressing (`x@victim.fastmail.com`)
/// and catch-all domains.
pub fn email_address_key(address: &str) -> String {
    // Addresses reach a send only in their plain ASCII form ([`crate::flow::contact`]),
    // and ASCII lowercasing keeps Unicode case tables out of the JS package.
    let lower = address.trim().to_ascii_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower;
    };
    let local = match local.split_once('+') {
        Some((base, _tag)) if !base.is_empty() => base,
        _ => local,
    };
    match domain {
        "gmail.com" | "googlemail.com" => {
            let undotted: String = local.chars().filter(|c| *c != '.').collect();
            // A local part of dots only is not a Gmail address; keep it as typed.
            let local = if undotted.is_empty() {
                local
            } else {
                &undotted
            };
            format!("{local}@gmail.com")
        }
        _ => format!("{local}@{domain}"),
    }
}

/// The key of a client IP address for the velocity counters: an IPv4 address as is, an
/// IPv6 address by its /64 prefix (`2001:db8:1:2::/64`).
///
/// One IPv6 subscriber (a home, a phone, a cloud server) is handed a /64 or more and
/// may pick any of its 2^64 addresses per request, so a key per IPv6 address would give
/// one source unlimited budgets. The /64 is what a provider assigns to one subscriber
/// (RFC 6177 recommends /48 to /64 per site). An IPv4-mapped IPv6 address
/// (`::ffff:198.51.100.7`) is its IPv4 address. A value that is not an IP address
/// (Cloudflare always sends one; a test may not) is its trimmed lowercase text.
pub fn network_key(ip: &str) -> String {
    let trimmed = ip.trim();
    match trimmed.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        Err(_) => trimmed.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_of_one_inbox_share_a_key() {
        for spelling in [
            "victim@example.com",
            " Victim@Example.COM",
            "victim+1@example.com",
            "Victim+2@example.com",
            "victim+a+b@example.com",
            "victim+@example.com",
        ] {
            assert_eq!(
                email_address_key(spelling),
                "victim@example.com",
                "{spelling}"
            );
        }
        // Another mailbox, another domain, and an address that is only a tag stay apart.
        assert_eq!(
            email_address_key("victim2@example.com"),
            "victim2@example.com"
        );
        assert_eq!(
            email_address_key("victim@example.org"),
            "victim@example.org"
        );
        assert_eq!(email_address_key("+tag@example.com"), "+tag@example.com");
        // Dots only matter outside Gmail.
        assert_eq!(
            email_address_key("v.ictim@example.com"),
            "v.ictim@example.com"
        );
    }

    #[test]
    fn gmail_ignores_dots_and_googlemail_is_gmail() {
        for spelling in [
            "victim@gmail.com",
            "v.i.c.t.i.m@gmail.com",
            "Vic.Tim+bomb@GMail.com",
            "victim@googlemail.com",
            "vic.tim+x@googlemail.com",
        ] {
            assert_eq!(
                email_address_key(spelling),
                "victim@gmail.com",
                "{spelling}"
            );
        }
        // Google Workspace (any other domain) keeps its dots.
        assert_eq!(
            email_address_key("a.b@company.example"),
            "a.b@company.example"
        );
        assert_eq!(email_address_key("...@gmail.com"), "...@gmail.com");
    }

    #[test]
    fn text_that_is_not_an_address_is_its_own_key() {
        assert_eq!(email_address_key("No-At-Sign"), "no-at-sign");
        assert_eq!(email_address_key(""), "");
    }

    #[test]
    fn ipv6_counts_per_slash_64_and_ipv4_per_address() {
        assert_eq!(network_key("203.0.113.9"), "203.0.113.9");
        assert_ne!(network_key("203.0.113.9"), network_key("203.0.113.10"));
        let a = network_key("2001:db8:1:2:aaaa::1");
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, network_key("2001:DB8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(a, network_key("2001:db8:1:3::1"));
        assert_eq!(network_key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(network_key(" Not-An-IP "), "not-an-ip");
    }
}
