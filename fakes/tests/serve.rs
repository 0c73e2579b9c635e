//! The fakes as a program: `serve` prints its banner (base URL, the client's environment, its
//! clock) and answers on loopback. Building this test also builds the `integ-fakes` binary
//! that integ's own integration tests start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn serve_prints_its_banner_and_answers_on_its_clock() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_integ-fakes"))
        .args(["serve", "--port", "0", "--exit-on-stdin-eof", "--now", "2026-11-21T12:00:00Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start integ-fakes");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let banner: serde_json::Value = serde_json::from_str(&line).expect("a JSON banner");
    let base = banner["base_url"].as_str().expect("base_url");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(banner["env"]["INTEG_JOBBER_API_URL"].as_str().is_some_and(|u| u.starts_with(base)), "{banner}");
    let now = banner["now"].as_f64().expect("now");
    assert!((1_795_262_400.0..1_795_262_460.0).contains(&now), "{now}");

    let mut conn = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    conn.write_all(b"GET /_fake/clock HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"now\":17952624"), "{answer}");

    drop(child.stdin.take()); // --exit-on-stdin-eof
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}
