//! `contacts.name_search`: the search key of a contact's full name, as
//! partners, networks, territories and actions have one for their names, so
//! that contacts are searched by the same rule (case, accents and
//! punctuation ignored) and indexed alike (`m20261208_000009_search_index`).
//!
//! The rows already there get their key here, from the frozen copy of the
//! key's rule in [`crate::util::search_key`].

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000008_contact_search_key"
    }
}

/// Rows updated per statement while filling the keys.
const BATCH: usize = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(n("contacts"))
                .add_column(string(n("name_search")).default(""))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let rows = db
            .query_all(
                &Query::select()
                    .columns([n("id"), n("full_name")])
                    .from(n("contacts"))
                    .to_owned(),
            )
            .await?;
        let keys = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get_by_index::<i64>(0)?,
                    search_key(&r.try_get_by_index::<String>(1)?),
                ))
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        for chunk in keys.chunks(BATCH) {
            // `UPDATE … SET name_search = CASE id WHEN … END WHERE id IN (…)`.
            let mut case = CaseStatement::new();
            for (id, key) in chunk {
                case = case.case(Expr::col(n("id")).eq(*id), key.clone());
            }
            db.execute(
                &Query::update()
                    .table(n("contacts"))
                    .value(n("name_search"), case)
                    .and_where(Expr::col(n("id")).is_in(chunk.iter().map(|(id, _)| *id)))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(n("contacts"))
                .drop_column(n("name_search"))
                .to_owned(),
        )
        .await
    }
}
