use std::process::ExitCode;

use clap::Parser;
use maillage::cli::LogFormat;
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
    let cli = maillage::cli::Cli::parse();
    if let Err(e) = logging(&cli) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    maillage::cli::run(cli).await
}

/// Log lines on stderr, as text or JSON, and traces to an OTLP collector
/// when one is named.
fn logging(cli: &maillage::cli::Cli) -> anyhow::Result<()> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let lines = match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let traces = match &cli.otlp_endpoint {
        Some(endpoint) => Some(maillage::api::traces::layer(endpoint)?),
        None => None,
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(traces)
        .init();
    Ok(())
}
