//! `ant beta:worker poll` running the six tools for `ant-mock` sessions:
//! the official result texts, escapes refused (Landlock for bash), the
//! permission gate, custom tools left pending; and the wire protocol and
//! skills against a recording server.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};

use super::worker::{Bench, path_str, wait_until, workdir};
use crate::{Reply, Server};

const QUICK: Duration = Duration::from_secs(15);

fn rg_on_path() -> bool {
    ant::worker::tools::search::which("rg").is_some()
}

/// grep's result for these lines: rg's output as it prints it (a newline
/// after each line), or the built-in search's lines joined by newlines.
fn grep_lines(lines: &str) -> String {
    if rg_on_path() {
        format!("{lines}\n")
    } else {
        lines.to_string()
    }
}

#[test]
fn a_full_turn_uses_every_tool_with_the_official_texts() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir), "--max-idle", "1s"]);
    b.say(
        &session,
        "/write a.txt\nl1\nl2\nl3\n/end\n/write sub/b.txt\nb-line\n/end\n\
         /read {\"file_path\": \"a.txt\", \"view_range\": [2, 3]}\n\
         /edit a.txt\nl2\n/with\nL2\n/end\n\
         /glob **/*.txt\n/grep b-line\n\
         /bash export X=1; cd sub\n/bash echo $X; pwd\n/read nope.txt",
    );
    b.wait_turn(&session, QUICK);
    let d = dir.display();
    assert_eq!(
        b.results(&session),
        [
            "wrote 9 bytes to a.txt".to_string(),
            "wrote 7 bytes to sub/b.txt".into(),
            "l2\nl3".into(),
            "edited a.txt (1 replacement(s))".into(),
            format!("{d}/a.txt\n{d}/sub/b.txt"),
            grep_lines(&format!("{d}/sub/b.txt:1:b-line")),
            String::new(),
            format!("1\n{d}/sub\n\n"),
            "read nope.txt: no such file or directory".into(),
        ]
    );
    let errors: Vec<bool> = b
        .of_type(&session, "user.tool_result")
        .iter()
        .map(|e| e["is_error"] == true)
        .collect();
    assert_eq!(
        errors,
        [false, false, false, false, false, false, false, false, true]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a.txt")).unwrap(),
        "l1\nL2\nl3\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/b.txt")).unwrap(),
        "b-line\n"
    );
    // The turn ended, so after --max-idle the worker force-stopped the item.
    wait_until("the item to stop", QUICK, || {
        b.item_of(&session)["state"] == "stopped"
    });
    w.wait_log("msg=\"session idle after end_turn; stopping\"", QUICK);
    assert_eq!(
        w.log().matches("msg=\"dispatched tool\"").count(),
        9,
        "{}",
        w.log()
    );
    assert!(w.term(QUICK).success());
}

#[test]
fn under_a_relative_workdir_glob_and_grep_print_paths_read_can_open() {
    let b = Bench::new(5);
    let (_t, cwd) = workdir();
    let session = b.session(&b.agent(None));
    // Each session works in work/<session id>/, a relative directory.
    let w = b.worker_with(&["poll", "--workdir", "work", "--max-sessions", "2"], |c| {
        c.current_dir(&cwd);
    });
    b.say(
        &session,
        "/write a.txt\nhello\n/end\n/glob *.txt\n/grep hello\n/read a.txt",
    );
    b.wait_turn(&session, QUICK);
    let r = b.results(&session);
    assert_eq!(r[1], "a.txt", "relative to the session's directory");
    let grep = if rg_on_path() {
        "./a.txt:1:hello\n"
    } else {
        "a.txt:1:hello"
    };
    assert_eq!(r[2], grep);
    assert_eq!(r[3], "hello\n");
    assert!(cwd.join("work").join(&session).join("a.txt").exists());
    drop(w);
}

#[test]
fn escapes_are_refused_by_the_guard_and_by_landlock() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let (_o, outside) = workdir();
    std::fs::write(outside.join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
    let ssh = b.home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(ssh.join("id_rsa"), "PRIVATE KEY").unwrap();
    // ant's config directory (credentials) outside the home directory.
    let (_c, config) = workdir();
    std::fs::create_dir_all(config.join("credentials")).unwrap();
    std::fs::write(config.join("credentials/default.json"), "TOKEN").unwrap();
    let session = b.session(&b.agent(None));
    let mut w = b.worker_with(
        &["poll", "--workdir", path_str(&dir), "--max-idle", "1s"],
        |c| {
            c.env("ANTHROPIC_CONFIG_DIR", &config);
        },
    );
    b.say(
        &session,
        &format!(
            "/read ../x/secret.txt\n/read link/secret.txt\n/write ../escape.txt\nx\n/end\n\
             /bash cat {ssh}/id_rsa\n/bash echo pwned > {out}/bash.txt\n\
             /bash echo ok > \"$TMPDIR/t\" && cat \"$TMPDIR/t\" && echo $TMPDIR\n\
             /bash env | grep -c '^ANTHROPIC_' || true\n\
             /bash cat {config}/credentials/default.json",
            ssh = ssh.display(),
            out = outside.display(),
            config = config.display(),
        ),
    );
    b.wait_turn(&session, QUICK);
    let r = b.results(&session);
    assert_eq!(r[0], "read: path \"../x/secret.txt\" escapes workdir");
    assert_eq!(r[1], "read: path \"link/secret.txt\" escapes workdir");
    assert_eq!(r[2], "write: path \"../escape.txt\" escapes workdir");
    assert!(!dir.parent().unwrap().join("escape.txt").exists());
    assert_eq!(r[6], "0\n\n", "no ANTHROPIC_* variable reaches bash");
    // The private TMPDIR is removed with the session.
    let tmp = r[5]
        .strip_prefix("ok\n")
        .expect(&r[5])
        .trim_end()
        .to_string();
    assert!(tmp.contains("ant-worker-"), "a private TMPDIR: {tmp}");
    assert!(!std::path::Path::new(&tmp).starts_with(&dir));
    w.wait_log("msg=\"session ended\"", QUICK);
    assert!(!std::path::Path::new(&tmp).exists(), "{tmp} removed");
    assert!(w.term(QUICK).success());
    assert!(
        !std::path::Path::new(&tmp).parent().unwrap().exists(),
        "the worker's temporary directory is removed when it exits"
    );
    if w.log().contains("Landlock is not available") {
        crate::skipped("the bash confinement checks: Landlock is not available on this kernel");
        return;
    }
    for (i, secret) in [(3, "PRIVATE"), (7, "TOKEN")] {
        assert!(
            r[i].contains("Permission denied")
                && r[i].ends_with("exit code: 1")
                && !r[i].contains(secret),
            "{}",
            r[i]
        );
    }
    assert!(r[4].contains("Permission denied"), "{}", r[4]);
    assert!(!outside.join("bash.txt").exists());
}

#[test]
fn always_ask_holds_the_call_until_confirmed_and_deny_posts_nothing() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let agent = b.agent(Some(
        "{type: agent_toolset_20260401, default_config: {permission_policy: {type: always_ask}}}",
    ));
    let session = b.session(&agent);
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir)]);
    b.say(&session, "/bash echo one\n/bash echo two");
    w.wait_log("msg=\"tool call awaiting confirmation; holding\"", QUICK);
    std::thread::sleep(Duration::from_millis(300));
    assert!(b.results(&session).is_empty(), "held, not run");
    let uses = b.of_type(&session, "agent.tool_use");
    b.send(
        &session,
        json!({"type": "user.tool_confirmation", "tool_use_id": uses[0]["id"], "result": "allow"}),
    );
    wait_until("the confirmed call's result", QUICK, || {
        !b.results(&session).is_empty()
    });
    assert_eq!(b.results(&session), ["one\n\n"]);
    w.wait_log("msg=\"tool call confirmed\"", QUICK);
    wait_until("the second call", QUICK, || {
        b.of_type(&session, "agent.tool_use").len() == 2
    });
    let second = b.of_type(&session, "agent.tool_use")[1]["id"].clone();
    b.send(
        &session,
        json!({"type": "user.tool_confirmation", "tool_use_id": second, "result": "deny", "deny_message": "no"}),
    );
    b.wait_turn(&session, QUICK);
    w.wait_log("msg=\"tool call denied; not executing\"", QUICK);
    assert_eq!(
        b.results(&session),
        ["one\n\n"],
        "nothing posted for the denied call"
    );
    assert!(w.term(QUICK).success());
}

#[test]
fn a_custom_tool_is_left_pending_for_its_owner() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir)]);
    b.say(&session, "/tool lookup {\"q\": 1}");
    w.wait_log(
        "tool not owned by this runner; leaving the tool_use_id pending for its owner",
        QUICK,
    );
    assert!(b.of_type(&session, "user.custom_tool_result").is_empty());
    // Its owner can still answer it.
    let call = b.of_type(&session, "agent.custom_tool_use")[0]["id"].clone();
    b.send(
        &session,
        json!({"type": "user.custom_tool_result", "custom_tool_use_id": call, "content": [{"type": "text", "text": "42"}]}),
    );
    b.wait_turn(&session, QUICK);
    assert!(w.term(QUICK).success());
}

/// A tar.gz with a wrapper directory, as skill downloads come.
fn skill_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data, mode) in [
        ("pdf-skill/SKILL.md", &b"# PDF skill"[..], 0o644),
        ("pdf-skill/scripts/fill.sh", &b"echo"[..], 0o755),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_path(name).unwrap();
        h.set_cksum();
        tar.append(&h, data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A server for one claimed item (`work_1` of `sesn_1`) whose agent has one
/// skill (`team/pdf`, resolved from `latest`) and one bash call.
fn skill_server() -> Server {
    let archive = skill_archive();
    let item = json!({"id": "work_1", "type": "work", "environment_id": "env_1", "state": "queued",
        "created_at": "2026-01-01T00:00:00Z", "metadata": {}, "data": {"type": "session", "id": "sesn_1"}});
    Server::start(move |r, _| {
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/v1/environments/env_1/work/work_1/ack") => Reply::ok(item.clone()),
            ("POST", "/v1/environments/env_1/work/work_1/heartbeat") => Reply::ok(json!({
                "type": "work_heartbeat", "last_heartbeat": "hb_1", "lease_extended": true,
                "state": "active", "ttl_seconds": 30})),
            ("POST", "/v1/environments/env_1/work/work_1/stop") => Reply::Status(204, vec![], vec![]),
            ("GET", "/v1/sessions/sesn_1") => Reply::ok(json!({"id": "sesn_1", "type": "session",
                "agent": {"skills": [{"type": "custom", "skill_id": "skill_1", "version": "latest"}]}})),
            ("GET", "/v1/skills/skill_1/versions") => Reply::ok(json!({"data": [{"version": "2"}, {"version": "3"}], "next_page": null})),
            ("GET", "/v1/skills/skill_1/versions/3") => Reply::ok(json!({"version": "3", "name": "team/pdf"})),
            ("GET", "/v1/skills/skill_1/versions/3/content") => {
                Reply::Status(200, vec![("content-type".into(), "application/octet-stream".into())], archive.clone())
            }
            ("GET", "/v1/sessions/sesn_1/events") => Reply::ok(json!({"data": [
                {"id": "tu_1", "type": "agent.tool_use", "name": "bash", "input": {"command": "ls -1 skills/pdf skills/pdf/scripts; cat skills/pdf/SKILL.md"},
                 "evaluated_permission": "allow", "session_thread_id": "sthr_1"}], "next_page": null})),
            ("GET", "/v1/sessions/sesn_1/events/stream") => Reply::Chunks(200, "text/event-stream", vec![
                (Duration::from_millis(800), b"event: session.status_idle\ndata: {\"id\":\"e2\",\"type\":\"session.status_idle\",\"stop_reason\":{\"type\":\"end_turn\"}}\n\n".to_vec()),
                (Duration::from_secs(20), b": bye\n\n".to_vec()),
            ]),
            ("POST", "/v1/sessions/sesn_1/events") => Reply::ok(json!({"data": []})),
            _ => Reply::error(404, "not_found_error", "unexpected request"),
        }
    })
}

/// `ant beta:worker run` for `work_1` of [`skill_server`] in `dir`, with `--debug`.
fn run_item(server: &Server, dir: &std::path::Path) -> std::process::Output {
    let h = crate::home();
    crate::ant(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "sk-must-not-be-sent")
        .env("ANTHROPIC_ENVIRONMENT_KEY", "env-key")
        .args([
            "beta:worker",
            "run",
            "--environment-id",
            "env_1",
            "--work-id",
            "work_1",
            "--session-id",
            "sesn_1",
        ])
        .args(["--workdir", path_str(dir), "--max-idle", "300ms", "--debug"])
        .timeout(QUICK)
        .output()
        .unwrap()
}

#[test]
fn the_wire_protocol_skills_and_debug_log_match_the_official_worker() {
    let server = skill_server();
    let (_t, dir) = workdir();
    std::fs::create_dir_all(dir.join("skills/mine")).unwrap();
    let out = run_item(&server, &dir);
    let log = crate::stderr(&out);
    assert!(out.status.success(), "{log}");
    let reqs = server.recorded();
    for r in &reqs {
        assert_eq!(
            r.header("authorization"),
            Some("Bearer env-key"),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(r.header("x-api-key"), None);
        assert!(
            r.query.starts_with("beta=true") || r.query.contains("beta=true"),
            "{}",
            r.query
        );
    }
    let find = |method: &str, suffix: &str| {
        reqs.iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .cloned()
            .collect::<Vec<_>>()
    };
    let beat = &find("POST", "/heartbeat")[0];
    assert_eq!(
        beat.query_param("expected_last_heartbeat").as_deref(),
        Some("NO_HEARTBEAT")
    );
    assert_eq!(
        beat.header("x-stainless-helper"),
        Some("environments-worker")
    );
    for suffix in ["/versions", "/versions/3", "/versions/3/content"] {
        let r = &find("GET", suffix)[0];
        assert!(
            r.header("anthropic-beta")
                .unwrap()
                .contains("skills-2025-10-02"),
            "{suffix}"
        );
        assert_eq!(r.header("x-stainless-helper"), Some("environments-worker"));
    }
    let list = &find("GET", "/sesn_1/events")[0];
    assert_eq!(list.query_param("limit").as_deref(), Some("1000"));
    assert_eq!(list.query_param("order").as_deref(), Some("asc"));
    assert_eq!(
        list.header("x-stainless-helper"),
        Some("session-tool-runner")
    );
    assert_eq!(
        find("GET", "/events/stream")[0].header("x-stainless-helper"),
        Some("session-tool-runner")
    );
    let posted = find("POST", "/sesn_1/events")[0].json();
    let ev = &posted["events"][0];
    assert_eq!(
        (
            ev["type"].clone(),
            ev["tool_use_id"].clone(),
            ev["is_error"].clone()
        ),
        (json!("user.tool_result"), json!("tu_1"), json!(false))
    );
    assert!(ev.get("session_thread_id").is_none());
    assert_eq!(ev["content"][0]["type"], "text");
    assert_eq!(
        ev["content"][0]["text"],
        "skills/pdf:\nSKILL.md\nscripts\n\nskills/pdf/scripts:\nfill.sh\n# PDF skill\n"
    );
    let stops: Vec<Value> = find("POST", "/stop").iter().map(|r| r.json()).collect();
    assert_eq!(
        stops,
        [json!({"force": true})],
        "run force-stops; no graceful stop"
    );
    assert!(
        !dir.join("skills/pdf").exists(),
        "extracted skills are removed"
    );
    assert!(
        dir.join("skills/mine").exists(),
        "other skill folders are kept"
    );
    assert!(
        log.contains("[debug] > GET ") && log.contains("Bearer [redacted]"),
        "{log}"
    );
    assert!(!log.contains("env-key"), "the key is redacted: {log}");
}

#[test]
fn poll_treats_empty_answers_as_no_work_discards_unackable_items_and_stops_on_a_permanent_4xx() {
    let polls = std::sync::atomic::AtomicUsize::new(0);
    let item = json!({"id": "work_1", "type": "work", "environment_id": "env_1", "state": "queued",
        "created_at": "2026-01-01T00:00:00Z", "metadata": {}, "data": {"type": "session", "id": "sesn_1"}});
    let server = Server::start(move |r, _| {
        if r.path.ends_with("/ack") {
            return Reply::error(409, "conflict_error", "already claimed");
        }
        if r.path.ends_with("/stop") {
            return Reply::Status(204, vec![], vec![]);
        }
        match polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Reply::ok(json!({})),
            1 => Reply::Status(204, vec![], vec![]),
            2 => Reply::ok(json!(null)),
            3 => Reply::ok(item.clone()),
            _ => Reply::error(401, "authentication_error", "bad environment key"),
        }
    });
    let h = crate::home();
    let out = crate::ant(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .args([
            "--max-retries",
            "0",
            "beta:worker",
            "poll",
            "--environment-id",
            "env_1",
        ])
        .args(["--environment-key", "k", "--worker-id", "w-test"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let log = crate::stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{log}");
    for msg in [
        "msg=\"ack failed, discarding work item\" work_id=work_1",
        "msg=\"backing off after unprocessable work item\"",
        "msg=\"poll hit permanent 4xx; stopping\"",
    ] {
        assert!(log.contains(msg), "{msg} in {log}");
    }
    let reqs = server.recorded();
    let paths: Vec<&str> = reqs
        .iter()
        .map(|r| r.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["poll", "poll", "poll", "poll", "ack", "stop", "poll"],
        "{{}}, 204 and null are no work; the item that cannot be acknowledged is force-stopped"
    );
    assert_eq!(reqs[5].json(), json!({"force": true}));
    for r in reqs.iter().filter(|r| r.path.ends_with("/poll")) {
        assert_eq!(r.query_param("block_ms").as_deref(), Some("999"));
        assert_eq!(r.header("anthropic-worker-id"), Some("w-test"));
        assert_eq!(
            r.header("x-stainless-helper"),
            Some("environments-work-poller")
        );
        assert_eq!(
            r.header("anthropic-beta"),
            Some("managed-agents-2026-04-01")
        );
        assert_eq!(r.header("authorization"), Some("Bearer k"));
    }
}

#[test]
fn skills_never_follow_a_symlink_out_of_the_workdir() {
    let server = skill_server();
    let (_t, dir) = workdir();
    let (_o, outside) = workdir();
    std::fs::create_dir_all(outside.join("pdf")).unwrap();
    std::fs::write(outside.join("pdf/keep.txt"), "mine").unwrap();
    // A previous session's bash planted `skills` -> a directory of the user's.
    std::os::unix::fs::symlink(&outside, dir.join("skills")).unwrap();
    let out = run_item(&server, &dir);
    let log = crate::stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("msg=\"skill setup failed\"")
            && log.contains("skills: path \\\"skills\\\" escapes workdir"),
        "{log}"
    );
    assert!(
        outside.join("pdf/keep.txt").exists(),
        "nothing removed outside"
    );
    assert!(
        !outside.join("pdf/SKILL.md").exists(),
        "nothing extracted outside"
    );
}

/// Makes the Landlock system calls fail with ENOSYS in the started process
/// (a seccomp filter), as on a kernel without Landlock.
fn without_landlock(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let stmt = |code: u16, k: u32| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u16, k: u32, jt: u8, jf: u8| libc::sock_filter { code, jt, jf, k };
    // landlock_create_ruleset, _add_rule and _restrict_self are 444-446 on
    // every architecture.
    let filter = [
        stmt(0x20, 0),                // ld [nr]
        jump(0x35, 444, 0, 2),        // jge 444 ? next : allow
        jump(0x25, 446, 1, 0),        // jgt 446 ? allow : next
        stmt(0x06, 0x0005_0000 | 38), // ret ERRNO(ENOSYS)
        stmt(0x06, 0x7fff_0000),      // ret ALLOW
    ];
    // SAFETY: only prctl system calls between fork and exec; the filter
    // lives in the child's copy of this closure.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, 2, &prog as *const libc::sock_fprog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn without_landlock_the_worker_warns_once_and_confine_required_refuses() {
    let server = Server::start(|_, _| Reply::ok(json!(null)));
    let h = crate::home();
    let mut cmd = crate::ant_std(h.path());
    cmd.env("ANTHROPIC_BASE_URL", &server.url)
        .args(["beta:worker", "poll", "--environment-id", "env_1"])
        .args(["--environment-key", "k", "--confine", "required"]);
    without_landlock(&mut cmd);
    let out = assert_cmd::Command::from_std(cmd)
        .timeout(QUICK)
        .output()
        .unwrap();
    let err = crate::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--confine required: cannot confine tools with Landlock"),
        "{err}"
    );
    assert!(server.recorded().is_empty(), "nothing claimed");

    // --confine auto (the default): one warning, then tools run unconfined.
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let (_o, outside) = workdir();
    let agent = b.agent(None);
    let mut w = b.worker_with(
        &["poll", "--workdir", path_str(&dir), "--max-sessions", "2"],
        without_landlock,
    );
    for _ in 0..2 {
        let session = b.session(&agent);
        b.say(
            &session,
            &format!("/bash echo x > {}/$RANDOM", outside.display()),
        );
        b.wait_turn(&session, QUICK);
        assert_eq!(b.results(&session), [""], "written outside the workdir");
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 2);
    let log = w.log();
    assert_eq!(
        log.matches("level=WARN msg=\"Landlock is not available; tools run unconfined (use --confine required to refuse)\"").count(),
        1,
        "{log}"
    );
    assert!(w.term(QUICK).success());
}
