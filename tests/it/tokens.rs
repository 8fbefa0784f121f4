//! Token requests under stress: several `ant` processes refreshing one
//! login at once against a server that rotates refresh tokens (one refresh,
//! every process gets a working token, the file ends with the refresh token
//! the server accepts next); an answer far too large (read no further than
//! the limit); an error answer echoing a secret (shown masked); a password
//! in the token endpoint URL (never shown); shell completion (never
//! refreshes); a command running while the user logs out (the login stays
//! removed).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::signin::{mode, oauth_profile, read_json};
use crate::{Recorded, Reply, Server, ant_std, home, stderr};

/// The server's view of the login: the refresh token it accepts next and
/// the access tokens it issued.
#[derive(Default)]
struct Issued {
    refresh: String,
    access: Vec<String>,
}

/// A token endpoint that rotates refresh tokens and answers a refresh
/// only after `delay` (so that concurrent refreshes overlap), and an API
/// that accepts the access tokens it issued.
fn rotating_server(first_refresh: &str, delay: Duration) -> (Server, Arc<Mutex<Issued>>) {
    let issued = Arc::new(Mutex::new(Issued {
        refresh: first_refresh.to_string(),
        access: Vec::new(),
    }));
    let state = issued.clone();
    let server = Server::start(move |r: &Recorded, i| {
        let mut s = state.lock().unwrap();
        if r.path == "/v1/oauth/token" {
            let body = r.json();
            if body["refresh_token"] != json!(s.refresh) {
                return Reply::Json(
                    400,
                    json!({"error": "invalid_grant", "error_description": "refresh token already used"}),
                );
            }
            let access = format!("sk-ant-oat01-fresh-{i}");
            s.refresh = format!("sk-ant-ort01-next-{i}");
            s.access.push(access.clone());
            let answer = json!({"access_token": access, "refresh_token": s.refresh,
                                "expires_in": 3600, "token_type": "Bearer"});
            return Reply::Chunks(
                200,
                "application/json",
                vec![(delay, answer.to_string().into_bytes())],
            );
        }
        let bearer = r.header("authorization").unwrap_or_default();
        if s.access.iter().any(|a| bearer == format!("Bearer {a}")) {
            Reply::ok(json!({"data": [], "next_page": null}))
        } else {
            Reply::error(401, "authentication_error", "invalid or expired token")
        }
    });
    (server, issued)
}

/// A logged-in profile whose token has expired.
fn expired_login(h: &Path, base: &str) -> std::path::PathBuf {
    oauth_profile(
        h,
        base,
        json!({"version": "1.0", "type": "oauth_token", "access_token": "sk-ant-oat01-old",
               "refresh_token": "sk-ant-ort01-first", "expires_at": 1,
               "account_email": "dev@acme.test", "workspace_id": "wrkspc_1"}),
    )
}

/// Starts `args` in `n` processes at once; returns each one's exit code,
/// stdout and stderr.
fn at_once(h: &Path, runs: &[&[&str]]) -> Vec<(i32, String, String)> {
    let children: Vec<_> = runs
        .iter()
        .map(|args| {
            let mut cmd: Command = ant_std(h);
            cmd.args(*args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("ant starts")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (
                out.status.code().unwrap_or(-1),
                text(&out.stdout),
                stderr(&out),
            )
        })
        .collect()
}

#[test]
fn concurrent_refreshes_spend_the_refresh_token_once_and_all_succeed() {
    let (server, issued) = rotating_server("sk-ant-ort01-first", Duration::from_millis(400));
    let h = home();
    let creds = expired_login(h.path(), &server.url);
    let list: &[&str] = &["beta:agents", "list"];
    let print: &[&str] = &["auth", "print-credentials", "--access-token"];
    let results = at_once(h.path(), &[list, list, list, print, print]);
    for (code, _, err) in &results {
        assert_eq!(*code, 0, "{err}");
        assert!(!err.contains("refresh failed"), "{err}");
    }
    let refreshes = server
        .recorded()
        .iter()
        .filter(|r| r.path == "/v1/oauth/token")
        .count();
    assert_eq!(refreshes, 1, "one refresh for all five processes");
    let s = issued.lock().unwrap();
    // Every printed token is the one issued; the file holds the refresh
    // token the server accepts next, and every other field.
    for (_, out, _) in &results[3..] {
        assert_eq!(out.trim(), s.access[0]);
    }
    let stored: Value = read_json(&creds);
    assert_eq!(stored["access_token"], json!(s.access[0]));
    assert_eq!(stored["refresh_token"], json!(s.refresh));
    assert_eq!(stored["account_email"], "dev@acme.test");
    assert_eq!(stored["workspace_id"], "wrkspc_1");
    assert_eq!(mode(&creds), 0o600);
}

/// A server that answers every request with a 200 JSON body of `size`
/// bytes; returns its URL and how many body bytes it managed to send.
fn endless_answer(size: usize) -> (String, std::thread::JoinHandle<usize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => return 0,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n{{\"pad\":\""
        );
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            match conn.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    (url, sent)
}

#[test]
fn a_token_answer_over_one_mebibyte_is_refused_unread() {
    const SIZE: usize = 256 << 20;
    let (url, sent) = endless_answer(SIZE);
    let h = home();
    let out = ant_std(h.path())
        .args(["--base-url", &url, "--identity-token", "a.b.c"])
        .args(["--federation-rule", "fdrl_1", "--organization-id", "org-1"])
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "failed to get credentials token: POST {url}/v1/oauth/token: the token endpoint answered 200 OK with more than 1024 KiB; refusing to read it"
        )),
        "{}",
        stderr(&out)
    );
    // The server could only fill the socket buffers once ant stopped reading.
    let sent = sent.join().unwrap();
    assert!(sent < 64 << 20, "ant read {sent} bytes of the answer");
}

#[test]
fn a_token_endpoint_error_that_echoes_a_secret_is_shown_redacted() {
    let echo = Server::start(|r, _| {
        let sent = r.json();
        Reply::Json(
            400,
            json!({"error": "invalid_grant", "error_description": "refresh token revoked",
                   "request": sent}),
        )
    });
    let h = home();
    expired_login(h.path(), &echo.url);
    let out = ant_std(h.path())
        .args(["auth", "print-credentials", "--access-token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("and refresh failed: token endpoint returned 400 Bad Request (request_id=req_test_1): {\"error\":\"invalid_grant\",\"error_description\":\"refresh token revoked\""),
        "{err}"
    );
    assert!(!err.contains("sk-ant-ort01-first"), "{err}");
}

#[test]
fn a_password_in_the_token_endpoint_url_never_reaches_stderr() {
    let refuse = Server::start(|_, _| {
        Reply::Json(
            400,
            json!({"error": "invalid_grant", "error_description": "no"}),
        )
    });
    let with_password = refuse.url.replace("http://", "http://user:hunter2@");
    let masked = refuse.url.replace("http://", "http://user:***@");
    let h = home();
    // The refresh of a profile whose base_url has a password, by a command
    // and by print-credentials; and a server that cannot be reached.
    expired_login(h.path(), &with_password);
    for args in [
        &["beta:agents", "list", "--debug"][..],
        &["auth", "print-credentials", "--debug"],
    ] {
        let out = ant_std(h.path()).args(args).output().unwrap();
        let err = stderr(&out);
        assert!(err.contains("refresh failed"), "{err}");
        assert!(
            err.contains(&format!(
                "token refresh POST {masked}/v1/oauth/token -> 400"
            )),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://user:hunter2@{}", l.local_addr().unwrap())
    };
    let h = home();
    expired_login(h.path(), &closed);
    let out = ant_std(h.path())
        .args(["auth", "print-credentials"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("refresh failed: POST http://user:***@"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");

    // A login refused before it starts, and the code exchange of one.
    let h = home();
    let out = ant_std(h.path())
        .args([
            "auth",
            "login",
            "--no-browser",
            "--console-url",
            &refuse.url,
        ])
        .args(["--base-url", "http://user:hunter2@api.example.test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("got \"http://user:***@api.example.test\""),
        "{}",
        stderr(&out)
    );
    let mut cmd = ant_std(h.path());
    cmd.args(["auth", "login", "--no-browser", "--debug"])
        .args(["--console-url", &refuse.url, "--base-url", &with_password]);
    let mut run = crate::signin::Running::spawn(cmd);
    let url = crate::signin::authorize_url(&run.wait_for("Code: "));
    let state = crate::signin::state_of(&url);
    run.paste(&format!("some-code#{state}"));
    let (code, err) = run.finish();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "token exchange POST {masked}/v1/oauth/token -> 400"
        )),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn completion_never_spends_a_refresh_token() {
    // A TAB press is cut off after about a second: a refresh it started
    // could be redeemed by the server and never stored, logging the user
    // out. Completion uses the stored token as it is.
    let (server, _) = rotating_server("sk-ant-ort01-first", Duration::ZERO);
    let h = home();
    let creds = expired_login(h.path(), &server.url);
    let before = std::fs::read(&creds).unwrap();
    let out = ant_std(h.path())
        .env("COMPLETION_STYLE", "fish")
        .args(["__complete", "beta:agents", "retrieve", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let asked: Vec<_> = server.recorded().iter().map(|r| r.path.clone()).collect();
    assert_eq!(asked, ["/v1/agents"], "no refresh");
    assert_eq!(
        server.recorded()[0].header("authorization"),
        Some("Bearer sk-ant-oat01-old")
    );
    assert_eq!(std::fs::read(&creds).unwrap(), before);
}

#[test]
fn a_running_command_does_not_undo_a_logout() {
    // Refreshed tokens live 30 s, so every request refreshes first; the
    // first page is slow, and the user logs out meanwhile.
    let server = Server::start(|r, i| {
        if r.path == "/v1/oauth/token" {
            return Reply::ok(json!({"access_token": format!("sk-ant-oat01-t{i}"),
                                    "refresh_token": format!("sk-ant-ort01-r{i}"),
                                    "expires_in": 30}));
        }
        let page = if r.query_param("page").is_some() {
            json!({"data": [{"id": "agent_2"}], "next_page": null})
        } else {
            json!({"data": [{"id": "agent_1"}], "next_page": "p2"})
        };
        Reply::Chunks(
            200,
            "application/json",
            vec![(Duration::from_millis(600), page.to_string().into_bytes())],
        )
    });
    let h = home();
    let creds = expired_login(h.path(), &server.url);
    let child = ant_std(h.path())
        .args(["beta:agents", "list", "--transform", "id", "-r"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !server.recorded().iter().any(|r| r.path == "/v1/agents") {
        assert!(std::time::Instant::now() < deadline, "no API call");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = ant_std(h.path()).args(["auth", "logout"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The command finishes with the access token it holds (still valid for
    // some seconds), but neither refreshes nor writes the file again.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "agent_1\nagent_2\n");
    assert!(
        stderr(&out).contains("and refresh failed: profile \"default\" was logged out"),
        "{}",
        stderr(&out)
    );
    assert!(!creds.exists(), "the credentials came back");
    let refreshes = server
        .recorded()
        .iter()
        .filter(|r| r.path == "/v1/oauth/token")
        .count();
    assert_eq!(refreshes, 1);
}
