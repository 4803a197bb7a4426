//! Query safety (OWASP GraphQL cheat sheet): how deep, how costly, how many
//! aliases and how many operations a request may carry, and how long it may
//! run. Depth and cost are enforced by async-graphql's validation (one
//! schema per role, see [`super::graphql::schema_with`]); aliases and batches
//! are counted here, before anything is executed.

use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::domain::access::Role;

/// The limits a server applies; every one has a flag and an environment variable.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest selection (fields inside fields) of any operation.
    pub max_depth: usize,
    /// Largest cost for the directorate's roles (admin, coordinator, analyst).
    pub max_cost_staff: usize,
    /// Largest cost for a partner portal.
    pub max_cost_partner: usize,
    /// Largest cost for anonymous readers.
    pub max_cost_anonymous: usize,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Most operations in one batched request (a JSON array).
    pub max_batch: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest time a request may take before it is abandoned.
    pub timeout: Duration,
    /// Most operations executing at once; the others wait their turn, first
    /// come first served (`0`: no limit). See [`default_max_running`].
    pub max_running: usize,
}

/// Operations run at once by default: four per core.
///
/// Every admitted operation shares the cores with every other: thirty-two
/// at once on two cores each take sixteen times as long as alone, and the
/// unlucky ones (descheduled mid-statement, behind a large answer) much
/// longer. Admitting a few per core and queueing the rest in arrival order
/// keeps the same throughput while each runs nearly alone, so latencies
/// are about the same for everyone instead of a long tail. Four per core
/// leave room for operations waiting on the database.
pub fn default_max_running() -> usize {
    4 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_cost_staff: 500_000,
            max_cost_partner: 100_000,
            max_cost_anonymous: 50_000,
            max_aliases: 50,
            max_batch: 10,
            max_body_bytes: 1 << 20,
            timeout: Duration::from_secs(15),
            max_running: default_max_running(),
        }
    }
}

impl Limits {
    /// The cost limit of a role. A list field costs its page size times what
    /// it selects, so `partners(first: 100) { networks(first: 100) { … } }`
    /// costs about 10 000.
    pub fn max_cost(&self, role: Role) -> usize {
        match role {
            Role::Admin | Role::Coordinator | Role::Analyst => self.max_cost_staff,
            Role::Partner => self.max_cost_partner,
            Role::Anonymous => self.max_cost_anonymous,
        }
    }
}

/// How many fields of a document carry an alias (operations and fragments).
pub fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node),
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .sum::<usize>()
        + doc
            .fragments
            .values()
            .map(|f| walk(&f.node.selection_set.node))
            .sum::<usize>()
}

/// Whether a document asks for the schema (`__schema` or `__type`;
/// `__typename` is no introspection).
pub fn asks_introspection(doc: &ExecutableDocument) -> bool {
    fn walk(set: &SelectionSet) -> bool {
        set.items.iter().any(|s| match &s.node {
            Selection::Field(f) => {
                matches!(f.node.name.node.as_str(), "__schema" | "__type") || walk(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    doc.operations.iter().any(|(_, op)| walk(&op.node.selection_set.node))
        || doc.fragments.values().any(|f| walk(&f.node.selection_set.node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_aliases_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: partners { totalCount } b: partners { ...F } networks { totalCount } }
             fragment F on PartnerConnection { n: totalCount ... on PartnerConnection { m: totalCount } }",
        )
        .unwrap();
        assert_eq!(count_aliases(&doc), 4);
    }
}
