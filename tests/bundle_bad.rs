//! Every invalid bundle of `tests/fixtures/bad/` is refused, its first error
//! at the place its README names; the demo bundle passes.

use std::path::{Path, PathBuf};

use maillage::bundle::{BundleFiles, Existing, check};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_bad_bundle_is_refused_at_the_expected_place() {
    let root = manifest_dir().join("tests/fixtures/bad");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 15, "expected the 15 fixtures, found {}", dirs.len());
    for dir in dirs {
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let expected = readme
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("expect: "))
            .unwrap_or_else(|| panic!("{}: README line 2 is not `expect: file:line: column`", dir.display()))
            .trim();
        let files = BundleFiles::from_dir(&dir).unwrap();
        let report = match check(&files, &Existing::default()) {
            Ok(_) => panic!("{}: accepted, expected an error at {expected}", name(&dir)),
            Err(report) => report,
        };
        let first = &report.errors[0];
        assert_eq!(
            format!("{}:{}: {}", first.file, first.line, first.column),
            expected,
            "{}: first error is `{first}`",
            name(&dir)
        );
        assert_eq!(report.error_count, report.errors.len());
    }
}

fn name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn demo_passes_with_the_counts_of_its_readme() {
    let (bundle, warnings) = match check(&BundleFiles::demo(), &Existing::default()) {
        Ok(ok) => ok,
        Err(report) => panic!("demo refused: {:#?}", &report.errors[..report.errors.len().min(10)]),
    };
    assert!(warnings.is_empty(), "{warnings:#?}");
    let readme = std::fs::read_to_string(manifest_dir().join("data/demo/README.md")).unwrap();
    // Table rows: `| territories.csv | 30 |`
    let mut seen = 0;
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, file, count, _] = cells[..] else {
            continue;
        };
        let Ok(count) = count.parse::<usize>() else {
            continue;
        };
        let actual = match file {
            "territories.csv" => bundle.territories.len(),
            "partners.csv" => bundle.partners.len(),
            "partner_territories.csv" => bundle.partner_territories.len(),
            "contacts.csv" => bundle.contacts.len(),
            "networks.csv" => bundle.networks.len(),
            "memberships.csv" => bundle.memberships.len(),
            "actions.csv" => bundle.actions.len(),
            "action_partners.csv" => bundle.action_partners.len(),
            "action_territories.csv" => bundle.action_territories.len(),
            "relations.csv" => bundle.relations.len(),
            other => panic!("unknown file {other} in the demo README"),
        };
        assert_eq!(actual, count, "{file}");
        seen += 1;
    }
    assert_eq!(seen, 10, "the README lists the 10 files");
    assert_eq!(bundle.present, maillage::bundle::Present::ALL);
}
