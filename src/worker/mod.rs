//! The self-hosted worker (`ant beta:worker poll|run`): claims work items of
//! a `self_hosted` environment, keeps their leases alive, and runs the
//! agent's built-in tool calls on this machine, confined to the workdir.
//! The protocol mirrors the official Go worker; `cli/worker.rs` only parses
//! flags into [`Options`].
//!
//! Rooms: `poller` (claim loop), `item` (one work item end to end),
//! `heartbeat`, `runner` (the session tool runner), `tools` (the six tools
//! on a confined thread per session), `confine` (Landlock), `skills` and
//! `archive`, `onwork` (`--on-work SCRIPT`), `api`, `log`, `duration`.

pub mod api;
pub mod archive;
pub mod confine;
pub mod duration;
pub mod heartbeat;
pub mod item;
pub mod log;
pub mod onwork;
pub mod poller;
pub mod runner;
pub mod skills;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};

/// `--confine`: what to do where Landlock is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfineMode {
    /// Warn once and run unconfined.
    Auto,
    /// Refuse to start.
    Required,
}

/// Everything the worker was told, after flag parsing.
#[derive(Debug, Clone)]
pub struct Options {
    pub environment_id: String,
    pub environment_key: String,
    /// `poll`: this worker's id (generated when not given).
    pub worker_id: Option<String>,
    /// `run`: the claimed item.
    pub session_id: Option<String>,
    pub work_id: Option<String>,
    pub base_url: String,
    pub workspace_id: Option<String>,
    /// `--on-work SCRIPT` (`None`: run items in-process).
    pub on_work: Option<String>,
    pub workdir: PathBuf,
    pub unrestricted_paths: bool,
    /// `None`: never stop on idle.
    pub max_idle: Option<Duration>,
    pub log_format: log::Format,
    /// A `--log-format` other than text or json (logged as text, with a warning).
    pub unknown_log_format: Option<String>,
    pub confine: ConfineMode,
    pub max_sessions: usize,
    pub debug: bool,
    pub max_retries: u32,
}

/// What every task of the worker shares.
pub struct Ctx {
    pub api: api::Api,
    pub log: log::Logger,
    pub opts: Options,
    /// Landlock is used for tools (false: unavailable or `--unrestricted-paths`).
    pub confined: bool,
    /// Set on SIGINT/SIGTERM: stop claiming, finish, exit 0.
    pub shutdown: Cancel,
}

/// A cancellation flag that can have a parent: a child is cancelled when
/// its parent is.
#[derive(Clone, Default)]
pub struct Cancel(Arc<CancelInner>);

#[derive(Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
    parent: Option<Cancel>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn child(&self) -> Cancel {
        Cancel(Arc::new(CancelInner {
            parent: Some(self.clone()),
            ..Default::default()
        }))
    }

    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    fn chain(&self) -> Vec<Cancel> {
        let mut out = vec![self.clone()];
        while let Some(p) = out.last().and_then(|c| c.0.parent.clone()) {
            out.push(p);
        }
        out
    }

    pub fn is_cancelled(&self) -> bool {
        self.chain().iter().any(|c| c.0.flag.load(Ordering::SeqCst))
    }

    /// Waits until this token or an ancestor is cancelled.
    pub async fn cancelled(&self) {
        let chain = self.chain();
        let mut waits: Vec<_> = chain
            .iter()
            .map(|c| Box::pin(c.0.notify.notified()))
            .collect();
        for w in &mut waits {
            w.as_mut().enable();
        }
        if self.is_cancelled() {
            return;
        }
        futures_util::future::select_all(waits).await;
    }
}

/// A worker id like the official one: `<hostname>-<16 hex>`.
pub fn generated_worker_id() -> String {
    let hex = format!("{:016x}", fastrand::u64(..));
    match hostname() {
        Some(h) => format!("{h}-{hex}"),
        None => format!("anthropic-sdk-go-runner-{hex}"),
    }
}

fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// Builds the shared context: logger, API client, confinement check.
fn context(opts: Options, command: &str) -> Result<Arc<Ctx>> {
    let log = log::Logger::stderr(opts.log_format);
    if let Some(f) = &opts.unknown_log_format {
        log.warn(
            "unknown --log-format; logging as text",
            &[("log_format", f.into())],
        );
    }
    let confined = if opts.unrestricted_paths || opts.on_work.is_some() {
        false
    } else {
        match confine::probe() {
            Ok(()) => true,
            Err(why) if opts.confine == ConfineMode::Required => {
                return Err(Error::Other(format!(
                    "--confine required: cannot confine tools with Landlock: {why}"
                )));
            }
            Err(why) => {
                log.warn(
                    "Landlock is not available; tools run unconfined (use --confine required to refuse)",
                    &[("reason", why.into())],
                );
                false
            }
        }
    };
    if opts.on_work.is_none() {
        check_workdir(&opts.workdir)?;
    }
    Ok(Arc::new(Ctx {
        api: api::Api::new(&opts, command)?,
        log,
        opts,
        confined,
        shutdown: Cancel::new(),
    }))
}

/// `--workdir` must be a directory (created when missing): checked before
/// anything is claimed, so a wrong path does not fail item after item.
fn check_workdir(dir: &std::path::Path) -> Result<()> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::usage(format!("--workdir {shown}: not a directory"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir)
            .map_err(|e| Error::usage(format!("--workdir {shown}: cannot create it: {e}"))),
        Err(e) => Err(Error::usage(format!("--workdir {shown}: {e}"))),
    }
}

/// Runs `job` on a fresh runtime; SIGINT/SIGTERM cancel `ctx.shutdown`, a
/// second signal exits at once.
fn block_on(ctx: &Arc<Ctx>, job: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start runtime: {e}")))?;
    runtime.block_on(async {
        let shutdown = ctx.shutdown.clone();
        let signals = async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return std::future::pending::<()>().await;
            };
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            shutdown.cancel();
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            tools::remove_tmp_root();
            std::process::exit(crate::error::exit::INTERRUPTED);
        };
        tokio::select! {
            r = job => r,
            _ = signals => Ok(()),
        }
    })
}

/// `ant beta:worker poll`.
pub fn poll(opts: Options) -> Result<()> {
    if let Some(script) = &opts.on_work {
        onwork::check_runnable(script)?;
    }
    let ctx = context(opts, "ant beta:worker poll")?;
    announce(&ctx);
    let result = block_on(&ctx, poller::run(ctx.clone()));
    tools::remove_tmp_root();
    result
}

/// One line before the first poll: what it polls and where tools will
/// work; and a warning when running as root, whose confined shell would
/// keep root's other powers.
fn announce(ctx: &Ctx) {
    let o = &ctx.opts;
    let workdir = std::path::absolute(&o.workdir).unwrap_or_else(|_| o.workdir.clone());
    let mut attrs = vec![
        ("environment_id", o.environment_id.as_str().into()),
        ("base_url", o.base_url.as_str().into()),
    ];
    match &o.on_work {
        Some(script) => attrs.push(("on_work", script.as_str().into())),
        None => attrs.push(("workdir", workdir.display().to_string().into())),
    }
    attrs.push(("confined", ctx.confined.into()));
    ctx.log.info("polling for work", &attrs);
    // SAFETY: geteuid has no preconditions.
    if o.on_work.is_none() && unsafe { libc::geteuid() } == 0 {
        ctx.log.warn(
            "running as root: tools keep root's powers even when confined; run the worker as an unprivileged user",
            &[],
        );
    }
}

/// `ant beta:worker run`: one already-claimed item.
pub fn run(opts: Options) -> Result<()> {
    let ctx = context(opts, "ant beta:worker run")?;
    let (Some(work_id), Some(session_id)) = (ctx.opts.work_id.clone(), ctx.opts.session_id.clone())
    else {
        return Err(Error::usage("--work-id and --session-id are required"));
    };
    let result = block_on(&ctx, async {
        item::run(ctx.clone(), work_id, session_id)
            .await
            .map(|_| ())
    });
    tools::remove_tmp_root();
    result
}
