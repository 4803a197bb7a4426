//! Domain layer: the rules of the partner graph and the operations built on
//! them (importing and exporting bundles; later access rules and graph
//! analytics). It validates with [`crate::bundle`] and persists through
//! [`crate::storage`]; it knows nothing of HTTP, GraphQL or the terminal.

pub mod access;
pub mod edit;
pub mod graph;
pub mod keys;
pub mod patch;
pub mod tokens;
pub mod transfer;
