//! The pages the loopback listener sends back to the browser, and the HTTP response around them.
//!
//! They live apart from the listener so that what a user (or an attacker probing the port) can
//! see is in one short file that is easy to review. The pages are static: they take no input
//! except the provider's `error` and `error_description` on the failure page, which are
//! HTML-escaped, and they never receive the authorization code or the `state`, so they cannot
//! echo them. Every response carries headers that keep the page out of caches and history
//! (`no-store`), stop the callback address (with its code) leaking through `Referer`, and forbid
//! scripts, frames and content sniffing.

/// A response the listener can send: a status and an HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub status: u16,
    pub body: String,
}

/// The headers every response carries, whatever its status.
pub(crate) const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "text/html; charset=utf-8"),
    // The callback URL holds a live authorization code: keep the page out of every cache.
    ("Cache-Control", "no-store"),
    // A link followed from this page must not carry the callback URL in `Referer`.
    ("Referrer-Policy", "no-referrer"),
    // The pages need nothing: no scripts, styles, images or frames, and may not be framed.
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    ("X-Content-Type-Options", "nosniff"),
];

/// Longest provider text shown on the failure page; a description is a sentence, not a book.
const MAX_SHOWN_CHARS: usize = 500;

/// The page after a code arrived with the right `state`.
///
/// The token exchange still runs in the terminal after this, so the page says integ is
/// finishing there rather than promising more than the browser can know.
pub(crate) fn success() -> Page {
    page(
        200,
        "integ: connected",
        "integ is connected",
        "<p>integ received your approval and is finishing the connection in the terminal.</p>\n\
         <p>You can close this tab and go back to the terminal.</p>",
    )
}

/// The page after the provider refused (the user declined, or an `error=` came back).
pub(crate) fn failure(error: &str, description: Option<&str>) -> Page {
    let detail = match description.filter(|d| !d.trim().is_empty()) {
        Some(d) => format!(
            "<p>The provider answered <code>{}</code>: {}</p>\n",
            escape_html(&shorten(error)),
            escape_html(&shorten(d))
        ),
        None => format!("<p>The provider answered <code>{}</code>.</p>\n", escape_html(&shorten(error))),
    };
    page(
        200,
        "integ: authorization failed",
        "Authorization failed",
        &format!(
            "<p>Access was not granted, so integ is not connected.</p>\n{detail}\
             <p>To try again, run <code>integ connect</code> in the terminal and approve \
             access. You can close this tab.</p>"
        ),
    )
}

/// A request to the callback path that does not belong to this sign-in (missing or wrong
/// `state`, or no code). Deliberately vague: it is what a forged callback gets too.
pub(crate) fn bad_request() -> Page {
    page(
        400,
        "integ: invalid callback",
        "This is not the sign-in integ is waiting for",
        "<p>The address did not match the sign-in integ started. If you are connecting an \
         account, finish in the tab integ opened, or run <code>integ connect</code> again.</p>",
    )
}

/// Any path other than the callback (for example the browser's `/favicon.ico`).
pub(crate) fn not_found() -> Page {
    page(404, "integ: not found", "Not found", "<p>Nothing is served here.</p>")
}

/// The callback path with a method other than GET; the provider only ever redirects with GET.
pub(crate) fn method_not_allowed() -> Page {
    page(405, "integ: method not allowed", "Method not allowed", "<p>Only GET is accepted here.</p>")
}

/// The full HTTP/1.1 response for `page`: status line, headers, body. The connection is always
/// closed after one response, so keep-alive never holds a socket open.
pub(crate) fn http_response(page: &Page, extra_headers: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", page.status, reason(page.status));
    for (name, value) in SECURITY_HEADERS.iter().chain(extra_headers) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", page.body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(page.body.as_bytes());
    bytes
}

/// Escape text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    if text.chars().nth(MAX_SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn page(status: u16, title: &str, heading: &str, body_html: &str) -> Page {
    // No inline style or script: the Content-Security-Policy above would block them anyway.
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n</head>\n\
         <body>\n<h1>{heading}</h1>\n{body_html}\n</body>\n</html>\n"
    );
    Page { status, body }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_distinctive() {
        assert!(success().body.contains("<title>integ: connected</title>"));
        assert!(failure("access_denied", None).body.contains("<title>integ: authorization failed</title>"));
    }

    #[test]
    fn failure_page_escapes_provider_text() {
        let page = failure("access<b>", Some("<script>alert('x')</script> & \"more\""));
        assert!(!page.body.contains("<script>"));
        assert!(!page.body.contains("<b>"));
        assert!(page.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;"));
        assert!(page.body.contains("&quot;more&quot;"));
    }

    #[test]
    fn failure_page_shortens_long_descriptions() {
        let long = "a".repeat(10_000);
        let page = failure("access_denied", Some(&long));
        assert!(page.body.len() < 2_000);
        assert!(page.body.contains('…'));
    }

    #[test]
    fn response_has_security_headers_and_length() {
        let bytes = http_response(&success(), &[]);
        let text = String::from_utf8(bytes).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        for needle in [
            "Cache-Control: no-store",
            "Referrer-Policy: no-referrer",
            "Content-Security-Policy: default-src 'none'",
            "X-Content-Type-Options: nosniff",
            "Content-Type: text/html; charset=utf-8",
            "Connection: close",
        ] {
            assert!(head.contains(needle), "missing {needle}");
        }
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
