//! `Territory`: the administrative tree.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

use super::{Action, ActionConnection, Network, NetworkConnection, Partner, PartnerConnection, Stamps};
use crate::api::graphql::connection::node_connection;
use crate::api::graphql::error::internal;
use crate::api::graphql::filters::*;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::nested::{col, listed, nested_page, node_pages, reference};
use crate::api::graphql::prefetch::prefetch;
use crate::api::graphql::request::{loaders, scope};
use crate::api::graphql::write::{Decoder, IntoEdit, UserError, delete_input, nullable, payloads, record_id};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::list::{Parent, Slice, Sort};

// ---------------------------------------------------------------- territory

/// A territory of the administrative tree: region › department › EPCI
/// (établissement public de coopération intercommunale: an
/// intercommunality) › commune › district, or QPV (quartier prioritaire de
/// la politique de la ville: a priority neighbourhood of the urban policy).
#[derive(Clone)]
pub struct Territory(pub territory::Model);

node_connection!(TerritoryConnection, TerritoryEdge, Territory, "territory");
listed!(Territory: territory, TerritoryFilter, TerritoryOrder, TerritoryConnection, territory_lists, prefetch_territories;);

/// A territory of the administrative tree: region › department › EPCI
/// (établissement public de coopération intercommunale: an
/// intercommunality) › commune › district, or QPV (quartier prioritaire de
/// la politique de la ville: a priority neighbourhood of the urban policy).
#[Object(serial)]
impl Territory {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Territory, self.0.id)
    }
    /// The external id the territory has in bundles (e.g. `com-57306`).
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its rank in the tree.
    async fn kind(&self) -> TerritoryKind {
        self.0.kind
    }
    /// Official code: INSEE COG for regions, departments and communes, SIREN for an EPCI, the QPV code for a QPV.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Inhabitants.
    async fn population(&self) -> Option<i64> {
        self.0.population
    }
    /// Latitude of its centroid (WGS84).
    async fn lat(&self) -> Option<f64> {
        self.0.lat
    }
    /// Longitude of its centroid (WGS84).
    async fn lon(&self) -> Option<f64> {
        self.0.lon
    }
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
    }
    /// The enclosing territory.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        reference!(ctx, territory, self.0.parent_id, Territory)
    }
    /// Every enclosing territory, the widest (region) first.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).territory_lists,
            self.0.id,
            "Territory.ancestors",
            vec![Sort::column("\"w_pairs\".\"depth\"", true, false)],
            Slice {
                first: Some(32),
                ..Slice::default()
            },
            move |ids| {
                (
                    scope.select::<territory::Entity>(),
                    ancestry_pairs(ids, "territory_id", "ancestor_id"),
                )
            },
        )
        .await?;
        Ok(g.rows.into_iter().map(Territory).collect())
    }
    /// The nested pages of plain rows (see `TerritoryPages`).
    #[graphql(flatten)]
    async fn pages(&self) -> TerritoryPages {
        TerritoryPages(self.0.id)
    }
}

/// Pairs `(k, id)` from the territory closure: `k` in `ids` from column
/// `key`, `id` from column `value`, self excluded.
fn ancestry_pairs(ids: &[i64], key: &str, value: &str) -> Parent {
    let ta = Alias::new("territory_ancestors");
    Parent::Pairs(Box::new(
        Query::select()
            .expr_as(Expr::col((ta.clone(), Alias::new(key))), Alias::new("k"))
            .expr_as(Expr::col((ta.clone(), Alias::new(value))), Alias::new("id"))
            .column((ta.clone(), Alias::new("depth")))
            .from(ta.clone())
            .and_where(Expr::col((ta.clone(), Alias::new(key))).is_in(ids.iter().copied()))
            .and_where(Expr::col((ta, Alias::new("depth"))).gt(0))
            .to_owned(),
    ))
}

/// Pairs `(territory k, record id)` for the rows of `table` whose
/// `territory_col` is one of `ids` or, with `descendants`, lies inside one
/// of them. `DISTINCT`: a record in two communes of one EPCI is listed once.
fn within_pairs(ids: &[i64], descendants: bool, table: &str, territory_col: &str, id_col: &str) -> Parent {
    let t = Alias::new(table);
    let mut q = Query::select();
    q.distinct().from(t.clone());
    if descendants {
        let ta = Alias::new("territory_ancestors");
        q.expr_as(Expr::col((ta.clone(), Alias::new("ancestor_id"))), Alias::new("k"))
            .inner_join(
                ta.clone(),
                Expr::col((ta.clone(), Alias::new("territory_id"))).equals((t.clone(), Alias::new(territory_col))),
            )
            .and_where(Expr::col((ta, Alias::new("ancestor_id"))).is_in(ids.iter().copied()));
    } else {
        q.expr_as(Expr::col((t.clone(), Alias::new(territory_col))), Alias::new("k"))
            .and_where(Expr::col((t.clone(), Alias::new(territory_col))).is_in(ids.iter().copied()));
    }
    q.expr_as(Expr::col((t, Alias::new(id_col))), Alias::new("id"));
    Parent::Pairs(Box::new(q))
}

/// The references of a page of territories: their parents.
pub async fn prefetch_territories<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m territory::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "parent", &loaders(ctx).territory, rows.map(|t| t.parent_id)).await
}

// ---------------------------------------------------------------- mutations

/// A new territory.
#[derive(InputObject)]
pub struct CreateTerritoryInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among territories.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its rank in the tree.
    kind: TerritoryKind,
    /// Official code (INSEE, SIREN or QPV code), unique among territories of its kind.
    code: Option<String>,
    /// Its name (not empty).
    name: String,
    /// The enclosing territory, of a higher rank.
    parent_id: Option<ID>,
    /// Inhabitants (not negative).
    population: Option<i64>,
    /// Latitude of its centroid (WGS84, at most 90 degrees either way).
    lat: Option<f64>,
    /// Longitude of its centroid (WGS84, at most 180 degrees either way).
    lon: Option<f64>,
}

impl IntoEdit for CreateTerritoryInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Territory(TerritoryPatch {
            r#ref: Some(self.r#ref),
            kind: Some(self.kind),
            code: Some(self.code),
            name: Some(self.name),
            parent_id: Some(d.opt(Kind::Territory, "parentId", &self.parent_id)),
            population: Some(self.population),
            lat: Some(self.lat),
            lon: Some(self.lon),
        }))
    }
}

/// Changes to a territory: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateTerritoryInput {
    /// The territory.
    id: ID,
    /// The `version` the change was made from; if the territory has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new rank (still below its parent's and above its children's).
    kind: Option<TerritoryKind>,
    /// A new official code; `null` clears it.
    code: MaybeUndefined<String>,
    /// A new name.
    name: Option<String>,
    /// A new enclosing territory (moving it, and all it contains); `null` makes it a root.
    parent_id: MaybeUndefined<ID>,
    /// A new population; `null` clears it.
    population: MaybeUndefined<i64>,
    /// A new latitude; `null` clears it.
    lat: MaybeUndefined<f64>,
    /// A new longitude; `null` clears it.
    lon: MaybeUndefined<f64>,
}

impl IntoEdit for UpdateTerritoryInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Territory, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Territory(TerritoryPatch {
                r#ref: self.r#ref,
                kind: self.kind,
                code: nullable(self.code),
                name: self.name,
                parent_id: d.nullable(Kind::Territory, "parentId", &self.parent_id),
                population: nullable(self.population),
                lat: nullable(self.lat),
                lon: nullable(self.lon),
            }),
        }
    }
}

delete_input!(
    /// The territory to delete.
    DeleteTerritoryInput, "delete" "territory": Territory, Territory);

payloads!(territory: Territory <- Territory;
    CreateTerritoryPayload "createTerritory", UpdateTerritoryPayload "updateTerritory", DeleteTerritoryPayload "deleteTerritory" -> deleted_territory_id);

node_pages! {
    TerritoryPages {
        /// The territories directly inside this one.
        children "Territory.children" -> TerritoryConnection of Territory: TerritoryFilter, TerritoryOrder =>
            |_| col("territories", "parent_id");
        /// Every territory inside this one, at any depth.
        descendants "Territory.descendants" -> TerritoryConnection of Territory: TerritoryFilter, TerritoryOrder =>
            |ids| ancestry_pairs(ids, "ancestor_id", "territory_id");
        /// Partners whose seat is this territory (or, with `includeDescendants`, a territory inside it).
        partners_based "Territory.partnersBased" -> PartnerConnection of Partner: PartnerFilter, PartnerOrder, include_descendants: bool = "Count territories inside this one too." =>
            move |ids| within_pairs(ids, include_descendants, "partners", "territory_id", "id");
        /// Partners that declare serving this territory (or, with `includeDescendants`, a territory inside it: a partner serving a commune is found from its intercommunality).
        partners_serving "Territory.partnersServing" -> PartnerConnection of Partner: PartnerFilter, PartnerOrder, include_descendants: bool = "Count territories inside this one too." =>
            move |ids| {
                within_pairs(
                    ids,
                    include_descendants,
                    "partner_territories",
                    "territory_id",
                    "partner_id",
                )
            };
        /// Shared actions taking place in this territory (or, with `includeDescendants`, inside it).
        actions "Territory.actions" -> ActionConnection of Action: ActionFilter, ActionOrder, include_descendants: bool = "Count territories inside this one too." =>
            move |ids| {
                within_pairs(
                    ids,
                    include_descendants,
                    "action_territories",
                    "territory_id",
                    "action_id",
                )
            };
        /// Networks whose territory is this one (or, with `includeDescendants`, a territory inside it).
        networks "Territory.networks" -> NetworkConnection of Network: NetworkFilter, NetworkOrder, include_descendants: bool = "Count territories inside this one too." =>
            move |ids| within_pairs(ids, include_descendants, "networks", "territory_id", "id");
    }
}
