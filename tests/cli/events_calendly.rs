//! `integ sync events` for Calendly against the fake: one pseudo-calendar per account, a window
//! rescan each run, and the SQLite rows equal to the fake's truth for the window the client
//! scanned (read back from the stream's cursor), field by field, after full and repeated
//! syncs, changes, cancellations, reschedules, hard deletions, throttling, faults and kills.
//! Calendly events are UTC instants: no all-day events, no series, no time zones to get wrong.

use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::common::{Fakes, Run, TestEnv, a_run_is_going, connected, db, kill_when, runs_with_outcome};
use crate::truth::{self, Window};

/// A Calendly account connected through the browser flow, against a fake seeded with `events`
/// scheduled events. The API rate limit is raised unless `extra` sets it.
fn calendly(events: usize, extra: &[&str]) -> (TestEnv, Fakes) {
    let seed = events.to_string();
    let mut args = vec!["--calendly-seed-events", seed.as_str()];
    args.extend_from_slice(&["--calendar-seed", "7"]);
    if !extra.contains(&"--calendly-api-rate-limit") {
        args.extend_from_slice(&["--calendly-api-rate-limit", "100000"]);
    }
    args.extend_from_slice(extra);
    connected("calendly", &args, |_| {})
}

fn sync(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["sync", "events", "--provider", "calendly"];
    all.extend_from_slice(args);
    env.run(&all)
}

fn user_uri(fakes: &Fakes) -> String {
    format!("{}/calendly/api/users/EBHAAFHDCAEQTSEZ", fakes.base_url)
}

/// The stream's cursor.
fn cursor(env: &TestEnv, fakes: &Fakes) -> Value {
    let text: String = db(env)
        .query_row("SELECT cursor FROM sync_state WHERE stream = ?1", [format!("events:{}", user_uri(fakes))], |r| {
            r.get(0)
        })
        .expect("the events stream has a cursor");
    serde_json::from_str(&text).unwrap()
}

/// The window of the last completed scan.
fn window(env: &TestEnv, fakes: &Fakes) -> (String, String) {
    let c = cursor(env, fakes);
    let scan = &c["last_scan"];
    (scan["from"].as_str().unwrap().to_string(), scan["to"].as_str().unwrap().to_string())
}

/// The window of the last completed scan, for the account's one pseudo-calendar.
fn scanned(env: &TestEnv, fakes: &Fakes) -> Window {
    let (min, max) = window(env, fakes);
    Window { calendar: user_uri(fakes), min, max }
}

fn truth(fakes: &Fakes, from: &str, to: &str) -> Value {
    json!({ "events": truth::truth(fakes, "calendly", &Window { calendar: user_uri(fakes), min: from.into(), max: to.into() }) })
}

/// Assert the live Calendly rows are exactly the truth of the window the last scan used.
#[track_caller]
fn assert_matches_truth(env: &TestEnv, fakes: &Fakes) -> usize {
    let n = truth::assert_matches_truth(env, fakes, "calendly", &[scanned(env, fakes)]);
    // The comparison covers the pseudo-calendar: no live Calendly row may sit outside it.
    let live: i64 = db(env)
        .query_row("SELECT count(*) FROM events WHERE provider = 'calendly' AND deleted_at IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(live as usize, n, "live Calendly events outside the pseudo-calendar {}", user_uri(fakes));
    n
}

fn list_calls(fakes: &Fakes) -> u64 {
    fakes.get("/_fake/stats")["calendly"]["endpoints"]["scheduled_events.list"].as_u64().unwrap_or(0)
}

/// The fake's control API names events by their UUID, the last segment of the URI.
fn uuid(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap()
}

fn stored_event(conn: &Connection, id: &str) -> (Option<String>, Option<String>, String) {
    conn.query_row("SELECT status, deleted_at, raw_json FROM events WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .unwrap_or_else(|e| panic!("event {id}: {e}"))
}

#[test]
fn full_sync_equals_truth_and_lists_one_calendar() {
    let (env, fakes) = calendly(400, &[]);
    let run = sync(&env, &[]).ok();
    let n = assert_matches_truth(&env, &fakes);
    assert!(n > 150, "the window holds {n} events");
    assert!(run.stderr.contains(&format!("{n} fetched, {n} inserted")), "{}", run.stderr);
    // The default window: 30 days back, 365 ahead, around now.
    let (from, to) = window(&env, &fakes);
    let (from, to): (jiff::Timestamp, jiff::Timestamp) = (from.parse().unwrap(), to.parse().unwrap());
    assert_eq!(to.duration_since(from).as_hours(), 395 * 24);
    let now = env.now();
    assert_eq!(to.duration_since(now).as_hours(), 365 * 24 - 1, "the window ends a year from now");

    // One pseudo-calendar: the user URI, primary, owned, selected.
    let cals = env.run(&["calendars", "list", "--provider", "calendly", "--json"]).ok().json();
    let cals = cals.as_array().unwrap();
    assert_eq!(cals.len(), 1, "{cals:?}");
    assert_eq!(cals[0]["id"], user_uri(&fakes));
    assert_eq!(cals[0]["name"], "Scheduled events");
    assert_eq!(cals[0]["primary"], true);
    assert_eq!(cals[0]["access_role"], "owner");
    assert_eq!(cals[0]["selected"], true);
    assert_eq!(cals[0]["time_zone"], "America/Denver");
    let conn = db(&env);
    let raw: String = conn.query_row("SELECT raw_json FROM calendars", [], |r| r.get(0)).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&raw).unwrap()["resource_type"], "User");

    // Canceled events stay, with their cancellation; raw_json is Calendly's event.
    let canceled: Vec<(String, Option<String>, String)> = conn
        .prepare("SELECT id, deleted_at, raw_json FROM events WHERE status = 'canceled'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!canceled.is_empty());
    for (id, deleted, raw) in canceled {
        assert_eq!(deleted, None, "{id}");
        let raw: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(raw["uri"], id.as_str());
        assert!(raw["cancellation"].is_object(), "{raw}");
    }
}

#[test]
fn changes_cancellations_reschedules_and_deletions_then_a_rescan_equals_truth() {
    let (env, fakes) = calendly(250, &[]);
    sync(&env, &[]).ok();
    let (from, to) = window(&env, &fakes);
    let events = truth(&fakes, &from, &to)["events"].as_array().unwrap().clone();
    let active: Vec<&Value> = events.iter().filter(|e| e["status"] == "active").collect();
    let id = |i: usize| active[i]["id"].as_str().unwrap().to_string();
    let ctl = |i: usize| format!("/_fake/calendly/events/{}", uuid(active[i]["id"].as_str().unwrap()));
    let post = |path: String, body: Value| {
        let r = fakes.post(&path, body);
        assert!(r.get("error").is_none(), "{path}: {r}");
        r
    };
    let added = post(
        "/_fake/calendly/events".into(),
        json!({"start": "2026-12-01T16:00:00.250000Z", "name": "Added call", "notes": "Bring the plans",
               "location": {"type": "zoom", "join_url": "https://zoom.example/j/1"}, "guests": ["g@example.com"]}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    post(ctl(0), json!({"name": "Renamed", "notes": "new notes"}));
    post(ctl(1), json!({"start": "2027-01-05T18:30:00Z"}));
    post(format!("{}/delete", ctl(2)), json!({"reason": "Sick"}));
    post(format!("{}/delete", ctl(3)), json!({"hard": true}));
    // Moved out of the window: gone from this scan's point of view.
    post(ctl(4), json!({"start": "2031-01-01T15:00:00Z"}));
    let resched = post(format!("{}/reschedule", ctl(5)), json!({"start": "2027-02-01T17:00:00Z"}));

    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("2 deleted"), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    let conn = db(&env);
    let (status, deleted, _) = stored_event(&conn, &added);
    assert_eq!((status.as_deref(), deleted), (Some("active"), None));
    let start: String = conn.query_row("SELECT start_at FROM events WHERE id = ?1", [&added], |r| r.get(0)).unwrap();
    assert_eq!(start, "2026-12-01T16:00:00.250000Z");
    let (status, deleted, raw) = stored_event(&conn, &id(2));
    assert_eq!((status.as_deref(), deleted), (Some("canceled"), None));
    assert_eq!(serde_json::from_str::<Value>(&raw).unwrap()["cancellation"]["reason"], "Sick");
    for gone in [id(3), id(4)] {
        let (_, deleted, _) = stored_event(&conn, &gone);
        assert!(deleted.is_some(), "{gone} is marked deleted");
    }
    // A reschedule is a cancellation plus a new event: two rows.
    let (status, deleted, _) = stored_event(&conn, resched["canceled"].as_str().unwrap());
    assert_eq!((status.as_deref(), deleted), (Some("canceled"), None));
    let (status, _, _) = stored_event(&conn, resched["new"].as_str().unwrap());
    assert_eq!(status.as_deref(), Some("active"));

    // The moved event comes back into the window: live again.
    post(ctl(4), json!({"start": "2027-01-10T15:00:00Z"}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    assert_eq!(stored_event(&db(&env), &id(4)).1, None);
}

#[test]
fn a_rescan_with_no_changes_is_one_request_when_the_window_fits_a_page() {
    let (env, fakes) = calendly(60, &[]);
    sync(&env, &[]).ok();
    let n = assert_matches_truth(&env, &fakes);
    assert!(n <= 100, "{n} events fit one page");
    fakes.post("/_fake/stats/reset", json!({}));
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("0 inserted, 0 updated, 0 deleted; 1 requests"), "{}", run.stderr);
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["calendly"]["api_calls"], 1, "{stats}");
    assert_eq!(list_calls(&fakes), 1);
    assert_matches_truth(&env, &fakes);
    // A bigger window costs a page per 100 events, still with nothing written.
    let (env, fakes) = calendly(700, &[]);
    sync(&env, &[]).ok();
    let n = assert_matches_truth(&env, &fakes) as u64;
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    assert_eq!(list_calls(&fakes), n.div_ceil(100));
}

#[test]
fn the_window_follows_the_settings_and_slides() {
    let (mut env, fakes) = calendly(300, &[]);
    sync(&env, &[]).ok();
    let wide = assert_matches_truth(&env, &fakes);
    // A narrower window: what fell out of it is marked deleted, the rest still matches.
    env.set("INTEG_EVENTS_PAST_DAYS", "3").set("INTEG_EVENTS_FUTURE_DAYS", "60");
    let run = sync(&env, &[]).ok();
    let narrow = assert_matches_truth(&env, &fakes);
    assert!(narrow < wide, "{narrow} < {wide}");
    assert!(run.stderr.contains(&format!("{} deleted", wide - narrow)), "{}", run.stderr);
    let (from, to) = window(&env, &fakes);
    let (from, to): (jiff::Timestamp, jiff::Timestamp) = (from.parse().unwrap(), to.parse().unwrap());
    assert_eq!(to.duration_since(from).as_hours(), 63 * 24);
    // Widening brings them back.
    env.unset("INTEG_EVENTS_PAST_DAYS").unset("INTEG_EVENTS_FUTURE_DAYS");
    sync(&env, &[]).ok();
    assert_eq!(assert_matches_truth(&env, &fakes), wide);
}

#[test]
fn max_duration_pauses_and_the_next_runs_finish_the_same_scan() {
    let (env, fakes) = calendly(1500, &[]);
    sync(&env, &[]).ok();
    fakes.post("/_fake/latency", json!({"ms": 400}));
    let first = sync(&env, &["--max-duration", "1s"]).ok();
    assert!(first.stderr.contains("--max-duration reached"), "{}", first.stderr);
    let c = cursor(&env, &fakes);
    let round = c["round"].clone();
    assert!(round["resume_from"].is_string(), "{c}");
    // Two events vanish while the scan is unfinished: one it already read, one ahead of it.
    let conn = db(&env);
    let pick = |order: &str| -> String {
        conn.query_row(
            &format!("SELECT id FROM events WHERE deleted_at IS NULL ORDER BY start_at {order} LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (behind, ahead) = (pick("ASC"), pick("DESC"));
    for id in [&behind, &ahead] {
        fakes.post(&format!("/_fake/calendly/events/{}/delete", uuid(id)), json!({"hard": true}));
    }
    let mut runs = 1;
    loop {
        assert_eq!(stored_event(&db(&env), &ahead).1, None, "nothing is marked before the scan completes");
        let run = sync(&env, &["--max-duration", "1s"]).ok();
        runs += 1;
        let c = cursor(&env, &fakes);
        // The resumed scan completed in this run (a fresh scan may have started after it, to
        // pick up changes behind the old one, and paused in turn).
        if c["round"].is_null() || run.stderr.contains(" 1 deleted") {
            assert!(run.stderr.contains("1 deleted"), "{}", run.stderr);
            break;
        }
        // The same scan continues: same window, same stamp; only the boundary event of the
        // previous run is read again.
        assert_eq!(c["round"]["from"], round["from"]);
        assert_eq!(c["round"]["started_at"], round["started_at"]);
        assert!(run.stderr.contains(" 0 deleted"), "{}", run.stderr);
        assert!(runs < 40, "the scan never completes");
    }
    assert!(runs >= 3, "{runs} runs");
    assert_eq!(cursor(&env, &fakes)["last_scan"]["started_at"], round["started_at"]);
    // The scan saw `behind` before it vanished, so only the next scan can tell.
    let conn = db(&env);
    assert!(stored_event(&conn, &ahead).1.is_some(), "the event the scan did not find is marked deleted");
    assert_eq!(stored_event(&conn, &behind).1, None);
    fakes.post("/_fake/latency", json!({"ms": 0}));
    sync(&env, &[]).ok();
    assert!(stored_event(&db(&env), &behind).1.is_some());
    assert_matches_truth(&env, &fakes);
}

#[test]
fn killed_syncs_resume_without_loss() {
    let (env, fakes) = calendly(3000, &[]);
    fakes.post("/_fake/latency", json!({"ms": 30}));
    let mut rng = 4242u64;
    let args = ["sync", "events", "--provider", "calendly"];
    // The first kill lands in a recorded run whatever the machine's speed; the rest at random.
    assert!(kill_when(&env, &args, Duration::from_secs(60), || a_run_is_going(&env)), "the run ended first");
    for _ in 1..6 {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let after = Duration::from_millis(150 + (rng >> 33) % 900);
        kill_when(&env, &args, after, || false);
    }
    // Change things between the kills and the clean run.
    let conn = db(&env);
    let some: Vec<String> = conn
        .prepare("SELECT id FROM events WHERE status = 'active' ORDER BY id LIMIT 2")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    if let [a, b] = some.as_slice() {
        fakes.post(&format!("/_fake/calendly/events/{}/delete", uuid(a)), json!({"hard": true}));
        fakes.post(&format!("/_fake/calendly/events/{}/delete", uuid(b)), json!({}));
    }
    fakes.post("/_fake/latency", json!({"ms": 0}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    let interrupted = runs_with_outcome(&env, "interrupted");
    assert!(interrupted >= 1, "killed runs are recorded as interrupted");
}

#[test]
fn rate_limits_are_waited_out() {
    // Only 3 requests a minute. `connect` spent two (/users/me for the identity and again to
    // learn the calendar). The fake's clock is moved on so that minute ends 5 s from now: the
    // sync's second request finds the budget spent and waits for the reset the first answer
    // announced instead of provoking a 429.
    let (env, fakes) = calendly(250, &["--calendly-api-rate-limit", "3"]);
    fakes.post("/_fake/clock/advance", json!({"seconds": 55}));
    let started = Instant::now();
    let run = sync(&env, &["--json"]).ok();
    let summary = &run.json()[0];
    assert!(started.elapsed() >= Duration::from_secs(3), "{summary}");
    assert!(summary["throttle_waits"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(fakes.get("/_fake/stats")["calendly"]["rate_limited"], 0);
    fakes.post("/_fake/clock/advance", json!({"seconds": 120}));
    assert_matches_truth(&env, &fakes);
}

#[test]
fn a_429_waits_for_x_ratelimit_reset() {
    // The forced 429 says X-RateLimit-Reset: 4 (the fake's default is a full 60 s window).
    let (env, fakes) = calendly(30, &[]);
    fakes.post("/_fake/calendly/throttle", json!({"next": 1, "reset": 4}));
    let started = Instant::now();
    let run = sync(&env, &["--json"]).ok();
    let waited = started.elapsed();
    let summary = &run.json()[0];
    assert_eq!(summary["throttle_waits"], 1, "{summary}");
    assert!(waited >= Duration::from_secs(4), "waited {waited:?}");
    assert!(waited < Duration::from_secs(30), "waited {waited:?}");
    assert_eq!(fakes.get("/_fake/stats")["calendly"]["rate_limited"], 1);
    assert_matches_truth(&env, &fakes);
}

#[test]
fn faults_end_with_the_same_data() {
    let (env, fakes) = calendly(900, &[]);
    fakes.post(
        "/_fake/faults",
        json!({"rate": 0.25, "kinds": ["500", "502", "503", "reset", "slow", "truncated", "html", "429"],
               "slow_ms": 200, "seed": 5, "provider": "calendly"}),
    );
    let run = sync(&env, &[]).any();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id: String = db(&env).query_row("SELECT id FROM events LIMIT 1", [], |r| r.get(0)).unwrap();
    fakes.post(&format!("/_fake/calendly/events/{}/delete", uuid(&id)), json!({"hard": true}));
    sync(&env, &[]).ok();
    let injected = fakes.get("/_fake/faults");
    fakes.post("/_fake/faults", json!({"rate": 0}));
    assert!(injected["total"].as_u64().unwrap() > 0, "{injected}");
    assert_matches_truth(&env, &fakes);
}

#[test]
fn a_page_that_stays_broken_fails_without_writing() {
    let (env, fakes) = calendly(50, &[]);
    env.run(&["calendars", "list", "--provider", "calendly"]).ok();
    fakes.post("/_fake/faults", json!({"rate": 1.0, "kinds": ["truncated"], "provider": "calendly"}));
    let run = sync(&env, &[]).any();
    assert_ne!(run.code, 0, "{}", run.stderr);
    let conn = db(&env);
    let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    let cursors: i64 = conn.query_row("SELECT count(cursor) FROM sync_state", [], |r| r.get(0)).unwrap();
    assert_eq!(cursors, 0);
    fakes.post("/_fake/faults", json!({"rate": 0}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
}

#[test]
fn an_expired_access_token_is_refreshed_once() {
    let (env, fakes) = calendly(40, &[]);
    sync(&env, &[]).ok();
    // Two hours on at the fake: the stored access token is dead there before integ expects.
    fakes.post("/_fake/clock/advance", json!({"seconds": 7300}));
    fakes.post("/_fake/calendly/events", json!({"start": "2026-12-10T15:00:00Z"}));
    sync(&env, &[]).ok();
    let stats = fakes.get("/_fake/stats")["calendly"].clone();
    assert!(stats["unauthorized"].as_u64().unwrap() >= 1, "{stats}");
    assert_matches_truth(&env, &fakes);
}

/// A connection made with a personal access token piped to `--token-stdin`.
fn pat(scope: Option<&str>, extra: &[&str]) -> (TestEnv, Fakes, Value) {
    let mut args = vec!["--calendly-seed-events", "80", "--calendly-api-rate-limit", "100000"];
    args.extend_from_slice(extra);
    let fakes = Fakes::start(&args);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    // No OAuth application: the token alone.
    env.unset("CALENDLY_CLIENT_ID").unset("CALENDLY_CLIENT_SECRET");
    let body = match scope {
        Some(s) => json!({"scope": s}),
        None => json!({}),
    };
    let minted = fakes.post("/_fake/calendly/token", body);
    let token = minted["access_token"].as_str().unwrap().to_string();
    env.run_stdin(&["connect", "calendly", "--token-stdin"], &token).ok();
    (env, fakes, minted)
}

#[test]
fn a_personal_access_token_connection_syncs() {
    let (env, fakes, minted) = pat(None, &[]);
    sync(&env, &[]).ok();
    assert!(assert_matches_truth(&env, &fakes) > 20);
    let cals = env.run(&["calendars", "list", "--json"]).ok().json();
    assert_eq!(cals[0]["id"], user_uri(&fakes));
    // The token never lands in the database (on PostgreSQL: in a snapshot of every table).
    let token = minted["access_token"].as_str().unwrap();
    let file = db(&env).path().expect("a database file").to_string();
    let bytes = std::fs::read(file).unwrap();
    assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
}

#[test]
fn a_refused_personal_access_token_needs_reconnecting() {
    let (env, fakes, _) = pat(None, &[]);
    sync(&env, &[]).ok();
    // The token's life ends at the fake: 401, and a PAT cannot be refreshed.
    fakes.post("/_fake/clock/advance", json!({"seconds": 100_000}));
    let run = sync(&env, &[]).code(4);
    assert!(run.stderr.contains("integ connect calendly"), "{}", run.stderr);
    let status = env.run(&["status", "--json"]).code(4).json();
    assert_eq!(status[0]["state"], "reconnect_needed", "{status}");
}

#[test]
fn a_missing_scope_names_scheduled_events_read() {
    let (env, _fakes, _) = pat(Some("users:read"), &[]);
    let run = sync(&env, &[]).any();
    assert_ne!(run.code, 0);
    assert_ne!(run.code, 4, "a missing scope is not a dead token: {}", run.stderr);
    assert!(run.stderr.contains("scheduled_events:read"), "{}", run.stderr);
    let n: i64 = db(&env).query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn calendars_select_and_events_list() {
    let (env, fakes) = calendly(200, &[]);
    let uri = user_uri(&fakes);
    env.run(&["calendars", "list"]).ok();
    env.run(&["calendars", "deselect", &uri]).ok();
    fakes.post("/_fake/stats/reset", json!({}));
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("0 fetched, 0 inserted, 0 updated, 0 deleted; 0 requests"), "{}", run.stderr);
    assert_eq!(list_calls(&fakes), 0);
    env.run(&["calendars", "select", &uri]).ok();
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);

    // Nov 24 16:00Z is a seeded fixture: 09:00 in Denver, 17:00 in Berlin.
    let args = ["events", "list", "--provider", "calendly", "--from", "2026-11-24", "--to", "2026-11-24"];
    let list = env.run(&[&args[..], &["--tz", "America/Denver", "--json"]].concat()).ok().json();
    let list = list.as_array().unwrap();
    let fixture = list
        .iter()
        .find(|e| e["start_at"] == "2026-11-24T16:00:00Z")
        .unwrap_or_else(|| panic!("the fixture is listed: {list:?}"));
    assert_eq!(fixture["all_day"], false);
    assert_eq!(fixture["time_zone"], "UTC");
    assert_eq!(fixture["calendar_id"], uri.as_str());
    // CSV keeps the stored instants; the table shows the zone's wall time.
    let csv = env.run(&[&args[..], &["--tz", "America/Denver", "--csv"]].concat()).ok().stdout;
    assert!(csv.contains(",false,2026-11-24T16:00:00Z,2026-11-24T16:30:00Z,UTC,active,"), "{csv}");
    let table = env.run(&[&args[..], &["--tz", "America/Denver"]].concat()).ok().stdout;
    assert!(table.contains("2026-11-24 09:00"), "{table}");
    let table = env.run(&[&args[..], &["--tz", "Europe/Berlin"]].concat()).ok().stdout;
    assert!(table.contains("2026-11-24 17:00"), "{table}");
}
