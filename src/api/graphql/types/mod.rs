//! GraphQL object types over the storage models.
//!
//! Object references resolve through the request's `ById` loaders and
//! nested connections through its `NestedLoader`s, so a level of N parents
//! costs a fixed number of statements, whatever N.
//!
//! Filter arguments are boxed (`Option<Box<PartnerFilter>>`: the same
//! GraphQL type), and loader calls are awaited boxed. async-graphql boxes
//! the future of every field it resolves, each as large as the largest
//! field resolver of the type, and a resolver's future holds its arguments
//! inline: with filters of 200–360 bytes, each `id` or `title` of an
//! `Action` took a 1.9 KB allocation, 29 MB per answer of the load
//! benchmark's (b) (24 MB now; BENCHMARKS.md, seventh session).

mod action;
mod contact;
mod membership;
mod network;
mod participation;
mod partner;
mod relation;
mod territory;

pub use action::*;
pub use contact::*;
pub use membership::*;
pub use network::*;
pub use participation::*;
pub use partner::*;
pub use relation::*;
pub use territory::*;

/// Each record type from its model (a partner's seat then comes by id).
macro_rules! from_model {
    ($($t:ident: $m:ident),*) => {$(
        impl From<crate::storage::entity::$m::Model> for $t {
            fn from(m: crate::storage::entity::$m::Model) -> Self {
                $t(m)
            }
        }
    )*};
}

from_model!(
    Territory: territory,
    Contact: contact,
    Network: network,
    Membership: membership,
    Action: action,
    Participation: action_partner,
    PartnerRelation: relation
);

/// The bookkeeping every record carries, flattened into each node type's
/// fields (it is no type of the schema).
#[derive(async_graphql::SimpleObject)]
pub struct Stamps {
    /// When the record was created in maillage.
    created_at: chrono::DateTime<chrono::Utc>,
    /// When the record last changed.
    updated_at: chrono::DateTime<chrono::Utc>,
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    version: i32,
}

impl Stamps {
    pub fn new(
        created_at: chrono::DateTime<chrono::Utc>,
        updated_at: chrono::DateTime<chrono::Utc>,
        version: i32,
    ) -> Self {
        Stamps {
            created_at,
            updated_at,
            version,
        }
    }
}
