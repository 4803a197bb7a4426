//! Test harness: a fresh database per test, on SQLite by default or on
//! PostgreSQL when `MAILLAGE_TEST_DATABASE_URL` is set (each test then gets
//! its own database, dropped afterwards, so tests run in parallel).

#![allow(dead_code)]

pub mod browser;
pub mod search;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub struct TestDb {
    pub url: String,
    pub db: DatabaseConnection,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: String, name: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn engine() -> &'static str {
    if std::env::var("MAILLAGE_TEST_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    }
}

impl TestDb {
    /// A new, migrated, empty database.
    pub async fn new() -> TestDb {
        let (url, cleanup) = match std::env::var("MAILLAGE_TEST_DATABASE_URL") {
            Ok(admin) => {
                let name = format!(
                    "maillage_t_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .subsec_nanos()
                );
                let a = Database::connect(&admin)
                    .await
                    .expect("connect to MAILLAGE_TEST_DATABASE_URL");
                a.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                a.close().await.ok();
                (replace_db(&admin, &name), Cleanup::Postgres { admin, name })
            }
            Err(_) => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, Cleanup::Sqlite(dir))
            }
        };
        let db = maillage::storage::open(&url)
            .await
            .expect("open and migrate the test database");
        TestDb { url, db, cleanup }
    }

    /// A new database holding the demo bundle.
    pub async fn with_demo() -> TestDb {
        let t = TestDb::new().await;
        assert!(
            maillage::domain::transfer::load_demo_if_empty(&t.db)
                .await
                .expect("load demo")
        );
        t
    }
}

/// The same server URL with another database name.
fn replace_db(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base.rfind('/').expect("a database URL has a path");
    let mut u = format!("{}/{}", &base[..cut], name);
    if let Some(q) = query {
        u.push('?');
        u.push_str(q);
    }
    u
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin, name } = &self.cleanup {
            let (admin, name) = (admin.clone(), name.clone());
            // The test's runtime is blocked in this drop: use a small runtime of
            // our own, and let DROP … WITH (FORCE) end the pool's connections
            // (closing the pool from here would wait on the blocked runtime).
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    if let Ok(a) = Database::connect(&admin).await {
                        let _ = a
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                        a.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `../shared/tools/gen-bundle`, when the shared material is beside the clone.
pub fn gen_bundle() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen-bundle");
    let python = std::process::Command::new("python3").arg("--version").output().is_ok();
    (p.exists() && python).then_some(p)
}

/// A generated department bundle (cached per process run in a temp dir).
pub fn department_bundle(partners: u32) -> Option<tempfile::TempDir> {
    let script = gen_bundle()?;
    let dir = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("python3")
        .arg(script)
        .args([
            "--size",
            "department",
            "--seed",
            "7",
            "--partners",
            &partners.to_string(),
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("run gen-bundle");
    assert!(
        st.status.success(),
        "gen-bundle failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    Some(dir)
}
