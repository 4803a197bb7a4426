//! Importing and exporting bundles, each as one transaction.

use std::path::Path;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::bundle::{self, BundleFiles, Diagnostic, Present, Report};
use crate::storage::{self, StorageError, import::ImportSummary, import::Progress};

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("cannot read the bundle at {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write the bundle to {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("the bundle is invalid: {} error(s)", .0.error_count)]
    Invalid(Report),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sea_orm::DbErr> for TransferError {
    fn from(e: sea_orm::DbErr) -> Self {
        TransferError::Storage(e.into())
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Remove the records (of the files the bundle carries) that it does not hold.
    pub replace: bool,
    /// Validate and run every write, then roll back.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub summary: ImportSummary,
    pub warnings: Vec<Diagnostic>,
    pub committed: bool,
}

/// Reads a bundle folder.
pub fn read_dir(dir: &Path) -> Result<BundleFiles, TransferError> {
    if !dir.is_dir() {
        return Err(TransferError::Read {
            path: dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    BundleFiles::from_dir(dir).map_err(|source| TransferError::Read {
        path: dir.display().to_string(),
        source,
    })
}

/// Validates a bundle against the rules and what the hub already holds, and
/// writes it in one transaction: on any error nothing is written.
///
/// Validation and writing overlap: the bundle is checked on a thread of its
/// own, which hands each file's rows over as soon as the file is read
/// without error, and they are written while the next files are checked
/// (the database loading one table while the checker reads the next). The
/// verdict comes last; when it is an error, the transaction is rolled back,
/// so what was written meanwhile never shows. `files` is shared with that
/// thread (pass it owned: a reference is cloned).
pub async fn import(
    db: &DatabaseConnection,
    files: impl Into<Arc<BundleFiles>>,
    opts: ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportOutcome, TransferError> {
    let files = files.into();
    let started = std::time::Instant::now();
    let txn = storage::import::begin(db).await?;
    // Which files the bundle carries decides what --replace may prune, and so
    // what an incremental reference may still point at.
    let carried = carried(&files);
    let existing = storage::import::existing(&txn, carried, opts.replace).await?;
    let (parts_tx, mut parts) = tokio::sync::mpsc::unbounded_channel();
    let (verdict_tx, verdict) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bundle-check".into())
        .spawn(move || {
            let mut sink = move |part| {
                // A writer that stopped (on a database error) wants no more.
                let _ = parts_tx.send(part);
            };
            let v = bundle::check_streaming(&files, &existing, &mut sink);
            drop(sink);
            // The writer waits on the parts first: it may see them end early.
            let _ = verdict_tx.send(v);
        })
        .map_err(|source| TransferError::Read {
            path: "(bundle check thread)".into(),
            source,
        })?;
    let written = storage::import::write(&txn, &mut parts, carried, opts.replace, progress).await;
    drop(parts);
    // An invalid bundle explains any write failure it caused (a reference
    // to rows that never came): its report comes first.
    let (_, warnings) = verdict
        .await
        .map_err(|_| TransferError::Storage(StorageError::Integrity("the bundle check stopped".into())))?
        .map_err(TransferError::Invalid)?;
    let summary = written?;
    // Every bundle carries territories.
    storage::ancestry::rebuild(&txn).await?;
    // The audit log gets the import as one entry (who, when, what it
    // changed, table by table), in the same transaction.
    let system = super::access::Principal::system();
    let tables: serde_json::Map<String, serde_json::Value> = summary
        .tables
        .iter()
        .map(|t| {
            (
                t.table.to_owned(),
                serde_json::json!({ "rows": t.rows, "written": t.written, "deleted": t.deleted }),
            )
        })
        .collect();
    storage::keys::audit(
        &txn,
        storage::keys::AuditEntry {
            principal: &system.name,
            role: system.role.as_str(),
            operation: if opts.replace { "import --replace" } else { "import" },
            record_type: None,
            record_id: None,
            before: None,
            after: Some(serde_json::json!({ "tables": tables })),
        },
    )
    .await?;
    // Every graph projection reloads after an import (cheaper than
    // replaying thousands of rows one by one).
    super::graph::record_rebuild(&txn).await?;
    if opts.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    // Metrics of imports that committed (through the `metrics` facade: a
    // no-op where no recorder is installed, as in the CLI).
    if !opts.dry_run {
        metrics::histogram!("maillage_import_duration_seconds").record(started.elapsed().as_secs_f64());
        for t in &summary.tables {
            metrics::counter!("maillage_import_rows_total", "table" => t.table).increment(t.rows);
        }
    }
    Ok(ImportOutcome {
        summary,
        warnings,
        committed: !opts.dry_run,
    })
}

fn carried(files: &BundleFiles) -> Present {
    let has = |f: &str| files.files.contains_key(f);
    Present {
        partner_territories: has("partner_territories.csv"),
        contacts: has("contacts.csv"),
        networks: has("networks.csv"),
        memberships: has("memberships.csv"),
        actions: has("actions.csv"),
        action_partners: has("action_partners.csv"),
        action_territories: has("action_territories.csv"),
        relations: has("relations.csv"),
    }
}

/// Reads the whole graph in one consistent snapshot.
pub async fn snapshot(db: &DatabaseConnection) -> Result<bundle::Bundle, TransferError> {
    let txn = db.begin().await?;
    let b = storage::export::read_all(&txn).await?;
    txn.commit().await?;
    Ok(b)
}

/// Writes the whole graph as a bundle folder.
pub async fn export(db: &DatabaseConnection, dir: &Path) -> Result<bundle::Bundle, TransferError> {
    let b = snapshot(db).await?;
    bundle::write_dir(&b, dir).map_err(|source| TransferError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    Ok(b)
}

/// Loads the embedded demo bundle when the database holds nothing yet.
/// Returns whether it did.
pub async fn load_demo_if_empty(db: &DatabaseConnection) -> Result<bool, TransferError> {
    if !storage::is_empty(db).await? {
        return Ok(false);
    }
    import(
        db,
        BundleFiles::demo(),
        ImportOptions::default(),
        &storage::import::Silent,
    )
    .await?;
    Ok(true)
}
