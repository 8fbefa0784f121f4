//! HTTP plumbing: accepts connections, applies the fault flags (latency,
//! random failures), authentication and the `request-id` header, logs one
//! line per request, and turns handler results into hyper responses.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::store::{ApiError, Shared, request_id};
use crate::stream::ChannelBody;

pub type RespBody = BoxBody<Bytes, Infallible>;

/// What a handler answers.
pub enum Reply {
    Json(u16, Value),
    Raw {
        status: u16,
        content_type: String,
        body: Bytes,
    },
    Sse(ChannelBody),
}

impl Reply {
    pub fn ok(v: Value) -> Self {
        Reply::Json(200, v)
    }
}

/// Accepts connections until `stop` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
    // Stop the scripted agents so their tasks do not outlive the server.
    let mut st = shared.lock();
    for s in st.sessions.iter_mut() {
        if let Some(w) = s.worker.take() {
            w.abort();
        }
        s.hub.close();
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let rid = request_id();
    let method = req.method().as_str().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    if shared.config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(shared.config.latency_ms)).await;
    }
    let result = match injected_fault(&shared) {
        Some(e) => Err(e),
        None => process(&shared, req).await,
    };
    let mut resp = match result {
        Ok(reply) => to_response(reply),
        Err(e) => error_response(&e, &rid),
    };
    resp.headers_mut()
        .insert("request-id", rid.parse().expect("ascii id"));
    if !shared.config.quiet {
        eprintln!("{method} {target} -> {}", resp.status().as_u16());
    }
    resp
}

/// With `--fail-rate P`, a random 500, 529 or 429 with probability P.
fn injected_fault(shared: &Shared) -> Option<ApiError> {
    let rate = shared.config.fail_rate;
    if rate <= 0.0 {
        return None;
    }
    let mut rng = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
    if rng.f64() >= rate {
        return None;
    }
    Some(match rng.u8(0..3) {
        0 => ApiError::new(
            500,
            "api_error",
            "Internal server error (injected by ant-mock --fail-rate)",
        ),
        1 => ApiError {
            retry_after: Some(0),
            ..ApiError::new(
                529,
                "overloaded_error",
                "Overloaded (injected by ant-mock --fail-rate)",
            )
        },
        _ => ApiError {
            retry_after: Some(0),
            ..ApiError::new(
                429,
                "rate_limit_error",
                "Rate limited (injected by ant-mock --fail-rate)",
            )
        },
    })
}

async fn process(shared: &Arc<Shared>, req: Request<Incoming>) -> Result<Reply, ApiError> {
    let (parts, body) = req.into_parts();
    let authed = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let api_key = authed("x-api-key").filter(|v| !v.is_empty());
    let bearer = authed("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_string()))
        .filter(|v| !v.is_empty());
    if api_key.is_none() && bearer.is_none() {
        return Err(ApiError::new(
            401,
            "authentication_error",
            "x-api-key header is required (any non-empty value works with ant-mock)",
        ));
    }
    let bytes = body
        .collect()
        .await
        .map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?
        .to_bytes();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let req = crate::routes::RawRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        content_type,
        body: bytes,
    };
    crate::routes::route(shared, req).await
}

fn to_response(reply: Reply) -> Response<RespBody> {
    match reply {
        Reply::Json(status, v) => json_response(status, &v),
        Reply::Raw {
            status,
            content_type,
            body,
        } => Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(body).boxed())
            .expect("valid response"),
        Reply::Sse(body) => Response::builder()
            .status(200)
            .header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-cache")
            .body(body.boxed())
            .expect("valid response"),
    }
}

fn json_response(status: u16, v: &Value) -> Response<RespBody> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())).boxed())
        .expect("valid response")
}

/// The API's error envelope.
pub fn error_response(e: &ApiError, rid: &str) -> Response<RespBody> {
    let body = json!({
        "type": "error",
        "error": { "type": e.kind, "message": e.message },
        "request_id": rid,
    });
    let mut resp = json_response(e.status, &body);
    if let Some(secs) = e.retry_after {
        resp.headers_mut()
            .insert("retry-after", secs.to_string().parse().expect("digits"));
    }
    resp
}
