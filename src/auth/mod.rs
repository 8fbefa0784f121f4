//! Sign-in: where a command's credential comes from and how it is kept
//! fresh. The official precedence chain (`--api-key`, `--auth-token`, a
//! profile named with `--profile`, workload identity federation, the active
//! profile), OAuth login with PKCE ([`login`]), refresh of a login's token
//! and the federation exchange ([`source`]), and the config directory the
//! official CLI and SDKs share ([`store`]). Nothing here knows about clap.

pub mod callback;
pub mod federation;
pub mod login;
pub mod oauth;
pub mod pkce;
pub mod source;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{self, Auth};
use source::{DiskCache, FederationSource, OAuthProfile, OAuthSource};
use store::{Layout, env};

pub use oauth::{DEFAULT_BASE_URL, OAUTH_BETA};

/// The error when no credential is configured at all.
pub const NO_CREDENTIALS: &str = "no credentials: set ANTHROPIC_API_KEY (or --api-key) or \
     ANTHROPIC_AUTH_TOKEN (or --auth-token), log in with 'ant auth login', or configure \
     workload identity federation (see 'ant auth status')";

/// What the command line and environment say about credentials (flags
/// already merged with their variables; empty values count as unset).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub api_key: Option<String>,
    pub auth_token: Option<String>,
    /// `--profile` / `ANTHROPIC_PROFILE`.
    pub profile: Option<String>,
    /// `--base-url` (the variable is read here).
    pub base_url: Option<String>,
    /// `--workspace-id` (the variable is read here).
    pub workspace_id: Option<String>,
    pub federation: federation::Inputs,
    pub debug: bool,
    /// Use a login's stored token as it is, never refreshing it (shell
    /// completion: a lookup cut off mid-refresh would lose the rotated
    /// refresh token).
    pub no_refresh: bool,
}

/// Settings resolved from flags, environment and profile.
#[derive(Debug)]
pub struct Resolved {
    pub base_url: String,
    pub auth: Auth,
    pub workspace_id: Option<String>,
    pub extra_betas: Vec<String>,
    /// One-line notes for stderr (several credential sources, a defaulted
    /// client id); the caller decides whether to print them.
    pub notices: Vec<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.trim().is_empty())
}

/// A string field of a JSON value.
pub fn text(v: Option<&Value>, pointer: &str) -> Option<String> {
    v.and_then(|v| v.pointer(pointer))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The profile a command acts on, its config and where its credentials are.
#[derive(Debug, Clone)]
pub struct Profile {
    pub layout: Layout,
    pub name: String,
    /// Named by `--profile` / `ANTHROPIC_PROFILE` (precedence tier 3), not
    /// found through `active_config` or the `default` fallback (tier 5).
    pub explicit: bool,
    pub config: Option<Value>,
    /// Why the config could not be read, when it exists but is unreadable.
    pub config_error: Option<String>,
    pub creds_path: PathBuf,
}

impl Profile {
    /// The profile named by `explicit`, else `active_config`, else `default`.
    pub fn find(layout: Layout, explicit: Option<&str>) -> Result<Profile> {
        let (name, is_explicit) = match explicit.filter(|p| !p.is_empty()) {
            Some(p) => (p.to_string(), true),
            None => (
                layout.active_name().unwrap_or_else(|| "default".into()),
                false,
            ),
        };
        store::check_name(&name)?;
        let (config, config_error) = match store::read_json(&layout.config(&name)) {
            Ok(c) => (c, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let creds_path = layout.credentials_for(&name, config.as_ref());
        Ok(Profile {
            layout,
            name,
            explicit: is_explicit,
            config,
            config_error,
            creds_path,
        })
    }

    /// `authentication.type` (a config without one is read as `user_oauth`).
    pub fn kind(&self) -> String {
        text(self.config.as_ref(), "/authentication/type").unwrap_or_else(|| "user_oauth".into())
    }

    pub fn setting(&self, key: &str) -> Option<String> {
        text(self.config.as_ref(), &format!("/{key}"))
    }

    /// Whether the profile can supply the credential: a federation profile
    /// by its config alone, a login only while its credentials file exists
    /// (after `auth logout` the config stays but no longer counts).
    pub fn usable(&self) -> bool {
        if self.kind() == "oidc_federation" {
            return self.config.is_some();
        }
        std::fs::symlink_metadata(&self.creds_path).is_ok()
    }

    /// The base URL the profile sets, filled from `ANTHROPIC_BASE_URL`.
    fn base_url(&self) -> Option<String> {
        self.setting("base_url")
            .or_else(|| env("ANTHROPIC_BASE_URL"))
    }

    /// The profile's credential for API requests.
    fn auth(&self, inputs: &Inputs, notices: &mut Vec<String>) -> Result<Auth> {
        match self.kind().as_str() {
            "user_oauth" => self.login_auth(inputs, notices),
            "oidc_federation" => self.federation_auth(inputs),
            other => Err(Error::Auth(format!(
                "profile {:?}: unknown authentication type {other:?} in {}",
                self.name,
                self.layout.config(&self.name).display()
            ))),
        }
    }

    fn login_auth(&self, inputs: &Inputs, notices: &mut Vec<String>) -> Result<Auth> {
        let path = &self.creds_path;
        store::check_private(path)?;
        let creds = store::read_json(path)?.unwrap_or(Value::Null);
        if let Some(t) = creds.get("type").and_then(Value::as_str)
            && t != "oauth_token"
        {
            return Err(Error::Auth(format!("credentials: unknown type {t:?}")));
        }
        let Some(token) = text(Some(&creds), "/access_token") else {
            return Err(Error::Auth(format!(
                "no access_token in {} (profile {:?}); run `ant auth login`",
                path.display(),
                self.name
            )));
        };
        let refreshable = creds.get("expires_at").and_then(Value::as_i64).is_some()
            && text(Some(&creds), "/refresh_token").is_some();
        if !refreshable || inputs.no_refresh {
            return Ok(Auth::Bearer(token));
        }
        let client_id = match text(self.config.as_ref(), "/authentication/client_id") {
            Some(c) => c,
            None => {
                notices.push(
                    "Note: profile is missing client_id; defaulting to ant-cli prod client. \
                     Run `ant auth login` to persist."
                        .into(),
                );
                oauth::DEFAULT_CLIENT_ID.to_string()
            }
        };
        Ok(Auth::Source(Arc::new(OAuthSource::new(OAuthProfile {
            profile: self.name.clone(),
            layout: self.layout.clone(),
            path: path.clone(),
            creds,
            client_id,
            base: self.base_url(),
            debug: inputs.debug,
        }))))
    }

    /// The `oidc_federation` variant: everything from the config, empty
    /// fields filled from the environment (and the federation flags).
    fn federation_auth(&self, inputs: &Inputs) -> Result<Auth> {
        let cfg = self.config.as_ref();
        let f = &inputs.federation;
        let missing = |what: &str| {
            Error::Auth(format!(
                "profile {:?} (oidc_federation) has no {what} in {}",
                self.name,
                self.layout.config(&self.name).display()
            ))
        };
        let identity = match cfg.and_then(|c| c.pointer("/authentication/identity_token")) {
            Some(it) if !it.is_null() => {
                let source = text(Some(it), "/source").unwrap_or_default();
                if source != "file" {
                    return Err(Error::Auth(format!(
                        "profile {:?}: identity_token.source must be \"file\", got {source:?}",
                        self.name
                    )));
                }
                let path = text(Some(it), "/path").ok_or_else(|| missing("identity_token.path"))?;
                federation::Identity::File(PathBuf::from(path))
            }
            _ => match (
                nonempty(&f.identity_token_file),
                nonempty(&f.identity_token),
            ) {
                (Some(p), _) => federation::Identity::File(PathBuf::from(p)),
                (None, Some(t)) => federation::Identity::Literal(t),
                (None, None) => {
                    return Err(missing(
                        "identity_token (nor ANTHROPIC_IDENTITY_TOKEN_FILE)",
                    ));
                }
            },
        };
        let exchange = federation::Exchange {
            identity,
            rule: text(cfg, "/authentication/federation_rule_id")
                .or_else(|| nonempty(&f.federation_rule))
                .ok_or_else(|| missing("federation_rule_id"))?,
            organization_id: self
                .setting("organization_id")
                .or_else(|| nonempty(&f.organization_id))
                .ok_or_else(|| missing("organization_id"))?,
            service_account_id: text(cfg, "/authentication/service_account_id")
                .or_else(|| nonempty(&f.service_account_id)),
            workspace_id: self
                .setting("workspace_id")
                .or_else(|| env("ANTHROPIC_WORKSPACE_ID")),
            base: self.base_url(),
        };
        let disk = DiskCache {
            layout: self.layout.clone(),
            path: self.creds_path.clone(),
        };
        Ok(Auth::Source(Arc::new(FederationSource::new(
            exchange,
            Some(disk),
            inputs.debug,
        ))))
    }
}

/// The credential tiers, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    ApiKey,
    AuthToken,
    ExplicitProfile,
    Federation,
    ImplicitProfile,
}

impl Tier {
    /// The official name of the tier in the precedence notice.
    pub fn label(self) -> &'static str {
        match self {
            Tier::ApiKey => "--api-key / ANTHROPIC_API_KEY",
            Tier::AuthToken => "--auth-token / ANTHROPIC_AUTH_TOKEN",
            Tier::ExplicitProfile => "profile from --profile / ANTHROPIC_PROFILE",
            Tier::Federation => "federation env",
            Tier::ImplicitProfile => "active profile (active_config)",
        }
    }
}

/// Every tier that is configured, winner first.
pub fn configured_tiers(inputs: &Inputs, profile: Option<&Profile>) -> Vec<Tier> {
    let usable = profile.filter(|p| p.usable());
    [
        (nonempty(&inputs.api_key).is_some(), Tier::ApiKey),
        (nonempty(&inputs.auth_token).is_some(), Tier::AuthToken),
        (usable.is_some_and(|p| p.explicit), Tier::ExplicitProfile),
        (inputs.federation.any_set(), Tier::Federation),
        (usable.is_some_and(|p| !p.explicit), Tier::ImplicitProfile),
    ]
    .into_iter()
    .filter_map(|(on, t)| on.then_some(t))
    .collect()
}

/// Resolves the credential, base URL and workspace of an API command.
/// Nothing is sent; an incomplete federation setup is an error here.
pub fn resolve(inputs: &Inputs) -> Result<Resolved> {
    let profile = match Layout::find() {
        Ok(layout) => Some(Profile::find(layout, inputs.profile.as_deref())?),
        Err(_) => None,
    };
    let tiers = configured_tiers(inputs, profile.as_ref());
    let mut notices = Vec::new();
    if tiers.len() >= 2 {
        let names: Vec<&str> = tiers.iter().map(|t| t.label()).collect();
        notices.push(format!(
            "Note: multiple auth sources configured ({}); using {} per precedence. Run `ant auth status` for details.",
            names.join(", "),
            names[0]
        ));
    }
    let mut extra_betas = Vec::new();
    let auth = match tiers.first() {
        Some(Tier::ApiKey) => Auth::ApiKey(nonempty(&inputs.api_key).unwrap_or_default()),
        Some(Tier::AuthToken) => Auth::Bearer(nonempty(&inputs.auth_token).unwrap_or_default()),
        Some(Tier::Federation) => {
            extra_betas.push(OAUTH_BETA.to_string());
            let exchange = inputs.federation.exchange()?;
            Auth::Source(Arc::new(FederationSource::new(
                exchange,
                None,
                inputs.debug,
            )))
        }
        Some(Tier::ExplicitProfile | Tier::ImplicitProfile) => {
            let p = profile.as_ref().expect("a usable profile");
            if let Some(e) = &p.config_error {
                return Err(Error::Auth(format!("profile {:?}: {e}", p.name)));
            }
            extra_betas.push(OAUTH_BETA.to_string());
            p.auth(inputs, &mut notices)?
        }
        None => Auth::None,
    };

    // A setting the profile would give; a config file that cannot be read
    // is an error then, never silently the default (another API host).
    let profile_setting = |key: &str| -> Result<Option<String>> {
        match profile.as_ref() {
            Some(p) => match &p.config_error {
                Some(e) => Err(Error::usage(format!(
                    "profile {:?}: {e} (it would give the {key})",
                    p.name
                ))),
                None => Ok(p.setting(key)),
            },
            None => Ok(None),
        }
    };
    let base = match nonempty(&inputs.base_url).or_else(|| env("ANTHROPIC_BASE_URL")) {
        Some(b) => b,
        None => profile_setting("base_url")?.unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
    };
    let base_url = http::validate_base_url(&base)?;
    let workspace_id =
        match nonempty(&inputs.workspace_id).or_else(|| env("ANTHROPIC_WORKSPACE_ID")) {
            Some(w) => Some(w),
            None => profile_setting("workspace_id")?,
        };
    Ok(Resolved {
        base_url,
        auth,
        workspace_id,
        extra_betas,
        notices,
    })
}

/// Why no credential could be found, for a command that needs one: a
/// profile named on the command line that does not exist is bad input
/// (exit 2); otherwise there are no credentials (exit 3).
pub fn no_credentials(inputs: &Inputs) -> Error {
    let named = nonempty(&inputs.profile);
    let profile = named
        .as_deref()
        .and_then(|n| Layout::find().ok().map(|l| (l, n)))
        .and_then(|(l, n)| Profile::find(l, Some(n)).ok());
    match profile {
        Some(p) if p.config.is_none() && p.config_error.is_none() => Error::usage(format!(
            "profile {:?} not found (no {})",
            p.name,
            p.layout.config(&p.name).display()
        )),
        Some(p) => Error::Auth(format!(
            "no credentials: profile {:?} is configured but not logged in (no {}); \
             run `ant auth login --profile {}`",
            p.name,
            p.creds_path.display(),
            p.name
        )),
        None => Error::Auth(NO_CREDENTIALS.into()),
    }
}

impl Profile {
    /// The stored credentials, refreshed first when `within` seconds or
    /// fewer remain (as `auth print-credentials` does with 120 s). A refresh
    /// that cannot be made or fails is a warning on stderr; the stored token
    /// is returned then. `base` is where the refresh goes.
    pub fn fresh_credentials(&self, within: i64, base: &str, debug: bool) -> Result<Value> {
        let path = &self.creds_path;
        let creds = store::read_json(path)?.ok_or_else(|| {
            Error::Auth(format!(
                "not logged in (profile {:?}): no {}",
                self.name,
                path.display()
            ))
        })?;
        if text(Some(&creds), "/access_token").is_none() {
            return Err(Error::Auth(format!(
                "no access_token in {} (profile {:?})",
                path.display(),
                self.name
            )));
        }
        let Some(expires_at) = creds.get("expires_at").and_then(Value::as_i64) else {
            return Ok(creds);
        };
        if expires_at.saturating_sub(store::now()) > within {
            return Ok(creds);
        }
        let prefix = format!(
            "warning: token for profile {:?} {}",
            self.name,
            source::expiry_phrase(expires_at)
        );
        if text(Some(&creds), "/refresh_token").is_none() {
            eprintln!("{prefix} and no refresh_token is stored; run `ant auth login`");
            return Ok(creds);
        }
        if !oauth::is_secure(base) {
            eprintln!(
                "{prefix} and refresh was not sent: OAuth token URL must be https, or http on loopback, got {:?}",
                http::mask_password(base)
            );
            return Ok(creds);
        }
        let client_id = text(self.config.as_ref(), "/authentication/client_id")
            .unwrap_or_else(|| oauth::DEFAULT_CLIENT_ID.to_string());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start runtime: {e}")))?;
        let mut login = OAuthProfile {
            profile: self.name.clone(),
            layout: self.layout.clone(),
            path: path.clone(),
            creds,
            client_id,
            base: Some(base.to_string()),
            debug,
        };
        // A refreshed token that cannot be stored is still printed (the old
        // refresh token may be spent); `renew` warns about the file.
        if let Err(e) = runtime.block_on(login.renew(base, within)) {
            eprintln!("{prefix} and refresh failed: {e}");
        }
        Ok(login.creds)
    }
}
