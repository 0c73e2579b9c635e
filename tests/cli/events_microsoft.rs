//! `integ sync events` against the fake Microsoft Graph: after full rounds, delta rounds,
//! resyncs, throttling, faults and kills, every selected calendar's live rows must equal the
//! fake's ground truth for the window the client froze into its cursor, field by field.

use std::collections::BTreeMap;
use std::time::Duration;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::common::{
    Fakes, Run, TestEnv, a_run_is_going, connected, db, kill_when, pct_encode as pct, runs_with_outcome,
};
use crate::truth::{self, Window};

/// A connected Microsoft account against a fake seeded with `events` events.
fn microsoft(events: usize, extra: &[&str]) -> (TestEnv, Fakes) {
    let seed = events.to_string();
    let mut args = vec!["--microsoft-seed-events", seed.as_str()];
    args.extend_from_slice(extra);
    connected("microsoft", &args, |_| {})
}

fn sync(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["sync", "events", "--provider", "microsoft"];
    all.extend_from_slice(args);
    env.run(&all)
}

/// Each synced calendar and the window its cursor froze.
fn windows(conn: &Connection) -> Vec<(String, String, String)> {
    let mut stmt = conn.prepare("SELECT stream, cursor FROM sync_state WHERE stream LIKE 'events:%'").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap();
    rows.map(|r| {
        let (stream, cursor) = r.unwrap();
        let c: Value = serde_json::from_str(&cursor).unwrap();
        let w = &c["window"];
        (
            stream.trim_start_matches("events:").to_string(),
            w["start"].as_str().unwrap().to_string(),
            w["end"].as_str().unwrap().to_string(),
        )
    })
    .collect()
}

/// Every synced calendar holds exactly the truth of the window its cursor froze; returns the
/// events compared.
#[track_caller]
fn assert_matches_truth(env: &TestEnv, fakes: &Fakes) -> usize {
    let windows: Vec<Window> =
        windows(&db(env)).into_iter().map(|(calendar, min, max)| Window { calendar, min, max }).collect();
    truth::assert_matches_truth(env, fakes, "microsoft", &windows)
}

/// The truth of the primary calendar over a wide range, to find events by title.
fn find(fakes: &Fakes, title: &str) -> Vec<Value> {
    let all = fakes.get("/_fake/microsoft/truth?time_min=2000-01-01T00:00:00Z&time_max=2040-01-01T00:00:00Z");
    all["events"].as_array().unwrap().iter().filter(|e| e["title"] == title).cloned().collect()
}

fn one(fakes: &Fakes, title: &str) -> Value {
    let found = find(fakes, title);
    assert_eq!(found.len(), 1, "{title}: {found:?}");
    found[0].clone()
}

fn row(env: &TestEnv, id: &str) -> BTreeMap<String, Value> {
    let conn = db(env);
    conn.query_row(
        "SELECT title, status, all_day, start_at, end_at, start_date, end_date, time_zone, original_start,
                deleted_at IS NOT NULL FROM events WHERE id = ?1",
        [id],
        |r| {
            let names = [
                "title",
                "status",
                "all_day",
                "start_at",
                "end_at",
                "start_date",
                "end_date",
                "time_zone",
                "original_start",
                "deleted",
            ];
            let mut m = BTreeMap::new();
            for (i, n) in names.iter().enumerate() {
                let v: rusqlite::types::Value = r.get(i)?;
                m.insert(
                    n.to_string(),
                    match v {
                        rusqlite::types::Value::Null => Value::Null,
                        rusqlite::types::Value::Integer(x) => json!(x),
                        rusqlite::types::Value::Text(t) => json!(t),
                        _ => Value::Null,
                    },
                );
            }
            Ok(m)
        },
    )
    .unwrap_or_else(|e| panic!("event {id}: {e}"))
}

fn ms(fakes: &Fakes) -> Value {
    fakes.get("/_fake/stats")["microsoft"].clone()
}

fn calendars_json(env: &TestEnv) -> Vec<Value> {
    env.run(&["calendars", "list", "--provider", "microsoft", "--json"]).ok().json().as_array().unwrap().clone()
}

#[test]
fn full_sync_then_changes_follow_the_truth() {
    let (env, fakes) = microsoft(80, &[]);
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("events:") && run.stderr.contains("inserted"), "{}", run.stderr);
    let n = assert_matches_truth(&env, &fakes);
    assert!(n > 30, "only {n} events in the window");

    let primary = calendars_json(&env).into_iter().find(|c| c["primary"] == true).unwrap();
    let crew = calendars_json(&env).into_iter().find(|c| c["name"] == "Crew").unwrap();
    let site = one(&fakes, "Site visit");
    let lunch = one(&fakes, "Lunch");
    let tokyo = one(&fakes, "Tokyo supplier call");
    let sydney = one(&fakes, "Sydney call");
    let overnight = one(&fakes, "Overnight shift");
    let weekly: Vec<Value> = find(&fakes, "Weekly sync (Denver fall DST)");
    let bins: Vec<Value> = find(&fakes, "Bin day");
    assert!(weekly.len() > 3 && bins.len() > 3);

    let added = fakes.post(
        "/_fake/microsoft/events",
        json!({"title": "New walkthrough", "description": "Bring <gloves> & boots", "location": "Depot",
               "start": "2026-12-02T10:00:00", "end": "2026-12-02T11:30:00", "time_zone": "Europe/Berlin",
               "attendees": ["a@example.com", "b@example.com"]}),
    );
    let added_id = added["id"].as_str().unwrap().to_string();
    let all_day = fakes.post(
        "/_fake/microsoft/events",
        json!({"title": "Inventory days", "start": "2026-12-14", "end": "2026-12-17"}),
    );
    fakes.post(
        &format!("/_fake/microsoft/events/{}", site["id"].as_str().unwrap()),
        json!({"title": "Site visit (moved)", "start": "2026-11-05T13:00:00Z", "end": "2026-11-05T14:00:00Z"}),
    );
    fakes.post(&format!("/_fake/microsoft/events/{}/delete", lunch["id"].as_str().unwrap()), json!({}));
    fakes.post(&format!("/_fake/microsoft/events/{}", tokyo["id"].as_str().unwrap()), json!({"is_cancelled": true}));
    // Out of the window, and into an unselected calendar.
    fakes.post(
        &format!("/_fake/microsoft/events/{}", sydney["id"].as_str().unwrap()),
        json!({"start": "2030-01-11T09:00:00Z"}),
    );
    fakes.post(
        &format!("/_fake/microsoft/events/{}", overnight["id"].as_str().unwrap()),
        json!({"calendar": crew["id"].as_str().unwrap()}),
    );
    // Never seen: outside the window from the start (Graph still reports it as @removed).
    fakes.post("/_fake/microsoft/events", json!({"title": "Far future", "start": "2031-05-05T10:00:00Z"}));
    // One occurrence moved (an exception), one cancelled, and a whole series renamed.
    fakes.post(
        &format!("/_fake/microsoft/events/{}", weekly[1]["id"].as_str().unwrap()),
        json!({"start": "2026-11-30T18:00:00Z", "end": "2026-11-30T19:00:00Z"}),
    );
    fakes.post(&format!("/_fake/microsoft/events/{}/delete", weekly[2]["id"].as_str().unwrap()), json!({}));
    let series = bins[0]["series_id"].as_str().unwrap();
    fakes.post(&format!("/_fake/microsoft/events/{series}"), json!({"title": "Bin day (green)"}));

    let run = sync(&env, &[]).ok();
    assert!(!run.stderr.contains(" 0 deleted"), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);

    let a = row(&env, &added_id);
    assert_eq!(a["start_at"], "2026-12-02T09:00:00Z");
    assert_eq!(a["time_zone"], "Europe/Berlin");
    let d = row(&env, all_day["id"].as_str().unwrap());
    assert_eq!(
        (d["all_day"].clone(), d["start_date"].clone(), d["end_date"].clone()),
        (json!(1), json!("2026-12-14"), json!("2026-12-17"))
    );
    assert_eq!(d["start_at"], Value::Null);
    for gone in [&lunch, &sydney, &overnight, &weekly[2]] {
        assert_eq!(row(&env, gone["id"].as_str().unwrap())["deleted"], 1, "{gone}");
    }
    assert_eq!(row(&env, tokyo["id"].as_str().unwrap())["status"], "cancelled");
    assert_eq!(row(&env, tokyo["id"].as_str().unwrap())["deleted"], 0, "isCancelled events stay, cancelled");
    let conn = db(&env);
    let renamed: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE series_id = ?1 AND title = 'Bin day (green)' AND deleted_at IS NULL",
            [series],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(renamed as usize, bins.len());
    assert_eq!(primary["access_role"], "owner");
}

#[test]
fn daylight_saving_series_and_all_day_events() {
    let (mut env, fakes) = microsoft(20, &[]);
    // Reach back to the spring 2026 series.
    env.set("INTEG_EVENTS_PAST_DAYS", "300");
    // The Berlin series live in the "Crew" calendar.
    let crew = calendars_json(&env).into_iter().find(|c| c["name"] == "Crew").unwrap();
    env.run(&["calendars", "select", crew["id"].as_str().unwrap()]).ok();
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    let conn = db(&env);
    let starts = |title: &str| -> Vec<(String, Option<String>, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT start_at, time_zone, original_start FROM events WHERE title = ?1 AND deleted_at IS NULL ORDER BY start_at")
            .unwrap();
        stmt.query_map([title], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    // 09:00 in Denver: 16:00Z before the March 8 switch, 15:00Z after.
    let standup = starts("Standup (Denver spring DST)");
    let times: Vec<&str> = standup.iter().map(|s| s.0.as_str()).collect();
    assert!(times.contains(&"2026-03-06T16:00:00Z") && times.contains(&"2026-03-09T15:00:00Z"), "{times:?}");
    // The moved instance keeps its original start.
    assert!(
        standup.iter().any(|s| s.0 == "2026-03-13T17:00:00Z" && s.2.as_deref() == Some("2026-03-13T15:00:00Z")),
        "{standup:?}"
    );
    // 18:00 in Berlin: 17:00Z before March 29, 16:00Z after; the EXDATE'd March 30 is absent.
    let briefing = starts("Crew briefing (Berlin spring DST)");
    let times: Vec<&str> = briefing.iter().map(|s| s.0.as_str()).collect();
    assert!(times.contains(&"2026-03-28T17:00:00Z") && times.contains(&"2026-03-29T16:00:00Z"), "{times:?}");
    assert!(!times.iter().any(|t| t.starts_with("2026-03-30")), "{times:?}");
    // Fall: Denver 07:30 is 13:30Z until November 1, then 14:30Z.
    let weekly = starts("Weekly sync (Denver fall DST)");
    let times: Vec<&str> = weekly.iter().map(|s| s.0.as_str()).collect();
    assert!(times.contains(&"2026-10-29T13:30:00Z") && times.contains(&"2026-11-03T14:30:00Z"), "{times:?}");
    // All-day: dates with an exclusive end, no instants, no zone; a series keeps original dates.
    let (start, end, tz, at): (String, String, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT start_date, end_date, time_zone, start_at FROM events WHERE title = 'Trade show' AND all_day = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((start.as_str(), end.as_str(), tz, at), ("2026-12-08", "2026-12-11", None, None));
    let bins: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare("SELECT start_date, original_start FROM events WHERE title = 'Bin day' AND deleted_at IS NULL ORDER BY start_date")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert!(bins.len() >= 8 && bins.iter().all(|(s, o)| s == o), "{bins:?}");

    // events list: all-day as dates, timed in the zone asked for.
    let listed = env
        .run(&[
            "events",
            "list",
            "--provider",
            "microsoft",
            "--from",
            "2026-11-26",
            "--to",
            "2026-11-26",
            "--tz",
            "America/Denver",
            "--json",
        ])
        .ok()
        .json();
    let thanksgiving = listed.as_array().unwrap().iter().find(|e| e["title"] == "Closed (Thanksgiving)").unwrap();
    assert_eq!(
        (thanksgiving["start_date"].clone(), thanksgiving["end_date"].clone()),
        (json!("2026-11-26"), json!("2026-11-27"))
    );
    let table = env
        .run(&[
            "events",
            "list",
            "--provider",
            "microsoft",
            "--from",
            "2026-11-03",
            "--to",
            "2026-11-03",
            "--tz",
            "America/Denver",
        ])
        .ok()
        .stdout;
    assert!(table.contains("2026-11-03 09:30") && table.contains("Site visit"), "{table}");
    let table = env
        .run(&[
            "events",
            "list",
            "--provider",
            "microsoft",
            "--from",
            "2026-11-04",
            "--to",
            "2026-11-04",
            "--tz",
            "Asia/Tokyo",
        ])
        .ok()
        .stdout;
    assert!(table.contains("2026-11-04 01:30") && table.contains("Site visit"), "{table}");
    let csv = env
        .run(&["events", "list", "--provider", "microsoft", "--from", "2026-12-08", "--to", "2026-12-08", "--csv"])
        .ok()
        .stdout;
    assert!(csv.lines().any(|l| l.contains("Trade show") && l.contains(",true,2026-12-08,2026-12-11,")), "{csv}");
}

#[test]
fn calendars_are_listed_selected_and_cost_one_request_each_when_unchanged() {
    let (env, fakes) = microsoft(120, &[]);
    let cals = calendars_json(&env);
    assert_eq!(cals.len(), 3, "{cals:?}");
    let truth_cals = fakes.get("/_fake/microsoft/calendars")["calendars"].as_array().unwrap().clone();
    for c in &cals {
        let t = truth_cals.iter().find(|t| t["id"] == c["id"]).unwrap();
        assert_eq!(c["name"], t["name"]);
        assert_eq!(c["primary"], t["primary"]);
        assert_eq!(c["access_role"], t["access_role"]);
        assert_eq!(c["selected"], t["primary"], "only the default calendar starts selected");
        assert_eq!(c["provider"], "microsoft");
    }
    for c in &cals {
        env.run(&["calendars", "select", c["id"].as_str().unwrap()]).ok();
    }
    assert!(calendars_json(&env).iter().all(|c| c["selected"] == true));
    sync(&env, &[]).ok();
    assert_eq!(windows(&db(&env)).len(), 3);
    assert_matches_truth(&env, &fakes);
    assert_eq!(ms(&fakes)["rate_limited"], 0);

    // Nothing changed: one delta-link request per selected calendar, nothing else.
    fakes.post("/_fake/stats/reset", json!({}));
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains(": 0 fetched") && run.stderr.contains("; 3 requests"), "{}", run.stderr);
    let s = ms(&fakes);
    assert_eq!(s["endpoints"]["calendarView.delta (deltaLink)"], 3, "{s}");
    assert_eq!(s["endpoints"]["calendarView.delta"], 3, "{s}");
    for c in &cals {
        assert_eq!(s["calendars"][c["id"].as_str().unwrap()], 1, "{s}");
    }

    let holidays = cals.iter().find(|c| c["access_role"] == "reader").unwrap();
    env.run(&["calendars", "deselect", holidays["id"].as_str().unwrap()]).ok();
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    assert_eq!(ms(&fakes)["endpoints"]["calendarView.delta"], 2);

    // A selected calendar deleted in Outlook is skipped (404), the others still sync.
    let crew = cals.iter().find(|c| c["name"] == "Crew").unwrap()["id"].as_str().unwrap().to_string();
    fakes.post(&format!("/_fake/microsoft/calendars/{}", pct(&crew)), json!({"deleted": true}));
    fakes.post("/_fake/microsoft/events", json!({"title": "Still synced", "start": "2026-12-03T10:00:00Z"}));
    sync(&env, &[]).ok();
    let n: i64 =
        db(&env).query_row("SELECT count(*) FROM events WHERE title = 'Still synced'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let listed = calendars_json(&env);
    assert!(listed.iter().all(|c| c["id"] != crew.as_str()), "{listed:?}");
}

#[test]
fn a_refused_token_is_refreshed_once_for_all_calendars() {
    let (env, fakes) = microsoft(60, &[]);
    for c in calendars_json(&env) {
        env.run(&["calendars", "select", c["id"].as_str().unwrap()]).ok();
    }
    sync(&env, &[]).ok();
    fakes.post("/_fake/expire-access-tokens", json!({"provider": "microsoft"}));
    fakes.post("/_fake/microsoft/events", json!({"title": "After expiry", "start": "2026-12-04T10:00:00Z"}));
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    let s = ms(&fakes);
    assert_eq!(s["refresh_ok"], 1, "{s}");
    assert!(s["unauthorized"].as_u64().unwrap() >= 1, "{s}");
}

#[test]
fn resync_signals_and_full_replace_the_calendar() {
    let (env, fakes) = microsoft(60, &[]);
    sync(&env, &[]).ok();
    let lunch = one(&fakes, "Lunch");
    fakes.post(&format!("/_fake/microsoft/events/{}/delete", lunch["id"].as_str().unwrap()), json!({}));
    fakes.post("/_fake/microsoft/events", json!({"title": "After the reset", "start": "2026-12-20T10:00:00Z"}));
    for mode in ["syncStateNotFound", "resyncRequired"] {
        let r = fakes.post("/_fake/microsoft/invalidate-delta", json!({"mode": mode}));
        assert!(r["invalidated"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
        fakes.post("/_fake/stats/reset", json!({}));
        sync(&env, &[]).ok();
        assert_matches_truth(&env, &fakes);
        // The stale delta link once, then a new initial round.
        let s = ms(&fakes);
        assert!(s["endpoints"]["calendarView.delta"].as_u64().unwrap() >= 2, "{s}");
        fakes.post(
            "/_fake/microsoft/events",
            json!({"title": format!("After {mode}"), "start": "2026-12-21T10:00:00Z"}),
        );
    }
    // The wipe took the deleted event with it.
    let n: i64 = db(&env)
        .query_row("SELECT count(*) FROM events WHERE id = ?1", [lunch["id"].as_str().unwrap()], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    // And the delta keeps working after a resync.
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);

    // --full: a deletion an initial round cannot show still disappears.
    let site = one(&fakes, "Site visit");
    fakes.post(&format!("/_fake/microsoft/events/{}/delete", site["id"].as_str().unwrap()), json!({}));
    sync(&env, &["--full"]).ok();
    assert_matches_truth(&env, &fakes);
    // A new window setting reads the calendar again over the new window.
    let mut env = env;
    env.set("INTEG_EVENTS_FUTURE_DAYS", "60");
    sync(&env, &[]).ok();
    let (_, start, end) = windows(&db(&env)).remove(0);
    let secs =
        end.parse::<jiff::Timestamp>().unwrap().as_second() - start.parse::<jiff::Timestamp>().unwrap().as_second();
    assert_eq!(secs, (30 + 60) * 86_400, "{start} .. {end}");
    assert_matches_truth(&env, &fakes);
}

#[test]
fn throttling_and_mailbox_concurrency_are_honoured() {
    let (env, fakes) = microsoft(150, &[]);
    // Three more calendars with events: six selected, more than the mailbox's four slots.
    for i in 0..3 {
        let c = fakes.post("/_fake/microsoft/calendars", json!({"name": format!("Extra {i}")}));
        let id = c["calendar"]["id"].as_str().unwrap().to_string();
        for d in 0..25 {
            fakes.post(
                "/_fake/microsoft/events",
                json!({"calendar": id, "title": format!("Extra {i}.{d}"), "start": format!("2026-12-{:02}T{:02}:00:00Z", 1 + d, 8 + i)}),
            );
        }
    }
    for c in calendars_json(&env) {
        env.run(&["calendars", "select", c["id"].as_str().unwrap()]).ok();
    }
    fakes.post("/_fake/microsoft/paging", json!({"mode": "mixed"}));
    fakes.post("/_fake/latency", json!({"ms": 150}));
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    assert_eq!(ms(&fakes)["rate_limited"], 0, "never more than 4 requests in flight");

    // A mailbox that allows only 2 at a time answers 429 ApplicationThrottled; decimal
    // Retry-After values and 503s are waited out.
    fakes.post(
        "/_fake/microsoft/throttle",
        json!({"next": 0, "concurrency_limit": 2, "concurrency_retry_after": "0.3"}),
    );
    env.run(&["sync", "events", "--full"]).ok();
    assert!(ms(&fakes)["rate_limited"].as_u64().unwrap() > 0, "the calendars really ran concurrently");
    assert_matches_truth(&env, &fakes);
    fakes.post(
        "/_fake/microsoft/throttle",
        json!({"next": 3, "kind": "429", "retry_after": "0.75", "concurrency_limit": 4}),
    );
    fakes.post("/_fake/microsoft/events", json!({"title": "During throttling", "start": "2026-12-22T10:00:00Z"}));
    let run = sync(&env, &[]).ok();
    assert!(!run.stderr.contains(", 0 throttle waits"), "{}", run.stderr);
    fakes.post("/_fake/microsoft/throttle", json!({"next": 2, "kind": "503", "retry_after": "0.5"}));
    sync(&env, &["--full"]).ok();
    assert_matches_truth(&env, &fakes);
    let conn = db(&env);
    let waits: i64 =
        conn.query_row("SELECT sum(throttle_waits) FROM sync_runs WHERE stream = 'events'", [], |r| r.get(0)).unwrap();
    assert!(waits >= 5, "throttle waits recorded: {waits}");
}

#[test]
fn faults_and_kills_lose_nothing() {
    let (env, fakes) = microsoft(2500, &[]);
    for c in calendars_json(&env) {
        env.run(&["calendars", "select", c["id"].as_str().unwrap()]).ok();
    }
    fakes.post("/_fake/latency", json!({"ms": 40}));
    let mut rng = 4242u64;
    // The first kill lands in a recorded run whatever the machine's speed; the rest at random.
    assert!(
        kill_when(&env, &["sync", "events"], Duration::from_secs(60), || a_run_is_going(&env)),
        "the run ended first"
    );
    for _ in 1..5 {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let after = Duration::from_millis(150 + (rng >> 33) % 900);
        kill_when(&env, &["sync", "events"], after, || false);
    }
    fakes.post("/_fake/latency", json!({"ms": 0}));
    fakes.post(
        "/_fake/faults",
        json!({"rate": 0.2, "kinds": ["500", "502", "503", "reset", "truncated", "html", "429"], "seed": 7, "provider": "microsoft"}),
    );
    let run = sync(&env, &[]).any();
    assert_eq!(run.code, 0, "{}", run.stderr);
    fakes.post("/_fake/faults", json!({"rate": 0}));
    assert_matches_truth(&env, &fakes);
    let injected = fakes.get("/_fake/faults")["total"].as_u64().unwrap();
    assert!(injected > 0, "faults were injected");
    let interrupted = runs_with_outcome(&env, "interrupted");
    assert!(interrupted >= 1, "killed runs are recorded as interrupted");
}

#[test]
fn max_duration_pauses_between_pages_and_the_next_run_resumes() {
    let (env, fakes) = microsoft(1500, &[]);
    calendars_json(&env);
    fakes.post("/_fake/microsoft/paging", json!({"mode": "plain"}));
    fakes.post("/_fake/latency", json!({"ms": 400}));
    let run = sync(&env, &["--max-duration", "1s"]).ok();
    assert!(run.stderr.contains("--max-duration reached"), "{}", run.stderr);
    let cursor: String =
        db(&env).query_row("SELECT cursor FROM sync_state WHERE stream LIKE 'events:%'", [], |r| r.get(0)).unwrap();
    let c: Value = serde_json::from_str(&cursor).unwrap();
    assert!(c["next_link"].is_string() && c["delta_link"].is_null(), "a round in progress: {c}");
    fakes.post("/_fake/latency", json!({"ms": 0}));
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    let total = assert_matches_truth(&env, &fakes) as i64;
    // The second run went on from the saved page instead of starting over.
    let conn = db(&env);
    let mut stmt = conn.prepare("SELECT outcome, fetched FROM sync_runs WHERE stream = 'events' ORDER BY id").unwrap();
    let runs: Vec<(String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(runs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["partial", "ok"]);
    assert!(runs[0].1 > 0 && runs[1].1 < total, "{runs:?} of {total}");
}

#[test]
fn a_malformed_page_fails_without_writing() {
    let (env, fakes) = microsoft(40, &[]);
    calendars_json(&env);
    fakes.post("/_fake/faults", json!({"rate": 1.0, "kinds": ["truncated"], "provider": "microsoft"}));
    let run = sync(&env, &[]).any();
    assert_ne!(run.code, 0, "{}", run.stderr);
    let conn = db(&env);
    let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    assert!(windows(&conn).is_empty(), "no cursor was saved");
    fakes.post("/_fake/faults", json!({"rate": 0}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
}
