//! Which profile an `auth` or `profile` command acts on, and where that
//! choice came from (the files themselves are `crate::auth::store`'s).

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::auth::store::{self, Layout};
use crate::cli::global::GlobalArgs;
use crate::error::Result;

/// Where the profile a command acts on came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    ActiveConfig,
    Default,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::Flag => "from the --profile flag",
            Source::Env => "from ANTHROPIC_PROFILE",
            Source::ActiveConfig => "from active_config",
            Source::Default => "default: no active_config",
        }
    }
}

/// True when a global flag's value came from its environment variable.
pub fn from_env(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.try_contains_id(id)
            .ok()
            .filter(|set| *set)
            .and_then(|_| m.value_source(id)),
        Some(ValueSource::EnvVariable)
    )
}

/// The profile a command acts on: `--profile`/`ANTHROPIC_PROFILE`, else
/// `active_config`, else `default`.
pub fn target(layout: &Layout, m: &ArgMatches, g: &GlobalArgs) -> Result<(String, Source)> {
    let (name, source) = if let Some(p) = g.profile.clone().filter(|p| !p.is_empty()) {
        let source = if from_env(m, "profile") {
            Source::Env
        } else {
            Source::Flag
        };
        (p, source)
    } else if let Some(p) = layout.active_name() {
        (p, Source::ActiveConfig)
    } else {
        ("default".to_string(), Source::Default)
    };
    store::check_name(&name)?;
    Ok((name, source))
}
