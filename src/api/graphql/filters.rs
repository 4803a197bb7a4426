//! Typed filters of the connections, turned into SQL conditions (never
//! applied in memory); their orderings are in `orders.rs`.
//!
//! Every filter combines its fields with AND, and nests with `and`, `or` and
//! `not`. The `Debug` form of a filter is part of the identity of a nested
//! page request (see `loaders::NestedLoader`), so filters derive `Debug`.

use async_graphql::{Context, ID, InputObject, Result};
use sea_orm::sea_query::{Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbBackend};

use super::error::{bad_input, forbidden};
use super::ids::{Kind, expect, expect_all};
use super::scalars::Date;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::list::Sort;
use crate::storage::read::{Scope, Scoped, TerritoryKey, territory_set};
use crate::storage::search;

pub use super::orders::*;

/// What a filter's SQL depends on besides the filter: the viewer (what
/// they see, whether they may read personal fields) and the engine (a text
/// search is a statement of its own on each, see `storage::search`).
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub scope: &'a Scope,
    pub personal: bool,
    pub backend: DbBackend,
    /// The list's own search (its filter's, and its `and`/`or`/`not`'s) is
    /// checked on the rows of a walk in the order asked rather than read
    /// from the index ([`root_arguments`]).
    pub walk: bool,
}

impl<'a> Reading<'a> {
    /// The reading of the request `ctx` answers.
    pub fn of(ctx: &'a Context<'_>) -> Self {
        Reading {
            scope: ctx.data_unchecked::<Scope>(),
            personal: sees_personal(ctx),
            backend: ctx
                .data_opt::<DatabaseConnection>()
                .map_or(DbBackend::Sqlite, |db| db.get_database_backend()),
            walk: false,
        }
    }

    /// The reading of a filter over another list, nested in this one's.
    fn nested(&self) -> Self {
        Reading { walk: false, ..*self }
    }

    /// The rows whose search key `col` holds every word of `s`.
    fn search<C: ColumnTrait>(&self, col: C, s: &str) -> Condition {
        if self.walk {
            search::scanned(col, s)
        } else {
            search::matches(self.backend, col, s)
        }
    }
}

/// A list's filter: its SQL condition, and its own `search` (what a
/// `RELEVANCE` order ranks against) over its table's search key.
pub trait ListFilter {
    /// The table the filter keeps rows of.
    const TABLE: &'static str;
    fn condition(&self, r: &Reading) -> Result<Condition>;
    fn search(&self) -> Option<&str>;
}

/// The condition and the sort keys of a list's `filter` and `orderBy`.
pub fn arguments<F: ListFilter, O: ListOrder>(
    ctx: &Context<'_>,
    filter: Option<&F>,
    order_by: &Option<Vec<O>>,
) -> Result<(Option<Condition>, Vec<Sort>)> {
    let cond = filter.map(|f| f.condition(&Reading::of(ctx))).transpose()?;
    Ok((cond, O::sorts(ctx, order_by, filter.and_then(|f| f.search()))?))
}

/// [`arguments`] for a root list. On SQLite, a search that matches many
/// rows (`storage::search::MANY`) in an order an index walks is checked
/// along that walk, which reaches a page after a few rows, rather than
/// read from the FTS5 index, whose matches would all be sorted first.
/// (PostgreSQL's planner weighs the same two plans itself.) Nested lists
/// read from the index: their pages count every parent's rows anyway.
pub async fn root_arguments<F: ListFilter, O: ListOrder>(
    ctx: &Context<'_>,
    filter: Option<&F>,
    order_by: &Option<Vec<O>>,
) -> Result<(Option<Condition>, Vec<Sort>)> {
    let search = filter.and_then(|f| f.search());
    let mut r = Reading::of(ctx);
    if let Some(s) = search
        && r.backend == DbBackend::Sqlite
        && O::walks(order_by)
    {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        r.walk = search::matches_many(db, F::TABLE, s)
            .await
            .map_err(super::error::internal)?;
    }
    let cond = filter.map(|f| f.condition(&r)).transpose()?;
    Ok((cond, O::sorts(ctx, order_by, search)?))
}

/// Implements [`ListFilter`] for filters with a `search` and a `condition`.
macro_rules! list_filter {
    ($($f:ident: $table:literal),*) => {$(
        impl ListFilter for $f {
            const TABLE: &'static str = $table;
            fn condition(&self, r: &Reading) -> Result<Condition> {
                $f::condition(self, r)
            }
            fn search(&self) -> Option<&str> {
                self.search.as_deref()
            }
        }
    )*};
}

list_filter!(
    PartnerFilter: "partners",
    NetworkFilter: "networks",
    TerritoryFilter: "territories",
    ActionFilter: "actions",
    ContactFilter: "contacts"
);

/// A territory to filter on, by id or by external id, with or without what lies inside it.
#[derive(InputObject, Debug, Clone)]
pub struct TerritoryScope {
    /// The territory's global id. Give exactly one of `id` and `ref`.
    pub id: Option<ID>,
    /// The territory's external id (e.g. `dep-57`, `com-57306`).
    #[graphql(name = "ref")]
    pub r#ref: Option<String>,
    /// Include every territory inside it (a department covers its intercommunalities, communes and QPVs). Default true.
    #[graphql(default = true)]
    pub include_descendants: bool,
}

impl TerritoryScope {
    /// The ids of the territories this scope covers, as a subquery.
    pub fn set(&self) -> Result<SelectStatement> {
        let key = match (&self.id, &self.r#ref) {
            (Some(id), None) => TerritoryKey::Id(expect(Kind::Territory, "territory.id", id)?),
            (None, Some(r)) => TerritoryKey::Ref(r.clone()),
            _ => return Err(bad_input("`territory`: give exactly one of `id` and `ref`")),
        };
        Ok(territory_set(&key, self.include_descendants))
    }
}

/// A period of dates, both ends included; an open end is unbounded.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct Period {
    /// First day (included); none for "since always".
    pub from: Option<Date>,
    /// Last day (included); none for "until now and later".
    pub to: Option<Date>,
}

/// A range of amounts in euros, both ends included.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct AmountRange {
    /// Smallest amount (included).
    pub min: Option<f64>,
    /// Largest amount (included).
    pub max: Option<f64>,
}

/// A range of whole numbers, both ends included.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct IntRange {
    /// Smallest value (included).
    pub min: Option<i64>,
    /// Largest value (included).
    pub max: Option<i64>,
}

/// Conditions shared by the filters.
mod cond {
    use super::*;

    /// Open periods `[start, end]` (NULL = unbounded) that contain `day`.
    pub fn active_on<C: ColumnTrait>(start: C, end: C, day: Date) -> Condition {
        Condition::all()
            .add(Condition::any().add(start.is_null()).add(start.lte(day.0)))
            .add(Condition::any().add(end.is_null()).add(end.gte(day.0)))
    }

    /// Open periods `[start, end]` that share at least one day with `p`.
    pub fn overlaps<C: ColumnTrait>(start: C, end: C, p: Period) -> Condition {
        let mut c = Condition::all();
        if let Some(to) = p.to {
            c = c.add(Condition::any().add(start.is_null()).add(start.lte(to.0)));
        }
        if let Some(from) = p.from {
            c = c.add(Condition::any().add(end.is_null()).add(end.gte(from.0)));
        }
        c
    }

    pub fn range<C: ColumnTrait>(col: C, min: Option<i64>, max: Option<i64>) -> Condition {
        let mut c = Condition::all();
        if let Some(m) = min {
            c = c.add(col.gte(m));
        }
        if let Some(m) = max {
            c = c.add(col.lte(m));
        }
        c
    }

    pub fn cents(e: f64) -> i64 {
        (e * 100.0).round() as i64
    }

    /// `and`, `or` and `not` of a filter, around its own condition.
    pub fn combine<F>(
        own: Condition,
        and: &Option<Vec<F>>,
        or: &Option<Vec<F>>,
        not: &Option<Box<F>>,
        cond: impl Fn(&F) -> Result<Condition>,
    ) -> Result<Condition> {
        let mut c = own;
        for f in and.iter().flatten() {
            c = c.add(cond(f)?);
        }
        if let Some(or) = or {
            let mut any = Condition::any();
            for f in or {
                any = any.add(cond(f)?);
            }
            c = c.add(any);
        }
        if let Some(n) = not {
            c = c.add(cond(n)?.not());
        }
        Ok(c)
    }

    pub fn in_subquery<C: ColumnTrait>(col: C, q: SelectStatement) -> SimpleExpr {
        col.in_subquery(q)
    }

    /// `SELECT col FROM E`, kept to the rows of `E` that `scope` sees.
    ///
    /// The only way a filter reads a table other than the one it filters
    /// (there is no unscoped form here): a filter that names a record the
    /// viewer may not see then names nothing, exactly as one naming an
    /// unknown record, whatever the filter and however deeply it nests. The
    /// outer table is scoped by the list that applies the filter.
    pub fn seen<E, C>(scope: &Scope, col: C) -> SelectStatement
    where
        E: Scoped,
        C: ColumnTrait + sea_orm::sea_query::IntoIden,
    {
        let mut q = Query::select().column(col).from(E::default()).to_owned();
        if !E::sees_all(scope) {
            q.cond_where(E::visible(scope));
        }
        q
    }

    /// `col` is the id of one of the records `ids` of `E` that `scope`
    /// sees (a client's list of ids, decoded).
    pub fn seen_ids<E, C>(scope: &Scope, col: C, id: E::Column, ids: Vec<i64>) -> SimpleExpr
    where
        E: Scoped,
        C: ColumnTrait,
    {
        if E::sees_all(scope) {
            return col.is_in(ids);
        }
        col.in_subquery(seen::<E, _>(scope, id).and_where(id.is_in(ids)).to_owned())
    }
}

/// Which partners to list. Fields combine with AND.
#[derive(InputObject, Debug, Clone, Default)]
pub struct PartnerFilter {
    /// Words the name contains, ignoring case and accents ("ecole" finds "École").
    pub search: Option<String>,
    /// Only partners of these kinds.
    pub kinds: Option<Vec<PartnerKind>>,
    /// Only these partners, by external id.
    pub refs: Option<Vec<String>>,
    /// Partners based in, or serving, this territory (and what lies inside it unless `includeDescendants` is false).
    pub territory: Option<TerritoryScope>,
    /// Partners sitting in one of these networks (at any date).
    pub networks: Option<Vec<ID>>,
    /// Partners taking part in one of these actions.
    pub actions: Option<Vec<ID>>,
    /// Partners taking part (any role) in at least one action this filter keeps.
    pub takes_part_in: Option<Box<ActionFilter>>,
    /// Partners sitting (any role, any date) in at least one network this filter keeps.
    pub sits_in: Option<Box<NetworkFilter>>,
    /// All of these filters.
    pub and: Option<Vec<PartnerFilter>>,
    /// At least one of these filters.
    pub or: Option<Vec<PartnerFilter>>,
    /// Not this filter.
    pub not: Option<Box<PartnerFilter>>,
}

impl PartnerFilter {
    pub fn condition(&self, r: &Reading) -> Result<Condition> {
        let scope = r.scope;
        use partner::Column as P;
        let mut c = Condition::all();
        if let Some(s) = &self.search {
            c = c.add(r.search(P::NameSearch, s));
        }
        if let Some(k) = &self.kinds {
            c = c.add(P::Kind.is_in(k.iter().copied()));
        }
        if let Some(r) = &self.refs {
            c = c.add(P::Ref.is_in(r.iter().cloned()));
        }
        if let Some(t) = &self.territory {
            let set = t.set()?;
            let served = cond::seen::<partner_territory::Entity, _>(scope, partner_territory::Column::PartnerId)
                .and_where(partner_territory::Column::TerritoryId.in_subquery(set.clone()))
                .to_owned();
            c = c.add(
                Condition::any()
                    .add(P::TerritoryId.in_subquery(set))
                    .add(P::Id.in_subquery(served)),
            );
        }
        if let Some(n) = &self.networks {
            let ids = expect_all(Kind::Network, "networks", n)?;
            let q = cond::seen::<membership::Entity, _>(scope, membership::Column::PartnerId)
                .and_where(membership::Column::NetworkId.is_in(ids))
                .to_owned();
            c = c.add(cond::in_subquery(P::Id, q));
        }
        if let Some(a) = &self.actions {
            let ids = expect_all(Kind::Action, "actions", a)?;
            let q = cond::seen::<action_partner::Entity, _>(scope, action_partner::Column::PartnerId)
                .and_where(action_partner::Column::ActionId.is_in(ids))
                .to_owned();
            c = c.add(cond::in_subquery(P::Id, q));
        }
        if let Some(a) = &self.takes_part_in {
            let acts = cond::seen::<action::Entity, _>(scope, action::Column::Id)
                .cond_where(a.condition(&r.nested())?)
                .to_owned();
            let q = cond::seen::<action_partner::Entity, _>(scope, action_partner::Column::PartnerId)
                .and_where(action_partner::Column::ActionId.in_subquery(acts))
                .to_owned();
            c = c.add(cond::in_subquery(P::Id, q));
        }
        if let Some(n) = &self.sits_in {
            let nets = cond::seen::<network::Entity, _>(scope, network::Column::Id)
                .cond_where(n.condition(&r.nested())?)
                .to_owned();
            let q = cond::seen::<membership::Entity, _>(scope, membership::Column::PartnerId)
                .and_where(membership::Column::NetworkId.in_subquery(nets))
                .to_owned();
            c = c.add(cond::in_subquery(P::Id, q));
        }
        cond::combine(c, &self.and, &self.or, &self.not, |f| f.condition(r))
    }
}

/// Which networks to list. Fields combine with AND.
#[derive(InputObject, Debug, Clone, Default)]
pub struct NetworkFilter {
    /// Words the name contains, ignoring case and accents.
    pub search: Option<String>,
    /// Only networks of these kinds.
    pub kinds: Option<Vec<NetworkKind>>,
    /// Only these networks, by external id.
    #[graphql(name = "refs")]
    pub refs: Option<Vec<String>>,
    /// Networks whose territory is this one (or lies inside it unless `includeDescendants` is false).
    pub territory: Option<TerritoryScope>,
    /// Networks running on this day (started on or before it, not ended before it).
    pub active_on: Option<Date>,
    /// Networks running at some time in this period.
    pub overlaps: Option<Period>,
    /// All of these filters.
    pub and: Option<Vec<NetworkFilter>>,
    /// At least one of these filters.
    pub or: Option<Vec<NetworkFilter>>,
    /// Not this filter.
    pub not: Option<Box<NetworkFilter>>,
}

impl NetworkFilter {
    // Its own fields read only public territories, but every filter takes
    // the reading: a field added later that reads another table has its scope.
    pub fn condition(&self, r: &Reading) -> Result<Condition> {
        use network::Column as N;
        let mut c = Condition::all();
        if let Some(s) = &self.search {
            c = c.add(r.search(N::NameSearch, s));
        }
        if let Some(k) = &self.kinds {
            c = c.add(N::Kind.is_in(k.iter().copied()));
        }
        if let Some(r) = &self.refs {
            c = c.add(N::Ref.is_in(r.iter().cloned()));
        }
        if let Some(t) = &self.territory {
            c = c.add(N::TerritoryId.in_subquery(t.set()?));
        }
        if let Some(d) = self.active_on {
            c = c.add(cond::active_on(N::StartedOn, N::EndedOn, d));
        }
        if let Some(p) = self.overlaps {
            c = c.add(cond::overlaps(N::StartedOn, N::EndedOn, p));
        }
        cond::combine(c, &self.and, &self.or, &self.not, |f| f.condition(r))
    }
}

/// Which territories to list. Fields combine with AND.
#[derive(InputObject, Debug, Clone, Default)]
pub struct TerritoryFilter {
    /// Words the name contains, ignoring case and accents ("saint etienne" finds "Saint-Étienne").
    pub search: Option<String>,
    /// Only territories of these kinds.
    pub kinds: Option<Vec<TerritoryKind>>,
    /// Only territories with these official codes.
    pub codes: Option<Vec<String>>,
    /// Only these territories, by external id.
    pub refs: Option<Vec<String>>,
    /// This territory and (unless `includeDescendants` is false) every territory inside it.
    pub within: Option<TerritoryScope>,
    /// All of these filters.
    pub and: Option<Vec<TerritoryFilter>>,
    /// At least one of these filters.
    pub or: Option<Vec<TerritoryFilter>>,
    /// Not this filter.
    pub not: Option<Box<TerritoryFilter>>,
}

impl TerritoryFilter {
    // Its own fields read only public territories, but every filter takes
    // the reading: a field added later that reads another table has its scope.
    pub fn condition(&self, r: &Reading) -> Result<Condition> {
        use territory::Column as T;
        let mut c = Condition::all();
        if let Some(s) = &self.search {
            c = c.add(r.search(T::NameSearch, s));
        }
        if let Some(k) = &self.kinds {
            c = c.add(T::Kind.is_in(k.iter().copied()));
        }
        if let Some(k) = &self.codes {
            c = c.add(T::Code.is_in(k.iter().cloned()));
        }
        if let Some(r) = &self.refs {
            c = c.add(T::Ref.is_in(r.iter().cloned()));
        }
        if let Some(t) = &self.within {
            c = c.add(T::Id.in_subquery(t.set()?));
        }
        cond::combine(c, &self.and, &self.or, &self.not, |f| f.condition(r))
    }
}

/// Which shared actions to list. Fields combine with AND.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ActionFilter {
    /// Words the title contains, ignoring case and accents.
    pub search: Option<String>,
    /// Only actions on these themes.
    pub themes: Option<Vec<Theme>>,
    /// Only actions with these statuses.
    pub statuses: Option<Vec<ActionStatus>>,
    /// Only these actions, by external id.
    pub refs: Option<Vec<String>>,
    /// Actions taking place in this territory (or inside it unless `includeDescendants` is false).
    pub territory: Option<TerritoryScope>,
    /// Actions taking place in at least one territory of these kinds (e.g. `[QPV]`: actions in priority neighbourhoods).
    pub territory_kinds: Option<Vec<TerritoryKind>>,
    /// Actions run under one of these networks.
    pub networks: Option<Vec<ID>>,
    /// Actions one of these partners takes part in (any role).
    pub partners: Option<Vec<ID>>,
    /// Actions running on this day.
    pub active_on: Option<Date>,
    /// Actions running at some time in this period.
    pub overlaps: Option<Period>,
    /// Budget in euros (actions without a budget never match).
    pub budget: Option<AmountRange>,
    /// Number of beneficiaries.
    pub beneficiaries: Option<IntRange>,
    /// All of these filters.
    pub and: Option<Vec<ActionFilter>>,
    /// At least one of these filters.
    pub or: Option<Vec<ActionFilter>>,
    /// Not this filter.
    pub not: Option<Box<ActionFilter>>,
}

impl ActionFilter {
    pub fn condition(&self, r: &Reading) -> Result<Condition> {
        let scope = r.scope;
        use action::Column as A;
        let mut c = Condition::all();
        if let Some(s) = &self.search {
            c = c.add(r.search(A::TitleSearch, s));
        }
        if let Some(k) = &self.themes {
            c = c.add(A::Theme.is_in(k.iter().copied()));
        }
        if let Some(k) = &self.statuses {
            c = c.add(A::Status.is_in(k.iter().copied()));
        }
        if let Some(r) = &self.refs {
            c = c.add(A::Ref.is_in(r.iter().cloned()));
        }
        if let Some(t) = &self.territory {
            let q = cond::seen::<action_territory::Entity, _>(scope, action_territory::Column::ActionId)
                .and_where(action_territory::Column::TerritoryId.in_subquery(t.set()?))
                .to_owned();
            c = c.add(A::Id.in_subquery(q));
        }
        if let Some(k) = &self.territory_kinds {
            let places = cond::seen::<territory::Entity, _>(scope, territory::Column::Id)
                .and_where(territory::Column::Kind.is_in(k.iter().copied()))
                .to_owned();
            let q = cond::seen::<action_territory::Entity, _>(scope, action_territory::Column::ActionId)
                .and_where(action_territory::Column::TerritoryId.in_subquery(places))
                .to_owned();
            c = c.add(A::Id.in_subquery(q));
        }
        if let Some(n) = &self.networks {
            let ids = expect_all(Kind::Network, "networks", n)?;
            c = c.add(cond::seen_ids::<network::Entity, _>(
                scope,
                A::NetworkId,
                network::Column::Id,
                ids,
            ));
        }
        if let Some(p) = &self.partners {
            let q = cond::seen::<action_partner::Entity, _>(scope, action_partner::Column::ActionId)
                .and_where(action_partner::Column::PartnerId.is_in(expect_all(Kind::Partner, "partners", p)?))
                .to_owned();
            c = c.add(A::Id.in_subquery(q));
        }
        if let Some(d) = self.active_on {
            c = c.add(cond::active_on(A::StartedOn, A::EndedOn, d));
        }
        if let Some(p) = self.overlaps {
            c = c.add(cond::overlaps(A::StartedOn, A::EndedOn, p));
        }
        if let Some(b) = self.budget {
            c = c.add(cond::range(
                A::BudgetCents,
                b.min.map(cond::cents),
                b.max.map(cond::cents),
            ));
        }
        if let Some(b) = self.beneficiaries {
            c = c.add(cond::range(A::Beneficiaries, b.min, b.max));
        }
        cond::combine(c, &self.and, &self.or, &self.not, |f| f.condition(r))
    }
}

/// Which contacts to list. Fields combine with AND.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ContactFilter {
    /// Words the full name contains, ignoring case and accents. Names are
    /// personal data: refused (`FORBIDDEN`) for a viewer not granted
    /// contacts' details (see `viewer.seesContactDetails`), rather than
    /// telling through what matches a name they may not read.
    pub search: Option<String>,
    /// Only contacts of these partners.
    pub partners: Option<Vec<ID>>,
    /// Only contacts of partners of these kinds.
    pub partner_kinds: Option<Vec<PartnerKind>>,
    /// Only these contacts, by external id.
    pub refs: Option<Vec<String>>,
    /// All of these filters.
    pub and: Option<Vec<ContactFilter>>,
    /// At least one of these filters.
    pub or: Option<Vec<ContactFilter>>,
    /// Not this filter.
    pub not: Option<Box<ContactFilter>>,
}

impl ContactFilter {
    pub fn condition(&self, r: &Reading) -> Result<Condition> {
        let scope = r.scope;
        use contact::Column as C;
        let mut c = Condition::all();
        if let Some(s) = &self.search {
            if !r.personal {
                return Err(forbidden(
                    "`search` on contacts reads their names, personal data this viewer may not read \
                     (`viewer.seesContactDetails` is false)",
                ));
            }
            c = c.add(r.search(C::NameSearch, s));
        }
        if let Some(p) = &self.partners {
            let ids = expect_all(Kind::Partner, "partners", p)?;
            c = c.add(cond::seen_ids::<partner::Entity, _>(
                scope,
                C::PartnerId,
                partner::Column::Id,
                ids,
            ));
        }
        if let Some(k) = &self.partner_kinds {
            let q = cond::seen::<partner::Entity, _>(scope, partner::Column::Id)
                .and_where(partner::Column::Kind.is_in(k.iter().copied()))
                .to_owned();
            c = c.add(C::PartnerId.in_subquery(q));
        }
        if let Some(r) = &self.refs {
            c = c.add(C::Ref.is_in(r.iter().cloned()));
        }
        cond::combine(c, &self.and, &self.or, &self.not, |f| f.condition(r))
    }
}

/// Which memberships (partner ↔ network edges) to list.
#[derive(InputObject, Debug, Clone, Default)]
pub struct MembershipFilter {
    /// Only these roles.
    pub roles: Option<Vec<MembershipRole>>,
    /// Memberships running on this day.
    pub active_on: Option<Date>,
    /// Memberships running at some time in this period.
    pub overlaps: Option<Period>,
}

impl MembershipFilter {
    pub fn condition(&self) -> Condition {
        use membership::Column as M;
        let mut c = Condition::all();
        if let Some(r) = &self.roles {
            c = c.add(M::Role.is_in(r.iter().copied()));
        }
        if let Some(d) = self.active_on {
            c = c.add(cond::active_on(M::Since, M::Until, d));
        }
        if let Some(p) = self.overlaps {
            c = c.add(cond::overlaps(M::Since, M::Until, p));
        }
        c
    }
}

/// Which participations (partner ↔ action edges) to list.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ParticipationFilter {
    /// Only these roles.
    pub roles: Option<Vec<ParticipationRole>>,
    /// Contribution in euros (participations without one never match).
    pub contribution: Option<AmountRange>,
}

impl ParticipationFilter {
    pub fn condition(&self) -> Condition {
        use action_partner::Column as P;
        let mut c = Condition::all();
        if let Some(r) = &self.roles {
            c = c.add(P::Role.is_in(r.iter().copied()));
        }
        if let Some(b) = self.contribution {
            c = c.add(cond::range(
                P::ContributionCents,
                b.min.map(cond::cents),
                b.max.map(cond::cents),
            ));
        }
        c
    }
}

/// Which relations between partners to list.
#[derive(InputObject, Debug, Clone, Default)]
pub struct RelationFilter {
    /// Only relations of these kinds.
    pub kinds: Option<Vec<RelationKind>>,
    /// Relations running on this day.
    pub active_on: Option<Date>,
    /// Relations running at some time in this period.
    pub overlaps: Option<Period>,
    /// Weight at least this.
    pub min_weight: Option<f64>,
}

impl RelationFilter {
    pub fn condition(&self) -> Condition {
        use relation::Column as R;
        let mut c = Condition::all();
        if let Some(k) = &self.kinds {
            c = c.add(R::Kind.is_in(k.iter().copied()));
        }
        if let Some(d) = self.active_on {
            c = c.add(cond::active_on(R::Since, R::Until, d));
        }
        if let Some(p) = self.overlaps {
            c = c.add(cond::overlaps(R::Since, R::Until, p));
        }
        if let Some(w) = self.min_weight {
            c = c.add(R::Weight.gte(w));
        }
        c
    }
}

/// Whether the viewer may read contacts' personal fields (a request without
/// a principal is the server's own, as in tests and the CLI).
pub fn sees_personal(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<crate::domain::access::Principal>()
        .is_none_or(|p| p.sees_contact_details())
}
