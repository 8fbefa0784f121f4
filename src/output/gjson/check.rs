//! The syntax check of a GJSON path, run on `--transform` and
//! `--transform-error` before any request is sent: unbalanced brackets,
//! empty components, unknown modifiers, malformed query values or modifier
//! arguments are refused with what is wrong and where (the official CLI
//! would print the whole response instead). Evaluation is `super::eval`.

use super::modifiers::NAMES as MODIFIERS;

/// A path that passed the check.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
}

impl Path {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Checks a GJSON path's syntax; the error says what is wrong and where
/// (1-based character position).
pub fn parse(path: &str) -> Result<Path, String> {
    let mut s = Scanner { text: path, at: 0 };
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with("..") {
        // JSON Lines mode: the value is treated as a list of one document.
        s.at = 2;
    }
    s.path(&[])?;
    Ok(Path {
        text: path.to_string(),
    })
}

struct Scanner<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    /// Moves past `n` bytes.
    fn copy(&mut self, n: usize) {
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
            Some('!') => self.literal(stop),
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
            return Err(self.error_at(
                start,
                format!(
                    "@{name} is not a known modifier (modifiers: @{}; escape a literal @ as \\@)",
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

    /// `!true`, `!false`, `!null`, `!nan`, `!inf` or `!` and a JSON value:
    /// a value of its own, not looked up.
    fn literal(&mut self, stop: &[char]) -> Result<(), String> {
        let start = self.at;
        self.bump();
        let rest = &self.text[self.at..];
        if rest.starts_with([
            '{', '[', '"', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
        ]) {
            let len = json_len(rest.strip_prefix('+').unwrap_or(rest))
                .map(|n| n + usize::from(rest.starts_with('+')))
                .ok_or_else(|| self.error("the literal after '!' is not valid JSON"))?;
            self.copy(len);
            return Ok(());
        }
        let len = rest
            .find(|c: char| matches!(c, '.' | '|') || stop.contains(&c))
            .unwrap_or(rest.len());
        if !matches!(&rest[..len], "true" | "false" | "null" | "nan" | "inf") {
            return Err(self.error_at(
                start,
                format!(
                    "!{} is not a literal (use !true, !false, !null, !nan, !inf or ! and a JSON value)",
                    &rest[..len]
                ),
            ));
        }
        self.copy(len);
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
        let body_start = self.at;
        let end = balanced_end(self.text, self.at, close).ok_or_else(|| {
            self.error_at(start, format!("unclosed query (no matching '{close}')"))
        })?;
        let body = &self.text[body_start..end];
        self.query(body, body_start)?;
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
        if raw.starts_with('"') && open == '{' && serde_json::from_str::<String>(raw).is_err() {
            return Err(self.error("invalid quoted key (a JSON string before ':')"));
        }
        self.copy(len + 1);
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
