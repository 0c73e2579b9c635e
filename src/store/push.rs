//! The push tables (`push_rules`, `pushed_events`) and the read of Jobber visits a push is
//! computed from. Push needs its own store module because its rows are a promise about another
//! system: what integ wrote into someone's calendar, recorded in the same transaction as the
//! run's cursor, so a crash between a provider's answer and the commit is recovered by the next
//! run (see `sync::push`) instead of leaving a duplicate or an orphan.

use crate::store::sql::{Row, params};
use std::collections::HashMap;

use crate::store::db::{Db, DbError};

/// One push rule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rule {
    pub id: i64,
    pub target_connection_id: i64,
    pub calendar_id: String,
    /// Set when integ created the calendar (`--create NAME`).
    pub calendar_name: Option<String>,
    pub source_connection_id: i64,
    /// Jobber user names or ids; empty: every visit.
    pub crew: Vec<String>,
    pub past_days: u32,
    pub future_days: u32,
    pub created_at: String,
    pub last_push_at: Option<String>,
}

/// What `push add` stores.
#[derive(Debug, Clone)]
pub struct NewRule<'a> {
    pub target_connection_id: i64,
    pub calendar_id: &'a str,
    pub calendar_name: Option<&'a str>,
    pub source_connection_id: i64,
    pub crew: &'a [String],
    pub past_days: u32,
    pub future_days: u32,
}

const RULE_COLUMNS: &str = "id, target_connection_id, calendar_id, calendar_name, source_connection_id, crew, \
                            past_days, future_days, created_at, last_push_at";

fn rule_of(r: &Row<'_>) -> Result<Rule, DbError> {
    let crew: String = r.get(5)?;
    Ok(Rule {
        id: r.get(0)?,
        target_connection_id: r.get(1)?,
        calendar_id: r.get(2)?,
        calendar_name: r.get(3)?,
        source_connection_id: r.get(4)?,
        crew: serde_json::from_str(&crew).unwrap_or_default(),
        past_days: r.get(6)?,
        future_days: r.get(7)?,
        created_at: r.get(8)?,
        last_push_at: r.get(9)?,
    })
}

/// Store a rule; the same rule again returns the existing id (`true`: it was already there).
pub fn add(db: &mut Db, rule: &NewRule<'_>, now: &str) -> Result<(i64, bool), DbError> {
    let mut crew: Vec<String> = rule.crew.to_vec();
    crew.sort();
    crew.dedup();
    let crew = serde_json::to_string(&crew).unwrap_or_else(|_| "[]".into());
    db.write(|tx| {
        let existing: Option<i64> = tx.query_opt(
            "SELECT id FROM push_rules WHERE target_connection_id = ?1 AND calendar_id = ?2
                 AND source_connection_id = ?3 AND crew = ?4",
            params![rule.target_connection_id, rule.calendar_id, rule.source_connection_id, crew],
            |r| r.get(0),
        )?;
        if let Some(id) = existing {
            tx.execute(
                "UPDATE push_rules SET past_days = ?2, future_days = ?3 WHERE id = ?1",
                params![id, rule.past_days, rule.future_days],
            )?;
            return Ok((id, true));
        }
        let id = tx.query_one(
            "INSERT INTO push_rules (target_connection_id, calendar_id, calendar_name, source_connection_id, crew,
                 past_days, future_days, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![
                rule.target_connection_id,
                rule.calendar_id,
                rule.calendar_name,
                rule.source_connection_id,
                crew,
                rule.past_days,
                rule.future_days,
                now
            ],
            |r| r.get(0),
        )?;
        Ok((id, false))
    })
}

/// Every rule (of one target connection), oldest first.
pub fn list(db: &Db, target: Option<i64>) -> Result<Vec<Rule>, DbError> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM push_rules WHERE CAST(?1 AS BIGINT) IS NULL OR target_connection_id = ?1 ORDER BY id"
    );
    db.conn().query_map(&sql, params![target], rule_of)
}

pub fn get(db: &Db, id: i64) -> Result<Option<Rule>, DbError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM push_rules WHERE id = ?1");
    db.conn().query_opt(&sql, params![id], rule_of)
}

/// The calendar an earlier `--create NAME` made in this connection, if any rule still names it.
pub fn created_calendar(db: &Db, target: i64, name: &str) -> Result<Option<String>, DbError> {
    db.conn().query_opt(
        "SELECT calendar_id FROM push_rules WHERE target_connection_id = ?1 AND calendar_name = ?2 ORDER BY id LIMIT 1",
        params![target, name],
        |r| r.get(0),
    )
}

/// Forget a rule and its record of pushed events.
pub fn remove(db: &mut Db, id: i64) -> Result<bool, DbError> {
    db.write(|tx| tx.execute("DELETE FROM push_rules WHERE id = ?1", params![id]).map(|n| n > 0))
}

/// What was pushed for one visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub event_id: Option<String>,
    pub generation: u32,
    pub content_hash: String,
}

/// A rule's pushed events by visit key.
pub fn pushed(db: &Db, rule: i64) -> Result<HashMap<String, Pushed>, DbError> {
    let rows = db.conn().query_map(
        "SELECT visit_key, event_id, generation, content_hash FROM pushed_events WHERE rule_id = ?1",
        params![rule],
        |r| Ok((r.get::<String>(0)?, Pushed { event_id: r.get(1)?, generation: r.get(2)?, content_hash: r.get(3)? })),
    )?;
    Ok(rows.into_iter().collect())
}

/// One change to a rule's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Put { visit_key: String, pushed: Pushed },
    Forget { visit_key: String },
}

/// Apply a batch of changes and move the rule's cursor, in one transaction.
pub fn record(db: &mut Db, rule: i64, changes: &[Record], now: &str) -> Result<(), DbError> {
    db.write(|tx| {
        for c in changes {
            match c {
                Record::Put { visit_key, pushed } => tx.execute(
                    "INSERT INTO pushed_events (rule_id, visit_key, event_id, generation, content_hash, pushed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (rule_id, visit_key) DO UPDATE SET event_id = excluded.event_id,
                         generation = excluded.generation, content_hash = excluded.content_hash,
                         pushed_at = excluded.pushed_at",
                    params![rule, visit_key, pushed.event_id, pushed.generation, pushed.content_hash, now],
                ),
                Record::Forget { visit_key } => tx.execute(
                    "DELETE FROM pushed_events WHERE rule_id = ?1 AND visit_key = ?2",
                    params![rule, visit_key],
                ),
            }?;
        }
        tx.execute("UPDATE push_rules SET last_push_at = ?2 WHERE id = ?1", params![rule, now])?;
        Ok(())
    })
}

/// A scheduled Jobber visit with what its event shows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRow {
    pub job_id: String,
    pub visit_id: String,
    pub job_number: Option<i64>,
    pub job_title: Option<String>,
    pub visit_title: Option<String>,
    pub client_name: Option<String>,
    pub address: Vec<String>,
    pub instructions: Option<String>,
    pub web_url: Option<String>,
    pub start_at: String,
    pub end_at: Option<String>,
    /// (user id, user name), in id order.
    pub crew: Crew,
}

/// Whether any synced visit of a Jobber connection is assigned to `crew` (a user id, or a
/// name ignoring case).
pub fn crew_known(db: &Db, source: i64, crew: &str) -> Result<bool, DbError> {
    db.conn().query_one(
        "SELECT EXISTS (SELECT 1 FROM job_visit_assignees WHERE connection_id = ?1
                 AND (user_id = ?2 OR lower(user_name) = lower(?2)))",
        params![source, crew],
        |r| r.get(0),
    )
}

/// A visit's crew: (user id, user name).
type Crew = Vec<(String, Option<String>)>;

/// Every visit with a start of a Jobber connection's live (not deleted) jobs.
pub fn visits(db: &Db, source: i64) -> Result<Vec<VisitRow>, DbError> {
    let mut crews: HashMap<(i64, String), Crew> = HashMap::new();
    db.conn().for_each(
        "SELECT job_key, visit_id, user_id, user_name FROM job_visit_assignees WHERE connection_id = ?1
         ORDER BY job_key, visit_id, user_id",
        params![source],
        |r| {
            let (job, visit) = (r.get::<i64>(0)?, r.get::<String>(1)?);
            crews.entry((job, visit)).or_default().push((r.get(2)?, r.get(3)?));
            Ok(())
        },
    )?;
    db.conn().query_map(
        "SELECT j.key, j.id, v.id, j.job_number, j.title, v.title, j.client_name, j.street1, j.street2, j.city,
                    j.province, j.postal_code, j.country, j.instructions, j.web_url, v.start_at, v.end_at
             FROM job_visits v JOIN jobs j ON j.key = v.job_key
             WHERE j.connection_id = ?1 AND j.deleted_at IS NULL AND v.start_at IS NOT NULL
             ORDER BY j.key, v.id",
        params![source],
        |r| {
            let key: i64 = r.get(0)?;
            let visit_id: String = r.get(2)?;
            let address: Vec<String> = (7..13)
                .filter_map(|i| r.get::<Option<String>>(i).ok().flatten())
                .filter(|s| !s.trim().is_empty())
                .collect();
            Ok(VisitRow {
                job_id: r.get(1)?,
                crew: crews.get(&(key, visit_id.clone())).cloned().unwrap_or_default(),
                visit_id,
                job_number: r.get(3)?,
                job_title: r.get(4)?,
                visit_title: r.get(5)?,
                client_name: r.get(6)?,
                address,
                instructions: r.get(13)?,
                web_url: r.get(14)?,
                start_at: r.get(15)?,
                end_at: r.get(16)?,
            })
        },
    )
}
