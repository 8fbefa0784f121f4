//! Runs `scripts/python-sdk-check.py` (the Messages API and the quickstart
//! flow with the official `anthropic` Python SDK) against an in-process ant-mock. The SDK is taken
//! from `$ANT_MOCK_PYTHON`, else `python3`, else installed from PyPI into a
//! cached venv; the test is skipped only when that fails (or when
//! `ANT_MOCK_PYTHON` is set and empty), saying so in `cargo test`'s output.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn has_sdk(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import anthropic"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn find_python() -> Result<String, String> {
    match std::env::var("ANT_MOCK_PYTHON") {
        Ok(p) if p.is_empty() => return Err("ANT_MOCK_PYTHON is set and empty".into()),
        Ok(p) => return Ok(p),
        Err(_) => {}
    }
    if has_sdk("python3") {
        return Ok("python3".into());
    }
    let venv = std::env::temp_dir().join("ant-mock-python-sdk-venv");
    let python = venv.join("bin/python").to_string_lossy().into_owned();
    if has_sdk(&python) {
        return Ok(python);
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("python3 not available: {e}"))?;
    if !made.success() {
        return Err("python3 -m venv failed".into());
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "-q",
            "--retries",
            "0",
            "--timeout",
            "10",
            "anthropic",
        ])
        .status()
        .map_err(|e| format!("pip: {e}"))?;
    if !pip.success() || !has_sdk(&python) {
        return Err("pip install anthropic failed (is PyPI reachable?)".into());
    }
    Ok(python)
}

#[test]
fn official_python_sdk_runs_the_messages_api_and_the_quickstart() {
    let python = match find_python() {
        Ok(p) => p,
        Err(why) => {
            crate::support::skipped(
                "official_python_sdk_runs_the_messages_api_and_the_quickstart",
                &why,
            );
            return;
        }
    };
    let (handle, _) = crate::support::start(ant_mock::Config {
        batch_delay: std::time::Duration::from_millis(300),
        ..Default::default()
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/python-sdk-check.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&handle.base_url)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python-sdk-check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("python-sdk-check: OK"), "{stdout}");
}

/// The skip is said where `cargo test` shows it, not in the output the test
/// harness captures (and hides) for a passing test: run this very test in a
/// child test process, made to skip, and read what the child prints.
#[test]
fn a_skip_is_visible_in_the_test_output() {
    if std::env::var_os("ANT_MOCK_PYTHON").is_some_and(|v| v.is_empty()) {
        return; // This is the child.
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "python_sdk::official_python_sdk_runs_the_messages_api_and_the_quickstart",
        ])
        .env("ANT_MOCK_PYTHON", "")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
    assert!(
        text.contains(
            "SKIPPED official_python_sdk_runs_the_messages_api_and_the_quickstart: ANT_MOCK_PYTHON is set and empty"
        ),
        "{text}"
    );
}
