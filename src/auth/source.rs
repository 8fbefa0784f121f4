//! Token sources for the HTTP client: an OAuth login's token, refreshed
//! when 30 s or less remain, and a federation token, exchanged on first
//! use, cached in memory (and on disk for an `oidc_federation` profile),
//! re-exchanged early in the background and once after a 401.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::federation::{Exchange, Token};
use super::{oauth, store, text};
use crate::error::{Error, Result};
use crate::http::TokenSource;

/// A token with this many seconds or fewer left is renewed before use.
pub const RENEW_WITHIN: i64 = 30;
/// A federation token with fewer seconds left than this is re-exchanged
/// in the background while still in use.
const EARLY_RENEW_WITHIN: i64 = 120;
/// Wait after a failed background re-exchange before trying again.
const BACKGROUND_RETRY: Duration = Duration::from_secs(5);
/// How long a refresh waits for another `ant` refreshing the same login
/// (longer than one token request may take).
const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(40);

type Fut<'a> = Pin<Box<dyn std::future::Future<Output = Result<String>> + Send + 'a>>;

fn seconds_left(expires_at: Option<i64>) -> Option<i64> {
    expires_at.map(|e| e.saturating_sub(store::now()))
}

/// Where an `oidc_federation` profile keeps its token between runs.
#[derive(Debug, Clone)]
pub struct DiskCache {
    pub layout: store::Layout,
    pub path: PathBuf,
}

impl DiskCache {
    /// The cached token, if it is private, well-formed and has more than
    /// [`RENEW_WITHIN`] seconds left.
    fn read(&self) -> Option<Token> {
        store::check_private(&self.path).ok()?;
        let v = store::read_json(&self.path).ok()??;
        let access_token = v.get("access_token")?.as_str()?.to_string();
        let expires_at = v.get("expires_at")?.as_i64()?;
        (expires_at.saturating_sub(store::now()) > RENEW_WITHIN && !access_token.is_empty())
            .then_some(Token {
                access_token,
                expires_at: Some(expires_at),
            })
    }

    /// Stores a token that expires (one that never does is not cached),
    /// keeping any other fields of the file.
    fn write(&self, t: &Token) {
        let Some(expires_at) = t.expires_at else {
            return;
        };
        let mut v = store::read_json(&self.path)
            .ok()
            .flatten()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        v["version"] = json!("1.0");
        v["type"] = json!("oauth_token");
        v["access_token"] = json!(t.access_token);
        v["expires_at"] = json!(expires_at);
        if let Err(e) = store::write_credentials(&self.layout, &self.path, &v) {
            eprintln!("warning: could not cache the federation token: {e}");
        }
    }
}

#[derive(Default)]
struct Cache {
    origin: String,
    token: Option<Token>,
    /// Right after a 401 the disk cache is not trusted.
    skip_disk: bool,
    background: bool,
    last_failure: Option<Instant>,
}

struct Federated {
    exchange: Exchange,
    disk: Option<DiskCache>,
    debug: bool,
    /// Held across an exchange, so concurrent callers share one.
    cache: tokio::sync::Mutex<Cache>,
}

/// Workload identity federation as a [`TokenSource`].
#[derive(Clone)]
pub struct FederationSource(Arc<Federated>);

impl FederationSource {
    pub fn new(exchange: Exchange, disk: Option<DiskCache>, debug: bool) -> Self {
        FederationSource(Arc::new(Federated {
            exchange,
            disk,
            debug,
            cache: tokio::sync::Mutex::new(Cache::default()),
        }))
    }

    /// Starts one background re-exchange unless one is running or the last
    /// one failed less than [`BACKGROUND_RETRY`] ago.
    fn renew_in_background(&self, c: &mut Cache) {
        let recently_failed = c
            .last_failure
            .is_some_and(|t| t.elapsed() < BACKGROUND_RETRY);
        if c.background || recently_failed || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        c.background = true;
        let me = self.0.clone();
        let origin = c.origin.clone();
        tokio::spawn(async move {
            let result = me.exchange.run(&origin, me.debug).await;
            let mut c = me.cache.lock().await;
            c.background = false;
            match result {
                Ok(t) if c.origin == origin => {
                    if let Some(d) = &me.disk {
                        d.write(&t);
                    }
                    c.token = Some(t);
                }
                Ok(_) => {}
                Err(_) => c.last_failure = Some(Instant::now()),
            }
        });
    }
}

impl TokenSource for FederationSource {
    fn token<'a>(&'a self, origin: &'a str, renew: bool) -> Fut<'a> {
        Box::pin(async move {
            let mut c = self.0.cache.lock().await;
            if c.origin != origin {
                // A token is only used with the host it was exchanged for.
                c.origin = origin.to_string();
                c.token = None;
            }
            if renew {
                c.token = None;
                c.skip_disk = true;
            }
            if c.token.is_none()
                && !c.skip_disk
                && let Some(d) = &self.0.disk
            {
                c.token = d.read();
            }
            if let Some(t) = &c.token {
                let access = t.access_token.clone();
                match seconds_left(t.expires_at) {
                    None => return Ok(access),
                    Some(left) if left > EARLY_RENEW_WITHIN => return Ok(access),
                    Some(left) if left > RENEW_WITHIN => {
                        self.renew_in_background(&mut c);
                        return Ok(access);
                    }
                    Some(_) => {}
                }
            }
            let t = self.0.exchange.run(origin, self.0.debug).await?;
            if let Some(d) = &self.0.disk {
                d.write(&t);
            }
            let access = t.access_token.clone();
            c.token = Some(t);
            Ok(access)
        })
    }

    fn renews_on_401(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!(
            "federation {} {}",
            self.0.exchange.rule, self.0.exchange.organization_id
        )
    }
}

/// What an OAuth login's token needs to be refreshed.
pub struct OAuthProfile {
    pub profile: String,
    pub layout: store::Layout,
    pub path: PathBuf,
    pub creds: Value,
    pub client_id: String,
    /// The profile's `base_url`; else the API request's origin.
    pub base: Option<String>,
    pub debug: bool,
}

/// An OAuth login's token as a [`TokenSource`]: refreshed (and the
/// credentials file rewritten, every field kept) when 30 s or less remain.
pub struct OAuthSource {
    name: String,
    /// The profile, and whether a refresh already failed (then the token is
    /// used as it is until it expires, without asking again).
    state: tokio::sync::Mutex<(OAuthProfile, bool)>,
}

impl OAuthSource {
    pub fn new(p: OAuthProfile) -> Self {
        OAuthSource {
            name: p.profile.clone(),
            state: tokio::sync::Mutex::new((p, false)),
        }
    }
}

/// `expires at <time>` or `expired at <time>`.
pub fn expiry_phrase(expires_at: i64) -> String {
    let verb = if expires_at <= store::now() {
        "expired"
    } else {
        "expires"
    };
    format!("{verb} at {}", store::rfc3339(expires_at))
}

impl OAuthProfile {
    /// The access token, refreshed unless more than `within` seconds
    /// remain. The credentials file is read again first, under a lock on
    /// its directory: another `ant` may have refreshed meanwhile, spending
    /// the refresh token held here, and its token is then taken as it is.
    /// Two processes never redeem the same refresh token, and a login
    /// removed by `auth logout` is not written back.
    pub async fn renew(&mut self, origin: &str, within: i64) -> Result<String> {
        let _lock = store::lock_dir_of(&self.path, REFRESH_LOCK_WAIT).await;
        match store::read_json(&self.path) {
            // `auth logout` ran meanwhile: a refresh would bring it back.
            Ok(None) => {
                return Err(Error::Auth(format!(
                    "profile {:?} was logged out ({} was removed)",
                    self.profile,
                    self.path.display()
                )));
            }
            Ok(Some(v)) if v.is_object() && store::check_private(&self.path).is_ok() => {
                self.creds = v;
            }
            _ => {}
        }
        match self.creds.get("expires_at").and_then(Value::as_i64) {
            Some(exp) if exp - store::now() <= within => self.refreshed(origin).await,
            _ => Ok(text(Some(&self.creds), "/access_token").unwrap_or_default()),
        }
    }

    async fn refreshed(&mut self, origin: &str) -> Result<String> {
        let refresh_token = text(Some(&self.creds), "/refresh_token")
            .ok_or_else(|| Error::Auth("no refresh_token is stored".into()))?;
        let base = self.base.clone().unwrap_or_else(|| origin.to_string());
        if !oauth::is_secure(&base) {
            return Err(Error::Auth(format!(
                "refusing to send a refresh token over plain http to {} (use https, or http on loopback)",
                crate::http::mask_password(&base)
            )));
        }
        let answer = oauth::refresh(&base, &self.client_id, &refresh_token, self.debug).await?;
        oauth::apply(&mut self.creds, &answer);
        if let Err(e) = store::write_credentials(&self.layout, &self.path, &self.creds) {
            // The old refresh token may be spent: use the new token anyway.
            eprintln!(
                "warning: refreshed the token of profile {:?} but could not store it: {e}",
                self.profile
            );
        }
        Ok(text(Some(&self.creds), "/access_token").unwrap_or_default())
    }

    /// A program that does not take the lock (the official CLI) may have
    /// refreshed (and rotated the refresh token) at the same time: a
    /// fresher token in the file is taken as is.
    fn reload_if_fresher(&mut self) -> Option<String> {
        let v = store::read_json(&self.path).ok()??;
        let exp = v.get("expires_at").and_then(Value::as_i64)?;
        if exp.saturating_sub(store::now()) <= RENEW_WITHIN
            || text(Some(&v), "/access_token") == text(Some(&self.creds), "/access_token")
        {
            return None;
        }
        self.creds = v;
        text(Some(&self.creds), "/access_token")
    }
}

impl TokenSource for OAuthSource {
    fn token<'a>(&'a self, origin: &'a str, _renew: bool) -> Fut<'a> {
        Box::pin(async move {
            let mut guard = self.state.lock().await;
            let (p, failed) = &mut *guard;
            let access = text(Some(&p.creds), "/access_token").unwrap_or_default();
            let Some(expires_at) = p.creds.get("expires_at").and_then(Value::as_i64) else {
                return Ok(access);
            };
            let left = expires_at.saturating_sub(store::now());
            if left > RENEW_WITHIN || (*failed && left > 0) {
                return Ok(access);
            }
            match p.renew(origin, RENEW_WITHIN).await {
                Ok(t) => Ok(t),
                Err(why) => {
                    if let Some(t) = p.reload_if_fresher() {
                        return Ok(t);
                    }
                    let msg = format!(
                        "token for profile {:?} {} and refresh failed: {why}",
                        p.profile,
                        expiry_phrase(expires_at)
                    );
                    if expires_at > store::now() {
                        // Still valid for a few seconds: use it.
                        eprintln!("warning: {msg}");
                        *failed = true;
                        Ok(access)
                    } else {
                        Err(Error::Auth(format!("{msg}; run `ant auth login`")))
                    }
                }
            }
        })
    }

    fn renews_on_401(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("profile {}", self.name)
    }
}
