//! Graph analytics: known answers on small hand-made graphs (a path, a
//! bridge, two communities), provenance and visibility of edges, and, on the
//! demo data through the HTTP stack, agreement with the SQL-scoped API,
//! freshness after writes (also across two instances), the exports parsed
//! by real parsers, and the query cost limit.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::TestDb;
use http_body_util::BodyExt;
use maillage::api::{self, ServerConfig};
use maillage::domain::access::Role;
use maillage::domain::graph::algo::Analysis;
use maillage::domain::graph::view::Ctx;
use maillage::domain::graph::{self as g, Filter, Projection, Via};
use maillage::domain::keys;
use maillage::model::*;
use maillage::storage::Scope;
use maillage::storage::graph::*;
use serde_json::{Value, json};
use tower::ServiceExt;

// ---------------------------------------------------------------- builders

fn day(y: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, 1, 1).unwrap()
}

fn partner(p: &mut Projection, id: i64) {
    p.insert(GraphRow::Partner(PartnerRow {
        id,
        r#ref: format!("p{id}"),
        name: format!("Partner {id}"),
        kind: if id % 2 == 0 {
            PartnerKind::Asso
        } else {
            PartnerKind::Ccas
        },
        territory_id: None,
    }));
}

fn relation(p: &mut Projection, id: i64, a: i64, b: i64, vis: Option<&str>) {
    p.insert(GraphRow::Relation(RelationRow {
        id,
        from_partner_id: a,
        to_partner_id: b,
        kind: RelationKind::Convention,
        since: None,
        until: None,
        weight: 1.0,
        visibility: vis.map(str::to_owned),
    }));
}

/// Partners 1..=n linked by public relations along `edges`.
fn graph(n: i64, edges: &[(i64, i64)]) -> Projection {
    let mut p = Projection::default();
    for i in 1..=n {
        partner(&mut p, i);
    }
    for (k, (a, b)) in edges.iter().enumerate() {
        relation(&mut p, k as i64 + 1, *a, *b, Some("public"));
    }
    p
}

fn analysis(p: &Projection) -> Analysis {
    let f = Filter::default();
    let ctx = Ctx::new(p, &Scope::All, &f);
    Analysis::build(&ctx, ctx.nodes())
}

// ------------------------------------------------------ hand-made graphs

#[test]
fn a_path_has_known_paths_betweenness_and_brokers() {
    let p = graph(4, &[(1, 2), (2, 3), (3, 4)]);
    let f = Filter::default();
    let path = g::shortest_path(&p, &Scope::All, &f, 1, 4).unwrap();
    assert_eq!(path.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(path.steps.len(), 3);
    assert_eq!(path.steps[0].why(&p), vec!["convention relation"]);
    let a = analysis(&p);
    assert_eq!(a.degree(), vec![1.0, 2.0, 2.0, 1.0]);
    // Node 2 lies on 1–3 and 1–4: 2 of the 3 pairs not involving it.
    let (b, samples) = a.betweenness(100, 10, 1);
    assert_eq!(samples, 4, "exact on a small graph");
    for (got, want) in b.iter().zip([0.0, 2.0 / 3.0, 2.0 / 3.0, 0.0]) {
        assert!((got - want).abs() < 1e-9, "{b:?}");
    }
    let br = g::brokers(&p, &Scope::All, &f);
    assert_eq!(
        br.partners.iter().map(|x| (x.0.id, x.1)).collect::<Vec<_>>(),
        vec![(2, 2), (3, 2)]
    );
    assert_eq!(br.bridges.len(), 3, "every link of a path is a bridge");
    let n = g::neighbourhood(&p, &Scope::All, &f, 1, 2, 100, true).unwrap();
    assert_eq!(
        n.nodes.iter().map(|x| (x.0.id, x.1)).collect::<Vec<_>>(),
        vec![(1, 0), (2, 1), (3, 2)]
    );
    assert_eq!(n.edges.len(), 2);
    // PageRank of a path: symmetric, the middle above the ends, sum 1.
    let pr = a.pagerank();
    assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!((pr[0] - pr[3]).abs() < 1e-9 && pr[1] > pr[0]);
}

#[test]
fn two_triangles_joined_by_a_bridge() {
    let p = graph(6, &[(1, 2), (2, 3), (1, 3), (4, 5), (5, 6), (4, 6), (3, 4)]);
    let f = Filter::default();
    let br = g::brokers(&p, &Scope::All, &f);
    assert_eq!(br.partners.iter().map(|x| x.0.id).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(br.bridges.iter().map(|e| (e.a, e.b)).collect::<Vec<_>>(), vec![(3, 4)]);
    // Two communities, the triangles; Q = 2 (3/7 − (7/14)²).
    let (cs, q) = g::communities(&p, &Scope::All, &f);
    let sets: BTreeSet<BTreeSet<i64>> = cs.iter().map(|c| c.members.iter().map(|m| m.id).collect()).collect();
    assert_eq!(
        sets,
        BTreeSet::from([BTreeSet::from([1, 2, 3]), BTreeSet::from([4, 5, 6])])
    );
    assert!((q - 2.0 * (3.0 / 7.0 - 0.25)).abs() < 1e-9, "{q}");
    // The bridge ends carry all the cross traffic: 9 of the 10 pairs not involving them.
    let c = g::centralities(&p, &Scope::All, &f, g::Centrality::Betweenness);
    assert_eq!(c.partners[0].node.id, 3);
    assert!(
        (c.partners[0].betweenness - 0.6).abs() < 1e-9,
        "{}",
        c.partners[0].betweenness
    );
    // Two alternatives from 1 to 6, the direct way first.
    let ps = g::paths(&p, &Scope::All, &f, 1, 6, 3);
    let ids: Vec<Vec<i64>> = ps.iter().map(|x| x.nodes.iter().map(|n| n.id).collect()).collect();
    assert_eq!(ids, vec![vec![1, 3, 4, 6], vec![1, 2, 3, 4, 6], vec![1, 3, 4, 5, 6]]);
}

#[test]
fn two_disconnected_cliques_are_two_communities_and_no_path() {
    let mut e = vec![];
    for (lo, hi) in [(1, 5), (6, 10)] {
        for a in lo..=hi {
            for b in a + 1..=hi {
                e.push((a, b));
            }
        }
    }
    let p = graph(10, &e);
    let f = Filter::default();
    let (cs, q) = g::communities(&p, &Scope::All, &f);
    assert_eq!(cs.len(), 2);
    assert!((q - 0.5).abs() < 1e-9, "{q}");
    assert!(g::shortest_path(&p, &Scope::All, &f, 1, 10).is_none());
    assert!(g::brokers(&p, &Scope::All, &f).partners.is_empty());
}

/// Network N (CISPD: members only by default) with 1 and 2 since 2019 and 3
/// since 2022; two youth actions run by 1 and 2; partner 4 outside.
fn shared() -> Projection {
    let mut p = Projection::default();
    for i in 1..=4 {
        partner(&mut p, i);
    }
    p.insert(GraphRow::Network(NetworkRow {
        id: 10,
        r#ref: "n10".into(),
        name: "CISPD du Val".into(),
        kind: NetworkKind::Cispd,
        visibility: None,
        started_on: Some(day(2015)),
        ended_on: None,
    }));
    for (id, who, since) in [(1, 1, 2019), (2, 2, 2019), (3, 3, 2022)] {
        p.insert(GraphRow::Membership(MembershipRow {
            id,
            network_id: 10,
            partner_id: who,
            role: MembershipRole::Member,
            since: Some(day(since)),
            until: None,
        }));
    }
    for (aid, status) in [
        (20, ActionStatus::Active),
        (21, ActionStatus::Done),
        (22, ActionStatus::Cancelled),
    ] {
        p.insert(GraphRow::Action(ActionRow {
            id: aid,
            r#ref: format!("a{aid}"),
            title: format!("Action {aid}"),
            theme: Theme::Youth,
            status,
            network_id: None,
            visibility: None,
            started_on: Some(day(2020)),
            ended_on: None,
        }));
        for (k, who) in [1, 2].into_iter().enumerate() {
            p.insert(GraphRow::Participation(ParticipationRow {
                id: aid * 10 + k as i64,
                action_id: aid,
                partner_id: who,
                role: ParticipationRole::Contributor,
            }));
        }
    }
    p
}

#[test]
fn edges_count_what_links_the_pair_and_say_why() {
    let p = shared();
    let f = Filter::default();
    let ctx = Ctx::new(&p, &Scope::All, &f);
    let e = ctx.edge_between(1, 2).unwrap();
    // The network, and two actions (the cancelled one links nobody).
    assert_eq!(e.weight, 3.0);
    assert_eq!(
        e.why(&p),
        vec!["both sit in CISPD du Val since 2019", "co-run 2 actions on youth"]
    );
    assert_eq!(e.kinds(&p), vec![Via::Action, Via::Network]);
    // via: only what was asked.
    let f = Filter {
        via: vec![Via::Network],
        ..Default::default()
    };
    assert_eq!(Ctx::new(&p, &Scope::All, &f).edge_between(1, 2).unwrap().weight, 1.0);
    let f = Filter {
        via: vec![Via::Relation],
        ..Default::default()
    };
    assert!(Ctx::new(&p, &Scope::All, &f).edge_between(1, 2).is_none());
    // As of 2020, 3 was not a member yet, and the actions had started.
    let f = Filter {
        as_of: Some(day(2020).succ_opt().unwrap()),
        ..Default::default()
    };
    let ctx = Ctx::new(&p, &Scope::All, &f);
    assert!(ctx.edge_between(1, 3).is_none());
    assert_eq!(ctx.edge_between(1, 2).unwrap().weight, 3.0);
    let f = Filter {
        as_of: Some(day(2019).succ_opt().unwrap()),
        ..Default::default()
    };
    assert_eq!(Ctx::new(&p, &Scope::All, &f).edge_between(1, 2).unwrap().weight, 1.0);
    assert!(
        Ctx::new(&p, &Scope::All, &Filter::default())
            .edge_between(1, 3)
            .is_some()
    );
}

#[test]
fn edges_follow_the_viewers_scope() {
    let mut p = shared();
    let f = Filter::default();
    // A CISPD is for its members: anonymous readers see only the public
    // actions' link, a member sees the network too, an outsider not.
    let w = |p: &Projection, s: Scope| Ctx::new(p, &s, &f).edge_between(1, 2).map(|e| e.weight);
    assert_eq!(w(&p, Scope::All), Some(3.0));
    assert_eq!(w(&p, Scope::Partner(1)), Some(3.0));
    assert_eq!(w(&p, Scope::Partner(4)), Some(2.0));
    assert_eq!(w(&p, Scope::Public), Some(2.0));
    assert!(Ctx::new(&p, &Scope::Public, &f).edge_between(1, 3).is_none());
    assert!(
        !p.sees_partner(&Scope::Public, 3),
        "3 only sits in a members-only network"
    );
    assert!(p.sees_partner(&Scope::Partner(1), 3));
    // A relation defaults to its two partners.
    relation(&mut p, 1, 3, 4, None);
    assert!(Ctx::new(&p, &Scope::Partner(4), &f).edge_between(3, 4).is_some());
    assert!(Ctx::new(&p, &Scope::Partner(1), &f).edge_between(3, 4).is_none());
    // Removing the network removes its memberships (as the database cascades).
    p.remove("networks", 10);
    assert_eq!(w(&p, Scope::All), Some(2.0));
}

#[test]
fn layouts_are_deterministic_for_a_seed() {
    let p = graph(30, &(1..30).map(|i| (i, i + 1)).collect::<Vec<_>>());
    let f = Filter::default();
    let opts = |seed| g::MapOptions {
        layout: g::Layout::Force,
        seed,
        limit: 100,
        size_by: g::Centrality::Pagerank,
    };
    let xy = |m: &g::NetworkMap| m.nodes.iter().map(|n| (n.x, n.y)).collect::<Vec<_>>();
    let a = g::network_map(&p, &Scope::All, &f, opts(7));
    let b = g::network_map(&p, &Scope::All, &f, opts(7));
    let c = g::network_map(&p, &Scope::All, &f, opts(8));
    assert_eq!(xy(&a), xy(&b));
    assert_ne!(xy(&a), xy(&c));
    assert!(
        a.nodes
            .iter()
            .all(|n| (0.0..=1000.0).contains(&n.x) && (0.0..=1000.0).contains(&n.y))
    );
    assert_eq!(a.edges.len(), 29);
    // Linked partners end up closer than the ends of the chain.
    let d = |i: usize, j: usize| ((a.nodes[i].x - a.nodes[j].x).powi(2) + (a.nodes[i].y - a.nodes[j].y).powi(2)).sqrt();
    assert!(d(0, 1) < d(0, 29), "{} vs {}", d(0, 1), d(0, 29));
    // A limit keeps the most central.
    let mut o = opts(7);
    o.limit = 5;
    let small = g::network_map(&p, &Scope::All, &f, o);
    assert_eq!((small.nodes.len(), small.total), (5, 30));
}

// ---------------------------------------------------------- through HTTP

async fn post(app: &Router, key: Option<&str>, query: &str, vars: Value) -> Value {
    let mut req = Request::post("/graphql").header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let body = json!({ "query": query, "variables": vars }).to_string();
    let resp = app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

async fn data(app: &Router, key: Option<&str>, query: &str, vars: Value) -> Value {
    let r = post(app, key, query, vars).await;
    assert!(r.get("errors").is_none(), "{query}\n{r}");
    r["data"].clone()
}

async fn get(app: &Router, key: Option<&str>, uri: &str) -> (StatusCode, String) {
    let mut req = Request::get(uri);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// Every partner id a scope sees through the SQL API (`partners`).
async fn sql_partners(app: &Router, key: Option<&str>) -> BTreeSet<String> {
    sql_partners_where(app, key, Value::Null).await
}

/// The same, filtered in SQL (`PartnerFilter`).
async fn sql_partners_where(app: &Router, key: Option<&str>, filter: Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let d = data(
            app,
            key,
            "query($a: String, $f: PartnerFilter) { partners(first: 100, after: $a, filter: $f) { nodes { id } pageInfo { hasNextPage endCursor } } }",
            json!({ "a": after, "f": filter }),
        )
        .await;
        for n in d["partners"]["nodes"].as_array().unwrap() {
            out.insert(n["id"].as_str().unwrap().to_owned());
        }
        if !d["partners"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return out;
        }
        after = d["partners"]["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

const MAP: &str = "query($f: GraphFilter) { networkMap(filter: $f, limit: 1000) { total nodes { id partner { id } x y size community } edges { source target weight why reasons { via record } } } }";

#[tokio::test]
async fn graph_answers_agree_with_the_sql_scoped_api_on_the_demo() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    let admin = keys::create(&t.db, Role::Admin, None, "t", false).await.unwrap();
    // The portal of the partner sitting in the most networks.
    let d = data(
        &app,
        Some(&admin),
        "{ centralities(first: 1, orderBy: DEGREE, filter: { via: [NETWORK] }) { partners { id partner { ref } } } }",
        json!({}),
    )
    .await;
    let portal_ref = d["centralities"]["partners"][0]["partner"]["ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let portal = keys::create(&t.db, Role::Partner, Some(&portal_ref), "t", false)
        .await
        .unwrap();

    for key in [Some(admin.as_str()), Some(portal.as_str()), None] {
        let seen = sql_partners(&app, key).await;
        let m = data(&app, key, MAP, json!({})).await;
        let nodes: BTreeSet<String> = m["networkMap"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(nodes, seen, "the map's partners are those the scope sees ({key:?})");
        assert_eq!(m["networkMap"]["total"], seen.len());
        // Every reason names a record the scope may read through SQL
        // (`nodes` answers null for what it may not).
        let mut records: BTreeSet<String> = BTreeSet::new();
        for e in m["networkMap"]["edges"].as_array().unwrap() {
            assert!(nodes.contains(e["source"].as_str().unwrap()));
            assert!(nodes.contains(e["target"].as_str().unwrap()));
            assert!(!e["why"].as_array().unwrap().is_empty());
            for r in e["reasons"].as_array().unwrap() {
                records.insert(r["record"].as_str().unwrap().to_owned());
            }
        }
        assert!(!records.is_empty());
        let records: Vec<String> = records.into_iter().collect();
        for chunk in records.chunks(100) {
            let d = data(
                &app,
                key,
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({ "ids": chunk }),
            )
            .await;
            for (id, n) in chunk.iter().zip(d["nodes"].as_array().unwrap()) {
                assert!(!n.is_null(), "{key:?} sees a link through {id} it cannot read");
            }
        }
        // Nothing about a partner the scope does not see: its neighbourhood is null.
        if key.is_none() {
            let hidden = sql_partners(&app, Some(&admin)).await.difference(&seen).next().cloned();
            if let Some(h) = hidden {
                let d = data(
                    &app,
                    None,
                    "query($p: ID!) { neighbourhood(partner: $p) { nodes { id } } }",
                    json!({ "p": h }),
                )
                .await;
                assert!(d["neighbourhood"].is_null());
            }
        }
    }
    // A territory filter keeps the partners the SQL filter keeps.
    let t = json!({ "territory": { "ref": "epci-245701222" } });
    let m = data(&app, Some(&admin), MAP, json!({ "f": t })).await;
    let nodes: BTreeSet<String> = m["networkMap"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    let sql = sql_partners_where(&app, Some(&admin), t.clone()).await;
    assert!(!sql.is_empty());
    assert_eq!(nodes, sql);
    let r = post(
        &app,
        Some(&admin),
        MAP,
        json!({ "f": { "territory": { "ref": "nowhere" } } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{r}");
    // The anonymous graph is smaller than the directorate's.
    let all = data(&app, Some(&admin), MAP, json!({})).await;
    let anon = data(&app, None, MAP, json!({})).await;
    assert!(
        anon["networkMap"]["edges"].as_array().unwrap().len() < all["networkMap"]["edges"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn demo_questions_answer_and_writes_are_seen_at_once() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    let admin = keys::create(&t.db, Role::Admin, None, "t", false).await.unwrap();
    let k = Some(admin.as_str());
    // Two partners of the demo with no direct link, by relation only.
    let d = data(&app, k, "{ centralities(first: 200, orderBy: DEGREE, filter: { via: [RELATION] }) { total betweennessExact partners { id degree } } }", json!({})).await;
    assert_eq!(d["centralities"]["betweennessExact"], true);
    let ps = d["centralities"]["partners"].as_array().unwrap();
    let (a, b) = (
        ps[0]["id"].as_str().unwrap().to_owned(),
        ps[ps.len() - 1]["id"].as_str().unwrap().to_owned(),
    );
    let q = "query($a: ID!, $b: ID!) { shortestPath(from: $a, to: $b, via: [RELATION]) { length nodes { id } steps { source target why } } }";
    let before = data(&app, k, q, json!({ "a": a, "b": b })).await;
    let len = before["shortestPath"]["length"].as_i64().unwrap_or(i64::MAX);
    assert!(len >= 2, "{before}");
    let r = data(
        &app,
        k,
        "mutation($a: ID!, $b: ID!) { addRelation(input: { fromPartnerId: $a, toPartnerId: $b, kind: REFERRAL, weight: 2 }) { relation { id } userErrors { message } } }",
        json!({ "a": a, "b": b }),
    )
    .await;
    assert_eq!(r["addRelation"]["userErrors"], json!([]), "{r}");
    let after = data(&app, k, q, json!({ "a": a, "b": b })).await;
    assert_eq!(after["shortestPath"]["length"], 1);
    assert_eq!(
        after["shortestPath"]["steps"][0]["why"],
        json!(["referral relation (weight 2)"])
    );
    // Deleting it is seen at once too.
    let rid = r["addRelation"]["relation"]["id"].as_str().unwrap();
    let d = post(
        &app,
        k,
        "mutation($id: ID!) { removeRelation(input: { id: $id }) { userErrors { message } } }",
        json!({ "id": rid }),
    )
    .await;
    assert!(d.get("errors").is_none(), "{d}");
    let again = data(&app, k, q, json!({ "a": a, "b": b })).await;
    assert_eq!(again["shortestPath"]["length"].as_i64().unwrap_or(i64::MAX), len);

    // The other fields, on the demo.
    let d = data(
        &app,
        k,
        "query($a: ID!) { neighbourhood(partner: $a, depth: 2) { truncated nodes { id distance } edges { source } }
          communities { count modularity communities { size members { id } } }
          brokers { partners { pieces node { id } } bridges { why } }
          gaps(territory: { ref: \"epci-245701222\" }, theme: YOUTH, partnerKind: CENTRE_SOCIAL) { isolatedPartners { id } territoriesWithoutAction { ref kind } territoriesWithoutPartnerKind { ref kind } }
          networkMap(layout: CIRCLE, sizeBy: BETWEENNESS, filter: { themes: [YOUTH] }) { total communities nodes { x y } } }",
        json!({ "a": a }),
    )
    .await;
    let n = &d["neighbourhood"];
    assert_eq!(n["nodes"][0]["distance"], 0);
    assert!(n["nodes"].as_array().unwrap().iter().any(|x| x["distance"] == 2));
    assert!(d["communities"]["count"].as_i64().unwrap() >= 2);
    assert!(d["communities"]["modularity"].as_f64().unwrap() > 0.0);
    for t in d["gaps"]["territoriesWithoutAction"].as_array().unwrap() {
        assert_eq!(t["kind"], "QPV");
    }
    assert!(d["networkMap"]["total"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn a_write_through_one_instance_reaches_the_other_within_a_second() {
    let t = TestDb::with_demo().await;
    // Two instances: two pools, two routers, two projections.
    let other_db = maillage::storage::open(&t.url).await.unwrap();
    let one = api::router(t.db.clone(), ServerConfig::default());
    let two = api::router(other_db, ServerConfig::default());
    let admin = keys::create(&t.db, Role::Admin, None, "t", false).await.unwrap();
    let k = Some(admin.as_str());
    let d = data(
        &one,
        k,
        "{ partners(first: 2, orderBy: { field: NAME, direction: DESC }) { nodes { id } } }",
        json!({}),
    )
    .await;
    let (a, b) = (
        d["partners"]["nodes"][0]["id"].clone(),
        d["partners"]["nodes"][1]["id"].clone(),
    );
    let q = "query($a: ID!, $b: ID!) { shortestPath(from: $a, to: $b, via: [RELATION]) { length steps { why } } }";
    let vars = json!({ "a": a, "b": b });
    // Both load their projection; 2 does not see the relation yet.
    data(&one, k, q, vars.clone()).await;
    let before = data(&two, k, q, vars.clone()).await;
    assert_ne!(before["shortestPath"]["length"], 1);
    let r = data(
        &one,
        k,
        "mutation($a: ID!, $b: ID!) { addRelation(input: { fromPartnerId: $a, toPartnerId: $b, kind: CONVENTION, weight: 3 }) { userErrors { message } } }",
        vars.clone(),
    )
    .await;
    assert_eq!(r["addRelation"]["userErrors"], json!([]));
    let written = Instant::now();
    // NOTIFY on PostgreSQL; polling (every 0.5 s) on SQLite.
    let budget = if common::engine() == "postgres" { 1.0 } else { 3.0 };
    loop {
        let d = data(&two, k, q, vars.clone()).await;
        if d["shortestPath"]["length"] == 1 {
            assert_eq!(
                d["shortestPath"]["steps"][0]["why"],
                json!(["convention relation (weight 3)"])
            );
            break;
        }
        assert!(
            written.elapsed().as_secs_f64() < budget,
            "instance 2 did not see the write within {budget} s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "seen by the other instance after {:?} ({})",
        written.elapsed(),
        common::engine()
    );
    // An import is a rebuild, seen too.
    maillage::domain::transfer::import(
        &t.db,
        &maillage::bundle::BundleFiles::demo(),
        maillage::domain::transfer::ImportOptions {
            replace: true,
            dry_run: false,
        },
        &maillage::storage::import::Silent,
    )
    .await
    .unwrap();
    // The import pruned the log: instances behind it rebuild when they
    // reach its row, so what came before is of no use.
    let log = changes_since(&t.db, 0, 1000).await.unwrap();
    assert_eq!(log.len(), 1, "only the import's row is left");
    assert!(log[0].op == ChangeOp::Rebuild);
    let written = Instant::now();
    loop {
        let d = data(&two, k, q, vars.clone()).await;
        if d["shortestPath"]["length"] != 1 {
            break;
        }
        assert!(
            written.elapsed().as_secs_f64() < budget + 2.0,
            "the import was not seen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn exports_parse_and_hold_the_map() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    let admin = keys::create(&t.db, Role::Admin, None, "t", false).await.unwrap();
    let k = Some(admin.as_str());
    let m = data(
        &app,
        k,
        "{ networkMap(limit: 5000) { total nodes { ref x size community } edges { source } } }",
        json!({}),
    )
    .await;
    let n_nodes = m["networkMap"]["nodes"].as_array().unwrap().len();
    let n_edges = m["networkMap"]["edges"].as_array().unwrap().len();
    let first = &m["networkMap"]["nodes"][0];
    let first_ref = first["ref"].as_str().unwrap();
    assert!(n_nodes > 100 && n_edges > 100);

    let (s, gexf) = get(&app, k, "/export/map.gexf?limit=5000").await;
    assert_eq!(s, StatusCode::OK);
    let doc = roxmltree::Document::parse(&gexf).unwrap();
    let gx = "http://gexf.net/1.3";
    let viz = "http://gexf.net/1.3/viz";
    assert_eq!(doc.root_element().attribute("version"), Some("1.3"));
    let nodes: Vec<_> = doc.descendants().filter(|n| n.has_tag_name((gx, "node"))).collect();
    assert_eq!(nodes.len(), n_nodes);
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name((gx, "edge"))).count(),
        n_edges
    );
    let node = nodes.iter().find(|n| n.attribute("id") == Some(first_ref)).unwrap();
    let pos = node.descendants().find(|n| n.has_tag_name((viz, "position"))).unwrap();
    assert_eq!(
        pos.attribute("x").unwrap().parse::<f64>().unwrap(),
        first["x"].as_f64().unwrap()
    );
    assert!(node.descendants().any(|n| n.has_tag_name((viz, "color"))));
    assert!(
        node.descendants()
            .any(|n| n.has_tag_name((gx, "attvalue")) && n.attribute("for") == Some("community"))
    );
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name((gx, "spell")) && n.attribute("start").is_some())
    );

    let (_, graphml) = get(&app, k, "/export/map.graphml?limit=5000").await;
    let doc = roxmltree::Document::parse(&graphml).unwrap();
    let gm = "http://graphml.graphdrawing.org/xmlns";
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name((gm, "node"))).count(),
        n_nodes
    );
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name((gm, "edge"))).count(),
        n_edges
    );
    let keys: HashSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((gm, "key")))
        .filter_map(|n| n.attribute("attr.name"))
        .collect();
    assert!(keys.is_superset(&HashSet::from([
        "label",
        "kind",
        "community",
        "x",
        "y",
        "weight",
        "why"
    ])));

    let (_, cy) = get(&app, k, "/export/map.cyjs?limit=5000").await;
    let cy: Value = serde_json::from_str(&cy).unwrap();
    assert_eq!(cy["elements"]["nodes"].as_array().unwrap().len(), n_nodes);
    assert_eq!(cy["elements"]["edges"].as_array().unwrap().len(), n_edges);
    let c0 = cy["elements"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["data"]["id"] == first_ref)
        .unwrap();
    assert_eq!(c0["position"]["x"], first["x"]);

    let (_, go) = get(&app, k, "/export/map.json?limit=5000").await;
    let go: Value = serde_json::from_str(&go).unwrap();
    assert_eq!(go["options"]["type"], "undirected");
    assert_eq!(go["nodes"].as_array().unwrap().len(), n_nodes);
    assert_eq!(go["edges"].as_array().unwrap().len(), n_edges);
    let g0 = go["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == first_ref)
        .unwrap();
    assert_eq!(g0["attributes"]["size"], first["size"]);
    assert!(g0["attributes"]["color"].as_str().unwrap().starts_with('#'));

    // Same filters, same scope rules: anonymous gets its smaller graph;
    // a bad filter or an unknown format is refused.
    let (_, anon) = get(&app, None, "/export/map.json?limit=5000").await;
    let anon: Value = serde_json::from_str(&anon).unwrap();
    assert!(anon["edges"].as_array().unwrap().len() < n_edges);
    let (_, small) = get(
        &app,
        k,
        "/export/map.json?via=NETWORK&themes=youth&partnerKinds=asso,ccas&territory=dep-57",
    )
    .await;
    let small: Value = serde_json::from_str(&small).unwrap();
    assert!(
        small["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| ["asso", "ccas"].contains(&n["attributes"]["kind"].as_str().unwrap()))
    );
    assert_eq!(
        get(&app, k, "/export/map.json?via=SMOKE").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(get(&app, k, "/export/map.pdf").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn export_map_command_writes_each_format() {
    let t = TestDb::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    for f in ["gexf", "graphml", "cyjs", "json"] {
        let out = dir.path().join(format!("map.{f}"));
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
            .env("DATABASE_URL", &t.url)
            .args(["export-map", "--format", f, "--limit", "40", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
        let text = std::fs::read_to_string(&out).unwrap();
        let nodes = match f {
            "gexf" | "graphml" => roxmltree::Document::parse(&text)
                .unwrap()
                .descendants()
                .filter(|n| n.tag_name().name() == "node")
                .count(),
            "cyjs" => serde_json::from_str::<Value>(&text).unwrap()["elements"]["nodes"]
                .as_array()
                .unwrap()
                .len(),
            _ => serde_json::from_str::<Value>(&text).unwrap()["nodes"]
                .as_array()
                .unwrap()
                .len(),
        };
        assert_eq!(nodes, 40, "{f}");
    }
}

#[tokio::test]
async fn graph_fields_count_against_the_cost_limit() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    // 20 000 partners × what each selects is over the anonymous budget.
    let r = post(
        &app,
        None,
        "{ networkMap(limit: 20000) { nodes { id label x y size } } }",
        json!({}),
    )
    .await;
    assert!(
        r["errors"][0]["message"].as_str().unwrap().contains("costs more"),
        "{r}"
    );
    let r = post(
        &app,
        None,
        "{ networkMap(limit: 100) { nodes { id label x y size } } }",
        json!({}),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
}
