//! Secrets never show: every command that carries a credential the API
//! documents as a secret runs with `--debug`, and the secret appears neither
//! on stdout nor on stderr. Which commands carry one comes from the table,
//! so a new one fails here until it is covered.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Reply, Server, ant, ant_at, home, stderr, stdout};

/// Whether a schema (following `$ref`s into the table) marks a secret.
fn carries_secret(s: &Value, seen: &mut Vec<String>) -> bool {
    match s {
        Value::Object(m) => {
            if m.get("x-secret") == Some(&Value::Bool(true)) {
                return true;
            }
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                && !seen.iter().any(|n| n == name)
            {
                seen.push(name.to_string());
                if let Some(def) = ant::api::schema::def_value(name)
                    && carries_secret(def, seen)
                {
                    return true;
                }
            }
            m.values().any(|v| carries_secret(v, seen))
        }
        Value::Array(items) => items.iter().any(|v| carries_secret(v, seen)),
        _ => false,
    }
}

/// `group verb` of every operation with a parameter that can hold a secret.
fn credential_commands() -> BTreeSet<String> {
    ant::api::OPERATIONS
        .iter()
        .filter(|op| {
            op.params
                .iter()
                .any(|p| carries_secret(&ant::api::schema::parse(p.schema), &mut Vec::new()))
        })
        .map(|op| op.name())
        .collect()
}

const MCP: &str =
    "{type: url, name: m, url: 'https://mcp.example', authorization_token: SECRET-mcp}";

/// One invocation per (command, secret field); every secret starts with `SECRET-`.
fn invocations() -> Vec<(&'static str, Vec<String>)> {
    let message = "{role: user, content: hi}";
    let repo = "{type: github_repository, url: 'https://github.com/o/r', authorization_token: SECRET-repo}";
    let batch = format!(
        "{{custom_id: c1, params: {{max_tokens: 5, model: m, messages: [{message}], mcp_servers: [{MCP}]}}}}"
    );
    let words = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    vec![
        (
            "beta:messages create",
            words(&[
                "beta:messages",
                "create",
                "--max-tokens",
                "5",
                "--model",
                "m",
                "--message",
                message,
                "--mcp-server",
                MCP,
                "--fallback-credit-token",
                "SECRET-fallback",
            ]),
        ),
        (
            "beta:messages create",
            words(&[
                "beta:messages",
                "create",
                "--max-tokens",
                "5",
                "--model",
                "m",
                "--message",
                message,
                "--fallback-credit-token",
                "{token: SECRET-fallback-object}",
            ]),
        ),
        (
            "beta:messages count-tokens",
            words(&[
                "beta:messages",
                "count-tokens",
                "--model",
                "m",
                "--message",
                message,
                "--mcp-server",
                MCP,
            ]),
        ),
        (
            "beta:messages:batches create",
            words(&["beta:messages:batches", "create", "--request", &batch]),
        ),
        (
            "beta:sessions create",
            words(&[
                "beta:sessions",
                "create",
                "--agent",
                "agent_1",
                "--environment-id",
                "env_1",
                "--resource",
                repo,
            ]),
        ),
        (
            "beta:sessions:resources update",
            words(&[
                "beta:sessions:resources",
                "update",
                "--session-id",
                "sesn_1",
                "--resource-id",
                "res_1",
                "--authorization-token",
                "SECRET-resource",
            ]),
        ),
        (
            "beta:deployments create",
            words(&[
                "beta:deployments",
                "create",
                "--name",
                "d",
                "--agent",
                "agent_1",
                "--environment-id",
                "env_1",
                "--initial-event",
                "{type: user.message, content: [{type: text, text: hi}]}",
                "--resource",
                repo,
            ]),
        ),
        (
            "beta:deployments update",
            // The whole list in one value, as the official takes it here.
            words(&[
                "beta:deployments",
                "update",
                "dep_1",
                "--resource",
                &format!("[{repo}]"),
            ]),
        ),
    ]
}

/// Vault credentials, against the emulator: each auth type, every secret
/// field; the update applies to the last one created (same auth type).
fn credential_auths() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "create",
            "{type: static_bearer, mcp_server_url: 'https://mcp.example', token: SECRET-bearer}",
        ),
        (
            "create",
            "{type: environment_variable, secret_name: GH_TOKEN, secret_value: SECRET-env, networking: {type: unrestricted}}",
        ),
        (
            "create",
            "{type: mcp_oauth, mcp_server_url: 'https://mcp.example', access_token: SECRET-access, \
             refresh: {refresh_token: SECRET-refresh, client_id: cid, token_endpoint: 'https://mcp.example/token', \
             token_endpoint_auth: {type: client_secret_post, client_secret: SECRET-client}}}",
        ),
        (
            "update",
            "{type: mcp_oauth, access_token: SECRET-access2, refresh: {refresh_token: SECRET-refresh2, \
             token_endpoint_auth: {type: client_secret_basic, client_secret: SECRET-client2}}}",
        ),
    ]
}

fn assert_no_secret(what: &str, out: &std::process::Output) {
    let (o, e) = (stdout(out), stderr(out));
    assert!(out.status.success(), "{what}: {e}");
    assert!(
        !o.contains("SECRET-"),
        "{what}: stdout shows a secret:\n{o}"
    );
    assert!(
        !e.contains("SECRET-"),
        "{what}: stderr shows a secret:\n{e}"
    );
    assert!(
        e.contains("\"[redacted]\""),
        "{what}: the debug log shows the masked body field:\n{e}"
    );
}

#[test]
fn every_credential_bearing_command_keeps_its_secrets_out_of_debug_output() {
    let mut covered: BTreeSet<String> = invocations().iter().map(|(c, _)| c.to_string()).collect();
    covered.insert("beta:vaults:credentials create".into());
    covered.insert("beta:vaults:credentials update".into());
    assert_eq!(
        covered,
        credential_commands(),
        "every command that can carry a secret needs a case here"
    );

    // Commands the emulator does not answer: a loopback server.
    let server = Server::json(json!({"id": "x", "type": "ok"}));
    let h = home();
    for (name, args) in invocations() {
        let out = ant_at(&server, h.path())
            .arg("--debug")
            .args(&args)
            .output()
            .unwrap();
        assert_no_secret(name, &out);
    }
    let sent: Vec<String> = server.recorded().iter().map(|r| r.body_text()).collect();
    assert_eq!(sent.len(), invocations().len());
    for body in &sent {
        assert!(body.contains("SECRET-"), "the secret is sent: {body}");
    }

    // Vault credentials against the emulator, which must not echo them either.
    let mock = crate::checked_mock(Default::default());
    let h = home();
    let run = |args: &[&str]| {
        ant(h.path())
            .env("ANTHROPIC_BASE_URL", &mock.base_url)
            .env("ANTHROPIC_API_KEY", "sk-test")
            .args(args)
            .output()
            .unwrap()
    };
    let vault = stdout(&run(&[
        "beta:vaults",
        "create",
        "--display-name",
        "v",
        "--transform",
        "id",
        "-r",
    ]));
    let vault = vault.trim();
    let mut credential = String::new();
    for (verb, auth) in credential_auths() {
        let mut args = vec![
            "--debug",
            "beta:vaults:credentials",
            verb,
            "--vault-id",
            vault,
        ];
        if verb == "update" {
            args.extend(["--credential-id", credential.as_str()]);
        }
        args.extend(["--auth", auth]);
        let out = run(&args);
        assert_no_secret(&format!("credentials {verb} {auth}"), &out);
        if verb == "create" {
            let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
            credential = created["id"].as_str().unwrap().to_string();
        }
    }
    for verb in ["list", "retrieve"] {
        let mut args = vec![
            "--debug",
            "beta:vaults:credentials",
            verb,
            "--vault-id",
            vault,
        ];
        if verb == "retrieve" {
            args.push(&credential);
        }
        let out = run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!stdout(&out).contains("SECRET-") && !stderr(&out).contains("SECRET-"));
    }
}

#[test]
fn a_secret_split_across_stream_chunks_is_masked_in_debug_output() {
    let first = br#"event: agent.message
data: {"id":"sevt_1","type":"agent.message","content":[],"authorization_tok"#
        .to_vec();
    let second = b"en\":\"SECRET-split\"}\n\nevent: session.status_idle\n\
        data: {\"id\":\"sevt_2\",\"type\":\"session.status_idle\",\"stop_reason\":{\"type\":\"end_turn\"}}\n\n"
        .to_vec();
    let server = Server::start(move |r, _| {
        if r.path.ends_with("/events") {
            Reply::ok(json!({"data": [], "next_page": null}))
        } else {
            Reply::Chunks(
                200,
                "text/event-stream",
                vec![
                    (Duration::ZERO, first.clone()),
                    (Duration::from_millis(300), second.clone()),
                ],
            )
        }
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["--debug", "beta:sessions:events", "stream", "sesn_1"])
        .args([
            "--until-idle",
            "--format",
            "jsonl",
            "--transform",
            "id",
            "-r",
        ])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stdout(&out), "sevt_1\nsevt_2\n");
    assert!(!err.contains("SECRET-"), "{err}");
    assert!(
        err.contains(r#""authorization_token":"[redacted]""#),
        "{err}"
    );
}
