//! Fake Microsoft identity platform v2.0 (public desktop client: no secret ever, PKCE,
//! port-ignoring loopback redirects, `offline_access` for refresh tokens, random 60–90 min
//! access tokens, a new refresh token per refresh) and Microsoft Graph (`/me`; calendars in
//! `crate::calendar::graph`).
//!
//! Paths under `/microsoft`: `GET /{tenant}/oauth2/v2.0/authorize`,
//! `POST /{tenant}/oauth2/v2.0/token`, `/graph/v1.0/...` (the Graph base).

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::core::{
    AtCheck, AuthCode, CodeError, Common, Consent, Env, PkceError, PkcePolicy, RtState, User, b64url, hex, jwt,
    pkce_from_authorize, rand_bytes, rfc3339, split_scope, urlsafe, uuid4, verify_pkce,
};
use crate::http::{Params, Req, Resp, append_query};
use crate::redirect;

const GRAPH: &str = "https://graph.microsoft.com/";
/// The tenant of personal Microsoft accounts.
pub const MSA_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
/// Refresh tokens die after 90 days without use.
const RT_IDLE: i64 = 90 * 24 * 3600;
const OIDC: &[&str] = &["openid", "profile", "email", "offline_access"];
const GRAPH_SCOPES: &[&str] = &[
    "User.Read",
    "User.ReadBasic.All",
    "Calendars.Read",
    "Calendars.ReadBasic",
    "Calendars.Read.Shared",
    "Calendars.ReadWrite",
    "Calendars.ReadWrite.Shared",
    ".default",
];

/// What happens to the previous refresh token after a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OldRefresh {
    /// Documented behaviour: not revoked.
    KeepOld,
    /// Stricter: the previous one stops working.
    RevokeOld,
}

#[derive(Debug, Clone)]
pub struct MicrosoftConfig {
    pub client_id: String,
    pub tenant: String,
    pub redirect_path: String,
    /// Fixed access-token lifetime; `None` = random 3600–5400 s.
    pub access_ttl: Option<i64>,
    pub pkce: PkcePolicy,
}

pub struct Microsoft {
    pub cfg: MicrosoftConfig,
    pub old_refresh: OldRefresh,
    pub c: Common,
    /// Graph calendars and `calendarView/delta`.
    pub cal: crate::calendar::graph::GraphCal,
}

pub fn default_user() -> User {
    let mut u = User::new("3f1b6c1e-8a5d-4c3e-9b7a-2d4e6f8a0b1c", "Morgan Fake", Some("morgan@fakecontoso.example"));
    u.extra.insert("tenant_id".into(), json!("9c1e5b2a-7d3f-4e8a-b6c0-1a2b3c4d5e6f"));
    u
}

/// The user's tenant id: personal accounts live in the MSA tenant.
fn tid(u: &User) -> String {
    if u.extra_bool("personal") {
        return MSA_TENANT.into();
    }
    u.extra_str("tenant_id").unwrap_or("9c1e5b2a-7d3f-4e8a-b6c0-1a2b3c4d5e6f").to_string()
}

fn upn(u: &User) -> String {
    u.extra_str("user_principal_name")
        .map(String::from)
        .or_else(|| u.email.clone())
        .unwrap_or_else(|| format!("{}@fakecontoso.onmicrosoft.example", u.id))
}

/// `mail` is null for personal accounts (and when the user has no mailbox address).
fn mail(u: &User) -> Value {
    if u.extra_bool("personal") { Value::Null } else { json!(u.email) }
}

/// Canonical form of a scope: Graph scopes as `https://graph.microsoft.com/X`, OIDC bare.
/// `None` for a scope the fake does not know.
fn canonical_scope(s: &str) -> Option<String> {
    if let Some(o) = OIDC.iter().find(|o| o.eq_ignore_ascii_case(s)) {
        return Some((*o).to_string());
    }
    let bare = match (s.get(..GRAPH.len()), s.get(GRAPH.len()..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case(GRAPH) && !rest.is_empty() => rest,
        _ => s,
    };
    GRAPH_SCOPES.iter().find(|g| g.eq_ignore_ascii_case(bare)).map(|g| format!("{GRAPH}{g}"))
}

/// The `scope` of a token response: the Graph scopes only (the documented sample).
fn resource_scopes(scope: &[String]) -> Vec<String> {
    let mut v: Vec<String> = scope.iter().filter(|s| s.starts_with(GRAPH)).cloned().collect();
    if v.is_empty() {
        v.push(format!("{GRAPH}User.Read"));
    }
    v
}

fn aad_error(status: u16, error: &str, code: u32, message: &str, now: i64) -> Resp {
    let trace = uuid4();
    let corr = uuid4();
    let ts = rfc3339(now).replace('T', " ");
    Resp::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn graph_error(status: u16, code: &str, message: &str, now: i64) -> Resp {
    let date = rfc3339(now).trim_end_matches('Z').to_string();
    Resp::json(
        status,
        &json!({ "error": { "code": code, "message": message, "innerError": {
            "date": date, "request-id": uuid4(), "client-request-id": uuid4() } } }),
    )
}

impl Microsoft {
    pub fn new(cfg: MicrosoftConfig, old_refresh: OldRefresh) -> Microsoft {
        Microsoft {
            cfg,
            old_refresh,
            c: Common::new(default_user(), None),
            cal: crate::calendar::graph::GraphCal::new(Default::default()),
        }
    }

    pub fn handle(&mut self, env: &Env, req: &Req, rest: &str) -> Resp {
        if let Some(p) = rest.strip_prefix("graph/v1.0/") {
            return self.graph(env, req, p);
        }
        let Some((tenant, endpoint)) = rest.split_once('/') else {
            return Resp::json(404, &json!({"error": "not_found"}));
        };
        let now = env.now_secs();
        match (req.method.as_str(), endpoint) {
            ("GET", "oauth2/v2.0/authorize") => {
                if tenant != self.cfg.tenant {
                    self.c.stats.authorize_requests += 1;
                    return self.page(&format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
                }
                self.authorize(env, req)
            }
            ("POST", "oauth2/v2.0/token") => {
                if tenant != self.cfg.tenant {
                    self.c.count_token_request(None);
                    self.c.stats.token_errors += 1;
                    return aad_error(400, "invalid_request", 90002, &format!("Tenant '{tenant}' not found."), now);
                }
                self.token(env, req)
            }
            (_, "oauth2/v2.0/authorize" | "oauth2/v2.0/token") => Resp::json(405, &json!({"error": "invalid_request"})),
            _ => Resp::json(404, &json!({"error": "not_found"})),
        }
    }

    fn page(&mut self, detail: &str) -> Resp {
        self.c.stats.authorize_errors += 1;
        Resp::html(400, "Sign in to your account", detail)
    }

    // ---------- authorize ----------

    fn authorize(&mut self, env: &Env, req: &Req) -> Resp {
        self.c.stats.authorize_requests += 1;
        let q = match req.query_params() {
            Ok(q) => q,
            Err(dup) => {
                return self.page(&format!(
                    "AADSTS90015: Requested query string is too long or a parameter is duplicated: '{dup}'."
                ));
            }
        };
        match q.get("client_id") {
            None => {
                return self.page("AADSTS900144: The request body must contain the following parameter: 'client_id'.");
            }
            Some(id) if id != self.cfg.client_id => {
                return self.page(&format!(
                    "AADSTS700016: Application with identifier '{id}' was not found in the directory '{}'.",
                    self.cfg.tenant
                ));
            }
            Some(_) => {}
        }
        let Some(given) = q.get("redirect_uri") else {
            return self.page("AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.");
        };
        let redirect_uri = match redirect::microsoft(&self.cfg.redirect_path, given) {
            Ok(r) => r,
            Err(e) => return self.page(&e),
        };
        let state = q.get("state");
        let now = env.now_secs();
        let back = |pairs: &[(&str, &str)]| {
            let mut v: Vec<(&str, &str)> = pairs.to_vec();
            if let Some(s) = state {
                v.push(("state", s));
            }
            Resp::redirect(&append_query(&redirect_uri, &v))
        };
        let fail = |stats: &mut crate::core::Stats, error: &str, desc: String| {
            stats.authorize_errors += 1;
            let ts = rfc3339(now).replace('T', " ");
            let d = format!("{desc}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {ts}", uuid4(), uuid4());
            back(&[("error", error), ("error_description", &d)])
        };
        match q.get("response_type") {
            Some("code") => {}
            None => {
                return fail(
                    &mut self.c.stats,
                    "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'response_type'.".into(),
                );
            }
            Some(other) => {
                return fail(
                    &mut self.c.stats,
                    "unsupported_response_type",
                    format!("AADSTS700054: response_type '{other}' is not enabled for the application."),
                );
            }
        }
        if let Some(mode) = q.get("response_mode")
            && mode != "query"
        {
            return fail(
                &mut self.c.stats,
                "invalid_request",
                format!("AADSTS900144: response_mode '{mode}' is not supported by this fake; use query."),
            );
        }
        let Some(scope) = q.get("scope") else {
            return fail(
                &mut self.c.stats,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'scope'.".into(),
            );
        };
        let mut granted = Vec::new();
        for s in split_scope(scope) {
            match canonical_scope(&s) {
                Some(c) => {
                    if !granted.contains(&c) {
                        granted.push(c)
                    }
                }
                None => {
                    return fail(
                        &mut self.c.stats,
                        "invalid_scope",
                        format!(
                            "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '{s}' is not valid."
                        ),
                    );
                }
            }
        }
        let pkce = match pkce_from_authorize(q.get("code_challenge"), q.get("code_challenge_method")) {
            Ok(p) => p,
            Err(e) => {
                return fail(&mut self.c.stats, "invalid_request", format!("AADSTS501491: {e}"));
            }
        };
        if let Err(e) = self.cfg.pkce.check(pkce.as_ref()) {
            return fail(&mut self.c.stats, "invalid_request", format!("AADSTS9002325: {e}"));
        }
        if self.c.consent == Consent::Deny {
            self.c.stats.authorize_denied += 1;
            return fail(
                &mut self.c.stats,
                "access_denied",
                "AADSTS65004: User declined to consent to access the app.".into(),
            );
        }
        let code = format!("1.AXoA{}", urlsafe(320));
        self.c.issued.code(&code);
        self.c.store.codes.insert(
            code.clone(),
            AuthCode {
                client_id: self.cfg.client_id.clone(),
                // The token request must repeat what the client sent, not the normalised form.
                redirect_uri: given.to_string(),
                pkce,
                scope: granted,
                user: self.c.user.clone(),
                nonce: q.get("nonce").map(Into::into),
                issued_at: now,
                used: false,
            },
        );
        self.c.stats.authorize_approved += 1;
        let session = uuid4();
        back(&[("code", &code), ("session_state", &session)])
    }

    // ---------- token ----------

    fn token_error(&mut self, status: u16, error: &str, code: u32, msg: &str, now: i64) -> Resp {
        self.c.stats.token_errors += 1;
        if status == 401 {
            self.c.stats.unauthorized += 1;
        }
        aad_error(status, error, code, msg, now)
    }

    fn token(&mut self, env: &Env, req: &Req) -> Resp {
        let now = env.now_secs();
        let form = match (req.is_form(), req.form()) {
            (true, Ok(f)) => f,
            _ => {
                self.c.count_token_request(None);
                return self.token_error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'grant_type'.",
                    now,
                );
            }
        };
        let grant_type = form.get("grant_type");
        self.c.count_token_request(grant_type);
        if let Some(v) = form.get("code_verifier") {
            self.c.issued.verifier(v);
        }
        if let Some(s) = form.get("client_secret") {
            self.c.issued.secret(s);
        }
        if form.has("client_secret") || form.has("client_assertion") || req.basic().is_some() {
            return self.token_error(
                401,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
                now,
            );
        }
        match form.get("client_id") {
            None => {
                return self.token_error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'client_id'.",
                    now,
                );
            }
            Some(id) if id != self.cfg.client_id => {
                let msg =
                    format!("Application with identifier '{id}' was not found in the directory '{}'.", self.cfg.tenant);
                return self.token_error(400, "unauthorized_client", 700016, &msg, now);
            }
            Some(_) => {}
        }
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
            None => self.token_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
                now,
            ),
            Some(other) => self.token_error(
                400,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
                now,
            ),
        }
    }

    fn exchange_code(&mut self, form: &Params, now: i64) -> Resp {
        let Some(code) = form.get("code") else {
            return self.token_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'code'.",
                now,
            );
        };
        let c = match self.c.store.take_code(code, now) {
            Ok(c) => c,
            Err(CodeError::Unknown) => {
                return self.token_error(
                    400,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                    now,
                );
            }
            Err(CodeError::Used) => {
                return self.token_error(
                    400,
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                    now,
                );
            }
            Err(CodeError::Expired) => {
                return self.token_error(400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", now);
            }
        };
        if form.get("redirect_uri") != Some(c.redirect_uri.as_str()) {
            return self.token_error(
                400,
                "invalid_grant",
                50148,
                "The redirect_uri does not match the redirect_uri used in the authorization request.",
                now,
            );
        }
        match verify_pkce(c.pkce.as_ref(), form.get("code_verifier")) {
            Ok(()) => {}
            Err(PkceError::Missing) => {
                return self.token_error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'code_verifier'.",
                    now,
                );
            }
            Err(PkceError::Unexpected | PkceError::Malformed | PkceError::Mismatch) => {
                return self.token_error(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    now,
                );
            }
        }
        let grant = self.c.store.new_grant(c.user.clone(), &self.cfg.client_id, c.scope.clone(), now);
        self.c.stats.code_exchanges_ok += 1;
        let body = self.issue(grant, &c.user, &c.scope, c.nonce.as_deref(), now);
        Resp::json(200, &body)
    }

    fn refresh(&mut self, form: &Params, now: i64) -> Resp {
        let Some(rt) = form.get("refresh_token") else {
            return self.token_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'refresh_token'.",
                now,
            );
        };
        let Some(scope) = form.get("scope") else {
            return self.token_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
                now,
            );
        };
        let invalid = |s: &mut Self| {
            s.token_error(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", now)
        };
        let Some(record) = self.c.store.refresh.get(rt).cloned() else {
            return invalid(self);
        };
        let Some(grant) = self.c.store.grant(record.grant).cloned() else {
            return invalid(self);
        };
        if grant.client_id != self.cfg.client_id {
            return self.token_error(400, "invalid_grant", 70000, "The provided value for the input parameter 'refresh_token' is not valid: it was issued to a different client.", now);
        }
        if grant.revoked.is_some() || record.state == RtState::Dead {
            return self.token_error(400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.", now);
        }
        if record.state == RtState::Rotated && self.old_refresh == OldRefresh::RevokeOld {
            return self.token_error(
                400,
                "invalid_grant",
                70000,
                "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.",
                now,
            );
        }
        if now - record.last_used >= RT_IDLE {
            let issued = rfc3339(record.issued_at);
            let msg = format!(
                "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00."
            );
            return self.token_error(400, "invalid_grant", 700082, &msg, now);
        }
        let mut asked = Vec::new();
        for s in split_scope(scope) {
            match canonical_scope(&s) {
                Some(c) => asked.push(c),
                None => {
                    return self.token_error(400, "invalid_scope", 70011, &format!("The provided value for the input parameter 'scope' is not valid. The scope '{s}' is not valid."), now);
                }
            }
        }
        let not_granted: Vec<&String> = asked
            .iter()
            .filter(|s| s.starts_with(GRAPH) && !s.ends_with("/.default") && !grant.scope.contains(s))
            .collect();
        if !not_granted.is_empty() {
            let msg = format!(
                "The user or administrator has not consented to use the application with ID '{}'. Send an interactive authorization request for this user and resource.",
                self.cfg.client_id
            );
            return self.token_error(400, "invalid_grant", 65001, &msg, now);
        }
        if let Some(r) = self.c.store.refresh.get_mut(rt) {
            r.last_used = now;
            if r.state == RtState::Active {
                r.state = RtState::Rotated;
            }
        }
        // Like Entra ID, the token carries every scope consented for the resource, and a
        // refresh token keeps coming while `offline_access` was granted.
        let scope_now = grant.scope.clone();
        let body = self.issue(record.grant, &grant.user, &scope_now, None, now);
        Resp::json(200, &body)
    }

    fn issue(&mut self, grant: u64, user: &User, scope: &[String], nonce: Option<&str>, now: i64) -> Value {
        let ttl = self.cfg.access_ttl.unwrap_or_else(|| rand::thread_rng().gen_range(3600..=5400));
        let tid = tid(user);
        let resource = resource_scopes(scope);
        let scp: Vec<&str> = resource.iter().map(|s| s.trim_start_matches(GRAPH)).collect();
        let at = jwt(
            &json!({"typ": "JWT", "nonce": b64url(&rand_bytes(32)), "alg": "RS256", "x5t": urlsafe(27), "kid": urlsafe(27)}),
            &json!({
                "aud": "00000003-0000-0000-c000-000000000000",
                "iss": format!("https://sts.windows.net/{tid}/"),
                "iat": now, "nbf": now, "exp": now + ttl,
                "app_displayname": "integ",
                "appid": self.cfg.client_id,
                "name": user.name,
                "oid": user.id,
                "scp": scp.join(" "),
                "tid": tid,
                "unique_name": upn(user),
                "upn": upn(user),
                "uti": urlsafe(22),
                "ver": "1.0",
                "xms_st": { "sub": urlsafe(43) },
                "xms_tcdt": now - 86400 * 365,
            }),
        );
        self.c.store.add_access(&at, grant, now, ttl);
        self.c.issued.access(&at);
        let mut body = Map::new();
        body.insert("token_type".into(), json!("Bearer"));
        body.insert("scope".into(), json!(resource.join(" ")));
        body.insert("expires_in".into(), json!(ttl));
        body.insert("ext_expires_in".into(), json!(ttl));
        body.insert("access_token".into(), json!(at));
        if scope.iter().any(|s| s == "offline_access") {
            let rt = format!("1.AXoA{}", urlsafe(720));
            self.c.store.add_refresh(&rt, grant, now);
            self.c.issued.refresh(&rt);
            body.insert("refresh_token".into(), json!(rt));
        }
        if scope.iter().any(|s| s == "openid") {
            let pairwise = b64url(&Sha256::digest(format!("{}|{}", self.cfg.client_id, user.id).as_bytes()));
            let mut claims = json!({
                "aud": self.cfg.client_id,
                "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
                "iat": now, "nbf": now, "exp": now + 3600,
                "oid": user.id,
                "sub": pairwise,
                "tid": tid,
                "uti": urlsafe(22),
                "ver": "2.0",
            });
            if scope.iter().any(|s| s == "profile") {
                claims["name"] = json!(user.name);
                claims["preferred_username"] = json!(upn(user));
            }
            if scope.iter().any(|s| s == "email")
                && let Some(e) = &user.email
            {
                claims["email"] = json!(e);
            }
            if let Some(n) = nonce {
                claims["nonce"] = json!(n);
            }
            let id_token = jwt(&json!({"typ": "JWT", "alg": "RS256", "kid": hex(&rand_bytes(20))}), &claims);
            self.c.issued.id_token(&id_token);
            body.insert("id_token".into(), json!(id_token));
        }
        Value::Object(body)
    }

    // ---------- Graph ----------

    fn graph(&mut self, env: &Env, req: &Req, path: &str) -> Resp {
        self.c.stats.api_calls += 1;
        let now = env.now_secs();
        let check = req.bearer().map(|t| self.c.store.check_access(t, now));
        let grant = match check {
            Some(AtCheck::Valid(g)) => g,
            other => {
                let msg = match other {
                    None => "Access token is empty.",
                    Some(AtCheck::Expired) => "Lifetime validation failed, the token is expired.",
                    Some(AtCheck::Revoked(_)) => "Access token has been revoked.",
                    _ => "Access token validation failure. Invalid audience.",
                };
                self.c.stats.unauthorized += 1;
                return graph_error(401, "InvalidAuthenticationToken", msg, now).with_header(
                    "WWW-Authenticate",
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                );
            }
        };
        let Some(g) = self.c.store.grant(grant).cloned() else {
            return graph_error(500, "generalException", "An internal error occurred.", now);
        };
        let path = path.trim_end_matches('/');
        if crate::calendar::graph::GraphCal::serves(path) {
            return self.cal.handle(&mut self.c, env, req, path, &g);
        }
        match (req.method.as_str(), path) {
            ("GET", "me") => {
                let ok = g.scope.iter().any(|s| {
                    s.ends_with("/User.Read") || s.ends_with("/User.ReadBasic.All") || s.ends_with("/.default")
                }) || !g.scope.iter().any(|s| s.starts_with(GRAPH));
                if !ok {
                    return graph_error(
                        403,
                        "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.",
                        now,
                    );
                }
                let u = &g.user;
                let mut parts = u.name.splitn(2, ' ');
                let given = parts.next().unwrap_or("");
                let surname = parts.next().unwrap_or("");
                Resp::json(
                    200,
                    &json!({
                        "@odata.context": format!("{}/microsoft/graph/v1.0/$metadata#users/$entity", env.base),
                        "businessPhones": [],
                        "displayName": u.name,
                        "givenName": given,
                        "jobTitle": null,
                        "mail": mail(u),
                        "mobilePhone": null,
                        "officeLocation": null,
                        "preferredLanguage": null,
                        "surname": surname,
                        "userPrincipalName": upn(u),
                        "id": u.id,
                    }),
                )
            }
            (_, p) => {
                let seg = p.split('/').next().unwrap_or("");
                graph_error(400, "BadRequest", &format!("Resource not found for the segment '{seg}'."), now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jwt_payload;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://localhost:51234/callback/microsoft";
    const SCOPE: &str = "offline_access openid profile email User.Read Calendars.Read";

    fn fake() -> Microsoft {
        Microsoft::new(
            MicrosoftConfig {
                client_id: "cid".into(),
                tenant: "common".into(),
                redirect_path: "/callback/microsoft".into(),
                access_ttl: None,
                pkce: PkcePolicy::Required,
            },
            OldRefresh::KeepOld,
        )
    }

    fn env(now: f64) -> Env {
        Env { now, base: "http://127.0.0.1:1".into() }
    }

    fn enc(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    fn authorize(m: &mut Microsoft, redirect: &str, scope: &str) -> Resp {
        m.handle(
            &env(0.0),
            &Req {
                method: "GET".into(),
                query: format!(
                    "client_id=cid&response_type=code&redirect_uri={}&scope={}&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256&response_mode=query",
                    enc(redirect),
                    enc(scope)
                ),
                ..Req::default()
            },
            "common/oauth2/v2.0/authorize",
        )
    }

    fn post(m: &mut Microsoft, now: f64, body: &str) -> Resp {
        m.handle(
            &env(now),
            &Req {
                method: "POST".into(),
                headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
                body: body.as_bytes().to_vec(),
                ..Req::default()
            },
            "common/oauth2/v2.0/token",
        )
    }

    fn code_of(r: &Resp) -> String {
        let loc = r.header("Location").unwrap_or("");
        let p = Params::parse(loc.split_once('?').map(|x| x.1).unwrap_or("").as_bytes()).unwrap();
        p.get("code").unwrap_or("").to_string()
    }

    fn connect(m: &mut Microsoft, scope: &str) -> Value {
        let code = code_of(&authorize(m, REDIRECT, scope));
        let r = post(
            m,
            1.0,
            &format!(
                "client_id=cid&scope={}&code={}&redirect_uri={}&grant_type=authorization_code&code_verifier={VERIFIER}",
                enc(scope),
                enc(&code),
                enc(REDIRECT)
            ),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json_value()
    }

    #[test]
    fn flow_issues_refresh_only_with_offline_access() {
        let mut m = fake();
        let v = connect(&mut m, SCOPE);
        let ttl = v["expires_in"].as_i64().unwrap();
        assert!((3600..=5400).contains(&ttl));
        assert_eq!(v["scope"], "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Calendars.Read");
        assert!(v["refresh_token"].is_string());
        let id = jwt_payload(v["id_token"].as_str().unwrap()).unwrap();
        assert_eq!(id["oid"], "3f1b6c1e-8a5d-4c3e-9b7a-2d4e6f8a0b1c");
        assert_eq!(id["tid"], "9c1e5b2a-7d3f-4e8a-b6c0-1a2b3c4d5e6f");
        let v = connect(&mut m, "openid User.Read");
        assert!(v.get("refresh_token").is_none());
    }

    #[test]
    fn any_secret_is_refused() {
        let mut m = fake();
        let code = code_of(&authorize(&mut m, REDIRECT, SCOPE));
        let r = post(
            &mut m,
            1.0,
            &format!(
                "client_id=cid&client_secret=x&code={}&redirect_uri={}&grant_type=authorization_code&code_verifier={VERIFIER}",
                enc(&code),
                enc(REDIRECT)
            ),
        );
        assert_eq!(r.status, 401);
        let v = r.json_value();
        assert_eq!(v["error"], "invalid_client");
        assert_eq!(v["error_codes"], json!([700025]));
        assert!(v["error_description"].as_str().unwrap().starts_with("AADSTS700025:"));
    }

    #[test]
    fn redirect_port_is_ignored_and_denial_has_a_description() {
        let mut m = fake();
        let r = authorize(&mut m, "http://127.0.0.1:9/callback/microsoft", SCOPE);
        assert_eq!(r.status, 302);
        let loc = r.header("Location").unwrap();
        assert!(loc.starts_with("http://127.0.0.1:9/callback/microsoft?code=1.AXoA"));
        assert!(loc.contains("&state=xyz"));
        assert_eq!(authorize(&mut m, "http://[::1]:9/callback/microsoft", SCOPE).status, 400);
        assert_eq!(authorize(&mut m, "http://localhost:9/callback/other", SCOPE).status, 400);
        m.c.consent = Consent::Deny;
        let r = authorize(&mut m, REDIRECT, SCOPE);
        let loc = r.header("Location").unwrap();
        assert!(loc.starts_with(&format!("{REDIRECT}?error=access_denied&error_description=AADSTS65004")));
        assert!(loc.ends_with("&state=xyz"));
        assert_eq!(canonical_scope("https://graph.microsoft.coméé"), None);
        assert_eq!(
            canonical_scope("HTTPS://graph.microsoft.com/user.read").as_deref(),
            Some("https://graph.microsoft.com/User.Read")
        );
        let bad_scope = {
            m.c.consent = Consent::Approve;
            authorize(&mut m, REDIRECT, "openid Mail.Send")
        };
        assert!(bad_scope.header("Location").unwrap().contains("error=invalid_scope"));
        let wrong_tenant =
            m.handle(&env(0.0), &Req { method: "GET".into(), ..Req::default() }, "contoso/oauth2/v2.0/authorize");
        assert_eq!(wrong_tenant.status, 400);
    }

    #[test]
    fn refresh_rotates_and_keeps_the_old_token_valid_unless_switched() {
        let mut m = fake();
        let v = connect(&mut m, SCOPE);
        let rt1 = v["refresh_token"].as_str().unwrap().to_string();
        let body =
            |rt: &str| format!("client_id=cid&grant_type=refresh_token&refresh_token={}&scope={}", enc(rt), enc(SCOPE));
        let r = post(&mut m, 10.0, &body(&rt1)).json_value();
        let rt2 = r["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(rt1, rt2);
        assert_eq!(post(&mut m, 11.0, &body(&rt1)).status, 200, "old one still valid");
        m.old_refresh = OldRefresh::RevokeOld;
        assert_eq!(post(&mut m, 12.0, &body(&rt1)).status, 400);
        let r3 = post(&mut m, 13.0, &body(&rt2));
        assert_eq!(r3.status, 200, "rt2 was never used: still active");
        let rt3 = r3.json_value()["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(post(&mut m, 13.5, &body(&rt2)).status, 400, "now rt2 is spent");
        // Scope is required on refresh; a scope never granted needs consent.
        let no_scope = format!("client_id=cid&grant_type=refresh_token&refresh_token={}", enc(&rt3));
        assert_eq!(post(&mut m, 14.0, &no_scope).status, 400);
        let wider = format!(
            "client_id=cid&grant_type=refresh_token&refresh_token={}&scope={}",
            enc(&rt3),
            enc("Calendars.ReadWrite")
        );
        assert_eq!(post(&mut m, 15.0, &wider).json_value()["error_codes"], json!([65001]));
    }

    #[test]
    fn idle_refresh_tokens_expire_after_90_days() {
        let mut m = fake();
        let v = connect(&mut m, SCOPE);
        let rt = v["refresh_token"].as_str().unwrap();
        let body = format!("client_id=cid&grant_type=refresh_token&refresh_token={}&scope={}", enc(rt), enc(SCOPE));
        let r = post(&mut m, 1.0 + RT_IDLE as f64, &body);
        assert_eq!(r.json_value()["error_codes"], json!([700082]));
    }

    #[test]
    fn graph_me_and_401s() {
        let mut m = fake();
        let mut personal = User::new("00000000000000000000000000000000", "Sam Home", Some("sam@outlook.example"));
        personal.extra.insert("personal".into(), json!(true));
        m.c.user = personal;
        let v = connect(&mut m, SCOPE);
        let at = v["access_token"].as_str().unwrap();
        let get = |m: &mut Microsoft, now: f64, auth: Option<&str>| {
            let headers = auth.map(|a| vec![("Authorization".to_string(), format!("Bearer {a}"))]).unwrap_or_default();
            m.handle(&env(now), &Req { method: "GET".into(), headers, ..Req::default() }, "graph/v1.0/me")
        };
        let me = get(&mut m, 2.0, Some(at)).json_value();
        assert_eq!(me["mail"], Value::Null);
        assert_eq!(me["userPrincipalName"], "sam@outlook.example");
        assert_eq!(me["id"], "00000000000000000000000000000000");
        let r = get(&mut m, 2.0, None);
        assert_eq!(r.status, 401);
        assert_eq!(r.json_value()["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(get(&mut m, 1.0 + 5400.0, Some(at)).status, 401);
    }
}
