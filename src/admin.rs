//! `nectar token` and `nectar user`: managing who may use Nectar, from the command line.
//! They work directly on the data directory's database, also while `serve` runs.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::Subcommand;
use nectar_store::{Role, Store, StoreError};

use crate::config::Config;
use crate::exit::usage;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (alone, on stdout). It is shown only this once;
    /// Nectar keeps only its hash.
    Create {
        /// A unique name, e.g. the sensor or script that will use it.
        #[arg(long)]
        name: String,
        /// viewer: read only; analyst: also post events; admin: everything.
        #[arg(long, default_value = "analyst", value_parser = parse_role)]
        role: Role,
        /// The `sensor` of every event the token posts (default: its name);
        /// posted events naming another sensor are refused.
        #[arg(long)]
        sensor: Option<String>,
    },
    /// List tokens (names, roles, last use; never the secrets).
    List,
    /// Revoke a token by name; requests with it fail from now on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Prints a generated password unless --password-stdin is given.
    Add {
        /// Login name.
        name: String,
        /// viewer: read only; analyst: also work on alerts; admin: everything.
        #[arg(long, default_value = "analyst", value_parser = parse_user_role)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (and log them out everywhere).
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// A person's role: any but `sensor`, which only sensor credentials have.
fn parse_user_role(text: &str) -> Result<Role, String> {
    match text.parse()? {
        Role::Sensor => Err(
            "role sensor is for sensor credentials, not people: use viewer, analyst or admin"
                .to_owned(),
        ),
        role => Ok(role),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Opens the data directory's database, creating both if needed.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    // Owner only: it holds password hashes, captured credentials and malware.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| {
                format!(
                    "cannot make the data directory {} private",
                    config.data_dir.display()
                )
            })?;
    }
    let store_config = config
        .store
        .store_config(&config.data_dir.join("nectar.db"))
        .map_err(|e| usage(e.within("store").to_string()))?;
    let place = match &store_config.postgres {
        Some(pg) => format!(
            "on PostgreSQL at {}:{} (database {})",
            pg.get_host(),
            pg.get_port(),
            pg.get_database().unwrap_or("named after the user")
        ),
        None => store_config.path.display().to_string(),
    };
    Store::open(&store_config)
        .await
        .with_context(|| format!("cannot open the database {place}"))
}

fn name_error(err: StoreError) -> anyhow::Error {
    match err {
        StoreError::Exists { .. } | StoreError::NotFound { .. } => usage(err.to_string()),
        other => anyhow::Error::new(other),
    }
}

fn check_name(what: &str, name: &str) -> anyhow::Result<()> {
    if nectar_web::valid_name(name) {
        Ok(())
    } else {
        Err(usage(format!(
            "{what} name {name:?}: use 1 to 64 letters, digits, '-', '_', '.' or '@'"
        )))
    }
}

pub fn token(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = open_store(config).await?;
        match command {
            TokenCommand::Create { name, role, sensor } => {
                check_name("token", &name)?;
                if let Some(sensor) = &sensor {
                    check_name("sensor", sensor)?;
                }
                let secret = format!("nct_{}", nectar_web::new_secret());
                store
                    .create_token(
                        &name,
                        &nectar_web::sha256_hex(&secret),
                        role,
                        sensor.as_deref(),
                    )
                    .await
                    .map_err(name_error)?;
                println!("{secret}");
            }
            TokenCommand::List => {
                println!(
                    "{:<24} {:<8} {:<24} {:<28} {:<28} STATUS",
                    "NAME", "ROLE", "SENSOR", "CREATED", "LAST USED"
                );
                for t in store.list_tokens().await? {
                    let status = t
                        .revoked
                        .map_or("live".to_owned(), |r| format!("revoked {r}"));
                    let last = t.last_used.map_or("never".to_owned(), |t| t.to_string());
                    println!(
                        "{:<24} {:<8} {:<24} {:<28} {:<28} {status}",
                        t.name,
                        t.role,
                        t.sensor,
                        t.created.to_string(),
                        last
                    );
                }
            }
            TokenCommand::Revoke { name } => {
                store.revoke_token(&name).await.map_err(name_error)?;
                eprintln!("Token {name:?} revoked.");
            }
        }
        store.close().await;
        Ok(())
    })
}

pub fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = open_store(config).await?;
        match command {
            UserCommand::Add {
                name,
                role,
                password_stdin,
            } => {
                check_name("user", &name)?;
                let (password, generated) = password(password_stdin)?;
                let hash =
                    nectar_web::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
                store
                    .create_user(&name, &hash, role)
                    .await
                    .map_err(name_error)?;
                if generated {
                    println!("{password}");
                }
                eprintln!("User {name:?} added with role {role}.");
            }
            UserCommand::Passwd {
                name,
                password_stdin,
            } => {
                let (password, generated) = password(password_stdin)?;
                let hash =
                    nectar_web::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
                store.set_password(&name, &hash).await.map_err(name_error)?;
                if generated {
                    println!("{password}");
                }
                eprintln!("Password of {name:?} changed; their sessions are closed.");
            }
            UserCommand::List => {
                println!("{:<24} {:<8} {:<28} STATUS", "NAME", "ROLE", "CREATED");
                for u in store.list_users().await? {
                    let status = if u.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<24} {:<8} {:<28} {status}",
                        u.name,
                        u.role,
                        u.created.to_string()
                    );
                }
            }
        }
        store.close().await;
        Ok(())
    })
}

/// A password from stdin, or a generated one (and whether it was generated).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((nectar_web::generate_password(), true));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < 10 {
        return Err(usage("the password must be at least 10 characters long"));
    }
    if password.len() > 1024 {
        return Err(usage("the password must be at most 1024 bytes long"));
    }
    Ok((password, false))
}
