//! Every response body of ant-mock matches its operation's response schema
//! in the endpoint table. Every test's emulator checks its responses (see
//! `support::start`); this one drives every emulated operation, with the
//! variants that shape the responses, and proves that each was checked.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::*;

/// The `(group, verb)` pairs ant-mock answers (groups without `beta:`),
/// read from its dispatch table, so that an operation the emulator starts
/// answering is covered here at once.
fn dispatched() -> BTreeSet<(String, String)> {
    let table = include_str!("../../src/router/dispatch.rs");
    let mut out = BTreeSet::new();
    for piece in table.split("(\"").skip(1) {
        // `group", "verb") => ...`
        let fields: Vec<&str> = piece.splitn(4, '"').collect();
        if let [group, ", ", verb, rest] = fields[..]
            && rest.starts_with(')')
        {
            out.insert((group.to_string(), verb.to_string()));
        }
    }
    out
}

/// Operations ant-mock answers that never answer with a body to check:
/// always refused (the primary thread cannot be archived), or `204`.
const NEVER_ANSWERED: &[&str] = &[
    "beta:sessions:threads archive",
    "beta:environments:work stop",
];

fn ok(r: Resp) -> Value {
    assert!(
        (200..300).contains(&r.status),
        "{}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[test]
fn every_emulated_response_matches_its_schema() {
    let (h, c) = start(ant_mock::Config {
        batch_delay: std::time::Duration::ZERO,
        ..Default::default()
    });
    messages(&c);
    skills(&c);
    let agent = agents(&c);
    let envs = environments(&c);
    let files = files(&c);
    let (store, _) = memory_stores(&c);
    vaults(&c);
    sessions(&c, &agent, &envs, &files, &store);
    work_queue(&c, &agent);
    let dep = ok(c.post(
        "/v1/deployments?beta=true",
        json!({"name": "d", "agent": agent, "environment_id": envs[0], "initial_events": []}),
    ));
    let dep = id(&dep);
    ok(c.post(
        &format!("/v1/deployments/{dep}?beta=true"),
        json!({"name": "d2"}),
    ));
    ok(c.post(&format!("/v1/deployments/{dep}/run?beta=true"), json!({})));
    let tunnel = id(&ok(c.post("/v1/tunnels?beta=true", json!({}))));
    ok(c.post(
        &format!("/v1/tunnels/{tunnel}/reveal_token?beta=true"),
        json!({}),
    ));
    ok(c.post(
        &format!("/v1/tunnels/{tunnel}/rotate_token?beta=true"),
        json!({}),
    ));
    let input = json!([{"type": "memory_store", "memory_store_id": store}]);
    let dream = ok(c.post(
        "/v1/dreams?beta=true",
        json!({"inputs": input, "model": "claude-opus-4-7"}),
    ));
    let dream = id(&dream);
    ok(c.get(&format!("/v1/dreams/{dream}?beta=true")));
    ok(c.get("/v1/dreams?beta=true"));
    ok(c.post(&format!("/v1/dreams/{dream}/cancel?beta=true"), json!({})));
    ok(c.post(&format!("/v1/dreams/{dream}/archive?beta=true"), json!({})));
    let profile = id(&ok(
        c.post("/v1/user_profiles?beta=true", json!({"name": "p"}))
    ));
    for beta in ["", "?beta=true"] {
        ok(c.post(
            &format!("/v1/user_profiles/{profile}/action_urls{beta}"),
            json!({"action": {"type": "enroll_end_user"}}),
        ));
    }
    ok(c.post(
        &format!("/v1/user_profiles/{profile}/enrollment_url?beta=true"),
        json!({}),
    ));

    let dispatched = dispatched();
    assert!(dispatched.len() > 60, "the dispatch table was not read");
    let expected: BTreeSet<String> = ant::api::OPERATIONS
        .iter()
        .filter(|op| {
            let group = op.group.trim_start_matches("beta:");
            dispatched.contains(&(group.to_string(), op.verb.to_string()))
        })
        .filter(|op| op.response_schema.is_some())
        .map(|op| op.name())
        .filter(|name| !NEVER_ANSWERED.contains(&name.as_str()))
        .collect();
    let checked: BTreeSet<String> = h.checked_operations().into_iter().collect();
    let missed: Vec<&String> = expected.difference(&checked).collect();
    assert!(missed.is_empty(), "never checked: {missed:?}");
    assert!(h.violations().is_empty(), "{:#?}", h.violations());
}

/// Messages (plain, streamed, with tools and thinking), token counts,
/// batches and models, GA and beta.
fn messages(c: &Client) {
    for beta in ["", "?beta=true"] {
        let tools = json!([{"name": "get_weather", "description": "d",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
        let ask = |text: &str| {
            json!({"model": "claude-opus-4-7", "max_tokens": 200,
            "messages": [{"role": "user", "content": text}], "tools": tools,
            "thinking": {"type": "enabled", "budget_tokens": 1024}})
        };
        ok(c.post(
            &format!("/v1/messages{beta}"),
            ask("hello\n/tool get_weather"),
        ));
        ok(c.post(&format!("/v1/messages{beta}"), ask("/refuse no")));
        let mut streamed = ask("hello there\n/tool get_weather {\"city\": \"Paris\"}");
        streamed["stream"] = json!(true);
        let r = c.post(&format!("/v1/messages{beta}"), streamed);
        assert!(String::from_utf8_lossy(&r.body).contains("event: message_stop"));
        let mut overloaded = ask("hi\n/overload 3");
        overloaded["stream"] = json!(true);
        let r = c.post(&format!("/v1/messages{beta}"), overloaded);
        assert!(String::from_utf8_lossy(&r.body).contains("overloaded_error"));
        let count = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        ok(c.post(&format!("/v1/messages/count_tokens{beta}"), count));
        let batch = ok(c.post(
            &format!("/v1/messages/batches{beta}"),
            json!({"requests": [
                {"custom_id": "a", "params": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}},
                {"custom_id": "b", "params": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "/expire"}]}},
                {"custom_id": "c", "params": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "/overload"}]}}]}),
        ));
        let bid = id(&batch);
        let sep = if beta.is_empty() { "?" } else { "&" };
        ok(c.get(&format!("/v1/messages/batches/{bid}{beta}")));
        ok(c.get(&format!("/v1/messages/batches{beta}{sep}limit=2")));
        ok(c.post(
            &format!("/v1/messages/batches/{bid}/cancel{beta}"),
            json!({}),
        ));
        let results = c.get(&format!("/v1/messages/batches/{bid}/results{beta}"));
        assert_eq!(results.status, 200);
        assert_eq!(String::from_utf8_lossy(&results.body).lines().count(), 3);
        ok(c.delete(&format!("/v1/messages/batches/{bid}{beta}")));
        ok(c.get(&format!("/v1/models{beta}")));
        ok(c.get(&format!("/v1/models/claude-opus-4-7{beta}")));
    }
}

/// Skills and versions (uploaded as a folder), GA and beta.
fn skills(c: &Client) {
    let body = b"--b\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"hi/SKILL.md\"\r\n\r\n---\nname: hi\ndescription: Says hi\n---\n\r\n--b\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"hi/run.py\"\r\n\r\nprint(1)\r\n--b--\r\n";
    let ct = "multipart/form-data; boundary=b";
    for beta in ["", "?beta=true"] {
        let skill = ok(c.raw("POST", &format!("/v1/skills{beta}"), ct, body));
        let sid = id(&skill);
        ok(c.get(&format!("/v1/skills/{sid}{beta}")));
        ok(c.get(&format!("/v1/skills{beta}")));
        let v = ok(c.raw(
            "POST",
            &format!("/v1/skills/{sid}/versions{beta}"),
            ct,
            body,
        ));
        let vid = id(&v);
        ok(c.get(&format!("/v1/skills/{sid}/versions/{vid}{beta}")));
        ok(c.get(&format!("/v1/skills/{sid}/versions{beta}")));
        let zip = c.get(&format!(
            "/v1/skills/{sid}/versions/{vid}/content?beta=true"
        ));
        assert_eq!((zip.status, &zip.body[..2]), (200, &b"PK"[..]));
        ok(c.delete(&format!("/v1/skills/{sid}/versions/{vid}{beta}")));
        ok(c.delete(&format!("/v1/skills/{sid}{beta}")));
    }
}

fn agents(c: &Client) -> String {
    let a = ok(c.post(
        "/v1/agents?beta=true",
        json!({
            "name": "all",
            "model": {"id": "claude-opus-4-7", "speed": "standard"},
            "system": "s",
            "description": "d",
            "metadata": {"k": "v"},
            "tools": [
                {"type": "agent_toolset_20260401",
                 "default_config": {"enabled": true, "permission_policy": {"type": "always_allow"}},
                 "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}},
                             {"name": "web_fetch", "enabled": false}]},
                {"type": "mcp_toolset", "mcp_server_name": "docs"},
                {"type": "custom", "name": "lookup", "description": "d",
                 "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}
            ],
            "mcp_servers": [{"type": "url", "name": "docs", "url": "https://mcp.example/"}],
        }),
    ));
    let aid = id(&a);
    ok(c.get(&format!("/v1/agents/{aid}?beta=true")));
    ok(c.get(&format!("/v1/agents/{aid}?beta=true&version=1")));
    ok(c.post(
        &format!("/v1/agents/{aid}?beta=true"),
        json!({"version": 1, "name": "renamed", "tools": [{"type": "agent_toolset_20260401"}]}),
    ));
    ok(c.get("/v1/agents?beta=true&include_archived=true&limit=5"));
    ok(c.get(&format!("/v1/agents/{aid}/versions?beta=true")));
    let spare = ok(c.post(
        "/v1/agents?beta=true",
        json!({"name": "spare", "model": "claude-opus-4-7"}),
    ));
    ok(c.post(
        &format!("/v1/agents/{}/archive?beta=true", id(&spare)),
        json!({}),
    ));
    aid
}

/// A cloud environment with limited networking, and a self-hosted one.
fn environments(c: &Client) -> Vec<String> {
    let cloud = ok(c.post(
        "/v1/environments?beta=true",
        json!({"name": "cloud", "description": "d", "metadata": {"k": "v"},
               "config": {"type": "cloud",
                          "networking": {"type": "limited", "allowed_hosts": ["pypi.org"]},
                          "packages": {"pip": ["requests"]}}}),
    ));
    let hosted = ok(c.post(
        "/v1/environments?beta=true",
        json!({"name": "hosted", "config": {"type": "self_hosted"}}),
    ));
    let eid = id(&cloud);
    ok(c.get(&format!("/v1/environments/{eid}?beta=true")));
    ok(c.post(
        &format!("/v1/environments/{eid}?beta=true"),
        json!({"name": "cloud2", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}),
    ));
    ok(c.get("/v1/environments?beta=true&include_archived=true"));
    let gone = ok(c.post("/v1/environments?beta=true", json!({"name": "gone"})));
    ok(c.post(
        &format!("/v1/environments/{}/archive?beta=true", id(&gone)),
        json!({}),
    ));
    ok(c.delete(&format!("/v1/environments/{}?beta=true", id(&gone))));
    vec![eid, id(&hosted)]
}

/// Through the beta and the GA files API both.
fn files(c: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    for base in ["/v1/files?beta=true", "/v1/files"] {
        let f = upload_to(c, base, "notes.txt", b"hello");
        let fid = id(&f);
        let one = base.replacen("/v1/files", &format!("/v1/files/{fid}"), 1);
        ok(c.get(&one));
        ok(c.get(base));
        ids.push(fid);
        let spare = id(&upload_to(c, base, "spare.txt", b"x"));
        ok(c.delete(&base.replacen("/v1/files", &format!("/v1/files/{spare}"), 1)));
    }
    ok(c.get(&format!("/v1/files?beta=true&limit=1&after_id={}", ids[1])));
    ids
}

/// A store with memories at several depths and its whole version log.
fn memory_stores(c: &Client) -> (String, String) {
    let store = ok(c.post(
        "/v1/memory_stores?beta=true",
        json!({"name": "m", "description": "d", "metadata": {"k": "v"}}),
    ));
    let sid = id(&store);
    let base = format!("/v1/memory_stores/{sid}");
    ok(c.get(&format!("{base}?beta=true")));
    ok(c.post(&format!("{base}?beta=true"), json!({"description": "d2"})));
    ok(c.get("/v1/memory_stores?beta=true&include_archived=true"));
    let mem = ok(c.post(
        &format!("{base}/memories?beta=true"),
        json!({"path": "/notes/a/b.md", "content": "abc"}),
    ));
    let mid = id(&mem);
    ok(c.post(
        &format!("{base}/memories?beta=true&view=full"),
        json!({"path": "/top.md", "content": "t"}),
    ));
    ok(c.get(&format!("{base}/memories/{mid}?beta=true")));
    ok(c.post(
        &format!("{base}/memories/{mid}?beta=true"),
        json!({"content": "abcd"}),
    ));
    ok(c.get(&format!("{base}/memories?beta=true")));
    ok(c.get(&format!(
        "{base}/memories?beta=true&depth=0&path_prefix=/notes"
    )));
    ok(c.delete(&format!("{base}/memories/{mid}?beta=true")));
    let versions = ok(c.get(&format!("{base}/memory_versions?beta=true&view=full")));
    let vid = versions["data"][0]["id"].as_str().unwrap().to_string();
    ok(c.get(&format!("{base}/memory_versions/{vid}?beta=true")));
    ok(c.post(
        &format!("{base}/memory_versions/{vid}/redact?beta=true"),
        json!({}),
    ));
    let gone = ok(c.post("/v1/memory_stores?beta=true", json!({"name": "gone"})));
    ok(c.post(
        &format!("/v1/memory_stores/{}/archive?beta=true", id(&gone)),
        json!({}),
    ));
    ok(c.delete(&format!("/v1/memory_stores/{}?beta=true", id(&gone))));
    (sid, mid)
}

/// Each kind of credential, updated, listed, archived and deleted.
fn vaults(c: &Client) {
    let vault = ok(c.post(
        "/v1/vaults?beta=true",
        json!({"display_name": "v", "metadata": {"k": "v"}}),
    ));
    let vid = id(&vault);
    ok(c.get(&format!("/v1/vaults/{vid}?beta=true")));
    ok(c.post(
        &format!("/v1/vaults/{vid}?beta=true"),
        json!({"display_name": "v2"}),
    ));
    ok(c.get("/v1/vaults?beta=true"));
    let creds = format!("/v1/vaults/{vid}/credentials");
    for auth in [
        json!({"type": "static_bearer", "mcp_server_url": "https://mcp.example/", "token": "t"}),
        json!({"type": "mcp_oauth", "mcp_server_url": "https://mcp.example/", "access_token": "a"}),
        json!({"type": "mcp_oauth", "mcp_server_url": "https://mcp.example/", "access_token": "a",
               "expires_at": "2030-01-01T00:00:00Z",
               "refresh": {"client_id": "c", "refresh_token": "r",
                           "token_endpoint": "https://auth.example/token",
                           "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": "s"}}}),
        json!({"type": "environment_variable", "secret_name": "TOKEN", "secret_value": "v",
               "networking": {"type": "limited", "allowed_hosts": ["api.example.com"]}}),
    ] {
        let kind = auth["type"].clone();
        let cred = ok(c.post(
            &format!("{creds}?beta=true"),
            json!({"display_name": "c", "auth": auth}),
        ));
        let one = format!("{creds}/{}", id(&cred));
        ok(c.get(&format!("{one}?beta=true")));
        let check = ok(c.post(&format!("{one}/mcp_oauth_validate?beta=true"), json!({})));
        let valid = if kind == "mcp_oauth" {
            "valid"
        } else {
            "invalid"
        };
        assert_eq!(check["status"], valid, "{check}");
        ok(c.post(
            &format!("{one}?beta=true"),
            json!({"display_name": "c2", "auth": {"type": kind}}),
        ));
    }
    ok(c.get(&format!("{creds}?beta=true&include_archived=true")));
    let spare = ok(c.post(
        &format!("{creds}?beta=true"),
        json!({"auth": {"type": "static_bearer", "mcp_server_url": "https://x/", "token": "t"}}),
    ));
    ok(c.post(
        &format!("{creds}/{}/archive?beta=true", id(&spare)),
        json!({}),
    ));
    ok(c.delete(&format!("{creds}/{}?beta=true", id(&spare))));
    let gone = ok(c.post("/v1/vaults?beta=true", json!({"display_name": "gone"})));
    ok(c.post(
        &format!("/v1/vaults/{}/archive?beta=true", id(&gone)),
        json!({}),
    ));
    ok(c.delete(&format!("/v1/vaults/{}?beta=true", id(&gone))));
}

/// Sessions with every kind of resource, a turn through every directive
/// streamed (with previews) and listed, and the session lifecycle.
fn sessions(c: &Client, agent: &str, envs: &[String], files: &[String], store: &str) {
    let s = ok(c.post(
        "/v1/sessions?beta=true",
        json!({
            "agent": {"type": "agent", "id": agent, "version": 2},
            "environment_id": envs[0],
            "title": "t",
            "metadata": {"k": "v"},
            "resources": [
                {"type": "file", "file_id": files[0]},
                {"type": "github_repository", "url": "https://github.com/org/repo",
                 "authorization_token": "ghp_x", "checkout": {"type": "branch", "name": "main"}},
                {"type": "memory_store", "memory_store_id": store, "access": "read_only"},
            ],
        }),
    ));
    let sid = id(&s);
    let base = format!("/v1/sessions/{sid}");
    ok(c.get(&format!("{base}?beta=true")));
    ok(c.post(
        &format!("{base}?beta=true"),
        json!({"title": "t2", "metadata": {"k": null}}),
    ));
    ok(c.get("/v1/sessions?beta=true&order=asc&include_archived=true"));

    // Resources.
    let added = ok(c.post(
        &format!("{base}/resources?beta=true"),
        json!({"type": "file", "file_id": files[1], "mount_path": "/data/n.txt"}),
    ));
    ok(c.get(&format!("{base}/resources/{}?beta=true", id(&added))));
    let list = ok(c.get(&format!("{base}/resources?beta=true")));
    let repo = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "github_repository")
        .expect("the repository resource");
    ok(c.post(
        &format!("{base}/resources/{}?beta=true", id(repo)),
        json!({"authorization_token": "ghp_y"}),
    ));
    ok(c.delete(&format!("{base}/resources/{}?beta=true", id(&added))));

    // A turn through every directive, streamed with previews, then listed.
    let mut stream = c.stream(&format!(
        "{base}/events/stream?beta=true&event_deltas[]=agent.message&event_deltas[]=agent.thinking"
    ));
    say(
        c,
        &sid,
        "hi\n/think hm\n/write a.txt\nx\n/end\n/read a.txt\n/edit a.txt\nx\n/with\ny\n/end\n\
         /glob *.txt\n/grep y\n/bash echo hi\n/tool lookup {\"q\": \"x\"}",
    );
    let events = stream.until("session.status_idle");
    let tool_use = of_type(&events, "agent.custom_tool_use")[0].data["id"].clone();
    let sent = c.post(
        &format!("{base}/events?beta=true"),
        json!({"events": [{"type": "user.custom_tool_result", "custom_tool_use_id": tool_use,
                           "content": [{"type": "text", "text": "found"}]}]}),
    );
    ok(sent);
    stream.until("session.status_idle");
    say(c, &sid, "/fail boom");
    stream.until("session.status_idle");
    ok(c.get(&format!("{base}/events?beta=true&limit=1000")));

    // The primary thread, its events and its stream.
    let threads = ok(c.get(&format!("{base}/threads?beta=true")));
    let tid = threads["data"][0]["id"].as_str().unwrap().to_string();
    ok(c.get(&format!("{base}/threads/{tid}?beta=true")));
    ok(c.get(&format!("{base}/threads/{tid}/events?beta=true")));
    let mut thread_stream = c.stream(&format!("{base}/threads/{tid}/stream?beta=true"));
    say(c, &sid, "again");
    thread_stream.until("session.status_idle");

    // A self-hosted session waits for the tool result from a worker.
    let hosted = ok(c.post(
        "/v1/sessions?beta=true",
        json!({"agent": agent, "environment_id": envs[1]}),
    ));
    let hid = id(&hosted);
    let mut hs = c.stream(&format!("/v1/sessions/{hid}/events/stream?beta=true"));
    say(c, &hid, "/read a.txt");
    let evs = hs.until("agent.tool_use");
    let use_id = evs.last().unwrap().data["id"].clone();
    ok(c.post(
        &format!("/v1/sessions/{hid}/events?beta=true"),
        json!({"events": [{"type": "user.tool_result", "tool_use_id": use_id,
                           "content": [{"type": "text", "text": "x"}]}]}),
    ));
    hs.until("session.status_idle");
    ok(c.post(&format!("/v1/sessions/{hid}/archive?beta=true"), json!({})));
    ok(c.delete(&format!("/v1/sessions/{hid}?beta=true")));
}

/// A self-hosted environment's work queue, as a worker (with its
/// environment key) and an operator use it.
fn work_queue(c: &Client, agent: &str) {
    let env = id(&ok(c.post(
        "/v1/environments?beta=true",
        json!({"name": "queue", "config": {"type": "self_hosted"}}),
    )));
    ok(c.post(
        "/v1/sessions?beta=true",
        json!({"agent": agent, "environment_id": env}),
    ));
    let worker = Client {
        addr: c.addr.clone(),
        key: Some("Bearer env-key".into()),
    };
    let base = format!("/v1/environments/{env}/work");
    ok(worker.get(&format!("{base}/stats?beta=true")));
    let item = ok(worker.get(&format!("{base}/poll?beta=true&block_ms=999")));
    let wid = id(&item);
    // No more work: `null`.
    ok(worker.get(&format!("{base}/poll?beta=true&block_ms=1")));
    let one = format!("{base}/{wid}");
    ok(worker.raw("POST", &format!("{one}/ack?beta=true"), "", b""));
    ok(worker.raw(
        "POST",
        &format!("{one}/heartbeat?beta=true&expected_last_heartbeat=NO_HEARTBEAT"),
        "",
        b"",
    ));
    ok(c.post(&format!("{one}?beta=true"), json!({"metadata": {"a": "1"}})));
    ok(c.get(&format!("{one}?beta=true")));
    ok(c.get(&format!("{base}?beta=true")));
    let stop = worker.post(&format!("{one}/stop?beta=true"), json!({"force": true}));
    assert_eq!(stop.status, 204);
}
