//! The GraphQL schema: types over the storage models, root fields, loaders.

mod connection;
mod error;
mod filters;
mod ids;
mod loaders;
mod mutation;
mod query;
mod scalars;
mod stats;
mod types;

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

/// Builds the schema. Per-request data (loaders, scope) is added by the
/// HTTP handler; the connection and settings are shared.
pub fn schema(db: Option<DatabaseConnection>, config: ApiConfig) -> AppSchema {
    let mut b = Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .extension(error::Codes)
        .data(config);
    if let Some(db) = db {
        b = b.data(db);
    }
    b.finish()
}

/// The SDL of the schema, as checked in at `schema/schema.graphql`.
pub fn sdl() -> String {
    schema(None, ApiConfig::default()).sdl()
}
