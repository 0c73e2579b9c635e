//! `integ-fakes browse URL [--out FILE]`: a minimal browser for the demo and the tests. It does
//! what a browser does at the end of an OAuth flow: GET the authorization URL, follow the
//! redirects (the fake's consent, then integ's loopback listener), and save the final page. It
//! talks plain HTTP to loopback addresses only, so the demo needs no curl and no browser.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Follow up to ten redirects; returns the final status and body.
pub fn browse(start: &str) -> Result<(u16, Vec<u8>), String> {
    let mut url = url::Url::parse(start).map_err(|e| format!("bad URL: {e}"))?;
    for _ in 0..10 {
        if url.scheme() != "http" {
            return Err(format!("only plain http is supported, not {}", url.scheme()));
        }
        let host = url.host_str().ok_or("the URL has no host")?.to_string();
        if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
            return Err(format!("only loopback hosts are supported, not {host}"));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let connect_host = if host == "localhost" { "127.0.0.1" } else { host.trim_matches(['[', ']']) };
        let mut stream =
            TcpStream::connect((connect_host, port)).map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: integ-fakes-browse\r\nAccept: text/html\r\n\
             Sec-Fetch-Mode: navigate\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).map_err(|e| e.to_string())?;
        let status: u16 =
            status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("bad status line")?;
        let mut location = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("location")
            {
                location = Some(v.trim().to_string());
            }
        }
        let mut body = Vec::new();
        reader.read_to_end(&mut body).map_err(|e| e.to_string())?;
        match (status, location) {
            (301 | 302 | 303 | 307 | 308, Some(loc)) => {
                url = url.join(&loc).map_err(|e| format!("bad Location: {e}"))?
            }
            _ => return Ok((status, body)),
        }
    }
    Err("too many redirects".into())
}
