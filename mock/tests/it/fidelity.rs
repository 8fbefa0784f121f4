//! ant-mock answering like the real API where the official clients showed
//! it did not: resource mounts, memory views, file paging, credential
//! updates, archived environments and required response fields.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::*;

fn sandbox(h: &Mock, sid: &str) -> std::path::PathBuf {
    h.sandbox_root.join(sid)
}

#[test]
fn resources_mount_at_their_file_id_by_default() {
    let (h, c) = start(Default::default());
    let fid = upload(&c, "notes.txt", b"hello");
    let sid = session(&c);
    let r = c.post(
        &format!("/v1/sessions/{sid}/resources"),
        json!({"type": "file", "file_id": fid}),
    );
    assert_eq!(r.status, 200, "{}", r.message());
    let mount = format!("/mnt/session/uploads/{fid}");
    assert_eq!(r.json()["mount_path"], mount.as_str());
    let on_disk = sandbox(&h, &sid).join(mount.trim_start_matches('/'));
    assert_eq!(std::fs::read(on_disk).unwrap(), b"hello");

    // The same at session creation.
    let agent = c.post(
        "/v1/agents",
        json!({"name": "a", "model": "claude-opus-4-7"}),
    );
    let env = c.post("/v1/environments", json!({"name": "e"}));
    let s = c.post(
        "/v1/sessions",
        json!({"agent": agent.json()["id"], "environment_id": env.json()["id"],
               "resources": [{"type": "file", "file_id": fid}]}),
    );
    assert_eq!(s.status, 200, "{}", s.message());
    assert_eq!(s.json()["resources"][0]["mount_path"], mount.as_str());
}

/// The agent sees mounts at their absolute `mount_path`: `/read` of that
/// path reads the file (mapped into the sandbox), as the relative one does.
#[test]
fn the_agent_reads_a_mount_at_its_absolute_path() {
    let (_h, c) = start(Default::default());
    let fid = upload(&c, "notes.txt", b"hello mount");
    let sid = session(&c);
    let r = c.post(
        &format!("/v1/sessions/{sid}/resources"),
        json!({"type": "file", "file_id": fid, "mount_path": "/data/notes.txt"}),
    );
    assert_eq!(r.status, 200, "{}", r.message());
    let r = c.post(
        &format!("/v1/sessions/{sid}/resources"),
        json!({"type": "file", "file_id": fid}),
    );
    assert_eq!(r.status, 200, "{}", r.message());
    let mut s = c.stream(&format!("/v1/sessions/{sid}/stream"));
    say(
        &c,
        &sid,
        &format!("/read /data/notes.txt\n/read data/notes.txt\n/read /mnt/session/uploads/{fid}"),
    );
    let evs = s.until("session.status_idle");
    let results = of_type(&evs, "agent.tool_result");
    assert_eq!(results.len(), 3);
    for r in results {
        assert_eq!(r.data["is_error"], false, "{}", r.data);
        let text = r.data["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("hello mount"), "{text}");
    }
}

#[test]
fn mounts_cannot_leave_the_sandbox_and_failures_are_errors() {
    let (h, c) = start(Default::default());
    let fid = upload(&c, "f", b"data");
    let sid = session(&c);
    let outside = std::env::temp_dir().join(format!("ant-mock-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    // What `/bash ln -s /tmp/x outlink` would leave in the sandbox.
    std::os::unix::fs::symlink(&outside, sandbox(&h, &sid).join("outlink")).unwrap();
    let add = |mount: &str| {
        c.post(
            &format!("/v1/sessions/{sid}/resources"),
            json!({"type": "file", "file_id": fid, "mount_path": mount}),
        )
    };
    for mount in ["/outlink/f", "outlink/f", "/../../f", "/a/../../f"] {
        let r = add(mount);
        assert_eq!(r.status, 400, "{mount}: {}", r.message());
        assert!(r.message().starts_with("mount_path:"), "{}", r.message());
        assert!(r.message().contains("escapes"), "{}", r.message());
    }
    assert!(!outside.join("f").exists(), "written through the symlink");
    let _ = std::fs::remove_dir_all(&outside);

    // A mount onto a directory, or the sandbox itself, cannot be written.
    assert_eq!(add("/data/x").status, 200);
    let onto_dir = add("/data");
    assert_eq!(onto_dir.status, 400);
    assert!(
        onto_dir.message().contains("is a directory"),
        "{}",
        onto_dir.message()
    );
    assert_eq!(add("/").status, 400);
    // Failed mounts added nothing.
    let list = c.get(&format!("/v1/sessions/{sid}/resources")).json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // A session whose mount fails is not created, and leaves no sandbox.
    let agent = c.post(
        "/v1/agents",
        json!({"name": "a", "model": "claude-opus-4-7"}),
    );
    let env = c.post("/v1/environments", json!({"name": "e"}));
    let before = std::fs::read_dir(&h.sandbox_root).unwrap().count();
    let s = c.post(
        "/v1/sessions",
        json!({"agent": agent.json()["id"], "environment_id": env.json()["id"],
               "resources": [{"type": "file", "file_id": fid, "mount_path": "/../x"}]}),
    );
    assert_eq!(s.status, 400, "{}", s.message());
    assert_eq!(std::fs::read_dir(&h.sandbox_root).unwrap().count(), before);
    assert_eq!(
        c.get("/v1/sessions").json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn memories_and_versions_are_retrieved_in_full_by_default() {
    let (_h, c) = start(Default::default());
    let store = c.post("/v1/memory_stores", json!({"name": "m"})).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/v1/memory_stores/{store}");
    let mem = c.post(
        &format!("{base}/memories"),
        json!({"path": "/a.md", "content": "abc"}),
    );
    let mem = mem.json();
    let (id, ver) = (
        mem["id"].as_str().unwrap(),
        mem["memory_version_id"].as_str().unwrap(),
    );
    assert_eq!(
        c.get(&format!("{base}/memories/{id}")).json()["content"],
        "abc"
    );
    assert_eq!(
        c.get(&format!("{base}/memory_versions/{ver}")).json()["content"],
        "abc"
    );
    // `view=basic` still leaves the content out; lists default to basic.
    assert!(c.get(&format!("{base}/memories/{id}?view=basic")).json()["content"].is_null());
    assert!(
        c.get(&format!("{base}/memory_versions/{ver}?view=basic"))
            .json()["content"]
            .is_null()
    );
    assert!(c.get(&format!("{base}/memories")).json()["data"][0]["content"].is_null());
    assert_eq!(
        c.get(&format!("{base}/memories/{id}?view=nope")).status,
        400
    );
}

#[test]
fn memory_versions_name_the_api_key_and_filter_by_actor() {
    let (_h, c) = start(Default::default());
    let other = Client {
        addr: c.addr.clone(),
        key: Some("another-key".into()),
    };
    let store = c.post("/v1/memory_stores", json!({"name": "m"})).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/v1/memory_stores/{store}");
    c.post(
        &format!("{base}/memories"),
        json!({"path": "/a", "content": "1"}),
    );
    other.post(
        &format!("{base}/memories"),
        json!({"path": "/b", "content": "2"}),
    );
    let versions = c.get(&format!("{base}/memory_versions")).json();
    let actors: Vec<Value> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["created_by"].clone())
        .collect();
    assert_eq!(actors.len(), 2);
    let ids: Vec<&str> = actors
        .iter()
        .map(|a| {
            assert_eq!(a["type"], "api_actor");
            a["api_key_id"].as_str().expect("api_key_id")
        })
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("apikey_01")), "{ids:?}");
    assert_ne!(ids[0], ids[1], "different keys, different ids");
    // Filtering by actor keeps that key's versions only.
    let mine = c.get(&format!("{base}/memory_versions?api_key_id={}", ids[1]));
    let mine = mine.json();
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["path"], "/a");
    for filter in [
        "service_account_id=svac_01x",
        "session_id=sesn_01x",
        "api_key_id=apikey_01x",
    ] {
        let none = c.get(&format!("{base}/memory_versions?{filter}")).json();
        assert_eq!(none["data"], json!([]), "{filter}");
    }
}

/// Uploads `n` files named f0.. and returns their ids, newest first.
fn files(c: &Client, n: usize) -> Vec<String> {
    let mut ids: Vec<String> = (0..n).map(|i| upload(c, &format!("f{i}"), b"x")).collect();
    ids.reverse();
    ids
}

#[test]
fn file_lists_page_by_id_for_the_official_cli() {
    let (_h, c) = start(Default::default());
    let all = files(&c, 29);
    // The official CLI: `after_id` = `last_id` while `has_more`.
    let mut seen = Vec::new();
    let mut path = "/v1/files?beta=true&limit=10".to_string();
    loop {
        let page = c.get(&path).json();
        let data = page["data"].as_array().unwrap();
        assert_eq!(page["first_id"], data[0]["id"]);
        assert_eq!(page["last_id"], data[data.len() - 1]["id"]);
        seen.extend(data.iter().map(|f| f["id"].as_str().unwrap().to_string()));
        if page["has_more"] != true {
            break;
        }
        path = format!(
            "/v1/files?beta=true&limit=10&after_id={}",
            page["last_id"].as_str().unwrap()
        );
    }
    assert_eq!(seen, all);
    // Backwards from the middle: the ten newer files just before it.
    let back = c
        .get(&format!(
            "/v1/files?beta=true&limit=10&before_id={}",
            all[15]
        ))
        .json();
    let ids: Vec<&str> = back["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, all[5..15]);
    assert_eq!(back["has_more"], true);
    let first = c
        .get(&format!(
            "/v1/files?beta=true&limit=10&before_id={}",
            all[3]
        ))
        .json();
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    assert_eq!(first["has_more"], false);

    // The SDKs' `page` cursor walks the same list.
    let mut seen = Vec::new();
    let mut path = "/v1/files?limit=10".to_string();
    loop {
        let page = c.get(&path).json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_string()),
        );
        match page["next_page"].as_str() {
            Some(p) => path = format!("/v1/files?limit=10&page={p}"),
            None => break,
        }
    }
    assert_eq!(seen, all);
}

#[test]
fn file_list_filters_are_honoured_or_refused() {
    let (_h, c) = start(Default::default());
    let all = files(&c, 4);
    let count = |path: &str| {
        let r = c.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.message());
        r.json()["data"].as_array().unwrap().len()
    };
    assert_eq!(count("/v1/files?beta=true"), 4);
    // No uploaded file belongs to a session scope.
    assert_eq!(count("/v1/files?beta=true&scope_id=sesn_01abc"), 0);
    assert_eq!(
        count(&format!(
            "/v1/files?beta=true&ids[]={}&ids[]={}",
            all[0], all[2]
        )),
        2
    );
    // `after_id` among filtered items still counts from the cursor.
    let r = c
        .get(&format!(
            "/v1/files?beta=true&after_id={}&ids[]={}&ids[]={}",
            all[1], all[0], all[3]
        ))
        .json();
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["id"], all[3].as_str());

    let refused = |path: &str, needle: &str| {
        let r = c.get(path);
        assert_eq!(r.status, 400, "{path}");
        assert!(r.message().contains(needle), "{path}: {}", r.message());
    };
    refused("/v1/files?beta=true&after_id=file_01nope", "after_id");
    refused(
        &format!(
            "/v1/files?beta=true&after_id={}&before_id={}",
            all[0], all[1]
        ),
        "only one of",
    );
    refused("/v1/files?beta=true&page=page_1&before_id=x", "only one of");
    // Without `?beta=true` the GA list has no such parameters.
    refused(&format!("/v1/files?after_id={}", all[0]), "after_id");
    refused("/v1/files?scope_id=x", "scope_id");
}

#[test]
fn updating_a_credential_merges_its_auth() {
    let (_h, c) = start(Default::default());
    let vid = c.post("/v1/vaults", json!({"display_name": "v"})).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cred = c.post(
        &format!("/v1/vaults/{vid}/credentials"),
        json!({"auth": {
            "type": "mcp_oauth",
            "mcp_server_url": "https://mcp.example/",
            "access_token": "AT1",
            "expires_at": "2030-01-01T00:00:00Z",
            "refresh": {
                "client_id": "cid",
                "refresh_token": "RT1",
                "token_endpoint": "https://auth.example/token",
                "token_endpoint_auth": {"type": "client_secret_post", "client_secret": "CS"},
                "scope": "read"
            }
        }}),
    );
    assert_eq!(cred.status, 200, "{}", cred.message());
    let cid = cred.json()["id"].as_str().unwrap().to_string();
    let path = format!("/v1/vaults/{vid}/credentials/{cid}");
    let up = c.post(
        &path,
        json!({"auth": {"type": "mcp_oauth", "access_token": "AT2", "refresh": {"scope": "write"}}}),
    );
    assert_eq!(up.status, 200, "{}", up.message());
    for auth in [
        up.json()["auth"].clone(),
        c.get(&path).json()["auth"].clone(),
    ] {
        assert_eq!(auth["mcp_server_url"], "https://mcp.example/", "{auth}");
        assert_eq!(auth["expires_at"], "2030-01-01T00:00:00Z");
        assert_eq!(auth["refresh"]["client_id"], "cid");
        assert_eq!(
            auth["refresh"]["token_endpoint"],
            "https://auth.example/token"
        );
        assert_eq!(
            auth["refresh"]["token_endpoint_auth"]["type"],
            "client_secret_post"
        );
        assert_eq!(auth["refresh"]["scope"], "write");
        let text = auth.to_string();
        assert!(!text.contains("AT2") && !text.contains("RT1"), "{text}");
    }
    // Its type cannot change; nothing is half-applied.
    let retype = c.post(
        &path,
        json!({"display_name": "x", "auth": {"type": "static_bearer", "token": "t"}}),
    );
    assert_eq!(retype.status, 400);
    assert!(
        retype.message().starts_with("auth.type:"),
        "{}",
        retype.message()
    );
    assert!(c.get(&path).json()["display_name"].is_null());
    // Clearing the refresh settings, then updating them, is refused.
    let cleared = c.post(
        &path,
        json!({"auth": {"type": "mcp_oauth", "refresh": null}}),
    );
    assert!(cleared.json()["auth"]["refresh"].is_null());
    let r = c.post(
        &path,
        json!({"auth": {"type": "mcp_oauth", "refresh": {"scope": "x"}}}),
    );
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("auth.refresh:"), "{}", r.message());
}

#[test]
fn environment_variable_credentials_have_an_injection_location() {
    let (_h, c) = start(Default::default());
    let vid = c.post("/v1/vaults", json!({"display_name": "v"})).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |extra: Value| {
        let mut auth = json!({"type": "environment_variable", "secret_name": "TOKEN",
                              "secret_value": "S3CRET", "networking": {"type": "unrestricted"}});
        if let Some(o) = extra.as_object() {
            auth.as_object_mut().unwrap().extend(o.clone());
        }
        let r = c.post(
            &format!("/v1/vaults/{vid}/credentials"),
            json!({"auth": auth}),
        );
        assert_eq!(r.status, 200, "{}", r.message());
        assert!(!String::from_utf8_lossy(&r.body).contains("S3CRET"));
        r.json()
    };
    let plain = create(json!({}));
    assert_eq!(
        plain["auth"]["injection_location"],
        json!({"header": true, "body": false})
    );
    let body_too = create(json!({"injection_location": {"body": true}}));
    assert_eq!(
        body_too["auth"]["injection_location"],
        json!({"header": true, "body": true})
    );
    // An update changes only what it names; networking is replaced whole.
    let path = format!(
        "/v1/vaults/{vid}/credentials/{}",
        plain["id"].as_str().unwrap()
    );
    let up = c.post(
        &path,
        json!({"auth": {"type": "environment_variable", "injection_location": {"header": false},
                        "networking": {"type": "limited", "allowed_hosts": ["api.example.com"]}}}),
    );
    assert_eq!(up.status, 200, "{}", up.message());
    let auth = &up.json()["auth"];
    assert_eq!(
        auth["injection_location"],
        json!({"header": false, "body": false})
    );
    assert_eq!(
        auth["networking"],
        json!({"type": "limited", "allowed_hosts": ["api.example.com"]})
    );
    assert_eq!(auth["secret_name"], "TOKEN");
}

#[test]
fn limited_networking_has_its_defaults() {
    let (_h, c) = start(Default::default());
    let env = c.post(
        "/v1/environments",
        json!({"name": "e", "config": {"type": "cloud", "networking": {"type": "limited"}}}),
    );
    assert_eq!(env.status, 200, "{}", env.message());
    assert_eq!(
        env.json()["config"]["networking"],
        json!({"type": "limited", "allowed_hosts": [], "allow_mcp_servers": false,
               "allow_package_managers": false})
    );
    let id = env.json()["id"].as_str().unwrap().to_string();
    let up = c.post(
        &format!("/v1/environments/{id}"),
        json!({"config": {"type": "cloud", "networking": {"type": "limited",
               "allowed_hosts": ["pypi.org"], "allow_package_managers": true}}}),
    );
    assert_eq!(
        up.json()["config"]["networking"],
        json!({"type": "limited", "allowed_hosts": ["pypi.org"], "allow_mcp_servers": false,
               "allow_package_managers": true})
    );
}

#[test]
fn sessions_cannot_start_in_an_archived_environment() {
    let (_h, c) = start(Default::default());
    let agent = c.post(
        "/v1/agents",
        json!({"name": "a", "model": "claude-opus-4-7"}),
    );
    let env = c.post("/v1/environments", json!({"name": "e"})).json();
    let eid = env["id"].as_str().unwrap();
    assert_eq!(
        c.post(&format!("/v1/environments/{eid}/archive"), json!({}))
            .status,
        200
    );
    let r = c.post(
        "/v1/sessions",
        json!({"agent": agent.json()["id"], "environment_id": eid}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert!(
        r.message().starts_with("environment_id:") && r.message().contains("archived"),
        "{}",
        r.message()
    );
    let listed: HashSet<Value> = c.get("/v1/sessions").json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .collect();
    assert!(listed.is_empty());
}
