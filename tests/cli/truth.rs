//! One comparison for the three calendar suites: the live rows of each synced calendar equal
//! the fake's ground truth over the window the client recorded in its cursor, field by field.
//!
//! What differs between providers stays in their suites: which calendars count as synced and
//! where each cursor keeps its window (Google's `time_min`/`time_max`, Graph's `window`,
//! Calendly's `last_scan`). Everything else is here, so the three suites cannot drift apart in
//! what "equal to the truth" means.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::common::{ANCHOR, EVENT_FIELDS, Fakes, TestEnv, db, exec, pct_encode};

/// A calendar and the window its cursor says the client synced (RFC 3339 bounds).
#[derive(Debug, Clone)]
pub struct Window {
    pub calendar: String,
    pub min: String,
    pub max: String,
}

/// An event in the truth's shape: its [`EVENT_FIELDS`] as JSON values.
pub type Row = BTreeMap<&'static str, Value>;

/// The fake's truth for one window: `/_fake/{provider}/truth`.
pub fn truth(fakes: &Fakes, provider: &str, w: &Window) -> Vec<Value> {
    let t = fakes.get(&format!(
        "/_fake/{provider}/truth?calendar={}&time_min={}&time_max={}",
        pct_encode(&w.calendar),
        pct_encode(&w.min),
        pct_encode(&w.max)
    ));
    t["events"].as_array().unwrap_or_else(|| panic!("truth: {t}")).clone()
}

/// The live events of a calendar, keyed by id, in the truth's shape (`start`/`end` are the
/// instant or, for all-day events, the date). Asserts the columns agree with `all_day`: timed
/// events have instants and no dates, all-day events the reverse.
pub fn stored(conn: &Connection, calendar: &str) -> BTreeMap<String, Row> {
    let mut stmt = conn
        .prepare(
            "SELECT calendar_id, id, title, description, location, status, all_day, coalesce(start_at, start_date),
                    coalesce(end_at, end_date), time_zone, series_id, original_start, organizer, attendees_count,
                    updated_at, start_at IS NULL = all_day, end_at IS NULL = all_day,
                    start_date IS NULL != all_day, end_date IS NULL != all_day
             FROM events WHERE calendar_id = ?1 AND deleted_at IS NULL",
        )
        .unwrap();
    let rows = stmt
        .query_map([calendar], |r| {
            let mut m = Row::new();
            for (i, n) in EVENT_FIELDS.iter().enumerate() {
                let v: rusqlite::types::Value = r.get(i)?;
                m.insert(
                    *n,
                    match v {
                        rusqlite::types::Value::Null => Value::Null,
                        rusqlite::types::Value::Integer(x) if *n == "all_day" => json!(x != 0),
                        rusqlite::types::Value::Integer(x) => json!(x),
                        rusqlite::types::Value::Real(x) => json!(x),
                        rusqlite::types::Value::Text(t) => json!(t),
                        rusqlite::types::Value::Blob(_) => json!("<blob>"),
                    },
                );
            }
            for i in 15..19 {
                let ok: bool = r.get(i)?;
                assert!(ok, "calendar {calendar}: event {:?}: instants and dates disagree with all_day", m["id"]);
            }
            Ok(m)
        })
        .unwrap();
    rows.map(|r| {
        let r = r.unwrap();
        (r["id"].as_str().unwrap().to_string(), r)
    })
    .collect()
}

/// Every window's calendar holds exactly `provider`'s truth over that window: no event missing,
/// none extra, every field equal; then the database passes its integrity check. Returns the
/// number of events compared.
#[track_caller]
pub fn assert_matches_truth(env: &TestEnv, fakes: &Fakes, provider: &str, windows: &[Window]) -> usize {
    assert!(!windows.is_empty(), "no {provider} calendar was synced");
    let conn = db(env);
    let mut n = 0;
    for w in windows {
        let cal = &w.calendar;
        let want = truth(fakes, provider, w);
        let mut got = stored(&conn, cal);
        let missing: Vec<&Value> = want.iter().filter(|t| !got.contains_key(t["id"].as_str().unwrap())).collect();
        let want_ids: Vec<&str> = want.iter().map(|t| t["id"].as_str().unwrap()).collect();
        let extra: Vec<&String> = got.keys().filter(|k| !want_ids.contains(&k.as_str())).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "calendar {cal} ({} .. {}): missing {:?}, extra {extra:?}{}",
            w.min,
            w.max,
            missing.iter().filter_map(|t| t["id"].as_str()).collect::<Vec<_>>(),
            missing.first().map(|t| format!("\nfirst missing event: {t}")).unwrap_or_default(),
        );
        for t in &want {
            let id = t["id"].as_str().unwrap();
            let row = got.remove(id).unwrap_or_else(|| panic!("calendar {cal}: event {id} is twice in the truth"));
            for f in EVENT_FIELDS {
                assert_eq!(row[f], t[f], "calendar {cal}: event {id} ({}) field {f}", t["title"]);
            }
            n += 1;
        }
    }
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    n
}

/// The comparison itself: a changed field, a lost row and a row the truth does not have each
/// fail it, so a suite that passes really compared something.
#[test]
fn a_changed_missing_or_extra_row_fails_the_comparison() {
    use crate::events_google::{google, sync};
    let (env, fakes) = google(60, 30, 60, &[]);
    sync(&env, &[]).ok();
    let windows = |env: &TestEnv| -> Vec<Window> {
        let conn = db(env);
        let cal: String = conn.query_row("SELECT id FROM calendars WHERE selected = 1", [], |r| r.get(0)).unwrap();
        let cursor: String = conn
            .query_row("SELECT cursor FROM sync_state WHERE stream = ?1", [format!("events:{cal}")], |r| r.get(0))
            .unwrap();
        let c: Value = serde_json::from_str(&cursor).unwrap();
        vec![Window {
            calendar: cal,
            min: c["time_min"].as_str().unwrap().into(),
            max: c["time_max"].as_str().unwrap().into(),
        }]
    };
    let w = windows(&env);
    assert!(assert_matches_truth(&env, &fakes, "google", &w) > 10);
    // Each change is committed (the comparison opens its own connection), checked, then undone;
    // on PostgreSQL in the test's database itself, which the comparison then snapshots.
    let fails = |change: &str, undo: &str| {
        exec(&env, change);
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_matches_truth(&env, &fakes, "google", &w);
        }))
        .is_err();
        exec(&env, undo);
        failed
    };
    let id: String = db(&env)
        .query_row(
            "SELECT id FROM events WHERE deleted_at IS NULL AND calendar_id = ?1 ORDER BY id",
            [&w[0].calendar],
            |r| r.get(0),
        )
        .unwrap();
    let id = id.replace('\'', "''");
    assert!(fails(
        &format!("UPDATE events SET title = title || '!' WHERE id = '{id}'"),
        &format!("UPDATE events SET title = substr(title, 1, length(title) - 1) WHERE id = '{id}'"),
    ));
    assert!(fails(
        &format!("UPDATE events SET deleted_at = '{ANCHOR}' WHERE id = '{id}'"),
        &format!("UPDATE events SET deleted_at = NULL WHERE id = '{id}'"),
    ));
    assert!(fails(
        &format!(
            "CREATE TEMP TABLE copy AS SELECT * FROM events WHERE id = '{id}'; UPDATE copy SET id = 'extra-event';
             INSERT INTO events SELECT * FROM copy; DROP TABLE copy"
        ),
        "DELETE FROM events WHERE id = 'extra-event'",
    ));
    assert!(assert_matches_truth(&env, &fakes, "google", &w) > 10, "the database is back as it was");
}
