//! The command line: one binary, `maillage`, whose default command serves.
//! Every option has an environment variable, so a deployment can be
//! configured without flags.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api::{self, graphql::ApiConfig};
use crate::bundle::{self, Existing};
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

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL at /graphql and GraphiQL at / (the default command).
    Serve(ServeArgs),
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
    /// Print the GraphQL schema (SDL).
    Schema,
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
    let url = cli
        .database_url
        .unwrap_or_else(|| storage::DEFAULT_DATABASE_URL.to_owned());
    match cli.command.unwrap_or(Command::Serve(ServeArgs {
        listen: Some("127.0.0.1:8080".parse()?),
        max_page_size: 100,
        ..Default::default()
    })) {
        Command::Schema => {
            print!("{}", api::graphql::sdl());
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
            storage::open(&url).await?;
            eprintln!("{}: schema up to date", storage::redact(&url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { dir, dry_run, replace } => {
            let files = transfer::read_dir(&dir)?;
            let db = storage::open(&url).await?;
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
            let db = storage::open(&url).await?;
            let b = transfer::export(&db, &dir).await?;
            eprintln!("{}: exported {} rows", dir.display(), rows(&b));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            serve(&url, default_db, args).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(url: &str, default_db: bool, args: ServeArgs) -> anyhow::Result<()> {
    let db = storage::open(url).await?;
    tracing::info!(database = %storage::redact(url), "database ready");
    // The demo fills the default database of a first run; a database named
    // by the operator is never filled unasked.
    if ((default_db && !args.no_demo) || args.demo) && transfer::load_demo_if_empty(&db).await? {
        tracing::info!("the database was empty: loaded the demo bundle (CA du Val de Fensch, 150 partners)");
    }
    let addr = args
        .listen
        .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("valid default"));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let config = ApiConfig {
        max_page_size: args.max_page_size,
        default_page_size: args.max_page_size.min(100),
    };
    api::serve(listener, api::router(db, config)).await?;
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
