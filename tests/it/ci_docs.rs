//! Runs every command of docs/ci-federation.md against ant-mock: the GitHub
//! Actions workflow (with a stand-in for GitHub's OIDC token service), the
//! GitLab job (with the `id_tokens:` variable GitLab would set), and the
//! local rehearsal. A wrong federation rule must make them fail.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::signin::jwt;
use crate::{Reply, Server, home};

const DOC: &str = include_str!("../../docs/ci-federation.md");
const RULE: &str = "fdrl_01example";
const ORG: &str = "00000000-0000-4000-8000-000000000001";

/// The fenced blocks of the guide: (info string, text).
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in DOC.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => out.push(current.take().unwrap()),
            (Some((_, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

fn yaml(text: &str) -> Value {
    ant::request::value::parse_yaml(text).expect("the guide's YAML parses")
}

fn missing_tools() -> Vec<&'static str> {
    ["bash", "curl", "jq", "base64"]
        .into_iter()
        .filter(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .map(|o| !o.status.success())
                .unwrap_or(true)
        })
        .collect()
}

/// A shell with `ant` first on PATH, in an isolated HOME.
fn shell(home: &Path, env: &HashMap<String, String>, script: &str) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_ant")).parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script]);
    cmd.env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", home)
        .env("ANTHROPIC_CONFIG_DIR", home.join("anthropic"))
        .env("NO_COLOR", "1")
        .current_dir(home);
    cmd.envs(env);
    cmd.output().expect("bash runs")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Evaluates the `${{ … }}` expressions the workflow uses.
fn expand(s: &str, runner_temp: &Path, vars: &HashMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").expect("closed expression") + i;
        let expr = rest[i + 3..end].trim();
        let value = match expr.strip_prefix("vars.") {
            Some(name) => vars
                .get(name)
                .unwrap_or_else(|| panic!("no test value for {expr}"))
                .clone(),
            None if expr == "runner.temp" => runner_temp.display().to_string(),
            None => panic!("the test does not know ${{{{ {expr} }}}}"),
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Runs the workflow's steps in order; returns each step's output, or the
/// index and output of the first step that failed.
fn run_github(workflow: &Value, mock: &str, rule: &str) -> Result<Vec<String>, (usize, String)> {
    let h = home();
    let runner_temp = h.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let token_service = Server::start(|r, _| {
        if r.header("authorization") == Some("bearer gh-request-token") {
            let aud = r.query_param("audience").unwrap_or_default();
            Reply::ok(json!({"count": 1, "value": jwt(json!({
                "iss": "https://token.actions.githubusercontent.com", "aud": aud,
                "sub": "repo:acme/app:ref:refs/heads/main"}))}))
        } else {
            Reply::error(401, "unauthorized", "bad request token")
        }
    });
    let vars = HashMap::from([
        ("ANTHROPIC_FEDERATION_RULE_ID", rule.to_string()),
        ("ANTHROPIC_ORGANIZATION_ID", ORG.to_string()),
        (
            "ANTHROPIC_OIDC_AUDIENCE",
            "https://api.anthropic.com".to_string(),
        ),
    ]);
    let job = workflow["jobs"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    let mut env: HashMap<String, String> = job["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), expand(v.as_str().unwrap(), &runner_temp, &vars)))
        .collect();
    env.insert(
        "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
        format!("{}/_apis/token?api-version=2.0", token_service.url),
    );
    env.insert(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
        "gh-request-token".into(),
    );
    env.insert("GITHUB_RUN_ID".into(), "4242".into());
    env.insert("ANTHROPIC_BASE_URL".into(), mock.to_string());
    let mut outputs = Vec::new();
    for (i, step) in job["steps"].as_array().unwrap().iter().enumerate() {
        let script = step["run"].as_str().expect("every step is a run step");
        let o = shell(h.path(), &env, script);
        if !o.status.success() {
            return Err((i, text(&o)));
        }
        outputs.push(text(&o));
    }
    let asked = token_service.only();
    assert_eq!(
        asked.query_param("audience").as_deref(),
        Some("https://api.anthropic.com")
    );
    Ok(outputs)
}

#[test]
fn the_ci_federation_guide_runs_as_written() {
    let missing = missing_tools();
    if !missing.is_empty() {
        crate::skipped(&format!(
            "the ci-federation.md check: {} not installed",
            missing.join(", ")
        ));
        return;
    }
    let m = crate::checked_mock(ant_mock::Config {
        federation_rule: Some(RULE.into()),
        ..Default::default()
    });
    let blocks = blocks();

    // GitHub Actions.
    let workflow = blocks
        .iter()
        .map(|(_, t)| yaml(t))
        .find(|v| v.get("jobs").is_some())
        .expect("a GitHub workflow");
    assert_eq!(workflow["permissions"]["id-token"], "write");
    let out = run_github(&workflow, &m.base_url, RULE)
        .unwrap_or_else(|(i, o)| panic!("step {i} failed:\n{o}"));
    assert!(
        out[1]
            .lines()
            .any(|l| l.starts_with("  (active) * Federation (jwt-bearer)")),
        "{}",
        out[1]
    );
    let agent = out[2]
        .trim()
        .strip_prefix("created ")
        .expect("an agent id")
        .to_string();
    assert!(agent.starts_with("agent_"), "{}", out[2]);
    assert!(out[3].contains(&agent), "{}", out[3]);
    // The same workflow with a rule the server does not accept fails at
    // its first API call.
    let (step, o) = run_github(&workflow, &m.base_url, "fdrl_01wrong").unwrap_err();
    assert_eq!(step, 2, "{o}");
    assert!(o.contains("status 401"), "{o}");

    // GitLab: the id_tokens variable holds the JWT itself.
    let gitlab = blocks
        .iter()
        .map(|(_, t)| yaml(t))
        .find(|v| {
            v.as_object()
                .is_some_and(|o| o.values().any(|j| j.get("id_tokens").is_some()))
        })
        .expect("a GitLab job");
    let job = gitlab.as_object().unwrap().values().next().unwrap();
    let h = home();
    let mut env: HashMap<String, String> = job["variables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    for (name, spec) in job["id_tokens"].as_object().unwrap() {
        let aud = spec["aud"].as_str().unwrap();
        env.insert(
            name.clone(),
            jwt(json!({"iss": "https://gitlab.com", "aud": aud, "sub": "project_path:acme/app"})),
        );
    }
    env.insert("CI_PIPELINE_ID".into(), "77".into());
    env.insert("ANTHROPIC_BASE_URL".into(), m.base_url.clone());
    let mut created = String::new();
    for line in job["script"].as_array().unwrap() {
        let o = shell(h.path(), &env, line.as_str().unwrap());
        assert!(o.status.success(), "{line}:\n{}", text(&o));
        if line.as_str().unwrap().contains("create") {
            created = String::from_utf8_lossy(&o.stdout).trim().to_string();
        }
        if line.as_str().unwrap().contains("list") {
            assert!(
                text(&o).contains(&created) && created.starts_with("agent_"),
                "{}",
                text(&o)
            );
        }
    }

    // The local rehearsal runs as every doc's sh blocks do
    // (docs_run.rs); here its output is checked too.
    if crate::docs_run::mock_binary().is_none() {
        crate::skipped(
            "the local rehearsal: the ant-mock binary is not built (cargo test --workspace builds it)",
        );
        return;
    }
    let run = crate::docs_run::run_doc(Path::new("docs/ci-federation.md"));
    let t = run.output;
    assert!(run.result.is_ok(), "{:?}\n{t}", run.result);
    assert!(t.contains("Federation (jwt-bearer)"), "{t}");
    assert!(
        t.contains("[debug] > POST") && t.contains("\"assertion\":\"[redacted]\""),
        "{t}"
    );
    assert!(t.trim_end().ends_with("exit 3"), "{t}");
    assert!(t.contains("status 401"), "{t}");
}
