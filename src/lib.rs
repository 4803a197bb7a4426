//! maillage: a GraphQL hub for the partner networks of a Direction de la
//! Cohésion Sociale. See ARCHITECTURE.md for the map of the layers:
//! `model` ← `storage` ← `bundle`, `domain` ← `api`, `cli`.

pub mod api;
pub mod bundle;
pub mod cli;
pub mod domain;
pub mod model;
pub mod storage;
