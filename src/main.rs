//! `ant`: parse, run, and print the error (if any) with its exit code. This
//! is the only place that prints errors.

use std::io::Write;

fn main() {
    std::panic::set_hook(Box::new(report_panic));
    if std::env::var_os("ANT_TEST_PANIC").is_some() {
        // Lets the tests check the hook below in a real process.
        panic!("ANT_TEST_PANIC is set");
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let code = match ant::cli::main_with(args) {
        Ok(()) => 0,
        Err(failure) => {
            let code = failure.error.exit_code();
            if !matches!(failure.error, ant::error::Error::BrokenPipe) {
                let stderr = std::io::stderr();
                let mut e = stderr.lock();
                let _ = writeln!(
                    e,
                    "ant: error: {}",
                    ant::error::one_line(&failure.headline())
                );
                if let Some(detail) = failure.detail {
                    let _ = writeln!(e, "{}", detail.trim_end());
                }
            }
            code
        }
    };
    // Flush what is left; a reader that went away is not an error.
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// A bug: one line on stderr (a backtrace too when `RUST_BACKTRACE` asks for
/// one) and exit 1, never the default panic report or an abort, in debug and
/// release (`panic = "abort"`) builds alike.
fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic");
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let place = info
        .location()
        .map(|l| format!(" ({}:{})", l.file(), l.line()))
        .unwrap_or_default();
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "ant: internal error, please report: {message}{place}");
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        let _ = writeln!(e, "{}", std::backtrace::Backtrace::force_capture());
    }
    let _ = e.flush();
    let _ = std::io::stdout().flush();
    std::process::exit(ant::error::exit::UNEXPECTED);
}
