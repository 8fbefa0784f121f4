//! The worker's calls to the API, built from the endpoint table like every
//! other command (`beta:environments:work`, `beta:sessions:events`,
//! `beta:skills:versions`), sent with the environment key as a bearer token
//! and the official worker's `x-stainless-helper` tags.

use std::time::Duration;

use serde_json::{Value, json};

use super::Options;
use crate::api::Operation;
use crate::error::{Error, Result};
use crate::http::{self, Auth, Client};
use crate::request::{self, Body, Flag, Input, Request, files::DiskFiles};

/// `x-stainless-helper` values of the official worker.
pub const POLLER: &str = "environments-work-poller";
pub const WORKER: &str = "environments-worker";
pub const RUNNER: &str = "session-tool-runner";

/// Per-request limits of the official worker.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
pub const POST_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Api {
    /// Retries connection errors, 408, 409, 429 and 5xx (`--max-retries`).
    client: Client,
    /// No automatic retries: stops treat 409 as final.
    once: Client,
    max_retries: u32,
    pub env: String,
    pub debug: bool,
}

/// The HTTP status of an API error.
pub fn status(e: &Error) -> Option<u16> {
    match e {
        Error::Api(a) => Some(a.status),
        _ => None,
    }
}

/// A 4xx other than 408 and 429: trying again will not help.
pub fn permanent(e: &Error) -> bool {
    status(e).is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429)
}

impl Api {
    pub fn new(o: &Options, command: &str) -> Result<Api> {
        let cfg = |retries| http::Config {
            base_url: o.base_url.clone(),
            auth: Auth::Bearer(o.environment_key.clone()),
            workspace_id: o.workspace_id.clone(),
            max_retries: retries,
            timeout: None,
            debug: o.debug,
            command: command.to_string(),
            extra_betas: vec![],
            progress: false,
        };
        Ok(Api {
            client: Client::new(cfg(o.max_retries))?,
            once: Client::new(cfg(0))?,
            max_retries: o.max_retries,
            env: o.environment_id.clone(),
            debug: o.debug,
        })
    }

    /// A request for a table operation with these parameter values.
    pub fn request(
        &self,
        group: &str,
        verb: &str,
        values: &[(&str, Value)],
        helper: &str,
    ) -> Result<Request> {
        let op = Operation::find(group, verb)
            .ok_or_else(|| Error::Other(format!("no operation {group} {verb} in the table")))?;
        let mut flags = Vec::new();
        for (name, v) in values {
            let p = op
                .param(name)
                .ok_or_else(|| Error::Other(format!("{group} {verb} has no parameter {name}")))?;
            flags.push(Flag::Value(p, v.clone()));
        }
        let input = Input {
            flags,
            ..Default::default()
        };
        let mut req = request::build(op, input, &mut DiskFiles::default())?;
        req.headers
            .push(("x-stainless-helper".into(), helper.to_string()));
        Ok(req)
    }

    fn work(&self, verb: &str, work_id: Option<&str>, helper: &str) -> Result<Request> {
        let mut values = vec![("environment_id", json!(self.env))];
        if let Some(w) = work_id {
            values.push(("work_id", json!(w)));
        }
        self.request("beta:environments:work", verb, &values, helper)
    }

    /// Sends and reads a JSON body (`null` when empty), within `timeout`.
    async fn call(&self, req: &Request, timeout: Option<Duration>) -> Result<Value> {
        let job = async {
            let resp = self.client.send(req, "application/json").await?;
            let body = self.client.read_body(resp, req.method).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&body).map_err(|e| {
                Error::Other(format!(
                    "{} {}: response is not JSON: {e}",
                    req.method,
                    self.client.url(req)
                ))
            })
        };
        within(timeout, req, &self.client, job).await
    }

    /// Every item of a paged list (`next_page` cursors), until a page is
    /// empty or has no next page.
    async fn all_pages(&self, req: &mut Request) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut cursors = crate::http::cursors::Cursors::default();
        loop {
            let page = self.call(req, None).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                break;
            }
            out.extend(data);
            match page["next_page"].as_str() {
                Some(next) if !next.is_empty() => {
                    cursors.next(&req.path, next)?;
                    req.set_query("page", next);
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// The next work item, or `None` (an empty body, `null` or `{}`).
    pub async fn poll(&self, worker_id: &str) -> Result<Option<Value>> {
        let mut req = self.work("poll", None, POLLER)?;
        req.set_query("block_ms", "999");
        req.headers
            .push(("Anthropic-Worker-ID".into(), worker_id.to_string()));
        let v = self.call(&req, None).await?;
        let has_id = v
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        Ok(has_id.then_some(v))
    }

    pub async fn ack(&self, work_id: &str) -> Result<Value> {
        let req = self.work("ack", Some(work_id), POLLER)?;
        self.call(&req, None).await
    }

    pub async fn heartbeat(
        &self,
        work_id: &str,
        expected: &str,
        timeout: Duration,
    ) -> Result<Value> {
        let mut req = self.work("heartbeat", Some(work_id), WORKER)?;
        req.set_query("expected_last_heartbeat", expected);
        self.call(&req, Some(timeout)).await
    }

    /// `{"force":true}` or `{}`, within 10 s; a 409 (already stopped) is
    /// returned at once, other transient failures are retried.
    pub async fn stop(&self, work_id: &str, force: bool, helper: &str) -> Result<()> {
        let mut req = self.work("stop", Some(work_id), helper)?;
        req.body = Body::Json(if force {
            json!({"force": true})
        } else {
            json!({})
        });
        let job = async {
            let mut attempt = 0;
            loop {
                let sent = self.once.send(&req, "application/json").await;
                match sent {
                    Ok(resp) => {
                        let _ = self.once.read_body(resp, "stop").await;
                        return Ok(());
                    }
                    Err(e) if permanent(&e) || attempt >= self.max_retries => return Err(e),
                    Err(_) => {
                        tokio::time::sleep(http::backoff(attempt)).await;
                        attempt += 1;
                    }
                }
            }
        };
        within(Some(STOP_TIMEOUT), &req, &self.once, job).await
    }

    pub async fn session(&self, session_id: &str) -> Result<Value> {
        let req = self.request(
            "beta:sessions",
            "retrieve",
            &[("session_id", json!(session_id))],
            WORKER,
        )?;
        self.call(&req, None).await
    }

    /// Opens the session's event stream (the response is read by the caller).
    pub async fn open_stream(&self, session_id: &str) -> Result<reqwest::Response> {
        let req = self.request(
            "beta:sessions:events",
            "stream",
            &[("session_id", json!(session_id))],
            RUNNER,
        )?;
        self.client.send(&req, "text/event-stream").await
    }

    /// Every event of the session, oldest first (pages of 1000).
    pub async fn list_events(&self, session_id: &str) -> Result<Vec<Value>> {
        let mut req = self.request(
            "beta:sessions:events",
            "list",
            &[
                ("session_id", json!(session_id)),
                ("limit", json!(1000)),
                ("order", json!("asc")),
            ],
            RUNNER,
        )?;
        self.all_pages(&mut req).await
    }

    /// Posts events (tool results) within `timeout`.
    pub async fn send_events(
        &self,
        session_id: &str,
        events: Value,
        timeout: Duration,
    ) -> Result<()> {
        let req = self.request(
            "beta:sessions:events",
            "send",
            &[("session_id", json!(session_id)), ("events", events)],
            RUNNER,
        )?;
        self.call(&req, Some(timeout)).await.map(|_| ())
    }

    /// Every version of a skill (all pages).
    pub async fn skill_versions(&self, skill_id: &str) -> Result<Vec<Value>> {
        let mut req = self.request(
            "beta:skills:versions",
            "list",
            &[("skill_id", json!(skill_id))],
            WORKER,
        )?;
        self.all_pages(&mut req).await
    }

    pub async fn skill_version(&self, skill_id: &str, version: &str) -> Result<Value> {
        let req = self.request(
            "beta:skills:versions",
            "retrieve",
            &[("skill_id", json!(skill_id)), ("version", json!(version))],
            WORKER,
        )?;
        self.call(&req, None).await
    }

    /// The archive of a skill version, as a response to stream from.
    pub async fn skill_content(&self, skill_id: &str, version: &str) -> Result<reqwest::Response> {
        let req = self.request(
            "beta:skills:versions",
            "download",
            &[("skill_id", json!(skill_id)), ("version", json!(version))],
            WORKER,
        )?;
        self.client.send(&req, "application/binary").await
    }
}

/// Runs `job` within `timeout` (when given); running out is a timeout error.
async fn within<T>(
    timeout: Option<Duration>,
    req: &Request,
    client: &Client,
    job: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        None => job.await,
        Some(t) => tokio::time::timeout(t, job).await.unwrap_or_else(|_| {
            Err(Error::Timeout(format!(
                "{} {}: timed out after {}",
                req.method,
                client.url(req),
                super::duration::format(t)
            )))
        }),
    }
}
