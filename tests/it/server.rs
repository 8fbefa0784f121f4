//! An in-process loopback HTTP server that records every request and
//! answers from a test's handler: fixed bodies, paged lists, slow or
//! chunked streams, bodies of any size made as they are sent, or a dropped
//! connection.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, percent-decoded, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn query_param(&self, key: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }
}

/// What the server answers.
pub enum Reply {
    Json(u16, serde_json::Value),
    Status(u16, Vec<(String, String)>, Vec<u8>),
    /// Body sent in chunks with a pause before each.
    Chunks(u16, &'static str, Vec<(Duration, Vec<u8>)>),
    /// An event stream sent in chunks, then ended as `End` says.
    Stream(Vec<(Duration, Vec<u8>)>, End),
    /// An event stream whose chunks the test sends when it wants (so it
    /// need not guess how long `ant` takes); it ends when the sender is dropped.
    Live(tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>),
    /// A body of `head`, then `fill` repeated `times`, then `tail`, made
    /// as it is sent (no content-length), so a test can send gigabytes.
    Huge {
        status: u16,
        head: Vec<u8>,
        fill: Vec<u8>,
        times: usize,
        tail: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
}

impl Reply {
    pub fn ok(v: serde_json::Value) -> Reply {
        Reply::Json(200, v)
    }

    pub fn error(status: u16, kind: &str, message: &str) -> Reply {
        Reply::Status(
            status,
            vec![
                ("content-type".into(), "application/json".into()),
                ("request-id".into(), "req_test_1".into()),
            ],
            serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
                .to_string()
                .into_bytes(),
        )
    }

    pub fn sse(events: &[(&str, serde_json::Value)]) -> Reply {
        let chunks = events
            .iter()
            .map(|(t, v)| {
                (
                    Duration::ZERO,
                    format!("event: {t}\ndata: {v}\n\n").into_bytes(),
                )
            })
            .collect();
        Reply::Chunks(200, "text/event-stream", chunks)
    }
}

/// How a [`Reply::Stream`] ends after its chunks.
#[derive(Clone, Copy, Debug)]
pub enum End {
    /// The server closes the stream cleanly.
    Close,
    /// The connection breaks mid-body.
    Reset,
    /// The stream stays open (silent) this long, then closes.
    Hold(Duration),
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

pub struct Server {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server; `handler` gets each request and its 0-based index.
    pub fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Server {
        let handler: Arc<Handler> = Arc::new(handler);
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let reqs = requests.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let handler = handler.clone();
                            let reqs = reqs.clone();
                            tokio::spawn(async move {
                                let svc = service_fn(move |req| serve(req, handler.clone(), reqs.clone()));
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), svc)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        Server {
            url,
            requests,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// Always answers the same JSON.
    pub fn json(v: serde_json::Value) -> Server {
        Server::start(move |_, _| Reply::ok(v.clone()))
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn only(&self) -> Recorded {
        let r = self.recorded();
        assert_eq!(r.len(), 1, "expected exactly one request, got {r:#?}");
        r.into_iter().next().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type RespBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

async fn serve(
    req: hyper::Request<hyper::body::Incoming>,
    handler: Arc<Handler>,
    reqs: Arc<Mutex<Vec<Recorded>>>,
) -> Result<hyper::Response<RespBody>, std::io::Error> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(percent_decode).unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let rec = Recorded {
        method,
        path,
        query,
        headers,
        body,
    };
    let index = {
        let mut r = reqs.lock().unwrap();
        r.push(rec.clone());
        r.len() - 1
    };
    let reply = handler(&rec, index);
    let full = |b: Vec<u8>| -> RespBody {
        Full::new(Bytes::from(b))
            .map_err(|never: Infallible| match never {})
            .boxed()
    };
    let resp = match reply {
        Reply::Json(status, v) => hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("request-id", "req_test_1")
            .body(full(v.to_string().into_bytes()))
            .unwrap(),
        Reply::Status(status, headers, body) => {
            let mut b = hyper::Response::builder().status(status);
            for (k, v) in headers {
                b = b.header(k, v);
            }
            b.body(full(body)).unwrap()
        }
        Reply::Chunks(status, content_type, chunks) => {
            let stream = futures_util::stream::unfold(chunks.into_iter(), |mut it| async move {
                let (delay, data) = it.next()?;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Some((Ok::<_, std::io::Error>(Frame::data(Bytes::from(data))), it))
            });
            hyper::Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(StreamBody::new(stream).boxed())
                .unwrap()
        }
        Reply::Stream(chunks, end) => {
            let items = chunks
                .into_iter()
                .map(|(d, b)| (d, Ok(b)))
                .chain(match end {
                    End::Close => None,
                    End::Reset => Some((Duration::ZERO, Err(()))),
                    End::Hold(d) => Some((d, Ok(Vec::new()))),
                });
            let stream = futures_util::stream::unfold(items, |mut it| async move {
                let (delay, data) = it.next()?;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let frame = data
                    .map(|b| Frame::data(Bytes::from(b)))
                    .map_err(|()| std::io::Error::other("connection reset by the test"));
                Some((frame, it))
            });
            hyper::Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(StreamBody::new(stream).boxed())
                .unwrap()
        }
        Reply::Live(rx) => {
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                let data = rx.recv().await?;
                Some((Ok::<_, std::io::Error>(Frame::data(Bytes::from(data))), rx))
            });
            hyper::Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(StreamBody::new(stream).boxed())
                .unwrap()
        }
        Reply::Huge {
            status,
            head,
            fill,
            times,
            tail,
        } => {
            let fill = Bytes::from(fill);
            let parts = std::iter::once(Bytes::from(head))
                .chain(std::iter::repeat_n(fill, times))
                .chain(std::iter::once(Bytes::from(tail)));
            let stream =
                futures_util::stream::iter(parts.map(|b| Ok::<_, std::io::Error>(Frame::data(b))));
            hyper::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(StreamBody::new(stream).boxed())
                .unwrap()
        }
        Reply::Drop => return Err(std::io::Error::other("dropped by test")),
    };
    Ok(resp)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
