//! Writing and reading the Jobber tables (`jobs`, `clients`, `job_line_items`, `job_visits`,
//! `job_visit_assignees`). Every write happens inside the caller's transaction, so a page of
//! rows and the sync cursor that covers them commit together.
//!
//! Writes are the hot path of `sync jobs` (about a dozen rows per job), so a page is written by
//! one [`JobWriter`] holding its prepared statements, the rows borrow from the parsed answer,
//! what is already stored is read for a whole page in one statement, and the child rows are
//! keyed by the job's integer `key`, so a new job's children are appended, not scattered.

use std::collections::HashMap;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, OptionalExtension, Transaction, params, params_from_iter};

use super::db::{Db, DbError, classify};

/// A job row as written (plain values borrowed from the parsed answer).
#[derive(Debug, Clone, Default)]
pub struct JobRow<'a> {
    pub id: &'a str,
    pub job_number: Option<i64>,
    pub title: Option<&'a str>,
    pub status: Option<&'a str>,
    pub job_type: Option<&'a str>,
    pub instructions: Option<&'a str>,
    pub total: Option<f64>,
    pub start_at: Option<&'a str>,
    pub end_at: Option<&'a str>,
    pub completed_at: Option<&'a str>,
    pub created_at: Option<&'a str>,
    pub updated_at: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_name: Option<&'a str>,
    pub property_id: Option<&'a str>,
    pub street1: Option<&'a str>,
    pub street2: Option<&'a str>,
    pub city: Option<&'a str>,
    pub province: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub country: Option<&'a str>,
    pub web_url: Option<&'a str>,
    pub raw_json: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct LineItemRow<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub quantity: Option<f64>,
    pub unit_price: Option<f64>,
    pub total_price: Option<f64>,
    pub taxable: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct VisitRow<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub start_at: Option<&'a str>,
    pub end_at: Option<&'a str>,
    pub completed_at: Option<&'a str>,
    pub is_complete: Option<bool>,
    pub status: Option<&'a str>,
    /// (user id, full name)
    pub assignees: Vec<(&'a str, Option<&'a str>)>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientRow<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub company_name: Option<&'a str>,
    pub is_company: Option<bool>,
    pub is_archived: Option<bool>,
    pub created_at: Option<&'a str>,
    pub updated_at: Option<&'a str>,
    pub web_url: Option<&'a str>,
    pub raw_json: &'a str,
}

pub use super::Written;

/// What is stored of a job, read before a page is written.
#[derive(Debug, Clone)]
pub struct StoredJob {
    pub key: i64,
    pub updated_at: Option<String>,
    pub deleted: bool,
    pub raw_json: String,
}

/// The stored jobs among `ids` (one statement for the whole page), by id.
pub fn stored_jobs(db: &Db, connection_id: i64, ids: &[&str]) -> Result<HashMap<String, StoredJob>, DbError> {
    let list =
        serde_json::to_string(ids).map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
    let mut stmt = db
        .conn()
        .prepare_cached(
            "SELECT j.id, j.key, j.updated_at, j.deleted_at IS NOT NULL, j.raw_json
             FROM jobs j WHERE j.connection_id = ?1 AND j.id IN (SELECT value FROM json_each(?2))",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map(params![connection_id, list], |r| {
            Ok((
                r.get::<_, String>(0)?,
                StoredJob { key: r.get(1)?, updated_at: r.get(2)?, deleted: r.get(3)?, raw_json: r.get(4)? },
            ))
        })
        .map_err(classify)?;
    rows.collect::<rusqlite::Result<HashMap<_, _>>>().map_err(classify)
}

/// Writes the jobs of a transaction, with its statements prepared once. Child rows are bound
/// into multi-row INSERTs ([`Batched`]) across jobs; [`JobWriter::finish`] writes the rest and
/// must be called before the transaction commits.
pub struct JobWriter<'t, 'a> {
    cid: i64,
    now: &'t str,
    sweep: i64,
    insert: CachedStatement<'t>,
    update: CachedStatement<'t>,
    touch: CachedStatement<'t>,
    items: Batched<'t, 'a>,
    visits: Batched<'t, 'a>,
    crews: Batched<'t, 'a>,
    /// `DELETE FROM <child table> WHERE job_key = ?1`, one per table of [`CHILD_TABLES`].
    clear: Vec<CachedStatement<'t>>,
    tx: &'t Transaction<'t>,
}

/// Rows per multi-row INSERT: one statement step does the work of this many, which saves the
/// per-statement cost (cursor opening, reset, halt) that dominated single-row inserts.
const BATCH_ROWS: usize = 32;

/// The rows of one child table, buffered as values borrowed from the answer and written
/// `BATCH_ROWS` at a time.
struct Batched<'t, 'a> {
    tx: &'t Transaction<'t>,
    /// `INSERT OR REPLACE INTO table (columns) VALUES`, without the tuples.
    head: &'static str,
    columns: usize,
    full: CachedStatement<'t>,
    values: Vec<ValueRef<'a>>,
}

impl<'t, 'a> Batched<'t, 'a> {
    fn new(tx: &'t Transaction<'t>, head: &'static str, columns: usize) -> Result<Batched<'t, 'a>, DbError> {
        let full = tx.prepare_cached(&Self::sql(head, columns, BATCH_ROWS)).map_err(classify)?;
        Ok(Batched { tx, head, columns, full, values: Vec::with_capacity(columns * BATCH_ROWS) })
    }

    fn sql(head: &str, columns: usize, rows: usize) -> String {
        let tuple = format!("({})", vec!["?"; columns].join(", "));
        format!("{head} {}", vec![tuple; rows].join(", "))
    }

    fn push(&mut self, row: &[ValueRef<'a>]) -> Result<(), DbError> {
        debug_assert_eq!(row.len(), self.columns);
        self.values.extend_from_slice(row);
        if self.values.len() == self.columns * BATCH_ROWS {
            Self::run(&mut self.full, &self.values)?;
            self.values.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DbError> {
        if !self.values.is_empty() {
            let rows = self.values.len() / self.columns;
            let mut stmt = self.tx.prepare_cached(&Self::sql(self.head, self.columns, rows)).map_err(classify)?;
            Self::run(&mut stmt, &self.values)?;
            self.values.clear();
        }
        Ok(())
    }

    fn run(stmt: &mut rusqlite::Statement<'_>, values: &[ValueRef<'a>]) -> Result<(), DbError> {
        for (i, v) in values.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, ToSqlOutput::Borrowed(*v)).map_err(classify)?;
        }
        stmt.raw_execute().map_err(classify)?;
        Ok(())
    }
}

fn text(s: &str) -> ValueRef<'_> {
    ValueRef::Text(s.as_bytes())
}

fn opt_text(s: Option<&str>) -> ValueRef<'_> {
    s.map_or(ValueRef::Null, text)
}

fn opt_real(f: Option<f64>) -> ValueRef<'static> {
    f.map_or(ValueRef::Null, ValueRef::Real)
}

fn opt_bool(b: Option<bool>) -> ValueRef<'static> {
    b.map_or(ValueRef::Null, |b| ValueRef::Integer(b as i64))
}

/// The parameters of the job statements: `?1` (the key to update, or the connection of an
/// insert), `?2` the job's id, `?3`..`?24` its columns, `?25` now and `?26` the sweep.
fn job_params<'p>(first: i64, j: &'p JobRow<'p>, now: &'p str, sweep: i64) -> [ToSqlOutput<'p>; 26] {
    let int = |i: Option<i64>| ToSqlOutput::Borrowed(i.map_or(ValueRef::Null, ValueRef::Integer));
    let t = |s: Option<&'p str>| ToSqlOutput::Borrowed(opt_text(s));
    [
        ToSqlOutput::Borrowed(ValueRef::Integer(first)),
        t(Some(j.id)),
        int(j.job_number),
        t(j.title),
        t(j.status),
        t(j.job_type),
        t(j.instructions),
        ToSqlOutput::Borrowed(opt_real(j.total)),
        t(j.start_at),
        t(j.end_at),
        t(j.completed_at),
        t(j.created_at),
        t(j.updated_at),
        t(j.client_id),
        t(j.client_name),
        t(j.property_id),
        t(j.street1),
        t(j.street2),
        t(j.city),
        t(j.province),
        t(j.postal_code),
        t(j.country),
        t(j.web_url),
        t(Some(j.raw_json)),
        t(Some(now)),
        ToSqlOutput::Borrowed(ValueRef::Integer(sweep)),
    ]
}

const JOB_VALUES: &str = "job_number = ?3, title = ?4, status = ?5, job_type = ?6, instructions = ?7, total = ?8,
    start_at = ?9, end_at = ?10, completed_at = ?11, created_at = ?12, updated_at = ?13, client_id = ?14,
    client_name = ?15, property_id = ?16, street1 = ?17, street2 = ?18, city = ?19, province = ?20,
    postal_code = ?21, country = ?22, web_url = ?23, raw_json = ?24";

impl<'t, 'a> JobWriter<'t, 'a> {
    /// `sweep` > 0 records that this full sweep saw the jobs written.
    pub fn new(tx: &'t Transaction<'t>, cid: i64, now: &'t str, sweep: i64) -> Result<JobWriter<'t, 'a>, DbError> {
        let prep = |sql: &str| tx.prepare_cached(sql).map_err(classify);
        Ok(JobWriter {
            cid,
            now,
            sweep,
            insert: prep(
                "INSERT INTO jobs (connection_id, id, job_number, title, status, job_type, instructions, total,
                    start_at, end_at, completed_at, created_at, updated_at, client_id, client_name, property_id,
                    street1, street2, city, province, postal_code, country, web_url, raw_json, first_seen_at,
                    last_seen_at, sweep)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                    ?21, ?22, ?23, ?24, ?25, ?25, ?26)",
            )?,
            update: prep(&format!(
                "UPDATE jobs SET {JOB_VALUES}, last_seen_at = ?25, deleted_at = NULL, sweep = max(sweep, ?26)
                 WHERE key = ?1 AND id = ?2"
            ))?,
            touch: prep("UPDATE jobs SET last_seen_at = ?2, sweep = max(sweep, ?3) WHERE key = ?1")?,
            items: Batched::new(
                tx,
                "INSERT OR REPLACE INTO job_line_items (job_key, id, connection_id, position, name,
                    description, quantity, unit_price, total_price, taxable) VALUES",
                10,
            )?,
            visits: Batched::new(
                tx,
                "INSERT OR REPLACE INTO job_visits (job_key, id, connection_id, title, start_at, end_at,
                    completed_at, is_complete, status) VALUES",
                9,
            )?,
            crews: Batched::new(
                tx,
                "INSERT OR REPLACE INTO job_visit_assignees (job_key, visit_id, user_id, connection_id, user_name)
                    VALUES",
                5,
            )?,
            clear: CHILD_TABLES
                .iter()
                .map(|t| prep(&format!("DELETE FROM {t} WHERE job_key = ?1")))
                .collect::<Result<_, _>>()?,
            tx,
        })
    }

    /// Insert or update one job; `stored` is what [`stored_jobs`] found for it. Returns what
    /// was done and the job's key.
    pub fn job(&mut self, j: &JobRow<'_>, stored: Option<&StoredJob>) -> Result<(Written, i64), DbError> {
        if let Some(s) = stored {
            if !s.deleted && s.raw_json == j.raw_json {
                let n = self.touch.execute(params![s.key, self.now, self.sweep]).map_err(classify)?;
                if n == 1 {
                    return Ok((Written::Unchanged, s.key));
                }
            } else {
                let n = self
                    .update
                    .execute(params_from_iter(job_params(s.key, j, self.now, self.sweep)))
                    .map_err(classify)?;
                if n == 1 {
                    return Ok((Written::Updated, s.key));
                }
            }
            // The row went away since it was read (only a purge can do that): insert it anew.
        }
        self.insert.execute(params_from_iter(job_params(self.cid, j, self.now, self.sweep))).map_err(classify)?;
        Ok((Written::Inserted, self.tx.last_insert_rowid()))
    }

    /// Replace a job's line items and visits (with their crews) by what Jobber returned. `fresh`
    /// says the job was just inserted, so it has nothing to delete. The new rows are written by
    /// the time [`JobWriter::finish`] returns.
    pub fn details(
        &mut self,
        key: i64,
        fresh: bool,
        items: &[LineItemRow<'a>],
        visits: &[VisitRow<'a>],
    ) -> Result<(), DbError> {
        if !fresh {
            for stmt in &mut self.clear {
                stmt.execute([key]).map_err(classify)?;
            }
        }
        let (key, cid) = (ValueRef::Integer(key), ValueRef::Integer(self.cid));
        for (pos, i) in items.iter().enumerate() {
            self.items.push(&[
                key,
                text(i.id),
                cid,
                ValueRef::Integer(pos as i64),
                opt_text(i.name),
                opt_text(i.description),
                opt_real(i.quantity),
                opt_real(i.unit_price),
                opt_real(i.total_price),
                opt_bool(i.taxable),
            ])?;
        }
        for v in visits {
            self.visits.push(&[
                key,
                text(v.id),
                cid,
                opt_text(v.title),
                opt_text(v.start_at),
                opt_text(v.end_at),
                opt_text(v.completed_at),
                opt_bool(v.is_complete),
                opt_text(v.status),
            ])?;
            for (uid, name) in &v.assignees {
                self.crews.push(&[key, text(v.id), text(uid), cid, opt_text(*name)])?;
            }
        }
        Ok(())
    }

    /// Write the child rows still buffered. Call before committing.
    pub fn finish(mut self) -> Result<(), DbError> {
        self.items.flush()?;
        self.visits.flush()?;
        self.crews.flush()
    }
}

/// The tables of a job's line items, visits and crews.
const CHILD_TABLES: [&str; 3] = ["job_line_items", "job_visits", "job_visit_assignees"];

/// Delete the line items, visits and crews matching `filter` (the child tables have no foreign
/// keys, so this is how they go with their job or account).
pub fn delete_details(tx: &Transaction<'_>, filter: &str, args: impl rusqlite::Params + Copy) -> Result<(), DbError> {
    for table in CHILD_TABLES {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE {filter}"))
            .map_err(classify)?
            .execute(args)
            .map_err(classify)?;
    }
    Ok(())
}

/// Live jobs of the connection that sweep `sweep` has not seen (yet).
pub fn unswept(db: &Db, cid: i64, sweep: i64) -> Result<Vec<String>, DbError> {
    let mut stmt = db
        .conn()
        .prepare_cached("SELECT id FROM jobs WHERE connection_id = ?1 AND deleted_at IS NULL AND sweep < ?2")
        .map_err(classify)?;
    let rows = stmt.query_map(params![cid, sweep], |r| r.get(0)).map_err(classify)?;
    rows.collect::<rusqlite::Result<Vec<String>>>().map_err(classify)
}

/// Record that sweep `sweep` found the jobs `ids` (checked one by one, off its pages).
pub fn mark_swept(tx: &Transaction<'_>, cid: i64, ids: &[String], sweep: i64) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let list =
        serde_json::to_string(ids).map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
    tx.execute(
        "UPDATE jobs SET sweep = max(sweep, ?3) WHERE connection_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
        params![cid, list, sweep],
    )
    .map_err(classify)?;
    Ok(())
}

/// Mark as deleted every live job of the connection that the completed sweep `sweep` did not
/// see. Only ever called in the transaction that completes a full sweep.
pub fn mark_unswept_deleted(tx: &Transaction<'_>, cid: i64, sweep: i64, now: &str) -> Result<u64, DbError> {
    tx.execute(
        "UPDATE jobs SET deleted_at = ?3 WHERE connection_id = ?1 AND deleted_at IS NULL AND sweep < ?2",
        params![cid, sweep, now],
    )
    .map(|n| n as u64)
    .map_err(classify)
}

pub fn upsert_client(tx: &Transaction<'_>, cid: i64, c: &ClientRow<'_>, now: &str) -> Result<Written, DbError> {
    let existing: Option<String> = tx
        .prepare_cached("SELECT raw_json FROM clients WHERE connection_id = ?1 AND id = ?2")
        .map_err(classify)?
        .query_row(params![cid, c.id], |r| r.get(0))
        .optional()
        .map_err(classify)?;
    let written = match &existing {
        None => Written::Inserted,
        Some(raw) if *raw == c.raw_json => Written::Unchanged,
        Some(_) => Written::Updated,
    };
    tx.prepare_cached(
        "INSERT INTO clients (connection_id, id, name, company_name, is_company, is_archived, created_at, updated_at,
            web_url, raw_json, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT (connection_id, id) DO UPDATE SET name = excluded.name, company_name = excluded.company_name,
            is_company = excluded.is_company, is_archived = excluded.is_archived, created_at = excluded.created_at,
            updated_at = excluded.updated_at, web_url = excluded.web_url, raw_json = excluded.raw_json,
            last_seen_at = excluded.last_seen_at",
    )
    .map_err(classify)?
    .execute(params![
        cid,
        c.id,
        c.name,
        c.company_name,
        c.is_company,
        c.is_archived,
        c.created_at,
        c.updated_at,
        c.web_url,
        c.raw_json,
        now
    ])
    .map_err(classify)?;
    Ok(written)
}

/// A job for `jobs list` / `jobs show`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobView {
    pub account: String,
    pub id: String,
    pub job_number: Option<i64>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub job_type: Option<String>,
    pub total: Option<f64>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub completed_at: Option<String>,
    pub updated_at: Option<String>,
    pub client_name: Option<String>,
    pub city: Option<String>,
    pub web_url: Option<String>,
    pub deleted_at: Option<String>,
}

const VIEW_COLUMNS: &str = "c.label, j.id, j.job_number, j.title, j.status, j.job_type, j.total, j.start_at, j.end_at,
    j.completed_at, j.updated_at, j.client_name, j.city, j.web_url, j.deleted_at";

fn view(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobView> {
    Ok(JobView {
        account: r.get(0)?,
        id: r.get(1)?,
        job_number: r.get(2)?,
        title: r.get(3)?,
        status: r.get(4)?,
        job_type: r.get(5)?,
        total: r.get(6)?,
        start_at: r.get(7)?,
        end_at: r.get(8)?,
        completed_at: r.get(9)?,
        updated_at: r.get(10)?,
        client_name: r.get(11)?,
        city: r.get(12)?,
        web_url: r.get(13)?,
        deleted_at: r.get(14)?,
    })
}

/// Jobs not deleted, newest change first, filtered by status and a date on or after which the
/// job starts or was changed.
pub fn list(
    db: &Db,
    connection: Option<i64>,
    status: Option<&str>,
    since: Option<&str>,
) -> Result<Vec<JobView>, DbError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM jobs j JOIN connections c ON c.id = j.connection_id
         WHERE j.deleted_at IS NULL AND (?1 IS NULL OR j.connection_id = ?1) AND (?2 IS NULL OR j.status = ?2)
           AND (?3 IS NULL OR coalesce(j.start_at, j.updated_at) >= ?3 OR j.updated_at >= ?3)
         ORDER BY j.updated_at DESC, j.id"
    );
    let mut stmt = db.conn().prepare(&sql).map_err(classify)?;
    let rows = stmt.query_map(params![connection, status, since], view).map_err(classify)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(classify)
}

/// One job by id or job number, with its line items, visits and crews.
pub fn show(db: &Db, connection: Option<i64>, key: &str) -> Result<Option<(JobView, serde_json::Value)>, DbError> {
    let number: Option<i64> = key.trim_start_matches('#').parse().ok();
    let sql = format!(
        "SELECT {VIEW_COLUMNS}, j.key, j.instructions, j.street1, j.street2, j.province, j.postal_code, j.country
         FROM jobs j JOIN connections c ON c.id = j.connection_id
         WHERE (?1 IS NULL OR j.connection_id = ?1) AND (j.id = ?2 OR j.job_number = ?3)
         ORDER BY j.deleted_at IS NOT NULL, j.updated_at DESC LIMIT 1"
    );
    let found = db
        .conn()
        .query_row(&sql, params![connection, key, number], |r| {
            let v = view(r)?;
            let job_key: i64 = r.get(15)?;
            let extra = serde_json::json!({
                "instructions": r.get::<_, Option<String>>(16)?,
                "street1": r.get::<_, Option<String>>(17)?,
                "street2": r.get::<_, Option<String>>(18)?,
                "province": r.get::<_, Option<String>>(19)?,
                "postal_code": r.get::<_, Option<String>>(20)?,
                "country": r.get::<_, Option<String>>(21)?,
            });
            Ok((v, job_key, extra))
        })
        .optional()
        .map_err(classify)?;
    let Some((job, job_key, mut extra)) = found else {
        return Ok(None);
    };
    let mut items = Vec::new();
    let mut stmt = db
        .conn()
        .prepare(
            "SELECT id, name, description, quantity, unit_price, total_price FROM job_line_items
             WHERE job_key = ?1 ORDER BY position",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map(params![job_key], |r| {
            Ok(serde_json::json!({
                "id": r.get::<_, String>(0)?, "name": r.get::<_, Option<String>>(1)?,
                "description": r.get::<_, Option<String>>(2)?, "quantity": r.get::<_, Option<f64>>(3)?,
                "unit_price": r.get::<_, Option<f64>>(4)?, "total_price": r.get::<_, Option<f64>>(5)?,
            }))
        })
        .map_err(classify)?;
    for row in rows {
        items.push(row.map_err(classify)?);
    }
    let mut visits = Vec::new();
    let mut stmt = db
        .conn()
        .prepare(
            "SELECT v.id, v.title, v.start_at, v.end_at, v.completed_at, v.status,
                    (SELECT group_concat(coalesce(a.user_name, a.user_id), ', ') FROM job_visit_assignees a
                     WHERE a.job_key = v.job_key AND a.visit_id = v.id)
             FROM job_visits v WHERE v.job_key = ?1 ORDER BY v.start_at, v.id",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map(params![job_key], |r| {
            Ok(serde_json::json!({
                "id": r.get::<_, String>(0)?, "title": r.get::<_, Option<String>>(1)?,
                "start_at": r.get::<_, Option<String>>(2)?, "end_at": r.get::<_, Option<String>>(3)?,
                "completed_at": r.get::<_, Option<String>>(4)?, "status": r.get::<_, Option<String>>(5)?,
                "crew": r.get::<_, Option<String>>(6)?,
            }))
        })
        .map_err(classify)?;
    for row in rows {
        visits.push(row.map_err(classify)?);
    }
    extra["line_items"] = serde_json::Value::Array(items);
    extra["visits"] = serde_json::Value::Array(visits);
    Ok(Some((job, extra)))
}
