//! What a newcomer meets first: usage errors that say what a flag takes,
//! hints that point the right way, and help that teaches.

use serde_json::json;

use crate::{Server, ant, ant_at, home, stderr, stdout};

/// Runs `ant args` against a server that must see no request; returns the
/// one-line error after checking exit 2.
fn refused(args: &[&str]) -> String {
    let server = Server::json(json!({}));
    let h = home();
    let out = ant_at(&server, h.path()).args(args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "ant {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        server.recorded().is_empty(),
        "nothing is sent: ant {args:?}"
    );
    err
}

#[test]
fn max_items_takes_a_count_or_minus_one_for_no_limit() {
    let err = refused(&["beta:agents", "list", "--max-items", "-5"]);
    assert!(
        err.contains("'-5' for --max-items <N>: a count of items (0 or more), or -1 for no limit"),
        "{err}"
    );
    let err = refused(&["beta:agents", "list", "--max-items", "abc"]);
    assert!(
        err.contains(
            "'abc' for --max-items <N>: expected a whole number of items, or -1 for no limit"
        ),
        "{err}"
    );
    let page = json!({"data": [{"id": "agent_1"}, {"id": "agent_2"}], "has_more": false});
    let server = Server::json(page);
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "beta:agents",
            "list",
            "--max-items",
            "-1",
            "--transform",
            "id",
            "-r",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "agent_1\nagent_2\n", "{}", stderr(&out));
}

#[test]
fn a_base_url_without_a_scheme_gets_a_did_you_mean() {
    for (given, hint) in [
        ("127.0.0.1:39209", "did you mean http://127.0.0.1:39209?"),
        ("localhost:4010", "did you mean http://localhost:4010?"),
        ("[::1]:4010", "did you mean http://[::1]:4010?"),
        ("api.example.com", "did you mean https://api.example.com?"),
    ] {
        let err = refused(&["--base-url", given, "beta:agents", "list"]);
        assert!(
            err.contains(&format!("invalid base URL \"{given}\""))
                && err.ends_with(&format!("{hint}\n")),
            "{given}: {err}"
        );
    }
    // The same from the environment.
    let h = home();
    let out = ant(h.path())
        .env("ANTHROPIC_BASE_URL", "127.0.0.1:1")
        .env("ANTHROPIC_API_KEY", "k")
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean http://127.0.0.1:1?"),
        "{}",
        stderr(&out)
    );
}

/// `ant args` exits 0; returns stdout.
fn help(args: &[&str]) -> String {
    let h = home();
    let out = ant(h.path()).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "ant {args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn a_verbs_help_is_short_with_examples_a_pointer_and_its_own_exit_codes() {
    let text = help(&["beta:agents", "create", "--help"]);
    let lines = text.lines().count();
    assert!(lines < 80, "{lines} lines:\n{text}");
    assert!(text.contains("Examples:\n  # Create an agent\n  $ ant beta:agents create --model claude-opus-4-7 --name 'Coding Assistant'"), "{text}");
    assert!(text.contains("see 'ant --help'"), "{text}");
    // The global options are not repeated; the verb's own flags are there.
    assert!(
        !text.contains("--identity-token-file") && !text.contains("--max-retries"),
        "{text}"
    );
    assert!(
        text.contains("--system <STRING>")
            && text.contains("--model.effort (low|medium|high|xhigh|max)"),
        "{text}"
    );
    // Only the exit codes a create can give.
    assert!(
        text.contains("Exit codes:") && text.contains("9    --transform matched nothing"),
        "{text}"
    );
    assert!(
        !text.contains("requires_action") && !text.contains("\n  10 "),
        "{text}"
    );
    assert_eq!(help(&["beta:agents", "create", "-h"]), text);
    // A stream that watches a turn has the session codes.
    let stream = help(&["beta:sessions:events", "stream", "--help"]);
    for code in [
        "10   waiting for you",
        "14   the agent refused",
        "--until-idle",
    ] {
        assert!(stream.contains(code), "{code}: {stream}");
    }
}

#[test]
fn every_command_outside_the_table_has_examples_in_its_help() {
    for args in [
        ["beta:sessions", "run"],
        ["auth", "login"],
        ["auth", "status"],
        ["profile", "set"],
        ["profile", "unset"],
        ["beta:worker", "poll"],
        ["beta:worker", "run"],
    ] {
        let text = help(&[args[0], args[1], "--help"]);
        assert!(text.contains("Examples:\n  # "), "{args:?}: {text}");
        assert!(
            text.contains(&format!("$ ant {} {}", args[0], args[1])),
            "{args:?}: {text}"
        );
        assert!(text.lines().count() < 80, "{args:?}: {text}");
    }
    let profile = help(&["profile", "set", "--help"]);
    assert!(
        !profile.contains("\n  3 ") && profile.contains("2    bad input"),
        "{profile}"
    );
}

#[test]
fn the_top_help_describes_every_group_and_lists_completion_and_man_pages() {
    let text = help(&["--help"]);
    assert!(
        text.contains("  beta:dreams ")
            && text.contains("Dreams: background jobs that consolidate"),
        "{text}"
    );
    let extras = text
        .split("Shell completion and manual pages:\n")
        .nth(1)
        .expect("its own heading");
    assert!(extras.starts_with("  completion <SHELL>"), "{extras}");
    assert!(extras.contains("  @manpages [-o DIR]"), "{extras}");
    // A group's help says what the group is before its commands.
    let dreams = help(&["beta:dreams", "--help"]);
    assert!(dreams.starts_with("Dreams: background jobs"), "{dreams}");
    assert!(
        !dreams.contains("--api-key <KEY>") && dreams.contains("see 'ant --help'"),
        "{dreams}"
    );
    // No `[env: NAME=]` with a stray `=`, and 'null' only where it clears.
    assert!(!text.contains("=]"), "{text}");
    assert!(text.contains("[env: ANTHROPIC_PROFILE]"), "{text}");
    let create = help(&["beta:agents", "create", "--help"]);
    assert!(!create.contains("'null' to clear"), "{create}");
    let update = help(&["beta:agents", "update", "--help"]);
    assert!(update.contains("'null' to clear"), "{update}");
}

#[test]
fn completion_and_man_pages_have_help_and_completion_works_without_the_at() {
    for args in [["completion", "--help"], ["@completion", "-h"]] {
        let text = help(&args);
        assert!(text.contains("Usage: ant completion <SHELL>"), "{text}");
        assert!(text.contains("bash, zsh, fish"), "{text}");
    }
    assert!(help(&["@completion", "bash", "--help"]).contains("Usage: ant completion"));
    assert!(help(&["@manpages", "--help"]).contains("Usage: ant @manpages"));
    let script = help(&["completion", "bash"]);
    assert_eq!(script, help(&["@completion", "bash"]));
    assert!(script.contains("complete -o nosort -F _ant_complete ant"));
}

#[test]
fn typos_get_only_close_matches_and_first_guesses_get_hints() {
    for (args, want) in [
        (
            &["agents", "list"][..],
            Some("did you mean 'ant beta:agents list'?"),
        ),
        (&["login"][..], Some("did you mean 'ant auth login'?")),
        (&["manpages"][..], Some("did you mean 'ant @manpages'?")),
        (
            &["beta:agents", "delete", "agent_1"][..],
            Some("did you mean 'ant beta:agents archive'"),
        ),
        (
            &["completions", "bash"][..],
            Some("did you mean 'ant completion bash'"),
        ),
        (
            &["beta:agents", "craete"][..],
            Some("did you mean 'ant beta:agents create'?"),
        ),
        (
            &["beta:agents", "list", "--limt", "2"][..],
            Some("did you mean '--limit'?"),
        ),
        (&["extension", "list"][..], None),
        (&["beta:agents", "list", "--web"][..], None),
    ] {
        let err = refused(args);
        match want {
            Some(w) => assert!(err.contains(w), "ant {args:?}: {err}"),
            None => assert!(!err.contains("did you mean"), "ant {args:?}: {err}"),
        }
        assert!(!err.contains("webhook"), "a hidden flag suggested: {err}");
    }
}

#[test]
fn version_names_the_commit_and_build_date() {
    let text = help(&["--version"]);
    let re =
        regex::Regex::new(r"^ant \d+\.\d+\.\d+ \(([0-9a-f]{7}, )?\d{4}-\d{2}-\d{2}\)\n$").unwrap();
    assert!(re.is_match(&text), "{text:?}");
}
