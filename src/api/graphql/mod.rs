//! The GraphQL schema: types over the storage models, root fields, loaders.

mod audit;
mod columns;
mod connection;
mod degree;
pub mod error;
mod filters;
mod graph;
mod ids;
mod link_edge;
mod loaders;
mod mutation;
mod nested;
mod orders;
mod prefetch;
mod query;
mod request;
mod scalars;
mod stats;
mod types;
mod viewer;
mod write;

use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

pub use loaders::Loaders;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Settings of the API that resolvers read.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Page size when a connection is asked without `first`.
    pub default_page_size: u64,
    /// Largest `first` accepted; more is a `BAD_USER_INPUT` error, never a silent truncation.
    pub max_page_size: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_page_size: 100,
            max_page_size: 100,
        }
    }
}

/// What a schema enforces before it runs an operation (one schema is built
/// per role, see `api::Schemas`).
#[derive(Debug, Clone, Copy)]
pub struct SchemaOptions {
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Largest cost allowed: a field costs 1, a list field its page size
    /// times what it selects.
    pub max_cost: usize,
    /// Whether `__schema` / `__type` may be asked (and, with it, whether
    /// an unknown name is answered with suggestions).
    pub introspection: bool,
    /// Spans for validation and execution (`api::traces::Phases`), when
    /// traces are exported.
    pub phases: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            max_depth: 64,
            max_cost: usize::MAX,
            introspection: true,
            phases: false,
        }
    }
}

/// Builds the schema with no limits (tests, the SDL). Per-request data
/// (loaders, scope, principal) is added by the HTTP handler.
pub fn schema(db: Option<DatabaseConnection>, config: ApiConfig) -> AppSchema {
    schema_with(db, config, SchemaOptions::default())
}

/// Builds the schema with a role's limits (and a graph projection of its
/// own, loaded on first use).
pub fn schema_with(db: Option<DatabaseConnection>, config: ApiConfig, options: SchemaOptions) -> AppSchema {
    let graph = db.clone().map(crate::domain::graph::Graph::new);
    schema_with_graph(db, graph, config, options)
}

/// Builds the schema with a role's limits, answering graph questions from
/// `graph` (shared by the schemas of every role).
pub fn schema_with_graph(
    db: Option<DatabaseConnection>,
    graph: Option<crate::domain::graph::Graph>,
    config: ApiConfig,
    options: SchemaOptions,
) -> AppSchema {
    // No extension unless traces are exported: any would put every field's
    // resolution through async-graphql's extension chain (see
    // `error::code_errors`).
    let mut b = Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .data(config)
        .limit_depth(options.max_depth)
        .limit_complexity(options.max_cost);
    if options.phases {
        b = b.extension(super::traces::Phases);
    }
    if !options.introspection {
        // Suggestions ("Did you mean …?") would rebuild the schema for
        // whoever may not introspect it (clairvoyance and the like).
        b = b.disable_introspection().disable_suggestions();
    }
    if let Some(db) = db {
        b = b.data(db);
    }
    if let Some(g) = graph {
        b = b.data(g);
    }
    b.finish()
}

/// Runs one request on a schema, and gives `extensions.code`
/// `BAD_USER_INPUT` to the errors async-graphql raised itself (syntax,
/// validation, a value not of its type). Every caller of the schema goes
/// through here, so every error carries a code.
pub async fn execute(schema: &AppSchema, req: async_graphql::Request) -> async_graphql::Response {
    let mut r = schema.execute(req).await;
    error::code_errors(&mut r);
    r
}

/// The introspection query code generators send: graphql-js's
/// `getIntrospectionQuery` with every option on but the schema's
/// description (descriptions, `specifiedByURL`, `isRepeatable`, `isOneOf`,
/// deprecated arguments and input fields).
pub const INTROSPECTION_QUERY: &str = include_str!("introspection.graphql");

/// What the schema's introspection answers to [`INTROSPECTION_QUERY`]
/// (`data`), as `maillage schema --introspection` prints it.
pub async fn introspection() -> serde_json::Value {
    introspect(&schema(None, ApiConfig::default())).await
}

async fn introspect(schema: &AppSchema) -> serde_json::Value {
    let r = schema.execute(INTROSPECTION_QUERY).await;
    assert!(r.errors.is_empty(), "introspection failed: {:?}", r.errors);
    serde_json::to_value(&r.data).expect("introspection is JSON")
}

/// The SDL of the schema, as checked in at `schema/schema.graphql`: what
/// its introspection says, for a client that reads the file instead
/// (`tests/cli.rs` compares the two, parsed).
///
/// async-graphql's export is right for the types once it writes the
/// scalars' `@specifiedBy`, but not for the built-in directives: it leaves
/// out those it deems unused (`@deprecated`, `@oneOf`) and their arguments'
/// descriptions. A client then fills in its own: graphql-js 16.15's
/// `@deprecated` also applies to `DIRECTIVE_DEFINITION`, which
/// introspection does not report (`DIRECTIVE_LOCATION_REMOVED` from
/// `buildSchema(file)` to `buildClientSchema(introspection)`). So the
/// directives are written from the introspection, all of them.
pub async fn sdl() -> String {
    let schema = schema(None, ApiConfig::default());
    let exported = schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by());
    // The export is the types, each followed by a blank line, then the
    // directives it kept, one after the other, then the `schema` block.
    let root = exported.rfind("\nschema {").map_or(0, |i| i + 1);
    let (body, roots) = exported.split_at(root);
    let types_end = body.rfind("\n\n").map_or(0, |i| i + 2);
    let (types, directives) = body.split_at(types_end);
    if !directives.trim().is_empty() {
        let kept = async_graphql::parser::parse_schema(directives).expect("async-graphql's directives parse");
        assert!(
            kept.definitions
                .iter()
                .all(|d| matches!(d, async_graphql::parser::types::TypeSystemDefinition::Directive(_))),
            "async-graphql's export no longer ends with its directives: {directives}"
        );
    }
    let mut out = types.to_owned();
    for d in introspect(&schema).await["__schema"]["directives"]
        .as_array()
        .expect("introspection lists the directives")
    {
        write_directive(&mut out, d);
    }
    out.push_str(roots);
    out
}

/// A directive of the introspection as SDL, in the layout of
/// async-graphql's export (tabs, block descriptions).
fn write_directive(out: &mut String, d: &serde_json::Value) {
    use std::fmt::Write;
    write_description(out, "", &d["description"]);
    let _ = write!(out, "directive @{}", text(&d["name"]));
    let args = d["args"].as_array().map(Vec::as_slice).unwrap_or_default();
    if !args.is_empty() {
        out.push_str("(\n");
        for (i, a) in args.iter().enumerate() {
            write_description(out, "\t", &a["description"]);
            let _ = write!(out, "\t{}: {}", text(&a["name"]), type_ref(&a["type"]));
            if let Some(v) = a["defaultValue"].as_str() {
                let _ = write!(out, " = {v}");
            }
            if a["isDeprecated"] == true {
                match a["deprecationReason"].as_str() {
                    Some(r) => {
                        let _ = write!(out, " @deprecated(reason: {})", serde_json::Value::from(r));
                    }
                    None => out.push_str(" @deprecated"),
                }
            }
            out.push_str(if i + 1 < args.len() { ",\n" } else { "\n" });
        }
        out.push(')');
    }
    if d["isRepeatable"] == true {
        out.push_str(" repeatable");
    }
    let locations: Vec<&str> = d["locations"].as_array().into_iter().flatten().map(text).collect();
    let _ = writeln!(out, " on {}", locations.join(" | "));
}

fn write_description(out: &mut String, indent: &str, description: &serde_json::Value) {
    if let Some(d) = description.as_str() {
        let d = d.replace("\"\"\"", "\\\"\"\"").replace('\n', &format!("\n{indent}"));
        out.push_str(&format!("{indent}\"\"\"\n{indent}{d}\n{indent}\"\"\"\n"));
    }
}

/// A type reference of the introspection (`{ kind, name, ofType }`) as SDL.
fn type_ref(t: &serde_json::Value) -> String {
    match text(&t["kind"]) {
        "NON_NULL" => format!("{}!", type_ref(&t["ofType"])),
        "LIST" => format!("[{}]", type_ref(&t["ofType"])),
        _ => text(&t["name"]).to_owned(),
    }
}

fn text(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or_default()
}
