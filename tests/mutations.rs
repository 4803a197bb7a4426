//! The GraphQL mutations over the demo data: create / update / delete of
//! every entity, optimistic concurrency, the import's validation rules with
//! their field paths, delete refusals and cascades, the territory closure,
//! authorization and the audit log. Runs on SQLite, and on PostgreSQL with
//! `MAILLAGE_TEST_DATABASE_URL`.

mod common;

use async_graphql::Request;
use common::TestDb;
use maillage::api::graphql::{ApiConfig, AppSchema, Loaders, schema};
use maillage::domain::access::{Principal, Role};
use maillage::storage::Scope;
use maillage::storage::entity::*;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

struct Api {
    db: DatabaseConnection,
    schema: AppSchema,
}

fn coordinator() -> Principal {
    Principal {
        role: Role::Coordinator,
        partner_id: None,
        name: "dcs-editor".into(),
        contact_details: true,
        identity: "key:editor".into(),
    }
}

fn analyst() -> Principal {
    Principal {
        role: Role::Analyst,
        partner_id: None,
        name: "observatoire".into(),
        contact_details: false,
        identity: "key:observatoire".into(),
    }
}

impl Api {
    fn new(db: &DatabaseConnection) -> Api {
        Api {
            db: db.clone(),
            schema: schema(Some(db.clone()), ApiConfig::default()),
        }
    }

    /// The whole response, for a request made by `principal` (none: no credential).
    async fn raw_as(&self, principal: Option<Principal>, query: &str, vars: Value) -> Value {
        let mut req = Request::new(query)
            .variables(async_graphql::Variables::from_json(vars))
            .data(Loaders::new(&self.db, &Scope::All))
            .data(Scope::All);
        if let Some(p) = principal {
            req = req.data(p);
        }
        serde_json::to_value(maillage::api::graphql::execute(&self.schema, req).await).unwrap()
    }

    /// `data` of a request by the system principal, after checking there was no error.
    async fn q(&self, query: &str, vars: Value) -> Value {
        let r = self.raw_as(Some(Principal::system()), query, vars).await;
        assert!(r.get("errors").is_none(), "{query}\n{r}");
        r["data"].clone()
    }

    /// Runs a mutation `name(input: $input) { <selection> userErrors { field message code } }`
    /// and returns its payload.
    async fn m(&self, name: &str, selection: &str, input: Value) -> Value {
        let q = format!(
            "mutation($input: {}Input!) {{ {name}(input: $input) {{ {selection} userErrors {{ field message code }} }} }}",
            input_type(name)
        );
        self.q(&q, json!({ "input": input })).await[name].clone()
    }

    /// Like [`Api::m`], asserting success; the payload.
    async fn ok(&self, name: &str, selection: &str, input: Value) -> Value {
        let p = self.m(name, selection, input).await;
        assert_eq!(p["userErrors"], json!([]), "{name}: {p}");
        p
    }

    /// Like [`Api::m`], asserting it was refused; the first user error's
    /// (field path, code, message).
    async fn refused(&self, name: &str, input: Value) -> (Vec<String>, String, String) {
        let p = self.m(name, "__typename", input).await;
        let errors = p["userErrors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{name}: {p}");
        let e = &errors[0];
        let field = e["field"].as_array().unwrap();
        (
            field.iter().map(|f| f.as_str().unwrap().to_string()).collect(),
            e["code"].as_str().unwrap().to_string(),
            e["message"].as_str().unwrap().to_string(),
        )
    }

    /// The global id and version of a record found by a root lookup, e.g. `partner(ref: "ptn-000001")`.
    async fn find(&self, lookup: &str) -> (String, i64) {
        let d = self.q(&format!("{{ x: {lookup} {{ id version }} }}"), json!({})).await;
        assert!(!d["x"].is_null(), "{lookup} not found");
        (
            d["x"]["id"].as_str().unwrap().to_string(),
            d["x"]["version"].as_i64().unwrap(),
        )
    }

    async fn id(&self, lookup: &str) -> String {
        self.find(lookup).await.0
    }
}

/// `createPartner` → `CreatePartnerInput`; the served / action territory
/// mutations share one input each.
fn input_type(mutation: &str) -> String {
    match mutation {
        "addServedTerritory" | "removeServedTerritory" => "ServedTerritory".into(),
        "addActionTerritory" | "removeActionTerritory" => "ActionTerritory".into(),
        m => {
            let mut c = m.chars();
            let first = c.next().unwrap().to_ascii_uppercase();
            format!("{first}{}", c.as_str())
        }
    }
}

fn path(field: &str) -> Vec<String> {
    vec!["input".into(), field.into()]
}

/// The audit rows of mutations (the demo's import has one of its own).
async fn audit_rows(db: &DatabaseConnection) -> Vec<audit::Model> {
    audit::Entity::find()
        .filter(audit::Column::Operation.not_like("import%"))
        .order_by_asc(audit::Column::Id)
        .all(db)
        .await
        .unwrap()
}

/// Row counts of every table of the graph, to check a refused mutation wrote nothing.
async fn counts(db: &DatabaseConnection) -> Vec<u64> {
    vec![
        territory::Entity::find().count(db).await.unwrap(),
        partner::Entity::find().count(db).await.unwrap(),
        contact::Entity::find().count(db).await.unwrap(),
        network::Entity::find().count(db).await.unwrap(),
        membership::Entity::find().count(db).await.unwrap(),
        action::Entity::find().count(db).await.unwrap(),
        action_partner::Entity::find().count(db).await.unwrap(),
        action_territory::Entity::find().count(db).await.unwrap(),
        partner_territory::Entity::find().count(db).await.unwrap(),
        relation::Entity::find().count(db).await.unwrap(),
        audit::Entity::find()
            .filter(audit::Column::Operation.not_like("import%"))
            .count(db)
            .await
            .unwrap(),
    ]
}

#[tokio::test]
async fn every_entity_is_created_updated_and_deleted() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let hayange = api.id(r#"territory(ref: "com-57306")"#).await;

    // Create one of each, each pointing at the previous ones.
    let p = api
        .ok(
            "createTerritory",
            "territory { id ref kind name version parent { ref } ancestors { ref } }",
            json!({ "ref": "qpv-test", "kind": "QPV", "name": "Quartier Test", "parentId": hayange, "population": 1200 }),
        )
        .await;
    let terr = p["territory"].clone();
    assert_eq!(terr["version"], 1);
    assert_eq!(terr["parent"]["ref"], "com-57306");
    // The closure is up to date in the same transaction.
    let ancestors: Vec<_> = terr["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ref"].clone())
        .collect();
    assert_eq!(
        ancestors,
        [
            json!("reg-44"),
            json!("dep-57"),
            json!("epci-245701222"),
            json!("com-57306")
        ]
    );
    let terr_id = terr["id"].as_str().unwrap().to_string();

    let p = api
        .ok(
            "createPartner",
            "partner { id name version seat { ref } }",
            json!({ "ref": "ptn-test", "name": "Association Test", "kind": "ASSO", "siret": "73282932000074",
                    "territoryId": terr_id, "email": "contact@test.example" }),
        )
        .await;
    assert_eq!(p["partner"]["seat"]["ref"], "qpv-test");
    let partner_id = p["partner"]["id"].as_str().unwrap().to_string();
    // The new name is searchable (its search key is written with it).
    let d = api
        .q(
            r#"{ partners(filter: { search: "association test" }) { nodes { ref } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["partners"]["nodes"], json!([{ "ref": "ptn-test" }]));

    let p = api
        .ok(
            "createContact",
            "contact { id fullName partner { ref } }",
            json!({ "ref": "ct-test", "partnerId": partner_id, "fullName": "Camille Test", "roleTitle": "Directrice" }),
        )
        .await;
    assert_eq!(p["contact"]["partner"]["ref"], "ptn-test");
    let contact_id = p["contact"]["id"].as_str().unwrap().to_string();

    let p = api
        .ok(
            "createNetwork",
            "network { id kind startedOn territory { ref } }",
            json!({ "ref": "net-test", "name": "Groupe Test", "kind": "THEMATIC_GROUP", "territoryId": terr_id,
                    "startedOn": "2024-01-01", "endedOn": "2024-01-01" }),
        )
        .await;
    let network_id = p["network"]["id"].as_str().unwrap().to_string();

    let p = api
        .ok(
            "createAction",
            "action { id budget status network { ref } }",
            json!({ "ref": "act-test", "title": "Action Test", "theme": "YOUTH", "status": "PLANNED",
                    "networkId": network_id, "budget": 12500.5 }),
        )
        .await;
    assert_eq!(p["action"]["budget"], 12500.5);
    assert_eq!(p["action"]["network"]["ref"], "net-test");
    let action_id = p["action"]["id"].as_str().unwrap().to_string();

    let other = api.id(r#"partner(ref: "ptn-000001")"#).await;
    let p = api
        .ok(
            "addMembership",
            "membership { id role version partner { ref } network { ref } }",
            json!({ "networkId": network_id, "partnerId": partner_id, "role": "PILOT", "since": "2024-02-01" }),
        )
        .await;
    assert_eq!(p["membership"]["network"]["ref"], "net-test");
    let membership = p["membership"].clone();
    let p = api
        .ok(
            "addParticipation",
            "participation { id role contribution version }",
            json!({ "actionId": action_id, "partnerId": partner_id, "role": "LEAD", "contribution": 100 }),
        )
        .await;
    let participation = p["participation"].clone();
    let p = api
        .ok(
            "addRelation",
            "relation { id kind weight version from { ref } to { ref } }",
            json!({ "fromPartnerId": partner_id, "toPartnerId": other, "kind": "REFERRAL" }),
        )
        .await;
    assert_eq!(p["relation"]["weight"], 1.0, "weight defaults to 1");
    assert_eq!(p["relation"]["to"]["ref"], "ptn-000001");
    let relation = p["relation"].clone();
    let p = api
        .ok(
            "addServedTerritory",
            "partner { ref territoriesServed { nodes { ref } } } territory { ref }",
            json!({ "partnerId": partner_id, "territoryId": hayange }),
        )
        .await;
    assert_eq!(
        p["partner"]["territoriesServed"]["nodes"],
        json!([{ "ref": "com-57306" }])
    );
    let p = api
        .ok(
            "addActionTerritory",
            "action { ref territories { nodes { ref } } } territory { ref }",
            json!({ "actionId": action_id, "territoryId": terr_id }),
        )
        .await;
    assert_eq!(p["action"]["territories"]["nodes"], json!([{ "ref": "qpv-test" }]));

    // Update each: a field changed, a nullable one cleared, the rest kept.
    let p = api
        .ok(
            "updateTerritory",
            "territory { name population version kind }",
            json!({ "id": terr_id, "expectedVersion": 1, "name": "Quartier Renommé", "population": null }),
        )
        .await;
    assert_eq!(
        p["territory"],
        json!({ "name": "Quartier Renommé", "population": null, "version": 2, "kind": "QPV" })
    );
    let p = api
        .ok(
            "updatePartner",
            "partner { name email siret version }",
            json!({ "id": partner_id, "expectedVersion": 1, "email": null, "name": "Association Test 2" }),
        )
        .await;
    assert_eq!(
        p["partner"],
        json!({ "name": "Association Test 2", "email": null, "siret": "73282932000074", "version": 2 })
    );
    let p = api
        .ok(
            "updateContact",
            "contact { fullName roleTitle version }",
            json!({ "id": contact_id, "expectedVersion": 1, "roleTitle": "" }),
        )
        .await;
    assert_eq!(
        p["contact"],
        json!({ "fullName": "Camille Test", "roleTitle": null, "version": 2 }),
        "an empty string clears an optional text, as in a bundle"
    );
    let p = api
        .ok(
            "updateNetwork",
            "network { endedOn version }",
            json!({ "id": network_id, "expectedVersion": 1, "endedOn": "2025-06-30" }),
        )
        .await;
    assert_eq!(p["network"], json!({ "endedOn": "2025-06-30", "version": 2 }));
    let p = api
        .ok(
            "updateAction",
            "action { status budget version }",
            json!({ "id": action_id, "expectedVersion": 1, "status": "ACTIVE", "budget": null }),
        )
        .await;
    assert_eq!(p["action"], json!({ "status": "ACTIVE", "budget": null, "version": 2 }));
    let p = api
        .ok(
            "updateMembership",
            "membership { role since version }",
            json!({ "id": membership["id"], "expectedVersion": 1, "role": "MEMBER", "since": null }),
        )
        .await;
    assert_eq!(
        p["membership"],
        json!({ "role": "MEMBER", "since": null, "version": 2 })
    );
    let p = api
        .ok(
            "updateParticipation",
            "participation { role contribution version }",
            json!({ "id": participation["id"], "expectedVersion": 1, "contribution": 250.75 }),
        )
        .await;
    assert_eq!(
        p["participation"],
        json!({ "role": "LEAD", "contribution": 250.75, "version": 2 })
    );
    let p = api
        .ok(
            "updateRelation",
            "relation { weight note version }",
            json!({ "id": relation["id"], "expectedVersion": 1, "weight": 2.5, "note": "convention 2025" }),
        )
        .await;
    assert_eq!(
        p["relation"],
        json!({ "weight": 2.5, "note": "convention 2025", "version": 2 })
    );

    // Remove the links, then delete the records.
    let p = api
        .ok(
            "removeActionTerritory",
            "action { territories { totalCount } }",
            json!({ "actionId": action_id, "territoryId": terr_id }),
        )
        .await;
    assert_eq!(p["action"]["territories"]["totalCount"], 0);
    let p = api
        .ok(
            "removeServedTerritory",
            "partner { territoriesServed { totalCount } }",
            json!({ "partnerId": partner_id, "territoryId": hayange }),
        )
        .await;
    assert_eq!(p["partner"]["territoriesServed"]["totalCount"], 0);
    let p = api
        .ok(
            "removeRelation",
            "removedRelationId",
            json!({ "id": relation["id"], "expectedVersion": 2 }),
        )
        .await;
    assert_eq!(p["removedRelationId"], relation["id"]);
    api.ok(
        "removeParticipation",
        "removedParticipationId",
        json!({ "id": participation["id"] }),
    )
    .await;
    api.ok(
        "removeMembership",
        "removedMembershipId",
        json!({ "id": membership["id"] }),
    )
    .await;
    api.ok("deleteContact", "deletedContactId", json!({ "id": contact_id }))
        .await;
    api.ok(
        "deleteAction",
        "deletedActionId",
        json!({ "id": action_id, "expectedVersion": 2 }),
    )
    .await;
    api.ok("deleteNetwork", "deletedNetworkId", json!({ "id": network_id }))
        .await;
    api.ok("deletePartner", "deletedPartnerId", json!({ "id": partner_id }))
        .await;
    let p = api
        .ok("deleteTerritory", "deletedTerritoryId", json!({ "id": terr_id }))
        .await;
    assert_eq!(p["deletedTerritoryId"], json!(terr_id));

    let d = api
        .q(
            &format!(r#"{{ a: node(id: "{terr_id}") {{ id }} b: node(id: "{partner_id}") {{ id }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(d, json!({ "a": null, "b": null }));
    // The demo is back as it was: same counts.
    let fresh = TestDb::with_demo().await;
    let mut expected = counts(&fresh.db).await;
    let mut now = counts(&t.db).await;
    let audited = now.pop().unwrap();
    expected.pop();
    assert_eq!(now, expected);
    assert_eq!(audited, 28, "one audit row per mutation");
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let (id, v) = api.find(r#"partner(ref: "ptn-000003")"#).await;
    // Two editors read version v; the first one's change goes in.
    api.ok(
        "updatePartner",
        "partner { version }",
        json!({ "id": id, "expectedVersion": v, "phone": "03 00 00 00 01" }),
    )
    .await;
    let before = counts(&t.db).await;
    // The second one's is refused, and the first one's stays.
    let (field, code, message) = api
        .refused(
            "updatePartner",
            json!({ "id": id, "expectedVersion": v, "phone": "03 99 99 99 99" }),
        )
        .await;
    assert_eq!((field, code.as_str()), (path("expectedVersion"), "CONFLICT"));
    assert!(message.contains(&format!("version {}", v + 1)), "{message}");
    let d = api
        .q(r#"{ partner(ref: "ptn-000003") { phone version } }"#, json!({}))
        .await;
    assert_eq!(d["partner"], json!({ "phone": "03 00 00 00 01", "version": v + 1 }));
    assert_eq!(counts(&t.db).await, before, "no audit row for the refused update");
    // A delete with a stale version is refused too.
    let (field, code, _) = api
        .refused("deletePartner", json!({ "id": id, "expectedVersion": v }))
        .await;
    assert_eq!((field, code.as_str()), (path("expectedVersion"), "CONFLICT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_editors_exactly_one_wins() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let (id, v) = api.find(r#"network(ref: "net-00002")"#).await;
    let edit = |desc: &'static str| {
        api.m(
            "updateNetwork",
            "network { description }",
            json!({ "id": id, "expectedVersion": v, "description": desc }),
        )
    };
    let (a, b) = tokio::join!(edit("by A"), edit("by B"));
    let won: Vec<_> = [&a, &b]
        .iter()
        .filter(|p| !p["network"].is_null())
        .map(|p| p["network"]["description"].clone())
        .collect();
    assert_eq!(won.len(), 1, "{a}\n{b}");
    let lost = if a["network"].is_null() { &a } else { &b };
    assert_eq!(lost["userErrors"][0]["code"], "CONFLICT", "{lost}");
    let d = api
        .q(r#"{ network(ref: "net-00002") { description version } }"#, json!({}))
        .await;
    assert_eq!(d["network"]["description"], won[0]);
    assert_eq!(d["network"]["version"], v + 1);
}

#[tokio::test]
async fn the_import_rules_refuse_with_the_field_at_fault() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let before = counts(&t.db).await;
    let hayange = api.id(r#"territory(ref: "com-57306")"#).await;
    let qpv = api.id(r#"territory(ref: "qpv-57306-01")"#).await;
    let (p1, p1v) = api.find(r#"partner(ref: "ptn-000001")"#).await;
    let p2 = api.id(r#"partner(ref: "ptn-000002")"#).await;
    let net = api.id(r#"network(ref: "net-00001")"#).await;
    let member = api.id(r#"partner(ref: "ptn-000010")"#).await;
    let partner = |extra: Value| {
        let mut v = json!({ "ref": "ptn-new", "name": "Nouveau", "kind": "ASSO" });
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let unknown_partner = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("Partner:999999")
    };

    let cases: Vec<(&str, Value, &str, &str, &str)> = vec![
        (
            "createPartner",
            partner(json!({ "ref": "bad ref!" })),
            "ref",
            "BAD_USER_INPUT",
            "invalid id 'bad ref!' (1-64 characters of A-Za-z0-9._:-)",
        ),
        (
            "createPartner",
            partner(json!({ "ref": "ptn-000001" })),
            "ref",
            "TAKEN",
            "duplicate id 'ptn-000001'",
        ),
        (
            "createPartner",
            partner(json!({ "name": "" })),
            "name",
            "BAD_USER_INPUT",
            "required value is empty",
        ),
        (
            "createPartner",
            partner(json!({ "siret": "1234" })),
            "siret",
            "BAD_USER_INPUT",
            "invalid SIRET '1234' (expected 14 digits)",
        ),
        (
            "createPartner",
            partner(json!({ "description": "a\u{0}b" })),
            "description",
            "BAD_USER_INPUT",
            "NUL character in text",
        ),
        (
            "createPartner",
            partner(json!({ "parentId": unknown_partner })),
            "parentId",
            "NOT_FOUND",
            "unknown partner (dangling reference): no partner has this id",
        ),
        (
            "createPartner",
            partner(json!({ "territoryId": p1 })),
            "territoryId",
            "NOT_FOUND",
            "is the id of a Partner, not of a Territory",
        ),
        (
            "createPartner",
            partner(json!({ "territoryId": "not-an-id" })),
            "territoryId",
            "BAD_USER_INPUT",
            "\"not-an-id\" is not a global id",
        ),
        (
            "updatePartner",
            json!({ "id": p1, "expectedVersion": p1v, "parentId": p1 }),
            "parentId",
            "BAD_USER_INPUT",
            "record is its own parent",
        ),
        (
            // ptn-000002's parent is ptn-000001.
            "updatePartner",
            json!({ "id": p1, "expectedVersion": p1v, "parentId": p2 }),
            "parentId",
            "BAD_USER_INPUT",
            "cycle in parent_id chain: ptn-000001 -> ptn-000002 -> ptn-000001",
        ),
        (
            "createTerritory",
            json!({ "ref": "com-new", "kind": "COMMUNE", "name": "Nouvelle", "parentId": qpv }),
            "parentId",
            "BAD_USER_INPUT",
            "a commune cannot sit inside a qpv ('qpv-57306-01')",
        ),
        (
            "createTerritory",
            json!({ "ref": "com-new", "kind": "COMMUNE", "name": "Nouvelle", "code": "57306" }),
            "code",
            "TAKEN",
            "code '57306' already used by territory 'com-57306' in the hub",
        ),
        (
            "createTerritory",
            json!({ "ref": "com-new", "kind": "COMMUNE", "name": "Nouvelle", "lat": 95.5 }),
            "lat",
            "BAD_USER_INPUT",
            "lat out of range: 95.5 (at most 90 degrees)",
        ),
        (
            "createTerritory",
            json!({ "ref": "com-new", "kind": "COMMUNE", "name": "Nouvelle", "population": -3 }),
            "population",
            "BAD_USER_INPUT",
            "negative value -3",
        ),
        (
            // Hayange holds districts and QPVs: it cannot become one.
            "updateTerritory",
            json!({ "id": hayange, "expectedVersion": 1, "kind": "DISTRICT" }),
            "kind",
            "BAD_USER_INPUT",
            "'com-57306' becomes a district, but the hub's district 'dis-57306-01' sits inside it",
        ),
        (
            "createNetwork",
            json!({ "ref": "net-new", "name": "N", "kind": "OTHER", "startedOn": "2021-01-01", "endedOn": "2020-12-31" }),
            "endedOn",
            "BAD_USER_INPUT",
            "ended_on 2020-12-31 is before started_on 2021-01-01",
        ),
        (
            "createAction",
            json!({ "ref": "act-new", "title": "A", "theme": "YOUTH", "status": "PLANNED", "budget": -5 }),
            "budget",
            "BAD_USER_INPUT",
            "negative amount -5",
        ),
        (
            "addMembership",
            json!({ "networkId": net, "partnerId": member, "role": "MEMBER" }),
            "partnerId",
            "TAKEN",
            "duplicate row for network_id 'net-00001', partner_id 'ptn-000010'",
        ),
        (
            "addRelation",
            json!({ "fromPartnerId": p1, "toPartnerId": p1, "kind": "FUNDING" }),
            "toPartnerId",
            "BAD_USER_INPUT",
            "relation from partner 'ptn-000001' to itself",
        ),
        (
            "addRelation",
            json!({ "fromPartnerId": p1, "toPartnerId": p2, "kind": "FUNDING", "weight": 0 }),
            "weight",
            "BAD_USER_INPUT",
            "weight must be positive, got 0",
        ),
        (
            "addRelation",
            json!({ "fromPartnerId": p1, "toPartnerId": p2, "kind": "FUNDING", "since": "2024-05-01", "until": "2024-04-30" }),
            "until",
            "BAD_USER_INPUT",
            "until 2024-04-30 is before since 2024-05-01",
        ),
    ];
    for (mutation, input, field, code, message) in cases {
        let (f, c, m) = api.refused(mutation, input.clone()).await;
        assert_eq!((f, c.as_str()), (path(field), code), "{mutation} {input}: {m}");
        assert!(m.contains(message), "{mutation} {input}:\n  got  {m}\n  want {message}");
    }
    // A date that does not exist is refused by the `Date` type itself, with
    // the import's words, before anything runs.
    let r = api
        .raw_as(
            Some(Principal::system()),
            r#"mutation { createNetwork(input: { ref: "net-new", name: "N", kind: OTHER, startedOn: "2019-02-29" }) { network { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid date '2019-02-29' (no such day)"),
        "{r}"
    );
    // None of it was written, nor audited.
    assert_eq!(counts(&t.db).await, before);
}

#[tokio::test]
async fn an_action_has_at_most_one_lead() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    // act-000001's lead is ptn-000024; ptn-000011 is an operator.
    let action = api.id(r#"action(ref: "act-000001")"#).await;
    let newcomer = api.id(r#"partner(ref: "ptn-000003")"#).await;
    let (field, code, message) = api
        .refused(
            "addParticipation",
            json!({ "actionId": action, "partnerId": newcomer, "role": "LEAD" }),
        )
        .await;
    assert_eq!((field, code.as_str()), (path("role"), "TAKEN"));
    assert_eq!(
        message,
        "action 'act-000001' already has lead 'ptn-000024': give 'ptn-000024' another role to make 'ptn-000003' the lead"
    );
    // Promoting the operator is refused as well, until the lead steps down.
    let d = api
        .q(
            r#"{ action(ref: "act-000001") { participants { edges { role node { ref } participation { id version } } } } }"#,
            json!({}),
        )
        .await;
    let edges = d["action"]["participants"]["edges"].as_array().unwrap().clone();
    let part = |r: &str| edges.iter().find(|e| e["node"]["ref"] == r).unwrap()["participation"].clone();
    let (lead, operator) = (part("ptn-000024"), part("ptn-000011"));
    let (field, code, _) = api
        .refused(
            "updateParticipation",
            json!({ "id": operator["id"], "expectedVersion": operator["version"], "role": "LEAD" }),
        )
        .await;
    assert_eq!((field, code.as_str()), (path("role"), "TAKEN"));
    api.ok(
        "updateParticipation",
        "participation { role }",
        json!({ "id": lead["id"], "expectedVersion": lead["version"], "role": "CO_LEAD" }),
    )
    .await;
    let p = api
        .ok(
            "updateParticipation",
            "participation { role }",
            json!({ "id": operator["id"], "expectedVersion": operator["version"], "role": "LEAD" }),
        )
        .await;
    assert_eq!(p["participation"]["role"], "LEAD");
    let d = api
        .q(r#"{ action(ref: "act-000001") { lead { ref } } }"#, json!({}))
        .await;
    assert_eq!(d["action"]["lead"]["ref"], "ptn-000011");
}

#[tokio::test]
async fn deleting_refuses_what_others_are_built_on_and_cascades_links() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let before = counts(&t.db).await;
    let refusals = [
        (
            "deleteTerritory",
            r#"territory(ref: "com-57306")"#,
            "territory 'com-57306' cannot be deleted",
        ),
        (
            "deletePartner",
            r#"partner(ref: "ptn-000001")"#,
            "partner 'ptn-000001' cannot be deleted",
        ),
        (
            "deleteNetwork",
            r#"network(ref: "net-00001")"#,
            "network 'net-00001' cannot be deleted",
        ),
    ];
    for (mutation, lookup, message) in refusals {
        let id = api.id(lookup).await;
        let (field, code, m) = api.refused(mutation, json!({ "id": id })).await;
        assert_eq!((field, code.as_str()), (path("id"), "IN_USE"), "{m}");
        assert!(m.starts_with(message), "{m}");
    }
    let id = api.id(r#"territory(ref: "com-57306")"#).await;
    let (_, _, m) = api.refused("deleteTerritory", json!({ "id": id })).await;
    assert!(
        m.contains("4 territories inside it") && m.contains("partners based there"),
        "{m}"
    );
    assert_eq!(counts(&t.db).await, before, "refusals write nothing");

    // A partner with memberships, participations, relations, contacts and
    // served territories, but no child organisation: they all go with it.
    let d = api
        .q(
            r#"{ partner(ref: "ptn-000024") { id children { totalCount } contacts { totalCount } networks { totalCount }
                 actions { totalCount } relationsOut { totalCount } relationsIn { totalCount } territoriesServed { totalCount } } }"#,
            json!({}),
        )
        .await;
    let p = &d["partner"];
    assert_eq!(p["children"]["totalCount"], 0);
    for links in ["contacts", "networks", "actions", "relationsIn", "territoriesServed"] {
        assert!(p[links]["totalCount"].as_u64().unwrap() > 0, "{links}: {p}");
    }
    let n = |k: &str| p[k]["totalCount"].as_u64().unwrap();
    api.ok("deletePartner", "deletedPartnerId", json!({ "id": p["id"] }))
        .await;
    let after = counts(&t.db).await;
    assert_eq!(after[1], before[1] - 1, "partners");
    assert_eq!(after[2], before[2] - n("contacts"), "contacts");
    assert_eq!(after[4], before[4] - n("networks"), "memberships");
    assert_eq!(after[6], before[6] - n("actions"), "participations");
    assert_eq!(after[8], before[8] - n("territoriesServed"), "served territories");
    assert_eq!(after[9], before[9] - n("relationsOut") - n("relationsIn"), "relations");

    // An action goes with its participations and territories.
    let d = api
        .q(
            r#"{ action(ref: "act-000002") { id participants { totalCount } territories { totalCount } } }"#,
            json!({}),
        )
        .await;
    let a = &d["action"];
    api.ok("deleteAction", "deletedActionId", json!({ "id": a["id"] }))
        .await;
    let last = counts(&t.db).await;
    assert_eq!(last[6], after[6] - a["participants"]["totalCount"].as_u64().unwrap());
    assert_eq!(last[7], after[7] - a["territories"]["totalCount"].as_u64().unwrap());

    // Unknown records.
    let (field, code, _) = api.refused("deleteAction", json!({ "id": a["id"] })).await;
    assert_eq!((field, code.as_str()), (path("id"), "NOT_FOUND"));
    let hayange = api.id(r#"territory(ref: "com-57306")"#).await;
    let action = api.id(r#"action(ref: "act-000001")"#).await;
    let (field, code, _) = api
        .refused(
            "removeActionTerritory",
            json!({ "actionId": action, "territoryId": api.id(r#"territory(ref: "reg-44")"#).await }),
        )
        .await;
    assert_eq!((field, code.as_str()), (path("territoryId"), "NOT_FOUND"));
    let _ = hayange;
}

#[tokio::test]
async fn moving_a_territory_moves_what_lies_inside_it() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let ancestors = |r: &'static str| {
        let api = &api;
        async move {
            let d = api
                .q(
                    &format!(r#"{{ territory(ref: "{r}") {{ ancestors {{ ref }} }} }}"#),
                    json!({}),
                )
                .await;
            d["territory"]["ancestors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["ref"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let within_epci = || async {
        let d = api
            .q(
                r#"{ territories(filter: { within: { ref: "epci-245701222" } }) { nodes { ref } } }"#,
                json!({}),
            )
            .await;
        d["territories"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ref"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ancestors("qpv-57306-01").await,
        ["reg-44", "dep-57", "epci-245701222", "com-57306"]
    );
    assert!(within_epci().await.contains(&"qpv-57306-01".to_string()));
    // Hayange leaves the intercommunality and hangs from the department.
    let (hayange, v) = api.find(r#"territory(ref: "com-57306")"#).await;
    let dep = api.id(r#"territory(ref: "dep-57")"#).await;
    api.ok(
        "updateTerritory",
        "territory { parent { ref } }",
        json!({ "id": hayange, "expectedVersion": v, "parentId": dep }),
    )
    .await;
    assert_eq!(ancestors("qpv-57306-01").await, ["reg-44", "dep-57", "com-57306"]);
    let inside = within_epci().await;
    assert!(!inside.contains(&"com-57306".to_string()) && !inside.contains(&"qpv-57306-01".to_string()));
    // Actions in the QPV are no longer found in the intercommunality.
    let d = api
        .q(
            r#"{ a: actions(filter: { territory: { ref: "epci-245701222" } }) { totalCount }
                 b: actions(filter: { territory: { ref: "com-57306" } }) { totalCount } }"#,
            json!({}),
        )
        .await;
    let fresh = TestDb::with_demo().await;
    let before = Api::new(&fresh.db)
        .q(
            r#"{ a: actions(filter: { territory: { ref: "epci-245701222" } }) { totalCount }
                 b: actions(filter: { territory: { ref: "com-57306" } }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["b"], before["b"], "Hayange keeps its own actions");
    assert!(
        d["a"]["totalCount"].as_u64() < before["a"]["totalCount"].as_u64(),
        "{d} vs {before}"
    );
}

#[tokio::test]
async fn only_writers_may_mutate() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let before = counts(&t.db).await;
    let q = r#"mutation { createTerritory(input: { ref: "x", kind: REGION, name: "X" }) { territory { id } userErrors { message } } }"#;
    for principal in [Some(analyst()), Some(Principal::anonymous()), None] {
        let r = api.raw_as(principal.clone(), q, json!({})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{principal:?}: {r}");
        assert!(r["data"].is_null(), "{r}");
    }
    assert_eq!(counts(&t.db).await, before);
    // A coordinator may.
    let r = api.raw_as(Some(coordinator()), q, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert!(r["data"]["createTerritory"]["territory"]["id"].is_string());
}

#[tokio::test]
async fn each_mutation_is_audited_with_the_row_before_and_after() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let q = |m: &str| {
        format!(
            "mutation($input: {}Input!) {{ {m}(input: $input) {{ userErrors {{ message }} }} }}",
            input_type(m)
        )
    };
    let run = |m: &'static str, input: Value| {
        let q = q(m);
        let api = &api;
        async move {
            let r = api.raw_as(Some(coordinator()), &q, json!({ "input": input })).await;
            assert_eq!(r["data"][m]["userErrors"], json!([]), "{r}");
        }
    };
    run(
        "createNetwork",
        json!({ "ref": "net-audit", "name": "Audit", "kind": "OTHER" }),
    )
    .await;
    let (id, v) = api.find(r#"network(ref: "net-audit")"#).await;
    run(
        "updateNetwork",
        json!({ "id": id, "expectedVersion": v, "name": "Audit 2" }),
    )
    .await;
    run("deleteNetwork", json!({ "id": id })).await;

    let rows = audit_rows(&t.db).await;
    assert_eq!(rows.len(), 3);
    let json = |s: &Option<String>| s.as_deref().map(|s| serde_json::from_str::<Value>(s).unwrap());
    for (row, op) in rows.iter().zip(["createNetwork", "updateNetwork", "deleteNetwork"]) {
        assert_eq!(row.operation, op);
        assert_eq!(
            (row.principal.as_str(), row.role.as_str()),
            ("dcs-editor", "coordinator")
        );
        assert_eq!(row.record_type.as_deref(), Some("networks"));
    }
    let record = rows[0].record_id;
    assert!(rows.iter().all(|r| r.record_id == record));
    let (c, u, d) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(json(&c.before), None);
    assert_eq!(json(&c.after).unwrap()["name"], "Audit");
    assert_eq!(json(&u.before).unwrap()["name"], "Audit");
    assert_eq!(json(&u.after).unwrap()["name"], "Audit 2");
    assert_eq!(json(&u.after).unwrap()["version"], 2);
    assert_eq!(json(&d.before).unwrap()["name"], "Audit 2");
    assert_eq!(json(&d.after), None);
}

#[tokio::test]
async fn mutations_are_described_in_the_schema() {
    let sdl = maillage::api::graphql::sdl().await;
    for name in [
        "createTerritory",
        "updateTerritory",
        "deleteTerritory",
        "createPartner",
        "updatePartner",
        "deletePartner",
        "createContact",
        "updateContact",
        "deleteContact",
        "createNetwork",
        "updateNetwork",
        "deleteNetwork",
        "createAction",
        "updateAction",
        "deleteAction",
        "addMembership",
        "updateMembership",
        "removeMembership",
        "addParticipation",
        "updateParticipation",
        "removeParticipation",
        "addRelation",
        "updateRelation",
        "removeRelation",
        "addServedTerritory",
        "removeServedTerritory",
        "addActionTerritory",
        "removeActionTerritory",
    ] {
        assert!(sdl.contains(&format!("\t{name}(")), "{name} missing");
    }
    // Each delete says whether it refuses or cascades.
    assert!(sdl.contains("Refused (`IN_USE`) while territories sit inside it"));
    assert!(sdl.contains("and with it its contacts, memberships, participations, relations and served territories"));
}

#[tokio::test]
async fn every_error_carries_a_code() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    // What async-graphql refuses before any resolver runs: syntax, an
    // unknown field, a value not of its type, a missing input field.
    for q in [
        "mutation { createTerritory(",
        "{ nope }",
        r#"mutation { createTerritory(input: { ref: "x", kind: PLANET, name: "X" }) { territory { id } } }"#,
        "mutation { deletePartner(input: {}) { deletedPartnerId } }",
    ] {
        let r = api.raw_as(Some(Principal::system()), q, json!({})).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{q}: {r}");
    }
}

/// `examples/graphql/edit.graphql` runs as its comment says.
#[tokio::test]
async fn the_edit_example_runs() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    let (partner, version) = api.find(r#"partner(ref: "ptn-000010")"#).await;
    let territory = api.id(r#"territory(ref: "qpv-57683-01")"#).await;
    let vars = json!({ "partner": partner, "version": version, "territory": territory });
    let d = api
        .q(include_str!("../examples/graphql/edit.graphql"), vars.clone())
        .await;
    assert_eq!(d["updatePartner"]["userErrors"], json!([]), "{d}");
    assert_eq!(d["updatePartner"]["partner"]["version"], version + 1);
    let served = d["addServedTerritory"]["partner"]["territoriesServed"]["nodes"]
        .as_array()
        .unwrap();
    assert!(served.iter().any(|n| n["ref"] == "qpv-57683-01"), "{d}");
    // Run again with the same (now stale) version: a conflict, and the
    // territory is already served.
    let d = api.q(include_str!("../examples/graphql/edit.graphql"), vars).await;
    assert_eq!(d["updatePartner"]["userErrors"][0]["code"], "CONFLICT");
    assert_eq!(d["addServedTerritory"]["userErrors"][0]["code"], "TAKEN");
}

/// Two concurrent moves, each valid alone, would make a cycle together:
/// edits of one tree are serialized, so the second sees the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_moves_cannot_make_a_cycle() {
    let t = TestDb::with_demo().await;
    let api = Api::new(&t.db);
    for r in ["net-a", "net-b"] {
        api.ok(
            "createNetwork",
            "network { id }",
            json!({ "ref": r, "name": r, "kind": "OTHER" }),
        )
        .await;
    }
    let (a, av) = api.find(r#"network(ref: "net-a")"#).await;
    let (b, bv) = api.find(r#"network(ref: "net-b")"#).await;
    let (x, y) = tokio::join!(
        api.m(
            "updateNetwork",
            "network { id }",
            json!({ "id": a, "expectedVersion": av, "parentId": b })
        ),
        api.m(
            "updateNetwork",
            "network { id }",
            json!({ "id": b, "expectedVersion": bv, "parentId": a })
        ),
    );
    let refused: Vec<_> = [&x, &y].into_iter().filter(|p| p["network"].is_null()).collect();
    assert_eq!(refused.len(), 1, "{x}\n{y}");
    let e = &refused[0]["userErrors"][0];
    assert_eq!(e["field"], json!(["input", "parentId"]), "{e}");
    assert!(
        e["message"].as_str().unwrap().starts_with("cycle in parent_id chain"),
        "{e}"
    );
}
