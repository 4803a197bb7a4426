//! Rows decoded by the position of their columns, not by name.
//!
//! sea-orm's derived `FromQueryResult` finds every column by its name: a
//! hashed lookup per column and, for a joined record read under a prefix
//! (`t_name`…), a `format!` of the prefixed name first. A page of links with
//! their targets decodes some 25 columns for each of its rows, and operation
//! (b) of the load benchmark (1 550 such rows) spent a quarter of the
//! server's time there. A [`Positional`] model reads its columns one after
//! the other from where its first one sits, which the caller finds once per
//! statement ([`Columns`]): sea-orm selects an entity's columns in the
//! order of its `Column` enum, which is the order of the model's fields.

use sea_orm::{DbErr, EntityTrait, IdenStatic, Iterable, QueryResult};

use super::entity::*;

/// A model that can be read from consecutive columns of a row.
pub trait Positional: Sized {
    /// Its fields, in the order of its columns (raw identifiers without
    /// their `r#`): the test checks them against the entity's columns.
    const FIELDS: &'static [&'static str];

    /// The model whose first column is column `at` of `row`.
    fn decode_at(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Self::decode_projected(row, at, Projection::ALL)
    }

    /// The model whose columns in `projection` stand one after the other
    /// from column `at` of `row`; the fields of the others are [`Absent`].
    fn decode_projected(row: &QueryResult, at: usize, projection: Projection) -> Result<Self, DbErr>;
}

/// Which columns of a table a read fetches: bit `i` stands for the `i`-th
/// column of its entity (the order of its `Column` enum, the model's field
/// order). A page read for a GraphQL selection fetches the columns its
/// fields need (`api::graphql::columns`) and not, say, every description
/// of a page that shows names: on operation (b) of the load benchmark the
/// unread columns were most of what PostgreSQL sent and the server decoded.
/// The id (column 0) is always read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Projection(u32);

impl Projection {
    /// Every column.
    pub const ALL: Projection = Projection(u32::MAX);
    /// The id alone.
    pub const ID: Projection = Projection(1);

    /// The id and `columns`.
    pub fn of<E: EntityTrait>(columns: &[E::Column]) -> Projection {
        columns.iter().fold(Projection::ID, |p, c| {
            let i = E::Column::iter()
                .position(|x| x.as_str() == c.as_str())
                .expect("a column of its entity");
            Projection(p.0 | 1 << i)
        })
    }

    /// The columns of both.
    pub fn union(self, other: Projection) -> Projection {
        Projection(self.0 | other.0)
    }

    /// Whether column `i` is read.
    pub fn has(self, i: usize) -> bool {
        i >= 32 || self.0 & (1 << i) != 0
    }

    /// Whether every column of `E` is read.
    pub fn is_all<E: EntityTrait>(self) -> bool {
        (0..E::Column::iter().count()).all(|i| self.has(i))
    }

    /// The columns of `E` read, in their order.
    pub fn columns<E: EntityTrait>(self) -> impl Iterator<Item = E::Column> {
        E::Column::iter()
            .enumerate()
            .filter(move |(i, _)| self.has(*i))
            .map(|(_, c)| c)
    }
}

/// The value a model holds in a field whose column was not read (see
/// [`Projection`]). Only the resolvers of fields that do not need that
/// column ever see such a model; `api::graphql::columns` says which fields
/// need which columns, and a test compares every field's answer with the
/// one read from whole rows.
pub trait Absent {
    fn absent() -> Self;
}

impl<T> Absent for Option<T> {
    fn absent() -> Self {
        None
    }
}

macro_rules! absent {
    ($($t:ty => $v:expr),* $(,)?) => {$(
        impl Absent for $t {
            fn absent() -> Self {
                $v
            }
        }
    )*};
}

absent! {
    String => String::new(),
    i64 => 0,
    i32 => 0,
    f64 => 0.0,
    bool => false,
    sea_orm::prelude::DateTimeUtc => chrono::DateTime::UNIX_EPOCH,
    crate::model::TerritoryKind => crate::model::TerritoryKind::ALL[0],
    crate::model::PartnerKind => crate::model::PartnerKind::ALL[0],
    crate::model::NetworkKind => crate::model::NetworkKind::ALL[0],
    crate::model::MembershipRole => crate::model::MembershipRole::ALL[0],
    crate::model::Theme => crate::model::Theme::ALL[0],
    crate::model::ActionStatus => crate::model::ActionStatus::ALL[0],
    crate::model::ParticipationRole => crate::model::ParticipationRole::ALL[0],
    crate::model::RelationKind => crate::model::RelationKind::ALL[0],
}

macro_rules! positional {
    ($($m:ident { $($f:ident),+ $(,)? })*) => {$(
        impl Positional for $m::Model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($f)),+];

            fn decode_projected(row: &QueryResult, at: usize, projection: Projection) -> Result<Self, DbErr> {
                // `k`: the field's column in the entity; `i`: where the
                // next column read stands in the row.
                let (mut k, mut i) = (0, at);
                let mut next = || {
                    k += 1;
                    projection.has(k - 1).then(|| {
                        i += 1;
                        i - 1
                    })
                };
                // Struct fields are evaluated in the order written.
                Ok($m::Model {
                    $($f: match next() {
                        Some(i) => row.try_get_by_index(i)?,
                        None => Absent::absent(),
                    },)+
                })
            }
        }
    )*};
}

positional! {
    territory { id, r#ref, kind, code, name, name_search, parent_id, population, lat, lon, created_at, updated_at, version }
    partner { id, r#ref, name, name_search, kind, siret, parent_id, territory_id, website, email, phone, description, created_at, updated_at, version }
    contact { id, r#ref, partner_id, full_name, name_search, role_title, email, phone, created_at, updated_at, version }
    network { id, r#ref, name, name_search, kind, territory_id, parent_id, started_on, ended_on, description, visibility, created_at, updated_at, version }
    membership { id, network_id, partner_id, role, since, until, created_at, updated_at, version }
    action { id, r#ref, title, title_search, theme, status, network_id, started_on, ended_on, budget_cents, beneficiaries, description, visibility, created_at, updated_at, version }
    action_partner { id, action_id, partner_id, role, contribution_cents, created_at, updated_at, version }
    relation { id, from_partner_id, to_partner_id, kind, since, until, weight, note, visibility, created_at, updated_at, version }
    audit { id, at, principal, role, operation, record_type, record_id, before, after }
}

/// Where the records of a statement's rows start, found by name once per
/// statement (every row of a statement has the same columns).
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// Position of the listed table's `id`, its first column.
    pub row: usize,
    /// Position of the joined target's first column (`t_id`), if any.
    pub target: Option<usize>,
}

impl Columns {
    /// The positions of a statement's records, from its first row; `None`
    /// when it returned no row.
    pub fn of(rows: &[QueryResult], target_prefix: Option<&str>) -> Result<Option<Columns>, DbErr> {
        rows.first().map(|r| Columns::find(r, target_prefix)).transpose()
    }

    /// The positions in `row` of `id` and of `{target_prefix}id`.
    pub fn find(row: &QueryResult, target_prefix: Option<&str>) -> Result<Columns, DbErr> {
        let names = row.column_names();
        Ok(Columns {
            row: position(&names, "id")?,
            target: target_prefix.map(|p| position(&names, &format!("{p}id"))).transpose()?,
        })
    }
}

/// The positions of the columns `names` in a statement's rows (the same in
/// every row), found once per statement rather than by name in each row.
pub fn positions<const N: usize>(row: &QueryResult, names: [&str; N]) -> Result<[usize; N], DbErr> {
    let columns = row.column_names();
    let mut out = [0; N];
    for (o, name) in out.iter_mut().zip(names) {
        *o = position(&columns, name)?;
    }
    Ok(out)
}

fn position(columns: &[String], name: &str) -> Result<usize, DbErr> {
    columns
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| DbErr::Type(format!("the statement returns no column {name:?}")))
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::*;

    fn fields_match<E: EntityTrait>()
    where
        E::Model: Positional,
    {
        let columns: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
        let fields: Vec<&str> = <E::Model as Positional>::FIELDS
            .iter()
            .map(|f| f.trim_start_matches("r#"))
            .collect();
        // A swapped pair of fields of one type would decode without error:
        // only the names' order tells.
        assert_eq!(
            fields,
            columns,
            "{}: fields out of column order",
            E::default().table_name()
        );
    }

    #[test]
    fn every_positional_model_lists_its_columns_in_order() {
        fields_match::<territory::Entity>();
        fields_match::<partner::Entity>();
        fields_match::<contact::Entity>();
        fields_match::<network::Entity>();
        fields_match::<membership::Entity>();
        fields_match::<action::Entity>();
        fields_match::<action_partner::Entity>();
        fields_match::<relation::Entity>();
        fields_match::<audit::Entity>();
    }
}
