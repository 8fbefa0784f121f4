//! `ant`: parse, run, and print the error (if any) with its exit code. This
//! is the only place that prints errors.

use std::io::Write;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let code = match ant::cli::main_with(args) {
        Ok(()) => 0,
        Err(failure) => {
            let code = failure.error.exit_code();
            if !matches!(failure.error, ant::error::Error::BrokenPipe) {
                let stderr = std::io::stderr();
                let mut e = stderr.lock();
                let _ = writeln!(e, "ant: error: {}", failure.error);
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
