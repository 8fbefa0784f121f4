//! `--on-work SCRIPT`: instead of running a claimed session in-process,
//! start SCRIPT (typically a container whose entrypoint is
//! `ant beta:worker run`) with the item in its environment and on stdin,
//! its output on our stderr, and wait for it; on shutdown it gets SIGTERM,
//! then SIGKILL 30 s later.

use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use super::Ctx;
use super::tools::search::which;
use crate::error::{Error, Result};

const KILL_AFTER: Duration = Duration::from_secs(30);

/// The script must be runnable, checked before anything is claimed: a bare
/// name must be an executable on `PATH` (the official worker's message), a
/// path an executable file (the official worker only fails each item then).
pub fn check_runnable(script: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if !script.contains('/') {
        return match which(script) {
            Some(_) => Ok(()),
            None => Err(Error::usage(format!(
                "--on-work: script {script:?} is unrunnable: exec: {script:?}: executable file not found in $PATH"
            ))),
        };
    }
    let why = match std::fs::metadata(script) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => return Ok(()),
        Ok(m) if m.is_file() => "not executable".to_string(),
        Ok(_) => "not a file".to_string(),
        Err(e) => super::tools::fs_error(&e),
    };
    Err(Error::usage(format!(
        "--on-work: script {script:?} is unrunnable: {why}"
    )))
}

/// The item as the official worker writes it to the script's stdin: fixed
/// key order, unknown fields dropped, nulls as `""`, `<>&` escaped.
pub fn stdin_json(item: &Value) -> String {
    let s = |v: &Value| match v {
        Value::Null => Value::String(String::new()),
        Value::String(_) => v.clone(),
        other => Value::String(other.to_string()),
    };
    let mut data = Map::new();
    data.insert("id".into(), s(&item["data"]["id"]));
    data.insert("type".into(), s(&item["data"]["type"]));
    let mut metadata: Vec<(String, Value)> = item["metadata"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
        .unwrap_or_default();
    metadata.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Map::new();
    for key in [
        "id",
        "acknowledged_at",
        "created_at",
        "data",
        "environment_id",
        "latest_heartbeat_at",
        "metadata",
        "secret",
        "started_at",
        "state",
        "stop_requested_at",
        "stopped_at",
        "type",
    ] {
        let v = match key {
            "data" => Value::Object(data.clone()),
            "metadata" => Value::Object(metadata.iter().cloned().collect()),
            _ => s(&item[key]),
        };
        out.insert(key.into(), v);
    }
    Value::Object(out)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Runs the script for one item and waits for it.
pub async fn handle(ctx: &Ctx, script: &str, item: &Value) -> Result<()> {
    let work_id = item["id"].as_str().unwrap_or_default();
    let kind = item["data"]["type"].as_str().unwrap_or_default();
    if kind != "session" {
        ctx.log.warn(
            "unsupported work type, skipping",
            &[("work_id", work_id.into()), ("work_type", kind.into())],
        );
        return Ok(());
    }
    ctx.log.info(
        "spawning on-work script",
        &[("script", script.into()), ("work_id", work_id.into())],
    );
    let stderr = || -> Result<Stdio> {
        let fd = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::Io(format!("stderr: {e}")))?;
        Ok(Stdio::from(fd))
    };
    let env_id = item["environment_id"]
        .as_str()
        .unwrap_or(&ctx.opts.environment_id);
    let mut child = tokio::process::Command::new(script)
        .env("ANTHROPIC_WORK_ID", work_id)
        .env("ANTHROPIC_ENVIRONMENT_ID", env_id)
        .env(
            "ANTHROPIC_SESSION_ID",
            item["data"]["id"].as_str().unwrap_or_default(),
        )
        .env("ANTHROPIC_ENVIRONMENT_KEY", &ctx.opts.environment_key)
        .stdin(Stdio::piped())
        .stdout(stderr()?)
        .stderr(stderr()?)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Other(format!("starting on-work script {script:?}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A script that does not read its stdin is fine.
        let _ = stdin.write_all(stdin_json(item).as_bytes()).await;
    }
    let status = tokio::select! {
        s = child.wait() => s,
        _ = ctx.shutdown.cancelled() => {
            if let Some(pid) = child.id() {
                // SAFETY: signals our own child process.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            match tokio::time::timeout(KILL_AFTER, child.wait()).await {
                Ok(s) => s,
                Err(_) => {
                    let _ = child.kill().await;
                    child.wait().await
                }
            }
        }
    }
    .map_err(|e| Error::Other(format!("waiting for on-work script: {e}")))?;
    if status.success() {
        return Ok(());
    }
    let what = match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".to_string(),
    };
    ctx.log.warn(
        "on-work script exited non-zero",
        &[("work_id", work_id.into()), ("error", (&what).into())],
    );
    Err(Error::Other(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stdin_matches_the_official_serialization() {
        let item = json!({
            "id": "work_1", "type": "work", "created_at": "2026-01-01T00:00:00Z",
            "environment_id": "env_1", "state": "queued",
            "data": {"type": "session", "id": "sesn_1", "mode": "x"},
            "metadata": {"b": "2", "a": "<&>"}, "acknowledged_at": null, "secret": "s", "extra": 1
        });
        assert_eq!(
            stdin_json(&item),
            r#"{"id":"work_1","acknowledged_at":"","created_at":"2026-01-01T00:00:00Z","data":{"id":"sesn_1","type":"session"},"environment_id":"env_1","latest_heartbeat_at":"","metadata":{"a":"\u003c\u0026\u003e","b":"2"},"secret":"s","started_at":"","state":"queued","stop_requested_at":"","stopped_at":"","type":"work"}"#
        );
    }
}
