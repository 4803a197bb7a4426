//! The one place where failures become GraphQL errors with
//! `extensions.code`. Internal details go to the log, never to the client.

use std::fmt::Display;

use async_graphql::{Error, ErrorExtensions, Response};

/// Error codes carried in `extensions.code`.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const INTERNAL: &str = "INTERNAL";

pub const UNAVAILABLE: &str = "UNAVAILABLE";
pub const COMMIT_UNKNOWN: &str = "COMMIT_UNKNOWN";
pub const STORAGE_FULL: &str = "STORAGE_FULL";

/// A failure of ours: logged in full, answered with a generic message so
/// no SQL or path leaks to the client. A database that could not be
/// reached is said so (`UNAVAILABLE`: retry in a moment), and a commit cut
/// off by a lost connection too (`COMMIT_UNKNOWN`: read before retrying).
pub fn internal<E: Display + 'static>(e: E) -> Error {
    match Fault::of(&e) {
        Fault::Unavailable => {
            tracing::warn!(error = %e, "the database could not be reached while answering a GraphQL request");
            unavailable()
        }
        Fault::CommitUnknown => {
            tracing::error!(error = %e, "the database connection was lost during a commit");
            commit_unknown()
        }
        Fault::Full => {
            tracing::error!(error = %e, "the database is full: a change was refused");
            coded(
                STORAGE_FULL,
                "the database has no room left (its disk is full): the change was not saved; reads go on",
            )
        }
        Fault::Other => {
            tracing::error!(error = %e, "internal error while answering a GraphQL request");
            Error::new("internal error; the server log has the details").extend_with(|_, x| x.set("code", INTERNAL))
        }
    }
}

/// The answer to a request that needs the database while it is unreachable.
pub fn unavailable() -> Error {
    coded(
        UNAVAILABLE,
        "the database cannot be reached at the moment; retry in a few seconds",
    )
}

/// The answer to a mutation cut off during its commit.
pub fn commit_unknown() -> Error {
    coded(
        COMMIT_UNKNOWN,
        "the database connection was lost while the change was being committed: it may or may not have been saved; read the record before trying again",
    )
}

/// What kind of failure an error is, found from its type (the resolvers
/// pass errors of several layers).
enum Fault {
    Unavailable,
    CommitUnknown,
    Full,
    Other,
}

impl Fault {
    fn of(e: &dyn std::any::Any) -> Fault {
        use crate::domain::edit::EditError;
        use crate::domain::keys::KeyError;
        use crate::domain::transfer::TransferError;
        use crate::storage::StorageError;
        let storage = |s: &StorageError| match s {
            StorageError::CommitUnknown(_) => Fault::CommitUnknown,
            s if s.unavailable() => Fault::Unavailable,
            s if s.full() => Fault::Full,
            _ => Fault::Other,
        };
        if let Some(s) = e.downcast_ref::<StorageError>() {
            storage(s)
        } else if let Some(s) = e.downcast_ref::<std::sync::Arc<StorageError>>() {
            storage(s)
        } else if let Some(d) = e.downcast_ref::<sea_orm::DbErr>() {
            if crate::storage::health::unavailable(d) {
                Fault::Unavailable
            } else if crate::storage::health::full(d) {
                Fault::Full
            } else {
                Fault::Other
            }
        } else if let Some(EditError::Storage(s)) = e.downcast_ref::<EditError>() {
            storage(s)
        } else if let Some(KeyError::Storage(s)) = e.downcast_ref::<KeyError>() {
            storage(s)
        } else if let Some(TransferError::Storage(s)) = e.downcast_ref::<TransferError>() {
            storage(s)
        } else {
            Fault::Other
        }
    }
}

/// The client asked for something invalid.
pub fn bad_input(msg: impl Into<String>) -> Error {
    Error::new(msg.into()).extend_with(|_, x| x.set("code", BAD_USER_INPUT))
}

/// An error with a given code.
pub fn coded(code: &'static str, msg: impl Into<String>) -> Error {
    Error::new(msg.into()).extend_with(move |_, x| x.set("code", code))
}

/// The principal may not do this (a mutation without write rights).
pub fn forbidden(msg: impl Into<String>) -> Error {
    Error::new(msg.into()).extend_with(|_, x| x.set("code", FORBIDDEN))
}

/// Gives a code to the errors async-graphql raises itself (syntax,
/// validation, a value that is not of its type): they are the client's, so
/// `BAD_USER_INPUT`. Ours always carry one.
///
/// This runs on the response, after execution, rather than as a schema
/// extension: any extension at all makes async-graphql resolve every field
/// through its extension chain (a registry lookup and a boxed future per
/// field), which cost about a tenth of the server's time on a 50-row page.
pub fn code_errors(r: &mut Response) {
    for e in &mut r.errors {
        let x = e.extensions.get_or_insert_with(Default::default);
        if x.get("code").is_none() {
            x.set("code", BAD_USER_INPUT);
        }
    }
}
