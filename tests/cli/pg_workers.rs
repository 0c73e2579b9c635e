//! Many workers, one PostgreSQL database: eight `integ sync --shard I/8` processes at once over
//! sixteen Jobber accounts sync every account exactly once per round and store exactly the
//! fake's truth; workers killed mid-round leave nothing that clean runs do not mend; and the
//! per-account advisory lock keeps a second worker off an account (exit 5, or `--wait`),
//! whatever machine it runs on.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::Digest;

use crate::common::{Fakes, TestEnv, finish_within, kill};
use crate::postgres::PgDb;

const ACCOUNTS: usize = 16;
const WORKERS: usize = 8;

/// Sixteen Jobber accounts (`acct-1` .. `acct-16`, `jobs` jobs each) connected in one home whose
/// data lives in `pg`.
fn sixteen(pg: &PgDb, jobs: usize) -> (TestEnv, Fakes) {
    let fakes = Fakes::start(&["--jobber-restore-rate", "1000000"]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    pg.env_for(&mut env);
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    env.curl_browser();
    for i in 1..=ACCOUNTS {
        fakes.post("/_fake/jobber/login", json!({"id": format!("acct-{i}"), "name": format!("Company {i}")}));
        env.run(&["connect", "jobber", "--account", &format!("acct-{i}"), "--timeout", "30"]).ok();
        fakes.post("/_fake/jobber/seed", json!({"account": format!("acct-{i}"), "jobs": jobs, "seed": i}));
    }
    (env, fakes)
}

fn spawn_workers(env: &TestEnv) -> Vec<Child> {
    (1..=WORKERS)
        .map(|i| env.cmd(&["sync", "jobs", "--shard", &format!("{i}/{WORKERS}"), "--quiet"]).spawn().unwrap())
        .collect()
}

/// Runs of the `jobs` stream per account id, by outcome.
fn job_runs(pg: &PgDb) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in pg.query(
        "SELECT c.account_id, r.outcome, count(*) FROM sync_runs r JOIN connections c ON c.id = r.connection_id
         WHERE r.stream = 'jobs' GROUP BY 1, 2",
    ) {
        let n: i64 = r[2].as_deref().unwrap().parse().unwrap();
        out.entry(r[0].clone().unwrap()).or_default().insert(r[1].clone().unwrap(), n);
    }
    out
}

/// Each account's live jobs in the database equal the fake's truth: the same ids, and for each
/// the same `updatedAt` and number of visits.
fn assert_equal_to_truth(pg: &PgDb, fakes: &Fakes) {
    for i in 1..=ACCOUNTS {
        let account = format!("acct-{i}");
        let truth = fakes.get(&format!("/_fake/jobber/truth?account={account}"));
        let want: BTreeSet<(String, String, usize)> = truth["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                (
                    j["id"].as_str().unwrap().to_string(),
                    j["updatedAt"].as_str().unwrap().to_string(),
                    j["visits"].as_array().map_or(0, Vec::len),
                )
            })
            .collect();
        let got: BTreeSet<(String, String, usize)> = pg
            .query(&format!(
                "SELECT j.id, j.updated_at, (SELECT count(*) FROM job_visits v WHERE v.job_key = j.key)
                 FROM jobs j JOIN connections c ON c.id = j.connection_id
                 WHERE c.account_id = '{account}' AND j.deleted_at IS NULL"
            ))
            .into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap(), r[2].as_deref().unwrap().parse().unwrap()))
            .collect();
        assert!(!want.is_empty(), "{account}: the fake has no jobs");
        assert_eq!(got, want, "{account}: the database differs from the truth");
    }
    // No job twice, under any account.
    let dup = pg.query("SELECT count(*) FROM (SELECT connection_id, id FROM jobs GROUP BY 1, 2 HAVING count(*) > 1) d");
    assert_eq!(dup[0][0].as_deref(), Some("0"));
}

#[test]
fn pg_eight_workers_on_shards_sync_sixteen_accounts_exactly_once_per_round() {
    let Some(pg) = PgDb::new() else { return };
    let (env, fakes) = sixteen(&pg, 12);
    let inserted = || pg.query("SELECT coalesce(sum(inserted), 0) FROM sync_runs WHERE stream = 'jobs'")[0][0].clone();
    let mut after_first = None;
    for round in 1..=2_i64 {
        let workers = spawn_workers(&env);
        for w in workers {
            let done = finish_within(w, Duration::from_secs(120)).any();
            assert_eq!(done.code, 0, "round {round}: a worker failed: {}", done.stderr);
        }
        let runs = job_runs(&pg);
        assert_eq!(runs.len(), ACCOUNTS, "round {round}: {runs:?}");
        for (account, outcomes) in &runs {
            assert_eq!(outcomes, &BTreeMap::from([("ok".to_string(), round)]), "round {round}: {account}");
        }
        assert_equal_to_truth(&pg, &fakes);
        match &after_first {
            None => after_first = inserted(),
            // The second round found nothing new.
            Some(first) => assert_eq!(inserted().as_ref(), Some(first), "a second round inserted rows"),
        }
    }
    assert_eq!(after_first.as_deref(), Some((ACCOUNTS * 12).to_string().as_str()));
}

#[test]
fn pg_workers_killed_mid_round_lose_nothing_and_clean_runs_reach_the_truth() {
    let Some(pg) = PgDb::new() else { return };
    let (env, fakes) = sixteen(&pg, 150);
    let mut workers = spawn_workers(&env);
    // Kill half the workers once the round is under way (some job pages are in).
    let start = Instant::now();
    while pg.query("SELECT count(*) FROM jobs")[0][0].as_deref() == Some("0")
        && start.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut killed = 0;
    for w in workers.iter_mut().step_by(2) {
        if w.try_wait().unwrap().is_none() {
            kill(w.id());
            killed += 1;
        }
    }
    assert!(killed > 0, "every worker had finished before the kill: give them more jobs");
    for w in workers {
        let _ = finish_within(w, Duration::from_secs(120)).any();
    }
    // Clean rounds: every account ends equal to the truth, no run is left `running`.
    for _ in 0..2 {
        for w in spawn_workers(&env) {
            let done = finish_within(w, Duration::from_secs(120)).any();
            assert_eq!(done.code, 0, "a clean worker failed: {}", done.stderr);
        }
    }
    assert_equal_to_truth(&pg, &fakes);
    let running = pg.query("SELECT count(*) FROM sync_runs WHERE outcome = 'running'");
    assert_eq!(running[0][0].as_deref(), Some("0"));
}

/// The advisory-lock key integ derives for an account's sync lock (README "Running many
/// accounts"): SHA-256 of `integ:sync-<provider>-<first 16 hex digits of SHA-256(account id)>`,
/// its first 8 bytes as a signed big-endian integer.
fn sync_lock_key(provider: &str, account_id: &str) -> i64 {
    let short: String =
        sha2::Sha256::digest(account_id.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect();
    let digest = sha2::Sha256::digest(format!("integ:sync-{provider}-{short}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().unwrap())
}

/// Hold an advisory lock from another session (another machine's worker) until `release`.
fn hold_advisory(pg: &PgDb, key: i64, hold: Duration) -> std::thread::JoinHandle<()> {
    let (url, password) = (pg.url.clone(), pg.password.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut config: tokio_postgres::Config = url.parse().unwrap();
            config.password(password);
            let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            client.execute("SELECT pg_advisory_lock($1)", &[&key]).await.unwrap();
            ready_tx.send(()).unwrap();
            tokio::time::sleep(hold).await;
        });
    });
    ready_rx.recv().unwrap();
    handle
}

#[test]
fn pg_a_worker_finds_the_account_locked_by_another_machine() {
    let Some(pg) = PgDb::new() else { return };
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    pg.env_for(&mut env);
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    env.curl_browser();
    fakes.post("/_fake/jobber/login", json!({"id": "acct-lock", "name": "Locked Co"}));
    env.run(&["connect", "jobber", "--timeout", "30"]).ok();
    fakes.post("/_fake/jobber/seed", json!({"account": "acct-lock", "jobs": 3}));
    let key = sync_lock_key("jobber", "acct-lock");
    // Held elsewhere (no lock file here is taken): exit 5, nothing run.
    let holder = hold_advisory(&pg, key, Duration::from_secs(3));
    let locked = env.run(&["sync", "jobs"]).code(5);
    assert!(locked.stderr.contains("another integ sync is running"), "{}", locked.stderr);
    assert_eq!(pg.query("SELECT count(*) FROM sync_runs")[0][0].as_deref(), Some("0"));
    // With --wait the worker runs once the other lets go.
    let waited = env.run(&["sync", "jobs", "--wait", "30"]).ok();
    assert!(waited.stderr.contains("jobs:"), "{}", waited.stderr);
    holder.join().unwrap();
    assert_eq!(pg.query("SELECT count(*) FROM sync_runs WHERE stream = 'jobs'")[0][0].as_deref(), Some("1"));
    // The lock went with the run: no advisory lock is left held.
    assert_eq!(pg.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")[0][0].as_deref(), Some("0"));
}
