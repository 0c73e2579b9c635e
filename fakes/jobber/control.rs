//! The control API over Jobber data (`/_fake/jobber/...`): seed, ground truth, add / edit /
//! delete jobs, random mutations, client edits, the cursor mode and a test-only token.
//!
//! Every call acts on one account: `"account"` in the body (or `?account=` on a GET),
//! default the current login user's. Ids in paths and bodies are EncodedIds or plain numbers.
//! `POST jobs/<id>/delete {"after_requests": N}` deletes the job only when the N-th GraphQL
//! request from now arrives: a deletion in the middle of a client's scan.

use serde_json::{Value, json};

use crate::core::{Env, rfc3339};
use crate::http::{Req, Resp};
use crate::jobber::api::{decode_id, encode_id};
use crate::jobber::data::{AccountData, Client, Job, LineItem, Truth, Visit, client_json};
use crate::jobber::generate::{Changes, mutate, seed};
use crate::jobber::page::{CursorMode, parse_time};
use crate::state::State;

const STATUSES: &[&str] = &[
    "requires_invoicing",
    "archived",
    "late",
    "today",
    "upcoming",
    "action_required",
    "on_hold",
    "unscheduled",
    "active",
    "expiring_within_30_days",
];

fn bad(msg: &str) -> Resp {
    Resp::json(400, &json!({ "error": msg }))
}

fn not_found(what: &str) -> Resp {
    Resp::json(404, &json!({ "error": format!("no such {what}") }))
}

/// `parts` is the path after `/_fake/jobber/`.
pub fn handle(st: &mut State, env: &Env, req: &Req, parts: &[&str], body: &Value) -> Resp {
    let method = req.method.as_str();
    if let (_, ["cursors"]) = (method, parts) {
        return cursors(st, method, body);
    }
    if let ("POST", ["token"]) = (method, parts) {
        return Resp::json(200, &st.jobber.mint_token(env.now));
    }
    let query_account = req.query_params().ok().and_then(|q| q.get("account").map(String::from));
    let account = body.get("account").and_then(Value::as_str).map(String::from).or(query_account);
    let id = match st.jobber.account_for(account.as_deref(), env.now) {
        Ok(id) => id,
        Err(e) => return Resp::json(404, &json!({ "error": e })),
    };
    // `{"after_requests": N}`: delete the job when the N-th GraphQL request from now arrives.
    if let ("POST", ["jobs", rest @ .., "delete"]) = (method, parts)
        && !rest.is_empty()
        && let Some(n) = body.get("after_requests").and_then(Value::as_u64)
    {
        let raw = rest.join("/");
        let job = st.jobber.data_mut(&id).and_then(|d| id_of(&json!(raw), "Job").filter(|j| d.jobs.contains_key(j)));
        let Some(job) = job else {
            return not_found("job");
        };
        let at = st.jobber.c.stats.api_calls + n;
        st.jobber.scheduled_deletes.push((at, id.clone(), job));
        return Resp::json(200, &json!({ "scheduled": encode_id("Job", job), "at_api_call": at }));
    }
    let now = env.now_secs();
    let Some(d) = st.jobber.data_mut(&id) else {
        return not_found("account");
    };
    let r = match (method, parts) {
        ("POST", ["seed"]) => seed_account(d, &id, body, now),
        ("GET", ["truth"]) => {
            // Streamed from the rows: the truth of 20,000 jobs is over 100 MB of JSON.
            let mut r = Resp::json(200, &Value::Null);
            r.body = serde_json::to_vec(&Truth { account: &id, data: d }).unwrap_or_default();
            return r;
        }
        ("POST", ["jobs"]) => add_job(d, body, now),
        ("POST", ["mutate"]) => random_changes(d, body, now),
        ("POST", ["clients"]) => add_client(d, body, now),
        ("POST" | "PATCH", ["clients", rest @ ..]) => edit_client(d, &rest.join("/"), body, now),
        ("GET", ["jobs", rest @ ..]) if !rest.is_empty() => {
            with_job(d, &rest.join("/"), |d, jid| Ok(d.truth_job(&d.jobs[&jid])))
        }
        ("DELETE", ["jobs", rest @ ..]) if !rest.is_empty() => delete_job(d, &rest.join("/")),
        ("POST", ["jobs", rest @ .., "delete"]) if !rest.is_empty() => delete_job(d, &rest.join("/")),
        ("POST" | "PATCH", ["jobs", rest @ ..]) if !rest.is_empty() => edit_job(d, &rest.join("/"), body, now),
        _ => return Resp::json(404, &json!({ "error": "unknown control endpoint" })),
    };
    match r {
        Ok(v) => Resp::json(200, &v),
        Err(resp) => resp,
    }
}

fn cursors(st: &mut State, method: &str, body: &Value) -> Resp {
    if method == "POST" {
        match body.get("mode").cloned().map(serde_json::from_value::<CursorMode>) {
            Some(Ok(m)) => st.jobber.cursors = m,
            _ => return bad("\"mode\" must be \"key\" or \"offset\""),
        }
    }
    Resp::json(200, &json!({ "cursors": st.jobber.cursors }))
}

fn seed_account(d: &mut AccountData, account: &str, body: &Value, now: i64) -> Result<Value, Resp> {
    let jobs = body
        .get("jobs")
        .and_then(Value::as_u64)
        .filter(|n| *n <= 1_000_000)
        .ok_or_else(|| bad("\"jobs\" must be a number from 0 to 1000000"))?;
    let s = body.get("seed").and_then(Value::as_u64).unwrap_or(0);
    let anchor = match body.get("now") {
        None | Some(Value::Null) => now,
        Some(v) => time_of(v).ok_or_else(|| bad("\"now\" must be an ISO 8601 time or Unix seconds"))?,
    };
    *d = seed(jobs as usize, s, anchor, account);
    Ok(summary(d, account))
}

pub fn summary(d: &AccountData, account: &str) -> Value {
    json!({
        "account": account,
        "jobs": d.jobs.len(),
        "clients": d.clients.len(),
        "users": d.users.len(),
        "line_items": d.line_item_count(),
        "visits": d.visit_count(),
    })
}

fn random_changes(d: &mut AccountData, body: &Value, now: i64) -> Result<Value, Resp> {
    let n = |k: &str| body.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
    let ch = Changes {
        edit: n("edit"),
        add: n("add"),
        delete: n("delete"),
        clients: n("clients"),
        touch: body.get("touch").and_then(Value::as_bool).unwrap_or(true),
    };
    let s = body.get("seed").and_then(Value::as_u64).unwrap_or(now as u64);
    let m = mutate(d, ch, s, now);
    let enc = |kind: &str, ids: &[u64]| -> Vec<String> { ids.iter().map(|i| encode_id(kind, *i)).collect() };
    Ok(json!({
        "edited": enc("Job", &m.edited),
        "added": enc("Job", &m.added),
        "deleted": enc("Job", &m.deleted),
        "clients_edited": enc("Client", &m.clients_edited),
        "now": rfc3339(now),
    }))
}

/// An id given as an EncodedId of `kind`, a number, or a string of digits.
fn id_of(v: &Value, kind: &str) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = percent_decode(s);
            s.parse().ok().or_else(|| decode_id(&s, kind))
        }
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// A time as an ISO 8601 string or Unix seconds.
fn time_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_time(s),
        _ => None,
    }
}

fn with_job(
    d: &mut AccountData,
    raw: &str,
    f: impl FnOnce(&mut AccountData, u64) -> Result<Value, Resp>,
) -> Result<Value, Resp> {
    match id_of(&json!(raw), "Job").filter(|id| d.jobs.contains_key(id)) {
        Some(id) => f(d, id),
        None => Err(not_found("job")),
    }
}

fn delete_job(d: &mut AccountData, raw: &str) -> Result<Value, Resp> {
    with_job(d, raw, |d, id| {
        d.remove_job(id);
        Ok(json!({ "deleted": encode_id("Job", id) }))
    })
}

fn add_job(d: &mut AccountData, body: &Value, now: i64) -> Result<Value, Resp> {
    let client = match body.get("client") {
        Some(v) => id_of(v, "Client")
            .filter(|c| d.clients.contains_key(c))
            .ok_or_else(|| bad("\"client\" is not a client of this account"))?,
        None => match d.clients.keys().next() {
            Some(c) => *c,
            None => {
                let id = d.next.client.max(1);
                d.insert_client(Client {
                    id,
                    first_name: Some("Walk-in".into()),
                    last_name: Some("Customer".into()),
                    company_name: None,
                    is_company: false,
                    is_archived: false,
                    is_lead: false,
                    created_at: now,
                    updated_at: now,
                });
                id
            }
        },
    };
    let property = d.properties.values().find(|p| p.client == client).map(|p| p.id);
    let mut job = Job {
        id: d.next.job.max(1),
        job_number: d.next.job_number.max(1),
        title: Some("New job".into()),
        job_status: "unscheduled".into(),
        job_type: "ONE_OFF".into(),
        billing_type: None,
        instructions: None,
        total: 0.0,
        invoiced_total: Some(0.0),
        uninvoiced_total: Some(0.0),
        start_at: None,
        end_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
        client,
        property,
        line_items: vec![],
        visits: vec![],
    };
    apply_job_fields(d, &mut job, body, now, true)?;
    let id = job.id;
    d.insert_job(job);
    Ok(d.truth_job(&d.jobs[&id]))
}

fn edit_job(d: &mut AccountData, raw: &str, body: &Value, now: i64) -> Result<Value, Resp> {
    with_job(d, raw, |d, id| {
        let Some(mut job) = d.jobs.get(&id).cloned() else {
            return Err(not_found("job"));
        };
        apply_job_fields(d, &mut job, body, now, false)?;
        d.insert_job(job);
        Ok(d.truth_job(&d.jobs[&id]))
    })
}

fn str_or_null(v: &Value, k: &str) -> Result<Option<String>, Resp> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(bad(&format!("\"{k}\" must be a string or null"))),
    }
}

fn num(v: &Value, k: &str) -> Result<f64, Resp> {
    v.as_f64().filter(|f| f.is_finite()).ok_or_else(|| bad(&format!("\"{k}\" must be a number")))
}

fn num_or_null(v: &Value, k: &str) -> Result<Option<f64>, Resp> {
    if v.is_null() { Ok(None) } else { num(v, k).map(Some) }
}

fn time_or_null(v: &Value, k: &str) -> Result<Option<i64>, Resp> {
    if v.is_null() {
        return Ok(None);
    }
    time_of(v).map(Some).ok_or_else(|| bad(&format!("\"{k}\" must be an ISO 8601 time, Unix seconds or null")))
}

fn boolean(v: &Value, k: &str) -> Result<bool, Resp> {
    v.as_bool().ok_or_else(|| bad(&format!("\"{k}\" must be a boolean")))
}

fn cents_sum(items: &[LineItem]) -> f64 {
    let c: i64 = items.iter().map(|l| (l.total_price * 100.0).round() as i64).sum();
    c as f64 / 100.0
}

/// Apply the fields of a control body to a job. Unknown keys are refused (a typo in a test
/// should fail loudly). `updatedAt` becomes `now` unless `"touch": false` or an explicit
/// `"updatedAt"` is given.
fn apply_job_fields(d: &mut AccountData, job: &mut Job, body: &Value, now: i64, new: bool) -> Result<(), Resp> {
    let Some(obj) = body.as_object() else {
        return Err(bad("the body must be a JSON object"));
    };
    let mut total_given = false;
    let mut items_given = false;
    for (k, v) in obj {
        match k.as_str() {
            "account" | "touch" | "updatedAt" => {}
            "title" => job.title = str_or_null(v, k)?,
            "jobStatus" => {
                job.job_status = v
                    .as_str()
                    .filter(|s| STATUSES.contains(s))
                    .ok_or_else(|| bad("\"jobStatus\" must be a lower-case Jobber job status"))?
                    .to_string()
            }
            "jobType" => {
                job.job_type = v
                    .as_str()
                    .filter(|s| matches!(*s, "ONE_OFF" | "RECURRING"))
                    .ok_or_else(|| bad("\"jobType\" must be ONE_OFF or RECURRING"))?
                    .to_string()
            }
            "billingType" => job.billing_type = str_or_null(v, k)?,
            "instructions" => job.instructions = str_or_null(v, k)?,
            "total" => {
                job.total = num(v, k)?;
                total_given = true;
            }
            "invoicedTotal" => job.invoiced_total = num_or_null(v, k)?,
            "uninvoicedTotal" => job.uninvoiced_total = num_or_null(v, k)?,
            "startAt" => job.start_at = time_or_null(v, k)?,
            "endAt" => job.end_at = time_or_null(v, k)?,
            "completedAt" => job.completed_at = time_or_null(v, k)?,
            "createdAt" => job.created_at = time_or_null(v, k)?.ok_or_else(|| bad("\"createdAt\" cannot be null"))?,
            "jobNumber" => job.job_number = v.as_i64().ok_or_else(|| bad("\"jobNumber\" must be an integer"))?,
            "client" => {
                job.client = id_of(v, "Client")
                    .filter(|c| d.clients.contains_key(c))
                    .ok_or_else(|| bad("\"client\" is not a client of this account"))?
            }
            "property" => {
                job.property = if v.is_null() {
                    None
                } else {
                    Some(
                        id_of(v, "Property")
                            .filter(|p| d.properties.contains_key(p))
                            .ok_or_else(|| bad("\"property\" is not a property of this account"))?,
                    )
                }
            }
            "lineItems" => {
                job.line_items = line_items(d, job, v)?;
                items_given = true;
            }
            "visits" => job.visits = visits(d, job, v)?,
            other => return Err(bad(&format!("unknown job field \"{other}\""))),
        }
    }
    if items_given && !total_given {
        job.total = cents_sum(&job.line_items);
    }
    if new && !total_given && !items_given {
        job.total = 0.0;
    }
    if new && !obj.contains_key("uninvoicedTotal") {
        job.uninvoiced_total = Some(job.total);
    }
    if let Some(v) = obj.get("updatedAt") {
        job.updated_at = time_or_null(v, "updatedAt")?.ok_or_else(|| bad("\"updatedAt\" cannot be null"))?;
    } else if new || obj.get("touch").and_then(Value::as_bool).unwrap_or(true) {
        job.updated_at = now;
    }
    Ok(())
}

fn line_items(d: &mut AccountData, job: &Job, v: &Value) -> Result<Vec<LineItem>, Resp> {
    let list = v.as_array().ok_or_else(|| bad("\"lineItems\" must be a list"))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let o = item.as_object().ok_or_else(|| bad("each line item must be an object"))?;
        let get = |k: &str| o.get(k).unwrap_or(&Value::Null);
        let id = match o.get("id") {
            Some(v) => id_of(v, "LineItem")
                .filter(|i| job.line_items.iter().any(|l| l.id == *i))
                .ok_or_else(|| bad("a line item \"id\" must be one of this job's"))?,
            None => {
                let id = d.next.line_item.max(1);
                d.next.line_item = id + 1;
                id
            }
        };
        for k in o.keys() {
            if !matches!(
                k.as_str(),
                "id" | "name" | "description" | "quantity" | "unitPrice" | "totalPrice" | "taxable"
            ) {
                return Err(bad(&format!("unknown line item field \"{k}\"")));
            }
        }
        let quantity = if get("quantity").is_null() { 1.0 } else { num(get("quantity"), "quantity")? };
        let unit_price = if get("unitPrice").is_null() { 0.0 } else { num(get("unitPrice"), "unitPrice")? };
        let total_price = if get("totalPrice").is_null() {
            (quantity * unit_price * 100.0).round() / 100.0
        } else {
            num(get("totalPrice"), "totalPrice")?
        };
        out.push(LineItem {
            id,
            name: get("name").as_str().ok_or_else(|| bad("a line item needs a \"name\""))?.to_string(),
            description: str_or_null(get("description"), "description")?,
            quantity,
            unit_price,
            total_price,
            taxable: if get("taxable").is_null() { true } else { boolean(get("taxable"), "taxable")? },
        });
    }
    Ok(out)
}

fn visits(d: &mut AccountData, job: &Job, v: &Value) -> Result<Vec<Visit>, Resp> {
    let list = v.as_array().ok_or_else(|| bad("\"visits\" must be a list"))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let o = item.as_object().ok_or_else(|| bad("each visit must be an object"))?;
        let get = |k: &str| o.get(k).unwrap_or(&Value::Null);
        for k in o.keys() {
            if !matches!(
                k.as_str(),
                "id" | "title" | "startAt" | "endAt" | "completedAt" | "isComplete" | "visitStatus" | "assignedUsers"
            ) {
                return Err(bad(&format!("unknown visit field \"{k}\"")));
            }
        }
        let id = match o.get("id") {
            Some(v) => id_of(v, "Visit")
                .filter(|i| job.visits.iter().any(|x| x.id == *i))
                .ok_or_else(|| bad("a visit \"id\" must be one of this job's"))?,
            None => {
                let id = d.next.visit.max(1);
                d.next.visit = id + 1;
                id
            }
        };
        let completed_at = time_or_null(get("completedAt"), "completedAt")?;
        let is_complete = if get("isComplete").is_null() {
            completed_at.is_some()
        } else {
            boolean(get("isComplete"), "isComplete")?
        };
        let start_at = time_or_null(get("startAt"), "startAt")?;
        let mut assigned = Vec::new();
        if let Some(users) = o.get("assignedUsers") {
            for u in users.as_array().ok_or_else(|| bad("\"assignedUsers\" must be a list of user ids"))? {
                let id = id_of(u, "User")
                    .filter(|i| d.users.contains_key(i))
                    .ok_or_else(|| bad("\"assignedUsers\" names a user this account does not have"))?;
                assigned.push(id);
            }
        }
        out.push(Visit {
            id,
            title: str_or_null(get("title"), "title")?,
            start_at,
            end_at: time_or_null(get("endAt"), "endAt")?,
            completed_at,
            is_complete,
            visit_status: match get("visitStatus").as_str() {
                Some(s) => s.to_string(),
                None if is_complete => "completed".into(),
                None if start_at.is_none() => "unscheduled".into(),
                None => "upcoming".into(),
            },
            assigned,
        });
    }
    Ok(out)
}

fn apply_client_fields(c: &mut Client, body: &Value, now: i64) -> Result<(), Resp> {
    let Some(obj) = body.as_object() else {
        return Err(bad("the body must be a JSON object"));
    };
    for (k, v) in obj {
        match k.as_str() {
            "account" | "touch" | "updatedAt" => {}
            "firstName" => c.first_name = str_or_null(v, k)?,
            "lastName" => c.last_name = str_or_null(v, k)?,
            "companyName" => c.company_name = str_or_null(v, k)?,
            "isCompany" => c.is_company = boolean(v, k)?,
            "isArchived" => c.is_archived = boolean(v, k)?,
            "isLead" => c.is_lead = boolean(v, k)?,
            "createdAt" => c.created_at = time_or_null(v, k)?.ok_or_else(|| bad("\"createdAt\" cannot be null"))?,
            other => return Err(bad(&format!("unknown client field \"{other}\""))),
        }
    }
    if let Some(v) = obj.get("updatedAt") {
        c.updated_at = time_or_null(v, "updatedAt")?.ok_or_else(|| bad("\"updatedAt\" cannot be null"))?;
    } else if obj.get("touch").and_then(Value::as_bool).unwrap_or(true) {
        c.updated_at = now;
    }
    Ok(())
}

fn add_client(d: &mut AccountData, body: &Value, now: i64) -> Result<Value, Resp> {
    let mut c = Client {
        id: d.next.client.max(1),
        first_name: None,
        last_name: None,
        company_name: None,
        is_company: false,
        is_archived: false,
        is_lead: false,
        created_at: now,
        updated_at: now,
    };
    apply_client_fields(&mut c, body, now)?;
    let v = client_json(&c);
    d.insert_client(c);
    Ok(v)
}

fn edit_client(d: &mut AccountData, raw: &str, body: &Value, now: i64) -> Result<Value, Resp> {
    let Some(id) = id_of(&json!(raw), "Client").filter(|i| d.clients.contains_key(i)) else {
        return Err(not_found("client"));
    };
    let mut c = d.clients[&id].clone();
    apply_client_fields(&mut c, body, now)?;
    let v = client_json(&c);
    d.update_client(id, |x| *x = c);
    Ok(v)
}
