//! `integ sync --shard I/N`: N workers split the accounts of one database without talking to
//! each other. Together the shards sync every account exactly once, each shard only its own,
//! and `integ status --shards N` names the owner the sync used, the one the README's recipe
//! (`sha256sum`) gives by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Fakes, TestEnv, db, finish_within, free_port};

/// The README's recipe, outside integ: SHA-256 of `<provider>:<account id>`, its first 16 hex
/// digits as a number, modulo N, plus one.
fn owner_by_hand(provider: &str, account_id: &str, n: u64) -> u64 {
    let mut child = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{provider}:{account_id}").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let hex = String::from_utf8(out.stdout).unwrap();
    u64::from_str_radix(&hex[..16], 16).unwrap() % n + 1
}

/// Five Jobber accounts (`acct-1` .. `acct-5`) and a Google one (`acct-6`) against one fake,
/// three jobs and five events each.
fn six_accounts() -> (TestEnv, Fakes) {
    let redirect = format!("http://localhost:{}/callback/jobber", free_port());
    let fakes = Fakes::start(&[
        "--jobber-redirect-uri",
        &redirect,
        "--jobber-seed-jobs",
        "3",
        "--jobber-restore-rate",
        "1000000",
        "--google-seed-events",
        "5",
    ]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.curl_browser();
    for i in 1..=5 {
        fakes.post("/_fake/jobber/login", json!({"id": format!("acct-{i}"), "name": format!("Company {i}")}));
        env.run(&["connect", "jobber", "--account", &format!("acct-{i}"), "--timeout", "30"]).ok();
    }
    fakes.post("/_fake/google/login", json!({"id": "acct-6", "name": "Crew Six", "email": "six@example.com"}));
    env.run(&["connect", "google", "--account", "acct-6", "--timeout", "30"]).ok();
    (env, fakes)
}

/// `provider:account id` of every connection, with its `sync_runs` rows per stream.
fn runs(env: &TestEnv) -> BTreeMap<String, BTreeMap<String, i64>> {
    let conn = db(env);
    let mut stmt = conn
        .prepare(
            "SELECT c.provider || ':' || c.account_id, r.stream, r.outcome FROM connections c
             LEFT JOIN sync_runs r ON r.connection_id = c.id",
        )
        .unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?)))
        .unwrap();
    for row in rows {
        let (who, stream, outcome) = row.unwrap();
        let streams = out.entry(who).or_default();
        if let Some(stream) = stream {
            assert_eq!(outcome.as_deref(), Some("ok"), "{stream}");
            *streams.entry(stream).or_default() += 1;
        }
    }
    out
}

/// The accounts whose run count went up between two snapshots.
fn synced(
    before: &BTreeMap<String, BTreeMap<String, i64>>,
    after: &BTreeMap<String, BTreeMap<String, i64>>,
) -> BTreeSet<String> {
    after.iter().filter(|(who, streams)| before.get(*who) != Some(*streams)).map(|(who, _)| who.clone()).collect()
}

#[test]
fn three_shards_sync_every_account_exactly_once_and_status_names_the_owner() {
    let (mut env, _fakes) = six_accounts();
    // Who owns what, as status says it, and as the README's recipe says it.
    let status = env.run(&["status", "--json", "--shards", "3"]).ok().json();
    let mut owners: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for c in status.as_array().unwrap() {
        let (provider, id) = (c["provider"].as_str().unwrap(), c["account_id"].as_str().unwrap());
        let shard = c["shard"].as_str().unwrap_or_else(|| panic!("no shard in {c}"));
        let by_hand = owner_by_hand(provider, id, 3);
        assert_eq!(shard, format!("{by_hand}/3"), "{provider}:{id}");
        owners.entry(by_hand).or_default().insert(format!("{provider}:{id}"));
    }
    assert_eq!(owners.values().map(BTreeSet::len).sum::<usize>(), 6, "{owners:?}");
    // The accounts are named so that every shard has work (else this proves less).
    assert_eq!(owners.keys().copied().collect::<Vec<_>>(), [1, 2, 3], "{owners:?}");
    let table = env.run(&["status", "--shards", "3"]).ok().stdout;
    assert!(table.contains("SHARD"), "{table}");
    let row = table.lines().find(|l| l.contains("acct-6")).unwrap();
    let google_owner = owners.iter().find(|(_, who)| who.contains("google:acct-6")).map(|(i, _)| *i).unwrap();
    assert!(row.contains(&format!("{google_owner}/3")), "{row}");

    let mut before = runs(&env);
    assert!(before.values().all(BTreeMap::is_empty), "{before:?}");
    for i in 1..=3u64 {
        let run = env.run(&["sync", "--shard", &format!("{i}/3")]).ok();
        assert!(
            run.stderr.contains(&format!("shard {i}/3 (from --shard): {} of 6", owners[&i].len())),
            "{}",
            run.stderr
        );
        let after = runs(&env);
        assert_eq!(synced(&before, &after), owners[&i], "shard {i}/3 synced other accounts");
        before = after;
    }
    // Together: every account once, each of its streams once.
    for (who, streams) in &before {
        let expected: &[&str] = if who.starts_with("jobber:") { &["clients", "jobs"] } else { &["events"] };
        assert_eq!(streams.keys().map(String::as_str).collect::<Vec<_>>(), expected, "{who}");
        assert!(streams.values().all(|n| *n == 1), "{who}: {streams:?}");
    }

    // The three workers at once, as a scheduler starts them: one more run of every stream of
    // every account, none twice, none failed.
    let workers: Vec<_> = (1..=3)
        .map(|i| {
            env.cmd(&["sync", "--shard", &format!("{i}/3")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for w in workers {
        finish_within(w, Duration::from_secs(60)).ok();
    }
    for (who, streams) in runs(&env) {
        assert!(streams.values().all(|n| *n == 2), "{who}: {streams:?}");
    }
    before = runs(&env);

    // INTEG_SHARD is the default, and the flag wins over it; INTEG_SHARDS is status's default.
    env.set("INTEG_SHARD", "2/3");
    let after = before;
    env.run(&["sync", "jobs"]).ok();
    let jobber_of = |i: u64| owners[&i].iter().filter(|w| w.starts_with("jobber:")).cloned().collect::<BTreeSet<_>>();
    let now = runs(&env);
    assert_eq!(synced(&after, &now), jobber_of(2));
    let run = env.run(&["sync", "jobs", "--shard", "1/3"]).ok();
    assert!(run.stderr.contains("shard 1/3 (from --shard)"), "{}", run.stderr);
    assert_eq!(synced(&now, &runs(&env)), jobber_of(1));
    env.set("INTEG_SHARDS", "3");
    let from_env = env.run(&["status", "--json"]).code(0).json();
    let shards = |v: &Value| v.as_array().unwrap().iter().map(|c| c["shard"].clone()).collect::<Vec<_>>();
    assert_eq!(shards(&from_env), shards(&status));
}

#[test]
fn bad_shards_are_usage_errors_that_name_the_fix() {
    let mut env = TestEnv::new();
    for (bad, says) in [
        ("0/4", "numbered from 1 to 4"),
        ("5/4", "shard 5 of 4 does not exist"),
        ("1/0", "at least one shard"),
        ("1/2000", "from 1 to 1024"),
        ("x", "write I/N"),
        ("3", "write I/N"),
    ] {
        let run = env.run(&["sync", "--shard", bad]).code(2);
        assert!(run.stderr.contains("--shard") && run.stderr.contains(says), "{bad}: {}", run.stderr);
    }
    let run = env.run(&["status", "--shards", "0"]).code(2);
    assert!(run.stderr.contains("at least one shard"), "{}", run.stderr);
    // The same rules for the environment's defaults, naming the variable.
    env.set("INTEG_SHARD", "4/3");
    let run = env.run(&["sync"]).code(2);
    assert!(run.stderr.contains("INTEG_SHARD: shard 4 of 3 does not exist"), "{}", run.stderr);
    assert!(run.stderr.contains("unset it"), "{}", run.stderr);
    env.unset("INTEG_SHARD").set("INTEG_SHARDS", "many");
    let run = env.run(&["status"]).code(2);
    assert!(run.stderr.contains("INTEG_SHARDS: 'many' is not a number of shards"), "{}", run.stderr);
}

#[test]
fn an_empty_shard_is_a_note_and_a_named_account_elsewhere_is_refused() {
    let fakes = Fakes::start(&["--jobber-seed-jobs", "2"]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.curl_browser();
    for i in 1..=2 {
        fakes.post("/_fake/jobber/login", json!({"id": format!("acct-{i}"), "name": format!("Company {i}")}));
        env.run(&["connect", "jobber", "--account", &format!("acct-{i}"), "--timeout", "30"]).ok();
    }
    let owner = |i: u32| owner_by_hand("jobber", &format!("acct-{i}"), 1024);
    let empty = (1..=1024).find(|s| *s != owner(1) && *s != owner(2)).unwrap();
    // More workers than accounts: a shard with none exits 0 and says so, once, on stderr.
    let run = env.run(&["--json", "sync", "--shard", &format!("{empty}/1024")]).ok();
    assert_eq!(run.json(), json!([]));
    assert!(
        run.stderr.contains(&format!("shard {empty}/1024 (from --shard) has none of the 2 account(s)")),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(runs(&env).values().all(BTreeMap::is_empty));
    // An account named with --account that another shard owns: refused, nothing synced.
    env.set("INTEG_SHARD", format!("{empty}/1024"));
    let run = env.run(&["sync", "--account", "acct-1"]).code(2);
    let own = owner(1);
    assert!(
        run.stderr.contains(&format!("is in shard {own}/1024, not in shard {empty}/1024 (from INTEG_SHARD)")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&format!("pass --shard {own}/1024")), "{}", run.stderr);
    assert!(runs(&env).values().all(BTreeMap::is_empty));
    // ... and in its own shard it syncs.
    env.run(&["sync", "--account", "acct-1", "--shard", &format!("{own}/1024")]).ok();
    let after = runs(&env);
    assert_eq!(after["jobber:acct-1"].len(), 2, "{after:?}");
    assert!(after["jobber:acct-2"].is_empty(), "{after:?}");
}
