//! The `plein` command line: serve, migrate, create admins and API tokens.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::admin::service::{NewAccount, create_person_unchecked};
use crate::app::Application;
use crate::auth::dto::Scope;
use crate::auth::password::PasswordHasher;
use crate::auth::service::issue_token;
use crate::config::Config;
use crate::directory::dto::Role;
use crate::error::ApiError;
use crate::events::Doorbell;
use crate::{db, telemetry};

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
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
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
    Admin,
}

impl From<ScopeArg> for Scope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Scim => Scope::Scim,
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
        Command::Migrate => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Reindex => {
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let directory = config.data_dir.join("search");
            let (index, _) = crate::directory::indexer::open(&db, &directory)
                .await
                .context("is the server still running? stop it before reindexing")?;
            let seq = crate::directory::indexer::rebuild(&db, &index).await?;
            println!(
                "search index rebuilt with {} people (up to event {seq})",
                index.len()
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
            println!(
                "created admin {} <{}> ({})",
                person.display_name, person.email, person.id
            );
            Ok(())
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
