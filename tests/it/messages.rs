//! `ant messages create` against ant-mock's scripted model: on a terminal
//! `--stream` renders the reply's text as it arrives; piped, it prints the
//! events as JSON.

use std::io::Read;
use std::process::Stdio;

use crate::{checked_mock, home};

fn ask(text: &str) -> Vec<String> {
    [
        "messages",
        "create",
        "--model",
        "claude-opus-4-7",
        "--max-tokens",
        "200",
        "--message",
        &serde_json::json!({"role": "user", "content": text}).to_string(),
        "--stream",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_streamed_message_is_rendered_live_on_a_terminal() {
    let mock = checked_mock(Default::default());
    let h = home();
    let story = "Once upon a time, a lighthouse keeper counted the ships";
    // `/slow 150`: 150 ms between events, so the stream lasts over a second.
    let mut child = mock
        .ant(h.path())
        .env("ANT_TEST_FORCE_TTY", "1")
        .args(ask(&format!("{story}\n/slow 150")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = stdout.read(&mut first).unwrap();
    let running = child.try_wait().unwrap().is_none();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let shown = String::from_utf8_lossy(&first[..n]).into_owned() + &rest;
    assert!(status.success(), "{shown}");
    assert!(
        running,
        "the first text ({:?}) arrived only after ant exited",
        String::from_utf8_lossy(&first[..n])
    );
    assert!(story.starts_with(String::from_utf8_lossy(&first[..n]).as_ref()));
    assert_eq!(shown, format!("{story}\n"), "the text alone, assembled");
}

#[test]
fn a_streamed_message_prints_its_events_as_json_when_piped() {
    let mock = checked_mock(Default::default());
    let h = home();
    let out = mock
        .ant(h.path())
        .args(ask("Hello, scripted model"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("JSON values");
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"message_start"), "{types:?}");
    assert_eq!(types[types.len() - 2..], ["message_delta", "message_stop"]);
    let text: String = events
        .iter()
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello, scripted model");
    assert_eq!(events[types.len() - 2]["delta"]["stop_reason"], "end_turn");
}
