//! The work queue of self-hosted environments over HTTP, with a worker's
//! bearer key: the state machine, leases and 412s, long polls, stop, metadata,
//! list and stats.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Client, start};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// A self-hosted environment and a session in it (which queues an item).
fn self_hosted_session(admin: &Client) -> (String, String) {
    let env = id(&admin
        .post(
            "/v1/environments",
            json!({"name": "s", "config": {"type": "self_hosted"}}),
        )
        .json());
    let agent = id(&admin
        .post(
            "/v1/agents",
            json!({"name": "a", "model": "claude-opus-4-7"}),
        )
        .json());
    let session = id(&admin
        .post(
            "/v1/sessions",
            json!({"agent": agent, "environment_id": env}),
        )
        .json());
    (env, session)
}

#[test]
fn the_work_queue_follows_its_state_machine_over_http() {
    let (_h, admin) = start(ant_mock::Config {
        work_ttl_secs: 2,
        ..Default::default()
    });
    let worker = Client {
        addr: admin.addr.clone(),
        key: Some("Bearer env-key".into()),
    };
    let cloud = id(&admin.post("/v1/environments", json!({"name": "c"})).json());
    let r = worker.get(&format!("/v1/environments/{cloud}/work/poll?beta=true"));
    assert_eq!(r.status, 400, "only self-hosted environments have a queue");
    let (env, session) = self_hosted_session(&admin);
    let base = format!("/v1/environments/{env}/work");
    let stats = worker.get(&format!("{base}/stats?beta=true")).json();
    assert_eq!(
        (stats["depth"].clone(), stats["pending"].clone()),
        (json!(1), json!(0))
    );

    let item = worker
        .get(&format!("{base}/poll?beta=true&block_ms=999"))
        .json();
    assert_eq!(item["state"], "starting");
    assert_eq!(item["data"], json!({"type": "session", "id": session}));
    let work = id(&item);
    let started = Instant::now();
    let none = worker.get(&format!("{base}/poll?beta=true&block_ms=300"));
    assert_eq!((none.status, none.body.as_slice()), (200, &b"null"[..]));
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "a long poll waits"
    );
    assert_eq!(
        worker
            .get(&format!("{base}/poll?beta=true&block_ms=1000"))
            .status,
        400
    );

    let item_path = format!("{base}/{work}");
    let post = |path: &str| worker.raw("POST", path, "", b"");
    assert_eq!(
        post(&format!("{item_path}/ack?beta=true")).json()["state"],
        "active"
    );
    assert_eq!(post(&format!("{item_path}/ack?beta=true")).status, 409);
    let beat = post(&format!(
        "{item_path}/heartbeat?beta=true&expected_last_heartbeat=NO_HEARTBEAT"
    ))
    .json();
    assert_eq!(beat["type"], "work_heartbeat");
    assert_eq!(
        (beat["lease_extended"].clone(), beat["ttl_seconds"].clone()),
        (json!(true), json!(2))
    );
    let last = beat["last_heartbeat"].as_str().unwrap().to_string();
    let stale = post(&format!(
        "{item_path}/heartbeat?beta=true&expected_last_heartbeat=NO_HEARTBEAT"
    ));
    assert_eq!(
        stale.status,
        412,
        "{}",
        String::from_utf8_lossy(&stale.body)
    );
    let next = post(&format!(
        "{item_path}/heartbeat?beta=true&expected_last_heartbeat={last}&desired_ttl_seconds=7"
    ));
    assert_eq!(next.json()["ttl_seconds"], 7);

    worker.post(
        &format!("{item_path}?beta=true"),
        json!({"metadata": {"a": "1", "b": "2"}}),
    );
    let updated = worker.post(
        &format!("{item_path}?beta=true"),
        json!({"metadata": {"a": null}}),
    );
    assert_eq!(updated.json()["metadata"], json!({"b": "2"}));
    assert_eq!(
        worker.get(&format!("{item_path}?beta=true")).json()["metadata"],
        json!({"b": "2"})
    );

    let stop = worker.post(&format!("{item_path}/stop?beta=true"), json!({}));
    assert_eq!((stop.status, stop.body.len()), (204, 0));
    assert_eq!(
        worker.get(&format!("{item_path}?beta=true")).json()["state"],
        "stopping"
    );
    assert_eq!(
        worker
            .post(
                &format!("{item_path}/stop?beta=true"),
                json!({"force": true})
            )
            .status,
        204
    );
    let stopped = worker.get(&format!("{item_path}?beta=true")).json();
    assert_eq!(stopped["state"], "stopped");
    assert!(stopped["stopped_at"].is_string() && stopped["acknowledged_at"].is_string());
    assert_eq!(
        worker
            .post(&format!("{item_path}/stop?beta=true"), json!({}))
            .status,
        409
    );

    // The next message needs a worker again: a new item is queued.
    let msg =
        json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": "hi"}]}]});
    assert_eq!(
        admin
            .post(&format!("/v1/sessions/{session}/events"), msg)
            .status,
        200
    );
    let list = worker.get(&format!("{base}?beta=true")).json();
    let states: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["queued", "stopped"], "newest first");
    let stats = worker.get(&format!("{base}/stats?beta=true")).json();
    assert_eq!(stats["type"], "work_queue_stats");
    assert_eq!(
        (stats["depth"].clone(), stats["pending"].clone()),
        (json!(1), json!(0))
    );
    assert!(stats["oldest_queued_at"].is_string());

    let anonymous = Client {
        addr: admin.addr.clone(),
        key: None,
    };
    assert_eq!(
        anonymous.get(&format!("{base}/stats?beta=true")).status,
        401
    );
}

#[test]
fn fail_acks_answers_500_to_the_first_acks_and_the_item_waits_for_one_that_succeeds() {
    let (_h, admin) = start(ant_mock::Config {
        work_ttl_secs: 2,
        fail_acks: 2,
        ..Default::default()
    });
    let worker = Client {
        addr: admin.addr.clone(),
        key: Some("Bearer env-key".into()),
    };
    let (env, _) = self_hosted_session(&admin);
    let base = format!("/v1/environments/{env}/work");
    let item = worker
        .get(&format!("{base}/poll?beta=true&block_ms=999"))
        .json();
    let ack = format!("{base}/{}/ack?beta=true", id(&item));
    for _ in 0..2 {
        let r = worker.raw("POST", &ack, "", b"");
        assert_eq!(r.status, 500);
        assert_eq!(r.json()["error"]["type"], "api_error");
    }
    let r = worker.raw("POST", &ack, "", b"");
    assert_eq!(
        (r.status, r.json()["state"].clone()),
        (200, json!("active"))
    );
}
