//! What a terminal gets: whether `--format explore` (or the explorer as
//! the read commands' default) really opens the explorer, and whether long
//! output goes through a pager. Detection reads the process once; the
//! decision is a pure function, so tests never touch real env vars.

use std::io::IsTerminal;

use super::Format;

/// The command being run, as far as the choice goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// A read (`retrieve`, `list`, `work poll`...): the explorer is its
    /// default on a terminal.
    Read,
    /// Any other API command: `--format explore` works when asked for.
    Other,
    /// A command the explorer cannot serve (it talks to the user itself).
    NoExplore,
}

impl Command {
    /// The command as far as the choice goes when the user asked for
    /// values (`-r` or `--transform`): a read prints them rather than
    /// opening the explorer (the official CLI opens it), unless `--format
    /// explore` asks for it.
    pub fn asking_for_values(self, values: bool) -> Command {
        match self {
            Command::Read if values => Command::Other,
            other => other,
        }
    }
}

/// Facts about the process: whether stdout and stdin are really terminals
/// (the test switch `ANT_TEST_FORCE_TTY` does not count), the screen size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    pub stdout_tty: bool,
    pub stdin_tty: bool,
    /// Rows and columns of stdout's terminal.
    pub size: Option<(usize, usize)>,
}

impl Facts {
    pub fn detect() -> Facts {
        let stdout_tty = std::io::stdout().is_terminal();
        Facts {
            stdout_tty,
            stdin_tty: std::io::stdin().is_terminal(),
            size: terminal_size::terminal_size_of(std::io::stdout())
                .filter(|_| stdout_tty)
                .map(|(w, h)| (h.0 as usize, w.0 as usize)),
        }
    }
}

/// The output settled on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub format: Format,
    /// The pager command, and the screen (rows, columns) output must outgrow.
    pub pager: Option<Pager>,
    /// Said on stderr before anything else (why explore was not used).
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pager {
    pub command: String,
    pub rows: usize,
    pub cols: usize,
}

/// Chooses with the real environment and terminal.
pub fn detect(requested: Format, command: Command, no_pager: bool) -> Choice {
    choose(
        requested,
        command,
        no_pager,
        &|k| std::env::var(k).ok(),
        Facts::detect(),
    )
}

/// The rules:
/// - `auto` on a read becomes `explore` when stdout and stdin are terminals
///   and `TERM` is not `dumb`;
/// - an explicit `explore` needs stdout to be a terminal that is not dumb
///   (keys are read from the terminal even when stdin is redirected);
///   otherwise it prints JSON, with a one-line note;
/// - the pager is `ANT_PAGER`, else `PAGER`, else `less`; an empty value,
///   `cat`, `--no-pager`, a dumb terminal or a stdout that is not a terminal
///   turn paging off.
pub fn choose(
    requested: Format,
    command: Command,
    no_pager: bool,
    env: &dyn Fn(&str) -> Option<String>,
    facts: Facts,
) -> Choice {
    let dumb = env("TERM").is_some_and(|t| t == "dumb");
    let screen = facts.stdout_tty && !dumb;
    let (format, note) = match (requested, command) {
        (Format::Explore, Command::NoExplore) => (
            Format::Json,
            Some("--format explore is not available for this command; printing json".to_string()),
        ),
        (Format::Explore, _) if !facts.stdout_tty => (
            Format::Json,
            Some("stdout is not a terminal; printing json instead of --format explore".to_string()),
        ),
        (Format::Explore, _) if dumb => (
            Format::Json,
            Some("TERM is dumb; printing json instead of --format explore".to_string()),
        ),
        (Format::Auto, Command::Read) if screen && facts.stdin_tty => (Format::Explore, None),
        (f, _) => (f, None),
    };
    let command = match env("ANT_PAGER") {
        Some(p) => p,
        None => env("PAGER").unwrap_or_else(|| "less".into()),
    };
    let command = command.trim().to_string();
    let pager = match facts.size {
        Some((rows, cols)) if screen && !no_pager && !command.is_empty() && command != "cat" => {
            Some(Pager {
                command,
                rows,
                cols,
            })
        }
        _ => None,
    };
    Choice {
        format,
        pager,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::term::tests::env;

    const TTY: Facts = Facts {
        stdout_tty: true,
        stdin_tty: true,
        size: Some((24, 80)),
    };
    const PIPE: Facts = Facts {
        stdout_tty: false,
        stdin_tty: true,
        size: None,
    };

    fn format(
        requested: Format,
        command: Command,
        pairs: &[(&str, &str)],
        facts: Facts,
    ) -> (Format, Option<String>) {
        let c = choose(requested, command, false, &env(pairs), facts);
        (c.format, c.note)
    }

    #[test]
    fn reads_explore_by_default_on_a_terminal_only() {
        assert_eq!(
            format(Format::Auto, Command::Read, &[], TTY),
            (Format::Explore, None)
        );
        assert_eq!(
            format(Format::Auto, Command::Other, &[], TTY),
            (Format::Auto, None)
        );
        // Silently JSON when stdout is not a terminal, or stdin is not one.
        assert_eq!(
            format(Format::Auto, Command::Read, &[], PIPE),
            (Format::Auto, None)
        );
        let no_stdin = Facts {
            stdin_tty: false,
            ..TTY
        };
        assert_eq!(
            format(Format::Auto, Command::Read, &[], no_stdin),
            (Format::Auto, None)
        );
        assert_eq!(
            format(Format::Auto, Command::Read, &[("TERM", "dumb")], TTY),
            (Format::Auto, None)
        );
        // Any explicit format wins.
        assert_eq!(
            format(Format::Json, Command::Read, &[], TTY),
            (Format::Json, None)
        );
    }

    #[test]
    fn raw_output_or_a_transform_print_values_instead_of_exploring() {
        let read = Command::Read.asking_for_values(true);
        assert_eq!(format(Format::Auto, read, &[], TTY), (Format::Auto, None));
        assert_eq!(
            format(Format::Explore, read, &[], TTY),
            (Format::Explore, None)
        );
        assert_eq!(
            format(
                Format::Auto,
                Command::Read.asking_for_values(false),
                &[],
                TTY
            ),
            (Format::Explore, None)
        );
        assert_eq!(
            Command::NoExplore.asking_for_values(true),
            Command::NoExplore
        );
    }

    #[test]
    fn explicit_explore_falls_back_to_json_with_a_note() {
        assert_eq!(
            format(Format::Explore, Command::Other, &[], TTY),
            (Format::Explore, None)
        );
        let no_stdin = Facts {
            stdin_tty: false,
            ..TTY
        };
        assert_eq!(
            format(Format::Explore, Command::Read, &[], no_stdin).0,
            Format::Explore
        );
        let (f, note) = format(Format::Explore, Command::Read, &[], PIPE);
        assert_eq!(f, Format::Json);
        assert!(note.unwrap().contains("not a terminal"));
        let (f, note) = format(Format::Explore, Command::Read, &[("TERM", "dumb")], TTY);
        assert_eq!(f, Format::Json);
        assert!(note.unwrap().contains("dumb"));
        let (f, note) = format(Format::Explore, Command::NoExplore, &[], TTY);
        assert_eq!(f, Format::Json);
        assert!(note.unwrap().contains("not available"));
    }

    fn pager(pairs: &[(&str, &str)], no_pager: bool, facts: Facts) -> Option<String> {
        choose(Format::Json, Command::Other, no_pager, &env(pairs), facts)
            .pager
            .map(|p| p.command)
    }

    #[test]
    fn pager_comes_from_ant_pager_then_pager_then_less() {
        assert_eq!(pager(&[], false, TTY).as_deref(), Some("less"));
        assert_eq!(
            pager(&[("PAGER", "more")], false, TTY).as_deref(),
            Some("more")
        );
        assert_eq!(
            pager(&[("PAGER", "more"), ("ANT_PAGER", "less -S")], false, TTY).as_deref(),
            Some("less -S")
        );
        let p = choose(Format::Json, Command::Other, false, &env(&[]), TTY)
            .pager
            .unwrap();
        assert_eq!((p.rows, p.cols), (24, 80));
    }

    #[test]
    fn paging_turns_off() {
        assert_eq!(pager(&[("PAGER", "")], false, TTY), None);
        assert_eq!(pager(&[("ANT_PAGER", "")], false, TTY), None);
        assert_eq!(
            pager(&[("ANT_PAGER", ""), ("PAGER", "less")], false, TTY),
            None
        );
        assert_eq!(pager(&[("PAGER", "cat")], false, TTY), None);
        assert_eq!(pager(&[], true, TTY), None);
        assert_eq!(pager(&[], false, PIPE), None);
        assert_eq!(pager(&[("TERM", "dumb")], false, TTY), None);
    }
}
