//! Network maps as files: GEXF 1.3 (Gephi), GraphML, Cytoscape.js JSON and
//! graphology JSON (sigma.js), served at `GET /export/map.{gexf,graphml,cyjs,json}`
//! and written by `maillage export-map`.
//!
//! The map is the one `networkMap` answers (`domain::graph::network_map`),
//! with the same filters, computed for the caller's scope: a file never
//! holds more than its requester may see. Nodes are named by their
//! external id (`ref`), as in bundles.

use std::collections::HashSet;
use std::fmt::Write;
use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::DatabaseConnection;

use crate::domain::graph::{self as g, Centrality, Graph, Layout, Via};
use crate::model::*;
use crate::storage::{self, Scope};

/// A file format of maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// GEXF 1.3, for Gephi: attributes, viz colour/size/position, date spells.
    Gexf,
    /// GraphML, with keys for every attribute.
    Graphml,
    /// Cytoscape.js elements JSON.
    Cyjs,
    /// graphology's serialised graph (sigma.js).
    Json,
}

impl Format {
    pub fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext {
            "gexf" => Format::Gexf,
            "graphml" => Format::Graphml,
            "cyjs" => Format::Cyjs,
            "json" => Format::Json,
            _ => return None,
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Gexf | Format::Graphml => "application/xml; charset=utf-8",
            Format::Cyjs | Format::Json => "application/json",
        }
    }
}

/// The filters and options of a map, as URL query parameters (lists
/// comma-separated, records by external id) or command-line flags.
#[derive(Debug, Clone, Default, serde::Deserialize, clap::Args)]
#[serde(rename_all = "camelCase")]
pub struct MapParams {
    /// Partners based in or serving this territory (external id, e.g. `dep-57`).
    #[arg(long)]
    pub territory: Option<String>,
    /// With `territory`: include what lies inside it (default true).
    #[arg(long)]
    pub include_descendants: Option<bool>,
    /// Comma-separated themes (`youth,health`).
    #[arg(long)]
    pub themes: Option<String>,
    /// Comma-separated partner kinds (`ccas,ml`).
    #[arg(long)]
    pub partner_kinds: Option<String>,
    /// Comma-separated network external ids.
    #[arg(long)]
    pub networks: Option<String>,
    /// Comma-separated links that count: `RELATION,NETWORK,ACTION` (default all).
    #[arg(long)]
    pub via: Option<String>,
    /// The network as of this day (`YYYY-MM-DD`).
    #[arg(long)]
    pub as_of: Option<String>,
    /// `FORCE` (default) or `CIRCLE`.
    #[arg(long)]
    pub layout: Option<String>,
    /// Seed of the layout (default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// At most this many partners (default 2000, at most 20000).
    #[arg(long)]
    pub limit: Option<usize>,
    /// `DEGREE` (default), `WEIGHTED_DEGREE`, `BETWEENNESS` or `PAGERANK`.
    #[arg(long)]
    pub size_by: Option<String>,
}

fn list<T>(s: &Option<String>, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<Vec<T>>, String> {
    let Some(s) = s else { return Ok(None) };
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| parse(x).ok_or_else(|| format!("`{what}`: unknown value `{x}`")))
        .collect::<Result<Vec<T>, String>>()
        .map(Some)
}

fn via(s: &str) -> Option<Via> {
    Some(match s.to_ascii_uppercase().as_str() {
        "RELATION" => Via::Relation,
        "NETWORK" => Via::Network,
        "ACTION" => Via::Action,
        _ => return None,
    })
}

/// The map a request asks for, or a message saying what is wrong with it.
pub async fn build_map(
    db: &DatabaseConnection,
    graph: &Graph,
    scope: &Scope,
    q: &MapParams,
) -> Result<Result<(Arc<g::Projection>, g::NetworkMap), String>, storage::StorageError> {
    let p = graph.snapshot().await?;
    let territories = match &q.territory {
        Some(t) => {
            let set = storage::read::territory_set(
                &storage::read::TerritoryKey::Ref(t.clone()),
                q.include_descendants.unwrap_or(true),
            );
            let ids = storage::graph::territory_ids(db, &set).await?;
            if ids.is_empty() {
                return Ok(Err(format!("`territory`: no territory has the id `{t}`")));
            }
            Some(ids)
        }
        None => None,
    };
    let parsed = (|| -> Result<(g::Filter, g::MapOptions), String> {
        let networks = match list(&q.networks, "networks", |r| Some(r.to_owned()))? {
            Some(refs) => {
                let mut ids = HashSet::new();
                for r in refs {
                    let id = p
                        .networks
                        .values()
                        // A network the viewer may not see is answered as an unknown one.
                        .find(|n| n.r#ref == r && p.sees_network(scope, n))
                        .map(|n| n.id)
                        .ok_or_else(|| format!("`networks`: no network has the id `{r}`"))?;
                    ids.insert(id);
                }
                Some(ids)
            }
            None => None,
        };
        let filter = g::Filter {
            via: list(&q.via, "via", via)?.unwrap_or_default(),
            as_of: match &q.as_of {
                Some(d) => Some(
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| format!("`asOf`: `{d}` is not YYYY-MM-DD"))?,
                ),
                None => None,
            },
            partner_kinds: list(&q.partner_kinds, "partnerKinds", PartnerKind::parse)?.map(|v| v.into_iter().collect()),
            territories,
            themes: list(&q.themes, "themes", Theme::parse)?.map(|v| v.into_iter().collect()),
            networks,
        };
        let limit = q.limit.unwrap_or(2000);
        if !(1..=20_000).contains(&limit) {
            return Err(format!("`limit` must be between 1 and 20000, not {limit}"));
        }
        let opts = g::MapOptions {
            layout: match q.layout.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None | Some("FORCE") => Layout::Force,
                Some("CIRCLE") => Layout::Circle,
                Some(o) => return Err(format!("`layout`: unknown value `{o}`")),
            },
            seed: q.seed.unwrap_or(1),
            limit,
            size_by: match q.size_by.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None | Some("DEGREE") => Centrality::Degree,
                Some("WEIGHTED_DEGREE") => Centrality::WeightedDegree,
                Some("BETWEENNESS") => Centrality::Betweenness,
                Some("PAGERANK") => Centrality::Pagerank,
                Some(o) => return Err(format!("`sizeBy`: unknown value `{o}`")),
            },
        };
        Ok((filter, opts))
    })();
    let (filter, opts) = match parsed {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let scope = scope.clone();
    let proj = p.clone();
    let map = graph
        .compute(g::Work::Whole, move || g::network_map(&proj, &scope, &filter, opts))
        .await
        .map_err(|e| storage::StorageError::Integrity(format!("map computation failed: {e}")))?;
    Ok(Ok((p, map)))
}

/// A colour per partner kind (a fixed palette, so files are stable).
pub fn colour(kind: PartnerKind) -> (u8, u8, u8) {
    const PALETTE: [(u8, u8, u8); 12] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
        (57, 59, 121),
        (173, 73, 74),
    ];
    let i = PartnerKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

fn refs(m: &g::NetworkMap) -> std::collections::HashMap<i64, &str> {
    m.nodes.iter().map(|n| (n.node.id, n.node.r#ref.as_str())).collect()
}

fn kind_of(p: &g::Projection, e: &g::Edge) -> &'static str {
    match e.kinds(p)[0] {
        Via::Relation => "relation",
        Via::Network => "network",
        Via::Action => "action",
    }
}

/// Renders a map in a format.
pub fn render(p: &g::Projection, m: &g::NetworkMap, f: Format) -> String {
    match f {
        Format::Gexf => gexf(p, m),
        Format::Graphml => graphml(p, m),
        Format::Cyjs => cyjs(p, m),
        Format::Json => graphology(p, m),
    }
}

fn gexf(p: &g::Projection, m: &g::NetworkMap) -> String {
    let r = refs(m);
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str("<gexf xmlns=\"http://gexf.net/1.3\" xmlns:viz=\"http://gexf.net/1.3/viz\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd\" version=\"1.3\">\n");
    o.push_str("  <meta><creator>maillage</creator><description>Partner network map</description></meta>\n");
    // Dynamic: edges carry the periods of what links them (spells).
    o.push_str("  <graph defaultedgetype=\"undirected\" mode=\"dynamic\" timeformat=\"date\">\n");
    o.push_str("    <attributes class=\"node\">\n      <attribute id=\"kind\" title=\"kind\" type=\"string\"/>\n      <attribute id=\"community\" title=\"community\" type=\"integer\"/>\n      <attribute id=\"centrality\" title=\"centrality\" type=\"double\"/>\n      <attribute id=\"degree\" title=\"degree\" type=\"integer\"/>\n    </attributes>\n");
    o.push_str("    <attributes class=\"edge\">\n      <attribute id=\"kind\" title=\"kind\" type=\"string\"/>\n      <attribute id=\"why\" title=\"why\" type=\"string\"/>\n    </attributes>\n");
    o.push_str("    <nodes>\n");
    for n in &m.nodes {
        let (cr, cg, cb) = colour(n.node.kind);
        let _ = write!(
            o,
            "      <node id=\"{}\" label=\"{}\">\n        <attvalues><attvalue for=\"kind\" value=\"{}\"/><attvalue for=\"community\" value=\"{}\"/><attvalue for=\"centrality\" value=\"{}\"/><attvalue for=\"degree\" value=\"{}\"/></attvalues>\n        <viz:color r=\"{cr}\" g=\"{cg}\" b=\"{cb}\"/><viz:size value=\"{}\"/><viz:position x=\"{}\" y=\"{}\" z=\"0.0\"/>\n      </node>\n",
            esc(&n.node.r#ref),
            esc(&n.node.label),
            n.node.kind.as_str(),
            n.community,
            n.centrality,
            n.degree,
            n.size,
            n.x,
            // Gephi's y axis points up; the map's points down (as SVG).
            1000.0 - n.y,
        );
    }
    o.push_str("    </nodes>\n    <edges>\n");
    for (i, e) in m.edges.iter().enumerate() {
        let _ = write!(
            o,
            "      <edge id=\"{i}\" source=\"{}\" target=\"{}\" weight=\"{}\">\n        <attvalues><attvalue for=\"kind\" value=\"{}\"/><attvalue for=\"why\" value=\"{}\"/></attvalues>\n",
            esc(r[&e.a]),
            esc(r[&e.b]),
            e.weight,
            kind_of(p, e),
            esc(&e.why(p).join("; ")),
        );
        // Spells only when every reason is dated: an undated link has
        // always been there.
        let reasons = e.reasons(p);
        if reasons.iter().all(|x| x.since.is_some() || x.until.is_some()) {
            o.push_str("        <spells>");
            for x in &reasons {
                o.push_str("<spell");
                if let Some(s) = x.since {
                    let _ = write!(o, " start=\"{s}\"");
                }
                if let Some(u) = x.until {
                    let _ = write!(o, " end=\"{u}\"");
                }
                o.push_str("/>");
            }
            o.push_str("</spells>\n");
        }
        o.push_str("      </edge>\n");
    }
    o.push_str("    </edges>\n  </graph>\n</gexf>\n");
    o
}

fn graphml(p: &g::Projection, m: &g::NetworkMap) -> String {
    let r = refs(m);
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    o.push_str("<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n");
    for (id, dom, ty) in [
        ("label", "node", "string"),
        ("kind", "node", "string"),
        ("community", "node", "int"),
        ("centrality", "node", "double"),
        ("size", "node", "double"),
        ("x", "node", "double"),
        ("y", "node", "double"),
        ("ekind", "edge", "string"),
        ("weight", "edge", "double"),
        ("why", "edge", "string"),
    ] {
        let name = id.strip_prefix('e').filter(|_| id == "ekind").unwrap_or(id);
        let _ = writeln!(
            o,
            "  <key id=\"{id}\" for=\"{dom}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
        );
    }
    o.push_str("  <graph id=\"maillage\" edgedefault=\"undirected\">\n");
    for n in &m.nodes {
        let _ = writeln!(
            o,
            "    <node id=\"{}\"><data key=\"label\">{}</data><data key=\"kind\">{}</data><data key=\"community\">{}</data><data key=\"centrality\">{}</data><data key=\"size\">{}</data><data key=\"x\">{}</data><data key=\"y\">{}</data></node>",
            esc(&n.node.r#ref),
            esc(&n.node.label),
            n.node.kind.as_str(),
            n.community,
            n.centrality,
            n.size,
            n.x,
            n.y
        );
    }
    for (i, e) in m.edges.iter().enumerate() {
        let _ = writeln!(
            o,
            "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"ekind\">{}</data><data key=\"weight\">{}</data><data key=\"why\">{}</data></edge>",
            esc(r[&e.a]),
            esc(r[&e.b]),
            kind_of(p, e),
            e.weight,
            esc(&e.why(p).join("; "))
        );
    }
    o.push_str("  </graph>\n</graphml>\n");
    o
}

fn cyjs(p: &g::Projection, m: &g::NetworkMap) -> String {
    let r = refs(m);
    let nodes: Vec<serde_json::Value> = m
        .nodes
        .iter()
        .map(|n| {
            serde_json::json!({
                "data": {
                    "id": n.node.r#ref, "label": n.node.label, "kind": n.node.kind.as_str(),
                    "community": n.community, "centrality": n.centrality, "size": n.size, "degree": n.degree,
                },
                "position": { "x": n.x, "y": n.y },
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = m
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "data": {
                    "id": format!("e{i}"), "source": r[&e.a], "target": r[&e.b],
                    "kind": kind_of(p, e), "weight": e.weight, "why": e.why(p),
                }
            })
        })
        .collect();
    serde_json::json!({ "elements": { "nodes": nodes, "edges": edges } }).to_string()
}

fn graphology(p: &g::Projection, m: &g::NetworkMap) -> String {
    let r = refs(m);
    let nodes: Vec<serde_json::Value> = m
        .nodes
        .iter()
        .map(|n| {
            let (cr, cg, cb) = colour(n.node.kind);
            serde_json::json!({
                "key": n.node.r#ref,
                "attributes": {
                    "label": n.node.label, "kind": n.node.kind.as_str(), "community": n.community,
                    "centrality": n.centrality, "size": n.size, "x": n.x, "y": n.y,
                    "color": format!("#{cr:02x}{cg:02x}{cb:02x}"),
                },
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = m
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "key": format!("e{i}"), "source": r[&e.a], "target": r[&e.b], "undirected": true,
                "attributes": { "kind": kind_of(p, e), "weight": e.weight, "why": e.why(p) },
            })
        })
        .collect();
    serde_json::json!({
        "attributes": { "name": "maillage partner network", "total": m.total, "communities": m.communities, "modularity": m.modularity },
        "options": { "type": "undirected", "multi": false, "allowSelfLoops": false },
        "nodes": nodes,
        "edges": edges,
    })
    .to_string()
}
