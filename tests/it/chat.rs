//! `ant beta:sessions run` without `-m` at a terminal: a chat with the
//! agent, in a real terminal (tmux) against ant-mock. Skipped, saying so,
//! without tmux.

use crate::explore::{Pane, have_tmux};
use crate::mock::Mock;

/// Whether the last line written is the empty prompt (tmux drops the
/// space after `>`).
fn at_prompt(screen: &str) -> bool {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(str::trim_end)
        == Some(">")
}

/// How often a line of the scrollback says `what`.
fn count(screen: &str, what: &str) -> usize {
    screen.lines().filter(|l| l.contains(what)).count()
}

#[test]
fn chat_two_turns_ctrl_c_mid_turn_and_ctrl_d() {
    if !have_tmux() {
        return;
    }
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let base = m.handle.base_url.clone();
    let pane = Pane::start_stderr_on_terminal(
        &[
            ("ANTHROPIC_BASE_URL", &base),
            ("ANTHROPIC_API_KEY", "test-key"),
        ],
        &[
            "beta:sessions",
            "run",
            "--agent",
            &agent,
            "--environment-id",
            &env,
        ],
    );
    // The session is created first and named at the start.
    let screen = pane.wait("the session ID and the prompt", |s| {
        s.contains("Session ID: sesn_") && at_prompt(s)
    });
    let sid = screen
        .lines()
        .find_map(|l| l.strip_prefix("Session ID: "))
        .unwrap()
        .trim()
        .to_string();
    let idles = |s: &str| count(s, "idle (end_turn)");

    // Turn one: plain text is echoed back by the scripted agent.
    pane.keys(&["Hello there", "Enter"]);
    pane.wait("the first turn's idle", |_| {
        idles(&pane.scrollback(300)) == 1
    });
    // Turn two, on two lines (a trailing backslash continues the entry);
    // `//` sends a leading slash, here a directive of the scripted agent.
    pane.keys(&["//say second answer\\", "Enter", "/say and more", "Enter"]);
    let screen = pane.wait("the second turn's idle", |_| {
        idles(&pane.scrollback(300)) == 2
    });
    assert!(
        screen.contains("second answer") && screen.contains("and more"),
        "{screen}"
    );
    // /help is the prompt's own; nothing reaches the agent.
    pane.keys(&["/help", "Enter"]);
    pane.wait("the help", |s| s.contains("Prompt commands:"));

    // Ctrl-C mid-turn: one user.interrupt, then back at the prompt.
    pane.keys(&["//sleep 60", "Enter"]);
    pane.wait("the long turn to run", |_| {
        count(&pane.scrollback(300), "running") >= 3
    });
    pane.keys(&["C-c"]);
    pane.wait("the prompt after the interrupt", |s| {
        s.contains("back to the prompt") && at_prompt(s)
    });
    let interrupts = m.ok(&[
        "beta:sessions:events",
        "list",
        &sid,
        "--jq",
        r#"select(.type == "user.interrupt") | .type"#,
    ]);
    assert_eq!(
        interrupts, "user.interrupt\n",
        "exactly one interrupt was sent"
    );
    // Ctrl-C at the prompt clears the line and sends nothing.
    pane.keys(&["not sent", "C-c"]);
    pane.wait("a fresh prompt", |s| {
        s.contains("> not sent") && at_prompt(s)
    });
    // Ctrl-D leaves with 0 and says how to continue.
    pane.keys(&["C-d"]);
    assert_eq!(pane.exit_code(), 0, "{}", pane.scrollback(300));
    let screen = pane.scrollback(300);
    assert!(
        screen.contains(&format!(
            "Continue with: ant beta:sessions run --session-id {sid}"
        )),
        "{screen}"
    );
    pane.assert_restored();
    let messages = m.ok(&[
        "beta:sessions:events",
        "list",
        &sid,
        "--order",
        "asc",
        "--jq",
        r#"select(.type == "user.message") | .content[0].text"#,
    ]);
    assert_eq!(
        messages, "Hello there\n/say second answer\n/say and more\n/sleep 60\n",
        "one message per entry, none for /help or the cleared line"
    );
    // The history is kept per session, private to the user.
    let history = pane.home().join(".local/state/ant/chat-history").join(&sid);
    let text = std::fs::read_to_string(&history).expect("the session's history file");
    assert!(
        text.contains("Hello there") && text.contains("//sleep 60"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&history).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "history readable by others: {mode:o}");
}

#[test]
fn chat_on_a_session_that_does_not_exist_fails_before_the_prompt() {
    if !have_tmux() {
        return;
    }
    let m = Mock::new();
    let base = m.handle.base_url.clone();
    let pane = Pane::start(
        &[
            ("ANTHROPIC_BASE_URL", &base),
            ("ANTHROPIC_API_KEY", "test-key"),
        ],
        &["beta:sessions", "run", "--session-id", "sesn_nope"],
    );
    assert_eq!(pane.exit_code(), 4, "{}", pane.scrollback(50));
    assert!(pane.stderr().contains("404"), "{}", pane.stderr());
    assert!(!pane.screen().lines().any(|l| l.trim_end() == ">"));
}
