//! `integ db copy --to URL` and `integ db migrate --url URL`: moving the SQLite database into
//! PostgreSQL, and creating integ's schema there ahead of time (a one-off migration job).
//! Each runs in one PostgreSQL transaction, so a failure or a stop leaves the target as it was.

use crate::cli::{DbCommand, DbCopyArgs, DbMigrateArgs};
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::store::pg::{self, PgUrl, Tls, copy};

pub async fn run(ctx: &mut Context, cmd: DbCommand) -> Result<Done> {
    match cmd {
        DbCommand::Copy(args) => copy_cmd(ctx, args).await,
        DbCommand::Migrate(args) => migrate_cmd(ctx, args).await,
    }
}

/// Parse the URL, say what its TLS choice means, and connect.
async fn open(ctx: &mut Context, text: &str) -> Result<pg::Pg> {
    let url = PgUrl::parse(text).map_err(pg::PgError::from)?;
    if url.password.is_some() {
        ctx.ui.warn(
            "the URL holds a password, which other users of this machine can read in the process list; \
             prefer INTEG_DATABASE_PASSWORD or `integ config set database.password`",
        );
    }
    if url.tls == (Tls::Plain { explicit: true }) && !pg::url::is_loopback(&url.host) {
        ctx.ui.warn(format!(
            "sslmode=disable: the connection to {} is not encrypted, and the password and data cross the network in the clear",
            url.host
        ));
    }
    let password = ctx.database_password_for(&url)?;
    Ok(pg::connect(url, password).await?)
}

async fn migrate_cmd(ctx: &mut Context, args: DbMigrateArgs) -> Result<Done> {
    let url = match args.url {
        Some(url) => url,
        // Checked as every command checks it (no password from config.toml).
        None if ctx.database_url()?.is_none() => {
            return Err(Error::config("no database to migrate")
                .hint("pass --url postgres://USER@HOST/DATABASE, or set INTEG_DATABASE_URL"));
        }
        None => match ctx.settings()?.get("database_url").filter(|u| !u.is_empty()) {
            Some(url) => url.to_string(),
            None => {
                return Err(Error::config("no database to migrate")
                    .hint("pass --url postgres://USER@HOST/DATABASE, or set INTEG_DATABASE_URL"));
            }
        },
    };
    let mut pg = open(ctx, &url).await?;
    let applied = pg::migrate(&mut pg, &ctx.clock.stamp()).await?;
    let shown = pg.url.shown().to_string();
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::json!({
            "url": shown, "applied": applied, "schema_version": crate::store::db::SCHEMA_VERSION,
        }))?;
    }
    if applied.is_empty() {
        ctx.ui.success(format!("{shown} is at schema version {}: nothing to do", crate::store::db::SCHEMA_VERSION));
    } else {
        ctx.ui.success(format!("{shown} migrated to schema version {}", crate::store::db::SCHEMA_VERSION));
    }
    Ok(Done::Ok)
}

async fn copy_cmd(ctx: &mut Context, args: DbCopyArgs) -> Result<Done> {
    let Some(source) = ctx.sqlite_db()? else {
        return Err(Error::config(format!("there is no database to copy at {}", ctx.paths.db_file.display()))
            .hint("run `integ sync` first, or set INTEG_HOME to the folder that holds integ.db"));
    };
    let mut pg = open(ctx, &args.to).await?;
    let now = ctx.clock.stamp();
    let url = &pg.url;
    let tx = pg.client.transaction().await.map_err(|e| pg::query_error(url, &e))?;
    pg::lock(url, &tx).await?;
    copy::check_empty(url, &tx).await?;
    pg::migrate_in(url, &tx, &now).await?;
    let ui = ctx.ui.clone();
    let sqlite = source.sqlite_file().expect("a SQLite database");
    let report = copy::copy_all(url, sqlite, &tx, |table, rows| ui.info(format!("{table}: {rows} rows"))).await?;
    tx.commit().await.map_err(|e| pg::query_error(url, &e))?;
    let total: i64 = report.iter().map(|c| c.target_rows).sum();
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::json!({"url": url.shown(), "tables": report, "rows": total}))?;
    } else {
        let mut out = String::from("table                 sqlite  postgresql\n");
        for c in &report {
            out.push_str(&format!("{:<20} {:>7} {:>11}\n", c.table, c.source_rows, c.target_rows));
        }
        ctx.ui.line(out.trim_end())?;
    }
    ctx.ui.success(format!(
        "copied {total} rows in {} tables into {}; every table's row count and SHA-256 match",
        report.len(),
        url.shown()
    ));
    Ok(Done::Ok)
}
