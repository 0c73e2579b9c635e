//! PostgreSQL: connecting (verified TLS, the password kept secret, from the URL, the
//! environment, the secret store or the password file: [`passfile`]), the session every store
//! call goes through ([`link`]), the schema's migrations, and copying a SQLite database into an
//! empty PostgreSQL one (`integ db copy`).
//!
//! The same tables, columns, views and indexes as the SQLite schema, versioned with the same
//! numbers and recorded in `integ_schema_versions`, applied in one transaction, and a schema
//! newer than this build refused before anything is written. Statements are written once, for
//! both backends, through `store::sql`.

pub mod copy;
pub mod link;
pub mod passfile;
pub mod tls;
pub mod url;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::{Client, GenericClient};

use crate::error::Error;
use crate::store::db::SCHEMA_VERSION;
pub use url::{PgUrl, Tls, UrlError};

/// PostgreSQL migrations: `(version after, SQL)`, in order. The first takes an empty database
/// straight to the SQLite schema's version 6; each later one shares its SQLite twin's number.
const MIGRATIONS: &[(i64, &str)] = &[(6, include_str!("../schema/pg/v6.sql"))];

/// The advisory lock key that serialises migrations and copies into one database
/// (`integ` in ASCII, so it is recognisable in `pg_locks`).
const MIGRATION_LOCK: i64 = 0x0069_6e74_6567;

/// A PostgreSQL failure, with the URL to show (password masked).
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("{0}")]
    Url(#[from] UrlError),
    #[error("{source}")]
    Tls { source: tls::TlsSetupError },
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String, tls: bool },
    #[error(
        "the PostgreSQL database {url} has schema version {found}, newer than this integ understands ({supported})"
    )]
    TooNew { url: String, found: i64, supported: i64 },
    #[error("the PostgreSQL database {url} is not empty: it has {what}")]
    NotEmpty { url: String, what: String },
    #[error("PostgreSQL error on {url}: {detail}")]
    Query { url: String, detail: String },
}

impl From<PgError> for Error {
    fn from(e: PgError) -> Self {
        let msg = e.to_string();
        match e {
            PgError::Url(u) => Error::config(msg).hint(u.hint()),
            PgError::Tls { .. } => Error::config(msg).hint("sslrootcert= names a PEM file of CA certificates"),
            PgError::Connect { tls: true, .. } => Error::failure(msg).hint(
                "integ requires TLS with a valid certificate for this host; check the server's TLS setup, \
                 give its CA with sslrootcert=FILE, or add sslmode=disable to connect without TLS on purpose",
            ),
            PgError::Connect { ref detail, .. } if detail.contains("password") => Error::failure(msg).hint(
                "integ takes the password from the URL, INTEG_DATABASE_PASSWORD, the secret store \
                 (`integ config set database.password`) or the password file (PGPASSFILE, else ~/.pgpass: \
                 host:port:database:user:password, chmod 600), in that order",
            ),
            PgError::Connect { .. } => {
                Error::failure(msg).hint("check that the server runs and accepts this user and password")
            }
            PgError::TooNew { .. } => Error::config(msg)
                .hint("upgrade integ to the version that migrated this database; nothing was changed"),
            PgError::NotEmpty { .. } => Error::config(msg).hint(
                "copy into a new, empty database (CREATE DATABASE integ_new), or drop what is there first; nothing was written",
            ),
            PgError::Query { .. } => Error::failure(msg).hint("nothing was written: the transaction was rolled back"),
        }
    }
}

/// An open connection, and the URL it came from (for messages).
pub struct Pg {
    pub client: Client,
    pub url: PgUrl,
}

fn detail(url: &PgUrl, e: &tokio_postgres::Error) -> String {
    // The driver's Display already carries its cause ("error connecting to server: ...").
    let text = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    url.scrub(&text)
}

pub fn query_error(url: &PgUrl, e: &tokio_postgres::Error) -> PgError {
    PgError::Query { url: url.shown().to_string(), detail: detail(url, e) }
}

/// Connect. `password` is used when the URL carries none (INTEG_DATABASE_PASSWORD or the
/// secret store). The connection's driver task runs on the current runtime.
pub async fn connect(mut url: PgUrl, password: Option<SecretString>) -> Result<Pg, PgError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&url.host)
        .port(url.port)
        .user(&url.user)
        .dbname(&url.dbname)
        .connect_timeout(url.connect_timeout)
        .application_name(url.application_name.as_deref().unwrap_or("integ"));
    if url.password.is_none() {
        url.password = password;
    }
    if let Some(p) = &url.password {
        config.password(p.expose_secret().as_bytes());
    }
    let (make, tls) = match &url.tls {
        Tls::VerifyFull { root_cert } => {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
            (tls::MakeRustls::new(root_cert.as_deref()).map_err(|source| PgError::Tls { source })?, true)
        }
        Tls::Plain { .. } => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            (tls::MakeRustls::new(None).map_err(|source| PgError::Tls { source })?, false)
        }
    };
    let (client, connection) = match config.connect(make).await {
        Ok(pair) => pair,
        Err(e) => return Err(PgError::Connect { url: url.shown().to_string(), detail: detail(&url, &e), tls }),
    };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("PostgreSQL connection ended: {e}");
        }
    });
    Ok(Pg { client, url })
}

/// The schema version recorded in the database (0: none).
pub async fn schema_version(url: &PgUrl, tx: &impl GenericClient) -> Result<i64, PgError> {
    let exists: bool = tx
        .query_one("SELECT to_regclass('integ_schema_versions') IS NOT NULL", &[])
        .await
        .map_err(|e| query_error(url, &e))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM integ_schema_versions", &[])
        .await
        .map_err(|e| query_error(url, &e))?;
    Ok(row.get(0))
}

/// Serialise against other integ processes migrating or copying into this database, until the
/// transaction ends.
pub async fn lock(url: &PgUrl, tx: &impl GenericClient) -> Result<(), PgError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(|e| query_error(url, &e))?;
    Ok(())
}

/// Bring the schema to this build's version inside `tx`; refuse a newer one. Returns the
/// versions it applied.
pub async fn migrate_in(url: &PgUrl, tx: &impl GenericClient, now: &str) -> Result<Vec<i64>, PgError> {
    lock(url, tx).await?;
    let found = schema_version(url, tx).await?;
    if found > SCHEMA_VERSION {
        return Err(PgError::TooNew { url: url.shown().to_string(), found, supported: SCHEMA_VERSION });
    }
    if found == 0 {
        tx.batch_execute(
            "CREATE TABLE integ_schema_versions (version BIGINT PRIMARY KEY, applied_at TEXT COLLATE \"C\" NOT NULL)",
        )
        .await
        .map_err(|e| query_error(url, &e))?;
    }
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).await.map_err(|e| query_error(url, &e))?;
        tx.execute("INSERT INTO integ_schema_versions (version, applied_at) VALUES ($1, $2)", &[version, &now])
            .await
            .map_err(|e| query_error(url, &e))?;
        applied.push(*version);
    }
    Ok(applied)
}

/// Migrate in a transaction of its own.
pub async fn migrate(pg: &mut Pg, now: &str) -> Result<Vec<i64>, PgError> {
    let url = &pg.url;
    let tx = pg.client.transaction().await.map_err(|e| query_error(url, &e))?;
    let applied = migrate_in(url, &tx, now).await?;
    tx.commit().await.map_err(|e| query_error(url, &e))?;
    Ok(applied)
}
