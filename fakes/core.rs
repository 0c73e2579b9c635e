//! What the four fake authorization servers have in common: a clock tests can move, random
//! token material, PKCE, users, grants with their codes and tokens, and the counters and
//! "everything issued" lists the control API exposes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rand::Rng as _;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

/// Authorization codes live ten minutes at every provider.
pub const CODE_TTL: i64 = 600;

/// The fake's time: the machine's wall clock, or (with `serve --now`) an instant the fake
/// starts at and runs forward from at the monotonic clock's pace, so tests pin the date without
/// stopping time; plus an offset the control API can advance.
#[derive(Debug, Default)]
pub struct Clock {
    start: Option<(f64, Instant)>,
    offset: f64,
}

impl Clock {
    /// A clock that reads `at` (epoch seconds) now.
    pub fn starting_at(at: f64) -> Clock {
        Clock { start: Some((at, Instant::now())), offset: 0.0 }
    }

    pub fn now_f(&self) -> f64 {
        let base = match self.start {
            Some((at, since)) => at + since.elapsed().as_secs_f64(),
            None => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0),
        };
        base + self.offset
    }

    pub fn now(&self) -> i64 {
        self.now_f().floor() as i64
    }

    pub fn advance(&mut self, secs: f64) {
        self.offset += secs;
    }

    pub fn offset(&self) -> f64 {
        self.offset
    }
}

/// Per-request facts every handler needs: the (fake) time and the server's base URL.
#[derive(Debug, Clone)]
pub struct Env {
    pub now: f64,
    pub base: String,
}

impl Env {
    pub fn now_secs(&self) -> i64 {
        self.now.floor() as i64
    }
}

pub fn rand_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill(&mut v[..]);
    v
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random characters from `[A-Za-z0-9]`.
pub fn alnum(n: usize) -> String {
    rand::thread_rng().sample_iter(rand::distributions::Alphanumeric).take(n).map(char::from).collect()
}

/// `n` random characters from `[A-Za-z0-9_-]` (about 6 bits each).
pub fn urlsafe(n: usize) -> String {
    let mut s = b64url(&rand_bytes(n));
    s.truncate(n);
    s
}

/// A random RFC 4122 version-4 UUID in lower case.
pub fn uuid4() -> String {
    let mut b = rand_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A JWT-shaped string: real base64url header and payload, random bytes as the signature.
pub fn jwt(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes()),
        b64url(&rand_bytes(32))
    )
}

/// Decode the payload of a JWT-shaped string (tests and Jobber bookkeeping).
#[cfg(test)]
pub fn jwt_payload(token: &str) -> Option<Value> {
    let part = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// RFC 3339 UTC with whole seconds, e.g. `2026-03-26T22:46:40Z`.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// PKCE as the client sent it at the authorize endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    pub challenge: String,
    pub method: String,
}

/// Check an authorize request's `code_challenge` / `code_challenge_method` (RFC 7636 §4.3).
/// `Ok(None)` when absent. A missing method means `plain`.
pub fn pkce_from_authorize(challenge: Option<&str>, method: Option<&str>) -> Result<Option<Pkce>, String> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err("code_challenge_method was sent without code_challenge".into()),
        (Some(c), m) => {
            let method = m.unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return Err(format!("unsupported code_challenge_method '{method}'"));
            }
            let ok_len = (43..=128).contains(&c.len());
            if !ok_len || !c.bytes().all(is_unreserved) {
                return Err("code_challenge must be 43-128 characters of [A-Za-z0-9-._~]".into());
            }
            Ok(Some(Pkce { challenge: c.to_string(), method: method.to_string() }))
        }
    }
}

/// Whether Google, Microsoft and Calendly insist on PKCE S256 at the authorize endpoint.
/// `required` is the project's rule (README rule 8) and Calendly's request to every app;
/// `optional` is what Google and Microsoft enforce for a desktop client (verified if sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PkcePolicy {
    Required,
    Optional,
}

impl PkcePolicy {
    pub fn check(self, p: Option<&Pkce>) -> Result<(), String> {
        match (self, p) {
            (PkcePolicy::Optional, _) => Ok(()),
            (PkcePolicy::Required, Some(p)) if p.method == "S256" => Ok(()),
            (PkcePolicy::Required, Some(_)) => Err("code_challenge_method must be S256.".into()),
            (PkcePolicy::Required, None) => Err("code_challenge is required (PKCE S256).".into()),
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Why a `code_verifier` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceError {
    /// The code was issued with a challenge but no verifier came.
    Missing,
    /// A verifier came for a code issued without a challenge.
    Unexpected,
    /// Not 43–128 characters of the unreserved set.
    Malformed,
    Mismatch,
}

/// RFC 7636 §4.6: `BASE64URL-NOPAD(SHA256(verifier)) == challenge` for S256.
pub fn verify_pkce(pkce: Option<&Pkce>, verifier: Option<&str>) -> Result<(), PkceError> {
    match (pkce, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(PkceError::Unexpected),
        (Some(_), None) => Err(PkceError::Missing),
        (Some(p), Some(v)) => {
            if !(43..=128).contains(&v.len()) || !v.bytes().all(is_unreserved) {
                return Err(PkceError::Malformed);
            }
            let expected = if p.method == "S256" { b64url(&Sha256::digest(v.as_bytes())) } else { v.to_string() };
            if expected == p.challenge { Ok(()) } else { Err(PkceError::Mismatch) }
        }
    }
}

/// The person who "signs in" at a fake. `extra` carries provider-specific fields
/// (Microsoft `personal`, `tenant_id`; Calendly `organization`, `timezone`, `slug`, ...).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl User {
    pub fn new(id: &str, name: &str, email: Option<&str>) -> User {
        User { id: id.into(), name: name.into(), email: email.map(Into::into), extra: Map::new() }
    }

    pub fn extra_str(&self, k: &str) -> Option<&str> {
        self.extra.get(k).and_then(Value::as_str)
    }

    pub fn extra_bool(&self, k: &str) -> bool {
        self.extra.get(k).and_then(Value::as_bool).unwrap_or(false)
    }

    /// Build from a control-API body: `id` and `name` required strings, `email` string or
    /// null, anything else kept in `extra`.
    pub fn from_json(v: &Value) -> Result<User, String> {
        let obj = v.as_object().ok_or("body must be a JSON object")?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or("\"id\" must be a non-empty string")?;
        let name = obj.get("name").and_then(Value::as_str).ok_or("\"name\" must be a string")?;
        let email = match obj.get("email") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("\"email\" must be a string or null".into()),
        };
        let mut extra = obj.clone();
        for k in ["id", "name", "email"] {
            extra.remove(k);
        }
        Ok(User { id: id.into(), name: name.into(), email, extra })
    }
}

/// Whether the fake user approves or refuses at the consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Consent {
    Approve,
    Deny,
}

/// A code issued by an authorize endpoint, bound to everything the token call must repeat.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub pkce: Option<Pkce>,
    pub scope: Vec<String>,
    pub user: User,
    pub nonce: Option<String>,
    pub issued_at: i64,
    pub used: bool,
}

/// One authorization: the user's consent for a client and a scope. Refreshes stay in it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user: User,
    pub client_id: String,
    pub scope: Vec<String>,
    pub created: i64,
    /// Set when the grant is gone: "revoked", "disconnected", "inactive", ...
    pub revoked: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub grant: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtState {
    Active,
    /// Replaced by a newer refresh token.
    Rotated,
    /// Spent (single-use providers) or revoked.
    Dead,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub grant: u64,
    pub state: RtState,
    pub issued_at: i64,
    pub last_used: i64,
}

/// Outcome of presenting an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtCheck {
    Valid(u64),
    Expired,
    /// Revoked together with its grant; the string says why.
    Revoked(String),
    Unknown,
}

/// Codes, grants and tokens of one provider.
#[derive(Debug, Default)]
pub struct TokenStore {
    pub codes: HashMap<String, AuthCode>,
    pub grants: BTreeMap<u64, Grant>,
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, RefreshToken>,
    next_grant: u64,
}

impl TokenStore {
    pub fn new_grant(&mut self, user: User, client_id: &str, scope: Vec<String>, now: i64) -> u64 {
        self.next_grant += 1;
        let id = self.next_grant;
        self.grants.insert(id, Grant { user, client_id: client_id.into(), scope, created: now, revoked: None });
        id
    }

    pub fn grant(&self, id: u64) -> Option<&Grant> {
        self.grants.get(&id)
    }

    pub fn add_access(&mut self, token: &str, grant: u64, now: i64, ttl: i64) {
        self.access.insert(token.into(), AccessToken { grant, issued_at: now, expires_at: now + ttl, revoked: false });
    }

    pub fn add_refresh(&mut self, token: &str, grant: u64, now: i64) {
        self.refresh
            .insert(token.into(), RefreshToken { grant, state: RtState::Active, issued_at: now, last_used: now });
    }

    pub fn check_access(&self, token: &str, now: i64) -> AtCheck {
        let Some(at) = self.access.get(token) else {
            return AtCheck::Unknown;
        };
        if let Some(reason) = self.grants.get(&at.grant).and_then(|g| g.revoked.clone()) {
            return AtCheck::Revoked(reason);
        }
        if at.revoked {
            return AtCheck::Revoked("revoked".into());
        }
        if now >= at.expires_at {
            return AtCheck::Expired;
        }
        AtCheck::Valid(at.grant)
    }

    /// Revoke a grant and every token issued under it.
    pub fn revoke_grant(&mut self, id: u64, reason: &str) {
        if let Some(g) = self.grants.get_mut(&id)
            && g.revoked.is_none()
        {
            g.revoked = Some(reason.into());
        }
        for at in self.access.values_mut().filter(|a| a.grant == id) {
            at.revoked = true;
        }
        for rt in self.refresh.values_mut().filter(|r| r.grant == id) {
            rt.state = RtState::Dead;
        }
    }

    /// Revoke every live grant whose user matches (all users when `user_id` is `None`).
    /// Returns (grants, access tokens, refresh tokens) newly killed.
    pub fn revoke_user(&mut self, user_id: Option<&str>, reason: &str) -> (usize, usize, usize) {
        let ids: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.revoked.is_none())
            .filter(|(_, g)| user_id.is_none_or(|u| g.user.id == u))
            .map(|(id, _)| *id)
            .collect();
        let ats = self.access.values().filter(|a| !a.revoked && ids.contains(&a.grant)).count();
        let rts = self.refresh.values().filter(|r| r.state != RtState::Dead && ids.contains(&r.grant)).count();
        for id in &ids {
            self.revoke_grant(*id, reason);
        }
        (ids.len(), ats, rts)
    }

    /// Make every unexpired access token expire now. Returns how many.
    pub fn expire_access(&mut self, now: i64) -> usize {
        let mut n = 0;
        for at in self.access.values_mut().filter(|a| !a.revoked) {
            if at.expires_at > now {
                at.expires_at = now;
                n += 1;
            }
        }
        n
    }

    /// Take a code for redemption: checks existence, expiry and single use, then marks it
    /// used whatever happens next (a failed exchange still burns the code, as the real
    /// servers do).
    pub fn take_code(&mut self, code: &str, now: i64) -> Result<AuthCode, CodeError> {
        let Some(c) = self.codes.get_mut(code) else {
            return Err(CodeError::Unknown);
        };
        if c.used {
            return Err(CodeError::Used);
        }
        c.used = true;
        if now - c.issued_at >= CODE_TTL {
            return Err(CodeError::Expired);
        }
        Ok(c.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Unknown,
    Used,
    Expired,
}

/// Counters the control API reports per provider.
#[derive(Debug, Default, Serialize, Clone)]
pub struct Stats {
    pub authorize_requests: u64,
    pub authorize_approved: u64,
    pub authorize_denied: u64,
    pub authorize_errors: u64,
    /// Token endpoint requests by `grant_type` (`"(missing)"` when absent).
    pub token_requests: BTreeMap<String, u64>,
    pub token_errors: u64,
    pub code_exchanges_ok: u64,
    pub refresh_ok: u64,
    pub refresh_failed: u64,
    pub api_calls: u64,
    pub revocations: u64,
    /// Every HTTP 401 answered (token endpoint and API).
    pub unauthorized: u64,
    /// HTTP 429 answered.
    pub rate_limited: u64,
    /// Jobber `THROTTLED` answers (HTTP 200).
    pub throttled: u64,
    /// Calendar API requests by endpoint (`events.list`, `calendarView.delta`, ...).
    pub endpoints: BTreeMap<String, u64>,
    /// Event-listing requests (every page) by calendar id.
    pub calendars: BTreeMap<String, u64>,
}

/// Every secret byte string the fake issued or saw, so tests can grep logs and files for it.
#[derive(Debug, Default, Serialize, Clone)]
pub struct Issued {
    pub codes: Vec<String>,
    pub access_tokens: Vec<String>,
    pub refresh_tokens: Vec<String>,
    pub id_tokens: Vec<String>,
    pub pkce_verifiers: Vec<String>,
    pub client_secrets: Vec<String>,
}

impl Issued {
    fn push(list: &mut Vec<String>, v: &str) {
        if !v.is_empty() && !list.iter().any(|x| x == v) {
            list.push(v.to_string());
        }
    }
    pub fn code(&mut self, v: &str) {
        Self::push(&mut self.codes, v)
    }
    pub fn access(&mut self, v: &str) {
        Self::push(&mut self.access_tokens, v)
    }
    pub fn refresh(&mut self, v: &str) {
        Self::push(&mut self.refresh_tokens, v)
    }
    pub fn id_token(&mut self, v: &str) {
        Self::push(&mut self.id_tokens, v)
    }
    pub fn verifier(&mut self, v: &str) {
        Self::push(&mut self.pkce_verifiers, v)
    }
    pub fn secret(&mut self, v: &str) {
        Self::push(&mut self.client_secrets, v)
    }
    pub fn all(&self) -> Vec<String> {
        let mut v = Vec::new();
        for list in [
            &self.codes,
            &self.access_tokens,
            &self.refresh_tokens,
            &self.id_tokens,
            &self.pkce_verifiers,
            &self.client_secrets,
        ] {
            v.extend(list.iter().cloned());
        }
        v
    }
}

/// State every provider has.
#[derive(Debug)]
pub struct Common {
    pub consent: Consent,
    /// Who signs in at the next authorize request (and every later one until changed).
    pub user: User,
    pub store: TokenStore,
    pub stats: Stats,
    pub issued: Issued,
    /// Times of token requests per user, for per-user token-rate limits.
    pub token_times: HashMap<String, VecDeque<f64>>,
}

impl Common {
    pub fn new(user: User, client_secret: Option<&str>) -> Common {
        let mut issued = Issued::default();
        if let Some(s) = client_secret {
            issued.secret(s);
        }
        Common {
            consent: Consent::Approve,
            user,
            store: TokenStore::default(),
            stats: Stats::default(),
            issued,
            token_times: HashMap::new(),
        }
    }

    pub fn count_token_request(&mut self, grant_type: Option<&str>) {
        let k = grant_type.unwrap_or("(missing)").to_string();
        *self.stats.token_requests.entry(k).or_default() += 1;
    }
}

/// Sliding-window limiter: record a hit at `now`; `Err(seconds until a slot frees)` when
/// `limit` hits already fall inside the last `window` seconds.
pub fn window_hit(times: &mut VecDeque<f64>, now: f64, window: f64, limit: usize) -> Result<(), f64> {
    while times.front().is_some_and(|t| now - t >= window) {
        times.pop_front();
    }
    if times.len() >= limit {
        let oldest = times.front().copied().unwrap_or(now);
        return Err((oldest + window - now).max(0.0));
    }
    times.push_back(now);
    Ok(())
}

/// Split a space-separated scope string, dropping empties and duplicates, keeping order.
pub fn split_scope(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split(' ').filter(|p| !p.is_empty()) {
        if !out.iter().any(|x| x == part) {
            out.push(part.to_string());
        }
    }
    out
}

pub fn oauth_error(error: &str, description: &str) -> Value {
    json!({ "error": error, "error_description": description })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn s256() -> Pkce {
        Pkce { challenge: CHALLENGE.into(), method: "S256".into() }
    }

    #[test]
    fn pkce_s256_matches_rfc_example() {
        assert_eq!(verify_pkce(Some(&s256()), Some(VERIFIER)), Ok(()));
    }

    #[test]
    fn pkce_failures_are_distinguished() {
        let p = s256();
        assert_eq!(verify_pkce(Some(&p), None), Err(PkceError::Missing));
        assert_eq!(verify_pkce(None, Some(VERIFIER)), Err(PkceError::Unexpected));
        assert_eq!(verify_pkce(Some(&p), Some("short")), Err(PkceError::Malformed));
        let other = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(verify_pkce(Some(&p), Some(other)), Err(PkceError::Mismatch));
        // Sending the challenge itself as the verifier must fail for S256.
        assert_eq!(verify_pkce(Some(&p), Some(CHALLENGE)), Err(PkceError::Mismatch));
        assert_eq!(verify_pkce(None, None), Ok(()));
    }

    #[test]
    fn pkce_plain_compares_verbatim() {
        let p = Pkce { challenge: VERIFIER.into(), method: "plain".into() };
        assert_eq!(verify_pkce(Some(&p), Some(VERIFIER)), Ok(()));
    }

    #[test]
    fn pkce_authorize_parameters_are_checked() {
        assert_eq!(pkce_from_authorize(None, None), Ok(None));
        assert!(pkce_from_authorize(None, Some("S256")).is_err());
        assert!(pkce_from_authorize(Some(CHALLENGE), Some("S512")).is_err());
        assert!(pkce_from_authorize(Some("abc"), Some("S256")).is_err());
        let p = pkce_from_authorize(Some(CHALLENGE), None).unwrap().unwrap();
        assert_eq!(p.method, "plain");
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let mut s = TokenStore::default();
        let code = AuthCode {
            client_id: "c".into(),
            redirect_uri: "r".into(),
            pkce: None,
            scope: vec![],
            user: User::new("u", "U", None),
            nonce: None,
            issued_at: 1000,
            used: false,
        };
        s.codes.insert("a".into(), code.clone());
        s.codes.insert("b".into(), code);
        assert!(s.take_code("a", 1000 + CODE_TTL - 1).is_ok());
        assert_eq!(s.take_code("a", 1001).unwrap_err(), CodeError::Used);
        assert_eq!(s.take_code("b", 1000 + CODE_TTL).unwrap_err(), CodeError::Expired);
        assert_eq!(s.take_code("zz", 0).unwrap_err(), CodeError::Unknown);
    }

    #[test]
    fn grant_revocation_kills_its_tokens_only() {
        let mut s = TokenStore::default();
        let g1 = s.new_grant(User::new("u1", "U", None), "c", vec![], 0);
        let g2 = s.new_grant(User::new("u2", "U", None), "c", vec![], 0);
        s.add_access("a1", g1, 0, 100);
        s.add_access("a2", g2, 0, 100);
        s.add_refresh("r1", g1, 0);
        assert_eq!(s.revoke_user(Some("u1"), "disconnected"), (1, 1, 1));
        assert_eq!(s.check_access("a1", 1), AtCheck::Revoked("disconnected".into()));
        assert_eq!(s.check_access("a2", 1), AtCheck::Valid(g2));
        assert_eq!(s.check_access("a2", 100), AtCheck::Expired);
        assert_eq!(s.refresh["r1"].state, RtState::Dead);
        assert_eq!(s.expire_access(50), 1);
        assert_eq!(s.check_access("a2", 50), AtCheck::Expired);
    }

    #[test]
    fn window_limiter_counts_and_reports_the_wait() {
        let mut q = VecDeque::new();
        for i in 0..8 {
            assert!(window_hit(&mut q, i as f64, 60.0, 8).is_ok());
        }
        assert_eq!(window_hit(&mut q, 10.0, 60.0, 8), Err(50.0));
        assert!(window_hit(&mut q, 60.0, 60.0, 8).is_ok());
    }

    #[test]
    fn tokens_have_enough_entropy_and_shape() {
        assert_eq!(alnum(40).len(), 40);
        assert_eq!(urlsafe(30).len(), 30);
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        let t = jwt(&json!({"alg":"HS256"}), &json!({"exp": 5}));
        assert_eq!(jwt_payload(&t).unwrap()["exp"], 5);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn user_from_json_validates() {
        let u = User::from_json(&json!({"id":"x","name":"N","email":null,"personal":true})).unwrap();
        assert_eq!(u.email, None);
        assert!(u.extra_bool("personal"));
        assert!(User::from_json(&json!({"name":"N"})).is_err());
        assert!(User::from_json(&json!({"id":"x","name":"N","email":5})).is_err());
        assert_eq!(split_scope("a  b a"), vec!["a", "b"]);
    }
}
