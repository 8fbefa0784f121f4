//! One work item, in-process (`poll` without `--on-work`, and `run`):
//! heartbeat first, then skills, then the session tool runner with the six
//! tools; at the end stop the heartbeat, force-stop the item (unless another
//! worker took the lease), close the tools and remove the skills we
//! extracted (never anything else under `<workdir>/skills`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::api::{WORKER, status};
use super::heartbeat::{self, Stop};
use super::host::{Host, HostConfig};
use super::runner::{self, End};
use super::tools;
use super::{Cancel, Ctx, skills};
use crate::error::{Error, Result};

/// Whether the item is still this worker's to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Done,
    /// Another worker holds the lease now: leave the item alone.
    LeaseLost,
}

/// `<workdir>/<session id>/` (with `--max-sessions` > 1): the id comes from
/// the work item, so it must name exactly one directory below the workdir.
pub fn session_dir(workdir: &Path, session_id: &str) -> Result<PathBuf> {
    let one_name =
        !matches!(session_id, "" | "." | "..") && !session_id.contains(['/', '\\', '\0']);
    if !one_name {
        return Err(Error::Other(format!(
            "session id {session_id:?} cannot name a directory under the workdir"
        )));
    }
    Ok(workdir.join(session_id))
}

pub async fn run(ctx: Arc<Ctx>, work_id: String, session_id: String) -> Result<Handled> {
    let log = &ctx.log;
    let session = ctx.shutdown.child();
    let beat_stop = Cancel::new();
    let beat = tokio::spawn(heartbeat::run(
        ctx.clone(),
        work_id.clone(),
        beat_stop.clone(),
        session.clone(),
    ));
    let outcome = async {
        let workdir = if ctx.opts.max_sessions > 1 {
            session_dir(&ctx.opts.workdir, &session_id)?
        } else {
            ctx.opts.workdir.clone()
        };
        std::fs::create_dir_all(&workdir).map_err(|e| {
            Error::Io(format!(
                "cannot create the workdir {}: {e}",
                workdir.display()
            ))
        })?;
        // Sessions never see each other's files (hiding the temporary
        // directory's parent costs a rule per entry there: only then).
        let tmp_parent = tools::tmp_root()?;
        let hidden = if ctx.opts.max_sessions > 1 {
            vec![ctx.opts.workdir.clone(), tmp_parent.clone()]
        } else {
            vec![]
        };
        let extracted = match skills::setup(&ctx, &session_id, &workdir, &session).await {
            Ok(dirs) => dirs,
            Err(e) => {
                log.warn(
                    "skill setup failed",
                    &[("session_id", (&session_id).into()), ("error", (&e).into())],
                );
                skills::Extracted::default()
            }
        };
        let host = Host::start(HostConfig {
            workdir: workdir.clone(),
            unrestricted: ctx.opts.unrestricted_paths,
            confined: ctx.confined,
            hidden,
            tmp_parent,
            session_id: session_id.clone(),
            limits: ctx.opts.limits,
        })
        .await;
        let result = match host {
            Ok(host) => {
                let r = runner::run(&ctx, &session_id, &host, &session).await;
                host.close().await;
                r
            }
            Err(e) => Err(e),
        };
        if let Err(e) = skills::cleanup(&extracted) {
            log.warn(
                "skill cleanup failed",
                &[("session_id", (&session_id).into()), ("error", (&e).into())],
            );
        }
        result
    }
    .await;
    session.cancel();
    beat_stop.cancel();
    let stopped = beat.await.unwrap_or(Stop::Cancelled);
    let reason = match (&outcome, stopped) {
        (_, Stop::LeaseLost) => "lease lost",
        (_, Stop::Shutdown) => "stop requested",
        (Ok(End::Terminated), _) => "terminated",
        (Ok(End::Idle), _) => "idle",
        (Ok(End::Cancelled), _) => "shutdown",
        (Err(_), _) => "error",
    };
    log.info(
        "session ended",
        &[
            ("session_id", (&session_id).into()),
            ("work_id", (&work_id).into()),
            ("reason", reason.into()),
        ],
    );
    let outcome = match outcome {
        Ok(End::Terminated | End::Idle | End::Cancelled) => Ok(()),
        Err(e) => {
            log.warn(
                "session tool runner exited with error",
                &[("session_id", (&session_id).into()), ("error", (&e).into())],
            );
            Err(e)
        }
    };
    if stopped == Stop::LeaseLost {
        return outcome.map(|()| Handled::LeaseLost);
    }
    match ctx.api.stop(&work_id, true, WORKER).await {
        Err(e) if status(&e) != Some(409) => log.warn(
            "force-stop on exit failed",
            &[("work_id", (&work_id).into()), ("error", (&e).into())],
        ),
        _ => {}
    }
    outcome.map(|()| Handled::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_directory_is_one_name_below_the_workdir() {
        let w = Path::new("/w");
        assert_eq!(session_dir(w, "sesn_1").unwrap(), w.join("sesn_1"));
        for bad in ["", ".", "..", "../x", "/etc", "a/b", "a\\b", "a\0"] {
            assert!(session_dir(w, bad).is_err(), "{bad:?}");
        }
    }
}
