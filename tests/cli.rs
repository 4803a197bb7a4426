//! The `maillage` binary's commands, as a user runs them.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;

fn maillage(db_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_maillage"));
    c.env("DATABASE_URL", db_url).env("RUST_LOG", "warn");
    c
}

#[test]
fn schema_file_is_in_sync() {
    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if printed != checked_in && std::env::var("MAILLAGE_BLESS").is_ok() {
        std::fs::write(&path, &printed).unwrap();
        return;
    }
    assert!(
        printed == checked_in,
        "schema/schema.graphql differs from `maillage schema`; run `MAILLAGE_BLESS=1 cargo test --test cli` and commit it"
    );
}

/// What a client learns from `schema/schema.graphql` is what introspection
/// tells it: the file, parsed by a GraphQL parser, and the answer to the
/// introspection query code generators send, run through the schema
/// in-process, give the same facts (types, fields, arguments, their types
/// and defaults, enum values, interfaces, directives with their locations,
/// descriptions, deprecations). The built-in scalars are the one thing the
/// file leaves to its reader, as the spec allows. `maillage schema
/// --introspection` prints the same answer.
///
/// Why: graphql-js read the file's `@deprecated` as its own (async-graphql
/// left it out), whose locations introspection does not report
/// (`DIRECTIVE_LOCATION_REMOVED`); the scalars' `@specifiedBy` and the
/// directives' argument descriptions were missing too.
#[tokio::test]
async fn schema_file_says_what_introspection_says() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let file = facts_of_sdl(&std::fs::read_to_string(&path).unwrap());
    let schema = maillage::api::graphql::schema(None, maillage::api::graphql::ApiConfig::default());
    let r = schema.execute(maillage::api::graphql::INTROSPECTION_QUERY).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let answer = serde_json::to_value(&r.data).unwrap();
    let introspected = facts_of_introspection(&answer);
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>();
    let (in_file, in_answer) = (only(&file, &introspected), only(&introspected, &file));
    assert!(
        in_file.is_empty() && in_answer.is_empty(),
        "schema/schema.graphql and the introspection differ (regenerate with \
         `MAILLAGE_BLESS=1 cargo test --test cli`):\nonly in the file: {in_file:#?}\nonly in the introspection: {in_answer:#?}"
    );
    // `repeatable` is read from the text (see `facts_of_sdl`).
    let two = facts_of_sdl("directive @a(x: Int) repeatable on | FIELD\ndirective @repeatable on FIELD");
    assert!(two.contains("directive @a repeatable") && !two.contains("directive @repeatable repeatable"));
    // Enough facts that an empty parse could not pass.
    assert!(file.len() > 1000, "{} facts", file.len());
    assert!(file.contains(
        "directive @deprecated on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE"
    ));

    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["schema", "--introspection"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed, answer,
        "`maillage schema --introspection` is the introspection"
    );
}

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// A default value in one spelling (the introspection gives GraphQL text).
fn default_value(v: &async_graphql::Value) -> String {
    v.to_string()
}

fn parse_default(text: &str) -> String {
    use async_graphql::parser::parse_query;
    let doc = parse_query(format!("query($v: Boolean = {text}) {{ __typename }}"))
        .unwrap_or_else(|e| panic!("default value {text:?}: {e}"));
    let (_, op) = doc.operations.iter().next().unwrap();
    default_value(
        &op.node.variable_definitions[0]
            .node
            .default_value
            .as_ref()
            .unwrap()
            .node,
    )
}

/// The facts of an input value (argument, input field), under `at`.
fn input_value_facts(
    f: &mut BTreeSet<String>,
    at: &str,
    i: usize,
    ty: String,
    default: Option<String>,
    description: Option<&str>,
    deprecation: Option<String>,
) {
    let default = default.map(|d| format!(" = {d}")).unwrap_or_default();
    f.insert(format!("{at} #{i}: {ty}{default}"));
    described(f, at, description);
    if let Some(d) = deprecation {
        f.insert(format!("{at} deprecated: {d}"));
    }
}

fn described(f: &mut BTreeSet<String>, at: &str, description: Option<&str>) {
    if let Some(d) = description {
        f.insert(format!("{at} description: {d:?}"));
    }
}

/// The facts a schema file states, parsed by async-graphql's parser.
fn facts_of_sdl(sdl: &str) -> BTreeSet<String> {
    use async_graphql::parser::types::{ConstDirective, TypeKind, TypeSystemDefinition};
    let doc = async_graphql::parser::parse_schema(sdl).expect("schema/schema.graphql parses");
    let mut f = BTreeSet::new();
    // `@deprecated` gives a deprecation; any other directive applied in the
    // file is a fact of its own (introspection shows none).
    let applied = |f: &mut BTreeSet<String>, at: &str, ds: &[async_graphql::Positioned<ConstDirective>]| {
        let mut deprecation = None;
        for d in ds {
            let d = &d.node;
            match d.name.node.as_str() {
                "deprecated" => {
                    deprecation = Some(
                        d.get_argument("reason")
                            .map(|r| r.node.to_string())
                            .unwrap_or_else(|| "\"No longer supported\"".into()),
                    )
                }
                "specifiedBy" => {
                    let url = d.get_argument("url").map(|r| r.node.to_string());
                    f.insert(format!("{at} specifiedByURL: {}", url.unwrap_or_default()));
                }
                "oneOf" => {
                    f.insert(format!("{at} oneOf"));
                }
                other => {
                    f.insert(format!("{at} @{other}"));
                }
            }
        }
        deprecation
    };
    let mut roots: [(&str, Option<String>); 3] = [("query", None), ("mutation", None), ("subscription", None)];
    let mut defined = BTreeSet::new();
    let mut implementors: Vec<(String, String)> = vec![];
    for def in &doc.definitions {
        match def {
            TypeSystemDefinition::Schema(s) => {
                let s = &s.node;
                roots[0].1 = s.query.as_ref().map(|n| n.node.to_string());
                roots[1].1 = s.mutation.as_ref().map(|n| n.node.to_string());
                roots[2].1 = s.subscription.as_ref().map(|n| n.node.to_string());
                assert!(s.directives.is_empty() && !s.extend);
            }
            TypeSystemDefinition::Type(t) => {
                let t = &t.node;
                assert!(!t.extend, "an extension in the file");
                let name = t.name.node.as_str();
                defined.insert(name.to_owned());
                let at = format!("type {name}");
                described(&mut f, &at, t.description.as_ref().map(|d| d.node.as_str()));
                let deprecation = applied(&mut f, &at, &t.directives);
                assert!(deprecation.is_none(), "{at} deprecated");
                let kind = match &t.kind {
                    TypeKind::Scalar => "SCALAR",
                    TypeKind::Object(_) => "OBJECT",
                    TypeKind::Interface(_) => "INTERFACE",
                    TypeKind::Union(_) => "UNION",
                    TypeKind::Enum(_) => "ENUM",
                    TypeKind::InputObject(_) => "INPUT_OBJECT",
                };
                f.insert(format!("{at}: {kind}"));
                let (fields, implements) = match &t.kind {
                    TypeKind::Object(o) => (Some(&o.fields), Some(&o.implements)),
                    TypeKind::Interface(o) => (Some(&o.fields), Some(&o.implements)),
                    _ => (None, None),
                };
                for i in implements.into_iter().flatten() {
                    f.insert(format!("{at} implements {}", i.node));
                    if matches!(t.kind, TypeKind::Object(_)) {
                        implementors.push((i.node.to_string(), name.to_owned()));
                    }
                }
                for (i, field) in fields.into_iter().flatten().enumerate() {
                    let field = &field.node;
                    let at = format!("field {name}.{}", field.name.node);
                    f.insert(format!("{at} #{i}: {}", field.ty.node));
                    described(&mut f, &at, field.description.as_ref().map(|d| d.node.as_str()));
                    if let Some(d) = applied(&mut f, &at, &field.directives) {
                        f.insert(format!("{at} deprecated: {d}"));
                    }
                    for (j, a) in field.arguments.iter().enumerate() {
                        let a = &a.node;
                        let at = format!("{at}({})", a.name.node);
                        let deprecation = applied(&mut f, &at, &a.directives);
                        input_value_facts(
                            &mut f,
                            &at,
                            j,
                            a.ty.node.to_string(),
                            a.default_value.as_ref().map(|v| default_value(&v.node)),
                            a.description.as_ref().map(|d| d.node.as_str()),
                            deprecation,
                        );
                    }
                }
                match &t.kind {
                    TypeKind::Union(u) => {
                        for m in &u.members {
                            f.insert(format!("{at} possible {}", m.node));
                        }
                    }
                    TypeKind::Enum(e) => {
                        for (i, v) in e.values.iter().enumerate() {
                            let v = &v.node;
                            let at = format!("value {name}.{}", v.value.node);
                            f.insert(format!("{at} #{i}"));
                            described(&mut f, &at, v.description.as_ref().map(|d| d.node.as_str()));
                            if let Some(d) = applied(&mut f, &at, &v.directives) {
                                f.insert(format!("{at} deprecated: {d}"));
                            }
                        }
                    }
                    TypeKind::InputObject(o) => {
                        for (i, x) in o.fields.iter().enumerate() {
                            let x = &x.node;
                            let at = format!("input {name}.{}", x.name.node);
                            let deprecation = applied(&mut f, &at, &x.directives);
                            input_value_facts(
                                &mut f,
                                &at,
                                i,
                                x.ty.node.to_string(),
                                x.default_value.as_ref().map(|v| default_value(&v.node)),
                                x.description.as_ref().map(|d| d.node.as_str()),
                                deprecation,
                            );
                        }
                    }
                    _ => {}
                }
            }
            TypeSystemDefinition::Directive(d) => {
                let d = &d.node;
                let at = format!("directive @{}", d.name.node);
                described(&mut f, &at, d.description.as_ref().map(|d| d.node.as_str()));
                let locations: Vec<String> = d
                    .locations
                    .iter()
                    .map(|l| screaming(&format!("{:?}", l.node)))
                    .collect();
                f.insert(format!("{at} on {}", locations.join(" | ")));
                // async-graphql-parser 7.2 reads every directive as
                // repeatable (its rule `repeatable = { "repeatable"? }`
                // always matches), so the keyword is looked for in the
                // text, before the first location.
                let first = d.locations.first().expect("a directive has locations").pos;
                if repeatable_before(sdl, first) {
                    f.insert(format!("{at} repeatable"));
                }
                for (j, a) in d.arguments.iter().enumerate() {
                    let a = &a.node;
                    let at = format!("{at}({})", a.name.node);
                    let deprecation = applied(&mut f, &at, &a.directives);
                    input_value_facts(
                        &mut f,
                        &at,
                        j,
                        a.ty.node.to_string(),
                        a.default_value.as_ref().map(|v| default_value(&v.node)),
                        a.description.as_ref().map(|d| d.node.as_str()),
                        deprecation,
                    );
                }
            }
        }
    }
    for (interface, object) in implementors {
        f.insert(format!("type {interface} possible {object}"));
    }
    // Without a `schema` block, the roots are the types so named.
    let no_block = roots.iter().all(|(_, r)| r.is_none());
    for (op, root) in roots {
        let default = [
            ("query", "Query"),
            ("mutation", "Mutation"),
            ("subscription", "Subscription"),
        ]
        .iter()
        .find(|(o, _)| *o == op)
        .map(|(_, t)| t.to_string())
        .filter(|t| no_block && defined.contains(t));
        if let Some(r) = root.or(default) {
            f.insert(format!("schema {op}: {r}"));
        }
    }
    f
}

/// Whether the directive definition whose first location is at `pos` says
/// `repeatable` (the word before `on`).
fn repeatable_before(sdl: &str, pos: async_graphql::Pos) -> bool {
    let line = sdl.lines().nth(pos.line - 1).unwrap();
    let before: String = sdl
        .lines()
        .take(pos.line - 1)
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + &line.chars().take(pos.column - 1).collect::<String>();
    let head = before.trim_end().trim_end_matches('|').trim_end();
    let head = head.strip_suffix("on").expect("`on` before the locations").trim_end();
    head.strip_suffix("repeatable")
        .is_some_and(|h| h.ends_with(|c: char| c.is_whitespace() || c == ')'))
}

/// `FieldDefinition` as `FIELD_DEFINITION`.
fn screaming(camel: &str) -> String {
    let mut s = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            s.push('_');
        }
        s.push(c.to_ascii_uppercase());
    }
    s
}

/// The facts the introspection answer states, in the form of `facts_of_sdl`.
fn facts_of_introspection(answer: &serde_json::Value) -> BTreeSet<String> {
    use serde_json::Value;
    fn ty(t: &Value) -> String {
        match t["kind"].as_str().unwrap() {
            "NON_NULL" => format!("{}!", ty(&t["ofType"])),
            "LIST" => format!("[{}]", ty(&t["ofType"])),
            _ => t["name"].as_str().unwrap().to_owned(),
        }
    }
    fn list(v: &Value) -> &[Value] {
        v.as_array().map(Vec::as_slice).unwrap_or_default()
    }
    let deprecation = |v: &Value| {
        (v["isDeprecated"] == true).then(|| {
            v["deprecationReason"]
                .as_str()
                .map(|r| Value::from(r).to_string())
                .unwrap_or_else(|| "(no reason)".into())
        })
    };
    let input_values = |f: &mut BTreeSet<String>, at: &str, vs: &Value| {
        for (i, a) in list(vs).iter().enumerate() {
            let at = format!("{at}({})", a["name"].as_str().unwrap());
            input_value_facts(
                f,
                &at,
                i,
                ty(&a["type"]),
                a["defaultValue"].as_str().map(parse_default),
                a["description"].as_str(),
                deprecation(a),
            );
        }
    };
    let s = &answer["__schema"];
    let mut f = BTreeSet::new();
    for (op, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = s[key]["name"].as_str() {
            f.insert(format!("schema {op}: {name}"));
        }
    }
    for t in list(&s["types"]) {
        let name = t["name"].as_str().unwrap();
        let kind = t["kind"].as_str().unwrap();
        if name.starts_with("__") {
            continue;
        }
        if BUILT_IN_SCALARS.contains(&name) {
            assert_eq!(kind, "SCALAR", "{name}");
            continue;
        }
        let at = format!("type {name}");
        f.insert(format!("{at}: {kind}"));
        described(&mut f, &at, t["description"].as_str());
        if let Some(url) = t["specifiedByURL"].as_str() {
            f.insert(format!("{at} specifiedByURL: {}", Value::from(url)));
        }
        if t["isOneOf"] == true {
            f.insert(format!("{at} oneOf"));
        }
        for i in list(&t["interfaces"]) {
            f.insert(format!("{at} implements {}", i["name"].as_str().unwrap()));
        }
        for p in list(&t["possibleTypes"]) {
            f.insert(format!("{at} possible {}", p["name"].as_str().unwrap()));
        }
        for (i, field) in list(&t["fields"]).iter().enumerate() {
            let at = format!("field {name}.{}", field["name"].as_str().unwrap());
            f.insert(format!("{at} #{i}: {}", ty(&field["type"])));
            described(&mut f, &at, field["description"].as_str());
            if let Some(d) = deprecation(field) {
                f.insert(format!("{at} deprecated: {d}"));
            }
            input_values(&mut f, &at, &field["args"]);
        }
        for (i, v) in list(&t["enumValues"]).iter().enumerate() {
            let at = format!("value {name}.{}", v["name"].as_str().unwrap());
            f.insert(format!("{at} #{i}"));
            described(&mut f, &at, v["description"].as_str());
            if let Some(d) = deprecation(v) {
                f.insert(format!("{at} deprecated: {d}"));
            }
        }
        for (i, x) in list(&t["inputFields"]).iter().enumerate() {
            let at = format!("input {name}.{}", x["name"].as_str().unwrap());
            input_value_facts(
                &mut f,
                &at,
                i,
                ty(&x["type"]),
                x["defaultValue"].as_str().map(parse_default),
                x["description"].as_str(),
                deprecation(x),
            );
        }
    }
    for d in list(&s["directives"]) {
        let at = format!("directive @{}", d["name"].as_str().unwrap());
        described(&mut f, &at, d["description"].as_str());
        let locations: Vec<&str> = list(&d["locations"]).iter().map(|l| l.as_str().unwrap()).collect();
        f.insert(format!("{at} on {}", locations.join(" | ")));
        if d["isRepeatable"] == true {
            f.insert(format!("{at} repeatable"));
        }
        input_values(&mut f, &at, &d["args"]);
    }
    f
}

#[test]
fn check_reports_errors_with_their_location() {
    let dir = fixtures().join("bad/two-leads");
    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("check")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("action_partners.csv:3: role: "), "{stdout}");
    let ok = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("check")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn import_export_and_refusal_through_the_binary() {
    let t = TestDb::new().await;
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo");

    let out = maillage(&t.url)
        .args(["import", "--dry-run"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dry run"));

    let out = maillage(&t.url).arg("import").arg(&demo).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(summary.contains("imported 2255 rows"), "{summary}");

    let out = maillage(&t.url)
        .arg("import")
        .arg(fixtures().join("bad/dangling-partner-ref"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("memberships.csv:5: partner_id: "));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was written"));

    let dir = tempfile::tempdir().unwrap();
    let out = maillage(&t.url).arg("export").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = maillage(&t.url).arg("check").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_pool_of_no_connection_is_refused() {
    let out = maillage("sqlite::memory:")
        .args(["--db-pool-size", "0", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--db-pool-size"), "{err}");
}

/// The PostgreSQL pool holds what `--db-pool-size` says, else twice the
/// cores (at least 4); a SQLite file's pool holds four connections, fewer
/// when asked (the heavy operations' own pool), never more.
#[tokio::test]
async fn the_pool_size_is_the_one_asked() {
    let t = TestDb::new().await;
    let sized = maillage::storage::connect_with(&t.url, Some(3)).await.unwrap();
    let default = maillage::storage::connect(&t.url).await.unwrap();
    if engine() == "postgres" {
        let max = |db: &sea_orm::DatabaseConnection| db.get_postgres_connection_pool().options().get_max_connections();
        assert_eq!(max(&sized), 3);
        assert_eq!(max(&default), maillage::storage::default_pool_size());
        assert!(maillage::storage::default_pool_size() >= 4);
    } else {
        let max = |db: &sea_orm::DatabaseConnection| db.get_sqlite_connection_pool().options().get_max_connections();
        assert_eq!(max(&sized), 3);
        assert_eq!(max(&default), 4);
        let large = maillage::storage::connect_with(&t.url, Some(16)).await.unwrap();
        assert_eq!(max(&large), 4);
    }
}

#[test]
fn a_dead_database_is_a_clear_error() {
    let out = maillage("postgres://nobody@127.0.0.1:1/nothing")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open the database postgres://nobody@127.0.0.1:1/nothing"),
        "{err}"
    );
}

#[test]
fn keys_are_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
            .args(["--database-url", &url])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&["keys", "create", "--role", "partner"]);
    assert!(!ok && err.contains("--partner"), "{err}");
    let (ok, _, err) = run(&["keys", "create", "--role", "partner", "--partner", "nobody"]);
    assert!(!ok && err.contains("nobody"), "{err}");
    let (ok, key, _) = run(&["keys", "create", "--role", "analyst", "--name", "observatoire"]);
    assert!(ok);
    let key = key.trim();
    assert!(key.starts_with("mlg_") && key.len() > 60, "{key}");
    let (ok, list, _) = run(&["keys", "list"]);
    assert!(ok && list.contains("observatoire") && list.contains("active"), "{list}");
    assert!(!list.contains(&key[13..]), "the secret is never listed");
    let (ok, _, _) = run(&["keys", "revoke", "observatoire"]);
    assert!(ok);
    let (_, list, _) = run(&["keys", "list"]);
    assert!(list.contains("revoked"), "{list}");
    let (ok, _, _) = run(&["keys", "revoke", "observatoire"]);
    assert!(!ok, "nothing left to revoke");
}
