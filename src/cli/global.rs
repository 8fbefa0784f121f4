//! Flags every command accepts (declared once with clap's derive API and
//! marked global), mirroring the official CLI's names and variables.

use clap::{Arg, ArgMatches, Args, Command};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Log every request and response to stderr (secrets redacted)
    #[arg(id = "debug", long = "debug", global = true)]
    pub debug: bool,

    /// API base URL, e.g. http://127.0.0.1:4010 [env: ANTHROPIC_BASE_URL]
    #[arg(id = "base-url", long = "base-url", global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// Output format: auto, json, jsonl, yaml, pretty, raw, explore (auto: the explorer for reads on a terminal, else json)
    #[arg(
        id = "format",
        long = "format",
        global = true,
        value_name = "FORMAT",
        default_value = "auto"
    )]
    pub format: String,

    /// Format of API errors on stderr (same values as --format)
    #[arg(
        id = "format-error",
        long = "format-error",
        global = true,
        value_name = "FORMAT",
        default_value = "auto"
    )]
    pub format_error: String,

    /// GJSON path applied to each printed value (each item of a list or stream), e.g. 'id' or '{id,name}'; exit 9 when it matches nothing
    #[arg(
        id = "transform",
        long = "transform",
        global = true,
        value_name = "GJSON"
    )]
    pub transform: Option<String>,

    /// jq program run on each printed value (each item of a list or stream, each page of 'ant api --paginate'); strings print bare, other values as JSON in the chosen format
    #[arg(id = "jq", long = "jq", global = true, value_name = "EXPR")]
    pub jq: Option<String>,

    /// GJSON path applied to API error bodies
    #[arg(
        id = "transform-error",
        long = "transform-error",
        global = true,
        value_name = "GJSON"
    )]
    pub transform_error: Option<String>,

    /// Print string results without JSON quotes
    #[arg(id = "raw-output", short = 'r', long = "raw-output", global = true)]
    pub raw_output: bool,

    /// API key, sent as x-api-key
    #[arg(
        id = "api-key",
        long = "api-key",
        global = true,
        env = "ANTHROPIC_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,

    /// Admin API key (sk-ant-admin...), sent as x-api-key by the Admin API commands (organization:*, beta:organization:*) in place of the other credentials; ignored by the rest
    #[arg(
        id = "admin-key",
        long = "admin-key",
        global = true,
        env = "ANTHROPIC_ADMIN_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub admin_key: Option<String>,

    /// OAuth or bearer token, sent as Authorization: Bearer
    #[arg(
        id = "auth-token",
        long = "auth-token",
        global = true,
        env = "ANTHROPIC_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub auth_token: Option<String>,

    /// Webhook signing key (accepted for compatibility; unused)
    #[arg(
        id = "webhook-key",
        long = "webhook-key",
        global = true,
        env = "ANTHROPIC_WEBHOOK_SIGNING_KEY",
        hide = true,
        hide_env_values = true
    )]
    pub webhook_key: Option<String>,

    /// Profile under the config directory to take credentials and settings from
    #[arg(
        id = "profile",
        long = "profile",
        global = true,
        hide_env_values = true,
        env = "ANTHROPIC_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// Workload identity token (an OIDC JWT) to exchange for an access token (federation)
    #[arg(
        id = "identity-token",
        long = "identity-token",
        global = true,
        env = "ANTHROPIC_IDENTITY_TOKEN",
        hide_env_values = true,
        value_name = "JWT"
    )]
    pub identity_token: Option<String>,

    /// File holding the workload identity token, re-read at every exchange (federation)
    #[arg(
        id = "identity-token-file",
        long = "identity-token-file",
        global = true,
        hide_env_values = true,
        env = "ANTHROPIC_IDENTITY_TOKEN_FILE",
        value_name = "PATH"
    )]
    pub identity_token_file: Option<String>,

    /// Federation rule that accepts the identity token, fdrl_... (federation)
    #[arg(
        id = "federation-rule",
        long = "federation-rule",
        global = true,
        hide_env_values = true,
        env = "ANTHROPIC_FEDERATION_RULE_ID",
        value_name = "ID"
    )]
    pub federation_rule: Option<String>,

    /// Organization ID, a UUID (federation; the org hint of auth login)
    #[arg(
        id = "organization-id",
        long = "organization-id",
        global = true,
        hide_env_values = true,
        env = "ANTHROPIC_ORGANIZATION_ID",
        value_name = "UUID"
    )]
    pub organization_id: Option<String>,

    /// Service account to act as, svac_... (federation, optional)
    #[arg(
        id = "service-account-id",
        long = "service-account-id",
        hide_env_values = true,
        env = "ANTHROPIC_SERVICE_ACCOUNT_ID",
        value_name = "ID"
    )]
    pub service_account_id: Option<String>,

    /// Workspace to act in, sent as anthropic-workspace-id [env: ANTHROPIC_WORKSPACE_ID]
    #[arg(
        id = "workspace-id",
        long = "workspace-id",
        global = true,
        value_name = "ID"
    )]
    pub workspace_id: Option<String>,

    /// Retries after connection errors, 408, 409, 429 and 5xx
    #[arg(
        id = "max-retries",
        long = "max-retries",
        global = true,
        value_name = "N",
        default_value_t = 2
    )]
    pub max_retries: u32,

    /// Give up on an attempt after this many seconds, or a duration like 90s, 5m (streams: until the response starts; auth login: the wait for authorization)
    #[arg(
        id = "timeout",
        long = "timeout",
        global = true,
        allow_negative_numbers = true,
        value_name = "SECONDS",
        value_parser = parse_timeout
    )]
    pub timeout: Option<f64>,

    /// Do not page long output on a terminal (also: ANT_PAGER= or PAGER=)
    #[arg(id = "no-pager", long = "no-pager", global = true)]
    pub no_pager: bool,

    /// Show more detail (stream spans and token usage)
    #[arg(id = "verbose", long = "verbose", global = true)]
    pub verbose: bool,
}

/// The id of `--service-account-id` given after the command. The official
/// CLI takes its global flags anywhere; this one cannot be a clap global,
/// because `beta:memory-stores:memory-versions list` has a filter flag of
/// the same name. So every other command gets a hidden copy of it.
const LATE_SERVICE_ACCOUNT: &str = "service-account-id (after the command)";

/// Adds the hidden copy of `--service-account-id` to a command that has no
/// flag of that name.
pub fn with_late_globals(cmd: Command) -> Command {
    if cmd
        .get_arguments()
        .any(|a| a.get_long() == Some("service-account-id"))
    {
        return cmd;
    }
    cmd.arg(
        Arg::new(LATE_SERVICE_ACCOUNT)
            .long("service-account-id")
            .value_name("ID")
            .hide(true),
    )
}

impl GlobalArgs {
    /// Takes the value of the copy of `--service-account-id` (see
    /// [`with_late_globals`]): after the command it wins over the flag
    /// before the group and over `ANTHROPIC_SERVICE_ACCOUNT_ID`.
    pub fn take_late(&mut self, matches: &ArgMatches) {
        let mut m = matches;
        while let Some((_, sub)) = m.subcommand() {
            m = sub;
        }
        if let Ok(Some(v)) = m.try_get_one::<String>(LATE_SERVICE_ACCOUNT) {
            self.service_account_id = Some(v.clone());
        }
    }
}

/// `--timeout`: seconds (`30`, `1.5`) or a duration as the official CLI
/// writes them (`90s`, `5m`), from 1 ms to
/// [`MAX_TIMEOUT`](crate::http::MAX_TIMEOUT), so it always fits a `Duration`
/// and never rounds to no time at all.
fn parse_timeout(text: &str) -> Result<f64, String> {
    let max = crate::http::MAX_TIMEOUT.as_secs_f64();
    match parse_seconds(text)? {
        t if (0.001..=max).contains(&t) => Ok(t),
        t if t > max => Err(format!("at most {max} seconds (one year) is allowed")),
        t if t > 0.0 => Err("at least 0.001 seconds (1 ms) is needed".into()),
        _ => Err("expected a positive number of seconds".into()),
    }
}

/// Seconds as a number (`30`, `1.5`) or a duration with units, as the
/// official CLI writes them (`90s`, `5m`, `1h30m`, `250ms`).
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    if let Ok(n) = s.trim().parse::<f64>() {
        return Ok(n);
    }
    let bad = || format!("expected seconds or a duration like 90s, 5m or 1h30m, got {s:?}");
    let mut rest = s.trim();
    let mut total = 0.0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::{parse_seconds, parse_timeout};

    #[test]
    fn timeouts_are_positive_finite_and_at_most_a_year() {
        assert_eq!(parse_timeout("2.5"), Ok(2.5));
        assert_eq!(parse_timeout("5m"), Ok(300.0));
        assert_eq!(parse_timeout("31536000"), Ok(31536000.0));
        assert_eq!(parse_timeout("1ms"), Ok(0.001));
        for bad in [
            "0", "-1", "inf", "NaN", "2e19", "1e300", "x", "", "0s", "1e-300",
        ] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
        // Each says what is wrong.
        let too_long = "at most 31536000 seconds (one year) is allowed";
        assert_eq!(parse_timeout("inf").unwrap_err(), too_long);
        assert_eq!(parse_timeout("1e400").unwrap_err(), too_long);
        assert_eq!(
            parse_timeout("1e-300").unwrap_err(),
            "at least 0.001 seconds (1 ms) is needed"
        );
        assert_eq!(
            parse_timeout("NaN").unwrap_err(),
            "expected a positive number of seconds"
        );
    }

    #[test]
    fn timeouts_take_seconds_or_go_style_durations() {
        assert_eq!(parse_seconds("30"), Ok(30.0));
        assert_eq!(parse_seconds("1.5"), Ok(1.5));
        assert_eq!(parse_seconds("-2"), Ok(-2.0));
        assert_eq!(parse_seconds("5m"), Ok(300.0));
        assert_eq!(parse_seconds("1h30m"), Ok(5400.0));
        assert_eq!(parse_seconds("250ms"), Ok(0.25));
        for bad in ["", "m", "5x", "5m3", "abc"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
