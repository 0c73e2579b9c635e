//! Fault injection and added latency, for the client's robustness tests and benchmarks.
//!
//! Applies to the providers' API endpoints (`/jobber/api/graphql`, `/google/api/...`,
//! `/microsoft/graph/...`, `/calendly/api/...`) and, with `"token": true`, to their token and
//! revoke endpoints; never to authorize pages or `/_fake`. After the first `after` matching
//! requests (default 0; a failure in the middle of a run), with probability `rate` per
//! request one of the configured kinds is picked (among those that make sense for that
//! endpoint: `graphql_partial` and `throttled` only for Jobber's GraphQL):
//!
//! | kind | what the client gets | request processed? |
//! |---|---|---|
//! | `500` `502` `503` | that status, the provider's JSON error body (Jobber: `{"message":"Service temporarily unavailable"}`) | no |
//! | `reset` | the connection breaks: garbage where headers should be, or mid-body | no |
//! | `slow` | sleeps `slow_ms`, then the normal answer | yes |
//! | `truncated` | the normal status and headers, the body cut in half | yes |
//! | `html` | a 502 or 200 HTML error page (a proxy's) | no |
//! | `graphql_partial` | HTTP 200, `data` with some list items null, plus `errors` | yes |
//! | `throttled` | Jobber THROTTLED: HTTP 200, `errors[0].extensions.code`, cost with `actualQueryCost` 0 | no |
//! | `429` | HTTP 429, `Retry-After: 1` half of the time | no |
//! | `lost` | the request is carried out, then the connection breaks: the answer is lost | yes |
//!
//! Faults never change data: a request "not processed" never reaches the provider fake. `lost`
//! is the exception on purpose (a write the provider made whose answer never arrived), so it is
//! not among the default kinds: ask for it by name.
//! Delays are served outside the state lock (see `main.rs`), so they stall only that request.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::http::{Req, Resp};
use crate::jobber::generate::Rng;
use crate::state::{PROVIDERS, State};

/// Every fault kind, by its control-API name.
pub const KINDS: [&str; 11] =
    ["500", "502", "503", "reset", "slow", "truncated", "html", "graphql_partial", "throttled", "429", "lost"];
/// The kinds used when a configuration names none (every kind that leaves data alone).
const DEFAULT_KINDS: usize = 10;

/// The fault configuration, its random stream and its counters.
#[derive(Debug)]
pub struct Faults {
    pub rate: f64,
    pub kinds: Vec<String>,
    pub slow_ms: u64,
    pub seed: u64,
    /// Only this provider's endpoints (all when `None`).
    pub provider: Option<String>,
    /// Also the token and revoke endpoints.
    pub token: bool,
    /// Leave this many matching requests alone before faults start (a failure mid-run).
    pub after: u64,
    /// Matching requests seen since the configuration.
    seen: u64,
    /// Added to every API response.
    pub latency_ms: u64,
    rng: Rng,
    injected: BTreeMap<String, u64>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            rate: 0.0,
            kinds: KINDS[..DEFAULT_KINDS].iter().map(|k| k.to_string()).collect(),
            slow_ms: 1500,
            seed: 0,
            provider: None,
            token: false,
            after: 0,
            seen: 0,
            latency_ms: 0,
            rng: Rng::new(0),
            injected: BTreeMap::new(),
        }
    }
}

/// What the worker does besides sending the response.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Delivery {
    /// Sleep this long (outside the state lock) before answering.
    pub delay: Duration,
    /// Break the connection instead of answering; `mid_body` after a partial 200 body.
    pub reset: Option<bool>,
}

impl Faults {
    /// Replace the configuration from a control body (absent fields take their defaults;
    /// the latency is kept).
    pub fn configure(&mut self, body: &Value) -> Result<(), String> {
        const KEYS: [&str; 7] = ["rate", "kinds", "slow_ms", "seed", "provider", "token", "after"];
        if let Some(k) = body.as_object().and_then(|o| o.keys().find(|k| !KEYS.contains(&k.as_str()))) {
            return Err(format!("unknown key \"{k}\"; known: {}", KEYS.join(", ")));
        }
        let rate = match body.get("rate") {
            None => 0.0,
            Some(v) => v.as_f64().filter(|r| (0.0..=1.0).contains(r)).ok_or("\"rate\" must be a number from 0 to 1")?,
        };
        let kinds = match body.get("kinds") {
            None | Some(Value::Null) => KINDS[..DEFAULT_KINDS].iter().map(|k| k.to_string()).collect(),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for k in a {
                    // Numbers are accepted for the status kinds (`[500, 429]`).
                    let name = match k {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => String::new(),
                    };
                    if !KINDS.contains(&name.as_str()) {
                        return Err(format!("unknown fault kind {k}; known: {}", KINDS.join(", ")));
                    }
                    out.push(name);
                }
                out
            }
            Some(_) => return Err("\"kinds\" must be a list".into()),
        };
        let provider = match body.get("provider") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if PROVIDERS.contains(&p.as_str()) => Some(p.clone()),
            Some(_) => return Err(format!("\"provider\" must be one of {PROVIDERS:?}")),
        };
        let seed = body.get("seed").and_then(Value::as_u64).unwrap_or(0);
        self.rate = rate;
        self.kinds = kinds;
        self.slow_ms = body.get("slow_ms").and_then(Value::as_u64).unwrap_or(1500);
        self.seed = seed;
        self.provider = provider;
        self.token = body.get("token").and_then(Value::as_bool).unwrap_or(false);
        self.after = body.get("after").and_then(Value::as_u64).unwrap_or(0);
        self.seen = 0;
        self.rng = Rng::new(seed);
        Ok(())
    }

    pub fn config_json(&self) -> Value {
        json!({
            "rate": self.rate,
            "kinds": self.kinds,
            "slow_ms": self.slow_ms,
            "seed": self.seed,
            "provider": self.provider,
            "token": self.token,
            "after": self.after,
        })
    }

    /// `{"injected": {kind: n}, "total": n, "config": {...}, "latency_ms": n}`.
    pub fn stats(&self) -> Value {
        json!({
            "injected": self.injected,
            "total": self.injected.values().sum::<u64>(),
            "config": self.config_json(),
            "latency_ms": self.latency_ms,
        })
    }

    pub fn reset_stats(&mut self) {
        self.injected.clear();
    }

    /// Decide the fault (if any) for one request to `provider`'s API or token endpoint.
    fn pick(&mut self, provider: &str, token: bool) -> Option<String> {
        if self.rate <= 0.0 || (token && !self.token) || self.provider.as_deref().is_some_and(|p| p != provider) {
            return None;
        }
        self.seen += 1;
        if self.seen <= self.after {
            return None;
        }
        let graphql = provider == "jobber" && !token;
        let usable: Vec<&String> =
            self.kinds.iter().filter(|k| graphql || !matches!(k.as_str(), "graphql_partial" | "throttled")).collect();
        if usable.is_empty() || !self.rng.chance(self.rate) {
            return None;
        }
        let k = (*self.rng.pick(&usable)).clone();
        *self.injected.entry(k.clone()).or_default() += 1;
        Some(k)
    }
}

/// Which provider an endpoint belongs to, and whether it is a token (or revoke) endpoint.
/// `None` for everything faults never touch.
pub fn classify(path: &str) -> Option<(&'static str, bool)> {
    let (provider, rest) =
        PROVIDERS.iter().find_map(|p| Some((*p, path.strip_prefix('/')?.strip_prefix(p)?.strip_prefix('/')?)))?;
    let api = match provider {
        "jobber" => rest == "api/graphql",
        "google" => rest.starts_with("api/"),
        "microsoft" => rest.starts_with("graph/"),
        _ => rest.starts_with("api/"),
    };
    let token = match provider {
        "jobber" => rest == "api/oauth/token",
        "google" => rest == "token" || rest == "revoke",
        "microsoft" => rest.ends_with("/oauth2/v2.0/token"),
        _ => rest == "oauth/token" || rest == "oauth/revoke",
    };
    match (api, token) {
        (true, _) => Some((provider, false)),
        (_, true) => Some((provider, true)),
        _ => None,
    }
}

/// The provider's usual JSON error body for a 5xx or 429.
fn error_body(provider: &str, status: u16) -> Value {
    let busy = status == 429;
    match provider {
        "jobber" if busy => json!({ "message": "Too Many Requests" }),
        "jobber" => json!({ "message": "Service temporarily unavailable" }),
        "google" => json!({ "error": {
            "code": status,
            "message": if busy { "Rate Limit Exceeded" } else { "The service is currently unavailable." },
            "errors": [{ "message": "Backend Error", "domain": "global",
                         "reason": if busy { "rateLimitExceeded" } else { "backendError" } }],
            "status": if busy { "RESOURCE_EXHAUSTED" } else { "UNAVAILABLE" },
        }}),
        "microsoft" => json!({ "error": {
            "code": if busy { "TooManyRequests" } else { "serviceNotAvailable" },
            "message": if busy { "Too many requests." } else { "The service is temporarily unavailable." },
        }}),
        _ => json!({
            "title": if busy { "Too Many Requests" } else { "Internal Server Error" },
            "message": if busy { "You have exceeded the rate limit." } else { "The server encountered an unexpected condition." },
        }),
    }
}

const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// Null some items of the first list of objects under `data`, and say so in `errors`.
/// With no such list, the first root field becomes null.
fn make_partial(resp: Resp) -> Resp {
    let Ok(mut v) = serde_json::from_slice::<Value>(&resp.body) else {
        return resp;
    };
    let Some(data) = v.get_mut("data").and_then(Value::as_object_mut) else {
        return resp;
    };
    let mut path: Vec<Value> = Vec::new();
    let mut errors = Vec::new();
    let err = |path: Vec<Value>| {
        json!({
            "message": "Internal server error",
            "path": path,
            "extensions": { "code": "INTERNAL_SERVER_ERROR" },
        })
    };
    if let Some(list) = first_object_list(data, &mut path) {
        for (i, item) in list.iter_mut().enumerate() {
            if i % 3 == 0 {
                *item = Value::Null;
                let mut p = path.clone();
                p.push(json!(i));
                errors.push(err(p));
            }
        }
    } else if let Some((k, val)) = data.iter_mut().next() {
        *val = Value::Null;
        errors.push(err(vec![json!(k)]));
    }
    match v.get_mut("errors").and_then(Value::as_array_mut) {
        Some(e) => e.extend(errors),
        None => v["errors"] = Value::Array(errors),
    }
    Resp { body: serde_json::to_vec(&v).unwrap_or_default(), ..resp }
}

fn first_object_list<'a>(m: &'a mut Map<String, Value>, path: &mut Vec<Value>) -> Option<&'a mut Vec<Value>> {
    for (k, v) in m.iter_mut() {
        path.push(json!(k));
        match v {
            Value::Array(a) if a.first().is_some_and(Value::is_object) => return Some(a),
            Value::Object(o) => {
                if let Some(a) = first_object_list(o, path) {
                    return Some(a);
                }
            }
            _ => {}
        }
        path.pop();
    }
    None
}

impl State {
    /// Handle a request as a live server does: with the configured latency and faults.
    pub fn serve(&mut self, req: &Req) -> (Resp, Delivery) {
        if req.path.starts_with("/slack/") {
            return self.slack.serve(req);
        }
        let Some((provider, token)) = classify(&req.path) else {
            return (self.handle(req), Delivery::default());
        };
        let mut d = Delivery::default();
        if !token {
            d.delay = Duration::from_millis(self.faults.latency_ms);
        }
        let Some(kind) = self.faults.pick(provider, token) else {
            return (self.handle(req), d);
        };
        let resp = match kind.as_str() {
            "500" | "502" | "503" => {
                let status = kind.parse().unwrap_or(503);
                Resp::json(status, &error_body(provider, status))
            }
            "429" => {
                let r = Resp::json(429, &error_body(provider, 429));
                if self.faults.rng.chance(0.5) { r.with_header("Retry-After", "1") } else { r }
            }
            "reset" => {
                d.reset = Some(self.faults.rng.chance(0.5));
                Resp::json(200, &json!({}))
            }
            "lost" => {
                let r = self.handle(req);
                d.reset = Some(false);
                r
            }
            "slow" => {
                d.delay += Duration::from_millis(self.faults.slow_ms);
                self.handle(req)
            }
            "truncated" => {
                let mut r = self.handle(req);
                let half = r.body.len() / 2;
                r.body.truncate(half);
                r
            }
            "html" => {
                let status = if self.faults.rng.chance(0.5) { 502 } else { 200 };
                Resp {
                    status,
                    headers: vec![("Content-Type".into(), "text/html".into())],
                    body: HTML_502.as_bytes().to_vec(),
                }
            }
            "graphql_partial" => make_partial(self.handle(req)),
            "throttled" => {
                self.jobber.force_throttle = true;
                let r = self.handle(req);
                self.jobber.force_throttle = false;
                r
            }
            _ => self.handle(req),
        };
        (resp, d)
    }
}

/// `GET|POST /_fake/faults` and `GET|POST /_fake/latency`.
pub fn control(st: &mut State, method: &str, parts: &[&str], body: &Value) -> Resp {
    match (method, parts) {
        ("POST", ["faults"]) => match st.faults.configure(body) {
            Ok(()) => Resp::json(200, &st.faults.config_json()),
            Err(e) => Resp::json(400, &json!({ "error": e })),
        },
        ("GET", ["faults"]) => Resp::json(200, &st.faults.stats()),
        ("POST", ["latency"]) => match body.get("ms").and_then(Value::as_u64) {
            Some(ms) if ms <= 600_000 => {
                st.faults.latency_ms = ms;
                Resp::json(200, &json!({ "ms": ms }))
            }
            _ => Resp::json(400, &json!({ "error": "\"ms\" must be a whole number of milliseconds up to 600000" })),
        },
        _ => Resp::json(200, &json!({ "ms": st.faults.latency_ms })),
    }
}

/// Send a response in one write. tiny_http writes the head and the body separately and
/// does not set TCP_NODELAY, so on a kept-alive connection the body's last segment waits for
/// the client's delayed ACK of the head: about 40 ms per request, which would dwarf the
/// client's own time in benchmarks. One write has no small segment in flight to wait for.
pub fn send(rq: tiny_http::Request, resp: Resp) {
    let head_only = *rq.method() == tiny_http::Method::Head;
    let version = rq.http_version().clone();
    let headers = rq.headers().to_vec();
    // tiny_http still decides the framing (length or chunked, Connection, Date); only the
    // bytes are gathered first.
    let mut out = Vec::with_capacity(resp.body.len() + 512);
    if resp.into_tiny().raw_print(&mut out, version, &headers, head_only, None).is_err() {
        return;
    }
    let mut w = rq.into_writer();
    let _ = w.write_all(&out);
    let _ = w.flush();
}

/// Break the connection instead of answering: garbage where the status line's headers should
/// end, or a 200 whose chunked body stops with an invalid chunk. Either way the client gets
/// a transport error at once (and drops the connection), never a response.
pub fn break_connection(rq: tiny_http::Request, mid_body: bool) {
    let mut w = rq.into_writer();
    let bytes: &[u8] = if mid_body {
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"data\":{\"jobs\":\r\nzz\r\n\r\n"
    } else {
        b"HTTP/1.1 200 OK\r\nContent-Type: appli\0\r\n\r\n"
    };
    let _ = w.write_all(bytes);
    let _ = w.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_classified() {
        assert_eq!(classify("/jobber/api/graphql"), Some(("jobber", false)));
        assert_eq!(classify("/jobber/api/oauth/token"), Some(("jobber", true)));
        assert_eq!(classify("/jobber/api/oauth/authorize"), None);
        assert_eq!(classify("/google/api/calendar/v3/x"), Some(("google", false)));
        assert_eq!(classify("/google/token"), Some(("google", true)));
        assert_eq!(classify("/microsoft/graph/v1.0/me"), Some(("microsoft", false)));
        assert_eq!(classify("/microsoft/common/oauth2/v2.0/token"), Some(("microsoft", true)));
        assert_eq!(classify("/calendly/api/users/me"), Some(("calendly", false)));
        assert_eq!(classify("/calendly/oauth/revoke"), Some(("calendly", true)));
        assert_eq!(classify("/_fake/stats"), None);
        assert_eq!(classify("/jobberx/api/graphql"), None);
    }

    #[test]
    fn configuration_is_checked() {
        let mut f = Faults::default();
        assert!(f.configure(&json!({"rate": 2})).is_err());
        assert!(f.configure(&json!({"rate": 0.1, "kind": ["500"]})).is_err());
        assert!(f.configure(&json!({"rate": 0.5, "kinds": ["boom"]})).is_err());
        assert!(f.configure(&json!({"rate": 0.5, "provider": "nope"})).is_err());
        f.configure(&json!({"rate": 0.5, "kinds": [500, "reset"], "provider": "google"})).unwrap();
        assert_eq!(f.kinds, ["500", "reset"]);
        assert_eq!(f.pick("jobber", false), None, "other provider");
        let picks: Vec<Option<String>> = (0..200).map(|_| f.pick("google", false)).collect();
        let n = picks.iter().flatten().count();
        assert!((60..140).contains(&n), "about half: {n}");
        assert_eq!(f.pick("google", true), None, "token endpoints need token: true");
        f.configure(&json!({"rate": 1, "kinds": ["throttled"]})).unwrap();
        assert_eq!(f.pick("google", false), None, "not applicable outside Jobber");
        assert_eq!(f.pick("jobber", false).as_deref(), Some("throttled"));
        assert_eq!(f.stats()["injected"]["throttled"], 1);
    }

    #[test]
    fn partial_data_nulls_list_items_and_adds_errors() {
        let body = json!({"data": {"jobs": {"nodes": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}], "pageInfo": {"hasNextPage": true}}}});
        let r = make_partial(Resp::json(200, &body));
        let v = r.json_value();
        assert_eq!(v["data"]["jobs"]["nodes"], json!([null, {"id": 2}, {"id": 3}, null]));
        assert_eq!(v["errors"][0]["path"], json!(["jobs", "nodes", 0]));
        assert_eq!(v["errors"].as_array().unwrap().len(), 2);
        let r = make_partial(Resp::json(200, &json!({"data": {"account": {"id": "x"}}})));
        assert_eq!(r.json_value()["data"]["account"], Value::Null);
    }
}
