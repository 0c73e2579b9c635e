//! End-to-end tests of the Jobber data API through the whole fake (control API, token,
//! GraphQL transport, cost bucket, faults), without sockets.

use clap::Parser as _;
use serde_json::{Value, json};

use crate::http::{Req, Resp};
use crate::state::State;

fn state(extra: &[&str]) -> State {
    // The fixtures' reference instant: these tests don't depend on the day they run.
    let mut argv = vec!["integ-fakes", "serve", "--now", "2026-11-21T12:00:00Z"];
    argv.extend_from_slice(extra);
    let cli = crate::Cli::try_parse_from(argv).unwrap();
    let crate::Command::Serve(args) = cli.command else { panic!("serve") };
    crate::build_state(&args, "http://127.0.0.1:5".into()).unwrap()
}

fn call(st: &mut State, method: &str, path: &str, body: &Value) -> Resp {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    st.handle(&Req {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    })
}

fn ctl(st: &mut State, method: &str, path: &str, body: Value) -> Value {
    let r = call(st, method, path, &body);
    assert!(r.status < 300, "{path}: {}", String::from_utf8_lossy(&r.body));
    r.json_value()
}

fn gql_req(token: &str, query: &str, vars: Value) -> Req {
    Req {
        method: "POST".into(),
        path: "/jobber/api/graphql".into(),
        query: String::new(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Authorization".into(), format!("Bearer {token}")),
            ("X-JOBBER-GRAPHQL-VERSION".into(), "2025-04-16".into()),
        ],
        body: json!({ "query": query, "variables": vars }).to_string().into_bytes(),
    }
}

fn gql(st: &mut State, token: &str, query: &str, vars: Value) -> Value {
    let r = st.handle(&gql_req(token, query, vars));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json_value()
}

/// A fake with `n` seeded jobs and no cost budget to worry about, plus an access token.
fn seeded(n: usize, extra: &[&str]) -> (State, String) {
    let mut args = vec!["--jobber-restore-rate", "1e9"];
    args.extend_from_slice(extra);
    let mut st = state(&args);
    ctl(&mut st, "POST", "/_fake/jobber/seed", json!({"jobs": n, "seed": 42}));
    let t = ctl(&mut st, "POST", "/_fake/jobber/token", json!({}));
    (st, t["access_token"].as_str().unwrap().to_string())
}

const PAGE: &str = "query Page($after: String) {
  jobs(first: 50, after: $after, sort: [{key: UPDATED_AT, direction: DESCENDING}]) {
    nodes { id updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}";

/// Page through `jobs` UPDATED_AT DESC; `between` runs after each page.
fn scan(st: &mut State, token: &str, mut between: impl FnMut(&mut State, usize)) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for i in 0.. {
        let v = gql(st, token, PAGE, json!({ "after": after }));
        assert!(v.get("errors").is_none(), "{v}");
        let jobs = &v["data"]["jobs"];
        for n in jobs["nodes"].as_array().unwrap() {
            seen.push((n["id"].as_str().unwrap().to_string(), n["updatedAt"].as_str().unwrap().to_string()));
        }
        if jobs["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = jobs["pageInfo"]["endCursor"].clone();
        between(st, i);
    }
    seen
}

fn truth_ids(st: &mut State) -> Vec<String> {
    let t = ctl(st, "GET", "/_fake/jobber/truth", json!({}));
    t["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn a_full_scan_returns_every_job_exactly_once_in_order() {
    let (mut st, at) = seeded(20_000, &[]);
    let t = std::time::Instant::now();
    let seen = scan(&mut st, &at, |_, _| {});
    eprintln!("400 pages over 20,000 jobs in {:?}", t.elapsed());
    assert_eq!(seen.len(), 20_000);
    // Non-increasing updatedAt (ISO strings of one format sort like times).
    assert!(seen.windows(2).all(|w| w[0].1 >= w[1].1));
    let ids: Vec<String> = seen.into_iter().map(|s| s.0).collect();
    // The rows themselves (the truth endpoint is slow in debug builds at this size).
    let live: Vec<String> = st
        .jobber
        .accounts
        .values()
        .flat_map(|a| a.data.jobs.keys())
        .map(|id| crate::jobber::api::encode_id("Job", *id))
        .collect();
    assert_eq!(sorted(ids), sorted(live));
    let stats = ctl(&mut st, "GET", "/_fake/stats", json!({}));
    assert_eq!(stats["jobber"]["queries"]["jobs"], 400);
    assert_eq!(stats["jobber"]["requested_cost"], 400 * (50 * 2 + 2));
}

#[test]
fn edits_and_deletes_between_pages_follow_the_key_cursor() {
    let (mut st, at) = seeded(500, &["--jobber-cursors", "key"]);
    let before = scan(&mut st, &at, |_, _| {});
    let ids: Vec<String> = before.iter().map(|s| s.0.clone()).collect();
    // After page 1 (rows 0..50): edit row 3 (already seen), row 60 (not yet seen) and the
    // cursor's own row 49; delete row 70.
    let seen = scan(&mut st, &at, |st, page| {
        if page == 0 {
            for i in [3, 60, 49] {
                ctl(st, "POST", &format!("/_fake/jobber/jobs/{}", ids[i]), json!({"title": "edited"}));
            }
            ctl(st, "POST", &format!("/_fake/jobber/jobs/{}/delete", ids[70]), json!({}));
        }
    });
    let got: Vec<String> = seen.iter().map(|s| s.0.clone()).collect();
    // Paging continued after row 49's old position: nothing repeated, nothing unedited
    // skipped; row 60 moved to the top (ahead of the cursor) and row 70 vanished.
    let mut expected: Vec<String> = ids.clone();
    expected.retain(|id| *id != ids[60] && *id != ids[70]);
    assert_eq!(got, expected);
    // A second scan sees the edited rows first, and no trace of the deleted one.
    let again = scan(&mut st, &at, |_, _| {});
    let top: Vec<&str> = again[..3].iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        sorted(top.iter().map(|s| s.to_string()).collect()),
        sorted(vec![ids[3].clone(), ids[60].clone(), ids[49].clone()])
    );
    assert_eq!(again.len(), 499);
    assert!(!again.iter().any(|s| s.0 == ids[70]));
    let gone = gql(&mut st, &at, "query($id: EncodedId!) { job(id: $id) { id } }", json!({"id": ids[70]}));
    assert_eq!(gone["data"]["job"], Value::Null);
    assert!(gone.get("errors").is_none());
}

#[test]
fn offset_cursors_repeat_and_skip_rows_like_jobber() {
    let (mut st, at) = seeded(300, &["--jobber-cursors", "offset"]);
    let before = scan(&mut st, &at, |_, _| {});
    let ids: Vec<String> = before.iter().map(|s| s.0.clone()).collect();
    let seen = scan(&mut st, &at, |st, page| {
        if page == 0 {
            // An edit below the cursor shifts rows down: the next page repeats one.
            ctl(st, "POST", &format!("/_fake/jobber/jobs/{}", ids[120]), json!({"total": 1.5}));
        }
    });
    let got: Vec<&String> = seen.iter().map(|s| &s.0).collect();
    // Positions shifted by one: row 49 comes twice, the edited row 120 never.
    assert_eq!(got.len(), 300);
    assert_eq!(got[50], &ids[49]);
    assert!(!got.contains(&&ids[120]));
    assert_eq!(ctl(&mut st, "POST", "/_fake/jobber/cursors", json!({"mode": "key"}))["cursors"], "key");
}

#[test]
fn ids_filter_sorts_and_search() {
    let (mut st, at) = seeded(200, &[]);
    let ids = truth_ids(&mut st);
    ctl(&mut st, "DELETE", &format!("/_fake/jobber/jobs/{}", ids[5]), json!({}));
    let client_id = crate::jobber::api::encode_id("Client", 1);
    let q = "query($ids: [EncodedId!]) { jobs(filter: {ids: $ids}, sort: [{key: JOB_NUMBER, direction: DESCENDING}]) { nodes { id jobNumber } totalCount } }";
    let v = gql(&mut st, &at, q, json!({"ids": [ids[1], ids[5], ids[9], client_id, ids[1]]}));
    let nodes = v["data"]["jobs"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["id"], ids[9].as_str());
    assert_eq!(nodes[1]["id"], ids[1].as_str());
    assert_eq!(v["data"]["jobs"]["totalCount"], 2);
    // Status filter against the truth.
    let t = ctl(&mut st, "GET", "/_fake/jobber/truth", json!({}));
    let archived = t["jobs"].as_array().unwrap().iter().filter(|j| j["jobStatus"] == "archived").count();
    let v = gql(
        &mut st,
        &at,
        "{ jobs(first: 1, filter: {status: archived}) { totalCount nodes { jobStatus } } }",
        json!({}),
    );
    assert_eq!(v["data"]["jobs"]["totalCount"], archived);
    assert_eq!(v["data"]["jobs"]["nodes"][0]["jobStatus"], "archived");
    // Unscheduled jobs have no startAt; a startAt range never matches them.
    let v = gql(
        &mut st,
        &at,
        "{ jobs(first: 100, filter: {startAt: {after: \"2000-01-01T00:00:00Z\"}}) { nodes { startAt } } }",
        json!({}),
    );
    assert!(v["data"]["jobs"]["nodes"].as_array().unwrap().iter().all(|n| n["startAt"].is_string()));
    // JOB_NUMBER ascending is the default order.
    let v = gql(&mut st, &at, "{ jobs(first: 3) { nodes { jobNumber } } }", json!({}));
    assert_eq!(v["data"]["jobs"]["nodes"], json!([{"jobNumber": 1}, {"jobNumber": 2}, {"jobNumber": 3}]));
    let v = gql(&mut st, &at, "{ jobs(first: 5, searchTerm: \"17\") { nodes { jobNumber } } }", json!({}));
    assert!(v["data"]["jobs"]["nodes"].as_array().unwrap().iter().any(|n| n["jobNumber"] == 17));
}

/// Every field of the schema, connections included, for the truth comparison.
const FULL_JOB: &str = "id jobNumber title jobStatus jobType billingType instructions total invoicedTotal uninvoicedTotal startAt endAt completedAt createdAt updatedAt jobberWebUri
  client { id name firstName lastName companyName isCompany isArchived isLead createdAt updatedAt jobberWebUri }
  property { id address { street1 street2 city province postalCode country } }";

fn page_all(st: &mut State, at: &str, job: &str, field: &str, inner: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let q = format!(
            "query($id: EncodedId!, $after: String) {{ job(id: $id) {{ {field}(first: 20, after: $after) {{ nodes {{ {inner} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"
        );
        let v = gql(st, at, &q, json!({"id": job, "after": after}));
        let c = &v["data"]["job"][field];
        out.extend(c["nodes"].as_array().unwrap().iter().cloned());
        if c["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

#[test]
fn graphql_answers_match_the_truth_field_by_field() {
    let (mut st, at) = seeded(300, &[]);
    let truth = ctl(&mut st, "GET", "/_fake/jobber/truth", json!({}));
    let jobs = truth["jobs"].as_array().unwrap();
    let big = jobs.iter().find(|j| j["lineItems"].as_array().unwrap().len() > 50).unwrap();
    let busy = jobs.iter().find(|j| j["visits"].as_array().unwrap().len() >= 8).unwrap();
    for tj in [big, busy, &jobs[0], &jobs[299]] {
        let id = tj["id"].as_str().unwrap();
        let v = gql(
            &mut st,
            &at,
            &format!("query($id: EncodedId!) {{ job(id: $id) {{ {FULL_JOB} }} }}"),
            json!({"id": id}),
        );
        let mut got = v["data"]["job"].clone();
        got["lineItems"] = Value::Array(page_all(
            &mut st,
            &at,
            id,
            "lineItems",
            "id name description quantity unitPrice totalPrice taxable qty unitCost cost",
        ));
        let mut visits = page_all(
            &mut st,
            &at,
            id,
            "visits",
            "id title startAt endAt completedAt isComplete visitStatus assignedUsers(first: 10) { nodes { id name { first last full } } }",
        );
        for vis in &mut visits {
            let users = vis["assignedUsers"]["nodes"].clone();
            vis["assignedUsers"] = users;
        }
        got["visits"] = Value::Array(visits);
        assert_eq!(&got, tj);
    }
    assert!(truth["clients"].as_array().unwrap().len() >= 75);
    assert_eq!(truth["account"], crate::jobber::default_user().id);
    // Unicode, quotes and nulls survive.
    assert!(jobs.iter().any(|j| j["instructions"].is_null()));
    assert!(jobs.iter().any(|j| j["startAt"].is_null()));
}

fn cost(st: &mut State, at: &str, q: &str) -> Value {
    gql(st, at, q, json!({}))["extensions"]["cost"]["requestedQueryCost"].clone()
}

#[test]
fn costs_multiply_through_nested_connections() {
    let (mut st, at) = seeded(20, &[]);
    assert_eq!(cost(&mut st, &at, "{ jobs(first: 10) { nodes { lineItems(first: 20) { nodes { id name } } } } }"), 400);
    assert_eq!(
        cost(
            &mut st,
            &at,
            "{ jobs(first: 10) { nodes { lineItems(first: 20) { nodes { id name } } } pageInfo { hasNextPage endCursor } } }"
        ),
        402
    );
    assert_eq!(
        cost(
            &mut st,
            &at,
            "{ jobs(first: 10) { nodes { lineItems(first: 20) { nodes { id name } pageInfo { hasNextPage } } } } }"
        ),
        10 * 41
    );
    // 16 scalars + client{id name} + property{id address{6}} = 25 per job.
    assert_eq!(
        cost(
            &mut st,
            &at,
            &format!(
                "{{ jobs(first: 50) {{ nodes {{ {} client {{ id name }} property {{ id address {{ street1 street2 city province postalCode country }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
                "id jobNumber title jobStatus jobType billingType instructions total invoicedTotal uninvoicedTotal startAt endAt completedAt createdAt updatedAt jobberWebUri"
            )
        ),
        50 * 25 + 2
    );
    // Without first: 100 assumed. Edges: cursor counts, node is free.
    assert_eq!(cost(&mut st, &at, "{ jobs { nodes { id } } }"), 100);
    assert_eq!(cost(&mut st, &at, "{ jobs(first: 5) { edges { cursor node { id } } totalCount } }"), 11);
    assert_eq!(
        cost(
            &mut st,
            &at,
            "{ jobs(first: 2) { nodes { visits(first: 3) { nodes { id assignedUsers(first: 4) { nodes { id name { full } } } } } } } }"
        ),
        2 * 3 * (1 + 4 * 2)
    );
    // Over 10,000 never runs, even with a full bucket.
    let v = gql(&mut st, &at, "{ jobs(first: 101) { nodes { lineItems { nodes { id } } } } }", json!({}));
    assert_eq!(v["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 10_100);
    assert_eq!(v["extensions"]["cost"]["actualQueryCost"], 0);
}

#[test]
fn unknown_fields_and_the_updated_at_filter_fail_the_whole_query() {
    let (mut st, at) = seeded(20, &[]);
    let v = gql(&mut st, &at, "{ jobs(first: 1) { nodes { id assignedUsers { nodes { id } } } } }", json!({}));
    assert!(v.get("data").is_none());
    assert_eq!(v["errors"][0]["message"], "Field 'assignedUsers' doesn't exist on type 'Job'");
    let v = gql(
        &mut st,
        &at,
        "{ jobs(first: 1, filter: {updatedAt: {after: \"2026-01-01T00:00:00Z\"}}) { nodes { id } } }",
        json!({}),
    );
    assert!(v.get("data").is_none());
    assert_eq!(v["errors"][0]["message"], "InputObject 'JobFilterAttributes' doesn't accept argument 'updatedAt'");
    let v = gql(
        &mut st,
        &at,
        "query($f: JobFilterAttributes) { jobs(first: 1, filter: $f) { nodes { id } } }",
        json!({"f": {"updatedAt": {"after": "2026-01-01T00:00:00Z"}}}),
    );
    assert!(v.get("data").is_none());
    assert_eq!(v["errors"][0]["extensions"]["problems"][0]["path"], json!(["updatedAt"]));
    let v = gql(
        &mut st,
        &at,
        "{ jobs(first: 1, filter: {createdAt: {after: \"yesterday\"}}) { nodes { id } } }",
        json!({}),
    );
    assert!(v.get("data").is_none(), "bad ISO8601DateTime");
    let v = gql(&mut st, &at, "{ jobs(first: 1, after: \"bm9wZQ\") { nodes { id } } }", json!({}));
    assert_eq!(v["data"], Value::Null);
    assert!(v["errors"][0]["message"].as_str().unwrap().starts_with("Invalid cursor"));
    assert_eq!(v["errors"][0]["path"], json!(["jobs"]));
}

#[test]
fn clients_filter_by_updated_at_and_edits_bump_it() {
    let (mut st, at) = seeded(100, &[]);
    let t = ctl(&mut st, "GET", "/_fake/jobber/truth", json!({}));
    let client = t["clients"][3]["id"].as_str().unwrap().to_string();
    let now = ctl(&mut st, "GET", "/_fake/clock", json!({}))["now"].as_i64().unwrap();
    let since = crate::core::rfc3339(now - 1);
    let q = "query($since: ISO8601DateTime) { clients(first: 50, filter: {updatedAt: {after: $since}}, sort: [{key: UPDATED_AT, direction: DESCENDING}]) { nodes { id name updatedAt } totalCount } }";
    let v = gql(&mut st, &at, q, json!({"since": since}));
    assert_eq!(v["data"]["clients"]["totalCount"], 0);
    let edited = ctl(
        &mut st,
        "POST",
        &format!("/_fake/jobber/clients/{client}"),
        json!({"firstName": "Renée", "isCompany": false}),
    );
    assert!(edited["name"].as_str().unwrap().starts_with("Renée"));
    let v = gql(&mut st, &at, q, json!({"since": since}));
    assert_eq!(v["data"]["clients"]["nodes"][0]["id"], client.as_str());
    assert_eq!(v["data"]["clients"]["nodes"][0]["name"], edited["name"]);
    // A client edit does not touch its jobs' updatedAt (not documented either way).
    let all = gql(&mut st, &at, "{ clients { totalCount pageInfo { hasNextPage } } }", json!({}));
    assert_eq!(all["data"]["clients"]["totalCount"], 25);
    assert_eq!(all["data"]["clients"]["pageInfo"]["hasNextPage"], false);
}

#[test]
fn control_adds_edits_and_deletes_jobs() {
    let (mut st, at) = seeded(10, &[]);
    let t = ctl(&mut st, "GET", "/_fake/jobber/truth", json!({}));
    let user = t["users"][0]["id"].as_str().unwrap().to_string();
    let client = t["clients"][0]["id"].as_str().unwrap().to_string();
    let job = ctl(
        &mut st,
        "POST",
        "/_fake/jobber/jobs",
        json!({
            "title": "Déneigement \"express\" ❄", "client": client, "jobStatus": "upcoming",
            "startAt": "2030-01-01T10:00:00Z", "endAt": "2030-01-01T12:00:00Z",
            "lineItems": [{"name": "Labour", "quantity": 2, "unitPrice": 45.5}],
            "visits": [{"title": "v1", "startAt": "2030-01-01T10:00:00Z", "assignedUsers": [user]}],
        }),
    );
    assert_eq!(job["total"], 91.0);
    assert_eq!(job["jobNumber"], 11);
    assert_eq!(job["visits"][0]["assignedUsers"][0]["id"], user.as_str());
    let id = job["id"].as_str().unwrap().to_string();
    let v = gql(
        &mut st,
        &at,
        &format!("{{ job(id: \"{id}\") {{ title total lineItems {{ nodes {{ totalPrice }} }} }} }}"),
        json!({}),
    );
    assert_eq!(v["data"]["job"]["title"], "Déneigement \"express\" ❄");
    // Replacing line items without touch keeps updatedAt.
    ctl(&mut st, "POST", "/_fake/clock/advance", json!({"seconds": 5}));
    let quiet = ctl(&mut st, "POST", &format!("/_fake/jobber/jobs/{id}"), json!({"lineItems": [], "touch": false}));
    assert_eq!(quiet["updatedAt"], job["updatedAt"]);
    assert_eq!(quiet["total"], 0.0);
    let loud = ctl(&mut st, "POST", &format!("/_fake/jobber/jobs/{id}"), json!({"instructions": null}));
    assert_ne!(loud["updatedAt"], job["updatedAt"]);
    assert_eq!(call(&mut st, "POST", &format!("/_fake/jobber/jobs/{id}"), &json!({"colour": 1})).status, 400);
    assert_eq!(call(&mut st, "POST", &format!("/_fake/jobber/jobs/{id}"), &json!({"jobStatus": "ACTIVE"})).status, 400);
    ctl(&mut st, "DELETE", &format!("/_fake/jobber/jobs/{id}"), json!({}));
    assert_eq!(call(&mut st, "GET", &format!("/_fake/jobber/jobs/{id}"), &json!({})).status, 404);
    let m = ctl(&mut st, "POST", "/_fake/jobber/mutate", json!({"edit": 3, "add": 2, "delete": 1, "seed": 5}));
    assert_eq!(m["edited"].as_array().unwrap().len(), 3);
    assert_eq!(truth_ids(&mut st).len(), 11);
    // Another account must exist first.
    assert_eq!(call(&mut st, "POST", "/_fake/jobber/seed", &json!({"jobs": 1, "account": "nope"})).status, 404);
}

#[test]
fn a_client_pacing_itself_by_the_cost_extension_is_never_throttled() {
    let mut st = state(&[]);
    ctl(&mut st, "POST", "/_fake/jobber/seed", json!({"jobs": 300, "seed": 1}));
    let at = ctl(&mut st, "POST", "/_fake/jobber/token", json!({}))["access_token"].as_str().unwrap().to_string();
    let q = "query($after: String) { jobs(first: 100, after: $after) { nodes { id title lineItems(first: 30) { nodes { id name quantity } } } pageInfo { hasNextPage endCursor } } }";
    let mut after = Value::Null;
    let mut available = 10_000.0;
    let mut pages = 0;
    loop {
        let requested = 100.0 * (2.0 + 30.0 * 3.0) + 2.0;
        if requested > available {
            // Wait exactly the documented time on the fake's clock.
            ctl(&mut st, "POST", "/_fake/clock/advance", json!({"seconds": (requested - available) / 500.0}));
        }
        let v = gql(&mut st, &at, q, json!({"after": after}));
        assert!(v.get("errors").is_none(), "{v}");
        available = v["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_f64().unwrap();
        pages += 1;
        if v["data"]["jobs"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = v["data"]["jobs"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(ctl(&mut st, "GET", "/_fake/stats", json!({}))["jobber"]["throttled"], 0);
}

fn serve_one(st: &mut State, at: &str) -> (Resp, crate::faults::Delivery) {
    st.serve(&gql_req(at, "{ jobs(first: 3) { nodes { id } } }", json!({})))
}

#[test]
fn every_fault_kind_can_be_injected() {
    let (mut st, at) = seeded(10, &[]);
    let before = ctl(&mut st, "GET", "/_fake/jobber/truth", json!({}));
    let only = |st: &mut State, kind: &str| {
        ctl(st, "POST", "/_fake/faults", json!({"rate": 1, "kinds": [kind], "slow_ms": 50, "seed": 7}));
        serve_one(st, &at)
    };
    for code in [500u16, 502, 503] {
        let (r, d) = only(&mut st, &code.to_string());
        assert_eq!(r.status, code);
        assert_eq!(r.json_value(), json!({"message": "Service temporarily unavailable"}));
        assert!(d.reset.is_none());
    }
    let (_, d) = only(&mut st, "reset");
    assert!(d.reset.is_some());
    let (r, d) = only(&mut st, "slow");
    assert_eq!(d.delay, std::time::Duration::from_millis(50));
    assert!(r.json_value()["data"]["jobs"].is_object());
    let (r, _) = only(&mut st, "truncated");
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    let (r, _) = only(&mut st, "html");
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    let (r, _) = only(&mut st, "graphql_partial");
    let v = r.json_value();
    assert_eq!(v["data"]["jobs"]["nodes"][0], Value::Null);
    assert!(v["data"]["jobs"]["nodes"][1].is_object());
    assert!(v["errors"].is_array());
    let (r, _) = only(&mut st, "throttled");
    let v = r.json_value();
    assert_eq!(r.status, 200);
    assert_eq!(v["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(v["extensions"]["cost"]["actualQueryCost"], 0);
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 3);
    let mut retry_after = 0;
    only(&mut st, "429");
    for _ in 0..19 {
        let (r, _) = serve_one(&mut st, &at);
        assert_eq!(r.status, 429);
        retry_after += usize::from(r.header("Retry-After") == Some("1"));
    }
    assert!((1..20).contains(&retry_after));
    // Token endpoints are spared unless asked; control endpoints always.
    ctl(&mut st, "POST", "/_fake/faults", json!({"rate": 1, "kinds": ["500"]}));
    let token = Req { method: "POST".into(), path: "/jobber/api/oauth/token".into(), ..Req::default() };
    assert_eq!(st.serve(&token).0.status, 400);
    let health = Req { method: "GET".into(), path: "/_fake/health".into(), ..Req::default() };
    assert_eq!(st.serve(&health).0.status, 200);
    ctl(&mut st, "POST", "/_fake/faults", json!({"rate": 1, "kinds": ["500"], "token": true}));
    assert_eq!(st.serve(&token).0.status, 500);
    let stats = ctl(&mut st, "GET", "/_fake/stats", json!({}));
    assert_eq!(stats["faults"]["injected"]["500"], 2);
    assert_eq!(stats["faults"]["injected"]["429"], 20);
    assert_eq!(stats["faults"]["total"], 30);
    // Off again; latency applies to API calls only.
    ctl(&mut st, "POST", "/_fake/faults", json!({"rate": 0}));
    ctl(&mut st, "POST", "/_fake/latency", json!({"ms": 25}));
    let (r, d) = serve_one(&mut st, &at);
    assert_eq!(r.status, 200);
    assert_eq!(d.delay, std::time::Duration::from_millis(25));
    assert!(st.serve(&health).1.delay.is_zero());
    assert_eq!(ctl(&mut st, "GET", "/_fake/jobber/truth", json!({})), before, "faults never change data");
}

#[test]
fn serve_flags_seed_and_configure_faults() {
    let mut st = state(&[
        "--jobber-seed-jobs",
        "40",
        "--jobber-seed",
        "3",
        "--faults-rate",
        "0.5",
        "--faults-kinds",
        "500,429",
        "--latency-ms",
        "7",
    ]);
    assert_eq!(truth_ids(&mut st).len(), 40);
    let f = ctl(&mut st, "GET", "/_fake/faults", json!({}));
    assert_eq!(f["config"]["kinds"], json!(["500", "429"]));
    assert_eq!(f["latency_ms"], 7);
    assert!(
        crate::Cli::try_parse_from(["integ-fakes", "serve", "--faults-kinds", "boom"])
            .map(|c| {
                let crate::Command::Serve(a) = c.command else { panic!("serve") };
                crate::build_state(&a, String::new()).is_err()
            })
            .unwrap_or(true)
    );
}

#[test]
fn each_account_has_its_own_data() {
    let (mut st, a1) = seeded(30, &[]);
    let second = "Z2lkOi8vSm9iYmVyL0FjY291bnQvMg==";
    ctl(&mut st, "POST", "/_fake/jobber/login", json!({"id": second, "name": "Second Co", "email": null}));
    ctl(&mut st, "POST", "/_fake/jobber/seed", json!({"jobs": 5, "seed": 42}));
    let a2 = ctl(&mut st, "POST", "/_fake/jobber/token", json!({}))["access_token"].as_str().unwrap().to_string();
    let q = "{ account { name } jobs { totalCount nodes { id } } }";
    let v1 = gql(&mut st, &a1, q, json!({}));
    let v2 = gql(&mut st, &a2, q, json!({}));
    assert_eq!(v1["data"]["jobs"]["totalCount"], 30);
    assert_eq!(v2["data"]["jobs"]["totalCount"], 5);
    assert_eq!(v2["data"]["account"]["name"], "Second Co");
    assert_ne!(v1["data"]["jobs"]["nodes"][0]["id"], v2["data"]["jobs"]["nodes"][0]["id"]);
    let t1 =
        ctl(&mut st, "GET", &format!("/_fake/jobber/truth?account={}", crate::jobber::default_user().id), json!({}));
    assert_eq!(t1["jobs"].as_array().unwrap().len(), 30);
    let t2 = ctl(&mut st, "GET", "/_fake/jobber/truth", json!({}));
    assert_eq!(t2["account"], second);
}

/// The client's page and details queries (copied from integ's providers/jobber/api/query.rs) must
/// validate; also a timing probe (`cargo test --release ... -- --ignored --nocapture`).
const CLIENT_PAGE: &str = "query JobsPage($first: Int!, $after: String) { jobs(first: $first, after: $after, sort: [{key: UPDATED_AT, direction: DESCENDING}]) { nodes { id jobNumber title jobStatus jobType instructions total startAt endAt completedAt createdAt updatedAt jobberWebUri client { id name } property { id address { street1 street2 city province postalCode country } } } pageInfo { hasNextPage endCursor } } }";
const CLIENT_DETAILS: &str = "query JobDetails($ids: [EncodedId!], $first: Int!) { jobs(first: $first, filter: {ids: $ids}) { nodes { id lineItems(first: 20) { nodes { id name description quantity unitPrice totalPrice taxable } pageInfo { hasNextPage endCursor } } visits(first: 10) { nodes { id title startAt endAt completedAt isComplete visitStatus assignedUsers(first: 10) { nodes { id name { full } } pageInfo { hasNextPage endCursor } } } pageInfo { hasNextPage endCursor } } } pageInfo { hasNextPage endCursor } } }";
const CLIENT_CLIENTS: &str = "query ClientsPage($first: Int!, $after: String, $since: ISO8601DateTime) { clients(first: $first, after: $after, filter: {updatedAt: {after: $since}}) { nodes { id name companyName isCompany isArchived createdAt updatedAt jobberWebUri } pageInfo { hasNextPage endCursor } } }";

#[test]
fn the_clients_queries_run() {
    let (mut st, at) = seeded(300, &[]);
    let v = gql(&mut st, &at, CLIENT_PAGE, json!({"first": 100}));
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 100 * 22 + 2);
    let ids: Vec<Value> =
        v["data"]["jobs"]["nodes"].as_array().unwrap()[..10].iter().map(|n| n["id"].clone()).collect();
    let v = gql(&mut st, &at, CLIENT_DETAILS, json!({"ids": ids, "first": 10}));
    assert!(v.get("errors").is_none(), "{v}");
    assert_eq!(v["data"]["jobs"]["nodes"].as_array().unwrap().len(), 10);
    let v = gql(&mut st, &at, CLIENT_CLIENTS, json!({"first": 100, "since": "2000-01-01T00:00:00Z"}));
    assert_eq!(v["data"]["clients"]["nodes"].as_array().unwrap().len(), 75);
}

/// CPU seconds of this thread (Linux), so that a loaded machine does not skew the probe.
fn thread_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ')'.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

#[test]
#[ignore = "timing probe"]
fn timing_of_the_clients_queries() {
    let (mut st, at) = seeded(3000, &[]);
    let v = gql(&mut st, &at, CLIENT_PAGE, json!({"first": 100}));
    let ids: Vec<Value> =
        v["data"]["jobs"]["nodes"].as_array().unwrap()[..11].iter().map(|n| n["id"].clone()).collect();
    for (name, q, vars) in [
        ("account", "{ account { id } }", json!({})),
        ("page of 100", CLIENT_PAGE, json!({"first": 100})),
        ("details of 11", CLIENT_DETAILS, json!({"ids": ids, "first": 11})),
    ] {
        if std::env::var("PROBE").is_ok_and(|p| !name.starts_with(&p)) {
            continue;
        }
        let n = 500;
        let (t, cpu) = (std::time::Instant::now(), thread_cpu());
        for _ in 0..n {
            st.handle(&gql_req(&at, q, vars.clone()));
        }
        eprintln!(
            "{name}: {:?} wall, {:.0} µs CPU per request",
            t.elapsed() / n,
            (thread_cpu() - cpu) * 1e6 / f64::from(n)
        );
        // The parts: parse + validate + cost, execute, serialize.
        let schema = crate::jobber::api::schema().unwrap();
        let acc = st.jobber.accounts.values_mut().next().unwrap();
        let mut ctx = crate::jobber::api::ApiCtx {
            account_id: "a",
            account_name: "n",
            data: &mut acc.data,
            cursors: crate::jobber::page::CursorMode::Key,
            app_id: String::new(),
            app_name: "",
            app_author: "",
            disconnect: false,
        };
        let (mut tp, mut te, mut ts) =
            (std::time::Duration::ZERO, std::time::Duration::ZERO, std::time::Duration::ZERO);
        for _ in 0..n {
            let t = std::time::Instant::now();
            let p = crate::graphql::prepare(&schema, q, Some(&vars), None).unwrap();
            tp += t.elapsed();
            let t = std::time::Instant::now();
            let r = crate::graphql::execute(&schema, &crate::jobber::api::resolvers(), &mut ctx, &p);
            te += t.elapsed();
            let t = std::time::Instant::now();
            let b = r.data_json.clone().into_bytes();
            ts += t.elapsed();
            assert!(!b.is_empty());
        }
        eprintln!("  prepare {:?} execute {:?} serialize {:?}", tp / n, te / n, ts / n);
    }
}

#[test]
fn cost_of_the_clients_details_query() {
    let (mut st, at) = seeded(30, &[]);
    let v = gql(&mut st, &at, CLIENT_PAGE, json!({"first": 11}));
    let ids: Vec<Value> = v["data"]["jobs"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].clone()).collect();
    let v = gql(&mut st, &at, CLIENT_DETAILS, json!({"ids": ids, "first": 11}));
    // Per job: id 1 + lineItems 20 × 7 + 2 + visits 10 × (7 + 10 × 2 + 2) + 2 = 435.
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 11 * 435 + 2);
    // Fields come out in query order, as GraphQL specifies.
    let r = st.handle(&gql_req(&at, "{ jobs(first: 1) { nodes { title id } } }", json!({})));
    let text = String::from_utf8(r.body).unwrap();
    assert!(text.starts_with("{\"data\":{\"jobs\":{\"nodes\":[{\"title\":"), "{text}");
}
