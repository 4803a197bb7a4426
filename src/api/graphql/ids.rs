//! Opaque global ids (Relay): `base64("Partner:42")`. Clients must treat them
//! as opaque; the type prefix lets `node(id)` find the right table.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// The node types a global id may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Territory,
    Partner,
    Network,
    Action,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Territory => "Territory",
            Kind::Partner => "Partner",
            Kind::Network => "Network",
            Kind::Action => "Action",
        }
    }
}

pub fn encode(kind: Kind, id: i64) -> async_graphql::ID {
    async_graphql::ID(B64.encode(format!("{}:{id}", kind.prefix())))
}

/// Decodes a global id; `None` for anything malformed.
pub fn decode(id: &str) -> Option<(Kind, i64)> {
    let raw = String::from_utf8(B64.decode(id).ok()?).ok()?;
    let (p, n) = raw.split_once(':')?;
    let kind = [Kind::Territory, Kind::Partner, Kind::Network, Kind::Action]
        .into_iter()
        .find(|k| k.prefix() == p)?;
    Some((kind, n.parse().ok()?))
}

/// Cursors are opaque too: the row id the page continues after.
pub fn cursor(id: i64) -> String {
    B64.encode(format!("c:{id}"))
}

pub fn decode_cursor(c: &str) -> Option<i64> {
    String::from_utf8(B64.decode(c).ok()?)
        .ok()?
        .strip_prefix("c:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let id = encode(Kind::Partner, 42);
        assert_eq!(decode(&id), Some((Kind::Partner, 42)));
        assert_eq!(decode("nonsense"), None);
        assert_eq!(decode_cursor(&cursor(7)), Some(7));
    }
}
