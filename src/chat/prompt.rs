//! What one entry at the chat prompt means: text for the agent, or one of
//! the prompt's own commands. Commands start with `/`; `//` sends text that
//! starts with a `/` (so `//say hi` sends `/say hi`). Pure functions.

/// One entry typed at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Nothing but whitespace: nothing is sent.
    Empty,
    /// A message for the agent, as typed (continuation backslashes removed).
    Text(String),
    Help,
    Exit,
    /// Show the session ID and the command that continues it.
    Session,
    /// `/word` that names no command.
    Unknown(String),
}

/// The prompt's commands, for `/help`.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/help", "list these commands"),
    (
        "/session",
        "show the session ID and the command that continues it",
    ),
    ("/exit", "leave (also /quit or Ctrl-D); the session stays"),
    (
        "//text",
        "send text that starts with '/' (//say hi sends /say hi)",
    ),
];

/// How to type at the prompt, shown at the start and by `/help`.
pub const KEYS: &str = "Enter sends; Alt-Enter, or a line ending in \\, starts a new line.\n\
Ctrl-C during a turn interrupts it; at the prompt it clears the line. Ctrl-D or /exit leaves.";

/// Reads one submitted entry.
pub fn parse(input: &str) -> Entry {
    let text = join_continued(input);
    let text = text.trim_end();
    if text.trim().is_empty() {
        return Entry::Empty;
    }
    let Some(rest) = text.strip_prefix('/') else {
        return Entry::Text(text.to_string());
    };
    if rest.starts_with('/') {
        return Entry::Text(rest.to_string());
    }
    let word = rest.split_whitespace().next().unwrap_or("");
    match word {
        "help" | "?" => Entry::Help,
        "exit" | "quit" => Entry::Exit,
        "session" => Entry::Session,
        _ => Entry::Unknown(format!("/{word}")),
    }
}

/// Whether a line is continued on the next one (it ends with an unescaped `\`).
pub fn continues(line: &str) -> bool {
    let trailing = line.len() - line.trim_end_matches('\\').len();
    trailing % 2 == 1
}

/// Removes the `\` that continued each line onto the next.
fn join_continued(input: &str) -> String {
    let lines: Vec<&str> = input.split('\n').collect();
    let mut out = String::with_capacity(input.len());
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        if !last && continues(line) {
            out.push_str(&line[..line.len() - 1]);
        } else {
            out.push_str(line);
        }
        if !last {
            out.push('\n');
        }
    }
    out
}

/// The `/help` text.
pub fn help() -> String {
    let mut s = String::from("Prompt commands:\n");
    for (cmd, what) in COMMANDS {
        s.push_str(&format!("  {cmd:<10} {what}\n"));
    }
    s.push_str("Anything else is sent to the agent.\n");
    s.push_str(KEYS);
    s
}

/// A file name for a session ID: its letters, digits, `_` and `-` only.
pub fn file_name(session_id: &str) -> String {
    let name: String = session_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(100)
        .collect();
    if name.is_empty() {
        "session".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_goes_to_the_agent_and_slash_words_are_commands() {
        assert_eq!(parse("hello"), Entry::Text("hello".into()));
        assert_eq!(parse("  \n "), Entry::Empty);
        assert_eq!(parse("/help"), Entry::Help);
        assert_eq!(parse("/exit"), Entry::Exit);
        assert_eq!(parse("/quit now"), Entry::Exit);
        assert_eq!(parse("/session"), Entry::Session);
        assert_eq!(parse("/say hi"), Entry::Unknown("/say".into()));
        assert_eq!(parse("//say hi"), Entry::Text("/say hi".into()));
        assert_eq!(parse("///x"), Entry::Text("//x".into()));
        assert_eq!(parse("a /exit"), Entry::Text("a /exit".into()));
    }

    #[test]
    fn continued_lines_join_into_one_message() {
        assert!(continues("first \\"));
        assert!(!continues("ends with two \\\\"));
        assert!(!continues("plain"));
        assert_eq!(
            parse("line one\\\nline two\nline three"),
            Entry::Text("line one\nline two\nline three".into())
        );
        assert_eq!(
            parse("//say a\\\n/say b"),
            Entry::Text("/say a\n/say b".into())
        );
    }

    #[test]
    fn help_lists_every_command_and_file_names_are_safe() {
        let h = help();
        for (cmd, _) in COMMANDS {
            assert!(h.contains(cmd), "{h}");
        }
        assert_eq!(file_name("sesn_01AB-c"), "sesn_01AB-c");
        assert_eq!(file_name("../../etc/passwd"), "etcpasswd");
        assert_eq!(file_name("/.."), "session");
    }
}
