//! `ant auth login`: the OAuth authorization-code flow with PKCE, in the
//! official CLI's three modes (a browser with a loopback callback raced
//! against a pasted code; `--no-browser --callback-port N` for an SSH
//! forward; `--no-browser` alone, paste only), then the profile's files.
//! Nothing is written until the token is in hand, and a failed write
//! undoes the ones before it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::callback::{self, Redirects};
use super::oauth::{self, CodeGrant};
use super::pkce::Pkce;
use super::store::{self, Layout};
use super::text;
use crate::error::{Error, Result};

/// How long to wait for the authorization by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Everything `auth login` is told (flags already merged with variables).
#[derive(Debug, Clone)]
pub struct Options {
    pub layout: Layout,
    pub profile: String,
    /// Named by `--profile` / `ANTHROPIC_PROFILE`: then it is activated.
    pub profile_explicit: bool,
    /// `--console-url` / `ANTHROPIC_CONSOLE_URL`.
    pub console_url: Option<String>,
    /// `--base-url` / `ANTHROPIC_BASE_URL`.
    pub base_url: Option<String>,
    pub no_browser: bool,
    /// Given (even 0) together with `--no-browser`: the SSH-forward mode.
    pub callback_port: Option<u16>,
    pub timeout: Duration,
    /// `--client-id` / `ANTHROPIC_OAUTH_CLIENT_ID`.
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub workspace_id: Option<String>,
    /// `--organization-id` / `ANTHROPIC_ORGANIZATION_ID`: the org hint.
    pub organization_id: Option<String>,
    pub debug: bool,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('/').to_string())
}

/// The settings of one login, from flags, the existing profile and defaults.
struct Plan {
    bootstrapping: bool,
    prev: Option<Value>,
    scope: String,
    client_id: String,
    console: String,
    base: String,
    token_base: String,
    workspace: Option<String>,
    org_hint: Option<String>,
    pkce: Pkce,
}

impl Plan {
    fn new(o: &Options) -> Result<Plan> {
        let config_path = o.layout.config(&o.profile);
        let bootstrapping = !config_path.exists();
        let prev = match store::read_json(&config_path) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("warning: ignoring unreadable profile config: {e}");
                None
            }
        };
        let p = prev.as_ref();
        let from_profile = |key: &str| text(p, key).map(|s| s.trim_end_matches('/').to_string());
        let console = given(&o.console_url)
            .or_else(|| from_profile("/authentication/console_url"))
            .unwrap_or_else(|| oauth::DEFAULT_CONSOLE_URL.into());
        let base = given(&o.base_url)
            .or_else(|| from_profile("/base_url"))
            .unwrap_or_else(|| oauth::DEFAULT_BASE_URL.into());
        let token_base = oauth::token_base(&console, &base)?;
        if bootstrapping {
            eprintln!("Creating profile {:?}.", o.profile);
        }
        let org_hint = given(&o.organization_id).or_else(|| from_profile("/organization_id"));
        if let (Some(org), None) = (&org_hint, given(&o.organization_id)) {
            eprintln!(
                "Using organization {org} from profile {:?}.\n  \
                 To pick a different org by name, start a new profile: ant auth login --profile <name>\n  \
                 To retarget this profile:                             ant profile set organization_id <id>",
                o.profile
            );
        }
        Ok(Plan {
            bootstrapping,
            scope: o
                .scope
                .clone()
                .filter(|s| !s.trim().is_empty())
                .or_else(|| text(p, "/authentication/scope"))
                .unwrap_or_else(|| oauth::DEFAULT_SCOPE.into()),
            client_id: given(&o.client_id)
                .or_else(|| text(p, "/authentication/client_id"))
                .unwrap_or_else(|| oauth::DEFAULT_CLIENT_ID.into()),
            workspace: given(&o.workspace_id)
                .or_else(|| text(p, "/workspace_id"))
                .or_else(|| given(&std::env::var("ANTHROPIC_WORKSPACE_ID").ok())),
            console,
            base,
            token_base,
            org_hint,
            prev,
            pkce: Pkce::new()?,
        })
    }

    /// `<console>/oauth/authorize?...`, parameters in key order.
    fn authorize_url(&self, redirect_uri: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", &self.client_id)
            .append_pair("code_challenge", &self.pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(org) = &self.org_hint {
            q.append_pair("orgUUID", org);
        }
        q.append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.scope)
            .append_pair("state", &self.pkce.state);
        if let Some(w) = &self.workspace {
            q.append_pair("workspace_id", w);
        }
        format!("{}/oauth/authorize?{}", self.console, q.finish())
    }

    /// The console's code page, or `None` when the console URL has no host.
    fn manual_redirect(&self) -> Option<String> {
        reqwest::Url::parse(&self.console)
            .ok()
            .filter(|u| u.host_str().is_some_and(|h| !h.is_empty()))
            .map(|_| format!("{}/oauth/code/callback?app=anthropic-cli", self.console))
    }
}

/// Runs `auth login`.
pub fn login(o: Options) -> Result<()> {
    let plan = Plan::new(&o)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start runtime: {e}")))?;
    // Every mode but the SSH forward leaves a "Code: " prompt open.
    let prompt_open = !(o.no_browser && o.callback_port.is_some());
    let token = runtime.block_on(async {
        let authorized = tokio::select! {
            r = tokio::time::timeout(o.timeout, authorize(&o, &plan)) => r.unwrap_or_else(|_| {
                Err(Error::Timeout("timed out waiting for authorization".into()))
            }),
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        };
        let (code, redirect_uri) = authorized.inspect_err(|_| {
            if prompt_open {
                eprintln!();
            }
        })?;
        let grant = CodeGrant {
            client_id: &plan.client_id,
            code: &code,
            verifier: &plan.pkce.verifier,
            redirect_uri: &redirect_uri,
            state: &plan.pkce.state,
        };
        // Ctrl-C stays an interrupt while the code is exchanged (the
        // handler above replaced the default, so it has to be listened to).
        tokio::select! {
            r = oauth::exchange_code(&plan.token_base, &grant, o.debug) => {
                r.map_err(|e| prefix("exchange code for token: ", e))
            }
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    });
    // Do not wait for a stdin read that lost the race.
    runtime.shutdown_background();
    finish(&o, &plan, &token?)
}

fn prefix(p: &str, e: Error) -> Error {
    match e {
        Error::Auth(m) => Error::Auth(format!("{p}{m}")),
        Error::Network(m) => Error::Network(format!("{p}{m}")),
        Error::Timeout(m) => Error::Timeout(format!("{p}{m}")),
        other => other,
    }
}

/// Gets an authorization code and the redirect URI it was issued for.
async fn authorize(o: &Options, plan: &Plan) -> Result<(String, String)> {
    let state = plan.pkce.state.as_str();
    let manual = plan.manual_redirect();
    if o.no_browser && o.callback_port.is_none() {
        // Headless: nothing listens; the console shows the code to paste.
        let Some(manual) = manual else {
            return Err(Error::usage(format!(
                "--no-browser requires a valid --console-url (got {:?})",
                plan.console
            )));
        };
        eprint!(
            "Open this URL to authorize:\n\n  {}\n\n\
             After authorizing, the page will display a code. Paste it here:\nCode: ",
            plan.authorize_url(&manual)
        );
        let redirects = Redirects {
            loopback: None,
            manual: Some(&manual),
        };
        // Without a callback, a stdin that cannot be read ends the login.
        return read_code(state, redirects).await.map_err(|e| match e {
            Error::Io(m) => Error::Auth(m),
            other => other,
        });
    }
    let listener = callback::bind(o.callback_port.unwrap_or(0)).await?;
    let loopback = listener.redirect_uri.clone();
    let loopback_url = plan.authorize_url(&loopback);
    if o.no_browser {
        // SSH forward: the callback comes back through `ssh -L`. A pasted
        // redirect URL works too, for when the tunnel is not up.
        eprintln!(
            "Authorization URL (open on the machine where your SSH session originates):\n\n  {loopback_url}\n"
        );
        eprintln!("Waiting for callback on {loopback} ...");
        let redirects = Redirects {
            loopback: Some(&loopback),
            manual: None,
        };
        return race(
            listener.wait(state),
            || read_code(state, redirects),
            &loopback,
        )
        .await;
    }
    if let Err(e) = callback::open_browser(&loopback_url) {
        eprintln!("(couldn't launch browser automatically: {e})");
    }
    let Some(manual) = manual else {
        eprintln!(
            "Opening your browser to authenticate. If it doesn't open, visit:\n\n  {loopback_url}\n\n\
             Waiting for authentication..."
        );
        return Ok((listener.wait(state).await?, loopback));
    };
    eprint!(
        "Opening your browser to authenticate...\n\
         If your browser doesn't open or can't reach this machine, visit the URL below and paste the code here:\n\n  \
         {}\n\nWaiting for authentication...\nCode: ",
        plan.authorize_url(&manual)
    );
    let redirects = Redirects {
        loopback: Some(&loopback),
        manual: Some(&manual),
    };
    let (code, redirect) = race(
        listener.wait(state),
        || read_code(state, redirects),
        &loopback,
    )
    .await?;
    if redirect == loopback {
        // The callback won: wipe the dangling "Code: " prompt.
        eprint!("\r      \r");
    }
    Ok((code, redirect))
}

/// A code pasted on stdin. A stdin that cannot be read is an `Io` error
/// (the paste path is closed); a bad paste is an `Auth` error.
async fn read_code(state: &str, redirects: Redirects<'_>) -> Result<(String, String)> {
    let line = callback::read_line()
        .await
        .map_err(|e| Error::Io(format!("read code from stdin: {e}")))?;
    callback::parse_pasted(&line, state, &redirects)
}

/// The callback against a pasted value: the first result wins. A paste
/// that is wrong is reported and another one read; a stdin that cannot be
/// read (closed, not a terminal) leaves the callback alone.
async fn race<P, F>(
    callback: impl std::future::Future<Output = Result<String>>,
    mut paste: P,
    loopback: &str,
) -> Result<(String, String)>
where
    P: FnMut() -> F,
    F: std::future::Future<Output = Result<(String, String)>>,
{
    tokio::pin!(callback);
    let mut pasted = Box::pin(paste());
    let mut paste_open = true;
    loop {
        tokio::select! {
            r = &mut callback => return r.map(|code| (code, loopback.to_string())),
            r = &mut pasted, if paste_open => match r {
                Ok(found) => return Ok(found),
                Err(Error::Io(_)) => paste_open = false,
                Err(e) => {
                    eprint!("{e}; paste it again, or finish in the browser.\nCode: ");
                    pasted = Box::pin(paste());
                }
            },
        }
    }
}

/// The files a login writes, undone when a later one fails.
#[derive(Default)]
struct Writes {
    done: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Writes {
    fn run(&mut self, path: &Path, write: impl FnOnce() -> Result<()>) -> Result<()> {
        let before = std::fs::read(path).ok();
        write()?;
        self.done.push((path.to_path_buf(), before));
        Ok(())
    }

    fn undo(self) {
        for (path, before) in self.done.into_iter().rev() {
            match before {
                Some(bytes) => {
                    let _ = std::fs::write(&path, bytes);
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// After the exchange: checks, the profile's files, the summary.
fn finish(o: &Options, plan: &Plan, token: &Value) -> Result<()> {
    let p = &o.profile;
    let t = Some(token);
    let got_org = text(t, "/organization/uuid");
    let org_name = text(t, "/organization/name").unwrap_or_default();
    if let (Some(want), Some(got)) = (&plan.org_hint, &got_org)
        && want != got
    {
        eprintln!(
            "⚠  Authorized into organization {got} ({org_name}), but profile {p:?} has organization_id={want}.\n   \
             Console enforces the requested org, so this likely means the authorize URL was edited.\n   \
             Run `ant profile set organization_id {got} --profile {p}` to retarget the profile, or re-login."
        );
    }
    let workspace = text(t, "/workspace/id").or_else(|| plan.workspace.clone());
    let Some(workspace) = workspace else {
        return Err(Error::Auth(
            "no workspace bound to the issued token. Pass --workspace-id, set workspace_id on the \
             profile, or pick a workspace in the Console consent page."
                .into(),
        ));
    };
    let workspace_name = text(t, "/workspace/name").unwrap_or_default();

    let layout = &o.layout;
    let config_path = layout.config(p);
    let creds_path = layout.credentials_for(p, plan.prev.as_ref());
    let mut creds = oauth::credentials_from(token);
    if creds.get("workspace_id").is_none() {
        creds["workspace_id"] = json!(workspace);
    }
    let previous_active = layout.active_name();
    let activate = (o.profile_explicit || previous_active.is_none())
        && previous_active.as_deref() != Some(p.as_str());

    let mut writes = Writes::default();
    let result = (|| {
        writes.run(&creds_path, || {
            store::write_credentials(layout, &creds_path, &creds)
        })?;
        if plan.bootstrapping {
            let config = bootstrap_config(o, plan, token, &workspace);
            writes.run(&config_path, || store::write_config(layout, p, &config))?;
        }
        if activate {
            writes.run(&layout.active_config(), || store::write_active(layout, p))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        writes.undo();
        return Err(e);
    }

    if !plan.bootstrapping {
        match text(plan.prev.as_ref(), "/workspace_id") {
            Some(w) if w == workspace => {}
            None => eprintln!(
                "→ Token bound to workspace {workspace_name:?} ({workspace}).\n  \
                 To make this the default for profile {p:?}: ant profile set workspace_id {workspace} --profile {p}"
            ),
            Some(w) => eprintln!(
                "⚠ Token bound to workspace {workspace_name:?} ({workspace}), but profile {p:?} targets {w}.\n  \
                 To retarget this profile:      ant profile set workspace_id {workspace} --profile {p}\n  \
                 Or create a separate profile:  ant auth login --profile <new> --workspace-id {workspace}"
            ),
        }
    }
    let who = match (
        text(t, "/organization/name"),
        text(t, "/account/email_address"),
    ) {
        (Some(o), Some(e)) => format!(" to {o} as {e}"),
        (None, Some(e)) => format!(" as {e}"),
        (Some(o), None) => format!(" to {o}"),
        (None, None) => String::new(),
    };
    let mut summary = if who.is_empty() {
        format!("✓ Logged in as profile {p:?}.\n")
    } else {
        format!("✓ Logged in{who} (profile {p:?}).\n")
    };
    if let Some(org) = &got_org {
        summary.push_str(&format!("  organization: {org_name} ({org})\n"));
    }
    if activate {
        match &previous_active {
            None => summary.push_str("  → set as active profile\n"),
            Some(was) => summary.push_str(&format!("  → set as active profile (was {was:?})\n")),
        }
    }
    summary.push_str(&format!(
        "  config:       {}\n  credentials:  {}",
        config_path.display(),
        creds_path.display()
    ));
    eprintln!("{summary}");
    Ok(())
}

/// A new profile's config: the client, the token's organization and the
/// workspace; scope, base URL and console URL only when given explicitly.
fn bootstrap_config(o: &Options, plan: &Plan, token: &Value, workspace: &str) -> Value {
    let mut auth = json!({"type": "user_oauth", "client_id": plan.client_id});
    if o.scope.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        auth["scope"] = json!(text(Some(token), "/scope").unwrap_or_else(|| plan.scope.clone()));
    }
    if given(&o.console_url).is_some() {
        auth["console_url"] = json!(plan.console);
    }
    let mut c = json!({"version": "1.0", "authentication": auth});
    if given(&o.base_url).is_some() && plan.base != oauth::DEFAULT_BASE_URL {
        c["base_url"] = json!(plan.base);
    }
    if let Some(org) = text(Some(token), "/organization/uuid") {
        c["organization_id"] = json!(org);
    }
    c["workspace_id"] = json!(workspace);
    c
}
