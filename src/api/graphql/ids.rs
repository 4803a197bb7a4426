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
    ID(B64.encode(format!("{}:{id}", kind.prefix())))
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
}
