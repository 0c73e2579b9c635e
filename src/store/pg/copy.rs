//! `integ db copy`: every table of the SQLite database into an empty PostgreSQL database, in
//! one PostgreSQL transaction, so a copy that fails or is stopped leaves nothing behind.
//!
//! Rows stream from one SQLite read transaction (a consistent snapshot, even while a sync
//! writes) into `COPY ... FROM STDIN (FORMAT binary)`: memory stays at one row and the
//! driver's write buffer whatever the table's size. Each value is converted by the column's
//! PostgreSQL type and refused, naming the table and column, when it does not fit (SQLite
//! stores any value in any column). Before the commit, inside the same transaction, every
//! table's row count is compared with the source's, and every table is read back in
//! primary-key order and its SHA-256 compared with the source's (over the same snapshot):
//! a copy that PostgreSQL stored differently (a lost row, a changed value) is not committed.

use std::pin::pin;

use futures_util::TryStreamExt;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{PgError, PgUrl, query_error};

/// Every table, parents before children (PostgreSQL checks foreign keys as rows arrive). A
/// unit test checks this is exactly the set of tables the SQLite schema creates.
pub const TABLES: &[&str] = &[
    "connections",
    "sync_state",
    "sync_runs",
    "clients",
    "jobs",
    "job_line_items",
    "job_visits",
    "job_visit_assignees",
    "calendars",
    "events",
    "alerts",
    "alert_outbox",
    "alert_summaries",
    "push_rules",
    "pushed_events",
];

/// Rows copied and counted, per table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    pub table: String,
    pub source_rows: i64,
    pub target_rows: i64,
    /// SHA-256 of every row in primary-key order, read back from PostgreSQL (equal to the
    /// source's, or the copy is not committed).
    pub sha256: String,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error("cannot read the SQLite database")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the SQLite database and this integ disagree about table {0}")]
    Schema(String),
    #[error("{table}.{column} holds a value PostgreSQL's {ty} cannot take (in the row with rowid {row})")]
    Value { table: String, column: String, ty: &'static str, row: i64 },
    #[error("the row counts differ after the copy: {0}")]
    Count(String),
    #[error("the rows of {0} read back from PostgreSQL differ from SQLite's")]
    Checksum(String),
}

impl From<CopyError> for crate::error::Error {
    fn from(e: CopyError) -> Self {
        match e {
            CopyError::Pg(p) => p.into(),
            CopyError::Sqlite(s) => crate::error::Error::failure("cannot read the SQLite database").cause(s),
            other => crate::error::Error::failure(other.to_string())
                .hint("nothing was written to PostgreSQL; fix the row (or report it) and copy again"),
        }
    }
}

/// A column's PostgreSQL type, as integ's schema uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Text,
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        match data_type {
            "bigint" => Some(Kind::Int),
            "double precision" => Some(Kind::Float),
            "text" => Some(Kind::Text),
            _ => None,
        }
    }
    fn pg_type(self) -> Type {
        match self {
            Kind::Int => Type::INT8,
            Kind::Float => Type::FLOAT8,
            Kind::Text => Type::TEXT,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Int => "bigint",
            Kind::Float => "double precision",
            Kind::Text => "text",
        }
    }
}

/// One value on its way to PostgreSQL.
#[derive(Debug)]
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl ToSql for Cell {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Float(v) => v.to_sql(ty, out),
            Cell::Text(v) => v.to_sql(ty, out),
        }
    }
    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::FLOAT8 | Type::TEXT)
    }
    to_sql_checked!();
}

/// SQLite's value as the column's PostgreSQL type, or `None` when it does not fit.
fn convert(value: ValueRef<'_>, kind: Kind) -> Option<Cell> {
    Some(match (value, kind) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(i), Kind::Int) => Cell::Int(i),
        (ValueRef::Integer(i), Kind::Float) => Cell::Float(i as f64),
        (ValueRef::Real(f), Kind::Float) => Cell::Float(f),
        (ValueRef::Text(t), Kind::Text) => {
            let s = std::str::from_utf8(t).ok()?;
            // PostgreSQL text cannot hold NUL.
            if s.contains('\0') {
                return None;
            }
            Cell::Text(s.to_string())
        }
        _ => return None,
    })
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The tables of the SQLite database (not SQLite's own).
pub fn sqlite_tables(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// The target must hold no table, view or sequence in its schema.
pub async fn check_empty(url: &PgUrl, tx: &Transaction<'_>) -> Result<(), PgError> {
    let rows = tx
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S') ORDER BY 1 LIMIT 4",
            &[],
        )
        .await
        .map_err(|e| query_error(url, &e))?;
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = rows.iter().take(3).map(|r| r.get::<_, String>(0)).collect();
    let more = if rows.len() > 3 { ", ..." } else { "" };
    Err(PgError::NotEmpty { url: url.shown().to_string(), what: format!("tables such as {}{more}", names.join(", ")) })
}

/// Copy every table of `sqlite` (already migrated to this build's schema) into `tx`, whose
/// database has just been migrated. Returns the counts, checked equal.
pub async fn copy_all(
    url: &PgUrl,
    sqlite: &rusqlite::Connection,
    tx: &Transaction<'_>,
    mut progress: impl FnMut(&str, i64),
) -> Result<Vec<Copied>, CopyError> {
    // One read transaction: every table from the same snapshot.
    let snapshot = sqlite.unchecked_transaction()?;
    let mut found = sqlite_tables(&snapshot)?;
    found.sort();
    let mut known: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    known.sort();
    if let Some(extra) = found.iter().find(|t| !known.contains(t)) {
        return Err(CopyError::Schema(extra.clone()));
    }
    if let Some(missing) = known.iter().find(|t| !found.contains(t)) {
        return Err(CopyError::Schema(missing.clone()));
    }
    let mut report = Vec::new();
    for table in TABLES {
        let (rows, columns) = copy_table(url, &snapshot, tx, table).await?;
        progress(table, rows);
        let key = primary_key(&snapshot, table)?;
        let ours = sqlite_digest(&snapshot, table, &columns, &key)?;
        let theirs = pg_digest(url, tx, table, &columns, &key).await?;
        if ours != theirs {
            return Err(CopyError::Checksum(table.to_string()));
        }
        let source_rows: i64 =
            snapshot.query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |r| r.get(0))?;
        let target_rows: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", quote(table)), &[])
            .await
            .map_err(|e| query_error(url, &e))?
            .get(0);
        report.push(Copied { table: table.to_string(), source_rows, target_rows, sha256: ours });
    }
    snapshot.rollback()?;
    let wrong: Vec<String> = report
        .iter()
        .filter(|c| c.source_rows != c.target_rows)
        .map(|c| format!("{} ({} in SQLite, {} in PostgreSQL)", c.table, c.source_rows, c.target_rows))
        .collect();
    if !wrong.is_empty() {
        return Err(CopyError::Count(wrong.join(", ")));
    }
    Ok(report)
}

/// Stream one table; then move its identity sequence past the copied ids, so the next row
/// PostgreSQL numbers itself does not collide.
async fn copy_table(
    url: &PgUrl,
    sqlite: &rusqlite::Connection,
    tx: &Transaction<'_>,
    table: &str,
) -> Result<(i64, Vec<(String, Kind)>), CopyError> {
    let cols = tx
        .query(
            "SELECT column_name::text, data_type::text, is_identity::text = 'YES' FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .map_err(|e| query_error(url, &e))?;
    let mut names = Vec::new();
    let mut kinds = Vec::new();
    let mut identity = None;
    for row in &cols {
        let name: String = row.get(0);
        let ty: String = row.get(1);
        let kind = Kind::of(&ty).ok_or_else(|| CopyError::Schema(format!("{table}.{name} ({ty})")))?;
        if row.get::<_, bool>(2) {
            identity = Some(name.clone());
        }
        names.push(name);
        kinds.push(kind);
    }
    let sqlite_cols: Vec<String> = {
        let mut stmt = sqlite.prepare(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY name"))?;
        stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?
    };
    let mut sorted = names.clone();
    sorted.sort();
    if names.is_empty() || sorted != sqlite_cols {
        return Err(CopyError::Schema(table.to_string()));
    }
    let list = names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(", ");
    let sink = tx
        .copy_in(&format!("COPY {} ({list}) FROM STDIN (FORMAT binary)", quote(table)))
        .await
        .map_err(|e| query_error(url, &e))?;
    let types: Vec<Type> = kinds.iter().map(|k| k.pg_type()).collect();
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    // `rowid` only names a bad row in the message; WITHOUT ROWID tables have none.
    let has_rowid = sqlite.prepare(&format!("SELECT rowid FROM {} LIMIT 0", quote(table))).is_ok();
    let rowid = if has_rowid { "rowid" } else { "0" };
    let mut stmt = sqlite.prepare(&format!("SELECT {list}, {rowid} FROM {}", quote(table)))?;
    let mut rows = stmt.query([])?;
    let mut count = 0i64;
    let mut cells: Vec<Cell> = Vec::with_capacity(names.len());
    while let Some(row) = rows.next()? {
        cells.clear();
        for (i, kind) in kinds.iter().enumerate() {
            let cell = convert(row.get_ref(i)?, *kind).ok_or_else(|| CopyError::Value {
                table: table.to_string(),
                column: names[i].clone(),
                ty: kind.name(),
                row: row.get_ref(names.len()).ok().and_then(|v| v.as_i64().ok()).unwrap_or(0),
            })?;
            cells.push(cell);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        writer.as_mut().write(&refs).await.map_err(|e| query_error(url, &e))?;
        count += 1;
    }
    writer.as_mut().finish().await.map_err(|e| query_error(url, &e))?;
    if let Some(col) = identity {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max({c}) FROM {t}), 0) + 1, false)",
            c = quote(&col),
            t = quote(table)
        );
        tx.execute(&sql, &[&table, &col]).await.map_err(|e| query_error(url, &e))?;
    }
    Ok((count, names.into_iter().zip(kinds).collect()))
}

/// The table's primary-key columns, in key order (SQLite and PostgreSQL both have an index on
/// it, so reading in that order sorts nothing).
fn primary_key(sqlite: &rusqlite::Connection, table: &str) -> Result<Vec<String>, CopyError> {
    let mut stmt =
        sqlite.prepare(&format!("SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"))?;
    let key: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?;
    if key.is_empty() {
        return Err(CopyError::Schema(format!("{table} (no primary key)")));
    }
    Ok(key)
}

/// One value in the digest: a type tag, then the value (text with its length).
fn feed(hash: &mut Sha256, cell: &Cell) {
    match cell {
        Cell::Null => hash.update([0]),
        Cell::Int(v) => {
            hash.update([1]);
            hash.update(v.to_be_bytes());
        }
        Cell::Float(v) => {
            hash.update([2]);
            hash.update(v.to_bits().to_be_bytes());
        }
        Cell::Text(v) => {
            hash.update([3]);
            hash.update((v.len() as u64).to_be_bytes());
            hash.update(v.as_bytes());
        }
    }
}

fn hex(hash: Sha256) -> String {
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the source rows, as converted for PostgreSQL, in primary-key order. SQLite's
/// BINARY collation and PostgreSQL's "C" order text alike, and NULLs come first in both
/// (PostgreSQL is told so).
fn sqlite_digest(
    sqlite: &rusqlite::Connection,
    table: &str,
    columns: &[(String, Kind)],
    key: &[String],
) -> Result<String, CopyError> {
    let list = columns.iter().map(|(n, _)| quote(n)).collect::<Vec<_>>().join(", ");
    let order = key.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ");
    let mut stmt = sqlite.prepare(&format!("SELECT {list} FROM {} ORDER BY {order}", quote(table)))?;
    let mut rows = stmt.query([])?;
    let mut hash = Sha256::new();
    while let Some(row) = rows.next()? {
        for (i, (name, kind)) in columns.iter().enumerate() {
            let cell = convert(row.get_ref(i)?, *kind).ok_or_else(|| CopyError::Value {
                table: table.to_string(),
                column: name.clone(),
                ty: kind.name(),
                row: 0,
            })?;
            feed(&mut hash, &cell);
        }
    }
    Ok(hex(hash))
}

/// The same digest over the rows PostgreSQL now holds, streamed back in the same order.
async fn pg_digest(
    url: &PgUrl,
    tx: &Transaction<'_>,
    table: &str,
    columns: &[(String, Kind)],
    key: &[String],
) -> Result<String, CopyError> {
    let list = columns.iter().map(|(n, _)| quote(n)).collect::<Vec<_>>().join(", ");
    let order = key.iter().map(|k| format!("{} NULLS FIRST", quote(k))).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {list} FROM {} ORDER BY {order}", quote(table));
    let stream =
        tx.query_raw(&sql, std::iter::empty::<&(dyn ToSql + Sync)>()).await.map_err(|e| query_error(url, &e))?;
    let mut stream = pin!(stream);
    let mut hash = Sha256::new();
    while let Some(row) = stream.try_next().await.map_err(|e| query_error(url, &e))? {
        for (i, (_, kind)) in columns.iter().enumerate() {
            let got = match kind {
                Kind::Int => row.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Cell::Null, Cell::Int)),
                Kind::Float => row.try_get::<_, Option<f64>>(i).map(|v| v.map_or(Cell::Null, Cell::Float)),
                Kind::Text => row.try_get::<_, Option<String>>(i).map(|v| v.map_or(Cell::Null, Cell::Text)),
            };
            feed(&mut hash, &got.map_err(|e| query_error(url, &e))?);
        }
    }
    Ok(hex(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_order_names_every_table_of_the_sqlite_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::db::Db::open(&dir.path().join("integ.db")).unwrap();
        let mut found = sqlite_tables(db.sqlite()).unwrap();
        found.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed);
    }

    #[test]
    fn values_convert_by_the_target_type_or_are_refused() {
        assert!(matches!(convert(ValueRef::Integer(7), Kind::Int), Some(Cell::Int(7))));
        assert!(matches!(convert(ValueRef::Integer(2), Kind::Float), Some(Cell::Float(f)) if f == 2.0));
        assert!(matches!(convert(ValueRef::Null, Kind::Text), Some(Cell::Null)));
        assert!(matches!(convert(ValueRef::Text(b"x"), Kind::Text), Some(Cell::Text(s)) if s == "x"));
        assert!(convert(ValueRef::Text(b"12"), Kind::Int).is_none());
        assert!(convert(ValueRef::Real(1.5), Kind::Int).is_none());
        assert!(convert(ValueRef::Text(b"a\0b"), Kind::Text).is_none());
        assert!(convert(ValueRef::Text(&[0xff, 0xfe]), Kind::Text).is_none());
        assert!(convert(ValueRef::Blob(b"x"), Kind::Text).is_none());
    }
}
