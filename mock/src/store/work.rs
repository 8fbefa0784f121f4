//! The work queue of `self_hosted` environments: one work item per session
//! that needs a worker, and the lease a worker holds on it. The state
//! machine (queued → starting → active → stopping → stopped) and the lease
//! rules live here, as plain functions of the current time, so they are
//! unit-testable; `resources/work.rs` maps them to the HTTP endpoints.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{ApiError, new_id, rfc3339};

/// `expected_last_heartbeat` that claims a lease nobody holds.
pub const NO_HEARTBEAT: &str = "NO_HEARTBEAT";
/// `reclaim_older_than_ms` when the poll does not say.
pub const DEFAULT_RECLAIM_MS: u64 = 5000;
/// How long a worker counts as polling after its last poll (for stats).
const POLLING_WINDOW_MS: u64 = 60_000;
/// Longest lease a heartbeat can ask for (`desired_ttl_seconds`), and the
/// longest `--work-ttl`.
pub const MAX_TTL_SECONDS: u64 = 3600;

/// One work item: its public JSON plus the lease bookkeeping.
pub struct WorkRec {
    pub json: Value,
    pub session_id: String,
    /// The lease runs until this time (ms since the epoch).
    lease_until: u64,
    /// Last delivery or heartbeat (ms), for `reclaim_older_than_ms`.
    last_touch: u64,
    /// The `last_heartbeat` the current lease holder must echo; `None` while
    /// nobody has claimed the lease since the item was (re)delivered.
    lease_beat: Option<String>,
}

impl WorkRec {
    pub fn state(&self) -> &str {
        self.json["state"].as_str().unwrap_or("")
    }

    fn set(&mut self, state: &str) {
        self.json["state"] = json!(state);
    }

    fn live(&self) -> bool {
        self.state() != "stopped"
    }
}

/// The queue of every environment.
#[derive(Default)]
pub struct Queue {
    pub items: Vec<WorkRec>,
    /// Wakes long polls when an item is queued.
    pub notify: Arc<tokio::sync::Notify>,
    /// Last poll time (ms) per `Anthropic-Worker-ID`, per environment.
    pollers: HashMap<(String, String), u64>,
    /// Acknowledgements answered with an injected `500` so far (`--fail-acks`).
    pub failed_acks: u32,
}

/// A heartbeat's answer.
pub struct Beat {
    pub last_heartbeat: String,
    pub lease_extended: bool,
    pub state: String,
    pub ttl_seconds: u64,
}

impl Queue {
    /// Queues a work item for a session (created in state `queued`).
    pub fn enqueue(&mut self, env_id: &str, session_id: &str, now: u64) -> Value {
        let json = json!({
            "id": new_id("work"),
            "type": "work",
            "created_at": rfc3339(now),
            "environment_id": env_id,
            "state": "queued",
            "data": { "type": "session", "id": session_id },
            "metadata": {},
            "acknowledged_at": null,
            "latest_heartbeat_at": null,
            "started_at": null,
            "stop_requested_at": null,
            "stopped_at": null,
            "secret": null,
        });
        self.items.push(WorkRec {
            json: json.clone(),
            session_id: session_id.to_string(),
            lease_until: 0,
            last_touch: now,
            lease_beat: None,
        });
        self.notify.notify_waiters();
        json
    }

    /// Queues a new item for the session unless one is still live (a worker
    /// that stopped after the last turn must come back for the next one).
    pub fn requeue(&mut self, env_id: &str, session_id: &str, now: u64) {
        let live = self
            .items
            .iter()
            .any(|w| w.session_id == session_id && w.live());
        if !live {
            self.enqueue(env_id, session_id, now);
        }
    }

    /// Stops every item of a deleted session.
    pub fn session_gone(&mut self, session_id: &str, now: u64) {
        for w in self.items.iter_mut().filter(|w| w.session_id == session_id) {
            if w.live() {
                stop_now(w, now);
            }
        }
    }

    /// Time-driven transitions: a `stopping` item whose lease ran out is `stopped`.
    pub fn tick(&mut self, now: u64) {
        for w in &mut self.items {
            if w.state() == "stopping" && now >= w.lease_until {
                stop_now(w, now);
            }
        }
    }

    pub fn get(&self, env_id: &str, work_id: &str) -> Result<&WorkRec, ApiError> {
        self.items
            .iter()
            .find(|w| w.json["id"] == work_id && w.json["environment_id"] == env_id)
            .ok_or_else(|| ApiError::not_found("work", work_id))
    }

    fn get_mut(&mut self, env_id: &str, work_id: &str) -> Result<&mut WorkRec, ApiError> {
        self.items
            .iter_mut()
            .find(|w| w.json["id"] == work_id && w.json["environment_id"] == env_id)
            .ok_or_else(|| ApiError::not_found("work", work_id))
    }

    /// Hands out the oldest queued item, or one whose lease expired at least
    /// `reclaim_ms` after its last delivery or heartbeat; it becomes
    /// `starting` with an unclaimed lease.
    pub fn poll(
        &mut self,
        env_id: &str,
        worker: Option<&str>,
        reclaim_ms: u64,
        ttl: u64,
        now: u64,
    ) -> Option<Value> {
        self.tick(now);
        if let Some(w) = worker {
            self.pollers
                .insert((env_id.to_string(), w.to_string()), now);
        }
        let mine = |w: &&mut WorkRec| w.json["environment_id"] == env_id;
        let pick = self
            .items
            .iter_mut()
            .filter(mine)
            .filter(|w| {
                let state = w.state();
                state == "queued"
                    || (matches!(state, "starting" | "active")
                        && now >= w.lease_until
                        && now.saturating_sub(w.last_touch) >= reclaim_ms)
            })
            .min_by_key(|w| w.state() != "queued")?;
        pick.set("starting");
        pick.json["acknowledged_at"] = Value::Null;
        pick.lease_until = now.saturating_add(ttl.saturating_mul(1000));
        pick.last_touch = now;
        pick.lease_beat = None;
        Some(pick.json.clone())
    }

    /// `starting` → `active`.
    pub fn ack(&mut self, env_id: &str, work_id: &str, now: u64) -> Result<Value, ApiError> {
        let w = self.get_mut(env_id, work_id)?;
        if w.state() != "starting" {
            return Err(ApiError::conflict(format!(
                "work {work_id:?} is {}; only a polled (starting) item can be acknowledged",
                w.state()
            )));
        }
        w.set("active");
        w.json["acknowledged_at"] = json!(rfc3339(now));
        if w.json["started_at"].is_null() {
            w.json["started_at"] = json!(rfc3339(now));
        }
        Ok(w.json.clone())
    }

    /// Extends the lease. `stamp` is the new `last_heartbeat` (unique and
    /// increasing); `expected` must match the holder's last one, or be
    /// `NO_HEARTBEAT` while nobody holds the lease (412 otherwise).
    pub fn heartbeat(
        &mut self,
        env_id: &str,
        work_id: &str,
        expected: Option<&str>,
        ttl: u64,
        stamp: String,
        now: u64,
    ) -> Result<Beat, ApiError> {
        self.tick(now);
        let w = self.get_mut(env_id, work_id)?;
        let ttl = ttl.clamp(1, MAX_TTL_SECONDS);
        match w.state() {
            "queued" => {
                return Err(ApiError::conflict(format!(
                    "work {work_id:?} is queued; poll and acknowledge it before heartbeating"
                )));
            }
            "stopped" => {
                return Ok(Beat {
                    last_heartbeat: w.lease_beat.clone().unwrap_or_default(),
                    lease_extended: false,
                    state: "stopped".into(),
                    ttl_seconds: ttl,
                });
            }
            _ => {}
        }
        if let Some(exp) = expected {
            let held = w.lease_beat.as_deref().unwrap_or(NO_HEARTBEAT);
            if exp != held {
                return Err(ApiError::new(
                    412,
                    "invalid_request_error",
                    format!(
                        "expected_last_heartbeat: {exp:?} does not match the lease of work {work_id:?} (held as {held:?}); another worker holds it"
                    ),
                ));
            }
        }
        w.lease_beat = Some(stamp.clone());
        w.json["latest_heartbeat_at"] = json!(stamp);
        w.lease_until = now.saturating_add(ttl.saturating_mul(1000));
        w.last_touch = now;
        Ok(Beat {
            last_heartbeat: stamp,
            lease_extended: true,
            state: w.state().to_string(),
            ttl_seconds: ttl,
        })
    }

    /// A forced stop ends the item at once; a graceful one asks the worker
    /// (through its heartbeats) to stop. Stopping a stopped item is a 409.
    pub fn stop(
        &mut self,
        env_id: &str,
        work_id: &str,
        force: bool,
        now: u64,
    ) -> Result<(), ApiError> {
        self.tick(now);
        let w = self.get_mut(env_id, work_id)?;
        match w.state() {
            "stopped" => Err(ApiError::conflict(format!(
                "work {work_id:?} is already stopped"
            ))),
            "queued" => {
                stop_now(w, now);
                Ok(())
            }
            _ if force => {
                stop_now(w, now);
                Ok(())
            }
            _ => {
                w.set("stopping");
                if w.json["stop_requested_at"].is_null() {
                    w.json["stop_requested_at"] = json!(rfc3339(now));
                }
                Ok(())
            }
        }
    }

    pub fn update_metadata(
        &mut self,
        env_id: &str,
        work_id: &str,
        patch: &Value,
    ) -> Result<Value, ApiError> {
        let w = self.get_mut(env_id, work_id)?;
        super::merge_metadata(&mut w.json["metadata"], patch);
        Ok(w.json.clone())
    }

    /// Items of an environment, newest first.
    pub fn list(&mut self, env_id: &str, now: u64) -> Vec<Value> {
        self.tick(now);
        let mut items: Vec<Value> = self
            .items
            .iter()
            .filter(|w| w.json["environment_id"] == env_id)
            .map(|w| w.json.clone())
            .collect();
        items.reverse();
        items
    }

    /// `depth`: items waiting to be claimed; `pending`: claimed and not yet stopped.
    pub fn stats(&mut self, env_id: &str, now: u64) -> Value {
        self.tick(now);
        let mine = || {
            self.items
                .iter()
                .filter(move |w| w.json["environment_id"] == env_id)
        };
        let depth = mine().filter(|w| w.state() == "queued").count();
        let pending = mine()
            .filter(|w| matches!(w.state(), "starting" | "active" | "stopping"))
            .count();
        let oldest = mine()
            .find(|w| w.state() == "queued")
            .map(|w| w.json["created_at"].clone())
            .unwrap_or(Value::Null);
        let polling = self
            .pollers
            .iter()
            .filter(|((env, _), t)| env == env_id && now.saturating_sub(**t) < POLLING_WINDOW_MS)
            .count();
        json!({
            "type": "work_queue_stats",
            "depth": depth,
            "pending": pending,
            "oldest_queued_at": oldest,
            "workers_polling": polling,
        })
    }
}

fn stop_now(w: &mut WorkRec, now: u64) {
    w.set("stopped");
    let at = json!(rfc3339(now));
    if w.json["stop_requested_at"].is_null() {
        w.json["stop_requested_at"] = at.clone();
    }
    w.json["stopped_at"] = at;
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_767_225_600_000;

    fn queue_with_one() -> (Queue, String) {
        let mut q = Queue::default();
        let id = q.enqueue("env_1", "sesn_1", T0)["id"]
            .as_str()
            .unwrap()
            .to_string();
        (q, id)
    }

    fn beat(
        q: &mut Queue,
        id: &str,
        expected: Option<&str>,
        stamp: &str,
        now: u64,
    ) -> Result<Beat, ApiError> {
        q.heartbeat("env_1", id, expected, 2, stamp.into(), now)
    }

    #[test]
    fn any_lease_length_is_taken_without_overflow() {
        let (mut q, id) = queue_with_one();
        assert!(q.poll("env_1", None, 5000, u64::MAX, T0).is_some());
        let decade = 10 * 365 * 86_400_000;
        assert!(q.poll("env_1", None, 0, 2, T0 + decade).is_none(), "leased");
        q.ack("env_1", &id, T0).unwrap();
        let b = q.heartbeat("env_1", &id, Some(NO_HEARTBEAT), u64::MAX, "hb".into(), T0);
        assert_eq!(b.unwrap().ttl_seconds, MAX_TTL_SECONDS);
    }

    #[test]
    fn an_item_goes_through_every_state() {
        let (mut q, id) = queue_with_one();
        assert!(
            q.poll("env_2", None, 5000, 2, T0).is_none(),
            "other environment"
        );
        let got = q.poll("env_1", Some("w1"), 5000, 2, T0).unwrap();
        assert_eq!(got["state"], "starting");
        assert_eq!(got["data"], json!({"type": "session", "id": "sesn_1"}));
        assert!(q.poll("env_1", None, 5000, 2, T0 + 1).is_none(), "leased");
        assert_eq!(q.ack("env_1", &id, T0 + 1).unwrap()["state"], "active");
        assert_eq!(q.ack("env_1", &id, T0 + 1).unwrap_err().status, 409);
        let b = beat(&mut q, &id, Some(NO_HEARTBEAT), "hb1", T0 + 2).unwrap();
        assert!(b.lease_extended);
        assert_eq!((b.state.as_str(), b.ttl_seconds), ("active", 2));
        beat(&mut q, &id, Some("hb1"), "hb2", T0 + 3).unwrap();
        q.stop("env_1", &id, false, T0 + 4).unwrap();
        assert_eq!(
            beat(&mut q, &id, Some("hb2"), "hb3", T0 + 5).unwrap().state,
            "stopping"
        );
        q.stop("env_1", &id, true, T0 + 6).unwrap();
        let b = beat(&mut q, &id, Some("hb3"), "hb4", T0 + 7).unwrap();
        assert_eq!((b.state.as_str(), b.lease_extended), ("stopped", false));
        assert_eq!(q.stop("env_1", &id, false, T0 + 8).unwrap_err().status, 409);
        let item = &q.get("env_1", &id).unwrap().json;
        assert!(item["stopped_at"].is_string() && item["stop_requested_at"].is_string());
    }

    #[test]
    fn stale_heartbeats_get_412() {
        let (mut q, id) = queue_with_one();
        q.poll("env_1", None, 5000, 2, T0);
        beat(&mut q, &id, Some(NO_HEARTBEAT), "hb1", T0).unwrap();
        let e = beat(&mut q, &id, Some("hb0"), "hb2", T0 + 1).err().unwrap();
        assert_eq!(e.status, 412);
        let e = beat(&mut q, &id, Some(NO_HEARTBEAT), "hb2", T0 + 1)
            .err()
            .unwrap();
        assert_eq!(e.status, 412, "the lease is held");
    }

    #[test]
    fn expired_leases_are_reclaimed_and_the_old_holder_gets_412() {
        let (mut q, id) = queue_with_one();
        q.poll("env_1", Some("w1"), 5000, 2, T0);
        q.ack("env_1", &id, T0).unwrap();
        beat(&mut q, &id, Some(NO_HEARTBEAT), "hb1", T0).unwrap();
        // The lease (2 s) ran out but the last beat is not 5 s old yet.
        assert!(q.poll("env_1", Some("w2"), 5000, 2, T0 + 3000).is_none());
        let again = q.poll("env_1", Some("w2"), 5000, 2, T0 + 5000).unwrap();
        assert_eq!(again["id"], id.as_str());
        assert_eq!(again["state"], "starting");
        assert_eq!(
            beat(&mut q, &id, Some("hb1"), "hb2", T0 + 5001)
                .err()
                .unwrap()
                .status,
            412
        );
        q.ack("env_1", &id, T0 + 5001).unwrap();
        beat(&mut q, &id, Some(NO_HEARTBEAT), "hb3", T0 + 5002).unwrap();
        assert_eq!(q.stats("env_1", T0 + 5002)["workers_polling"], 2);
    }

    #[test]
    fn graceful_stop_without_a_worker_ends_when_the_lease_does() {
        let (mut q, id) = queue_with_one();
        q.poll("env_1", None, 5000, 2, T0);
        q.stop("env_1", &id, false, T0).unwrap();
        q.tick(T0 + 1999);
        assert_eq!(q.get("env_1", &id).unwrap().state(), "stopping");
        q.tick(T0 + 2000);
        assert_eq!(q.get("env_1", &id).unwrap().state(), "stopped");
    }

    #[test]
    fn sessions_get_a_new_item_only_when_none_is_live() {
        let (mut q, id) = queue_with_one();
        q.requeue("env_1", "sesn_1", T0);
        assert_eq!(q.items.len(), 1);
        q.stop("env_1", &id, true, T0).unwrap();
        q.requeue("env_1", "sesn_1", T0 + 1);
        assert_eq!(q.items.len(), 2);
        let s = q.stats("env_1", T0 + 1);
        assert_eq!(
            (s["depth"].clone(), s["pending"].clone()),
            (json!(1), json!(0))
        );
        q.session_gone("sesn_1", T0 + 2);
        assert!(q.items.iter().all(|w| w.state() == "stopped"));
    }
}
