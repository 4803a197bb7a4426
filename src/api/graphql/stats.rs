//! Aggregates for analysts: `actionStats` (counts and sums of shared actions
//! grouped by dimensions); the partner degree is in `degree.rs`. The arithmetic is
//! SQL's (`storage::stats`); this module only maps keys to GraphQL objects.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use sea_orm::DatabaseConnection;

use super::error::internal;
use super::filters::{ActionFilter, Reading};
use super::request::{loaders, scope};
use super::types::{Network, Territory};
use crate::model::*;
use crate::storage::stats::{self, Dimension, KeyValue};

/// What action statistics can be grouped by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionStatsDimension {
    /// The action's theme.
    Theme,
    /// The action's status.
    Status,
    /// The network it runs under (null key for actions run under none).
    Network,
    /// The kind of the partners taking part: an action counts once for each kind among its partners.
    PartnerKind,
    /// The region(s) the action takes place in or within.
    TerritoryRegion,
    /// The department(s) the action takes place in or within.
    TerritoryDepartment,
    /// The intercommunality (EPCI) the action takes place in or within.
    TerritoryEpci,
    /// The commune(s) the action takes place in or within (an action in a QPV counts for the QPV's commune).
    TerritoryCommune,
    /// The QPV(s) the action takes place in (quartiers prioritaires de la politique de la ville).
    TerritoryQpv,
    /// The year it started (null key when the start is unknown).
    Year,
}

impl ActionStatsDimension {
    fn storage(self) -> Dimension {
        use ActionStatsDimension as D;
        match self {
            D::Theme => Dimension::Theme,
            D::Status => Dimension::Status,
            D::Network => Dimension::Network,
            D::PartnerKind => Dimension::PartnerKind,
            D::TerritoryRegion => Dimension::Territory(TerritoryKind::Region),
            D::TerritoryDepartment => Dimension::Territory(TerritoryKind::Department),
            D::TerritoryEpci => Dimension::Territory(TerritoryKind::Epci),
            D::TerritoryCommune => Dimension::Territory(TerritoryKind::Commune),
            D::TerritoryQpv => Dimension::Territory(TerritoryKind::Qpv),
            D::Year => Dimension::Year,
        }
    }
}

/// The key of a group: one field per dimension asked for, the others null.
#[derive(Default)]
pub struct ActionStatsKey {
    theme: Option<Theme>,
    status: Option<ActionStatus>,
    network: Option<i64>,
    partner_kind: Option<PartnerKind>,
    territory: Option<i64>,
    year: Option<i64>,
}

/// The key of a group: one field per dimension asked for, the others null.
#[Object]
impl ActionStatsKey {
    /// The theme, when grouping by `THEME`.
    async fn theme(&self) -> Option<Theme> {
        self.theme
    }
    /// The status, when grouping by `STATUS`.
    async fn status(&self) -> Option<ActionStatus> {
        self.status
    }
    /// The network, when grouping by `NETWORK`.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        match self.network {
            Some(id) => Ok(loaders(ctx).network.load_one(id).await.map_err(internal)?.map(Network)),
            None => Ok(None),
        }
    }
    /// The partner kind, when grouping by `PARTNER_KIND`.
    async fn partner_kind(&self) -> Option<PartnerKind> {
        self.partner_kind
    }
    /// The territory, when grouping by one of the `TERRITORY_…` levels.
    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        match self.territory {
            Some(id) => Ok(loaders(ctx)
                .territory
                .load_one(id)
                .await
                .map_err(internal)?
                .map(Territory)),
            None => Ok(None),
        }
    }
    /// The start year, when grouping by `YEAR`.
    async fn year(&self) -> Option<i64> {
        self.year
    }
}

/// Counts and sums over one group of actions.
#[derive(SimpleObject)]
pub struct ActionStatsGroup {
    /// Which group.
    key: ActionStatsKey,
    /// How many actions.
    count: i64,
    /// Sum of their budgets, in euros (actions without a budget add nothing).
    budget_sum: f64,
    /// Sum of their beneficiaries.
    beneficiaries_sum: i64,
    /// Sum of the contributions of all their participants, in euros.
    contribution_sum: f64,
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Counts, budgets, beneficiaries and contributions of the shared actions `filter` keeps, grouped by `groupBy` (none: one group of all). Groups come sorted by their keys.
    async fn action_stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which actions count.")] filter: Option<ActionFilter>,
        #[graphql(desc = "Dimensions to group by, in order (at most 4).", default)] group_by: Vec<ActionStatsDimension>,
    ) -> Result<Vec<ActionStatsGroup>> {
        if group_by.len() > 4 {
            return Err(super::error::bad_input("`groupBy`: at most 4 dimensions"));
        }
        let cond = filter
            .map(|f| f.condition(&Reading::of(ctx)))
            .transpose()?
            .unwrap_or_else(sea_orm::Condition::all);
        let dims: Vec<Dimension> = group_by.iter().map(|d| d.storage()).collect();
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let rows = stats::action_stats(db, &scope(ctx), cond, &dims)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut key = ActionStatsKey::default();
                for (d, v) in group_by.iter().zip(r.key) {
                    use ActionStatsDimension as D;
                    match (d, v) {
                        (D::Theme, KeyValue::Text(s)) => key.theme = s.as_deref().and_then(Theme::parse),
                        (D::Status, KeyValue::Text(s)) => key.status = s.as_deref().and_then(ActionStatus::parse),
                        (D::PartnerKind, KeyValue::Text(s)) => {
                            key.partner_kind = s.as_deref().and_then(PartnerKind::parse)
                        }
                        (D::Network, KeyValue::Id(id)) => key.network = id,
                        (D::Year, KeyValue::Int(y)) => key.year = y,
                        (_, KeyValue::Id(id)) => key.territory = id,
                        _ => {}
                    }
                }
                ActionStatsGroup {
                    key,
                    count: r.count,
                    budget_sum: r.budget_cents.unwrap_or(0) as f64 / 100.0,
                    beneficiaries_sum: r.beneficiaries.unwrap_or(0),
                    contribution_sum: r.contribution_cents.unwrap_or(0) as f64 / 100.0,
                }
            })
            .collect())
    }
}
