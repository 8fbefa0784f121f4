//! The `ant-mock` binary: parses flags, starts the emulator, prints its base
//! URL as the first stdout line, and stops cleanly on Ctrl-C or SIGTERM.

use std::io::Write;

const HELP: &str = "\
ant-mock: a local emulator of the Claude Platform API

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
  --max-body SIZE          Largest request body, in bytes or with a k/m/g suffix
                           (default 32m, like the real API); larger: 413
  --max-connections N      Connections served at once (default 1024, fewer when
                           the open-file limit is lower); more: 503
  --read-timeout SECS      Time a client has to send a request's headers, and
                           then its body (default 30)
  --check-responses        Check every response against its schema; a mismatch
                           becomes a 500 naming it (for developing ant-mock)
  --work-ttl SECONDS       Lease of a self-hosted work item after each heartbeat
                           (default 30, at most 3600)
  --batch-delay SECONDS    How long a message batch stays in_progress, and a dream
                           pending then running, before it ends (default 1;
                           fractions allowed; at most 86400)
  --fail-acks N            Answer 500 to the first N work acknowledgements
  --quiet                  Do not log requests to stderr
  --oauth-deny             Answer every OAuth authorization with error=access_denied
  --federation-rule ID     The only federation rule id the jwt-bearer grant accepts
                           (default: any fdrl_...)
  --token-ttl SECONDS      Lifetime of issued OAuth access tokens (default 3600,
                           at most a year)
  -h, --help               Show this help

The first line on stdout is the base URL, e.g. http://127.0.0.1:4010.
See docs/mock.md for the endpoints and the scripted agent's directives.
";

/// Longest `--token-ttl`: a year.
const MAX_TOKEN_TTL: u64 = 365 * 24 * 3600;

fn parse(args: Vec<String>) -> Result<ant_mock::Config, String> {
    let mut c = ant_mock::Config {
        port: 4010,
        quiet: false,
        check_responses: false,
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
            "--max-body" => c.max_body = size(&flag, value(&flag)?)?,
            "--max-connections" => {
                c.max_connections = Some(num(&flag, value(&flag)?)?);
                if c.max_connections == Some(0) {
                    return Err("--max-connections must be at least 1".into());
                }
            }
            "--read-timeout" => {
                let secs: f64 = num(&flag, value(&flag)?)?;
                c.read_timeout = std::time::Duration::try_from_secs_f64(secs)
                    .ok()
                    .filter(|d| !d.is_zero() && secs <= 86_400.0)
                    .ok_or("--read-timeout must be more than 0 and at most 86400 seconds")?;
            }
            "--check-responses" => c.check_responses = true,
            "--work-ttl" => {
                c.work_ttl_secs = num(&flag, value(&flag)?)?;
                let max = ant_mock::store::work::MAX_TTL_SECONDS;
                if !(1..=max).contains(&c.work_ttl_secs) {
                    return Err(format!("--work-ttl must be 1 to {max} seconds"));
                }
            }
            "--batch-delay" => {
                let secs: f64 = num(&flag, value(&flag)?)?;
                c.batch_delay = std::time::Duration::try_from_secs_f64(secs)
                    .ok()
                    .filter(|_| secs <= 86_400.0)
                    .ok_or("--batch-delay must be 0 to 86400 seconds")?;
            }
            "--fail-acks" => c.fail_acks = num(&flag, value(&flag)?)?,
            "--quiet" | "-q" => c.quiet = true,
            "--oauth-deny" => c.oauth_deny = true,
            "--federation-rule" => c.federation_rule = Some(value(&flag)?),
            "--token-ttl" => {
                c.token_ttl = num(&flag, value(&flag)?)?;
                if c.token_ttl > MAX_TOKEN_TTL {
                    return Err(format!(
                        "--token-ttl must be at most {MAX_TOKEN_TTL} seconds (a year)"
                    ));
                }
            }
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

/// A byte count: digits, optionally followed by `k`, `m` or `g` (binary).
fn size(flag: &str, v: String) -> Result<u64, String> {
    let bad = || format!("{flag}: invalid size {v:?} (e.g. 1048576, 512k, 32m, 1g)");
    let t = v.trim().to_ascii_lowercase();
    let (digits, unit) = match t.strip_suffix(['k', 'm', 'g']) {
        Some(d) => (d, t.as_bytes()[t.len() - 1]),
        None => (t.as_str(), b' '),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let shift = match unit {
        b'k' => 10,
        b'm' => 20,
        b'g' => 30,
        _ => 0,
    };
    n.checked_mul(1 << shift).filter(|n| *n > 0).ok_or_else(bad)
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

#[cfg(test)]
mod tests {
    use super::{parse, size};

    #[test]
    fn sizes_take_binary_suffixes() {
        let f = |v: &str| size("--max-body", v.to_string());
        assert_eq!(f("1048576"), Ok(1 << 20));
        assert_eq!(f("512k"), Ok(512 << 10));
        assert_eq!(f("32M"), Ok(32 << 20));
        assert_eq!(f("1g"), Ok(1 << 30));
        for bad in ["", "0", "-1", "1.5m", "m", "12x", "99999999999999g"] {
            let e = f(bad).unwrap_err();
            assert!(e.starts_with("--max-body: invalid size"), "{bad}: {e}");
        }
    }

    #[test]
    fn limits_and_timeouts_parse_and_check_their_values() {
        let args = |a: &[&str]| parse(a.iter().map(|s| s.to_string()).collect());
        let c = args(&[
            "--max-body=2k",
            "--max-connections",
            "3",
            "--read-timeout",
            "0.5",
        ])
        .unwrap();
        assert_eq!(c.max_body, 2048);
        assert_eq!(c.max_connections, Some(3));
        assert_eq!(c.read_timeout, std::time::Duration::from_millis(500));
        assert!(!c.check_responses);
        assert!(args(&["--check-responses"]).unwrap().check_responses);
        let d = args(&[]).unwrap();
        assert_eq!(d.max_body, ant_mock::DEFAULT_MAX_BODY);
        assert_eq!(d.max_connections, None);
        for bad in [
            &["--max-connections", "0"][..],
            &["--read-timeout", "0"],
            &["--read-timeout", "inf"],
            &["--read-timeout", "-1"],
            &["--read-timeout", "1e9"],
            &["--max-body", "lots"],
            // Past these, lease and token expiry times overflowed.
            &["--work-ttl", "18446744073709551615"],
            &["--work-ttl", "3601"],
            &["--work-ttl", "0"],
            &["--token-ttl", "18446744073709551615"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
        assert_eq!(args(&["--work-ttl", "3600"]).unwrap().work_ttl_secs, 3600);
        let delay = args(&["--batch-delay", "0.25"]).unwrap().batch_delay;
        assert_eq!(delay, std::time::Duration::from_millis(250));
        assert!(args(&["--batch-delay", "-1"]).is_err());
        assert!(args(&["--batch-delay", "nan"]).is_err());
        assert_eq!(args(&["--fail-acks", "3"]).unwrap().fail_acks, 3);
        assert!(args(&["--fail-acks", "-1"]).is_err());
        assert_eq!(args(&["--token-ttl", "0"]).unwrap().token_ttl, 0);
    }
}
