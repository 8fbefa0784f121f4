//! The claim loop of `ant beta:worker poll` (the official poller): long-poll
//! for work, back off on failures, stop on a permanent 4xx, acknowledge
//! what arrives, hand each item to its handler and post a graceful stop
//! after it. Up to `--max-sessions` items run at once; with the default of
//! 1 this is the official order: the next poll starts after the previous
//! item's graceful stop.
//!
//! An acknowledgement that fails is retried for a while; an item that still
//! cannot be acknowledged is left alone, for the server to hand out again
//! when its lease runs out. The official worker force-stops it instead,
//! which leaves its session's turn waiting for a tool result for good.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::{self, permanent, status};
use super::item::{self, Handled};
use super::{Ctx, generated_worker_id, onwork};
use crate::error::Result;

/// `2^n` seconds (1 s for n <= 0, at most 60 s), jittered into [base/2, base).
pub fn failure_backoff(n: u32) -> Duration {
    let base = if n == 0 {
        1.0
    } else if n > 6 {
        60.0
    } else {
        f64::from(1u32 << n).min(60.0)
    };
    Duration::from_secs_f64(base / 2.0 + fastrand::f64() * base / 2.0)
}

/// The wait after an empty poll: uniform in [1 s, 3 s).
fn empty_wait() -> Duration {
    Duration::from_secs_f64(1.0 + fastrand::f64() * 2.0)
}

/// How long an acknowledgement is retried.
pub const ACK_WINDOW: Duration = Duration::from_secs(15);

/// Acknowledges an item, retrying a transient failure within
/// [`ACK_WINDOW`]. False: the item is left as it is (never stopped), and
/// the server hands it out again, to this worker or another.
async fn acknowledge(ctx: &Ctx, work_id: &str) -> bool {
    let start = Instant::now();
    let mut failures = 0;
    loop {
        let e = match ctx.api.ack(work_id).await {
            Ok(_) => return true,
            Err(e) => e,
        };
        failures += 1;
        let wait = failure_backoff(failures);
        let key = ("work_id", work_id.into());
        if permanent(&e) || start.elapsed() + wait > ACK_WINDOW {
            ctx.log.error(
                "ack failed; leaving the work item for the server to hand out again",
                &[key, ("error", (&e).into())],
            );
            return false;
        }
        ctx.log.warn(
            "ack failed; retrying",
            &[key, ("error", (&e).into()), ("sleep", wait.into())],
        );
        if !pause(ctx, wait).await {
            return false;
        }
    }
}

/// Sleeps, or returns false at once when the worker shuts down.
async fn pause(ctx: &Ctx, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = ctx.shutdown.cancelled() => false,
    }
}

pub async fn run(ctx: Arc<Ctx>) -> Result<()> {
    let worker_id = ctx
        .opts
        .worker_id
        .clone()
        .unwrap_or_else(generated_worker_id);
    let slots = Arc::new(tokio::sync::Semaphore::new(ctx.opts.max_sessions.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let (mut failures, mut discards) = (0u32, 0u32);
    let result = loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("semaphore is never closed"),
            _ = ctx.shutdown.cancelled() => break Ok(()),
        };
        while tasks.try_join_next().is_some() {}
        let polled = tokio::select! {
            r = ctx.api.poll(&worker_id) => r,
            _ = ctx.shutdown.cancelled() => break Ok(()),
        };
        let item = match polled {
            Err(e) if permanent(&e) => {
                ctx.log.error(
                    "poll hit permanent 4xx; stopping",
                    &[("error", (&e).into())],
                );
                break Err(e);
            }
            Err(e) => {
                failures += 1;
                let sleep = failure_backoff(failures);
                ctx.log.warn(
                    "poll failed, backing off",
                    &[("error", (&e).into()), ("sleep", sleep.into())],
                );
                if !pause(&ctx, sleep).await {
                    break Ok(());
                }
                continue;
            }
            Ok(None) => {
                failures = 0;
                if !pause(&ctx, empty_wait()).await {
                    break Ok(());
                }
                continue;
            }
            Ok(Some(item)) => {
                failures = 0;
                item
            }
        };
        let work_id = item["id"].as_str().unwrap_or_default().to_string();
        if !acknowledge(&ctx, &work_id).await {
            discards += 1;
            let sleep = failure_backoff(discards);
            ctx.log.warn(
                "backing off after unprocessable work item",
                &[("sleep", sleep.into())],
            );
            if !pause(&ctx, sleep).await {
                break Ok(());
            }
            continue;
        }
        discards = 0;
        let work_type = item["data"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        ctx.log.info(
            "claimed work",
            &[
                ("work_id", (&work_id).into()),
                ("work_type", work_type.into()),
            ],
        );
        let ctx2 = ctx.clone();
        tasks.spawn(async move {
            handle(&ctx2, item, &work_id).await;
            drop(permit);
        });
    };
    while tasks.join_next().await.is_some() {}
    result
}

/// Runs one claimed item, then posts its graceful stop.
async fn handle(ctx: &Arc<Ctx>, item: Value, work_id: &str) {
    let session_id = item["data"]["id"].as_str().unwrap_or_default().to_string();
    let result = match &ctx.opts.on_work {
        Some(script) => onwork::handle(ctx, script, &item)
            .await
            .map(|()| Handled::Done),
        None => item::run(ctx.clone(), work_id.to_string(), session_id).await,
    };
    match result {
        // The item is another worker's now: no graceful stop either.
        Ok(Handled::LeaseLost) => return,
        Ok(Handled::Done) => {}
        Err(e) => ctx.log.warn(
            "work handler exited with error",
            &[("work_id", work_id.into()), ("error", (&e).into())],
        ),
    }
    match ctx.api.stop(work_id, false, api::POLLER).await {
        Err(e) if status(&e) != Some(409) => ctx.log.warn(
            "stop failed",
            &[("work_id", work_id.into()), ("error", (&e).into())],
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_backoff_doubles_up_to_a_minute() {
        for (n, base) in [
            (0, 1.0),
            (1, 2.0),
            (2, 4.0),
            (5, 32.0),
            (6, 60.0),
            (7, 60.0),
            (30, 60.0),
        ] {
            for _ in 0..50 {
                let d = failure_backoff(n).as_secs_f64();
                assert!(d >= base / 2.0 && d < base, "n={n}: {d}");
            }
        }
        for _ in 0..50 {
            let d = empty_wait().as_secs_f64();
            assert!((1.0..3.0).contains(&d));
        }
    }
}
