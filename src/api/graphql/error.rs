//! The one place where failures become GraphQL errors with
//! `extensions.code`. Internal details go to the log, never to the client.

use std::fmt::Display;

use async_graphql::{Error, ErrorExtensions};

/// Error codes carried in `extensions.code`.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const INTERNAL: &str = "INTERNAL";
pub const FORBIDDEN: &str = "FORBIDDEN";

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
