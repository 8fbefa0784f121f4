//! The scripted model behind the Messages API (and batches): a message
//! request becomes a deterministic reply, chosen by directives in the last
//! user message (see docs/mock.md), and the reply becomes either one
//! `Message` or the stream of events the real API sends. Pure: no state, no
//! I/O; usage follows one rule, tokens = ceil(bytes / 4).

use serde_json::{Map, Value, json};

/// Tokens for `bytes` bytes of text or JSON: the one usage rule.
pub fn tokens(bytes: usize) -> u64 {
    bytes.div_ceil(4) as u64
}

/// Input tokens of a request: its `system`, `messages` and `tools`, as
/// compact JSON.
pub fn input_tokens(body: &Map<String, Value>) -> u64 {
    let bytes: usize = ["system", "messages", "tools"]
        .iter()
        .filter_map(|k| body.get(*k))
        .map(|v| v.to_string().len())
        .sum();
    tokens(bytes)
}

/// What the model answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub content: Vec<Value>,
    pub stop_reason: &'static str,
    pub stop_sequence: Option<String>,
    pub stop_details: Option<Value>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `/overload`: fail with `overloaded_error` (mid-stream, after this
    /// many events, when streaming).
    pub overload_after: Option<usize>,
    /// `/expire` (batches): the request expires instead of running.
    pub expire: bool,
    /// `/slow MS`: the pause between stream events, in milliseconds.
    pub slow_ms: u64,
}

/// A reply the request itself makes impossible (a `400`).
pub type Refused = String;

/// The text of the last user message (its text blocks, joined by newlines).
fn last_user_text(body: &Map<String, Value>) -> String {
    let messages = body.get("messages").and_then(Value::as_array);
    let last = messages.and_then(|m| m.iter().rev().find(|m| m["role"] == "user"));
    match last.map(|m| &m["content"]) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn tools(body: &Map<String, Value>) -> Vec<&Value> {
    body.get("tools")
        .and_then(Value::as_array)
        .map(|t| t.iter().collect())
        .unwrap_or_default()
}

fn tool_named<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    tools(body).into_iter().find(|t| t["name"] == name)
}

/// A tool's input: the given JSON, else a value of its `input_schema`.
fn tool_input(tool: &Value, given: Option<&str>) -> Result<Value, Refused> {
    if let Some(text) = given.map(str::trim).filter(|t| !t.is_empty()) {
        return match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(format!(
                "/tool {}: the input must be a JSON object, got {text:?}",
                tool["name"]
            )),
        };
    }
    let schema = tool.get("input_schema").cloned().unwrap_or(json!({}));
    let mut fill = crate::synth::Fill {
        now: "2026-01-01T00:00:00.000Z",
        seeded: false,
        counter: 0,
    };
    match crate::synth::value(&schema, "", &mut fill) {
        v @ Value::Object(_) => Ok(v),
        _ => Ok(json!({})),
    }
}

fn tool_use(name: &str, input: Value, n: usize) -> Value {
    json!({"type": "tool_use", "id": format!("toolu_01mock{n:018}"), "name": name, "input": input})
}

fn thinking_enabled(body: &Map<String, Value>) -> bool {
    matches!(
        body.get("thinking").and_then(|t| t["type"].as_str()),
        Some("enabled" | "adaptive")
    )
}

/// A signature for a thinking block (deterministic, opaque).
fn signature(text: &str) -> String {
    format!("mocksig_{}", &crate::sha256::hex(text.as_bytes())[..32])
}

/// The reply to a message request (`body` as validated by the router).
pub fn reply(body: &Map<String, Value>) -> Result<Reply, Refused> {
    let text = last_user_text(body);
    let choice = body
        .get("tool_choice")
        .and_then(|c| c["type"].as_str())
        .unwrap_or("auto");
    let mut content: Vec<Value> = Vec::new();
    let mut stop_reason = None;
    let mut stop_details = None;
    let mut overload_after = None;
    let mut expire = false;
    let mut slow_ms = 0;
    let mut echo: Vec<&str> = Vec::new();
    let flush = |echo: &mut Vec<&str>, content: &mut Vec<Value>| {
        if !echo.is_empty() {
            content.push(json!({"type": "text", "text": echo.join("\n")}));
            echo.clear();
        }
    };
    let mut thought = false;
    for line in text.lines() {
        let (word, rest) = match line.split_once(' ') {
            Some((w, r)) => (w, r.trim()),
            None => (line.trim_end(), ""),
        };
        if !word.starts_with('/') || word.len() < 2 {
            echo.push(line);
            continue;
        }
        flush(&mut echo, &mut content);
        match word {
            "/say" => content.push(json!({"type": "text", "text": rest})),
            "/think" => {
                if thinking_enabled(body) {
                    let t = if rest.is_empty() {
                        "Let me think."
                    } else {
                        rest
                    };
                    content.push(
                        json!({"type": "thinking", "thinking": t, "signature": signature(t)}),
                    );
                    thought = true;
                }
            }
            "/tool" => {
                if choice == "none" {
                    continue;
                }
                let (name, json) = rest.split_once(' ').unwrap_or((rest, ""));
                let tool = tool_named(body, name).ok_or_else(|| {
                    format!("/tool {name}: no tool named {name:?} in the request's tools")
                })?;
                let n = content.len();
                content.push(tool_use(name, tool_input(tool, Some(json))?, n));
            }
            "/refuse" => {
                stop_reason = Some("refusal");
                let why = if rest.is_empty() {
                    "I can't help with that."
                } else {
                    rest
                };
                stop_details =
                    Some(json!({"type": "refusal", "category": null, "explanation": why}));
                break;
            }
            "/pause" => {
                stop_reason = Some("pause_turn");
                break;
            }
            "/overload" => {
                overload_after = Some(rest.parse().unwrap_or(4));
            }
            "/expire" => expire = true,
            "/slow" => {
                slow_ms = rest
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| *ms <= 10_000)
                    .ok_or_else(|| format!("/slow {rest}: expected milliseconds, 0 to 10000"))?;
            }
            other => {
                return Err(format!(
                    "{other}: not a directive of the scripted model (see docs/mock.md)"
                ));
            }
        }
    }
    flush(&mut echo, &mut content);
    if thinking_enabled(body) && !thought {
        let first = text
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(60)
            .collect::<String>();
        let t = format!("The user wrote: {first}");
        content.insert(
            0,
            json!({"type": "thinking", "thinking": t, "signature": signature(&t)}),
        );
    }
    // A required tool choice the directives did not satisfy: call the tool.
    let has_tool = content.iter().any(|b| b["type"] == "tool_use");
    if !has_tool && stop_reason.is_none() {
        let wanted = match choice {
            "tool" => body["tool_choice"]["name"]
                .as_str()
                .and_then(|n| tool_named(body, n)),
            "any" => tools(body).into_iter().next(),
            _ => None,
        };
        if let Some(tool) = wanted {
            let n = content.len();
            content.push(tool_use(
                tool["name"].as_str().unwrap_or(""),
                tool_input(tool, None)?,
                n,
            ));
        }
    }
    if content.is_empty() && stop_reason.is_none() {
        content.push(json!({"type": "text", "text": "(empty message)"}));
    }
    let mut reply = Reply {
        stop_reason: stop_reason.unwrap_or(if content.iter().any(|b| b["type"] == "tool_use") {
            "tool_use"
        } else {
            "end_turn"
        }),
        content,
        stop_sequence: None,
        stop_details,
        input_tokens: input_tokens(body),
        output_tokens: 0,
        overload_after,
        expire,
        slow_ms,
    };
    stop_at_sequences(&mut reply, body);
    truncate(
        &mut reply,
        body.get("max_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX),
    );
    reply.output_tokens = reply.content.iter().map(block_tokens).sum();
    Ok(reply)
}

fn block_bytes(b: &Value) -> usize {
    match b["type"].as_str() {
        Some("text") => b["text"].as_str().map_or(0, str::len),
        Some("thinking") => b["thinking"].as_str().map_or(0, str::len),
        _ => b["input"].to_string().len(),
    }
}

fn block_tokens(b: &Value) -> u64 {
    tokens(block_bytes(b))
}

/// Cuts the text at the first of the request's `stop_sequences` it holds.
fn stop_at_sequences(reply: &mut Reply, body: &Map<String, Value>) {
    let seqs: Vec<&str> = body
        .get("stop_sequences")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for (i, block) in reply.content.iter_mut().enumerate() {
        let Some(text) = block["text"].as_str().filter(|_| block["type"] == "text") else {
            continue;
        };
        let hit = seqs
            .iter()
            .filter_map(|s| text.find(s).map(|at| (at, *s)))
            .min();
        if let Some((at, seq)) = hit {
            block["text"] = json!(text[..at]);
            reply.content.truncate(i + 1);
            reply.stop_reason = "stop_sequence";
            reply.stop_sequence = Some(seq.to_string());
            reply.stop_details = None;
            return;
        }
    }
}

/// Cuts the reply at `max_tokens` output tokens (`stop_reason: max_tokens`).
fn truncate(reply: &mut Reply, max_tokens: u64) {
    let mut budget = max_tokens.saturating_mul(4) as usize;
    for (i, block) in reply.content.iter_mut().enumerate() {
        let bytes = block_bytes(block);
        if bytes <= budget {
            budget -= bytes;
            continue;
        }
        let key = match block["type"].as_str() {
            Some("text") => "text",
            Some("thinking") => "thinking",
            _ => {
                // A tool call that does not fit is not sent at all.
                reply.content.truncate(i);
                reply.stop_reason = "max_tokens";
                return;
            }
        };
        let text = block[key].as_str().unwrap_or("");
        let mut cut = budget.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        block[key] = json!(text[..cut]);
        reply.content.truncate(i + 1);
        reply.stop_reason = "max_tokens";
        reply.stop_sequence = None;
        reply.stop_details = None;
        return;
    }
}

/// The reply as a `Message`.
pub fn message(reply: &Reply, id: &str, model: &str) -> Value {
    let mut m = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": reply.content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    });
    if let Some(d) = &reply.stop_details {
        m["stop_details"] = d.clone();
    }
    m
}

/// Splits text into stream deltas: pieces of about `size` bytes, cut at
/// spaces where possible (never inside a character).
fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        if let Some(space) = rest[..end]
            .rfind(' ')
            .filter(|s| *s > 0 && end < rest.len())
        {
            end = space + 1;
        }
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// The reply as the stream of `(event name, data)` the API sends:
/// `message_start`, `ping`, each block's `content_block_start`, deltas
/// (`text_delta`, `thinking_delta` then `signature_delta`,
/// `input_json_delta`) and `content_block_stop`, `message_delta` with the
/// stop reason and usage, `message_stop`; with `/overload`, an `error`
/// event (`overloaded_error`) after that many events instead of the rest.
pub fn events(reply: &Reply, id: &str, model: &str) -> Vec<(String, Value)> {
    let mut start = message(reply, id, model);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["stop_sequence"] = Value::Null;
    start["usage"]["output_tokens"] = json!(1);
    if let Some(m) = start.as_object_mut() {
        m.remove("stop_details");
    }
    let mut out = vec![
        (
            "message_start".to_string(),
            json!({"type": "message_start", "message": start}),
        ),
        ("ping".to_string(), json!({"type": "ping"})),
    ];
    let delta = |index: usize, d: Value| {
        (
            "content_block_delta".to_string(),
            json!({"type": "content_block_delta", "index": index, "delta": d}),
        )
    };
    for (index, block) in reply.content.iter().enumerate() {
        let (empty, deltas) = match block["type"].as_str() {
            Some("text") => {
                let text = block["text"].as_str().unwrap_or("");
                let ds = chunks(text, 16)
                    .into_iter()
                    .map(|c| delta(index, json!({"type": "text_delta", "text": c})))
                    .collect::<Vec<_>>();
                (json!({"type": "text", "text": ""}), ds)
            }
            Some("thinking") => {
                let text = block["thinking"].as_str().unwrap_or("");
                let mut ds: Vec<_> = chunks(text, 16)
                    .into_iter()
                    .map(|c| delta(index, json!({"type": "thinking_delta", "thinking": c})))
                    .collect();
                ds.push(delta(
                    index,
                    json!({"type": "signature_delta", "signature": block["signature"]}),
                ));
                (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    ds,
                )
            }
            _ => {
                let input = block["input"].to_string();
                let ds = chunks(&input, 12)
                    .into_iter()
                    .map(|c| {
                        delta(
                            index,
                            json!({"type": "input_json_delta", "partial_json": c}),
                        )
                    })
                    .collect();
                let mut empty = block.clone();
                empty["input"] = json!({});
                (empty, ds)
            }
        };
        out.push((
            "content_block_start".into(),
            json!({"type": "content_block_start", "index": index, "content_block": empty}),
        ));
        out.extend(deltas);
        out.push((
            "content_block_stop".into(),
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    let mut md = json!({
        "type": "message_delta",
        "delta": {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence},
        "usage": {"output_tokens": reply.output_tokens},
    });
    if let Some(d) = &reply.stop_details {
        md["delta"]["stop_details"] = d.clone();
    }
    out.push(("message_delta".into(), md));
    out.push(("message_stop".into(), json!({"type": "message_stop"})));
    if let Some(n) = reply.overload_after {
        out.truncate(n.min(out.len()));
        out.push((
            "error".into(),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded (injected by /overload)"}}),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn ask(text: &str) -> Map<String, Value> {
        req(
            json!({"model": "m", "max_tokens": 1000, "messages": [{"role": "user", "content": text}]}),
        )
    }

    #[test]
    fn text_is_echoed_and_usage_is_bytes_over_four() {
        let r = reply(&ask("hello there")).unwrap();
        assert_eq!(
            r.content,
            vec![json!({"type": "text", "text": "hello there"})]
        );
        assert_eq!((r.stop_reason, r.output_tokens), ("end_turn", 3));
        let body = ask("hello there");
        let bytes = body["messages"].to_string().len();
        assert_eq!(r.input_tokens, bytes.div_ceil(4) as u64);
    }

    #[test]
    fn stop_reasons_follow_directives_and_limits() {
        let r = reply(&ask("/refuse no")).unwrap();
        assert_eq!(
            (r.stop_reason, &r.stop_details),
            (
                "refusal",
                &Some(json!({"type": "refusal", "category": null, "explanation": "no"}))
            )
        );
        assert_eq!(reply(&ask("a\n/pause")).unwrap().stop_reason, "pause_turn");
        let mut b = ask("0123456789abcdef");
        b.insert("max_tokens".into(), json!(2));
        let r = reply(&b).unwrap();
        assert_eq!(
            (r.stop_reason, r.content[0]["text"].as_str()),
            ("max_tokens", Some("01234567"))
        );
        let mut b = ask("one STOP two");
        b.insert("stop_sequences".into(), json!(["STOP"]));
        let r = reply(&b).unwrap();
        assert_eq!(
            (r.stop_reason, r.stop_sequence.as_deref()),
            ("stop_sequence", Some("STOP"))
        );
        assert_eq!(r.content[0]["text"], "one ");
        assert!(reply(&ask("/nope")).is_err());
    }

    #[test]
    fn tools_follow_directives_and_tool_choice() {
        let tool = json!({"name": "get_weather", "input_schema": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}});
        let mut b = ask("/tool get_weather {\"city\": \"Paris\"}");
        b.insert("tools".into(), json!([tool]));
        let r = reply(&b).unwrap();
        assert_eq!(
            (r.stop_reason, r.content[0]["input"].clone()),
            ("tool_use", json!({"city": "Paris"}))
        );
        b.insert("tool_choice".into(), json!({"type": "none"}));
        assert_eq!(reply(&b).unwrap().stop_reason, "end_turn");
        let mut b = ask("what is the weather?");
        b.insert("tools".into(), json!([tool]));
        b.insert("tool_choice".into(), json!({"type": "any"}));
        let r = reply(&b).unwrap();
        assert_eq!(r.content[1]["name"], "get_weather");
        assert!(r.content[1]["input"]["city"].is_string());
        assert!(
            reply(&ask("/tool missing"))
                .unwrap_err()
                .contains("no tool named")
        );
    }

    #[test]
    fn streams_reassemble_to_the_message() {
        let mut b = ask("/think hmm\nhello, a longer text that takes several deltas");
        b.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": 1024}),
        );
        let r = reply(&b).unwrap();
        let evs = events(&r, "msg_1", "m");
        let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[..3], ["message_start", "ping", "content_block_start"]);
        assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
        let text: String = evs
            .iter()
            .filter(|(_, d)| d["delta"]["type"] == "text_delta")
            .map(|(_, d)| d["delta"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(text, r.content[1]["text"].as_str().unwrap());
        assert!(
            evs.iter()
                .any(|(_, d)| d["delta"]["type"] == "signature_delta")
        );
        let r = reply(&ask("x\n/overload 3")).unwrap();
        let evs = events(&r, "msg_1", "m");
        assert_eq!(evs.len(), 4);
        assert_eq!(evs[3].1["error"]["type"], "overloaded_error");
    }
}
