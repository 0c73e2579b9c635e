//! Writing and reading the Jobber tables (`jobs`, `clients`, `job_line_items`, `job_visits`,
//! `job_visit_assignees`). Every write happens inside the caller's transaction, so a page of
//! rows and the sync cursor that covers them commit together.

use rusqlite::{OptionalExtension, Transaction, params};

use super::db::{Db, DbError, classify};

/// A job row as written (plain values; the provider layer maps from Jobber's shapes).
#[derive(Debug, Clone, Default)]
pub struct JobRow {
    pub id: String,
    pub job_number: Option<i64>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub job_type: Option<String>,
    pub instructions: Option<String>,
    pub total: Option<f64>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub completed_at: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub property_id: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub web_url: Option<String>,
    pub raw_json: String,
}

#[derive(Debug, Clone, Default)]
pub struct LineItemRow {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub quantity: Option<f64>,
    pub unit_price: Option<f64>,
    pub total_price: Option<f64>,
    pub taxable: Option<bool>,
    pub raw_json: String,
}

#[derive(Debug, Clone, Default)]
pub struct VisitRow {
    pub id: String,
    pub title: Option<String>,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub completed_at: Option<String>,
    pub is_complete: Option<bool>,
    pub status: Option<String>,
    pub raw_json: String,
    /// (user id, full name)
    pub assignees: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientRow {
    pub id: String,
    pub name: Option<String>,
    pub company_name: Option<String>,
    pub is_company: Option<bool>,
    pub is_archived: Option<bool>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub web_url: Option<String>,
    pub raw_json: String,
}

pub use super::Written;

/// The stored `updated_at` of jobs, to decide which need their details fetched.
pub fn stored_updated_at(db: &Db, connection_id: i64, ids: &[&str]) -> Result<Vec<Option<String>>, DbError> {
    let mut stmt = db
        .conn()
        .prepare_cached("SELECT updated_at, deleted_at IS NOT NULL FROM jobs WHERE connection_id = ?1 AND id = ?2")
        .map_err(classify)?;
    ids.iter()
        .map(|id| {
            stmt.query_row(params![connection_id, id], |r| {
                let deleted: bool = r.get(1)?;
                // A job marked deleted that shows up again needs everything fetched anew.
                Ok(if deleted { None } else { r.get::<_, Option<String>>(0)? })
            })
            .optional()
            .map(Option::flatten)
            .map_err(classify)
        })
        .collect()
}

/// Insert or update one job; `sweep` > 0 records that a full sweep saw it.
pub fn upsert_job(tx: &Transaction<'_>, cid: i64, j: &JobRow, now: &str, sweep: i64) -> Result<Written, DbError> {
    let existing: Option<(Option<String>, String, bool)> = tx
        .prepare_cached(
            "SELECT updated_at, raw_json, deleted_at IS NOT NULL FROM jobs WHERE connection_id = ?1 AND id = ?2",
        )
        .map_err(classify)?
        .query_row(params![cid, j.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(classify)?;
    let written = match &existing {
        None => Written::Inserted,
        Some((_, raw, deleted)) if !deleted && *raw == j.raw_json => Written::Unchanged,
        Some(_) => Written::Updated,
    };
    tx.prepare_cached(
        "INSERT INTO jobs (connection_id, id, job_number, title, status, job_type, instructions, total, start_at,
            end_at, completed_at, created_at, updated_at, client_id, client_name, property_id, street1, street2, city,
            province, postal_code, country, web_url, raw_json, first_seen_at, last_seen_at, deleted_at, sweep)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
                 ?23, ?24, ?25, ?25, NULL, ?26)
         ON CONFLICT (connection_id, id) DO UPDATE SET
            job_number = excluded.job_number, title = excluded.title, status = excluded.status,
            job_type = excluded.job_type, instructions = excluded.instructions, total = excluded.total,
            start_at = excluded.start_at, end_at = excluded.end_at, completed_at = excluded.completed_at,
            created_at = excluded.created_at, updated_at = excluded.updated_at, client_id = excluded.client_id,
            client_name = excluded.client_name, property_id = excluded.property_id, street1 = excluded.street1,
            street2 = excluded.street2, city = excluded.city, province = excluded.province,
            postal_code = excluded.postal_code, country = excluded.country, web_url = excluded.web_url,
            raw_json = excluded.raw_json, last_seen_at = excluded.last_seen_at, deleted_at = NULL,
            sweep = max(jobs.sweep, excluded.sweep)",
    )
    .map_err(classify)?
    .execute(params![
        cid,
        j.id,
        j.job_number,
        j.title,
        j.status,
        j.job_type,
        j.instructions,
        j.total,
        j.start_at,
        j.end_at,
        j.completed_at,
        j.created_at,
        j.updated_at,
        j.client_id,
        j.client_name,
        j.property_id,
        j.street1,
        j.street2,
        j.city,
        j.province,
        j.postal_code,
        j.country,
        j.web_url,
        j.raw_json,
        now,
        sweep,
    ])
    .map_err(classify)?;
    Ok(written)
}

/// Replace a job's line items and visits (with their crews) by what Jobber returned. `fresh`
/// says the job was not stored before, so it has nothing to delete.
pub fn replace_details(
    tx: &Transaction<'_>,
    fresh: bool,
    cid: i64,
    job_id: &str,
    items: &[LineItemRow],
    visits: &[VisitRow],
) -> Result<(), DbError> {
    if !fresh {
        tx.prepare_cached("DELETE FROM job_line_items WHERE connection_id = ?1 AND job_id = ?2")
            .map_err(classify)?
            .execute(params![cid, job_id])
            .map_err(classify)?;
        tx.prepare_cached("DELETE FROM job_visits WHERE connection_id = ?1 AND job_id = ?2")
            .map_err(classify)?
            .execute(params![cid, job_id])
            .map_err(classify)?;
    }
    let mut li = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO job_line_items (connection_id, job_id, id, position, name, description, quantity,
                unit_price, total_price, taxable, raw_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(classify)?;
    for (pos, i) in items.iter().enumerate() {
        li.execute(params![
            cid,
            job_id,
            i.id,
            pos as i64,
            i.name,
            i.description,
            i.quantity,
            i.unit_price,
            i.total_price,
            i.taxable,
            i.raw_json
        ])
        .map_err(classify)?;
    }
    let mut vi = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO job_visits (connection_id, job_id, id, title, start_at, end_at, completed_at,
                is_complete, status, raw_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(classify)?;
    let mut crew = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO job_visit_assignees (connection_id, job_id, visit_id, user_id, user_name)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(classify)?;
    for v in visits {
        vi.execute(params![
            cid,
            job_id,
            v.id,
            v.title,
            v.start_at,
            v.end_at,
            v.completed_at,
            v.is_complete,
            v.status,
            v.raw_json
        ])
        .map_err(classify)?;
        for (uid, name) in &v.assignees {
            crew.execute(params![cid, job_id, v.id, uid, name]).map_err(classify)?;
        }
    }
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

pub fn upsert_client(tx: &Transaction<'_>, cid: i64, c: &ClientRow, now: &str) -> Result<Written, DbError> {
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
        "SELECT {VIEW_COLUMNS}, j.connection_id, j.instructions, j.street1, j.street2, j.province, j.postal_code, j.country
         FROM jobs j JOIN connections c ON c.id = j.connection_id
         WHERE (?1 IS NULL OR j.connection_id = ?1) AND (j.id = ?2 OR j.job_number = ?3)
         ORDER BY j.deleted_at IS NOT NULL, j.updated_at DESC LIMIT 1"
    );
    let found = db
        .conn()
        .query_row(&sql, params![connection, key, number], |r| {
            let v = view(r)?;
            let cid: i64 = r.get(15)?;
            let extra = serde_json::json!({
                "instructions": r.get::<_, Option<String>>(16)?,
                "street1": r.get::<_, Option<String>>(17)?,
                "street2": r.get::<_, Option<String>>(18)?,
                "province": r.get::<_, Option<String>>(19)?,
                "postal_code": r.get::<_, Option<String>>(20)?,
                "country": r.get::<_, Option<String>>(21)?,
            });
            Ok((v, cid, extra))
        })
        .optional()
        .map_err(classify)?;
    let Some((job, cid, mut extra)) = found else {
        return Ok(None);
    };
    let mut items = Vec::new();
    let mut stmt = db
        .conn()
        .prepare(
            "SELECT id, name, description, quantity, unit_price, total_price FROM job_line_items
             WHERE connection_id = ?1 AND job_id = ?2 ORDER BY position",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map(params![cid, job.id], |r| {
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
                     WHERE a.connection_id = v.connection_id AND a.job_id = v.job_id AND a.visit_id = v.id)
             FROM job_visits v WHERE v.connection_id = ?1 AND v.job_id = ?2 ORDER BY v.start_at, v.id",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map(params![cid, job.id], |r| {
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
