//! The migrations of the text search (issue 18, point 1): the contacts'
//! search key filled for the rows already there, and on PostgreSQL the
//! trigram indexes, with and without the right to create `pg_trgm`. Runs
//! on SQLite, and on PostgreSQL with `MAILLAGE_TEST_DATABASE_URL`.

mod common;

use common::search::*;
use common::{TestDb, engine};
use maillage::model::text::search_key;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value as Sql};

/// The contacts already there when the search key came get the key the
/// application writes (the migration's frozen copy of the rule agrees
/// with `model::text::search_key`), and the search index covers them.
#[tokio::test]
async fn the_migration_keys_and_indexes_the_contacts_already_there() {
    use migration::MigratorTrait;
    let t = TestDb::with_demo().await;
    // Back to before the search key and the indexes, then forward again.
    migration::Migrator::down(&t.db, Some(2)).await.unwrap();
    let names = [
        "Ærøe Œuvre-d'Été",
        "  JEAN—PIERRE  l'Éclair ",
        "Ǆemal İnce",
        "Ｆｕｌｌ ｗｉｄｔｈ",
        "Straße 12",
    ];
    for (i, n) in names.iter().enumerate() {
        t.db.execute_raw(Statement::from_sql_and_values(
            t.db.get_database_backend(),
            format!(
                "INSERT INTO contacts (\"ref\", partner_id, full_name, created_at, updated_at, version) \
                 SELECT 'ct-m{i}', id, {p}, created_at, updated_at, 1 FROM partners ORDER BY id LIMIT 1",
                p = if engine() == "postgres" { "$1" } else { "?" }
            ),
            [Sql::from(*n)],
        ))
        .await
        .unwrap();
    }
    maillage::storage::migrate(&t.db).await.unwrap();
    let rows =
        t.db.query_all_raw(Statement::from_string(
            t.db.get_database_backend(),
            "SELECT full_name, name_search FROM contacts",
        ))
        .await
        .unwrap();
    assert!(rows.len() > names.len());
    for r in rows {
        let (name, key): (String, String) = (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap());
        assert_eq!(key, search_key(&name), "{name:?}");
    }
    fts_in_step(&t.db).await;
    every_search_answers_as_the_scan(&t.db).await;
}

/// PostgreSQL: the migration installs `pg_trgm` and indexes every search
/// key with it; a role that may not create the extension still migrates
/// (the searches scan, answering alike), and the indexes come with the
/// first start after a superuser installed it.
#[tokio::test]
async fn postgres_indexes_the_search_keys_with_pg_trgm_or_goes_without() {
    if engine() != "postgres" {
        return;
    }
    let t = TestDb::with_demo().await;
    let defs = |db: DatabaseConnection| async move {
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index JOIN pg_class c ON c.oid = indexrelid \
                 WHERE c.relname LIKE '%search_trgm' ORDER BY 1",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap())
            .collect::<Vec<_>>()
    };
    let indexes = defs(t.db.clone()).await;
    assert_eq!(indexes.len(), migration::SEARCH_KEYS.len(), "{indexes:?}");
    for (table, col) in migration::SEARCH_KEYS {
        let want = format!("ON public.{table} USING gin ({col} gin_trgm_ops)");
        assert!(indexes.iter().any(|d| d.contains(&want)), "{want}: {indexes:?}");
    }

    // A role that owns what it creates in the schema, but may not create
    // an extension in the database.
    let admin_url = std::env::var("MAILLAGE_TEST_DATABASE_URL").unwrap();
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
    let name = format!("maillage_t_trgm_{}_{}", std::process::id(), rand_suffix());
    for sql in [format!("CREATE ROLE {name} LOGIN"), format!("CREATE DATABASE {name}")] {
        admin.execute_unprepared(&sql).await.unwrap();
    }
    let db_url = |user: &str| {
        let (base, _) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
        let at = base.rfind('/').unwrap();
        let host = base[..at].rsplit('@').next().unwrap();
        format!("postgres://{user}@{host}/{name}")
    };
    let owner = sea_orm::Database::connect(&db_url("postgres")).await.unwrap();
    owner
        .execute_unprepared(&format!("GRANT CREATE ON SCHEMA public TO {name}"))
        .await
        .unwrap();
    let (without, answers, built) = async {
        let db = maillage::storage::open(&db_url(&name))
            .await
            .expect("migrates without pg_trgm");
        let without = defs(db.clone()).await.len();
        maillage::domain::transfer::load_demo_if_empty(&db).await.unwrap();
        let (ids, _) = listed(&Api::new(&db), &LISTS[0], "centre", Some(("NAME", false))).await;
        let answers = ids == scanned(&db, &LISTS[0], "centre", Some(("name_search", false, false))).await;
        owner.execute_unprepared("CREATE EXTENSION pg_trgm").await.unwrap();
        maillage::storage::migrate(&db).await.unwrap();
        let built = defs(db.clone()).await.len();
        db.close().await.ok();
        (without, answers, built)
    }
    .await;
    owner.close().await.ok();
    for sql in [
        format!("DROP DATABASE {name} WITH (FORCE)"),
        format!("DROP ROLE {name}"),
    ] {
        admin.execute_unprepared(&sql).await.unwrap();
    }
    assert_eq!(without, 0, "no index without the extension");
    assert!(answers, "the search answers without its index");
    assert_eq!(built, migration::SEARCH_KEYS.len(), "built once the extension is there");
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}
