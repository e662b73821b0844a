//! IP ranges of IP named locations, parsed once so a sign-in is matched with two integer
//! operations per range (no crate needed, which keeps the wasm small).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 or IPv6 CIDR range. Host bits may be set, as in Graph's own example
/// `12.34.221.11/22`; the range is the enclosing network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    /// An IPv4 network (masked address, prefix length).
    V4(u32, u8),
    /// An IPv6 network (masked address, prefix length).
    V6(u128, u8),
}

impl Cidr {
    /// Parses `address/prefix`. Errors are lowercase reasons for the caller's message.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` has no `/prefix`"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| format!("`{prefix}` is not a prefix length"))?;
        if let Ok(v4) = addr.parse::<Ipv4Addr>() {
            if prefix > 32 {
                return Err(format!("prefix `/{prefix}` is longer than 32"));
            }
            let bits = u32::from(v4);
            Ok(Cidr::V4(bits & mask32(prefix), prefix))
        } else if let Ok(v6) = addr.parse::<Ipv6Addr>() {
            if prefix > 128 {
                return Err(format!("prefix `/{prefix}` is longer than 128"));
            }
            let bits = u128::from(v6);
            Ok(Cidr::V6(bits & mask128(prefix), prefix))
        } else {
            Err(format!("`{addr}` is not an ip address"))
        }
    }

    /// The range a sign-in address is matched against. An IPv4-mapped IPv6 range
    /// (`::ffff:a.b.c.d/p`, `p` ≥ 96) becomes the IPv4 range it carries (`a.b.c.d/(p-96)`):
    /// [`Cidr::contains`] reads a mapped address as IPv4, so the range must be IPv4 too,
    /// or it could never match even its own addresses. Other ranges are unchanged, so a
    /// wider IPv6 range such as `::/0` still holds no IPv4 address.
    pub fn normalized(self) -> Cidr {
        match self {
            Cidr::V6(net, p) if p >= 96 => Ipv6Addr::from(net)
                .to_ipv4_mapped()
                .map_or(self, |v4| Cidr::V4(u32::from(v4), p.saturating_sub(96))),
            other => other,
        }
    }

    /// The prefix length.
    pub fn prefix(self) -> u8 {
        match self {
            Cidr::V4(_, p) | Cidr::V6(_, p) => p,
        }
    }

    /// Whether this is an IPv4 range.
    pub fn is_v4(self) -> bool {
        matches!(self, Cidr::V4(..))
    }

    /// Whether `ip` is inside the range. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
    /// is treated as the IPv4 address it carries, as dual-stack servers report them.
    pub fn contains(self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self, ip) {
            (Cidr::V4(net, p), IpAddr::V4(a)) => u32::from(a) & mask32(p) == net,
            (Cidr::V6(net, p), IpAddr::V6(a)) => u128::from(a) & mask128(p) == net,
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn graph_example_ranges_contain_their_addresses() {
        let v4 = Cidr::parse("12.34.221.11/22").unwrap();
        assert!(v4.contains(ip("12.34.220.1")));
        assert!(v4.contains(ip("12.34.223.255")));
        assert!(!v4.contains(ip("12.34.224.0")));
        assert!(v4.contains(ip("::ffff:12.34.221.200")));
        let v6 = Cidr::parse("2001:0:9d38:90d6:0:0:0:0/63").unwrap();
        assert!(v6.contains(ip("2001:0:9d38:90d7::1")));
        assert!(!v6.contains(ip("2001:0:9d38:90d8::1")));
        assert!(!v6.contains(ip("12.34.221.11")));
    }

    #[test]
    fn a_mapped_range_matches_mapped_and_plain_ipv4_addresses() {
        let range = Cidr::parse("::ffff:10.0.0.0/104").unwrap().normalized();
        assert_eq!(range, Cidr::parse("10.0.0.0/8").unwrap());
        assert!(range.contains(ip("::ffff:10.1.2.3")));
        assert!(range.contains(ip("10.255.0.1")));
        assert!(!range.contains(ip("::ffff:11.0.0.1")));
        assert!(!range.contains(ip("11.0.0.1")));
        let host = Cidr::parse("::FFFF:192.0.2.7/128").unwrap().normalized();
        assert_eq!(host, Cidr::V4(0xc000_0207, 32));
        // The whole mapped block is every IPv4 address.
        let block = Cidr::parse("::ffff:0.0.0.0/96").unwrap().normalized();
        assert!(block.contains(ip("203.0.113.9")));
        // Other IPv6 ranges keep their meaning: never an IPv4 address.
        for other in ["::/0", "::ffff:0:0/95", "2001:db8::/32", "::/96", "::1/128"] {
            let c = Cidr::parse(other).unwrap();
            assert_eq!(c.normalized(), c, "{other}");
            assert!(!c.normalized().contains(ip("10.1.2.3")), "{other}");
        }
        assert_eq!(range.normalized(), range);
    }

    #[test]
    fn edge_prefixes() {
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        let host = Cidr::parse("1.2.3.4/32").unwrap();
        assert!(host.contains(ip("1.2.3.4")) && !host.contains(ip("1.2.3.5")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("1.2.3.4/33").is_err());
        assert!(Cidr::parse("1.2.3.4").is_err());
        assert!(Cidr::parse("x/3").is_err());
        assert!(Cidr::parse("::1/129").is_err());
    }
}
