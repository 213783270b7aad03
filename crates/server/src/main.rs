//! `siteward`: the server, the demo, and the operator's commands.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use siteward_app::Clock;
use siteward_server::config::{Overrides, Settings};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "siteward",
    version,
    about = "Siteward: the open installer cloud for security systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct ServerArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080]
    #[arg(long)]
    listen: Option<String>,
    /// Data directory [default: ./data]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://… [default: SQLite in the data directory]
    #[arg(long)]
    database_url: Option<String>,
    /// The URL people reach the server at
    #[arg(long)]
    public_url: Option<String>,
    /// Configuration file [default: ./siteward.toml]
    #[arg(long)]
    config: Option<PathBuf>,
}

impl ServerArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let flags = Overrides {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            public_url: self.public_url.clone(),
        };
        Settings::load(self.config.as_deref(), &flags)
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServerArgs),
    /// Run the server on a fresh data directory with demo data, and print the logins.
    Demo {
        /// Address and port to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Data directory [default: a new temporary directory]
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Operator commands.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Issue authentication codes (one per line on stdout), or list them.
    AuthCodes {
        /// Region the codes are bound to, such as EU
        #[arg(long, required_unless_present = "list")]
        region: Option<String>,
        /// How many
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// A remark stored with the codes
        #[arg(long)]
        note: Option<String>,
        /// List every code with its state instead
        #[arg(long, conflicts_with_all = ["region", "note"])]
        list: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Create a platform operator account.
    CreateOperator {
        /// Full name
        #[arg(long)]
        name: String,
        /// E-mail (the sign-in name)
        #[arg(long)]
        email: String,
        /// Password (or set SITEWARD_OPERATOR_PASSWORD)
        #[arg(long, env = "SITEWARD_OPERATOR_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply database migrations.
    Migrate {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Check the database: reachable, migrated, and what it holds.
    Check {
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example siteward.toml.
    Example,
}

fn init_logs(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let settings = args.settings()?;
            init_logs(settings.log_format == "json");
            let app = siteward_server::build_app(&settings, Clock::system()).await?;
            let running = siteward_server::start(&settings, app).await?;
            tracing::info!(url = %running.url(), backend = running.app.store().backend().name(), "Siteward is serving");
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await
        }
        Command::Demo { listen, data_dir } => {
            init_logs(false);
            let data_dir = match data_dir {
                Some(d) => d,
                None => {
                    std::env::temp_dir().join(format!("siteward-demo-{}", uuid::Uuid::now_v7()))
                }
            };
            let settings = Settings {
                listen,
                data_dir,
                ..Settings::default()
            };
            let app = siteward_server::build_app(&settings, Clock::system()).await?;
            let fresh = app.store().read().await?.count_companies().await? == 0;
            let seed = if fresh {
                Some(siteward_server::demo::seed(&app).await?)
            } else {
                None
            };
            let running = siteward_server::start(&settings, app).await?;
            let url = running.url().replace("127.0.0.1", "localhost");
            let control = match &seed {
                Some(seed) => Some(seed.fleet.serve_control("127.0.0.1:0".parse()?).await?),
                None => None,
            };
            // Devices in link mode connect out to the device link, as real ones would.
            let links = seed.as_ref().map_or_else(Vec::new, |seed| {
                seed.fleet.connect_links(&format!(
                    "{}/link/v1",
                    running.url().replacen("http", "ws", 1)
                ))
            });
            println!("\nSiteward demo is running at {url}");
            println!("Installer portal: {url}/portal   End-user app (phone-sized): {url}/app");
            println!("Data directory: {}", settings.data_dir.display());
            if let Some(seed) = seed {
                println!(
                    "\nDemo accounts (password for all: {}):",
                    siteward_server::demo::DEMO_PASSWORD
                );
                for l in &seed.logins {
                    println!("  {:<18} {}", l.role, l.email);
                }
                println!("\nUnused authentication codes (region EU) to register another company:");
                for c in &seed.spare_codes {
                    println!("  {c}");
                }
                println!(
                    "\nSimulated devices: {} in the demo sites, each serving ISAPI on its own port; {} of them connect over the device link (/link/v1).",
                    seed.devices_added,
                    links.len()
                );
                if let Some(addr) = control {
                    println!(
                        "Inject faults through the simulator's control API at http://{addr}/devices"
                    );
                    println!("  e.g. curl -X PUT http://{addr}/devices/<serial>/faults/hdd_full");
                }
            }
            println!("\nPress Ctrl+C to stop.\n");
            shutdown_signal().await;
            running.stop().await
        }
        Command::Admin(cmd) => admin(cmd).await,
        Command::Config(ConfigCommand::Example) => {
            print!("{}", siteward_server::config::EXAMPLE);
            Ok(())
        }
    }
}

async fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    init_logs(false);
    match cmd {
        AdminCommand::AuthCodes {
            region,
            count,
            note,
            list,
            server,
        } => {
            let app = siteward_server::build_app(&server.settings()?, Clock::system()).await?;
            if list {
                let now = app.clock().now();
                for c in app.list_auth_codes_unchecked().await? {
                    let state = match (c.used_at, c.expires_at <= now) {
                        (Some(_), _) => "used",
                        (None, true) => "expired",
                        (None, false) => "unused",
                    };
                    println!(
                        "{}\t{}\t{}\texpires {}\t{}",
                        c.code,
                        c.region,
                        state,
                        siteward_app::rfc3339(c.expires_at),
                        c.note.unwrap_or_default()
                    );
                }
            } else {
                let region = region.context("--region is required")?;
                for c in app.issue_auth_codes_unchecked(&region, count, note).await? {
                    println!("{}", c.code);
                }
            }
            app.store().close().await;
            Ok(())
        }
        AdminCommand::CreateOperator {
            name,
            email,
            password,
            server,
        } => {
            let app = siteward_server::build_app(&server.settings()?, Clock::system()).await?;
            let user = app.create_operator(&name, &email, &password).await?;
            println!("operator {} created ({})", user.email, user.id);
            app.store().close().await;
            Ok(())
        }
        AdminCommand::Migrate { server } => {
            let store = siteward_server::open_store(&server.settings()?).await?;
            let (known, applied) = store.migration_status().await?;
            println!("migrations applied: {} of {}", applied.len(), known.len());
            store.close().await;
            Ok(())
        }
        AdminCommand::Check { server } => {
            let settings = server.settings()?;
            let url = settings.database_url();
            let store = siteward_store::Store::connect(&url)
                .await
                .with_context(|| {
                    format!(
                        "connecting to {}",
                        siteward_server::config::redact_url(&url)
                    )
                })?;
            let mut h = store.read().await?;
            h.ping().await?;
            println!(
                "database: {} ({}) reachable",
                store.backend().name(),
                siteward_server::config::redact_url(&url)
            );
            drop(h);
            let (known, applied) = store.migration_status().await.unwrap_or_default();
            let pending = known.iter().filter(|v| !applied.contains(v)).count();
            println!("migrations: {} applied, {} pending", applied.len(), pending);
            if pending == 0 {
                let mut h = store.read().await?;
                println!(
                    "holds: {} companies, {} accounts, {} sites",
                    h.count_companies().await?,
                    h.count_users().await?,
                    h.count_sites().await?
                );
            }
            store.close().await;
            anyhow::ensure!(
                pending == 0,
                "{pending} migrations pending: run `siteward admin migrate`"
            );
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
