//! Fake Jobber: authorization server (one registered callback, bare-callback denial, secret in
//! the form body, JWT access tokens, three rotation modes) and the GraphQL transport (JSON
//! only, version header, cost bucket, request-rate limit, disconnects).
//!
//! Paths under `/jobber`: `GET /api/oauth/authorize`, `POST /api/oauth/token`,
//! `POST /api/graphql`.

pub mod api;
pub mod control;
pub mod data;
pub mod generate;
pub mod page;

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::core::{
    AtCheck, AuthCode, CodeError, Common, Env, PkceError, RtState, User, b64url, hex, jwt, oauth_error,
    pkce_from_authorize, rand_bytes, verify_pkce, window_hit,
};
use crate::graphql::{QueryCache, Schema, Selection, error_at, execute, prepare_cached};
use crate::http::{Req, Resp, append_query};
use crate::jobber::api::{AccountData, ApiCtx};
use crate::jobber::page::CursorMode;
use crate::redirect;

pub const MAX_COST: f64 = 10_000.0;
const DISCONNECTED: &str = "User has disconnected this app from their account. Please delete this token";
const INACTIVE: &str = "This account is not active";
const ROTATION_OFF_WARNING: &str = "Refresh token rotation is off. This setting is required for apps to be published in the Jobber App Marketplace. You can turn it on in the Developer Center. https://developer.getjobber.com/apps";
const LEGACY_WARNING: &str = "Unexpected Refresh Token Redemption: A newer refresh token exists. Please use the newest refresh token; this one will stop working in the future.";
const BAD_REFRESH: &str = "The provided refresh token is not valid.";
const BAD_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const BAD_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
const MALFORMED: &str =
    "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.";

/// Refresh-token rotation, a per-app toggle at Jobber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Rotation {
    /// New refresh token each time; the previous one dies at once (apps after 2024-01-02).
    On,
    /// The same refresh token comes back, with a `warning`.
    Off,
    /// New refresh token each time, but a superseded one still works, with a `warning`.
    Legacy,
}

#[derive(Debug, Clone)]
pub struct JobberConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub access_ttl: i64,
    pub restore_rate: f64,
    /// Supported `X-JOBBER-GRAPHQL-VERSION` values; the oldest serves unknown ones.
    pub versions: Vec<String>,
    /// Requests per account per `request_window` seconds before HTTP 429.
    pub request_limit: usize,
    /// The request-rate window in seconds (Jobber: 300).
    pub request_window: f64,
    /// HTTP status of `invalid_grant` answers (undocumented: 400 like Doorkeeper, or 401).
    pub invalid_grant_status: u16,
    pub app_name: String,
    pub app_author: String,
}

/// One Jobber account (company) and its API budget.
#[derive(Debug)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub available: f64,
    pub bucket_at: f64,
    pub requests: VecDeque<f64>,
    pub data: AccountData,
}

pub struct Jobber {
    pub cfg: JobberConfig,
    pub rotation: Rotation,
    pub c: Common,
    pub accounts: HashMap<String, Account>,
    schema: Schema,
    /// How `jobs`/`clients` cursors encode a position (see `jobber_page`).
    pub cursors: CursorMode,
    /// Set by the fault injector for one request: answer THROTTLED whatever the bucket.
    pub force_throttle: bool,
    /// Jobs to delete once `api_calls` reaches a count: (count, account, job id). A deletion
    /// in the middle of a client's scan, which shifts offset cursors.
    pub scheduled_deletes: Vec<(u64, String, u64)>,
    pub api_stats: ApiStats,
    queries: QueryCache,
}

/// GraphQL counters added to the Jobber entry of `/_fake/stats`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ApiStats {
    /// Sum of `requestedQueryCost` over executed queries.
    pub requested_cost: u64,
    /// Sum of `actualQueryCost` (what was taken from the buckets).
    pub actual_cost: u64,
    /// Executed operations by root field (`jobs`, `job`, `clients`, `account`, ...).
    pub queries: BTreeMap<String, u64>,
}

pub fn default_user() -> User {
    User::new(
        &crate::jobber::api::encode_id("Account", 1_000_001),
        "Fake Landscaping Co.",
        Some("owner@fake-landscaping.example"),
    )
}

impl Jobber {
    pub fn new(cfg: JobberConfig, rotation: Rotation) -> Result<Jobber, String> {
        let c = Common::new(default_user(), Some(&cfg.client_secret));
        Ok(Jobber {
            cfg,
            rotation,
            c,
            accounts: HashMap::new(),
            schema: crate::jobber::api::schema()?,
            cursors: CursorMode::Offset,
            force_throttle: false,
            scheduled_deletes: Vec::new(),
            api_stats: ApiStats::default(),
            queries: QueryCache::default(),
        })
    }

    pub fn handle(&mut self, env: &Env, req: &Req, rest: &str) -> Resp {
        match (req.method.as_str(), rest) {
            ("GET", "api/oauth/authorize") => self.authorize(env, req),
            ("POST", "api/oauth/token") => self.token(env, req),
            (_, "api/graphql") => self.graphql(env, req),
            (_, "api/oauth/authorize" | "api/oauth/token") => Resp::json(405, &json!({"error": "method_not_allowed"})),
            _ => Resp::json(404, &json!({"error": "not_found"})),
        }
    }

    /// The account behind a user, created on first sight. A code exchange (`connect`)
    /// also takes over the name the user signed in with.
    fn account_mut(&mut self, user: &User, now: f64, connect: bool) -> &mut Account {
        let acc = self.accounts.entry(user.id.clone()).or_insert_with(|| Account {
            id: user.id.clone(),
            name: user.name.clone(),
            active: true,
            available: MAX_COST,
            bucket_at: now,
            requests: VecDeque::new(),
            data: AccountData::default(),
        });
        if connect {
            acc.name.clone_from(&user.name);
        }
        acc
    }

    /// The id of the account a control call means: `id` if given (it must exist, or be the
    /// current login user), else the current login user, whose account is created if needed.
    pub fn account_for(&mut self, id: Option<&str>, now: f64) -> Result<String, String> {
        let user = self.c.user.clone();
        match id {
            Some(id) if id != user.id => {
                if self.accounts.contains_key(id) {
                    Ok(id.to_string())
                } else {
                    Err(format!("no such account {id:?} (log it in and connect it first)"))
                }
            }
            _ => Ok(self.account_mut(&user, now, false).id.clone()),
        }
    }

    /// Mutable data of an account returned by [`Jobber::account_for`].
    pub fn data_mut(&mut self, id: &str) -> Option<&mut AccountData> {
        self.accounts.get_mut(id).map(|a| &mut a.data)
    }

    /// Test-only shortcut: mint an access and refresh token for the current login user, as a
    /// completed authorization would (the account takes the user's name).
    pub fn mint_token(&mut self, now: f64) -> Value {
        let user = self.c.user.clone();
        self.account_mut(&user, now, true);
        let secs = now.floor() as i64;
        let grant = self.c.store.new_grant(user.clone(), &self.cfg.client_id, vec![], secs);
        let (access, exp) = self.issue_access(grant, &user, secs);
        let refresh = hex(&rand_bytes(16));
        self.c.store.add_refresh(&refresh, grant, secs);
        self.c.issued.refresh(&refresh);
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "exp": exp,
            "account": user.id,
        })
    }

    // ---------- authorize ----------

    fn authorize(&mut self, env: &Env, req: &Req) -> Resp {
        self.c.stats.authorize_requests += 1;
        let page = |stats: &mut crate::core::Stats, title: &str, detail: &str| {
            stats.authorize_errors += 1;
            Resp::html(400, title, detail)
        };
        let q = match req.query_params() {
            Ok(q) => q,
            Err(dup) => {
                return page(&mut self.c.stats, "invalid_request", &format!("Parameter '{dup}' is repeated."));
            }
        };
        if q.get("client_id") != Some(self.cfg.client_id.as_str()) {
            return page(&mut self.c.stats, "invalid_client", BAD_CLIENT);
        }
        let Some(redirect_uri) = q.get("redirect_uri") else {
            return page(&mut self.c.stats, "invalid_redirect_uri", "The redirect uri included is not valid.");
        };
        if let Err(e) = redirect::exact(&self.cfg.redirect_uri, redirect_uri) {
            return page(
                &mut self.c.stats,
                "invalid_redirect_uri",
                &format!("The redirect uri included is not valid. {e}"),
            );
        }
        let state = q.get("state");
        let fail = |stats: &mut crate::core::Stats, error: &str, desc: &str| {
            stats.authorize_errors += 1;
            let mut pairs = vec![("error", error), ("error_description", desc)];
            if let Some(s) = state {
                pairs.push(("state", s));
            }
            Resp::redirect(&append_query(redirect_uri, &pairs))
        };
        match q.get("response_type") {
            Some("code") => {}
            None => {
                return fail(&mut self.c.stats, "invalid_request", "Missing required parameter: response_type.");
            }
            Some(_) => {
                return fail(
                    &mut self.c.stats,
                    "unsupported_response_type",
                    "The authorization server does not support this response type.",
                );
            }
        }
        // PKCE is undocumented at Jobber: accepted and enforced when sent.
        let pkce = match pkce_from_authorize(q.get("code_challenge"), q.get("code_challenge_method")) {
            Ok(p) => p,
            Err(e) => return fail(&mut self.c.stats, "invalid_request", &e),
        };
        if self.c.consent == crate::core::Consent::Deny {
            self.c.stats.authorize_denied += 1;
            // Jobber's refusal: the callback with no query string at all.
            return Resp::redirect(redirect_uri);
        }
        let code = b64url(&rand_bytes(32));
        self.c.issued.code(&code);
        self.c.store.codes.insert(
            code.clone(),
            AuthCode {
                client_id: self.cfg.client_id.clone(),
                redirect_uri: redirect_uri.to_string(),
                pkce,
                scope: vec![],
                user: self.c.user.clone(),
                nonce: None,
                issued_at: env.now_secs(),
                used: false,
            },
        );
        self.c.stats.authorize_approved += 1;
        let mut pairs = vec![("code", code.as_str())];
        if let Some(s) = state {
            pairs.push(("state", s));
        }
        Resp::redirect(&append_query(redirect_uri, &pairs))
    }

    // ---------- token ----------

    fn token_error(&mut self, status: u16, error: &str, desc: &str) -> Resp {
        self.c.stats.token_errors += 1;
        if status == 401 {
            self.c.stats.unauthorized += 1;
        }
        Resp::json(status, &oauth_error(error, desc))
    }

    fn token(&mut self, env: &Env, req: &Req) -> Resp {
        if !req.is_form() {
            self.c.count_token_request(None);
            return self.token_error(400, "invalid_request", MALFORMED);
        }
        let form = match req.form() {
            Ok(f) => f,
            Err(_) => {
                self.c.count_token_request(None);
                return self.token_error(400, "invalid_request", MALFORMED);
            }
        };
        let grant_type = form.get("grant_type");
        self.c.count_token_request(grant_type);
        if let Some(s) = form.get("client_secret") {
            self.c.issued.secret(s);
        }
        if let Some(v) = form.get("code_verifier") {
            self.c.issued.verifier(v);
        }
        // Client authentication: both in the body (HTTP Basic is not documented).
        if form.get("client_id") != Some(self.cfg.client_id.as_str())
            || form.get("client_secret") != Some(self.cfg.client_secret.as_str())
        {
            return self.token_error(401, "invalid_client", BAD_CLIENT);
        }
        let bad = self.cfg.invalid_grant_status;
        let now = env.now_secs();
        match grant_type {
            Some("authorization_code") => {
                let Some(code) = form.get("code") else {
                    return self.token_error(400, "invalid_request", "Missing required parameter: code.");
                };
                let c = match self.c.store.take_code(code, now) {
                    Ok(c) => c,
                    Err(CodeError::Unknown | CodeError::Used | CodeError::Expired) => {
                        return self.token_error(bad, "invalid_grant", BAD_GRANT);
                    }
                };
                if c.client_id != self.cfg.client_id || form.get("redirect_uri") != Some(c.redirect_uri.as_str()) {
                    return self.token_error(bad, "invalid_grant", BAD_GRANT);
                }
                match verify_pkce(c.pkce.as_ref(), form.get("code_verifier")) {
                    // A verifier for a code issued without a challenge is an unknown
                    // parameter to a server without PKCE: ignored.
                    Ok(()) | Err(PkceError::Unexpected) => {}
                    Err(_) => return self.token_error(bad, "invalid_grant", BAD_GRANT),
                }
                self.account_mut(&c.user, env.now, true);
                let grant = self.c.store.new_grant(c.user.clone(), &self.cfg.client_id, vec![], now);
                let (access, _) = self.issue_access(grant, &c.user, now);
                let refresh = hex(&rand_bytes(16));
                self.c.store.add_refresh(&refresh, grant, now);
                self.c.issued.refresh(&refresh);
                self.c.stats.code_exchanges_ok += 1;
                Resp::json(200, &json!({ "access_token": access, "refresh_token": refresh }))
            }
            Some("refresh_token") => {
                let r = self.refresh(form.get("refresh_token"), now);
                match r {
                    Ok(body) => {
                        self.c.stats.refresh_ok += 1;
                        Resp::json(200, &body)
                    }
                    Err(resp) => {
                        self.c.stats.refresh_failed += 1;
                        resp
                    }
                }
            }
            None => self.token_error(400, "invalid_request", "Missing required parameter: grant_type."),
            Some(_) => self.token_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ),
        }
    }

    fn refresh(&mut self, presented: Option<&str>, now: i64) -> Result<Value, Resp> {
        let bad = self.cfg.invalid_grant_status;
        let Some(rt) = presented else {
            return Err(self.token_error(400, "invalid_request", "Missing required parameter: refresh_token."));
        };
        let Some(record) = self.c.store.refresh.get(rt).cloned() else {
            return Err(self.token_error(bad, "invalid_grant", BAD_REFRESH));
        };
        let Some(grant) = self.c.store.grant(record.grant).cloned() else {
            return Err(self.token_error(bad, "invalid_grant", BAD_REFRESH));
        };
        if grant.revoked.is_some() || grant.client_id != self.cfg.client_id {
            return Err(self.token_error(bad, "invalid_grant", BAD_REFRESH));
        }
        let warning = match (record.state, self.rotation) {
            (RtState::Dead, _) => return Err(self.token_error(bad, "invalid_grant", BAD_REFRESH)),
            (RtState::Rotated, Rotation::Legacy) => Some(LEGACY_WARNING),
            (RtState::Rotated, _) => {
                return Err(self.token_error(bad, "invalid_grant", BAD_REFRESH));
            }
            (RtState::Active, Rotation::Off) => Some(ROTATION_OFF_WARNING),
            (RtState::Active, _) => None,
        };
        let new_rt = if self.rotation == Rotation::Off {
            rt.to_string()
        } else {
            let n = hex(&rand_bytes(16));
            if let Some(old) = self.c.store.refresh.get_mut(rt) {
                old.state = RtState::Rotated;
            }
            self.c.store.add_refresh(&n, record.grant, now);
            self.c.issued.refresh(&n);
            n
        };
        if let Some(r) = self.c.store.refresh.get_mut(&new_rt) {
            r.last_used = now;
        }
        let (access, exp) = self.issue_access(record.grant, &grant.user, now);
        let expires_at = jiff::Timestamp::from_second(exp)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let mut body = Map::new();
        if let Some(w) = warning {
            body.insert("warning".into(), json!(w));
        }
        body.insert("access_token".into(), json!(access));
        body.insert("refresh_token".into(), json!(new_rt));
        body.insert("expires_at".into(), json!(expires_at));
        Ok(Value::Object(body))
    }

    /// A JWT-shaped access token whose payload `exp` is the expiry.
    fn issue_access(&mut self, grant: u64, user: &User, now: i64) -> (String, i64) {
        let exp = now + self.cfg.access_ttl;
        let token = jwt(
            &json!({"typ": "JWT", "alg": "HS256"}),
            &json!({
                "sub": user.id,
                "account_id": user.id,
                "app_id": self.cfg.client_id,
                "iat": now,
                "exp": exp,
                "jti": hex(&rand_bytes(16)),
            }),
        );
        self.c.store.add_access(&token, grant, now, self.cfg.access_ttl);
        self.c.issued.access(&token);
        (token, exp)
    }

    // ---------- GraphQL ----------

    fn unauthorized(&mut self, body: Value) -> Resp {
        self.c.stats.unauthorized += 1;
        Resp::json(401, &body).with_header("WWW-Authenticate", "Bearer realm=\"Jobber\", error=\"invalid_token\"")
    }

    fn graphql(&mut self, env: &Env, req: &Req) -> Resp {
        self.c.stats.api_calls += 1;
        let calls = self.c.stats.api_calls;
        let (due, later): (Vec<_>, Vec<_>) = self.scheduled_deletes.drain(..).partition(|(at, ..)| *at <= calls);
        self.scheduled_deletes = later;
        for (_, account, job) in due {
            if let Some(d) = self.data_mut(&account) {
                d.remove_job(job);
            }
        }
        let Some(token) = req.bearer() else {
            return self.unauthorized(oauth_error("invalid_request", "An access token is required."));
        };
        let grant_id = match self.c.store.check_access(token, env.now_secs()) {
            AtCheck::Valid(g) => g,
            AtCheck::Revoked(reason) if reason == "disconnected" => {
                return self.unauthorized(json!({ "message": DISCONNECTED }));
            }
            AtCheck::Expired => {
                return self.unauthorized(oauth_error("invalid_token", "The access token expired"));
            }
            AtCheck::Revoked(_) => {
                return self.unauthorized(oauth_error("invalid_token", "The access token was revoked"));
            }
            AtCheck::Unknown => {
                return self.unauthorized(oauth_error("invalid_token", "The access token is invalid"));
            }
        };
        let Some(user) = self.c.store.grant(grant_id).map(|g| g.user.clone()) else {
            return self.unauthorized(oauth_error("invalid_token", "The access token is invalid"));
        };
        let (limit, window) = (self.cfg.request_limit, self.cfg.request_window);
        let acc = self.account_mut(&user, env.now, false);
        if !acc.active {
            return Resp::json(403, &json!({ "error": { "message": INACTIVE } }));
        }
        // jobber.md: Retry-After is not documented, so the 429 carries none.
        if window_hit(&mut acc.requests, env.now, window, limit).is_err() {
            self.c.stats.rate_limited += 1;
            return Resp::json(429, &json!({ "message": "Too Many Requests" }));
        }
        if req.method != "POST" {
            return Resp::json(405, &json!({ "errors": [{ "message": "Only POST requests are supported" }] }));
        }
        if !req.is_json() {
            // Form and multipart bodies are rejected since 2024-04-02.
            return Resp::json(
                415,
                &json!({ "errors": [{ "message": "Content-Type must be application/json; form and multipart bodies are not supported" }] }),
            );
        }
        let Some(requested_version) = req.header("x-jobber-graphql-version").map(str::trim) else {
            return Resp::json(
                400,
                &json!({ "errors": [{ "message": "The X-JOBBER-GRAPHQL-VERSION header is required" }] }),
            );
        };
        if requested_version.parse::<jiff::civil::Date>().is_err() || requested_version.len() != 10 {
            return Resp::json(
                400,
                &json!({ "errors": [{ "message": format!("Invalid X-JOBBER-GRAPHQL-VERSION '{requested_version}': expected YYYY-MM-DD") }] }),
            );
        }
        let versioning = self.versioning(requested_version);
        let Some(body) = req.json_body().filter(Value::is_object) else {
            return Resp::json(400, &json!({ "errors": [{ "message": "The request body must be a JSON object" }] }));
        };
        let Some(query) = body.get("query").and_then(Value::as_str) else {
            let ext = self.extensions(&user.id, env.now, 0, 0, &versioning);
            return Resp::json(
                200,
                &json!({ "errors": [{ "message": "No query string was present" }], "extensions": ext }),
            );
        };
        let op_name = body.get("operationName").and_then(Value::as_str);
        let prepared = match prepare_cached(&self.schema, &mut self.queries, query, body.get("variables"), op_name) {
            Ok(p) => p,
            Err(errors) => {
                let ext = self.extensions(&user.id, env.now, 0, 0, &versioning);
                return Resp::json(200, &json!({ "errors": errors, "extensions": ext }));
            }
        };
        let requested = prepared.requested_cost;
        let available = self.refill(&user.id, env.now);
        let forced = std::mem::take(&mut self.force_throttle);
        if requested as f64 > available || forced {
            self.c.stats.throttled += 1;
            let ext = self.extensions(&user.id, env.now, requested, 0, &versioning);
            let mut err = error_at("Throttled", None, None, None);
            err["extensions"] = json!({
                "code": "THROTTLED",
                "documentation": "https://developer.getjobber.com/docs/using_jobbers_api/api_rate_limits",
            });
            return Resp::json(200, &json!({ "errors": [err], "extensions": ext }));
        }
        let app_id = crate::jobber::api::encode_id("Application", 4242);
        let (app_name, app_author) = (self.cfg.app_name.clone(), self.cfg.app_author.clone());
        let Some(acc) = self.accounts.get_mut(&user.id) else {
            return Resp::json(500, &json!({ "message": "Service temporarily unavailable" }));
        };
        let mut ctx = ApiCtx {
            account_id: &acc.id,
            account_name: &acc.name,
            data: &mut acc.data,
            cursors: self.cursors,
            app_id,
            app_name: &app_name,
            app_author: &app_author,
            disconnect: false,
        };
        let result = execute(&self.schema, &crate::jobber::api::resolvers(), &mut ctx, &prepared);
        let disconnect = ctx.disconnect;
        acc.available = (acc.available - result.actual_cost as f64).max(0.0);
        self.api_stats.requested_cost += requested;
        self.api_stats.actual_cost += result.actual_cost;
        for sel in &prepared.op().selection {
            if let Selection::Field(f) = sel {
                *self.api_stats.queries.entry(f.name.clone()).or_default() += 1;
            }
        }
        if disconnect {
            self.c.stats.revocations += 1;
            self.c.store.revoke_user(Some(&user.id), "disconnected");
        }
        let ext = self.extensions(&user.id, env.now, requested, result.actual_cost, &versioning);
        // `data` arrives as JSON text; the envelope is put around it.
        let mut body = String::with_capacity(result.data_json.len() + 512);
        body.push('{');
        if !result.errors.is_empty() {
            body.push_str("\"errors\":");
            body.push_str(&Value::Array(result.errors).to_string());
            body.push(',');
        }
        body.push_str("\"data\":");
        body.push_str(&result.data_json);
        body.push_str(",\"extensions\":");
        body.push_str(&ext.to_string());
        body.push('}');
        let mut resp = Resp::json(200, &Value::Null);
        resp.body = body.into_bytes();
        resp
    }

    /// Restore the account's bucket up to `now` and return what is available.
    fn refill(&mut self, account: &str, now: f64) -> f64 {
        let rate = self.cfg.restore_rate;
        match self.accounts.get_mut(account) {
            Some(a) => {
                let elapsed = (now - a.bucket_at).max(0.0);
                a.available = (a.available + elapsed * rate).min(MAX_COST);
                a.bucket_at = now;
                a.available
            }
            None => MAX_COST,
        }
    }

    fn versioning(&self, requested: &str) -> Value {
        if self.cfg.versions.iter().any(|v| v == requested) {
            return json!({ "version": requested });
        }
        let oldest = self.cfg.versions.iter().min().cloned().unwrap_or_default();
        json!({
            "version": oldest,
            "warning": format!(
                "API version {requested} is not supported; the oldest supported version ({oldest}) was used instead. See https://developer.getjobber.com/docs/using_jobbers_api/api_versioning"
            ),
        })
    }

    fn extensions(&mut self, account: &str, now: f64, requested: u64, actual: u64, versioning: &Value) -> Value {
        let available = self.refill(account, now);
        json!({
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": MAX_COST as u64,
                    "currentlyAvailable": available.floor() as u64,
                    "restoreRate": self.cfg.restore_rate as u64,
                },
            },
            "versioning": versioning,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Consent, jwt_payload};
    use crate::http::Params;

    const REDIRECT: &str = "http://localhost:47620/callback/jobber";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn fake(rotation: Rotation) -> Jobber {
        Jobber::new(
            JobberConfig {
                client_id: "cid".into(),
                client_secret: "sec".into(),
                redirect_uri: REDIRECT.into(),
                access_ttl: 3600,
                restore_rate: 500.0,
                versions: vec!["2025-04-16".into(), "2026-05-12".into()],
                request_limit: 2500,
                request_window: 300.0,
                invalid_grant_status: 400,
                app_name: "integ".into(),
                app_author: "integ".into(),
            },
            rotation,
        )
        .unwrap()
    }

    fn env(now: f64) -> Env {
        Env { now, base: "http://127.0.0.1:1".into() }
    }

    fn get(query: &str) -> Req {
        Req { method: "GET".into(), query: query.into(), ..Req::default() }
    }

    fn form(body: &str) -> Req {
        Req {
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
            body: body.as_bytes().to_vec(),
            ..Req::default()
        }
    }

    fn gql(token: &str, query: &str) -> Req {
        Req {
            method: "POST".into(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Authorization".into(), format!("Bearer {token}")),
                ("X-JOBBER-GRAPHQL-VERSION".into(), "2025-04-16".into()),
            ],
            body: json!({ "query": query }).to_string().into_bytes(),
            ..Req::default()
        }
    }

    fn enc(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    fn location_params(r: &Resp) -> Params {
        let loc = r.header("Location").unwrap_or("");
        Params::parse(loc.split_once('?').map(|x| x.1).unwrap_or("").as_bytes()).unwrap()
    }

    /// Authorize with PKCE and exchange the code: (access, refresh).
    fn connect(j: &mut Jobber) -> (String, String) {
        let r = j.authorize(
            &env(1000.0),
            &get(&format!(
                "response_type=code&client_id=cid&redirect_uri={}&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256",
                enc(REDIRECT)
            )),
        );
        assert_eq!(r.status, 302);
        let p = location_params(&r);
        assert_eq!(p.get("state"), Some("s1"));
        let code = p.get("code").unwrap().to_string();
        let t = j.token(
            &env(1001.0),
            &form(&format!(
                "grant_type=authorization_code&client_id=cid&client_secret=sec&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
                enc(REDIRECT)
            )),
        );
        assert_eq!(t.status, 200, "{}", String::from_utf8_lossy(&t.body));
        let v = t.json_value();
        assert_eq!(v.as_object().unwrap().len(), 2, "only access_token and refresh_token: {v}");
        (v["access_token"].as_str().unwrap().into(), v["refresh_token"].as_str().unwrap().into())
    }

    fn refresh(j: &mut Jobber, rt: &str, now: f64) -> Resp {
        j.token(
            &env(now),
            &form(&format!("grant_type=refresh_token&client_id=cid&client_secret=sec&refresh_token={rt}")),
        )
    }

    #[test]
    fn code_flow_returns_a_jwt_with_exp() {
        let mut j = fake(Rotation::On);
        let (at, rt) = connect(&mut j);
        assert_eq!(jwt_payload(&at).unwrap()["exp"], 1001 + 3600);
        assert_eq!(rt.len(), 32);
        // The code is single-use.
        let code = j.c.issued.codes[0].clone();
        let t = j.token(
            &env(1002.0),
            &form(&format!(
                "grant_type=authorization_code&client_id=cid&client_secret=sec&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
                enc(REDIRECT)
            )),
        );
        assert_eq!(t.status, 400);
        assert_eq!(t.json_value()["error"], "invalid_grant");
    }

    #[test]
    fn authorize_refuses_unregistered_redirects_and_denies_with_a_bare_callback() {
        let mut j = fake(Rotation::On);
        let r = j.authorize(
            &env(0.0),
            &get("response_type=code&client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%3A1%2Fcallback%2Fjobber"),
        );
        assert_eq!(r.status, 400);
        assert!(r.header("Location").is_none());
        let r =
            j.authorize(&env(0.0), &get(&format!("response_type=code&client_id=nope&redirect_uri={}", enc(REDIRECT))));
        assert_eq!(r.status, 400);
        j.c.consent = Consent::Deny;
        let r = j.authorize(
            &env(0.0),
            &get(&format!("response_type=code&client_id=cid&redirect_uri={}&state=x", enc(REDIRECT))),
        );
        assert_eq!(r.header("Location"), Some(REDIRECT));
    }

    #[test]
    fn token_endpoint_checks_secret_form_redirect_and_pkce() {
        let mut j = fake(Rotation::On);
        let auth = |j: &mut Jobber| {
            let r = j.authorize(
                &env(0.0),
                &get(&format!("response_type=code&client_id=cid&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256", enc(REDIRECT))),
            );
            location_params(&r).get("code").unwrap().to_string()
        };
        let code = auth(&mut j);
        let base = format!(
            "grant_type=authorization_code&client_id=cid&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(REDIRECT)
        );
        assert_eq!(j.token(&env(1.0), &form(&base)).status, 401, "missing secret");
        let mut json_req = form(&format!("{base}&client_secret=sec"));
        json_req.headers = vec![("Content-Type".into(), "application/json".into())];
        assert_eq!(j.token(&env(1.0), &json_req).status, 400, "JSON body");
        let code = auth(&mut j);
        let wrong_verifier = format!(
            "grant_type=authorization_code&client_id=cid&client_secret=sec&code={code}&redirect_uri={}&code_verifier={}",
            enc(REDIRECT),
            "x".repeat(43)
        );
        assert_eq!(j.token(&env(1.0), &form(&wrong_verifier)).json_value()["error"], "invalid_grant");
        let code = auth(&mut j);
        let other_redirect = format!(
            "grant_type=authorization_code&client_id=cid&client_secret=sec&code={code}&redirect_uri={}/&code_verifier={VERIFIER}",
            enc(REDIRECT)
        );
        assert_eq!(j.token(&env(1.0), &form(&other_redirect)).json_value()["error"], "invalid_grant");
        let code = auth(&mut j);
        let late = format!(
            "grant_type=authorization_code&client_id=cid&client_secret=sec&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(REDIRECT)
        );
        assert_eq!(j.token(&env(600.0), &form(&late)).json_value()["error"], "invalid_grant", "expired after 10 min");
        assert!(j.c.issued.client_secrets.contains(&"sec".to_string()));
        assert!(j.c.issued.pkce_verifiers.contains(&VERIFIER.to_string()));
    }

    #[test]
    fn rotation_on_kills_the_old_refresh_token_at_once() {
        let mut j = fake(Rotation::On);
        let (_, rt1) = connect(&mut j);
        let r = refresh(&mut j, &rt1, 2000.0);
        let v = r.json_value();
        assert_eq!(r.status, 200);
        let rt2 = v["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(rt1, rt2);
        assert!(v.get("warning").is_none());
        let exp = jwt_payload(v["access_token"].as_str().unwrap()).unwrap()["exp"].as_i64().unwrap();
        assert_eq!(
            v["expires_at"],
            jiff::Timestamp::from_second(exp).unwrap().strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
        );
        let again = refresh(&mut j, &rt1, 2001.0);
        assert_eq!(again.status, 400);
        assert_eq!(again.json_value(), oauth_error("invalid_grant", BAD_REFRESH));
        assert_eq!(refresh(&mut j, &rt2, 2002.0).status, 200);
        assert_eq!(j.c.stats.refresh_ok, 2);
        assert_eq!(j.c.stats.refresh_failed, 1);
    }

    #[test]
    fn rotation_off_returns_the_same_token_with_a_warning() {
        let mut j = fake(Rotation::Off);
        let (_, rt) = connect(&mut j);
        for now in [2000.0, 2001.0] {
            let v = refresh(&mut j, &rt, now).json_value();
            assert_eq!(v["refresh_token"], rt.as_str());
            assert_eq!(v["warning"], ROTATION_OFF_WARNING);
        }
    }

    #[test]
    fn rotation_legacy_accepts_a_superseded_token_with_a_warning() {
        let mut j = fake(Rotation::Legacy);
        let (_, rt1) = connect(&mut j);
        let v = refresh(&mut j, &rt1, 2000.0).json_value();
        assert!(v.get("warning").is_none());
        let v = refresh(&mut j, &rt1, 2001.0).json_value();
        assert!(v["warning"].as_str().unwrap().starts_with("Unexpected Refresh Token Redemption"));
        assert_ne!(v["refresh_token"], rt1.as_str());
    }

    #[test]
    fn graphql_transport_rules() {
        let mut j = fake(Rotation::On);
        let (at, rt) = connect(&mut j);
        let e = env(1002.0);
        let ok = j.graphql(&e, &gql(&at, "query { account { id name } }"));
        let v = ok.json_value();
        assert_eq!(ok.status, 200);
        assert_eq!(v["data"]["account"]["name"], "Fake Landscaping Co.");
        assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 2);
        assert_eq!(v["extensions"]["cost"]["throttleStatus"]["maximumAvailable"], 10000);
        assert_eq!(v["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"], 9998);
        assert_eq!(v["extensions"]["versioning"]["version"], "2025-04-16");

        let mut no_version = gql(&at, "{ account { id } }");
        no_version.headers.retain(|(k, _)| k != "X-JOBBER-GRAPHQL-VERSION");
        assert_eq!(j.graphql(&e, &no_version).status, 400);
        let mut old_version = gql(&at, "{ account { id } }");
        old_version.headers[2].1 = "2022-01-01".into();
        let v = j.graphql(&e, &old_version).json_value();
        assert_eq!(v["extensions"]["versioning"]["version"], "2025-04-16");
        assert!(v["extensions"]["versioning"]["warning"].is_string());
        let mut as_form = gql(&at, "{ account { id } }");
        as_form.headers[0].1 = "application/x-www-form-urlencoded".into();
        as_form.body = b"query=%7B+account+%7B+id+%7D+%7D".to_vec();
        assert_eq!(j.graphql(&e, &as_form).status, 415);

        let bad = j.graphql(&e, &gql(&at, "{ account { id nope } }"));
        let v = bad.json_value();
        assert_eq!(bad.status, 200);
        assert!(v.get("data").is_none());
        assert_eq!(v["errors"][0]["message"], "Field 'nope' doesn't exist on type 'Account'");
        assert!(v["extensions"]["cost"].is_object());

        assert_eq!(j.graphql(&e, &gql("garbage", "{ account { id } }")).status, 401);
        assert_eq!(j.graphql(&env(1001.0 + 3600.0), &gql(&at, "{ account { id } }")).status, 401, "expired");

        // appDisconnect kills both tokens.
        let d = j.graphql(&e, &gql(&at, "mutation { appDisconnect { app { name author } userErrors { message } } }"));
        assert_eq!(d.json_value()["data"]["appDisconnect"]["userErrors"], json!([]));
        let after = j.graphql(&e, &gql(&at, "{ account { id } }"));
        assert_eq!(after.status, 401);
        assert_eq!(after.json_value(), json!({ "message": DISCONNECTED }));
        assert_eq!(refresh(&mut j, &rt, 1003.0).json_value()["error"], "invalid_grant");
    }

    #[test]
    fn cost_bucket_throttles_with_http_200_and_restores() {
        let mut j = fake(Rotation::On);
        let (at, _) = connect(&mut j);
        if let Some(a) = j.accounts.values_mut().next() {
            a.available = 1.0;
            a.bucket_at = 3000.0;
        }
        let r = j.graphql(&env(3000.0), &gql(&at, "{ account { id name } }"));
        let v = r.json_value();
        assert_eq!(r.status, 200);
        assert_eq!(v["errors"][0]["extensions"]["code"], "THROTTLED");
        assert_eq!(v["extensions"]["cost"]["actualQueryCost"], 0);
        assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 2);
        assert!(v.get("data").is_none());
        // 0.01 s later at 500/s: 6 points.
        let r = j.graphql(&env(3000.01), &gql(&at, "{ account { id name } }"));
        assert!(r.json_value()["data"]["account"].is_object());
        assert_eq!(j.c.stats.throttled, 1);
    }

    #[test]
    fn request_rate_limit_gives_429() {
        let mut j = fake(Rotation::On);
        j.cfg.request_limit = 2;
        let (at, _) = connect(&mut j);
        assert_eq!(j.graphql(&env(1002.0), &gql(&at, "{ account { id } }")).status, 200);
        assert_eq!(j.graphql(&env(1002.0), &gql(&at, "{ account { id } }")).status, 200);
        let refused = j.graphql(&env(1002.0), &gql(&at, "{ account { id } }"));
        assert_eq!(refused.status, 429);
        assert_eq!(refused.header("Retry-After"), None, "jobber.md documents no Retry-After");
        assert_eq!(j.graphql(&env(1302.0), &gql(&at, "{ account { id } }")).status, 200);
    }
}
