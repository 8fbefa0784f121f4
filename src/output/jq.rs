//! `--jq`: the jq language through the jaq crates (jaq-core, jaq-std,
//! jaq-json), behind the same interface as GJSON `--transform` (JSON text
//! in, JSON text out; see [`super::Transform`]). The expression is compiled
//! once, before anything is sent; each value runs through it and yields
//! zero or more values, re-encoded as JSON text that every printer takes:
//! numbers as jq prints them (an integral float as an integer, NaN as
//! `null`, infinities as the largest float), so unlike `--transform` the
//! bytes are not the server's. No module loading: `import` and `include`
//! are refused.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;

type Data = data::JustLut<Val>;

/// A compiled `--jq` expression.
pub struct Program {
    filter: jaq_core::Filter<Data>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("jq::Program")
    }
}

/// Longest error message shown (values inside errors can be large).
const MAX_MESSAGE: usize = 300;

impl Program {
    /// Parses and compiles `code`; the error says what is wrong and at which
    /// character (1-based), as `... at character N`.
    pub fn compile(code: &str) -> Result<Program, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let at = |s: &str| position(code, s);
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errs| {
                let Some((_, e)) = errs.into_iter().next() else {
                    return "cannot be parsed".to_string();
                };
                match e {
                    jaq_core::load::Error::Io(v) => match v.into_iter().next() {
                        Some((s, why)) => format!("{why} ({s}){}", at(s)),
                        None => "cannot load a module".into(),
                    },
                    jaq_core::load::Error::Lex(v) => match v.into_iter().next() {
                        Some((expect, s)) => format!("expected {}{}", expect.as_str(), at(s)),
                        None => "cannot be read".into(),
                    },
                    jaq_core::load::Error::Parse(v) => match v.into_iter().next() {
                        Some((expect, "")) => {
                            format!("expected {} at the end", expect.as_str())
                        }
                        Some((expect, s)) => format!(
                            "expected {}, found {:?}{}",
                            expect.as_str(),
                            s.chars().take(20).collect::<String>(),
                            at(s)
                        ),
                        None => "cannot be parsed".into(),
                    },
                }
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let first = errs
                    .into_iter()
                    .next()
                    .and_then(|(_, e)| e.into_iter().next());
                match first {
                    Some((name, undefined)) => {
                        format!("undefined {} {name}{}", undefined.as_str(), at(name))
                    }
                    None => "cannot be compiled".into(),
                }
            })?;
        Ok(Program { filter })
    }

    /// Runs the program on one value given as JSON text; each output as
    /// JSON text, in order. An error stops the run: the outputs so far are
    /// not returned, the message says what went wrong.
    pub fn run(&self, json: &str) -> Result<Vec<String>, String> {
        let input = jaq_json::read::parse_single(json.as_bytes())
            .map_err(|e| format!("the value is not JSON: {e}"))?;
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        let _guard = Evaluating::start();
        let mut out = Vec::new();
        for v in self.filter.id.run((ctx, input)) {
            match v {
                Ok(v) => out.push(encode(&v)),
                Err(exn) => {
                    return Err(match exn.get_err() {
                        Ok(e) => shorten(message(e)),
                        Err(exn) => match exn.get_halt() {
                            Ok(code) => format!("the expression halted (halt with code {code})"),
                            Err(_) => "the expression stopped unexpectedly".into(),
                        },
                    });
                }
            }
        }
        Ok(out)
    }
}

/// ` at character N` for a slice `part` of `code` (nothing when it is not one).
fn position(code: &str, part: &str) -> String {
    let start = code.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    if p < start || p > start + code.len() {
        return String::new();
    }
    let offset = p - start;
    if offset >= code.len() {
        return " at the end".into();
    }
    let n = code[..offset].chars().count() + 1;
    format!(" at character {n}")
}

/// An error's text: a string given to `error` as it is, else jaq's words.
fn message(e: jaq_core::Error<Val>) -> String {
    match e.into_val() {
        Val::TStr(s) => String::from_utf8_lossy(&s).into_owned(),
        other => format!("{}", Encoded(&other)),
    }
}

fn shorten(s: String) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        return s;
    }
    let cut: String = s.chars().take(MAX_MESSAGE).collect();
    format!("{cut}…")
}

/// A jaq value as JSON text: compact, keys in the value's order. Values
/// JSON has no spelling for are written as jq writes them: NaN as `null`,
/// infinities as the largest finite float, byte strings and invalid UTF-8
/// as text (lossy), non-string keys as their JSON text.
pub fn encode(v: &Val) -> String {
    Encoded(v).to_string()
}

struct Encoded<'a>(&'a Val);

impl std::fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Val::Null => f.write_str("null"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Num(n) => write_num(f, n),
            Val::TStr(b) | Val::BStr(b) => write_str(f, &String::from_utf8_lossy(b)),
            Val::Arr(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    Encoded(v).fmt(f)?;
                }
                f.write_str("]")
            }
            Val::Obj(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match k {
                        Val::TStr(b) | Val::BStr(b) => write_str(f, &String::from_utf8_lossy(b))?,
                        other => write_str(f, &Encoded(other).to_string())?,
                    }
                    f.write_str(":")?;
                    Encoded(v).fmt(f)?;
                }
                f.write_str("}")
            }
        }
    }
}

fn write_str(f: &mut std::fmt::Formatter<'_>, s: &str) -> std::fmt::Result {
    // serde_json writes every string as valid JSON (controls escaped).
    f.write_str(&serde_json::Value::from(s).to_string())
}

/// Numbers as jq 1.7 prints them: integers and decimals as they are, an
/// integral float below 1e17 without a fraction, NaN as `null`.
fn write_num(f: &mut std::fmt::Formatter<'_>, n: &jaq_json::Num) -> std::fmt::Result {
    use jaq_json::Num;
    match n {
        Num::Float(x) if x.is_nan() => f.write_str("null"),
        Num::Float(x) if x.is_infinite() => {
            let max = if *x > 0.0 { f64::MAX } else { f64::MIN };
            write_float(f, max)
        }
        Num::Float(x) if x.fract() == 0.0 && x.abs() < 1e17 => write!(f, "{}", *x as i64),
        Num::Float(x) => write_float(f, *x),
        // A decimal as the input spelled it, when that is a JSON number.
        Num::Dec(d) if serde_json::from_str::<serde_json::Number>(d).is_ok() => f.write_str(d),
        Num::Dec(d) => write_num(f, &Num::from_dec_str(d)),
        other => write!(f, "{other}"),
    }
}

/// A finite float, shortest form that reads back the same.
fn write_float(f: &mut std::fmt::Formatter<'_>, x: f64) -> std::fmt::Result {
    match serde_json::Number::from_f64(x) {
        Some(n) => write!(f, "{n}"),
        None => f.write_str("null"),
    }
}

/// Set while an expression runs, so Ctrl-C can stop one that never ends
/// (`repeat(.)` with nothing printed, `last(range(1e18))`): the runtime's
/// own Ctrl-C handling cannot run while the evaluation holds its thread.
static EVALUATING: AtomicBool = AtomicBool::new(false);
static WATCH_SIGINT: Once = Once::new();

struct Evaluating;

impl Evaluating {
    fn start() -> Evaluating {
        WATCH_SIGINT.call_once(|| {
            // SAFETY: the action only reads an atomic and calls write(2)
            // and _exit(2), which are async-signal-safe.
            let _ = unsafe {
                signal_hook_registry::register(libc::SIGINT, || {
                    if EVALUATING.load(Ordering::SeqCst) {
                        let msg = b"\nant: interrupted while evaluating --jq\n";
                        libc::write(2, msg.as_ptr().cast(), msg.len());
                        libc::_exit(crate::error::exit::INTERRUPTED);
                    }
                })
            };
        });
        EVALUATING.store(true, Ordering::SeqCst);
        Evaluating
    }
}

impl Drop for Evaluating {
    fn drop(&mut self) {
        EVALUATING.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str, input: &str) -> Result<Vec<String>, String> {
        Program::compile(code).unwrap().run(input)
    }

    #[test]
    fn the_jq_language_runs_on_one_value() {
        let agents = r#"[{"id":"a1","name":"Coding Assistant"},{"id":"a2","name":"Other"}]"#;
        assert_eq!(
            run(r#".[] | select(.name == "Coding Assistant") | .id"#, agents).unwrap(),
            [r#""a1""#]
        );
        assert_eq!(
            run("map(.id) | join(\",\")", agents).unwrap(),
            [r#""a1,a2""#]
        );
        assert_eq!(
            run("[.[] | {(.id): .name}] | add", agents).unwrap(),
            [r#"{"a1":"Coding Assistant","a2":"Other"}"#]
        );
        assert_eq!(run("length, empty, 1", agents).unwrap(), ["2", "1"]);
        assert_eq!(
            run(r#"[.[].name | test("^Cod")]"#, agents).unwrap(),
            ["[true,false]"]
        );
        assert_eq!(
            run(r#""2026-01-02T03:04:05Z" | fromdateiso8601"#, "null").unwrap(),
            ["1767323045"]
        );
        assert_eq!(run("@base64", r#""hi""#).unwrap(), [r#""aGk=""#]);
        assert_eq!(
            run("reduce .[] as $x (0; . + $x)", "[1,2,3]").unwrap(),
            ["6"]
        );
    }

    #[test]
    fn numbers_are_printed_as_jq_prints_them() {
        assert_eq!(run(".", "1.50").unwrap(), ["1.50"]);
        assert_eq!(
            run(".", "123456789012345678901234567890").unwrap(),
            ["123456789012345678901234567890"]
        );
        assert_eq!(run(". / 2", "4").unwrap(), ["2"]);
        assert_eq!(run(". / 2", "3").unwrap(), ["1.5"]);
        assert_eq!(run("nan", "null").unwrap(), ["null"]);
        assert_eq!(
            run("infinite", "null").unwrap(),
            ["1.7976931348623157e+308"]
        );
        assert_eq!(
            run("-infinite", "null").unwrap(),
            ["-1.7976931348623157e+308"]
        );
        for out in run(".[]", "[1E+2, -0, 0.1, 1e400]").unwrap() {
            serde_json::from_str::<serde_json::Value>(&out).expect(&out);
        }
    }

    #[test]
    fn strings_and_keys_come_out_as_valid_json() {
        assert_eq!(run(".", "\"a\\u0001\\\"b\"").unwrap(), [r#""a\u0001\"b""#]);
        let out = run("{(tostring): 1}", "2").unwrap();
        assert_eq!(out, [r#"{"2":1}"#]);
    }

    #[test]
    fn malformed_expressions_name_the_position() {
        let e = Program::compile(".name |").unwrap_err();
        assert!(e.contains("at the end") || e.contains("character"), "{e}");
        let e = Program::compile(".a | ) | .b").unwrap_err();
        assert!(e.contains("at character 6"), "{e}");
        let e = Program::compile("select(.x) | nosuchfn").unwrap_err();
        assert_eq!(e, "undefined filter nosuchfn at character 14");
        let e = Program::compile(r#"import "x" as y; ."#).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        let e = Program::compile("\"\\q\"").unwrap_err();
        assert!(e.contains("escape") && e.contains("character"), "{e}");
    }

    #[test]
    fn runtime_errors_say_what_went_wrong() {
        assert_eq!(run(".a", "[1]").unwrap_err(), "cannot index [1] with \"a\"");
        assert_eq!(run(r#"error("boom")"#, "null").unwrap_err(), "boom");
        let long = format!("[{}]", vec!["1"; 400].join(","));
        let e = run(".a", &long).unwrap_err();
        assert!(e.chars().count() <= MAX_MESSAGE + 1, "{e}");
    }
}
