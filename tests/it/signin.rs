//! Helpers for the sign-in tests: an `ant` process to talk to while it
//! runs, a `$BROWSER` that follows the authorize URL, identity tokens, and
//! the files of the isolated config directory.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The config directory of a test home.
pub fn config_dir(home: &Path) -> PathBuf {
    home.join("anthropic")
}

pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Every file under the config directory (none when it does not exist).
pub fn files_in(home: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&config_dir(home), &mut out);
    out
}

/// A script that fetches a URL like a browser would, following redirects,
/// and prints the final page. Used as `$BROWSER` and to read the code page.
pub fn browser(home: &Path) -> PathBuf {
    let path = home.join("browser");
    std::fs::write(
        &path,
        "#!/bin/sh\nexec python3 -c 'import sys, urllib.request\n\
         try:\n    body = urllib.request.urlopen(sys.argv[1], timeout=20).read()\n\
         except urllib.error.HTTPError as e:\n    body = e.read()\n\
         sys.stdout.write(body.decode())' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Follows `url` with the browser script and returns the page.
pub fn fetch(home: &Path, url: &str) -> String {
    let out = std::process::Command::new(browser(home))
        .arg(url)
        .output()
        .expect("python3 runs the browser script");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `code#state` shown on the emulator's code page.
pub fn code_on_page(page: &str) -> String {
    let start = page.find("<code id=\"code\">").expect("a code on the page") + 16;
    let end = page[start..].find("</code>").unwrap() + start;
    page[start..end].to_string()
}

/// The first `http…/oauth/authorize?…` URL in `text`.
pub fn authorize_url(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.contains("/oauth/authorize?"))
        .expect("an authorize URL")
        .to_string()
}

/// The `state` parameter of an authorize URL.
pub fn state_of(url: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state in the authorize URL")
}

/// A logged-in `user_oauth` profile `default` whose commands go to `base`,
/// with these credentials (0600); returns the credentials file.
pub fn oauth_profile(home: &Path, base: &str, creds: Value) -> PathBuf {
    let dir = config_dir(home);
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::create_dir_all(dir.join("credentials")).unwrap();
    std::fs::write(
        dir.join("configs/default.json"),
        json!({"version": "1.0", "base_url": base,
               "authentication": {"type": "user_oauth", "client_id": "client-1"}})
        .to_string(),
    )
    .unwrap();
    let path = dir.join("credentials/default.json");
    std::fs::write(&path, creds.to_string()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A JWT as a CI system issues it (not signed for real: the emulator only
/// checks its shape and expiry).
pub fn jwt(claims: Value) -> String {
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        part(json!({"alg": "RS256", "typ": "JWT"})),
        part(claims)
    )
}

pub fn ci_jwt() -> String {
    jwt(json!({"iss": "https://token.actions.githubusercontent.com",
               "sub": "repo:acme/app:ref:refs/heads/main", "aud": "https://api.anthropic.com"}))
}

/// An `ant` process whose stderr is collected as it comes.
pub struct Running {
    child: Child,
    pub stdin: Option<ChildStdin>,
    err: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn spawn(mut cmd: std::process::Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ant starts");
        let err: Arc<Mutex<String>> = Arc::default();
        let mut pipe = child.stderr.take().unwrap();
        let sink = err.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Running {
            stdin: child.stdin.take(),
            child,
            err,
            reader: Some(reader),
        }
    }

    /// Stderr so far, once it contains `needle` (panics after 20 s).
    pub fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.err.lock().unwrap().clone();
            if text.contains(needle) {
                return text;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("no {needle:?} on stderr:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn paste(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// Waits for the exit (at most 30 s); returns the code and all of stderr.
    pub fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("ant did not exit:\n{}", self.err.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let text = self.err.lock().unwrap().clone();
        (status.code().unwrap_or(-1), text)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
