//! End-to-end flows of `ant` against the in-process `ant-mock` emulator:
//! the quickstart, tool confirmations, custom tools, validation errors and
//! streams that keep dropping.

use std::path::Path;

use serde_json::{Value, json};

use crate::{CheckedMock, ant, checked_mock, home, stderr, stdout};

pub struct Mock {
    pub handle: CheckedMock,
    pub home: tempfile::TempDir,
}

impl Mock {
    pub fn start(config: ant_mock::Config) -> Mock {
        Mock {
            handle: checked_mock(config),
            home: home(),
        }
    }

    pub fn new() -> Mock {
        Mock::start(ant_mock::Config::default())
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = ant(self.home.path());
        cmd.env("ANTHROPIC_BASE_URL", &self.handle.base_url)
            .env("ANTHROPIC_API_KEY", "test-key");
        cmd
    }

    /// [`Mock::cmd`] as a `std::process::Command` (see [`crate::output_piped`]).
    pub fn cmd_std(&self) -> std::process::Command {
        let mut cmd = crate::ant_std(self.home.path());
        cmd.env("ANTHROPIC_BASE_URL", &self.handle.base_url)
            .env("ANTHROPIC_API_KEY", "test-key");
        cmd
    }

    /// Runs ant and returns stdout, asserting success.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(out.status.success(), "ant {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    pub fn id(&self, args: &[&str]) -> String {
        let mut a = args.to_vec();
        a.extend(["--transform", "id", "-r"]);
        self.ok(&a).trim().to_string()
    }

    /// `beta:sessions run` on a new session, events as JSON lines.
    pub fn run_turn(
        &self,
        agent: &str,
        env: &str,
        message: &str,
        extra: &[&str],
    ) -> std::process::Output {
        self.cmd()
            .args([
                "beta:sessions",
                "run",
                "--agent",
                agent,
                "--environment-id",
                env,
                "--message",
                message,
                "--format",
                "jsonl",
            ])
            .args(extra)
            .output()
            .unwrap()
    }

    pub fn agent(&self, tool: &str) -> String {
        self.id(&[
            "beta:agents",
            "create",
            "--name",
            "Coding Assistant",
            "--model",
            "claude-opus-4-7",
            "--tool",
            tool,
        ])
    }

    pub fn environment(&self) -> String {
        self.id(&[
            "beta:environments",
            "create",
            "--name",
            "quickstart-env",
            "--config",
            "{type: cloud, networking: {type: unrestricted}}",
        ])
    }

    pub fn session(&self) -> String {
        let agent = self.agent("{type: agent_toolset_20260401}");
        let env = self.environment();
        self.id(&[
            "beta:sessions",
            "create",
            "--agent",
            &agent,
            "--environment-id",
            &env,
            "--title",
            "Quickstart session",
        ])
    }
}

pub fn user_message(text: &str) -> String {
    json!({"type": "user.message", "content": [{"type": "text", "text": text}]}).to_string()
}

fn types(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn quickstart_flow_send_then_stream_until_idle() {
    let m = Mock::new();
    let session = m.session();
    assert!(session.starts_with("sesn_"), "{session}");
    m.ok(&[
        "beta:sessions:events",
        "send",
        &session,
        "--event",
        &user_message("Write a fibonacci script\n/write fib.py\nprint(1)\n/end"),
    ]);
    let out = m.ok(&[
        "beta:sessions:events",
        "stream",
        &session,
        "--until-idle",
        "--format",
        "jsonl",
    ]);
    let t = types(&out);
    assert_eq!(t.first().map(String::as_str), Some("user.message"));
    assert!(t.contains(&"session.status_running".to_string()));
    assert!(t.contains(&"agent.message".to_string()));
    assert!(
        t.contains(&"agent.tool_use".to_string()) && t.contains(&"agent.tool_result".to_string())
    );
    assert_eq!(t.last().map(String::as_str), Some("session.status_idle"));
    // The same events, with the same ids, are in the events list.
    let listed = m.ok(&[
        "beta:sessions:events",
        "list",
        &session,
        "--order",
        "asc",
        "--format",
        "jsonl",
        "--transform",
        "id",
        "-r",
    ]);
    let streamed: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(listed.lines().collect::<Vec<_>>(), streamed);
}

#[test]
fn sessions_run_renders_the_turn_and_names_the_session() {
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let out = crate::output_piped(
        m.cmd_std().args([
            "beta:sessions",
            "run",
            "--agent",
            &agent,
            "--environment-id",
            &env,
            "--format",
            "pretty",
        ]),
        "Say hello\n/say All done.",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("> Say hello")
            && text.contains("All done.")
            && text.contains("idle (end_turn)"),
        "{text}"
    );
    let err = stderr(&out);
    let sid = err
        .lines()
        .find_map(|l| l.strip_prefix("Session ID: "))
        .expect("session id on stderr")
        .to_string();
    // Continue the same session.
    let out = m
        .cmd()
        .args([
            "beta:sessions",
            "run",
            "--session-id",
            &sid,
            "--message",
            "/say second turn",
            "--format",
            "jsonl",
            "--transform",
            "type",
            "-r",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().last(), Some("session.status_idle"));
}

#[test]
fn tool_confirmation_with_approve_and_without_an_answer() {
    let m = Mock::new();
    let agent = m.agent(
        "{type: agent_toolset_20260401, default_config: {permission_policy: {type: always_ask}}}",
    );
    let env = m.environment();
    let msg = "/write note.txt\nhello\n/end\n/say written";
    let out = m.run_turn(&agent, &env, msg, &["--approve", "all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let t = types(&stdout(&out));
    assert!(t.contains(&"user.tool_confirmation".to_string()), "{t:?}");
    assert!(t.contains(&"agent.tool_result".to_string()), "{t:?}");
    // Nobody to ask and no --approve: exit 10 with instructions.
    let out = m.run_turn(&agent, &env, msg, &[]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("user.tool_confirmation"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn custom_tool_round_trip() {
    let m = Mock::new();
    let agent = m.agent("{type: custom, name: get_weather, description: Weather, input_schema: {type: object, properties: {city: {type: string}}}}");
    let env = m.environment();
    let out = m.run_turn(&agent, &env, "/tool get_weather {\"city\": \"Paris\"}", &[]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("get_weather") && err.contains("user.custom_tool_result"),
        "{err}"
    );
    let sid = err
        .lines()
        .find_map(|l| l.strip_prefix("Session ID: "))
        .unwrap()
        .to_string();
    let use_id = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "agent.custom_tool_use")
        .and_then(|v| v["id"].as_str().map(String::from))
        .expect("custom tool use event");
    let result = json!({"type": "user.custom_tool_result", "custom_tool_use_id": use_id, "content": [{"type": "text", "text": "sunny"}]});
    m.ok(&[
        "beta:sessions:events",
        "send",
        &sid,
        "--event",
        &result.to_string(),
    ]);
    let out = m.ok(&[
        "beta:sessions:events",
        "stream",
        &sid,
        "--until-idle",
        "--format",
        "jsonl",
        "--transform",
        "type",
        "-r",
    ]);
    assert_eq!(out.lines().last(), Some("session.status_idle"), "{out}");
}

#[test]
fn server_side_validation_errors_map_to_exit_codes() {
    let m = Mock::new();
    // An unknown field passes the client (which allows new API fields) and the server refuses it.
    let out = crate::output_piped(
        m.cmd_std().args(["beta:agents", "create"]),
        "name: a\nmodel: claude-opus-4-7\nsurprise: 1\n",
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("surprise") && stderr(&out).contains("invalid_request_error"),
        "{}",
        stderr(&out)
    );
    let out = m
        .cmd()
        .args(["beta:agents", "retrieve", "agent_nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let out = ant(m.home.path())
        .env("ANTHROPIC_BASE_URL", &m.handle.base_url)
        .args(["--auth-token", "", "beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // A stale agent version is a conflict.
    let agent = m.agent("{type: agent_toolset_20260401}");
    m.ok(&[
        "beta:agents",
        "update",
        &agent,
        "--version",
        "1",
        "--name",
        "renamed",
    ]);
    let out = m
        .cmd()
        .args([
            "beta:agents",
            "update",
            &agent,
            "--version",
            "1",
            "--name",
            "again",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
}

#[test]
fn streams_dropped_by_the_server_lose_and_repeat_nothing() {
    let m = Mock::start(ant_mock::Config {
        drop_streams_after: Some(2),
        ..Default::default()
    });
    let session = m.session();
    let msg = "/say one\n/think\n/say two\n/write a.txt\nx\n/end\n/read a.txt\n/say three";
    m.ok(&[
        "beta:sessions:events",
        "send",
        &session,
        "--event",
        &user_message(msg),
    ]);
    let out = m.ok(&[
        "beta:sessions:events",
        "stream",
        &session,
        "--until-idle",
        "--format",
        "jsonl",
        "--transform",
        "id",
        "-r",
    ]);
    let listed = m.ok(&[
        "beta:sessions:events",
        "list",
        &session,
        "--order",
        "asc",
        "--format",
        "jsonl",
        "--transform",
        "id",
        "-r",
    ]);
    assert_eq!(out, listed);
    assert!(out.lines().count() > 8);
}

#[test]
fn uploads_and_downloads_round_trip() {
    let m = Mock::new();
    let dir: &Path = m.home.path();
    std::fs::write(dir.join("data.csv"), "a,b\n1,2\n").unwrap();
    let id = {
        let out = m
            .cmd()
            .current_dir(dir)
            .args([
                "beta:files",
                "upload",
                "--file",
                "data.csv",
                "--transform",
                "id",
                "-r",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    let body = m.ok(&["beta:files", "download", &id]);
    assert_eq!(body, "a,b\n1,2\n");
    let meta = m.ok(&[
        "beta:files",
        "retrieve-metadata",
        &id,
        "--transform",
        "filename",
        "-r",
    ]);
    assert_eq!(meta.trim(), "data.csv");
}

#[test]
fn thread_streams_reconnect_and_stop_at_the_thread_idle() {
    let m = Mock::start(ant_mock::Config {
        drop_streams_after: Some(2),
        ..Default::default()
    });
    let session = m.session();
    let thread = m.ok(&[
        "beta:sessions:threads",
        "list",
        &session,
        "--format",
        "jsonl",
        "--transform",
        "id",
        "-r",
    ]);
    let thread = thread
        .lines()
        .next()
        .expect("the primary thread")
        .to_string();
    m.ok(&[
        "beta:sessions:events",
        "send",
        &session,
        "--event",
        &user_message("/say one\n/say two\n/say three"),
    ]);
    let out = m
        .cmd()
        .args([
            "beta:sessions:threads:events",
            "stream",
            "--session-id",
            &session,
            &thread,
            "--format",
            "jsonl",
            "--transform",
            "type",
            "-r",
            "--max-items",
            "6",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6, "{}", stdout(&out));
}

#[test]
fn sessions_run_sends_a_message_starting_with_at_as_text() {
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let out = m.run_turn(&agent, &env, "@team look at main.py", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("@team look at main.py"));
}
