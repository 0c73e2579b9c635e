//! The read side of the Jobber tables: jobs as `jobs list` and `jobs show` present them.
//!
//! Read-only queries over what sync wrote; a deleted job is left out of the list but can still
//! be shown by id or number (a live one first).

use crate::store::db::{Db, DbError};
use crate::store::sql::{Row, params};

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

fn view(r: &Row<'_>) -> Result<JobView, DbError> {
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
         WHERE j.deleted_at IS NULL AND (CAST(?1 AS BIGINT) IS NULL OR j.connection_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR j.status = ?2)
           AND (CAST(?3 AS TEXT) IS NULL OR coalesce(j.start_at, j.updated_at) >= ?3 OR j.updated_at >= ?3)
         ORDER BY j.updated_at DESC, j.id"
    );
    db.conn().query_map(&sql, params![connection, status, since], view)
}

/// One job by id or job number, with its line items, visits and crews.
pub fn show(db: &Db, connection: Option<i64>, key: &str) -> Result<Option<(JobView, serde_json::Value)>, DbError> {
    let number: Option<i64> = key.trim_start_matches('#').parse().ok();
    let sql = format!(
        "SELECT {VIEW_COLUMNS}, j.key, j.instructions, j.street1, j.street2, j.province, j.postal_code, j.country
         FROM jobs j JOIN connections c ON c.id = j.connection_id
         WHERE (CAST(?1 AS BIGINT) IS NULL OR j.connection_id = ?1) AND (j.id = ?2 OR j.job_number = ?3)
         ORDER BY j.deleted_at IS NOT NULL, j.updated_at DESC LIMIT 1"
    );
    let found = db.conn().query_opt(&sql, params![connection, key, number], |r| {
        let v = view(r)?;
        let job_key: i64 = r.get(15)?;
        let extra = serde_json::json!({
            "instructions": r.get::<Option<String>>(16)?,
            "street1": r.get::<Option<String>>(17)?,
            "street2": r.get::<Option<String>>(18)?,
            "province": r.get::<Option<String>>(19)?,
            "postal_code": r.get::<Option<String>>(20)?,
            "country": r.get::<Option<String>>(21)?,
        });
        Ok((v, job_key, extra))
    })?;
    let Some((job, job_key, mut extra)) = found else {
        return Ok(None);
    };
    let conn = db.conn();
    let items = conn.query_map(
        "SELECT id, name, description, quantity, unit_price, total_price FROM job_line_items
             WHERE job_key = ?1 ORDER BY position",
        params![job_key],
        |r| {
            Ok(serde_json::json!({
                "id": r.get::<String>(0)?, "name": r.get::<Option<String>>(1)?,
                "description": r.get::<Option<String>>(2)?, "quantity": r.get::<Option<f64>>(3)?,
                "unit_price": r.get::<Option<f64>>(4)?, "total_price": r.get::<Option<f64>>(5)?,
            }))
        },
    )?;
    let crew = conn.dialect().string_agg("coalesce(a.user_name, a.user_id)", ", ");
    let visits = conn.query_map(
        &format!(
            "SELECT v.id, v.title, v.start_at, v.end_at, v.completed_at, v.status,
                    (SELECT {crew} FROM job_visit_assignees a
                     WHERE a.job_key = v.job_key AND a.visit_id = v.id)
             FROM job_visits v WHERE v.job_key = ?1 ORDER BY v.start_at, v.id"
        ),
        params![job_key],
        |r| {
            Ok(serde_json::json!({
                "id": r.get::<String>(0)?, "title": r.get::<Option<String>>(1)?,
                "start_at": r.get::<Option<String>>(2)?, "end_at": r.get::<Option<String>>(3)?,
                "completed_at": r.get::<Option<String>>(4)?, "status": r.get::<Option<String>>(5)?,
                "crew": r.get::<Option<String>>(6)?,
            }))
        },
    )?;
    extra["line_items"] = serde_json::Value::Array(items);
    extra["visits"] = serde_json::Value::Array(visits);
    Ok(Some((job, extra)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{CID, db, job, write};
    use super::super::{JobWriter, LineItemRow, VisitRow};
    use super::*;

    #[test]
    fn list_leaves_deleted_jobs_out_and_filters() {
        let (_dir, mut db) = db();
        let mut done = job("J2", 2, "2026-02-01T00:00:00Z");
        done.status = Some("archived");
        write(&mut db, &[job("J1", 1, "2026-01-01T00:00:00Z"), done, job("J3", 3, "2026-03-01T00:00:00Z")], "t", 0);
        db.sqlite().execute("UPDATE jobs SET deleted_at = 'gone' WHERE id = 'J3'", []).expect("delete");
        let ids = |v: Vec<JobView>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
        assert_eq!(ids(list(&db, None, None, None).expect("list")), ["J2", "J1"]);
        assert_eq!(ids(list(&db, Some(CID), Some("archived"), None).expect("list")), ["J2"]);
        assert_eq!(ids(list(&db, None, None, Some("2026-01-15")).expect("list")), ["J2"]);
        assert!(list(&db, Some(CID + 1), None, None).expect("list").is_empty());
        assert_eq!(list(&db, None, None, None).expect("list")[0].account, "Acme");
    }

    #[test]
    fn show_finds_a_job_by_id_or_number_with_its_details() {
        let (_dir, mut db) = db();
        let visits = [VisitRow { id: "V1", assignees: vec![("U1", Some("Ann")), ("U2", None)], ..VisitRow::default() }];
        let items = [
            LineItemRow { id: "L1", name: Some("Mulch"), ..LineItemRow::default() },
            LineItemRow { id: "L2", name: Some("Edging"), ..LineItemRow::default() },
        ];
        db.write(|tx| {
            let mut writer = JobWriter::new(tx, CID, "t", 0)?;
            let (_, key) = writer.job(&job("J1", 41, "v"), None)?;
            writer.details(key, true, &items, &visits)?;
            writer.finish()
        })
        .expect("write");
        let (view, extra) = show(&db, None, "#41").expect("show").expect("found by number");
        assert_eq!((view.id.as_str(), view.job_number), ("J1", Some(41)));
        let names: Vec<&str> =
            extra["line_items"].as_array().expect("items").iter().filter_map(|i| i["name"].as_str()).collect();
        assert_eq!(names, ["Mulch", "Edging"]);
        let mut crew: Vec<&str> = extra["visits"][0]["crew"].as_str().expect("crew").split(", ").collect();
        crew.sort_unstable();
        assert_eq!(crew, ["Ann", "U2"]);
        assert!(show(&db, None, "J1").expect("show").is_some());
        assert!(show(&db, Some(CID + 1), "J1").expect("show").is_none());
        assert!(show(&db, None, "#42").expect("show").is_none());
    }
}
