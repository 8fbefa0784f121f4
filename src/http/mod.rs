//! The one HTTP layer: base URL, auth and version headers, retries with
//! capped backoff, per-attempt timeouts and the `--debug` log. It sends a
//! [`Request`] and hands back the response; it never decides how to print.

pub mod body;
pub mod cursors;
pub mod date;
pub mod debug;
pub mod sse;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{ApiError, Error, Result};
pub use crate::request::check_header_value;
use crate::request::{Body, Request};

/// A bearer token that may have to be obtained first: refreshed (an OAuth
/// login) or exchanged (workload identity federation). Implemented in
/// `crate::auth`; the client only asks for a token before each attempt.
pub trait TokenSource: Send + Sync {
    /// The token for requests to `origin` (`scheme://host[:port]`).
    /// `renew` forces a new one (after the API answered 401).
    fn token<'a>(
        &'a self,
        origin: &'a str,
        renew: bool,
    ) -> Pin<Box<dyn Future<Output = Result<String>> + Send + 'a>>;
    /// Whether a 401 is answered by renewing the token once and resending.
    fn renews_on_401(&self) -> bool;
    /// A stable, non-secret name for the credential (cache keys).
    fn describe(&self) -> String;
}

/// How to authenticate.
#[derive(Clone)]
pub enum Auth {
    ApiKey(String),
    Bearer(String),
    /// `Authorization: Bearer` with a token from a [`TokenSource`].
    Source(Arc<dyn TokenSource>),
    None,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::ApiKey(_) => f.write_str("ApiKey(redacted)"),
            Auth::Bearer(_) => f.write_str("Bearer(redacted)"),
            Auth::Source(s) => write!(f, "Source({})", s.describe()),
            Auth::None => f.write_str("None"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL without a trailing slash.
    pub base_url: String,
    pub auth: Auth,
    pub workspace_id: Option<String>,
    pub max_retries: u32,
    pub timeout: Option<Duration>,
    pub debug: bool,
    /// The command name, sent as `x-stainless-cli-command`.
    pub command: String,
    /// Extra headers every request carries (e.g. the OAuth beta).
    pub extra_betas: Vec<String>,
    /// Show a progress bar for uploads (stderr is a terminal).
    pub progress: bool,
}

pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Longest wait a server may ask for between retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest `--timeout` accepted: one year.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

pub fn user_agent() -> String {
    format!("ant/{} (Rust CLI)", env!("CARGO_PKG_VERSION"))
}

/// Checks a base URL: `http://` or `https://` with a host, and nothing that
/// the request path could not be appended to (a query or fragment) or that
/// the URL parser would silently drop (spaces, tabs, newlines, controls).
pub fn validate_base_url(url: &str) -> Result<String> {
    let trimmed = url.trim_end_matches('/');
    let bad = |why: &str| Error::usage(format!("invalid base URL {:?}: {why}", mask_password(url)));
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(&format!(
            "it holds {}, which a URL cannot",
            match c {
                ' ' => "a space".to_string(),
                c => format!("the character U+{:04X}", c as u32),
            }
        )));
    }
    if !url.contains("://") {
        // `localhost:4010`, `127.0.0.1:4010`, `api.example.com`: a URL
        // without its scheme. http for loopback hosts, else https.
        let host = trimmed.split(['/', ':']).next().unwrap_or_default();
        let loopback = host == "localhost" || host.starts_with("127.") || trimmed.starts_with('[');
        let guess = format!("{}://{trimmed}", if loopback { "http" } else { "https" });
        let hint = match validate_base_url(&guess) {
            Ok(g) => format!("; did you mean {}?", mask_password(&g)),
            Err(_) => String::new(),
        };
        return Err(bad(&format!(
            "must start with http:// or https:// and name a host{hint}"
        )));
    }
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("must start with http:// or https:// and name a host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad(
            "a query (?...) or fragment (#...) cannot precede the request's path",
        ));
    }
    Ok(trimmed.to_string())
}

pub struct Client {
    http: reqwest::Client,
    pub cfg: Config,
}

/// Why an attempt failed, and whether another attempt may help.
enum Attempt {
    Done(reqwest::Response),
    Retry(Error, Option<Duration>),
    Fail(Error),
}

/// A URL with the password of its user info (`http://user:PASSWORD@host`)
/// replaced by `***`, for every message and log line. Works on text that
/// does not parse as a URL too.
pub fn mask_password(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let authority_len = url[start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - start);
    let authority = &url[start..start + authority_len];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    match authority[..at].find(':') {
        Some(colon) => format!("{}***{}", &url[..start + colon + 1], &url[start + at..]),
        None => url.to_string(),
    }
}

/// The configured header values, each checked before anything is sent.
fn check_config_headers(cfg: &Config) -> Result<()> {
    match &cfg.auth {
        Auth::ApiKey(k) => check_header_value("--api-key (or ANTHROPIC_API_KEY)", k)?,
        Auth::Bearer(t) => check_header_value(
            "--auth-token (or ANTHROPIC_AUTH_TOKEN, or the profile's token)",
            t,
        )?,
        Auth::Source(_) | Auth::None => {}
    }
    if let Some(ws) = &cfg.workspace_id {
        check_header_value("--workspace-id (or ANTHROPIC_WORKSPACE_ID)", ws)?;
    }
    Ok(())
}

impl Client {
    pub fn new(cfg: Config) -> Result<Client> {
        check_config_headers(&cfg)?;
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent())
            .connect_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::custom(same_origin_redirects))
            .referer(false);
        if cfg.base_url.starts_with("http://") {
            // Plain HTTP (a local emulator or proxy) needs no TLS: skip
            // loading the system's root certificates (~2 ms per run).
            builder = builder.tls_certs_only(std::iter::empty());
        }
        let http = builder
            .build()
            .map_err(|e| Error::Other(format!("cannot set up HTTP client: {e}")))?;
        Ok(Client { http, cfg })
    }

    /// The request's URL as shown in messages and logs: a password in the
    /// base URL is masked (see [`mask_password`]).
    pub fn url(&self, req: &Request) -> String {
        mask_password(&self.wire_url(req))
    }

    /// The URL the request goes to, credentials and all.
    fn wire_url(&self, req: &Request) -> String {
        format!("{}{}", self.cfg.base_url, req.target())
    }

    /// Sends `req` with retries. Returns the response once its status is a
    /// success; API errors come back as [`Error::Api`].
    pub async fn send(&self, req: &Request, accept: &str) -> Result<reqwest::Response> {
        let mut attempt = 0u32;
        let mut renewed = false;
        loop {
            let outcome = self.attempt(req, accept, attempt).await;
            match outcome {
                Attempt::Done(resp) => return Ok(resp),
                // A rejected token is renewed once and the request resent;
                // if renewing fails, the 401 stands.
                Attempt::Fail(Error::Api(e)) if e.status == 401 && !renewed => {
                    match &self.cfg.auth {
                        Auth::Source(s)
                            if s.renews_on_401()
                                && s.token(&origin(&self.url(req)), true).await.is_ok() =>
                        {
                            if self.cfg.debug {
                                debug::note("401: renewed the token; sending again once");
                            }
                            renewed = true;
                        }
                        _ => return Err(Error::Api(e)),
                    }
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, wait) => {
                    if attempt >= self.cfg.max_retries {
                        return Err(e);
                    }
                    let delay = wait.unwrap_or_else(|| backoff(attempt));
                    if self.cfg.debug {
                        debug::note(&format!(
                            "retrying in {:.3}s after: {e}",
                            delay.as_secs_f64()
                        ));
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, req: &Request, accept: &str, n: u32) -> Attempt {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).expect("valid method");
        let mut b = self.http.request(method, self.wire_url(req));
        let url = &self.url(req);
        let mut headers: Vec<(String, String)> = vec![
            ("accept".into(), accept.into()),
            ("anthropic-version".into(), ANTHROPIC_VERSION.into()),
            ("x-stainless-lang".into(), "cli".into()),
            (
                "x-stainless-package-version".into(),
                env!("CARGO_PKG_VERSION").into(),
            ),
            ("x-stainless-runtime".into(), "rust".into()),
            ("x-stainless-retry-count".into(), n.to_string()),
            ("x-stainless-cli-command".into(), self.cfg.command.clone()),
        ];
        if let Some(t) = self.cfg.timeout {
            headers.push(("x-stainless-timeout".into(), format!("{}", t.as_secs_f64())));
        }
        match &self.cfg.auth {
            Auth::ApiKey(k) => headers.push(("x-api-key".into(), k.clone())),
            Auth::Bearer(t) => headers.push(("authorization".into(), format!("Bearer {t}"))),
            Auth::Source(s) => match s.token(&origin(url), false).await {
                Ok(t) => headers.push(("authorization".into(), format!("Bearer {t}"))),
                Err(e) => return Attempt::Fail(e),
            },
            Auth::None => {}
        }
        if let Some(ws) = &self.cfg.workspace_id {
            headers.push(("anthropic-workspace-id".into(), ws.clone()));
        }
        let mut req_headers = req.headers.clone();
        for extra in &self.cfg.extra_betas {
            // Appended unless the request already names it.
            match req_headers.iter_mut().find(|(k, _)| k == "anthropic-beta") {
                Some((_, v)) if v.split(',').any(|b| b.trim() == extra) => {}
                Some((_, v)) => *v = format!("{v},{extra}"),
                None => req_headers.push(("anthropic-beta".into(), extra.clone())),
            }
        }
        // The request's own headers (`ant api -H`) replace defaults of the same name.
        headers.retain(|(k, _)| !req_headers.iter().any(|(r, _)| r.eq_ignore_ascii_case(k)));
        headers.extend(req_headers);
        let body_bytes: Option<(Vec<u8>, String)> = match &req.body {
            Body::None => None,
            Body::Json(v) => Some((
                serde_json::to_vec(v).expect("json"),
                "application/json".to_string(),
            )),
            Body::Raw {
                bytes,
                content_type,
            } => Some((bytes.clone(), content_type.clone())),
            Body::Multipart(parts) => {
                let boundary = format!("ant-boundary-{:016x}", fastrand::u64(..));
                Some((
                    multipart_bytes(parts, &boundary),
                    format!("multipart/form-data; boundary={boundary}"),
                ))
            }
        };
        if let Some((_, ct)) = &body_bytes {
            headers.push(("content-type".into(), ct.clone()));
        }
        if self.cfg.debug {
            debug::request(req, url, &headers);
        }
        for (k, v) in &headers {
            // Values are checked when flags are read; this is the last guard,
            // so a bad header is bad input, never a retried network error.
            if let Err(e) = check_header_value(&format!("header {k}"), v) {
                return Attempt::Fail(e);
            }
            b = b.header(k.as_str(), v.as_str());
        }
        if let Some((bytes, ct)) = body_bytes {
            b = if self.cfg.progress && ct.starts_with("multipart/") {
                b.body(upload_with_progress(bytes))
            } else {
                b.body(bytes)
            };
        }
        let send = b.send();
        let result = match self.cfg.timeout {
            Some(t) => match tokio::time::timeout(t, send).await {
                Ok(r) => r,
                Err(_) => {
                    return Attempt::Retry(
                        Error::Timeout(format!(
                            "{} {url}: timed out after {:.1}s",
                            req.method,
                            t.as_secs_f64()
                        )),
                        None,
                    );
                }
            },
            None => send.await,
        };
        let resp = match result {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                // Nothing left the machine: the request itself is malformed.
                return Attempt::Fail(Error::usage(format!(
                    "{} {url}: cannot build the request: {}",
                    req.method,
                    describe_reqwest(&e)
                )));
            }
            Err(e) => {
                let err = Error::Network(format!("{} {url}: {}", req.method, describe_reqwest(&e)));
                return Attempt::Retry(err, None);
            }
        };
        if self.cfg.debug {
            debug::response(&resp);
        }
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Attempt::Done(resp);
        }
        let should_retry = match resp
            .headers()
            .get("x-should-retry")
            .and_then(|v| v.to_str().ok())
        {
            Some("true") => true,
            Some("false") => false,
            _ => matches!(status, 408 | 409 | 429) || status >= 500,
        };
        let wait = retry_after(resp.headers());
        let err = api_error(req.method, url, resp, self.cfg.timeout).await;
        if let (true, Error::Api(a)) = (self.cfg.debug, &err) {
            debug::body(&a.body);
        }
        if should_retry {
            Attempt::Retry(err, wait)
        } else {
            Attempt::Fail(err)
        }
    }

    /// Reads a whole (non-streaming) body, under the per-attempt timeout.
    pub async fn read_body(&self, resp: reqwest::Response, what: &str) -> Result<Vec<u8>> {
        let read = resp.bytes();
        let bytes = match self.cfg.timeout {
            Some(t) => tokio::time::timeout(t, read)
                .await
                .map_err(|_| Error::Timeout(format!("{what}: timed out reading the response")))?,
            None => read.await,
        }
        .map_err(|e| {
            Error::Network(format!(
                "{what}: reading the response: {}",
                describe_reqwest(&e)
            ))
        })?;
        if self.cfg.debug {
            debug::body(&bytes);
        }
        Ok(bytes.to_vec())
    }
}

/// Redirects are followed only within the origin of the request (scheme,
/// host and port), at most 10 times. Another origin is never sent the API
/// key, token or workspace headers (reqwest would forward `x-api-key`, as
/// Go's client does): the redirect is not followed, and its response is
/// the error (see [`redirect_note`]).
fn same_origin_redirects(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let same = attempt
        .previous()
        .first()
        .is_some_and(|first| first.origin() == attempt.url().origin());
    if !same {
        attempt.stop()
    } else if attempt.previous().len() > 10 {
        attempt.error("too many redirects")
    } else {
        attempt.follow()
    }
}

/// Why a redirect was not followed, for the error line.
fn redirect_note(location: &str) -> String {
    format!(
        "redirected to {}, another origin; not followed, so that the credentials are not sent there",
        mask_password(location)
    )
}

/// `scheme://host[:port]` of a URL (the whole URL when it does not parse).
pub fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => url.to_string(),
    }
}

/// What went wrong with a transport error, on one line: the root cause
/// without reqwest's wrapping (which repeats the URL) or OS error numbers.
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(s) = root.source() {
        root = s;
    }
    let mut cause = root.to_string();
    if let Some(i) = cause.find(" (os error") {
        cause.truncate(i);
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {cause}")
    } else {
        cause
    }
}

/// 0.5 s × 2^n, at most 8 s, minus up to 25 % jitter.
pub fn backoff(attempt: u32) -> Duration {
    let base = (0.5 * 2f64.powi(attempt.min(10) as i32)).min(8.0);
    let jitter = 1.0 - fastrand::f64() * 0.25;
    Duration::from_secs_f64(base * jitter)
}

/// `retry-after-ms`, then `retry-after` (seconds or an HTTP date), capped at
/// [`MAX_RETRY_AFTER`]. Whatever a server sends (`inf`, `NaN`, `1e300`, 20
/// digits, a date in the year 9999) gives a wait within the cap or none.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && !ms.is_nan()
    {
        return Some(capped_secs(ms / 1000.0));
    }
    let v = get("retry-after")?;
    match v.parse::<f64>() {
        Ok(secs) if secs.is_nan() => None,
        Ok(secs) => Some(capped_secs(secs)),
        Err(_) => {
            let when = date::httpdate_secs(v)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some(Duration::from_secs(when.saturating_sub(now)).min(MAX_RETRY_AFTER))
        }
    }
}

/// A wait in seconds, clamped to `0..=MAX_RETRY_AFTER` before it becomes a
/// [`Duration`] (so no value can overflow one).
fn capped_secs(secs: f64) -> Duration {
    Duration::from_secs_f64(secs.clamp(0.0, MAX_RETRY_AFTER.as_secs_f64()))
}

/// Reads an error response into an [`ApiError`].
async fn api_error(
    method: &str,
    url: &str,
    resp: reqwest::Response,
    timeout: Option<Duration>,
) -> Error {
    let status = resp.status().as_u16();
    let headers = header_list(resp.headers());
    let request_id = resp
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    // A redirect that was not followed (see `same_origin_redirects`).
    let redirect = resp
        .status()
        .is_redirection()
        .then(|| resp.headers().get("location"))
        .flatten()
        .map(|v| redirect_note(&String::from_utf8_lossy(v.as_bytes())));
    let read = resp.bytes();
    let body = match timeout {
        Some(t) => tokio::time::timeout(t, read)
            .await
            .ok()
            .and_then(|r| r.ok()),
        None => read.await.ok(),
    }
    .map(|b| b.to_vec())
    .unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.get(k))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    let request_id = request_id.or_else(|| {
        parsed
            .as_ref()
            .and_then(|v| v.get("request_id"))
            .and_then(|v| v.as_str())
            .map(String::from)
    });
    Error::Api(Box::new(ApiError {
        status,
        method: method.to_string(),
        url: url.to_string(),
        kind: field("type"),
        message: redirect.or_else(|| field("message")),
        request_id,
        body,
        headers,
    }))
}

/// Response headers as (name, value) text pairs, in order (`ant api -i`).
pub fn header_list(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// An upload body that advances a progress bar on stderr as it is sent.
/// The bytes stay in memory, so a retry builds a fresh one.
fn upload_with_progress(bytes: Vec<u8>) -> reqwest::Body {
    let bar = indicatif::ProgressBar::new(bytes.len() as u64);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "uploading {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style);
    }
    let data = bytes::Bytes::from(bytes);
    let chunks: Vec<bytes::Bytes> = (0..data.len())
        .step_by(64 * 1024)
        .map(|i| data.slice(i..(i + 64 * 1024).min(data.len())))
        .collect();
    let stream = futures_util::stream::iter(chunks.into_iter().map(move |c| {
        bar.inc(c.len() as u64);
        if bar.position() >= bar.length().unwrap_or(0) {
            bar.finish_and_clear();
        }
        Ok::<_, std::io::Error>(c)
    }));
    reqwest::Body::wrap_stream(stream)
}

/// A name or file name as a quoted `Content-Disposition` parameter: `"`, CR
/// and LF percent-encoded (as browsers do), so no value can end the header.
pub fn form_quote(value: &str) -> String {
    value
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A multipart/form-data body, built in memory so every retry can resend it.
pub fn multipart_bytes(parts: &[crate::request::Part], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let name = form_quote(&p.name);
        match &p.file {
            Some(f) => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                        form_quote(&f.filename),
                        f.content_type
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(&f.data);
            }
            None => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(p.text.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prefers_ms_and_is_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "3600".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn hostile_retry_after_values_never_overflow_and_are_capped() {
        for (header, value) in [
            ("retry-after", "inf"),
            ("retry-after", "1e300"),
            ("retry-after", "99999999999999999999"),
            ("retry-after-ms", "inf"),
            ("retry-after-ms", "1e300"),
            ("retry-after-ms", "99999999999999999999"),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ] {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(header, value.parse().unwrap());
            assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER), "{header}: {value}");
        }
        for (header, value) in [
            ("retry-after", "-5"),
            ("retry-after", "-inf"),
            ("retry-after-ms", "-1e300"),
        ] {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(header, value.parse().unwrap());
            assert_eq!(retry_after(&h), Some(Duration::ZERO), "{header}: {value}");
        }
        for value in [
            "NaN",
            "Sun, 06 Nov 99999999999999 08:49:37 GMT",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 99:49:37 GMT",
            "soon",
        ] {
            let mut h = reqwest::header::HeaderMap::new();
            h.insert("retry-after", value.parse().unwrap());
            assert_eq!(retry_after(&h), None, "{value}");
        }
        // A NaN in retry-after-ms falls back to retry-after.
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after-ms", "NaN".parse().unwrap());
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    }

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        for n in 0..12 {
            let d = backoff(n).as_secs_f64();
            let base = (0.5 * 2f64.powi(n as i32)).min(8.0);
            assert!(d <= base && d >= base * 0.75, "{n}: {d}");
        }
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_password("http://u:PW@host:80/v1?a=b@c"),
            "http://u:***@host:80/v1?a=b@c"
        );
        assert_eq!(mask_password("https://u:p:w@h@x/"), "https://u:***@x/");
        assert_eq!(mask_password("http://user@host/x"), "http://user@host/x");
        assert_eq!(mask_password("http://host/a:b@c"), "http://host/a:b@c");
        assert_eq!(mask_password("not a url"), "not a url");
        let e = validate_base_url("http://u:S3CRET@ho st").unwrap_err();
        assert!(!e.to_string().contains("S3CRET"), "{e}");
    }

    #[test]
    fn base_urls_must_be_http_with_a_host() {
        assert_eq!(
            validate_base_url("http://127.0.0.1:4010/").unwrap(),
            "http://127.0.0.1:4010"
        );
        assert!(validate_base_url("ftp://x").is_err());
        assert!(validate_base_url("not a url").is_err());
        assert_eq!(validate_base_url("nope").unwrap_err().exit_code(), 2);
        assert_eq!(
            validate_base_url("http://h/proxy/").unwrap(),
            "http://h/proxy"
        );
        // The URL parser drops tabs and newlines and trims spaces and
        // controls, which would leave the request elsewhere than shown
        // (`http://h/\n` sent to `//v1/...`); a query or fragment would
        // swallow the request's path.
        for (url, why) in [
            ("http://h/\n", "U+000A"),
            ("http://h:1\u{1}", "U+0001"),
            ("http://h\t/x", "U+0009"),
            ("http://h ", "a space"),
            (" http://h", "a space"),
            ("http://h/?x=1", "a query"),
            ("http://h#frag", "fragment"),
        ] {
            let e = validate_base_url(url).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{url:?}");
            assert!(e.to_string().contains(why), "{url:?}: {e}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn header_text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~]{0,40}",
                any::<f64>().prop_map(|f| f.to_string()),
                any::<i128>().prop_map(|n| n.to_string()),
                "[0-9]{1,40}(\\.[0-9]{0,20})?(e[+-]?[0-9]{1,4})?",
                (0u64..400, 0u64..20000, 0u64..100, 0u64..100).prop_map(|(d, y, h, m)| {
                    format!("Sun, {d:02} Nov {y} {h:02}:{m:02}:37 GMT")
                }),
            ]
        }

        proptest! {
            #![proptest_config(crate::proptest_config())]

            #[test]
            fn prop_retry_headers_never_panic_and_are_capped(
                after in prop::option::of(header_text()),
                after_ms in prop::option::of(header_text()),
            ) {
                let mut h = reqwest::header::HeaderMap::new();
                for (k, v) in [("retry-after", after), ("retry-after-ms", after_ms)] {
                    if let Some(v) = v.and_then(|v| v.parse().ok()) {
                        h.insert(k, v);
                    }
                }
                if let Some(d) = retry_after(&h) {
                    prop_assert!(d <= MAX_RETRY_AFTER, "{d:?}");
                }
            }
        }
    }
}
