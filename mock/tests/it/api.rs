//! Resource endpoints of ant-mock over real HTTP: CRUD, versions, validation,
//! auth, unknown ids, pagination, files and the not-emulated 404.

use crate::support::*;
use serde_json::json;

#[test]
fn agents_crud_versions_and_conflict() {
    let (_h, c) = start(Default::default());
    let a = c.post("/v1/agents?beta=true", json!({"name": "a", "model": "claude-opus-4-7", "tools": [{"type": "agent_toolset_20260401"}]}));
    assert_eq!(a.status, 200);
    assert!(a.header("request-id").unwrap().starts_with("req_"));
    let a = a.json();
    let id = a["id"].as_str().unwrap();
    assert!(id.starts_with("agent_01"));
    assert_eq!(a["version"], 1);
    assert_eq!(a["model"], json!({"id": "claude-opus-4-7"}));
    assert_eq!(
        a["tools"][0]["default_config"]["permission_policy"]["type"],
        "always_allow"
    );
    assert!(a["created_at"].as_str().unwrap().ends_with('Z'));

    let u = c.post(
        &format!("/v1/agents/{id}"),
        json!({"version": 1, "name": "b"}),
    );
    assert_eq!(u.status, 200);
    assert_eq!(u.json()["version"], 2);
    assert_eq!(u.json()["name"], "b");
    // Stale version.
    let stale = c.post(
        &format!("/v1/agents/{id}"),
        json!({"version": 1, "name": "c"}),
    );
    assert_eq!(stale.status, 409);
    assert!(stale.message().contains("version"));
    // A no-op update keeps the version.
    assert_eq!(
        c.post(
            &format!("/v1/agents/{id}"),
            json!({"version": 2, "name": "b"})
        )
        .json()["version"],
        2
    );

    assert_eq!(
        c.get(&format!("/v1/agents/{id}?version=1")).json()["name"],
        "a"
    );
    assert_eq!(c.get(&format!("/v1/agents/{id}")).json()["name"], "b");
    assert_eq!(c.get(&format!("/v1/agents/{id}?version=9")).status, 404);
    let versions = c.get(&format!("/v1/agents/{id}/versions")).json();
    assert_eq!(versions["data"].as_array().unwrap().len(), 2);
    assert_eq!(versions["data"][0]["version"], 2);

    let ar = c.post(&format!("/v1/agents/{id}/archive"), json!({}));
    assert!(ar.json()["archived_at"].is_string());
    assert_eq!(
        c.get("/v1/agents").json()["data"].as_array().unwrap().len(),
        0
    );
    assert_eq!(
        c.get("/v1/agents?include_archived=true").json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn validation_errors_name_the_field() {
    let (_h, c) = start(Default::default());
    let missing = c.post("/v1/agents", json!({"model": "claude-opus-4-7"}));
    assert_eq!(missing.status, 400);
    let j = missing.json();
    assert_eq!(j["type"], "error");
    assert_eq!(j["error"]["type"], "invalid_request_error");
    assert!(j["request_id"].as_str().unwrap().starts_with("req_"));
    assert!(missing.message().contains("name"), "{}", missing.message());

    let unknown = c.post(
        "/v1/agents",
        json!({"name": "a", "model": "m", "colour": "red"}),
    );
    assert_eq!(unknown.status, 400);
    assert!(unknown.message().contains("colour"));

    let wrong_type = c.post("/v1/agents", json!({"name": 5, "model": "m"}));
    assert_eq!(wrong_type.status, 400);
    assert!(
        wrong_type.message().contains("name"),
        "{}",
        wrong_type.message()
    );

    let bad_enum = c.get("/v1/sessions/sesn_x/events?order=sideways");
    assert_eq!(bad_enum.status, 400);
    assert!(bad_enum.message().contains("order"));

    let bad_query = c.get("/v1/agents?colour=red");
    assert_eq!(bad_query.status, 400);
    assert!(bad_query.message().contains("colour"));

    let bad_json = c.raw("POST", "/v1/agents", "application/json", b"{nope");
    assert_eq!(bad_json.status, 400);

    let bad_event = c.post(
        "/v1/sessions/sesn_x/events",
        json!({"events": [{"type": "user.message", "content": [{"type": "text", "txt": "hi"}]}]}),
    );
    assert_eq!(bad_event.status, 400);
    assert!(
        bad_event.message().contains("events"),
        "{}",
        bad_event.message()
    );
}

#[test]
fn auth_and_not_found() {
    let (_h, mut c) = start(Default::default());
    assert_eq!(c.get("/v1/agents/agent_nope").status, 404);
    assert_eq!(
        c.get("/v1/agents/agent_nope").json()["error"]["type"],
        "not_found_error"
    );
    assert_eq!(c.get("/v1/sessions/sesn_nope").status, 404);
    assert_eq!(c.get("/v1/environments/env_nope").status, 404);
    // Every operation of the table is answered (none is "not emulated").
    assert_eq!(c.get("/v1/models").status, 200);
    // A multipart list field (`files[]`) is read as the list it is: the
    // answer is about the skill's SKILL.md, not the body's shape.
    let body = b"--b\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"SKILL.md\"\r\nContent-Type: text/markdown\r\n\r\n# s\r\n--b--\r\n";
    let skills = c.raw(
        "POST",
        "/v1/skills?beta=true",
        "multipart/form-data; boundary=b",
        body,
    );
    assert_eq!(skills.status, 400, "{}", skills.message());
    assert!(
        skills.message().starts_with("SKILL.md: its front matter"),
        "{}",
        skills.message()
    );
    assert_eq!(c.get("/v2/whatever").status, 404);
    c.key = None;
    let r = c.get("/v1/agents");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    assert!(r.header("request-id").is_some());
}

#[test]
fn pagination_walks_every_item_once() {
    let (_h, c) = start(Default::default());
    for i in 0..5 {
        assert_eq!(
            c.post("/v1/environments", json!({"name": format!("e{i}")}))
                .status,
            200
        );
    }
    let mut names = Vec::new();
    let mut path = "/v1/environments?limit=2".to_string();
    loop {
        let page = c.get(&path).json();
        for e in page["data"].as_array().unwrap() {
            names.push(e["name"].as_str().unwrap().to_string());
        }
        match page["next_page"].as_str() {
            Some(p) => path = format!("/v1/environments?limit=2&page={p}"),
            None => break,
        }
    }
    assert_eq!(names, ["e4", "e3", "e2", "e1", "e0"]);
    // Out of range is said as such, not as "a string".
    for limit in ["0", "-1", "1001"] {
        let r = c.get(&format!("/v1/environments?limit={limit}"));
        assert_eq!(r.status, 400);
        assert!(r.message().starts_with("limit: "), "{}", r.message());
        assert!(!r.message().contains("string"), "{limit}: {}", r.message());
    }
    let r = c.get("/v1/environments?limit=ten");
    assert_eq!(r.message(), "limit: expected integer, got string");
    assert_eq!(c.get("/v1/environments?page=garbage").status, 400);
    // Sessions list pages both ways.
    let sid = session(&c);
    let list = c.get("/v1/sessions?limit=1").json();
    assert_eq!(list["data"][0]["id"], sid.as_str());
    assert!(list.get("prev_page").is_some());
}

#[test]
fn environments_sessions_and_files() {
    let (_h, c) = start(Default::default());
    let env = c
        .post(
            "/v1/environments",
            json!({"name": "e", "metadata": {"k": "v"}}),
        )
        .json();
    assert_eq!(env["config"]["type"], "cloud");
    assert_eq!(env["config"]["packages"]["pip"], json!([]));
    let id = env["id"].as_str().unwrap();
    let up = c
        .post(
            &format!("/v1/environments/{id}"),
            json!({"metadata": {"k": null, "x": "y"}}),
        )
        .json();
    assert_eq!(up["metadata"], json!({"x": "y"}));
    assert_eq!(
        c.delete(&format!("/v1/environments/{id}")).json()["type"],
        "environment_deleted"
    );
    assert_eq!(c.get(&format!("/v1/environments/{id}")).status, 404);

    // Multipart upload, metadata, download, delete.
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nhello file\r\n--XyZ--\r\n";
    let f = c.raw(
        "POST",
        "/v1/files",
        "multipart/form-data; boundary=XyZ",
        body,
    );
    assert_eq!(f.status, 200, "{}", String::from_utf8_lossy(&f.body));
    let f = f.json();
    assert!(f["id"].as_str().unwrap().starts_with("file_01"));
    assert_eq!(f["size_bytes"], 10);
    let fid = f["id"].as_str().unwrap();
    let dl = c.get(&format!("/v1/files/{fid}/content"));
    assert_eq!(dl.body, b"hello file");
    assert_eq!(dl.header("content-type"), Some("text/plain"));
    assert_eq!(
        c.get("/v1/files").json()["data"].as_array().unwrap().len(),
        1
    );

    // A session with that file mounted can read it.
    let sid = session(&c);
    let res = c.post(
        &format!("/v1/sessions/{sid}/resources"),
        json!({"type": "file", "file_id": fid, "mount_path": "/data/notes.txt"}),
    );
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(
        c.get(&format!("/v1/sessions/{sid}/resources")).json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let threads = c.get(&format!("/v1/sessions/{sid}/threads")).json();
    assert_eq!(threads["data"][0]["session_id"], sid.as_str());

    assert_eq!(
        c.delete(&format!("/v1/files/{fid}")).json()["type"],
        "file_deleted"
    );
    assert_eq!(c.get(&format!("/v1/files/{fid}")).status, 404);
    assert_eq!(
        c.delete(&format!("/v1/sessions/{sid}")).json()["type"],
        "session_deleted"
    );
    assert_eq!(c.get(&format!("/v1/sessions/{sid}")).status, 404);
}

#[test]
fn vaults_and_memory_stores() {
    let (_h, c) = start(Default::default());
    let v = c.post("/v1/vaults", json!({"display_name": "v"})).json();
    let vid = v["id"].as_str().unwrap();
    assert!(vid.starts_with("vlt_01"));
    let cred = c.post(
        &format!("/v1/vaults/{vid}/credentials"),
        json!({"auth": {"type": "static_bearer", "mcp_server_url": "https://mcp.example", "token": "s3cret"}}),
    );
    assert_eq!(cred.status, 200, "{}", String::from_utf8_lossy(&cred.body));
    assert!(!String::from_utf8_lossy(&cred.body).contains("s3cret"));
    assert_eq!(
        c.get(&format!("/v1/vaults/{vid}/credentials")).json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let m = c.post("/v1/memory_stores", json!({"name": "m"})).json();
    let mid = m["id"].as_str().unwrap();
    let mem = c
        .post(
            &format!("/v1/memory_stores/{mid}/memories?view=full"),
            json!({"path": "/notes/a.md", "content": "abc"}),
        )
        .json();
    assert_eq!(
        mem["content_sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(mem["content"], "abc");
    let memid = mem["id"].as_str().unwrap();
    let bad = c.post(
        &format!("/v1/memory_stores/{mid}/memories/{memid}"),
        json!({"content": "x", "precondition": {"type": "content_sha256", "content_sha256": "nope"}}),
    );
    assert_eq!(bad.status, 409);
    assert_eq!(
        c.get(&format!("/v1/memory_stores/{mid}/memory_versions"))
            .json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn fail_rate_is_deterministic_with_a_seed() {
    let cfg = || ant_mock::Config {
        fail_rate: 0.5,
        seed: Some(7),
        ..Default::default()
    };
    let statuses = |c: &Client| {
        (0..20)
            .map(|_| c.get("/v1/agents").status)
            .collect::<Vec<_>>()
    };
    let (_h1, c1) = start(cfg());
    let (_h2, c2) = start(cfg());
    let a = statuses(&c1);
    assert_eq!(a, statuses(&c2));
    assert!(
        a.contains(&200) && a.iter().any(|s| [429, 500, 529].contains(s)),
        "{a:?}"
    );
    let r = (0..50)
        .map(|_| c1.get("/v1/agents"))
        .find(|r| r.status == 429 || r.status == 529)
        .unwrap();
    assert_eq!(r.header("retry-after"), Some("0"));
}

#[test]
fn foreign_host_headers_are_refused() {
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 still
    // sends `Host: evil.example`.
    let (_h, c) = start(ant_mock::Config {
        allow_bash: true,
        ..Default::default()
    });
    for host in [
        Some("evil.example"),
        Some("evil.example:4010"),
        Some("localhost.evil.example"),
        None,
    ] {
        let r = c.get_as(host, "/v1/agents");
        assert_eq!(r.status, 403, "{host:?}");
        let body = r.json();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "permission_error");
        let rid = r.header("request-id").expect("request-id").to_string();
        assert!(rid.starts_with("req_"));
        assert_eq!(body["request_id"], rid.as_str());
    }
    // Checked before authentication.
    let anon = Client {
        addr: c.addr.clone(),
        key: None,
    };
    assert_eq!(anon.get_as(Some("evil.example"), "/v1/agents").status, 403);
    assert_eq!(anon.get_as(Some("localhost"), "/v1/agents").status, 401);
    let port = c.addr.rsplit(':').next().unwrap();
    for host in [
        format!("localhost:{port}"),
        "LOCALHOST".into(),
        format!("127.0.0.1:{port}"),
        "[::1]:80".into(),
        "::1".into(),
    ] {
        assert_eq!(c.get_as(Some(&host), "/v1/agents").status, 200, "{host}");
    }
}

#[test]
fn malformed_multipart_answers_400() {
    let (_h, c) = start(Default::default());
    let ct = "multipart/form-data; boundary=B";
    let repro =
        b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n--B--\r\n";
    for body in [
        &repro[..],
        b"--B",
        b"--B\r\n",
        b"--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx",
        b"garbage",
    ] {
        let r = c.raw("POST", "/v1/files", ct, body);
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    // An empty file is fine when well formed, and a huge expiry saturates.
    let ok = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"expires_in_seconds\"\r\n\r\n9223372036854775807\r\n--B--\r\n";
    let r = c.raw("POST", "/v1/files", ct, ok);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["size_bytes"], 0);
    assert_eq!(r.json()["expires_at"], "9999-12-31T23:59:59.999Z");
    // The server is still up.
    assert_eq!(c.get("/v1/files").status, 200);
}

#[test]
fn remote_bash_needs_an_explicit_flag() {
    let bin = env!("CARGO_BIN_EXE_ant-mock");
    let out = std::process::Command::new(bin)
        .args(["--host", "0.0.0.0", "--port", "0", "--allow-bash"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--allow-remote-bash") && err.contains("0.0.0.0"),
        "{err}"
    );

    // With the flag it starts, and warns that it is reachable; a loopback
    // host needs no flag and gets no warning.
    let start_bin = |args: &[&str]| {
        let mut child = std::process::Command::new(bin)
            .args(args)
            .args(["--port", "0", "--allow-bash", "--quiet"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        (line, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (url, err) = start_bin(&["--host", "0.0.0.0", "--allow-remote-bash"]);
    assert!(url.starts_with("http://0.0.0.0:"), "{url}");
    assert!(
        err.contains("warning") && err.contains("not a loopback"),
        "{err}"
    );
    let (url, err) = start_bin(&["--host", "localhost"]);
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("http://[::1]:"),
        "{url}"
    );
    assert_eq!(err, "");
}
