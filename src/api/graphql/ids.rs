//! Opaque global ids (Relay): `base64("Partner:42")`. Clients must treat them
//! as opaque; the type prefix lets `node(id)` find the right table.

use async_graphql::{ID, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::error::bad_input;

/// The node types a global id may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Territory,
    Partner,
    Contact,
    Network,
    Membership,
    Action,
    Participation,
    Relation,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Territory,
        Kind::Partner,
        Kind::Contact,
        Kind::Network,
        Kind::Membership,
        Kind::Action,
        Kind::Participation,
        Kind::Relation,
    ];

    /// The GraphQL type name, used as the id's prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Territory => "Territory",
            Kind::Partner => "Partner",
            Kind::Contact => "Contact",
            Kind::Network => "Network",
            Kind::Membership => "Membership",
            Kind::Action => "Action",
            Kind::Participation => "Participation",
            Kind::Relation => "PartnerRelation",
        }
    }
}

pub fn encode(kind: Kind, id: i64) -> ID {
    ID(prefixed(kind.prefix(), itoa::Buffer::new().format(id)))
}

/// base64url(`{prefix}:{number}`), built on the stack and encoded into one
/// allocation: every node of an answer has an id (and every edge asked
/// for one, a cursor), where `format!` then `encode` cost two allocations
/// and the formatting machinery each (4 % of operation (b)'s server time).
pub(super) fn prefixed(prefix: &str, number: &str) -> String {
    let mut raw = [0u8; 64];
    let len = prefix.len() + 1 + number.len();
    raw[..prefix.len()].copy_from_slice(prefix.as_bytes());
    raw[prefix.len()] = b':';
    raw[prefix.len() + 1..len].copy_from_slice(number.as_bytes());
    let mut out = String::with_capacity(len.div_ceil(3) * 4);
    B64.encode_string(&raw[..len], &mut out);
    out
}

/// Decodes a global id; `None` for anything malformed.
pub fn decode(id: &str) -> Option<(Kind, i64)> {
    let raw = String::from_utf8(B64.decode(id).ok()?).ok()?;
    let (p, n) = raw.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.prefix() == p)?;
    Some((kind, n.parse().ok()?))
}

/// Decodes an id argument that must name a `kind`: anything else is the
/// client's mistake, said with the argument's name.
pub fn expect(kind: Kind, arg: &str, id: &ID) -> Result<i64> {
    match decode(id) {
        Some((k, n)) if k == kind => Ok(n),
        _ => Err(bad_input(format!(
            "`{arg}`: {:?} is not the id of a {}",
            id.as_str(),
            kind.prefix()
        ))),
    }
}

/// [`expect`] over a list.
pub fn expect_all(kind: Kind, arg: &str, ids: &[ID]) -> Result<Vec<i64>> {
    ids.iter().map(|id| expect(kind, arg, id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for k in Kind::ALL {
            assert_eq!(decode(&encode(k, 42)), Some((k, 42)));
        }
        assert_eq!(decode("nonsense"), None);
        assert!(expect(Kind::Network, "x", &encode(Kind::Partner, 1)).is_err());
    }

    #[test]
    fn ids_are_base64url_of_prefix_colon_number() {
        for k in Kind::ALL {
            for n in [0, 7, 914, -3, i64::MAX, i64::MIN] {
                assert_eq!(encode(k, n).0, B64.encode(format!("{}:{n}", k.prefix())));
            }
        }
        assert_eq!(encode(Kind::Partner, 914).as_str(), "UGFydG5lcjo5MTQ");
        assert_eq!(super::super::connection::cursor(50), "bzo1MA");
    }
}
