//! What the output side knows about the terminal: whether stdout/stderr are
//! TTYs, whether to colour, and how wide lines may be. Detection reads the
//! process environment once; the decision itself is a pure function so tests
//! never touch real env vars.

use std::io::IsTerminal;

/// Width used when neither the terminal nor `COLUMNS` says otherwise.
pub const DEFAULT_WIDTH: usize = 100;

/// The facts about the terminal that shape output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    /// Emit ANSI colours on stdout.
    pub color: bool,
    /// Columns available for a line (used by `pretty` truncation and layout).
    pub width: usize,
}

impl Terminal {
    /// Detects the real terminal.
    ///
    /// - TTY: [`IsTerminal`]; `ANT_TEST_FORCE_TTY=1` forces `stdout_tty` (test switch).
    /// - colour: off when `NO_COLOR` is non-empty; `FORCE_COLOR=0` forces off;
    ///   `FORCE_COLOR` or `CLICOLOR_FORCE` (non-empty, not `0`) force on; else on iff
    ///   stdout is a TTY and `TERM` is not `dumb`.
    /// - width: the size of stdout's terminal, else `COLUMNS`, else 100.
    pub fn detect() -> Terminal {
        let size = terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0 as usize);
        decide(
            |k| std::env::var(k).ok(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
            size,
        )
    }

    /// A view of this terminal for output that goes to stderr (error bodies):
    /// the TTY test and the colour decision use stderr instead of stdout.
    pub fn for_stderr(&self) -> Terminal {
        let size = terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| w.0 as usize);
        Terminal {
            stdout_tty: self.stderr_tty,
            stderr_tty: self.stderr_tty,
            color: color_decision(&|k| std::env::var(k).ok(), self.stderr_tty),
            width: size.filter(|w| *w > 0).unwrap_or(self.width),
        }
    }

    /// A plain terminal: no TTY, no colour, default width. Handy for tests and
    /// for rendering into strings.
    pub fn plain() -> Terminal {
        Terminal {
            stdout_tty: false,
            stderr_tty: false,
            color: false,
            width: DEFAULT_WIDTH,
        }
    }
}

/// The detection rules, given an environment lookup and the raw facts.
pub(crate) fn decide(
    env: impl Fn(&str) -> Option<String>,
    stdout_tty: bool,
    stderr_tty: bool,
    size: Option<usize>,
) -> Terminal {
    let stdout_tty = stdout_tty || env("ANT_TEST_FORCE_TTY").as_deref() == Some("1");
    let color = color_decision(&env, stdout_tty);
    let width = size
        .filter(|w| *w > 0)
        .or_else(|| {
            env("COLUMNS")
                .and_then(|c| c.trim().parse::<usize>().ok())
                .filter(|w| *w > 0)
        })
        .unwrap_or(DEFAULT_WIDTH);
    Terminal {
        stdout_tty,
        stderr_tty,
        color,
        width,
    }
}

fn color_decision(env: &dyn Fn(&str) -> Option<String>, tty: bool) -> bool {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    match set("FORCE_COLOR").as_deref() {
        Some("0") => return false,
        Some(_) => return true,
        None => {}
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    // A dumb terminal shows escape codes as garbage.
    tty && env("TERM").is_none_or(|t| t != "dumb")
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An environment lookup over fixed pairs (also used by `choose`'s tests).
    pub(in crate::output) fn env<'a>(
        pairs: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn color_follows_stdout_tty_by_default() {
        assert!(decide(env(&[]), true, false, None).color);
        assert!(!decide(env(&[]), false, true, None).color);
    }

    #[test]
    fn no_color_wins_and_empty_values_are_ignored() {
        assert!(
            !decide(
                env(&[("NO_COLOR", "1"), ("FORCE_COLOR", "1")]),
                true,
                true,
                None
            )
            .color
        );
        assert!(decide(env(&[("NO_COLOR", "")]), true, true, None).color);
        assert!(!decide(env(&[("FORCE_COLOR", "")]), false, false, None).color);
    }

    #[test]
    fn force_color_and_clicolor_force() {
        assert!(decide(env(&[("FORCE_COLOR", "1")]), false, false, None).color);
        assert!(!decide(env(&[("FORCE_COLOR", "0")]), true, true, None).color);
        assert!(
            !decide(
                env(&[("FORCE_COLOR", "0"), ("CLICOLOR_FORCE", "1")]),
                true,
                true,
                None
            )
            .color
        );
        assert!(decide(env(&[("CLICOLOR_FORCE", "1")]), false, false, None).color);
        assert!(!decide(env(&[("CLICOLOR_FORCE", "0")]), false, false, None).color);
    }

    #[test]
    fn a_dumb_terminal_gets_no_colour_unless_forced() {
        assert!(!decide(env(&[("TERM", "dumb")]), true, true, None).color);
        assert!(decide(env(&[("TERM", "xterm")]), true, true, None).color);
        let forced = env(&[("TERM", "dumb"), ("FORCE_COLOR", "1")]);
        assert!(decide(forced, true, true, None).color);
    }

    #[test]
    fn test_switch_forces_stdout_tty() {
        let t = decide(env(&[("ANT_TEST_FORCE_TTY", "1")]), false, false, None);
        assert!(t.stdout_tty && t.color && !t.stderr_tty);
        assert!(!decide(env(&[("ANT_TEST_FORCE_TTY", "0")]), false, false, None).stdout_tty);
    }

    #[test]
    fn width_prefers_terminal_then_columns_then_default() {
        assert_eq!(
            decide(env(&[("COLUMNS", "40")]), true, true, Some(120)).width,
            120
        );
        assert_eq!(
            decide(env(&[("COLUMNS", " 40 ")]), true, true, None).width,
            40
        );
        assert_eq!(
            decide(env(&[("COLUMNS", "wide")]), true, true, None).width,
            100
        );
        assert_eq!(
            decide(env(&[("COLUMNS", "0")]), true, true, Some(0)).width,
            100
        );
    }
}
