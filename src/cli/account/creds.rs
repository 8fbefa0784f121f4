//! `ant auth logout` and `ant auth print-credentials`.

use std::io::Write;

use clap::ArgMatches;

use super::files;
use crate::auth::store::{self, Layout};
use crate::auth::{DEFAULT_BASE_URL, Profile};
use crate::cli::global::GlobalArgs;
use crate::error::{Error, Result};
use crate::http;

/// `print-credentials` refreshes when this many seconds or fewer remain.
const REFRESH_WITHIN: i64 = 120;

/// `ant auth logout [--all]`.
pub fn logout(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    if m.get_flag("all") {
        // Only what ant owns; never the directory itself.
        let mut removed = Vec::new();
        for p in [
            layout.configs(),
            layout.credentials_dir(),
            layout.active_config(),
        ] {
            let result = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            match result {
                Ok(()) => removed.push(p.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::Io(format!("cannot remove {}: {e}", p.display())));
                }
            }
        }
        if removed.is_empty() {
            eprintln!(
                "Nothing to remove: no profiles or credentials in {}.",
                layout.dir.display()
            );
        } else {
            eprintln!(
                "✓ Removed all profiles and credentials: {}.",
                removed.join(", ")
            );
        }
        return Ok(());
    }
    let (profile, _) = files::target(&layout, m, g)?;
    let config = store::read_json(&layout.config(&profile))?;
    let path = layout.credentials_for(&profile, config.as_ref());
    match std::fs::remove_file(&path) {
        Ok(()) => {
            eprintln!(
                "✓ Logged out of profile {profile:?}: removed {} (the profile config stays).",
                path.display()
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "Not logged in (profile {profile:?}): no {}.",
                path.display()
            );
            Ok(())
        }
        Err(e) => Err(Error::Io(format!("cannot remove {}: {e}", path.display()))),
    }
}

/// `ant auth print-credentials [--access-token | --env]`.
pub fn print_credentials(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (name, _) = files::target(&layout, m, g)?;
    let profile = Profile::find(layout, Some(&name))?;
    if let Some(e) = &profile.config_error {
        return Err(Error::Other(format!(
            "not logged in (profile {name:?}): {e}"
        )));
    }
    // The refresh goes where the profile's commands go.
    let base = g
        .base_url
        .clone()
        .or_else(|| std::env::var("ANTHROPIC_BASE_URL").ok())
        .filter(|b| !b.is_empty())
        .or_else(|| profile.setting("base_url"))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let base = http::validate_base_url(&base)?;
    let creds = profile.fresh_credentials(REFRESH_WITHIN, &base, g.debug)?;
    let access = crate::auth::text(Some(&creds), "/access_token").unwrap_or_default();
    let text = if m.get_flag("access-token") {
        format!("{access}\n")
    } else if m.get_flag("env") {
        let mut s = format!("ANTHROPIC_AUTH_TOKEN={access}\n");
        if let Some(b) = profile.setting("base_url") {
            s.push_str(&format!("ANTHROPIC_BASE_URL={b}\n"));
        }
        s
    } else {
        String::from_utf8(store::json_bytes(&creds)).expect("utf-8")
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(Error::from_write)
}
