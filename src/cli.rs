//! The command line: one binary, `maillage`, whose default command serves.
//! Every option has an environment variable, so a deployment can be
//! configured without flags.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api::auth::AccessConfig;
use crate::api::limits::Limits;
use crate::api::persisted::PersistedQueries;
use crate::api::{self, ServerConfig, graphql::ApiConfig};
use crate::bundle::{self, Existing};
use crate::domain::access::Role;
use crate::domain::keys;
use crate::domain::tokens::{self, TokenConfig};
use crate::domain::transfer::{self, ImportOptions, ImportOutcome, TransferError};
use crate::storage::{self, import::Progress};

/// How many errors of an invalid bundle are printed; the rest are counted.
const SHOWN_ERRORS: usize = 100;

#[derive(Debug, Parser)]
#[command(
    name = "maillage",
    version,
    about = "GraphQL hub for the partner networks of a Direction de la Cohésion Sociale"
)]
pub struct Cli {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://…`.
    /// Without it, a SQLite file `maillage.db` in the working directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Connections to PostgreSQL at most (default: twice this machine's
    /// cores, at least 4). Size it from the database server's cores, shared
    /// among the instances; more connections than it has cores only queue
    /// inside the database.
    #[arg(long, env = "MAILLAGE_DB_POOL_SIZE", global = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub db_pool_size: Option<u32>,

    /// Log lines as text (for a terminal) or JSON (one object a line, for
    /// a log collector: the request span's fields, request id included, in
    /// each).
    #[arg(long, env = "MAILLAGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Export traces over OTLP/HTTP to this collector (e.g.
    /// `http://127.0.0.1:4318`); off without it.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL at /graphql and GraphiQL at / (the default command).
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database schema.
    Migrate,
    /// Validate a bundle folder and write it into the database, in one transaction.
    Import {
        /// The bundle folder.
        dir: PathBuf,
        /// Validate and run the writes, then roll them back.
        #[arg(long)]
        dry_run: bool,
        /// Also delete the records (of the files the bundle carries) it does not hold.
        #[arg(long)]
        replace: bool,
    },
    /// Write the whole partner graph as a bundle folder.
    Export {
        /// The folder to write (created if needed).
        dir: PathBuf,
    },
    /// Validate a bundle folder on its own (no database), like `gen-bundle --check`.
    Check {
        /// The bundle folder.
        dir: PathBuf,
    },
    /// Write the network map (laid out, with centralities and communities)
    /// as GEXF, GraphML, Cytoscape.js or graphology JSON, with the filters
    /// of `networkMap`. Run as the server itself: it sees everything.
    ExportMap {
        /// The file format.
        #[arg(long, value_enum, default_value = "gexf")]
        format: api::export::Format,
        /// The file to write; without it, standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        params: api::export::MapParams,
    },
    /// Print the GraphQL schema (SDL).
    Schema {
        /// Print the introspection instead (JSON: the `data` of graphql-js's
        /// `getIntrospectionQuery`, every option on but the schema description).
        #[arg(long)]
        introspection: bool,
    },
    /// Manage API keys: how a directorate gives a portal, an analyst or a
    /// coordinator access.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once and only its hash is kept.
    Create {
        /// admin, coordinator, analyst or partner.
        #[arg(long)]
        role: String,
        /// For a partner portal: the partner's external id (`ref`).
        #[arg(long)]
        partner: Option<String>,
        /// A name to recognise the key by (in `keys list` and the audit log).
        #[arg(long)]
        name: Option<String>,
        /// Let an analyst key read contacts' names, e-mails and phones.
        #[arg(long)]
        contact_details: bool,
    },
    /// List the keys (never their secrets).
    List,
    /// Revoke the keys with this prefix or name.
    Revoke {
        /// The key's prefix (the 8 hex digits after `mlg_`) or its name.
        key: String,
    },
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MAILLAGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: Option<SocketAddr>,
    /// Load the demo bundle into the database if it is empty (whatever the database).
    #[arg(long, conflicts_with = "no_demo")]
    pub demo: bool,
    /// Never load the demo bundle, not even into the default database.
    #[arg(long)]
    pub no_demo: bool,
    /// Largest page a connection serves (`first`).
    #[arg(long, env = "MAILLAGE_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: u64,
    /// Serve Prometheus metrics at `/metrics` on this address of their own
    /// (e.g. `0.0.0.0:9464`, reachable by the scraper only). Without it,
    /// `/metrics` on the API's address answers admin credentials only.
    #[arg(long, env = "MAILLAGE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds a stop (SIGTERM, Ctrl-C) waits for the requests in flight
    /// before abandoning them and exiting.
    #[arg(long, env = "MAILLAGE_SHUTDOWN_GRACE_SECONDS", default_value_t = 10.0)]
    pub shutdown_grace_seconds: f64,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Who may ask what: authentication, query limits, rate limits, CORS.
#[derive(Debug, Args, Clone)]
pub struct AccessArgs {
    /// Production mode: no introspection and no GraphiQL for partner portals and anonymous readers.
    #[arg(long, env = "MAILLAGE_PRODUCTION")]
    pub production: bool,
    /// What a request without a credential may read.
    #[arg(long, env = "MAILLAGE_ANONYMOUS", value_enum, default_value_t = api::auth::Anonymous::Public)]
    pub anonymous: api::auth::Anonymous,
    /// Seconds an API key read from the database stays valid in memory: a
    /// revoked key is refused by every instance within this delay (0: read
    /// the key table on every request, and revocations apply at once).
    #[arg(long, env = "MAILLAGE_KEY_CACHE_SECONDS", default_value_t = 5)]
    pub key_cache_seconds: u64,
    /// Verify bearer tokens (JWT, HS256) with this shared secret.
    #[arg(long, env = "MAILLAGE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Verify bearer tokens (JWT, RS256) with this PEM public key file.
    #[arg(long, env = "MAILLAGE_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,
    /// Verify bearer tokens (JWT, RS256) with the keys of this JWKS file (an OIDC provider's).
    #[arg(long, env = "MAILLAGE_JWT_JWKS")]
    pub jwt_jwks: Option<PathBuf>,
    /// Verify bearer tokens with the keys an identity provider publishes at
    /// this URL (its `jwks_uri`: Keycloak, Auth0, any OIDC provider). Fetched
    /// at start and kept; fetched again every --jwt-jwks-refresh-seconds, and
    /// when a token names a key id the set lacks. If the provider is down,
    /// the last good keys are kept; until a first fetch succeeds, its
    /// tokens are answered 503 (API keys and anonymous readers are served).
    #[arg(long, env = "MAILLAGE_JWT_JWKS_URL", value_name = "URL")]
    pub jwt_jwks_url: Option<String>,
    /// Seconds keys fetched from --jwt-jwks-url are used before being fetched again.
    #[arg(
        long,
        env = "MAILLAGE_JWT_JWKS_REFRESH_SECONDS",
        default_value_t = 300,
        value_name = "SECONDS"
    )]
    pub jwt_jwks_refresh_seconds: u64,
    /// The least seconds between two fetches of --jwt-jwks-url: for a token
    /// naming an unknown key id, or after a failed fetch (so forged key ids
    /// cannot make the server hammer the provider).
    #[arg(
        long,
        env = "MAILLAGE_JWT_JWKS_MIN_REFRESH_SECONDS",
        default_value_t = 10,
        value_name = "SECONDS"
    )]
    pub jwt_jwks_min_refresh_seconds: u64,
    /// Accept only tokens from this issuer (`iss`): a token without `iss` is refused.
    #[arg(long, env = "MAILLAGE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Accept only tokens for this audience (`aud`): a token without `aud` is refused.
    #[arg(long, env = "MAILLAGE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Seconds of clock difference with the token's issuer allowed on `exp` and `nbf`.
    #[arg(long, env = "MAILLAGE_JWT_LEEWAY", default_value_t = tokens::DEFAULT_LEEWAY, value_name = "SECONDS")]
    pub jwt_leeway: u64,
    /// Refuse tokens that live longer than this: `exp - iat` (`exp` - now
    /// for a token without `iat`). Default: any lifetime.
    #[arg(long, env = "MAILLAGE_JWT_MAX_LIFETIME", value_name = "SECONDS")]
    pub jwt_max_lifetime: Option<u64>,
    /// Browser origins allowed to call the API (CORS), comma-separated; `*` for any.
    #[arg(long, env = "MAILLAGE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Deepest selection allowed in an operation.
    #[arg(long, env = "MAILLAGE_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,
    /// Largest cost of an operation for admin, coordinator and analyst keys (a list field costs its page size times what it selects).
    #[arg(long, env = "MAILLAGE_MAX_COST", default_value_t = 500_000)]
    pub max_cost: usize,
    /// Largest cost of an operation for partner portals.
    #[arg(long, env = "MAILLAGE_MAX_COST_PARTNER", default_value_t = 100_000)]
    pub max_cost_partner: usize,
    /// Largest cost of an operation for anonymous readers.
    #[arg(long, env = "MAILLAGE_MAX_COST_ANONYMOUS", default_value_t = 50_000)]
    pub max_cost_anonymous: usize,
    /// Most aliased fields in one operation.
    #[arg(long, env = "MAILLAGE_MAX_ALIASES", default_value_t = 50)]
    pub max_aliases: usize,
    /// Most lexical tokens in a query, for admin, coordinator and analyst
    /// keys: counted before the query is parsed.
    #[arg(long, env = "MAILLAGE_MAX_TOKENS", default_value_t = 20_000)]
    pub max_tokens: usize,
    /// Most lexical tokens in a query, for partner portals.
    #[arg(long, env = "MAILLAGE_MAX_TOKENS_PARTNER", default_value_t = 10_000)]
    pub max_tokens_partner: usize,
    /// Most lexical tokens in a query, for anonymous readers.
    #[arg(long, env = "MAILLAGE_MAX_TOKENS_ANONYMOUS", default_value_t = 5_000)]
    pub max_tokens_anonymous: usize,
    /// Most fields an operation selects (fragments counted each time they
    /// are spread), for admin, coordinator and analyst keys.
    #[arg(long, env = "MAILLAGE_MAX_FIELDS", default_value_t = 5_000)]
    pub max_fields: usize,
    /// Most fields an operation selects, for partner portals.
    #[arg(long, env = "MAILLAGE_MAX_FIELDS_PARTNER", default_value_t = 2_000)]
    pub max_fields_partner: usize,
    /// Most fields an operation selects, for anonymous readers.
    #[arg(long, env = "MAILLAGE_MAX_FIELDS_ANONYMOUS", default_value_t = 1_000)]
    pub max_fields_anonymous: usize,
    /// Most operations in one batched request.
    #[arg(long, env = "MAILLAGE_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "MAILLAGE_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Seconds a request may run before it is abandoned.
    #[arg(long, env = "MAILLAGE_REQUEST_TIMEOUT", default_value_t = 15)]
    pub request_timeout: u64,
    /// Most GraphQL operations executing at once (default: four per core);
    /// the others wait their turn in arrival order, within the request
    /// timeout. 0: no limit.
    #[arg(long, env = "MAILLAGE_MAX_RUNNING")]
    pub max_running: Option<usize>,
    /// An operation weighing more than this (each field 1, times the page
    /// it asks for what it selects) is heavy: it waits for one of the
    /// `--max-running-heavy` turns first. 0: no heavy lane.
    #[arg(long, env = "MAILLAGE_HEAVY_WEIGHT", default_value_t = 5_000)]
    pub heavy_weight: usize,
    /// Heavy operations executing at once (default: one per two cores, at
    /// least one), so that a flood of costly queries never holds every turn.
    #[arg(long, env = "MAILLAGE_MAX_RUNNING_HEAVY")]
    pub max_running_heavy: Option<usize>,
    /// Requests per second per credential, as N or N/BURST; 0 for no limit.
    #[arg(long, env = "MAILLAGE_RATE_LIMIT", default_value = "50/100", value_parser = parse_rate)]
    pub rate_limit: RateArg,
    /// Requests per second per client IP without a credential, as N or N/BURST; 0 for no limit.
    #[arg(long, env = "MAILLAGE_RATE_LIMIT_ANONYMOUS", default_value = "10/20", value_parser = parse_rate)]
    pub rate_limit_anonymous: RateArg,
    /// Take the client IP from X-Forwarded-For (only behind a load balancer you trust).
    #[arg(long, env = "MAILLAGE_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// A folder of registered operations (`*.graphql`), runnable by their SHA-256.
    #[arg(long, env = "MAILLAGE_PERSISTED_QUERIES")]
    pub persisted_queries: Option<PathBuf>,
    /// Partner portals may run registered operations only (needs --persisted-queries).
    #[arg(long, env = "MAILLAGE_ALLOW_LIST", requires = "persisted_queries")]
    pub allow_list: bool,
}

impl Default for AccessArgs {
    fn default() -> Self {
        AccessArgs::parse_from(["maillage"])
    }
}

/// A rate limit flag: a rate, or none (`0`). A newtype, because clap reads
/// an `Option` field as "the flag may be absent", not "the value may be off".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateArg(pub Option<api::rate::Rate>);

fn parse_rate(s: &str) -> Result<RateArg, String> {
    api::rate::Rate::parse(s).map(RateArg)
}

impl AccessArgs {
    /// The server configuration these flags describe.
    pub fn server_config(&self, api: ApiConfig) -> anyhow::Result<ServerConfig> {
        let mut tokens = TokenConfig::default()
            .with_issuer(self.jwt_issuer.clone())
            .with_audience(self.jwt_audience.clone())
            .with_leeway(self.jwt_leeway)
            .with_max_lifetime(self.jwt_max_lifetime);
        if let Some(s) = &self.jwt_secret {
            tokens = tokens.with_hs256_secret(s);
        }
        if let Some(p) = &self.jwt_public_key {
            tokens = tokens.with_rs256_pem(&p.to_string_lossy())?;
        }
        if let Some(p) = &self.jwt_jwks {
            tokens = tokens.with_jwks(&p.to_string_lossy())?;
        }
        if let Some(url) = &self.jwt_jwks_url {
            tokens = tokens.with_jwks_url(
                url,
                std::time::Duration::from_secs(self.jwt_jwks_refresh_seconds.max(1)),
                std::time::Duration::from_secs(self.jwt_jwks_min_refresh_seconds),
            )?;
        }
        let persisted = match &self.persisted_queries {
            Some(dir) => PersistedQueries::load_dir(dir, self.allow_list)
                .map_err(|e| anyhow::anyhow!("cannot read the persisted queries in {}: {e}", dir.display()))?,
            None => PersistedQueries::default(),
        };
        Ok(ServerConfig {
            api,
            access: AccessConfig {
                anonymous: self.anonymous,
                tokens,
                keys: std::sync::Arc::new(crate::domain::keys::KeyCache::new(std::time::Duration::from_secs(
                    self.key_cache_seconds,
                ))),
            },
            limits: Limits {
                max_depth: self.max_depth,
                max_cost_staff: self.max_cost,
                max_cost_partner: self.max_cost_partner,
                max_cost_anonymous: self.max_cost_anonymous,
                max_aliases: self.max_aliases,
                max_batch: self.max_batch,
                max_body_bytes: self.max_body_bytes,
                timeout: std::time::Duration::from_secs(self.request_timeout.max(1)),
                max_running: self.max_running.unwrap_or_else(api::limits::default_max_running),
                heavy_weight: self.heavy_weight,
                max_running_heavy: self
                    .max_running_heavy
                    .unwrap_or_else(api::limits::default_max_running_heavy),
                max_tokens: [self.max_tokens, self.max_tokens_partner, self.max_tokens_anonymous],
                max_fields: [self.max_fields, self.max_fields_partner, self.max_fields_anonymous],
            },
            production: self.production,
            cors_origins: self.cors_origins.clone(),
            rate_per_credential: self.rate_limit.0,
            rate_per_anonymous_ip: self.rate_limit_anonymous.0,
            trust_forwarded_for: self.trust_forwarded_for,
            graph: None,
            health: Default::default(),
            heavy_db: None,
            persisted: std::sync::Arc::new(persisted),
        })
    }
}

/// Wraps a clap parse of the access flags alone (for `Default`).
#[derive(Parser)]
struct AccessOnly {
    #[command(flatten)]
    access: AccessArgs,
}

impl AccessArgs {
    fn parse_from<I: IntoIterator<Item = &'static str>>(args: I) -> AccessArgs {
        AccessOnly::parse_from(args).access
    }
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let default_db = cli.database_url.is_none();
    let pool = cli.db_pool_size;
    let url = cli
        .database_url
        .unwrap_or_else(|| storage::DEFAULT_DATABASE_URL.to_owned());
    match cli.command.unwrap_or(Command::Serve(Box::new(ServeArgs {
        listen: Some("127.0.0.1:8080".parse()?),
        max_page_size: 100,
        ..Default::default()
    }))) {
        Command::Schema { introspection } => {
            if introspection {
                println!("{:#}", api::graphql::introspection().await);
            } else {
                print!("{}", api::graphql::sdl().await);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { dir } => {
            let files = transfer::read_dir(&dir)?;
            Ok(match bundle::check(&files, &Existing::default()) {
                Ok((b, warnings)) => {
                    print_warnings(&warnings);
                    eprintln!(
                        "{}: valid ({} territories, {} partners, {} rows in all), {} warning(s)",
                        dir.display(),
                        b.territories.len(),
                        b.partners.len(),
                        rows(&b),
                        warnings.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(report) => {
                    print_report(&report);
                    ExitCode::FAILURE
                }
            })
        }
        Command::Migrate => {
            storage::open_with(&url, pool).await?;
            eprintln!("{}: schema up to date", storage::redact(&url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { dir, dry_run, replace } => {
            let files = transfer::read_dir(&dir)?;
            let db = storage::open_with(&url, pool).await?;
            let progress = Bar::new();
            let started = std::time::Instant::now();
            match transfer::import(&db, files, ImportOptions { replace, dry_run }, &progress).await {
                Ok(outcome) => {
                    progress.done();
                    print_warnings(&outcome.warnings);
                    print_outcome(&dir, &outcome, started.elapsed());
                    Ok(ExitCode::SUCCESS)
                }
                Err(TransferError::Invalid(report)) => {
                    progress.done();
                    print_report(&report);
                    eprintln!("{}: refused, nothing was written", dir.display());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => {
                    progress.done();
                    Err(anyhow::Error::new(e)
                        .context(format!("import of {} failed, nothing was written", dir.display())))
                }
            }
        }
        Command::Export { dir } => {
            let db = storage::open_with(&url, pool).await?;
            let b = transfer::export(&db, &dir).await?;
            eprintln!("{}: exported {} rows", dir.display(), rows(&b));
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportMap { format, out, params } => {
            let db = storage::open_with(&url, pool).await?;
            let graph = crate::domain::graph::Graph::new(db.clone());
            let (p, map) = match api::export::build_map(&db, &graph, &storage::Scope::All, &params).await? {
                Ok(m) => m,
                Err(msg) => {
                    eprintln!("error: {msg}");
                    return Ok(ExitCode::from(2));
                }
            };
            let text = api::export::render(&p, &map, format);
            match &out {
                Some(path) => {
                    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?
                }
                None => print!("{text}"),
            }
            eprintln!(
                "map: {} partners ({} matched), {} edges, {} communities",
                map.nodes.len(),
                map.total,
                map.edges.len(),
                map.communities
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            serve(&url, pool, default_db, *args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(k) => {
            let db = storage::open_with(&url, pool).await?;
            keys_command(&db, k).await
        }
    }
}

async fn serve(url: &str, pool: Option<u32>, default_db: bool, args: ServeArgs) -> anyhow::Result<()> {
    // One watcher per process keeps the pool clear of connections an
    // outage killed, and lets requests fail fast while it lasts.
    let health = storage::Health::new();
    let db = storage::open_watched(url, pool, &health).await?;
    if !url.starts_with("sqlite:") {
        health.watch(url)?;
    }
    tracing::info!(database = %storage::redact(url), "database ready");
    // The demo fills the default database of a first run; a database named
    // by the operator is never filled unasked.
    if ((default_db && !args.no_demo) || args.demo) && transfer::load_demo_if_empty(&db).await? {
        tracing::info!("the database was empty: loaded the demo bundle (CA du Val de Fensch, 150 partners)");
        // Without a credential one sees public data only: give the person
        // trying the demo a key to see it all (only the log ever shows it).
        let key = keys::create(&db, Role::Admin, None, "demo", false).await?;
        tracing::info!(
            "demo admin key (shown once): {key} — in GraphiQL's Headers tab put {{\"X-Api-Key\": \"{key}\"}}; without a key you see public data only"
        );
    }
    let addr = args
        .listen
        .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("valid default"));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let mut config = args.access.server_config(ApiConfig {
        max_page_size: args.max_page_size,
        default_page_size: args.max_page_size.min(100),
    })?;
    // The graph projection is built before the server answers, and follows
    // the change log from then on.
    let started = std::time::Instant::now();
    let graph = crate::domain::graph::Graph::start(db.clone()).await?;
    tracing::info!(elapsed = ?started.elapsed(), "graph projection ready: {graph:?}");
    config.graph = Some(graph);
    // Heavy operations get connections of their own (as many as their
    // turns). Not for an in-memory database: a second pool would be a
    // second, empty database.
    if !(url.contains(":memory:") || url.contains("mode=memory")) {
        let heavy_pool = config.limits.max_running_heavy.clamp(1, 4) as u32;
        config.heavy_db = Some(storage::connect_watched(url, Some(heavy_pool), &health).await?);
    }
    config.health = health;
    // The identity provider's keys, before the first token comes (a failure
    // is logged, and they are fetched again on demand).
    if let Some(Ok(n)) = config.access.tokens.fetch_keys().await {
        tracing::info!("{n} key(s) of the identity provider ready");
    }
    if config.production {
        tracing::info!("production mode: no introspection and no GraphiQL for partner portals and anonymous readers");
    }
    if let Some(addr) = args.metrics_listen {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for metrics: {e}"))?;
        tracing::info!("metrics at http://{}/metrics", l.local_addr()?);
        let scrape = api::metrics::Scrape {
            db: db.clone(),
            graph: config.graph.clone(),
        };
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, api::metrics::routes(scrape)).await {
                tracing::error!("metrics listener: {e}");
            }
        });
    }
    let grace = std::time::Duration::try_from_secs_f64(args.shutdown_grace_seconds.max(0.0))
        .map_err(|e| anyhow::anyhow!("--shutdown-grace-seconds: {e}"))?;
    let served = api::serve(listener, api::router(db, config), grace).await;
    // The spans still buffered go out before the process ends.
    api::traces::shutdown();
    served?;
    Ok(())
}

fn rows(b: &bundle::Bundle) -> usize {
    b.territories.len()
        + b.partners.len()
        + b.partner_territories.len()
        + b.contacts.len()
        + b.networks.len()
        + b.memberships.len()
        + b.actions.len()
        + b.action_partners.len()
        + b.action_territories.len()
        + b.relations.len()
}

fn print_warnings(w: &[bundle::Diagnostic]) {
    for d in w.iter().take(SHOWN_ERRORS) {
        eprintln!("{}:{}: {}: warning: {}", d.file, d.line, d.column, d.message);
    }
    if w.len() > SHOWN_ERRORS {
        eprintln!("… and {} more warning(s)", w.len() - SHOWN_ERRORS);
    }
}

fn print_report(r: &bundle::Report) {
    print_warnings(&r.warnings);
    for d in r.errors.iter().take(SHOWN_ERRORS) {
        println!("{d}");
    }
    if r.error_count > SHOWN_ERRORS {
        println!("… and {} more error(s)", r.error_count - SHOWN_ERRORS);
    }
    eprintln!("{} error(s), {} warning(s)", r.error_count, r.warnings.len());
}

fn print_outcome(dir: &std::path::Path, o: &ImportOutcome, took: std::time::Duration) {
    let s = &o.summary;
    let verb = if o.committed {
        "imported"
    } else {
        "dry run, rolled back:"
    };
    eprintln!(
        "{}: {verb} {} rows ({} new or changed, {} unchanged, {} deleted) in {:.1}s, {} warning(s)",
        dir.display(),
        s.rows(),
        s.written(),
        s.rows().saturating_sub(s.written()),
        s.deleted(),
        took.as_secs_f64(),
        o.warnings.len()
    );
    for t in &s.tables {
        eprintln!(
            "  {:<20} {:>9} rows {:>9} written {:>7} deleted",
            t.table, t.rows, t.written, t.deleted
        );
    }
}

/// A progress bar on a terminal, nothing otherwise (logs and CI get the
/// one-line summary instead).
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg:<20} [{bar:30}] {pos}/{len} rows ({per_sec})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Bar(Some(pb))
    }
    fn done(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn table(&self, table: &'static str, rows: u64) {
        if let Some(pb) = &self.0 {
            pb.set_message(table);
            pb.set_length(rows);
            pb.set_position(0);
        }
    }
    fn advance(&self, rows: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(rows);
        }
    }
}

async fn keys_command(db: &sea_orm::DatabaseConnection, k: KeysCommand) -> anyhow::Result<ExitCode> {
    match k {
        KeysCommand::Create {
            role,
            partner,
            name,
            contact_details,
        } => {
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Anonymous)
                .ok_or_else(|| anyhow::anyhow!("unknown role {role:?}: admin, coordinator, analyst or partner"))?;
            let name = name.unwrap_or_else(|| match &partner {
                Some(p) => format!("{}:{p}", role.as_str()),
                None => role.as_str().to_owned(),
            });
            let key = keys::create(db, role, partner.as_deref(), &name, contact_details).await?;
            eprintln!(
                "created a {} key named {name:?}; it is shown once, keep it now:",
                role.as_str()
            );
            println!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::List => {
            println!(
                "{:<10} {:<12} {:<24} {:<16} {:<8} {:<8} created",
                "prefix", "role", "name", "partner", "contacts", "status"
            );
            for k in keys::list(db).await? {
                println!(
                    "{:<10} {:<12} {:<24} {:<16} {:<8} {:<8} {}",
                    k.prefix,
                    k.role,
                    k.name,
                    k.partner_ref.as_deref().unwrap_or("-"),
                    if k.contact_details { "yes" } else { "no" },
                    if k.revoked { "revoked" } else { "active" },
                    k.created_at.format("%Y-%m-%d %H:%M")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke { key } => {
            let n = keys::revoke(db, &key).await?;
            if n == 0 {
                eprintln!("no active key has the prefix or name {key:?}");
                return Ok(ExitCode::FAILURE);
            }
            eprintln!("revoked {n} key(s)");
            Ok(ExitCode::SUCCESS)
        }
    }
}
