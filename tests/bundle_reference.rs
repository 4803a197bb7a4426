//! Our verdicts against the reference validator's (`shared/tools/gen-bundle
//! --check`): for each invalid bundle, the same errors at the same
//! `file:line: column`, in the same order. Skipped, with a note, when the
//! validator or python3 is not there.

use std::path::{Path, PathBuf};
use std::process::Command;

use maillage::bundle::{BundleFiles, Existing, check, to_files, write_dir};

/// The reference validator, if it can be run here.
fn validator() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen-bundle");
    if !path.is_file() {
        eprintln!("note: {} not found, reference comparison skipped", path.display());
        return None;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("note: python3 not found, reference comparison skipped");
        return None;
    }
    Some(path)
}

type Loc = (String, u64, String);

/// The validator's errors, as it prints them on stdout: `file:line: column: message`.
fn reference_errors(validator: &Path, dir: &Path) -> (Vec<Loc>, bool) {
    let out = Command::new("python3")
        .arg(validator)
        .arg("--check")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let locs = stdout
        .lines()
        .map(|l| {
            let (file, rest) = l.split_once(':').unwrap();
            let (line, rest) = rest.split_once(": ").unwrap();
            let column = rest.split_once(": ").map_or(rest, |(c, _)| c);
            (file.to_owned(), line.parse().unwrap(), column.to_owned())
        })
        .collect();
    (locs, out.status.success())
}

fn our_errors(dir: &Path) -> Vec<Loc> {
    match check(&BundleFiles::from_dir(dir).unwrap(), &Existing::default()) {
        Ok(_) => Vec::new(),
        Err(report) => {
            assert_eq!(report.error_count, report.errors.len());
            report.errors.into_iter().map(|d| (d.file, d.line, d.column)).collect()
        }
    }
}

fn assert_same_verdict(validator: &Path, dir: &Path, name: &str, min_errors: usize) {
    let (theirs, _) = reference_errors(validator, dir);
    let ours = our_errors(dir);
    assert_eq!(
        ours, theirs,
        "{name}: our errors (left) differ from the validator's (right)"
    );
    assert!(
        ours.len() >= min_errors,
        "{name}: only {} errors, the case tests less than it should",
        ours.len()
    );
}

#[test]
fn bad_fixtures_match_the_validator() {
    let Some(validator) = validator() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    for entry in std::fs::read_dir(root).unwrap() {
        let dir = entry.unwrap().path();
        if dir.is_dir() {
            assert_same_verdict(&validator, &dir, &dir.display().to_string(), 1);
        }
    }
}

#[test]
fn hand_made_bundles_match_the_validator() {
    let Some(validator) = validator() else { return };
    for (name, files) in cases() {
        let dir = tempfile::tempdir().unwrap();
        for (file, bytes) in &files {
            std::fs::write(dir.path().join(file), bytes).unwrap();
        }
        assert_same_verdict(&validator, dir.path(), name, 3);
    }
}

#[test]
fn the_validator_accepts_our_export() {
    let Some(validator) = validator() else { return };
    let (demo, _) = check(&BundleFiles::demo(), &Existing::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_dir(&demo, dir.path()).unwrap();
    let (errors, ok) = reference_errors(&validator, dir.path());
    assert!(ok && errors.is_empty(), "{errors:?}");

    // Quotes, line breaks, commas and rounded money, written back.
    let (tricky, _) = check(&files(&tricky()), &Existing::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in to_files(&tricky).files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let (errors, ok) = reference_errors(&validator, dir.path());
    assert!(ok && errors.is_empty(), "{errors:?}");
}

fn files(list: &[(&str, Vec<u8>)]) -> BundleFiles {
    BundleFiles {
        files: list.iter().map(|(n, b)| (n.to_string(), b.clone())).collect(),
    }
}

/// A bundle's files as (name, content).
type Files = Vec<(&'static str, Vec<u8>)>;

fn tricky() -> Files {
    vec![
        (
            "territories.csv",
            b"\xef\xbb\xbfid,kind,code,name,parent_id,population,lat,lon\r\nr1,region,44,\"Grand Est, \"\"la\"\" r\xc3\xa9gion\",,5563378,48.5734053,7.7521113\r\n\r\nd1,department,,\"Moselle\r\nsur deux lignes\",r1,0,-0.5,-180\r\n".to_vec(),
        ),
        ("partners.csv", b"kind,name,id,siret\nasso,  espaces  ,p1,35600000000001\nasso,\"a\rb\",p2,\nml,x\"y,p3,\n".to_vec()),
        ("actions.csv", b"id,title,theme,status,budget_eur\na1,T,youth,active,12500.505\n".to_vec()),
    ]
}

/// Invalid bundles with several errors each, across the reader's and the
/// validator's rules.
fn cases() -> Vec<(&'static str, Files)> {
    let s = |t: &str| t.as_bytes().to_vec();
    vec![
        (
            "CRLF, multi-line records, blank lines, field counts, a broken file",
            vec![
                (
                    "territories.csv",
                    s("id,kind,code,name,parent_id,population,lat,lon\r\n\
                       r1,region,44,\"Grand\r\nEst\",,1,,\r\n\
                       \r\n\
                       d1,departement,57,Moselle,r1,x,,\r\n\
                       d2,department,57,\"Moselle\r\nbis\",r1,,91,\r\n\
                       c1,commune,,Hayange,d1\r\n\
                       c2,commune,,Fameck,zz,,,,extra\r\n"),
                ),
                (
                    "partners.csv",
                    s("id,name,kind,parent_id,territory_id,description\n\
                       p1,\"A\n\nB\",asso,p9,c1,\"x\n\"\n\
                       p2,B,asso,,zz,\n\
                       p3,C,mairie,p2,r1,\"ab\"c\n\
                       p4,D,asso,,,\n"),
                ),
                (
                    "memberships.csv",
                    s("network_id,partner_id,role,since,until\nn1,p1,member,2020-01-01,2019-12-31\nn1,p1,chief,,\n"),
                ),
                ("relations.csv", s("from_partner_id,to_partner_id,kind\np1,p1,funding\np1,p2,funding\r x\np3,p4,x\n")),
            ],
        ),
        (
            "references, duplicates and trees",
            vec![
                (
                    "territories.csv",
                    s("id,kind,code,name,parent_id\n\
                       t-epci,epci,1,E,t-com\n\
                       t-com,commune,2,C,t-epci\n\
                       t-self,region,,S,t-self\n\
                       t-dep,department,3,D,t-reg\n\
                       t-reg,region,,R,\n\
                       t-dep,department,3,D2,t-nowhere\n\
                       t-q,qpv,Q1,Q,t-dep\n\
                       t-d,district,,Dd,t-q\n"),
                ),
                (
                    "partners.csv",
                    s("id,name,kind,parent_id,territory_id\n\
                       pa,A,asso,pb,t-com\n\
                       pb,B,asso,pc,t-x\n\
                       pc,C,asso,pa,\n\
                       pd,D,asso,pe,\n\
                       pe,E,asso,,\n\
                       pa,A2,asso,,\n"),
                ),
                ("contacts.csv", s("id,partner_id,full_name\nc1,pa,\nc 2,pz,X\n")),
                (
                    "networks.csv",
                    s("id,name,kind,territory_id,parent_id,started_on,ended_on\n\
                       n1,N1,cispd,t-com,n2,2020-01-01,2020-01-01\n\
                       n2,N2,clspd,,n1,2021-02-30,\n\
                       n3,N3,youth,,n4,,\n"),
                ),
                ("memberships.csv", s("network_id,partner_id,role\nn1,pa,pilot\nn1,pa,member\nn9,pz,member\n")),
                (
                    "actions.csv",
                    s("id,title,theme,status,network_id,started_on,ended_on,budget_eur,beneficiaries\n\
                       a1,T,youth,active,n1,2025-07-01,2024-12-31,-5,-3\n\
                       a2,T2,health,done,,,,12.5.6,1.5\n\
                       a1,T3,health,done,n3,,,,\n"),
                ),
                (
                    "action_partners.csv",
                    s("action_id,partner_id,role,contribution_eur\na1,pa,lead,\na1,pb,lead,1,000\na1,pa,co_lead,\na9,pa,lead,\n"),
                ),
                ("action_territories.csv", s("action_id,territory_id\na1,t-com\na1,t-com\na2,t-zz\n")),
                (
                    "relations.csv",
                    s("from_partner_id,to_partner_id,kind,since,until,weight,note\n\
                       pa,pb,funding,,,0,\n\
                       pa,pb,funding,,,,\n\
                       pa,pb,referral,2020-01-01,2019-01-01,-1,\n\
                       pb,pb,convention,,,abc,\n"),
                ),
            ],
        ),
        (
            "encodings, headers, missing and empty files",
            vec![
                (
                    "territories.csv",
                    b"\xef\xbb\xbf id , kind,code,name,extra,name\nr\xe9,region,,R,x,R2\nd1,department,,\"multi\n\xff line\",x,D\n".to_vec(),
                ),
                ("contacts.csv", b"id,partner_id,full_name\nc1,p1,A\x00B\n".to_vec()),
                ("networks.csv", s("id,name\nn1,N\n")),
                ("memberships.csv", s("network_id,partner_id,role\nn1,p1,boss\n")),
                ("notes.csv", s("a,b\n1,2\n")),
                ("action_partners.csv", b"action_id,partner_id,r\xf4le\na1,p1,lead\n".to_vec()),
                ("relations.csv", Vec::new()),
                ("action_territories.csv", b"\xef\xbb\xbf".to_vec()),
                ("actions.csv", s("\nid,title,theme,status\n")),
            ],
        ),
        (
            "values",
            vec![
                (
                    "territories.csv",
                    s("id,kind,code,name,parent_id,population,lat,lon\n\
                       t1,region,,R,,1e5,90.0001,-180.5\n\
                       t2,region,,,,-0,-90,180\n\
                       t3,region,,R3,,-7,abc,\n\
                       t4,region,,R4,,١٢٣,٤٥.٥,\n"),
                ),
                (
                    "partners.csv",
                    s("id,name,kind,siret\n\
                       p1,A,asso,1234567890123\n\
                       p2,B,Asso,12345678901234\n\
                       p3,C,asso,١٢٣٤٥٦٧٨٩٠١٢٣٤\n\
                       x/y,D,asso,\n\
                       ,E,asso,\n\
                       p6,\"tab\tname\",asso,35600000000001\n"),
                ),
                (
                    "actions.csv",
                    s("id,title,theme,status,budget_eur,beneficiaries\n\
                       a1,T,youth,active,\"1 000\",\n\
                       a2,T,youth,active,-0.00,\n\
                       a3,T,youth,active,-0.01,\n\
                       a4,T,youth,active,1.5e3,\n\
                       a5,T,youth,active,١٢.٥,١٢\n\
                       a6,T,youth,paused,12.345,\n"),
                ),
                (
                    "relations.csv",
                    s("from_partner_id,to_partner_id,kind,since,until,weight\n\
                       p1,p2,funding,2019-02-29,2020-02-29,-0.0\n\
                       p1,p3,funding,2019-2-1,,1\n"),
                ),
            ],
        ),
        (
            "a field past Python's size limit, in a multi-line quoted field",
            vec![
                ("territories.csv", s("id,kind,name\nr1,region,R\nr1,region,R\n")),
                (
                    "partners.csv",
                    [
                        &b"id,name,kind,description\np1,A,asso,\"x\n"[..],
                        &[b'x'; 70_000][..],
                        b"\n",
                        &[b'y'; 70_000][..],
                        b"\n\xe9\n\"\n",
                    ]
                    .concat(),
                ),
                ("contacts.csv", s("id,partner_id,full_name\nc1,p1,A\nc1,p2,B\n")),
            ],
        ),
    ]
}
