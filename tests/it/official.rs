//! `ant` against the official CLI's recorded output: the 141 cases of
//! `official/cases.jsonl` (copied from the reference corpus, recorded from
//! the official `ant` 1.20.0) are replayed from a loopback server as
//! `replay.py` serves them, and stdout, the exit status and whether stderr
//! is empty must be the official's. The cases that show a deliberate
//! difference are marked in [`DELIBERATE`], each with the line of
//! `docs/differences.md` that documents it; their own output is pinned in
//! `official/ours/<case>.stdout` (`ANT_BLESS_OFFICIAL=1` rewrites those).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::{Recorded, Reply, Server};

/// A case whose output differs from the official one on purpose.
struct Deliberate {
    id: &'static str,
    /// Lines of docs/differences.md documenting the difference.
    lines: &'static [&'static str],
    /// Cases whose recorded responses are served too (the pages the
    /// official CLI never asked for).
    also_serve: &'static [&'static str],
    rc: i32,
}

const NO_MATCH: &str = "- **A `--transform` that matches nothing prints nothing and exits 9.**";
const PARTIAL: &str =
    "- **A `--transform` that matches only some items of a list prints only those.**";
const RAW_PAGES: &str =
    "- **`raw` on a list command prints every page's body, one after another.**";
const YAML_DOCS: &str = "- **`yaml` separates list items with `---`.**";
const YAML_STRINGS: &str = "- **`yaml` is safe for YAML 1.1 readers: U+2028 and U+2029 are escaped, `<<` and `=` are quoted.**";
const YAML_NUMBERS: &str = "- **`yaml` writes a number with an exponent with a fraction and a signed exponent (`1e21` as `1.0e+21`).**";

const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        id: "gjson.t-nomatch",
        lines: &[NO_MATCH],
        also_serve: &[],
        rc: 9,
    },
    Deliberate {
        id: "agents-list.t-owner-r.partial",
        lines: &[PARTIAL],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "agents-list.raw-first-page",
        lines: &[RAW_PAGES],
        also_serve: &["agents-list.default"],
        rc: 0,
    },
    Deliberate {
        id: "agents-list.t-page-names.raw",
        lines: &[RAW_PAGES],
        also_serve: &["agents-list.t-skills.raw-output"],
        rc: 0,
    },
    Deliberate {
        id: "sessions-list.raw",
        lines: &[RAW_PAGES],
        also_serve: &["sessions-list.limit3.jsonl"],
        rc: 0,
    },
    Deliberate {
        id: "agents-list.yaml",
        lines: &[YAML_DOCS, YAML_STRINGS],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "sessions-list.max-items3.yaml",
        lines: &[YAML_DOCS],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "vaults-list.t-multipath.yaml",
        lines: &[YAML_DOCS],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "batches-list.max-items2.yaml",
        lines: &[YAML_DOCS],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "batches-results.yaml",
        lines: &[YAML_DOCS],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "escapes.yaml",
        lines: &[YAML_STRINGS],
        also_serve: &[],
        rc: 0,
    },
    Deliberate {
        id: "numbers.yaml",
        lines: &[YAML_NUMBERS],
        also_serve: &[],
        rc: 0,
    },
];

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/official")
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(here().join("cases.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The recorded responses, answered as `replay.py` answers: among those for
/// the method and path, the first whose query equals the request's, else
/// the first whose paging parameters do, preferring ones not served yet;
/// anything else is a 404 the case did not expect.
struct Replay {
    responses: Vec<Value>,
    served: Mutex<Vec<bool>>,
    unmatched: Mutex<Vec<String>>,
}

const PAGING_KEYS: [&str; 4] = ["page", "after_id", "before_id", "page_token"];

impl Replay {
    fn answer(&self, r: &Recorded) -> Reply {
        let query: BTreeMap<String, String> = r
            .query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        let recorded = |i: usize| -> BTreeMap<String, String> {
            self.responses[i]["query"]
                .as_object()
                .map(|q| {
                    q.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let candidates: Vec<usize> = (0..self.responses.len())
            .filter(|&i| {
                self.responses[i]["method"] == r.method.as_str()
                    && self.responses[i]["path"] == r.path.as_str()
            })
            .collect();
        let exact: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| recorded(i) == query)
            .collect();
        let paging: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                let q = recorded(i);
                PAGING_KEYS.iter().all(|k| q.get(*k) == query.get(*k))
            })
            .collect();
        let mut served = self.served.lock().unwrap();
        for group in [exact, paging] {
            let Some(&first) = group.first() else {
                continue;
            };
            let i = group.iter().copied().find(|&i| !served[i]).unwrap_or(first);
            served[i] = true;
            let resp = &self.responses[i];
            return Reply::Status(
                resp["status"].as_u64().unwrap() as u16,
                vec![
                    (
                        "content-type".into(),
                        resp["content_type"].as_str().unwrap().into(),
                    ),
                    ("request-id".into(), "req_replay".into()),
                ],
                resp["body"].as_str().unwrap().as_bytes().to_vec(),
            );
        }
        let what = format!("{} {}?{}", r.method, r.path, r.query);
        self.unmatched.lock().unwrap().push(what.clone());
        let body = json!({"type": "error", "error": {"type": "not_found_error",
                          "message": format!("no recorded response for {what}")}});
        Reply::Status(
            404,
            vec![
                ("content-type".into(), "application/json".into()),
                ("x-should-retry".into(), "false".into()),
            ],
            body.to_string().into_bytes(),
        )
    }
}

/// What `ant` did in one case.
struct Run {
    stdout: String,
    stderr: String,
    rc: Option<i32>,
    unmatched: Vec<String>,
}

/// Runs a case as the official CLI was recorded: `ant --base-url URL
/// ARGS...`, stdin from /dev/null, piped output, an empty HOME and working
/// directory, and only PATH, HOME, LANG, TZ and the API key in the environment.
fn run(case: &Value, responses: Vec<Value>) -> Run {
    let replay = Arc::new(Replay {
        served: Mutex::new(vec![false; responses.len()]),
        responses,
        unmatched: Mutex::default(),
    });
    let server = {
        let replay = replay.clone();
        Server::start(move |r, _| replay.answer(r))
    };
    let dir = tempfile::tempdir().unwrap();
    let (home, cwd) = (dir.path().join("home"), dir.path().join("cwd"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let args: Vec<&str> = case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ant"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LANG", "C.UTF-8")
        .env("TZ", "UTC")
        .env("ANTHROPIC_API_KEY", "test-key")
        .current_dir(&cwd)
        .arg("--base-url")
        .arg(&server.url)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let unmatched = replay.unmatched.lock().unwrap().clone();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        rc: out.status.code(),
        unmatched,
    }
}

/// The first line where two texts differ, with both sides, for a report.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.split('\n').collect(), got.split('\n').collect());
    let n = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    format!(
        "first difference at line {}:\n    want: {:?}\n    got:  {:?}",
        n + 1,
        w.get(n).unwrap_or(&"<end>"),
        g.get(n).unwrap_or(&"<end>")
    )
}

/// What is wrong with one case, if anything.
fn check(case: &Value, by_id: &BTreeMap<String, Value>, docs: &str) -> Option<String> {
    let id = case["id"].as_str().unwrap();
    let official = &case["official"];
    let want_stdout = official["stdout"].as_str().unwrap();
    let deliberate = DELIBERATE.iter().find(|d| d.id == id);
    let mut responses = case["responses"].as_array().unwrap().clone();
    for other in deliberate.map_or(&[][..], |d| d.also_serve) {
        responses.extend(
            by_id[*other]["responses"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    let got = run(case, responses);
    let mut problems = Vec::new();
    if let Some(d) = deliberate {
        let pinned = here().join("ours").join(format!("{id}.stdout"));
        if std::env::var_os("ANT_BLESS_OFFICIAL").is_some() {
            std::fs::create_dir_all(pinned.parent().unwrap()).unwrap();
            std::fs::write(&pinned, &got.stdout).unwrap();
        }
        let ours = std::fs::read_to_string(&pinned).unwrap_or_default();
        if got.stdout != ours {
            problems.push(format!(
                "stdout is not the pinned {}: {}",
                pinned.display(),
                first_difference(&ours, &got.stdout)
            ));
        }
        if got.rc != Some(d.rc) {
            problems.push(format!("exit status {:?}, want {}", got.rc, d.rc));
        }
        if got.stdout == want_stdout && got.rc == official["rc"].as_i64().map(|c| c as i32) {
            problems.push("now matches the official output: remove its mark".into());
        }
        for line in d.lines {
            if !docs.lines().any(|l| l == *line) {
                problems.push(format!("docs/differences.md lacks the line {line:?}"));
            }
        }
    } else {
        if got.stdout != want_stdout {
            problems.push(format!(
                "stdout: {}",
                first_difference(want_stdout, &got.stdout)
            ));
        }
        if got.rc != official["rc"].as_i64().map(|c| c as i32) {
            problems.push(format!("exit status {:?}, want {}", got.rc, official["rc"]));
        }
        if got.stderr.is_empty() != official["stderr_empty"].as_bool().unwrap() {
            problems.push(format!("stderr: {:?}", got.stderr));
        }
        if !got.unmatched.is_empty() {
            problems.push(format!(
                "requests not in the recording: {:?}",
                got.unmatched
            ));
        }
    }
    (!problems.is_empty()).then(|| {
        let args = case["args"].to_string();
        format!("{id} (ant {args}):\n  {}", problems.join("\n  "))
    })
}

#[test]
fn every_recorded_case_prints_what_the_official_cli_printed() {
    let all = cases();
    assert_eq!(all.len(), 141, "the corpus has 141 cases");
    let by_id: BTreeMap<String, Value> = all
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    for d in DELIBERATE {
        assert!(by_id.contains_key(d.id), "{}: no such case", d.id);
    }
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/differences.md"))
            .unwrap();
    // A few at a time: each case is one short `ant` process.
    let next = Mutex::new(all.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some(case) = next.lock().unwrap().next() else {
                        return;
                    };
                    if let Some(problem) = check(case, &by_id, &docs) {
                        failures.lock().unwrap().push(problem);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the official output:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
