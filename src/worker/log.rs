//! The worker's log on stderr, in the official worker's shapes (Go `slog`):
//! `--log-format text` gives `time=… level=INFO msg="claimed work" key=value`
//! lines, `json` one JSON object per line. On a terminal, text logs become
//! short colored one-liners. Lines are written whole, so concurrent
//! sessions never interleave inside a line.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// Colored one-liners for a terminal.
    Pretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// One attribute value.
#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    Bool(bool),
    Int(i64),
    Dur(Duration),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(s)
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Self {
        Val::Str(s.clone())
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::Bool(b)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl From<usize> for Val {
    fn from(i: usize) -> Self {
        Val::Int(i as i64)
    }
}
impl From<Duration> for Val {
    fn from(d: Duration) -> Self {
        Val::Dur(d)
    }
}
impl From<&std::io::Error> for Val {
    fn from(e: &std::io::Error) -> Self {
        Val::Str(e.to_string())
    }
}
impl From<&crate::error::Error> for Val {
    fn from(e: &crate::error::Error) -> Self {
        Val::Str(e.to_string())
    }
}

pub struct Logger {
    format: Format,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Logger {
    pub fn new(format: Format, out: Box<dyn Write + Send>) -> Logger {
        Logger {
            format,
            out: Mutex::new(out),
        }
    }

    pub fn stderr(format: Format) -> Logger {
        Logger::new(format, Box::new(std::io::stderr()))
    }

    pub fn info(&self, msg: &str, attrs: &[(&str, Val)]) {
        self.log(Level::Info, msg, attrs);
    }

    pub fn warn(&self, msg: &str, attrs: &[(&str, Val)]) {
        self.log(Level::Warn, msg, attrs);
    }

    pub fn error(&self, msg: &str, attrs: &[(&str, Val)]) {
        self.log(Level::Error, msg, attrs);
    }

    pub fn log(&self, level: Level, msg: &str, attrs: &[(&str, Val)]) {
        let now = SystemTime::now();
        let line = match self.format {
            Format::Text => text_line(now, level, msg, attrs),
            Format::Json => json_line(now, level, msg, attrs),
            Format::Pretty => pretty_line(now, level, msg, attrs),
        };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
}

/// Local time as `2026-01-02T15:04:05.000+01:00` and `15:04:05`.
fn local_time(t: SystemTime) -> (String, String) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    let off = tm.tm_gmtoff;
    let zone = if off == 0 {
        "Z".to_string()
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", off.abs() / 3600, off.abs() % 3600 / 60)
    };
    let clock = format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
    let full = format!(
        "{:04}-{:02}-{:02}T{clock}.{:03}{zone}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        d.subsec_millis()
    );
    (full, clock)
}

/// slog's text quoting: bare unless empty or containing spaces, `"`, `=`
/// or unprintable characters.
fn text_value(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=');
    if bare {
        s.to_string()
    } else {
        Value::String(s.to_string()).to_string()
    }
}

fn val_text(v: &Val) -> String {
    match v {
        Val::Str(s) => text_value(s),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Dur(d) => duration::format(*d),
    }
}

fn text_line(t: SystemTime, level: Level, msg: &str, attrs: &[(&str, Val)]) -> String {
    let mut s = format!(
        "time={} level={} msg={}",
        local_time(t).0,
        level.name(),
        text_value(msg)
    );
    for (k, v) in attrs {
        s.push(' ');
        s.push_str(&text_value(k));
        s.push('=');
        s.push_str(&val_text(v));
    }
    s.push('\n');
    s
}

fn json_line(t: SystemTime, level: Level, msg: &str, attrs: &[(&str, Val)]) -> String {
    let mut m = Map::new();
    m.insert("time".into(), Value::String(local_time(t).0));
    m.insert("level".into(), Value::String(level.name().into()));
    m.insert("msg".into(), Value::String(msg.into()));
    for (k, v) in attrs {
        let v = match v {
            Val::Str(s) => Value::String(s.clone()),
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            // slog's JSON handler writes durations as integer nanoseconds.
            Val::Dur(d) => Value::from(d.as_nanos() as u64),
        };
        m.insert((*k).to_string(), v);
    }
    let mut s = Value::Object(m).to_string();
    s.push('\n');
    s
}

const RESET: &str = "\x1b[0m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";

fn get<'a>(attrs: &'a [(&str, Val)], key: &str) -> Option<&'a Val> {
    attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// `15:04:05 ✓ bash 12ms sesn_…` for tool calls, `15:04:05 msg key=value`
/// (colored by level) for the rest.
fn pretty_line(t: SystemTime, level: Level, msg: &str, attrs: &[(&str, Val)]) -> String {
    let clock = local_time(t).1;
    if msg == "dispatched tool" {
        let failed = matches!(get(attrs, "is_error"), Some(Val::Bool(true)))
            || matches!(get(attrs, "posted"), Some(Val::Bool(false)));
        let (mark, color) = if failed { ("✗", RED) } else { ("✓", GREEN) };
        let tool = get(attrs, "tool").map(val_text).unwrap_or_default();
        let took = match get(attrs, "duration") {
            Some(Val::Dur(d)) => short_duration(*d),
            _ => String::new(),
        };
        let session = get(attrs, "session_id").map(val_text).unwrap_or_default();
        let mut s = format!(
            "{DIM}{clock}{RESET} {color}{mark}{RESET} {BOLD}{tool}{RESET} {took} {DIM}{session}{RESET}"
        );
        if matches!(get(attrs, "posted"), Some(Val::Bool(false))) {
            s.push_str(&format!(" {RED}(result not posted){RESET}"));
        }
        s.push('\n');
        return s;
    }
    let color = match level {
        Level::Info => "",
        Level::Warn => YELLOW,
        Level::Error => RED,
    };
    let mut s = format!("{DIM}{clock}{RESET} {color}{BOLD}{msg}{RESET}");
    for (k, v) in attrs {
        s.push_str(&format!(" {DIM}{k}={RESET}{}", val_text(v)));
    }
    s.push('\n');
    s
}

/// `0.6ms`, `16ms`, `2.4s`: enough precision for a glance.
fn short_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}ms")
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.1}s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_are_slog_shaped() {
        let t = UNIX_EPOCH + Duration::from_millis(1_767_225_600_123);
        let line = text_line(
            t,
            Level::Warn,
            "poll failed, backing off",
            &[
                ("error", "GET x: 500 Internal".into()),
                ("sleep", Duration::from_millis(1500).into()),
                ("posted", true.into()),
                ("work_id", "work_1".into()),
            ],
        );
        let rest = line.split_once(' ').unwrap().1;
        assert!(line.starts_with("time=20"), "{line}");
        assert_eq!(
            rest,
            "level=WARN msg=\"poll failed, backing off\" error=\"GET x: 500 Internal\" sleep=1.5s posted=true work_id=work_1\n"
        );
        assert_eq!(text_value(""), "\"\"");
        assert_eq!(text_value("a=b"), "\"a=b\"");
    }

    #[test]
    fn terminal_lines_are_short() {
        let t = UNIX_EPOCH;
        let line = pretty_line(
            t,
            Level::Info,
            "dispatched tool",
            &[
                ("tool", "bash".into()),
                ("is_error", true.into()),
                ("posted", true.into()),
                ("duration", Duration::from_micros(16_055).into()),
                ("session_id", "sesn_1".into()),
            ],
        );
        assert!(
            line.contains("\x1b[31m✗\x1b[0m \x1b[1mbash\x1b[0m 16ms"),
            "{line:?}"
        );
        assert_eq!(short_duration(Duration::from_micros(591)), "0.6ms");
        assert_eq!(short_duration(Duration::from_millis(2400)), "2.4s");
    }

    #[test]
    fn json_lines_carry_typed_values() {
        let t = UNIX_EPOCH;
        let line = json_line(
            t,
            Level::Info,
            "claimed work",
            &[
                ("work_id", "w".into()),
                ("sleep", Duration::from_secs(1).into()),
            ],
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["msg"], "claimed work");
        assert_eq!(v["work_id"], "w");
        assert_eq!(v["sleep"], 1_000_000_000u64);
        assert!(v["time"].is_string());
    }
}
