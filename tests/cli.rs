//! The `maillage` binary's commands, as a user runs them.

mod common;

use std::process::Command;

use common::*;

fn maillage(db_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_maillage"));
    c.env("DATABASE_URL", db_url).env("RUST_LOG", "warn");
    c
}

#[test]
fn schema_file_is_in_sync() {
    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if printed != checked_in && std::env::var("MAILLAGE_BLESS").is_ok() {
        std::fs::write(&path, &printed).unwrap();
        return;
    }
    assert!(
        printed == checked_in,
        "schema/schema.graphql differs from `maillage schema`; run `MAILLAGE_BLESS=1 cargo test --test cli` and commit it"
    );
}

#[test]
fn check_reports_errors_with_their_location() {
    let dir = fixtures().join("bad/two-leads");
    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("check")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("action_partners.csv:3: role: "), "{stdout}");
    let ok = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("check")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn import_export_and_refusal_through_the_binary() {
    let t = TestDb::new().await;
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");

    let out = maillage(&t.url)
        .args(["import", "--dry-run"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dry run"));

    let out = maillage(&t.url).arg("import").arg(&demo).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(summary.contains("imported 2255 rows"), "{summary}");

    let out = maillage(&t.url)
        .arg("import")
        .arg(fixtures().join("bad/dangling-partner-ref"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("memberships.csv:5: partner_id: "));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was written"));

    let dir = tempfile::tempdir().unwrap();
    let out = maillage(&t.url).arg("export").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = maillage(&t.url).arg("check").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_pool_of_no_connection_is_refused() {
    let out = maillage("sqlite::memory:")
        .args(["--db-pool-size", "0", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--db-pool-size"), "{err}");
}

/// The PostgreSQL pool holds what `--db-pool-size` says, else twice the
/// cores (at least 4); SQLite keeps its own sizes.
#[tokio::test]
async fn the_pool_size_is_the_one_asked() {
    let t = TestDb::new().await;
    let sized = maillage::storage::connect_with(&t.url, Some(3)).await.unwrap();
    let default = maillage::storage::connect(&t.url).await.unwrap();
    if engine() == "postgres" {
        let max = |db: &sea_orm::DatabaseConnection| db.get_postgres_connection_pool().options().get_max_connections();
        assert_eq!(max(&sized), 3);
        assert_eq!(max(&default), maillage::storage::default_pool_size());
        assert!(maillage::storage::default_pool_size() >= 4);
    } else {
        let max = |db: &sea_orm::DatabaseConnection| db.get_sqlite_connection_pool().options().get_max_connections();
        assert_eq!(max(&sized), max(&default));
    }
}

#[test]
fn a_dead_database_is_a_clear_error() {
    let out = maillage("postgres://nobody@127.0.0.1:1/nothing")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open the database postgres://nobody@127.0.0.1:1/nothing"),
        "{err}"
    );
}

#[test]
fn keys_are_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
            .args(["--database-url", &url])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&["keys", "create", "--role", "partner"]);
    assert!(!ok && err.contains("--partner"), "{err}");
    let (ok, _, err) = run(&["keys", "create", "--role", "partner", "--partner", "nobody"]);
    assert!(!ok && err.contains("nobody"), "{err}");
    let (ok, key, _) = run(&["keys", "create", "--role", "analyst", "--name", "observatoire"]);
    assert!(ok);
    let key = key.trim();
    assert!(key.starts_with("mlg_") && key.len() > 60, "{key}");
    let (ok, list, _) = run(&["keys", "list"]);
    assert!(ok && list.contains("observatoire") && list.contains("active"), "{list}");
    assert!(!list.contains(&key[13..]), "the secret is never listed");
    let (ok, _, _) = run(&["keys", "revoke", "observatoire"]);
    assert!(ok);
    let (_, list, _) = run(&["keys", "list"]);
    assert!(list.contains("revoked"), "{list}");
    let (ok, _, _) = run(&["keys", "revoke", "observatoire"]);
    assert!(!ok, "nothing left to revoke");
}
