//! Reading and validating a bundle. (Being written.)
use super::*;

/// Validates every file of a bundle and, when it holds no error, returns its
/// typed content and the warnings. `existing` is what the hub already holds
/// (empty for a full replace): references may point into it.
pub fn check(files: &BundleFiles, existing: &Existing) -> Result<(Bundle, Vec<Diagnostic>), Report> {
    let _ = (files, existing);
    todo!()
}
