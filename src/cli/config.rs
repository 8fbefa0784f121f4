//! The bridge from the global flags to [`crate::auth`], which decides where
//! credentials, base URL and workspace come from.

use super::global::GlobalArgs;
use crate::auth;
use crate::error::{Error, Result};

pub use crate::auth::Resolved;

/// The credential inputs of the command line (flags merged with their
/// environment variables by clap).
pub fn inputs(g: &GlobalArgs) -> auth::Inputs {
    auth::Inputs {
        api_key: g.api_key.clone(),
        auth_token: g.auth_token.clone(),
        profile: g.profile.clone(),
        base_url: g.base_url.clone(),
        workspace_id: g.workspace_id.clone(),
        federation: auth::federation::Inputs {
            identity_token: g.identity_token.clone(),
            identity_token_file: g.identity_token_file.clone(),
            federation_rule: g.federation_rule.clone(),
            organization_id: g.organization_id.clone(),
            service_account_id: g.service_account_id.clone(),
        },
        debug: g.debug,
        no_refresh: false,
    }
}

/// How to give an admin key: said when an Admin API command has no
/// credential, or is refused without an admin key.
pub const ADMIN_KEY_HINT: &str = "Admin API commands take an admin API key (sk-ant-admin...): \
pass --admin-key or set ANTHROPIC_ADMIN_KEY";

/// Resolves the settings of an API command: prints the precedence notices
/// on stderr, and fails when there is no credential at all.
pub fn resolve(g: &GlobalArgs) -> Result<Resolved> {
    resolve_for(g, false)
}

/// Like [`resolve`], for an Admin API command when `admin` (see [`admin`]).
pub fn resolve_for(g: &GlobalArgs, admin: bool) -> Result<Resolved> {
    let inputs = inputs(g);
    let mut resolved = auth::resolve(&inputs)?;
    if admin && self::admin(&mut resolved, g)? {
        return Ok(resolved);
    }
    for n in &resolved.notices {
        eprintln!("{n}");
    }
    if matches!(resolved.auth, crate::http::Auth::None) {
        if admin {
            return Err(Error::Auth(format!("no credentials: {ADMIN_KEY_HINT}")));
        }
        return Err(auth::no_credentials(&inputs));
    }
    Ok(resolved)
}

/// The settings of an Admin API command: an admin key (`--admin-key`,
/// `ANTHROPIC_ADMIN_KEY`) wins over every other credential and goes in
/// `x-api-key`; and no workspace header is sent (admin keys and tokens act
/// for the whole organization; a `--workspace-id` given to such a command is
/// its own parameter). Returns whether an admin key was used; a key that
/// cannot be sent in a header is bad input naming its flag.
pub fn admin(resolved: &mut Resolved, g: &GlobalArgs) -> Result<bool> {
    resolved.workspace_id = None;
    match g.admin_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => {
            crate::http::check_header_value("--admin-key (or ANTHROPIC_ADMIN_KEY)", key)?;
            resolved.auth = crate::http::Auth::ApiKey(key.to_string());
            Ok(true)
        }
        None => Ok(false),
    }
}
