//! Connections: the accept loop (which backs off when accepting fails, e.g.
//! when file descriptors run out, instead of spinning), the cap on open
//! connections (past it a connection gets `503` and is closed), the
//! header-read timeout, and a lingering close, so that a client still
//! sending a body we refused reads our answer instead of a reset.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::store::{Shared, request_id};

/// The default connection cap, when the file limit allows it.
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// File descriptors left for everything but connections (sandbox files,
/// `/bash` pipes, the runtime, the `503` answers below).
const FD_HEADROOM: u64 = 128;
/// Connections being refused with a `503` at once; beyond that they are
/// closed without an answer.
const MAX_REFUSING: usize = 64;
/// Longest pause between failed accepts.
const MAX_BACKOFF: Duration = Duration::from_millis(100);
/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so the client sees our response rather than a reset.
const LINGER: Duration = Duration::from_secs(2);

/// The connection cap: the configured one, else 1024 or the number of files
/// the process may open minus some headroom, whichever is smaller.
pub fn connection_limit(configured: Option<usize>) -> usize {
    configured.unwrap_or_else(|| {
        let files = open_file_limit().unwrap_or(u64::MAX);
        let room = files.saturating_sub(FD_HEADROOM).max(16);
        DEFAULT_MAX_CONNECTIONS.min(usize::try_from(room).unwrap_or(usize::MAX))
    })
}

#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every platform
    (ok && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Accepts connections until `stop` fires, then stops the scripted agents.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let limit = connection_limit(shared.config.max_connections);
    let open = Arc::new(Semaphore::new(limit));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                stream
            }
            // The client gave up before we accepted: nothing to wait for.
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of file descriptors (or memory): the connection stays
                // queued and accepting again at once fails again, so pause.
                if backoff.is_zero() && !shared.config.quiet {
                    eprintln!("ant-mock: cannot accept a connection ({e}); retrying");
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(5), MAX_BACKOFF);
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tokio::time::sleep(backoff) => continue,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        if let Ok(permit) = open.clone().try_acquire_owned() {
            let shared = shared.clone();
            tokio::spawn(async move {
                connection(stream, shared).await;
                drop(permit);
            });
        } else if let Ok(permit) = refusing.clone().try_acquire_owned() {
            let quiet = shared.config.quiet;
            tokio::spawn(async move {
                refuse(stream, limit, quiet).await;
                drop(permit);
            });
        }
        // else: dropped, closing it; the client sees the connection end.
    }
    shared.stop_sessions();
}

/// Accept errors that concern only the connection being accepted.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    )
}

/// Serves HTTP/1.1 on one connection.
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let timeout = shared.config.read_timeout;
    let svc = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(super::handle_guarded(shared, req).await) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .without_shutdown()
        .await;
    if let Ok(parts) = served {
        linger(parts.io.into_inner()).await;
    }
}

/// Ends a connection: sends FIN after what was written, then reads and
/// discards whatever the client still sends (a refused body) for a while,
/// because closing with unread data makes the kernel send a reset, which
/// can destroy our response before the client reads it.
async fn linger(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 16 * 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Answers a connection over the cap with `503` and closes it.
async fn refuse(mut stream: TcpStream, limit: usize, quiet: bool) {
    let rid = request_id();
    if !quiet {
        eprintln!("(connection) -> 503: at the limit of {limit} connections");
    }
    let body = serde_json::json!({
        "type": "error",
        "error": {
            "type": "overloaded_error",
            "message": format!(
                "ant-mock is serving its maximum of {limit} connections (--max-connections); \
                 retry later"
            ),
        },
        "request_id": rid,
    })
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nrequest-id: {rid}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let written = tokio::time::timeout(LINGER, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await
    })
    .await;
    if matches!(written, Ok(Ok(()))) {
        linger(stream).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_the_configured_one_or_bounded_by_the_file_limit() {
        assert_eq!(connection_limit(Some(5)), 5);
        let auto = connection_limit(None);
        assert!((16..=DEFAULT_MAX_CONNECTIONS).contains(&auto), "{auto}");
        if let Some(files) = open_file_limit() {
            assert!(auto as u64 <= files.saturating_sub(FD_HEADROOM).max(16));
        }
    }
}
