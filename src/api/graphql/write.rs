//! The machinery of mutations: decoding an input's global ids, running
//! its edit in the domain, and the payloads' shapes. Each record type's
//! inputs are with its node type (`types/`).

use async_graphql::{Context, ID, MaybeUndefined, Result, SimpleObject};

use super::error::{forbidden, internal};
use super::ids::{self, Kind};
use super::scalars::Date;
use crate::domain::access::Principal;
use crate::domain::edit::{self, *};

/// A mistake in a mutation's input: nothing was written.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserError {
    /// The path of the input field at fault, from the argument: `["input", "parentId"]`.
    field: Vec<String>,
    /// What is wrong, in words (the same words as the bundle import's for the same rule).
    message: String,
    /// What kind of mistake, for programs.
    code: ErrorCode,
}

impl From<edit::UserError> for UserError {
    fn from(e: edit::UserError) -> Self {
        UserError {
            field: vec!["input".into(), e.field.into()],
            message: e.message,
            code: e.code,
        }
    }
}

/// Decodes the global ids of an input, collecting the mistakes.
#[derive(Default)]
pub struct Decoder {
    errors: Vec<edit::UserError>,
}

impl Decoder {
    pub fn id(&mut self, kind: Kind, field: &'static str, id: &ID) -> i64 {
        match ids::decode(id) {
            Some((k, n)) if k == kind => n,
            Some((k, _)) => {
                self.errors.push(edit::UserError {
                    field,
                    message: format!(
                        "{:?} is the id of a {}, not of a {}",
                        id.as_str(),
                        k.prefix(),
                        kind.prefix()
                    ),
                    code: ErrorCode::NotFound,
                });
                0
            }
            None => {
                self.errors.push(edit::UserError {
                    field,
                    message: format!("{:?} is not a global id", id.as_str()),
                    code: ErrorCode::BadUserInput,
                });
                0
            }
        }
    }
    pub fn opt(&mut self, kind: Kind, field: &'static str, id: &Option<ID>) -> Option<i64> {
        id.as_ref().map(|id| self.id(kind, field, id))
    }
    pub fn nullable(&mut self, kind: Kind, field: &'static str, id: &MaybeUndefined<ID>) -> Nullable<i64> {
        match id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(self.id(kind, field, id))),
        }
    }
}

pub fn nullable<T>(v: MaybeUndefined<T>) -> Nullable<T> {
    v.into()
}

pub fn nullable_date(v: MaybeUndefined<Date>) -> Nullable<chrono::NaiveDate> {
    nullable(v).map(|d| d.map(|d| d.0))
}

/// An input that becomes an [`Edit`].
pub trait IntoEdit {
    fn edit(self, d: &mut Decoder) -> Edit;
}

/// Checks the principal, decodes, runs the edit in the domain: the change
/// made, or the user errors.
pub async fn run(ctx: &Context<'_>, operation: &str, input: impl IntoEdit) -> Result<Result<Change, Vec<UserError>>> {
    let principal = match ctx.data_opt::<Principal>() {
        // A portal may edit its own public contact details: the domain
        // decides on the edit itself.
        Some(p) if p.can_write() || p.role == crate::domain::access::Role::Partner => p,
        Some(p) => {
            return Err(forbidden(format!(
                "`{operation}`: the role {} may not change data",
                p.role.as_str()
            )));
        }
        None => return Err(forbidden(format!("`{operation}`: changing data needs a credential"))),
    };
    let mut d = Decoder::default();
    let edit = input.edit(&mut d);
    if !d.errors.is_empty() {
        return Ok(Err(d.errors.into_iter().map(Into::into).collect()));
    }
    let db = ctx
        .data::<sea_orm::DatabaseConnection>()
        .map_err(|e| internal(e.message))?;
    match edit::apply(db, principal, operation, edit).await {
        Ok(Outcome::Done(change)) => {
            // Read-your-writes for graph questions: this instance applies
            // its own change now rather than when the notification arrives.
            // The change is committed: a failure here (the database went
            // away just after) must not answer it as failed, or the client
            // would make it twice. The follower applies it later.
            if let Ok(g) = ctx.data::<crate::domain::graph::Graph>()
                && let Err(e) = g.catch_up().await
            {
                tracing::warn!(error = %e, "graph: catching up after an edit failed; the follower will");
            }
            Ok(Ok(*change))
        }
        Ok(Outcome::Refused(errors)) => Ok(Err(errors.into_iter().map(Into::into).collect())),
        Err(EditError::Forbidden(who)) => Err(forbidden(format!("`{operation}`: {who} may not change data"))),
        Err(EditError::Storage(e)) => Err(internal(e)),
    }
}

/// The payloads of a record type's three mutations (`$c`, `$u`, `$d`):
/// the record written by the first two, the global id of the record the
/// third deleted.
macro_rules! payloads {
    (
        $field:ident: $ty:ident <- $variant:ident;
        $create:ident $c:literal, $update:ident $u:literal, $delete:ident $d:literal -> $deleted:ident
    ) => {
        payloads!(@record $c $create, $field: $ty <- $variant);
        payloads!(@record $u $update, $field: $ty <- $variant);
        payloads!(@deleted $d $delete, $deleted, $variant);
    };
    // A payload carrying the record written.
    (@record $op:literal $name:ident, $field:ident: $ty:ident <- $variant:ident) => {
        #[doc = concat!("The result of `", $op, "`.")]
        #[derive(SimpleObject)]
        pub struct $name {
            /// The record as written (its new `version` included); null when the mutation was refused.
            $field: Option<$ty>,
            /// The mistakes in the input; empty when the mutation succeeded.
            user_errors: Vec<UserError>,
        }

        impl From<Result<Change, Vec<UserError>>> for $name {
            fn from(r: Result<Change, Vec<UserError>>) -> Self {
                match r {
                    Ok(c) => match c.record() {
                        Record::$variant(m) => $name { $field: Some(<$ty as ::std::convert::From<_>>::from(m.clone())), user_errors: vec![] },
                        other => unreachable!("{} got {other:?}", stringify!($name)),
                    },
                    Err(user_errors) => $name { $field: None, user_errors },
                }
            }
        }
    };
    // A payload carrying the global id of the record deleted.
    (@deleted $op:literal $name:ident, $field:ident, $kind:ident) => {
        #[doc = concat!("The result of `", $op, "`.")]
        #[derive(SimpleObject)]
        pub struct $name {
            /// The global id the deleted record had; null when the mutation was refused.
            $field: Option<ID>,
            /// The mistakes in the input (or why the deletion was refused); empty when it succeeded.
            user_errors: Vec<UserError>,
        }

        impl From<Result<Change, Vec<UserError>>> for $name {
            fn from(r: Result<Change, Vec<UserError>>) -> Self {
                match r {
                    Ok(c) => $name {
                        $field: Some(ids::encode(Kind::$kind, record_id(c.record()))),
                        user_errors: vec![],
                    },
                    Err(user_errors) => $name { $field: None, user_errors },
                }
            }
        }
    };
}

/// The input of a record's deletion (`delete…`, `remove…`): its global id,
/// and the version it must still be at, when given.
macro_rules! delete_input {
    ($(#[doc = $doc:literal])* $name:ident, $verb:literal $what:literal: $kind:ident, $record:ident) => {
        $(#[doc = $doc])*
        #[derive(InputObject)]
        pub struct $name {
            #[doc = concat!("The ", $what, ".")]
            id: ID,
            #[doc = concat!("When given, ", $verb, " only if the ", $what, " is still at this version (else `CONFLICT`).")]
            expected_version: Option<i32>,
        }

        impl IntoEdit for $name {
            fn edit(self, d: &mut Decoder) -> Edit {
                Edit::Delete {
                    record: RecordType::$record,
                    id: d.id(Kind::$kind, "id", &self.id),
                    expected_version: self.expected_version,
                }
            }
        }
    };
}

pub fn record_id(r: &Record) -> i64 {
    match r {
        Record::Territory(m) => m.id,
        Record::Partner(m) => m.id,
        Record::Contact(m) => m.id,
        Record::Network(m) => m.id,
        Record::Membership(m) => m.id,
        Record::Action(m) => m.id,
        Record::Participation(m) => m.id,
        Record::Relation(m) => m.id,
        Record::ServedTerritory(m) => m.id,
        Record::ActionTerritory(m) => m.id,
    }
}

/// A link without data of its own between a record and a territory (a
/// territory a partner serves, one an action takes place in): its input
/// (the two global ids), the add and remove mutations' inputs, and their
/// payload, the two records it joins.
macro_rules! territory_link {
    (
        $(#[doc = $idoc:literal])* $input:ident {
            $(#[doc = $adoc:literal])* $a_id:ident: $kind:ident $a_field:literal,
            $(#[doc = $tdoc:literal])* territory_id,
        }
        $(#[doc = $adddoc:literal])* $add:ident, $(#[doc = $rmdoc:literal])* $remove:ident, $record:ident($patch:ident);
        $(#[doc = $pdoc:literal])* $payload:ident { $a:ident: $aty:ident }
    ) => {
        $(#[doc = $idoc])*
        #[derive(InputObject)]
        pub struct $input {
            $(#[doc = $adoc])*
            $a_id: ID,
            $(#[doc = $tdoc])*
            territory_id: ID,
        }

        $(#[doc = $adddoc])*
        pub struct $add(pub $input);
        $(#[doc = $rmdoc])*
        pub struct $remove(pub $input);

        impl $input {
            fn ends(&self, d: &mut Decoder) -> (i64, i64) {
                (d.id(Kind::$kind, $a_field, &self.$a_id), d.id(Kind::Territory, "territoryId", &self.territory_id))
            }
        }

        impl IntoEdit for $add {
            fn edit(self, d: &mut Decoder) -> Edit {
                let (a, t) = self.0.ends(d);
                Edit::Create(Patch::$record($patch { $a_id: Some(a), territory_id: Some(t) }))
            }
        }

        impl IntoEdit for $remove {
            fn edit(self, d: &mut Decoder) -> Edit {
                let (a, b) = self.0.ends(d);
                Edit::Unlink { record: RecordType::$record, a, b }
            }
        }

        $(#[doc = $pdoc])*
        #[derive(SimpleObject)]
        pub struct $payload {
            #[doc = concat!("The ", stringify!($a), " of the link; null when the mutation was refused.")]
            $a: Option<$aty>,
            /// The territory of the link; null when the mutation was refused.
            territory: Option<Territory>,
            /// The mistakes in the input; empty when the mutation succeeded.
            user_errors: Vec<UserError>,
        }

        impl $payload {
            pub async fn build(ctx: &Context<'_>, r: Result<Change, Vec<UserError>>) -> Result<Self> {
                let (a, t) = match r {
                    Ok(c) => match c.record() {
                        Record::$record(m) => (m.$a_id, m.territory_id),
                        other => unreachable!("{} got {other:?}", stringify!($payload)),
                    },
                    Err(user_errors) => return Ok($payload { $a: None, territory: None, user_errors }),
                };
                let l = loaders(ctx);
                Ok($payload {
                    $a: l.$a.load_one(a).await.map_err(internal)?.map($aty::from),
                    territory: l.territory.load_one(t).await.map_err(internal)?.map(Territory),
                    user_errors: vec![],
                })
            }
        }
    };
}

pub(crate) use delete_input;
pub(crate) use payloads;
pub(crate) use territory_link;
