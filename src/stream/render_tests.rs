//! Tests of the transcript renderer.
use super::*;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);
impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders events given as JSON lines; `o` is "color,width,verbose,tty" as in "0,80,0,0".
fn render_with(o: &str, jsonl: &str) -> String {
    let o: Vec<usize> = o.split(',').map(|n| n.parse().unwrap()).collect();
    let (color, width, verbose, tty) = (o[0] == 1, o[1], o[2] == 1, o[3] == 1);
    let sink = Sink::default();
    let opts = RenderOptions {
        color,
        width,
        verbose,
        tty,
        spinner: false,
    };
    let mut t = Transcript::new(opts, Box::new(sink.clone()));
    for l in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        t.event(&serde_json::from_str(l).expect(l)).unwrap();
    }
    t.finish().unwrap();
    String::from_utf8(sink.0.take()).unwrap()
}

fn render(jsonl: &str) -> String {
    render_with("0,80,0,0", jsonl)
}

const QUICKSTART: &str = r#"
{"type":"user.message","id":"sevt_1","content":[{"type":"text","text":"Create a Python script that generates the first 20 Fibonacci numbers and saves them to fibonacci.txt"}]}
{"type":"session.status_running","id":"sevt_2"}
{"type":"span.model_request_start","id":"sevt_3"}
{"type":"agent.thinking","id":"sevt_4"}
{"type":"agent.message","id":"sevt_5","content":[{"type":"text","text":"I'll create a **Python script** that generates the first 20 Fibonacci numbers and saves them to a file:\n\n- write `fibonacci.py`\n- run it and check the output, which should contain twenty numbers starting at zero\n\n```python\ndef fib(n):\n    return n\n```"}]}
{"type":"agent.tool_use","id":"sevt_6","name":"write","input":{"file_path":"fibonacci.py","content":"print(1)\n"}}
{"type":"agent.tool_result","id":"sevt_7","tool_use_id":"sevt_6","content":[{"type":"text","text":"File created successfully at: fibonacci.py"}]}
{"type":"agent.tool_use","id":"sevt_8","name":"bash","input":{"command":"python3 fibonacci.py && cat fibonacci.txt"}}
{"type":"agent.tool_result","id":"sevt_9","tool_use_id":"sevt_8","content":[{"type":"text","text":"0\n1\n1\n2\n3\n5\n8\n13\n21\n34\n55\n89\n144\n233\n377\n610\n987\n1597\n2584\n4181\n"}]}
{"type":"agent.message","id":"sevt_10","content":[{"type":"text","text":"fibonacci.txt contains the first 20 Fibonacci numbers (0 through 4181)."}]}
{"type":"span.model_request_end","id":"sevt_11","model_request_start_id":"sevt_3","model_usage":{"input_tokens":1200,"output_tokens":340,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}
{"type":"session.status_idle","id":"sevt_12","stop_reason":{"type":"end_turn"}}
"#;

#[test]
fn quickstart_transcript() {
    let expected = "\
> Create a Python script that generates the first 20 Fibonacci numbers and saves
> them to fibonacci.txt

· running

I'll create a Python script that generates the first 20 Fibonacci numbers and
saves them to a file:

- write `fibonacci.py`
- run it and check the output, which should contain twenty numbers starting at
  zero

    def fib(n):
        return n

▸ write  fibonacci.py
  File created successfully at: fibonacci.py
▸ bash  python3 fibonacci.py && cat fibonacci.txt
  0
  1
  1
  2
  3
  5
  … (14 more lines)

fibonacci.txt contains the first 20 Fibonacci numbers (0 through 4181).

· idle (end_turn)
";
    assert_eq!(render(QUICKSTART), expected);
    let out = render_with("0,80,1,0", QUICKSTART);
    assert!(out.contains("· model: in 1200 · out 340 · cache read 0 · cache write 0\n"));
    assert!(
        out.contains("  2584\n  4181\n\n"),
        "verbose shows whole results"
    );
    let out = render_with("1,80,0,0", QUICKSTART);
    assert!(
        out.contains("I'll create a \x1b[1mPython script\x1b[0m that"),
        "{out}"
    );
}

const MORE: &str = r#"
{"type":"agent.thinking","id":"t"}
{"type":"agent.message","id":"m","content":[{"type":"text","text":"hi \u001b[31mred\u0007"}]}
{"type":"agent.tool_result","id":"e","is_error":true,"content":[{"type":"text","text":"boom\u001b]0;title\u0007"}]}
{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{"city":"Paris"}}
{"type":"agent.mcp_tool_use","id":"p","name":"search","mcp_server_name":"docs","input":{"query":"sse"},"session_thread_id":"sthr_1"}
{"type":"user.tool_confirmation","id":"u","result":"deny","tool_use_id":"p","deny_message":"no"}
{"type":"user.tool_confirmation","id":"u","result":"allow","tool_use_id":"q"}
{"type":"session.error","id":"x","error":{"type":"model_overloaded_error","message":"Overloaded","retry_status":{"type":"retrying"}}}
{"type":"session.status_idle","id":"i","stop_reason":{"type":"requires_action","event_ids":["c1"]}}
{"type":"session.status_terminated","id":"z"}
{"type":"workflow_run.created","id":"w1","name":"build"}
{"id":1}
{"type":"session.usage","id":"u","usage":{"input_tokens":5}}
{"type":"user.interrupt","id":"i","session_thread_id":"sthr_2"}
{"type":"session.deleted","id":"d"}
{"type":"session.status_rescheduled","id":"r"}
{"type":"user.custom_tool_result","id":"u","custom_tool_use_id":"c1","content":[{"type":"text","text":"sunny\nwarm"}]}
{"type":"session.thread_created","id":"a","session_thread_id":"sthr_1","agent_name":"Researcher"}
{"type":"session.thread_status_idle","id":"c","session_thread_id":"sthr_1","stop_reason":{"type":"end_turn"}}
{"type":"agent.thread_message_received","id":"d","from_session_thread_id":"sthr_1","from_agent_name":"Researcher","content":"done"}
{"type":"agent.tool_use","id":"t","name":"web_fetch","input":{"url":"https://example.com"}}
{"type":"agent.tool_use","id":"t","name":"bash","input":{"command":"echo a\necho b"}}
{"type":"agent.tool_use","id":"t","name":"thing","input":{"limit":3,"text":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}
{"type":"agent.tool_use","id":"t","name":"noop","input":{}}
"#;

#[test]
fn every_kind_of_event() {
    let expected = "\
hi \u{FFFD}[31mred\u{FFFD}

  boom\u{FFFD}]0;title\u{FFFD}
◆ get_weather needs a result from you (c1)
  {\"city\":\"Paris\"}
[thread sthr_1] ▸ docs/search  sse
✗ denied p: no
✓ allowed q
✗ model_overloaded_error: Overloaded (retrying)
· idle (requires_action: waiting on c1)
· terminated
workflow_run.created {\"id\":\"w1\",\"name\":\"build\"}
(no type) {\"id\":1}
[thread sthr_2] ■ interrupted
· session deleted
· rescheduled
↳ result for c1
  sunny
  warm
[thread sthr_1] · thread created (agent Researcher)
[thread sthr_1] · idle (end_turn)
← Researcher: done
▸ web_fetch  https://example.com
▸ bash  echo a …
▸ thing  {\"limit\":3,\"text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…
▸ noop
";
    assert_eq!(render(MORE), expected);
    // Usage only when verbose.
    assert!(render_with("0,80,1,0", MORE).contains("\n· usage: in 5\n"));
}

#[test]
fn no_escapes_without_color() {
    let all = format!("{QUICKSTART}{MORE}{}", deltas("x"));
    for o in ["0,80,1,0", "0,80,1,1", "0,20,0,1"] {
        let out = render_with(o, &all);
        assert!(
            !out.contains('\x1b') && !out.contains('\x07'),
            "{o}: {out:?}"
        );
    }
    // With color, text from the stream still cannot inject escapes or bells.
    let out = render_with("1,80,1,1", &all);
    assert!(!out.contains("\x1b]0;") && !out.contains("\x1b[31mred") && !out.contains('\x07'));
}

/// A self-hosted worker posts `user.tool_result`: it renders as the cloud's
/// `agent.tool_result` does (first lines and a count, all with --verbose,
/// errors in red).
#[test]
fn self_hosted_tool_results_render_like_cloud_ones() {
    let user = |n| result(n).replace("agent.tool_result", "user.tool_result");
    assert_eq!(render(&user(10)), render(&result(10)));
    assert!(render(&user(10)).ends_with("  line 6\n  … (4 more lines)\n"));
    let all = render_with("0,80,1,0", &user(10));
    assert_eq!(all.lines().count(), 10, "{all}");
    assert!(all.ends_with("  line 9\n  line 10\n"), "{all}");
    let err = r#"{"type":"user.tool_result","is_error":true,"content":[{"type":"text","text":"exit 1\nno such file"}]}"#;
    let red = render_with("1,80,0,0", err);
    assert_eq!(
        red, "  \u{1b}[31mexit 1\u{1b}[0m\n  \u{1b}[31mno such file\u{1b}[0m\n",
        "{red:?}"
    );
    let ok = render_with("1,80,0,0", &user(1));
    assert!(ok.contains("\u{1b}[2mline 1"), "{ok:?}");
}

fn result(n: usize) -> String {
    let body: String = (1..=n).map(|i| format!("line {i}\\n")).collect();
    format!(r#"{{"type":"agent.tool_result","content":[{{"type":"text","text":"{body}"}}]}}"#)
}

#[test]
fn tool_result_truncation() {
    let out = render(&result(10));
    assert_eq!(out.lines().count(), 7);
    assert!(out.starts_with("  line 1\n"));
    assert!(out.ends_with("  line 6\n  … (4 more lines)\n"), "{out}");
    assert!(render(&result(7)).ends_with("  line 6\n  … (1 more line)\n"));
    assert!(render(&result(6)).ends_with("  line 5\n  line 6\n"));
    assert!(render_with("0,80,1,0", &result(10)).ends_with("  line 9\n  line 10\n"));
    let long = format!(
        r#"{{"type":"agent.tool_result","content":"{}"}}"#,
        "x".repeat(200)
    );
    assert_eq!(
        render_with("0,30,0,0", &long),
        format!("  {}…\n", "x".repeat(27))
    );
    assert_eq!(
        render(r#"{"type":"agent.tool_result","content":[]}"#),
        "  (no output)\n"
    );
}

/// A streamed message "Hello world, this is a **bold**" whose final text is `final_text`.
fn deltas(final_text: &str) -> String {
    let mut out = String::from(
        r#"{"type":"session.status_running","id":"r"}
{"type":"event_start","event":{"type":"agent.message","id":"m1"}}"#,
    );
    for t in ["Hello wor", "ld, this is a ", "**bold**"] {
        let c = format!(r#"{{"type":"text","text":"{t}"}}"#);
        let d = format!(r#"{{"type":"content_delta","content":{c}}}"#);
        out += &format!("\n{{\"type\":\"event_delta\",\"event_id\":\"m1\",\"delta\":{d}}}");
    }
    out + &format!(
        r#"
{{"type":"agent.message","id":"m1","content":[{{"type":"text","text":"{final_text}"}}]}}
{{"type":"session.status_idle","id":"i","stop_reason":{{"type":"end_turn"}}}}
"#
    )
}

#[test]
fn deltas_then_final_message_not_duplicated() {
    let evs = deltas("Hello world, this is a **bold**");
    let expected = "· running\n\nHello world, this is a **bold**\n\n· idle (end_turn)\n";
    assert_eq!(render(&evs), expected);
    // A terminal without color cannot erase either: same text.
    assert_eq!(render_with("0,80,0,1", &evs), expected);
    // Live text wraps as it arrives.
    let narrow = "· running\n\nHello world, this is\na **bold**\n\n· idle (end_turn)\n";
    assert_eq!(render_with("0,20,0,0", &evs), narrow);
    // A color terminal erases the live rows and prints the formatted message.
    let out = render_with("1,80,0,1", &evs);
    assert!(out.contains("this is a\r\x1b[JHello world, this is a \x1b[1mbold"));
    let out = render_with("1,20,0,1", &evs);
    assert!(out.contains("\na\r\x1b[1A\x1b[JHello world, this is\na \x1b[1mbold"));
    // When the deltas missed text, the final message is printed as well.
    let out = render(&deltas("Hello world, this is a **bold** move"));
    assert!(out.contains("**bold**\n\nHello world, this is a bold move\n"));
}

#[test]
fn thinking_indicator_only_on_a_tty() {
    let evs = r#"{"type":"agent.thinking","id":"t"}
{"type":"agent.tool_use","id":"b","name":"read","input":{"file_path":"src/main.rs"}}"#;
    assert_eq!(render(evs), "▸ read  src/main.rs\n");
    let out = render_with("0,80,0,1", evs);
    assert_eq!(out, "thinking…\r         \r▸ read  src/main.rs\n");
    // finish() clears a lingering indicator.
    let out = render_with("0,80,0,1", evs.lines().next().unwrap());
    assert_eq!(out, "thinking…\r         \r");
}

#[test]
fn markdown_is_readable() {
    let md = "# Title\\n\\nUse *care* with snake_case_names and 2 * 3 * 4.\\n\\n\\n\
              1. first item that is long enough to wrap around\\n   - nested `x`\\n\
              > quoted\\n---\\nsee [docs](https://x.dev)";
    let ev = format!(r#"{{"type":"agent.message","id":"m","content":"{md}"}}"#);
    let expected = "\
Title

Use care with snake_case_names
and 2 * 3 * 4.

1. first item that is long
   enough to wrap around
   - nested `x`
> quoted
──────────────────────────────
see docs (https://x.dev)
";
    assert_eq!(render_with("0,30,0,0", &ev), expected);
    let out = render_with("1,30,0,0", &ev);
    assert!(out.contains("\x1b[3mcare\x1b[0m") && out.contains("\x1b[1mTitle\x1b[0m"));
    assert!(
        out.contains("\x1b[36mx\x1b[0m") && !out.contains('`'),
        "{out:?}"
    );
}

#[test]
fn user_messages_keep_their_indentation() {
    let out = render(
        r#"{"type":"user.message","id":"u1","content":[{"type":"text","text":"for x in y:\n    print(x)"}]}"#,
    );
    assert_eq!(out, "> for x in y:\n>     print(x)\n");
}

#[test]
fn verbose_spans_render_in_words() {
    let spans = r#"{"type":"span.model_request_start","id":"sevt_1"}
{"type":"span.model_request_end","model_request_start_id":"sevt_1","model_usage":{"input_tokens":5,"output_tokens":2}}
{"type":"span.outcome_evaluation_start","outcome_id":"out_1","iteration":1}
{"type":"span.outcome_evaluation_ongoing","outcome_id":"out_1","iteration":1}
{"type":"span.outcome_evaluation_end","outcome_id":"out_1","iteration":1,"result":"satisfied","explanation":"all tests pass","usage":{"input_tokens":3,"output_tokens":1}}
"#;
    let out = render_with("0,80,1,0", spans);
    assert!(!out.contains('{'), "no raw JSON: {out}");
    assert!(out.contains("· model request…"), "{out}");
    assert!(
        out.contains("· outcome evaluation started (iteration 1)"),
        "{out}"
    );
    assert!(
        out.contains("· outcome evaluation: satisfied — all tests pass"),
        "{out}"
    );
    assert_eq!(
        render_with("0,80,0,0", spans),
        "",
        "spans only when verbose"
    );
}
