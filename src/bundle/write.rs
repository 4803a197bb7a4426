//! Writing a bundle. (Being written.)
use super::*;

/// Writes a bundle as CSV files into `dir` (created if needed).
pub fn write_dir(bundle: &Bundle, dir: &Path) -> std::io::Result<()> {
    let _ = (bundle, dir);
    todo!()
}

/// A bundle as in-memory files.
pub fn to_files(bundle: &Bundle) -> BundleFiles {
    let _ = bundle;
    todo!()
}
