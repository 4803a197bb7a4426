//! Graph analytics fields: neighbourhoods, paths, the network map,
//! centralities, communities, brokers and gaps.
//!
//! Answers come from the in-memory projection (`domain::graph`), computed
//! for the request's scope; heavy ones (maps, centralities) run on a
//! blocking thread so they do not hold up the async workers. Every list
//! field has a `limit`/`first` and costs that many times what it selects.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use sea_orm::DatabaseConnection;

use super::connection::page_cost;
use super::error::{bad_input, internal};
use super::filters::TerritoryScope;
use super::ids::{self, Kind};
use super::request::loaders;
use super::scalars::Date;
use super::types::{Partner, Territory};
use crate::domain::graph::{self as g, Centrality, Graph, Layout, Via};
use crate::model::*;
use crate::storage::Scope;

/// Links and partners a graph question is about. Everything is optional: no filter is the whole network the viewer sees.
#[derive(InputObject, Debug, Clone, Default)]
pub struct GraphFilter {
    /// Which links count as edges (default: all three).
    pub via: Option<Vec<Via>>,
    /// The network as of this day: memberships and relations by their dates, networks and actions by their start and end. Default: every link ever recorded.
    pub as_of: Option<Date>,
    /// Partners based in or serving this territory (and what lies inside it unless `includeDescendants` is false).
    pub territory: Option<TerritoryScope>,
    /// Partners of these kinds only.
    pub partner_kinds: Option<Vec<PartnerKind>>,
    /// Co-participation in actions of these themes only; the partners drawn are those taking part in one.
    pub themes: Option<Vec<Theme>>,
    /// Co-membership in these networks (global ids) only; the partners drawn are their members.
    pub networks: Option<Vec<ID>>,
}

impl GraphFilter {
    async fn domain(&self, ctx: &Context<'_>) -> Result<g::Filter> {
        let territories = match &self.territory {
            Some(t) => Some(territory_ids(ctx, t).await?),
            None => None,
        };
        Ok(g::Filter {
            via: self.via.clone().unwrap_or_default(),
            as_of: self.as_of.map(|d| d.0),
            partner_kinds: self.partner_kinds.as_ref().map(|k| k.iter().copied().collect()),
            territories,
            themes: self.themes.as_ref().map(|t| t.iter().copied().collect()),
            networks: match &self.networks {
                Some(n) => Some(
                    ids::expect_all(Kind::Network, "filter.networks", n)?
                        .into_iter()
                        .collect(),
                ),
                None => None,
            },
        })
    }
}

/// The territories a scope names; an unknown territory is an error, not an empty map.
async fn territory_ids(ctx: &Context<'_>, t: &TerritoryScope) -> Result<std::collections::HashSet<i64>> {
    let set = crate::storage::graph::territory_ids(db(ctx), &t.set()?)
        .await
        .map_err(internal)?;
    if set.is_empty() {
        return Err(bad_input("`territory`: no territory has this id"));
    }
    Ok(set)
}

fn db<'a>(ctx: &'a Context<'_>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn scope(ctx: &Context<'_>) -> Scope {
    ctx.data_opt::<Scope>().cloned().unwrap_or_default()
}

async fn projection(ctx: &Context<'_>) -> Result<Arc<g::Projection>> {
    let graph = ctx
        .data::<Graph>()
        .map_err(|_| internal("no graph projection in the schema data"))?;
    graph.snapshot().await.map_err(internal)
}

/// Runs a CPU-heavy question off the async workers, in the graph's
/// bounded pools (see `Graph::compute`).
async fn blocking<T: Send + 'static>(
    ctx: &Context<'_>,
    work: g::Work,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let graph = ctx
        .data::<Graph>()
        .map_err(|_| internal("no graph projection in the schema data"))?;
    graph.compute(work, f).await.map_err(internal)
}

fn range(name: &str, v: i32, lo: i32, hi: i32) -> Result<usize> {
    if v < lo || v > hi {
        return Err(bad_input(format!("`{name}` must be between {lo} and {hi}, not {v}")));
    }
    Ok(v as usize)
}

/// A partner in a graph answer.
#[derive(Clone)]
pub struct GraphNode {
    node: g::NodeInfo,
    distance: Option<u32>,
}

/// A partner in a graph answer.
#[Object]
impl GraphNode {
    /// The partner's global id (the same as `Partner.id`).
    async fn id(&self) -> ID {
        ids::encode(Kind::Partner, self.node.id)
    }
    /// The partner record.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        Ok(loaders(ctx)
            .partner
            .load_one(self.node.id)
            .await
            .map_err(internal)?
            .map(Partner::from))
    }
    /// The partner's external id.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.node.r#ref
    }
    /// The partner's name.
    async fn label(&self) -> &str {
        &self.node.label
    }
    /// The partner's kind.
    async fn kind(&self) -> PartnerKind {
        self.node.kind
    }
    /// In a neighbourhood: how many links away from the centre (0 for the centre itself); otherwise null.
    async fn distance(&self) -> Option<u32> {
        self.distance
    }
}

fn node(n: &g::NodeInfo) -> GraphNode {
    GraphNode {
        node: n.clone(),
        distance: None,
    }
}

/// One thing that links two partners.
#[derive(SimpleObject)]
pub struct LinkReason {
    /// Relation, co-membership or co-participation.
    via: Via,
    /// The global id of the relation (`PartnerRelation`), network or action.
    record: ID,
    /// The network's name, the action's title, or the relation's kind.
    label: String,
    /// The relation's kind, the network's kind or the action's theme.
    detail: String,
    /// Since when: the relation's start, the later of the two memberships' starts (else the network's), the action's start.
    since: Option<Date>,
    /// Until when, if it ended or ends.
    until: Option<Date>,
    /// What it adds to the edge's weight (a relation its own weight, anything else 1).
    weight: f64,
}

/// A link between two partners of a graph answer, with why they are linked.
///
/// Holds the links by reference and the projection they come from: the
/// sentences and reasons are spelled out only when selected (a map has
/// hundreds of thousands of edges).
pub struct GraphEdge {
    p: Arc<g::Projection>,
    e: g::Edge,
}

/// A link between two partners of a graph answer, with why they are linked.
#[Object]
impl GraphEdge {
    /// One end (the partner with the smaller id): its global id.
    async fn source(&self) -> ID {
        ids::encode(Kind::Partner, self.e.a)
    }
    /// The other end: its global id.
    async fn target(&self) -> ID {
        ids::encode(Kind::Partner, self.e.b)
    }
    /// The strongest kind of link between them.
    async fn kind(&self) -> Via {
        self.e.kinds(&self.p)[0]
    }
    /// Every kind of link between them, strongest first.
    async fn kinds(&self) -> Vec<Via> {
        self.e.kinds(&self.p)
    }
    /// How much links them: each relation its weight, each shared network or action 1.
    async fn weight(&self) -> f64 {
        self.e.weight
    }
    /// Why they are linked, in sentences ("both sit in CISPD du Val de Fensch since 2019", "co-run 3 actions on youth").
    async fn why(&self) -> Vec<String> {
        self.e.why(&self.p)
    }
    /// Why they are linked, record by record.
    async fn reasons(&self) -> Vec<LinkReason> {
        self.e
            .reasons(&self.p)
            .into_iter()
            .map(|r| LinkReason {
                via: r.via,
                record: ids::encode(
                    match r.via {
                        Via::Relation => Kind::Relation,
                        Via::Network => Kind::Network,
                        Via::Action => Kind::Action,
                    },
                    r.record,
                ),
                label: r.label,
                detail: r.detail,
                since: r.since.map(Date),
                until: r.until.map(Date),
                weight: r.weight,
            })
            .collect()
    }
}

fn edges(p: &Arc<g::Projection>, es: Vec<g::Edge>) -> Vec<GraphEdge> {
    es.into_iter().map(|e| GraphEdge { p: p.clone(), e }).collect()
}

/// The partners around one, and the edges between them.
#[derive(SimpleObject)]
pub struct Neighbourhood {
    /// The partners, the centre first, then by distance.
    nodes: Vec<GraphNode>,
    /// Every edge among these partners.
    edges: Vec<GraphEdge>,
    /// Whether `limit` cut the answer short.
    truncated: bool,
}

/// A way from one partner to another.
#[derive(SimpleObject)]
pub struct GraphPath {
    /// How many links long.
    length: i32,
    /// The partners on the way, from the first to the last.
    nodes: Vec<GraphNode>,
    /// For each step, the edge between consecutive partners and why they are linked.
    steps: Vec<GraphEdge>,
}

fn path(proj: &Arc<g::Projection>, p: g::PathAnswer) -> GraphPath {
    GraphPath {
        length: p.steps.len() as i32,
        nodes: p.nodes.iter().map(node).collect(),
        steps: edges(proj, p.steps),
    }
}

/// A partner placed on the map.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct MapNode {
    /// The partner's global id.
    id: ID,
    /// The partner's external id.
    #[graphql(name = "ref")]
    r#ref: String,
    /// The partner's name.
    label: String,
    /// The partner's kind.
    kind: PartnerKind,
    /// Radius to draw it with (4 to 24), from the centrality chosen by `sizeBy`.
    size: f64,
    /// The value of that centrality.
    centrality: f64,
    /// Horizontal position, 0 to 1000.
    x: f64,
    /// Vertical position, 0 to 1000 (downwards, as in SVG).
    y: f64,
    /// Its community (Louvain), numbered from 0 by decreasing size.
    community: i32,
    /// How many partners of the map it is linked to.
    degree: i32,
    #[graphql(skip)]
    partner_id: i64,
}

#[async_graphql::ComplexObject]
impl MapNode {
    /// The partner record.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        Ok(loaders(ctx)
            .partner
            .load_one(self.partner_id)
            .await
            .map_err(internal)?
            .map(Partner::from))
    }
}

/// A map of the partner network, laid out by the server: draw `nodes` at `(x, y)` with radius `size`, colour by `kind` or `community`, and draw `edges` between `source` and `target`.
#[derive(SimpleObject)]
pub struct NetworkMap {
    /// The partners drawn.
    nodes: Vec<MapNode>,
    /// The edges among them.
    edges: Vec<GraphEdge>,
    /// Partners that matched the filter (more than `nodes` when `limit` cut: the most central are drawn).
    total: i32,
    /// The number of communities among the partners drawn.
    communities: i32,
    /// The modularity of those communities (-0.5 to 1; above 0.3 is a clear structure).
    modularity: f64,
    /// The layout used.
    layout: Layout,
    /// The seed used: the same filter, layout and seed give the same positions.
    seed: i64,
    /// The centrality the sizes come from.
    size_by: Centrality,
    /// When sizing by betweenness: whether it was exact (else sampled).
    betweenness_exact: bool,
}

/// A partner's centralities.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PartnerScores {
    /// The partner's global id.
    id: ID,
    /// The partner's name.
    label: String,
    /// The partner's kind.
    kind: PartnerKind,
    /// Partners linked to.
    degree: i32,
    /// Sum of the weights of its links.
    weighted_degree: f64,
    /// Share of the shortest paths between other partners that pass through it (0 to 1; sampled on large graphs: see `betweennessExact`).
    betweenness: f64,
    /// PageRank (all partners sum to 1).
    pagerank: f64,
    /// Its community (Louvain), numbered from 0 by decreasing size.
    community: i32,
    #[graphql(skip)]
    partner_id: i64,
}

#[async_graphql::ComplexObject]
impl PartnerScores {
    /// The partner record.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        Ok(loaders(ctx)
            .partner
            .load_one(self.partner_id)
            .await
            .map_err(internal)?
            .map(Partner::from))
    }
}

/// Centralities of the partners a filter keeps.
#[derive(SimpleObject)]
pub struct CentralityReport {
    /// The most central partners first, by `orderBy` (ties by id).
    partners: Vec<PartnerScores>,
    /// How many partners were ranked.
    total: i32,
    /// Whether betweenness is exact (every partner a source) or estimated from a sample.
    betweenness_exact: bool,
    /// How many source partners the betweenness was computed from.
    betweenness_samples: i32,
    /// Modularity of the communities.
    modularity: f64,
    /// The number of communities.
    communities: i32,
}

/// A community: partners more linked among themselves than with the rest.
#[derive(SimpleObject)]
pub struct CommunityGroup {
    /// Its number (0 is the largest).
    id: i32,
    /// How many partners it has.
    size: i32,
    /// Its partners, the most linked first (at most `membersFirst`).
    members: Vec<GraphNode>,
}

/// Communities of the network (Louvain method).
#[derive(SimpleObject)]
pub struct CommunityReport {
    /// Modularity of the partition (-0.5 to 1).
    modularity: f64,
    /// How many communities there are.
    count: i32,
    /// The largest communities first (at most `first`).
    communities: Vec<CommunityGroup>,
}

/// A partner whose absence splits the network.
#[derive(SimpleObject)]
pub struct BrokerPartner {
    /// The partner.
    node: GraphNode,
    /// Into how many pieces its part of the network falls without it.
    pieces: i32,
}

/// Brokers: articulation points and bridges.
#[derive(SimpleObject)]
pub struct Brokers {
    /// Partners whose absence splits the network, those splitting it most first.
    partners: Vec<BrokerPartner>,
    /// Links whose removal splits the network.
    bridges: Vec<GraphEdge>,
}

/// What is missing in a territory.
#[derive(SimpleObject)]
pub struct Gaps {
    /// Partners of the territory (and the filter) with no link to another one of them.
    isolated_partners: Vec<GraphNode>,
    /// Territories of `territoryKind` with no active action (of `theme`, if given) run in them or in a territory containing them.
    territories_without_action: Vec<Territory>,
    /// Territories of `territoryKind` that no partner of `partnerKind` is based in or serves (directly or from a territory containing them); empty without `partnerKind`.
    territories_without_partner_kind: Vec<Territory>,
}

/// Graph analytics: how partners are linked, who is central, where the holes are.
#[derive(Default)]
pub struct GraphQuery;

#[Object]
impl GraphQuery {
    /// The partners around one, up to `depth` links away, with the edges among them. Null when the partner is unknown or not visible.
    #[graphql(complexity = "page_cost(Some(limit), None, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn neighbourhood(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner at the centre (global id).")] partner: ID,
        #[graphql(desc = "How many links away, 1 to 3.", default = 1)] depth: i32,
        #[graphql(desc = "Which links count (default: all).")] via: Option<Vec<Via>>,
        #[graphql(desc = "Neighbours of these kinds only.")] partner_kinds: Option<Vec<PartnerKind>>,
        #[graphql(desc = "Neighbours based in or serving this territory only.")] territory: Option<TerritoryScope>,
        #[graphql(desc = "The network as of this day.")] as_of: Option<Date>,
        #[graphql(desc = "At most this many partners (1 to 20000).", default = 500)] limit: i32,
    ) -> Result<Option<Neighbourhood>> {
        let depth = range("depth", depth, 1, 3)? as u32;
        let limit = range("limit", limit, 1, 20_000)?;
        let center = ids::expect(Kind::Partner, "partner", &partner)?;
        let filter = GraphFilter {
            via,
            as_of,
            territory,
            partner_kinds,
            ..Default::default()
        }
        .domain(ctx)
        .await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        // The edges among hundreds of partners are most of the work: only
        // when they are selected.
        let with_edges = ctx.look_ahead().field("edges").exists();
        let proj = p.clone();
        let n = blocking(ctx, g::Work::Walk, move || {
            g::neighbourhood(&proj, &s, &filter, center, depth, limit, with_edges)
        })
        .await?;
        Ok(n.map(|n| Neighbourhood {
            nodes: n
                .nodes
                .iter()
                .map(|(i, d)| GraphNode {
                    node: i.clone(),
                    distance: Some(*d),
                })
                .collect(),
            edges: edges(&p, n.edges),
            truncated: n.truncated,
        }))
    }

    /// A shortest way (fewest links) from one partner to another, with why each step is linked. Null when they are not connected (or either is not visible).
    #[graphql(complexity = "page_cost(Some(10), None, child_complexity)")]
    async fn shortest_path(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where the path starts (a partner's global id).")] from: ID,
        #[graphql(desc = "Where it ends.")] to: ID,
        #[graphql(desc = "Which links count (default: all).")] via: Option<Vec<Via>>,
        #[graphql(desc = "The network as of this day.")] as_of: Option<Date>,
    ) -> Result<Option<GraphPath>> {
        let (a, b) = (
            ids::expect(Kind::Partner, "from", &from)?,
            ids::expect(Kind::Partner, "to", &to)?,
        );
        let filter = GraphFilter {
            via,
            as_of,
            ..Default::default()
        }
        .domain(ctx)
        .await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let proj = p.clone();
        let r = blocking(ctx, g::Work::Walk, move || g::shortest_path(&proj, &s, &filter, a, b)).await?;
        Ok(r.map(|r| path(&p, r)))
    }

    /// Up to `max` alternative ways from one partner to another, shortest first (simple paths, Yen's algorithm).
    #[graphql(complexity = "page_cost(Some(max.saturating_mul(10)), None, child_complexity)")]
    async fn paths(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where the paths start (a partner's global id).")] from: ID,
        #[graphql(desc = "Where they end.")] to: ID,
        #[graphql(desc = "How many paths at most, 1 to 10.", default = 3)] max: i32,
        #[graphql(desc = "Which links count (default: all).")] via: Option<Vec<Via>>,
        #[graphql(desc = "The network as of this day.")] as_of: Option<Date>,
    ) -> Result<Vec<GraphPath>> {
        let k = range("max", max, 1, 10)?;
        let (a, b) = (
            ids::expect(Kind::Partner, "from", &from)?,
            ids::expect(Kind::Partner, "to", &to)?,
        );
        let filter = GraphFilter {
            via,
            as_of,
            ..Default::default()
        }
        .domain(ctx)
        .await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let proj = p.clone();
        let r = blocking(ctx, g::Work::Walk, move || g::paths(&proj, &s, &filter, a, b, k)).await?;
        Ok(r.into_iter().map(|r| path(&p, r)).collect())
    }

    /// A map of the partner network, laid out on the server (deterministic for a seed), with sizes from a centrality and Louvain communities: ready to draw.
    #[graphql(complexity = "page_cost(Some(limit), None, child_complexity)")]
    async fn network_map(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which partners and links to draw (default: all the viewer sees).")] filter: Option<
            GraphFilter,
        >,
        #[graphql(desc = "How to place the partners.", default_with = "Layout::Force")] layout: Layout,
        #[graphql(desc = "Seed of the layout's starting positions.", default = 1)] seed: i64,
        #[graphql(
            desc = "At most this many partners, the most central by `sizeBy` (1 to 20000).",
            default = 2000
        )]
        limit: i32,
        #[graphql(desc = "The centrality node sizes come from.", default_with = "Centrality::Degree")]
        size_by: Centrality,
    ) -> Result<NetworkMap> {
        let limit = range("limit", limit, 1, 20_000)?;
        let filter = filter.unwrap_or_default().domain(ctx).await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let opts = g::MapOptions {
            layout,
            seed: seed as u64,
            limit,
            size_by,
        };
        let proj = p.clone();
        let m = blocking(ctx, g::Work::Whole, move || g::network_map(&proj, &s, &filter, opts)).await?;
        Ok(map_answer(&p, m))
    }

    /// Degree, weighted degree, betweenness, PageRank and community of every partner a filter keeps, the most central first.
    #[graphql(complexity = "page_cost(Some(first), None, child_complexity)")]
    async fn centralities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which partners and links count.")] filter: Option<GraphFilter>,
        #[graphql(desc = "The centrality to rank by.", default_with = "Centrality::Pagerank")] order_by: Centrality,
        #[graphql(desc = "How many partners to return (1 to 1000).", default = 20)] first: i32,
    ) -> Result<CentralityReport> {
        let first = range("first", first, 1, 1000)?;
        let filter = filter.unwrap_or_default().domain(ctx).await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let r = blocking(ctx, g::Work::Whole, move || g::centralities(&p, &s, &filter, order_by)).await?;
        Ok(CentralityReport {
            partners: r
                .partners
                .iter()
                .take(first)
                .map(|x| PartnerScores {
                    id: ids::encode(Kind::Partner, x.node.id),
                    label: x.node.label.clone(),
                    kind: x.node.kind,
                    degree: x.degree as i32,
                    weighted_degree: x.weighted_degree,
                    betweenness: x.betweenness,
                    pagerank: x.pagerank,
                    community: x.community as i32,
                    partner_id: x.node.id,
                })
                .collect(),
            total: r.total as i32,
            betweenness_exact: r.betweenness_exact,
            betweenness_samples: r.samples as i32,
            modularity: r.modularity,
            communities: r.communities as i32,
        })
    }

    /// Communities of the network (Louvain method on the weighted links).
    #[graphql(complexity = "page_cost(Some(first.saturating_mul(members_first)), None, child_complexity)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which partners and links count.")] filter: Option<GraphFilter>,
        #[graphql(desc = "How many communities to return, the largest first (1 to 500).", default = 20)] first: i32,
        #[graphql(desc = "How many members of each to return (1 to 1000).", default = 20)] members_first: i32,
    ) -> Result<CommunityReport> {
        let first = range("first", first, 1, 500)?;
        let members_first = range("membersFirst", members_first, 1, 1000)?;
        let filter = filter.unwrap_or_default().domain(ctx).await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let (cs, q) = blocking(ctx, g::Work::Whole, move || g::communities(&p, &s, &filter)).await?;
        Ok(CommunityReport {
            modularity: q,
            count: cs.len() as i32,
            communities: cs
                .iter()
                .take(first)
                .map(|c| CommunityGroup {
                    id: c.id as i32,
                    size: c.members.len() as i32,
                    members: c.members.iter().take(members_first).map(node).collect(),
                })
                .collect(),
        })
    }

    /// Brokers: partners whose absence would split the network (articulation points) and links whose loss would (bridges).
    #[graphql(complexity = "page_cost(Some(first), None, child_complexity)")]
    async fn brokers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which partners and links count.")] filter: Option<GraphFilter>,
        #[graphql(desc = "How many partners and bridges to return at most (1 to 5000).", default = 100)] first: i32,
    ) -> Result<Brokers> {
        let first = range("first", first, 1, 5000)?;
        let filter = filter.unwrap_or_default().domain(ctx).await?;
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let proj = p.clone();
        let b = blocking(ctx, g::Work::Whole, move || g::brokers(&proj, &s, &filter)).await?;
        Ok(Brokers {
            partners: b
                .partners
                .iter()
                .take(first)
                .map(|(n, k)| BrokerPartner {
                    node: node(n),
                    pieces: *k as i32,
                })
                .collect(),
            bridges: edges(&p, b.bridges.into_iter().take(first).collect()),
        })
    }

    /// Holes in a territory: partners with no link there, and territories (QPVs by default) with no active action on a theme or no partner of a kind.
    #[graphql(complexity = "page_cost(Some(first), None, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn gaps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The territory looked at.")] territory: TerritoryScope,
        #[graphql(
            desc = "The kind of territories checked for actions and partners.",
            default_with = "TerritoryKind::Qpv"
        )]
        territory_kind: TerritoryKind,
        #[graphql(desc = "Only actions of this theme count.")] theme: Option<Theme>,
        #[graphql(desc = "The kind of partner each territory should have.")] partner_kind: Option<PartnerKind>,
        #[graphql(desc = "Which links count for isolation (default: all).")] via: Option<Vec<Via>>,
        #[graphql(desc = "Links as of this day.")] as_of: Option<Date>,
        #[graphql(desc = "At most this many items per list (1 to 5000).", default = 100)] first: i32,
    ) -> Result<Gaps> {
        let first = range("first", first, 1, 5000)?;
        let set = territory_ids(ctx, &territory).await?;
        let filter = g::Filter {
            via: via.unwrap_or_default(),
            as_of: as_of.map(|d| d.0),
            territories: Some(set.clone()),
            ..Default::default()
        };
        let (p, s) = (projection(ctx).await?, scope(ctx));
        let s2 = s.clone();
        let isolated = blocking(ctx, g::Work::Whole, move || g::isolated(&p, &s2, &filter)).await?;
        let without_action =
            crate::storage::graph::territories_without_action(db(ctx), &s, &set, territory_kind, theme)
                .await
                .map_err(internal)?;
        let without_kind = match partner_kind {
            Some(k) => crate::storage::graph::territories_without_partner_kind(db(ctx), &s, &set, territory_kind, k)
                .await
                .map_err(internal)?,
            None => vec![],
        };
        Ok(Gaps {
            isolated_partners: isolated.iter().take(first).map(node).collect(),
            territories_without_action: territories(ctx, &without_action, first).await?,
            territories_without_partner_kind: territories(ctx, &without_kind, first).await?,
        })
    }
}

async fn territories(ctx: &Context<'_>, ids: &[i64], first: usize) -> Result<Vec<Territory>> {
    let ids: Vec<i64> = ids.iter().take(first).copied().collect();
    let found = loaders(ctx).territory.load_many(ids.clone()).await.map_err(internal)?;
    Ok(ids
        .iter()
        .filter_map(|i| found.get(i).cloned().map(Territory))
        .collect())
}

fn map_answer(p: &Arc<g::Projection>, m: g::NetworkMap) -> NetworkMap {
    NetworkMap {
        nodes: m
            .nodes
            .iter()
            .map(|n| MapNode {
                id: ids::encode(Kind::Partner, n.node.id),
                r#ref: n.node.r#ref.clone(),
                label: n.node.label.clone(),
                kind: n.node.kind,
                size: n.size,
                centrality: n.centrality,
                x: n.x,
                y: n.y,
                community: n.community as i32,
                degree: n.degree as i32,
                partner_id: n.node.id,
            })
            .collect(),
        edges: edges(p, m.edges),
        total: m.total as i32,
        communities: m.communities as i32,
        modularity: m.modularity,
        layout: m.options.layout,
        seed: m.options.seed as i64,
        size_by: m.options.size_by,
        betweenness_exact: m.betweenness_exact,
    }
}
