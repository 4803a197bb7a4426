//! Edits of one record at a time (the API's mutations), each in one
//! transaction, with the rules of the import.
//!
//! Every write goes through [`apply`], which takes an [`Edit`] and returns
//! the [`Change`] it made, and appends it to the graph change log in the same
//! transaction (see [`crate::domain::graph`]). What an edit says (the
//! [`Edit`], [`Patch`] and [`RecordType`] re-exported here) is defined in
//! [`crate::domain::patch`], which `access` reads too.
//!
//! The rules are the bundle format's ([`crate::bundle::rules`] holds the
//! value checks and the messages, shared with the import); the rows they
//! span (is this ref taken, does the parent chain loop) are looked up in the
//! transaction that writes. A refused edit writes nothing, audit included.
//!
//! Concurrency: updates and deletes carry the version the client read; the
//! write is `… WHERE version = expected`, so of two editors of the same
//! version only one wins, the other gets a `CONFLICT`. A unique or foreign
//! key violation at write time (a concurrent edit slipped between our check
//! and our write) is a `CONFLICT` too.
//!
//! Deletion: link rows (memberships, participations, served territories,
//! action territories, relations, contacts) go with the record they hang
//! from (`ON DELETE CASCADE`). A record others are built on refuses: a
//! territory with sub-territories, partners based there or networks
//! covering it; a partner with child organisations; a network with
//! sub-networks or actions. The error names what still points at it.

mod records;

use chrono::Utc;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

pub use crate::domain::patch::{
    ActionPatch, ActionTerritoryPatch, ContactPatch, Edit, Field, MembershipPatch, NetworkPatch, Nullable,
    ParticipationPatch, PartnerPatch, Patch, RecordType, RelationPatch, ServedTerritoryPatch, TerritoryPatch,
};

use crate::domain::access::Principal;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::keys::{AuditEntry, audit};
use crate::storage::{self, StorageError, write};

use records::Rec;

/// What a user error is about, for clients to react to without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "UserErrorCode")]
pub enum ErrorCode {
    /// A value breaks a rule of the data (its shape, its range, a date range, the territory tree, a relation to oneself…).
    BadUserInput,
    /// The record to change, or one a field refers to, does not exist (or the id names another type of record).
    NotFound,
    /// The record changed since it was read (`expectedVersion` is stale), or a concurrent edit got there first: read it again.
    Conflict,
    /// A value that must be unique is already held: an external id, a territory code, a link that exists already, an action's lead.
    Taken,
    /// Deletion refused: other records still point at this one (the message says which).
    InUse,
}

/// A mistake in an edit, on one field of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// The input field (its API name, e.g. `parentId`; `id` for the record edited).
    pub field: &'static str,
    pub message: String,
    pub code: ErrorCode,
}

/// A row, of whichever table.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Territory(territory::Model),
    Partner(partner::Model),
    Contact(contact::Model),
    Network(network::Model),
    Membership(membership::Model),
    Action(action::Model),
    Participation(action_partner::Model),
    Relation(relation::Model),
    ServedTerritory(partner_territory::Model),
    ActionTerritory(action_territory::Model),
}

/// What an edit did: the row as written, or as it was before its deletion.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Created(Record),
    Updated(Record),
    Deleted(Record),
}

impl Change {
    pub fn record(&self) -> &Record {
        match self {
            Change::Created(r) | Change::Updated(r) | Change::Deleted(r) => r,
        }
    }
}

/// The result of an edit that ran.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Committed (with its audit entry).
    Done(Box<Change>),
    /// Refused: nothing written.
    Refused(Vec<UserError>),
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The principal may not change data.
    #[error("{0} may not change data")]
    Forbidden(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sea_orm::DbErr> for EditError {
    fn from(e: sea_orm::DbErr) -> Self {
        EditError::Storage(e.into())
    }
}

/// A change made, with the rows as JSON for the audit log.
struct Done {
    change: Change,
    record_type: RecordType,
    id: i64,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

type Checked = Result<Done, Vec<UserError>>;

/// Runs one edit in one transaction on behalf of `principal`, recording it
/// in the audit log as `operation` (the mutation's name).
pub async fn apply(
    db: &DatabaseConnection,
    principal: &Principal,
    operation: &str,
    edit: Edit,
) -> Result<Outcome, EditError> {
    if !principal.may_apply(&edit) {
        return Err(EditError::Forbidden(match principal.role {
            crate::domain::access::Role::Partner => {
                "a partner portal, which may change only its own website, e-mail and phone,".to_owned()
            }
            r => format!("role {}", r.as_str()),
        }));
    }
    let txn = write::begin(db).await?;
    let result = match run(&txn, edit).await {
        Err(e) if write::is_race(&e) => Err(vec![UserError {
            field: "id",
            message: "another edit changed the same data at the same time: read it again and retry".into(),
            code: ErrorCode::Conflict,
        }]),
        other => other?,
    };
    match result {
        Ok(done) => {
            // The graph projections (of every instance) learn of it from the
            // change log, written in this transaction.
            crate::domain::graph::record_change(
                &txn,
                matches!(done.change, Change::Deleted(_)),
                done.record_type.table(),
                done.id,
            )
            .await?;
            audit(
                &txn,
                AuditEntry {
                    principal: &principal.name,
                    role: principal.role.as_str(),
                    operation,
                    record_type: Some(done.record_type.table()),
                    record_id: Some(done.id),
                    before: done.before,
                    after: done.after,
                },
            )
            .await?;
            write::commit(txn).await?;
            Ok(Outcome::Done(Box::new(done.change)))
        }
        Err(errors) => {
            txn.rollback().await?;
            Ok(Outcome::Refused(errors))
        }
    }
}

async fn run(db: &DatabaseTransaction, edit: Edit) -> storage::Result<Checked> {
    use RecordType as T;
    match edit {
        Edit::Create(p) => match p {
            Patch::Territory(p) => create::<territory::Model>(db, &p).await,
            Patch::Partner(p) => create::<partner::Model>(db, &p).await,
            Patch::Contact(p) => create::<contact::Model>(db, &p).await,
            Patch::Network(p) => create::<network::Model>(db, &p).await,
            Patch::Membership(p) => create::<membership::Model>(db, &p).await,
            Patch::Action(p) => create::<action::Model>(db, &p).await,
            Patch::Participation(p) => create::<action_partner::Model>(db, &p).await,
            Patch::Relation(p) => create::<relation::Model>(db, &p).await,
            Patch::ServedTerritory(p) => create::<partner_territory::Model>(db, &p).await,
            Patch::ActionTerritory(p) => create::<action_territory::Model>(db, &p).await,
        },
        Edit::Update {
            id,
            expected_version: v,
            patch,
        } => match patch {
            Patch::Territory(p) => update::<territory::Model>(db, id, v, &p).await,
            Patch::Partner(p) => update::<partner::Model>(db, id, v, &p).await,
            Patch::Contact(p) => update::<contact::Model>(db, id, v, &p).await,
            Patch::Network(p) => update::<network::Model>(db, id, v, &p).await,
            Patch::Membership(p) => update::<membership::Model>(db, id, v, &p).await,
            Patch::Action(p) => update::<action::Model>(db, id, v, &p).await,
            Patch::Participation(p) => update::<action_partner::Model>(db, id, v, &p).await,
            Patch::Relation(p) => update::<relation::Model>(db, id, v, &p).await,
            Patch::ServedTerritory(p) => update::<partner_territory::Model>(db, id, v, &p).await,
            Patch::ActionTerritory(p) => update::<action_territory::Model>(db, id, v, &p).await,
        },
        Edit::Delete {
            record,
            id,
            expected_version: v,
        } => match record {
            T::Territory => delete::<territory::Model>(db, id, v).await,
            T::Partner => delete::<partner::Model>(db, id, v).await,
            T::Contact => delete::<contact::Model>(db, id, v).await,
            T::Network => delete::<network::Model>(db, id, v).await,
            T::Membership => delete::<membership::Model>(db, id, v).await,
            T::Action => delete::<action::Model>(db, id, v).await,
            T::Participation => delete::<action_partner::Model>(db, id, v).await,
            T::Relation => delete::<relation::Model>(db, id, v).await,
            T::ServedTerritory => delete::<partner_territory::Model>(db, id, v).await,
            T::ActionTerritory => delete::<action_territory::Model>(db, id, v).await,
        },
        Edit::Unlink { record, a, b } => {
            let id = match record {
                T::ServedTerritory => write::partner_territory::pair(db, a, b).await?.map(|r| r.id),
                T::ActionTerritory => write::action_territory::pair(db, a, b).await?.map(|r| r.id),
                _ => return Err(StorageError::Integrity(format!("{record:?} is not keyed by two ids"))),
            };
            match (id, record) {
                (Some(id), T::ServedTerritory) => delete::<partner_territory::Model>(db, id, None).await,
                (Some(id), _) => delete::<action_territory::Model>(db, id, None).await,
                (None, _) => Ok(Err(vec![UserError {
                    field: "territoryId",
                    message: format!("no such {} to remove", record.label()),
                    code: ErrorCode::NotFound,
                }])),
            }
        }
    }
}

fn not_found(r: RecordType) -> Vec<UserError> {
    vec![UserError {
        field: "id",
        message: format!("no {} has this id", r.label()),
        code: ErrorCode::NotFound,
    }]
}

fn stale(r: RecordType, current: i32, expected: i32) -> Vec<UserError> {
    vec![UserError {
        field: "expectedVersion",
        message: format!(
            "the {} is at version {current}, not {expected}: someone else changed it; read it again",
            r.label()
        ),
        code: ErrorCode::Conflict,
    }]
}

/// The error for a versioned write that matched no row: the record was
/// changed (or deleted) by a transaction that committed after we read it.
async fn changed_meanwhile<R: Rec>(
    db: &DatabaseTransaction,
    id: i64,
    expected: i32,
) -> storage::Result<Vec<UserError>> {
    Ok(match R::get(db, id).await? {
        Some(now) => stale(R::TYPE, now.version(), expected),
        None => not_found(R::TYPE),
    })
}

async fn create<R: Rec>(db: &DatabaseTransaction, p: &R::Patch) -> storage::Result<Checked> {
    let mut m = R::blank();
    let mut e = records::Errors::default();
    R::apply(p, &mut m, &mut e, true);
    if e.is_empty() {
        R::check(db, &m, None, &mut e).await?;
    }
    if !e.is_empty() {
        return Ok(Err(e.into_vec()));
    }
    let now = Utc::now();
    m.stamp(1, now, Some(now));
    let m = R::insert(db, m).await?;
    R::after_write(db, None, Some(&m)).await?;
    let id = m.id();
    Ok(Ok(Done {
        after: R::json(db, id).await?,
        before: None,
        change: Change::Created(m.wrap()),
        record_type: R::TYPE,
        id,
    }))
}

async fn update<R: Rec>(db: &DatabaseTransaction, id: i64, expected: i32, p: &R::Patch) -> storage::Result<Checked> {
    let Some(old) = R::get(db, id).await? else {
        return Ok(Err(not_found(R::TYPE)));
    };
    if old.version() != expected {
        return Ok(Err(stale(R::TYPE, old.version(), expected)));
    }
    let mut m = old.clone();
    let mut e = records::Errors::default();
    R::apply(p, &mut m, &mut e, false);
    if e.is_empty() {
        R::check(db, &m, Some(&old), &mut e).await?;
    }
    if !e.is_empty() {
        return Ok(Err(e.into_vec()));
    }
    let before = R::json(db, id).await?;
    m.stamp(expected + 1, Utc::now(), None);
    if !R::update(db, &m, expected).await? {
        // Another editor committed between our read and our write.
        return Ok(Err(changed_meanwhile::<R>(db, id, expected).await?));
    }
    R::after_write(db, Some(&old), Some(&m)).await?;
    Ok(Ok(Done {
        after: R::json(db, id).await?,
        before,
        change: Change::Updated(m.wrap()),
        record_type: R::TYPE,
        id,
    }))
}

async fn delete<R: Rec>(db: &DatabaseTransaction, id: i64, expected: Option<i32>) -> storage::Result<Checked> {
    let Some(old) = R::get(db, id).await? else {
        return Ok(Err(not_found(R::TYPE)));
    };
    if let Some(v) = expected
        && old.version() != v
    {
        return Ok(Err(stale(R::TYPE, old.version(), v)));
    }
    let mut e = records::Errors::default();
    R::check_delete(db, &old, &mut e).await?;
    if !e.is_empty() {
        return Ok(Err(e.into_vec()));
    }
    let before = R::json(db, id).await?;
    if !R::delete(db, id, Some(old.version())).await? {
        return Ok(Err(changed_meanwhile::<R>(db, id, old.version()).await?));
    }
    R::after_write(db, Some(&old), None).await?;
    Ok(Ok(Done {
        after: None,
        before,
        change: Change::Deleted(old.wrap()),
        record_type: R::TYPE,
        id,
    }))
}
