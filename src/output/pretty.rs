//! The `pretty` format: a readable layout for people at a terminal.
//! `key: value` lines with nested objects indented, `- ` blocks for arrays,
//! yes/no for booleans, `(empty)`/`(none)` placeholders, a dim `null`, blue keys when
//! colour is on, and strings cut to the terminal width (with `…`) only when
//! stdout is a TTY. Control characters are shown escaped, never sent raw.

use super::Terminal;
use super::json::{KEY, paint};
use anstyle::Style;
use serde_json::Value;

const DIM: Style = Style::new().dimmed();
const INDENT: usize = 2;
/// Never truncate a value to fewer columns than this, however long its key.
const MIN_AVAIL: usize = 10;

/// Renders one item; every line ends with `\n`.
pub(crate) fn render(value: &Value, term: &Terminal) -> String {
    let mut p = Pretty {
        term,
        lines: Vec::new(),
    };
    p.block(value, 0);
    let mut out = String::new();
    for line in p.lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A dim title rule shown before the first item on a TTY, e.g. `── beta:agents list ──…`.
pub(crate) fn header(title: &str, term: &Terminal) -> String {
    let head = format!("── {} ", clean(title));
    let total = term.width.clamp(MIN_AVAIL, 60);
    let fill = total.saturating_sub(width(&head)).max(2);
    let mut out = String::new();
    paint(
        &mut out,
        DIM,
        term.color,
        &format!("{head}{}", "─".repeat(fill)),
    );
    out.push('\n');
    out
}

struct Pretty<'a> {
    term: &'a Terminal,
    lines: Vec<String>,
}

impl Pretty<'_> {
    /// A value laid out on its own lines at `indent`.
    fn block(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, x) in map {
                    self.entry(indent, k, x);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for x in items {
                    self.item(indent, x);
                }
            }
            Value::String(s) if s.contains('\n') => {
                for l in s.lines() {
                    let avail = self.term.width.saturating_sub(indent);
                    let mut line = " ".repeat(indent);
                    line.push_str(&self.fit(&clean(l), avail));
                    self.lines.push(line);
                }
            }
            _ => {
                let mut line = " ".repeat(indent);
                line.push_str(&self.scalar(v, self.term.width.saturating_sub(indent)));
                self.lines.push(line);
            }
        }
    }

    /// `key: value`, or `key:` followed by an indented block.
    fn entry(&mut self, indent: usize, key: &str, v: &Value) {
        let key = clean(key);
        let mut line = " ".repeat(indent);
        paint(&mut line, KEY, self.term.color, &key);
        line.push(':');
        let used = indent + width(&key) + 2;
        let avail = self.term.width.saturating_sub(used);
        if let Value::Array(items) = v
            && let Some(inline) = self.inline(items, avail)
        {
            line.push(' ');
            line.push_str(&inline);
            self.lines.push(line);
        } else if is_block(v) {
            self.lines.push(line);
            self.block(v, indent + INDENT);
        } else {
            line.push(' ');
            line.push_str(&self.scalar(v, avail));
            self.lines.push(line);
        }
    }

    /// One array element: `- scalar`, or a block whose first line carries the `- `.
    fn item(&mut self, indent: usize, v: &Value) {
        let avail = self.term.width.saturating_sub(indent + 2);
        let inline = match v {
            Value::Array(items) => self.inline(items, avail),
            _ => None,
        };
        let mut line = " ".repeat(indent);
        line.push_str("- ");
        if let Some(inline) = inline {
            line.push_str(&inline);
            self.lines.push(line);
        } else if is_block(v) {
            let start = self.lines.len();
            self.block(v, indent + INDENT);
            // Every line of the block starts with `indent + 2` ASCII spaces.
            self.lines[start].replace_range(..indent + INDENT, &line);
        } else {
            line.push_str(&self.scalar(v, avail));
            self.lines.push(line);
        }
    }

    /// An array of short scalars on one line (`a, b, c`), if it fits in `avail`.
    fn inline(&self, items: &[Value], avail: usize) -> Option<String> {
        let mut plain = Vec::with_capacity(items.len());
        for x in items {
            match x {
                Value::String(s) if !s.is_empty() && !s.contains([',', '\n']) => {
                    plain.push(clean(s))
                }
                Value::Number(n) => plain.push(n.to_string()),
                Value::Bool(b) => plain.push(yes_no(*b).to_string()),
                _ => return None,
            }
        }
        let joined = plain.join(", ");
        (!items.is_empty() && width(&joined) <= avail).then_some(joined)
    }

    /// A scalar (or empty container) as shown after `key: ` or `- `.
    fn scalar(&self, v: &Value, avail: usize) -> String {
        let mut out = String::new();
        match v {
            Value::Null => paint(&mut out, DIM, self.term.color, "null"),
            Value::Bool(b) => out.push_str(yes_no(*b)),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::String(s) if s.is_empty() => paint(&mut out, DIM, self.term.color, "(empty)"),
            Value::String(s) => out.push_str(&self.fit(&clean(s), avail)),
            Value::Array(_) | Value::Object(_) => paint(&mut out, DIM, self.term.color, "(none)"),
        }
        out
    }

    /// Cuts `s` to `avail` columns with `…`, only when stdout is a TTY.
    fn fit(&self, s: &str, avail: usize) -> String {
        if !self.term.stdout_tty {
            return s.to_string();
        }
        truncate(s, avail.max(MIN_AVAIL))
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => s.contains('\n'),
        _ => false,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `s` cut to at most `max` columns, ending in `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Makes text safe for a terminal: tabs become spaces, other control and
/// bidi-override characters are shown as escapes.
pub(crate) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.extend(c.escape_debug())
            }
            c => out.push(c),
        }
    }
    out
}

/// Display columns of `s` (no escape sequences expected).
pub(crate) fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// An approximation of a character's terminal width: 0 for combining marks
/// and zero-width characters, 2 for East Asian wide characters and emoji.
fn char_width(c: char) -> usize {
    let cp = c as u32;
    match cp {
        0x0300..=0x036f | 0x200b..=0x200f | 0xfe00..=0xfe0f | 0x20d0..=0x20ff => 0,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn term(tty: bool, color: bool, width: usize) -> Terminal {
        Terminal {
            stdout_tty: tty,
            stderr_tty: false,
            color,
            width,
        }
    }

    fn plain(v: &Value) -> String {
        render(v, &term(false, false, 100))
    }

    #[test]
    fn object_layout() {
        let v = json!({
            "id": "agent_1", "ok": true, "off": false, "desc": "", "tags": [], "meta": {},
            "gone": null, "n": 2.5, "model": {"id": "claude", "speed": "fast"},
            "tools": [{"type": "bash", "cfg": {"a": 1}}, {"type": "web"}],
            "names": ["a", "b"], "mixed": ["x, y", "z"], "deep": [[1, 2], [{"q": 1}]]
        });
        let want = "\
id: agent_1
ok: yes
off: no
desc: (empty)
tags: (none)
meta: (none)
gone: null
n: 2.5
model:
  id: claude
  speed: fast
tools:
  - type: bash
    cfg:
      a: 1
  - type: web
names: a, b
mixed:
  - x, y
  - z
deep:
  - 1, 2
  - - q: 1
";
        assert_eq!(plain(&v), want);
    }

    #[test]
    fn scalars_and_arrays_at_top_level() {
        assert_eq!(plain(&json!("hi")), "hi\n");
        assert_eq!(plain(&json!(null)), "null\n");
        assert_eq!(plain(&json!([1, {"a": "b"}])), "- 1\n- a: b\n");
        assert_eq!(plain(&json!({})), "(none)\n");
    }

    #[test]
    fn multi_line_strings_are_indented_blocks() {
        let v = json!({"system": "line one\nline two", "list": ["a\nb"]});
        assert_eq!(
            plain(&v),
            "system:\n  line one\n  line two\nlist:\n  - a\n    b\n"
        );
    }

    #[test]
    fn long_arrays_of_scalars_break_into_items() {
        let v = json!({"ids": ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc"]});
        assert_eq!(
            render(&v, &term(false, false, 20)),
            "ids:\n  - aaaaaaaaaa\n  - bbbbbbbbbb\n  - cccccccccc\n"
        );
    }

    #[test]
    fn truncates_only_on_a_tty() {
        let long = "x".repeat(50);
        let v = json!({ "key": long });
        let tty = render(&v, &term(true, false, 20));
        assert_eq!(tty, format!("key: {}…\n", "x".repeat(14)));
        assert_eq!(width(tty.trim_end()), 20);
        assert_eq!(
            render(&v, &term(false, false, 20)),
            format!("key: {long}\n")
        );
    }

    #[test]
    fn truncation_counts_wide_characters() {
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            plain(&json!({"k": "a\u{1b}[31mb\tc"})),
            "k: a\\u{1b}[31mb    c\n"
        );
        assert_eq!(plain(&json!({"\u{7}": 1})), "\\u{7}: 1\n");
    }

    #[test]
    fn colors_keys_only_when_enabled() {
        let v = json!({"k": {"n": null}});
        let colored = render(&v, &term(true, true, 80));
        assert!(colored.contains(&format!("{}k{}", KEY.render(), KEY.render_reset())));
        assert!(colored.contains(&format!("{}null{}", DIM.render(), DIM.render_reset())));
        assert!(!render(&v, &term(true, false, 80)).contains('\x1b'));
    }

    #[test]
    fn header_is_a_dim_rule_with_the_title() {
        let h = header("beta:agents list", &term(true, false, 40));
        assert!(h.starts_with("── beta:agents list ──"), "{h}");
        assert_eq!(width(h.trim_end()), 40);
        assert!(header("x", &term(true, true, 40)).contains('\x1b'));
    }
}
