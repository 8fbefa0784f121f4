//! Examples of real use for every verb's help and man page, made from the
//! endpoint table: the verb with its ID argument and its required flags,
//! filled with the Managed Agents quickstart's values where it has one, and
//! elsewhere with the smallest value the field's schema accepts (so a new
//! endpoint gets a valid example without anyone writing one).

use serde_json::{Map, Value, json};

use crate::api::{Loc, Operation, Param, schema};

/// One example: what it shows, and the words after `ant`.
#[derive(Debug, Clone)]
pub struct Example {
    pub note: String,
    pub argv: Vec<String>,
}

impl Example {
    fn new(note: impl Into<String>, argv: &[&str]) -> Example {
        Example {
            note: note.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The command line as a user types it, quoted for a POSIX shell.
    pub fn line(&self) -> String {
        let mut words = vec!["ant".to_string()];
        words.extend(self.argv.iter().map(|w| quote(w)));
        words.join(" ")
    }
}

/// A word quoted for a POSIX shell when it needs it.
pub fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else if word.contains('\n') {
        // bash, zsh and ksh read `$'...'` with its escapes.
        let escaped = word
            .replace('\\', "\\\\")
            .replace('\'', "\\'")
            .replace('\n', "\\n");
        format!("$'{escaped}'")
    } else if !word.contains('\'') {
        format!("'{word}'")
    } else {
        let mut out = String::from("\"");
        for c in word.chars() {
            if matches!(c, '\\' | '"' | '$' | '`') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }
}

const QUICKSTART_SYSTEM: &str =
    "You are a helpful coding assistant. Write clean, well-documented code.";
const USER_MESSAGE: &str =
    "{type: user.message, content: [{type: text, text: \"Write fibonacci.py\"}]}";

/// The quickstart's value for a field of a group's command, and a few
/// values that read better than a schema's smallest one.
fn known_value(group: &str, param: &Param) -> Option<String> {
    let g = group.strip_prefix("beta:").unwrap_or(group);
    let v = match (g, param.name) {
        ("agents", "name") => "Coding Assistant",
        ("agents", "system") => QUICKSTART_SYSTEM,
        ("agents", "tools") => "{type: agent_toolset_20260401}",
        ("environments", "name") => "quickstart-env",
        ("environments", "config") => "{type: cloud, networking: {type: unrestricted}}",
        ("sessions", "title") => "Quickstart session",
        ("sessions:events", "events") => USER_MESSAGE,
        ("deployments", "name") => "nightly-triage",
        ("deployments", "initial_events") => {
            "{type: user.message, content: [{type: text, text: \"Triage the new issues\"}]}"
        }
        ("memory-stores", "name") => "project-notes",
        ("memory-stores:memories", "path") => "/notes/testing.md",
        ("memory-stores:memories", "content") => "Run make test before every commit.",
        ("vaults", "display_name") => "production",
        ("messages" | "messages:batches", "messages") => "{role: user, content: \"Hello, Claude\"}",
        ("messages:batches", "requests") => {
            "{custom_id: first, params: {model: claude-opus-4-7, max_tokens: 1024, \
             messages: [{role: user, content: \"Hello, Claude\"}]}}"
        }
        ("completions", "prompt") => "\n\nHuman: Hello, Claude\n\nAssistant:",
        ("completions", "model") => "claude-2.1",
        ("completions", "max_tokens_to_sample") => "256",
        ("dreams", "inputs") => "{type: memory_store, memory_store_id: memstore_011CZkYpogX5F2aL}",
        (_, "model") => "claude-opus-4-7",
        (_, "max_tokens") => "1024",
        ("files", "file") => "./report.pdf",
        ("skills" | "skills:versions", "files") => "./my-skill/SKILL.md",
        (_, "agent") => return Some(id_for("agent_id")),
        (_, n) if n.ends_with("_id") => return Some(id_for(n)),
        _ => return None,
    };
    Some(v.to_string())
}

/// A plausible ID for a parameter named `name` (`session_id` -> `sesn_…`).
fn id_for(name: &str) -> String {
    let prefix = match name {
        "model_id" => return "claude-opus-4-7".into(),
        "version" => return "1".into(),
        "agent_id" => "agent",
        "session_id" => "sesn",
        "environment_id" => "env",
        "vault_id" => "vlt",
        "credential_id" => "cred",
        "memory_store_id" => "memstore",
        "memory_id" => "mem",
        "memory_version_id" => "memver",
        "thread_id" => "sthr",
        "resource_id" => "sesrsc",
        "message_batch_id" => "msgbatch",
        "deployment_run_id" => "deprun",
        "deployment_id" => "deploy",
        "user_profile_id" => "uprof",
        other => other.strip_suffix("_id").unwrap_or(other),
    };
    format!("{prefix}_011CZkYpogX5F2aL")
}

/// The smallest value `schema` accepts: required properties only, the
/// first enum value or branch, one element for a list that needs one.
fn sample(schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return schema::def_value(name).map_or(Value::Null, |s| sample(s, depth + 1));
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(branches) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        let not_null = branches.iter().find(|b| b["type"] != "null");
        return not_null.map_or(Value::Null, |b| sample(b, depth + 1));
    }
    let ty = match &schema["type"] {
        Value::Array(ts) => ts
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or_default(),
        t => t.clone(),
    };
    match ty
        .as_str()
        .unwrap_or(if schema.get("properties").is_some() {
            "object"
        } else {
            ""
        }) {
        "string" if schema["format"] == "date-time" => json!("2026-01-31T09:30:00Z"),
        "string" if schema["format"] == "uri" => json!("https://example.com"),
        "string" => json!("example"),
        "integer" | "number" => schema.get("minimum").cloned().unwrap_or(json!(1)),
        "boolean" => json!(true),
        "array" => {
            let min = schema["minItems"].as_u64().unwrap_or(0);
            let items = (0..min.max(1)).map(|_| sample(&schema["items"], depth + 1));
            Value::Array(items.collect())
        }
        "object" => {
            let mut out = Map::new();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for key in required.iter().filter_map(Value::as_str) {
                out.insert(key.into(), sample(&schema["properties"][key], depth + 1));
            }
            Value::Object(out)
        }
        _ => json!("example"),
    }
}

/// A JSON value as relaxed YAML in flow style, as a user would type it.
fn flow(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let reserved = ["true", "false", "null", "yes", "no", "~", ""];
            let safe = s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./@".contains(c))
                && !reserved.contains(&s.to_lowercase().as_str())
                && s.parse::<f64>().is_err()
                && !s.starts_with(['-', '@', '.']);
            if safe {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => {
            let fields: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {}", flow(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// The value an example gives `param`.
fn value_for(group: &str, p: &Param) -> String {
    if let Some(v) = known_value(group, p) {
        return v;
    }
    if let Some(first) = p.enum_values.first() {
        return first.to_string();
    }
    let mut s = schema::parse(p.schema);
    if p.repeated && s["type"] == "array" {
        s = s["items"].clone();
    }
    flow(&sample(&s, 0))
}

/// Optional flags the quickstart sets, shown with the required ones.
fn quickstart_extras(group: &str, verb: &str) -> &'static [&'static str] {
    match (group, verb) {
        ("beta:agents", "create") => &["system", "tools"],
        ("beta:environments", "create") => &["config"],
        ("beta:sessions", "create") => &["title"],
        _ => &[],
    }
}

/// The generated example of an API operation.
fn generated(op: &'static Operation) -> Example {
    let mut argv = vec![op.group.to_string(), op.verb.to_string()];
    let last = op.last_path_param();
    if let Some(p) = last {
        argv.push(id_for(p.name));
    }
    let extras = quickstart_extras(op.group, op.verb);
    let shown = |p: &&Param| {
        let is_last = last.is_some_and(|l| std::ptr::eq(l, *p));
        !is_last
            && p.loc != Loc::Header
            && (p.required || p.loc == Loc::Path || extras.contains(&p.name))
    };
    // Path IDs first, then the rest in table order.
    let mut params: Vec<&Param> = op.params.iter().filter(shown).collect();
    params.sort_by_key(|p| p.loc != Loc::Path);
    for p in params {
        argv.push(format!("--{}", p.flag));
        argv.push(value_for(op.group, p));
    }
    Example {
        note: op.summary.to_string(),
        argv,
    }
}

/// Examples of a few verbs beyond the generated one.
fn more(group: &str, verb: &str) -> Vec<Example> {
    let session = id_for("session_id");
    let s = session.as_str();
    match (group, verb) {
        ("beta:agents", "create") => vec![Example::new(
            "Keep just the new agent's ID, for the next command",
            &[
                "beta:agents",
                "create",
                "--name",
                "reviewer",
                "--model",
                "claude-opus-4-7",
                "--transform",
                "id",
                "-r",
            ],
        )],
        ("beta:agents", "list") => vec![Example::new(
            "One ID and name per line",
            &[
                "beta:agents",
                "list",
                "--format",
                "jsonl",
                "--transform",
                "{id,name}",
            ],
        )],
        ("beta:sessions:events", "stream") => vec![Example::new(
            "Stop when the turn ends; the exit code says how it ended",
            &["beta:sessions:events", "stream", s, "--until-idle"],
        )],
        ("beta:sessions:events", "list") => vec![Example::new(
            "What happened, one event type per line",
            &[
                "beta:sessions:events",
                "list",
                s,
                "--format",
                "jsonl",
                "--transform",
                "type",
                "-r",
            ],
        )],
        _ => vec![],
    }
}

/// Examples of the commands outside the endpoint table.
fn hand_written(group: &str, verb: &str) -> Vec<Example> {
    let (agent, env, session) = (
        id_for("agent_id"),
        id_for("environment_id"),
        id_for("session_id"),
    );
    let e = Example::new;
    match (group, verb) {
        ("beta:sessions", "run") => vec![
            e(
                "Start a session and show the agent's work until it is done",
                &[
                    "beta:sessions",
                    "run",
                    "--agent",
                    &agent,
                    "--environment-id",
                    &env,
                    "--message",
                    "Create a Python script that writes the first 20 Fibonacci numbers",
                ],
            ),
            e(
                "Continue the conversation, allowing every tool call without asking",
                &[
                    "beta:sessions",
                    "run",
                    "--session-id",
                    &session,
                    "-m",
                    "Now add tests",
                    "--approve",
                    "all",
                ],
            ),
        ],
        ("auth", "login") => vec![
            e("Sign in with your browser", &["auth", "login"]),
            e(
                "Over SSH: open the printed URL anywhere and paste the code",
                &["auth", "login", "--no-browser"],
            ),
        ],
        ("auth", "status") => vec![e(
            "Which credential commands use, and why",
            &["auth", "status"],
        )],
        ("auth", "logout") => vec![e(
            "Remove the active profile's credentials",
            &["auth", "logout"],
        )],
        ("auth", "print-credentials") => vec![e(
            "The bare access token, e.g. for curl",
            &["auth", "print-credentials", "--access-token"],
        )],
        ("profile", "list") => vec![e(
            "Every profile, '*' before the one in effect",
            &["profile", "list"],
        )],
        ("profile", "activate") => vec![e(
            "Use the profile 'work' from now on",
            &["profile", "activate", "work"],
        )],
        ("profile", "get") => vec![e(
            "The profile's workspace",
            &["profile", "get", "workspace_id"],
        )],
        ("profile", "set") => vec![
            e(
                "Send the profile's commands to a local ant-mock",
                &["profile", "set", "base_url", "http://127.0.0.1:4010"],
            ),
            e(
                "Remove a key (as 'profile unset' does)",
                &["profile", "set", "workspace_id", "null"],
            ),
        ],
        ("profile", "unset") => vec![e(
            "Stop sending a workspace",
            &["profile", "unset", "workspace_id"],
        )],
        ("beta:worker", "poll") => vec![e(
            "Run the tool calls of a self-hosted environment's sessions in ./agent-work",
            &[
                "beta:worker",
                "poll",
                "--environment-id",
                &env,
                "--workdir",
                "agent-work",
            ],
        )],
        ("beta:worker", "run") => vec![e(
            "In an --on-work container: run the claimed item named by the environment",
            &["beta:worker", "run", "--workdir", "/work"],
        )],
        _ => vec![],
    }
}

/// The Managed Agents quickstart in three commands, for `ant --help`.
pub fn quickstart() -> Vec<Example> {
    let agent = for_verb("beta:agents", "create").remove(0);
    let env = for_verb("beta:environments", "create").remove(0);
    let run = hand_written("beta:sessions", "run").remove(0);
    vec![
        Example {
            note: "Create an agent".into(),
            ..agent
        },
        Example {
            note: "Create an environment for its sessions".into(),
            ..env
        },
        Example {
            note: "Start a session and watch the agent work until it is done".into(),
            ..run
        },
    ]
}

/// Every example of `ant <group> <verb>`, the generated one first.
pub fn for_verb(group: &str, verb: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Operation::find(group, verb)
        .map(generated)
        .into_iter()
        .collect();
    out.extend(more(group, verb));
    out.extend(hand_written(group, verb));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api;

    /// Every example of every API verb parses and builds a request that
    /// passes the table's checks: names, types, enums, required fields.
    #[test]
    fn every_api_example_builds_a_valid_request() {
        struct AnyFile;
        impl crate::request::files::Files for AnyFile {
            fn read(&mut self, _: &str, _: u64) -> std::io::Result<Vec<u8>> {
                Ok(b"example".to_vec())
            }
            fn read_stdin(&mut self, _: u64) -> std::io::Result<Vec<u8>> {
                Ok(Vec::new())
            }
        }
        let mut failures = Vec::new();
        for op in api::OPERATIONS {
            let examples = for_verb(op.group, op.verb);
            assert!(!examples.is_empty(), "{} has no example", op.name());
            for ex in examples {
                let mut argv = vec!["ant".to_string()];
                argv.extend(ex.argv.clone());
                let built = crate::cli::parse_input(&argv)
                    .and_then(|(op, input)| crate::request::build(op, input, &mut AnyFile));
                if let Err(e) = built {
                    failures.push(format!("{}: {e}", ex.line()));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "examples that fail:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn managed_agents_examples_use_the_quickstart_values() {
        let line = |g, v| for_verb(g, v)[0].line();
        assert_eq!(
            line("beta:agents", "create"),
            "ant beta:agents create --model claude-opus-4-7 --name 'Coding Assistant' \
             --system 'You are a helpful coding assistant. Write clean, well-documented code.' \
             --tool '{type: agent_toolset_20260401}'"
        );
        assert_eq!(
            line("beta:environments", "create"),
            "ant beta:environments create --name quickstart-env \
             --config '{type: cloud, networking: {type: unrestricted}}'"
        );
        assert_eq!(
            line("beta:sessions:events", "send"),
            "ant beta:sessions:events send sesn_011CZkYpogX5F2aL \
             --event '{type: user.message, content: [{type: text, text: \"Write fibonacci.py\"}]}'"
        );
        assert_eq!(
            line("beta:agents", "retrieve"),
            "ant beta:agents retrieve agent_011CZkYpogX5F2aL"
        );
        assert!(
            for_verb("beta:sessions", "run")[0]
                .line()
                .contains("--agent agent_011CZkYpogX5F2aL"),
        );
    }

    #[test]
    fn samples_fill_required_fields_of_objects() {
        let s = json!({"type": "object", "required": ["type", "url"],
            "properties": {"type": {"const": "url"}, "url": {"type": "string", "format": "uri"}, "x": {}}});
        assert_eq!(
            flow(&sample(&s, 0)),
            "{type: url, url: \"https://example.com\"}"
        );
    }

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(quote("agent_1"), "agent_1");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's $x"), "\"it's \\$x\"");
        assert_eq!(quote("{a: 1}"), "'{a: 1}'");
        assert_eq!(quote("\n\nHuman: it's"), "$'\\n\\nHuman: it\\'s'");
    }
}
