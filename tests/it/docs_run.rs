//! Docs are code: every fenced `sh` (or `bash`) block of README.md and
//! docs/*.md runs here, so no doc can go stale silently.
//!
//! - Each document's blocks run in order in one `bash -euo pipefail`, as a
//!   reader follows along in one terminal: a block sees the variables and
//!   files of the blocks before it.
//! - Against a fresh ant-mock per document (on a free loopback port), with
//!   `ANTHROPIC_BASE_URL` pointing at it and a fake `ANTHROPIC_API_KEY`;
//!   `ant` and `ant-mock` first on `PATH`; `HOME`, `TMPDIR` and the working
//!   directory in a temporary directory; stdin empty. A block may start
//!   its own ant-mock (or anything else) in the background: the whole
//!   process group goes when the document is done.
//! - A block that cannot run here (the real API, a browser, a build) has a
//!   `<!-- not-run: why -->` line right before its fence. The reason is
//!   required, and a marker that is not followed by a block is an error.
//! - A failure names the document and the line of the block that failed
//!   (or was running at the time limit), with the block and its output.
//!   `ANT_DOCS=getting-started cargo test --workspace --test it docs_run`
//!   runs only the documents whose path contains that text.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one document's blocks may take together.
const LIMIT: Duration = Duration::from_secs(120);
/// The marker of a block that is not run.
const NOT_RUN: &str = "<!-- not-run:";

/// One fenced shell block.
#[derive(Debug, Clone)]
pub struct Block {
    /// 1-based line of the opening fence.
    pub line: usize,
    pub text: String,
    /// Why it is not run, when it is marked so.
    pub not_run: Option<String>,
}

/// The shell blocks of a markdown text; `Err` for a malformed marker.
pub fn blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate().peekable();
    let mut marker: Option<(usize, String)> = None;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(NOT_RUN) {
            let why = rest.trim().strip_suffix("-->").unwrap_or("").trim();
            if why.is_empty() {
                return Err(format!(
                    "line {}: a not-run marker needs a reason: {line}",
                    i + 1
                ));
            }
            marker = Some((i + 1, why.to_string()));
            continue;
        }
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        if ticks < 3 {
            if let Some((at, _)) = &marker
                && !trimmed.is_empty()
            {
                return Err(format!(
                    "line {at}: a not-run marker must come right before a sh block"
                ));
            }
            continue;
        }
        let fence = &trimmed[..ticks];
        let info = trimmed[ticks..].split_whitespace().next().unwrap_or("");
        let indent = line.len() - trimmed.len();
        let mut text = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with(fence) && l.trim().trim_start_matches('`').is_empty() {
                break;
            }
            let cut = l.len() - l.trim_start().len();
            text.push_str(&l[cut.min(indent)..]);
            text.push('\n');
        }
        let not_run = marker.take();
        if matches!(info, "sh" | "bash") {
            out.push(Block {
                line: i + 1,
                text,
                not_run: not_run.map(|(_, why)| why),
            });
        } else if let Some((at, _)) = not_run {
            return Err(format!(
                "line {at}: a not-run marker must come right before a sh block, not ```{info}"
            ));
        }
    }
    if let Some((at, _)) = marker {
        return Err(format!(
            "line {at}: a not-run marker at the end, before no block"
        ));
    }
    Ok(out)
}

/// The documents whose blocks run: README.md and docs/*.md.
pub fn documents() -> Vec<PathBuf> {
    let root = repo();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The ant-mock binary next to `ant` (built by `cargo test --workspace`).
pub fn mock_binary() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_BIN_EXE_ant")).with_file_name("ant-mock");
    p.exists().then_some(p)
}

/// What running one document gave.
pub struct DocRun {
    /// Its blocks' stdout and stderr, interleaved as written.
    pub output: String,
    /// `Err` names the block that failed (or ran out of time) and why.
    pub result: Result<(), String>,
}

/// Runs the blocks of the document at `path` (relative to the repository
/// or absolute), as described at the top of this file.
pub fn run_doc(path: &Path) -> DocRun {
    let path = repo().join(path);
    let name = path
        .strip_prefix(repo())
        .unwrap_or(&path)
        .display()
        .to_string();
    let fail = |output: String, why: String| DocRun {
        output,
        result: Err(why),
    };
    let text = std::fs::read_to_string(&path).expect("the document reads");
    let all = match blocks(&text) {
        Ok(b) => b,
        Err(e) => return fail(String::new(), format!("{name}: {e}")),
    };
    let mock = crate::checked_mock(ant_mock::Config::default());
    let home = crate::home();
    let work = home.path().join("work");
    let tmp = home.path().join("tmp");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let at = home.path().join("block");
    let mut script = String::from(
        "# Generated from the document's sh blocks by tests/it/docs_run.rs.\n\
         __ant_doc_at() { printf '%s\\n' \"$1\" > \"$ANT_DOC_AT\"; }\n",
    );
    for b in all.iter().filter(|b| b.not_run.is_none()) {
        script.push_str(&format!("__ant_doc_at {}\n{}\n", b.line, b.text));
    }
    script.push_str("__ant_doc_at done\n");
    std::fs::write(home.path().join("doc.sh"), &script).unwrap();
    let log = home.path().join("output");
    let bin = Path::new(env!("CARGO_BIN_EXE_ant")).parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-euo", "pipefail"])
        .arg(home.path().join("doc.sh"))
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_CACHE_HOME", home.path().join(".cache"))
        .env("TMPDIR", &tmp)
        .env("LANG", "C.UTF-8")
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        .env("ANTHROPIC_BASE_URL", &mock.base_url)
        .env("ANTHROPIC_API_KEY", "sk-ant-api03-docs-test-key")
        .env("ANT_DOC_AT", &at)
        .current_dir(&work)
        .stdin(Stdio::null())
        .process_group(0);
    // Both streams go to one file, not a pipe: a block's background
    // process may hold it open after the shell is done.
    let file = std::fs::File::create(&log).unwrap();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    let mut child = cmd.spawn().expect("bash runs");
    let pgid = child.id() as i32;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > LIMIT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever the blocks left running in the background goes too.
    // SAFETY: signalling the process group this function started.
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(200));
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    let _ = child.wait();
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let last = std::fs::read_to_string(&at).unwrap_or_default();
    let block = last.trim().parse::<usize>().ok();
    let shown = |line: usize| {
        all.iter()
            .find(|b| b.line == line)
            .map(|b| b.text.clone())
            .unwrap_or_default()
    };
    match (status, block) {
        (Some(s), None) if s.success() && last.trim() == "done" => DocRun {
            output,
            result: Ok(()),
        },
        (Some(s), Some(line)) => {
            let why = format!("{name}:{line}: this block failed ({s}):\n{}", shown(line));
            fail(output, why)
        }
        (None, Some(line)) => {
            let why = format!(
                "{name}:{line}: this block was still running after {} s:\n{}",
                LIMIT.as_secs(),
                shown(line)
            );
            fail(output, why)
        }
        (s, _) => fail(output, format!("{name}: the blocks did not finish ({s:?})")),
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn every_sh_block_of_the_readme_and_docs_runs() {
    if mock_binary().is_none() {
        crate::skipped(
            "the docs' sh blocks: the ant-mock binary is not built (cargo test --workspace builds it)",
        );
        return;
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    let only = std::env::var("ANT_DOCS").unwrap_or_default();
    for doc in documents() {
        if !doc.to_string_lossy().contains(&only) {
            continue;
        }
        let run = run_doc(&doc);
        ran += 1;
        if let Err(why) = run.result {
            failures.push(format!(
                "{why}\n--- output (last lines) ---\n{}",
                tail(&run.output, 40)
            ));
        }
    }
    assert!(ran >= 5 || !only.is_empty(), "only {ran} documents found");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn blocks_are_found_marked_and_checked() {
    let md = "text\n```sh\necho a\n```\n\n<!-- not-run: opens a browser -->\n```sh\nant auth login\n```\n\
              ```yaml\nx: 1\n```\n  ```bash\n  echo indented\n  ```\n````sh\n```\n````\n";
    let b = blocks(md).unwrap();
    assert_eq!(b.len(), 4);
    assert_eq!(
        (b[0].line, b[0].text.as_str(), b[0].not_run.as_deref()),
        (2, "echo a\n", None)
    );
    assert_eq!(b[1].not_run.as_deref(), Some("opens a browser"));
    assert_eq!(b[2].text, "echo indented\n");
    assert_eq!(b[3].text, "```\n");
    for bad in [
        "<!-- not-run: -->\n```sh\nx\n```\n",
        "<!-- not-run: why -->\n\ntext\n```sh\nx\n```\n",
        "<!-- not-run: why -->\n```yaml\nx\n```\n",
        "<!-- not-run: why -->\n",
    ] {
        assert!(blocks(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_failing_block_is_named_by_file_and_line() {
    let home = crate::home();
    let doc = home.path().join("doc.md");
    std::fs::write(
        &doc,
        "# t\n```sh\nant beta:agents list --max-items 1\n```\n\n```sh\nant beta:agents retrieve nope\n```\n",
    )
    .unwrap();
    let run = run_doc(&doc);
    let why = run.result.unwrap_err();
    assert!(why.contains("doc.md:6: this block failed"), "{why}");
    assert!(why.contains("ant beta:agents retrieve nope"), "{why}");
    assert!(run.output.contains("404"), "{}", run.output);
}
