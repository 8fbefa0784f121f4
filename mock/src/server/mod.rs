//! The HTTP server, the top layer: connections (`conn.rs`) and the plumbing
//! of one request: the fault flags (latency, random failures), the host
//! check, authentication, the body size limit and read timeout and the
//! `request-id` header; it hands the request to the router (or the OAuth
//! routes), logs one line per request, and turns answers into hyper
//! responses.

pub mod conn;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::resources::{Reply, RespBody};
use crate::resources::{oauth, user_profiles};
use crate::router::{RawRequest, route};
use crate::store::{ApiError, Shared, api_key_id, request_id};

/// Runs `handle` in a task of its own, so that a bug that panics answers
/// `500` (and is recorded as a violation, failing the tests) instead of
/// cutting the connection. The task ends with the connection.
pub(crate) async fn handle_guarded(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Response<RespBody> {
    guarded(shared.clone(), handle(shared, req)).await
}

async fn guarded(
    shared: Arc<Shared>,
    work: impl Future<Output = Response<RespBody>> + Send + 'static,
) -> Response<RespBody> {
    /// Aborts the task when the connection goes away first.
    struct Task(tokio::task::JoinHandle<Response<RespBody>>);
    impl Drop for Task {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = Task(tokio::spawn(work));
    let e = match (&mut task.0).await {
        Ok(resp) => return resp,
        Err(e) => match e.try_into_panic() {
            Ok(p) => {
                let why = (p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                let what = format!("a request handler failed: {why}");
                shared.violation(what.clone());
                ApiError::new(500, "api_error", format!("ant-mock bug: {what}"))
            }
            // Only when the runtime itself is going away.
            Err(_) => ApiError::new(503, "overloaded_error", "ant-mock is shutting down"),
        },
    };
    let rid = request_id();
    let mut resp = error_response(&e, &rid);
    resp.headers_mut()
        .insert("request-id", rid.parse().expect("ascii id"));
    resp
}

pub(crate) async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
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
    let result = match host_check(&shared.config.host, &req) {
        Err(e) => Err(e),
        Ok(()) => match injected_fault(&shared) {
            Some(e) => Err(e),
            None => process(&shared, req).await,
        },
    };
    let mut resp = match result {
        Ok(reply) => to_response(reply),
        Err(e) => error_response(&e, &rid),
    };
    resp.headers_mut()
        .insert("request-id", rid.parse().expect("ascii id"));
    if matches!(resp.status().as_u16(), 408 | 413) {
        // The body was not read to its end: the connection cannot be reused.
        resp.headers_mut().insert(
            "connection",
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    if !shared.config.quiet {
        eprintln!("{method} {target} -> {}", resp.status().as_u16());
    }
    resp
}

/// DNS-rebinding protection: a web page on a hostile domain can resolve that
/// domain to 127.0.0.1 and then drive the emulator (and `/bash`) from the
/// user's browser, but the browser still sends the hostile name as `Host`.
/// So requests are answered only when `Host` (and the authority of an
/// absolute-form target) names `localhost`, an IP address literal (which
/// cannot be rebound), or exactly the `--host` the emulator was started with.
fn host_check(bind_host: &str, req: &Request<Incoming>) -> Result<(), ApiError> {
    let header = req
        .headers()
        .get("host")
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let authority = req.uri().authority().map(|a| a.as_str());
    let refuse = |what: &str| {
        ApiError::new(
            403,
            "permission_error",
            format!(
                "{what}: ant-mock only answers requests addressed to localhost, an IP address \
                 or the --host it was started with ({bind_host}) (DNS rebinding protection)"
            ),
        )
    };
    match header {
        None => return Err(refuse("the Host header is required")),
        Some(h) if !host_allowed(h, bind_host) => {
            return Err(refuse(&format!("Host {h:?} is not allowed")));
        }
        _ => {}
    }
    match authority {
        Some(a) if !host_allowed(a, bind_host) => {
            Err(refuse(&format!("request target host {a:?} is not allowed")))
        }
        _ => Ok(()),
    }
}

/// Whether a `Host` value (`name`, `name:port`, `[v6]:port`) may be served.
pub(crate) fn host_allowed(host: &str, bind_host: &str) -> bool {
    let name = host_name(host.trim());
    if name.is_empty() {
        return false;
    }
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
        || name.eq_ignore_ascii_case(host_name(bind_host.trim()))
}

/// The hostname part of `name[:port]` or `[v6][:port]` (brackets removed); a
/// bare IPv6 address is returned whole.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((name, tail)) if tail.is_empty() || tail.starts_with(':') => name,
            _ => "",
        };
    }
    match host.split_once(':') {
        Some((name, port)) if !port.contains(':') => name,
        _ => host,
    }
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
    // A user profile's link, opened by the end user's browser (no key).
    if let ("GET", Some(token)) = (
        parts.method.as_str(),
        parts.uri.path().strip_prefix(user_profiles::ENROLL_PATH),
    ) {
        return Ok(user_profiles::visit(shared, token));
    }
    let oauth_route = oauth::is_oauth_route(parts.method.as_str(), parts.uri.path());
    if api_key.is_none() && bearer.is_none() && !oauth_route {
        return Err(ApiError::new(
            401,
            "authentication_error",
            "x-api-key header is required (any non-empty value works with ant-mock)",
        ));
    }
    if let Some(key) = &api_key {
        key_fits_route(key, parts.uri.path())?;
    }
    if let (None, Some(token), false) = (&api_key, &bearer, oauth_route) {
        oauth::check_bearer(shared, token, &authed("anthropic-beta").unwrap_or_default())?;
    }
    let bytes = read_body(&shared.config, body).await?;
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if oauth_route {
        return Ok(oauth::handle(
            shared,
            &oauth::OAuthRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or(""),
                host: &authed("host").unwrap_or_default(),
                content_type: &content_type,
                body: &bytes,
            },
        ));
    }
    let req = RawRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        content_type,
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: bytes,
        api_key_id: api_key_id(api_key.or(bearer).as_deref().unwrap_or("")),
    };
    route(shared, req).await
}

/// The real API keeps its two kinds of key apart: an admin key
/// (`sk-ant-admin…`) works only on the Admin API (`/v1/organizations/…`)
/// and an ordinary API key (`sk-ant-api…`) everywhere but there. Any other
/// key (ant-mock takes any non-empty value) works on every route.
fn key_fits_route(key: &str, path: &str) -> Result<(), ApiError> {
    let admin_route = path.starts_with("/v1/organizations/");
    let refused = |why: &str| {
        Err(ApiError::new(
            401,
            "authentication_error",
            format!("invalid x-api-key: {why}"),
        ))
    };
    if admin_route && key.starts_with("sk-ant-api") {
        return refused(
            "the Admin API (/v1/organizations/...) takes an admin API key (sk-ant-admin...), not an API key",
        );
    }
    if !admin_route && key.starts_with("sk-ant-admin") {
        return refused(
            "an admin API key (sk-ant-admin...) works only with the Admin API (/v1/organizations/...)",
        );
    }
    Ok(())
}

/// Reads a request body: refused with `413` past `max_body`, before reading
/// when its length is declared and as soon as it grows past it otherwise,
/// and with `408` when it does not arrive within `read_timeout`.
async fn read_body(config: &crate::store::Config, body: Incoming) -> Result<Bytes, ApiError> {
    let max = config.max_body;
    let too_large = || {
        ApiError::new(
            413,
            "request_too_large",
            format!("request body is larger than the limit of {max} bytes (--max-body)"),
        )
    };
    if body.size_hint().lower() > max {
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(body, usize::try_from(max).unwrap_or(usize::MAX));
    match tokio::time::timeout(config.read_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            408,
            "timeout_error",
            format!(
                "the request body did not arrive within {} s",
                config.read_timeout.as_secs_f64()
            ),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::invalid(format!(
            "could not read the request body: {e}"
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
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
        Reply::Redirect(location) => Response::builder()
            .status(302)
            .header("location", location)
            .header("cache-control", "no-store")
            .body(Full::new(Bytes::new()).boxed())
            .expect("valid response"),
        Reply::Sse(body) => to_response(Reply::Stream(body.boxed())),
        Reply::Stream(body) => Response::builder()
            .status(200)
            .header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-cache")
            .body(body)
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

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[tokio::test]
    async fn a_handler_that_panics_answers_500_and_is_recorded() {
        let shared = std::sync::Arc::new(crate::store::Shared::new(
            Default::default(),
            std::env::temp_dir(),
        ));
        let resp = super::guarded(shared.clone(), async { panic!("boom") }).await;
        assert_eq!(resp.status(), 500);
        assert!(resp.headers().contains_key("request-id"));
        let v = shared.violations();
        assert_eq!(v, ["a request handler failed: boom"]);
    }

    #[test]
    fn only_local_ip_or_bind_hosts_are_served() {
        for ok in [
            "localhost",
            "LOCALHOST:4010",
            "127.0.0.1",
            "127.0.0.1:4010",
            "[::1]:4010",
            "[::1]",
            "::1",
            "10.1.2.3:80",
        ] {
            assert!(host_allowed(ok, "127.0.0.1"), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:4010",
            "localhost.evil.example",
            "127.0.0.1.nip.io:4010",
            "localhost.",
            "[::1]x",
            "[evil.example]:80",
        ] {
            assert!(!host_allowed(bad, "127.0.0.1"), "{bad}");
        }
        assert!(host_allowed("mock.internal:4010", "mock.internal"));
        assert!(host_allowed("Mock.Internal", "mock.internal"));
        assert!(!host_allowed("other.internal", "mock.internal"));
        assert!(host_allowed("[fe80::1]:4010", "fe80::1"));
    }
}
