//! The GraphQL schema: types over the storage models, root fields, loaders.

mod audit;
mod columns;
mod connection;
pub mod error;
mod filters;
mod graph;
mod ids;
mod loaders;
mod mutation;
mod query;
mod scalars;
mod stats;
mod types;
mod viewer;

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

/// The SDL of the schema, as checked in at `schema/schema.graphql`.
pub fn sdl() -> String {
    schema(None, ApiConfig::default()).sdl()
}
