//! One HTTP/1 request head, read under a deadline and parsed, and the one answer sent back.
//!
//! Only what a browser following a redirect sends is needed: a request line and a few headers
//! of a GET. Everything else is refused rather than interpreted: a head past 16 KiB, a second
//! Host header, a request line that is not `METHOD /target HTTP/1.x`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use crate::oauth::pages::{self, Page};

/// A request head bigger than this is not a browser following a redirect.
pub(super) const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The head of one HTTP request, with the connection to answer on.
pub(super) struct Request {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) host: Option<String>,
    pub(super) fetch_mode: Option<String>,
    pub(super) stream: TcpStream,
}

pub(super) enum HeadError {
    /// Timed out, closed early, or failed: nothing worth answering.
    Closed,
    TooLarge,
}

/// Read up to the blank line ending the head. The deadline covers the whole head, so a client
/// dripping one byte at a time is cut off as surely as a silent one.
pub(super) fn read_head(stream: &TcpStream, budget: Duration) -> Result<Vec<u8>, HeadError> {
    // Clamped so that an absurd setting cannot overflow the clock arithmetic.
    let deadline = Instant::now() + budget.min(Duration::from_secs(3600));
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let mut reader = stream;
    loop {
        if let Some(end) = head_end(&head) {
            if end > MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || reader.set_read_timeout(Some(remaining)).is_err() {
            return Err(HeadError::Closed);
        }
        match reader.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Closed),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

/// Where the head ends (before the empty line), accepting bare LF as RFC 9112 §2.2 allows.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Method, request target, Host and Sec-Fetch-Mode of a request head; `None` if malformed.
#[allow(clippy::type_complexity)]
pub(super) fn parse_head(head: &[u8]) -> Option<(String, String, Option<String>, Option<String>)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
        || !version.starts_with("HTTP/1.")
    {
        return None;
    }
    let (mut host, mut fetch_mode) = (None, None);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return None;
        }
        let slot = if name.eq_ignore_ascii_case("host") {
            &mut host
        } else if name.eq_ignore_ascii_case("sec-fetch-mode") {
            &mut fetch_mode
        } else {
            continue;
        };
        // Two Host headers are how request-smuggling tricks start; no browser sends them.
        if slot.is_some() {
            return None;
        }
        *slot = Some(value.trim().to_owned());
    }
    Some((method.to_owned(), target.to_owned(), host, fetch_mode))
}

/// Send one response and close the connection.
pub(super) fn respond(mut stream: TcpStream, page: &Page, extra_headers: &[(&str, &str)]) {
    let bytes = pages::http_response(page, extra_headers);
    if let Err(e) = stream.write_all(&bytes).and_then(|()| stream.flush()) {
        tracing::debug!(error = %e, "could not send the response");
    }
    let _ = stream.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Any bytes a local process sends as a request head are parsed or refused.
            #[test]
            fn any_request_head_is_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
                let _ = parse_head(&bytes);
            }

            /// Any request-shaped head, with any target and headers.
            #[test]
            fn any_request_line_is_parsed_or_refused(
                method in "[A-Z]{0,8}", target in "\\PC{0,80}", version in "HTTP/[0-9.]{0,4}",
                headers in prop::collection::vec(("[!-9;-~]{0,16}", "[ -~]{0,40}"), 0..5),
            ) {
                let mut head = format!("{method} {target} {version}\r\n");
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = parse_head(head.as_bytes());
            }
        }
    }
}
