//! `territory_ancestors`: the closure of the territory tree (derived data,
//! rebuilt by [`crate::storage::ancestry::rebuild`]).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "territory_ancestors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub territory_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ancestor_id: i64,
    /// 0 for the territory itself, 1 for its parent, …
    pub depth: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
