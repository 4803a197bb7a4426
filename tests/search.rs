//! Text search from an index (issue 18, point 1): every `search` filter
//! answers as the plain scan it replaced, whatever the order, with the
//! index in its plan; the SQLite index follows every write; `RELEVANCE`;
//! contacts' names searched only by who may read them (the migrations:
//! `tests/search_migration.rs`). Runs on SQLite, and on PostgreSQL with
//! `MAILLAGE_TEST_DATABASE_URL`.

mod common;

use std::sync::{Arc, Mutex};

use common::search::*;
use common::{TestDb, engine};
use maillage::bundle::BundleFiles;
use maillage::domain::access::{Principal, Role};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

/// Names made of the words below in random order and case (a fixed seed):
/// repeated names, accents, ligatures, punctuation, short words.
fn generated_name(seed: &mut u64) -> String {
    const WORDS: &[&str] = &[
        "Centre",
        "social",
        "École",
        "de",
        "la",
        "Maison",
        "quartier",
        "Œuvre",
        "jeunes",
        "l'Étoile",
        "CCAS",
        "d'Hayange",
        "Saint-Jean",
        "2e",
        "chance",
        "ML",
        "Mission",
        "locale",
        "Fensch",
        "cité",
        "Entr'aide",
        "ÉTÉ",
        "centre-ville",
        "Ar",
        "e",
        "Villerupt",
        "ECOLE",
        "écoles",
    ];
    let mut next = || {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 33) as usize
    };
    let n = 1 + next() % 4;
    (0..n)
        .map(|_| WORDS[next() % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The demo bundle again, every record with a new ref and a generated name.
fn generated_copy(i: usize) -> BundleFiles {
    let mut seed = i as u64;
    let mut out = BundleFiles::default();
    for (file, bytes) in BundleFiles::demo().files {
        let named = match file.as_str() {
            "partners.csv" | "networks.csv" => Some("name"),
            "actions.csv" => Some("title"),
            "contacts.csv" => Some("full_name"),
            "territories.csv" => {
                out.files.insert(file, bytes);
                continue;
            }
            _ => None,
        };
        let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        let header = r.headers().unwrap().clone();
        let name_at = named.map(|n| header.iter().position(|h| h == n).unwrap());
        let mut w = csv::Writer::from_writer(vec![]);
        w.write_record(&header).unwrap();
        for rec in r.records() {
            let fields: Vec<String> = rec
                .unwrap()
                .iter()
                .enumerate()
                .map(|(at, f)| match f {
                    _ if Some(at) == name_at => generated_name(&mut seed),
                    _ if ["ptn-", "net-", "act-", "ct-"].iter().any(|p| f.starts_with(p)) => format!("g{i}-{f}"),
                    _ => f.to_owned(),
                })
                .collect();
            w.write_record(&fields).unwrap();
        }
        out.files.insert(file, w.into_inner().unwrap());
    }
    out
}

pub async fn import(db: &DatabaseConnection, files: &BundleFiles, replace: bool) {
    let options = maillage::domain::transfer::ImportOptions {
        replace,
        ..Default::default()
    };
    maillage::domain::transfer::import(db, files, options, &maillage::storage::import::Silent)
        .await
        .expect("import");
}

#[tokio::test]
async fn every_search_answers_as_a_scan_on_the_demo_and_on_generated_names() {
    let t = TestDb::with_demo().await;
    every_search_answers_as_the_scan(&t.db).await;
    for i in 1..=2 {
        import(&t.db, &generated_copy(i), false).await;
    }
    every_search_answers_as_the_scan(&t.db).await;
}

/// Every statement `query` costs, with its values.
async fn statements_of(url: &str, query: &str) -> (DatabaseConnection, Vec<Statement>) {
    let seen = Arc::new(Mutex::new(vec![]));
    // One connection: a `SET` of the caller's reaches the `EXPLAIN`s.
    let mut db = maillage::storage::connect_with(url, Some(1)).await.unwrap();
    let s = seen.clone();
    db.set_metric_callback(move |i| s.lock().unwrap().push(i.statement.clone()));
    Api::new(&db).q(query, json!({})).await;
    let mut db = db;
    db.set_metric_callback(|_| {});
    let seen = seen.lock().unwrap().clone();
    (db, seen)
}

/// The plan of `stmt`, one line per node.
async fn plan(db: &DatabaseConnection, stmt: &Statement) -> String {
    let explain = match db.get_database_backend() {
        DbBackend::Postgres => "EXPLAIN ",
        _ => "EXPLAIN QUERY PLAN ",
    };
    let values = stmt.values.clone().map(|v| v.0).unwrap_or_default();
    let sql = format!("{explain}{}", stmt.sql);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values))
        .await
        .unwrap();
    // SQLite: (id, parent, notused, detail); PostgreSQL: one text column.
    let at = if db.get_database_backend() == DbBackend::Postgres {
        0
    } else {
        3
    };
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(at).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Rows enough for a planner to prefer an index: `n` more rows in each
/// searchable table, every one named "Padding n" (so all match `padding`).
async fn pad(db: &DatabaseConnection, n: u32) {
    let rows = |table: &str, cols: &str, values: &str| {
        format!(
            "INSERT INTO {table} (\"ref\", {cols}, created_at, updated_at, version) \
             WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
             SELECT 'pad-' || n, {values}, (SELECT MIN(created_at) FROM partners), \
                    (SELECT MIN(created_at) FROM partners), 1 FROM g"
        )
    };
    let name = "'Padding ' || n, 'padding ' || n";
    for sql in [
        rows("partners", "name, name_search, kind", &format!("{name}, 'asso'")),
        rows("networks", "name, name_search, kind", &format!("{name}, 'other'")),
        rows("territories", "name, name_search, kind", &format!("{name}, 'district'")),
        rows(
            "actions",
            "title, title_search, theme, status",
            &format!("{name}, 'other', 'planned'"),
        ),
        rows(
            "contacts",
            "full_name, name_search, partner_id",
            &format!("{name}, (SELECT MIN(id) FROM partners)"),
        ),
        // PostgreSQL: VACUUM moves the rows GIN keeps aside on insert
        // (its pending list) into the index proper, as autovacuum would.
        if engine() == "postgres" {
            "VACUUM ANALYZE"
        } else {
            "ANALYZE"
        }
        .to_owned(),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
}

/// The plans of a search, its page and its count, read the index on each
/// engine (the trigram GIN index on PostgreSQL, the FTS5 table on SQLite)
/// for every list and order, with rows enough that reading a table whole
/// is not the better plan (the demo alone is read whole by PostgreSQL,
/// rightly: a few pages). No planner setting is changed: without the
/// index, a table is scanned and the test fails. On SQLite, a page of a
/// word that matches many rows, in the order of an index, walks that index
/// instead.
#[tokio::test]
async fn search_plans_read_the_index() {
    let t = TestDb::with_demo().await;
    pad(&t.db, 12_000).await;
    for l in &LISTS {
        for order in [None].into_iter().chain(l.orders.iter().map(|o| Some(o.0))) {
            let by = order.map_or(String::new(), |f| format!(", orderBy: [{{field: {f}}}]"));
            let q = format!(
                "{{ l: {}(first: 5, filter: {{search: \"{}\"}}{by}) {{ totalCount nodes {{ id }} }} }}",
                l.field, l.word
            );
            let (db, statements) = statements_of(&t.url, &q).await;
            let on_table: Vec<&Statement> = statements
                .iter()
                .filter(|s| s.sql.contains(&format!("FROM \"{}\"", l.table)))
                .collect();
            assert_eq!(on_table.len(), 2, "{q}: a count and a page\n{statements:?}");
            for s in on_table {
                let p = plan(&db, s).await;
                if engine() == "postgres" {
                    let index = format!("Bitmap Index Scan on ix_{}_search_trgm", l.table);
                    assert!(p.contains(&index) && !p.contains("Seq Scan"), "{q}\n{}\n{p}", s.sql);
                } else {
                    let fts = format!("SCAN {}_fts VIRTUAL TABLE INDEX", l.table);
                    assert!(p.contains(&fts) && !scans(&p, l.table), "{q}\n{}\n{p}", s.sql);
                }
            }
        }
    }
    if engine() == "sqlite" {
        let q = "{ partners(first: 5, filter: {search: \"padding\"}, orderBy: [{field: NAME}]) { nodes { id } } }";
        let (db, statements) = statements_of(&t.url, q).await;
        let page = statements.iter().find(|s| s.sql.contains("LIMIT 6")).unwrap();
        let p = plan(&db, page).await;
        assert!(
            p.contains("SCAN partners USING COVERING INDEX ix_partners_name_search") && !p.contains("partners_fts"),
            "{}\n{p}",
            page.sql
        );
    }
}

/// Whether a SQLite plan reads `table` whole.
fn scans(plan: &str, table: &str) -> bool {
    let scan = format!("SCAN {table}");
    plan.lines().any(|x| x == scan || x.starts_with(&format!("{scan} ")))
}

/// Runs a mutation and returns its payload, after checking it was not refused.
async fn mutate(api: &Api, name: &str, input: Value, selection: &str) -> Value {
    let q = format!(
        "mutation($i: {}Input!) {{ m: {name}(input: $i) {{ {selection} userErrors {{ message }} }} }}",
        name[..1].to_uppercase() + &name[1..]
    );
    let d = api.raw_as(Some(Principal::system()), &q, json!({ "i": input })).await;
    assert_eq!(d["data"]["m"]["userErrors"], json!([]), "{name}: {d}");
    d["data"]["m"].clone()
}

/// Whatever writes a row, imports (new rows, changed names, `--replace`
/// deleting), edits (create, rename, delete) and the deletes a partner's
/// cascade to its contacts, the search sees it at once: the SQLite index
/// is kept by the database's triggers.
#[tokio::test]
async fn the_index_follows_imports_edits_and_deletes() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let count = |q: &'static str| {
        let api = &api;
        async move { api.q(q, json!({})).await }
    };
    let partner = mutate(
        &api,
        "createPartner",
        json!({"ref": "ptn-x1", "name": "Zéphyrine Quasimodo", "kind": "ASSO"}),
        "partner { id version }",
    )
    .await;
    let pid = partner["partner"]["id"].clone();
    mutate(
        &api,
        "createContact",
        json!({"ref": "ct-x1", "partnerId": pid, "fullName": "Ulrich Xénophon"}),
        "contact { id }",
    )
    .await;
    let found = count(
        "{ p: partners(filter: {search: \"zephyrine\"}) { totalCount } \
           c: contacts(filter: {search: \"xenophon\"}) { totalCount } }",
    )
    .await;
    assert_eq!(
        (found["p"]["totalCount"].as_u64(), found["c"]["totalCount"].as_u64()),
        (Some(1), Some(1))
    );
    fts_in_step(&t.db).await;
    mutate(
        &api,
        "updatePartner",
        json!({"id": pid, "expectedVersion": partner["partner"]["version"], "name": "Barnabé Quasimodo"}),
        "partner { id }",
    )
    .await;
    let renamed = count(
        "{ old: partners(filter: {search: \"zephyrine\"}) { totalCount } \
           new: partners(filter: {search: \"barnabe quasimodo\"}) { totalCount } }",
    )
    .await;
    assert_eq!(
        (
            renamed["old"]["totalCount"].as_u64(),
            renamed["new"]["totalCount"].as_u64()
        ),
        (Some(0), Some(1))
    );
    fts_in_step(&t.db).await;
    mutate(&api, "deletePartner", json!({"id": pid}), "deletedPartnerId").await;
    let gone = count(
        "{ p: partners(filter: {search: \"quasimodo\"}) { totalCount } \
           c: contacts(filter: {search: \"xenophon\"}) { totalCount } }",
    )
    .await;
    assert_eq!(
        (gone["p"]["totalCount"].as_u64(), gone["c"]["totalCount"].as_u64()),
        (Some(0), Some(0))
    );
    fts_in_step(&t.db).await;
    // Imports: a copy with new names, then the demo again with `--replace`,
    // which deletes that copy (and renames nothing back).
    import(&t.db, &generated_copy(3), false).await;
    fts_in_step(&t.db).await;
    every_search_answers_as_the_scan(&t.db).await;
    import(&t.db, &BundleFiles::demo(), true).await;
    fts_in_step(&t.db).await;
    every_search_answers_as_the_scan(&t.db).await;
}

/// `RELEVANCE`: the names that are the search, then those that start with
/// it, then the other matches, each group by name then creation order;
/// the same list page by page either way; refused without a `search`.
#[tokio::test]
async fn relevance_ranks_the_name_then_its_prefix_then_the_rest() {
    let t = TestDb::new().await;
    let api = Api::new(&t.db);
    let names = [
        "Le Centre Social",
        "Centre social Nord",
        "centre-social",
        "Centre Social",
        "Centre",
        "Social centre",
        "Centre sociaux",
        "CENTRE SOCIAL",
        "Un centre social",
        "Autre",
    ];
    for (i, n) in names.iter().enumerate() {
        mutate(
            &api,
            "createPartner",
            json!({"ref": format!("p{i}"), "name": n, "kind": "ASSO"}),
            "partner { id }",
        )
        .await;
    }
    let q = "query($o: [PartnerOrder!], $first: Int, $after: String, $last: Int, $before: String) { \
             partners(filter: {search: \"Centre-Social\"}, orderBy: $o, first: $first, after: $after, last: $last, before: $before) { \
             totalCount edges { cursor node { ref name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let refs = |d: &Value| -> Vec<String> {
        d["partners"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["ref"].as_str().unwrap().to_owned())
            .collect()
    };
    let order = json!([{"field": "RELEVANCE"}]);
    let all = refs(&api.q(q, json!({"o": order, "first": 100})).await);
    // The key itself (p2, p3 and p7 share it: creation order), a prefix
    // ("centre social nord"), then the other matches by name ("le centre
    // social", "social centre": every word, in any order, "un centre …").
    assert_eq!(all, ["p2", "p3", "p7", "p1", "p0", "p5", "p8"]);
    let desc = refs(
        &api.q(
            q,
            json!({"o": [{"field": "RELEVANCE", "direction": "DESC"}], "first": 100}),
        )
        .await,
    );
    assert_eq!(
        desc,
        ["p0", "p5", "p8", "p1", "p2", "p3", "p7"],
        "DESC reverses the groups, not the names"
    );
    // Forward by two, backward by two: the same list.
    let (mut forward, mut after) = (vec![], Value::Null);
    loop {
        let d = api.q(q, json!({"o": order, "first": 2, "after": after})).await;
        forward.extend(refs(&d));
        if d["partners"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = d["partners"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward, all);
    let (mut backward, mut before) = (vec![], Value::Null);
    loop {
        let d = api.q(q, json!({"o": order, "last": 2, "before": before})).await;
        backward.splice(0..0, refs(&d));
        if d["partners"]["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = d["partners"]["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, all);
    // Nested connections rank alike; without a search, refused.
    let nested = "{ partners(first: 1) { nodes { children(filter: {search: \"x\"}, orderBy: [{field: RELEVANCE}]) { totalCount } } } }";
    api.q(nested, json!({})).await;
    for q in [
        "{ partners(first: 1) { nodes { children(orderBy: [{field: RELEVANCE}]) { totalCount } } } }",
        "{ partners(orderBy: [{field: RELEVANCE}]) { totalCount } }",
        "{ actions(filter: {and: [{search: \"x\"}]}, orderBy: [{field: RELEVANCE}]) { totalCount } }",
    ] {
        let r = api.raw_as(None, q, json!({})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{q}: {r}");
        assert!(r["errors"][0]["message"].as_str().unwrap().contains("search"), "{r}");
    }
}

/// Contacts are searched by name only by who may read names: an analyst
/// without contacts' details is refused, at the root, nested and inside
/// `and`/`not`, rather than told through what matches.
#[tokio::test]
async fn contacts_are_searched_only_by_who_reads_their_names() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let analyst = |details: bool| Principal {
        role: Role::Analyst,
        contact_details: details,
        ..Principal::system()
    };
    let queries = [
        "{ contacts(filter: {search: \"garnier\"}) { totalCount } }",
        "{ contacts(filter: {not: {search: \"garnier\"}}) { totalCount } }",
        "{ partners(first: 3) { nodes { contacts(filter: {and: [{search: \"garnier\"}]}) { totalCount } } } }",
    ];
    for q in queries {
        let r = api.raw_as(Some(analyst(false)), q, json!({})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{q}: {r}");
        assert!(
            r["errors"][0]["message"].as_str().unwrap().contains("personal data"),
            "{r}"
        );
        let r = api.raw_as(Some(analyst(true)), q, json!({})).await;
        assert!(r.get("errors").is_none(), "{q}: {r}");
    }
    let (ids, _) = listed(&api, &LISTS[4], "GARNIÉR", None).await;
    assert_eq!(ids, scanned(&t.db, &LISTS[4], "garnier", None).await);
    assert!(!ids.is_empty());
}
