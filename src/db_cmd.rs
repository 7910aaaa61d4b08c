//! `nectar db copy`: moves an installation between SQLite and PostgreSQL (see
//! `nectar_store::Store::copy_to`), printing each table's rows as it goes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use nectar_store::{CopyError, Destination, Store, StoreConfig, StoreSection};

use crate::exit::usage;

/// `nectar db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy every table of one database into another: SQLite to PostgreSQL or
    /// back (or SQLite to SQLite).
    ///
    /// Ids, the events' commit numbers and the consumers' offsets are kept, so
    /// the destination answers as the source did and its consumers resume where
    /// they were. The destination must hold no data (a new database), unless
    /// --force. Stop `serve` first: rows written during the copy may be missed.
    /// Rows per table are printed, and every table's count is compared at the
    /// end. A PostgreSQL password may come from PGPASSWORD instead of the URL.
    /// Example: `nectar db copy --from /var/lib/nectar/nectar.db --to
    /// postgres://nectar@db.example/nectar`.
    Copy(CopyArgs),
}

/// `nectar db copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The database to read: a SQLite file (a path, or sqlite:PATH) or
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long, value_name = "URL")]
    from: String,
    /// The database to fill, in the same forms (a SQLite file is created if
    /// missing; a PostgreSQL database must exist).
    #[arg(long, value_name = "URL")]
    to: String,
    /// When the destination holds data, delete every row of Nectar's tables
    /// there first (its users, tokens, events, alerts, ...) instead of refusing.
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Go on with a copy that was interrupted (the source unchanged since):
    /// each table continues after the rows the destination has.
    #[arg(long)]
    resume: bool,
    /// Rows read and written per transaction (1-100000).
    #[arg(long, default_value_t = 5_000, value_name = "N")]
    batch: usize,
}

/// Where a store is, from a flag's value.
#[derive(Debug, Clone)]
enum Place {
    Sqlite(PathBuf),
    /// A store configuration naming the server.
    Postgres(Box<StoreConfig>),
}

impl Place {
    fn parse(flag: &str, text: &str, must_exist: bool) -> anyhow::Result<Place> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let section = StoreSection {
                url: nectar_event::config::Sensitive::new(text.to_owned()),
                ..StoreSection::default()
            };
            let config = section
                .store_config(Path::new(""))
                .map_err(|e| usage(format!("{flag}: {}", e.reason)))?;
            return Ok(Place::Postgres(Box::new(config)));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        if path.is_empty() {
            return Err(usage(format!(
                "{flag}: empty; give a SQLite file (PATH or sqlite:PATH) or a postgres:// URL"
            )));
        }
        if path.contains("://") {
            return Err(usage(format!(
                "{flag}: {path:?} is neither a SQLite file nor a postgres:// URL"
            )));
        }
        let path = PathBuf::from(path);
        if must_exist && !path.is_file() {
            return Err(usage(format!(
                "{flag}: no SQLite database at {}",
                path.display()
            )));
        }
        if !must_exist
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(usage(format!(
                "{flag}: the directory {} does not exist",
                dir.display()
            )));
        }
        Ok(Place::Sqlite(path))
    }

    fn config(&self) -> StoreConfig {
        match self {
            Place::Sqlite(path) => StoreConfig::new(path),
            Place::Postgres(config) => (**config).clone(),
        }
    }

    /// Whether two places are the same database.
    fn same(&self, other: &Place) -> bool {
        match (self, other) {
            (Place::Sqlite(a), Place::Sqlite(b)) => {
                a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
            }
            (Place::Postgres(a), Place::Postgres(b)) => {
                let (Some(a), Some(b)) = (&a.postgres, &b.postgres) else {
                    return false;
                };
                a.get_host() == b.get_host()
                    && a.get_port() == b.get_port()
                    && a.get_database() == b.get_database()
            }
            _ => false,
        }
    }

    fn shown(&self) -> String {
        match self {
            Place::Sqlite(path) => path.display().to_string(),
            // Never the password.
            Place::Postgres(config) => config.postgres.as_ref().map_or_else(
                || "PostgreSQL".to_owned(),
                |o| {
                    format!(
                        "postgres://{}:{}/{}",
                        o.get_host(),
                        o.get_port(),
                        o.get_database().unwrap_or_default()
                    )
                },
            ),
        }
    }
}

/// Runs `nectar db ...`.
pub fn run(command: DbCommand) -> anyhow::Result<()> {
    let DbCommand::Copy(args) = command;
    if !(1..=100_000).contains(&args.batch) {
        return Err(usage(format!(
            "--batch: {} is out of range; give 1 to 100000",
            args.batch
        )));
    }
    let from = Place::parse("--from", &args.from, true)?;
    let to = Place::parse("--to", &args.to, false)?;
    if from.same(&to) {
        return Err(usage("--to: the same database as --from"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let source = Store::open(&from.config())
            .await
            .with_context(|| format!("cannot open {} (--from)", from.shown()))?;
        let dest = Store::open(&to.config())
            .await
            .with_context(|| format!("cannot open {} (--to)", to.shown()))?;
        println!("Copying {} to {}", from.shown(), to.shown());
        let into = match (args.force, args.resume) {
            (true, _) => Destination::Clear,
            (false, true) => Destination::Resume,
            (false, false) => Destination::Empty,
        };
        let started = std::time::Instant::now();
        let copied = source
            .copy_to(&dest, into, args.batch, |table, rows| {
                println!("{table:<24} {rows:>12} rows");
            })
            .await;
        source.close().await;
        dest.close().await;
        let report = match copied {
            Ok(report) => report,
            Err(e @ CopyError::NotEmpty { .. }) => return Err(usage(format!("--to: {e}"))),
            Err(e) => return Err(anyhow::Error::new(e).context("the copy failed")),
        };
        let total: u64 = report.tables.iter().map(|(_, n)| n).sum();
        println!(
            "Copied {total} rows in {} tables in {:.1} s; every table's count matches, and the events' checksum ({:016x}).",
            report.tables.len(),
            started.elapsed().as_secs_f64(),
            report.events_checksum
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_files_or_postgres_urls() {
        assert!(matches!(
            Place::parse("--to", "sqlite:x.db", false).unwrap(),
            Place::Sqlite(p) if p == std::path::Path::new("x.db")
        ));
        assert!(matches!(
            Place::parse("--to", "postgres://u:p@127.0.0.1:5432/n", false).unwrap(),
            Place::Postgres(_)
        ));
        let e = Place::parse("--from", "/nonexistent/n.db", true).unwrap_err();
        assert!(
            e.to_string().starts_with("--from: no SQLite database"),
            "{e}"
        );
        let e = Place::parse("--to", "mysql://h/db", false).unwrap_err();
        assert!(e.to_string().starts_with("--to:"), "{e}");
    }
}
