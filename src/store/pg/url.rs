//! What a `postgres://` URL means to integ, decided before any byte goes on the wire.
//!
//! The common client default (libpq's `sslmode=prefer`) silently falls back to plaintext when a
//! server (or someone in between) says it has no TLS. integ never does that: a connection is
//! either TLS with a verified certificate and host name (libpq's `verify-full`), or plain, and
//! plain only to a loopback address or when the URL says `sslmode=disable` outright. The URL is
//! parsed here, by integ, so no option the driver understands differently slips through: an
//! option integ does not know is refused rather than ignored. The password never leaves
//! [`PgUrl`] except into the driver's configuration; [`PgUrl::shown`] masks it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// How the connection is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// TLS, the server's certificate checked against the roots integ's HTTPS client trusts
    /// (plus `sslrootcert`, when given) and the URL's host name.
    VerifyFull { root_cert: Option<PathBuf> },
    /// No TLS: a loopback server, or `sslmode=disable`.
    Plain { explicit: bool },
}

/// Longest connect timeout a URL may ask for.
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(300);
/// The connect timeout when the URL names none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A parsed PostgreSQL URL and integ's TLS decision for it.
#[derive(Clone)]
pub struct PgUrl {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub dbname: String,
    pub password: Option<SecretString>,
    pub tls: Tls,
    pub connect_timeout: Duration,
    pub application_name: Option<String>,
    shown: String,
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Why a URL was refused; every message is safe to print (no password in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the database URL is not a valid URL")]
    Invalid,
    #[error("the database URL must start with postgres:// or postgresql:// (it starts with {0}://)")]
    Scheme(String),
    #[error("the database URL names no host")]
    NoHost,
    #[error("the database URL names no user (postgres://USER@HOST/DATABASE)")]
    NoUser,
    #[error("the database URL names no database (postgres://USER@HOST/DATABASE)")]
    NoDatabase,
    #[error("the database URL has an option integ does not understand: {0}")]
    UnknownOption(String),
    #[error("the database URL gives {0} more than once")]
    Repeated(String),
    #[error("sslmode={0} may fall back to a plaintext connection, which integ never does")]
    Fallback(String),
    #[error("the database URL has sslmode={0}, which is not a PostgreSQL sslmode")]
    BadSslMode(String),
    #[error("the database URL gives sslrootcert with sslmode=disable")]
    RootCertWithoutTls,
    #[error("the database URL's connect_timeout must be whole seconds from 1 to {}", MAX_CONNECT_TIMEOUT.as_secs())]
    BadTimeout,
    #[error("the database URL's {0} is not valid UTF-8 after percent-decoding")]
    Encoding(&'static str),
    #[error(
        "the database URL gives the password as an option; integ takes it only from the URL's user part, INTEG_DATABASE_PASSWORD or the secret store"
    )]
    PasswordOption,
}

impl UrlError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            UrlError::Fallback(_) => {
                "use sslmode=verify-full (the default away from loopback), or sslmode=disable to connect without TLS on purpose"
            }
            UrlError::UnknownOption(_) | UrlError::BadSslMode(_) => {
                "integ understands sslmode (verify-full, verify-ca, require, disable), sslrootcert, connect_timeout and application_name"
            }
            UrlError::PasswordOption => {
                "remove password= from the URL; put it in INTEG_DATABASE_PASSWORD or run `integ config set database.password` (reads stdin)"
            }
            _ => "the form is postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=verify-full]",
        }
    }
}

fn decode(s: &str, what: &'static str) -> Result<String, UrlError> {
    percent_decode(s).ok_or(UrlError::Encoding(what))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl PgUrl {
    /// Parse `text`. The password may be in the URL; it is kept only as a secret.
    pub fn parse(text: &str) -> Result<PgUrl, UrlError> {
        let url = url::Url::parse(text.trim()).map_err(|_| UrlError::Invalid)?;
        if url.scheme() != "postgres" && url.scheme() != "postgresql" {
            return Err(UrlError::Scheme(url.scheme().chars().take(20).collect()));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(UrlError::NoHost),
        };
        let port = url.port().unwrap_or(5432);
        let user = decode(url.username(), "user")?;
        if user.is_empty() {
            return Err(UrlError::NoUser);
        }
        let password = match url.password() {
            Some(p) => Some(SecretString::from(decode(p, "password")?)),
            None => None,
        };
        let dbname = decode(url.path().trim_start_matches('/'), "database name")?;
        if dbname.is_empty() {
            return Err(UrlError::NoDatabase);
        }
        let (mut sslmode, mut root_cert, mut timeout, mut app) = (None, None, None, None);
        for (key, value) in url.query_pairs() {
            let slot = match key.as_ref() {
                "sslmode" => &mut sslmode,
                "sslrootcert" => &mut root_cert,
                "connect_timeout" => &mut timeout,
                "application_name" => &mut app,
                "password" => return Err(UrlError::PasswordOption),
                other => return Err(UrlError::UnknownOption(other.chars().take(40).collect())),
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(UrlError::Repeated(key.into_owned()));
            }
        }
        // A CA file says TLS is wanted, on loopback too.
        let tls = match sslmode.as_deref() {
            None if is_loopback(&host) && root_cert.is_none() => Tls::Plain { explicit: false },
            Some("disable") if root_cert.is_some() => return Err(UrlError::RootCertWithoutTls),
            None | Some("verify-full") | Some("verify-ca") | Some("require") => {
                Tls::VerifyFull { root_cert: root_cert.map(PathBuf::from) }
            }
            Some("disable") => Tls::Plain { explicit: true },
            Some(m @ ("prefer" | "allow")) => return Err(UrlError::Fallback(m.to_string())),
            Some(m) => return Err(UrlError::BadSslMode(m.chars().take(20).collect())),
        };
        let connect_timeout = match timeout {
            None => DEFAULT_CONNECT_TIMEOUT,
            Some(t) => match t.parse::<u64>() {
                Ok(s) if (1..=MAX_CONNECT_TIMEOUT.as_secs()).contains(&s) => Duration::from_secs(s),
                _ => return Err(UrlError::BadTimeout),
            },
        };
        let mut masked = url.clone();
        if url.password().is_some() {
            // Cannot fail: the URL has a host (checked above).
            let _ = masked.set_password(Some("***"));
        }
        Ok(PgUrl {
            host,
            port,
            user,
            dbname,
            password,
            tls,
            connect_timeout,
            application_name: app,
            shown: masked.to_string(),
        })
    }

    /// The URL with its password (if any) replaced by `***`: what messages show.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Remove the password from text that came back from the server or the driver (defence in
    /// depth: neither is known to echo it).
    pub fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.expose_secret().is_empty() => text.replace(p.expose_secret(), "***"),
            _ => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(u: &str) -> Tls {
        PgUrl::parse(u).unwrap().tls
    }

    #[test]
    fn remote_hosts_get_verified_tls_by_default() {
        assert_eq!(tls("postgres://u@db.example.com/integ"), Tls::VerifyFull { root_cert: None });
        assert_eq!(tls("postgres://u@10.1.2.3:6432/integ"), Tls::VerifyFull { root_cert: None });
        assert_eq!(
            tls("postgresql://u@db.example.com/integ?sslmode=verify-full&sslrootcert=/etc/ca.pem"),
            Tls::VerifyFull { root_cert: Some(PathBuf::from("/etc/ca.pem")) }
        );
        // require and verify-ca are upgraded: integ always checks the certificate and the name.
        assert_eq!(tls("postgres://u@db.example.com/integ?sslmode=require"), Tls::VerifyFull { root_cert: None });
        assert_eq!(tls("postgres://u@db.example.com/integ?sslmode=verify-ca"), Tls::VerifyFull { root_cert: None });
    }

    #[test]
    fn plain_only_on_loopback_or_when_asked() {
        assert_eq!(tls("postgres://u@localhost/integ"), Tls::Plain { explicit: false });
        assert_eq!(tls("postgres://u@127.0.0.1:5433/integ"), Tls::Plain { explicit: false });
        assert_eq!(tls("postgres://u@127.8.9.1/integ"), Tls::Plain { explicit: false });
        assert_eq!(tls("postgres://u@[::1]/integ"), Tls::Plain { explicit: false });
        assert_eq!(tls("postgres://u@db.example.com/integ?sslmode=disable"), Tls::Plain { explicit: true });
        // Loopback can still ask for TLS, and a CA file asks for it.
        assert_eq!(tls("postgres://u@localhost/integ?sslmode=verify-full"), Tls::VerifyFull { root_cert: None });
        assert_eq!(
            tls("postgres://u@localhost/integ?sslrootcert=ca.pem"),
            Tls::VerifyFull { root_cert: Some(PathBuf::from("ca.pem")) }
        );
        assert_eq!(
            PgUrl::parse("postgres://u@localhost/integ?sslrootcert=ca.pem&sslmode=disable").unwrap_err(),
            UrlError::RootCertWithoutTls
        );
        // Not loopback, whatever it looks like.
        assert_eq!(tls("postgres://u@localhost.example.com/integ"), Tls::VerifyFull { root_cert: None });
        assert_eq!(tls("postgres://u@128.0.0.1/integ"), Tls::VerifyFull { root_cert: None });
    }

    #[test]
    fn fallback_modes_and_unknown_options_are_refused() {
        for m in ["prefer", "allow"] {
            let e = PgUrl::parse(&format!("postgres://u@db.example.com/integ?sslmode={m}")).unwrap_err();
            assert_eq!(e, UrlError::Fallback(m.into()));
        }
        assert_eq!(
            PgUrl::parse("postgres://u@h/integ?sslmode=sometimes").unwrap_err(),
            UrlError::BadSslMode("sometimes".into())
        );
        assert_eq!(
            PgUrl::parse("postgres://u@h/integ?target_session_attrs=any").unwrap_err(),
            UrlError::UnknownOption("target_session_attrs".into())
        );
        assert_eq!(
            PgUrl::parse("postgres://u@h/integ?sslmode=disable&sslmode=require").unwrap_err(),
            UrlError::Repeated("sslmode".into())
        );
        assert_eq!(PgUrl::parse("postgres://u@h/integ?password=x").unwrap_err(), UrlError::PasswordOption);
        assert_eq!(PgUrl::parse("mysql://u@h/integ").unwrap_err(), UrlError::Scheme("mysql".into()));
        assert_eq!(PgUrl::parse("postgres://h/integ").unwrap_err(), UrlError::NoUser);
        assert_eq!(PgUrl::parse("postgres://u@h/").unwrap_err(), UrlError::NoDatabase);
        assert_eq!(PgUrl::parse("not a url").unwrap_err(), UrlError::Invalid);
        assert_eq!(PgUrl::parse("postgres://u@h/d?connect_timeout=0").unwrap_err(), UrlError::BadTimeout);
        assert_eq!(PgUrl::parse("postgres://u@h/d?connect_timeout=99999").unwrap_err(), UrlError::BadTimeout);
        assert_eq!(PgUrl::parse("postgres://u@h/d?connect_timeout=7").unwrap().connect_timeout, Duration::from_secs(7));
    }

    #[test]
    fn the_password_is_decoded_kept_secret_and_masked() {
        let u = PgUrl::parse("postgres://integ:p%40ss%2Fw0rd@db.example.com:6543/my%20db?sslmode=require").unwrap();
        assert_eq!(u.password.as_ref().unwrap().expose_secret(), "p@ss/w0rd");
        assert_eq!((u.user.as_str(), u.dbname.as_str(), u.port), ("integ", "my db", 6543));
        assert!(!u.shown().contains("p%40ss") && u.shown().contains("integ:***@db.example.com:6543"), "{}", u.shown());
        assert!(!format!("{u:?}").contains("p%40ss"));
        assert_eq!(u.scrub("FATAL: bad p@ss/w0rd here"), "FATAL: bad *** here");
        let none = PgUrl::parse("postgres://integ@db.example.com/d").unwrap();
        assert!(none.password.is_none() && none.shown() == "postgres://integ@db.example.com/d");
    }
}
