//! Human-readable transcript of Managed Agents session streams (`--format pretty`): pure formatting.
//!
//! Each event is rendered into a buffer, written in one go and flushed. Text from
//! the API or from tools is stripped of control characters, so a stream cannot
//! drive the terminal; with `color: false` no escape sequence is ever written.
//! Live `event_delta` text is word-wrapped as it arrives; on a colour terminal the
//! final `agent.message` replaces it with the formatted text, elsewhere the live
//! text stands and the message is not printed again.

use anstyle::{AnsiColor, Color, Style};
use serde_json::Value;
use std::io::Write;

use crate::error::{Error, Result};

pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
    pub verbose: bool,
    pub tty: bool,
    /// A spinner on stderr shows the waits: no "thinking…" on stdout.
    pub spinner: bool,
}

/// Tool results show at most this many lines unless `verbose`.
const RESULT_LINES: usize = 6;
/// Live text taller than this is not erased (it may have scrolled off screen).
const LIVE_ERASE_MAX_ROWS: usize = 20;
const THINKING: &str = "thinking…";

const fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(Color::Ansi(c)))
}
const PLAIN: Style = Style::new();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();
const RED: Style = fg(AnsiColor::Red);
const YELLOW: Style = fg(AnsiColor::Yellow);
const GREEN: Style = fg(AnsiColor::Green);
const CYAN: Style = fg(AnsiColor::Cyan);
const BLUE: Style = fg(AnsiColor::Blue);
const TOOL: Style = fg(AnsiColor::Magenta).bold();
const CODE: Style = fg(AnsiColor::Cyan);

/// What was printed last, for the blank lines around messages.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    Nothing,
    Line,
    Block,
}

/// An `agent.message` being streamed through `event_delta`s.
#[derive(Default)]
struct Live {
    id: String,
    text: String,
    word: String,
    word_w: usize,
    col: usize,
    rows: usize,
    /// Spaces held back until the next word shows whether they end a row.
    spaces: usize,
    /// Its text is on screen and its last line is still open.
    open: bool,
    /// Other output came in between: the live text can no longer be erased.
    broken: bool,
}

pub struct Transcript {
    opts: RenderOptions,
    out: Box<dyn Write>,
    buf: String,
    last: Last,
    /// Width of the transient "thinking…" indicator on screen, 0 when none.
    transient: usize,
    /// Live messages, newest last (a few at most).
    lives: Vec<Live>,
}

impl Transcript {
    pub fn new(opts: RenderOptions, out: Box<dyn Write>) -> Self {
        let (buf, last, lives) = (String::new(), Last::Nothing, Vec::new());
        Transcript {
            opts,
            out,
            buf,
            last,
            transient: 0,
            lives,
        }
    }

    pub fn event(&mut self, ev: &Value) -> Result<()> {
        self.render(ev);
        self.write_out()
    }

    /// Ends an unfinished live line and clears the thinking indicator.
    pub fn finish(&mut self) -> Result<()> {
        self.clear_transient();
        self.interrupt_live();
        self.write_out()
    }

    fn write_out(&mut self) -> Result<()> {
        let r = self.out.write_all(self.buf.as_bytes());
        self.buf.clear();
        r.and_then(|()| self.out.flush()).map_err(Error::from_write)
    }

    fn width(&self) -> usize {
        match self.opts.width {
            0 => 80,
            w => w.max(20),
        }
    }

    fn paint(&self, s: &str, style: Style) -> String {
        if self.opts.color && style != PLAIN && !s.is_empty() {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }

    fn render(&mut self, ev: &Value) {
        let ty = ev["type"].as_str().unwrap_or("");
        let s = |k: &str| ev[k].as_str().unwrap_or("");
        let body = || content_text(&ev["content"], "\n");
        let (preview, delta) = (&ev["event"], &ev["delta"]["content"]["text"]);
        let quiet = !self.opts.verbose;
        let (text, style) = match ty {
            "agent.message" => return self.agent_message(ev),
            "agent.thinking" => return self.thinking(),
            "event_start" if preview["type"] == "agent.message" => {
                return self.live_start(preview["id"].as_str().unwrap_or(""));
            }
            "event_start" if preview["type"] == "agent.thinking" => return self.thinking(),
            "event_delta" if delta.is_string() => {
                return self.live_append(s("event_id"), delta.as_str().unwrap_or(""));
            }
            "event_start" | "event_delta" | "session.usage" if quiet => return,
            _ if ty.starts_with("span.") && quiet => return,
            "agent.tool_use" => return self.tool_use(ev, s("name")),
            "agent.mcp_tool_use" => {
                return self.tool_use(ev, &format!("{}/{}", s("mcp_server_name"), s("name")));
            }
            // A self-hosted worker's `user.tool_result` renders as the cloud's result.
            "agent.tool_result" | "agent.mcp_tool_result" | "user.tool_result" => {
                return self.tool_result(ev, None);
            }
            "user.message" => return self.block(ev, Last::Block, &body(), ["> ", "> "], CYAN),
            "agent.thread_message_sent" | "agent.thread_message_received" => {
                let sent = ty.ends_with("sent");
                let dir = if sent { "to" } else { "from" };
                let name = s(&format!("{dir}_agent_name"));
                let id = s(&format!("{dir}_session_thread_id"));
                let who = clean(if name.is_empty() { id } else { name }, false);
                let first = format!("{} {who}: ", if sent { "→" } else { "←" });
                return self.block(ev, Last::Line, &body(), [&first, "  "], PLAIN);
            }
            "system.message" => {
                return self.block(ev, Last::Line, &body(), ["· system: ", "  "], DIM);
            }
            "agent.custom_tool_use" => {
                let input = serde_json::to_string(&ev["input"]).unwrap_or_default();
                let t = format!("◆ {} needs a result from you ({})", s("name"), s("id"));
                (format!("{t}\n  {input}"), YELLOW)
            }
            "user.tool_confirmation" if s("result") == "allow" => {
                (format!("✓ allowed {}", s("tool_use_id")), GREEN)
            }
            "user.tool_confirmation" => {
                let why = s("deny_message");
                let sep = if why.is_empty() { "" } else { ": " };
                (format!("✗ denied {}{sep}{why}", s("tool_use_id")), RED)
            }
            // A custom tool's answer comes after the session waited for it:
            // a header names the call it answers.
            "user.custom_tool_result" => {
                let head = format!("↳ result for {}", clean(s("custom_tool_use_id"), false));
                return self.tool_result(ev, Some(&head));
            }
            "user.interrupt" => ("■ interrupted".into(), YELLOW),
            "user.define_outcome" => (format!("◎ outcome: {}", s("description")), CYAN),
            "session.error" => {
                let e = |k: &str| ev["error"][k].as_str().unwrap_or("error").to_string();
                let retry = ev["error"]["retry_status"]["type"].as_str();
                let retry = retry.map(|r| format!(" ({r})")).unwrap_or_default();
                (format!("✗ {}: {}{retry}", e("type"), e("message")), RED)
            }
            "session.deleted" => ("· session deleted".into(), RED),
            "session.thread_created" => {
                (format!("· thread created (agent {})", s("agent_name")), DIM)
            }
            "agent.thread_context_compacted" => ("· context compacted".into(), DIM),
            "session.usage" => (format!("· usage: {}", usage(&ev["usage"])), DIM),
            "span.model_request_start" => ("· model request…".into(), DIM),
            "span.model_request_end" => (format!("· model: {}", usage(&ev["model_usage"])), DIM),
            "span.outcome_evaluation_start" | "span.outcome_evaluation_ongoing" => {
                let n = ev["iteration"].as_i64().unwrap_or(0);
                let state = if ty.ends_with("start") {
                    "started"
                } else {
                    "ongoing"
                };
                (format!("· outcome evaluation {state} (iteration {n})"), DIM)
            }
            "span.outcome_evaluation_end" => {
                let mut t = format!("· outcome evaluation: {}", clean(s("result"), false));
                let why = clean(s("explanation"), false);
                if !why.is_empty() {
                    t.push_str(&format!(" — {why}"));
                }
                if ev["usage"].is_object() {
                    t.push_str(&format!(" ({})", usage(&ev["usage"])));
                }
                (t, DIM)
            }
            _ => {
                let st = ty.strip_prefix("session.status_");
                match st.or_else(|| ty.strip_prefix("session.thread_status_")) {
                    Some(st) => status(ev, st),
                    None => (generic(ev, ty), DIM),
                }
            }
        };
        self.line(ev, &text, style);
    }

    /// `[thread …] ` for events that belong to a thread.
    fn thread(&self, ev: &Value) -> String {
        match ev["session_thread_id"].as_str() {
            Some(id) if !id.is_empty() => {
                let marker = format!("[thread {}]", clean(id, false));
                format!("{} ", self.paint(&marker, BLUE))
            }
            _ => String::new(),
        }
    }

    /// Short lines; the thread marker goes before the first.
    fn line(&mut self, ev: &Value, text: &str, style: Style) {
        self.begin(Last::Line);
        let mut out = self.thread(ev);
        for l in clean(text, true).lines() {
            out.push_str(&self.paint(l, style));
            out.push('\n');
        }
        self.buf.push_str(&out);
    }

    /// Wrapped text, each line prefixed; a thread marker goes on a line of its own.
    fn block(&mut self, ev: &Value, kind: Last, text: &str, pre: [&str; 2], style: Style) {
        self.begin(kind);
        let marker = self.thread(ev);
        if !marker.is_empty() {
            self.buf.push_str(marker.trim_end());
            self.buf.push('\n');
        }
        let mut first = pre[0];
        for line in clean(text, true).trim_end().split('\n') {
            // Keep each line's indentation (code in user messages).
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            let cells: Vec<(char, Style)> = body.chars().map(|c| (c, style)).collect();
            let (p0, p1) = (format!("{first}{indent}"), format!("{}{indent}", pre[1]));
            self.wrap(&cells, [&p0, &p1], style);
            first = pre[1];
        }
    }

    fn tool_use(&mut self, ev: &Value, name: &str) {
        let mut t = format!("{}▸ ", self.thread(ev));
        let name = clean(name, false);
        let marker = ev["session_thread_id"]
            .as_str()
            .map_or(0, |t| width(t) + 10);
        let room = self.width().saturating_sub(width(&name) + 4 + marker);
        let summary = truncate(&summarize(&ev["input"]), room);
        t.push_str(&self.paint(&name, TOOL));
        if !summary.is_empty() {
            t = format!("{t}  {summary}");
        }
        if ev["evaluated_permission"] == "ask" {
            t = format!("{t}  {}", self.paint("(needs confirmation)", YELLOW));
        }
        self.begin(Last::Line);
        self.buf.push_str(&t);
        self.buf.push('\n');
    }

    /// A tool's result: its first lines (all of them with `--verbose`) and
    /// a count of the rest, red when it is an error; under `head` when given.
    fn tool_result(&mut self, ev: &Value, head: Option<&str>) {
        let text = clean(&content_text(&ev["content"], "\n"), true);
        let lines: Vec<&str> = text.trim_end().lines().collect();
        let style = if ev["is_error"] == true { RED } else { DIM };
        let verbose = self.opts.verbose;
        let max = if verbose { usize::MAX } else { RESULT_LINES };
        let mut t = self.thread(ev);
        if let Some(head) = head {
            t = format!("{t}{}\n", self.paint(head, style));
        }
        let empty = [if style == RED {
            "(error)"
        } else {
            "(no output)"
        }];
        let shown = if lines.is_empty() {
            &empty[..]
        } else {
            &lines[..]
        };
        let room = if verbose {
            usize::MAX
        } else {
            self.width() - 2
        };
        for l in shown.iter().take(max) {
            t = format!("{t}  {}\n", self.paint(&truncate(l, room), style));
        }
        if lines.len() > max {
            let n = lines.len() - max;
            let more = format!("… ({n} more line{})", if n == 1 { "" } else { "s" });
            t = format!("{t}  {}\n", self.paint(&more, DIM));
        }
        self.begin(Last::Line);
        self.buf.push_str(&t);
    }

    fn thinking(&mut self) {
        let live = self.lives.last();
        let mid_line = live.is_some_and(|l| l.open && l.col + l.word_w > 0);
        if self.opts.tty && !self.opts.spinner && self.transient == 0 && !mid_line {
            let t = self.paint(THINKING, DIM);
            self.buf.push_str(&t);
            self.transient = width(THINKING);
        }
    }

    fn clear_transient(&mut self) {
        if self.transient > 0 {
            let blank = " ".repeat(self.transient);
            self.buf.push_str(&format!("\r{blank}\r"));
            self.transient = 0;
        }
    }

    /// Prepares for new output: clears the indicator, closes a live line, and keeps
    /// one blank line around blocks (messages).
    fn begin(&mut self, kind: Last) {
        self.clear_transient();
        self.interrupt_live();
        let gap = match kind {
            Last::Block => self.last != Last::Nothing,
            _ => kind == Last::Line && self.last == Last::Block,
        };
        if gap {
            self.buf.push('\n');
        }
        self.last = kind;
    }

    fn interrupt_live(&mut self) {
        let width = self.width();
        if let Some(l) = self.lives.last_mut().filter(|l| l.open) {
            l.flush_word(width, &mut self.buf);
            if l.col > 0 {
                self.buf.push('\n');
            }
            (l.col, l.open, l.broken) = (0, false, true);
            self.last = Last::Block;
        }
    }

    fn live_start(&mut self, id: &str) {
        if self.lives.last().is_some_and(|l| l.id == id) {
            return;
        }
        self.interrupt_live();
        if self.lives.len() >= 4 {
            self.lives.remove(0);
        }
        let id = id.to_string();
        self.lives.push(Live {
            id,
            ..Live::default()
        });
    }

    fn live_append(&mut self, id: &str, text: &str) {
        self.live_start(id);
        if self.lives.last().is_some_and(|l| !l.open) {
            self.begin(Last::Block);
        } else {
            self.clear_transient();
        }
        let width = self.width();
        let l = self.lives.last_mut().expect("live_start pushed one");
        l.open = true;
        for c in clean(text, true).chars() {
            l.push(c, width, &mut self.buf);
        }
    }

    fn agent_message(&mut self, ev: &Value) {
        let text = content_text(&ev["content"], "");
        let id = ev["id"].as_str().unwrap_or("");
        self.lives.retain(|l| l.id != id || !l.text.is_empty());
        let Some(pos) = self.lives.iter().position(|l| l.id == id) else {
            self.begin(Last::Block);
            return self.markdown(&text);
        };
        let is_current = pos + 1 == self.lives.len();
        let mut live = self.lives.remove(pos);
        self.clear_transient();
        let o = &self.opts;
        let fits = live.rows <= LIVE_ERASE_MAX_ROWS;
        if o.tty && o.color && is_current && live.open && !live.broken && fits {
            self.buf.push('\r');
            if live.rows > 0 {
                self.buf.push_str(&format!("\x1b[{}A", live.rows));
            }
            self.buf.push_str("\x1b[J");
            self.markdown(&text);
        } else {
            if live.open {
                live.flush_word(self.width(), &mut self.buf);
                if live.col > 0 {
                    self.buf.push('\n');
                }
            }
            if live.text != clean(&text, true) {
                // The deltas missed something: the final message is the authority.
                self.buf.push('\n');
                self.markdown(&text);
            }
        }
        self.last = Last::Block;
    }

    /// Greedy word wrap of styled cells to the width, after the prefixes (first row, others).
    fn wrap(&mut self, cells: &[(char, Style)], pre: [&str; 2], pstyle: Style) {
        let room = |p: &str| self.width().saturating_sub(width(p)).max(10);
        let (mut rows, mut col, mut avail) = (vec![Vec::new()], 0, room(pre[0]));
        for word in cells.split(|c| c.0 == ' ').filter(|w| !w.is_empty()) {
            let ww: usize = word.iter().map(|c| char_width(c.0)).sum();
            let row = rows.last_mut().expect("never empty");
            if col > 0 && col + 1 + ww <= avail {
                // The space joins a styled span only when both sides share the style.
                let prev = row.last().map_or(PLAIN, |c: &(char, Style)| c.1);
                row.push((' ', if prev == word[0].1 { prev } else { PLAIN }));
                col += 1;
            } else if col > 0 {
                rows.push(Vec::new());
                (col, avail) = (0, room(pre[1]));
            }
            for &(c, st) in word {
                if col > 0 && col + char_width(c) > avail {
                    rows.push(Vec::new());
                    (col, avail) = (0, room(pre[1]));
                }
                rows.last_mut().expect("never empty").push((c, st));
                col += char_width(c);
            }
        }
        for (i, row) in rows.iter().enumerate() {
            let mut s = self.paint(pre[usize::from(i > 0)], pstyle);
            for run in row.chunk_by(|a, b| a.1 == b.1) {
                let text: String = run.iter().map(|c| c.0).collect();
                s.push_str(&self.paint(&text, run[0].1));
            }
            self.buf.push_str(s.trim_end());
            self.buf.push('\n');
        }
    }

    /// Basic markdown: headings, lists with hanging indent, quotes, rules, fenced
    /// code (unwrapped, indented), inline emphasis and code.
    fn markdown(&mut self, text: &str) {
        let (text, color) = (clean(text, true), self.opts.color);
        let (mut fence, mut blank) = (None::<&str>, false);
        for line in text.trim_matches('\n').split('\n') {
            let t = line.trim();
            let marker = &t[..t.len() - t.trim_start_matches(['`', '~']).len()];
            if let Some(f) = fence {
                if marker.starts_with(f) && marker.len() == t.len() {
                    fence = None;
                } else {
                    let code = self.paint(line.trim_end(), CODE.dimmed());
                    self.buf.push_str(&format!("    {code}\n"));
                }
                continue;
            }
            if marker.len() >= 3 {
                fence = Some(marker);
                continue;
            }
            if t.is_empty() {
                if !blank {
                    self.buf.push('\n');
                }
                blank = true;
                continue;
            }
            blank = false;
            let ind = &line[..line.len() - line.trim_start().len()];
            let hashes = t.len() - t.trim_start_matches('#').len();
            let (pre, rest, base) = if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
                ([String::new(), String::new()], &t[hashes..], BOLD)
            } else if t.len() >= 3 && t.chars().all(|c| "-*_".contains(c)) {
                let rule = self.paint(&"─".repeat(self.width().min(40)), DIM);
                self.buf.push_str(&format!("{rule}\n"));
                continue;
            } else if let Some((m, rest)) = list_marker(t) {
                let first = format!("{ind}{m} ");
                let cont = " ".repeat(width(&first));
                ([first, cont], rest, PLAIN)
            } else if let Some(rest) = t.strip_prefix('>') {
                let quote = format!("{ind}> ");
                ([quote.clone(), quote], rest.trim_start(), DIM)
            } else {
                ([ind.to_string(), ind.to_string()], t, PLAIN)
            };
            let cells = inline(&rest.chars().collect::<Vec<_>>(), base, color);
            self.wrap(&cells, [&pre[0], &pre[1]], base);
        }
    }
}

impl Live {
    /// Streams one character with word wrap; a word never exceeds the width.
    fn push(&mut self, c: char, width: usize, buf: &mut String) {
        self.text.push(c);
        match c {
            '\n' => {
                self.flush_word(width, buf);
                buf.push('\n');
                (self.col, self.spaces, self.rows) = (0, 0, self.rows + 1);
            }
            ' ' => {
                self.flush_word(width, buf);
                self.spaces += 1;
            }
            _ => {
                if self.word_w + char_width(c) > width {
                    self.flush_word(width, buf);
                }
                self.word.push(c);
                self.word_w += char_width(c);
            }
        }
    }

    fn flush_word(&mut self, width: usize, buf: &mut String) {
        if self.word.is_empty() {
            return;
        }
        if self.col > 0 && self.col + self.spaces + self.word_w > width {
            buf.push('\n');
            (self.col, self.spaces, self.rows) = (0, 0, self.rows + 1);
        }
        if self.col + self.spaces + self.word_w > width {
            self.spaces = 0; // indentation wider than the row
        }
        buf.extend(std::iter::repeat_n(' ', self.spaces));
        buf.push_str(&self.word);
        self.col += self.spaces + self.word_w;
        (self.spaces, self.word_w) = (0, 0);
        self.word.clear();
    }
}

fn status(ev: &Value, st: &str) -> (String, Style) {
    let sr = &ev["stop_reason"];
    let ids = sr["event_ids"].as_array().into_iter().flatten();
    let ids: Vec<&str> = ids.filter_map(Value::as_str).collect();
    let why = ev["stop_details"]["explanation"].as_str();
    let why = why.map(|e| format!(": {e}")).unwrap_or_default();
    match (st, sr["type"].as_str().unwrap_or("unknown")) {
        ("running", _) => ("· running".into(), DIM),
        ("idle", "end_turn") => ("· idle (end_turn)".into(), DIM),
        ("idle", "requires_action") => {
            let t = format!("· idle (requires_action: waiting on {})", ids.join(", "));
            (t, YELLOW)
        }
        ("idle", other) => (format!("· idle ({other}{why})"), YELLOW),
        ("terminated", _) => ("· terminated".into(), RED),
        (other, _) => (format!("· {other}"), YELLOW),
    }
}

/// The type and the compact JSON of the rest, for types without a rendering of their own.
fn generic(ev: &Value, ty: &str) -> String {
    let mut rest = ev.clone();
    if let Some(o) = rest.as_object_mut() {
        o.shift_remove("type");
    }
    let ty = if ty.is_empty() { "(no type)" } else { ty };
    format!("{ty} {}", serde_json::to_string(&rest).unwrap_or_default())
}

fn list_marker(t: &str) -> Option<(&str, &str)> {
    if let Some(rest) = ["- ", "* ", "+ "].iter().find_map(|m| t.strip_prefix(m)) {
        return Some((&t[..1], rest));
    }
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let after = &t[digits..];
    let ok = (1..=9).contains(&digits) && (after.starts_with(". ") || after.starts_with(") "));
    ok.then(|| (&t[..digits + 1], &after[2..]))
}

/// Inline markdown to styled cells: `code`, **bold**/__bold__, *em*/_em_, [text](url).
/// Emphasis markers are always removed; backticks only when colour shows the code.
fn inline(cs: &[char], base: Style, color: bool) -> Vec<(char, Style)> {
    let mut out = Vec::with_capacity(cs.len());
    let run = |i: usize, ch: char| cs[i..].iter().take_while(|&&c| c == ch).count();
    let find = |from: usize, pat: &[char]| {
        (from..cs.len().saturating_sub(pat.len() - 1)).find(|&j| cs[j..].starts_with(pat))
    };
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c == '`' {
            let n = run(i, '`');
            let close = (i + n..cs.len()).find(|&j| run(j, '`') == n && cs[j - 1] != '`');
            let (end, code) = match close {
                Some(j) if color => (j + n, Some(i + n..j)),
                Some(j) => (j + n, None),
                None => (i + n, None),
            };
            match code {
                Some(r) => out.extend(cs[r].iter().map(|&c| (c, CODE))),
                None => out.extend(cs[i..end].iter().map(|&c| (c, base))),
            }
            i = end;
            continue;
        }
        let after_word = i > 0 && cs[i - 1].is_alphanumeric();
        if c == '*' || (c == '_' && !after_word) {
            let n = run(i, c).min(2);
            let opens = cs.get(i + n).is_some_and(|c| !c.is_whitespace());
            let close = find(i + n + 1, &[c, c][..n]).filter(|&j| {
                let word_after = c == '_' && cs.get(j + n).is_some_and(|c| c.is_alphanumeric());
                !(cs[j - 1].is_whitespace() || word_after || (n == 1 && cs.get(j + 1) == Some(&c)))
            });
            if let (true, Some(j)) = (opens, close) {
                let style = if n == 2 { base.bold() } else { base.italic() };
                out.extend(inline(&cs[i + n..j], style, color));
                i = j + n;
                continue;
            }
        }
        let link = (c == '[').then(|| find(i + 1, &[']', '('])).flatten();
        if let Some((j, k)) = link.and_then(|j| find(j + 2, &[')']).map(|k| (j, k))) {
            out.extend(inline(&cs[i + 1..j], base.underline(), color));
            let url = " ("
                .chars()
                .chain(cs[j + 2..k].iter().copied())
                .chain([')']);
            out.extend(url.map(|c| (c, DIM)));
            i = k + 1;
            continue;
        }
        out.push((c, base));
        i += 1;
    }
    out
}

/// The text of content blocks, with placeholders for non-text blocks.
fn content_text(content: &Value, sep: &str) -> String {
    let Some(blocks) = content.as_array() else {
        return content.as_str().unwrap_or("").to_string();
    };
    let text = |b: &Value| match (b["type"].as_str().unwrap_or(""), b["text"].as_str()) {
        (_, Some(t)) => t.to_string(),
        (ty, None) => match b["title"].as_str() {
            Some(title) => format!("[{ty}: {title}]"),
            None => format!("[{ty}]"),
        },
    };
    blocks.iter().map(text).collect::<Vec<_>>().join(sep)
}

/// A short summary of a tool's input: the field a human looks for, else compact JSON.
fn summarize(input: &Value) -> String {
    let keys = ["command", "file_path", "path", "pattern", "url", "query"];
    if let Some(s) = keys.iter().find_map(|k| input[k].as_str()) {
        let mut lines = s.trim().lines();
        let first = lines.next().unwrap_or("").to_string();
        return if lines.next().is_some() {
            format!("{first} …")
        } else {
            first
        };
    }
    match input {
        Value::Null => String::new(),
        Value::Object(o) if o.is_empty() => String::new(),
        v => serde_json::to_string(v).unwrap_or_default(),
    }
}

fn usage(u: &Value) -> String {
    let keys = [
        ("input_tokens", "in"),
        ("output_tokens", "out"),
        ("cache_read_input_tokens", "cache read"),
        ("cache_creation_input_tokens", "cache write"),
    ];
    let parts = keys
        .iter()
        .filter_map(|(k, label)| u[*k].as_u64().map(|n| format!("{label} {n}")));
    let secs = u["active_seconds"]
        .as_f64()
        .map(|s| format!("{s:.0}s active"));
    parts.chain(secs).collect::<Vec<_>>().join(" · ")
}

/// Removes control characters (terminal escapes among them); tabs become spaces.
fn clean(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push(' '),
            '\t' => out.push_str("    "),
            '\r' => {}
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Approximate terminal width of a character (no Unicode tables at hand).
fn char_width(c: char) -> usize {
    match c as u32 {
        0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F => 0,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF => 2,
        0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 => 2,
        0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Cuts `s` to one line of at most `max` columns, ending with `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    let s = clean(s, false);
    if width(&s) <= max {
        return s;
    }
    let mut w = 0;
    let mut out: String = s
        .chars()
        .take_while(|&c| {
            w += char_width(c);
            w < max
        })
        .collect();
    out.push('…');
    out
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
