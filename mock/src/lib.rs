//! `ant-mock`: a stateful, in-memory emulator of the Claude Platform API, usable
//! as a library (tests start it in-process) or through the `ant-mock` binary.
//!
//! Layers, each importing only the ones below it (`mock/tests/it/layers.rs`
//! checks this):
//!
//! 1. `store`: configuration, state, ids, timestamps, paging, the session event
//!    log, the work queue, the generic emulation's tables; below it the leaf
//!    modules `sha256`, `stream` (SSE hubs and bodies) and `tools` (sandboxed
//!    file tools); beside it, above, `form` (query strings, multipart bodies)
//!    and `synth` (values built from JSON Schemas).
//! 2. the scripted behaviour: `agent` (sessions' scripted agent) and `model`
//!    (the Messages API's scripted model).
//! 3. `resources`: the request handlers, one module per resource group, and
//!    `generic` for every operation without one, with the request and answer
//!    types they share.
//! 4. `router`: matches requests to the endpoint table, validates them,
//!    dispatches them to a resource and checks the answers.
//! 5. `server`: connections and HTTP plumbing; this file starts it.

pub mod agent;
pub mod form;
pub mod model;
pub mod resources;
pub mod router;
pub mod server;
pub mod sha256;
pub mod store;
pub mod stream;
pub mod synth;
pub mod tools;

pub use store::{Config, DEFAULT_MAX_BODY};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

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
                    Ok(l) => server::conn::serve(l, shared, stop_rx).await,
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
