//! `integ push` and the push stream against the fakes: the target calendar's events (the
//! fake's record of what was written, `/_fake/<p>/written`) must equal the desired state
//! computed here from Jobber's ground truth, field by field: after a first push, after visits
//! move, change crew or go away, after kills, faults and lost answers, and with two rules in
//! one calendar. A run with nothing changed must make no write request at all.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Fakes, TestEnv, anchor_at, anchor_date, connected, db, kill_when, pct_encode};

const WRITES_GOOGLE: [&str; 4] = ["events.insert", "events.patch", "events.update", "events.delete"];
const WRITES_GRAPH: [&str; 3] = ["events.create", "events.update", "events.delete"];

/// Jobber (seeded with `jobs` jobs) and `provider` connected in one environment; Jobber synced.
fn setup(provider: &str, jobs: usize, write: bool) -> (TestEnv, Fakes) {
    setup_with(provider, jobs, write, &[])
}

fn setup_with(provider: &str, jobs: usize, write: bool, extra: &[&str]) -> (TestEnv, Fakes) {
    let seed = jobs.to_string();
    let mut args = vec!["--jobber-seed-jobs", seed.as_str()];
    args.extend_from_slice(extra);
    let (env, fakes) = connected("jobber", &args, |_| {});
    let mut connect = vec!["connect", provider, "--timeout", "30"];
    if write {
        connect.push("--write");
    }
    env.run(&connect).ok();
    env.run(&["sync", "jobs"]).ok();
    (env, fakes)
}

/// `integ push add ...`: the new rule's id.
fn add_rule(env: &TestEnv, args: &[&str]) -> i64 {
    let mut all = vec!["push", "add"];
    all.extend_from_slice(args);
    env.run(&all).ok().stdout.trim().parse().expect("push add prints the rule's id")
}

fn rule_calendar(env: &TestEnv, rule: i64) -> String {
    db(env).query_row("SELECT calendar_id FROM push_rules WHERE id = ?1", [rule], |r| r.get(0)).unwrap()
}

fn stats(fakes: &Fakes, provider: &str) -> Value {
    fakes.get("/_fake/stats")[provider].clone()
}

fn writes(fakes: &Fakes, provider: &str) -> u64 {
    let s = stats(fakes, provider);
    let names: &[&str] = if provider == "google" { &WRITES_GOOGLE } else { &WRITES_GRAPH };
    names.iter().map(|n| s["endpoints"][*n].as_u64().unwrap_or(0)).sum()
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The event each in-window visit of `crew` (names or ids; empty: everyone) should have,
/// by visit key, as the README documents it. Visits starting or ending within ten minutes of
/// a window edge are left out (`None`): which side of the edge they fall on depends on the
/// second the run started.
fn desired(fakes: &Fakes, env: &TestEnv, crew: &[&str]) -> BTreeMap<String, Option<Value>> {
    let truth = fakes.get("/_fake/jobber/truth");
    let now = env.now().as_second();
    let (from, to) = (now - 7 * 86_400, now + 90 * 86_400);
    let mut out = BTreeMap::new();
    for job in truth["jobs"].as_array().unwrap() {
        for v in job["visits"].as_array().unwrap() {
            let Some(start) = v["startAt"].as_str() else { continue };
            let s = start.parse::<jiff::Timestamp>().unwrap().as_second();
            let end = v["endAt"].as_str().map(|e| e.parse::<jiff::Timestamp>().unwrap().as_second());
            let e = end.filter(|e| *e > s).unwrap_or(s + 86_400);
            let users = v["assignedUsers"].as_array().unwrap();
            let ours = crew.is_empty()
                || users.iter().any(|u| {
                    crew.iter()
                        .any(|c| u["id"] == *c || u["name"]["full"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(c)))
                });
            if !ours || e <= from - 600 || s >= to + 600 {
                continue;
            }
            let key = format!("{}/{}", job["id"].as_str().unwrap(), v["id"].as_str().unwrap());
            let near_edge = [from, to].iter().any(|edge| (s - edge).abs() < 600 || (e - edge).abs() < 600);
            if near_edge {
                out.insert(key, None);
                continue;
            }
            let mut names: Vec<String> =
                users.iter().map(|u| u["name"]["full"].as_str().unwrap().to_string()).collect();
            names.sort_by_key(|n| n.to_lowercase());
            let number = job["jobNumber"].as_i64().unwrap();
            let job_title = text(&job["title"]).or(text(&v["title"])).unwrap_or("Visit");
            let title = match text(&job["client"]["name"]) {
                Some(c) => format!("#{number} {job_title} · {c}"),
                None => format!("#{number} {job_title}"),
            };
            let a = &job["property"]["address"];
            let address: Vec<&str> = ["street1", "street2", "city", "province", "postalCode", "country"]
                .iter()
                .filter_map(|k| text(&a[*k]))
                .collect();
            let mut lines = vec![if names.is_empty() {
                format!("Job #{number} · crew: none assigned")
            } else {
                format!("Job #{number} · crew: {}", names.join(", "))
            }];
            if let Some(t) = text(&v["title"]).filter(|t| Some(*t) != text(&job["title"])) {
                lines.push(format!("Visit: {t}"));
            }
            if let Some(i) = text(&job["instructions"]) {
                lines.extend([String::new(), i.to_string()]);
            }
            if let Some(u) = text(&job["jobberWebUri"]) {
                lines.extend([String::new(), u.to_string()]);
            }
            let timed = end.is_some_and(|x| x > s);
            let (start, end) = if timed {
                (start.to_string(), v["endAt"].as_str().unwrap().to_string())
            } else {
                let day = jiff::Timestamp::from_second(s).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
                (day.to_string(), day.tomorrow().unwrap().to_string())
            };
            out.insert(
                key,
                Some(json!({
                    "title": title,
                    "location": if address.is_empty() { Value::Null } else { json!(address.join(", ")) },
                    "description": lines.join("\n"),
                    "all_day": !timed,
                    "start": start,
                    "end": end,
                    "attendees_count": 0,
                })),
            );
        }
    }
    out
}

/// The calendar's live events of `rule`, by visit key: Google from integ's marker, Microsoft
/// through the recorded event ids (the property's value is a digest). Also returns how many
/// live events of the calendar carry no marker of any rule (must be the fixtures only).
fn pushed_events(env: &TestEnv, fakes: &Fakes, provider: &str, rule: i64) -> BTreeMap<String, Value> {
    pushed_in(env, fakes, provider, rule, &rule_calendar(env, rule))
}

fn pushed_in(env: &TestEnv, fakes: &Fakes, provider: &str, rule: i64, cal: &str) -> BTreeMap<String, Value> {
    let written = fakes.get(&format!("/_fake/{provider}/written?calendar={}", pct_encode(cal)));
    let recorded: BTreeMap<String, String> = {
        let conn = db(env);
        let mut st = conn.prepare("SELECT event_id, visit_key FROM pushed_events WHERE rule_id = ?1").unwrap();
        st.query_map([rule], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .filter_map(|r| r.ok())
            .filter_map(|(e, v)| e.map(|e| (e, v)))
            .collect()
    };
    let mut out = BTreeMap::new();
    for ev in written["events"].as_array().unwrap() {
        if ev["deleted"] == true {
            continue;
        }
        let key = if provider == "google" {
            if ev["props"]["integRule"] != json!(rule.to_string()) {
                continue;
            }
            assert!(ev["props"]["integHash"].is_string(), "{ev}");
            ev["props"]["integVisit"].as_str().unwrap().to_string()
        } else {
            let marker = ev["props"]["String {7f3b2a64-1c9e-4d35-8b0a-5e2f6c1d9a47} Name integKey"].as_str();
            let Some(marker) = marker.filter(|m| m.starts_with(&format!("r{rule}:"))) else { continue };
            assert!(ev["transaction_id"].is_string(), "{ev}");
            match recorded.get(ev["id"].as_str().unwrap()) {
                Some(k) => k.clone(),
                None => panic!("an event with integ's marker {marker} is not recorded: an orphan\n{ev}"),
            }
        };
        let fields = json!({
            "title": ev["title"], "location": ev["location"], "description": ev["description"],
            "all_day": ev["all_day"], "start": ev["start"], "end": ev["end"],
            "attendees_count": ev["attendees_count"],
        });
        assert!(out.insert(key.clone(), fields).is_none(), "two events for visit {key}");
    }
    out
}

/// The calendar holds exactly the desired events of the rule, field by field.
#[track_caller]
fn assert_pushed(env: &TestEnv, fakes: &Fakes, provider: &str, rule: i64, crew: &[&str]) -> usize {
    let want = desired(fakes, env, crew);
    let got = pushed_events(env, fakes, provider, rule);
    for (k, v) in &want {
        if let Some(v) = v {
            assert_eq!(got.get(k), Some(v), "visit {k}");
        }
    }
    for k in got.keys() {
        assert!(want.contains_key(k), "event for visit {k} that should not be in the calendar: {:?}", got[k]);
    }
    assert!(want.values().filter(|v| v.is_some()).count() > 0, "the test needs visits in the window");
    got.len()
}

#[test]
fn google_first_push_puts_every_visit_in_once_and_a_second_run_writes_nothing() {
    let (env, fakes) = setup("google", 40, true);
    let rule = add_rule(&env, &["--to", "google", "--create", "Jobber visits"]);
    // Adding the same rule again reuses it, and its calendar.
    assert_eq!(add_rule(&env, &["--to", "google", "--create", "Jobber visits"]), rule);
    assert_eq!(stats(&fakes, "google")["endpoints"]["calendars.insert"], 1);
    env.run(&["sync", "push"]).ok();
    let n = assert_pushed(&env, &fakes, "google", rule, &[]);
    assert!(writes(&fakes, "google") >= n as u64);
    fakes.post("/_fake/stats/reset", json!({}));
    let out = env.run(&["sync", "push", "--json"]).ok().json();
    assert_eq!(out[0]["stream"], "push", "{out}");
    assert_eq!(writes(&fakes, "google"), 0, "nothing changed: no write request");
    assert_pushed(&env, &fakes, "google", rule, &[]);
    // `integ sync` runs the push after Jobber's jobs, also writing nothing.
    env.run(&["sync"]).ok();
    assert_eq!(writes(&fakes, "google"), 0);
    let list = env.run(&["push", "list", "--json"]).ok().json();
    assert_eq!(list[0]["id"], rule);
    assert_eq!(list[0]["to"], "google");
    assert_eq!(list[0]["created_calendar"], "Jobber visits");
    assert_eq!(list[0]["events"], n);
    assert_eq!(list[0]["crew"], json!([]));
    assert_eq!((list[0]["past_days"].clone(), list[0]["future_days"].clone()), (json!(7), json!(90)));
}

/// The id of a job with an in-window visit, its visits and the account's users.
fn a_job_with_a_visit(fakes: &Fakes, env: &TestEnv) -> (String, Vec<Value>, Vec<String>) {
    let truth = fakes.get("/_fake/jobber/truth");
    let users: Vec<String> =
        truth["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().into()).collect();
    let want = desired(fakes, env, &[]);
    for job in truth["jobs"].as_array().unwrap() {
        let id = job["id"].as_str().unwrap();
        let visits = job["visits"].as_array().unwrap();
        if visits.iter().any(|v| want.get(&format!("{id}/{}", v["id"].as_str().unwrap())).is_some_and(Option::is_some))
        {
            return (id.to_string(), visits.clone(), users);
        }
    }
    panic!("no job with a visit in the window");
}

/// The visits of a job as the control API takes them back.
fn visits_body(visits: &[Value]) -> Vec<Value> {
    visits
        .iter()
        .map(|v| {
            json!({ "id": v["id"], "title": v["title"], "startAt": v["startAt"], "endAt": v["endAt"],
                    "completedAt": v["completedAt"], "isComplete": v["isComplete"], "visitStatus": v["visitStatus"],
                    "assignedUsers": v["assignedUsers"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect::<Vec<_>>() })
        })
        .collect()
}

fn changes_follow_the_visits(provider: &str) {
    let (mut env, mut fakes) = setup(provider, 40, true);
    let rule = add_rule(&env, &["--to", provider, "--create", "Crew visits"]);
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, rule, &[]);

    // A visit moved by two hours and re-crewed; another job's visit removed.
    let (job, visits, users) = a_job_with_a_visit(&fakes, &env);
    let mut body = visits_body(&visits);
    let moved = |t: &Value| -> Value {
        t.as_str().map_or(Value::Null, |s| {
            json!(
                s.parse::<jiff::Timestamp>()
                    .unwrap()
                    .checked_add(jiff::SignedDuration::from_hours(2))
                    .unwrap()
                    .to_string()
            )
        })
    };
    body[0]["startAt"] = moved(&body[0]["startAt"]);
    body[0]["endAt"] = moved(&body[0]["endAt"]);
    body[0]["assignedUsers"] = json!([users[users.len() - 1]]);
    // Each edit in a later second than the last sync saw (Jobber's `updatedAt` has seconds).
    fakes.advance(2.0, &mut [&mut env]);
    fakes.post(&format!("/_fake/jobber/jobs/{}", pct_encode(&job)), json!({ "visits": body }));
    env.run(&["sync", "jobs"]).ok();
    fakes.post("/_fake/stats/reset", json!({}));
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, rule, &[]);
    assert!(writes(&fakes, provider) >= 1 && writes(&fakes, provider) <= 2, "only the changed visit is written");

    // The visit removed from its job, then the whole job deleted (found by a full sweep).
    let rest: Vec<Value> = body[1..].to_vec();
    fakes.advance(2.0, &mut [&mut env]);
    fakes.post(&format!("/_fake/jobber/jobs/{}", pct_encode(&job)), json!({ "visits": rest }));
    env.run(&["sync", "jobs"]).ok();
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, rule, &[]);
    fakes.post(&format!("/_fake/jobber/jobs/{}/delete", pct_encode(&job)), json!({}));
    env.run(&["sync", "jobs", "--full"]).ok();
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, rule, &[]);
    let left: i64 = db(&env)
        .query_row(
            "SELECT count(*) FROM pushed_events WHERE rule_id = ?1 AND visit_key LIKE ?2",
            rusqlite::params![rule, format!("{job}/%")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "a deleted job leaves no record behind");
}

#[test]
fn google_visits_moved_recrewed_and_deleted_update_the_calendar() {
    changes_follow_the_visits("google");
}

#[test]
fn microsoft_visits_moved_recrewed_and_deleted_update_the_calendar() {
    changes_follow_the_visits("microsoft");
}

#[test]
fn microsoft_first_push_and_a_second_run_without_writes() {
    let (env, fakes) = setup("microsoft", 30, true);
    let rule = add_rule(&env, &["--to", "microsoft", "--create", "Jobber visits"]);
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, "microsoft", rule, &[]);
    fakes.post("/_fake/stats/reset", json!({}));
    env.run(&["sync", "push"]).ok();
    assert_eq!(writes(&fakes, "microsoft"), 0);
    assert!(stats(&fakes, "microsoft")["endpoints"]["events.list"].is_null(), "no lookups either");
    let status = env.run(&["status", "--json"]).ok().json();
    let ms = status.as_array().unwrap().iter().find(|e| e["provider"] == "microsoft").unwrap();
    assert_eq!(ms["can_write"], true);
}

/// The first pushed event of a rule: (visit key, event id).
fn one_pushed_event(env: &TestEnv, rule: i64) -> (String, String) {
    db(env)
        .query_row(
            "SELECT visit_key, event_id FROM pushed_events WHERE rule_id = ?1 ORDER BY visit_key LIMIT 1",
            [rule],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

fn user_deleted_event_stays_deleted(provider: &str, restore_forbidden: bool) {
    let (mut env, mut fakes) = setup(provider, 30, true);
    if restore_forbidden {
        fakes.post("/_fake/google/write-options", json!({ "restore_forbidden": true }));
    }
    let rule = add_rule(&env, &["--to", provider, "--create", "Jobber visits"]);
    env.run(&["sync", "push"]).ok();
    let (visit, event) = one_pushed_event(&env, rule);
    fakes.post(&format!("/_fake/{provider}/events/{}/delete", pct_encode(&event)), json!({}));
    fakes.post("/_fake/stats/reset", json!({}));
    env.run(&["sync", "push"]).ok();
    assert_eq!(writes(&fakes, provider), 0, "a deleted pushed event is not re-created while its visit is unchanged");
    let got = pushed_events(&env, &fakes, provider, rule);
    assert!(!got.contains_key(&visit));
    // The visit changes: its event comes back.
    let (job, visit_id) = visit.split_once('/').unwrap();
    let truth = fakes.get(&format!("/_fake/jobber/jobs/{}", pct_encode(job)));
    let mut body = visits_body(truth["visits"].as_array().unwrap());
    for v in &mut body {
        if v["id"] == visit_id {
            v["title"] = json!("Moved by the office");
        }
    }
    fakes.advance(2.0, &mut [&mut env]);
    fakes.post(&format!("/_fake/jobber/jobs/{}", pct_encode(job)), json!({ "visits": body }));
    env.run(&["sync", "jobs"]).ok();
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, rule, &[]);
    assert!(pushed_events(&env, &fakes, provider, rule).contains_key(&visit));
    let (now_id, generation): (String, i64) = db(&env)
        .query_row(
            "SELECT event_id, generation FROM pushed_events WHERE rule_id = ?1 AND visit_key = ?2",
            rusqlite::params![rule, visit],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    match (provider, restore_forbidden) {
        ("google", false) => assert_eq!((now_id, generation), (event, 0), "the same event, brought back"),
        _ => {
            assert_ne!(now_id, event, "a new event");
            assert_eq!(generation, 1);
        }
    }
}

#[test]
fn google_user_deleted_event_is_not_recreated_until_its_visit_changes() {
    user_deleted_event_stays_deleted("google", false);
}

/// Google would not bring the deleted event back (the bin was emptied): the visit gets a new
/// event under the next generation's id.
#[test]
fn google_event_that_cannot_be_restored_is_made_anew_under_a_new_id() {
    user_deleted_event_stays_deleted("google", true);
}

#[test]
fn microsoft_user_deleted_event_is_not_recreated_until_its_visit_changes() {
    user_deleted_event_stays_deleted("microsoft", false);
}

#[test]
fn without_write_scope_push_says_which_command_grants_it() {
    let (env, fakes) = setup("google", 5, false);
    let out = env.run(&["push", "add", "--to", "google", "--create", "Jobber visits"]).code(2);
    assert!(out.stderr.contains("integ connect google --account"), "{}", out.stderr);
    assert!(out.stderr.contains("--write"), "{}", out.stderr);
    assert_eq!(stats(&fakes, "google")["endpoints"]["calendars.insert"], Value::Null);
    let status = env.run(&["status", "--json"]).ok().json();
    let g = status.as_array().unwrap().iter().find(|e| e["provider"] == "google").unwrap();
    assert_eq!(g["can_write"], false);
    // Upgrade: the same account, now with write access; its calendars and sync state stay.
    env.run(&["sync", "events"]).ok();
    let before: i64 = db(&env).query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0)).unwrap();
    env.run(&["connect", "google", "--write", "--timeout", "30"]).ok();
    let after: i64 = db(&env).query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0)).unwrap();
    assert_eq!(before, after);
    let rule = add_rule(&env, &["--to", "google", "--create", "Jobber visits"]);
    // Connected read-only again: the push stream refuses with exit 2 and the hint.
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    let out = env.run(&["sync", "push"]).code(2);
    assert!(out.stderr.contains("--write"), "{}", out.stderr);
    let status = env.run(&["status", "--json"]).code(3).json();
    let g = status.as_array().unwrap().iter().find(|e| e["provider"] == "google").unwrap();
    assert!(g["action"].as_str().is_some_and(|a| a.contains("--write")), "{g}");
    assert!(pushed_events(&env, &fakes, "google", rule).is_empty());
}

#[test]
fn two_rules_push_into_one_calendar_side_by_side() {
    let (env, fakes) = setup("google", 40, true);
    let truth = fakes.get("/_fake/jobber/truth");
    let users: Vec<&Value> = truth["users"].as_array().unwrap().iter().collect();
    let a = users[0]["name"]["full"].as_str().unwrap().to_string();
    let b = users[1]["id"].as_str().unwrap().to_string();
    let first = add_rule(&env, &["--to", "google", "--create", "Crew", "--crew", &a]);
    let cal = rule_calendar(&env, first);
    let second = add_rule(&env, &["--to", "google", "--calendar", &cal, "--crew", &b]);
    assert_ne!(first, second);
    // An empty crew name is refused; one no visit has is warned about.
    env.run(&["push", "add", "--to", "google", "--calendar", &cal, "--crew", " "]).code(2);
    let out = env.run(&["push", "add", "--to", "google", "--calendar", &cal, "--crew", "Nobody Here"]).ok();
    assert!(out.stderr.contains("no synced visit"), "{}", out.stderr);
    let third: i64 = out.stdout.trim().parse().unwrap();
    env.run(&["push", "remove", &third.to_string()]).ok();
    // A calendar the account can only read is refused.
    let holidays = "en.usa#holiday@group.v.calendar.google.com";
    let out = env.run(&["push", "add", "--to", "google", "--calendar", holidays]).code(2);
    assert!(out.stderr.contains("read-only"), "{}", out.stderr);
    env.run(&["sync", "push"]).ok();
    let na = assert_pushed(&env, &fakes, "google", first, &[&a]);
    let nb = assert_pushed(&env, &fakes, "google", second, &[&b]);
    let written = fakes.get(&format!("/_fake/google/written?calendar={}", pct_encode(&cal)));
    let live = written["events"].as_array().unwrap().iter().filter(|e| e["deleted"] == false).count();
    assert_eq!(live, na + nb, "each rule's events once, nothing else");
    // Removing one rule with its events leaves the other's alone.
    env.run(&["push", "remove", &first.to_string(), "--delete-events"]).ok();
    assert!(pushed_in(&env, &fakes, "google", first, &cal).is_empty());
    assert_eq!(assert_pushed(&env, &fakes, "google", second, &[&b]), nb);
}

fn faults_and_lost_answers_leave_one_event_per_visit(provider: &str, transaction_dedup: bool) {
    let (env, fakes) = setup(provider, 120, true);
    if provider == "microsoft" {
        fakes.post("/_fake/microsoft/write-options", json!({ "transaction_dedup": transaction_dedup }));
    }
    let rule = add_rule(&env, &["--to", provider, "--create", "Jobber visits"]);
    // One fault in five requests; half of them lost answers (the write done, the reply gone).
    fakes.post(
        "/_fake/faults",
        json!({ "rate": 0.2, "kinds": ["lost", "lost", "lost", "500", "reset", "429"], "provider": provider, "seed": 11 }),
    );
    let mut runs = 0;
    while env.run(&["sync", "push"]).any().code != 0 {
        runs += 1;
        assert!(runs < 8, "the push never got through the faults");
    }
    let injected = fakes.get("/_fake/faults");
    assert!(injected["injected"]["lost"].as_u64().unwrap_or(0) > 0, "{injected}");
    fakes.post("/_fake/faults", json!({ "rate": 0 }));
    assert_pushed(&env, &fakes, provider, rule, &[]);
    fakes.post("/_fake/stats/reset", json!({}));
    env.run(&["sync", "push"]).ok();
    assert_eq!(writes(&fakes, provider), 0);
}

#[test]
fn google_faults_and_lost_answers_leave_one_event_per_visit() {
    faults_and_lost_answers_leave_one_event_per_visit("google", true);
}

#[test]
fn microsoft_faults_and_lost_answers_leave_one_event_per_visit() {
    faults_and_lost_answers_leave_one_event_per_visit("microsoft", true);
}

/// Graph's deduplication of a repeated `transactionId` is observed, not documented: integ
/// must not depend on it.
#[test]
fn microsoft_lost_answers_leave_one_event_per_visit_without_transaction_dedup() {
    faults_and_lost_answers_leave_one_event_per_visit("microsoft", false);
}

fn killed_mid_push_then_a_clean_run(provider: &str) {
    // Where the kill lands is up to the machine's load: a push that ended before the kill (seen
    // under three passes of the suite on two cores) proves nothing either way, so the scenario
    // starts over, at most three times. The property is checked only after a kill that landed.
    for attempt in 1..=3 {
        // Enough visits that the push outlasts the polling below on a loaded machine.
        let (env, fakes) = setup(provider, 240, true);
        if provider == "microsoft" {
            // A create whose answer the kill cut off is found by integ's property, not deduplicated.
            fakes.post("/_fake/microsoft/write-options", json!({ "transaction_dedup": false }));
        }
        let rule = add_rule(&env, &["--to", provider, "--create", "Jobber visits"]);
        // Slow answers, so the kill lands mid-push however loaded the machine is.
        fakes.post("/_fake/latency", json!({ "ms": 400 }));
        let cal = rule_calendar(&env, rule);
        let path = format!("/_fake/{provider}/written?calendar={}", pct_encode(&cal));
        // What the polls saw, to tell "the writes were never seen" from "the push was quick".
        let polls = std::cell::RefCell::new((Vec::new(), Value::Null));
        let killed = kill_when(&env, &["sync", "push"], Duration::from_secs(60), || {
            let asked = std::time::Instant::now();
            // A poll that does not answer soon is given up and asked again (seen: one poll
            // answered only once the 16 s push had ended, so the kill never came).
            let seen = fakes.try_get(&path, Duration::from_millis(500)).unwrap_or_else(|| {
                eprintln!("a poll of {path} gave no answer within 500 ms; asking again");
                Value::Null
            });
            let n = seen["count"].as_u64().unwrap_or(0);
            let mut p = polls.borrow_mut();
            p.0.push((asked.elapsed().as_millis(), n));
            p.1 = json!({ "count": seen["count"], "error": seen["error"], "calendar": seen["calendar"] });
            n >= 3
        });
        if !killed {
            let (took, last) = polls.into_inner();
            eprintln!(
                "attempt {attempt}: the kill came after the push finished ({} polls of {path}, (ms, count) each: \
                 {took:?}; the last saw {last}; writes by the fake's stats: {}); starting over",
                took.len(),
                writes(&fakes, provider)
            );
            continue;
        }
        fakes.post("/_fake/latency", json!({ "ms": 0 }));
        env.run(&["sync", "push"]).ok();
        assert_pushed(&env, &fakes, provider, rule, &[]);
        return;
    }
    panic!("the kill came after the push finished, three times");
}

#[test]
fn google_kill_during_a_push_then_a_clean_run_leaves_one_event_per_visit() {
    killed_mid_push_then_a_clean_run("google");
}

#[test]
fn microsoft_kill_during_a_push_then_a_clean_run_leaves_one_event_per_visit() {
    killed_mid_push_then_a_clean_run("microsoft");
}

/// The Tuesday after the pinned clock's start (a Saturday) at `hm` UTC.
fn tue(hm: &str) -> String {
    anchor_at(3, hm)
}

#[test]
fn conflicts_and_availability_have_a_known_answer() {
    let (env, fakes) = setup_with("google", 1, true, &["--google-seed-events", "0"]);
    // Two users the seeded job never assigns, so every visit of theirs is one made here.
    let truth = fakes.get("/_fake/jobber/truth");
    let busy: Vec<&Value> = truth["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|j| j["visits"].as_array().unwrap())
        .flat_map(|v| v["assignedUsers"].as_array().unwrap())
        .map(|u| &u["id"])
        .collect();
    let users: Vec<&Value> = truth["users"].as_array().unwrap().iter().filter(|u| !busy.contains(&&u["id"])).collect();
    let (u1, u2) = (users[0]["id"].as_str().unwrap().to_string(), users[1]["id"].as_str().unwrap().to_string());
    let u1_name = users[0]["name"]["full"].as_str().unwrap().to_string();
    let visit =
        |from: &str, to: &str, who: &str| json!({ "startAt": tue(from), "endAt": tue(to), "assignedUsers": [who] });
    let job = fakes.post(
        "/_fake/jobber/jobs",
        json!({ "title": "Hedge trim", "jobStatus": "upcoming", "visits": [
            visit("09:00", "11:00", &u1), visit("10:30", "12:00", &u1), visit("12:00", "13:00", &u1), visit("09:00", "10:00", &u2)
        ] }),
    );
    let ids: Vec<String> = job["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("{}/{}", job["id"].as_str().unwrap(), v["id"].as_str().unwrap()))
        .collect();
    let cals = env.run(&["calendars", "list", "--json"]).ok().json();
    let primary =
        cals.as_array().unwrap().iter().find(|c| c["primary"] == true).unwrap()["id"].as_str().unwrap().to_string();
    let dentist = fakes.post(
        "/_fake/google/events",
        json!({ "calendar": primary, "title": "Dentist", "start": tue("12:30"), "end": tue("12:45") }),
    );
    fakes.post(
        "/_fake/google/events",
        json!({ "calendar": primary, "title": "Lunch", "start": tue("14:00"), "end": tue("15:00") }),
    );
    // U1's visits go into the same primary calendar: they come back with `sync events`, and
    // must not count as conflicts with themselves.
    add_rule(&env, &["--to", "google", "--calendar", &primary, "--crew", &u1_name]);
    env.run(&["sync"]).ok();
    // The push runs after the account's events: its events come back on the next round.
    env.run(&["sync", "events"]).ok();
    let pushed_back: i64 = db(&env)
        .query_row(
            "SELECT count(*) FROM events e JOIN pushed_calendar_events p ON p.connection_id = e.connection_id
             AND p.calendar_id = e.calendar_id AND p.event_id = e.id WHERE e.deleted_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pushed_back, 3, "U1's three pushed visits are synced back and recognisable");

    let (tuesday, wednesday) = (anchor_date(3), anchor_date(4));
    let day = ["--from", tuesday.as_str(), "--to", wednesday.as_str()];
    let mut args = vec!["conflicts", "--json"];
    args.extend_from_slice(&day);
    let out = env.run(&args).code(6).json();
    let got: Vec<(String, String, String, String)> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["crew_id"].as_str().unwrap().into(),
                c["visit_key"].as_str().unwrap().into(),
                c["with"].as_str().unwrap().into(),
                c["other_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let dentist_id = dentist["id"].as_str().unwrap().to_string();
    let want = vec![
        (u1.clone(), ids[0].clone(), "visit".to_string(), ids[1].clone()),
        (u1.clone(), ids[1].clone(), "visit".to_string(), ids[0].clone()),
        (u1.clone(), ids[2].clone(), "event".to_string(), dentist_id),
    ];
    assert_eq!(got, want);
    assert_eq!(out[2]["other"], "Dentist");
    assert_eq!(
        (out[2]["other_start"].as_str(), out[2]["other_end"].as_str()),
        (Some(tue("12:30").as_str()), Some(tue("12:45").as_str()))
    );
    let mut args = vec!["conflicts", "--csv"];
    args.extend_from_slice(&day);
    let csv = env.run(&args).code(6).stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("crew,crew_id,job_number,visit_key"), "{csv}");
    assert!(lines[3].contains(",event,Dentist,"), "{csv}");
    let mut args = vec!["conflicts", "--crew", &u2];
    args.extend_from_slice(&day);
    env.run(&args).ok();

    // Availability, asked live: the pushed visits and both events, merged by Google.
    let out = env.run(&["availability", "google", "--from", &tuesday, "--to", &wednesday, "--json"]).ok().json();
    let blocks: Vec<(String, String)> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["start"].as_str().unwrap().into(), b["end"].as_str().unwrap().into()))
        .collect();
    assert_eq!(blocks, [(tue("09:00"), tue("13:00")), (tue("14:00"), tue("15:00"))]);
    let out = env
        .run(&["availability", "google", "--from", &tuesday, "--to", &wednesday, "--calendar", "nope@example.com"])
        .code(3);
    assert!(out.stderr.contains("unknown, not free"), "{}", out.stderr);
}

#[test]
fn microsoft_availability_reads_get_schedule() {
    let (env, fakes) = setup_with("microsoft", 1, false, &["--microsoft-seed-events", "0"]);
    let (tuesday, wednesday) = (anchor_date(3), anchor_date(4));
    fakes.post("/_fake/microsoft/events", json!({ "title": "Site visit", "start": tue("09:00"), "end": tue("10:30") }));
    fakes.post("/_fake/microsoft/events", json!({ "title": "Review", "start": tue("16:00"), "end": tue("17:00") }));
    let out = env.run(&["availability", "microsoft", "--from", &tuesday, "--to", &wednesday, "--json"]).ok().json();
    let blocks: Vec<(String, String, String)> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["status"].as_str().unwrap().into(),
                b["start"].as_str().unwrap().into(),
                b["end"].as_str().unwrap().into(),
            )
        })
        .collect();
    let busy = |a: &str, b: &str| ("busy".to_string(), tue(a), tue(b));
    assert_eq!(blocks, [busy("09:00", "10:30"), busy("16:00", "17:00")]);
    let out =
        env.run(&["availability", "microsoft", "--from", &tuesday, "--to", &wednesday, "--calendar", "x"]).code(2);
    assert!(out.stderr.contains("per person"), "{}", out.stderr);
    env.run(&["availability", "microsoft", "--from", &wednesday, "--to", &tuesday]).code(2);
}

/// The providers' per-user limits, shrunk so the test is short: Google's 600 requests a
/// minute per user (here 20 in any 2 s) and Outlook's 10,000 per 10 minutes per mailbox (here
/// 20 in any 2 s, refused requests counted). Paced by `<provider>.rate_limit` at half the limit,
/// a push never meets it; paced above it, the fake refuses requests (Google 403/429
/// `rateLimitExceeded`, Graph 429 with `Retry-After`) and the push still completes.
fn pushes_are_paced_under_the_per_user_limit(provider: &str) {
    let limit: &[&str] = match provider {
        "google" => &["--google-user-quota", "20", "--google-quota-window-secs", "2"],
        _ => &["--microsoft-request-limit", "20", "--microsoft-request-window-secs", "2"],
    };
    let var = format!("INTEG_{}_RATE_LIMIT", provider.to_uppercase());
    let (mut env, fakes) = setup_with(provider, 60, true, limit);
    if provider == "microsoft" {
        // A create whose answer was refused is found by integ's property, not deduplicated.
        fakes.post("/_fake/microsoft/write-options", json!({ "transaction_dedup": false }));
    }
    // Half the fake's limit: the fake stamps a request when it handles it, and on a loaded
    // machine a burst can be handled a few hundred milliseconds after it was sent, which is
    // much of a 2 s window (the real windows are a minute and ten minutes).
    env.set(&var, "10/2s");
    let rule = add_rule(&env, &["--to", provider, "--create", "Jobber visits"]);
    fakes.post("/_fake/stats/reset", json!({}));
    let started = std::time::Instant::now();
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, rule, &[]);
    let written = writes(&fakes, provider);
    assert!(written > 30, "the push must outlast a window of the limit to test it ({written} writes)");
    let seen = stats(&fakes, provider);
    assert_eq!(seen["rate_limited"], 0, "{seen}");
    // 10 per 2 s: the writes alone take at least (written / 10 - 1) windows.
    assert!(started.elapsed().as_secs_f64() >= (written as f64 / 10.0 - 1.0) * 2.0, "{:?}", started.elapsed());

    env.set(&var, "1000/2s");
    let again = add_rule(&env, &["--to", provider, "--create", "Jobber visits again"]);
    fakes.post("/_fake/stats/reset", json!({}));
    env.run(&["sync", "push"]).ok();
    assert_pushed(&env, &fakes, provider, again, &[]);
    assert!(stats(&fakes, provider)["rate_limited"].as_u64().unwrap() > 0, "the fake's limit was never met");

    // A rate that is not one is refused before anything runs.
    env.set(&var, "fast");
    let bad = env.run(&["sync", "push"]).code(2);
    assert!(bad.stderr.contains("500/60s"), "{}", bad.stderr);
}

#[test]
fn google_pushes_are_paced_under_the_per_user_quota() {
    pushes_are_paced_under_the_per_user_limit("google");
}

#[test]
fn microsoft_pushes_are_paced_under_the_mailbox_request_limit() {
    pushes_are_paced_under_the_per_user_limit("microsoft");
}
