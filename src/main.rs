use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

// A GraphQL answer is thousands of small, short-lived allocations (values,
// models, strings) made and freed across worker threads; glibc's malloc
// spent about a third of the server's time on them (consolidating and
// unlinking chunks) and kept its arenas' peak resident. A thread-caching
// allocator does the same work for much less (BENCHMARKS.md, "Load of the
// GraphQL API": measured with jemalloc, then mimalloc, which needs no
// `make` to build).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    maillage::cli::run(maillage::cli::Cli::parse()).await
}
