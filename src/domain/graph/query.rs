//! The questions asked of the graph, answered on one projection snapshot
//! for one viewer. Interfaces (GraphQL, the exports) only format these.

use std::collections::HashSet;

use super::algo::Analysis;
use super::projection::Projection;
use super::view::{Ctx, Edge, Filter};
use crate::model::PartnerKind;
use crate::storage::Scope;

/// Above this many partners, betweenness is estimated from a sample.
pub const BETWEENNESS_EXACT_LIMIT: usize = 2000;
/// Sources of the betweenness estimate.
pub const BETWEENNESS_SAMPLES: usize = 256;

/// A partner as the graph answers show it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub id: i64,
    pub r#ref: String,
    pub label: String,
    pub kind: PartnerKind,
}

fn info(p: &Projection, id: i64) -> NodeInfo {
    let r = &p.partners[&id];
    NodeInfo {
        id,
        r#ref: r.r#ref.clone(),
        label: r.name.clone(),
        kind: r.kind,
    }
}

/// What a centrality ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum Centrality {
    /// The number of partners linked to.
    Degree,
    /// The sum of the weights of the links.
    WeightedDegree,
    /// How often a partner lies on the shortest paths between others (exact on small graphs, sampled on large ones).
    Betweenness,
    /// PageRank over the weighted links (damping 0.85).
    Pagerank,
}

/// How a map is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "MapLayout")]
pub enum Layout {
    /// Fruchterman–Reingold force-directed layout, deterministic for a seed.
    Force,
    /// Partners on a circle, grouped by community.
    Circle,
}

#[derive(Debug, Clone)]
pub struct Neighbourhood {
    /// Partners and their distance (in links) from the centre, the centre first.
    pub nodes: Vec<(NodeInfo, u32)>,
    pub edges: Vec<Edge>,
    /// The node limit was reached.
    pub truncated: bool,
}

/// The partners around `center`, up to `depth` links away, and (when
/// `with_edges`) every edge among them. `None` when the viewer does not see
/// `center`.
pub fn neighbourhood(
    p: &Projection,
    scope: &Scope,
    filter: &Filter,
    center: i64,
    depth: u32,
    limit: usize,
    with_edges: bool,
) -> Option<Neighbourhood> {
    let ctx = Ctx::new(p, scope, filter);
    if !ctx.sees_partner(center) {
        return None;
    }
    let (nodes, truncated) = ctx.neighbourhood(center, depth, limit.max(1));
    let ids: Vec<i64> = nodes.iter().map(|n| n.0).collect();
    Some(Neighbourhood {
        edges: if with_edges { ctx.edges_among(&ids) } else { vec![] },
        nodes: nodes.into_iter().map(|(id, d)| (info(p, id), d)).collect(),
        truncated,
    })
}

/// A path: its partners, and for each step the edge (with its reasons).
#[derive(Debug, Clone)]
pub struct PathAnswer {
    pub nodes: Vec<NodeInfo>,
    pub steps: Vec<Edge>,
}

fn path_answer(ctx: &Ctx<'_>, ids: &[i64]) -> PathAnswer {
    PathAnswer {
        nodes: ids.iter().map(|&i| info(ctx.p, i)).collect(),
        steps: ids
            .windows(2)
            .map(|w| ctx.edge_between(w[0], w[1]).expect("a path step is an edge"))
            .collect(),
    }
}

/// Up to `k` shortest paths from `from` to `to` (fewest links first). Empty
/// when either end is not seen or they are not connected.
pub fn paths(p: &Projection, scope: &Scope, filter: &Filter, from: i64, to: i64, k: usize) -> Vec<PathAnswer> {
    let ctx = Ctx::new(p, scope, filter);
    if !ctx.sees_partner(from) || !ctx.sees_partner(to) {
        return vec![];
    }
    ctx.k_paths(from, to, k.max(1))
        .iter()
        .map(|ids| path_answer(&ctx, ids))
        .collect()
}

/// The shortest path, if any.
pub fn shortest_path(p: &Projection, scope: &Scope, filter: &Filter, from: i64, to: i64) -> Option<PathAnswer> {
    let ctx = Ctx::new(p, scope, filter);
    if !ctx.sees_partner(from) || !ctx.sees_partner(to) {
        return None;
    }
    let none = HashSet::new();
    ctx.shortest_path(from, to, &none, &HashSet::new())
        .map(|ids| path_answer(&ctx, &ids))
}

/// Every centrality of every partner of a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub node: NodeInfo,
    pub degree: f64,
    pub weighted_degree: f64,
    pub betweenness: f64,
    pub pagerank: f64,
    pub community: usize,
}

#[derive(Debug, Clone)]
pub struct CentralityReport {
    /// Sorted by the centrality asked, highest first (ties: by id).
    pub partners: Vec<Scores>,
    pub total: usize,
    /// Betweenness was computed from every partner (else from `samples`).
    pub betweenness_exact: bool,
    pub samples: usize,
    pub modularity: f64,
    pub communities: usize,
}

fn scores_of(p: &Projection, a: &Analysis, seed: u64) -> (Vec<Scores>, bool, usize, f64, usize) {
    let (deg, wdeg, pr) = (a.degree(), a.weighted_degree(), a.pagerank());
    let (bt, samples) = a.betweenness(BETWEENNESS_EXACT_LIMIT, BETWEENNESS_SAMPLES, seed);
    let (comm, q) = a.louvain();
    let count = comm.iter().max().map_or(0, |m| m + 1);
    let s = (0..a.len())
        .map(|i| Scores {
            node: info(p, a.nodes[i]),
            degree: deg[i],
            weighted_degree: wdeg[i],
            betweenness: bt[i],
            pagerank: pr[i],
            community: comm[i],
        })
        .collect();
    (s, samples == a.len(), samples, q, count)
}

fn value(s: &Scores, c: Centrality) -> f64 {
    match c {
        Centrality::Degree => s.degree,
        Centrality::WeightedDegree => s.weighted_degree,
        Centrality::Betweenness => s.betweenness,
        Centrality::Pagerank => s.pagerank,
    }
}

/// Centralities of the partners a filter keeps, ranked by `order`.
pub fn centralities(p: &Projection, scope: &Scope, filter: &Filter, order: Centrality) -> CentralityReport {
    let ctx = Ctx::new(p, scope, filter);
    let a = Analysis::build(&ctx, ctx.nodes());
    let (mut s, exact, samples, modularity, communities) = scores_of(p, &a, 1);
    s.sort_by(|x, y| {
        value(y, order)
            .total_cmp(&value(x, order))
            .then(x.node.id.cmp(&y.node.id))
    });
    CentralityReport {
        total: s.len(),
        partners: s,
        betweenness_exact: exact,
        samples,
        modularity,
        communities,
    }
}

/// A community and its members (by decreasing weighted degree).
#[derive(Debug, Clone)]
pub struct Community {
    pub id: usize,
    pub members: Vec<NodeInfo>,
}

pub fn communities(p: &Projection, scope: &Scope, filter: &Filter) -> (Vec<Community>, f64) {
    let ctx = Ctx::new(p, scope, filter);
    let a = Analysis::build(&ctx, ctx.nodes());
    let (comm, q) = a.louvain();
    let w = a.weighted_degree();
    let n = comm.iter().max().map_or(0, |m| m + 1);
    let mut out: Vec<Community> = (0..n).map(|id| Community { id, members: vec![] }).collect();
    let mut order: Vec<usize> = (0..a.len()).collect();
    order.sort_by(|&x, &y| w[y].total_cmp(&w[x]).then(a.nodes[x].cmp(&a.nodes[y])));
    for i in order {
        out[comm[i]].members.push(info(p, a.nodes[i]));
    }
    (out, q)
}

/// Partners whose absence splits the network, and links whose removal does.
#[derive(Debug, Clone)]
pub struct Brokers {
    /// Articulation points, with how many pieces their component falls into without them.
    pub partners: Vec<(NodeInfo, usize)>,
    pub bridges: Vec<Edge>,
}

pub fn brokers(p: &Projection, scope: &Scope, filter: &Filter) -> Brokers {
    let ctx = Ctx::new(p, scope, filter);
    let a = Analysis::build(&ctx, ctx.nodes());
    let mut partners: Vec<(NodeInfo, usize)> = a
        .articulation_points()
        .into_iter()
        .map(|i| (info(p, a.nodes[i]), a.split_count(i)))
        .collect();
    partners.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.id.cmp(&y.0.id)));
    let bridges = a
        .bridges()
        .into_iter()
        .map(|(i, j)| ctx.edge_between(a.nodes[i], a.nodes[j]).expect("a bridge is an edge"))
        .collect();
    Brokers { partners, bridges }
}

/// Partners the filter keeps with no link to another kept partner.
pub fn isolated(p: &Projection, scope: &Scope, filter: &Filter) -> Vec<NodeInfo> {
    let ctx = Ctx::new(p, scope, filter);
    ctx.nodes()
        .into_iter()
        .filter(|&id| {
            let mut any = false;
            ctx.for_each_link(id, |_, _| any = true);
            !any
        })
        .map(|id| info(p, id))
        .collect()
}

/// How a map is drawn.
#[derive(Debug, Clone, Copy)]
pub struct MapOptions {
    pub layout: Layout,
    pub seed: u64,
    /// At most this many partners: the most central by `size_by`.
    pub limit: usize,
    pub size_by: Centrality,
}

#[derive(Debug, Clone)]
pub struct MapNode {
    pub node: NodeInfo,
    /// Radius for drawing, 4 to 24, from the `size_by` centrality.
    pub size: f64,
    /// The `size_by` centrality itself.
    pub centrality: f64,
    pub x: f64,
    pub y: f64,
    pub community: usize,
    pub degree: usize,
}

#[derive(Debug, Clone)]
pub struct NetworkMap {
    pub nodes: Vec<MapNode>,
    pub edges: Vec<Edge>,
    /// Partners that matched before the limit.
    pub total: usize,
    pub communities: usize,
    pub modularity: f64,
    /// Betweenness (when sizing by it) was exact.
    pub betweenness_exact: bool,
    pub options: MapOptions,
}

/// A map of the partners a filter keeps: positions, sizes, communities and
/// the edges among the partners drawn.
pub fn network_map(p: &Projection, scope: &Scope, filter: &Filter, opts: MapOptions) -> NetworkMap {
    let ctx = Ctx::new(p, scope, filter);
    let full = Analysis::build(&ctx, ctx.nodes());
    let total = full.len();
    let (cent, exact) = match opts.size_by {
        Centrality::Degree => (full.degree(), true),
        Centrality::WeightedDegree => (full.weighted_degree(), true),
        Centrality::Pagerank => (full.pagerank(), true),
        Centrality::Betweenness => {
            let (b, s) = full.betweenness(BETWEENNESS_EXACT_LIMIT, BETWEENNESS_SAMPLES, opts.seed);
            (b, s == full.len())
        }
    };
    let mut keep: Vec<usize> = (0..total).collect();
    if total > opts.limit {
        keep.sort_by(|&x, &y| cent[y].total_cmp(&cent[x]).then(x.cmp(&y)));
        keep.truncate(opts.limit);
        keep.sort_unstable();
    }
    let a = if keep.len() == total {
        full.clone()
    } else {
        Analysis::build(&ctx, keep.iter().map(|&i| full.nodes[i]).collect())
    };
    let (comm, modularity) = a.louvain();
    let pos = match opts.layout {
        Layout::Force => a.force_layout(opts.seed, None),
        Layout::Circle => {
            let mut order: Vec<usize> = (0..a.len()).collect();
            order.sort_by_key(|&i| (comm[i], a.nodes[i]));
            a.circle_layout(&order)
        }
    };
    let values: Vec<f64> = keep.iter().map(|&i| cent[i]).collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    let size = |v: f64| {
        if hi > lo {
            4.0 + 20.0 * (v - lo) / (hi - lo)
        } else {
            8.0
        }
    };
    let nodes = (0..a.len())
        .map(|i| MapNode {
            node: info(p, a.nodes[i]),
            size: (size(values[i]) * 100.0).round() / 100.0,
            centrality: values[i],
            x: pos[i].0,
            y: pos[i].1,
            community: comm[i],
            degree: a.adj[i].len(),
        })
        .collect();
    NetworkMap {
        edges: ctx.edges_among(&a.nodes),
        nodes,
        total,
        communities: comm.iter().max().map_or(0, |m| m + 1),
        modularity,
        betweenness_exact: exact,
        options: opts,
    }
}
