//! JSON output for `json`, `jsonl` and `raw`: the value's bytes as
//! received, laid out as the official CLI lays them out
//! ([`crate::json::pretty`]). On a terminal the text is decorated: colours
//! in the style of gh's jsoncolor (keys bold blue, strings green, numbers
//! cyan, booleans yellow, null grey), and DEL and C1 control characters
//! inside strings written as `\u` escapes so a response cannot drive the
//! terminal. Piped, the bytes are exactly the official's.

use anstyle::{AnsiColor, Color, Style};
use std::borrow::Cow;
use std::fmt::Write as _;

use crate::json::pretty;

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

/// How JSON text is dressed for where it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dress {
    pub color: bool,
    /// Escape DEL and C1 controls in strings (stdout is a terminal).
    pub tty: bool,
}

/// `--format json`: the value laid out, ending in a newline.
pub(crate) fn indented(raw: &[u8], dress: Dress) -> Vec<u8> {
    decorate(pretty::pretty(raw), dress)
}

/// `--format jsonl`: the value on one line (no whitespace outside strings),
/// ending in a newline.
pub(crate) fn line(raw: &[u8], dress: Dress) -> Vec<u8> {
    let mut out = pretty::ugly(raw);
    // The first value of the compact text, as GJSON's `@ugly` leaves it.
    let (start, len) = match super::gjson::parse_value(&out).raw {
        Cow::Borrowed(v) => (v.as_ptr() as usize - out.as_ptr() as usize, v.len()),
        Cow::Owned(_) => (0, out.len()),
    };
    out.truncate(start + len);
    out.drain(..start);
    out.push(b'\n');
    decorate(out, dress)
}

/// `--format raw`: the value's text as it is, and a newline.
pub(crate) fn raw(raw: &[u8], dress: Dress) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 1);
    out.extend_from_slice(raw);
    out.push(b'\n');
    decorate(
        out,
        Dress {
            color: false,
            ..dress
        },
    )
}

fn decorate(text: Vec<u8>, dress: Dress) -> Vec<u8> {
    let escape = dress.tty && needs_escaping(&text);
    if !dress.color && !escape {
        return text;
    }
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut w = Painter {
        out: &mut out,
        color: dress.color,
    };
    // Open containers: true for an object; `key` when a key comes next.
    let mut stack: Vec<bool> = Vec::new();
    let mut key = false;
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        match c {
            b'"' => {
                let end = crate::json::string_end(&text, i);
                let style = if key { KEY } else { STRING };
                w.styled(style, |o| escape_controls(o, &text[i..end], dress.tty));
                key = false;
                i = end;
                continue;
            }
            b'{' | b'[' => {
                stack.push(c == b'{');
                key = c == b'{';
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => key = stack.last() == Some(&true),
            b':' => key = false,
            b't' | b'f' | b'n' | b'-' | b'0'..=b'9' | b'+' | b'i' | b'I' | b'N' => {
                let end = text[i..]
                    .iter()
                    .position(|&b| b <= b' ' || matches!(b, b',' | b':' | b']' | b'}'))
                    .map_or(text.len(), |p| i + p);
                let style = match c {
                    b't' | b'f' => BOOL,
                    b'n' if text.get(i + 1) == Some(&b'u') => NULL,
                    _ => NUMBER,
                };
                w.styled(style, |o| o.extend_from_slice(&text[i..end]));
                i = end;
                continue;
            }
            _ => {}
        }
        w.out.push(c);
        i += 1;
    }
    out
}

struct Painter<'a> {
    out: &'a mut Vec<u8>,
    color: bool,
}

impl Painter<'_> {
    fn styled(&mut self, style: Style, body: impl FnOnce(&mut Vec<u8>)) {
        if self.color {
            let _ = write!(VecWriter(self.out), "{}", style.render());
        }
        body(self.out);
        if self.color {
            let _ = write!(VecWriter(self.out), "{}", style.render_reset());
        }
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Whether the text holds DEL or a C1 control character (U+0080..U+009F).
fn needs_escaping(text: &[u8]) -> bool {
    text.contains(&0x7f)
        || text
            .windows(2)
            .any(|w| w[0] == 0xc2 && (0x80..0xa0).contains(&w[1]))
}

/// Copies a string literal, writing DEL and C1 controls as `\u` escapes when `escape`.
fn escape_controls(out: &mut Vec<u8>, s: &[u8], escape: bool) {
    if !escape {
        out.extend_from_slice(s);
        return;
    }
    let mut i = 0;
    while i < s.len() {
        let (code, len) = match s[i] {
            0x7f => (Some(0x7fu32), 1),
            0xc2 if s.get(i + 1).is_some_and(|b| (0x80..0xa0).contains(b)) => {
                (Some(s[i + 1] as u32), 2)
            }
            _ => (None, 1),
        };
        match code {
            Some(c) => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            None => out.push(s[i]),
        }
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Dress = Dress {
        color: false,
        tty: false,
    };

    #[test]
    fn piped_output_is_the_received_bytes_laid_out() {
        let raw = br#"{"a":1.50,"s":"\u003c\/x\u003e","l":[1E+2,-0]}"#;
        assert_eq!(
            String::from_utf8(indented(raw, PLAIN)).unwrap(),
            "{\n  \"a\": 1.50,\n  \"s\": \"\\u003c\\/x\\u003e\",\n  \"l\": [1E+2, -0]\n}\n"
        );
        assert_eq!(line(b" { \"a\" : [ 1 , 2 ] } ", PLAIN), b"{\"a\":[1,2]}\n");
        assert_eq!(raw_bytes(b"{ \"a\" : 1 }\n"), b"{ \"a\" : 1 }\n\n");
    }

    fn raw_bytes(b: &[u8]) -> Vec<u8> {
        raw(b, PLAIN)
    }

    #[test]
    fn colored_output_styles_each_token_kind() {
        let s = String::from_utf8(line(
            br#"{"k":"v","n":1,"b":false,"z":null,"a":["x"]}"#,
            Dress {
                color: true,
                tty: true,
            },
        ))
        .unwrap();
        let key = format!("{}\"k\"{}", KEY.render(), KEY.render_reset());
        let string = format!("{}\"v\"{}", STRING.render(), STRING.render_reset());
        let x = format!("{}\"x\"{}", STRING.render(), STRING.render_reset());
        let num = format!("{}1{}", NUMBER.render(), NUMBER.render_reset());
        let boolean = format!("{}false{}", BOOL.render(), BOOL.render_reset());
        let null = format!("{}null{}", NULL.render(), NULL.render_reset());
        for part in [key, string, x, num, boolean, null] {
            assert!(s.contains(&part), "{part:?} not in {s:?}");
        }
        // Stripping the escapes gives the plain line back.
        assert_eq!(
            strip(&s),
            "{\"k\":\"v\",\"n\":1,\"b\":false,\"z\":null,\"a\":[\"x\"]}\n"
        );
    }

    #[test]
    fn a_terminal_never_gets_raw_del_or_c1_controls() {
        let raw = "{\"s\":\"a\u{7f}b\u{9b}31mc\"}".as_bytes();
        let tty = Dress {
            color: false,
            tty: true,
        };
        assert_eq!(
            String::from_utf8(line(raw, tty)).unwrap(),
            "{\"s\":\"a\\u007fb\\u009b31mc\"}\n"
        );
        // Piped, the bytes stay as sent.
        assert_eq!(line(raw, PLAIN), [raw, b"\n"].concat());
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
