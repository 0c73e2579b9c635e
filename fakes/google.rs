//! Fake Google: OAuth for a Desktop client (any loopback port, secret required though not
//! confidential, S256 PKCE, no refresh-token rotation, revocation) and the API base standing
//! in for `https://www.googleapis.com` (`/oauth2/v3/userinfo`, and Calendar v3 in
//! `crate::calendar::google`).
//!
//! Paths under `/google`: `GET /o/oauth2/v2/auth`, `POST /token`, `POST /revoke`,
//! `/api/...` (the API base).

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use crate::core::{
    AtCheck, AuthCode, CodeError, Common, Consent, Env, PkceError, PkcePolicy, RtState, User, alnum, b64url, hex, jwt,
    oauth_error, pkce_from_authorize, rand_bytes, split_scope, urlsafe, verify_pkce, window_hit,
};
use crate::http::{Req, Resp, append_query};
use crate::redirect;

const USERINFO_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
const USERINFO_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";
/// Refresh tokens of apps in "Testing" die after 7 days.
const TESTING_RT_LIFETIME: i64 = 7 * 24 * 3600;

/// Scopes the fake's consent screen knows; anything else is `invalid_scope`.
const KNOWN_SCOPES: &[&str] = &[
    "openid",
    USERINFO_EMAIL,
    USERINFO_PROFILE,
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.calendarlist",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    "https://www.googleapis.com/auth/calendar.calendars",
    "https://www.googleapis.com/auth/calendar.calendars.readonly",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.app.created",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
];

#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub client_id: String,
    pub client_secret: String,
    pub access_ttl: i64,
    /// Live refresh tokens per account per client; a new one evicts the oldest.
    pub refresh_cap: usize,
    /// Consent screen in "Testing": refresh tokens expire after 7 days.
    pub testing_app: bool,
    pub pkce: PkcePolicy,
    /// Calendar API requests one user may make in any [`GoogleConfig::quota_window`] seconds
    /// (Google: 600 a minute per user per project, sliding); 0 for no limit.
    pub user_quota: usize,
    pub quota_window: f64,
}

pub struct Google {
    pub cfg: GoogleConfig,
    pub c: Common,
    /// Scopes the user unticks on the granular consent screen.
    pub untick: Vec<String>,
    /// Calendar API v3 data (`calendar/v3/...`).
    pub cal: crate::calendar::google::GoogleCal,
    /// Each user's recent Calendar API requests (the fake's clock), for the quota.
    quota_times: HashMap<String, VecDeque<f64>>,
    /// Which status the next over-quota answer has: Google sends 403 or 429 alike.
    quota_flip: bool,
}

pub fn default_user() -> User {
    User::new("107691503500061507151", "Pat Fake", Some("pat.fake@gmail.example"))
}

/// `email` and `profile` are granted under their long names.
fn normalize_scope(s: &str) -> String {
    match s {
        "email" => USERINFO_EMAIL.into(),
        "profile" => USERINFO_PROFILE.into(),
        other => other.into(),
    }
}

/// Google's error envelope. `item` is (message, reason) of `errors[0]`: a short message such
/// as "Invalid Credentials", while `message` is the long top-level one.
fn api_error(code: u16, status: &str, message: &str, item: (&str, &str), extra: Map<String, Value>) -> Value {
    let (item_message, reason) = item;
    let mut item = Map::new();
    item.insert("message".into(), json!(item_message));
    item.insert("domain".into(), json!("global"));
    item.insert("reason".into(), json!(reason));
    item.extend(extra);
    json!({ "error": { "code": code, "message": message, "errors": [item], "status": status } })
}

impl Google {
    pub fn new(cfg: GoogleConfig) -> Google {
        let c = Common::new(default_user(), Some(&cfg.client_secret));
        Google {
            cfg,
            c,
            untick: Vec::new(),
            cal: crate::calendar::google::GoogleCal::new(Default::default()),
            quota_times: HashMap::new(),
            quota_flip: false,
        }
    }

    /// Google's per-user quota (quota guide: 600 requests a minute per user per project,
    /// sliding): a Calendar API request over it is not carried out and gets 403 or 429
    /// `rateLimitExceeded` (alternately: Google documents both), without `Retry-After`. Refused
    /// requests are not counted against the window (whether Google counts them is undocumented).
    fn over_quota(&mut self, env: &Env, user: &str) -> Option<Resp> {
        if self.cfg.user_quota == 0 {
            return None;
        }
        let times = self.quota_times.entry(user.to_string()).or_default();
        window_hit(times, env.now, self.cfg.quota_window, self.cfg.user_quota).err()?;
        self.c.stats.rate_limited += 1;
        self.quota_flip = !self.quota_flip;
        let code = if self.quota_flip { 403 } else { 429 };
        Some(crate::calendar::google::gerr(code, "usageLimits", Some("rateLimitExceeded"), "Rate Limit Exceeded"))
    }

    pub fn handle(&mut self, env: &Env, req: &Req, rest: &str) -> Resp {
        match (req.method.as_str(), rest) {
            ("GET", "o/oauth2/v2/auth") => self.authorize(env, req),
            ("POST", "token") => self.token(env, req),
            ("POST", "revoke") => self.revoke(env, req),
            (_, r) if r.starts_with("api/") => self.api(env, req, &r["api/".len()..]),
            (_, "o/oauth2/v2/auth" | "token" | "revoke") => {
                Resp::json(405, &oauth_error("invalid_request", "Method not allowed"))
            }
            _ => Resp::json(404, &json!({"error": "not_found"})),
        }
    }

    // ---------- authorize ----------

    fn authorize(&mut self, env: &Env, req: &Req) -> Resp {
        self.c.stats.authorize_requests += 1;
        let q = match req.query_params() {
            Ok(q) => q,
            Err(dup) => {
                return self
                    .page("Error 400: invalid_request", &format!("Parameter not allowed to be repeated: {dup}"));
            }
        };
        match q.get("client_id") {
            None => {
                return self.page("Error 400: invalid_request", "Missing required parameter: client_id");
            }
            Some(id) if id != self.cfg.client_id => {
                return self.page("Error 401: invalid_client", "The OAuth client was not found.");
            }
            Some(_) => {}
        }
        let Some(redirect_uri) = q.get("redirect_uri") else {
            return self.page("Error 400: invalid_request", "Missing required parameter: redirect_uri");
        };
        if let Err(e) = redirect::google_desktop(redirect_uri) {
            return self.page("Error 400: redirect_uri_mismatch", &e);
        }
        match q.get("response_type") {
            Some("code") => {}
            None => {
                return self.page("Error 400: invalid_request", "Required parameter is missing: response_type");
            }
            Some(other) => {
                return self.page("Error 400: invalid_request", &format!("Invalid response_type: {other}"));
            }
        }
        let Some(scope) = q.get("scope") else {
            return self.page("Error 400: invalid_request", "Missing required parameter: scope");
        };
        let requested: Vec<String> = split_scope(scope).iter().map(|s| normalize_scope(s)).collect();
        let invalid: Vec<&String> = requested.iter().filter(|s| !KNOWN_SCOPES.contains(&s.as_str())).collect();
        if !invalid.is_empty() || requested.is_empty() {
            let list: Vec<&str> = invalid.iter().map(|s| s.as_str()).collect();
            return self.page(
                "Error 400: invalid_scope",
                &format!("Some requested scopes were invalid. {{invalid=[{}]}}", list.join(", ")),
            );
        }
        let state = q.get("state");
        let pkce = match pkce_from_authorize(q.get("code_challenge"), q.get("code_challenge_method")) {
            Ok(p) => p,
            Err(e) => return self.page("Error 400: invalid_request", &e),
        };
        if let Err(e) = self.cfg.pkce.check(pkce.as_ref()) {
            return self.page("Error 400: invalid_request", &e);
        }
        let with_state = |mut pairs: Vec<(&'static str, String)>| {
            if let Some(s) = state {
                pairs.push(("state", s.to_string()));
            }
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            append_query(redirect_uri, &refs)
        };
        if self.c.consent == Consent::Deny {
            self.c.stats.authorize_denied += 1;
            return Resp::redirect(&with_state(vec![("error", "access_denied".into())]));
        }
        let granted: Vec<String> = requested.into_iter().filter(|s| !self.untick.contains(s)).collect();
        let code = format!("4/0A{}", urlsafe(86));
        self.c.issued.code(&code);
        self.c.store.codes.insert(
            code.clone(),
            AuthCode {
                client_id: self.cfg.client_id.clone(),
                redirect_uri: redirect_uri.to_string(),
                pkce,
                scope: granted.clone(),
                user: self.c.user.clone(),
                nonce: q.get("nonce").map(Into::into),
                issued_at: env.now_secs(),
                used: false,
            },
        );
        self.c.stats.authorize_approved += 1;
        Resp::redirect(&with_state(vec![
            ("code", code),
            ("scope", granted.join(" ")),
            ("authuser", "0".into()),
            ("prompt", "consent".into()),
        ]))
    }

    fn page(&mut self, title: &str, detail: &str) -> Resp {
        self.c.stats.authorize_errors += 1;
        Resp::html(400, title, detail)
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
        let form = match (req.is_form(), req.form()) {
            (true, Ok(f)) => f,
            _ => {
                self.c.count_token_request(None);
                return self.token_error(
                    400,
                    "invalid_request",
                    "Invalid request: the body must be application/x-www-form-urlencoded.",
                );
            }
        };
        let grant_type = form.get("grant_type");
        self.c.count_token_request(grant_type);
        if let Some(v) = form.get("code_verifier") {
            self.c.issued.verifier(v);
        }
        // client_secret_post or client_secret_basic.
        let (client_id, secret) = match req.basic() {
            Some(Ok((id, s))) => (Some(id), Some(s)),
            Some(Err(())) => return self.token_error(401, "invalid_client", "Unauthorized"),
            None => (form.get("client_id").map(String::from), form.get("client_secret").map(String::from)),
        };
        if let Some(s) = &secret {
            self.c.issued.secret(s);
        }
        match client_id.as_deref() {
            None => {
                return self.token_error(400, "invalid_request", "Could not determine client ID from request.");
            }
            Some(id) if id != self.cfg.client_id => {
                return self.token_error(401, "invalid_client", "The OAuth client was not found.");
            }
            Some(_) => {}
        }
        match secret.as_deref() {
            None | Some("") => {
                return self.token_error(400, "invalid_request", "client_secret is missing.");
            }
            Some(s) if s != self.cfg.client_secret => {
                return self.token_error(401, "invalid_client", "Unauthorized");
            }
            Some(_) => {}
        }
        let now = env.now_secs();
        match grant_type {
            Some("authorization_code") => self.exchange_code(&form, now),
            Some("refresh_token") => {
                let r = self.refresh(&form, now);
                if r.status == 200 {
                    self.c.stats.refresh_ok += 1;
                } else {
                    self.c.stats.refresh_failed += 1;
                }
                r
            }
            None => self.token_error(400, "unsupported_grant_type", "Invalid grant_type: "),
            Some(other) => self.token_error(400, "unsupported_grant_type", &format!("Invalid grant_type: {other}")),
        }
    }

    fn exchange_code(&mut self, form: &crate::http::Params, now: i64) -> Resp {
        let Some(code) = form.get("code") else {
            return self.token_error(400, "invalid_request", "Missing required parameter: code");
        };
        let c = match self.c.store.take_code(code, now) {
            Ok(c) => c,
            Err(CodeError::Unknown) => {
                return self.token_error(400, "invalid_grant", "Malformed auth code.");
            }
            Err(CodeError::Used | CodeError::Expired) => {
                return self.token_error(400, "invalid_grant", "Bad Request");
            }
        };
        let Some(redirect_uri) = form.get("redirect_uri") else {
            return self.token_error(400, "invalid_request", "Missing parameter: redirect_uri");
        };
        if redirect_uri != c.redirect_uri {
            return self.token_error(400, "redirect_uri_mismatch", "Bad Request");
        }
        match verify_pkce(c.pkce.as_ref(), form.get("code_verifier")) {
            Ok(()) => {}
            Err(PkceError::Missing) => {
                return self.token_error(400, "invalid_grant", "Missing code verifier.");
            }
            Err(PkceError::Unexpected) => {
                return self.token_error(400, "invalid_request", "code_verifier or verifier is not needed.");
            }
            Err(PkceError::Malformed | PkceError::Mismatch) => {
                return self.token_error(400, "invalid_grant", "Invalid code verifier.");
            }
        }
        let grant = self.c.store.new_grant(c.user.clone(), &self.cfg.client_id, c.scope.clone(), now);
        let mut body = self.access_response(grant, &c.user, &c.scope, c.nonce.as_deref(), now);
        let rt = format!("1//0{}", urlsafe(99));
        self.c.store.add_refresh(&rt, grant, now);
        self.c.issued.refresh(&rt);
        self.enforce_refresh_cap(&c.user.id);
        body.insert("refresh_token".into(), json!(rt));
        self.c.stats.code_exchanges_ok += 1;
        Resp::json(200, &Value::Object(body))
    }

    /// At most `refresh_cap` live refresh tokens per account: the oldest silently dies.
    fn enforce_refresh_cap(&mut self, user_id: &str) {
        let store = &mut self.c.store;
        let mut live: Vec<(i64, u64, String)> = store
            .refresh
            .iter()
            .filter(|(_, r)| r.state == RtState::Active)
            .filter(|(_, r)| store.grants.get(&r.grant).is_some_and(|g| g.user.id == user_id && g.revoked.is_none()))
            .map(|(t, r)| (r.issued_at, r.grant, t.clone()))
            .collect();
        if live.len() <= self.cfg.refresh_cap {
            return;
        }
        live.sort();
        let excess = live.len() - self.cfg.refresh_cap;
        for (_, _, t) in live.into_iter().take(excess) {
            if let Some(r) = store.refresh.get_mut(&t) {
                r.state = RtState::Dead;
            }
        }
    }

    fn refresh(&mut self, form: &crate::http::Params, now: i64) -> Resp {
        let Some(rt) = form.get("refresh_token") else {
            return self.token_error(400, "invalid_request", "Missing required parameter: refresh_token");
        };
        let expired_or_revoked = "Token has been expired or revoked.";
        let Some(record) = self.c.store.refresh.get(rt).cloned() else {
            return self.token_error(400, "invalid_grant", "Bad Request");
        };
        let Some(grant) = self.c.store.grant(record.grant).cloned() else {
            return self.token_error(400, "invalid_grant", "Bad Request");
        };
        if grant.client_id != self.cfg.client_id {
            return self.token_error(401, "unauthorized_client", "Unauthorized");
        }
        let testing_expired = self.cfg.testing_app && now - record.issued_at >= TESTING_RT_LIFETIME;
        if record.state != RtState::Active || grant.revoked.is_some() || testing_expired {
            return self.token_error(400, "invalid_grant", expired_or_revoked);
        }
        let mut scope = grant.scope.clone();
        if let Some(s) = form.get("scope") {
            let asked: Vec<String> = split_scope(s).iter().map(|x| normalize_scope(x)).collect();
            if asked.iter().any(|x| !grant.scope.contains(x)) {
                return self.token_error(400, "invalid_scope", "Some requested scopes were invalid.");
            }
            scope = asked;
        }
        if let Some(r) = self.c.store.refresh.get_mut(rt) {
            r.last_used = now;
        }
        let body = self.access_response(record.grant, &grant.user, &scope, None, now);
        Resp::json(200, &Value::Object(body))
    }

    /// `access_token`, `expires_in`, `scope`, `token_type` and, with `openid`, `id_token`.
    fn access_response(
        &mut self,
        grant: u64,
        user: &User,
        scope: &[String],
        nonce: Option<&str>,
        now: i64,
    ) -> Map<String, Value> {
        let at = format!("ya29.a0{}", urlsafe(180));
        self.c.store.add_access(&at, grant, now, self.cfg.access_ttl);
        self.c.issued.access(&at);
        let mut body = Map::new();
        body.insert("access_token".into(), json!(at));
        body.insert("expires_in".into(), json!(self.cfg.access_ttl));
        body.insert("scope".into(), json!(scope.join(" ")));
        body.insert("token_type".into(), json!("Bearer"));
        if scope.iter().any(|s| s == "openid") {
            let mut claims = json!({
                "iss": "https://accounts.google.com",
                "azp": self.cfg.client_id,
                "aud": self.cfg.client_id,
                "sub": user.id,
                "at_hash": b64url(&rand_bytes(16)),
                "iat": now,
                "exp": now + 3599,
            });
            if scope.iter().any(|s| s == USERINFO_EMAIL) {
                claims["email"] = json!(user.email);
                claims["email_verified"] = json!(true);
            }
            if scope.iter().any(|s| s == USERINFO_PROFILE) {
                claims["name"] = json!(user.name);
            }
            if let Some(n) = nonce {
                claims["nonce"] = json!(n);
            }
            let id_token = jwt(&json!({"alg": "RS256", "kid": hex(&rand_bytes(20)), "typ": "JWT"}), &claims);
            self.c.issued.id_token(&id_token);
            body.insert("id_token".into(), json!(id_token));
        }
        body
    }

    // ---------- revoke ----------

    fn revoke(&mut self, _env: &Env, req: &Req) -> Resp {
        self.c.stats.revocations += 1;
        let from_query = req.query_params().ok().and_then(|q| q.get("token").map(String::from));
        let from_body =
            if req.is_form() { req.form().ok().and_then(|f| f.get("token").map(String::from)) } else { None };
        let Some(token) = from_query.or(from_body) else {
            return Resp::json(400, &oauth_error("invalid_request", "Bad Request"));
        };
        let store = &mut self.c.store;
        let grant = if let Some(at) = store.access.get(&token).filter(|a| !a.revoked) {
            Some(at.grant)
        } else {
            store.refresh.get(&token).filter(|r| r.state != RtState::Dead).map(|r| r.grant)
        };
        match grant.filter(|g| store.grant(*g).is_some_and(|g| g.revoked.is_none())) {
            Some(g) => {
                // Revoking either token revokes the grant: the access token and its refresh token.
                store.revoke_grant(g, "revoked");
                Resp::json(200, &json!({}))
            }
            None => Resp::json(400, &oauth_error("invalid_token", "Token expired or revoked")),
        }
    }

    // ---------- API ----------

    fn api(&mut self, env: &Env, req: &Req, path: &str) -> Resp {
        self.c.stats.api_calls += 1;
        let grant = match req.bearer() {
            None => {
                let mut extra = Map::new();
                extra.insert("location".into(), json!("Authorization"));
                extra.insert("locationType".into(), json!("header"));
                return self.unauthorized(api_error(
                    401,
                    "UNAUTHENTICATED",
                    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                    ("Login Required.", "required"),
                    extra,
                ));
            }
            Some(t) => match self.c.store.check_access(t, env.now_secs()) {
                AtCheck::Valid(g) => g,
                _ => {
                    let mut extra = Map::new();
                    extra.insert("location".into(), json!("Authorization"));
                    extra.insert("locationType".into(), json!("header"));
                    return self.unauthorized(api_error(
                        401,
                        "UNAUTHENTICATED",
                        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                        ("Invalid Credentials", "authError"),
                        extra,
                    ));
                }
            },
        };
        let Some(g) = self.c.store.grant(grant).cloned() else {
            return Resp::json(
                500,
                &api_error(500, "INTERNAL", "Backend Error", ("Backend Error", "backendError"), Map::new()),
            );
        };
        if let Some(rest) = path.strip_prefix("calendar/v3/") {
            if let Some(over) = self.over_quota(env, &g.user.id) {
                return over;
            }
            return self.cal.handle(&mut self.c.stats, env, req, rest, &g);
        }
        match (req.method.as_str(), path) {
            ("GET" | "POST", "oauth2/v3/userinfo") => {
                let has = |s: &str| g.scope.iter().any(|x| x == s);
                if !has("openid") && !has(USERINFO_EMAIL) && !has(USERINFO_PROFILE) {
                    return insufficient_scope();
                }
                let mut info = Map::new();
                info.insert("sub".into(), json!(g.user.id));
                if has(USERINFO_PROFILE) {
                    info.insert("name".into(), json!(g.user.name));
                    info.insert(
                        "picture".into(),
                        json!(format!("https://lh3.googleusercontent.example/a/{}", alnum(20))),
                    );
                }
                if has(USERINFO_EMAIL) {
                    info.insert("email".into(), json!(g.user.email));
                    info.insert("email_verified".into(), json!(true));
                }
                Resp::json(200, &Value::Object(info))
            }
            _ => Resp::json(404, &api_error(404, "NOT_FOUND", "Not Found", ("Not Found", "notFound"), Map::new())),
        }
    }

    fn unauthorized(&mut self, body: Value) -> Resp {
        self.c.stats.unauthorized += 1;
        Resp::json(401, &body)
            .with_header("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"")
    }
}

fn insufficient_scope() -> Resp {
    Resp::json(
        403,
        &api_error(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            ("Insufficient Permission", "insufficientPermissions"),
            Map::new(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jwt_payload;
    use crate::http::Params;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:53682/callback/google";

    fn fake() -> Google {
        Google::new(GoogleConfig {
            client_id: "gid.apps.googleusercontent.com".into(),
            client_secret: "GOCSPX-sec".into(),
            access_ttl: 3599,
            refresh_cap: 100,
            testing_app: false,
            pkce: PkcePolicy::Required,
            user_quota: 600,
            quota_window: 60.0,
        })
    }

    #[test]
    fn the_per_user_quota_slides_and_answers_403_or_429_without_retry_after() {
        let mut g = fake();
        g.cfg.user_quota = 3;
        for t in [0.0, 10.0, 20.0] {
            assert!(g.over_quota(&env(t), "u1").is_none());
        }
        let statuses: Vec<u16> = [30.0, 40.0].iter().map(|t| g.over_quota(&env(*t), "u1").unwrap().status).collect();
        assert_eq!(statuses, [403, 429]);
        let over = g.over_quota(&env(59.9), "u1").unwrap();
        assert!(String::from_utf8_lossy(&over.body).contains("rateLimitExceeded"));
        assert!(!over.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("retry-after")));
        // Another user has a window of their own; the first request leaves the window at 60 s.
        assert!(g.over_quota(&env(40.0), "u2").is_none());
        assert!(g.over_quota(&env(60.0), "u1").is_none());
        assert!(g.over_quota(&env(60.5), "u1").is_some());
        assert_eq!(g.c.stats.rate_limited, 4);
        g.cfg.user_quota = 0;
        assert!(g.over_quota(&env(60.5), "u1").is_none());
    }

    fn env(now: f64) -> Env {
        Env { now, base: "http://127.0.0.1:1".into() }
    }

    fn enc(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    fn form(body: &str) -> Req {
        Req {
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
            body: body.as_bytes().to_vec(),
            ..Req::default()
        }
    }

    fn authorize(g: &mut Google, scope: &str) -> Resp {
        g.authorize(
            &env(0.0),
            &Req {
                method: "GET".into(),
                query: format!(
                    "client_id=gid.apps.googleusercontent.com&redirect_uri={}&response_type=code&scope={}&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256&access_type=offline&prompt=consent",
                    enc(REDIRECT),
                    enc(scope)
                ),
                ..Req::default()
            },
        )
    }

    fn code_of(r: &Resp) -> String {
        let loc = r.header("Location").unwrap_or("");
        let p = Params::parse(loc.split_once('?').map(|x| x.1).unwrap_or("").as_bytes()).unwrap();
        p.get("code").unwrap_or("").to_string()
    }

    fn exchange(g: &mut Google, code: &str, extra: &str) -> Resp {
        g.token(
            &env(1.0),
            &form(&format!(
                "grant_type=authorization_code&code={}&redirect_uri={}&client_id=gid.apps.googleusercontent.com{extra}",
                enc(code),
                enc(REDIRECT)
            )),
        )
    }

    #[test]
    fn full_flow_with_id_token_and_no_rotation() {
        let mut g = fake();
        let r = authorize(&mut g, "openid email https://www.googleapis.com/auth/calendar.readonly");
        assert_eq!(r.status, 302);
        let loc = r.header("Location").unwrap().to_string();
        assert!(loc.starts_with(&format!("{REDIRECT}?code=4%2F0A")), "{loc}");
        assert!(loc.contains("state=st"));
        let code = code_of(&r);
        let t = exchange(&mut g, &code, &format!("&client_secret=GOCSPX-sec&code_verifier={VERIFIER}"));
        assert_eq!(t.status, 200, "{}", String::from_utf8_lossy(&t.body));
        let v = t.json_value();
        assert!(v["access_token"].as_str().unwrap().starts_with("ya29."));
        assert!(v["refresh_token"].as_str().unwrap().starts_with("1//"));
        assert_eq!(v["expires_in"], 3599);
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(
            v["scope"],
            "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.readonly"
        );
        let claims = jwt_payload(v["id_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["sub"], "107691503500061507151");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(claims["aud"], "gid.apps.googleusercontent.com");

        let rt = v["refresh_token"].as_str().unwrap().to_string();
        let body = format!(
            "grant_type=refresh_token&refresh_token={}&client_id=gid.apps.googleusercontent.com&client_secret=GOCSPX-sec",
            enc(&rt)
        );
        for _ in 0..2 {
            let r = g.token(&env(2.0), &form(&body)).json_value();
            assert!(r.get("refresh_token").is_none());
            assert!(r["access_token"].as_str().unwrap().starts_with("ya29."));
        }
        // userinfo
        let at = v["access_token"].as_str().unwrap();
        let api = Req {
            method: "GET".into(),
            headers: vec![("Authorization".into(), format!("Bearer {at}"))],
            ..Req::default()
        };
        let u = g.api(&env(3.0), &api, "oauth2/v3/userinfo").json_value();
        assert_eq!(
            u,
            json!({"sub": "107691503500061507151", "email": "pat.fake@gmail.example", "email_verified": true})
        );
        let expired = g.api(&env(1.0 + 3599.0), &api, "oauth2/v3/userinfo");
        assert_eq!(expired.status, 401);
        assert_eq!(expired.json_value()["error"]["errors"][0]["reason"], "authError");
        assert_eq!(expired.json_value()["error"]["status"], "UNAUTHENTICATED");
    }

    #[test]
    fn missing_secret_and_pkce_errors() {
        let mut g = fake();
        let code = code_of(&authorize(&mut g, "openid"));
        let r = exchange(&mut g, &code, &format!("&code_verifier={VERIFIER}"));
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json_value(),
            json!({"error": "invalid_request", "error_description": "client_secret is missing."})
        );
        let code = code_of(&authorize(&mut g, "openid"));
        let r = exchange(&mut g, &code, "&client_secret=GOCSPX-sec");
        assert_eq!(r.json_value()["error_description"], "Missing code verifier.");
        let code = code_of(&authorize(&mut g, "openid"));
        let r = exchange(&mut g, &code, &format!("&client_secret=GOCSPX-sec&code_verifier={}", "a".repeat(43)));
        assert_eq!(r.json_value()["error_description"], "Invalid code verifier.");
        let code = code_of(&authorize(&mut g, "openid"));
        let r = exchange(&mut g, &code, &format!("&client_secret=wrong&code_verifier={VERIFIER}"));
        assert_eq!(r.status, 401);
    }

    #[test]
    fn authorize_rules() {
        let mut g = fake();
        assert_eq!(authorize(&mut g, "openid bogus.scope").status, 400);
        g.c.consent = Consent::Deny;
        let r = authorize(&mut g, "openid");
        assert_eq!(r.header("Location"), Some(format!("{REDIRECT}?error=access_denied&state=st").as_str()));
        g.c.consent = Consent::Approve;
        // No PKCE under the default policy.
        let r = g.authorize(
            &env(0.0),
            &Req {
                method: "GET".into(),
                query: format!(
                    "client_id=gid.apps.googleusercontent.com&redirect_uri={}&response_type=code&scope=openid",
                    enc(REDIRECT)
                ),
                ..Req::default()
            },
        );
        assert_eq!(r.status, 400);
        // Unticked scopes are not granted.
        g.untick = vec!["https://www.googleapis.com/auth/calendar.readonly".into()];
        let code = code_of(&authorize(&mut g, "openid https://www.googleapis.com/auth/calendar.readonly"));
        let v = exchange(&mut g, &code, &format!("&client_secret=GOCSPX-sec&code_verifier={VERIFIER}")).json_value();
        assert_eq!(v["scope"], "openid");
    }

    #[test]
    fn revoke_kills_access_and_refresh_together() {
        let mut g = fake();
        let code = code_of(&authorize(&mut g, "openid"));
        let v = exchange(&mut g, &code, &format!("&client_secret=GOCSPX-sec&code_verifier={VERIFIER}")).json_value();
        let at = v["access_token"].as_str().unwrap();
        let rt = v["refresh_token"].as_str().unwrap();
        let rev = |g: &mut Google, t: &str| {
            g.revoke(
                &env(2.0),
                &Req {
                    method: "POST".into(),
                    query: format!("token={}", enc(t)),
                    headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
                    ..Req::default()
                },
            )
        };
        assert_eq!(rev(&mut g, at).status, 200);
        assert_eq!(rev(&mut g, at).status, 400);
        assert_eq!(rev(&mut g, rt).status, 400, "the refresh token died with it");
        let body = format!(
            "grant_type=refresh_token&refresh_token={}&client_id=gid.apps.googleusercontent.com&client_secret=GOCSPX-sec",
            enc(rt)
        );
        let r = g.token(&env(3.0), &form(&body));
        assert_eq!(
            r.json_value(),
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        );
    }

    #[test]
    fn refresh_token_cap_and_testing_expiry() {
        let mut g = fake();
        g.cfg.refresh_cap = 1;
        g.cfg.testing_app = true;
        let mut rts = vec![];
        for _ in 0..2 {
            let code = code_of(&authorize(&mut g, "openid"));
            let v =
                exchange(&mut g, &code, &format!("&client_secret=GOCSPX-sec&code_verifier={VERIFIER}")).json_value();
            rts.push(v["refresh_token"].as_str().unwrap().to_string());
        }
        let body = |rt: &str| {
            format!(
                "grant_type=refresh_token&refresh_token={}&client_id=gid.apps.googleusercontent.com&client_secret=GOCSPX-sec",
                enc(rt)
            )
        };
        assert_eq!(g.token(&env(5.0), &form(&body(&rts[0]))).status, 400, "evicted by the cap");
        assert_eq!(g.token(&env(5.0), &form(&body(&rts[1]))).status, 200);
        assert_eq!(g.token(&env(1.0 + 7.0 * 86400.0), &form(&body(&rts[1]))).status, 400, "7-day testing expiry");
    }
}
