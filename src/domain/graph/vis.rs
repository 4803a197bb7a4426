//! Visibility: what a network, an action or a relation shows, and to whom.
//!
//! The rules of `storage::read` (NULL = the default of the kind; an action
//! follows its network, else public; a relation is for its two partners),
//! applied to the graph's rows. The projection ([`super::projection`]) and
//! its compact form ([`super::compiled`]) both read them from here.

use std::collections::BTreeMap;

use crate::model::*;
use crate::storage::Scope;
use crate::storage::graph::{ActionRow, NetworkRow, RelationRow};

/// The effective visibility of a network, an action or a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vis {
    Public,
    Members,
    Internal,
}

impl Vis {
    fn parse(s: &str) -> Option<Vis> {
        match s {
            "public" => Some(Vis::Public),
            "members" => Some(Vis::Members),
            "internal" => Some(Vis::Internal),
            _ => None,
        }
    }

    /// What a scope may see of a record with this visibility, given whether
    /// the scope's partner is one of the record's own (`involved`).
    pub fn seen_by(self, scope: &Scope, involved: impl FnOnce(i64) -> bool) -> bool {
        match (scope, self) {
            (Scope::All, _) | (_, Vis::Public) => true,
            (Scope::Partner(p), Vis::Members) => involved(*p),
            _ => false,
        }
    }
}

/// The default visibility of a network of `kind` (the same as
/// `storage::read::network_visibility`).
pub fn network_default(kind: NetworkKind) -> Vis {
    match kind {
        NetworkKind::Gltd | NetworkKind::Cddf => Vis::Internal,
        NetworkKind::Cispd | NetworkKind::Clspd => Vis::Members,
        _ => Vis::Public,
    }
}

/// A network's effective visibility: its own, else the default of its kind.
pub fn network(n: &NetworkRow) -> Vis {
    n.visibility
        .as_deref()
        .and_then(Vis::parse)
        .unwrap_or(network_default(n.kind))
}

/// An action's effective visibility: its own, else its network's (looked up
/// in `networks`), else public.
pub fn action(a: &ActionRow, networks: &BTreeMap<i64, NetworkRow>) -> Vis {
    a.visibility
        .as_deref()
        .and_then(Vis::parse)
        .or_else(|| a.network_id.and_then(|n| networks.get(&n)).map(network))
        .unwrap_or(Vis::Public)
}

/// A relation's effective visibility: its own, else `members` (its two partners).
pub fn relation(r: &RelationRow) -> Vis {
    r.visibility.as_deref().and_then(Vis::parse).unwrap_or(Vis::Members)
}
