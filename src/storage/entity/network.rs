//! `networks` table.
use sea_orm::entity::prelude::*;

#[allow(unused_imports)]
use crate::model::*;

#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "networks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_name = "ref", unique)]
    pub r#ref: String,
    pub name: String,
    pub name_search: String,
    pub kind: NetworkKind,
    pub territory_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub started_on: Option<Date>,
    pub ended_on: Option<Date>,
    pub description: Option<String>,
    /// NULL: the default of its kind (see `NetworkKind::default_visibility`).
    pub visibility: Option<Visibility>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
