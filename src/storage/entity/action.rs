//! `actions` table.
use sea_orm::entity::prelude::*;

#[allow(unused_imports)]
use crate::model::*;

#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_name = "ref", unique)]
    pub r#ref: String,
    pub title: String,
    pub title_search: String,
    pub theme: Theme,
    pub status: ActionStatus,
    pub network_id: Option<i64>,
    pub started_on: Option<Date>,
    pub ended_on: Option<Date>,
    pub budget_cents: Option<i64>,
    pub beneficiaries: Option<i64>,
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
