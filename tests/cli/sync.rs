//! `integ sync jobs` against the fake Jobber API: the SQLite file must equal the fake's ground
//! truth field by field, after full and incremental syncs, deletions, throttling, faults and
//! kills.

use std::collections::BTreeMap;
use std::time::Duration;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::common::{Fakes, Run, TestEnv, connected, db, hold_lock, kill_when, pct_encode, runs_with_outcome};

/// A connected Jobber account against a fake seeded with `jobs` jobs.
pub fn jobber(jobs: usize, extra: &[&str]) -> (TestEnv, Fakes) {
    let seed = jobs.to_string();
    let mut args = vec!["--jobber-seed-jobs", seed.as_str()];
    args.extend_from_slice(extra);
    connected("jobber", &args, |_| {})
}

pub fn sync(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = vec!["sync", "jobs"];
    all.extend_from_slice(args);
    env.run(&all)
}

fn s(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

type Row = BTreeMap<&'static str, Option<String>>;

/// The live jobs in the database, as comparable strings.
fn stored_jobs(conn: &Connection) -> BTreeMap<String, Row> {
    let mut stmt = conn
        .prepare(
            "SELECT id, job_number, title, status, job_type, instructions, total, start_at, end_at, completed_at,
                    created_at, updated_at, web_url, client_id, client_name, property_id, street1, street2, city,
                    province, postal_code, country FROM jobs WHERE deleted_at IS NULL",
        )
        .unwrap();
    let names = [
        "id",
        "jobNumber",
        "title",
        "jobStatus",
        "jobType",
        "instructions",
        "total",
        "startAt",
        "endAt",
        "completedAt",
        "createdAt",
        "updatedAt",
        "jobberWebUri",
        "client.id",
        "client.name",
        "property.id",
        "street1",
        "street2",
        "city",
        "province",
        "postalCode",
        "country",
    ];
    let rows = stmt
        .query_map([], |r| {
            let mut m = Row::new();
            for (i, n) in names.iter().enumerate() {
                let v: rusqlite::types::Value = r.get(i)?;
                m.insert(
                    *n,
                    match v {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                        rusqlite::types::Value::Real(x) => Some(format!("{x}")),
                        rusqlite::types::Value::Text(t) => Some(t),
                        rusqlite::types::Value::Blob(_) => Some("<blob>".into()),
                    },
                );
            }
            Ok(m)
        })
        .unwrap();
    rows.map(|r| {
        let r = r.unwrap();
        (r["id"].clone().unwrap(), r)
    })
    .collect()
}

fn num(v: &Value) -> Option<String> {
    f(v).map(|x| format!("{x}"))
}

/// The truth's jobs in the same shape.
fn truth_jobs(truth: &Value) -> BTreeMap<String, Row> {
    let mut out = BTreeMap::new();
    for j in truth["jobs"].as_array().expect("truth.jobs") {
        let addr = &j["property"]["address"];
        let mut m = Row::new();
        m.insert("id", s(&j["id"]));
        m.insert("jobNumber", s(&j["jobNumber"]));
        m.insert("title", s(&j["title"]));
        m.insert("jobStatus", s(&j["jobStatus"]));
        m.insert("jobType", s(&j["jobType"]));
        m.insert("instructions", s(&j["instructions"]));
        m.insert("total", num(&j["total"]));
        m.insert("startAt", s(&j["startAt"]));
        m.insert("endAt", s(&j["endAt"]));
        m.insert("completedAt", s(&j["completedAt"]));
        m.insert("createdAt", s(&j["createdAt"]));
        m.insert("updatedAt", s(&j["updatedAt"]));
        m.insert("jobberWebUri", s(&j["jobberWebUri"]));
        m.insert("client.id", s(&j["client"]["id"]));
        m.insert("client.name", s(&j["client"]["name"]));
        m.insert("property.id", s(&j["property"]["id"]));
        m.insert("street1", s(&addr["street1"]));
        m.insert("street2", s(&addr["street2"]));
        m.insert("city", s(&addr["city"]));
        m.insert("province", s(&addr["province"]));
        m.insert("postalCode", s(&addr["postalCode"]));
        m.insert("country", s(&addr["country"]));
        out.insert(m["id"].clone().unwrap(), m);
    }
    out
}

/// Line items, visits and crews of every live job, as sorted text lines.
fn stored_details(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT j.id, li.position, li.id, li.name, li.description, li.quantity, li.unit_price, li.total_price, li.taxable
             FROM job_line_items li JOIN jobs j ON j.key = li.job_key AND j.connection_id = li.connection_id
             WHERE j.deleted_at IS NULL",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "li {} {} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<f64>>(5)?,
                r.get::<_, Option<f64>>(6)?,
                r.get::<_, Option<f64>>(7)?,
                r.get::<_, Option<bool>>(8)?,
            ))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    let mut stmt = conn
        .prepare(
            "SELECT j.id, v.id, v.title, v.start_at, v.end_at, v.completed_at, v.is_complete, v.status,
                    (SELECT group_concat(a.user_id || '=' || coalesce(a.user_name, ''), ',') FROM
                       (SELECT * FROM job_visit_assignees a WHERE a.connection_id = v.connection_id AND a.job_key = v.job_key AND a.visit_id = v.id ORDER BY a.user_id) a)
             FROM job_visits v JOIN jobs j ON j.key = v.job_key AND j.connection_id = v.connection_id
             WHERE j.deleted_at IS NULL",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "visit {} {} {:?} {:?} {:?} {:?} {:?} {:?} [{}]",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<bool>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            ))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    out.sort();
    out
}

fn truth_details(truth: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for j in truth["jobs"].as_array().unwrap() {
        let job_id = j["id"].as_str().unwrap();
        for (pos, li) in j["lineItems"].as_array().cloned().unwrap_or_default().iter().enumerate() {
            out.push(format!(
                "li {} {} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                job_id,
                pos,
                li["id"].as_str().unwrap(),
                li["name"].as_str().map(str::to_string),
                li["description"].as_str().map(str::to_string),
                li["quantity"].as_f64(),
                li["unitPrice"].as_f64(),
                li["totalPrice"].as_f64(),
                li["taxable"].as_bool(),
            ));
        }
        for v in j["visits"].as_array().cloned().unwrap_or_default() {
            let mut crew: Vec<String> = v["assignedUsers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|u| format!("{}={}", u["id"].as_str().unwrap(), u["name"]["full"].as_str().unwrap_or("")))
                .collect();
            crew.sort();
            out.push(format!(
                "visit {} {} {:?} {:?} {:?} {:?} {:?} {:?} [{}]",
                job_id,
                v["id"].as_str().unwrap(),
                v["title"].as_str().map(str::to_string),
                v["startAt"].as_str().map(str::to_string),
                v["endAt"].as_str().map(str::to_string),
                v["completedAt"].as_str().map(str::to_string),
                v["isComplete"].as_bool(),
                v["visitStatus"].as_str().map(str::to_string),
                crew.join(","),
            ));
        }
    }
    out.sort();
    out
}

/// Assert the database holds exactly the fake's jobs, details and clients.
#[track_caller]
pub fn assert_matches_truth(env: &TestEnv, fakes: &Fakes) {
    let truth = fakes.get("/_fake/jobber/truth");
    let conn = db(env);
    let stored = stored_jobs(&conn);
    let expected = truth_jobs(&truth);
    assert_eq!(stored.len(), expected.len(), "number of live jobs");
    for (id, want) in &expected {
        let got = stored.get(id).unwrap_or_else(|| panic!("job {id} missing"));
        for (k, v) in want {
            // Compare numbers numerically (1250 vs 1250.0).
            let same = match (v, &got[k]) {
                (Some(a), Some(b)) => {
                    a == b || a.parse::<f64>().ok().zip(b.parse::<f64>().ok()).is_some_and(|(x, y)| x == y)
                }
                (a, b) => a == b,
            };
            assert!(same, "job {id} field {k}: stored {:?}, truth {:?}", got[k], v);
        }
    }
    let (sd, td) = (stored_details(&conn), truth_details(&truth));
    assert_eq!(sd.len(), td.len(), "number of line items + visits");
    for (a, b) in sd.iter().zip(&td) {
        assert_eq!(a, b);
    }
    if let Some(clients) = truth["clients"].as_array() {
        let n: i64 = conn.query_row("SELECT count(*) FROM clients", [], |r| r.get(0)).unwrap();
        assert_eq!(n as usize, clients.len(), "number of clients");
        for c in clients {
            let (name, updated): (Option<String>, Option<String>) = conn
                .query_row("SELECT name, updated_at FROM clients WHERE id = ?1", [c["id"].as_str().unwrap()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert_eq!(name.as_deref(), c["name"].as_str());
            assert_eq!(updated.as_deref(), c["updatedAt"].as_str());
        }
    }
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn full_sync_equals_ground_truth() {
    let (env, fakes) = jobber(300, &["--jobber-restore-rate", "1000000"]);
    let run = sync(&env, &[]).ok();
    assert!(run.stderr.contains("jobs: 300 fetched, 300 inserted"), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    let status = env.run(&["status", "--json"]).ok().json();
    let streams = status[0]["streams"].as_array().unwrap();
    assert!(streams.iter().any(|s| s["stream"] == "jobs" && s["outcome"] == "ok"), "{status}");
}

#[test]
fn incremental_then_sweep_finds_changes_and_deletions() {
    let (env, fakes) = jobber(200, &["--jobber-restore-rate", "1000000"]);
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    let full_calls = fakes.get("/_fake/stats")["jobber"]["api_calls"].as_u64().unwrap();
    fakes.post("/_fake/jobber/mutate", json!({"edit": 15, "add": 7, "delete": 5, "seed": 3}));
    fakes.post("/_fake/stats/reset", json!({}));
    sync(&env, &[]).ok();
    // The incremental run read only the changed head of the list and the details of the ~22
    // changed jobs, not all 200 jobs.
    let calls = fakes.get("/_fake/stats")["jobber"]["api_calls"].as_u64().unwrap();
    assert!(calls * 3 < full_calls, "incremental sync made {calls} calls, the full one {full_calls}");
    // Deleted jobs are still there until a sweep: everything else matches.
    let conn = db(&env);
    let live: i64 = conn.query_row("SELECT count(*) FROM jobs WHERE deleted_at IS NULL", [], |r| r.get(0)).unwrap();
    let truth = fakes.get("/_fake/jobber/truth")["jobs"].as_array().unwrap().len() as i64;
    assert_eq!(live, truth + 5, "the 5 deleted jobs stay until a sweep");
    let run = sync(&env, &["--full"]).ok();
    assert!(run.stderr.contains("5 deleted"), "{}", run.stderr);
    assert_matches_truth(&env, &fakes);
    let deleted: i64 =
        db(&env).query_row("SELECT count(*) FROM jobs WHERE deleted_at IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(deleted, 5);
}

#[test]
fn a_deletion_during_a_sweep_marks_only_that_job() {
    // Jobber's cursors are offsets: a job deleted ahead of the cursor shifts every later job
    // back by one, so the job that would have opened the next page is on no page at all.
    let (env, fakes) = jobber(250, &["--jobber-restore-rate", "1000000"]);
    sync(&env, &[]).ok();
    let truth = fakes.get("/_fake/jobber/truth");
    let lowest = truth["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .min_by_key(|j| j["jobNumber"].as_i64())
        .map(|j| j["id"].as_str().unwrap().to_string())
        .unwrap();
    // Deleted while the sweep reads the details of its first page.
    fakes.post(&format!("/_fake/jobber/jobs/{}/delete", pct_encode(&lowest)), json!({"after_requests": 5}));
    sync(&env, &["--full"]).ok();
    let marked: Vec<String> = db(&env)
        .prepare("SELECT id FROM jobs WHERE deleted_at IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(marked.iter().all(|id| *id == lowest), "live jobs marked deleted: {marked:?}");
    // The next sweep finds the deleted job gone, and everything matches.
    sync(&env, &["--full"]).ok();
    assert_matches_truth(&env, &fakes);
}

#[test]
fn the_request_rate_limit_is_waited_out() {
    // Jobber's 2,500 requests per 300 s, scaled down to 8 per 2 s; like Jobber's (as far as is
    // documented), the fake's 429 carries no Retry-After. 120 jobs take about 20 requests.
    let (env, fakes) = jobber(
        120,
        &["--jobber-restore-rate", "1000000", "--jobber-request-limit", "8", "--jobber-request-window", "2"],
    );
    let run = sync(&env, &[]).any();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 429"), "the wait is explained: {}", run.stderr);
    let refused = fakes.get("/_fake/stats")["jobber"]["rate_limited"].as_u64().unwrap();
    assert!(refused >= 1, "the limit was reached: {refused}");
    assert_matches_truth(&env, &fakes);
}

#[test]
fn steady_state_sees_no_throttled() {
    // A realistic bucket, restoring fast enough to keep the test short.
    let (env, fakes) = jobber(400, &["--jobber-restore-rate", "20000"]);
    sync(&env, &[]).ok();
    sync(&env, &["--full"]).ok();
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["jobber"]["throttled"], 0, "{stats}");
    assert_matches_truth(&env, &fakes);
}

#[test]
fn faults_end_with_the_same_data() {
    let (env, fakes) = jobber(250, &["--jobber-restore-rate", "1000000"]);
    fakes.post(
        "/_fake/faults",
        json!({"rate": 0.2, "kinds": ["500", "502", "503", "reset", "slow", "truncated", "html", "graphql_partial", "throttled", "429"], "slow_ms": 300, "seed": 11, "provider": "jobber"}),
    );
    let run = sync(&env, &[]).any();
    assert_eq!(run.code, 0, "{}", run.stderr);
    fakes.post("/_fake/jobber/mutate", json!({"edit": 10, "add": 5, "delete": 4, "seed": 5}));
    sync(&env, &["--full"]).ok();
    fakes.post("/_fake/faults", json!({"rate": 0}));
    assert_matches_truth(&env, &fakes);
    let stats = fakes.get("/_fake/stats");
    assert!(stats.to_string().contains("fault"), "faults were injected: {stats}");
}

/// SIGKILL syncs mid-run while Jobber changes between the kills, then run clean ones.
/// `INTEG_TEST_KILLS` sets how many kills (6 by default; `scripts/fault-suite.sh` runs 50).
#[test]
fn killed_syncs_resume_without_loss_or_duplicates() {
    let kills: usize = std::env::var("INTEG_TEST_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    // 1,500 jobs: a round writes three times (every 500 jobs), and a little latency keeps each
    // run going long enough for kills to land in it. Fifty runs of about 45 requests pass
    // Jobber's 2,500 requests per 5 minutes, and integ rightly waits out the 429 (tested
    // elsewhere): here the limit is raised so the long variant does not spend minutes waiting.
    let (env, fakes) =
        jobber(1500, &["--jobber-restore-rate", "200000", "--latency-ms", "20", "--jobber-request-limit", "1000000"]);
    let tokens_before = std::fs::read(env.home().join("secrets.enc")).unwrap().len();
    // A fresh look each time (on PostgreSQL `db` is a snapshot).
    let mid_round = || {
        db(&env)
            .query_row("SELECT cursor FROM sync_state WHERE stream = 'jobs'", [], |r| r.get::<_, Option<String>>(0))
            .ok()
            .flatten()
            .is_some_and(|c| c.contains("\"round\":{"))
    };
    // The first kill lands in the first sweep, after a write and before its end. (Random kill
    // times alone can all land after fast runs have finished: CI once saw exactly that.)
    assert!(kill_when(&env, &["sync", "jobs"], Duration::from_secs(120), mid_round), "the run ended before the kill");
    assert!(mid_round(), "killed after a committed write, mid-round");
    // A different seed each run covers more kill points; a failure prints its seed, and
    // INTEG_TEST_SEED replays it.
    let seed: u64 =
        std::env::var("INTEG_TEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(12345 ^ std::process::id() as u64);
    eprintln!("kill times from INTEG_TEST_SEED={seed}");
    let mut rng = seed;
    for n in 1..kills {
        // Jobber changes between the kills: the resumed rounds see edits, additions and deletions.
        fakes.post("/_fake/jobber/mutate", json!({"edit": 4, "add": 2, "delete": 1, "seed": n}));
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // 100 ms to 2.5 s: before the first write (500 jobs or 2 s of pages) as well as after.
        let after = Duration::from_millis(100 + (rng >> 33) % 2400);
        // Every other run asks for a sweep, so kills also land in sweeps resumed by plain runs.
        let args: &[&str] = if n % 2 == 1 { &["sync", "jobs", "--full"] } else { &["sync", "jobs"] };
        kill_when(&env, args, after, || false);
    }
    // A plain run finishes whatever round was left; a sweep then marks the deleted jobs.
    sync(&env, &[]).ok();
    sync(&env, &["--full"]).ok();
    assert_matches_truth(&env, &fakes);
    // No token lost: the connection still works and is healthy.
    assert!(std::fs::read(env.home().join("secrets.enc")).unwrap().len() >= tokens_before / 2);
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
    let conn = db(&env);
    let dupes: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT id FROM jobs GROUP BY connection_id, id HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dupes, 0);
    let interrupted = runs_with_outcome(&env, "interrupted");
    assert!(interrupted >= 1, "killed runs are recorded as interrupted");
}

#[test]
fn second_run_for_the_same_account_exits_5() {
    let (env, _fakes) = jobber(20, &[]);
    sync(&env, &[]).ok();
    let lock = crate::foundation::walk(&env.home().join("locks"))
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("sync-jobber-"))
        .expect("sync lock file");
    let mut holder = hold_lock(&lock);
    let run = sync(&env, &[]).code(5);
    assert!(run.stderr.contains("another integ sync is running"), "{}", run.stderr);
    let _ = holder.kill();
    let _ = holder.wait();
    sync(&env, &["--wait", "5"]).ok();
}

#[test]
fn jobs_list_and_show_read_the_database() {
    let (env, _fakes) = jobber(40, &["--jobber-restore-rate", "1000000"]);
    sync(&env, &[]).ok();
    let list = env.run(&["jobs", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 40);
    let csv = env.run(&["jobs", "list", "--csv"]).ok().stdout;
    assert!(csv.starts_with("account,id,job_number,title"), "{csv}");
    assert_eq!(csv.lines().count(), 41);
    let number = list[0]["job_number"].as_i64().unwrap().to_string();
    let shown = env.run(&["jobs", "show", &number, "--json"]).ok().json();
    assert_eq!(shown["id"], list[0]["id"]);
    assert!(shown["line_items"].is_array() && shown["visits"].is_array());
    env.run(&["jobs", "show", "999999999"]).code(1);
    let table = env.run(&["jobs", "list"]).ok().stdout;
    assert!(table.contains("TITLE"), "{table}");
    // `show` reads a job's children through its key: the same rows as the tables hold.
    let (id, items, visits): (String, usize, usize) = db(&env)
        .query_row(
            "SELECT j.id, (SELECT count(*) FROM job_line_items li WHERE li.job_key = j.key),
                    (SELECT count(*) FROM job_visits v WHERE v.job_key = j.key)
             FROM jobs j ORDER BY 2 DESC, 3 DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(items > 0);
    let shown = env.run(&["jobs", "show", &id, "--json"]).ok().json();
    assert_eq!(shown["line_items"].as_array().unwrap().len(), items);
    assert_eq!(shown["visits"].as_array().unwrap().len(), visits);
}

#[test]
fn a_failure_mid_run_keeps_the_pages_read_before_it() {
    // 450 jobs fit one write (500), so only the failure path writes them before the end.
    let (env, fakes) = jobber(450, &["--jobber-restore-rate", "1000000"]);
    // About 30 requests in (two clients pages, a jobs page and its details, part of the next
    // page's details), every Jobber request starts failing.
    fakes.post("/_fake/faults", json!({"rate": 1, "kinds": ["500"], "provider": "jobber", "after": 30}));
    let run = sync(&env, &[]).any();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let kept: i64 = db(&env).query_row("SELECT count(*) FROM jobs", [], |r| r.get(0)).unwrap();
    assert!(kept > 0 && kept < 450 && kept % 100 == 0, "whole pages kept: {kept}");
    let cursor: String =
        db(&env).query_row("SELECT cursor FROM sync_state WHERE stream = 'jobs'", [], |r| r.get(0)).unwrap();
    assert!(cursor.contains("\"round\":{"), "the round goes on from the kept pages: {cursor}");
    fakes.post("/_fake/faults", json!({"rate": 0}));
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
}

#[test]
fn purge_deletes_every_jobber_row() {
    let (env, _fakes) = jobber(30, &["--jobber-restore-rate", "1000000"]);
    sync(&env, &[]).ok();
    let count = |table: &str| -> i64 {
        db(&env).query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    };
    let tables = ["jobs", "clients", "job_line_items", "job_visits", "job_visit_assignees", "sync_runs"];
    for t in tables {
        assert!(count(t) > 0, "{t} is filled by the sync");
    }
    env.run(&["disconnect", "jobber", "--purge"]).ok();
    for t in tables {
        assert_eq!(count(t), 0, "{t} is emptied by --purge");
    }
    let check: String = db(&env).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
