//! The generic emulation (the Admin API and every operation without a
//! hand-written resource): CRUD keyed by the path's ID, `404` for an ID
//! never created, lists paged in the endpoint's own style, example items in
//! collections the API cannot fill, reports bucketed by time. Every answer
//! is checked against its schema by the harness.

use serde_json::{Value, json};

use crate::support::*;

fn ok(r: Resp) -> Value {
    assert!(
        (200..300).contains(&r.status),
        "{}: {}",
        r.status,
        r.message()
    );
    r.json()
}

#[test]
fn items_are_created_retrieved_updated_listed_and_deleted_by_their_id() {
    let (h, c) = start(Default::default());
    let ws = ok(c.post("/v1/organizations/workspaces", json!({"name": "Eng"})));
    let id = ws["id"].as_str().unwrap().to_string();
    assert_eq!(
        (ws["type"].as_str(), ws["name"].as_str()),
        (Some("workspace"), Some("Eng"))
    );
    let got = ok(c.get(&format!("/v1/organizations/workspaces/{id}")));
    assert_eq!(got, ws);
    let renamed = ok(c.post(
        &format!("/v1/organizations/workspaces/{id}"),
        json!({"name": "Platform"}),
    ));
    assert_eq!(renamed["name"], "Platform");
    let archived = ok(c.post(
        &format!("/v1/organizations/workspaces/{id}/archive"),
        json!({}),
    ));
    assert!(archived["archived_at"].is_string(), "{archived}");
    // Members are keyed by the user id the body names, inside their workspace.
    let path = format!("/v1/organizations/workspaces/{id}/members");
    ok(c.post(
        &path,
        json!({"user_id": "user_1", "workspace_role": "workspace_user"}),
    ));
    let member = ok(c.get(&format!("{path}/user_1")));
    assert_eq!(
        (member["workspace_id"].as_str(), member["user_id"].as_str()),
        (Some(id.as_str()), Some("user_1"))
    );
    assert_eq!(c.get(&format!("{path}/user_2")).status, 404);
    assert_eq!(
        c.get("/v1/organizations/workspaces/nope/members").status,
        404
    );
    let profile = ok(c.post("/v1/user_profiles?beta=true", json!({"name": "Ada"})));
    let pid = profile["id"].as_str().unwrap();
    let link = ok(c.post(
        &format!("/v1/user_profiles/{pid}/enrollment_url?beta=true"),
        json!({}),
    ));
    assert!(
        link["expires_at"].as_str().unwrap() > profile["created_at"].as_str().unwrap(),
        "a link made now expires later: {link}"
    );
    let url = json!({"action": {"type": "enroll_end_user"}});
    let r = c.post("/v1/user_profiles/uprof_nope/action_urls?beta=true", url);
    assert_eq!(
        r.status,
        404,
        "an action URL needs its user profile: {}",
        r.message()
    );
    let gone = ok(c.delete(&format!("{path}/user_1")));
    assert_eq!(gone["type"], "workspace_member_deleted");
    assert_eq!(c.get(&format!("{path}/user_1")).status, 404);
    assert_eq!(c.delete(&format!("{path}/user_1")).status, 404);
    assert!(h.violations().is_empty(), "{:?}", h.violations());
}

#[test]
fn lists_page_in_the_endpoints_style() {
    let (h, c) = start(Default::default());
    for i in 0..5 {
        ok(c.post(
            "/v1/organizations/workspaces",
            json!({"name": format!("w{i}")}),
        ));
    }
    // Page style: after_id / before_id, has_more, first_id, last_id.
    let p1 = ok(c.get("/v1/organizations/workspaces?limit=2"));
    assert_eq!(p1["data"].as_array().unwrap().len(), 2);
    assert_eq!(p1["data"][0]["name"], "w4", "newest first");
    assert_eq!(p1["has_more"], true);
    let last = p1["last_id"].as_str().unwrap();
    let p2 = ok(c.get(&format!(
        "/v1/organizations/workspaces?limit=2&after_id={last}"
    )));
    assert_eq!(p2["data"][0]["name"], "w2");
    let first = p2["first_id"].as_str().unwrap();
    let back = ok(c.get(&format!(
        "/v1/organizations/workspaces?limit=2&before_id={first}"
    )));
    assert_eq!(back["data"], p1["data"]);
    // Filters name fields of the items.
    let none = ok(c.get("/v1/organizations/api_keys?status=archived"));
    let all = ok(c.get("/v1/organizations/api_keys"));
    assert_eq!(all["data"].as_array().unwrap().len(), 2, "example API keys");
    assert_eq!(none["data"].as_array().unwrap().len(), 0);
    // Cursor style: page / next_page.
    let issuers = "/v1/organizations/federation_issuers";
    for i in 0..3 {
        let body = json!({"name": format!("i{i}"), "issuer_url": "https://issuer.example"});
        ok(c.post(issuers, body));
    }
    let c1 = ok(c.get(&format!("{issuers}?limit=2")));
    let next = c1["next_page"].as_str().expect("a cursor").to_string();
    let c2 = ok(c.get(&format!("{issuers}?limit=2&page={next}")));
    assert_eq!(c2["data"].as_array().unwrap().len(), 1);
    assert!(c2["next_page"].is_null());
    assert!(h.violations().is_empty(), "{:?}", h.violations());
}

#[test]
fn reports_have_one_row_per_time_bucket() {
    let (h, c) = start(Default::default());
    let q = "starting_at=2026-11-01T00:00:00Z&ending_at=2026-11-08T00:00:00Z";
    let r = ok(c.get(&format!(
        "/v1/organizations/analytics/cost_report?beta=true&{q}"
    )));
    let rows = r["data"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["starting_at"], "2026-11-01T00:00:00.000Z");
    assert_eq!(rows[6]["ending_at"], "2026-11-08T00:00:00.000Z");
    assert!(rows[0]["results"][0]["amount"].is_string());
    let bad = c.get("/v1/organizations/analytics/cost_report?beta=true&starting_at=2026-11-02T00:00:00Z&ending_at=2026-11-01T00:00:00Z");
    assert_eq!(bad.status, 400, "{}", bad.message());
    assert!(h.violations().is_empty(), "{:?}", h.violations());
}

#[test]
fn a_deployment_run_starts_a_session_with_its_initial_events() {
    let (h, c) = start(Default::default());
    let agent = ok(c.post(
        "/v1/agents?beta=true",
        json!({"name": "a", "model": "claude-opus-4-7"}),
    ));
    let env = ok(c.post(
        "/v1/environments?beta=true",
        json!({"name": "e", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}),
    ));
    let dep = ok(c.post(
        "/v1/deployments?beta=true",
        json!({"name": "nightly", "agent": agent["id"], "environment_id": env["id"],
               "initial_events": [{"type": "user.message", "content": [{"type": "text", "text": "/say nightly run"}]}]}),
    ));
    assert_eq!(
        dep["agent"],
        json!({"type": "agent", "id": agent["id"], "version": 1})
    );
    let dep_id = dep["id"].as_str().unwrap();
    let run = ok(c.post(
        &format!("/v1/deployments/{dep_id}/run?beta=true"),
        json!({}),
    ));
    assert_eq!(
        (
            run["deployment_id"].as_str(),
            run["trigger_context"]["type"].as_str()
        ),
        (Some(dep_id), Some("manual"))
    );
    let sid = run["session_id"].as_str().unwrap();
    let session = ok(c.get(&format!("/v1/sessions/{sid}?beta=true")));
    assert_eq!(session["agent"]["id"], agent["id"]);
    let mut stream = c.stream(&format!("/v1/sessions/{sid}/events/stream?beta=true"));
    let evs = stream.until("session.status_idle");
    let said: Vec<&Event> = of_type(&evs, "agent.message");
    assert_eq!(said[0].data["content"][0]["text"], "nightly run");
    let again = ok(c.get(&format!(
        "/v1/deployment_runs/{}?beta=true",
        run["id"].as_str().unwrap()
    )));
    assert_eq!(again["session_id"], sid);
    let paused = ok(c.post(
        &format!("/v1/deployments/{dep_id}/pause?beta=true"),
        json!({}),
    ));
    assert_eq!(paused["status"], "paused");
    let refused = c.post(
        &format!("/v1/deployments/{dep_id}/run?beta=true"),
        json!({}),
    );
    assert_eq!(refused.status, 400, "{}", refused.message());
    let bad = c.post(
        "/v1/deployments?beta=true",
        json!({"name": "x", "agent": "agent_nope",
        "environment_id": env["id"], "initial_events": []}),
    );
    assert_eq!(bad.status, 404, "{}", bad.message());
    assert!(h.violations().is_empty(), "{:?}", h.violations());
}

#[test]
fn a_tunnel_keeps_its_token_until_rotated() {
    let (h, c) = start(Default::default());
    let t = ok(c.post("/v1/tunnels?beta=true", json!({"display_name": "office"})));
    let id = t["id"].as_str().unwrap();
    assert!(
        t["domain"]
            .as_str()
            .unwrap()
            .ends_with(".tunnels.ant-mock.local"),
        "{t}"
    );
    assert!(
        t.get("tunnel_token").is_none(),
        "the token is not part of the tunnel"
    );
    let reveal = format!("/v1/tunnels/{id}/reveal_token?beta=true");
    let first = ok(c.post(&reveal, json!({})))["tunnel_token"].clone();
    assert_eq!(ok(c.post(&reveal, json!({})))["tunnel_token"], first);
    let rotated = ok(c.post(
        &format!("/v1/tunnels/{id}/rotate_token?beta=true"),
        json!({}),
    ));
    assert_ne!(rotated["tunnel_token"], first);
    assert_eq!(
        ok(c.post(&reveal, json!({})))["tunnel_token"],
        rotated["tunnel_token"]
    );
    ok(c.post(&format!("/v1/tunnels/{id}/archive?beta=true"), json!({})));
    assert_eq!(c.post(&reveal, json!({})).status, 400);
    assert_eq!(
        c.post("/v1/tunnels/tnl_nope/reveal_token?beta=true", json!({}))
            .status,
        404
    );
    assert!(h.violations().is_empty(), "{:?}", h.violations());
}

#[test]
fn the_admin_api_refuses_an_api_key_and_the_rest_refuses_an_admin_key() {
    let (_h, mut c) = start(Default::default());
    let status = |c: &Client, path: &str| {
        let r = c.get(path);
        (r.status, r.message())
    };
    c.key = Some("sk-ant-api03-ordinary".into());
    assert_eq!(
        status(&c, "/v1/organizations/workspaces"),
        (401, "invalid x-api-key: the Admin API (/v1/organizations/...) takes an admin API key (sk-ant-admin...), not an API key".into())
    );
    assert_eq!(status(&c, "/v1/models").0, 200);
    c.key = Some("sk-ant-admin01-admin".into());
    assert_eq!(status(&c, "/v1/organizations/workspaces").0, 200);
    assert_eq!(
        status(&c, "/v1/models"),
        (401, "invalid x-api-key: an admin API key (sk-ant-admin...) works only with the Admin API (/v1/organizations/...)".into())
    );
    // Any other key works everywhere, as documented.
    c.key = Some("test-key".into());
    assert_eq!(status(&c, "/v1/organizations/workspaces").0, 200);
    assert_eq!(status(&c, "/v1/models").0, 200);
}

#[test]
fn a_dream_is_pending_then_running_then_completed_into_a_memory_store() {
    let (_h, c) = start(ant_mock::Config {
        batch_delay: std::time::Duration::from_millis(600),
        ..Default::default()
    });
    let store = ok(c.post("/v1/memory_stores?beta=true", json!({"name": "notes"})));
    let store_id = store["id"].as_str().unwrap();
    let input = json!([{"type": "memory_store", "memory_store_id": store_id}]);
    let dream = ok(c.post(
        "/v1/dreams?beta=true",
        json!({"inputs": input, "model": "claude-opus-4-7", "instructions": "Tidy up"}),
    ));
    let id = dream["id"].as_str().unwrap().to_string();
    assert_eq!(dream["status"], "pending");
    assert_eq!(dream["model"], json!({"id": "claude-opus-4-7"}));
    assert_eq!(dream["output_behavior"], json!({"type": "create_new"}));
    assert_eq!(dream["outputs"], json!([]));
    let status = || ok(c.get(&format!("/v1/dreams/{id}?beta=true")));
    std::thread::sleep(std::time::Duration::from_millis(350));
    assert_eq!(status()["status"], "running");
    std::thread::sleep(std::time::Duration::from_millis(350));
    let done = status();
    assert_eq!(done["status"], "completed");
    assert!(done["ended_at"].is_string());
    assert!(done["usage"]["input_tokens"].as_u64().unwrap() > 0);
    // The output is a real memory store, listed with the others.
    let out = done["outputs"][0]["memory_store_id"].as_str().unwrap();
    assert_ne!(out, store_id);
    assert_eq!(
        ok(c.get(&format!("/v1/memory_stores/{out}?beta=true")))["name"],
        format!("Dream {id}")
    );
    // Canceling an ended dream leaves it as it is; a list filters by status.
    let again = ok(c.post(&format!("/v1/dreams/{id}/cancel?beta=true"), json!({})));
    assert_eq!(again, done);
    let listed = ok(c.get("/v1/dreams?beta=true&statuses[]=completed"));
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let none = ok(c.get("/v1/dreams?beta=true&statuses[]=running"));
    assert_eq!(none["data"], json!([]));
}

#[test]
fn a_dream_checks_what_it_names_can_fail_and_can_be_canceled() {
    let (_h, c) = start(Default::default());
    let r = c.post(
        "/v1/dreams?beta=true",
        json!({"inputs": [{"type": "sessions", "session_ids": ["sesn_nope"]}], "model": "m"}),
    );
    assert_eq!(
        (r.status, r.message()),
        (404, "session \"sesn_nope\" not found".into())
    );
    let store = ok(c.post("/v1/memory_stores?beta=true", json!({"name": "n"})));
    let input = json!([{"type": "memory_store", "memory_store_id": store["id"]}]);
    let r = c.post(
        "/v1/dreams?beta=true",
        json!({"inputs": input, "model": "m",
               "output_behavior": {"type": "update_existing", "memory_store_id": "memstore_nope"}}),
    );
    assert_eq!(r.status, 404, "{}", r.message());
    // Canceled before it ends (the default delay is a second).
    let d = ok(c.post(
        "/v1/dreams?beta=true",
        json!({"inputs": input, "model": "m"}),
    ));
    let id = d["id"].as_str().unwrap();
    let canceled = ok(c.post(&format!("/v1/dreams/{id}/cancel?beta=true"), json!({})));
    assert_eq!(canceled["status"], "canceled");
    assert!(canceled["ended_at"].is_string());
    // `/fail` in the instructions: failed with an error, no output.
    let (_h2, c2) = start(ant_mock::Config {
        batch_delay: std::time::Duration::ZERO,
        ..Default::default()
    });
    let store = ok(c2.post("/v1/memory_stores?beta=true", json!({"name": "n"})));
    let input = json!([{"type": "memory_store", "memory_store_id": store["id"]}]);
    let failed = ok(c2.post(
        "/v1/dreams?beta=true",
        json!({"inputs": input, "model": "m", "instructions": "/fail",
               "output_behavior": {"type": "update_existing", "memory_store_id": store["id"]}}),
    ));
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["type"], "dream_error");
    assert_eq!(failed["outputs"], json!([]));
    let ok_dream = ok(c2.post(
        "/v1/dreams?beta=true",
        json!({"inputs": input, "model": "m",
               "output_behavior": {"type": "update_existing", "memory_store_id": store["id"]}}),
    ));
    assert_eq!(ok_dream["status"], "completed");
    assert_eq!(ok_dream["outputs"][0]["memory_store_id"], store["id"]);
}

#[test]
fn a_user_profile_link_enrolls_the_profile_once_when_its_end_user_opens_it() {
    let (_h, c) = start(Default::default());
    let p = ok(c.post("/v1/user_profiles?beta=true", json!({"name": "Ann"})));
    let id = p["id"].as_str().unwrap();
    assert!(p["external_user_onboarded_at"].is_null());
    let link = ok(c.post(
        &format!("/v1/user_profiles/{id}/action_urls?beta=true"),
        json!({"action": {"type": "enroll_end_user"}}),
    ));
    assert_eq!(link["type"], "user_profile_action_url");
    let url = link["url"].as_str().unwrap();
    let path = url.split_once(&c.addr).expect("a link to the emulator").1;
    assert!(path.starts_with("/user-profiles/enroll/"), "{url}");
    // The end user's browser has no API key.
    let browser = Client {
        addr: c.addr.clone(),
        key: None,
    };
    let r = browser.get(path);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let enrolled = ok(c.get(&format!("/v1/user_profiles/{id}?beta=true")));
    let when = enrolled["external_user_onboarded_at"].as_str().unwrap();
    assert_eq!(enrolled["updated_at"], when);
    let ga = ok(c.get(&format!("/v1/user_profiles/{id}")));
    assert_eq!(ga["external_user_details"]["onboarded_at"], when);
    // Once only; enrollment URLs work the same; a missing profile is a 404.
    assert_eq!(browser.get(path).status, 404);
    let e = ok(c.post(
        &format!("/v1/user_profiles/{id}/enrollment_url?beta=true"),
        json!({}),
    ));
    assert_eq!(e["type"], "enrollment_url");
    let path = e["url"]
        .as_str()
        .unwrap()
        .split_once(&c.addr)
        .unwrap()
        .1
        .to_string();
    assert_eq!(browser.get(&path).status, 200);
    let r = c.post(
        "/v1/user_profiles/user_profile_nope/action_urls",
        json!({"action": {"type": "enroll_end_user"}}),
    );
    assert_eq!(r.status, 404);
}
