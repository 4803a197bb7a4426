//! A partner's memberships and participations, indexed in the order they
//! are listed.
//!
//! A nested page (`Partner.networks`, `Partner.actions`) reads, for each
//! partner of a level, its first links by id: with an index on the partner
//! alone, PostgreSQL fetched every link of the partner and sorted them to
//! keep five (a hub sits in hundreds of networks and actions). On
//! `(partner_id, id)` the scan is in order and stops at the page. The new
//! index serves the foreign key's lookups too, so it replaces the old one.

use sea_orm_migration::prelude::*;

use crate::util::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000007_link_order_indexes"
    }
}

/// The link tables whose lists by partner get the ordered index.
const TABLES: [&str; 2] = ["memberships", "action_partners"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.create_index(index(t, &["partner_id", "id"])).await?;
            m.drop_index(Index::drop().name(format!("ix_{t}_partner_id")).table(n(t)).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.create_index(index(t, &["partner_id"])).await?;
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{t}_partner_id_id"))
                    .table(n(t))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
