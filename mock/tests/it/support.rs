//! A tiny blocking HTTP/1.1 client for the emulator's tests: JSON requests
//! and an incremental SSE reader (chunked transfer decoding).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Says that a test was skipped, and why, where `cargo test` shows it: on
/// the real stderr (the test harness captures only `eprintln!`).
pub fn skipped(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The error message of an error envelope.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

pub struct Client {
    pub addr: String,
    pub key: Option<String>,
}

/// A running emulator whose every response is checked against its schema
/// (`check_responses`); dropping it at the end of a test that otherwise
/// passed fails the test if any response did not match.
pub struct Mock(Option<ant_mock::MockHandle>);

impl std::ops::Deref for Mock {
    type Target = ant_mock::MockHandle;
    fn deref(&self) -> &ant_mock::MockHandle {
        self.0.as_ref().expect("running")
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let violations = self.0.as_ref().map(|h| h.violations()).unwrap_or_default();
        if !std::thread::panicking() {
            assert!(
                violations.is_empty(),
                "responses not matching their schemas:\n{}",
                violations.join("\n")
            );
        }
    }
}

pub fn start(config: ant_mock::Config) -> (Mock, Client) {
    let h = ant_mock::start(ant_mock::Config {
        check_responses: true,
        ..config
    })
    .expect("mock starts");
    let addr = h.base_url.trim_start_matches("http://").to_string();
    (
        Mock(Some(h)),
        Client {
            addr,
            key: Some("test-key".into()),
        },
    )
}

/// Reads a response's status line and headers (names lower-cased).
pub fn read_head(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    (status, headers)
}

impl Client {
    fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> BufReader<TcpStream> {
        self.send_to(Some(&self.addr), method, path, content_type, body)
    }

    /// Sends a request with the given `Host` header (none when `None`).
    fn send_to(
        &self,
        host: Option<&str>,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> BufReader<TcpStream> {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
        if let Some(h) = host {
            head.push_str(&format!("host: {h}\r\n"));
        }
        match &self.key {
            // A self-hosted worker's environment key.
            Some(k) if k.starts_with("Bearer ") => head.push_str(&format!(
                "authorization: {k}\r\nanthropic-version: 2023-06-01\r\n"
            )),
            Some(k) => head.push_str(&format!(
                "x-api-key: {k}\r\nanthropic-version: 2023-06-01\r\n"
            )),
            None => {}
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!(
                "content-type: {content_type}\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        BufReader::new(s)
    }

    pub fn raw(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let mut r = self.send(method, path, content_type, body);
        let (status, headers) = read_head(&mut r);
        let mut body = Vec::new();
        r.read_to_end(&mut body).unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A GET with the given `Host` header (none when `None`).
    pub fn get_as(&self, host: Option<&str>, path: &str) -> Resp {
        let mut r = self.send_to(host, "GET", path, "", b"");
        let (status, headers) = read_head(&mut r);
        let mut body = Vec::new();
        r.read_to_end(&mut body).unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.raw("GET", path, "", b"")
    }
    pub fn delete(&self, path: &str) -> Resp {
        self.raw("DELETE", path, "", b"")
    }
    pub fn post(&self, path: &str, body: Value) -> Resp {
        self.raw(
            "POST",
            path,
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    /// Opens an SSE stream.
    pub fn stream(&self, path: &str) -> Sse {
        let mut r = self.send("GET", path, "", b"");
        let (status, _) = read_head(&mut r);
        assert_eq!(status, 200, "stream status");
        Sse {
            r,
            buf: String::new(),
            ended: false,
        }
    }
}

/// One SSE message.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: Value,
}

pub struct Sse {
    r: BufReader<TcpStream>,
    buf: String,
    pub ended: bool,
}

impl Sse {
    fn fill(&mut self) -> bool {
        let mut line = String::new();
        if self.r.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
        if size == 0 {
            return false;
        }
        let mut chunk = vec![0; size + 2];
        if self.r.read_exact(&mut chunk).is_err() {
            return false;
        }
        self.buf.push_str(&String::from_utf8_lossy(&chunk[..size]));
        true
    }

    /// The next event (comments skipped), or `None` when the stream ended.
    pub fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut ev = Event {
                    event: String::new(),
                    id: None,
                    data: Value::Null,
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        ev.event = v.to_string();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        ev.id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        ev.data = serde_json::from_str(v).expect("data is JSON");
                    }
                }
                if any {
                    return Some(ev);
                }
                continue;
            }
            if self.ended || !self.fill() {
                self.ended = true;
                return None;
            }
        }
    }

    /// Events up to and including the first one of type `ty`.
    pub fn until(&mut self, ty: &str) -> Vec<Event> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut out = Vec::new();
        while Instant::now() < deadline {
            match self.next() {
                Some(e) => {
                    let done = e.event == ty;
                    out.push(e);
                    if done {
                        return out;
                    }
                }
                None => break,
            }
        }
        panic!(
            "no {ty} event; got {:?}",
            out.iter().map(|e| e.event.clone()).collect::<Vec<_>>()
        );
    }
}

pub fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

/// Creates an agent (with `tools`), a cloud environment and a session.
pub fn session_with(c: &Client, tools: Value) -> String {
    let agent = c.post(
        "/v1/agents",
        serde_json::json!({"name": "t", "model": "claude-opus-4-7", "tools": tools}),
    );
    assert_eq!(
        agent.status,
        200,
        "{}",
        String::from_utf8_lossy(&agent.body)
    );
    let env = c.post("/v1/environments", serde_json::json!({"name": "e", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}));
    let s = c.post(
        "/v1/sessions",
        serde_json::json!({"agent": agent.json()["id"], "environment_id": env.json()["id"]}),
    );
    assert_eq!(s.status, 200, "{}", String::from_utf8_lossy(&s.body));
    s.json()["id"].as_str().unwrap().to_string()
}

/// The events of one type, in order.
pub fn of_type<'a>(evs: &'a [Event], ty: &str) -> Vec<&'a Event> {
    evs.iter().filter(|e| e.event == ty).collect()
}

pub fn session(c: &Client) -> String {
    session_with(c, serde_json::json!([{"type": "agent_toolset_20260401"}]))
}

pub fn say(c: &Client, sid: &str, text: &str) -> Resp {
    let r = c.post(
        &format!("/v1/sessions/{sid}/events"),
        serde_json::json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": text}]}]}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r
}

/// Uploads a file (multipart) to `path` (`/v1/files`, maybe `?beta=true`);
/// returns its metadata.
pub fn upload_to(c: &Client, path: &str, name: &str, content: &[u8]) -> Value {
    let mut body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--B--\r\n");
    let r = c.raw("POST", path, "multipart/form-data; boundary=B", &body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Uploads a file; returns its id.
pub fn upload(c: &Client, name: &str, content: &[u8]) -> String {
    upload_to(c, "/v1/files?beta=true", name, content)["id"]
        .as_str()
        .unwrap()
        .to_string()
}
