//! The two ways an authorization code comes back to `auth login`: a
//! loopback HTTP callback (`http://localhost:<port>/callback`) and a value
//! pasted on stdin (`code#state`, a bare code, or the whole redirect URL).
//! Also how the browser is opened.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// Longest request head the callback server reads.
const MAX_HEAD: usize = 16 * 1024;
/// A connection that sends nothing for this long is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener on `127.0.0.1:<port>` and the redirect URI naming it.
pub struct Listener {
    listener: tokio::net::TcpListener,
    pub redirect_uri: String,
}

/// Binds the callback listener (port 0 picks a free one).
pub async fn bind(port: u16) -> Result<Listener> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Error::Io(format!("start callback listener on 127.0.0.1:{port}: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io(format!("start callback listener: {e}")))?
        .port();
    Ok(Listener {
        listener,
        redirect_uri: format!("http://localhost:{port}/callback"),
    })
}

/// What one callback request means for the login.
fn judge(query: &str, state: &str) -> (Result<String>, u16, &'static str, String) {
    let get = |key: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(e) = get("error") {
        let desc = get("error_description").unwrap_or_default();
        let msg = format!("{e}: {desc}");
        return (
            Err(Error::Auth(format!("authorization denied: {msg}"))),
            400,
            "✗ Authorization failed",
            msg,
        );
    }
    if get("state").as_deref() != Some(state) {
        return (
            Err(Error::Auth("state mismatch (possible CSRF)".into())),
            400,
            "✗ State mismatch",
            "The callback state did not match the expected value. This may be a CSRF attempt — \
             do not retry in this browser session."
                .into(),
        );
    }
    match get("code").filter(|c| !c.is_empty()) {
        None => (
            Err(Error::Auth("no code in callback".into())),
            400,
            "✗ Missing code",
            "The authorization callback did not include a code parameter.".into(),
        ),
        Some(code) => (
            Ok(code),
            200,
            "✓ Authorized",
            "You can close this window and return to the terminal.".into(),
        ),
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn response(status: u16, content_type: &str, body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers one connection; sends the login's outcome when the request was
/// a callback.
async fn serve_one(
    mut stream: tokio::net::TcpStream,
    state: String,
    tx: mpsc::Sender<Result<String>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    if !matches!(read, Ok(true)) {
        return;
    }
    let line = String::from_utf8_lossy(&head);
    let target = line
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path != "/callback" {
        let _ = stream
            .write_all(&response(
                404,
                "text/plain; charset=utf-8",
                "404 page not found\n",
            ))
            .await;
        return;
    }
    let (outcome, status, heading, text) = judge(query, &state);
    let page = format!(
        "<html><body style=\"font-family:system-ui;text-align:center;padding:4em\"><h2>{}</h2><p>{}</p></body></html>",
        escape_html(heading),
        escape_html(&text)
    );
    let _ = stream
        .write_all(&response(status, "text/html; charset=utf-8", &page))
        .await;
    let _ = stream.shutdown().await;
    let _ = tx.send(outcome).await;
}

impl Listener {
    /// Serves callbacks until one carries a result (a code, a denial, a
    /// wrong state); other paths get 404.
    pub async fn wait(self, state: &str) -> Result<String> {
        let (tx, mut rx) = mpsc::channel(4);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(serve_one(stream, state.to_string(), tx.clone()));
                    }
                }
                Some(outcome) = rx.recv() => return outcome,
            }
        }
    }
}

/// One line from stdin, read on a thread of its own (a blocking read that
/// cannot be cancelled must not hold up the login when the callback wins);
/// why not when stdin is closed or unreadable.
pub async fn read_line() -> std::result::Result<String, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = match std::io::stdin().read_line(&mut line) {
            Ok(0) => Err("no code was pasted (end of input)".to_string()),
            Ok(_) => Ok(line),
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(r);
    });
    rx.await.unwrap_or_else(|_| Err("stdin closed".into()))
}

/// The redirect URIs of this login, to tell which one a pasted URL used.
#[derive(Clone, Copy)]
pub struct Redirects<'a> {
    pub loopback: Option<&'a str>,
    pub manual: Option<&'a str>,
}

/// Reads a pasted value: `code#state` (the code page shows it so), a bare
/// code, or the whole redirect URL from the browser's address bar (useful
/// over SSH when the loopback callback cannot be reached). Returns the code
/// and the redirect URI its authorization used.
pub fn parse_pasted(line: &str, state: &str, r: &Redirects<'_>) -> Result<(String, String)> {
    let line = line.trim();
    if line.starts_with("http://") || line.starts_with("https://") {
        return parse_pasted_url(line, state, r);
    }
    let Some(manual) = r.manual else {
        return Err(Error::Auth(
            "paste the whole URL of the page the browser was sent to (it starts with http://localhost)"
                .into(),
        ));
    };
    let (code, pasted_state) = match line.split_once('#') {
        Some((c, s)) => (c, Some(s)),
        None => (line, None),
    };
    if pasted_state.is_some_and(|s| s != state) {
        return Err(Error::Auth(
            "pasted state does not match — code may be from a different login attempt".into(),
        ));
    }
    if code.is_empty() {
        return Err(Error::Auth("empty code pasted".into()));
    }
    Ok((code.to_string(), manual.to_string()))
}

fn parse_pasted_url(line: &str, state: &str, r: &Redirects<'_>) -> Result<(String, String)> {
    let url = reqwest::Url::parse(line)
        .map_err(|e| Error::Auth(format!("the pasted URL does not parse: {e}")))?;
    // The redirect URI is the URL without what the server appended.
    let mut bare = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !matches!(k.as_ref(), "code" | "state" | "error" | "error_description"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    bare.set_query(None);
    if !kept.is_empty() {
        bare.query_pairs_mut().extend_pairs(kept);
    }
    let redirect = [r.loopback, r.manual]
        .into_iter()
        .flatten()
        .find(|u| reqwest::Url::parse(u).is_ok_and(|u| u == bare))
        .ok_or_else(|| {
            Error::Auth(format!(
                "the pasted URL is not this login's redirect ({})",
                bare.as_str()
            ))
        })?;
    let query = url.query().unwrap_or_default();
    let code = judge(query, state).0?;
    Ok((code, redirect.to_string()))
}

/// Opens `url` in a browser: each command of `$BROWSER` (`:`-separated,
/// `%s` stands for the URL, else it is appended) until one starts; without
/// `$BROWSER`, `open` on macOS and `xdg-open` elsewhere.
pub fn open_browser(url: &str) -> std::result::Result<(), String> {
    let commands: Vec<String> = match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(b) => b.split(':').map(String::from).collect(),
        None if cfg!(target_os = "macos") => vec!["open".into()],
        None => vec!["xdg-open".into()],
    };
    let mut last = String::from("no browser command");
    for c in commands {
        let mut words = c.split_whitespace();
        let Some(program) = words.next() else {
            continue;
        };
        let mut args: Vec<String> = words.map(String::from).collect();
        if args.iter().any(|a| a.contains("%s")) {
            args = args.iter().map(|a| a.replace("%s", url)).collect();
        } else {
            args.push(url.to_string());
        }
        match std::process::Command::new(program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(mut child) => {
                // Reap it so it does not linger as a zombie.
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => {
                let mut why = e.to_string();
                if let Some(i) = why.find(" (os error") {
                    why.truncate(i);
                }
                last = format!("{program}: {why}");
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOP: &str = "http://localhost:5555/callback";
    const MANUAL: &str = "https://console.example/oauth/code/callback?app=anthropic-cli";

    fn both() -> Redirects<'static> {
        Redirects {
            loopback: Some(LOOP),
            manual: Some(MANUAL),
        }
    }

    #[test]
    fn callbacks_need_the_state_and_a_code_and_report_denials() {
        assert_eq!(judge("code=abc&state=s1", "s1").0.unwrap(), "abc");
        assert_eq!(judge("code=abc&state=s1", "s1").1, 200);
        let e = judge("code=abc&state=evil", "s1").0.unwrap_err();
        assert_eq!(e.to_string(), "state mismatch (possible CSRF)");
        let e = judge("state=s1", "s1").0.unwrap_err();
        assert_eq!(e.to_string(), "no code in callback");
        let e = judge(
            "error=access_denied&error_description=The+user+said+no&state=s1",
            "s1",
        )
        .0
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "authorization denied: access_denied: The user said no"
        );
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn pasted_codes_carry_the_state_after_a_hash() {
        let r = both();
        assert_eq!(
            parse_pasted(" abc#s1\n", "s1", &r).unwrap(),
            ("abc".to_string(), MANUAL.to_string())
        );
        assert_eq!(parse_pasted("abc", "s1", &r).unwrap().0, "abc");
        assert_eq!(
            parse_pasted("abc#other", "s1", &r).unwrap_err().to_string(),
            "pasted state does not match — code may be from a different login attempt"
        );
        assert_eq!(
            parse_pasted("#s1", "s1", &r).unwrap_err().to_string(),
            "empty code pasted"
        );
    }

    #[test]
    fn a_pasted_redirect_url_is_matched_to_its_redirect_uri() {
        let r = both();
        let (code, redirect) =
            parse_pasted("http://localhost:5555/callback?code=c1&state=s1", "s1", &r).unwrap();
        assert_eq!((code.as_str(), redirect.as_str()), ("c1", LOOP));
        let (_, redirect) = parse_pasted(
            "https://console.example/oauth/code/callback?app=anthropic-cli&code=c2&state=s1",
            "s1",
            &r,
        )
        .unwrap();
        assert_eq!(redirect, MANUAL);
        assert!(parse_pasted("http://localhost:5555/callback?code=c1&state=x", "s1", &r).is_err());
        assert!(parse_pasted("http://evil.example/callback?code=c1&state=s1", "s1", &r).is_err());
        let loop_only = Redirects {
            loopback: Some(LOOP),
            manual: None,
        };
        assert!(parse_pasted("c1#s1", "s1", &loop_only).is_err());
    }

    #[test]
    fn callback_pages_escape_what_the_server_sent() {
        assert_eq!(escape_html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
