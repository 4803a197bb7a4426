//! Database migrations of maillage (sea-orm-migration).
//!
//! Migrations are frozen history: each one spells out its own column lists
//! and enum values rather than importing them from the application, so that
//! a later change of vocabulary is a new migration, never an edit of an old
//! one. The application's tests check that the `CHECK` lists here accept
//! exactly the vocabulary of `src/model/vocab.rs`.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_partner_graph;
mod m20261125_000002_territory_ancestors;
mod m20261125_000004_access;
mod m20261201_000005_visibility;
mod m20261201_000006_graph_changes;
mod m20261202_000007_link_order_indexes;
mod m20261208_000008_contact_search_key;
mod m20261208_000009_search_index;
mod util;

/// The search indexes' names, shared with the storage layer that queries them.
pub use m20261208_000009_search_index::{SEARCH_KEYS, fts_table, trigram_index, trigram_indexes};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_partner_graph::Migration),
            Box::new(m20261125_000002_territory_ancestors::Migration),
            Box::new(m20261125_000004_access::Migration),
            Box::new(m20261201_000005_visibility::Migration),
            Box::new(m20261201_000006_graph_changes::Migration),
            Box::new(m20261202_000007_link_order_indexes::Migration),
            Box::new(m20261208_000008_contact_search_key::Migration),
            Box::new(m20261208_000009_search_index::Migration),
        ]
    }
}
