//! The scripted agent: there is no model offline, so each session runs a
//! deterministic interpreter of the user's message. Lines starting with a
//! directive (`/say`, `/think`, `/sleep`, `/fail`, `/budget`, `/refuse`,
//! `/bash`, `/read`, `/write`, `/edit`, `/glob`, `/grep`, `/tool`) are
//! actions, in order; other text is echoed back as an `agent.message`.
//! See docs/mock.md.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::store::events::{emit, preview, wants_previews};
use crate::store::{Shared, new_id};

/// One action of a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Plain text: echoed back as an agent message.
    Echo(String),
    Say(String),
    Think(String),
    /// Hold the turn open this long (an interrupt ends it).
    Sleep(Duration),
    Fail(String),
    /// End the turn with `budget_reached`.
    Budget,
    /// End the turn with `refusal` and this explanation.
    Refuse(String),
    /// A built-in tool of `agent_toolset_20260401`.
    Builtin {
        name: &'static str,
        input: Value,
    },
    /// `/tool NAME JSON`: a custom tool the client must answer.
    Custom {
        name: String,
        input: Value,
    },
}

const DIRECTIVES: &[&str] = &[
    "say", "think", "sleep", "fail", "budget", "refuse", "bash", "read", "write", "edit", "glob",
    "grep", "tool",
];

/// The longest `/sleep`, so a typo cannot hold a session for days.
const MAX_SLEEP: f64 = 3600.0;

/// Splits `/word rest` when `word` is a directive.
fn directive(line: &str) -> Option<(&'static str, &str)> {
    let rest = line.strip_prefix('/')?;
    let (word, arg) = rest.split_once(' ').unwrap_or((rest, ""));
    DIRECTIVES
        .iter()
        .find(|d| **d == word)
        .map(|d| (*d, arg.trim()))
}

/// Parses a user message into steps.
pub fn parse(text: &str) -> Vec<Step> {
    let lines: Vec<&str> = text.lines().collect();
    let mut steps = Vec::new();
    let mut echo: Vec<&str> = Vec::new();
    let flush = |echo: &mut Vec<&str>, steps: &mut Vec<Step>| {
        let t = echo.join("\n").trim().to_string();
        if !t.is_empty() {
            steps.push(Step::Echo(t));
        }
        echo.clear();
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let Some((word, arg)) = directive(line.trim_end()) else {
            echo.push(line);
            continue;
        };
        flush(&mut echo, &mut steps);
        let mut block = |stop: &[&str]| -> (Vec<String>, Option<String>) {
            let mut out = Vec::new();
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                if stop.contains(&l.trim_end()) {
                    return (out, Some(l.trim_end().to_string()));
                }
                out.push(l.to_string());
            }
            (out, None)
        };
        let step = match word {
            // `/read {"file_path": "a", "view_range": [1, 2]}`: the whole input as JSON.
            "bash" | "read" | "glob" | "grep" if arg.starts_with('{') => {
                match serde_json::from_str::<Value>(arg) {
                    Ok(input @ Value::Object(_)) => Step::Builtin { name: word, input },
                    _ => Step::Fail(format!("/{word}: the input is not a JSON object: {arg}")),
                }
            }
            "say" => Step::Say(arg.to_string()),
            "think" => Step::Think(arg.to_string()),
            "fail" => Step::Fail(if arg.is_empty() {
                "scripted failure".into()
            } else {
                arg.to_string()
            }),
            "sleep" => match arg.parse::<f64>() {
                Ok(secs) if (0.0..=MAX_SLEEP).contains(&secs) => {
                    Step::Sleep(Duration::from_secs_f64(secs))
                }
                _ => Step::Fail(format!(
                    "/sleep: expected a number of seconds from 0 to {MAX_SLEEP}, got {arg:?}"
                )),
            },
            "budget" => Step::Budget,
            "refuse" => Step::Refuse(if arg.is_empty() {
                "scripted refusal".into()
            } else {
                arg.to_string()
            }),
            "bash" => Step::Builtin {
                name: "bash",
                input: json!({ "command": arg }),
            },
            "read" => Step::Builtin {
                name: "read",
                input: json!({ "file_path": arg }),
            },
            "glob" => Step::Builtin {
                name: "glob",
                input: json!({ "pattern": arg }),
            },
            "grep" => Step::Builtin {
                name: "grep",
                input: json!({ "pattern": arg }),
            },
            "write" => {
                let (content, _) = block(&["/end"]);
                let mut content = content.join("\n");
                if !content.is_empty() {
                    content.push('\n');
                }
                Step::Builtin {
                    name: "write",
                    input: json!({ "file_path": arg, "content": content }),
                }
            }
            "edit" => {
                let (old, stop) = block(&["/with", "/end"]);
                let new = if stop.as_deref() == Some("/with") {
                    block(&["/end"]).0
                } else {
                    Vec::new()
                };
                Step::Builtin {
                    name: "edit",
                    input: json!({ "file_path": arg, "old_string": old.join("\n"), "new_string": new.join("\n") }),
                }
            }
            _ => {
                let (name, raw) = arg.split_once(' ').unwrap_or((arg, ""));
                let raw = raw.trim();
                match if raw.is_empty() {
                    Ok(json!({}))
                } else {
                    serde_json::from_str::<Value>(raw)
                } {
                    Ok(input @ Value::Object(_)) => Step::Custom {
                        name: name.to_string(),
                        input,
                    },
                    _ => Step::Fail(format!(
                        "/tool {name}: the input must be a JSON object, got {raw:?}"
                    )),
                }
            }
        };
        steps.push(step);
    }
    flush(&mut echo, &mut steps);
    steps
}

/// The text of a `user.message` event (its text blocks, one per line).
fn message_text(ev: &Value) -> String {
    ev["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

enum Wait {
    Got(Value),
    Interrupted,
    Closed,
}

struct Worker {
    shared: Arc<Shared>,
    sid: String,
    rx: UnboundedReceiver<Value>,
    queue: VecDeque<Value>,
}

/// Pause between agent events, so streams see a realistic cadence.
const STEP: Duration = Duration::from_millis(5);

/// Runs a session's agent: one turn per `user.message`, until the session
/// is deleted.
pub async fn run(shared: Arc<Shared>, sid: String, rx: UnboundedReceiver<Value>) {
    let mut w = Worker {
        shared,
        sid,
        rx,
        queue: VecDeque::new(),
    };
    loop {
        let ev = match w.queue.pop_front() {
            Some(ev) => ev,
            None => match w.rx.recv().await {
                Some(ev) => ev,
                None => return,
            },
        };
        match ev["type"].as_str() {
            Some("user.message") => {
                // A queued message is processed (stored and streamed) now.
                if ev["processed_at"].is_null() && w.emit(ev.clone()).is_none() {
                    return;
                }
                let done = w.turn(&message_text(&ev)).await;
                if let Ok(sess) = w.shared.lock().session_mut(&w.sid) {
                    sess.unprocessed = sess.unprocessed.saturating_sub(1);
                }
                if done.is_none() {
                    return;
                }
            }
            // Interrupting an idle session: acknowledge with an idle status.
            Some("user.interrupt") if w.idle(json!({ "type": "end_turn" })).is_none() => return,
            _ => {}
        }
    }
}

impl Worker {
    fn emit(&self, ev: Value) -> Option<Value> {
        let mut st = self.shared.lock();
        emit(&mut st, &self.sid, ev)
    }

    fn idle(&self, stop_reason: Value) -> Option<Value> {
        self.emit(json!({ "type": "session.status_idle", "stop_reason": stop_reason }))
    }

    /// Drains the inbox without waiting; true when the user interrupted.
    fn interrupted(&mut self) -> bool {
        while let Ok(ev) = self.rx.try_recv() {
            if ev["type"] == "user.interrupt" {
                return true;
            }
            self.queue.push_back(ev);
        }
        false
    }

    async fn wait_for(&mut self, ty: &str, key: &str, id: &str) -> Wait {
        loop {
            let Some(ev) = self.rx.recv().await else {
                return Wait::Closed;
            };
            if ev["type"] == "user.interrupt" {
                return Wait::Interrupted;
            }
            if ev["type"] == ty && ev[key] == id {
                return Wait::Got(ev);
            }
            self.queue.push_back(ev);
        }
    }

    async fn turn(&mut self, text: &str) -> Option<()> {
        self.emit(json!({ "type": "session.status_running" }))?;
        for step in parse(text) {
            tokio::time::sleep(STEP).await;
            if self.interrupted() {
                self.idle(json!({ "type": "end_turn" }))?;
                return Some(());
            }
            let done = match step {
                Step::Echo(t) | Step::Say(t) => self.model_step(|w| w.message(&t)).await?,
                Step::Think(t) => self.model_step(|w| w.thinking(&t)).await?,
                Step::Fail(t) => {
                    self.fail(&t).await?;
                    return Some(());
                }
                Step::Sleep(d) => self.sleep(d).await?,
                Step::Budget => {
                    self.idle(json!({ "type": "budget_reached" }))?;
                    return Some(());
                }
                Step::Refuse(explanation) => {
                    self.emit(json!({
                        "type": "session.status_idle",
                        "stop_reason": { "type": "refusal" },
                        "stop_details": { "type": "refusal", "category": "general_harms", "explanation": explanation },
                    }))?;
                    return Some(());
                }
                Step::Builtin { name, input } => self.builtin(name, input).await?,
                Step::Custom { name, input } => self.custom(name, input).await?,
            };
            if done {
                return Some(());
            }
        }
        self.idle(json!({ "type": "end_turn" }))?;
        Some(())
    }

    /// A model request span around whatever `f` emits; returns `Some(false)`
    /// (the turn goes on).
    async fn model_step(&mut self, f: impl FnOnce(&mut Self) -> Option<usize>) -> Option<bool> {
        let start = self.emit(json!({ "type": "span.model_request_start" }))?;
        tokio::time::sleep(STEP).await;
        let out_tokens = f(self)?;
        self.span_end(&start, out_tokens, false)?;
        Some(false)
    }

    fn span_end(&self, start: &Value, output_tokens: usize, is_error: bool) -> Option<Value> {
        let input_tokens = 100
            + self
                .shared
                .lock()
                .session(&self.sid)
                .map(|s| s.events.len())
                .unwrap_or(0)
                * 10;
        {
            let mut st = self.shared.lock();
            if let Ok(s) = st.session_mut(&self.sid) {
                let u = &mut s.json["usage"];
                u["input_tokens"] =
                    json!(u["input_tokens"].as_u64().unwrap_or(0) + input_tokens as u64);
                u["output_tokens"] =
                    json!(u["output_tokens"].as_u64().unwrap_or(0) + output_tokens as u64);
            }
        }
        self.emit(json!({
            "type": "span.model_request_end",
            "model_request_start_id": start["id"],
            "is_error": is_error,
            "model_usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "speed": "standard",
            },
        }))
    }

    /// An agent message, preceded by `event_start`/`event_delta` previews
    /// for streams that asked for them.
    fn message(&mut self, text: &str) -> Option<usize> {
        let id = new_id("sevt");
        let mut st = self.shared.lock();
        if wants_previews(&mut st, &self.sid, "agent.message") {
            preview(
                &mut st,
                &self.sid,
                "agent.message",
                json!({
                    "type": "event_start",
                    "event": { "id": id, "type": "agent.message" },
                }),
            );
            for chunk in chunks(text, 4) {
                preview(
                    &mut st,
                    &self.sid,
                    "agent.message",
                    json!({
                        "type": "event_delta",
                        "event_id": id,
                        "delta": { "type": "content_delta", "index": 0, "content": { "type": "text", "text": chunk } },
                    }),
                );
            }
        }
        emit(
            &mut st,
            &self.sid,
            json!({
                "id": id,
                "type": "agent.message",
                "content": [{ "type": "text", "text": text }],
            }),
        )?;
        Some(text.len() / 4 + 1)
    }

    fn thinking(&mut self, text: &str) -> Option<usize> {
        let id = new_id("sevt");
        let mut st = self.shared.lock();
        if wants_previews(&mut st, &self.sid, "agent.thinking") {
            preview(
                &mut st,
                &self.sid,
                "agent.thinking",
                json!({
                    "type": "event_start",
                    "event": { "id": id, "type": "agent.thinking" },
                }),
            );
        }
        emit(
            &mut st,
            &self.sid,
            json!({ "id": id, "type": "agent.thinking" }),
        )?;
        Some(text.len() / 4 + 1)
    }

    async fn fail(&mut self, text: &str) -> Option<()> {
        let start = self.emit(json!({ "type": "span.model_request_start" }))?;
        tokio::time::sleep(STEP).await;
        self.span_end(&start, 0, true)?;
        self.emit(json!({
            "type": "session.error",
            "error": { "type": "unknown_error", "message": text, "retry_status": { "type": "exhausted" } },
        }))?;
        self.idle(json!({ "type": "retries_exhausted" }))?;
        Some(())
    }

    /// Holds the turn open; returns `Some(true)` when an interrupt ended it.
    async fn sleep(&mut self, d: Duration) -> Option<bool> {
        let wake = tokio::time::sleep(d);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => return Some(false),
                ev = self.rx.recv() => match ev {
                    None => return None,
                    Some(ev) if ev["type"] == "user.interrupt" => {
                        self.idle(json!({ "type": "end_turn" }))?;
                        return Some(true);
                    }
                    Some(ev) => self.queue.push_back(ev),
                },
            }
        }
    }

    /// Whether a built-in tool is enabled and its permission policy type.
    fn permission(&self, name: &str) -> (bool, String) {
        let st = self.shared.lock();
        let Ok(sess) = st.session(&self.sid) else {
            return (false, String::new());
        };
        let tools = sess.json["agent"]["tools"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(ts) = tools.iter().find(|t| t["type"] == "agent_toolset_20260401") else {
            return (false, String::new());
        };
        let dc = &ts["default_config"];
        let cfg = ts["configs"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == name));
        let enabled = cfg
            .and_then(|c| c["enabled"].as_bool())
            .or(dc["enabled"].as_bool())
            .unwrap_or(true);
        let policy = cfg
            .and_then(|c| c["permission_policy"]["type"].as_str())
            .or(dc["permission_policy"]["type"].as_str())
            .unwrap_or("always_allow");
        (enabled, policy.to_string())
    }

    fn tool_result(&self, tool_use_id: &Value, text: &str, is_error: bool) -> Option<Value> {
        self.emit(json!({
            "type": "agent.tool_result",
            "tool_use_id": tool_use_id,
            "content": [{ "type": "text", "text": text }],
            "is_error": is_error,
        }))
    }

    /// Returns `Some(true)` when the turn ended (interrupt).
    async fn builtin(&mut self, name: &'static str, input: Value) -> Option<bool> {
        let (enabled, policy) = self.permission(name);
        let start = self.emit(json!({ "type": "span.model_request_start" }))?;
        tokio::time::sleep(STEP).await;
        let (permission, evaluation) = match (enabled, policy.as_str()) {
            (false, _) => ("deny", Value::Null),
            (true, "always_ask") => ("ask", json!({ "type": "always_ask" })),
            (true, "auto") => (
                "allow",
                json!({ "type": "auto", "evaluated_permission": { "type": "allow" } }),
            ),
            (true, _) => ("allow", json!({ "type": "always_allow" })),
        };
        let tool_use = self.emit(json!({
            "type": "agent.tool_use",
            "name": name,
            "input": input,
            "evaluated_permission": permission,
            "evaluation": evaluation,
        }))?;
        self.span_end(&start, 20, false)?;
        let id = tool_use["id"].clone();
        let id_str = id.as_str().unwrap_or("").to_string();
        if !enabled {
            let why = if policy.is_empty() {
                "the agent has no agent_toolset_20260401 tool".to_string()
            } else {
                format!("the {name} tool is disabled in this agent's toolset configuration")
            };
            self.tool_result(&id, &format!("Tool use refused: {why}"), true)?;
            return Some(false);
        }
        if permission == "ask" {
            self.idle(json!({ "type": "requires_action", "event_ids": [id_str] }))?;
            let confirmation = match self
                .wait_for("user.tool_confirmation", "tool_use_id", &id_str)
                .await
            {
                Wait::Got(ev) => ev,
                Wait::Interrupted => {
                    self.idle(json!({ "type": "end_turn" }))?;
                    return Some(true);
                }
                Wait::Closed => return None,
            };
            self.emit(json!({ "type": "session.status_running" }))?;
            if confirmation["result"] != "allow" {
                let msg = confirmation["deny_message"]
                    .as_str()
                    .unwrap_or("The user denied this tool use.");
                self.tool_result(&id, msg, true)?;
                return Some(false);
            }
        }
        let (self_hosted, sandbox) = {
            let st = self.shared.lock();
            let s = st.session(&self.sid).ok()?;
            (s.self_hosted, s.sandbox.clone())
        };
        if self_hosted {
            // A self-hosted worker runs the tool and answers with user.tool_result.
            return match self
                .wait_for("user.tool_result", "tool_use_id", &id_str)
                .await
            {
                Wait::Got(_) => Some(false),
                Wait::Interrupted => {
                    self.idle(json!({ "type": "end_turn" }))?;
                    Some(true)
                }
                Wait::Closed => None,
            };
        }
        // Race the tool against the inbox: a `user.interrupt` drops the tool
        // future, which kills a running `/bash` command's process group.
        let mut tool = Box::pin(crate::tools::run(
            name,
            &input,
            &sandbox,
            self.shared.config.allow_bash,
        ));
        let (text, is_error) = loop {
            tokio::select! {
                res = &mut tool => break res,
                ev = self.rx.recv() => match ev {
                    None => return None,
                    Some(ev) if ev["type"] == "user.interrupt" => {
                        drop(tool);
                        self.tool_result(&id, "Interrupted by the user; the tool was stopped.", true)?;
                        self.idle(json!({ "type": "end_turn" }))?;
                        return Some(true);
                    }
                    Some(ev) => self.queue.push_back(ev),
                },
            }
        };
        self.tool_result(&id, &text, is_error)?;
        Some(false)
    }

    async fn custom(&mut self, name: String, input: Value) -> Option<bool> {
        let start = self.emit(json!({ "type": "span.model_request_start" }))?;
        tokio::time::sleep(STEP).await;
        let ev =
            self.emit(json!({ "type": "agent.custom_tool_use", "name": name, "input": input }))?;
        self.span_end(&start, 20, false)?;
        let id = ev["id"].as_str().unwrap_or("").to_string();
        self.idle(json!({ "type": "requires_action", "event_ids": [id] }))?;
        match self
            .wait_for("user.custom_tool_result", "custom_tool_use_id", &id)
            .await
        {
            Wait::Got(_) => {
                self.emit(json!({ "type": "session.status_running" }))?;
                Some(false)
            }
            Wait::Interrupted => {
                self.idle(json!({ "type": "end_turn" }))?;
                Some(true)
            }
            Wait::Closed => None,
        }
    }
}

/// Splits text into at most `n` pieces on char boundaries.
fn chunks(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(n).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives_in_order() {
        let steps = parse(
            "hello\n/say hi\n/write a.txt\nx\ny\n/end\n/edit a.txt\nx\n/with\nz\n/end\n/tool get {\"k\":1}\nbye",
        );
        assert_eq!(steps[0], Step::Echo("hello".into()));
        assert_eq!(steps[1], Step::Say("hi".into()));
        assert_eq!(
            steps[2],
            Step::Builtin {
                name: "write",
                input: json!({"file_path": "a.txt", "content": "x\ny\n"})
            }
        );
        assert_eq!(
            steps[3],
            Step::Builtin {
                name: "edit",
                input: json!({"file_path": "a.txt", "old_string": "x", "new_string": "z"})
            }
        );
        assert_eq!(
            steps[4],
            Step::Custom {
                name: "get".into(),
                input: json!({"k": 1})
            }
        );
        assert_eq!(steps[5], Step::Echo("bye".into()));
        assert_eq!(
            parse("/unknown thing"),
            vec![Step::Echo("/unknown thing".into())]
        );
        assert_eq!(chunks("abcdefgh", 4).concat(), "abcdefgh");
        assert_eq!(
            parse("/read {\"file_path\": \"a\", \"view_range\": [1, 2]}"),
            vec![Step::Builtin {
                name: "read",
                input: json!({"file_path": "a", "view_range": [1, 2]})
            }]
        );
    }
}
