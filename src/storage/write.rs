//! Single-record writes, for the edits the API makes (`domain::edit`): one
//! module per table with get / insert / versioned update / versioned delete
//! and the row as JSON (for the audit log), plus the lookups the domain's
//! rules need. Bulk writes of a bundle are in `import.rs`.
//!
//! Updates and deletes carry the version the caller read
//! (`… WHERE id = ? AND version = ?`) and report whether a row matched: the
//! check and the write are one statement, so two concurrent editors of the
//! same row cannot both win, whatever the isolation level.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    SqlErr, TransactionTrait,
};

use super::entity;
use super::{Result, StorageError, is_sqlite};
use crate::model::{ParticipationRole, RelationKind, TerritoryKind};

/// Opens the transaction of one edit. On SQLite it takes the write lock at
/// once (a no-op write): a transaction that read first and wrote later
/// would fail, not wait, when another writer committed in between.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    let txn = db.begin().await?;
    if is_sqlite(&txn) {
        txn.execute_unprepared("UPDATE territory_ancestors SET depth = depth WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// Where the commit of the request being run stands ([`tracking_commits`]):
/// none sent yet, sent without an answer, or answered.
pub const COMMIT_NONE: u8 = 0;
pub const COMMIT_SENT: u8 = 1;
pub const COMMIT_DONE: u8 = 2;

tokio::task_local! {
    static COMMITS: std::sync::Arc<std::sync::atomic::AtomicU8>;
}

/// Runs `f`, keeping in `state` where its commits stand: a request cut off
/// while it waits for the database (an outage noticed meanwhile) tells from
/// it whether a change may have been saved, rather than guessing.
pub async fn tracking_commits<F: std::future::Future>(
    state: std::sync::Arc<std::sync::atomic::AtomicU8>,
    f: F,
) -> F::Output {
    COMMITS.scope(state, f).await
}

fn commit_stands(at: u8) {
    let _ = COMMITS.try_with(|s| s.store(at, std::sync::atomic::Ordering::Release));
}

/// Commits `txn`. A commit whose connection failed under it may have been
/// applied or not: that is [`StorageError::CommitUnknown`], never a plain
/// failure (which a client would retry, saving the change twice).
pub async fn commit(txn: DatabaseTransaction) -> Result<()> {
    commit_sent();
    finish_commit(txn.commit().await)
}

/// The outcome of a commit sent by other means (an import's own
/// connection), classified as [`commit`] does; call [`commit_sent`] first.
pub fn finish_commit(outcome: std::result::Result<(), sea_orm::DbErr>) -> Result<()> {
    match outcome {
        Ok(()) => {
            commit_stands(COMMIT_DONE);
            Ok(())
        }
        Err(e) if super::health::unavailable(&e) => Err(StorageError::CommitUnknown(e)),
        Err(e) => {
            // The database answered: it refused the commit (a deferred
            // constraint, a serialization failure), so nothing was saved.
            commit_stands(COMMIT_NONE);
            Err(e.into())
        }
    }
}

/// Marks a commit as sent (see [`finish_commit`]).
pub fn commit_sent() {
    commit_stands(COMMIT_SENT);
}

/// The trees (`parent_id` chains) an edit may have to walk.
#[derive(Debug, Clone, Copy)]
pub enum Tree {
    Territories = 1,
    Partners = 2,
    Networks = 3,
}

/// Serializes the edits of one tree until the transaction ends. The rules
/// of a tree (no cycle, ranks) read several rows: two concurrent moves, each
/// valid alone, could otherwise make a cycle together. SQLite already runs
/// one writer at a time (see [`begin`]); PostgreSQL takes an advisory lock.
pub async fn lock_tree<C: ConnectionTrait>(db: &C, tree: Tree) -> Result<()> {
    if !is_sqlite(db) {
        // An arbitrary namespace for maillage's advisory locks, then the tree.
        let key = 0x6d61_696c_0000_i64 + tree as i64;
        db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})"))
            .await?;
    }
    Ok(())
}

/// Whether a write failed on a unique or foreign key constraint: another
/// writer got there first (the rules were checked in this transaction, so
/// the data changed underneath).
pub fn is_race(e: &StorageError) -> bool {
    match e {
        StorageError::Db(e) => matches!(
            e.sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
        ),
        _ => false,
    }
}

macro_rules! table {
    ($m:ident $(, pair: $a:ident, $b:ident)?) => {
        pub mod $m {
            use sea_orm::ActiveValue::NotSet;
            use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

            use crate::storage::Result;
            use crate::storage::entity::$m::{Column, Entity, Model};

            pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Model>> {
                Ok(Entity::find_by_id(id).one(db).await?)
            }

            /// Inserts the row (its `id` is ignored and assigned).
            pub async fn insert<C: ConnectionTrait>(db: &C, row: Model) -> Result<Model> {
                let mut am = row.into_active_model().reset_all();
                am.id = NotSet;
                Ok(am.insert(db).await?)
            }

            /// Writes every column of the row if its version is still
            /// `expected`; whether it was.
            pub async fn update<C: ConnectionTrait>(db: &C, row: &Model, expected: i32) -> Result<bool> {
                let mut am = row.clone().into_active_model().reset_all();
                am.id = NotSet;
                let r = Entity::update_many()
                    .set(am)
                    .filter(Column::Id.eq(row.id))
                    .filter(Column::Version.eq(expected))
                    .exec(db)
                    .await?;
                Ok(r.rows_affected == 1)
            }

            /// Deletes the row (if its version is `expected`, when given);
            /// whether it did. Link rows hanging from it go with it (`CASCADE`).
            pub async fn delete<C: ConnectionTrait>(db: &C, id: i64, expected: Option<i32>) -> Result<bool> {
                let mut q = Entity::delete_many().filter(Column::Id.eq(id));
                if let Some(v) = expected {
                    q = q.filter(Column::Version.eq(v));
                }
                Ok(q.exec(db).await?.rows_affected == 1)
            }

            /// The row as JSON, column names as keys (for the audit log).
            pub async fn json<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<serde_json::Value>> {
                Ok(Entity::find_by_id(id).into_json().one(db).await?)
            }

            $(
            /// The link row joining these two ids, if any (a pair is linked once).
            pub async fn pair<C: ConnectionTrait>(db: &C, a: i64, b: i64) -> Result<Option<Model>> {
                Ok(Entity::find().filter(Column::$a.eq(a)).filter(Column::$b.eq(b)).one(db).await?)
            }
            )?
        }
    };
}

/// Rows with an external id (`ref`): lookups by it.
macro_rules! by_ref {
    ($m:ident) => {
        /// The row holding this external id, if any.
        pub async fn $m<C: ConnectionTrait>(db: &C, r: &str) -> Result<Option<entity::$m::Model>> {
            use entity::$m::{Column, Entity};
            Ok(Entity::find().filter(Column::Ref.eq(r)).one(db).await?)
        }
    };
}

table!(territory);
table!(partner);
table!(contact);
table!(network);
table!(membership, pair: NetworkId, PartnerId);
table!(action);
table!(action_partner, pair: ActionId, PartnerId);
table!(action_territory, pair: ActionId, TerritoryId);
table!(partner_territory, pair: PartnerId, TerritoryId);
table!(relation);

/// Lookups by external id.
pub mod by_ref {
    use super::*;
    by_ref!(territory);
    by_ref!(partner);
    by_ref!(contact);
    by_ref!(network);
    by_ref!(action);
}

/// The territory of this kind holding this code, if any.
pub async fn territory_with_code<C: ConnectionTrait>(
    db: &C,
    kind: TerritoryKind,
    code: &str,
) -> Result<Option<entity::territory::Model>> {
    Ok(entity::territory::Entity::find()
        .filter(entity::territory::Column::Kind.eq(kind))
        .filter(entity::territory::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// The territories directly inside one.
pub async fn territory_children<C: ConnectionTrait>(db: &C, id: i64) -> Result<Vec<entity::territory::Model>> {
    Ok(entity::territory::Entity::find()
        .filter(entity::territory::Column::ParentId.eq(id))
        .all(db)
        .await?)
}

/// How many rows of `E` have `col = id`.
async fn count<E: EntityTrait, C: ConnectionTrait>(db: &C, col: E::Column, id: i64) -> Result<u64>
where
    E::Model: Sync,
{
    Ok(E::find().filter(col.eq(id)).count(db).await?)
}

/// What still points at a territory and refuses its deletion:
/// (sub-territories, partners based there, networks covering it).
pub async fn territory_dependents<C: ConnectionTrait>(db: &C, id: i64) -> Result<(u64, u64, u64)> {
    Ok((
        count::<entity::territory::Entity, _>(db, entity::territory::Column::ParentId, id).await?,
        count::<entity::partner::Entity, _>(db, entity::partner::Column::TerritoryId, id).await?,
        count::<entity::network::Entity, _>(db, entity::network::Column::TerritoryId, id).await?,
    ))
}

/// The organisations whose parent a partner is (they refuse its deletion).
pub async fn partner_children<C: ConnectionTrait>(db: &C, id: i64) -> Result<u64> {
    count::<entity::partner::Entity, _>(db, entity::partner::Column::ParentId, id).await
}

/// What still points at a network: (sub-networks, actions run under it).
pub async fn network_dependents<C: ConnectionTrait>(db: &C, id: i64) -> Result<(u64, u64)> {
    Ok((
        count::<entity::network::Entity, _>(db, entity::network::Column::ParentId, id).await?,
        count::<entity::action::Entity, _>(db, entity::action::Column::NetworkId, id).await?,
    ))
}

/// The lead participation of an action, if any.
pub async fn lead_of<C: ConnectionTrait>(db: &C, action: i64) -> Result<Option<entity::action_partner::Model>> {
    Ok(entity::action_partner::Entity::find()
        .filter(entity::action_partner::Column::ActionId.eq(action))
        .filter(entity::action_partner::Column::Role.eq(ParticipationRole::Lead))
        .one(db)
        .await?)
}

/// The relation of this kind from one partner to another, if any.
pub async fn relation_of<C: ConnectionTrait>(
    db: &C,
    from: i64,
    to: i64,
    kind: RelationKind,
) -> Result<Option<entity::relation::Model>> {
    Ok(entity::relation::Entity::find()
        .filter(entity::relation::Column::FromPartnerId.eq(from))
        .filter(entity::relation::Column::ToPartnerId.eq(to))
        .filter(entity::relation::Column::Kind.eq(kind))
        .one(db)
        .await?)
}
