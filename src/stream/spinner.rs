//! While a session works with nothing new to show (a long model call, a
//! tool that runs for a minute), a spinner on stderr says what the stream
//! waits for and for how long, so `beta:sessions run` never looks hung. Only
//! on a terminal: piped or redirected stderr never gets one. Output written
//! meanwhile (the transcript, notes on stderr) goes through [`suspend`], so
//! the spinner's line is cleared first and drawn again after.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::error::Result;
use crate::output::Printer;

/// The spinner on the screen, for [`suspend`].
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `f` (which writes to the terminal) with the spinner cleared.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = SHOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// `eprintln!` that first clears the spinner, if one is on the screen.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::stream::spinner::suspend(|| eprintln!($($arg)*))
    };
}
pub(crate) use note;

/// What the stream waits for after `ev`: `Some(Some(text))` to show (or
/// keep showing) a spinner saying `text`, `Some(None)` to hide it (the
/// session is at rest, or waits for the client), `None` to leave it as is.
pub fn wait_after(ev: &Value) -> Option<Option<String>> {
    let ty = ev["type"].as_str().unwrap_or("");
    let working = || Some(Some("the agent is working".to_string()));
    match ty {
        "span.model_request_start" | "agent.thinking" => Some(Some("waiting for the model".into())),
        "event_start" if ev["event"]["type"] == "agent.thinking" => {
            Some(Some("waiting for the model".into()))
        }
        "agent.tool_use" | "agent.mcp_tool_use" if ev["evaluated_permission"] == "ask" => {
            Some(None)
        }
        "agent.tool_use" | "agent.mcp_tool_use" => {
            let name = ev["name"].as_str().unwrap_or("a tool");
            let name: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
            Some(Some(format!("running {name}")))
        }
        "session.status_rescheduled" => Some(Some("waiting for the session to restart".into())),
        // Live text is being written on stdout's line: no spinner under it.
        "event_start" | "event_delta" => Some(None),
        "agent.custom_tool_use" | "session.deleted" => Some(None),
        _ if ty.starts_with("session.status_") && ty != "session.status_running" => Some(None),
        "session.status_running"
        | "user.message"
        | "user.tool_confirmation"
        | "user.custom_tool_result"
        | "agent.tool_result"
        | "agent.mcp_tool_result"
        | "user.tool_result"
        | "span.model_request_end"
        | "agent.message" => working(),
        _ => None,
    }
}

/// A printer of session events that keeps a spinner going between them.
pub struct Spinning {
    inner: Box<dyn Printer>,
    bar: Option<ProgressBar>,
    text: String,
}

impl Spinning {
    /// Wraps `inner`; the spinner starts with "waiting for events".
    pub fn new(inner: Box<dyn Printer>) -> Spinning {
        let mut s = Spinning {
            inner,
            bar: None,
            text: String::new(),
        };
        s.show("waiting for events");
        s
    }

    fn show(&mut self, text: &str) {
        if self.bar.is_some() && self.text == text {
            return;
        }
        self.text = text.to_string();
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
            bar
        });
        bar.reset_elapsed();
        bar.set_message(text.to_string());
    }

    fn hide(&mut self) {
        if let Some(bar) = self.bar.take() {
            *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = None;
            bar.finish_and_clear();
        }
    }
}

impl Drop for Spinning {
    fn drop(&mut self) {
        self.hide();
    }
}

impl Spinning {
    /// Shows or hides the spinner for what comes after `ev`.
    fn after(&mut self, ev: &Value) {
        match wait_after(ev) {
            Some(Some(text)) => self.show(&text),
            Some(None) => self.hide(),
            None => {}
        }
    }
}

impl Printer for Spinning {
    fn item(&mut self, json: &str) -> Result<()> {
        let inner = &mut self.inner;
        let printed = suspend(|| inner.item(json));
        if let Ok(ev) = serde_json::from_str::<Value>(json) {
            self.after(&ev);
        }
        printed
    }

    fn event(&mut self, json: &str, value: &Value) -> Result<()> {
        let inner = &mut self.inner;
        let printed = suspend(|| inner.event(json, value));
        self.after(value);
        printed
    }

    fn finish(&mut self) -> Result<()> {
        self.hide();
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn after(ev: Value) -> Option<Option<String>> {
        wait_after(&ev)
    }

    #[test]
    fn says_what_the_session_waits_for() {
        let shows = |ev: Value, text: &str| assert_eq!(after(ev), Some(Some(text.to_string())));
        shows(
            json!({"type": "span.model_request_start"}),
            "waiting for the model",
        );
        shows(
            json!({"type": "agent.tool_use", "name": "bash"}),
            "running bash",
        );
        shows(
            json!({"type": "session.status_running"}),
            "the agent is working",
        );
        shows(json!({"type": "user.tool_result"}), "the agent is working");
        shows(
            json!({"type": "session.status_rescheduled"}),
            "waiting for the session to restart",
        );
        // At rest, or waiting for the client: no spinner.
        for ev in [
            json!({"type": "session.status_idle"}),
            json!({"type": "session.status_terminated"}),
            json!({"type": "agent.custom_tool_use"}),
            json!({"type": "agent.tool_use", "name": "bash", "evaluated_permission": "ask"}),
            json!({"type": "event_delta", "delta": {"content": {"text": "hel"}}}),
        ] {
            assert_eq!(after(ev.clone()), Some(None), "{ev}");
        }
        assert_eq!(after(json!({"type": "session.usage"})), None);
        // A tool name from the server cannot write escapes.
        assert_eq!(
            after(json!({"type": "agent.tool_use", "name": "x\u{1b}[2J"})),
            Some(Some("running x[2J".into()))
        );
    }
}
