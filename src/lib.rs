//! maillage: a GraphQL hub for the partner networks of a Direction de la
//! Cohésion Sociale. See ARCHITECTURE.md for the map of the layers.

pub mod bundle;
pub mod model;
