//! Redirect-URI matching, one rule per provider, written against the raw strings the client
//! sent (no URL normalisation: a byte that differs is a different URI).

/// The pieces of an `http(s)://host[:port]/path?query#fragment` URI, sliced from the raw text.
#[derive(Debug, PartialEq, Eq)]
pub struct RawUri<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

/// Split a URI without normalising anything. `None` when it is not `scheme://authority...`
/// or carries user info.
pub fn split(uri: &str) -> Option<RawUri<'_>> {
    let (scheme, rest) = uri.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let (before_frag, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (rest, None),
    };
    let (before_query, query) = match before_frag.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (before_frag, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], &before_query[i..]),
        None => (before_query, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(after) = authority.strip_prefix('[') {
        let (h, tail) = after.split_once(']')?;
        let host = &authority[..h.len() + 2];
        match tail {
            "" => (host, None),
            t => (host, Some(t.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port {
        let valid = !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
        if !valid {
            return None;
        }
    }
    Some(RawUri { scheme, host, port, path, query, fragment })
}

/// Jobber (one registered "OAuth Callback URL") and Calendly: byte-for-byte equality.
pub fn exact(registered: &str, given: &str) -> Result<(), String> {
    if registered == given {
        Ok(())
    } else {
        Err(format!("The redirect_uri '{given}' does not match the registered redirect URI '{registered}'."))
    }
}

/// Google Desktop client: any port on `127.0.0.1`, `[::1]` or `localhost`, plain http,
/// nothing registered.
pub fn google_desktop(given: &str) -> Result<(), String> {
    let bad =
        || Err(format!("redirect_uri_mismatch: '{given}' is not a loopback redirect URI allowed for a desktop client"));
    let Some(u) = split(given) else { return bad() };
    if u.scheme != "http" || u.fragment.is_some() {
        return bad();
    }
    match u.host {
        "127.0.0.1" | "[::1]" | "localhost" => Ok(()),
        _ => bad(),
    }
}

/// Microsoft: `http://localhost` or `http://127.0.0.1` with the registered path, port
/// ignored, no `[::1]`, no query, at most 256 characters. Returns the URI to redirect to
/// (an empty path gets Microsoft's trailing slash).
pub fn microsoft(registered_path: &str, given: &str) -> Result<String, String> {
    let mismatch = |why: &str| {
        Err(format!(
            "AADSTS50011: The redirect URI '{given}' specified in the request does not match the \
             redirect URIs configured for the application. {why}"
        ))
    };
    if given.len() > 256 {
        return mismatch("Redirect URIs are limited to 256 characters.");
    }
    let Some(u) = split(given) else {
        return mismatch("The redirect URI is malformed.");
    };
    if u.host == "[::1]" {
        return mismatch("IPv6 loopback ([::1]) redirect URIs are not supported.");
    }
    if u.scheme != "http" {
        return mismatch("Loopback redirect URIs use http.");
    }
    if u.host != "localhost" && u.host != "127.0.0.1" {
        return mismatch("Only http://localhost and http://127.0.0.1 are registered.");
    }
    if u.query.is_some() || u.fragment.is_some() {
        return mismatch("Query strings and fragments are not allowed.");
    }
    let path = if u.path.is_empty() { "/" } else { u.path };
    if path != registered_path {
        return mismatch("The path does not match (paths are case-sensitive).");
    }
    if u.path.is_empty() { Ok(format!("{given}/")) } else { Ok(given.to_string()) }
}

/// Calendly: exact match; Production apps refuse any non-HTTPS URI, Sandbox apps allow
/// plain http only for `localhost`.
pub fn calendly(registered: &str, given: &str, production: bool) -> Result<(), String> {
    let Some(u) = split(given) else {
        return Err(format!("The redirect_uri '{given}' is invalid."));
    };
    if u.scheme != "https" {
        if production {
            return Err(format!("The redirect_uri '{given}' must use HTTPS for a production application."));
        }
        if u.scheme != "http" || u.host != "localhost" {
            return Err(format!("The redirect_uri '{given}' must use HTTPS unless it points at http://localhost."));
        }
    }
    exact(registered, given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_slices_without_normalising() {
        let u = split("http://[::1]:8080/a/../b?x=1#f").unwrap();
        assert_eq!(u.host, "[::1]");
        assert_eq!(u.port, Some("8080"));
        assert_eq!(u.path, "/a/../b");
        assert_eq!(u.query, Some("x=1"));
        assert_eq!(u.fragment, Some("f"));
        assert!(split("http://user@localhost/").is_none());
        assert!(split("http://localhost:99999/").is_none());
        assert!(split("http://localhost:/").is_none());
        assert!(split("localhost/cb").is_none());
        assert_eq!(split("http://127.0.0.1").unwrap().path, "");
    }

    #[test]
    fn jobber_and_calendly_match_exactly() {
        let reg = "http://localhost:47620/callback/jobber";
        assert!(exact(reg, reg).is_ok());
        assert!(exact(reg, "http://localhost:47621/callback/jobber").is_err());
        assert!(exact(reg, "http://127.0.0.1:47620/callback/jobber").is_err());
        assert!(exact(reg, "http://localhost:47620/callback/jobber/").is_err());
        assert!(exact(reg, "http://localhost:47620/Callback/jobber").is_err());
    }

    #[test]
    fn google_desktop_allows_any_loopback_port() {
        for ok in
            ["http://127.0.0.1:53123/callback/google", "http://[::1]:1/", "http://localhost:8080", "http://127.0.0.1"]
        {
            assert!(google_desktop(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:5000/",
            "http://127.0.0.2:5000/",
            "http://example.com/",
            "http://127.0.0.1:5000/#frag",
            "urn:ietf:wg:oauth:2.0:oob",
        ] {
            assert!(google_desktop(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn microsoft_ignores_port_but_not_path_or_ipv6() {
        let p = "/callback/microsoft";
        assert_eq!(
            microsoft(p, "http://localhost:53712/callback/microsoft").unwrap(),
            "http://localhost:53712/callback/microsoft"
        );
        assert!(microsoft(p, "http://127.0.0.1:1/callback/microsoft").is_ok());
        assert!(microsoft(p, "http://localhost/callback/microsoft").is_ok());
        assert!(microsoft(p, "http://[::1]:5000/callback/microsoft").is_err());
        assert!(microsoft(p, "http://localhost:5000/Callback/microsoft").is_err());
        assert!(microsoft(p, "http://localhost:5000/callback/microsoft?x=1").is_err());
        assert!(microsoft(p, "https://localhost:5000/callback/microsoft").is_err());
        assert!(microsoft(p, "http://example.com/callback/microsoft").is_err());
        // Empty path is the root path, returned with a trailing slash.
        assert_eq!(microsoft("/", "http://localhost:7071").unwrap(), "http://localhost:7071/");
        let long = format!("http://localhost:1/{}", "a".repeat(250));
        assert!(microsoft(&format!("/{}", "a".repeat(250)), &long).is_err());
    }

    #[test]
    fn calendly_production_requires_https() {
        let reg = "http://localhost:47621/callback/calendly";
        assert!(calendly(reg, reg, false).is_ok());
        assert!(calendly(reg, reg, true).is_err());
        assert!(calendly(reg, "http://localhost:47622/callback/calendly", false).is_err());
        let https = "https://example.com/cb";
        assert!(calendly(https, https, true).is_ok());
        let ip = "http://127.0.0.1:47621/callback/calendly";
        assert!(calendly(ip, ip, false).is_err());
    }
}
