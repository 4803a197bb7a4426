//! `territories` table.
use sea_orm::entity::prelude::*;

#[allow(unused_imports)]
use crate::model::*;

#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "territories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_name = "ref", unique)]
    pub r#ref: String,
    pub kind: TerritoryKind,
    pub code: Option<String>,
    pub name: String,
    pub name_search: String,
    pub parent_id: Option<i64>,
    pub population: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
