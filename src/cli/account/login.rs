//! `ant auth login`: its flags, and the hand-off to `crate::auth::login`.

use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::files::{self, Source};
use crate::auth::login::{self, DEFAULT_TIMEOUT, Options};
use crate::auth::store::Layout;
use crate::cli::global::GlobalArgs;
use crate::error::{Error, Result};

pub fn command(verb: Command) -> Command {
    verb.long_about(
        "Sign in with your browser (OAuth 2.0 with PKCE) and store the profile's credentials \
         (credentials/<profile>.json, 0600). A new profile gets a config \
         (configs/<profile>.json); an existing one keeps its config untouched. The profile \
         becomes the active one when named with --profile or when none is active.\n\n\
         Three ways to finish:\n  \
         ant auth login\n      \
         opens a browser, which comes back to a local port; or paste the code the page shows\n  \
         ant auth login --no-browser\n      \
         prints the URL to open anywhere; paste the code#state the page shows (works over SSH)\n  \
         ant auth login --no-browser --callback-port 8765\n      \
         for ssh -L 8765:localhost:8765: the browser's callback comes back through the tunnel\n\n\
         The browser is $BROWSER when set, else xdg-open (open on macOS). --timeout (default 5m) \
         bounds the wait. Nothing is written unless the login succeeds.",
    )
    .arg(
        Arg::new("console-url")
            .long("console-url")
            .env("ANTHROPIC_CONSOLE_URL")
            .value_name("URL")
            .help("Where to sign in (default https://platform.claude.com, or the profile's console_url)"),
    )
    .arg(
        Arg::new("no-browser")
            .long("no-browser")
            .action(ArgAction::SetTrue)
            .help("Print the URL instead of opening a browser, and read the code from stdin"),
    )
    .arg(
        Arg::new("callback-port")
            .long("callback-port")
            .value_name("PORT")
            .value_parser(clap::value_parser!(u16))
            .help("Local port of the callback (0 = any free one); with --no-browser, for an SSH port forward"),
    )
    .arg(
        Arg::new("client-id")
            .long("client-id")
            .env("ANTHROPIC_OAUTH_CLIENT_ID")
            .value_name("ID")
            .help("OAuth client (default: the profile's client_id, else the official CLI's)"),
    )
    .arg(
        Arg::new("scope")
            .long("scope")
            .value_name("SCOPES")
            .help("Scopes to request, space-separated (default: the profile's, else user:profile user:inference user:developer)"),
    )
}

pub fn run(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (profile, source) = files::target(&layout, m, g)?;
    let timeout = match g.timeout {
        None => DEFAULT_TIMEOUT,
        Some(t) if t.is_finite() && t > 0.0 && t < 1e9 => Duration::from_secs_f64(t),
        Some(t) => {
            return Err(Error::usage(format!(
                "invalid value for --timeout: expected a positive duration, got {t}"
            )));
        }
    };
    let string = |id: &str| m.get_one::<String>(id).cloned();
    let base_url = g
        .base_url
        .clone()
        .or_else(|| std::env::var("ANTHROPIC_BASE_URL").ok());
    if let Some(b) = base_url.as_deref().filter(|b| !b.is_empty()) {
        crate::http::validate_base_url(b)?;
    }
    if let Some(c) = string("console-url").filter(|c| !c.is_empty()) {
        crate::http::validate_base_url(&c).map_err(|_| {
            Error::usage(format!(
                "invalid --console-url {c:?}: must be an http(s) URL"
            ))
        })?;
    }
    login::login(Options {
        layout,
        profile,
        profile_explicit: matches!(source, Source::Flag | Source::Env),
        console_url: string("console-url"),
        base_url,
        no_browser: m.get_flag("no-browser"),
        callback_port: m.get_one::<u16>("callback-port").copied(),
        timeout,
        client_id: string("client-id"),
        scope: string("scope"),
        workspace_id: g.workspace_id.clone(),
        organization_id: g.organization_id.clone(),
        debug: g.debug,
    })
}
