//! The small HTTP vocabulary every fake speaks: an owned request, an owned response, and
//! strict parsers for query strings, form bodies and `Authorization` headers.
//!
//! Everything here treats its input as hostile: nothing panics, duplicates are reported
//! (OAuth forbids repeating a parameter), and sizes are capped.

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use serde_json::Value;

/// Bodies larger than this are refused; no fake endpoint needs more.
pub const MAX_BODY: u64 = 1 << 20;

/// A request read fully into memory.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    /// Read a tiny_http request into memory (the body is capped at [`MAX_BODY`]).
    pub fn read(rq: &mut tiny_http::Request) -> Req {
        let url = rq.url().to_string();
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (url, String::new()),
        };
        let headers = rq
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_string(), h.value.as_str().to_string()))
            .collect();
        let mut body = Vec::new();
        // A read error leaves a truncated body, which the handlers reject as malformed.
        let _ = rq.as_reader().take(MAX_BODY).read_to_end(&mut body);
        Req { method: rq.method().as_str().to_ascii_uppercase(), path, query, headers, body }
    }

    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The media type of the body, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }

    pub fn is_form(&self) -> bool {
        self.media_type().as_deref() == Some("application/x-www-form-urlencoded")
    }

    pub fn is_json(&self) -> bool {
        self.media_type().as_deref() == Some("application/json")
    }

    /// The token of an `Authorization: Bearer <token>` header, if that is the scheme used.
    pub fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?.trim();
        let (scheme, rest) = v.split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") {
            let t = rest.trim();
            (!t.is_empty()).then_some(t)
        } else {
            None
        }
    }

    /// `Authorization: Basic` credentials: `None` when absent, `Some(Err)` when malformed.
    /// Per RFC 6749 §2.3.1 both halves are form-url-decoded after base64 decoding.
    pub fn basic(&self) -> Option<Result<(String, String), ()>> {
        let v = self.header("authorization")?.trim();
        let (scheme, rest) = v.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = match base64::engine::general_purpose::STANDARD.decode(rest.trim()) {
            Ok(d) => d,
            Err(_) => return Some(Err(())),
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return Some(Err(()));
        };
        let Some((id, secret)) = text.split_once(':') else {
            return Some(Err(()));
        };
        Some(Ok((form_decode(id), form_decode(secret))))
    }

    pub fn query_params(&self) -> Result<Params, String> {
        Params::parse(self.query.as_bytes())
    }

    pub fn form(&self) -> Result<Params, String> {
        Params::parse(&self.body)
    }

    pub fn json_body(&self) -> Option<Value> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Some(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.body).ok()
    }
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Decoded `application/x-www-form-urlencoded` parameters with no name repeated.
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parse, refusing a repeated parameter (the error names it).
    pub fn parse(raw: &[u8]) -> Result<Params, String> {
        let mut map = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(raw) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(k.into_owned());
            }
        }
        Ok(Params(map))
    }

    /// The value, treating an empty value like an absent one (as the real servers do).
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
}

/// A response waiting to be sent.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(status: u16, v: &Value) -> Resp {
        Resp {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json; charset=utf-8".into()),
                ("Cache-Control".into(), "no-store".into()),
                ("Pragma".into(), "no-cache".into()),
            ],
            body: serde_json::to_vec(v).unwrap_or_default(),
        }
    }

    /// An error page shown in the browser (bad client or redirect URI: never redirect).
    pub fn html(status: u16, title: &str, detail: &str) -> Resp {
        let body = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><h1>{t}</h1><p>{d}</p></body></html>\n",
            t = html_escape(title),
            d = html_escape(detail)
        );
        Resp {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into_bytes(),
        }
    }

    pub fn redirect(location: &str) -> Resp {
        Resp {
            status: 302,
            headers: vec![("Location".into(), location.to_string()), ("Cache-Control".into(), "no-store".into())],
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Resp {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    #[cfg(test)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (tests).
    #[cfg(test)]
    pub fn json_value(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn into_tiny(self) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let mut r = tiny_http::Response::from_data(self.body).with_status_code(self.status);
        for (k, v) in self.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                r.add_header(h);
            }
        }
        r
    }
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Append query parameters to a redirect URI without normalising the URI itself, so the
/// client sees exactly the callback it registered.
pub fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return uri.to_string();
    }
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", ser.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req_with(headers: &[(&str, &str)], body: &str) -> Req {
        Req {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn params_refuse_duplicates_and_treat_empty_as_absent() {
        assert_eq!(Params::parse(b"a=1&a=2").unwrap_err(), "a");
        let p = Params::parse(b"a=&b=x%20y+z").unwrap();
        assert_eq!(p.get("a"), None);
        assert!(p.has("a"));
        assert_eq!(p.get("b"), Some("x y z"));
    }

    #[test]
    fn basic_auth_is_decoded_and_malformed_is_reported() {
        let enc = base64::engine::general_purpose::STANDARD.encode("id%3Ax:s+c");
        let r = req_with(&[("Authorization", &format!("Basic {enc}"))], "");
        assert_eq!(r.basic(), Some(Ok(("id:x".into(), "s c".into()))));
        let r = req_with(&[("Authorization", "Basic !!!")], "");
        assert_eq!(r.basic(), Some(Err(())));
        let r = req_with(&[("Authorization", "Bearer abc")], "");
        assert_eq!(r.basic(), None);
        assert_eq!(r.bearer(), Some("abc"));
    }

    #[test]
    fn media_type_ignores_parameters() {
        let r = req_with(&[("Content-Type", "Application/JSON; charset=utf-8")], "{}");
        assert!(r.is_json());
        assert!(!r.is_form());
    }

    #[test]
    fn append_query_keeps_the_uri() {
        assert_eq!(
            append_query("http://localhost:1/cb", &[("code", "a b"), ("state", "x&y")]),
            "http://localhost:1/cb?code=a+b&state=x%26y"
        );
        assert_eq!(append_query("http://h/cb?k=v", &[("a", "1")]), "http://h/cb?k=v&a=1");
        assert_eq!(append_query("http://h/cb", &[]), "http://h/cb");
    }
}
