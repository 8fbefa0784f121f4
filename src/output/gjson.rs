//! GJSON paths for `--transform` and `--transform-error`: a syntax check that
//! runs before any request is sent, and evaluation through the `gjson` crate
//! with multipath keys handled as the official (Go) GJSON does.
//!
//! The crate writes a quoted multipath key such as `{"t":type}` back with its
//! quotes escaped (`{"\"t\"":...}`) and splits keys holding `,` or `:`. So
//! [`parse`] unquotes each quoted key, or when it holds such characters swaps
//! it for a placeholder that [`get`] turns back into the key in the result.

use serde_json::{Map, Value};

/// Modifiers the evaluator implements (`@name`, optionally `@name:arg`).
pub const MODIFIERS: [&str; 7] = [
    "this", "reverse", "ugly", "pretty", "valid", "flatten", "join",
];
/// Modifiers of the Go GJSON that `ant` does not implement; named in errors.
const MISSING_MODIFIERS: [&str; 6] = ["keys", "values", "tostr", "fromstr", "group", "dig"];

/// A checked path, ready for the evaluator.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The path with quoted multipath keys replaced by placeholders.
    eval: String,
    /// The key each placeholder stands for, by index.
    keys: Vec<String>,
}

/// Checks a GJSON path's syntax; the error says what is wrong and where
/// (1-based character position).
pub fn parse(path: &str) -> Result<Path, String> {
    let mut s = Scanner {
        text: path,
        at: 0,
        eval: String::with_capacity(path.len()),
        keys: Vec::new(),
    };
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with("..") {
        // JSON Lines mode: the value is treated as a list of one document.
        s.copy(2);
    }
    s.path(&[])?;
    Ok(Path {
        eval: s.eval,
        keys: s.keys,
    })
}

/// Applies a checked path to `value`; `None` when it matches nothing.
pub fn get(path: &Path, value: &Value) -> Option<Value> {
    let text = serde_json::to_string(value).ok()?;
    let result = gjson::get(&text, &path.eval);
    if !result.exists() {
        return None;
    }
    let mut out = serde_json::from_str(result.json())
        .unwrap_or_else(|_| Value::String(result.str().to_string()));
    if !path.keys.is_empty() {
        restore_keys(&mut out, &path.keys);
    }
    Some(out)
}

/// Placeholder for the `i`th quoted key: a name the evaluator takes as it
/// is (no `,` `:` `.` brackets or escapes), wrapped in private-use
/// characters no API field uses.
fn placeholder(i: usize) -> String {
    format!("\u{F8FF}k{i}\u{F8FF}")
}

fn restore_keys(v: &mut Value, keys: &[String]) {
    match v {
        Value::Object(map) => {
            let renamed = map.keys().any(|k| k.starts_with('\u{F8FF}'));
            let old = std::mem::take(map);
            let mut new = Map::with_capacity(old.len());
            for (k, mut item) in old {
                restore_keys(&mut item, keys);
                let key = renamed
                    .then(|| {
                        let i = k.strip_prefix("\u{F8FF}k")?.strip_suffix('\u{F8FF}')?;
                        keys.get(i.parse::<usize>().ok()?).cloned()
                    })
                    .flatten()
                    .unwrap_or(k);
                new.insert(key, item);
            }
            *map = new;
        }
        Value::Array(items) => items.iter_mut().for_each(|x| restore_keys(x, keys)),
        _ => {}
    }
}

struct Scanner<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
    eval: String,
    keys: Vec<String>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    /// Copies `n` bytes to the evaluated path.
    fn copy(&mut self, n: usize) {
        self.eval.push_str(&self.text[self.at..self.at + n]);
        self.at += n;
    }

    fn bump(&mut self) {
        let n = self.peek().map_or(0, char::len_utf8);
        self.copy(n);
    }

    fn error(&self, msg: impl std::fmt::Display) -> String {
        self.error_at(self.at, msg)
    }

    fn error_at(&self, byte: usize, msg: impl std::fmt::Display) -> String {
        let ch = self.text[..byte.min(self.text.len())].chars().count() + 1;
        format!("{msg} at character {ch}")
    }

    /// Components separated by `.` or `|`, up to the end or a `stop` char.
    fn path(&mut self, stop: &[char]) -> Result<(), String> {
        loop {
            self.component(stop)?;
            match self.peek() {
                None => return Ok(()),
                Some(c) if stop.contains(&c) => return Ok(()),
                Some('.' | '|') => {
                    self.bump();
                    if self
                        .peek()
                        .is_none_or(|c| matches!(c, '.' | '|') || stop.contains(&c))
                    {
                        return Err(self.error("empty path component"));
                    }
                }
                Some(c) => return Err(self.error(format!("unexpected {c:?}"))),
            }
        }
    }

    fn component(&mut self, stop: &[char]) -> Result<(), String> {
        match self.peek() {
            None => Err(self.error("empty path component")),
            Some(c) if stop.contains(&c) || matches!(c, '.' | '|') => {
                Err(self.error("empty path component"))
            }
            Some('@') => self.modifier(stop),
            Some('!') => Err(self.error("literals (!value) are not supported")),
            Some(open @ ('{' | '[')) => self.multipath(open),
            Some('#') => self.hash(),
            Some(_) => self.key(stop),
        }
    }

    /// A key, with `\` escapes and `*`/`?` wildcards.
    fn key(&mut self, stop: &[char]) -> Result<(), String> {
        while let Some(c) = self.peek() {
            match c {
                '.' | '|' => break,
                c if stop.contains(&c) => break,
                '\\' => {
                    self.bump();
                    if self.peek().is_none() {
                        return Err(self.error("'\\' at the end escapes nothing"));
                    }
                    self.bump();
                }
                '(' | ')' | '[' | ']' | '{' | '}' => {
                    return Err(
                        self.error(format!("unexpected {c:?} in a key (escape it as \\{c})"))
                    );
                }
                _ => self.bump(),
            }
        }
        Ok(())
    }

    /// `@name` or `@name:arg`, the argument a JSON value or plain text.
    fn modifier(&mut self, stop: &[char]) -> Result<(), String> {
        let start = self.at;
        self.bump();
        let name_len = self.text[self.at..]
            .find(|c: char| matches!(c, ':' | '.' | '|') || stop.contains(&c))
            .unwrap_or(self.text.len() - self.at);
        let name = &self.text[self.at..self.at + name_len];
        if !MODIFIERS.contains(&name) {
            let why = if MISSING_MODIFIERS.contains(&name) {
                "is not supported by ant"
            } else {
                "is not a known modifier"
            };
            return Err(self.error_at(
                start,
                format!(
                    "@{name} {why} (modifiers: @{}; escape a literal @ as \\@)",
                    MODIFIERS.join(", @")
                ),
            ));
        }
        self.copy(name_len);
        if self.peek() != Some(':') {
            return Ok(());
        }
        self.bump();
        match self.peek() {
            Some('{' | '[' | '"') => {
                let len = json_len(&self.text[self.at..]).ok_or_else(|| {
                    self.error(format!("@{name}: the argument is not valid JSON"))
                })?;
                self.copy(len);
            }
            _ => {
                let len = self.text[self.at..]
                    .find(|c: char| c == '|' || stop.contains(&c))
                    .unwrap_or(self.text.len() - self.at);
                self.copy(len);
            }
        }
        Ok(())
    }

    /// `#`, `#(query)`, `#(query)#` (and the older `#[query]`).
    fn hash(&mut self) -> Result<(), String> {
        self.bump();
        let close = match self.peek() {
            Some('(') => ')',
            Some('[') => ']',
            _ => return Ok(()),
        };
        let start = self.at;
        self.at += 1;
        self.eval.push('(');
        let body_start = self.at;
        let end = balanced_end(self.text, self.at, close).ok_or_else(|| {
            self.error_at(start, format!("unclosed query (no matching '{close}')"))
        })?;
        let body = &self.text[body_start..end];
        self.query(body, body_start)?;
        self.eval.push_str(body);
        self.eval.push(')');
        self.at = end + 1;
        if self.peek() == Some('#') {
            self.bump();
        }
        Ok(())
    }

    /// The inside of a query: `path`, `path OP value` or `OP value`.
    fn query(&self, body: &str, offset: usize) -> Result<(), String> {
        if body.trim().is_empty() {
            return Err(self.error_at(offset, "empty query"));
        }
        let Some((op_at, op)) = find_operator(body) else {
            return Ok(());
        };
        let value = body[op_at + op.len()..].trim();
        let value_at = offset + op_at + op.len();
        if value.is_empty() {
            return Err(self.error_at(value_at, format!("missing value after {op:?}")));
        }
        if value.starts_with('"') && serde_json::from_str::<String>(value).is_err() {
            return Err(self.error_at(value_at, "the value is not a valid JSON string"));
        }
        Ok(())
    }

    /// `{a,b.c,"key":path}` or `[a,b]`: a new object or array.
    fn multipath(&mut self, open: char) -> Result<(), String> {
        let close = if open == '{' { '}' } else { ']' };
        let start = self.at;
        if balanced_end(self.text, start + 1, close).is_none() {
            return Err(self.error(format!("unclosed '{open}' (no matching '{close}')")));
        }
        self.bump();
        loop {
            match self.peek() {
                None => {
                    return Err(
                        self.error_at(start, format!("unclosed '{open}' (no matching '{close}')"))
                    );
                }
                Some(c) if c == close => break,
                Some(',') => {}
                Some(_) => self.selector(open, close)?,
            }
            match self.peek() {
                Some(',') => self.bump(),
                Some(c) if c == close => break,
                None => {
                    return Err(
                        self.error_at(start, format!("unclosed '{open}' (no matching '{close}')"))
                    );
                }
                Some(c) => return Err(self.error(format!("unexpected {c:?}"))),
            }
        }
        self.bump();
        match self.peek() {
            None | Some('.' | '|' | ',' | '}' | ']' | ')') => Ok(()),
            Some(c) => Err(self.error(format!(
                "unexpected {c:?} after '{close}' (expected '.' or '|')"
            ))),
        }
    }

    /// One selector of a multipath: `path` or `name:path`, the name bare or
    /// a JSON string. Object multipaths key the value by the name (else by
    /// the path's last key); array multipaths ignore names.
    fn selector(&mut self, open: char, close: char) -> Result<(), String> {
        let Some(len) = selector_name_len(&self.text[self.at..], close) else {
            return self.path(&[',', close]);
        };
        let raw = &self.text[self.at..self.at + len];
        if raw.is_empty() {
            return Err(self.error("empty key before ':'"));
        }
        if !raw.starts_with('"') || open == '[' {
            // A bare name is written as it is; arrays ignore names. The
            // evaluator handles both like the official GJSON.
            if open == '{' {
                self.copy(len + 1);
            } else {
                self.at += len + 1;
            }
            return self.path(&[',', close]);
        }
        let key: String = serde_json::from_str(raw)
            .map_err(|_| self.error("invalid quoted key (a JSON string before ':')"))?;
        self.at += len + 1;
        let plain =
            !key.is_empty() && !key.contains(|c: char| c.is_control() || ",:\\()[]{}".contains(c));
        if plain {
            // Unquoted, the evaluator writes it back correctly, and a path
            // after the multipath (`{"t":type}.t`) can find it.
            self.eval.push_str(&key);
        } else {
            self.eval.push_str(&placeholder(self.keys.len()));
            self.keys.push(key);
        }
        self.eval.push(':');
        self.path(&[',', close])
    }
}

/// Length of the JSON value at the start of `text`, if it is valid JSON.
fn json_len(text: &str) -> Option<usize> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => Some(stream.byte_offset()),
        _ => None,
    }
}

/// Walks `text` outside JSON strings and past `\` escapes, giving `f` each
/// other character and its byte index until `f` returns a value. `None`
/// when `f` never does or a string is left open.
fn scan<T>(text: &str, mut f: impl FnMut(usize, char) -> Option<T>) -> Option<T> {
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => loop {
                match chars.next()?.1 {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            },
            c => {
                if let Some(found) = f(i, c) {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// The byte index of the `close` matching an opener just before `from`,
/// skipping nested brackets, JSON strings and `\` escapes.
fn balanced_end(text: &str, from: usize, close: char) -> Option<usize> {
    let mut stack = vec![close];
    let end = scan(&text[from..], |i, c| match c {
        '(' | '[' | '{' => {
            stack.push(match c {
                '(' => ')',
                '[' => ']',
                _ => '}',
            });
            None
        }
        ')' | ']' | '}' => match stack.pop() {
            Some(want) if want == c => stack.is_empty().then_some(Some(from + i)),
            _ => Some(None),
        },
        _ => None,
    });
    end.flatten()
}

/// The first comparison operator outside nested brackets and strings.
fn find_operator(body: &str) -> Option<(usize, &'static str)> {
    let mut depth = 0usize;
    scan(body, |i, c| {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                return ["==", "!=", "<=", ">=", "!%", "=", "<", ">", "%"]
                    .into_iter()
                    .find(|op| body[i..].starts_with(op))
                    .map(|op| (i, op));
            }
            _ => {}
        }
        None
    })
}

/// The length of a multipath selector's name: the text before its first
/// `:` outside brackets and strings, unless a modifier (`@`) comes first.
fn selector_name_len(text: &str, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let found = scan(text, |i, c| {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => return Some(Some(i)),
            '@' | ',' if depth == 0 => return Some(None),
            c if c == close && depth == 0 => return Some(None),
            _ => {}
        }
        None
    });
    found.flatten()
}

#[cfg(test)]
#[path = "gjson_tests.rs"]
mod tests;
