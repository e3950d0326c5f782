//! The `plein` command line: serve, migrate, create admins and API tokens.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::admin::service::{NewAccount, create_person_unchecked};
use crate::app::Application;
use crate::auth::dto::Scope;
use crate::auth::password::PasswordHasher;
use crate::auth::service::issue_token;
use crate::config::Config;
use crate::directory::dto::Role;
use crate::directory::import::{self, ImportOptions, ImportSummary, Progress};
use crate::directory::repo as directory_repo;
use crate::directory::service::set_role_unchecked;
use crate::error::ApiError;
use crate::events::Doorbell;
use crate::{db, demo, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "plein",
    version,
    about = "Plein, the self-hosted social intranet"
)]
pub struct Cli {
    /// Configuration file (default: ./plein.toml when present).
    #[arg(long, global = true, env = "PLEIN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the intranet (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Rebuild the people search index from the database (with the server stopped).
    Reindex,
    /// Print the OpenAPI document of the JSON API (the web client's types come from it).
    Openapi,
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import data from other systems.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage stored files (photos, attachments).
    #[command(subcommand)]
    Blobs(BlobsCommand),
    /// Load a generated Dutch demo company through the HR import, print demo logins, and serve.
    Demo {
        /// How many people the company has.
        #[arg(long, default_value_t = 30_000)]
        people: usize,
        /// The same seed gives the same company.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Load the company and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Copy every file into another store (`fs`, `postgres`, `s3`), one at a time, each checked
    /// against its hash before the old copy goes; stopped, it resumes where it was. Nodes keep
    /// serving every file meanwhile. Afterwards set `blob_store` to the new store.
    Migrate {
        #[arg(long, value_enum)]
        to: crate::blobs::Kind,
        /// Move at most this many files, then stop.
        #[arg(long)]
        limit: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Upsert people from the HR system's CSV export, matched by employee_id; all rows or none.
    ///
    /// Columns: employee_id,given_name,family_name,email,title,department,location,
    /// manager_employee_id,phone,skills,languages (skills and languages separated by `;`).
    People {
        /// The CSV file (UTF-8, `,` or `;` between fields).
        file: PathBuf,
        /// Check the file and report what would change, without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Deactivate people with an employee number who are not in the file.
        #[arg(long)]
        deactivate_missing: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin. The password is read as one line from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Scim,
    Read,
    Metrics,
    Admin,
}

impl From<ScopeArg> for Scope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Scim => Scope::Scim,
            ScopeArg::Read => Scope::Read,
            ScopeArg::Metrics => Scope::Metrics,
            ScopeArg::Admin => Scope::Admin,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; the secret is printed alone on the last line of standard output.
    Create {
        #[arg(long)]
        name: String,
        /// Repeat or separate with commas: scim, admin.
        #[arg(long = "scope", value_delimiter = ',', required = true)]
        scopes: Vec<ScopeArg>,
    },
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve);
    let serving = matches!(command, Command::Serve);
    // One-shot commands keep standard output for their result; logs go to stderr at warn.
    let filter = if serving {
        config.log.clone()
    } else {
        format!("warn,{}", config.log).replace("warn,info", "warn")
    };
    telemetry::init(&filter, config.log_format)?;
    match command {
        Command::Serve => Application::build(config).await?.run_until_stopped().await,
        Command::Openapi => {
            let (_, document) = crate::app::api_router();
            println!("{}", document.to_pretty_json()?);
            Ok(())
        }
        Command::Migrate => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Blobs(BlobsCommand::Migrate { to, limit }) => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let blobs = crate::blobs::Blobs::open(&config, db)?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("moving [{bar:40}] {pos}/{len} files ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let summary = blobs
                .migrate(to, limit, &|moved, total| {
                    bar.set_length(total);
                    bar.set_position(moved);
                })
                .await;
            bar.finish_and_clear();
            let summary = summary?;
            println!(
                "moved {} files ({} bytes) to {}; {} still elsewhere",
                summary.moved,
                summary.bytes,
                to.as_str(),
                summary.remaining
            );
            if summary.remaining == 0 && config.blob_store != to {
                println!(
                    "every file is in {0} now: set blob_store = \"{0}\" (PLEIN_BLOB_STORE={0}) and restart the nodes",
                    to.as_str()
                );
            }
            Ok(())
        }
        Command::Reindex => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let directory = config.data_dir.join("search");
            let (index, _) = crate::directory::indexer::open(&db, &directory)
                .await
                .context("is the server still running? stop it before reindexing")?;
            let head = crate::directory::indexer::rebuild(&db, &index).await?;
            println!(
                "search index rebuilt with {} people (up to event {})",
                index.len(),
                head.seq
            );
            Ok(())
        }
        Command::Admin(AdminCommand::Create { email, name }) => {
            let password = read_password_line()?;
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let hasher = PasswordHasher::new(1)?;
            let account = NewAccount {
                email: &email,
                name: &name,
                role: Role::Admin,
                password: Some(&password),
            };
            let person = create_person_unchecked(&db, &Doorbell::new(), &hasher, account)
                .await
                .map_err(describe)?;
            tell_running_nodes(&db).await;
            println!(
                "created admin {} <{}> ({})",
                person.display_name,
                person.email.as_deref().unwrap_or_default(),
                person.id
            );
            Ok(())
        }
        Command::Import(ImportCommand::People {
            file,
            dry_run,
            deactivate_missing,
        }) => {
            let data =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let options = ImportOptions {
                dry_run,
                deactivate_missing,
            };
            let summary = import_with_progress(&db, &data, options).await?;
            print_summary(&summary);
            Ok(())
        }
        Command::Demo {
            people,
            seed,
            no_serve,
        } => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            eprintln!("generating a company of {people} people (seed {seed})");
            let company = demo::generate(people, seed);
            let data = demo::to_csv(&company)?;
            let summary = import_with_progress(&db, &data, ImportOptions::default()).await?;
            print_summary(&summary);
            let logins = demo_logins(&db, &company).await?;
            let admin = directory_repo::find_by_employee_id(&db, &company[0].employee_id)
                .await?
                .context("the demo company was not imported")?;
            eprintln!("adding groups, posts and announcements");
            let social = demo::social::populate(&db, &Doorbell::new(), admin.id, seed).await?;
            tell_running_nodes(&db).await;
            eprintln!(
                "{} groups, {} posts, {} comments, {} reactions, {} announcements, {} chat messages",
                social.groups,
                social.posts,
                social.comments,
                social.reactions,
                social.announcements,
                social.messages
            );
            println!("demo logins (the first is an admin):");
            for (email, password) in &logins {
                println!("  {email}  {password}");
            }
            db.close().await?;
            if no_serve {
                return Ok(());
            }
            Application::build(config).await?.run_until_stopped().await
        }
        Command::Token(TokenCommand::Create { name, scopes }) => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let scopes: Vec<Scope> = scopes.into_iter().map(Scope::from).collect();
            let created = issue_token(&db, None, &name, &scopes)
                .await
                .map_err(describe)?;
            let scope_names: Vec<&str> = created
                .token
                .scopes
                .iter()
                .map(|scope| scope.as_str())
                .collect();
            println!(
                "created API token {:?} ({}) with scopes {}; store it now, it is not shown again:",
                created.token.name,
                created.token.id,
                scope_names.join(", ")
            );
            println!("{}", created.secret);
            Ok(())
        }
    }
}

/// Runs an import with a progress bar on standard error; bad rows are listed and fail the command.
async fn import_with_progress(
    db: &sea_orm::DatabaseConnection,
    data: &[u8],
    options: ImportOptions,
) -> anyhow::Result<ImportSummary> {
    let bar = ProgressBar::new_spinner();
    bar.set_message("checking rows");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let progress = |event: Progress| match event {
        Progress::Stage { name, total } => {
            bar.set_length(total);
            bar.set_position(0);
            bar.set_style(
                ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} people ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(name);
        }
        Progress::Advance(done) => bar.inc(done),
    };
    let outcome = import::import(db, &Doorbell::new(), data, options, &progress).await;
    bar.finish_and_clear();
    tell_running_nodes(db).await;
    match outcome {
        Ok(summary) => Ok(summary),
        Err(error) if !error.rows.is_empty() => {
            let mut message = error.message.clone();
            for row in &error.rows {
                let key = row
                    .employee_id
                    .as_deref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default();
                let column = row
                    .column
                    .as_deref()
                    .map(|column| format!(" {column}:"))
                    .unwrap_or_default();
                message.push_str(&format!(
                    "\n  line {}{key}{column} {}",
                    row.line, row.message
                ));
            }
            Err(anyhow::anyhow!(message))
        }
        Err(error) => Err(describe(error)),
    }
}

fn print_summary(summary: &ImportSummary) {
    let verb = if summary.dry_run { "would be" } else { "were" };
    println!(
        "{} rows: {} {verb} created, {} {verb} updated, {} unchanged, {} {verb} deactivated",
        summary.rows, summary.created, summary.updated, summary.unchanged, summary.deactivated
    );
}

/// Gives the CEO admin rights and a few people passwords, and returns the logins.
async fn demo_logins(
    db: &sea_orm::DatabaseConnection,
    company: &[demo::DemoPerson],
) -> anyhow::Result<Vec<(String, String)>> {
    let hasher = PasswordHasher::new(2)?;
    let picks = [0, company.len() / 3, company.len() - 1];
    let mut logins = Vec::new();
    for (position, &index) in picks.iter().enumerate() {
        let Some(member) = company.get(index) else {
            continue;
        };
        if logins.iter().any(|(email, _)| *email == member.email) {
            continue;
        }
        let person = directory_repo::find_by_employee_id(db, &member.employee_id)
            .await?
            .context("the demo company was not imported")?;
        if position == 0 {
            set_role_unchecked(db, &Doorbell::new(), person.id, Role::Admin)
                .await
                .map_err(describe)?;
            tell_running_nodes(db).await;
        }
        let password = format!("demo-{}", hex::encode(rand::random::<[u8; 6]>()));
        let hash = hasher.hash(&password).await?;
        let person = directory_repo::find(db, person.id)
            .await?
            .context("the demo person vanished")?;
        directory_repo::set_password_hash(db, person, hash).await?;
        logins.push((member.email.clone(), password));
    }
    Ok(logins)
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input; pipe it in, e.g. `echo \"$PASSWORD\" | plein admin create ...`"
        );
    }
    Ok(password)
}

/// Turns an API error into a message for the terminal.
fn describe(error: ApiError) -> anyhow::Error {
    if let Some(internal) = error.internal {
        return internal;
    }
    let mut message = error.message;
    for (field, problem) in &error.fields {
        message.push_str(&format!("\n  {field}: {problem}"));
    }
    anyhow::anyhow!(message)
}

/// Running servers on PostgreSQL hear of this command's events at once instead of at their
/// next poll; on SQLite they poll.
async fn tell_running_nodes(db: &sea_orm::DatabaseConnection) {
    if let Err(error) = crate::events::notify_other_nodes(db).await {
        tracing::warn!(%error, "cannot notify running servers; they pick the change up by polling");
    }
}
