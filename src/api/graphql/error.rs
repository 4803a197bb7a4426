//! The one place where failures become GraphQL errors with
//! `extensions.code`. Internal details go to the log, never to the client.

use std::fmt::Display;

use async_graphql::{Error, ErrorExtensions, Response};

/// Error codes carried in `extensions.code`.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const INTERNAL: &str = "INTERNAL";

/// A failure of ours (database down, bug): logged in full, answered with a
/// generic message so no SQL or path leaks to the client.
pub fn internal<E: Display>(e: E) -> Error {
    tracing::error!(error = %e, "internal error while answering a GraphQL request");
    Error::new("internal error; the server log has the details").extend_with(|_, x| x.set("code", INTERNAL))
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
