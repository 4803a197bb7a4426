//! The CSV interchange format: reading and validating a bundle, writing one.
//!
//! This module is pure (no database): `check` turns raw files into a typed
//! [`Bundle`] or a list of located errors, `write_dir` turns a bundle back
//! into files. The rules and the error locations follow
//! `shared/bundle-format.md` and its reference validator
//! (`shared/tools/gen-bundle --check`).

mod format;
pub mod model;
mod read;
pub mod rules;
mod strict_csv;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub use model::*;
pub use read::{check, check_streaming};
pub use write::{to_files, write_dir};

/// The files of a bundle, by file name (`partners.csv` …), as raw bytes.
#[derive(Debug, Clone, Default)]
pub struct BundleFiles {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl BundleFiles {
    /// Reads every regular file of a folder (not its subfolders).
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                files.insert(name, std::fs::read(entry.path())?);
            }
        }
        Ok(BundleFiles { files })
    }

    /// The demo bundle (CA du Val de Fensch), compiled into the binary so that
    /// a first run shows real data without anything beside the executable.
    pub fn demo() -> Self {
        macro_rules! embed {
            ($($f:literal),*) => {
                BundleFiles { files: [$(($f.to_string(), include_bytes!(concat!("../../data/demo/", $f)).to_vec())),*].into_iter().collect() }
            };
        }
        embed!(
            "territories.csv",
            "partners.csv",
            "partner_territories.csv",
            "contacts.csv",
            "networks.csv",
            "memberships.csv",
            "actions.csv",
            "action_partners.csv",
            "action_territories.csv",
            "relations.csv"
        )
    }
}

/// Shares a borrowed bundle by copying it (see `domain::transfer::import`).
impl From<&BundleFiles> for std::sync::Arc<BundleFiles> {
    fn from(f: &BundleFiles) -> Self {
        std::sync::Arc::new(f.clone())
    }
}

/// One finding about a bundle, located like the reference validator does:
/// the physical line where the record starts (1 = header) and the column
/// name, or `-` when the problem is not in one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Why a bundle was refused: every error found (up to [`Report::KEPT`]), the
/// total count, and the warnings.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub errors: Vec<Diagnostic>,
    /// How many errors there were in all (may exceed `errors.len()`).
    pub error_count: usize,
    pub warnings: Vec<Diagnostic>,
}

impl Report {
    /// How many errors a report keeps; the rest are only counted.
    pub const KEPT: usize = 1000;
}
