//! Fake Calendly: OAuth 2.1 (exact redirect match, HTTPS-only in Production, PKCE S256,
//! web apps authenticate with HTTP Basic and native apps with `client_id`, single-use refresh
//! tokens, 8 token requests per user per minute, revoke and introspect needing the secret)
//! and the API base standing in for `https://api.calendly.com` (`/users/me`; scheduled events
//! in `crate::calendar::calendly`).
//!
//! Paths under `/calendly`: `GET /oauth/authorize`, `POST /oauth/token`,
//! `POST /oauth/revoke`, `POST /oauth/introspect`, `/api/...` (the API base).

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::core::{
    AtCheck, AuthCode, Common, Consent, Env, PkceError, PkcePolicy, RtState, User, b64url, hex, jwt, oauth_error,
    pkce_from_authorize, rand_bytes, split_scope, uuid4, verify_pkce, window_hit,
};
use crate::http::{Params, Req, Resp, append_query};
use crate::redirect;

const BAD_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
const BAD_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const MALFORMED: &str =
    "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.";
const KNOWN_SCOPES: &[&str] = &[
    "users:read",
    "users:write",
    "scheduled_events:read",
    "scheduled_events:write",
    "event_types:read",
    "event_types:write",
    "availability:read",
    "availability:write",
    "organizations:read",
    "organizations:write",
    "webhooks:read",
    "webhooks:write",
    "routing_forms:read",
    "groups:read",
    "locations:read",
    "shares:write",
    "scheduling_links:write",
    "data_compliance:write",
    "activity_log:read",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `http://localhost:<port>` redirect URIs allowed.
    Sandbox,
    /// HTTPS redirect URIs only.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    /// HTTP Basic `client_id:client_secret` at the token endpoint.
    Web,
    /// `client_id` in the form body, no secret.
    Native,
}

#[derive(Debug, Clone)]
pub struct CalendlyConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub mode: Mode,
    pub client_type: ClientType,
    pub access_ttl: i64,
    /// Token requests per user per 60 s.
    pub token_rate_limit: usize,
    /// API requests per user per 60 s (500 paid, 50 free).
    pub api_rate_limit: usize,
    pub pkce: PkcePolicy,
}

pub struct Calendly {
    pub cfg: CalendlyConfig,
    pub c: Common,
    api_times: HashMap<String, VecDeque<f64>>,
    /// Scheduled events (`scheduled_events...`).
    pub cal: crate::calendar::calendly::CalendlyCal,
}

pub fn default_user() -> User {
    let mut u = User::new("EBHAAFHDCAEQTSEZ", "Dana Fake", Some("dana.fake@calendly.example"));
    u.extra.insert("organization".into(), json!("FDFHA3EDQ2HHJVBM"));
    u.extra.insert("timezone".into(), json!("America/Denver"));
    u
}

fn org_of(u: &User) -> String {
    u.extra_str("organization").unwrap_or("FDFHA3EDQ2HHJVBM").to_string()
}

fn api_base(env: &Env) -> String {
    format!("{}/calendly/api", env.base)
}

fn api_error(status: u16, title: &str, message: &str) -> Resp {
    Resp::json(status, &json!({ "title": title, "message": message }))
}

impl Calendly {
    pub fn new(cfg: CalendlyConfig) -> Calendly {
        let secret = cfg.client_secret.clone();
        Calendly {
            cfg,
            c: Common::new(default_user(), Some(&secret)),
            api_times: HashMap::new(),
            cal: crate::calendar::calendly::CalendlyCal::new(Default::default()),
        }
    }

    pub fn handle(&mut self, env: &Env, req: &Req, rest: &str) -> Resp {
        match (req.method.as_str(), rest) {
            ("GET", "oauth/authorize") => self.authorize(env, req),
            ("POST", "oauth/token") => self.token(env, req),
            ("POST", "oauth/revoke") => self.revoke(req),
            ("POST", "oauth/introspect") => self.introspect(env, req),
            (_, r) if r.starts_with("api/") => self.api(env, req, &r["api/".len()..]),
            (_, "oauth/authorize" | "oauth/token" | "oauth/revoke" | "oauth/introspect") => {
                Resp::json(405, &oauth_error("invalid_request", "Method not allowed"))
            }
            _ => Resp::json(404, &json!({"error": "not_found"})),
        }
    }

    fn page(&mut self, title: &str, detail: &str) -> Resp {
        self.c.stats.authorize_errors += 1;
        Resp::html(400, title, detail)
    }

    // ---------- authorize ----------

    fn authorize(&mut self, env: &Env, req: &Req) -> Resp {
        self.c.stats.authorize_requests += 1;
        let q = match req.query_params() {
            Ok(q) => q,
            Err(dup) => {
                return self.page("invalid_request", &format!("Parameter '{dup}' is repeated."));
            }
        };
        if q.get("client_id") != Some(self.cfg.client_id.as_str()) {
            return self.page("invalid_client", BAD_CLIENT);
        }
        let Some(redirect_uri) = q.get("redirect_uri") else {
            return self.page("invalid_redirect_uri", "The redirect uri included is not valid.");
        };
        if let Err(e) = redirect::calendly(&self.cfg.redirect_uri, redirect_uri, self.cfg.mode == Mode::Production) {
            return self.page("invalid_redirect_uri", &format!("The redirect uri included is not valid. {e}"));
        }
        let state = q.get("state");
        let back = |pairs: &[(&str, &str)]| {
            let mut v = pairs.to_vec();
            if let Some(s) = state {
                v.push(("state", s));
            }
            Resp::redirect(&append_query(redirect_uri, &v))
        };
        let fail = |stats: &mut crate::core::Stats, error: &str, desc: &str| {
            stats.authorize_errors += 1;
            back(&[("error", error), ("error_description", desc)])
        };
        match q.get("response_type") {
            Some("code") => {}
            None => return fail(&mut self.c.stats, "invalid_request", MALFORMED),
            Some(_) => {
                return fail(
                    &mut self.c.stats,
                    "unsupported_response_type",
                    "The authorization server does not support this response type.",
                );
            }
        }
        let scope = split_scope(q.get("scope").unwrap_or(""));
        if let Some(bad) = scope.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
            return fail(
                &mut self.c.stats,
                "invalid_scope",
                &format!("The requested scope is invalid, unknown, or malformed: {bad}"),
            );
        }
        let pkce = match pkce_from_authorize(q.get("code_challenge"), q.get("code_challenge_method")) {
            Ok(p) => p,
            Err(e) => return fail(&mut self.c.stats, "invalid_request", &e),
        };
        if let Err(e) = self.cfg.pkce.check(pkce.as_ref()) {
            return fail(&mut self.c.stats, "invalid_request", &e);
        }
        if self.c.consent == Consent::Deny {
            self.c.stats.authorize_denied += 1;
            return back(&[("error", "access_denied")]);
        }
        let code = b64url(&rand_bytes(32));
        self.c.issued.code(&code);
        self.c.store.codes.insert(
            code.clone(),
            AuthCode {
                client_id: self.cfg.client_id.clone(),
                redirect_uri: redirect_uri.to_string(),
                pkce,
                scope,
                user: self.c.user.clone(),
                nonce: None,
                issued_at: env.now_secs(),
                used: false,
            },
        );
        self.c.stats.authorize_approved += 1;
        back(&[("code", &code)])
    }

    // ---------- token ----------

    fn token_error(&mut self, status: u16, error: &str, desc: &str) -> Resp {
        self.c.stats.token_errors += 1;
        if status == 401 {
            self.c.stats.unauthorized += 1;
        }
        Resp::json(status, &oauth_error(error, desc))
    }

    /// Web apps: HTTP Basic only. Native apps: `client_id` in the body (Basic also accepted).
    fn client_ok(&mut self, req: &Req, form: &Params) -> bool {
        match req.basic() {
            Some(Ok((id, secret))) => {
                self.c.issued.secret(&secret);
                id == self.cfg.client_id && secret == self.cfg.client_secret
            }
            Some(Err(())) => false,
            None => {
                if let Some(s) = form.get("client_secret") {
                    self.c.issued.secret(s);
                }
                self.cfg.client_type == ClientType::Native && form.get("client_id") == Some(self.cfg.client_id.as_str())
            }
        }
    }

    fn token(&mut self, env: &Env, req: &Req) -> Resp {
        let form = match (req.is_form(), req.form()) {
            (true, Ok(f)) => f,
            _ => {
                self.c.count_token_request(None);
                return self.token_error(400, "invalid_request", MALFORMED);
            }
        };
        let grant_type = form.get("grant_type");
        self.c.count_token_request(grant_type);
        if let Some(v) = form.get("code_verifier") {
            self.c.issued.verifier(v);
        }
        if !self.client_ok(req, &form) {
            return self.token_error(401, "invalid_client", BAD_CLIENT);
        }
        let now = env.now_secs();
        // The user this request is about, for the 8-per-minute limit.
        let user_id = match grant_type {
            Some("authorization_code") => {
                form.get("code").and_then(|c| self.c.store.codes.get(c)).map(|c| c.user.id.clone())
            }
            Some("refresh_token") => form
                .get("refresh_token")
                .and_then(|t| self.c.store.refresh.get(t))
                .and_then(|r| self.c.store.grant(r.grant))
                .map(|g| g.user.id.clone()),
            _ => None,
        };
        if let Some(u) = &user_id {
            let limit = self.cfg.token_rate_limit;
            let times = self.c.token_times.entry(u.clone()).or_default();
            if let Err(wait) = window_hit(times, env.now, 60.0, limit) {
                self.c.stats.rate_limited += 1;
                self.c.stats.token_errors += 1;
                if grant_type == Some("refresh_token") {
                    self.c.stats.refresh_failed += 1;
                }
                return Resp::json(429, &json!({ "title": "Too Many Requests", "message": "You have exceeded the token request rate limit. Please try again later." }))
                    .with_header("X-RateLimit-Limit", &limit.to_string())
                    .with_header("X-RateLimit-Remaining", "0")
                    .with_header("X-RateLimit-Reset", &format!("{}", wait.ceil() as u64));
            }
        }
        match grant_type {
            Some("authorization_code") => {
                let Some(code) = form.get("code") else {
                    return self.token_error(400, "invalid_request", MALFORMED);
                };
                let Ok(c) = self.c.store.take_code(code, now) else {
                    return self.token_error(400, "invalid_grant", BAD_GRANT);
                };
                if form.get("redirect_uri") != Some(c.redirect_uri.as_str()) {
                    return self.token_error(400, "invalid_grant", BAD_GRANT);
                }
                match verify_pkce(c.pkce.as_ref(), form.get("code_verifier")) {
                    Ok(()) => {}
                    Err(PkceError::Missing | PkceError::Unexpected | PkceError::Malformed | PkceError::Mismatch) => {
                        return self.token_error(400, "invalid_grant", BAD_GRANT);
                    }
                }
                let grant = self.c.store.new_grant(c.user.clone(), &self.cfg.client_id, c.scope.clone(), now);
                self.c.stats.code_exchanges_ok += 1;
                let body = self.issue(env, grant, &c.user, &c.scope, now);
                Resp::json(200, &body)
            }
            Some("refresh_token") => {
                let r = self.refresh(env, &form, now);
                if r.status == 200 {
                    self.c.stats.refresh_ok += 1;
                } else {
                    self.c.stats.refresh_failed += 1;
                }
                r
            }
            None => self.token_error(400, "invalid_request", MALFORMED),
            Some(_) => self.token_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ),
        }
    }

    fn refresh(&mut self, env: &Env, form: &Params, now: i64) -> Resp {
        let Some(rt) = form.get("refresh_token") else {
            return self.token_error(400, "invalid_request", MALFORMED);
        };
        let Some(record) = self.c.store.refresh.get(rt).cloned() else {
            return self.token_error(400, "invalid_grant", BAD_GRANT);
        };
        let Some(grant) = self.c.store.grant(record.grant).cloned() else {
            return self.token_error(400, "invalid_grant", BAD_GRANT);
        };
        if record.state != RtState::Active || grant.revoked.is_some() || grant.client_id != self.cfg.client_id {
            return self.token_error(400, "invalid_grant", BAD_GRANT);
        }
        // Single use: the presented refresh token dies now.
        if let Some(r) = self.c.store.refresh.get_mut(rt) {
            r.state = RtState::Dead;
            r.last_used = now;
        }
        let body = self.issue(env, record.grant, &grant.user, &grant.scope, now);
        Resp::json(200, &body)
    }

    fn issue(&mut self, env: &Env, grant: u64, user: &User, scope: &[String], now: i64) -> Value {
        let ttl = self.cfg.access_ttl;
        let at = jwt(
            &json!({"kid": hex(&rand_bytes(32)), "typ": "JWT", "alg": "ES256"}),
            &json!({
                "iss": "https://auth.calendly.com",
                "iat": now,
                "exp": now + ttl,
                "jti": uuid4(),
                "user_uuid": user.id,
                "app_uid": self.cfg.client_id,
                "scope": scope.join(" "),
            }),
        );
        let rt = hex(&rand_bytes(32));
        self.c.store.add_access(&at, grant, now, ttl);
        self.c.store.add_refresh(&rt, grant, now);
        self.c.issued.access(&at);
        self.c.issued.refresh(&rt);
        let base = api_base(env);
        json!({
            "token_type": "Bearer",
            "expires_in": ttl,
            "created_at": now,
            "refresh_token": rt,
            "access_token": at,
            "scope": scope.join(" "),
            "owner": format!("{base}/users/{}", user.id),
            "organization": format!("{base}/organizations/{}", org_of(user)),
        })
    }

    // ---------- revoke / introspect ----------

    /// Both need `client_id`, `client_secret` and `token` in the form body.
    fn secret_form(&mut self, req: &Req) -> Result<String, Resp> {
        let form = match (req.is_form(), req.form()) {
            (true, Ok(f)) => f,
            _ => return Err(Resp::json(400, &oauth_error("invalid_request", MALFORMED))),
        };
        if let Some(s) = form.get("client_secret") {
            self.c.issued.secret(s);
        }
        if form.get("client_id") != Some(self.cfg.client_id.as_str())
            || form.get("client_secret") != Some(self.cfg.client_secret.as_str())
        {
            self.c.stats.unauthorized += 1;
            return Err(Resp::json(401, &oauth_error("invalid_client", BAD_CLIENT)));
        }
        match form.get("token") {
            Some(t) => Ok(t.to_string()),
            None => Err(Resp::json(400, &oauth_error("invalid_request", MALFORMED))),
        }
    }

    fn revoke(&mut self, req: &Req) -> Resp {
        self.c.stats.revocations += 1;
        let token = match self.secret_form(req) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let store = &mut self.c.store;
        let grant = store.access.get(&token).map(|a| a.grant).or_else(|| store.refresh.get(&token).map(|r| r.grant));
        if let Some(g) = grant {
            store.revoke_grant(g, "revoked");
        }
        // RFC 7009: an unknown or already revoked token is not an error.
        Resp::json(200, &json!({}))
    }

    fn introspect(&mut self, env: &Env, req: &Req) -> Resp {
        let token = match self.secret_form(req) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let now = env.now_secs();
        let store = &self.c.store;
        let live = match store.check_access(&token, now) {
            AtCheck::Valid(g) => store.access.get(&token).map(|a| (g, a.issued_at, Some(a.expires_at))),
            _ => store
                .refresh
                .get(&token)
                .filter(|r| r.state == RtState::Active)
                .filter(|r| store.grant(r.grant).is_some_and(|g| g.revoked.is_none()))
                .map(|r| (r.grant, r.issued_at, None)),
        };
        let Some((gid, iat, exp)) = live else {
            return Resp::json(200, &json!({ "active": false }));
        };
        let Some(g) = store.grant(gid) else {
            return Resp::json(200, &json!({ "active": false }));
        };
        let base = api_base(env);
        Resp::json(
            200,
            &json!({
                "active": true,
                "scope": g.scope.join(" "),
                "client_id": self.cfg.client_id,
                "token_type": "Bearer",
                "exp": exp,
                "iat": iat,
                "owner": format!("{base}/users/{}", g.user.id),
                "organization": format!("{base}/organizations/{}", org_of(&g.user)),
            }),
        )
    }

    // ---------- API ----------

    fn api(&mut self, env: &Env, req: &Req, path: &str) -> Resp {
        self.c.stats.api_calls += 1;
        let now = env.now_secs();
        let grant = match req.bearer().map(|t| self.c.store.check_access(t, now)) {
            Some(AtCheck::Valid(g)) => g,
            Some(AtCheck::Expired) => {
                self.c.stats.unauthorized += 1;
                return api_error(401, "Unauthenticated", "The access token expired");
            }
            _ => {
                self.c.stats.unauthorized += 1;
                return api_error(401, "Unauthenticated", "The access token is invalid");
            }
        };
        let Some(g) = self.c.store.grant(grant).cloned() else {
            return api_error(500, "Internal Server Error", "An unexpected error occurred");
        };
        let limit = self.cfg.api_rate_limit;
        let times = self.api_times.entry(g.user.id.clone()).or_default();
        let hit = window_hit(times, env.now, 60.0, limit);
        let remaining = limit.saturating_sub(times.len());
        let reset = times.front().map_or(60.0, |t| (t + 60.0 - env.now).max(0.0)).ceil() as u64;
        let headers = |r: Resp, remaining: usize, reset: u64| {
            r.with_header("X-RateLimit-Limit", &limit.to_string())
                .with_header("X-RateLimit-Remaining", &remaining.to_string())
                .with_header("X-RateLimit-Reset", &reset.to_string())
        };
        let calendar = crate::calendar::calendly::CalendlyCal::serves(path.trim_end_matches('/'));
        let forced = if calendar { self.cal.take_throttle() } else { None };
        if let Err(wait) = hit.and(forced.map_or(Ok(()), |reset| Err(reset as f64))) {
            self.c.stats.rate_limited += 1;
            let r = api_error(429, "Too Many Requests", "You have exceeded the rate limit. Please try again later.");
            return headers(r, 0, wait.ceil() as u64);
        }
        let resp = if calendar {
            self.cal.handle(&mut self.c.stats, env, req, path, &g)
        } else {
            self.route_api(env, req, path, &g)
        };
        headers(resp, remaining, reset)
    }

    fn route_api(&self, env: &Env, req: &Req, path: &str, g: &crate::core::Grant) -> Resp {
        let has = |s: &str| {
            let write = s.replace(":read", ":write");
            g.scope.iter().any(|x| x == s || *x == write)
        };
        let base = api_base(env);
        let path = path.trim_end_matches('/');
        match (req.method.as_str(), path) {
            ("GET", p) if p == "users/me" || p == format!("users/{}", g.user.id) => {
                if !has("users:read") {
                    return api_error(403, "Permission Denied", "Insufficient scope");
                }
                let u = &g.user;
                let slug =
                    u.extra_str("slug").map(String::from).unwrap_or_else(|| u.name.to_lowercase().replace(' ', "-"));
                let created = crate::core::rfc3339(g.created - 86400 * 400).replace('Z', ".000000Z");
                Resp::json(
                    200,
                    &json!({ "resource": {
                        "uri": format!("{base}/users/{}", u.id),
                        "name": u.name,
                        "slug": slug,
                        "email": u.email,
                        "scheduling_url": format!("https://calendly.com/{slug}"),
                        "timezone": u.extra_str("timezone").unwrap_or("America/Denver"),
                        "time_notation": "12h",
                        "avatar_url": null,
                        "created_at": created,
                        "updated_at": created,
                        "current_organization": format!("{base}/organizations/{}", org_of(u)),
                        "resource_type": "User",
                        "locale": "en",
                    } }),
                )
            }
            ("GET", p) if p.starts_with("users/") => {
                api_error(403, "Permission Denied", "You do not have permission to access this resource.")
            }
            _ => api_error(404, "Resource Not Found", "The server could not find the requested resource."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://localhost:47621/callback/calendly";

    fn fake(client_type: ClientType) -> Calendly {
        Calendly::new(CalendlyConfig {
            client_id: "cid".into(),
            client_secret: "sec".into(),
            redirect_uri: REDIRECT.into(),
            mode: Mode::Sandbox,
            client_type,
            access_ttl: 7200,
            token_rate_limit: 8,
            api_rate_limit: 500,
            pkce: PkcePolicy::Required,
        })
    }

    fn env(now: f64) -> Env {
        Env { now, base: "http://127.0.0.1:9".into() }
    }

    fn enc(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    fn basic() -> (String, String) {
        ("Authorization".into(), format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("cid:sec")))
    }

    fn post(c: &mut Calendly, now: f64, path: &str, body: &str, auth: bool) -> Resp {
        let mut headers = vec![("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string())];
        if auth {
            headers.push(basic());
        }
        c.handle(
            &env(now),
            &Req { method: "POST".into(), headers, body: body.as_bytes().to_vec(), ..Req::default() },
            path,
        )
    }

    fn code(c: &mut Calendly) -> String {
        let r = c.handle(
            &env(0.0),
            &Req {
                method: "GET".into(),
                query: format!(
                    "client_id=cid&response_type=code&redirect_uri={}&scope={}&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256",
                    enc(REDIRECT),
                    enc("users:read scheduled_events:read")
                ),
                ..Req::default()
            },
            "oauth/authorize",
        );
        assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
        let loc = r.header("Location").unwrap_or("").to_string();
        let p = Params::parse(loc.split_once('?').map(|x| x.1).unwrap_or("").as_bytes()).unwrap();
        assert_eq!(p.get("state"), Some("s"));
        p.get("code").unwrap_or("").to_string()
    }

    fn exchange_body(code: &str) -> String {
        format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(code),
            enc(REDIRECT)
        )
    }

    #[test]
    fn web_flow_with_basic_auth_and_single_use_refresh() {
        let mut c = fake(ClientType::Web);
        let code1 = code(&mut c);
        assert_eq!(
            post(
                &mut c,
                1.0,
                "oauth/token",
                &format!("{}&client_id=cid&client_secret=sec", exchange_body(&code1)),
                false
            )
            .status,
            401,
            "secret in body is not Basic"
        );
        let code2 = code(&mut c);
        let r = post(&mut c, 1.0, "oauth/token", &exchange_body(&code2), true);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json_value();
        assert_eq!(v["expires_in"], 7200);
        assert_eq!(v["created_at"], 1);
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["scope"], "users:read scheduled_events:read");
        assert_eq!(v["owner"], "http://127.0.0.1:9/calendly/api/users/EBHAAFHDCAEQTSEZ");
        assert_eq!(v["organization"], "http://127.0.0.1:9/calendly/api/organizations/FDFHA3EDQ2HHJVBM");
        let rt1 = v["refresh_token"].as_str().unwrap().to_string();
        let r2 = post(&mut c, 2.0, "oauth/token", &format!("grant_type=refresh_token&refresh_token={rt1}"), true)
            .json_value();
        let rt2 = r2["refresh_token"].as_str().unwrap();
        assert_ne!(rt1, rt2);
        let again = post(&mut c, 3.0, "oauth/token", &format!("grant_type=refresh_token&refresh_token={rt1}"), true);
        assert_eq!(again.status, 400);
        assert_eq!(again.json_value()["error"], "invalid_grant");

        // users/me
        let at = r2["access_token"].as_str().unwrap();
        let me = c.handle(
            &env(4.0),
            &Req {
                method: "GET".into(),
                headers: vec![("Authorization".into(), format!("Bearer {at}"))],
                ..Req::default()
            },
            "api/users/me",
        );
        assert_eq!(me.status, 200);
        assert_eq!(me.header("X-RateLimit-Limit"), Some("500"));
        let res = &me.json_value()["resource"];
        assert_eq!(res["uri"], "http://127.0.0.1:9/calendly/api/users/EBHAAFHDCAEQTSEZ");
        assert_eq!(res["current_organization"], "http://127.0.0.1:9/calendly/api/organizations/FDFHA3EDQ2HHJVBM");
        let bad = c.handle(
            &env(4.0),
            &Req {
                method: "GET".into(),
                headers: vec![("Authorization".into(), "Bearer nope".into())],
                ..Req::default()
            },
            "api/users/me",
        );
        assert_eq!(bad.status, 401);
        assert_eq!(bad.json_value(), json!({"title": "Unauthenticated", "message": "The access token is invalid"}));
    }

    #[test]
    fn native_client_sends_client_id_and_revoke_needs_the_secret() {
        let mut c = fake(ClientType::Native);
        let code = code(&mut c);
        let v =
            post(&mut c, 1.0, "oauth/token", &format!("{}&client_id=cid", exchange_body(&code)), false).json_value();
        let at = v["access_token"].as_str().unwrap().to_string();
        let rt = v["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(post(&mut c, 2.0, "oauth/revoke", &format!("client_id=cid&token={rt}"), false).status, 401);
        let intro =
            post(&mut c, 2.0, "oauth/introspect", &format!("client_id=cid&client_secret=sec&token={at}"), false)
                .json_value();
        assert_eq!(intro["active"], true);
        assert_eq!(
            post(&mut c, 2.0, "oauth/revoke", &format!("client_id=cid&client_secret=sec&token={rt}"), false).status,
            200
        );
        let intro =
            post(&mut c, 2.0, "oauth/introspect", &format!("client_id=cid&client_secret=sec&token={at}"), false)
                .json_value();
        assert_eq!(intro, json!({"active": false}));
    }

    #[test]
    fn ninth_token_request_within_a_minute_is_refused() {
        let mut c = fake(ClientType::Web);
        let code = code(&mut c);
        let mut rt = post(&mut c, 0.0, "oauth/token", &exchange_body(&code), true).json_value()["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
        for i in 1..8 {
            let r =
                post(&mut c, i as f64, "oauth/token", &format!("grant_type=refresh_token&refresh_token={rt}"), true);
            assert_eq!(r.status, 200, "request {}", i + 1);
            rt = r.json_value()["refresh_token"].as_str().unwrap().to_string();
        }
        let r = post(&mut c, 10.0, "oauth/token", &format!("grant_type=refresh_token&refresh_token={rt}"), true);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("X-RateLimit-Reset"), Some("50"));
        // The refused request did not spend the refresh token.
        assert_eq!(
            post(&mut c, 60.5, "oauth/token", &format!("grant_type=refresh_token&refresh_token={rt}"), true).status,
            200
        );
    }

    #[test]
    fn production_refuses_http_and_scopes_are_enforced() {
        let mut c = fake(ClientType::Web);
        c.cfg.mode = Mode::Production;
        let r = c.handle(
            &env(0.0),
            &Req {
                method: "GET".into(),
                query: format!("client_id=cid&response_type=code&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256", enc(REDIRECT)),
                ..Req::default()
            },
            "oauth/authorize",
        );
        assert_eq!(r.status, 400);
        assert!(r.header("Location").is_none());
        // An app granted no scopes gets no access.
        let mut c = fake(ClientType::Web);
        let r = c.handle(
            &env(0.0),
            &Req {
                method: "GET".into(),
                query: format!("client_id=cid&response_type=code&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256", enc(REDIRECT)),
                ..Req::default()
            },
            "oauth/authorize",
        );
        let loc = r.header("Location").unwrap().to_string();
        let code = Params::parse(loc.split_once('?').unwrap().1.as_bytes()).unwrap().get("code").unwrap().to_string();
        let at = post(&mut c, 1.0, "oauth/token", &exchange_body(&code), true).json_value()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let me = c.handle(
            &env(2.0),
            &Req {
                method: "GET".into(),
                headers: vec![("Authorization".into(), format!("Bearer {at}"))],
                ..Req::default()
            },
            "api/users/me",
        );
        assert_eq!(me.status, 403);
    }
}
