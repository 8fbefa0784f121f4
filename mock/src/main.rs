//! The `ant-mock` binary: parses flags, starts the emulator, prints its base
//! URL as the first stdout line, and stops cleanly on Ctrl-C or SIGTERM.

use std::io::Write;

const HELP: &str = "\
ant-mock: a local emulator of the Claude Managed Agents API

Usage: ant-mock [OPTIONS]

Options:
  --port N                 Port to listen on (default 4010; 0 picks a free port)
  --host H                 Address to bind (default 127.0.0.1); a non-loopback
                           address exposes the emulator to the network
  --allow-bash             Let the scripted agent's /bash directive run shell commands
  --allow-remote-bash      Allow --allow-bash together with a non-loopback --host
                           (anyone who can reach the port can then run commands)
  --latency MS             Sleep MS milliseconds before answering each request
  --fail-rate P            Answer a random 500/529/429 with probability P (0..1)
  --drop-streams-after N   Close every event stream after N events
  --seed N                 Seed for --fail-rate (deterministic failures)
  --work-ttl SECONDS       Lease of a self-hosted work item after each heartbeat
                           (default 30)
  --quiet                  Do not log requests to stderr
  -h, --help               Show this help

The first line on stdout is the base URL, e.g. http://127.0.0.1:4010.
See docs/mock.md for the endpoints and the scripted agent's directives.
";

fn parse(args: Vec<String>) -> Result<ant_mock::Config, String> {
    let mut c = ant_mock::Config {
        port: 4010,
        quiet: false,
        ..Default::default()
    };
    let mut allow_remote_bash = false;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{flag}: invalid value {v:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--port" => c.port = num(&flag, value(&flag)?)?,
            "--host" => c.host = value(&flag)?,
            "--allow-bash" => c.allow_bash = true,
            "--allow-remote-bash" => allow_remote_bash = true,
            "--latency" => c.latency_ms = num(&flag, value(&flag)?)?,
            "--fail-rate" => {
                c.fail_rate = num(&flag, value(&flag)?)?;
                if !(0.0..=1.0).contains(&c.fail_rate) {
                    return Err("--fail-rate must be between 0 and 1".into());
                }
            }
            "--drop-streams-after" => c.drop_streams_after = Some(num(&flag, value(&flag)?)?),
            "--seed" => c.seed = Some(num(&flag, value(&flag)?)?),
            "--work-ttl" => {
                c.work_ttl_secs = num(&flag, value(&flag)?)?;
                if c.work_ttl_secs == 0 {
                    return Err("--work-ttl must be at least 1 second".into());
                }
            }
            "--quiet" | "-q" => c.quiet = true,
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if !ant_mock::is_loopback_host(&c.host) {
        if c.allow_bash && !allow_remote_bash {
            return Err(format!(
                "refusing --allow-bash with the non-loopback --host {}: anyone who can reach \
                 the port could run shell commands; bind 127.0.0.1, or add --allow-remote-bash \
                 if that is really intended",
                c.host
            ));
        }
        eprintln!(
            "ant-mock: warning: --host {} is not a loopback address; the emulator{} is \
             reachable from the network",
            c.host,
            if c.allow_bash {
                " and its /bash directive"
            } else {
                ""
            }
        );
    }
    Ok(c)
}

fn main() {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ant-mock: {e}");
            std::process::exit(2);
        }
    };
    let handle = match ant_mock::start(config) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("ant-mock: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", handle.base_url);
    let _ = out.flush();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    });
    handle.shutdown();
}
