//! Validates a bundle folder like `gen-bundle --check` and times it.
//!
//! `cargo run --release --example check_bundle -- DIR [RUNS]`: errors on
//! stdout (`file:line: column: message`), warnings, counts and the time of
//! each run on stderr; exit 1 on any error.

use std::path::PathBuf;
use std::time::Instant;

use maillage::bundle::{BundleFiles, Existing, check};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: check_bundle DIR [RUNS]"));
    let runs: usize = args.next().map_or(1, |n| n.parse().expect("RUNS is a number"));
    let t = Instant::now();
    let files = BundleFiles::from_dir(&dir).expect("readable folder");
    eprintln!("read {} files in {:.3}s", files.files.len(), t.elapsed().as_secs_f64());
    let mut failed = false;
    for run in 0..runs {
        let t = Instant::now();
        let result = check(&files, &Existing::default());
        let secs = t.elapsed().as_secs_f64();
        if run + 1 < runs {
            eprintln!("run {}: {secs:.3}s", run + 1);
            continue;
        }
        match result {
            Ok((bundle, warnings)) => {
                for w in &warnings {
                    eprintln!("{w}");
                }
                let rows = bundle.territories.len()
                    + bundle.partners.len()
                    + bundle.partner_territories.len()
                    + bundle.contacts.len()
                    + bundle.networks.len()
                    + bundle.memberships.len()
                    + bundle.actions.len()
                    + bundle.action_partners.len()
                    + bundle.action_territories.len()
                    + bundle.relations.len();
                eprintln!(
                    "run {}: {secs:.3}s, 0 error(s), {} warning(s), {rows} rows",
                    run + 1,
                    warnings.len()
                );
            }
            Err(report) => {
                for e in &report.errors {
                    println!("{e}");
                }
                for w in &report.warnings {
                    eprintln!("{w}");
                }
                eprintln!(
                    "run {}: {secs:.3}s, {} error(s), {} warning(s)",
                    run + 1,
                    report.error_count,
                    report.warnings.len()
                );
                failed = true;
            }
        }
    }
    std::process::exit(i32::from(failed));
}
