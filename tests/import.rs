//! Import and export on a real database (SQLite, or PostgreSQL when
//! `MAILLAGE_TEST_DATABASE_URL` is set).

mod common;

use common::*;
use maillage::bundle::{self, BundleFiles, Existing};
use maillage::domain::transfer::{self, ImportOptions, TransferError};
use maillage::storage::import::Silent;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

/// The one integer a query returns.
async fn scalar(db: &impl ConnectionTrait, sql: String) -> i64 {
    let r = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    r.try_get_by_index::<i64>(0).unwrap()
}

async fn count(db: &impl ConnectionTrait, table: &str) -> i64 {
    scalar(db, format!("SELECT COUNT(*) FROM {table}")).await
}

async fn sum_versions(db: &impl ConnectionTrait, table: &str) -> i64 {
    scalar(
        db,
        format!("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM {table}"),
    )
    .await
}

/// Compares two bundles table by table, naming the first row that differs
/// (a whole-bundle assert_eq would print megabytes).
fn assert_same(a: &bundle::Bundle, b: &bundle::Bundle) {
    fn table<T: PartialEq + std::fmt::Debug>(name: &str, a: &[T], b: &[T]) {
        if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
            panic!("{name}: row {i} differs:\n  {:?}\n  {:?}", a[i], b[i]);
        }
        assert_eq!(a.len(), b.len(), "{name}: row counts differ");
    }
    table("territories", &a.territories, &b.territories);
    table("partners", &a.partners, &b.partners);
    table("partner_territories", &a.partner_territories, &b.partner_territories);
    table("contacts", &a.contacts, &b.contacts);
    table("networks", &a.networks, &b.networks);
    table("memberships", &a.memberships, &b.memberships);
    table("actions", &a.actions, &b.actions);
    table("action_partners", &a.action_partners, &b.action_partners);
    table("action_territories", &a.action_territories, &b.action_territories);
    table("relations", &a.relations, &b.relations);
}

const TABLES: [&str; 10] = [
    "territories",
    "partners",
    "partner_territories",
    "contacts",
    "networks",
    "memberships",
    "actions",
    "action_partners",
    "action_territories",
    "relations",
];

async fn counts(db: &impl ConnectionTrait) -> Vec<i64> {
    let mut v = vec![];
    for t in TABLES {
        v.push(count(db, t).await);
    }
    v
}

#[tokio::test]
async fn demo_imports_with_every_row() {
    let t = TestDb::with_demo().await;
    // The row counts of data/demo/README.md.
    assert_eq!(counts(&t.db).await, vec![30, 150, 210, 188, 17, 341, 84, 418, 120, 697]);
}

#[tokio::test]
async fn reimport_updates_in_place_and_bumps_only_what_changed() {
    let t = TestDb::with_demo().await;
    let before = counts(&t.db).await;
    let v_before = sum_versions(&t.db, "partners").await;

    let out = transfer::import(&t.db, &BundleFiles::demo(), ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(
        out.summary.written(),
        0,
        "an identical bundle changes nothing: {:?}",
        out.summary
    );
    assert_eq!(counts(&t.db).await, before, "no duplicates");
    assert_eq!(sum_versions(&t.db, "partners").await, v_before);

    // Rename one partner: only that record changes, and its version moves on.
    let mut files = BundleFiles::demo();
    let p = String::from_utf8(files.files["partners.csv"].clone()).unwrap();
    let p = p.replacen("Région Grand Est,cr", "Région Grand Est (renamed),cr", 1);
    files.files.insert("partners.csv".into(), p.into_bytes());
    let out = transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(out.summary.written(), 1);
    assert_eq!(sum_versions(&t.db, "partners").await, v_before + 1);
    let b = transfer::snapshot(&t.db).await.unwrap();
    let p1 = b.partners.iter().find(|p| p.id == "ptn-000001").unwrap();
    assert_eq!(p1.name, "Région Grand Est (renamed)");
    assert_eq!(counts(&t.db).await, before);
}

#[tokio::test]
async fn every_bad_bundle_is_refused_at_its_location_and_changes_nothing() {
    let t = TestDb::with_demo().await;
    let before = transfer::snapshot(&t.db).await.unwrap();
    let root = fixtures().join("bad");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let expect = readme
            .lines()
            .find_map(|l| l.strip_prefix("expect: "))
            .expect("README has an expect line");
        let files = BundleFiles::from_dir(&dir).unwrap();
        for replace in [false, true] {
            let err = transfer::import(
                &t.db,
                &files,
                ImportOptions {
                    replace,
                    dry_run: false,
                },
                &Silent,
            )
            .await
            .expect_err(&format!("{} must be refused", dir.display()));
            let TransferError::Invalid(report) = err else {
                panic!("{}: not a validation error: {err}", dir.display())
            };
            let first = &report.errors[0];
            assert_eq!(
                format!("{}:{}: {}", first.file, first.line, first.column),
                expect.trim(),
                "{}: first error {first}",
                dir.display()
            );
        }
        seen += 1;
    }
    assert!(seen >= 15, "all bad bundles walked ({seen})");
    assert_eq!(
        transfer::snapshot(&t.db).await.unwrap(),
        before,
        "the database is unchanged"
    );
}

#[tokio::test]
async fn export_then_import_gives_the_same_data() {
    let t = TestDb::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = transfer::export(&t.db, dir.path()).await.unwrap();
    // The export is a valid bundle equal to the demo.
    let (demo, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    assert_same(&exported, &demo);

    let t2 = TestDb::new().await;
    let files = transfer::read_dir(dir.path()).unwrap();
    transfer::import(&t2.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_same(&transfer::snapshot(&t2.db).await.unwrap(), &exported);
}

#[tokio::test]
async fn generated_department_round_trips() {
    let Some(generated) = department_bundle(2000) else {
        eprintln!("skipped: ../shared/tools/gen-bundle or python3 is not available");
        return;
    };
    let t = TestDb::new().await;
    let files = transfer::read_dir(generated.path()).unwrap();
    let (original, _) = bundle::check(&files, &Existing::default()).unwrap();
    transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let exported = transfer::export(&t.db, out.path()).await.unwrap();
    assert_same(&exported, &original);
    let t2 = TestDb::new().await;
    transfer::import(
        &t2.db,
        &transfer::read_dir(out.path()).unwrap(),
        ImportOptions::default(),
        &Silent,
    )
    .await
    .unwrap();
    assert_same(&transfer::snapshot(&t2.db).await.unwrap(), &exported);
}

/// A copy of the demo with some lines of a file removed.
fn demo_without(file: &str, keep: impl Fn(usize, &str) -> bool) -> BundleFiles {
    let mut files = BundleFiles::demo();
    let text = String::from_utf8(files.files[file].clone()).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || keep(*i, l))
        .map(|(_, l)| l)
        .collect();
    files.files.insert(file.into(), (kept.join("\n") + "\n").into_bytes());
    files
}

#[tokio::test]
async fn replace_prunes_what_the_bundle_lacks_and_plain_import_keeps_it() {
    let t = TestDb::with_demo().await;
    // Drop the relations of ptn-000001 from the bundle.
    let files = demo_without("relations.csv", |_, l| !l.starts_with("ptn-000001,"));
    let gone = 697
        - (String::from_utf8(files.files["relations.csv"].clone())
            .unwrap()
            .lines()
            .count() as i64
            - 1);
    assert!(gone > 0);

    transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(
        count(&t.db, "relations").await,
        697,
        "rows absent from the bundle are kept"
    );

    let dry = transfer::import(
        &t.db,
        &files,
        ImportOptions {
            replace: true,
            dry_run: true,
        },
        &Silent,
    )
    .await
    .unwrap();
    assert_eq!(dry.summary.deleted(), gone as u64);
    assert_eq!(count(&t.db, "relations").await, 697, "a dry run writes nothing");

    let out = transfer::import(
        &t.db,
        &files,
        ImportOptions {
            replace: true,
            dry_run: false,
        },
        &Silent,
    )
    .await
    .unwrap();
    assert_eq!(out.summary.deleted(), gone as u64);
    assert_eq!(count(&t.db, "relations").await, 697 - gone);
}

#[tokio::test]
async fn replace_can_remove_partners_with_their_links() {
    let t = TestDb::with_demo().await;
    // A bundle without the last partner (and its links): --replace removes it.
    let files = BundleFiles::demo();
    let (mut b, _) = bundle::check(&files, &Existing::default()).unwrap();
    let victim = b
        .partners
        .iter()
        .rev()
        .find(|p| !b.partners.iter().any(|c| c.parent_ref.as_deref() == Some(&p.id)))
        .unwrap()
        .id
        .clone();
    b.partners.retain(|p| p.id != victim);
    b.partner_territories.retain(|x| x.partner_ref != victim);
    b.contacts.retain(|x| x.partner_ref != victim);
    b.memberships.retain(|x| x.partner_ref != victim);
    b.action_partners.retain(|x| x.partner_ref != victim);
    b.relations.retain(|x| x.from_ref != victim && x.to_ref != victim);
    let out = transfer::import(
        &t.db,
        &bundle::to_files(&b),
        ImportOptions {
            replace: true,
            dry_run: false,
        },
        &Silent,
    )
    .await
    .unwrap();
    assert!(out.summary.deleted() >= 1);
    assert_eq!(count(&t.db, "partners").await, 149);
    let snap = transfer::snapshot(&t.db).await.unwrap();
    assert_same(&snap, &b);
}

#[tokio::test]
async fn an_incremental_bundle_may_refer_to_what_the_hub_holds() {
    let t = TestDb::with_demo().await;
    // Only a new partner and its membership of an existing network.
    let mut files = BundleFiles::default();
    files.files.insert(
        "territories.csv".into(),
        b"id,kind,code,name,parent_id,population,lat,lon\n".to_vec(),
    );
    files.files.insert(
        "partners.csv".into(),
        "id,name,kind,territory_id\nptn-new,Association Nouvelle,asso,com-57306\n"
            .as_bytes()
            .to_vec(),
    );
    files.files.insert(
        "memberships.csv".into(),
        b"network_id,partner_id,role\nnet-00002,ptn-new,member\n".to_vec(),
    );
    transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(count(&t.db, "partners").await, 151);
    assert_eq!(count(&t.db, "memberships").await, 342);

    // The same bundle with --replace cannot stand alone: com-57306 would be gone.
    let err = transfer::import(
        &t.db,
        &files,
        ImportOptions {
            replace: true,
            dry_run: false,
        },
        &Silent,
    )
    .await
    .unwrap_err();
    let TransferError::Invalid(report) = err else {
        panic!("expected a validation error")
    };
    assert_eq!(report.errors[0].file, "partners.csv");
    assert_eq!(count(&t.db, "partners").await, 151);
}

#[tokio::test]
async fn moving_the_lead_of_an_action_reimports() {
    let t = TestDb::with_demo().await;
    // act-000001: ptn-000024 leads, ptn-000011 operates. Swap them.
    let mut files = BundleFiles::demo();
    let text = String::from_utf8(files.files["action_partners.csv"].clone()).unwrap();
    let text = text
        .replace("act-000001,ptn-000024,lead,", "act-000001,ptn-000024,TMP,")
        .replace("act-000001,ptn-000011,operator,", "act-000001,ptn-000011,lead,")
        .replace("act-000001,ptn-000024,TMP,", "act-000001,ptn-000024,operator,");
    files.files.insert("action_partners.csv".into(), text.into_bytes());
    transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    let b = transfer::snapshot(&t.db).await.unwrap();
    let lead: Vec<_> = b
        .action_partners
        .iter()
        .filter(|x| x.action_ref == "act-000001" && x.role == maillage::model::ParticipationRole::Lead)
        .collect();
    assert_eq!(lead.len(), 1);
    assert_eq!(lead[0].partner_ref, "ptn-000011");
}

#[tokio::test]
async fn the_database_checks_vocabularies_and_rules_itself() {
    let t = TestDb::with_demo().await;
    let db = &t.db;
    let now = "'2026-01-01T00:00:00Z'";
    let bad = [
        format!(
            "INSERT INTO partners (\"ref\", name, name_search, kind, created_at, updated_at) VALUES ('x', 'x', 'x', 'association', {now}, {now})"
        ),
        format!(
            "INSERT INTO territories (\"ref\", kind, name, name_search, created_at, updated_at) VALUES ('x', 'planet', 'x', 'x', {now}, {now})"
        ),
        "UPDATE actions SET budget_cents = -1 WHERE id = 1".to_string(),
        "UPDATE relations SET weight = 0 WHERE id = 1".to_string(),
        "UPDATE relations SET to_partner_id = from_partner_id WHERE id = 1".to_string(),
        "UPDATE actions SET started_on = '2025-01-02', ended_on = '2025-01-01' WHERE id = 1".to_string(),
        "UPDATE action_partners SET role = 'lead' WHERE action_id = 1".to_string(),
        "UPDATE partners SET territory_id = 999999 WHERE id = 1".to_string(),
        "DELETE FROM territories WHERE kind = 'region'".to_string(),
    ];
    // Each in a transaction, as the application writes: on SQLite, a
    // statement that wrote an FTS5 search index through its triggers and
    // then failed its foreign keys outside a transaction would leave its
    // connection reading an old snapshot (its next write: "database is
    // locked"); a rollback ends it.
    for sql in bad {
        let txn = db.begin().await.unwrap();
        assert!(
            txn.execute_unprepared(&sql).await.is_err(),
            "the database accepted: {sql}"
        );
        txn.rollback().await.unwrap();
    }
    // Every value of every vocabulary is accepted.
    for k in maillage::model::PartnerKind::ALL {
        db.execute_unprepared(&format!("UPDATE partners SET kind = '{k}' WHERE id = 1"))
            .await
            .unwrap();
    }
    for k in maillage::model::Theme::ALL {
        db.execute_unprepared(&format!("UPDATE actions SET theme = '{k}' WHERE id = 1"))
            .await
            .unwrap();
    }
    for k in maillage::model::NetworkKind::ALL {
        db.execute_unprepared(&format!("UPDATE networks SET kind = '{k}' WHERE id = 1"))
            .await
            .unwrap();
    }
    // Deleting a partner takes its links with it.
    let before = count(db, "memberships").await;
    db.execute_unprepared("DELETE FROM partners WHERE \"ref\" = 'ptn-000024'")
        .await
        .unwrap();
    assert!(count(db, "memberships").await < before);
}

/// Every index, constraint and NOT NULL column of the database, as text:
/// what the database itself vouches for.
async fn schema(db: &impl ConnectionTrait) -> Vec<String> {
    let sql = if engine() == "postgres" {
        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text \
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
         UNION ALL SELECT pg_get_indexdef(indexrelid) FROM pg_index \
           JOIN pg_class c ON c.oid = indrelid WHERE c.relnamespace = 'public'::regnamespace \
         UNION ALL SELECT attrelid::regclass::text || '.' || attname || ' NOT NULL' FROM pg_attribute \
           JOIN pg_class c ON c.oid = attrelid \
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND attnum > 0 AND attnotnull \
         ORDER BY 1"
    } else {
        "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY 1"
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// On PostgreSQL a table that was empty is loaded by COPY without its
/// indexes and constraints (and with ids handed out by the importer), a
/// table that holds rows is merged into: both paths in one import here,
/// and the schema must come out of it whole, still enforcing its rules.
#[tokio::test]
async fn loads_into_empty_tables_and_merges_into_filled_ones_keep_the_schema_whole() {
    let t = TestDb::new().await;
    let schema_before = schema(&t.db).await;
    // Everything but relations and one partner (with its links): every
    // table but relations is loaded into empty.
    let (mut b, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    let last_partner = b
        .partners
        .iter()
        .rev()
        .find(|p| !b.partners.iter().any(|c| c.parent_ref.as_deref() == Some(&p.id)))
        .unwrap()
        .id
        .clone();
    let victim = last_partner.clone();
    b.partners.retain(|p| p.id != victim);
    b.partner_territories.retain(|x| x.partner_ref != victim);
    b.contacts.retain(|x| x.partner_ref != victim);
    b.memberships.retain(|x| x.partner_ref != victim);
    b.action_partners.retain(|x| x.partner_ref != victim);
    let mut first = bundle::to_files(&b);
    first.files.remove("relations.csv");
    let out = transfer::import(&t.db, &first, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(out.summary.rows(), out.summary.written());
    assert_eq!(count(&t.db, "partners").await, 149);
    assert_eq!(schema(&t.db).await, schema_before, "after loading into empty tables");

    // The whole demo: relations is empty (loaded), the rest is merged, the
    // last partner being new there (its id must follow the loaded ones).
    let out = transfer::import(&t.db, &BundleFiles::demo(), ImportOptions::default(), &Silent)
        .await
        .unwrap();
    let relations = out.summary.tables.iter().find(|s| s.table == "relations").unwrap();
    assert_eq!((relations.rows, relations.written), (697, 697));
    assert_eq!(counts(&t.db).await, vec![30, 150, 210, 188, 17, 341, 84, 418, 120, 697]);
    assert_eq!(schema(&t.db).await, schema_before, "after a load and a merge");
    // The data is the demo's: importing it again changes nothing.
    let again = transfer::import(&t.db, &BundleFiles::demo(), ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(again.summary.written(), 0, "{:?}", again.summary);
    for table in TABLES {
        assert_eq!(
            scalar(&t.db, format!("SELECT COUNT(DISTINCT id) FROM {table}")).await,
            count(&t.db, table).await,
            "{table}: ids are unique"
        );
        assert_eq!(
            sum_versions(&t.db, table).await,
            count(&t.db, table).await,
            "{table}: version 1"
        );
    }
    let last_id = scalar(&t.db, format!("SELECT id FROM partners WHERE ref = '{last_partner}'")).await;
    assert_eq!(last_id, scalar(&t.db, "SELECT MAX(id) FROM partners".into()).await);

    // The rebuilt indexes and constraints hold: a second relation with the
    // same key, or one to a partner that does not exist, is refused.
    let dup = "INSERT INTO relations (from_partner_id, to_partner_id, kind, weight, created_at, updated_at) \
               SELECT from_partner_id, to_partner_id, kind, weight, created_at, updated_at FROM relations LIMIT 1";
    assert!(t.db.execute_unprepared(dup).await.is_err(), "unique key enforced");
    let dangling = "INSERT INTO relations (from_partner_id, to_partner_id, kind, weight, created_at, updated_at) \
                    SELECT from_partner_id, 999999, kind, weight, created_at, updated_at FROM relations LIMIT 1";
    assert!(t.db.execute_unprepared(dangling).await.is_err(), "foreign key enforced");
    let two_leads = "UPDATE action_partners SET role = 'lead' WHERE action_id = \
                     (SELECT action_id FROM action_partners GROUP BY action_id HAVING COUNT(*) > 1 LIMIT 1)";
    assert!(
        t.db.execute_unprepared(two_leads).await.is_err(),
        "one lead per action enforced"
    );
}

/// The demo with a `visibility` column added to networks, actions and
/// relations: the first network made public, the first action internal,
/// the first relation public; the others left to their kind.
fn demo_with_visibility() -> BundleFiles {
    let mut files = BundleFiles::demo();
    for (file, value) in [
        ("networks.csv", "public"),
        ("actions.csv", "internal"),
        ("relations.csv", "public"),
    ] {
        let (demo, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
        let mut b = demo;
        match file {
            "networks.csv" => b.networks[0].visibility = maillage::model::Visibility::parse(value),
            "actions.csv" => b.actions[0].visibility = maillage::model::Visibility::parse(value),
            _ => b.relations[0].visibility = maillage::model::Visibility::parse(value),
        }
        let written = bundle::to_files(&b);
        files.files.insert(file.to_owned(), written.files[file].clone());
    }
    files
}

#[tokio::test]
async fn visibility_is_imported_merged_and_exported() {
    let files = demo_with_visibility();
    let (expected, _) = bundle::check(&files, &Existing::default()).unwrap();
    assert!(expected.networks[0].visibility.is_some() && expected.networks[1].visibility.is_none());

    // Into an empty database (the bulk load path).
    let t = TestDb::new().await;
    transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_same(&transfer::snapshot(&t.db).await.unwrap(), &expected);
    assert_eq!(
        scalar(
            &t.db,
            "SELECT COUNT(*) FROM networks WHERE visibility IS NOT NULL".into()
        )
        .await,
        1
    );

    // Into a database holding the demo (the merge path): a change of
    // visibility is a change like any other, and only it is rewritten.
    let t = TestDb::with_demo().await;
    let before = sum_versions(&t.db, "networks").await;
    transfer::import(&t.db, &files, ImportOptions::default(), &Silent)
        .await
        .unwrap();
    assert_eq!(
        sum_versions(&t.db, "networks").await,
        before + 1,
        "only the changed network is rewritten"
    );
    assert_same(&transfer::snapshot(&t.db).await.unwrap(), &expected);
    let dir = tempfile::tempdir().unwrap();
    transfer::export(&t.db, dir.path()).await.unwrap();
    let again = transfer::read_dir(dir.path()).unwrap();
    assert_eq!(bundle::check(&again, &Existing::default()).unwrap().0, expected);
}

/// The columns of each index of `table`, comma-separated in index order.
async fn index_columns(db: &impl ConnectionTrait, table: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match engine() {
        "postgres" => format!(
            "SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = '{table}'::regclass GROUP BY i.indexrelid"
        ),
        _ => format!(
            "SELECT (SELECT group_concat(name, ',') FROM \
             (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) \
             FROM pragma_index_list('{table}') il"
        ),
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

/// A partner's first networks and actions are read in id order; on an
/// index of the partner alone PostgreSQL read all of a hub's links and
/// sorted them to keep a page. The ordered index survives an import (which
/// rebuilds the indexes of the tables it loads).
#[tokio::test]
async fn a_partners_links_are_indexed_in_the_order_its_pages_are_read() {
    let t = TestDb::with_demo().await;
    for table in ["memberships", "action_partners"] {
        let indexes = index_columns(&t.db, table).await;
        assert!(indexes.iter().any(|i| i == "partner_id,id"), "{table}: {indexes:?}");
        assert!(
            !indexes.iter().any(|i| i == "partner_id"),
            "{table}: the index on partner_id alone is replaced: {indexes:?}"
        );
    }
}
