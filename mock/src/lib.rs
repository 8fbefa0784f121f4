//! `ant-mock`: a stateful, in-memory emulator of the Managed Agents API, usable as
//! a library (tests start it in-process) or through the `ant-mock` binary.

pub mod agent;
pub mod check;
pub mod conn;
pub mod oauth;
pub mod resources;
pub mod routes;
pub mod server;
pub mod sha256;
pub mod store;
pub mod stream;
pub mod tools;
pub mod work;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

/// How to run the emulator. `Default` binds 127.0.0.1 on a free port with every
/// fault switched off.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// Let the scripted agent's `/bash` directive run real shell commands.
    pub allow_bash: bool,
    /// Sleep this long before answering each request.
    pub latency_ms: u64,
    /// Probability of answering a request with a random 500/529/429.
    pub fail_rate: f64,
    /// Close every stream connection after this many events.
    pub drop_streams_after: Option<usize>,
    /// Seed for the fault generator (deterministic failures).
    pub seed: Option<u64>,
    /// Do not log requests to stderr.
    pub quiet: bool,
    /// Largest request body accepted; larger ones get `413 request_too_large`.
    pub max_body: u64,
    /// Most connections served at once; past it a connection is answered
    /// `503` and closed. `None`: 1024, or fewer when the process may not
    /// open that many files (see [`conn::connection_limit`]).
    pub max_connections: Option<usize>,
    /// How long a client may take to send a request's headers, and then
    /// its body, before the connection is closed (`408` for a slow body).
    pub read_timeout: std::time::Duration,
    /// Check every JSON response (and every streamed event) against its
    /// operation's response schema: a response that does not match becomes
    /// a `500` naming the mismatch and is recorded in
    /// [`MockHandle::violations`]. On by default for the library (tests);
    /// the binary turns it on with `--check-responses`.
    pub check_responses: bool,
    /// Answer every authorization with `error=access_denied`.
    pub oauth_deny: bool,
    /// The only federation rule id the jwt-bearer grant accepts (default:
    /// any `fdrl_…`).
    pub federation_rule: Option<String>,
    /// Lifetime of issued access tokens, in seconds.
    pub token_ttl: u64,
    /// Lease of a work item after each heartbeat, in seconds (self-hosted workers).
    pub work_ttl_secs: u64,
    /// Answer `500` to this many work acknowledgements first (how a worker
    /// recovers from an ack that fails).
    pub fail_acks: u32,
}

/// The real API's request size limit (32 MB).
pub const DEFAULT_MAX_BODY: u64 = 32 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 0,
            allow_bash: false,
            latency_ms: 0,
            fail_rate: 0.0,
            drop_streams_after: None,
            seed: None,
            quiet: true,
            max_body: DEFAULT_MAX_BODY,
            max_connections: None,
            read_timeout: std::time::Duration::from_secs(30),
            check_responses: true,
            oauth_deny: false,
            federation_rule: None,
            token_ttl: 3600,
            work_ttl_secs: 30,
            fail_acks: 0,
        }
    }
}

/// A running emulator. Dropping it (or calling [`MockHandle::shutdown`]) stops
/// the server and removes the sandbox root.
pub struct MockHandle {
    /// `http://HOST:PORT`, without a trailing slash.
    pub base_url: String,
    pub addr: SocketAddr,
    /// Temporary directory holding one sandbox directory per session.
    pub sandbox_root: PathBuf,
    shared: Arc<store::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockHandle {
    /// Responses that did not match their schema so far (with
    /// `check_responses`), one line each: operation, where, what.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations()
    }

    /// The operations (`group verb`) whose responses were checked so far.
    pub fn checked_operations(&self) -> Vec<String> {
        self.shared.checked_operations()
    }

    /// Stops the server, waits for its thread and removes the sandbox root.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.sandbox_root);
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Whether `host` (as given to `--host`) names only loopback addresses:
/// `localhost`, `127.0.0.0/8`, `::1`, or a name resolving only to those.
/// Unspecified (`0.0.0.0`, `::`) and unresolvable hosts are not loopback.
pub fn is_loopback_host(host: &str) -> bool {
    use std::net::ToSocketAddrs;
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(h);
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = h.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    match (h, 0).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

/// Binds the listener, then serves it on a background thread with its own
/// tokio runtime. Returns once the socket is bound, so `base_url` is usable.
pub fn start(config: Config) -> std::io::Result<MockHandle> {
    let listener = std::net::TcpListener::bind((config.host.as_str(), config.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let host = if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let base_url = format!("http://{}:{}", host, addr.port());
    let sandbox_root = make_sandbox_root()?;
    let shared = Arc::new(store::Shared::new(config, sandbox_root.clone()));
    let handle_shared = shared.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("ant-mock")
        .build()?;
    let thread = std::thread::Builder::new()
        .name("ant-mock".into())
        .spawn(move || {
            rt.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => conn::serve(l, shared, stop_rx).await,
                    Err(e) => eprintln!("ant-mock: {e}"),
                }
            });
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
        })?;
    Ok(MockHandle {
        base_url,
        addr,
        sandbox_root,
        shared: handle_shared,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

fn make_sandbox_root() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!(
            "ant-mock-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return dir.canonicalize(),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("could not create a sandbox root"))
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "0.0.0.0",
            "::",
            "[::]",
            "192.168.1.10",
            "10.0.0.1",
            "",
            "no such host.invalid",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
