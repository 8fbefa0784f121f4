//! Every operation of the endpoint table, called through `ant` on ant-mock,
//! answers with success and a schema-valid body (the mock checks every
//! answer against the operation's response schema and the harness fails on
//! any mismatch). Table-driven: each command's required flags are built from
//! their schemas, IDs come from what earlier commands created or listed (a
//! creator waits for the IDs its path and overrides name), and
//! commands run creators first, readers next, destroyers last.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ant::api::{Loc, OPERATIONS, Operation, Response};
use ant_mock::synth::{self, Fill};
use serde_json::Value;

use crate::{ant_std, checked_mock, home};

/// Operations that cannot succeed on ant-mock by design, with the exit
/// code they give instead and why.
const REFUSED: &[(&str, i32, &str)] = &[
    (
        "beta:sessions:threads archive",
        5,
        "the primary thread, the only one ant-mock's sessions have, cannot be archived",
    ),
    (
        "beta:sessions:resources update",
        5,
        "its required authorization_token is for github_repository resources, and `add` \
         requires --file-id, so the session's resource is a file",
    ),
];

/// Flags given instead of built ones (`{name}` is an ID from an earlier call).
fn overrides(op: &str) -> Vec<(&'static str, &'static str)> {
    let message = "{role: user, content: Hello}";
    let request = "{custom_id: one, params: {model: claude-opus-4-7, max_tokens: 20, messages: [{role: user, content: Hi}]}}";
    match op {
        "messages create" | "beta:messages create" => vec![("message", message)],
        "messages count-tokens" | "beta:messages count-tokens" => vec![("message", message)],
        "messages:batches create" | "beta:messages:batches create" => vec![("request", request)],
        "beta:environments create" => vec![("config", "{type: self_hosted}")],
        "beta:sessions create" | "beta:deployments create" => {
            vec![
                ("agent", "{agent_id}"),
                ("environment-id", "{environment_id}"),
            ]
        }
        "beta:sessions:events send" => {
            vec![(
                "event",
                "{type: user.message, content: [{type: text, text: Hello}]}",
            )]
        }
        "beta:sessions:resources add" => vec![("type", "file"), ("file-id", "{file_id}")],
        "beta:sessions:resources update" => vec![],
        "beta:vaults:credentials create" => vec![(
            "auth",
            "{type: static_bearer, token: secret-token, mcp_server_url: 'https://mcp.example/'}",
        )],
        "beta:memory-stores:memories create" => vec![("path", "/notes.md"), ("content", "hello")],
        // A dream reads what exists.
        "beta:dreams create" => vec![(
            "input",
            "{type: memory_store, memory_store_id: {memory_store_id}}",
        )],
        _ => vec![],
    }
}

struct Run {
    mock: crate::CheckedMock,
    home: tempfile::TempDir,
    /// The ID of one item of each collection, by the collection's path
    /// template (`/v1/organizations/workspaces/{workspace_id}/members`).
    ids: BTreeMap<String, String>,
    /// The last ID seen under each parameter name, for `{name}` in overrides.
    named: BTreeMap<String, String>,
    fresh: bool,
    failures: Vec<String>,
}

/// The path template of the collection whose item parameter is segment `at`.
fn collection(path: &str, at: usize) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    format!("/{}", segs[..at].join("/"))
}

/// The collection and index of each path parameter of `op`.
fn path_params(op: &Operation) -> Vec<(String, &'static ant::api::Param)> {
    let segs: Vec<&str> = op.path.trim_matches('/').split('/').collect();
    op.path_params()
        .map(|p| {
            let at = segs
                .iter()
                .position(|s| *s == format!("{{{}}}", p.wire))
                .unwrap();
            (collection(op.path, at), p)
        })
        .collect()
}

fn is_creator(op: &Operation) -> bool {
    matches!(op.verb, "create" | "add" | "upload" | "send" | "set")
}

fn is_destroyer(op: &Operation) -> bool {
    matches!(
        op.verb,
        "delete" | "remove" | "archive" | "cancel" | "stop" | "redact"
    )
}

/// The name of the ID of items listed or created at `path`: the parameter
/// that follows it in another operation's path.
fn item_id(path: &str) -> Option<&'static str> {
    let prefix = format!("{path}/{{");
    OPERATIONS.iter().find_map(|o| {
        let rest = o.path.strip_prefix(&prefix)?;
        let name = rest.split('}').next()?;
        o.params
            .iter()
            .find(|p| p.loc == Loc::Path && p.wire == name)
            .map(|p| p.name)
    })
}

/// A value of a flag's schema, as JSON text (strings bare).
fn built(schema: &str, field: &str) -> Value {
    let mut fill = Fill {
        now: "2026-11-01T00:00:00Z",
        seeded: true,
        counter: 0,
    };
    synth::value(&ant::api::schema::parse(schema), field, &mut fill)
}

impl Run {
    fn args(&self, op: &'static Operation, files: &std::path::Path) -> Result<Vec<String>, String> {
        let name = op.name();
        let mut args = vec![op.group.to_string(), op.verb.to_string()];
        let given = overrides(&name);
        let colls = path_params(op);
        for p in op.params {
            let over = given.iter().find(|(f, _)| *f == p.flag);
            let values: Vec<String> = match (over, p.loc) {
                (Some((_, v)), _) => vec![self.fill_ids(v)?],
                (None, Loc::Path) => {
                    let coll = &colls.iter().find(|(_, q)| q.name == p.name).unwrap().0;
                    let id = match self.ids.get(coll) {
                        Some(id) => id.clone(),
                        // An upsert names the item it makes.
                        None if matches!(op.verb, "set" | "add") => format!("{}_made", p.name),
                        None => return Err(format!("no item of {coll} known")),
                    };
                    vec![id]
                }
                (None, _) if !p.required => continue,
                (None, _) if p.file => {
                    let f = files.join(if op.group.contains("skills") {
                        "SKILL.md"
                    } else {
                        "notes.txt"
                    });
                    vec![f.to_string_lossy().into_owned()]
                }
                (None, _) => {
                    let v = built(p.schema, p.name);
                    let items = match (v, p.repeated) {
                        (Value::Array(items), true) if items.is_empty() => {
                            let item = ant::api::schema::parse(p.schema)["items"].clone();
                            let mut fill = Fill {
                                now: "2026-11-01T00:00:00Z",
                                seeded: true,
                                counter: 0,
                            };
                            vec![synth::value(&item, p.name, &mut fill)]
                        }
                        (Value::Array(items), true) => items,
                        (v, _) => vec![v],
                    };
                    items
                        .into_iter()
                        .map(|v| match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        })
                        .collect()
                }
            };
            for v in values {
                args.push(format!("--{}={v}", p.flag));
            }
        }
        for (flag, _) in &given {
            if !op.params.iter().any(|p| p.flag == *flag) {
                return Err(format!("override --{flag} is not a flag of {name}"));
            }
        }
        match op.response {
            Response::Sse => args.extend(["--max-items".into(), "1".into()]),
            Response::Binary => {
                args.push("-o".into());
                args.push(files.join("download").to_string_lossy().into_owned());
            }
            _ => {}
        }
        Ok(args)
    }

    /// `v` with every `{name}` (an ID name: letters and `_`) replaced by
    /// the ID known under that name; other braces are YAML, kept.
    fn fill_ids(&self, v: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = v;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let key = rest[1..].split('}').next().unwrap_or("");
            let is_name = rest[1..].contains('}')
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if !is_name {
                out.push('{');
                rest = &rest[1..];
                continue;
            }
            let id = self
                .named
                .get(key)
                .ok_or_else(|| format!("no {key} known"))?;
            out.push_str(id);
            rest = &rest[key.len() + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn call(&mut self, op: &'static Operation, files: &std::path::Path) {
        let name = op.name();
        let args = match self.args(op, files) {
            Ok(a) => a,
            Err(why) => return self.failures.push(format!("{name}: {why}")),
        };
        let mut child = ant_std(self.home.path())
            .env("ANTHROPIC_BASE_URL", &self.mock.0.base_url)
            .env("ANTHROPIC_API_KEY", "sk-ant-api03-test")
            .env("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")
            .args(["--format", "jsonl"])
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        if let Some((_, want, _)) = REFUSED.iter().find(|(n, _, _)| *n == name) {
            if code != *want {
                self.failures
                    .push(format!("{name}: exit {code}, expected {want}"));
            }
            return;
        }
        if code != 0 {
            let err = String::from_utf8_lossy(&out.stderr);
            return self
                .failures
                .push(format!("{name} {args:?}: exit {code}: {}", err.trim()));
        }
        // An upsert made the item its path names.
        if let Some((coll, p)) = path_params(op).pop()
            && args.contains(&format!("--{}={}_made", p.flag, p.name))
        {
            self.ids.insert(coll, format!("{}_made", p.name));
        }
        let first = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .and_then(|l| serde_json::from_str::<Value>(l).ok());
        self.remember(op, first, self.fresh);
    }

    /// IDs of what a call created or listed, for the calls after it
    /// (`fresh`: replacing those known).
    fn remember(&mut self, op: &'static Operation, v: Option<Value>, fresh: bool) {
        let Some(v) = v else { return };
        let coll = if op.is_list() || is_creator(op) {
            op.path.to_string()
        } else if op.verb == "poll" {
            op.path.trim_end_matches("/poll").to_string()
        } else {
            return;
        };
        let Some(key) = item_id(&coll) else { return };
        let id = v.get(key).filter(|v| v.is_string()).or_else(|| v.get("id"));
        if let Some(id) = id.and_then(Value::as_str) {
            if fresh || !self.ids.contains_key(&coll) {
                self.ids.insert(coll, id.to_string());
            }
            self.named.insert(key.to_string(), id.to_string());
        }
    }

    /// Before a destroyer: the ID of an item that still exists (listed
    /// again, or made again), since its GA or beta twin may have taken the
    /// one known.
    fn refresh(&mut self, op: &'static Operation, files: &std::path::Path) {
        let Some((coll, _)) = path_params(op).pop() else {
            return;
        };
        let twin = |o: &&Operation| o.path == coll && o.beta == op.beta;
        let upsert = |o: &&Operation| {
            o.verb == "set" && o.beta == op.beta && o.path.starts_with(&format!("{coll}/{{"))
        };
        let list = OPERATIONS.iter().find(|o| twin(o) && o.is_list());
        self.ids.remove(&coll);
        if let Some(list) = list {
            self.call_fresh(list, files);
        }
        if !self.ids.contains_key(&coll)
            && let Some(make) = OPERATIONS
                .iter()
                .find(|o| twin(o) && is_creator(o) || upsert(o))
        {
            self.call_fresh(make, files);
        }
    }

    fn call_fresh(&mut self, op: &'static Operation, files: &std::path::Path) {
        self.fresh = true;
        self.call(op, files);
        self.fresh = false;
    }
}

#[test]
fn every_operation_answers_through_ant_with_a_schema_valid_body() {
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("notes.txt"), "hello\n").unwrap();
    std::fs::write(
        files.path().join("SKILL.md"),
        "---\nname: greeting\ndescription: Says hello\n---\n# Greeting\n",
    )
    .unwrap();
    let mut run = Run {
        mock: checked_mock(ant_mock::Config {
            batch_delay: Duration::ZERO,
            ..Default::default()
        }),
        home: home(),
        ids: BTreeMap::from([("/v1/models".to_string(), "claude-opus-4-7".to_string())]),
        named: BTreeMap::new(),
        fresh: false,
        failures: Vec::new(),
    };
    let depth = |o: &Operation| o.path_params().count();
    // The lists of the top collections first: they name the example items of
    // collections the API cannot fill (users, API keys, bundles).
    for op in OPERATIONS.iter().filter(|o| o.is_list() && depth(o) == 0) {
        run.call(op, files.path());
    }
    // Creators, as soon as the IDs their paths need are known.
    let mut pending: Vec<&'static Operation> =
        OPERATIONS.iter().filter(|o| is_creator(o)).collect();
    pending.sort_by_key(|o| depth(o));
    let mut called = BTreeSet::new();
    loop {
        let ready: Vec<&'static Operation> = pending
            .iter()
            .copied()
            .filter(|o| path_params(o).iter().all(|(c, _)| run.ids.contains_key(c)))
            .filter(|o| {
                overrides(&o.name())
                    .iter()
                    .all(|(_, v)| run.fill_ids(v).is_ok())
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        for op in ready {
            run.call(op, files.path());
            called.insert(op.name());
        }
        pending.retain(|o| !called.contains(&o.name()));
    }
    for op in pending {
        run.call(op, files.path());
        called.insert(op.name());
    }
    // Readers: lists first (they name the IDs of what exists), polls before
    // acknowledgements; then destroyers, innermost first.
    let mut readers: Vec<&'static Operation> = OPERATIONS
        .iter()
        .filter(|o| !is_creator(o) && !is_destroyer(o))
        .collect();
    let order = |o: &Operation| match o.verb {
        _ if o.is_list() => 0,
        "poll" => 1,
        "ack" => 2,
        // A paused deployment is unpaused before it runs.
        "pause" => 3,
        "unpause" => 4,
        _ => 5,
    };
    readers.sort_by_key(|o| (order(o), depth(o)));
    let mut destroyers: Vec<&'static Operation> =
        OPERATIONS.iter().filter(|o| is_destroyer(o)).collect();
    // Innermost first; agents and environments after the sessions that use
    // them (an archived agent takes no new session); deletes after archives.
    let used = |o: &Operation| matches!(o.group, "beta:agents" | "beta:environments");
    destroyers.sort_by_key(|o| (std::cmp::Reverse(depth(o)), used(o), o.verb == "delete"));
    let send = OPERATIONS
        .iter()
        .find(|o| o.name() == "beta:sessions:events send")
        .unwrap();
    for op in readers {
        if op.response == Response::Sse {
            // Events to read: those sent while no stream is attached wait for one.
            run.call(send, files.path());
        }
        run.call(op, files.path());
    }
    for op in destroyers {
        run.refresh(op, files.path());
        run.call(op, files.path());
    }
    assert!(
        run.failures.is_empty(),
        "{} of {} operations failed:\n{}",
        run.failures.len(),
        OPERATIONS.len(),
        run.failures.join("\n")
    );
    let checked: BTreeSet<String> = run.mock.0.checked_operations().into_iter().collect();
    let unchecked: Vec<String> = OPERATIONS
        .iter()
        .filter(|o| o.response_schema.is_some() || o.stream_schema.is_some())
        .map(|o| o.name())
        .filter(|n| !checked.contains(n) && !REFUSED.iter().any(|(r, _, _)| r == n))
        .filter(|n| n != "beta:environments:work stop")
        .collect();
    assert!(
        unchecked.is_empty(),
        "answers never checked against their schema: {unchecked:?}"
    );
}
