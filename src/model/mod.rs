//! The domain's vocabulary: plain types with no I/O, shared by every layer.
//!
//! Each closed list of the bundle format (territory kinds, partner kinds,
//! roles, themes…) is one Rust enum here, and only here. The same enum is the
//! database column type (checked by a `CHECK` constraint in the migrations),
//! the GraphQL enum, and what the bundle reader accepts, so the three can
//! never disagree.

pub mod text;
pub mod vocab;

pub use vocab::*;

/// An amount of money in euro cents. Stored as an integer so that sums are
/// exact on every engine; the bundle writes it back as euros (`12500.5`).
pub type Cents = i64;
