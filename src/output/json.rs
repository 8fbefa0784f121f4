//! JSON rendering for `json`, `jsonl` and `raw`: one writer for indented and
//! compact layouts, with optional colours in the style of gh's jsoncolor
//! (keys bold blue, strings green, numbers cyan, booleans yellow, null grey).
//! Without colour the bytes equal `serde_json`'s own output.

use anstyle::{AnsiColor, Color, Style};
use serde_json::Value;
use std::fmt::Write as _;

/// The styles used for coloured JSON (also reused by `pretty` for keys).
pub(crate) const KEY: Style = Style::new()
    .fg_color(Some(Color::Ansi(AnsiColor::Blue)))
    .bold();
const STRING: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Green)));
const NUMBER: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Cyan)));
const BOOL: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Yellow)));
const NULL: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::BrightBlack)));

/// Appends `text` to `out`, wrapped in `style` when `color` is on.
pub(crate) fn paint(out: &mut String, style: Style, color: bool, text: &str) {
    if color {
        let _ = write!(out, "{}{text}{}", style.render(), style.render_reset());
    } else {
        out.push_str(text);
    }
}

/// Renders `value` as JSON. `indent` is `Some(step)` for the pretty layout
/// (one key per line) and `None` for a single compact line. No trailing newline.
pub(crate) fn render(value: &Value, indent: Option<usize>, color: bool) -> String {
    let mut out = String::new();
    let mut w = Writer {
        out: &mut out,
        indent,
        color,
    };
    w.value(value, 0);
    out
}

struct Writer<'a> {
    out: &'a mut String,
    indent: Option<usize>,
    color: bool,
}

impl Writer<'_> {
    fn value(&mut self, v: &Value, depth: usize) {
        match v {
            Value::Null => paint(self.out, NULL, self.color, "null"),
            Value::Bool(b) => paint(
                self.out,
                BOOL,
                self.color,
                if *b { "true" } else { "false" },
            ),
            Value::Number(n) => paint(self.out, NUMBER, self.color, &n.to_string()),
            Value::String(s) => paint(self.out, STRING, self.color, &quote(s)),
            Value::Array(items) => {
                if items.is_empty() {
                    self.out.push_str("[]");
                    return;
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1);
                }
                self.newline(depth);
                self.out.push(']');
            }
            Value::Object(map) => {
                if map.is_empty() {
                    self.out.push_str("{}");
                    return;
                }
                self.out.push('{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    paint(self.out, KEY, self.color, &quote(k));
                    self.out.push(':');
                    if self.indent.is_some() {
                        self.out.push(' ');
                    }
                    self.value(item, depth + 1);
                }
                self.newline(depth);
                self.out.push('}');
            }
        }
    }

    fn newline(&mut self, depth: usize) {
        if let Some(step) = self.indent {
            self.out.push('\n');
            self.out.extend(std::iter::repeat_n(' ', step * depth));
        }
    }
}

/// A JSON string literal with serde_json's escaping (control characters,
/// including ESC, are escaped, so output can't drive the terminal).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"id": "a_1", "n": 3, "f": 1.5, "ok": true, "none": null,
               "tags": ["x", "y"], "empty": [], "obj": {}, "nested": {"k": [{"z": "\u{1b}"}]}})
    }

    #[test]
    fn uncolored_matches_serde_json_byte_for_byte() {
        let v = sample();
        assert_eq!(
            render(&v, Some(2), false),
            serde_json::to_string_pretty(&v).unwrap()
        );
        assert_eq!(render(&v, None, false), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn keys_keep_received_order() {
        let v: Value = serde_json::from_str(r#"{"z":1,"a":2,"m":3}"#).unwrap();
        assert_eq!(render(&v, None, false), r#"{"z":1,"a":2,"m":3}"#);
    }

    #[test]
    fn colored_output_styles_each_token_kind() {
        let s = render(
            &json!({"k": "v", "n": 1, "b": false, "z": null}),
            None,
            true,
        );
        assert!(s.contains("\x1b["), "{s:?}");
        let key = format!("{}\"k\"{}", KEY.render(), KEY.render_reset());
        let string = format!("{}\"v\"{}", STRING.render(), STRING.render_reset());
        let num = format!("{}1{}", NUMBER.render(), NUMBER.render_reset());
        let boolean = format!("{}false{}", BOOL.render(), BOOL.render_reset());
        let null = format!("{}null{}", NULL.render(), NULL.render_reset());
        for part in [key, string, num, boolean, null] {
            assert!(s.contains(&part), "{part:?} not in {s:?}");
        }
        // Stripping the escapes gives plain JSON back.
        assert_eq!(strip(&s), r#"{"k":"v","n":1,"b":false,"z":null}"#);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            render(&json!("a\u{1b}[31m"), None, false),
            r#""a\u001b[31m""#
        );
    }

    pub(crate) fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
