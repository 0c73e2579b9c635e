//! The control API tests use to steer the fakes (`/_fake/...`, JSON in and out).

use serde_json::{Map, Value, json};

use crate::core::{Consent, Env, Issued, User};
use crate::http::{Req, Resp};
use crate::jobber::{MAX_COST, Rotation};
use crate::microsoft::OldRefresh;
use crate::state::{PROVIDERS, State};

fn bad(msg: &str) -> Resp {
    Resp::json(400, &json!({ "error": msg }))
}

fn not_found() -> Resp {
    Resp::json(404, &json!({ "error": "unknown control endpoint" }))
}

pub fn handle(st: &mut State, env: &Env, req: &Req, rest: &str) -> Resp {
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return bad("the body must be a JSON object"),
        }
    };
    let method = req.method.as_str();
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["health"]) => Resp::json(200, &json!({ "ok": true })),
        (m, ["slack", rest @ ..]) => st.slack.control(m, rest, &body),
        (m, ["smtp", rest @ ..]) => match &st.smtp {
            Some(relay) => crate::smtp::control(&relay.sink, m, rest, &body),
            None => Resp::json(404, &json!({ "error": "no SMTP sink in this process" })),
        },
        ("GET", ["env"]) => Resp::json(200, &st.startup_line()),
        ("GET", ["stats"]) => {
            let mut m = Map::new();
            for p in PROVIDERS {
                if let Some(c) = st.common(p) {
                    m.insert(p.into(), serde_json::to_value(&c.stats).unwrap_or(Value::Null));
                }
            }
            if let Some(Value::Object(j)) = m.get_mut("jobber")
                && let Ok(Value::Object(extra)) = serde_json::to_value(&st.jobber.api_stats)
            {
                j.extend(extra);
            }
            m.insert("faults".into(), st.faults.stats());
            Resp::json(200, &Value::Object(m))
        }
        ("POST", ["stats", "reset"]) => {
            for p in PROVIDERS {
                if let Some(c) = st.common(p) {
                    c.stats = Default::default();
                }
            }
            st.jobber.api_stats = Default::default();
            st.faults.reset_stats();
            Resp::json(200, &json!({ "ok": true }))
        }
        ("GET", ["issued"]) => {
            let mut m = Map::new();
            let mut all: Vec<String> = Vec::new();
            for p in PROVIDERS {
                if let Some(c) = st.common(p) {
                    all.extend(c.issued.all());
                    m.insert(p.into(), serde_json::to_value(&c.issued).unwrap_or(Value::Null));
                }
            }
            m.insert("all".into(), json!(all));
            Resp::json(200, &Value::Object(m))
        }
        ("POST", ["expire-access-tokens"]) => {
            let only = body.get("provider").and_then(Value::as_str);
            if only.is_some_and(|p| !PROVIDERS.contains(&p)) {
                return bad("unknown provider");
            }
            let now = env.now_secs();
            let mut m = Map::new();
            for p in PROVIDERS.into_iter().filter(|p| only.is_none_or(|o| o == *p)) {
                if let Some(c) = st.common(p) {
                    m.insert(p.into(), json!(c.store.expire_access(now)));
                }
            }
            Resp::json(200, &json!({ "expired": m }))
        }
        ("GET", ["clock"]) => clock(st),
        ("POST", ["clock", "advance"]) => {
            let Some(secs) = body.get("seconds").and_then(Value::as_f64).filter(|s| s.is_finite() && *s >= 0.0) else {
                return bad("\"seconds\" must be a non-negative number");
            };
            st.clock.advance(secs);
            clock(st)
        }
        ("POST", ["jobber", "rotation"]) => match body.get("mode").cloned().map(serde_json::from_value::<Rotation>) {
            Some(Ok(mode)) => {
                st.jobber.rotation = mode;
                Resp::json(200, &json!({ "provider": "jobber", "rotation": mode }))
            }
            _ => bad("\"mode\" must be \"on\", \"off\" or \"legacy\""),
        },
        ("POST", ["microsoft", "rotation"]) => {
            match body.get("mode").cloned().map(serde_json::from_value::<OldRefresh>) {
                Some(Ok(mode)) => {
                    st.microsoft.old_refresh = mode;
                    Resp::json(200, &json!({ "provider": "microsoft", "rotation": mode }))
                }
                _ => bad("\"mode\" must be \"keep-old\" or \"revoke-old\""),
            }
        }
        ("POST", ["jobber", "account"]) => jobber_account(st, env, &body),
        ("POST", ["google", "untick"]) => {
            let Some(list) = body.get("scopes").and_then(Value::as_array) else {
                return bad("\"scopes\" must be a list of scope strings");
            };
            st.google.untick = list.iter().filter_map(Value::as_str).map(String::from).collect();
            Resp::json(200, &json!({ "provider": "google", "untick": st.google.untick }))
        }
        (
            "GET" | "POST" | "PATCH" | "DELETE",
            ["jobber", "seed" | "truth" | "jobs" | "mutate" | "clients" | "token" | "cursors", ..],
        ) => crate::jobber::control::handle(st, env, req, &parts[1..], &body),
        ("GET" | "POST", ["faults" | "latency"]) => crate::faults::control(st, method, &parts, &body),
        (m, [p, rest @ ..]) if crate::calendar::control::owns(p, rest) => {
            crate::calendar::control::handle(st, env, req, m, p, rest, &body)
        }
        (m, [p, action]) if PROVIDERS.contains(p) => provider_action(st, m, p, action, &body),
        _ => not_found(),
    }
}

fn clock(st: &State) -> Resp {
    Resp::json(200, &json!({ "now": st.clock.now(), "offset_seconds": st.clock.offset() }))
}

fn provider_action(st: &mut State, method: &str, p: &str, action: &str, body: &Value) -> Resp {
    let reason = if p == "jobber" { "disconnected" } else { "revoked" };
    let Some(c) = st.common(p) else {
        return not_found();
    };
    match (method, action) {
        ("POST", "consent") => {
            let mode = match body.get("mode").and_then(Value::as_str) {
                Some("approve") => Consent::Approve,
                Some("deny") => Consent::Deny,
                _ => return bad("\"mode\" must be \"approve\" or \"deny\""),
            };
            c.consent = mode;
            Resp::json(200, &json!({ "provider": p, "consent": mode }))
        }
        ("GET", "login") => Resp::json(200, &json!({ "provider": p, "user": c.user })),
        ("POST", "login") => match User::from_json(body) {
            Ok(u) => {
                c.user = u;
                Resp::json(200, &json!({ "provider": p, "user": c.user }))
            }
            Err(e) => bad(&e),
        },
        ("POST", "disconnect") => {
            let user = match body.get("user") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return bad("\"user\" must be a user id string"),
            };
            let (grants, ats, rts) = c.store.revoke_user(user.as_deref(), reason);
            c.stats.revocations += 1;
            Resp::json(200, &json!({ "provider": p, "grants": grants, "access_tokens": ats, "refresh_tokens": rts }))
        }
        ("GET", "issued") => Resp::json(200, &serde_json::to_value::<&Issued>(&c.issued).unwrap_or(Value::Null)),
        _ => not_found(),
    }
}

/// Set a Jobber account's `active` flag and/or its cost bucket (`available` points).
fn jobber_account(st: &mut State, env: &Env, body: &Value) -> Resp {
    let id = match body.get("id") {
        None | Some(Value::Null) => st.jobber.c.user.id.clone(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return bad("\"id\" must be a string"),
    };
    let Some(acc) = st.jobber.accounts.get_mut(&id) else {
        return Resp::json(404, &json!({ "error": "no such account (connect it first)", "id": id }));
    };
    if let Some(a) = body.get("active") {
        match a.as_bool() {
            Some(b) => acc.active = b,
            None => return bad("\"active\" must be a boolean"),
        }
    }
    if let Some(v) = body.get("available") {
        match v.as_f64().filter(|n| (0.0..=MAX_COST).contains(n)) {
            Some(n) => {
                acc.available = n;
                acc.bucket_at = env.now;
            }
            None => return bad("\"available\" must be a number from 0 to 10000"),
        }
    }
    Resp::json(
        200,
        &json!({ "id": acc.id, "name": acc.name, "active": acc.active, "available": acc.available.floor() as u64 }),
    )
}
