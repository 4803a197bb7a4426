//! `relations` table.
use sea_orm::entity::prelude::*;

#[allow(unused_imports)]
use crate::model::*;

#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "relations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub from_partner_id: i64,
    pub to_partner_id: i64,
    pub kind: RelationKind,
    pub since: Option<Date>,
    pub until: Option<Date>,
    pub weight: f64,
    pub note: Option<String>,
    /// NULL: the default of its kind (see `NetworkKind::default_visibility`).
    pub visibility: Option<Visibility>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
