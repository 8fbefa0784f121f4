//! `ant api PATH`: the command's flags, gathered into
//! [`crate::api_cmd::Args`] and handed to the request builder and sender
//! there.

use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint};

use super::Failure;
use super::global::GlobalArgs;
use super::run::Context;
use crate::api_cmd::{self, Args, Field, METHODS, send::Show};
use crate::error::EXIT_CODES_HELP;
use crate::request::files::DiskFiles;

pub const NAME: &str = "api";

pub fn command() -> Command {
    Command::new(NAME)
        .about("Send any request to the API (auth, base URL, version, betas and retries handled)")
        .long_about(
            "Send any request to the API, with authentication, base URL, anthropic-version, \
             betas, retries, --timeout, --debug and the output flags handled as for every \
             command: for an endpoint newer than this ant, a header to try, or a body to replay. \
             The answer prints through --format, --transform and --jq; an event stream prints \
             event by event; other bodies print as they are.",
        )
        .after_help(format!(
            "Examples:\n  ant api /v1/models --jq '.data[].id'\n  ant api /v1/agents -f name=Helper -F model.id=claude-opus-4-7\n  ant api /v1/sessions --paginate --jq '.data[].id'\n  ant api -X DELETE /v1/agents/agent_123 -i\n  ant api /v1/messages --input request.json\n\n{EXIT_CODES_HELP}"
        ))
        .arg(
            Arg::new("path")
                .value_name("PATH")
                .required(true)
                .help("Endpoint path with its query, e.g. /v1/agents?limit=5 (or a URL under the base URL)"),
        )
        .arg(
            Arg::new("method")
                .short('X')
                .long("method")
                .value_name("METHOD")
                .value_parser(METHODS)
                .ignore_case(true)
                .help("HTTP method (default: GET, or POST when fields or --input are given)"),
        )
        .arg(
            Arg::new("raw-field")
                .short('f')
                .long("raw-field")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .allow_hyphen_values(true)
                .help("A string field; nested keys: a.b=x, a[b]=x, a[]=x (JSON body, or the query for GET)"),
        )
        .arg(
            Arg::new("field")
                .short('F')
                .long("field")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .allow_hyphen_values(true)
                .help("A typed field: numbers, true/false, null, relaxed YAML/JSON, @file; keys as for -f"),
        )
        .arg(
            Arg::new("header")
                .short('H')
                .long("header")
                .value_name("'NAME: VALUE'")
                .action(ArgAction::Append)
                .help("A request header; replaces a default of the same name (repeatable)"),
        )
        .arg(
            Arg::new("input")
                .long("input")
                .value_name("FILE")
                .value_hint(ValueHint::FilePath)
                .help("The request body as it is, from FILE ('-' for stdin); fields then go in the query"),
        )
        .arg(
            Arg::new("include")
                .short('i')
                .long("include")
                .action(ArgAction::SetTrue)
                .help("Print each response's status line and headers on stderr"),
        )
        .arg(
            Arg::new("paginate")
                .long("paginate")
                .action(ArgAction::SetTrue)
                .help("Fetch every page (following next_page, or has_more and last_id) and print each; --jq and --transform apply per page"),
        )
        .arg(
            Arg::new("beta")
                .long("beta")
                .value_name("BETA")
                .action(ArgAction::Append)
                .help("Extra anthropic-beta value, appended to the endpoint's default (repeatable)"),
        )
}

/// Fields in command-line order, `-f` and `-F` interleaved as typed.
fn fields(m: &ArgMatches) -> Vec<Field> {
    let mut out: Vec<(usize, Field)> = Vec::new();
    for (id, make) in [
        ("raw-field", Field::Raw as fn(String) -> Field),
        ("field", Field::Typed),
    ] {
        if let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) {
            out.extend(idx.zip(vals.map(|v| make(v.clone()))));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, f)| f).collect()
}

pub fn run(g: &GlobalArgs, m: &ArgMatches) -> std::result::Result<(), Failure> {
    let strings = |id: &str| -> Vec<String> {
        m.get_many::<String>(id)
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    };
    let args = Args {
        method: m.get_one::<String>("method").cloned(),
        path: m.get_one::<String>("path").cloned().unwrap_or_default(),
        fields: fields(m),
        headers: strings("header"),
        input: m.get_one::<String>("input").cloned(),
        betas: strings("beta"),
        paginate: m.get_flag("paginate"),
    };
    let admin = api_cmd::admin_path(&args.path);
    let ctx = Context::with_admin(g, NAME.to_string(), Some(admin))?;
    let call = api_cmd::build(&args, &ctx.client.cfg.base_url, &mut DiskFiles::default())
        .map_err(|e| ctx.failure(e))?;
    let show = Show {
        paginate: args.paginate,
        include: m.get_flag("include"),
        verbose: g.verbose,
    };
    ctx.block_on(api_cmd::send::run(&ctx.client, &ctx.opts, call, show))
}
