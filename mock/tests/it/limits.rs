//! ant-mock under abuse: clients that never finish their request, too many
//! connections, file descriptors running out, and bodies past the limit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// Opens a raw connection to the emulator.
fn connect(c: &Client) -> TcpStream {
    let s = TcpStream::connect(&c.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// A request head with auth, for a body of `len` bytes (`None`: chunked).
fn head(method: &str, path: &str, len: Option<u64>) -> String {
    let length = match len {
        Some(n) => format!("content-length: {n}"),
        None => "transfer-encoding: chunked".into(),
    };
    format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nx-api-key: k\r\n\
         content-type: application/json\r\n{length}\r\n\r\n"
    )
}

/// Reads one response (status, headers, `content-length` body) off a
/// connection that may stay open.
fn response(s: &TcpStream) -> (u16, Vec<(String, String)>, Value) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let (status, headers) = read_head(&mut r);
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .expect("content-length");
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, headers, serde_json::from_slice(&body).unwrap())
}

/// Whether the server closes the connection within `within`.
fn closed_within(mut s: &TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 before the close
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn quick_timeouts() -> ant_mock::Config {
    ant_mock::Config {
        read_timeout: Duration::from_millis(300),
        ..Default::default()
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let (_h, c) = start(quick_timeouts());
    let mut s = connect(&c);
    s.write_all(b"GET /v1/agents HTTP/1.1\r\nhost: localhost\r\n")
        .unwrap();
    let t = Instant::now();
    assert!(closed_within(&s, Duration::from_secs(5)), "still open");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // A silent connection too.
    let silent = connect(&c);
    assert!(closed_within(&silent, Duration::from_secs(5)), "still open");
    // And a kept-alive connection left idle after a request.
    let mut idle = connect(&c);
    idle.write_all(head("GET", "/v1/agents", Some(0)).as_bytes())
        .unwrap();
    assert_eq!(response(&idle).0, 200);
    assert!(closed_within(&idle, Duration::from_secs(5)), "still open");
    // Others are served meanwhile and after.
    assert_eq!(c.get("/v1/agents").status, 200);
}

#[test]
fn a_body_that_never_arrives_gets_408() {
    let (_h, c) = start(quick_timeouts());
    let mut s = connect(&c);
    s.write_all(head("POST", "/v1/agents", Some(100)).as_bytes())
        .unwrap();
    s.write_all(b"{\"name\":").unwrap();
    let t = Instant::now();
    let (status, headers, body) = response(&s);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(status, 408);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "timeout_error");
    assert!(headers.contains(&("connection".into(), "close".into())));
    assert!(closed_within(&s, Duration::from_secs(5)));
}

#[test]
fn connections_past_the_limit_get_503_and_slots_free_up() {
    let (_h, c) = start(ant_mock::Config {
        max_connections: Some(2),
        ..Default::default()
    });
    // Two kept-alive connections, each served once, hold both slots.
    let held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(&c);
            s.write_all(head("GET", "/v1/agents", Some(0)).as_bytes())
                .unwrap();
            assert_eq!(response(&s).0, 200);
            s
        })
        .collect();
    let r = c.get("/v1/agents");
    assert_eq!(r.status, 503);
    let body = r.json();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert!(r.message().contains("2 connections"), "{}", r.message());
    assert!(r.header("request-id").unwrap().starts_with("req_"));
    assert_eq!(r.header("retry-after"), Some("1"));
    // The held ones still work; closing one frees its slot.
    let mut first = &held[0];
    first
        .write_all(head("GET", "/v1/environments", Some(0)).as_bytes())
        .unwrap();
    assert_eq!(response(first).0, 200);
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.get("/v1/agents").status != 200 {
        assert!(Instant::now() < deadline, "the slots were never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bodies_past_the_limit_get_413_before_they_are_read() {
    let (_h, c) = start(ant_mock::Config {
        max_body: 1024,
        ..Default::default()
    });
    // Declared too large: refused at once, without waiting for the body.
    let mut s = connect(&c);
    s.write_all(head("POST", "/v1/agents", Some(100 << 20)).as_bytes())
        .unwrap();
    s.write_all(&[b' '; 4096]).unwrap();
    let (status, headers, body) = response(&s);
    assert_eq!(status, 413);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "request_too_large");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1024"),
        "{body}"
    );
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
    assert!(headers.contains(&("connection".into(), "close".into())));

    // Chunked: cut off once past the limit, while the client still sends.
    let mut s = connect(&c);
    s.write_all(head("POST", "/v1/agents", None).as_bytes())
        .unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = format!("{:x}\r\n{}\r\n", 512, " ".repeat(512));
        // 8 MiB in all unless the server stops reading: write errors end it.
        for _ in 0..(8 << 20) / 512 {
            if w.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
        let _ = w.write_all(b"0\r\n\r\n");
    });
    let (status, _, body) = response(&s);
    assert_eq!(status, 413);
    assert_eq!(body["error"]["type"], "request_too_large");
    drop(s);
    writer.join().unwrap();

    // Within the limit is fine, and the server is still up.
    let ok = c.post(
        "/v1/agents",
        serde_json::json!({"name": "a", "model": "claude-opus-4-7"}),
    );
    assert_eq!(ok.status, 200);
}

#[test]
fn the_default_limit_is_32_mib() {
    let (_h, c) = start(Default::default());
    assert_eq!(ant_mock::DEFAULT_MAX_BODY, 32 << 20);
    let mut s = connect(&c);
    s.write_all(head("POST", "/v1/agents", Some((32 << 20) + 1)).as_bytes())
        .unwrap();
    assert_eq!(response(&s).0, 413);
    // Exactly the limit is read (and then judged on its content).
    let mut s = connect(&c);
    s.write_all(head("POST", "/v1/agents", Some(32 << 20)).as_bytes())
        .unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..32 {
            w.write_all(&spaces).unwrap();
        }
    });
    let (status, _, body) = response(&s);
    writer.join().unwrap();
    assert_eq!(status, 400, "{body}");
}

/// Starts the `ant-mock` binary with `args`, allowed at most `files` open
/// files; returns it and its base URL.
#[cfg(target_os = "linux")]
fn spawn_binary(args: &[&str], files: u64) -> (std::process::Child, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ant-mock"));
    cmd.args(["--port", "0", "--quiet"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: files as libc::rlim_t,
                rlim_max: files as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("ant-mock starts");
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    (child, url.trim().to_string())
}

/// CPU time (user + system) a process has used.
#[cfg(target_os = "linux")]
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the `(comm)`: state is the 3rd field, utime the 14th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Duration::from_secs_f64((f[0] + f[1]) as f64 / ticks)
}

#[cfg(target_os = "linux")]
#[test]
fn running_out_of_file_descriptors_does_not_spin_and_recovers() {
    // 40 files: a few for the runtime, the rest for connections; the cap
    // is set higher on purpose, so accepting runs into EMFILE.
    let (mut child, url) = spawn_binary(&["--max-connections", "1000", "--read-timeout", "60"], 40);
    let c = Client {
        addr: url.trim_start_matches("http://").to_string(),
        key: Some("k".into()),
    };
    assert_eq!(c.get("/v1/agents").status, 200);
    let idle: Vec<TcpStream> = (0..80).map(|_| connect(&c)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time(child.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_time(child.id()) - before;
    drop(idle);
    // A client arriving now is served once descriptors are free again.
    let t = Instant::now();
    let status = c.get("/v1/agents").status;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        used < Duration::from_millis(250),
        "the accept loop spun: {used:?} of CPU in 1 s"
    );
    assert_eq!(status, 200);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn the_binary_takes_the_limit_flags() {
    let bin = env!("CARGO_BIN_EXE_ant-mock");
    let out = std::process::Command::new(bin)
        .args(["--max-body", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--max-body: invalid size \"lots\""), "{err}");

    #[cfg(target_os = "linux")]
    {
        let (mut child, url) = spawn_binary(&["--max-body", "1k"], 1024);
        let c = Client {
            addr: url.trim_start_matches("http://").to_string(),
            key: Some("k".into()),
        };
        let mut s = connect(&c);
        s.write_all(head("POST", "/v1/agents", Some(1025)).as_bytes())
            .unwrap();
        let status = response(&s).0;
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(status, 413);
    }
}

#[test]
fn an_event_stream_outlives_the_read_timeout() {
    let (_h, c) = start(quick_timeouts());
    let sid = session(&c);
    let mut s = c.stream(&format!("/v1/sessions/{sid}/events/stream"));
    std::thread::sleep(Duration::from_millis(1000));
    say(&c, &sid, "/say still here");
    let evs = s.until("session.status_idle");
    assert_eq!(of_type(&evs, "agent.message").len(), 1);
    // On a kept-alive connection too (as the SDKs and `ant` hold them).
    let mut raw = connect(&c);
    raw.write_all(head("GET", &format!("/v1/sessions/{sid}/events/stream"), Some(0)).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    say(&c, &sid, "/say and here");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("session.status_idle") {
        match raw.read(&mut buf) {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            other => panic!(
                "stream ended: {other:?}: {}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    assert!(String::from_utf8_lossy(&seen).contains("and here"));
}
