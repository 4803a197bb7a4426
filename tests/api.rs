//! The GraphQL API over the demo data: paging, filters, orderings, nested
//! connections, aggregates, error codes, statement counts and the schema's
//! descriptions. Runs on SQLite, and on PostgreSQL with
//! `MAILLAGE_TEST_DATABASE_URL`.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::Request;
use common::TestDb;
use maillage::api::graphql::{ApiConfig, AppSchema, Loaders, schema};
use maillage::bundle::BundleFiles;
use maillage::storage::Scope;
use maillage::storage::entity::*;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};

struct Api {
    db: DatabaseConnection,
    schema: AppSchema,
}

impl Api {
    fn new(db: &DatabaseConnection) -> Api {
        Api {
            db: db.clone(),
            schema: schema(Some(db.clone()), ApiConfig::default()),
        }
    }

    /// The whole response, errors included. A query gets a query's
    /// loaders, as over HTTP (they keep their lookups, and pages read the
    /// columns their selection needs), a mutation a mutation's.
    async fn raw(&self, query: &str, vars: Value) -> Value {
        let loaders = if query.trim_start().starts_with("mutation") {
            Loaders::new(&self.db, &Scope::All)
        } else {
            Loaders::caching(&self.db, &Scope::All)
        };
        let req = Request::new(query)
            .variables(async_graphql::Variables::from_json(vars))
            .data(loaders)
            .data(Scope::All);
        serde_json::to_value(maillage::api::graphql::execute(&self.schema, req).await).unwrap()
    }

    /// `data`, after checking there was no error.
    async fn q(&self, query: &str, vars: Value) -> Value {
        let r = self.raw(query, vars).await;
        assert!(r.get("errors").is_none(), "{query}\n{r}");
        r["data"].clone()
    }

    /// The `extensions.code` of the first error.
    async fn err(&self, query: &str) -> String {
        let r = self.raw(query, json!({})).await;
        r["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {r}"))
            .to_string()
    }
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n[key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_ignores_case_accents_and_punctuation() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            r#"{ a: partners(filter: { search: "ecole" }) { nodes { name } }
                 b: partners(filter: { search: "ÉCOLE chance" }) { nodes { name } }
                 c: territories(filter: { search: "saint jean" }) { nodes { name } }
                 d: partners(filter: { search: "zzzz" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert!(strs(&d["a"]["nodes"], "name").contains(&"École de la 2e Chance de Moselle".to_string()));
    assert_eq!(strs(&d["b"]["nodes"], "name"), ["École de la 2e Chance de Moselle"]);
    assert!(strs(&d["c"]["nodes"], "name").contains(&"Le Clos Saint-Jean – Les Sablons".to_string()));
    assert_eq!(d["d"]["totalCount"], 0);
}

/// Walks a root list forward with `first`/`after` and backward with
/// `last`/`before`: both give the whole list, once each, in the same order.
#[tokio::test]
async fn pages_cover_a_list_once_forward_and_backward() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let q = r#"query($first: Int, $after: String, $last: Int, $before: String) {
        partners(first: $first, after: $after, last: $last, before: $before, orderBy: [{ field: KIND }, { field: NAME, direction: DESC }]) {
          totalCount edges { cursor node { ref kind name } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"#;
    let mut forward = vec![];
    let mut after = Value::Null;
    loop {
        let d = api.q(q, json!({ "first": 7, "after": after })).await;
        let p = &d["partners"];
        assert_eq!(p["totalCount"], 150);
        forward.extend(p["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward.len(), 150);
    let refs: HashSet<_> = forward.iter().map(|n| n["ref"].as_str().unwrap()).collect();
    assert_eq!(refs.len(), 150, "a page overlapped another");
    // The order asked: kind ascending (by its code), then name descending
    // (case and accents ignored).
    let code = |v: &Value| -> &'static str {
        let name = v.as_str().unwrap();
        maillage::model::PartnerKind::ALL
            .iter()
            .find(|k| {
                async_graphql::resolver_utils::enum_value(**k)
                    == async_graphql::Value::Enum(async_graphql::Name::new(name))
            })
            .unwrap()
            .as_str()
    };
    for w in forward.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let ka = code(&a["kind"]);
        let kb = code(&b["kind"]);
        assert!(ka <= kb, "{ka} then {kb}");
        if ka == kb {
            let na = maillage::model::text::search_key(a["name"].as_str().unwrap());
            let nb = maillage::model::text::search_key(b["name"].as_str().unwrap());
            assert!(na >= nb, "{na} then {nb}");
        }
    }

    let mut backward = vec![];
    let mut before = Value::Null;
    loop {
        let d = api.q(q, json!({ "last": 9, "before": before })).await;
        let p = &d["partners"];
        let mut page: Vec<Value> = p["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        page.extend(backward);
        backward = page;
        if !p["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
            break;
        }
        before = p["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(forward, backward);

    // A window between two cursors.
    let d = api.q(q, json!({ "first": 20 })).await;
    let edges = d["partners"]["edges"].as_array().unwrap();
    let (c3, c9) = (edges[3]["cursor"].clone(), edges[9]["cursor"].clone());
    let d = api.q(q, json!({ "first": 100, "after": c3, "before": c9 })).await;
    let mid: Vec<Value> = d["partners"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(mid, forward[4..9].to_vec());
}

/// A nested connection pages like a root one, for every parent at once.
#[tokio::test]
async fn nested_pages_match_the_whole_nested_list() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let whole = api
        .q(
            "{ networks(first: 100) { nodes { ref members(first: 100) { totalCount edges { node { ref } role } } } } }",
            json!({}),
        )
        .await;
    let memberships = membership::Entity::find().all(&t.db).await.unwrap();
    let mut per_network: HashMap<String, usize> = HashMap::new();
    let nets: HashMap<i64, String> = network::Entity::find()
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.id, n.r#ref))
        .collect();
    for m in &memberships {
        *per_network.entry(nets[&m.network_id].clone()).or_default() += 1;
    }
    for n in whole["networks"]["nodes"].as_array().unwrap() {
        let r = n["ref"].as_str().unwrap();
        assert_eq!(
            n["members"]["totalCount"].as_u64().unwrap() as usize,
            per_network.get(r).copied().unwrap_or(0),
            "{r}"
        );
    }
    // Page through every network's members 4 at a time, all networks in each request.
    let mut walked: HashMap<String, Vec<Value>> = HashMap::new();
    let mut after = Value::Null;
    for _ in 0..100 {
        let d = api
            .q(
                "query($after: String) { networks(first: 100) { nodes { ref members(first: 4, after: $after) { edges { node { ref } role } pageInfo { hasNextPage endCursor } } } } }",
                json!({ "after": after }),
            )
            .await;
        let mut next = None;
        for n in d["networks"]["nodes"].as_array().unwrap() {
            let m = &n["members"];
            for e in m["edges"].as_array().unwrap() {
                walked
                    .entry(n["ref"].as_str().unwrap().to_string())
                    .or_default()
                    .push(json!({ "node": e["node"], "role": e["role"] }));
            }
            if m["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                next = Some(m["pageInfo"]["endCursor"].clone());
            }
        }
        // Cursors are positions: a full page's end cursor continues every
        // parent's list.
        match next {
            Some(c) => after = c,
            None => break,
        }
    }
    for n in whole["networks"]["nodes"].as_array().unwrap() {
        let r = n["ref"].as_str().unwrap();
        let expected: Vec<Value> = n["members"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| json!({ "node": e["node"], "role": e["role"] }))
            .collect();
        assert_eq!(walked.get(r).cloned().unwrap_or_default(), expected, "{r}");
    }
}

#[tokio::test]
async fn territory_filters_reach_what_lies_inside() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            r#"{ all: actions { totalCount }
                 dep: actions(filter: { territory: { ref: "dep-57" } }) { totalCount }
                 depOnly: actions(filter: { territory: { ref: "dep-57", includeDescendants: false } }) { totalCount }
                 epci: territory(ref: "epci-245701222") {
                   actions { totalCount } direct: actions(includeDescendants: false) { totalCount }
                   descendants(first: 100) { totalCount nodes { kind } }
                   partnersServing { totalCount } } }"#,
            json!({}),
        )
        .await;
    // Every demo action takes place in Moselle: the department finds them all,
    // most through its communes and QPVs.
    let all = d["all"]["totalCount"].as_u64().unwrap();
    assert_eq!(d["dep"]["totalCount"].as_u64().unwrap(), all);
    assert!(d["depOnly"]["totalCount"].as_u64().unwrap() < all);
    let epci = &d["epci"];
    assert!(epci["actions"]["totalCount"].as_u64().unwrap() > epci["direct"]["totalCount"].as_u64().unwrap());
    let kinds: BTreeSet<_> = strs(&epci["descendants"]["nodes"], "kind").into_iter().collect();
    assert!(kinds.contains("COMMUNE") && kinds.contains("QPV"), "{kinds:?}");

    // A partner serving only a commune is found from the commune's EPCI.
    let served = partner_territory::Entity::find().all(&t.db).await.unwrap();
    let territories: HashMap<i64, territory::Model> = territory::Entity::find()
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let partners: HashMap<i64, partner::Model> = partner::Entity::find()
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let pt = served
        .iter()
        .find(|pt| {
            let p = &partners[&pt.partner_id];
            territories[&pt.territory_id].kind == maillage::model::TerritoryKind::Commune
                && served
                    .iter()
                    .filter(|o| o.partner_id == pt.partner_id)
                    .all(|o| territories[&o.territory_id].kind == maillage::model::TerritoryKind::Commune)
                && p.territory_id
                    .is_none_or(|s| territories[&s].kind == maillage::model::TerritoryKind::Commune)
        })
        .expect("a partner serving communes only");
    let commune = &territories[&pt.territory_id];
    let epci = &territories[&commune.parent_id.unwrap()];
    let p = &partners[&pt.partner_id];
    let d = api
        .q(
            r#"query($epci: String!, $p: String!) {
                 deep: partners(filter: { territory: { ref: $epci }, refs: [$p] }) { totalCount }
                 flat: partners(filter: { territory: { ref: $epci, includeDescendants: false }, refs: [$p] }) { totalCount } }"#,
            json!({ "epci": epci.r#ref, "p": p.r#ref }),
        )
        .await;
    assert_eq!(d["deep"]["totalCount"], 1, "{} serving {}", p.name, commune.name);
    assert_eq!(d["flat"]["totalCount"], 0);
}

#[tokio::test]
async fn filters_combine_and_match_a_direct_count() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            r#"{ all: actions { totalCount }
                 youth: actions(filter: { themes: [YOUTH] }) { totalCount }
                 health: actions(filter: { themes: [HEALTH] }) { totalCount }
                 either: actions(filter: { or: [{ themes: [YOUTH] }, { themes: [HEALTH] }] }) { totalCount }
                 notYouth: actions(filter: { not: { themes: [YOUTH] } }) { totalCount }
                 both: actions(filter: { and: [{ themes: [YOUTH] }, { statuses: [DONE] }] }) { totalCount }
                 youthDone: actions(filter: { themes: [YOUTH], statuses: [DONE] }) { totalCount }
                 budget: actions(first: 100, filter: { budget: { min: 10000, max: 50000 } }) { totalCount nodes { budget } }
                 active: actions(first: 100, filter: { activeOn: "2024-06-01" }) { totalCount nodes { startedOn endedOn } } }"#,
            json!({}),
        )
        .await;
    let n = |k: &str| d[k]["totalCount"].as_u64().unwrap();
    assert!(n("youth") > 0 && n("health") > 0);
    assert_eq!(n("either"), n("youth") + n("health"));
    assert_eq!(n("notYouth"), n("all") - n("youth"));
    assert_eq!(n("both"), n("youthDone"));

    let actions = action::Entity::find().all(&t.db).await.unwrap();
    let in_budget = actions
        .iter()
        .filter(|a| a.budget_cents.is_some_and(|b| (1_000_000..=5_000_000).contains(&b)))
        .count() as u64;
    assert!(in_budget > 0);
    assert_eq!(n("budget"), in_budget);
    let day = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
    let active = actions
        .iter()
        .filter(|a| a.started_on.is_none_or(|s| s <= day) && a.ended_on.is_none_or(|e| e >= day))
        .count() as u64;
    assert_eq!(n("active"), active);
}

#[tokio::test]
async fn orderings_sort_in_sql_with_nulls_last() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            "{ actions(first: 100, orderBy: [{ field: BUDGET, direction: DESC }]) { nodes { budget } } }",
            json!({}),
        )
        .await;
    let budgets: Vec<Option<f64>> = d["actions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["budget"].as_f64())
        .collect();
    let known: Vec<f64> = budgets.iter().map_while(|b| *b).collect();
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "{known:?}");
    assert!(budgets[known.len()..].iter().all(|b| b.is_none()), "nulls come last");
}

#[tokio::test]
async fn errors_carry_codes() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    assert_eq!(
        api.err("{ partners(first: 1000) { totalCount } }").await,
        "BAD_USER_INPUT"
    );
    assert_eq!(api.err("{ partners(last: -1) { totalCount } }").await, "BAD_USER_INPUT");
    assert_eq!(
        api.err(r#"{ partners(after: "not a cursor") { totalCount } }"#).await,
        "BAD_USER_INPUT"
    );
    let d = api.q("{ partners(first: 1) { nodes { id } } }", json!({})).await;
    let partner_id = d["partners"]["nodes"][0]["id"].as_str().unwrap().to_string();
    // A partner's id where a network's is expected.
    assert_eq!(
        api.err(&format!(
            r#"{{ partners(filter: {{ networks: ["{partner_id}"] }}) {{ totalCount }} }}"#
        ))
        .await,
        "BAD_USER_INPUT"
    );
    let d = api
        .q(r#"{ node(id: "bm9wZTox") { id } nodes(ids: ["x"]) { id } }"#, json!({}))
        .await;
    assert_eq!(d["node"], Value::Null);
    assert_eq!(d["nodes"], json!([null]));
}

#[tokio::test]
async fn action_stats_add_up() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            r#"{ total: actionStats { count budgetSum beneficiariesSum }
                 byTheme: actionStats(groupBy: [THEME]) { key { theme } count budgetSum }
                 byCommune: actionStats(groupBy: [TERRITORY_COMMUNE]) { key { territory { kind name } } count }
                 byEpci: actionStats(groupBy: [TERRITORY_EPCI]) { key { territory { kind } } count } }"#,
            json!({}),
        )
        .await;
    let actions = action::Entity::find().all(&t.db).await.unwrap();
    assert_eq!(d["total"][0]["count"].as_u64().unwrap() as usize, actions.len());
    let budget: i64 = actions.iter().filter_map(|a| a.budget_cents).sum();
    assert!((d["total"][0]["budgetSum"].as_f64().unwrap() - budget as f64 / 100.0).abs() < 0.01);
    let by_theme: Vec<&Value> = d["byTheme"].as_array().unwrap().iter().collect();
    assert_eq!(
        by_theme.iter().map(|g| g["count"].as_u64().unwrap()).sum::<u64>() as usize,
        actions.len(),
        "each action in one theme group"
    );
    for g in by_theme {
        let theme = g["key"]["theme"].as_str().unwrap().to_lowercase();
        let expect: i64 = actions
            .iter()
            .filter(|a| a.theme.as_str() == theme)
            .filter_map(|a| a.budget_cents)
            .sum();
        assert!(
            (g["budgetSum"].as_f64().unwrap() - expect as f64 / 100.0).abs() < 0.01,
            "{theme}"
        );
    }
    for g in d["byCommune"].as_array().unwrap() {
        assert_eq!(g["key"]["territory"]["kind"], "COMMUNE");
    }
    // One EPCI in the demo: every action placed at or below it counts once.
    let epci = d["byEpci"].as_array().unwrap();
    assert_eq!(epci.len(), 1);
    assert!(epci[0]["count"].as_u64().unwrap() as usize <= actions.len());
}

#[tokio::test]
async fn degree_counts_distinct_linked_partners() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            "{ partners(first: 100) { nodes { ref degree net: degree(via: [NETWORK]) rel: degree(via: [RELATION]) } } }",
            json!({}),
        )
        .await;
    let ids: HashMap<i64, String> = partner::Entity::find()
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.r#ref))
        .collect();
    type Links = HashMap<String, HashSet<String>>;
    let (mut net, mut all, mut rel) = (Links::new(), Links::new(), Links::new());
    let memberships = membership::Entity::find().all(&t.db).await.unwrap();
    let parts = action_partner::Entity::find().all(&t.db).await.unwrap();
    let relations = relation::Entity::find().all(&t.db).await.unwrap();
    let link = |m: &mut Links, a: i64, b: i64| {
        if a != b {
            m.entry(ids[&a].clone()).or_default().insert(ids[&b].clone());
        }
    };
    for x in &memberships {
        for y in memberships.iter().filter(|y| y.network_id == x.network_id) {
            link(&mut net, x.partner_id, y.partner_id);
            link(&mut all, x.partner_id, y.partner_id);
        }
    }
    for x in &parts {
        for y in parts.iter().filter(|y| y.action_id == x.action_id) {
            link(&mut all, x.partner_id, y.partner_id);
        }
    }
    for r in &relations {
        for (a, b) in [
            (r.from_partner_id, r.to_partner_id),
            (r.to_partner_id, r.from_partner_id),
        ] {
            link(&mut rel, a, b);
            link(&mut all, a, b);
        }
    }
    let size = |m: &Links, r: &str| m.get(r).map_or(0, |s| s.len()) as u64;
    for n in d["partners"]["nodes"].as_array().unwrap() {
        let r = n["ref"].as_str().unwrap();
        assert_eq!(n["degree"].as_u64().unwrap(), size(&all, r), "{r}");
        assert_eq!(n["net"].as_u64().unwrap(), size(&net, r), "{r}");
        assert_eq!(n["rel"].as_u64().unwrap(), size(&rel, r), "{r}");
    }
}

/// Imports `n` copies of the demo beside it (`demo_copy`), for ten times
/// the data with `n` = 9.
async fn import_demo_copies(db: &sea_orm::DatabaseConnection, n: usize) {
    for i in 1..=n {
        maillage::domain::transfer::import(
            db,
            &demo_copy(i),
            Default::default(),
            &maillage::storage::import::Silent,
        )
        .await
        .expect("import a copy of the demo");
    }
}

/// The demo bundle again, with every partner, contact, network and action
/// ref prefixed: as many new records, in the same territories.
fn demo_copy(i: usize) -> BundleFiles {
    let mut out = BundleFiles::default();
    for (name, bytes) in BundleFiles::demo().files {
        if name == "territories.csv" {
            out.files.insert(name, bytes);
            continue;
        }
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[..]);
        let mut w = csv::Writer::from_writer(vec![]);
        for (n, rec) in r.records().enumerate() {
            let rec = rec.unwrap();
            let fields: Vec<String> = rec
                .iter()
                .map(|f| {
                    let is_ref = n > 0
                        && ["ptn-", "net-", "act-", "ct-"]
                            .iter()
                            .any(|p| f.starts_with(p) && f[p.len()..].bytes().all(|b| b.is_ascii_digit()));
                    if is_ref { format!("c{i}-{f}") } else { f.to_string() }
                })
                .collect();
            w.write_record(&fields).unwrap();
        }
        out.files.insert(name, w.into_inner().unwrap());
    }
    out
}

/// Counts the statements a query costs.
async fn statements(url: &str, query: &str) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let mut db = maillage::storage::connect(url).await.unwrap();
    let c = count.clone();
    db.set_metric_callback(move |i| {
        if std::env::var_os("SHOW_SQL").is_some() {
            eprintln!("SQL {}", &i.statement.sql[..i.statement.sql.len().min(120)]);
        }
        c.fetch_add(1, Ordering::SeqCst);
    });
    let api = Api::new(&db);
    let d = api.q(query, json!({})).await;
    assert!(!d["networks"]["nodes"].as_array().unwrap().is_empty());
    count.load(Ordering::SeqCst)
}

/// No N+1: a 3-level nested query costs the same number of statements on the
/// demo and on ten times the demo, a number bounded by the query's depth.
#[tokio::test]
async fn nested_queries_cost_statements_by_depth_not_by_size() {
    let query = r#"{ networks(first: 50) { totalCount nodes { name territory { name }
        members(first: 20, membership: { roles: [PILOT, MEMBER, OPERATOR] }) { totalCount edges { role node { name seat { name }
          actions(first: 5) { totalCount edges { role node { title theme territories(first: 3) { nodes { name } } } } } } } } } } }"#;
    let small = TestDb::with_demo().await;
    let big = TestDb::with_demo().await;
    import_demo_copies(&big.db, 9).await;
    assert_eq!(
        partner::Entity::find().all(&big.db).await.unwrap().len(),
        10 * partner::Entity::find().all(&small.db).await.unwrap().len()
    );
    // A level's batch waits for its resolvers to go quiet (loaders.rs,
    // `settle`); on a machine loaded enough to pause a thread mid-level it
    // may fire in two parts. That is a cost of scheduling, not of the data:
    // the fewest statements over three runs is what the query costs.
    let mut s = usize::MAX;
    let mut b = usize::MAX;
    for _ in 0..3 {
        s = s.min(statements(&small.url, query).await);
        b = b.min(statements(&big.url, query).await);
    }
    assert_eq!(s, b, "statement count grew with the data");
    // Levels: networks (count + page), network territories, members (with
    // their partners, joined), seats, actions (with the actions, joined),
    // territories: 7. Reading an edge's node by id apart made it 9.
    assert!(s <= 7, "{s} statements for a 4-level query");
}

/// A query's loaders keep their lookups by id, so a page fetches what its
/// rows point at in one call before the references are resolved
/// (`prefetch`: seats, parents, territories, networks, partners); the
/// answer is the one loaders that keep nothing give, for no more statements.
#[tokio::test]
async fn caching_loaders_answer_as_the_plain_ones() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let query = "{ partners(first: 100, orderBy: [{ field: NAME }]) {
        nodes { name seat { name code } parent { name seat { name } } }
        edges { node { seat { kind } } } }
      territories(first: 30) { nodes { name parent { name } partnersBased(first: 5) { nodes { name seat { name } } } } }
      networks(first: 50) { nodes { name territory { code } parent { name }
        members(first: 10) { edges { role node { name seat { name } parent { ref } } } } } }
      actions(first: 50) { nodes { title network { name } } }
      contacts(first: 50) { nodes { roleTitle partner { name seat { code } } } } }";
    let url = &t.url;
    let run = |caching: bool| {
        let schema = api.schema.clone();
        async move {
            let count = Arc::new(AtomicUsize::new(0));
            let mut counted = maillage::storage::connect(url).await.unwrap();
            let c = count.clone();
            counted.set_metric_callback(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
            });
            let loaders = if caching {
                Loaders::caching(&counted, &Scope::All)
            } else {
                Loaders::new(&counted, &Scope::All)
            };
            let req = Request::new(query).data(loaders).data(Scope::All);
            let r = serde_json::to_value(maillage::api::graphql::execute(&schema, req).await).unwrap();
            assert!(r.get("errors").is_none(), "{r}");
            (r, count.load(Ordering::SeqCst))
        }
    };
    let (plain, plain_statements) = run(false).await;
    let (cached, cached_statements) = run(true).await;
    assert_eq!(plain, cached);
    let seats = plain["data"]["partners"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["seat"].is_null())
        .count();
    assert!(seats > 50, "{seats} partners with a seat");
    assert!(
        cached_statements <= plain_statements,
        "{cached_statements} > {plain_statements}"
    );
}

/// Drops every `totalCount` of an answer.
fn without_totals(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("totalCount");
            m.values_mut().for_each(without_totals);
        }
        Value::Array(a) => a.iter_mut().for_each(without_totals),
        _ => {}
    }
}

/// A nested first page holds the same rows, cursors and `pageInfo` whether
/// its size is asked or not: on PostgreSQL, without `totalCount` each
/// parent's rows are read by a `LATERAL` subquery that stops after the page,
/// with it by a window over every row of every parent.
#[tokio::test]
async fn nested_first_pages_agree_with_and_without_their_size() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    for first in [1, 2, 100] {
        let q = |count: &str| {
            format!(
                "{{ partners(first: 100) {{ nodes {{ id
                   actions(first: {first}) {{ {count} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
                     edges {{ cursor role contribution node {{ id title }} }} }}
                   networks(first: {first}) {{
                     {count} pageInfo {{ hasNextPage }} edges {{ role node {{ id name }} }} }}
                   contacts(first: {first}) {{ {count} pageInfo {{ hasNextPage }} nodes {{ id }} }}
                   relationsOut(first: {first}) {{ {count} pageInfo {{ hasNextPage }} edges {{ kind node {{ id }} }} }} }} }} }}"
            )
        };
        let mut with = api.q(&q("totalCount"), json!({})).await;
        let without = api.q(&q(""), json!({})).await;
        let partners = with["partners"]["nodes"].as_array().unwrap();
        assert!(partners.len() > 50);
        let more = partners
            .iter()
            .filter(|p| p["actions"]["pageInfo"]["hasNextPage"] == json!(true))
            .count();
        let edges: usize = partners
            .iter()
            .map(|p| p["actions"]["edges"].as_array().unwrap().len())
            .sum();
        assert!(
            edges > partners.len() / 2 * first.min(2),
            "first {first}: {edges} action edges"
        );
        if first < 100 {
            assert!(more > 10, "first {first}: only {more} partners have a next page");
        }
        without_totals(&mut with);
        assert_eq!(with, without, "first {first}");
    }
}

/// Every type, field, argument, input field and enum value of the schema
/// says what it is.
#[tokio::test]
async fn every_part_of_the_schema_is_described() {
    let t = TestDb::new().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            "{ __schema { types { name kind description
                 fields { name description args { name description } }
                 inputFields { name description }
                 enumValues { name description } } } }",
            json!({}),
        )
        .await;
    let mut missing = vec![];
    let blank = |v: &Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    for ty in d["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if blank(&ty["description"]) {
            missing.push(name.to_string());
        }
        for f in ty["fields"].as_array().into_iter().flatten() {
            if blank(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if blank(&a["description"]) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for f in ty["inputFields"].as_array().into_iter().flatten() {
            if blank(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
        }
        for v in ty["enumValues"].as_array().into_iter().flatten() {
            if blank(&v["description"]) {
                missing.push(format!("{name}.{}", v["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

/// Every connection type has the same four fields, `nodes` included (the
/// connections over link tables had `edges` only), and its `nodes` are of
/// the type of its edges' `node`. Found by walking the live schema, so a
/// connection added later is checked too.
#[tokio::test]
async fn every_connection_has_nodes_edges_page_info_and_a_total() {
    let t = TestDb::new().await;
    let api = Api::new(&t.db);
    let d = api
        .q(
            "{ __schema { types { name fields { name
                 type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }",
            json!({}),
        )
        .await;
    let types = d["__schema"]["types"].as_array().unwrap();
    let field_type = |ty: &str, field: &str| -> Option<String> {
        let t = types.iter().find(|t| t["name"] == ty)?;
        let f = t["fields"].as_array()?.iter().find(|f| f["name"] == field)?;
        fn spell(t: &Value) -> String {
            match t["kind"].as_str().unwrap() {
                "NON_NULL" => format!("{}!", spell(&t["ofType"])),
                "LIST" => format!("[{}]", spell(&t["ofType"])),
                _ => t["name"].as_str().unwrap().to_owned(),
            }
        }
        Some(spell(&f["type"]))
    };
    let mut checked = vec![];
    let mut wrong = vec![];
    for ty in types {
        let name = ty["name"].as_str().unwrap();
        if !name.ends_with("Connection") {
            continue;
        }
        checked.push(name);
        let edges = field_type(name, "edges");
        let edge = edges
            .as_deref()
            .and_then(|e| e.strip_prefix('[')?.strip_suffix("!]!"))
            .map(str::to_owned);
        let node = edge.as_deref().and_then(|e| field_type(e, "node"));
        let expected = [
            ("edges", edges.clone().filter(|_| edge.is_some())),
            ("nodes", node.map(|n| format!("[{n}]!"))),
            ("pageInfo", Some("PageInfo!".to_owned())),
            ("totalCount", Some("Int!".to_owned())),
        ];
        for (field, want) in expected {
            let got = field_type(name, field);
            if got.is_none() || got != want {
                wrong.push(format!("{name}.{field}: {got:?}, expected {want:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    for link in [
        "PartnerActionConnection",
        "PartnerNetworkConnection",
        "NetworkMemberConnection",
        "ActionParticipantConnection",
        "PartnerRelationConnection",
    ] {
        assert!(checked.contains(&link), "{link} not found in {checked:?}");
    }
    assert!(checked.len() >= 11, "{checked:?}");
}

/// A link connection's `nodes` are its edges' nodes, in the same order:
/// `actions(first: 5) { nodes { title } }` of a demo partner (alone, through
/// `node`), and every link connection on a page of parents (prefetched),
/// asked as `nodes`, as `edges { node }`, and as both at once.
#[tokio::test]
async fn link_connections_list_their_edges_nodes() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let page = api
        .q(
            "{ partners(first: 100) { nodes { id actions(first: 5) { totalCount edges { node { title } } } } } }",
            json!({}),
        )
        .await;
    let partner = page["partners"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["actions"]["totalCount"].as_u64().unwrap() > 5)
        .expect("a demo partner with more than five actions");
    let via_edges: Vec<Value> = partner["actions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(via_edges.len(), 5);
    let alone = api
        .q(
            "query($id: ID!) { node(id: $id) { ... on Partner { actions(first: 5) { nodes { title } } } } }",
            json!({ "id": partner["id"] }),
        )
        .await;
    assert_eq!(alone["node"]["actions"]["nodes"], Value::Array(via_edges));

    let links = [
        "partners(first: 100) { nodes { actions(first: 5) { @L } } }",
        "partners(first: 100) { nodes { networks(first: 5) { @L } } }",
        "partners(first: 60) { nodes { relationsOut(first: 5) { @L } } }",
        "partners(first: 60) { nodes { relationsIn(first: 5) { @L } } }",
        "networks(first: 20) { nodes { members(first: 30, membership: { roles: [PILOT, MEMBER] }) { @L } } }",
        "actions(first: 50) { nodes { participants(last: 3) { @L } } }",
    ];
    let fields = "id ref __typename";
    let ask = async |list: &str| {
        let q = format!(
            "{{ {} }}",
            links
                .iter()
                .enumerate()
                .map(|(i, l)| format!("l{i}: {}", l.replace("@L", &list.replace("@F", fields))))
                .collect::<Vec<_>>()
                .join(" ")
        );
        api.q(&q, json!({})).await
    };
    let nodes = ask("nodes { @F }").await;
    let edges = ask("edges { node { @F } }").await;
    let both = ask("totalCount nodes { @F } edges { node { @F } }").await;
    for i in 0..links.len() {
        let mut seen = 0;
        let parents = |d: &Value| d[format!("l{i}")]["nodes"].as_array().unwrap().clone();
        let (n, e, b) = (parents(&nodes), parents(&edges), parents(&both));
        assert_eq!(n.len(), e.len());
        for ((n, e), b) in n.iter().zip(&e).zip(&b) {
            let conn = |v: &Value| v.as_object().unwrap().values().find(|c| c.is_object()).unwrap().clone();
            let (n, e, b) = (conn(n), conn(e), conn(b));
            let of_edges: Vec<Value> = e["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["node"].clone())
                .collect();
            assert_eq!(n["nodes"], Value::Array(of_edges.clone()), "{}", links[i]);
            assert_eq!(b["nodes"], Value::Array(of_edges.clone()), "{}", links[i]);
            assert_eq!(b["edges"], e["edges"], "{}", links[i]);
            seen += of_edges.len();
        }
        assert!(seen > 0, "{}: no link", links[i]);
    }
}

/// `nodes` on link connections is batched as `edges` is: a nested query
/// asking its links' nodes costs the statements of the one asking their
/// edges, and stays within the same bound.
#[tokio::test]
async fn link_nodes_cost_the_statements_of_their_edges() {
    let edges = r#"{ networks(first: 50) { nodes { name
        members(first: 20) { edges { node { name seat { name }
          actions(first: 5) { edges { node { title territories(first: 3) { nodes { name } } } } } } } } } } }"#;
    let nodes = r#"{ networks(first: 50) { nodes { name
        members(first: 20) { nodes { name seat { name }
          actions(first: 5) { nodes { title territories(first: 3) { nodes { name } } } } } } } } }"#;
    let t = TestDb::with_demo().await;
    // The fewest over three runs (see `nested_queries_cost_statements_by_depth_not_by_size`).
    let mut e = usize::MAX;
    let mut n = usize::MAX;
    for _ in 0..3 {
        e = e.min(statements(&t.url, edges).await);
        n = n.min(statements(&t.url, nodes).await);
    }
    assert_eq!(n, e, "nodes cost {n} statements, edges {e}");
    // Levels: networks, members (with their partners, joined), seats,
    // actions (joined), territories.
    assert!(n <= 5, "{n} statements for a 4-level query");
}

/// The ready-to-run operations of `examples/graphql/` answer something
/// substantial on the demo data.
#[tokio::test]
async fn the_three_users_examples_give_real_answers() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let count = |v: &Value| v.as_array().map_or(0, |a| a.len());

    let d = api
        .q(include_str!("../examples/graphql/analyst.graphql"), json!({}))
        .await;
    let cispds = d["networks"]["nodes"].as_array().unwrap();
    assert!(!cispds.is_empty());
    let members: Vec<&Value> = cispds
        .iter()
        .flat_map(|n| n["members"]["edges"].as_array().unwrap())
        .collect();
    assert!(!members.is_empty(), "no CISPD member works on youth in a QPV: {d}");
    for m in &members {
        let acts = m["node"]["actions"]["edges"].as_array().unwrap();
        assert!(!acts.is_empty(), "{m}");
        for a in acts {
            assert!(count(&a["node"]["territories"]["nodes"]) > 0, "{a}");
        }
    }
    assert!(count(&d["youthInQpvs"]) > 0);

    let d = api
        .q(include_str!("../examples/graphql/portal.graphql"), json!({}))
        .await;
    let p = &d["partner"];
    assert_eq!(p["name"], "Mission Locale du Val de Fensch");
    assert!(count(&p["contacts"]["nodes"]) > 0, "{p}");
    assert!(count(&p["networks"]["edges"]) > 0, "{p}");
    assert!(count(&p["actions"]["edges"]) > 0, "{p}");
    assert!(count(&p["seat"]["ancestors"]) >= 2, "{p}");
    assert!(p["degree"].as_u64().unwrap() > 10);

    let d = api.q(include_str!("../examples/graphql/map.graphql"), json!({})).await;
    let nodes = d["partners"]["nodes"].as_array().unwrap();
    assert!(nodes.len() > 50, "{} nodes", nodes.len());
    let ids: HashSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let membership_edges: usize = d["networks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| count(&n["members"]["edges"]))
        .sum();
    let relation_edges = nodes
        .iter()
        .flat_map(|n| n["relationsOut"]["edges"].as_array().unwrap())
        .filter(|e| ids.contains(e["node"]["id"].as_str().unwrap()))
        .count();
    assert!(
        membership_edges > 50 && relation_edges > 50,
        "{membership_edges} {relation_edges}"
    );
}

/// How many times the statement of this session matching `like` ran with
/// its cached (generic) plan and with a plan made for the execution
/// (`pg_prepared_statements`: the session's own, so `db` has one connection).
async fn plans(db: &sea_orm::DatabaseConnection, like: &str) -> (i64, i64) {
    let plans = sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        // Not this statement, which holds the pattern too.
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE $1 AND statement NOT LIKE '%pg_prepared_statements%'",
        [like.into()],
    );
    let row = sea_orm::ConnectionTrait::query_one_raw(db, plans)
        .await
        .unwrap()
        .expect("the page's statement is prepared");
    (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap())
}

/// On PostgreSQL a root page is planned once per connection, not at every
/// execution: its bounds are written into the statement, where `LIMIT $1
/// OFFSET $2` made PostgreSQL plan it again each time (a generic plan's
/// guess of a parameter `LIMIT` is a tenth of the table, dearer than any
/// custom plan, so it never switched). SQLite plans when it prepares.
#[tokio::test]
async fn root_pages_reuse_their_plan_on_postgres() {
    if common::engine() != "postgres" {
        return;
    }
    let t = TestDb::with_demo().await;
    // One connection: `pg_prepared_statements` shows its own session's.
    let db = maillage::storage::connect_with(&t.url, Some(1)).await.unwrap();
    let api = Api::new(&db);
    for _ in 0..10 {
        api.q(
            "{ partners(first: 5, orderBy: [{ field: NAME }]) { nodes { name } } }",
            json!({}),
        )
        .await;
    }
    let (generic, custom) = plans(&db, "%FROM \"partners\"%LIMIT 6 OFFSET 0").await;
    assert!(
        generic >= 9 && custom <= 1,
        "10 executions: {generic} with the cached plan, {custom} planned anew"
    );
}

/// On PostgreSQL the nested page of one parent (a `node`'s lists: a
/// portal's home page) is planned once per connection too: its parent is
/// `= $1`, where `= ANY` of a one-element array was planned at every
/// execution (the generic plan guesses ten elements, so it never looks as
/// cheap as the custom one).
#[tokio::test]
async fn the_nested_page_of_one_parent_reuses_its_plan_on_postgres() {
    if common::engine() != "postgres" {
        return;
    }
    // Ten times the demo: on the demo alone the contacts are so few that
    // either plan reads the whole table, and the generic one was kept anyway.
    let t = TestDb::with_demo().await;
    import_demo_copies(&t.db, 9).await;
    let db = maillage::storage::connect_with(&t.url, Some(1)).await.unwrap();
    let analyze = sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, "ANALYZE");
    sea_orm::ConnectionTrait::execute_raw(&db, analyze).await.unwrap();
    let api = Api::new(&db);
    let first = api.q("{ partners(first: 1) { nodes { id } } }", json!({})).await;
    let id = first["partners"]["nodes"][0]["id"].clone();
    for _ in 0..10 {
        // `totalCount` makes it a window (the first page alone is a `LATERAL`).
        api.q(
            "query($id: ID!) { node(id: $id) { ... on Partner { contacts(first: 5) { totalCount nodes { fullName } } } } }",
            json!({ "id": id }),
        )
        .await;
    }
    let (generic, custom) = plans(&db, "%FROM \"contacts\"%").await;
    assert!(
        generic >= 5 && custom <= 5,
        "10 executions: {generic} with the cached plan, {custom} planned anew"
    );
}

/// A root page of partners brings the seats its client selected in its own
/// statement (a `LEFT JOIN`), where the seats by id cost a second one.
#[tokio::test]
async fn a_page_of_partners_and_their_seats_is_one_statement() {
    let t = TestDb::with_demo().await;
    let count = Arc::new(AtomicUsize::new(0));
    let mut db = maillage::storage::connect(&t.url).await.unwrap();
    let c = count.clone();
    db.set_metric_callback(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let schema = schema(Some(db.clone()), ApiConfig::default());
    let query = "{ partners(first: 40, orderBy: [{ field: NAME }]) { nodes { name seat { name code } } } }";
    let req = Request::new(query)
        .data(Loaders::caching(&db, &Scope::All))
        .data(Scope::All);
    let r = serde_json::to_value(maillage::api::graphql::execute(&schema, req).await).unwrap();
    assert!(r.get("errors").is_none(), "{r}");
    let nodes = r["data"]["partners"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 40);
    assert!(nodes.iter().filter(|p| !p["seat"].is_null()).count() > 20, "{r}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "statements for a page and its seats");
}

/// The selection of a field of type `ty`, for asking it alone: a leaf as
/// itself, an object by its `__typename` (null or not tells a missing
/// reference), a connection by its size. `None` for a field that needs
/// arguments.
fn probe(field: &Value) -> Option<String> {
    if field["args"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null())
    {
        return None;
    }
    let mut ty = &field["type"];
    while ty["kind"] == "NON_NULL" || ty["kind"] == "LIST" {
        ty = &ty["ofType"];
    }
    let name = field["name"].as_str().unwrap();
    let type_name = ty["name"].as_str().unwrap();
    Some(match ty["kind"].as_str().unwrap() {
        "SCALAR" | "ENUM" => name.to_owned(),
        _ if type_name.ends_with("Connection") => format!("{name} {{ totalCount }}"),
        _ => format!("{name} {{ __typename }}"),
    })
}

/// A query's pages read only the columns their selection needs
/// (`api::graphql::columns`), the others' fields holding placeholders.
/// Every field of every node type over a table, asked alone through each
/// kind of page (root, nested, link, a root page joined to its seats),
/// answers as it does from whole rows (a mutation's loaders read whole
/// rows): a field listed with too few columns would answer a placeholder.
#[tokio::test]
async fn every_field_answers_as_from_whole_rows() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let pages: &[(&str, &[&str])] = &[
        (
            "Partner",
            &[
                "partners(first: 100) { nodes { F } }",
                "partners(first: 60, orderBy: [{ field: NAME }]) { nodes { seat { id } F } }",
                "networks(first: 10) { nodes { members(first: 20) { edges { node { F } } } } }",
                "territories(first: 40) { nodes { partnersBased(first: 10) { nodes { F } } } }",
                "partners(first: 40) { nodes { relationsOut(first: 5) { edges { node { F } } } } }",
                "networks(first: 10) { nodes { members(first: 20) { nodes { F } } } }",
                "actions(first: 30) { nodes { participants(first: 5) { nodes { F } } } }",
                "partners(first: 40) { nodes { relationsIn(first: 5) { nodes { F } } } }",
            ],
        ),
        (
            "Territory",
            &[
                "territories(first: 100) { nodes { F } }",
                "partners(first: 60, orderBy: [{ field: NAME }]) { nodes { seat { F } } edges { node { seat { id } } } }",
                "partners(first: 50) { nodes { territoriesServed(first: 10) { nodes { F } } } }",
                "territories(first: 20) { nodes { children(first: 10) { edges { node { F } } } } }",
            ],
        ),
        (
            "Contact",
            &[
                "contacts(first: 100) { nodes { F } }",
                "partners(first: 100) { nodes { contacts(first: 5) { nodes { F } } } }",
            ],
        ),
        (
            "Network",
            &[
                "networks(first: 100) { nodes { F } }",
                "partners(first: 100) { nodes { networks(first: 5) { edges { node { F } } } } }",
                "partners(first: 100) { nodes { networks(first: 5) { nodes { F } } } }",
            ],
        ),
        (
            "Action",
            &[
                "actions(first: 100) { nodes { F } }",
                "partners(first: 100) { nodes { actions(first: 5) { edges { node { F } } } } }",
                "partners(first: 100) { nodes { actions(first: 5) { nodes { F } } } }",
                "networks(first: 30) { nodes { actions(first: 5) { nodes { F } } } }",
            ],
        ),
        // The edges of link pages read the link columns their fields need
        // (`columns::of_edges`), and the link records they hand out, whole.
        (
            "NetworkMemberEdge",
            &["networks(first: 20) { nodes { members(first: 30) { edges { F } } } }"],
        ),
        (
            "PartnerNetworkEdge",
            &["partners(first: 100) { nodes { networks(first: 5) { edges { F } } } }"],
        ),
        (
            "PartnerActionEdge",
            &["partners(first: 100) { nodes { actions(first: 5) { edges { F } } } }"],
        ),
        (
            "ActionParticipantEdge",
            &["actions(first: 50) { nodes { participants(first: 5) { edges { F } } } }"],
        ),
        (
            "PartnerRelationEdge",
            &[
                "partners(first: 60) { nodes { relationsOut(first: 5) { edges { F } } } }",
                "partners(first: 60) { nodes { relationsIn(first: 5) { edges { F } } } }",
            ],
        ),
        (
            "Membership",
            &["networks(first: 20) { nodes { members(first: 30) { edges { role membership { F } } } } }"],
        ),
        (
            "Participation",
            &["partners(first: 100) { nodes { actions(first: 5) { edges { participation { F } } } } }"],
        ),
        (
            "PartnerRelation",
            &["partners(first: 60) { nodes { relationsOut(first: 5) { edges { weight relation { F } } } } }"],
        ),
    ];
    let run = |query: String, caching: bool| {
        let (db, schema) = (api.db.clone(), api.schema.clone());
        async move {
            let loaders = if caching {
                Loaders::caching(&db, &Scope::All)
            } else {
                Loaders::new(&db, &Scope::All)
            };
            let req = Request::new(query.clone()).data(loaders).data(Scope::All);
            let r = serde_json::to_value(maillage::api::graphql::execute(&schema, req).await).unwrap();
            assert!(r.get("errors").is_none(), "{query}\n{r}");
            r
        }
    };
    let mut probed = 0;
    for (ty, paths) in pages {
        let d = api
            .q(
                "query($t: String!) { __type(name: $t) { fields { name
                   args { type { kind } defaultValue }
                   type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }",
                json!({ "t": ty }),
            )
            .await;
        let fields = d["__type"]["fields"].as_array().unwrap();
        assert!(fields.len() > 4, "{ty}: {d}");
        for field in fields {
            let Some(sel) = probe(field) else { continue };
            let query = format!(
                "{{ {} }}",
                paths
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("p{i}: {}", p.replace('F', &sel)))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let whole = run(query.clone(), false).await;
            let narrow = run(query.clone(), true).await;
            assert_eq!(whole, narrow, "{ty}.{}: {query}", field["name"]);
            probed += 1;
        }
    }
    assert!(probed > 100, "{probed} fields probed");
}

/// A page's statement selects the columns its selection needs, not every
/// column of the table.
#[tokio::test]
async fn a_page_reads_the_columns_its_selection_needs() {
    let t = TestDb::with_demo().await;
    let statements = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut db = maillage::storage::connect(&t.url).await.unwrap();
    let s = statements.clone();
    db.set_metric_callback(move |i| s.lock().unwrap().push(i.statement.sql.clone()));
    let schema = schema(Some(db.clone()), ApiConfig::default());
    let run = |query: &'static str| {
        let (db, schema, statements) = (db.clone(), schema.clone(), statements.clone());
        async move {
            statements.lock().unwrap().clear();
            let req = Request::new(query)
                .data(Loaders::caching(&db, &Scope::All))
                .data(Scope::All);
            let r = serde_json::to_value(maillage::api::graphql::execute(&schema, req).await).unwrap();
            assert!(r.get("errors").is_none(), "{r}");
            statements.lock().unwrap().join("\n")
        }
    };
    let names = run("{ partners(first: 5) { nodes { name } } }").await;
    assert!(names.contains("\"name\""), "{names}");
    assert!(
        !names.contains("\"description\"") && !names.contains("\"siret\""),
        "{names}"
    );
    let described = run("{ partners(first: 5) { nodes { name description } } }").await;
    assert!(
        described.contains("\"description\"") && !described.contains("\"siret\""),
        "{described}"
    );
    // The targets of a link page: the actions of partners, titles only;
    // and of the links, their role alone.
    let titles = run("{ partners(first: 5) { nodes { actions(first: 2) { edges { role node { title } } } } } }").await;
    assert!(
        titles.contains("\"title\"") && !titles.contains("\"budget_cents\""),
        "{titles}"
    );
    assert!(
        titles.contains("\"action_partners\".\"role\"") && !titles.contains("\"contribution_cents\""),
        "{titles}"
    );
    let members = run("{ networks(first: 3) { nodes { members(first: 5) { edges { since node { name } } } } } }").await;
    assert!(
        members.contains("\"memberships\".\"since\"")
            && !members.contains("\"memberships\".\"role\"")
            && !members.contains("\"memberships\".\"created_at\""),
        "{members}"
    );
}

/// A page prefetches the nested pages its nodes' selection asks for
/// (`Network.members`, `Partner.actions`, `Partner.networks`), reading
/// their arguments from the query itself: what a node then answers must be
/// what it answers alone (`node(id)`, which prefetches nothing), for every
/// argument those fields take, given inline, by variable and through
/// fragments.
#[tokio::test]
async fn prefetched_pages_answer_as_the_nodes_alone() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let partner = r#"
        fragment P on Partner {
          id
          acts: actions(first: $n, participation: { roles: $roles }) {
            totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor role node { id title } } }
          ... on Partner {
            later: actions(last: 2, filter: { themes: [YOUTH, EMPLOYMENT, EDUCATION, PARENTING] }) {
              totalCount edges { role node { id theme } } }
          }
          networks(first: 3, after: "bzox", filter: { kinds: [CISPD, CLSPD, CONTRAT_DE_VILLE, THEMATIC_GROUP, YOUTH] },
                   membership: { roles: [PILOT, MEMBER, OPERATOR] }) {
            totalCount pageInfo { hasNextPage } edges { role node { id name } } }
          all: networks { totalCount edges { node { id } } }
        }"#;
    let network = r#"
        fragment N on Network {
          id
          members(first: 4, membership: { roles: [PILOT, MEMBER, FUNDER, OPERATOR] }) {
            totalCount edges { role node { ...P } } }
          firstTwo: members(first: 2, before: "bzoz") { edges { node { id ... on Partner { acts: actions(first: 1) { edges { node { id } } } } } } }
        }"#;
    let vars = json!({ "n": 3, "roles": ["LEAD", "CO_LEAD", "OPERATOR", "CONTRIBUTOR"] });
    let page = api
        .q(
            &format!("query($n: Int, $roles: [ParticipationRole!]) {{ networks(first: 8) {{ edges {{ node {{ ...N }} }} }} }} {network} {partner}"),
            vars.clone(),
        )
        .await;
    let networks = page["networks"]["edges"].as_array().unwrap();
    assert_eq!(networks.len(), 8);
    // One node asked alone, through `node` (which prefetches nothing).
    let alone = async |id: &str, fragments: &str| {
        let mut v = vars.clone();
        v["id"] = json!(id);
        let spread = if fragments.contains("fragment N") { "N" } else { "P" };
        let q = format!(
            "query($id: ID!, $n: Int, $roles: [ParticipationRole!]) {{ node(id: $id) {{ ...{spread} }} }} {fragments}"
        );
        api.q(&q, v).await["node"].clone()
    };
    let mut seen_actions = 0;
    for e in networks {
        let id = e["node"]["id"].as_str().unwrap();
        assert_eq!(
            e["node"],
            alone(id, &format!("{network} {partner}")).await,
            "network {id}"
        );
        // Members alone too, for the partners' pages.
        for m in e["node"]["members"]["edges"].as_array().unwrap() {
            let pid = m["node"]["id"].as_str().unwrap();
            assert_eq!(m["node"], alone(pid, partner).await, "partner {pid}");
            seen_actions += m["node"]["acts"]["edges"].as_array().unwrap().len();
        }
    }
    assert!(seen_actions > 5, "the comparison saw {seen_actions} actions");
}
