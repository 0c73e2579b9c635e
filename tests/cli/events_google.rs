//! `integ sync events` against the fake Google Calendar: for every selected calendar the live
//! rows must equal the fake's ground truth over the window the client stored in its cursor,
//! field by field, after full and incremental rounds, resyncs, throttling, faults and kills.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Value, json};

use crate::common::{
    Fakes, Run, TestEnv, connected, db, exec, kill_when, pct_encode as enc, runs_with_outcome, sql_text,
};
use crate::truth::{self, Window};

/// A connected Google account against a fake seeded with `events` events, with a sync window
/// of `past` days back and `future` days ahead.
pub fn google(events: usize, past: u32, future: u32, extra: &[&str]) -> (TestEnv, Fakes) {
    let seed = events.to_string();
    let mut args = vec!["--google-seed-events", seed.as_str(), "--calendar-seed", "7"];
    args.extend_from_slice(extra);
    connected("google", &args, |env| {
        env.set("INTEG_EVENTS_PAST_DAYS", past.to_string());
        env.set("INTEG_EVENTS_FUTURE_DAYS", future.to_string());
    })
}

pub fn sync(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["sync", "events"];
    all.extend_from_slice(args);
    env.run(&all)
}

/// Select every calendar of the account (the primary one is selected on its own).
fn select_all(env: &TestEnv) -> Vec<String> {
    let list = env.run(&["calendars", "list", "--json"]).ok().json();
    let ids: Vec<String> = list.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    for id in &ids {
        env.run(&["calendars", "select", id]).ok();
    }
    ids
}

fn stats(fakes: &Fakes) -> Value {
    fakes.get("/_fake/stats")["google"].clone()
}

fn reset_stats(fakes: &Fakes) {
    fakes.post("/_fake/stats/reset", json!({}));
}

/// The stored cursor of a calendar.
fn cursor(conn: &Connection, calendar: &str) -> Value {
    let text: Option<String> = conn
        .query_row("SELECT cursor FROM sync_state WHERE stream = ?1", [format!("events:{calendar}")], |r| r.get(0))
        .optional()
        .unwrap()
        .flatten();
    serde_json::from_str(&text.unwrap_or_else(|| panic!("no cursor for {calendar}"))).unwrap()
}

/// Every selected calendar's round is complete and its live rows are exactly the truth over
/// the window its cursor stored (`time_min`/`time_max`); returns the number of live events
/// compared.
#[track_caller]
pub fn assert_matches_truth(env: &TestEnv, fakes: &Fakes) -> usize {
    let conn = db(env);
    let mut stmt = conn.prepare("SELECT id FROM calendars WHERE selected = 1 AND deleted_at IS NULL").unwrap();
    let cals: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(!cals.is_empty(), "no selected calendar");
    let windows: Vec<Window> = cals
        .into_iter()
        .map(|cal| {
            let c = cursor(&conn, &cal);
            assert!(c["sync_token"].is_string() && c["page_token"].is_null(), "{cal}: round not complete: {c}");
            let (min, max) = (c["time_min"].as_str().unwrap().to_string(), c["time_max"].as_str().unwrap().to_string());
            Window { calendar: cal, min, max }
        })
        .collect();
    truth::assert_matches_truth(env, fakes, "google", &windows)
}

fn one(conn: &Connection, sql: &str, p: &str) -> Option<String> {
    conn.query_row(sql, [p], |r| r.get(0)).optional().unwrap().flatten()
}

/// The truth rows with this title, over a wide window.
fn by_title(fakes: &Fakes, title: &str) -> Vec<Value> {
    let t = fakes.get("/_fake/google/truth?time_min=2000-01-01T00:00:00Z&time_max=2040-01-01T00:00:00Z");
    t["events"].as_array().unwrap().iter().filter(|e| e["title"] == title).cloned().collect()
}

fn id_of(fakes: &Fakes, title: &str) -> String {
    by_title(fakes, title)[0]["id"].as_str().unwrap().to_string()
}

fn primary(fakes: &Fakes) -> String {
    let cals = fakes.get("/_fake/google/calendars");
    cals["calendars"].as_array().unwrap().iter().find(|c| c["primary"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn full_sync_equals_truth_across_calendars_zones_and_dst() {
    // A window reaching back past the spring 2026 transitions and ahead past spring 2027.
    let (env, fakes) = google(400, 300, 400, &[]);
    let ids = select_all(&env);
    assert_eq!(ids.len(), 3);
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("events:"), "{}", run.stderr);
    let n = assert_matches_truth(&env, &fakes);
    assert!(n > 150, "only {n} events compared");
    let conn = db(&env);
    // Denver spring forward: 09:00 local is 16:00Z before 2026-03-08 and 15:00Z after.
    let standup = |start: &str| {
        one(
            &conn,
            "SELECT series_id FROM events WHERE start_at = ?1 AND title LIKE 'Standup%' AND deleted_at IS NULL",
            start,
        )
    };
    assert!(standup("2026-03-06T16:00:00Z").is_some() && standup("2026-03-09T15:00:00Z").is_some());
    // Berlin fall back: 09:00 local is 07:00Z on 2026-10-23 and 08:00Z on 2026-10-30.
    let jf =
        |start: &str| one(&conn, "SELECT time_zone FROM events WHERE start_at = ?1 AND title LIKE 'Jour fixe%'", start);
    assert_eq!(jf("2026-10-23T07:00:00Z").as_deref(), Some("Europe/Berlin"));
    assert_eq!(jf("2026-10-30T08:00:00Z").as_deref(), Some("Europe/Berlin"));
    // The moved instance keeps its original start; the cancelled one is not there.
    let moved: (String, String) = conn
        .query_row(
            "SELECT start_at, original_start FROM events WHERE title LIKE 'Standup%' AND start_at != original_start",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_ne!(moved.0, moved.1);
    let standups: i64 = conn
        .query_row("SELECT count(*) FROM events WHERE title LIKE 'Standup%' AND deleted_at IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(standups, 8, "9 occurrences, one cancelled");
    // All-day events are dates with an exclusive end and no instant or zone.
    let trade: (i64, Option<String>, String, String, Option<String>) = conn
        .query_row(
            "SELECT all_day, start_at, start_date, end_date, time_zone FROM events WHERE title = 'Trade show'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(trade, (1, None, "2026-12-08".into(), "2026-12-11".into(), None));
    // Outside any window: not stored at all.
    for title in ["Archive review (2020)", "Long-range planning (2031)"] {
        assert!(one(&conn, "SELECT id FROM events WHERE title = ?1", title).is_none(), "{title}");
    }
    // The holiday calendar's id has '#' and '@' in it.
    assert!(one(&conn, "SELECT calendar_id FROM events WHERE title = ?1", "Christmas Day").unwrap().contains('#'));
    // The first round asked for the window, never with a sync token.
    let s = stats(&fakes);
    assert!(s["endpoints"]["events.list (syncToken)"].is_null(), "{s}");
}

#[test]
fn events_exactly_on_the_window_edges_follow_googles_bounds() {
    // integ's clock pinned to the whole second: the window is exactly [anchor - 30 d, anchor + 30 d).
    let (mut env, fakes) = google(0, 30, 30, &[]);
    env.set("INTEG_TEST_NOW", crate::common::ANCHOR);
    let at = |start: &str, end: &str, title: &str| {
        fakes.post("/_fake/google/events", json!({"title": title, "start": start, "end": end, "time_zone": "UTC"}));
    };
    // timeMin bounds an event's end (exclusive), timeMax its start (exclusive).
    at("2026-10-22T11:00:00", "2026-10-22T12:00:00", "ends on the window's start");
    at("2026-10-22T11:00:00", "2026-10-22T12:00:01", "ends a second inside");
    at("2026-12-21T11:59:59", "2026-12-21T13:00:00", "starts a second inside");
    at("2026-12-21T12:00:00", "2026-12-21T13:00:00", "starts on the window's end");
    // All-day events across the month ends, inside the window.
    fakes.post("/_fake/google/events", json!({"title": "month end", "start": "2026-11-30", "end": "2026-12-02"}));
    sync(&env, &[]).ok();
    let conn = db(&env);
    let c = cursor(&conn, &primary(&fakes));
    assert_eq!(
        (c["time_min"].as_str().unwrap(), c["time_max"].as_str().unwrap()),
        ("2026-10-22T12:00:00Z", "2026-12-21T12:00:00Z")
    );
    let titles: Vec<String> = conn
        .prepare("SELECT title FROM events WHERE deleted_at IS NULL ORDER BY coalesce(start_at, start_date)")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(titles, ["ends a second inside", "month end", "starts a second inside"]);
    assert_matches_truth(&env, &fakes);
}

#[test]
fn incremental_sync_applies_changes_inside_and_outside_the_window() {
    let (env, fakes) = google(200, 30, 365, &[]);
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    // New: a timed event in Tokyo, a three-day all-day event, a Berlin series across the
    // spring 2027 transition.
    let tokyo = fakes.post(
        "/_fake/google/events",
        json!({"title": "New Tokyo call", "start": "2026-12-03T10:00:00", "end": "2026-12-03T11:00:00", "time_zone": "Asia/Tokyo", "attendees": ["a@example.com", "b@example.com"]}),
    );
    fakes.post("/_fake/google/events", json!({"title": "Offsite", "start": "2027-01-05", "end": "2027-01-08"}));
    fakes.post(
        "/_fake/google/events",
        json!({"title": "Berlin weekly", "start": "2027-03-19T09:00:00", "end": "2027-03-19T10:00:00", "time_zone": "Europe/Berlin",
               "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]}),
    );
    // Changed: a title and time; an event moved far out of the window; one moved into it.
    fakes.post(
        &format!("/_fake/google/events/{}", id_of(&fakes, "Site visit")),
        json!({"title": "Site visit (moved)", "start": "2026-11-30T14:00:00", "end": "2026-11-30T15:00:00"}),
    );
    let lunch = id_of(&fakes, "Lunch");
    fakes.post(
        &format!("/_fake/google/events/{lunch}"),
        json!({"start": "2031-05-01T12:00:00Z", "end": "2031-05-01T13:00:00Z"}),
    );
    fakes.post(
        &format!("/_fake/google/events/{}", id_of(&fakes, "Archive review (2020)")),
        json!({"start": "2026-12-15T10:00:00Z", "end": "2026-12-15T11:00:00Z"}),
    );
    // Deleted: a single event, one occurrence of a series, a whole series.
    let overnight = id_of(&fakes, "Overnight shift");
    fakes.post(&format!("/_fake/google/events/{overnight}/delete"), json!({}));
    let bins = by_title(&fakes, "Bin day");
    let bin =
        bins.iter().find(|b| b["start"].as_str().unwrap() > "2026-11-22").unwrap()["id"].as_str().unwrap().to_string();
    fakes.post(&format!("/_fake/google/events/{bin}/delete"), json!({}));
    let weekly = by_title(&fakes, "Weekly sync (Denver fall DST)");
    let series = weekly[0]["series_id"].as_str().unwrap().to_string();
    let conn = db(&env);
    let stored_weekly: Vec<String> = conn
        .prepare("SELECT id FROM events WHERE series_id = ?1 AND deleted_at IS NULL")
        .unwrap()
        .query_map([&series], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!stored_weekly.is_empty());
    fakes.post(&format!("/_fake/google/events/{series}/delete"), json!({}));
    // An exception: one occurrence of the 2027 series moves by an hour; the series is reshaped.
    let morning = by_title(&fakes, "Morning check (Denver spring 2027)");
    let m0 = morning[0]["id"].as_str().unwrap().to_string();
    fakes.post(
        &format!("/_fake/google/events/{m0}"),
        json!({"start": "2027-03-12T09:00:00", "end": "2027-03-12T09:30:00"}),
    );
    let sunday = by_title(&fakes, "Sunday service (Berlin spring 2027)")[0]["series_id"].as_str().unwrap().to_string();
    fakes.post(
        &format!("/_fake/google/events/{sunday}"),
        json!({"start": "2027-03-21T11:00:00", "end": "2027-03-21T12:30:00"}),
    );

    reset_stats(&fakes);
    let run = sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    let s = stats(&fakes);
    assert_eq!(s["endpoints"]["events.list"], s["endpoints"]["events.list (syncToken)"], "{s}");
    assert!(s["endpoints"]["calendarList.list"].is_null(), "{s}");
    assert!(!run.stderr.contains(" 0 deleted"), "{}", run.stderr);
    let conn = db(&env);
    let deleted = |id: &str| one(&conn, "SELECT deleted_at FROM events WHERE id = ?1", id).is_some();
    assert!(deleted(&lunch), "moved out of the window");
    assert!(deleted(&overnight) && deleted(&bin));
    for id in &stored_weekly {
        assert!(deleted(id), "the deleted series' instance {id}");
    }
    let tk: (String, String, String) = conn
        .query_row(
            "SELECT start_at, time_zone, attendees_count FROM events WHERE id = ?1",
            [tokyo["id"].as_str().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.to_string())),
        )
        .unwrap();
    assert_eq!(tk, ("2026-12-03T01:00:00Z".into(), "Asia/Tokyo".into(), "2".into()));
    // Berlin 09:00 is 08:00Z before 2027-03-28 and 07:00Z after.
    let berlin: Vec<String> = conn
        .prepare("SELECT start_at FROM events WHERE title = 'Berlin weekly' ORDER BY start_at")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        berlin,
        ["2027-03-19T08:00:00Z", "2027-03-26T08:00:00Z", "2027-04-02T07:00:00Z", "2027-04-09T07:00:00Z"]
    );
    assert!(one(&conn, "SELECT id FROM events WHERE title = 'Offsite' AND end_date = ?1", "2027-01-08").is_some());
}

#[test]
fn unchanged_calendars_cost_one_request_each() {
    let (env, fakes) = google(150, 30, 365, &[]);
    let ids = select_all(&env);
    sync(&env, &[]).ok();
    reset_stats(&fakes);
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("0 fetched, 0 inserted, 0 updated, 0 deleted; 3 requests"), "{}", run.stderr);
    let s = stats(&fakes);
    for id in &ids {
        assert_eq!(s["calendars"][id.as_str()], 1, "{id}: {s}");
    }
    assert_eq!(s["endpoints"], json!({"events.list": 3, "events.list (syncToken)": 3}), "{s}");
    assert_matches_truth(&env, &fakes);
}

#[test]
fn expired_sync_tokens_wipe_and_resync() {
    let (env, fakes) = google(200, 30, 365, &[]);
    let ids = select_all(&env);
    sync(&env, &[]).ok();
    let me = primary(&fakes);
    let crew = ids.iter().find(|i| i.starts_with("c_")).unwrap().clone();
    // A deletion the store remembers (deleted_at set) until the resync wipes the rows.
    let site = id_of(&fakes, "Site visit");
    fakes.post(&format!("/_fake/google/events/{site}/delete"), json!({}));
    sync(&env, &[]).ok();
    let conn = db(&env);
    assert!(one(&conn, "SELECT deleted_at FROM events WHERE id = ?1", &site).is_some());
    // One 410 without a reason, one with; a change lands meanwhile.
    fakes.post("/_fake/google/invalidate-sync-tokens", json!({"calendar": me, "no_reason": true}));
    fakes.post("/_fake/google/invalidate-sync-tokens", json!({"calendar": crew}));
    fakes.post(
        "/_fake/google/events",
        json!({"title": "After the resync", "start": "2026-12-20T10:00:00Z", "end": "2026-12-20T11:00:00Z"}),
    );
    reset_stats(&fakes);
    let run = sync(&env, &["-v"]).ok();
    assert_eq!(run.stderr.matches("(HTTP 410)").count(), 2, "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    let conn = db(&env);
    assert!(one(&conn, "SELECT id FROM events WHERE id = ?1", &site).is_none(), "the wipe forgot the deleted row");
    assert!(one(&conn, "SELECT id FROM events WHERE title = ?1", "After the resync").is_some());
    // The next run is incremental again.
    reset_stats(&fakes);
    sync(&env, &[]).ok();
    assert_eq!(stats(&fakes)["endpoints"]["events.list (syncToken)"], 3);
}

#[test]
fn rate_limits_and_backend_errors_are_retried() {
    let (env, fakes) = google(300, 30, 365, &[]);
    select_all(&env);
    fakes.post("/_fake/google/throttle", json!({"next": 3, "kind": "403"}));
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("3 throttle waits"), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    fakes.post("/_fake/google/events", json!({"title": "During the limits", "start": "2026-12-02T10:00:00Z"}));
    fakes.post("/_fake/google/throttle", json!({"next": 3, "kind": "429"}));
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("3 throttle waits"), "{}", run.stderr);
    fakes.post("/_fake/google/throttle", json!({"next": 2, "kind": "500"}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    assert_eq!(stats(&fakes)["rate_limited"], 6);
}

#[test]
fn injected_faults_end_with_the_same_data() {
    let (env, fakes) = google(3000, 30, 365, &[]);
    select_all(&env);
    fakes.post(
        "/_fake/faults",
        json!({"rate": 0.3, "kinds": ["500", "502", "503", "reset", "truncated", "html", "429"], "seed": 5, "provider": "google"}),
    );
    sync(&env, &[]).ok();
    fakes.post("/_fake/google/events", json!({"title": "Under faults", "start": "2026-12-02T10:00:00Z"}));
    fakes.post(&format!("/_fake/google/events/{}/delete", id_of(&fakes, "Lunch")), json!({}));
    sync(&env, &[]).ok();
    fakes.post("/_fake/faults", json!({"rate": 0}));
    assert_matches_truth(&env, &fakes);
    let f = fakes.get("/_fake/stats")["faults"].clone();
    assert!(f["total"].as_u64().unwrap() > 0, "faults were injected: {f}");
}

#[test]
fn killed_syncs_resume_without_loss() {
    // Big enough for several 2500-event pages per round, slow enough to be killed mid-round.
    let (env, fakes) = google(24000, 30, 365, &["--latency-ms", "150"]);
    select_all(&env);
    let me = primary(&fakes);
    // A fresh look each time (on PostgreSQL `db` is a snapshot).
    let mid_round = || {
        let conn = db(&env);
        let c: Option<String> = conn
            .query_row("SELECT cursor FROM sync_state WHERE stream = ?1", [format!("events:{me}")], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
            .flatten();
        let singles: i64 = conn
            .query_row("SELECT count(*) FROM events WHERE calendar_id = ?1 AND series_id IS NULL", [&me], |r| r.get(0))
            .unwrap_or(0);
        singles >= 2 && c.is_some_and(|c| c.contains("page_token") && !c.contains("sync_token"))
    };
    // A time budget stops the first round cleanly between pages.
    let run = sync(&env, &["--max-duration", "1"]).ok();
    assert!(run.stderr.contains("--max-duration reached"), "{}", run.stderr);
    // Killed in the middle of the primary calendar's first round, with pages committed.
    kill_when(&env, &["sync", "events"], Duration::from_secs(60), mid_round);
    assert!(mid_round(), "the first round was interrupted after a committed page");
    // Meanwhile an event already stored is deleted, another edited, one added: the resumed
    // round will not see the first two again.
    let stored: Vec<String> = db(&env)
        .prepare("SELECT id FROM events WHERE calendar_id = ?1 AND series_id IS NULL LIMIT 2")
        .unwrap()
        .query_map([&me], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    fakes.post(&format!("/_fake/google/events/{}/delete", stored[0]), json!({}));
    fakes.post(&format!("/_fake/google/events/{}", stored[1]), json!({"title": "Edited mid-round"}));
    fakes.post("/_fake/google/events", json!({"title": "Added mid-round", "start": "2026-12-02T10:00:00Z"}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    // Then runs killed at random moments, with changes between them.
    let mut rng = 424242u64;
    for n in 0..4 {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let after = Duration::from_millis(100 + (rng >> 33) % 1500);
        fakes.post(
            "/_fake/google/events",
            json!({"title": format!("Between kills {n}"), "start": "2026-12-02T10:00:00Z"}),
        );
        if n == 1 {
            fakes.post("/_fake/google/invalidate-sync-tokens", json!({"calendar": me}));
        }
        kill_when(&env, &["sync", "events"], after, || false);
    }
    fakes.post(&format!("/_fake/google/events/{}/delete", id_of(&fakes, "Trade show")), json!({}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    let interrupted = runs_with_outcome(&env, "interrupted");
    assert!(interrupted >= 1, "killed runs are recorded as interrupted");
}

#[test]
fn full_rebuilds_with_the_current_window_and_marks_the_rest_deleted() {
    let (mut env, fakes) = google(300, 300, 365, &[]);
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    let conn = db(&env);
    let old: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE deleted_at IS NULL AND coalesce(end_at, end_date) < '2026-10-01'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(old > 0);
    env.set("INTEG_EVENTS_PAST_DAYS", "30");
    let run = sync(&env, &["--full", "-v"]).ok();
    assert!(run.stderr.contains("full round"), "{}", run.stderr);
    let conn = db(&env);
    let gone: i64 =
        conn.query_row("SELECT count(*) FROM events WHERE deleted_at IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert!(gone >= old, "{gone} < {old}");
    assert!(run.stderr.contains(&format!(" {gone} deleted")), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    let c = cursor(&conn, &primary(&fakes));
    assert!(c["time_min"].as_str().unwrap() > "2026-10-01", "{c}");
}

#[test]
fn calendars_list_select_and_deselect() {
    let (env, fakes) = google(100, 30, 365, &[]);
    let list = env.run(&["calendars", "list", "--json"]).ok().json();
    let cals = list.as_array().unwrap();
    assert_eq!(cals.len(), 3);
    let me = primary(&fakes);
    let first = &cals[0];
    assert_eq!(
        (first["id"].as_str(), first["primary"].as_bool(), first["selected"].as_bool()),
        (Some(me.as_str()), Some(true), Some(true))
    );
    assert_eq!(first["access_role"], "owner");
    assert_eq!(first["time_zone"], "America/Denver");
    let crew = cals.iter().find(|c| c["name"] == "Crew schedule").unwrap()["id"].as_str().unwrap().to_string();
    let holidays = cals.iter().find(|c| c["name"] == "Holidays in United States").unwrap();
    assert_eq!((holidays["access_role"].as_str(), holidays["selected"].as_bool()), (Some("reader"), Some(false)));
    // Only the primary calendar is read at first.
    sync(&env, &[]).ok();
    assert_eq!(stats(&fakes)["calendars"], json!({ me.clone(): 1 }));
    env.run(&["calendars", "select", &crew]).ok();
    reset_stats(&fakes);
    sync(&env, &[]).ok();
    assert_eq!(stats(&fakes)["calendars"][crew.as_str()], 1);
    assert_matches_truth(&env, &fakes);
    env.run(&["calendars", "deselect", &crew]).ok();
    reset_stats(&fakes);
    sync(&env, &[]).ok();
    assert!(stats(&fakes)["calendars"][crew.as_str()].is_null());
    let kept: i64 =
        db(&env).query_row("SELECT count(*) FROM events WHERE calendar_id = ?1", [&crew], |r| r.get(0)).unwrap();
    assert!(kept > 0, "a deselected calendar's events stay");
    let off = env.run(&["calendars", "list", "--offline", "--json"]).ok().json();
    assert_eq!(off.as_array().unwrap().iter().filter(|c| c["selected"] == true).count(), 1);
    env.run(&["calendars", "select", "no-such-calendar"]).code(2);
}

#[test]
fn events_list_shows_dates_and_zoned_times() {
    let (env, fakes) = google(40, 30, 365, &[]);
    select_all(&env);
    sync(&env, &[]).ok();
    let json = env
        .run(&[
            "events",
            "list",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-09",
            "--tz",
            "Asia/Tokyo",
            "--provider",
            "google",
            "--json",
        ])
        .ok()
        .json();
    let list = json.as_array().unwrap();
    let trade = list.iter().find(|e| e["title"] == "Trade show").expect("the all-day event overlapping the range");
    assert_eq!(
        (trade["all_day"].as_bool(), trade["start_date"].as_str(), trade["end_date"].as_str()),
        (Some(true), Some("2026-12-08"), Some("2026-12-11"))
    );
    assert!(trade["start_at"].is_null());
    let call = list.iter().find(|e| e["title"] == "Tokyo supplier call").unwrap();
    assert_eq!(
        (call["start_at"].as_str(), call["time_zone"].as_str()),
        (Some("2026-12-01T08:00:00Z"), Some("Asia/Tokyo"))
    );
    assert_eq!(call["status"], "tentative");
    let tokyo =
        env.run(&["events", "list", "--from", "2026-12-01", "--to", "2026-12-01", "--tz", "Asia/Tokyo"]).ok().stdout;
    assert!(tokyo.contains("2026-12-01 17:00") && tokyo.contains("Tokyo supplier call"), "{tokyo}");
    let denver = env
        .run(&["events", "list", "--from", "2026-12-01", "--to", "2026-12-01", "--tz", "America/Denver"])
        .ok()
        .stdout;
    assert!(denver.contains("2026-12-01 01:00"), "{denver}");
    let table =
        env.run(&["events", "list", "--from", "2026-12-08", "--to", "2026-12-10", "--tz", "Asia/Tokyo"]).ok().stdout;
    assert!(table.contains("2026-12-08 (all day)") && table.contains("2026-12-10"), "{table}");
    let csv = env.run(&["events", "list", "--from", "2026-12-08", "--to", "2026-12-10", "--csv"]).ok().stdout;
    assert!(csv.lines().any(|l| l.contains("Trade show") && l.contains(",true,2026-12-08,2026-12-11,")), "{csv}");
    let _ = fakes;
}

#[test]
fn refused_page_token_gone_calendar_and_expired_access_token() {
    let (env, fakes) = google(120, 30, 365, &[]);
    let ids = select_all(&env);
    sync(&env, &[]).ok();
    let me = primary(&fakes);
    // An interrupted round whose saved page token is no longer accepted starts over.
    let conn = db(&env);
    let stream = format!("events:{me}");
    let mut c = cursor(&conn, &me);
    c["page_token"] = json!("no-longer-valid");
    exec(
        &env,
        &format!("UPDATE sync_state SET cursor = {} WHERE stream = {}", sql_text(&c.to_string()), sql_text(&stream)),
    );
    let run = sync(&env, &["-v"]).ok();
    assert!(run.stderr.contains("saved page token was refused"), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    // A calendar deleted at Google is skipped with a note and marked deleted.
    let crew = ids.iter().find(|i| i.starts_with("c_")).unwrap().clone();
    fakes.post(&format!("/_fake/google/calendars/{}", enc(&crew)), json!({"deleted": true}));
    let run = sync(&env, &["-v"]).ok();
    assert!(run.stderr.contains("(HTTP 404)"), "{}", run.stderr);
    let off = env.run(&["calendars", "list", "--offline", "--json"]).ok().json();
    assert!(off.as_array().unwrap().iter().all(|c| c["id"] != crew.as_str()), "{off}");
    assert_matches_truth(&env, &fakes);
    // The fake's clock jumps past the access token's life: a 401, one refresh, then success.
    fakes.post("/_fake/clock/advance", json!({"seconds": 4000}));
    fakes.post("/_fake/google/events", json!({"title": "After the jump", "start": "2026-12-02T10:00:00Z"}));
    let before = stats(&fakes)["refresh_ok"].as_u64().unwrap();
    sync(&env, &[]).ok();
    assert_eq!(stats(&fakes)["refresh_ok"].as_u64().unwrap(), before + 1);
    assert_matches_truth(&env, &fakes);
}
