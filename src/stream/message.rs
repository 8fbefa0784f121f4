//! `messages create --stream` (and `completions create --stream`) in pretty
//! form: the reply's text assembled as it arrives instead of raw deltas.

use std::io::Write;

use anstyle::Style;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::output::Printer;

/// Writes text deltas as they come; thinking dimmed; a newline at the end.
pub struct MessageText {
    out: Box<dyn Write>,
    color: bool,
    /// Kind of the content block being written ("text", "thinking", ...).
    block: String,
    at_line_start: bool,
    wrote: bool,
}

impl MessageText {
    pub fn new(out: Box<dyn Write>, color: bool) -> Self {
        MessageText {
            out,
            color,
            block: String::new(),
            at_line_start: true,
            wrote: false,
        }
    }

    fn write(&mut self, text: &str, style: Style) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let styled = if self.color && style != Style::new() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        };
        self.out
            .write_all(styled.as_bytes())
            .map_err(Error::from_write)?;
        self.out.flush().map_err(Error::from_write)?;
        self.at_line_start = text.ends_with('\n');
        self.wrote = true;
        Ok(())
    }

    fn end_line(&mut self) -> Result<()> {
        if !self.at_line_start {
            self.write("\n", Style::new())?;
        }
        Ok(())
    }
}

impl Printer for MessageText {
    fn item(&mut self, json: &str) -> Result<()> {
        self.event(json, &crate::json::value(json))
    }

    fn event(&mut self, _json: &str, ev: &Value) -> Result<()> {
        let dim = Style::new().dimmed();
        match ev.get("type").and_then(Value::as_str).unwrap_or("") {
            "content_block_start" => {
                let block = &ev["content_block"];
                self.block = block["type"].as_str().unwrap_or("").to_string();
                if self.block == "tool_use" || self.block == "server_tool_use" {
                    self.end_line()?;
                    let name = block["name"].as_str().unwrap_or("tool");
                    self.write(&format!("▸ {name} "), Style::new().bold())?;
                }
                if let Some(text) = block["text"].as_str() {
                    self.write(text, Style::new())?;
                }
            }
            "content_block_delta" => {
                let d = &ev["delta"];
                match d["type"].as_str().unwrap_or("") {
                    "text_delta" => self.write(d["text"].as_str().unwrap_or(""), Style::new())?,
                    "thinking_delta" => self.write(d["thinking"].as_str().unwrap_or(""), dim)?,
                    "input_json_delta" => {
                        self.write(d["partial_json"].as_str().unwrap_or(""), dim)?
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if self.block != "text" {
                    self.end_line()?;
                }
                self.block.clear();
            }
            // Legacy text completions.
            "completion" => self.write(ev["completion"].as_str().unwrap_or(""), Style::new())?,
            "message_stop" => self.end_line()?,
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if self.wrote {
            self.end_line()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_deltas_are_assembled_into_one_reply() {
        let buf = Buf::default();
        let mut m = MessageText::new(Box::new(buf.clone()), false);
        for ev in [
            json!({"type": "message_start", "message": {}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ", world"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            json!({"type": "message_stop"}),
        ] {
            m.item(&ev.to_string()).unwrap();
        }
        m.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf.0.lock().unwrap().clone()).unwrap(),
            "Hello, world\n"
        );
    }

    #[test]
    fn legacy_completions_assemble_too() {
        let buf = Buf::default();
        let mut m = MessageText::new(Box::new(buf.clone()), false);
        m.item(r#"{"type": "completion", "completion": " Hi"}"#)
            .unwrap();
        m.item(r#"{"type": "completion", "completion": " there"}"#)
            .unwrap();
        m.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf.0.lock().unwrap().clone()).unwrap(),
            " Hi there\n"
        );
    }
}
