//! A bundle written by `to_files`/`write_dir` reads back to the same data.

use maillage::bundle::{Bundle, BundleFiles, Existing, check, to_files, write_dir};

fn read(files: &BundleFiles) -> Bundle {
    match check(files, &Existing::default()) {
        Ok((bundle, _)) => bundle,
        Err(report) => panic!("refused: {:#?}", &report.errors[..report.errors.len().min(10)]),
    }
}

#[test]
fn demo_round_trips_through_memory_and_disk() {
    let demo = read(&BundleFiles::demo());
    let files = to_files(&demo);
    assert_eq!(files.files.len(), 10);
    let again = read(&files);
    assert_eq!(again, demo);
    // Writing is deterministic: the re-read bundle writes the same bytes.
    assert_eq!(to_files(&again).files, files.files);

    let dir = tempfile::tempdir().unwrap();
    write_dir(&demo, dir.path()).unwrap();
    assert_eq!(read(&BundleFiles::from_dir(dir.path()).unwrap()), demo);
}

#[test]
fn tricky_values_round_trip() {
    let files = BundleFiles {
        files: [
            (
                "territories.csv",
                "\u{feff}id,kind,code,name,parent_id,population,lat,lon\r\n\
                 r1,region,44,\"Grand Est, \"\"la\"\" région\",,5563378,48.5734053,7.7521113\r\n\
                 \r\n\
                 d1,department,,\"Moselle\r\nsur deux lignes\",r1,0,-0.5,-180\r\n",
            ),
            (
                "partners.csv",
                "kind,name,id,siret\nasso,  espaces  ,p1,35600000000001\nasso,\"a\rb\",p2,\nml,x\"y,p3,73282932000074\n",
            ),
            ("actions.csv", "id,title,theme,status,budget_eur,beneficiaries\na1,T,youth,active,12500.5,7\na2,U,other,done,0.07,\n"),
            (
                "action_partners.csv",
                "action_id,partner_id,role,contribution_eur\na1,p1,lead,1.235\na1,p2,co_lead,1000000\na2,p3,funder,\n",
            ),
            ("relations.csv", "from_partner_id,to_partner_id,kind,weight,note\np1,p2,funding,0.1,\"x\ny\"\np2,p1,referral,,\n"),
        ]
        .into_iter()
        .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
        .collect(),
    };
    let (bundle, warnings) = check(&files, &Existing::default()).unwrap();
    // 1.235 € is rounded to the cent, with a warning.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].column, "contribution_eur");
    assert_eq!(bundle.action_partners[0].contribution_cents, Some(124));
    assert_eq!(bundle.actions[0].budget_cents, Some(1_250_050));
    assert_eq!(bundle.actions[1].budget_cents, Some(7));
    assert_eq!(bundle.territories[0].name, "Grand Est, \"la\" région");
    assert_eq!(bundle.territories[1].name, "Moselle\r\nsur deux lignes");
    assert_eq!(bundle.territories[1].code, None);
    assert_eq!(bundle.partners[0].name, "  espaces  ");
    assert_eq!(bundle.partners[1].name, "a\rb");
    assert_eq!(bundle.partners[2].name, "x\"y");
    assert_eq!(bundle.relations[0].weight, 0.1);
    assert_eq!(bundle.relations[1].weight, 1.0);
    assert_eq!(bundle.relations[0].note.as_deref(), Some("x\ny"));
    let p = bundle.present;
    assert!(p.actions && p.action_partners && p.relations);
    assert!(!p.contacts && !p.networks && !p.memberships && !p.partner_territories && !p.action_territories);

    let written = to_files(&bundle);
    // Only the files the bundle carried, each with its full header.
    let names: Vec<&str> = written.files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "action_partners.csv",
            "actions.csv",
            "partners.csv",
            "relations.csv",
            "territories.csv"
        ]
    );
    let actions = String::from_utf8(written.files["actions.csv"].clone()).unwrap();
    assert!(actions.starts_with(
        "id,title,theme,status,network_id,started_on,ended_on,budget_eur,beneficiaries,description,visibility\n"
    ));
    assert!(actions.contains(",12500.50,7,"), "{actions}");
    let (again, warnings) = check(&written, &Existing::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(again, bundle);
}

fn files(pairs: &[(&str, &str)]) -> BundleFiles {
    BundleFiles {
        files: pairs
            .iter()
            .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
            .collect(),
    }
}

const TERRITORIES: &str = "id,kind,name\nreg-44,region,Grand Est\n";
const PARTNERS: &str = "id,name,kind\np1,Mission Locale,ml\np2,CCAS,ccas\n";

#[test]
fn visibility_is_optional_read_and_written_and_checked() {
    let b = read(&files(&[
        ("territories.csv", TERRITORIES),
        ("partners.csv", PARTNERS),
        (
            "networks.csv",
            "id,name,kind,visibility\nn1,GLTD,gltd,public\nn2,CISPD,cispd,\n",
        ),
        (
            "actions.csv",
            "id,title,theme,status,network_id,visibility\na1,Chantier,youth,active,n1,internal\n",
        ),
        (
            "relations.csv",
            "from_partner_id,to_partner_id,kind,visibility\np1,p2,referral,members\n",
        ),
    ]));
    use maillage::model::Visibility;
    assert_eq!(b.networks[0].visibility, Some(Visibility::Public));
    assert_eq!(b.networks[1].visibility, None, "empty: the default of its kind");
    assert_eq!(b.actions[0].visibility, Some(Visibility::Internal));
    assert_eq!(b.relations[0].visibility, Some(Visibility::Members));
    assert_eq!(read(&to_files(&b)), b);

    // Without the column, nothing is set: every record keeps its kind's default.
    let plain = read(&files(&[
        ("territories.csv", TERRITORIES),
        ("partners.csv", PARTNERS),
        ("networks.csv", "id,name,kind\nn1,GLTD,gltd\n"),
    ]));
    assert_eq!(plain.networks[0].visibility, None);

    // An unknown value is an error, at its place.
    let report = check(
        &files(&[
            ("territories.csv", TERRITORIES),
            ("partners.csv", PARTNERS),
            ("networks.csv", "id,name,kind,visibility\nn1,GLTD,gltd,secret\n"),
        ]),
        &Existing::default(),
    )
    .unwrap_err();
    let e = &report.errors[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.column.as_str()),
        ("networks.csv", 2, "visibility")
    );
    assert!(e.message.contains("public"), "{}", e.message);
}
