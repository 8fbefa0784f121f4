//! Erasing a secret from this process's command line. `/proc/PID/cmdline`
//! is readable by every process on the machine (the agent's commands
//! included), whatever the process's dumpable flag, and shows the argument
//! area of the process's memory as it is now: overwriting the value there
//! (after the flags were parsed) takes it out of everyone's view.

/// `[arg_start, arg_end)` of this process (fields 48 and 49 of
/// `/proc/self/stat`).
fn arg_area() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3 (state).
    let mut fields = rest.split_whitespace().skip(48 - 3);
    let start: usize = fields.next()?.parse().ok()?;
    let end: usize = fields.next()?.parse().ok()?;
    (start != 0 && end > start).then_some((start, end))
}

/// Overwrites with `*` the value of `flag` in the command line, given as
/// `FLAG VALUE` or `FLAG=VALUE`, when it is `value`.
pub fn command_line_value(flag: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let Some((start, end)) = arg_area() else {
        return;
    };
    // SAFETY: the argument area is mapped read-write (it lies on the initial
    // stack) for the whole life of the process; the flags were parsed
    // already, and no other thread reads it at start-up.
    let area = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, end - start) };
    erase(area, flag.as_bytes(), value.as_bytes());
}

/// [`command_line_value`] on NUL-separated arguments.
fn erase(area: &mut [u8], flag: &[u8], value: &[u8]) {
    let mut after_flag = false;
    for arg in area.split_mut(|b| *b == 0) {
        let is_flag = arg == flag;
        if after_flag && arg == value {
            arg.fill(b'*');
        } else if arg.len() == flag.len() + 1 + value.len()
            && arg.starts_with(flag)
            && arg[flag.len()] == b'='
            && arg.ends_with(value)
        {
            arg[flag.len() + 1..].fill(b'*');
        }
        after_flag = is_flag;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_flags_value_is_erased() {
        let mut area = b"ant\0--environment-key\0K3Y\0--workdir\0K3Y\0--environment-key=K3Y\0--environment-key=K3YX\0".to_vec();
        erase(&mut area, b"--environment-key", b"K3Y");
        assert_eq!(
            area,
            b"ant\0--environment-key\0***\0--workdir\0K3Y\0--environment-key=***\0--environment-key=K3YX\0"
        );
        assert!(arg_area().is_some(), "this kernel shows the argument area");
    }
}
