//! Keeps a work item's lease alive (the official worker's heartbeat): the
//! first beat claims the lease with `NO_HEARTBEAT`, later beats echo the
//! last `last_heartbeat`; the interval is half the TTL, 1–30 s. A 412, a
//! permanent 4xx, a `stopping`/`stopped` state, `lease_extended: false` or
//! no success for longer than the TTL cancels the session.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::{permanent, status};
use super::{Cancel, Ctx};

/// Why the heartbeat stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The session ended first.
    Cancelled,
    /// Another worker holds the lease (412): the item is not ours to stop.
    LeaseLost,
    /// The server asked the item to stop, or the lease could not be kept.
    Shutdown,
}

/// The interval and TTL after a beat that reported `ttl_seconds`.
pub fn timing(ttl_seconds: i64) -> (Duration, Duration) {
    let ttl = Duration::from_secs(ttl_seconds.max(1) as u64);
    let interval = (ttl / 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    (interval, ttl)
}

/// Beats until `stop` is cancelled (the session is over) or the lease is
/// gone; cancels `session` in the latter case. It is not tied to the
/// worker's shutdown, so the lease stays ours while running tools finish.
pub async fn run(ctx: Arc<Ctx>, work_id: String, stop: Cancel, session: Cancel) -> Stop {
    let log = &ctx.log;
    let key = || ("work_id", work_id.as_str().into());
    let mut expected = "NO_HEARTBEAT".to_string();
    let (mut interval, mut ttl) = (Duration::from_secs(30), Duration::from_secs(30));
    let mut last_success = Instant::now();
    let why = loop {
        let beat = tokio::select! {
            r = ctx.api.heartbeat(&work_id, &expected, interval) => r,
            _ = stop.cancelled() => return Stop::Cancelled,
        };
        match beat {
            Ok(v) => {
                last_success = Instant::now();
                if let Some(last) = v["last_heartbeat"].as_str() {
                    expected = last.to_string();
                }
                if let Some(t) = v["ttl_seconds"].as_i64().filter(|t| *t > 0) {
                    (interval, ttl) = timing(t);
                }
                let state = v["state"].as_str().unwrap_or_default();
                if matches!(state, "stopping" | "stopped") {
                    log.info(
                        "heartbeat reports shutdown",
                        &[key(), ("state", state.into())],
                    );
                    break Stop::Shutdown;
                }
                if v["lease_extended"] == Value::Bool(false) {
                    log.warn("lease not extended; shutting down", &[key()]);
                    break Stop::Shutdown;
                }
            }
            Err(e) if status(&e) == Some(412) => {
                log.warn(
                    "heartbeat precondition failed; lease reclaimed by another worker",
                    &[key(), ("error", (&e).into())],
                );
                break Stop::LeaseLost;
            }
            Err(e) if permanent(&e) => {
                log.error(
                    "permanent heartbeat failure",
                    &[key(), ("error", (&e).into())],
                );
                break Stop::Shutdown;
            }
            Err(e) if last_success.elapsed() > ttl => {
                log.error(
                    "heartbeat staleness ceiling exceeded; lease presumed expired",
                    &[key(), ("error", (&e).into())],
                );
                break Stop::LeaseLost;
            }
            Err(e) => {
                log.warn(
                    "transient heartbeat failure",
                    &[key(), ("error", (&e).into())],
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return Stop::Cancelled,
        }
    };
    session.cancel();
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_half_the_ttl_within_one_to_thirty_seconds() {
        let s = Duration::from_secs;
        assert_eq!(timing(30), (s(15), s(30)));
        assert_eq!(timing(2), (s(1), s(2)));
        assert_eq!(timing(1), (s(1), s(1)));
        assert_eq!(timing(0), (s(1), s(1)));
        assert_eq!(timing(600), (s(30), s(600)));
        assert_eq!(timing(3), (Duration::from_millis(1500), s(3)));
    }
}
