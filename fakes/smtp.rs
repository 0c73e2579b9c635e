//! A mail relay on loopback that speaks enough ESMTP for a real client (integ uses lettre),
//! including STARTTLS with a certificate made at start-up, and records what it is given.
//!
//! It follows RFC 5321 (the command sequence and reply codes), RFC 3207 (STARTTLS: offered
//! only before TLS; after it the client knows nothing and must say EHLO again), RFC 4954 (AUTH
//! only over TLS here, as submission servers do: `538 5.7.11` before it, `535 5.7.8` on bad
//! credentials, `530 5.7.0` for mail without it) and RFC 4616 / the LOGIN mechanism. A test
//! CA and a server certificate for `localhost` and `127.0.0.1` are generated when it starts
//! (rcgen); the banner gives the CA's PEM so the client can trust it.
//!
//! Tests steer it through `/_fake/smtp/...`: read the messages, make it `hang` (accept the
//! connection and never greet) or `reject` (refuse the message with `554`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::http::Resp;

/// The login the relay accepts.
pub const USER: &str = "alerts@integ.test";
pub const PASSWORD: &str = "fake-smtp-password-0123456789";
/// The longest command line (RFC 5321 §4.5.3.1.4: 512 octets) and message this sink accepts.
const MAX_LINE: usize = 4096;
const MAX_MESSAGE: usize = 1 << 20;

/// How the relay treats the next connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Ok,
    /// Accept the TCP connection and say nothing.
    Hang,
    /// Refuse every message at the end of DATA.
    Reject,
}

/// What the relay has seen.
#[derive(Debug, Default)]
pub struct Sink {
    pub mode: Mode,
    /// Every accepted message: `{"from", "to", "data", "tls", "auth"}`.
    pub messages: Vec<Value>,
    pub connections: u32,
}

/// A running relay.
pub struct Relay {
    pub port: u16,
    pub ca_pem: String,
    pub sink: Arc<Mutex<Sink>>,
}

fn tls_config() -> Result<(Arc<rustls::ServerConfig>, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let err = |e: rcgen::Error| format!("cannot make the test certificate: {e}");
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "integ-fakes test CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().map_err(err)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).map_err(err)?;
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = leaf.signed_by(&key, &issuer).map_err(err)?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone(), ca_cert.der().clone()], key_der)
        .map_err(|e| format!("TLS: {e}"))?;
    Ok((Arc::new(config), ca_cert.pem()))
}

/// Listen on a free loopback port and serve every connection on its own thread.
pub fn start() -> Result<Relay, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("SMTP sink: {e}"))?;
    let port = listener.local_addr().map_err(|e| format!("SMTP sink: {e}"))?.port();
    let (config, ca_pem) = tls_config()?;
    let sink = Arc::new(Mutex::new(Sink::default()));
    let shared = Arc::clone(&sink);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let sink = Arc::clone(&shared);
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                let mode = {
                    let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
                    s.connections += 1;
                    s.mode
                };
                if mode == Mode::Hang {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                let _ = Session::new(stream, config, sink).run();
            });
        }
    });
    Ok(Relay { port, ca_pem, sink })
}

enum Io {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
    Closed,
}

impl Io {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
            Io::Closed => Ok(0),
        }
    }
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.write_all(b),
            Io::Tls(s) => s.write_all(b).and_then(|_| s.flush()),
            Io::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
}

struct Session {
    io: Io,
    buf: Vec<u8>,
    config: Arc<rustls::ServerConfig>,
    sink: Arc<Mutex<Sink>>,
    greeted: bool,
    authed: bool,
    from: Option<String>,
    to: Vec<String>,
}

impl Session {
    fn new(stream: TcpStream, config: Arc<rustls::ServerConfig>, sink: Arc<Mutex<Sink>>) -> Session {
        Session {
            io: Io::Plain(stream),
            buf: Vec::new(),
            config,
            sink,
            greeted: false,
            authed: false,
            from: None,
            to: Vec::new(),
        }
    }

    fn tls(&self) -> bool {
        matches!(self.io, Io::Tls(_))
    }

    fn reply(&mut self, text: &str) -> std::io::Result<()> {
        self.io.write_all(format!("{text}\r\n").as_bytes())
    }

    /// One CRLF-terminated line (without it); `None` at end of stream or when too long.
    fn line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).take(i).collect();
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.buf.len() > MAX_MESSAGE {
                return Ok(None);
            }
            let mut chunk = [0u8; 4096];
            let n = self.io.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn run(mut self) -> std::io::Result<()> {
        self.reply("220 localhost ESMTP integ-fakes")?;
        while let Some(line) = self.line()? {
            if line.len() > MAX_LINE {
                self.reply("500 5.5.6 Line too long")?;
                continue;
            }
            let (verb, arg) = line.split_once(' ').map_or((line.as_str(), ""), |(v, a)| (v, a.trim()));
            match verb.to_ascii_uppercase().as_str() {
                "EHLO" if arg.is_empty() => self.reply("501 5.5.4 EHLO needs a domain")?,
                "EHLO" => {
                    self.greeted = true;
                    self.from = None;
                    self.to.clear();
                    let offer = if self.tls() { "250-AUTH PLAIN LOGIN" } else { "250-STARTTLS" };
                    self.reply(&format!("250-localhost greets {arg}\r\n250-SIZE {MAX_MESSAGE}\r\n250-8BITMIME\r\n{offer}\r\n250 ENHANCEDSTATUSCODES"))?;
                }
                "HELO" => {
                    self.greeted = true;
                    self.reply("250 localhost")?;
                }
                "STARTTLS" if self.tls() => self.reply("503 5.5.1 TLS already active")?,
                "STARTTLS" if !self.greeted => self.reply("503 5.5.1 EHLO first")?,
                "STARTTLS" => {
                    self.reply("220 2.0.0 Ready to start TLS")?;
                    let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Closed) else { return Ok(()) };
                    let conn = rustls::ServerConnection::new(Arc::clone(&self.config))
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    self.io = Io::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
                    // RFC 3207 §4.2: forget everything, including the EHLO.
                    self.buf.clear();
                    self.greeted = false;
                    self.authed = false;
                    self.from = None;
                    self.to.clear();
                }
                "AUTH" if !self.tls() => {
                    self.reply("538 5.7.11 Encryption required for requested authentication mechanism")?
                }
                "AUTH" if !self.greeted => self.reply("503 5.5.1 EHLO first")?,
                "AUTH" if self.authed => self.reply("503 5.5.1 Already authenticated")?,
                "AUTH" => self.auth(arg)?,
                "MAIL" if !self.greeted => self.reply("503 5.5.1 EHLO first")?,
                "MAIL" if !self.authed => self.reply("530 5.7.0 Authentication required")?,
                "MAIL" => match path_of(arg, "FROM:") {
                    Some(p) => {
                        self.from = Some(p);
                        self.to.clear();
                        self.reply("250 2.1.0 Ok")?;
                    }
                    None => self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")?,
                },
                "RCPT" if self.from.is_none() => self.reply("503 5.5.1 MAIL first")?,
                "RCPT" => match path_of(arg, "TO:") {
                    Some(p) if p.contains('@') => {
                        self.to.push(p);
                        self.reply("250 2.1.5 Ok")?;
                    }
                    _ => self.reply("501 5.1.3 Bad recipient address syntax")?,
                },
                "DATA" if self.to.is_empty() => self.reply("503 5.5.1 RCPT first")?,
                "DATA" => self.data()?,
                "RSET" => {
                    self.from = None;
                    self.to.clear();
                    self.reply("250 2.0.0 Ok")?;
                }
                "NOOP" => self.reply("250 2.0.0 Ok")?,
                "QUIT" => {
                    self.reply("221 2.0.0 Bye")?;
                    return Ok(());
                }
                _ => self.reply("500 5.5.2 Command not recognized")?,
            }
        }
        Ok(())
    }

    fn auth(&mut self, arg: &str) -> std::io::Result<()> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let decode = |s: &str| b64.decode(s.trim()).ok().map(|b| String::from_utf8_lossy(&b).into_owned());
        let (mech, initial) = arg.split_once(' ').map_or((arg, None), |(m, i)| (m, Some(i.to_string())));
        let ok = match mech.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let resp = match initial {
                    Some(i) => i,
                    None => {
                        self.reply("334 ")?;
                        self.line()?.unwrap_or_default()
                    }
                };
                decode(&resp).is_some_and(|s| {
                    let parts: Vec<&str> = s.split('\0').collect();
                    parts.len() == 3 && parts[1] == USER && parts[2] == PASSWORD
                })
            }
            "LOGIN" => {
                let user = match initial {
                    Some(i) => decode(&i),
                    None => {
                        self.reply("334 VXNlcm5hbWU6")?;
                        decode(&self.line()?.unwrap_or_default())
                    }
                };
                self.reply("334 UGFzc3dvcmQ6")?;
                let pass = decode(&self.line()?.unwrap_or_default());
                user.as_deref() == Some(USER) && pass.as_deref() == Some(PASSWORD)
            }
            _ => return self.reply("504 5.5.4 Unrecognized authentication type"),
        };
        self.authed = ok;
        if ok {
            self.reply("235 2.7.0 Authentication successful")
        } else {
            self.reply("535 5.7.8 Authentication credentials invalid")
        }
    }

    fn data(&mut self) -> std::io::Result<()> {
        self.reply("354 End data with <CR><LF>.<CR><LF>")?;
        let mut data = String::new();
        loop {
            let Some(line) = self.line()? else { return Ok(()) };
            if line == "." {
                break;
            }
            // RFC 5321 §4.5.2: a leading dot was doubled by the client.
            data.push_str(line.strip_prefix('.').unwrap_or(&line));
            data.push_str("\r\n");
            if data.len() > MAX_MESSAGE {
                return self.reply("552 5.3.4 Message too big");
            }
        }
        let mode = self.sink.lock().unwrap_or_else(|p| p.into_inner()).mode;
        if mode == Mode::Reject {
            return self.reply("554 5.7.1 Message rejected by policy");
        }
        let tls = self.tls();
        let message = json!({ "from": self.from.take(), "to": std::mem::take(&mut self.to), "data": data, "tls": tls, "auth": self.authed });
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).messages.push(message);
        self.reply("250 2.0.0 Ok: queued")
    }
}

/// The address in `FROM:<a@b> SIZE=1` (with `FROM:` matched case-insensitively).
fn path_of(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?.split_once('>')?.0;
    Some(inner.to_string())
}

/// `/_fake/smtp/...`: `GET messages`, `POST mode {"mode": "ok"|"hang"|"reject"}`, `POST reset`.
pub fn control(sink: &Mutex<Sink>, method: &str, rest: &[&str], body: &Value) -> Resp {
    let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
    match (method, rest) {
        ("GET", ["messages"]) => Resp::json(200, &json!({"messages": s.messages, "connections": s.connections})),
        ("POST", ["reset"]) => {
            *s = Sink::default();
            Resp::json(200, &json!({"ok": true}))
        }
        ("POST", ["mode"]) => {
            s.mode = match body["mode"].as_str() {
                Some("ok") => Mode::Ok,
                Some("hang") => Mode::Hang,
                Some("reject") => Mode::Reject,
                _ => return Resp::json(400, &json!({"error": "mode must be ok, hang or reject"})),
            };
            Resp::json(200, &json!({"ok": true}))
        }
        _ => Resp::json(404, &json!({"error": "unknown control endpoint"})),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_read_from_mail_and_rcpt() {
        assert_eq!(super::path_of("FROM:<a@b.c> SIZE=10", "FROM:").as_deref(), Some("a@b.c"));
        assert_eq!(super::path_of("to: <x@y>", "TO:").as_deref(), Some("x@y"));
        assert_eq!(super::path_of("FROM:a@b", "FROM:"), None);
        assert_eq!(super::path_of("", "TO:"), None);
    }
}
