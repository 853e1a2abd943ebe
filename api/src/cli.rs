//! The `trestle` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{DatabaseConfig, JwtConfig, ServeConfig};
use crate::db::{self, StatementCounter};
use crate::domain::{Limits, users};
use crate::graphql::types::enums::{Locale, UserRole};

/// Trestle: a GraphQL backend for technical program management.
#[derive(Debug, Parser)]
#[command(name = "trestle", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of `serve`, accepted without the subcommand name too.
    #[command(flatten)]
    pub serve: ServeConfig,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<ServeConfig>),
    /// Apply, roll back or list database migrations.
    Migrate {
        /// Database settings.
        #[command(flatten)]
        database: DatabaseConfig,
        /// The migration action.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    ExportSchema,
    /// Manage users.
    User {
        /// The user action.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Mint a JWT for an existing user, for scripts and operations.
    Token {
        /// Database settings.
        #[command(flatten)]
        database: DatabaseConfig,
        /// Token settings.
        #[command(flatten)]
        jwt: JwtConfig,
        /// Email of the user the token is for.
        #[arg(long)]
        email: String,
        /// Lifetime in minutes (default: TRESTLE_JWT_TTL_MINUTES).
        #[arg(long)]
        ttl_minutes: Option<u32>,
    },
    /// Print a program's plan (workstreams, milestones, dependencies, risks) as JSON or CSV.
    Export {
        /// Database settings.
        #[command(flatten)]
        database: DatabaseConfig,
        /// Token settings (the secret kept in the database is found there).
        #[command(flatten)]
        jwt: JwtConfig,
        /// Key of the program.
        #[arg(long)]
        program: String,
        /// `json` or `csv`.
        #[arg(long, value_enum, default_value_t = FileFormat::Json)]
        format: FileFormat,
        /// Act as this user (default: the oldest active ADMIN).
        #[arg(long = "as")]
        acting_as: Option<String>,
    },
    /// Bring a plan file into a program: all of it or nothing, every bad row reported.
    Import {
        /// Database settings.
        #[command(flatten)]
        database: DatabaseConfig,
        /// Token settings (the secret kept in the database is found there).
        #[command(flatten)]
        jwt: JwtConfig,
        /// The file (`-` reads standard input).
        file: std::path::PathBuf,
        /// Key of the program.
        #[arg(long)]
        program: String,
        /// `json` or `csv` (default: from the file's extension, else JSON).
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Check the file and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Act as this user (default: the oldest active ADMIN).
        #[arg(long = "as")]
        acting_as: Option<String>,
    },
}

/// The file formats of `export` and `import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// One JSON object with a list per kind of row.
    Json,
    /// One CSV table with a `type` column.
    Csv,
}

impl From<FileFormat> for crate::domain::transfer::Format {
    fn from(format: FileFormat) -> Self {
        match format {
            FileFormat::Json => Self::Json,
            FileFormat::Csv => Self::Csv,
        }
    }
}

/// Migration actions.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the latest migrations.
    Down {
        /// How many to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

/// User actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user (for the first admin on a server).
    Create {
        /// Database settings.
        #[command(flatten)]
        database: DatabaseConfig,
        /// Token settings (the database secret is prepared if needed).
        #[command(flatten)]
        jwt: JwtConfig,
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Password; a random one is generated and printed when absent.
        #[arg(long, env = "TRESTLE_USER_PASSWORD", hide_env_values = true)]
        password: Option<SecretString>,
        /// Global role: admin or member.
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
        /// Preferred language: en or ko.
        #[arg(long, value_enum, default_value = "en")]
        locale: LocaleArg,
    },
}

/// Global role on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    /// ADMIN.
    Admin,
    /// MEMBER.
    Member,
}

/// Locale on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LocaleArg {
    /// English.
    En,
    /// Korean.
    Ko,
}

fn init_tracing() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_env("TRESTLE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm_migration=warn"));
    if json_logs() {
        let _ = fmt().with_env_filter(filter).json().try_init();
    } else {
        // Colours only on a terminal: never escape codes in a log file.
        use std::io::IsTerminal;
        let _ = fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// The environment variable an invalid value came from, if it did: clap's
/// message names the flag only.
fn environment_source(error: &clap::Error) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(argument)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = argument.split([' ', '=']).next()?.trim_start_matches('-');
    fn find(command: &clap::Command, long: &str) -> Option<String> {
        command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long))
            .and_then(|arg| arg.get_env())
            .map(|env| env.to_string_lossy().into_owned())
            .or_else(|| command.get_subcommands().find_map(|sub| find(sub, long)))
    }
    let variable = find(&Cli::command(), long)?;
    let passed_as_flag = std::env::args().any(|arg| arg.starts_with(&format!("--{long}")));
    (std::env::var_os(&variable).is_some() && !passed_as_flag).then_some(variable)
}

/// Whether logs are JSON lines (`TRESTLE_LOG_FORMAT=json`).
fn json_logs() -> bool {
    std::env::var("TRESTLE_LOG_FORMAT").is_ok_and(|v| v == "json")
}

/// Parse the command line and run it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let from_environment = environment_source(&error);
            let _ = error.print();
            if let Some(variable) = from_environment {
                eprintln!("note: the value came from the environment variable {variable}");
            }
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    if matches!(cli.command, Some(Command::ExportSchema)) {
        print!("{}", crate::graphql::export_sdl());
        return ExitCode::SUCCESS;
    }
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("trestle: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Once: into the JSON log a collector reads, or to the terminal.
            if json_logs() {
                tracing::error!("{message}");
            } else {
                eprintln!("trestle: error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::ExportSchema) => Ok(()),
        Some(Command::Migrate { database, action }) => migrate(database, action).await,
        Some(Command::User {
            action:
                UserAction::Create {
                    database,
                    jwt,
                    email,
                    name,
                    password,
                    role,
                    locale,
                },
        }) => {
            let domain = crate::app::open(
                &database,
                &jwt,
                Limits::default(),
                &StatementCounter::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let generated = password.is_none();
            let password = password
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_else(|| crate::auth::password::random_secret(20));
            let user = domain
                .insert_user(
                    None,
                    users::NewUser {
                        email,
                        name,
                        password: password.clone(),
                        role: match role {
                            RoleArg::Admin => UserRole::Admin.into(),
                            RoleArg::Member => UserRole::Member.into(),
                        },
                        locale: match locale {
                            LocaleArg::En => Locale::En.into(),
                            LocaleArg::Ko => Locale::Ko.into(),
                        },
                    },
                    "user",
                )
                .await
                .map_err(|e| e.message(crate::i18n::Locale::En))?;
            println!("created user {} ({})", user.email, user.id);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Some(Command::Token {
            database,
            jwt,
            email,
            ttl_minutes,
        }) => {
            let domain = crate::app::open(
                &database,
                &jwt,
                Limits::default(),
                &StatementCounter::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let user = users::find_by_email(&domain.db, &email)
                .await
                .map_err(|e| e.message(crate::i18n::Locale::En))?
                .ok_or_else(|| format!("no user has the email {email}"))?;
            if user.deactivated_at.is_some() {
                return Err(format!(
                    "the account {email} is deactivated; reactivate it (reactivateUser) before minting a token"
                ));
            }
            let ttl = chrono::Duration::minutes(ttl_minutes.unwrap_or(jwt.jwt_ttl_minutes).into());
            let (token, _) = domain
                .jwt
                .issue_with_ttl(user.id, ttl, user.sessions_valid_after)
                .map_err(|e| e.message(crate::i18n::Locale::En))?;
            println!("{token}");
            Ok(())
        }
        Some(Command::Export {
            database,
            jwt,
            program,
            format,
            acting_as,
        }) => {
            let (domain, viewer, program_id) =
                open_program(&database, &jwt, acting_as.as_deref(), &program).await?;
            let text = domain
                .export_program(&viewer, program_id, format.into())
                .await
                .map_err(|e| e.message(crate::i18n::Locale::En))?;
            println!("{text}");
            Ok(())
        }
        Some(Command::Import {
            database,
            jwt,
            file,
            program,
            format,
            dry_run,
            acting_as,
        }) => {
            let data = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).map_err(|e| e.to_string())?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?
            };
            let format = format.unwrap_or(
                if file
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
                {
                    FileFormat::Csv
                } else {
                    FileFormat::Json
                },
            );
            let (domain, viewer, program_id) =
                open_program(&database, &jwt, acting_as.as_deref(), &program).await?;
            let summary = domain
                .import_program(&viewer, program_id, format.into(), &data, dry_run)
                .await
                .map_err(|error| describe_import_error(&error))?;
            let counts = |c: crate::domain::transfer::Counts| {
                format!(
                    "{} workstreams, {} milestones, {} dependencies, {} risks",
                    c.workstreams, c.milestones, c.dependencies, c.risks
                )
            };
            let verb = if dry_run { "would create" } else { "created" };
            println!("{verb} {}", counts(summary.created));
            let verb = if dry_run { "would update" } else { "updated" };
            println!("{verb} {}", counts(summary.updated));
            Ok(())
        }
    }
}

/// An import's refusal for the terminal: every bad row on its own line.
fn describe_import_error(error: &crate::error::ApiError) -> String {
    let locale = crate::i18n::Locale::En;
    match error {
        crate::error::ApiError::BadRows(rows) => {
            let mut text = error.message(locale);
            for row in rows {
                text.push_str(&format!(
                    "\n  row {}, {}: {}",
                    row.row,
                    row.field,
                    row.message.text(locale)
                ));
            }
            text
        }
        other => other.message(locale),
    }
}

/// Open the database and find the program `key` as the user `email` (or
/// the oldest active ADMIN): the domain, the viewer and the program's id.
async fn open_program(
    database: &DatabaseConfig,
    jwt: &JwtConfig,
    email: Option<&str>,
    key: &str,
) -> Result<(crate::domain::Domain, crate::auth::Viewer, uuid::Uuid), String> {
    use entity::{enums::UserRole as StoredRole, user};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let domain = crate::app::open(
        database,
        jwt,
        Limits::default(),
        &StatementCounter::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let account = match email {
        Some(email) => users::find_by_email(&domain.db, email)
            .await
            .map_err(|e| e.message(crate::i18n::Locale::En))?
            .ok_or_else(|| format!("no user has the email {email}"))?,
        None => user::Entity::find()
            .filter(user::Column::Role.eq(StoredRole::Admin))
            .filter(user::Column::DeactivatedAt.is_null())
            .order_by_asc(user::Column::CreatedAt)
            .one(&domain.db)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no active ADMIN to act as; create one with `trestle user create --role ADMIN` or pass --as EMAIL")?,
    };
    if account.deactivated_at.is_some() {
        return Err(format!("the account {} is deactivated", account.email));
    }
    let viewer = crate::auth::Viewer::signed_in(crate::auth::AuthUser {
        id: account.id,
        role: account.role,
        locale: account.locale,
        credential: crate::auth::Credential::Internal,
    });
    let program = domain
        .program_by_key(&viewer, key)
        .await
        .map_err(|e| e.message(crate::i18n::Locale::En))?
        .ok_or_else(|| {
            format!(
                "no program with the key {key} that {} can see",
                account.email
            )
        })?;
    Ok((domain, viewer, program.id))
}

async fn serve(config: ServeConfig) -> Result<(), String> {
    let server = crate::app::start(config, crate::app::shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("Trestle listening on http://{}/graphql", server.addr);
    server.wait().await.map_err(|e| e.to_string())
}

async fn migrate(database: DatabaseConfig, action: MigrateAction) -> Result<(), String> {
    let db = db::connect(&database, &StatementCounter::default())
        .await
        .map_err(|e| e.to_string())?;
    let failed = |e: sea_orm::DbErr| e.to_string();
    let applied = async |db| -> Result<Vec<String>, String> {
        Ok(Migrator::get_applied_migrations(db)
            .await
            .map_err(failed)?
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    };
    let pending = async |db| -> Result<Vec<String>, String> {
        Ok(Migrator::get_pending_migrations(db)
            .await
            .map_err(failed)?
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    };
    match action {
        MigrateAction::Up => {
            let todo = pending(&db).await?;
            Migrator::up(&db, None).await.map_err(failed)?;
            if todo.is_empty() {
                println!(
                    "the database is up to date ({} migrations applied)",
                    applied(&db).await?.len()
                );
            }
            for name in todo {
                println!("applied {name}");
            }
        }
        MigrateAction::Down { steps } => {
            let before = applied(&db).await?;
            Migrator::down(&db, Some(steps)).await.map_err(failed)?;
            let after = applied(&db).await?;
            let undone: Vec<&String> = before
                .iter()
                .rev()
                .filter(|name| !after.contains(name))
                .collect();
            if undone.is_empty() {
                println!("nothing to roll back: no migration is applied");
            }
            for name in undone {
                println!("rolled back {name}");
            }
        }
        MigrateAction::Status => {
            for name in applied(&db).await? {
                println!("applied  {name}");
            }
            for name in pending(&db).await? {
                println!("pending  {name}");
            }
        }
    }
    Ok(())
}
