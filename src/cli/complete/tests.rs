//! The completion back-end without a shell or network: what `__complete`
//! offers for each kind of word.

use super::*;

fn cands(line: &[&str]) -> Vec<String> {
    let words: Vec<String> = line.iter().map(|w| w.to_string()).collect();
    match outcome(&words, Style::Fish) {
        Outcome::Cands(c) => c.into_iter().map(|c| c.value).collect(),
        other => panic!("{line:?}: expected candidates, got {other:?}"),
    }
}

fn files(line: &[&str]) -> String {
    let words: Vec<String> = line.iter().map(|w| w.to_string()).collect();
    match outcome(&words, Style::Fish) {
        Outcome::Files(prefix) => prefix,
        other => panic!("{line:?}: expected files, got {other:?}"),
    }
}

fn nothing(line: &[&str]) {
    let words: Vec<String> = line.iter().map(|w| w.to_string()).collect();
    assert_eq!(outcome(&words, Style::Fish), Outcome::Nothing, "{line:?}");
}

#[test]
fn groups_and_verbs() {
    assert_eq!(cands(&["beta:ag"]), ["beta:agents", "beta:agents:versions"]);
    assert_eq!(cands(&["beta:sessions:ev"]), ["beta:sessions:events"]);
    assert!(cands(&[""]).len() > 30);
    assert_eq!(
        cands(&["beta:agents", ""]),
        ["create", "retrieve", "update", "list", "archive"]
    );
    assert_eq!(cands(&["--debug", "beta:agents", "li"]), ["list"]);
    assert_eq!(cands(&["--format", "json", "beta:agents", "li"]), ["list"]);
    nothing(&["beta:nope", ""]);
    nothing(&["beta:agents", "nope", ""]);
    // The Admin API groups, and the root's own flags (clap's included).
    assert!(cands(&["organization:work"]).contains(&"organization:workspaces".to_string()));
    assert_eq!(cands(&["--ver"]), ["--version", "--verbose"]);
    assert!(cands(&["--"]).contains(&"--admin-key".to_string()));
}

#[test]
fn flags_with_globals_after_the_commands_own() {
    let all = cands(&["beta:sessions", "list", "--"]);
    let order = all.iter().position(|c| c == "--order").unwrap();
    let format = all.iter().position(|c| c == "--format").unwrap();
    assert!(order < format, "{all:?}");
    assert!(
        !all.iter().any(|c| c.contains('.')),
        "inner flags only after a dot"
    );
    assert_eq!(cands(&["beta:sessions", "list", "--ord"]), ["--order"]);
    // A flag already given is not offered again, unless it repeats.
    let again = cands(&["beta:sessions", "list", "--order", "asc", "--"]);
    assert!(!again.contains(&"--order".to_string()));
    let again = cands(&["beta:agents", "create", "--tool", "{}", "--"]);
    assert!(again.contains(&"--tool".to_string()));
    assert_eq!(
        cands(&["beta:agents", "create", "--mcp-server."]),
        ["--mcp-server.name", "--mcp-server.type", "--mcp-server.url"]
    );
    assert_eq!(cands(&["--form"]), ["--format", "--format-error"]);
}

#[test]
fn values_from_the_table() {
    assert_eq!(
        cands(&["beta:sessions", "list", "--order", ""]),
        ["asc", "desc"]
    );
    assert_eq!(
        cands(&["beta:sessions", "list", "--order="]),
        ["--order=asc", "--order=desc"]
    );
    assert_eq!(
        cands(&["beta:sessions", "list", "--status", "r"]),
        ["running", "rescheduling"]
    );
    assert_eq!(
        cands(&["messages", "create", "--stream="]),
        ["--stream=true", "--stream=false"]
    );
    assert_eq!(
        cands(&["beta:agents", "create", "--mcp-server.type", ""]),
        ["url"]
    );
    assert!(cands(&["beta:agents", "list", "--format", ""]).contains(&"jsonl".to_string()));
    assert_eq!(
        cands(&["beta:agents", "list", "--format", "ex"]),
        ["explore"]
    );
    assert_eq!(cands(&["--format-error", "y"]), ["yaml"]);
    nothing(&["beta:agents", "create", "--name", ""]);
}

#[test]
fn files_after_at_and_for_path_flags() {
    assert_eq!(files(&["beta:files", "upload", "--file", ""]), "");
    assert_eq!(files(&["beta:files", "upload", "--file=sr"]), "--file=");
    assert_eq!(files(&["beta:files", "download", "x", "-o", ""]), "");
    assert_eq!(files(&["beta:agents", "create", "--system", "@sr"]), "@");
    assert_eq!(
        files(&["beta:agents", "create", "--system", "@file://sr"]),
        "@file://"
    );
    assert_eq!(
        files(&["beta:agents", "create", "--system=@data://"]),
        "--system=@data://"
    );
    assert_eq!(
        files(&["beta:agents", "create", "--system", "see @file://a"]),
        "see @file://"
    );
    nothing(&["beta:agents", "create", "--system", "'\\@x"]);
}

#[test]
fn ids_without_credentials_fall_back_to_flags() {
    // No key anywhere: nothing is listed, and an empty word gets the flags.
    let words: Vec<String> = [
        "--api-key=",
        "--auth-token=",
        "--profile=nope",
        "beta:agents",
        "retrieve",
        "",
    ]
    .iter()
    .map(|w| w.to_string())
    .collect();
    match outcome(&words, Style::Fish) {
        Outcome::Cands(c) => assert!(c.iter().any(|c| c.value == "--agent-id")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn completion_commands_themselves() {
    assert_eq!(cands(&["@completion", "z"]), ["zsh"]);
    assert_eq!(cands(&["completion", "b"]), ["bash"]);
    assert_eq!(files(&["@manpages", "-o", ""]), "");
}

#[test]
fn output_per_shell() {
    let c = Cand::new("beta:agents", "create,  list\tand more");
    // The bash script shows descriptions when it lists several candidates.
    assert_eq!(
        format_cand(&c, Style::Bash),
        "beta:agents\tcreate, list and more"
    );
    assert_eq!(
        format_cand(&c, Style::Zsh),
        "beta\\:agents:create, list and more"
    );
    assert_eq!(
        format_cand(&c, Style::Fish),
        "beta:agents\tcreate, list and more"
    );
    assert_eq!(format_cand(&Cand::new("x", ""), Style::Pwsh), "x");
}

#[test]
fn quotes_are_removed_from_words() {
    assert_eq!(dequote("'a b'"), "a b");
    assert_eq!(dequote("\"@file://x"), "@file://x");
    assert_eq!(dequote("a\\ b"), "a b");
}
