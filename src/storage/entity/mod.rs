//! sea-orm entities, one per table of the migrations. They mirror the
//! schema and carry no behaviour: rules live in the domain layer.

pub mod action;
pub mod action_partner;
pub mod action_territory;
pub mod api_key;
pub mod audit;
pub mod contact;
pub mod membership;
pub mod network;
pub mod partner;
pub mod partner_territory;
pub mod relation;
pub mod territory;
pub mod territory_ancestor;
