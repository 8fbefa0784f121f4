//! `beta:environments:work`: the endpoints a self-hosted worker uses (poll
//! with long-polling, ack, heartbeat, stop) and the ones for operators
//! (retrieve, update, list, stats), over the queue in `store::work`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Answer, Reply, Req};
use crate::store::work::DEFAULT_RECLAIM_MS;
use crate::store::{ApiError, Shared, State, find, now_ms, paginate};

/// The environment must exist and be `self_hosted`.
fn check_env(s: &Shared, env_id: &str) -> Result<(), ApiError> {
    let st = s.lock();
    let env = find(&st.environments, "environment", env_id)?;
    if env["config"]["type"] != "self_hosted" {
        return Err(ApiError::invalid(format!(
            "environment_id: environment {env_id:?} is not self_hosted; only self_hosted environments have a work queue"
        )));
    }
    Ok(())
}

fn query_int(req: &Req, key: &str) -> Option<i64> {
    req.query.get(key).and_then(Value::as_i64)
}

/// Waits up to `block_ms` (1–999) for an item; "no work" is `200 null`.
pub async fn poll(s: &Arc<Shared>, req: &Req) -> Answer {
    let env = req.p("environment_id").to_string();
    check_env(s, &env)?;
    let block = match query_int(req, "block_ms") {
        None => 0,
        Some(ms @ 1..=999) => ms as u64,
        Some(ms) => {
            return Err(ApiError::invalid(format!(
                "block_ms: must be between 1 and 999, got {ms}"
            )));
        }
    };
    let reclaim = match query_int(req, "reclaim_older_than_ms") {
        None => DEFAULT_RECLAIM_MS,
        Some(ms) if ms >= 0 => ms as u64,
        Some(ms) => {
            return Err(ApiError::invalid(format!(
                "reclaim_older_than_ms: must not be negative, got {ms}"
            )));
        }
    };
    let worker = req.header("anthropic-worker-id").map(str::to_string);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(block);
    loop {
        let notify = s.lock().work.notify.clone();
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        {
            let mut st = s.lock();
            let ttl = s.config.work_ttl_secs;
            if let Some(item) = st
                .work
                .poll(&env, worker.as_deref(), reclaim, ttl, now_ms())
            {
                return Ok(Reply::ok(item));
            }
        }
        // Lease expiries are not notified: look again at least every 100 ms.
        let wake = deadline.min(tokio::time::Instant::now() + Duration::from_millis(100));
        if tokio::time::Instant::now() >= deadline {
            return Ok(Reply::ok(Value::Null));
        }
        let _ = tokio::time::timeout_at(wake, woken).await;
    }
}

pub fn ack(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let mut st = s.lock();
    if st.work.failed_acks < s.config.fail_acks {
        st.work.failed_acks += 1;
        return Err(ApiError::new(
            500,
            "api_error",
            "Internal server error (injected by ant-mock --fail-acks)",
        ));
    }
    let item = st
        .work
        .ack(req.p("environment_id"), req.p("work_id"), now_ms())?;
    Ok(Reply::ok(item))
}

pub fn heartbeat(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let ttl = match query_int(req, "desired_ttl_seconds") {
        None => s.config.work_ttl_secs,
        Some(t) if t > 0 => t as u64,
        Some(t) => {
            return Err(ApiError::invalid(format!(
                "desired_ttl_seconds: must be positive, got {t}"
            )));
        }
    };
    let expected = req
        .query
        .get("expected_last_heartbeat")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut st = s.lock();
    let stamp = st.now();
    let beat = st.work.heartbeat(
        req.p("environment_id"),
        req.p("work_id"),
        expected.as_deref(),
        ttl,
        stamp,
        now_ms(),
    )?;
    Ok(Reply::ok(json!({
        "type": "work_heartbeat",
        "last_heartbeat": beat.last_heartbeat,
        "lease_extended": beat.lease_extended,
        "state": beat.state,
        "ttl_seconds": beat.ttl_seconds,
    })))
}

/// Answers `204 No Content`, as the real endpoint does.
pub fn stop(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let force = req.field("force").and_then(Value::as_bool).unwrap_or(false);
    let mut st = s.lock();
    st.work
        .stop(req.p("environment_id"), req.p("work_id"), force, now_ms())?;
    Ok(Reply::Raw {
        status: 204,
        content_type: "application/json".into(),
        body: bytes::Bytes::new(),
    })
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let mut st = s.lock();
    st.work.tick(now_ms());
    let item = st.work.get(req.p("environment_id"), req.p("work_id"))?;
    Ok(Reply::ok(item.json.clone()))
}

pub fn update(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let patch = req.field("metadata").cloned().unwrap_or(json!({}));
    let mut st = s.lock();
    let item = st
        .work
        .update_metadata(req.p("environment_id"), req.p("work_id"), &patch)?;
    Ok(Reply::ok(item))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let mut st = s.lock();
    let items = st.work.list(req.p("environment_id"), now_ms());
    Ok(Reply::ok(paginate(items, &req.query, false)?))
}

pub fn stats(s: &Arc<Shared>, req: &Req) -> Answer {
    check_env(s, req.p("environment_id"))?;
    let mut st = s.lock();
    Ok(Reply::ok(st.work.stats(req.p("environment_id"), now_ms())))
}

/// A user message to a self-hosted session whose work item has stopped
/// (its worker left after the last turn) queues a new item.
pub fn wake_session(st: &mut State, sid: &str, events: &[Value]) {
    if !events.iter().any(|e| e["type"] == "user.message") {
        return;
    }
    let Ok(sess) = st.session(sid) else { return };
    if !sess.self_hosted {
        return;
    }
    let env = sess.json["environment_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    st.work.requeue(&env, sid, now_ms());
}
