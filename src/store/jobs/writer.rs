//! Putting a page of Jobber rows in: jobs with their line items, visits and crews, and clients.
//!
//! Writes are the hot path of `sync jobs` (about a dozen rows per job), so a page is written by
//! one [`JobWriter`] holding its prepared statements, the rows borrow from the parsed answer,
//! what is already stored is read for a whole page in one statement, and the child rows are
//! keyed by the job's integer `key`, so a new job's children are appended, not scattered.

use std::collections::HashMap;

use crate::store::db::{Db, DbError};
use crate::store::sql::{Conn, Dialect, Param, params};

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

pub use crate::store::Written;

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
    let list = serde_json::to_string(ids).map_err(|e| DbError::Value { column: 2, reason: e.to_string() })?;
    let conn = db.conn();
    let sql = format!(
        "SELECT j.id, j.key, j.updated_at, j.deleted_at IS NOT NULL, j.raw_json
         FROM jobs j WHERE j.connection_id = ?1 AND j.id IN ({})",
        conn.dialect().json_strings(2)
    );
    let rows = conn.query_map(&sql, params![connection_id, list], |r| {
        Ok((
            r.get::<String>(0)?,
            StoredJob { key: r.get(1)?, updated_at: r.get(2)?, deleted: r.get(3)?, raw_json: r.get(4)? },
        ))
    })?;
    Ok(rows.into_iter().collect())
}

/// Writes the jobs of a transaction. Child rows are bound into multi-row INSERTs
/// ([`Batched`]) across jobs; [`JobWriter::finish`] writes the rest and must be called before
/// the transaction commits.
pub struct JobWriter<'t, 'a> {
    cid: i64,
    now: &'t str,
    sweep: i64,
    update: String,
    touch: String,
    items: Batched<'t, 'a>,
    visits: Batched<'t, 'a>,
    crews: Batched<'t, 'a>,
    tx: &'t Conn<'t>,
}

/// Rows per multi-row INSERT: one statement step does the work of this many, which saves the
/// per-statement cost (cursor opening, reset, halt) that dominated single-row inserts.
const BATCH_ROWS: usize = 32;

/// The rows of one child table, buffered as values borrowed from the answer and written
/// `BATCH_ROWS` at a time. The later of two rows with one key wins, as it would one by one.
struct Batched<'t, 'a> {
    tx: &'t Conn<'t>,
    /// `INSERT INTO table (columns) VALUES`, without the tuples.
    head: &'static str,
    /// `ON CONFLICT (key) DO UPDATE SET ...`: the upsert of each row.
    tail: String,
    columns: usize,
    /// How many leading columns are the primary key.
    key: usize,
    /// Whether a row whose key is already buffered must flush first: PostgreSQL refuses one
    /// statement that upserts a row twice; SQLite applies the rows in order (the later wins).
    dedupe: bool,
    full: String,
    values: Vec<Param<'a>>,
}

impl<'t, 'a> Batched<'t, 'a> {
    fn new(tx: &'t Conn<'t>, head: &'static str, names: &[&str], key: usize) -> Batched<'t, 'a> {
        let tail = format!(
            "ON CONFLICT ({}) DO UPDATE SET {}",
            names[..key].join(", "),
            names[key..].iter().map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ")
        );
        let full = Self::sql(head, names.len(), BATCH_ROWS, &tail);
        Batched {
            tx,
            head,
            tail,
            columns: names.len(),
            key,
            dedupe: tx.dialect() == Dialect::Postgres,
            full,
            values: Vec::with_capacity(names.len() * BATCH_ROWS),
        }
    }

    fn sql(head: &str, columns: usize, rows: usize, tail: &str) -> String {
        let mut n = 0;
        let tuples: Vec<String> = (0..rows)
            .map(|_| {
                let marks: Vec<String> = (0..columns)
                    .map(|_| {
                        n += 1;
                        format!("?{n}")
                    })
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        format!("{head} {} {tail}", tuples.join(", "))
    }

    fn push(&mut self, row: &[Param<'a>]) -> Result<(), DbError> {
        debug_assert_eq!(row.len(), self.columns);
        let key = &row[..self.key];
        if self.dedupe && self.values.chunks(self.columns).any(|r| &r[..self.key] == key) {
            self.flush()?;
        }
        self.values.extend_from_slice(row);
        if self.values.len() == self.columns * BATCH_ROWS {
            self.tx.execute(&self.full, &self.values)?;
            self.values.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DbError> {
        if !self.values.is_empty() {
            let rows = self.values.len() / self.columns;
            self.tx.execute(&Self::sql(self.head, self.columns, rows, &self.tail), &self.values)?;
            self.values.clear();
        }
        Ok(())
    }
}

fn text(s: &str) -> Param<'_> {
    Param::Text(s)
}

fn opt_text(s: Option<&str>) -> Param<'_> {
    s.map_or(Param::Null, text)
}

fn opt_real(f: Option<f64>) -> Param<'static> {
    f.map_or(Param::Null, Param::Real)
}

fn opt_bool(b: Option<bool>) -> Param<'static> {
    b.map_or(Param::Null, |b| Param::Int(b as i64))
}

/// The parameters of the job statements: `?1` (the key to update, or the connection of an
/// insert), `?2` the job's id, `?3`..`?24` its columns, `?25` now and `?26` the sweep.
fn job_params<'p>(first: i64, j: &'p JobRow<'p>, now: &'p str, sweep: i64) -> [Param<'p>; 26] {
    let int = |i: Option<i64>| i.map_or(Param::Null, Param::Int);
    [
        Param::Int(first),
        text(j.id),
        int(j.job_number),
        opt_text(j.title),
        opt_text(j.status),
        opt_text(j.job_type),
        opt_text(j.instructions),
        opt_real(j.total),
        opt_text(j.start_at),
        opt_text(j.end_at),
        opt_text(j.completed_at),
        opt_text(j.created_at),
        opt_text(j.updated_at),
        opt_text(j.client_id),
        opt_text(j.client_name),
        opt_text(j.property_id),
        opt_text(j.street1),
        opt_text(j.street2),
        opt_text(j.city),
        opt_text(j.province),
        opt_text(j.postal_code),
        opt_text(j.country),
        opt_text(j.web_url),
        text(j.raw_json),
        text(now),
        Param::Int(sweep),
    ]
}

const JOB_VALUES: &str = "job_number = ?3, title = ?4, status = ?5, job_type = ?6, instructions = ?7, total = ?8,
    start_at = ?9, end_at = ?10, completed_at = ?11, created_at = ?12, updated_at = ?13, client_id = ?14,
    client_name = ?15, property_id = ?16, street1 = ?17, street2 = ?18, city = ?19, province = ?20,
    postal_code = ?21, country = ?22, web_url = ?23, raw_json = ?24";

const INSERT_JOB: &str =
    "INSERT INTO jobs (connection_id, id, job_number, title, status, job_type, instructions, total,
    start_at, end_at, completed_at, created_at, updated_at, client_id, client_name, property_id,
    street1, street2, city, province, postal_code, country, web_url, raw_json, first_seen_at,
    last_seen_at, sweep)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
    ?21, ?22, ?23, ?24, ?25, ?25, ?26)";

impl<'t, 'a> JobWriter<'t, 'a> {
    /// `sweep` > 0 records that this full sweep saw the jobs written.
    pub fn new(tx: &'t Conn<'t>, cid: i64, now: &'t str, sweep: i64) -> Result<JobWriter<'t, 'a>, DbError> {
        let d = tx.dialect();
        Ok(JobWriter {
            cid,
            now,
            sweep,
            update: format!(
                "UPDATE jobs SET {JOB_VALUES}, last_seen_at = ?25, deleted_at = NULL, sweep = {}
                 WHERE key = ?1 AND id = ?2",
                d.greatest("sweep", "?26")
            ),
            touch: format!("UPDATE jobs SET last_seen_at = ?2, sweep = {} WHERE key = ?1", d.greatest("sweep", "?3")),
            items: Batched::new(
                tx,
                "INSERT INTO job_line_items (job_key, id, connection_id, position, name,
                    description, quantity, unit_price, total_price, taxable) VALUES",
                &[
                    "job_key",
                    "id",
                    "connection_id",
                    "position",
                    "name",
                    "description",
                    "quantity",
                    "unit_price",
                    "total_price",
                    "taxable",
                ],
                2,
            ),
            visits: Batched::new(
                tx,
                "INSERT INTO job_visits (job_key, id, connection_id, title, start_at, end_at,
                    completed_at, is_complete, status) VALUES",
                &[
                    "job_key",
                    "id",
                    "connection_id",
                    "title",
                    "start_at",
                    "end_at",
                    "completed_at",
                    "is_complete",
                    "status",
                ],
                2,
            ),
            crews: Batched::new(
                tx,
                "INSERT INTO job_visit_assignees (job_key, visit_id, user_id, connection_id, user_name) VALUES",
                &["job_key", "visit_id", "user_id", "connection_id", "user_name"],
                3,
            ),
            tx,
        })
    }

    /// Insert or update one job; `stored` is what [`stored_jobs`] found for it. Returns what
    /// was done and the job's key.
    pub fn job(&mut self, j: &JobRow<'_>, stored: Option<&StoredJob>) -> Result<(Written, i64), DbError> {
        if let Some(s) = stored {
            if !s.deleted && s.raw_json == j.raw_json {
                let n = self.tx.execute(&self.touch, params![s.key, self.now, self.sweep])?;
                if n == 1 {
                    return Ok((Written::Unchanged, s.key));
                }
            } else {
                let n = self.tx.execute(&self.update, &job_params(s.key, j, self.now, self.sweep))?;
                if n == 1 {
                    return Ok((Written::Updated, s.key));
                }
            }
            // The row went away since it was read (only a purge can do that): insert it anew.
        }
        let key = self.tx.insert_id(INSERT_JOB, &job_params(self.cid, j, self.now, self.sweep), "key")?;
        Ok((Written::Inserted, key))
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
            // Rows of this job still buffered (a page that lists it twice) must go first, or
            // the delete would miss them.
            let k = Param::Int(key);
            for b in [&mut self.items, &mut self.visits, &mut self.crews] {
                if b.values.chunks(b.columns).any(|r| r[0] == k) {
                    b.flush()?;
                }
            }
            delete_details(self.tx, "job_key = ?1", params![key])?;
        }
        let (key, cid) = (Param::Int(key), Param::Int(self.cid));
        for (pos, i) in items.iter().enumerate() {
            self.items.push(&[
                key,
                text(i.id),
                cid,
                Param::Int(pos as i64),
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
pub fn delete_details(tx: &Conn<'_>, filter: &str, args: &[Param<'_>]) -> Result<(), DbError> {
    for table in CHILD_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE {filter}"), args)?;
    }
    Ok(())
}

pub fn upsert_client(tx: &Conn<'_>, cid: i64, c: &ClientRow<'_>, now: &str) -> Result<Written, DbError> {
    let existing: Option<String> =
        tx.query_opt("SELECT raw_json FROM clients WHERE connection_id = ?1 AND id = ?2", params![cid, c.id], |r| {
            r.get(0)
        })?;
    let written = match &existing {
        None => Written::Inserted,
        Some(raw) if *raw == c.raw_json => Written::Unchanged,
        Some(_) => Written::Updated,
    };
    tx.execute(
        "INSERT INTO clients (connection_id, id, name, company_name, is_company, is_archived, created_at, updated_at,
            web_url, raw_json, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT (connection_id, id) DO UPDATE SET name = excluded.name, company_name = excluded.company_name,
            is_company = excluded.is_company, is_archived = excluded.is_archived, created_at = excluded.created_at,
            updated_at = excluded.updated_at, web_url = excluded.web_url, raw_json = excluded.raw_json,
            last_seen_at = excluded.last_seen_at",
        params![
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
        ],
    )?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{CID, db, deleted_at, job, write};
    use super::*;

    fn count(db: &Db, table: &str) -> i64 {
        db.sqlite().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect("count")
    }

    #[test]
    fn a_job_is_inserted_then_left_alone_then_updated_under_one_key() {
        let (_dir, mut db) = db();
        let [(w, key)] = write(&mut db, &[job("J1", 1, "v1")], "t1", 0)[..] else { panic!("one job") };
        assert_eq!(w, Written::Inserted);
        assert_eq!(write(&mut db, &[job("J1", 1, "v1")], "t2", 0), [(Written::Unchanged, key)]);
        assert_eq!(write(&mut db, &[job("J1", 1, "v2")], "t3", 0), [(Written::Updated, key)]);
        let stored = stored_jobs(&db, CID, &["J1", "J9"]).expect("stored");
        assert_eq!(stored.len(), 1);
        let s = &stored["J1"];
        assert_eq!((s.key, s.raw_json.as_str(), s.updated_at.as_deref(), s.deleted), (key, "v2", Some("v2"), false));
        let seen: (String, String) = db
            .sqlite()
            .query_row("SELECT first_seen_at, last_seen_at FROM jobs WHERE key = ?1", [key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("row");
        assert_eq!(seen, ("t1".to_owned(), "t3".to_owned()));
    }

    #[test]
    fn a_deleted_job_that_comes_back_is_updated_and_live_again() {
        let (_dir, mut db) = db();
        let [(_, key)] = write(&mut db, &[job("J1", 1, "v1")], "t1", 0)[..] else { panic!("one job") };
        db.sqlite().execute("UPDATE jobs SET deleted_at = 'gone' WHERE key = ?1", [key]).expect("delete");
        assert!(stored_jobs(&db, CID, &["J1"]).expect("stored")["J1"].deleted);
        // Even with the same answer: the row must lose its deleted mark.
        assert_eq!(write(&mut db, &[job("J1", 1, "v1")], "t2", 0), [(Written::Updated, key)]);
        assert_eq!(deleted_at(&db, "J1"), None);
    }

    #[test]
    fn details_are_written_past_one_batch_then_replaced() {
        let (_dir, mut db) = db();
        let ids: Vec<String> = (0..BATCH_ROWS + 5).map(|i| format!("L{i}")).collect();
        let items: Vec<LineItemRow<'_>> =
            ids.iter().map(|id| LineItemRow { id, quantity: Some(1.5), ..LineItemRow::default() }).collect();
        let visits = [VisitRow { id: "V1", assignees: vec![("U1", Some("Ann")), ("U2", None)], ..VisitRow::default() }];
        let key = db
            .write(|tx| {
                let mut writer = JobWriter::new(tx, CID, "t1", 0)?;
                let (_, key) = writer.job(&job("J1", 1, "v1"), None)?;
                writer.details(key, true, &items, &visits)?;
                writer.finish()?;
                Ok::<_, DbError>(key)
            })
            .expect("write");
        let per_table =
            |db: &Db| (count(db, "job_line_items"), count(db, "job_visits"), count(db, "job_visit_assignees"));
        assert_eq!(per_table(&db), (BATCH_ROWS as i64 + 5, 1, 2));
        let positions: Vec<i64> = {
            let mut stmt = db.sqlite().prepare("SELECT position FROM job_line_items ORDER BY id").expect("sql");
            let mut p: Vec<i64> =
                stmt.query_map([], |r| r.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
            p.sort_unstable();
            p
        };
        assert_eq!(positions, (0..BATCH_ROWS as i64 + 5).collect::<Vec<_>>());

        // Written again (not fresh): what Jobber returns now replaces what was there.
        db.write(|tx| {
            let mut writer = JobWriter::new(tx, CID, "t2", 0)?;
            writer.details(key, false, &items[..1], &[])?;
            writer.finish()
        })
        .expect("replace");
        assert_eq!(per_table(&db), (1, 0, 0));
    }

    #[test]
    fn a_line_item_listed_twice_is_one_row_and_the_later_wins() {
        let (_dir, mut db) = db();
        let items = [
            LineItemRow { id: "L1", name: Some("first"), ..LineItemRow::default() },
            LineItemRow { id: "L2", ..LineItemRow::default() },
            LineItemRow { id: "L1", name: Some("second"), ..LineItemRow::default() },
        ];
        db.write(|tx| {
            let mut writer = JobWriter::new(tx, CID, "t1", 0)?;
            let (_, key) = writer.job(&job("J1", 1, "v1"), None)?;
            writer.details(key, true, &items, &[])?;
            writer.finish()
        })
        .expect("write");
        let names: Vec<(String, Option<String>)> = db
            .sqlite()
            .prepare("SELECT id, name FROM job_line_items ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(names, [("L1".to_string(), Some("second".to_string())), ("L2".to_string(), None)]);
    }

    #[test]
    fn delete_details_clears_every_child_table_matching_the_filter() {
        let (_dir, mut db) = db();
        let visits = [VisitRow { id: "V1", assignees: vec![("U1", None)], ..VisitRow::default() }];
        db.write(|tx| {
            let mut writer = JobWriter::new(tx, CID, "t1", 0)?;
            let (_, key) = writer.job(&job("J1", 1, "v1"), None)?;
            writer.details(key, true, &[LineItemRow { id: "L1", ..LineItemRow::default() }], &visits)?;
            writer.finish()
        })
        .expect("write");
        db.write(|tx| delete_details(tx, "connection_id = ?1", params![CID])).expect("delete");
        for table in CHILD_TABLES {
            assert_eq!(count(&db, table), 0, "{table}");
        }
        assert_eq!(count(&db, "jobs"), 1);
    }

    #[test]
    fn a_client_upsert_says_what_it_did() {
        let (_dir, mut db) = db();
        let client = |raw_json| ClientRow { id: "C1", name: Some("Ann"), raw_json, ..ClientRow::default() };
        let mut upsert = |c: ClientRow<'_>| db.write(|tx| upsert_client(tx, CID, &c, "t1")).expect("upsert");
        assert_eq!(upsert(client("a")), Written::Inserted);
        assert_eq!(upsert(client("a")), Written::Unchanged);
        assert_eq!(upsert(client("b")), Written::Updated);
        assert_eq!(count(&db, "clients"), 1);
    }
}
