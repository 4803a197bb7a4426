//! Incremental imports: references and tree rules span the bundle and what
//! the hub already holds (`Existing`).

use maillage::bundle::{BundleFiles, Diagnostic, Existing, check};
use maillage::model::TerritoryKind;

fn bundle(files: &[(&str, &str)]) -> BundleFiles {
    let mut all = vec![
        ("territories.csv", "id,kind,name,parent_id,code\n"),
        ("partners.csv", "id,name,kind,parent_id\n"),
    ];
    for (name, content) in files {
        all.retain(|(n, _)| n != name);
        all.push((name, content));
    }
    BundleFiles {
        files: all
            .into_iter()
            .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
            .collect(),
    }
}

/// The errors as `file:line: column`.
fn errors(files: &BundleFiles, existing: &Existing) -> Vec<String> {
    match check(files, existing) {
        Ok(_) => Vec::new(),
        Err(report) => report
            .errors
            .iter()
            .map(|d: &Diagnostic| format!("{}:{}: {}", d.file, d.line, d.column))
            .collect(),
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn references_resolve_into_the_hub() {
    let files = bundle(&[
        (
            "partners.csv",
            "id,name,kind,parent_id,territory_id\np1,P,asso,p-old,t-old\n",
        ),
        (
            "memberships.csv",
            "network_id,partner_id,role\nn-old,p1,member\nn-old,p-old,pilot\n",
        ),
        ("action_partners.csv", "action_id,partner_id,role\na-old,p1,operator\n"),
    ]);
    assert_eq!(
        errors(&files, &Existing::default()),
        [
            "partners.csv:2: territory_id",
            "memberships.csv:2: network_id",
            "memberships.csv:3: network_id",
            "memberships.csv:3: partner_id",
            "action_partners.csv:2: action_id",
            "partners.csv:2: parent_id",
        ]
    );
    let mut existing = Existing::default();
    existing.territories.insert(s("t-old"), (TerritoryKind::Commune, None));
    existing.partners.insert(s("p-old"), None);
    existing.networks.insert(s("n-old"), None);
    existing.actions.insert(s("a-old"));
    assert_eq!(errors(&files, &existing), Vec::<String>::new());
}

#[test]
fn cycles_span_the_hub_and_the_bundle() {
    let mut existing = Existing::default();
    existing.partners.insert(s("pb"), Some(s("pa")));
    existing.partners.insert(s("pa"), None);
    existing.networks.insert(s("n2"), Some(s("n3")));
    existing.networks.insert(s("n3"), Some(s("n1")));
    // pa -> pb (bundle) -> pa (hub)
    let files = bundle(&[("partners.csv", "id,name,kind,parent_id\npx,X,asso,\npa,A,asso,pb\n")]);
    assert_eq!(errors(&files, &existing), ["partners.csv:3: parent_id"]);
    // Unless the bundle also moves pb.
    let files = bundle(&[("partners.csv", "id,name,kind,parent_id\npa,A,asso,pb\npb,B,asso,\n")]);
    assert_eq!(errors(&files, &existing), Vec::<String>::new());
    // A longer cycle closing through two records of the hub.
    let files = bundle(&[("networks.csv", "id,name,kind,parent_id\nn1,N,youth,n2\n")]);
    assert_eq!(errors(&files, &existing), ["networks.csv:2: parent_id"]);
}

#[test]
fn ranks_span_the_hub_and_the_bundle() {
    let mut existing = Existing::default();
    existing
        .territories
        .insert(s("com-1"), (TerritoryKind::Commune, Some(s("epci-1"))));
    existing.territories.insert(s("epci-1"), (TerritoryKind::Epci, None));
    let files = bundle(&[(
        "territories.csv",
        "id,kind,name,parent_id\ndis-1,district,D,com-1\ndep-2,department,D2,com-1\n",
    )]);
    assert_eq!(errors(&files, &existing), ["territories.csv:3: parent_id"]);
    // Changing the kind of a territory of the hub breaks the rank of its
    // children that the bundle leaves alone: reported on the changed row.
    let files = bundle(&[(
        "territories.csv",
        "id,kind,name,parent_id\nr,region,R,\nepci-1,commune,E,r\n",
    )]);
    assert_eq!(errors(&files, &existing), ["territories.csv:3: kind"]);
    let files = bundle(&[(
        "territories.csv",
        "id,kind,name,parent_id\nr,region,R,\nepci-1,commune,E,r\ncom-1,district,C,epci-1\n",
    )]);
    assert_eq!(errors(&files, &existing), Vec::<String>::new());
}

#[test]
fn territory_codes_span_the_hub_and_the_bundle() {
    let mut existing = Existing::default();
    existing
        .territories
        .insert(s("com-57306"), (TerritoryKind::Commune, None));
    existing
        .territory_codes
        .insert((TerritoryKind::Commune, s("57306")), s("com-57306"));
    let clash = bundle(&[("territories.csv", "id,kind,name,code\ncom-x,commune,X,57306\n")]);
    assert_eq!(errors(&clash, &existing), ["territories.csv:2: code"]);
    // The same territory, or another kind, is fine.
    let same = bundle(&[(
        "territories.csv",
        "id,kind,name,code\ncom-57306,commune,X,57306\nd,department,D,57306\n",
    )]);
    assert_eq!(errors(&same, &existing), Vec::<String>::new());
    // The code moves to another territory: fine when the bundle gives the
    // old holder another code, an error when both keep it.
    let moved = bundle(&[(
        "territories.csv",
        "id,kind,name,code\ncom-x,commune,X,57306\ncom-57306,commune,Y,99999\n",
    )]);
    assert_eq!(errors(&moved, &existing), Vec::<String>::new());
    let both = bundle(&[(
        "territories.csv",
        "id,kind,name,code\ncom-x,commune,X,57306\ncom-57306,commune,Y,57306\n",
    )]);
    assert_eq!(errors(&both, &existing), ["territories.csv:3: code"]);
}

#[test]
fn a_new_lead_must_demote_the_old_one() {
    let mut existing = Existing::default();
    for p in ["p-old", "p-new"] {
        existing.partners.insert(s(p), None);
    }
    existing.actions.insert(s("a1"));
    existing.leads.insert(s("a1"), s("p-old"));
    let ap = |rows: &str| bundle(&[("action_partners.csv", &format!("action_id,partner_id,role\n{rows}"))]);
    assert_eq!(
        errors(&ap("a1,p-new,lead\n"), &existing),
        ["action_partners.csv:2: role"]
    );
    assert_eq!(
        errors(&ap("a1,p-new,lead\na1,p-old,co_lead\n"), &existing),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(&ap("a1,p-old,lead\na1,p-new,operator\n"), &existing),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(&ap("a1,p-old,funder\na1,p-new,lead\n"), &existing),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(&ap("a1,p-new,lead\na1,p-old,lead\n"), &existing),
        ["action_partners.csv:3: role"]
    );
}

#[test]
fn duplicate_keys_are_found_wherever_their_references_point() {
    let mut existing = Existing::default();
    existing.networks.insert(s("n-old"), None);
    existing.partners.insert(s("p-old"), None);
    let files = bundle(&[
        ("partners.csv", "id,name,kind\np1,P,asso\n"),
        ("networks.csv", "id,name,kind\nn1,N,youth\n"),
        (
            "memberships.csv",
            "network_id,partner_id,role\nn1,p1,member\nn-old,p1,member\nn1,p-old,member\n\
             n-old,p1,pilot\nn1,p1,pilot\nn1,p-old,pilot\nn-old,p-old,member\n",
        ),
    ]);
    assert_eq!(
        errors(&files, &existing),
        [
            "memberships.csv:5: partner_id",
            "memberships.csv:6: partner_id",
            "memberships.csv:7: partner_id"
        ]
    );
}
