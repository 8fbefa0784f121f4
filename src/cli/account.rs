//! `ant auth` and `ant profile`: the official CLI's commands for signing
//! in and for stored credentials and profiles, on its config directory
//! layout (`configs/<profile>.json`, `credentials/<profile>.json`,
//! `active_config`). The work is `crate::auth`'s; this is the command layer.

mod creds;
mod files;
mod login;
mod profile;
mod status;

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::global::GlobalArgs;
use crate::error::{Error, Result};

const PROFILE_NOTE: &str = "Acts on the profile named by --profile or ANTHROPIC_PROFILE, \
     else the one in active_config, else 'default'.";

fn verb(name: &'static str, about: &'static str) -> Command {
    super::global::with_late_globals(Command::new(name).about(about).after_help(PROFILE_NOTE))
}

pub fn auth_command() -> Command {
    Command::new("auth")
        .about("Sign in, and see which credentials, base URL and workspace commands use")
        .disable_help_subcommand(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .defer(auth_verbs)
}

fn auth_verbs(cmd: Command) -> Command {
    cmd.subcommand(login::command(verb(
            "login",
            "Sign in with your browser (OAuth with PKCE) and store the profile's credentials",
        )))
        .subcommand(verb(
            "status",
            "Show which profile, credential, base URL, organization and workspace commands use, and where each comes from",
        ))
        .subcommand(
            verb(
                "logout",
                "Remove the profile's stored credentials (its config stays); --all removes every profile",
            )
            .arg(
                Arg::new("all")
                    .long("all")
                    .action(ArgAction::SetTrue)
                    .help("Remove configs/, credentials/ and active_config (never the config directory itself)"),
            ),
        )
        .subcommand(
            verb(
                "print-credentials",
                "Print the profile's credentials, refreshing the access token first when it expires within 120 s",
            )
            .long_about(
                "Print the profile's stored credentials as JSON (the shape of credentials/<profile>.json), \
                 refreshing the access token first when 120 seconds or less remain and a refresh_token \
                 is stored. If the refresh fails, a warning goes to stderr and the stored token is printed.\n\n\
                 Use in a header: curl -H \"Authorization: Bearer $(ant auth print-credentials --access-token)\" ...",
            )
            .arg(
                Arg::new("access-token")
                    .long("access-token")
                    .action(ArgAction::SetTrue)
                    .conflicts_with("env")
                    .help("Print only the bare access token"),
            )
            .arg(
                Arg::new("env")
                    .long("env")
                    .action(ArgAction::SetTrue)
                    .help("Print .env lines: ANTHROPIC_AUTH_TOKEN=..., plus ANTHROPIC_BASE_URL=... when the profile sets one"),
            ),
        )
}

pub fn profile_command() -> Command {
    Command::new("profile")
        .about("Profiles: named sets of credentials and settings (base_url, workspace_id) in the config directory")
        .disable_help_subcommand(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .defer(profile_verbs)
}

fn profile_verbs(cmd: Command) -> Command {
    let keys = profile::SETTABLE
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ");
    cmd.subcommand(verb(
            "list",
            "List the profiles in configs/, with '*' before the one in effect",
        ))
        .subcommand(
            Command::new("activate")
                .about("Make an existing profile the active one (writes active_config)")
                .override_usage("ant profile activate <NAME>")
                .arg(
                    Arg::new("name")
                        .value_name("NAME")
                        .help("Profile to activate, required (letters, digits, '_', '.', '-'); it must exist"),
                ),
        )
        .subcommand(
            verb("get", "Print the profile's config as JSON, or the value of one key").arg(
                Arg::new("key")
                    .value_name("KEY")
                    .help("Key to print: top-level (workspace_id, base_url, ...) or under authentication (type, client_id, scope, ...)"),
            ),
        )
        .subcommand(
            verb(
                "set",
                "Set one key of the profile's config, creating the config when it does not exist",
            )
            .override_usage("ant profile set <KEY> <VALUE>")
            .long_about(format!(
                "Set one key of the profile's config, creating configs/<profile>.json when it does not \
                 exist. Keys: {keys}. scope, client_id and console_url only apply to user_oauth \
                 profiles. Changing organization_id clears workspace_id. A value of null (or empty) removes \
                 the key, as 'ant profile unset KEY' does."
            ))
            .arg(
                Arg::new("key")
                    .value_name("KEY")
                    .help(format!("Key to set, required: {keys}")),
            )
            .arg(
                Arg::new("value")
                    .value_name("VALUE")
                    .allow_hyphen_values(true)
                    .help("New value, required (base_url and console_url must be http(s) URLs; null or empty removes the key)"),
            ),
        )
        .subcommand(
            verb("unset", "Remove one key from the profile's config")
                .override_usage("ant profile unset <KEY>")
                .arg(
                    Arg::new("key")
                        .value_name("KEY")
                        .help(format!("Key to remove, required: {keys}")),
                ),
        )
}

pub fn run(group: &str, verb: &str, m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    match (group, verb) {
        ("auth", "login") => login::run(m, g),
        ("auth", "status") => status::status(m, g),
        ("auth", "logout") => creds::logout(m, g),
        ("auth", "print-credentials") => creds::print_credentials(m, g),
        ("profile", "list") => profile::list(m, g),
        ("profile", "activate") => profile::activate(m),
        ("profile", "get") => profile::get(m, g),
        ("profile", "set") => profile::set(m, g),
        ("profile", "unset") => profile::unset(m, g),
        _ => Err(Error::usage(format!("unknown command {group} {verb}"))),
    }
}
