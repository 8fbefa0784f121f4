//! Exact requests, continued: `@file` forms, multipart uploads, and one
//! command of every resource group.

use serde_json::json;

use crate::requests::send;
use crate::{Server, ant_at, home};

#[test]
fn file_references_inline_text_base64_and_stdin() {
    let h = home();
    let dir = h.path();
    std::fs::write(dir.join("prompt.txt"), "be brief").unwrap();
    std::fs::write(dir.join("bin.dat"), [0u8, 1, 2, 255]).unwrap();
    let server = Server::json(json!({}));
    let out = crate::output_piped(
        crate::ant_at_std(&server, dir).current_dir(dir).args([
            "beta:agents",
            "create",
            "--name",
            "@file://prompt.txt",
            "--model",
            "{id: x}",
            "--system",
            "@prompt.txt",
            "--description",
            "@data://prompt.txt",
            "--metadata",
            "{a: '@bin.dat', b: '\\@literal', c: '@-'}",
        ]),
        "from stdin",
    );
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let v = server.only().json();
    assert_eq!(v["name"], json!("be brief"));
    assert_eq!(v["system"], json!("be brief"));
    assert_eq!(v["description"], json!("YmUgYnJpZWY="));
    assert_eq!(
        v["metadata"],
        json!({"a": "AAEC/w==", "b": "@literal", "c": "from stdin"})
    );
}

#[test]
fn upload_sends_a_multipart_file_part() {
    let h = home();
    std::fs::write(h.path().join("notes.txt"), "hello file").unwrap();
    let server = Server::json(json!({"id": "file_1"}));
    ant_at(&server, h.path())
        .current_dir(h.path())
        .args(["beta:files", "upload", "--file", "notes.txt"])
        .assert()
        .success();
    let r = server.only();
    assert_eq!(r.path, "/v1/files");
    assert_eq!(r.header("anthropic-beta"), Some("files-api-2025-04-14"));
    let ct = r.header("content-type").unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let b = r.body_text();
    assert!(b.contains("Content-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nhello file\r\n"), "{b}");
    // piped `file: PATH` does the same
    let server = Server::json(json!({"id": "file_1"}));
    let out = crate::output_piped(
        crate::ant_at_std(&server, h.path())
            .current_dir(h.path())
            .args(["beta:files", "upload"]),
        "file: notes.txt\n",
    );
    assert!(out.status.success(), "{}", crate::stderr(&out));
    assert!(server.only().body_text().contains("filename=\"notes.txt\""));
}

#[test]
fn skills_create_sends_files_array_parts_and_fields() {
    let h = home();
    std::fs::write(h.path().join("SKILL.md"), "# skill").unwrap();
    let server = Server::json(json!({"id": "skill_1"}));
    ant_at(&server, h.path())
        .current_dir(h.path())
        .args([
            "beta:skills",
            "create",
            "--file",
            "SKILL.md",
            "--display-title",
            "My skill",
        ])
        .assert()
        .success();
    let r = server.only();
    assert_eq!(r.header("anthropic-beta"), Some("skills-2025-10-02"));
    let b = r.body_text();
    assert!(b.contains("name=\"files[]\"; filename=\"SKILL.md\""), "{b}");
    assert!(
        b.contains("name=\"display_title\"\r\n\r\nMy skill\r\n"),
        "{b}"
    );
}

#[test]
fn piped_yaml_naming_files_uploads_them_as_parts() {
    let h = home();
    std::fs::write(h.path().join("SKILL.md"), "# skill").unwrap();
    std::fs::write(h.path().join("tool.py"), "print(1)").unwrap();
    for (group, path) in [
        ("beta:skills", "/v1/skills"),
        ("beta:skills:versions", "/v1/skills/skill_1/versions"),
    ] {
        let server = Server::json(json!({"id": "skill_1"}));
        let mut args = vec![group, "create"];
        if group == "beta:skills:versions" {
            args.push("skill_1");
        }
        let out = crate::output_piped(
            crate::ant_at_std(&server, h.path())
                .current_dir(h.path())
                .args(&args),
            "files:\n  - ./SKILL.md\n  - tool.py\ndisplay_title: x\n",
        );
        assert!(out.status.success(), "{}", crate::stderr(&out));
        let r = server.only();
        assert_eq!(r.path, path);
        let b = r.body_text();
        let disposition = |name: &str| format!("name=\"files[]\"; filename=\"{name}\"");
        assert!(
            b.contains(&format!(
                "{}\r\nContent-Type: text/markdown\r\n\r\n# skill\r\n",
                disposition("SKILL.md")
            )),
            "{b}"
        );
        assert!(b.contains(&disposition("tool.py")), "{b}");
        assert_eq!(b.matches("filename=").count(), 2, "{b}");
        if group == "beta:skills" {
            assert!(b.contains("name=\"display_title\"\r\n\r\nx\r\n"), "{b}");
        }
    }
    // Anything but paths is refused before sending.
    let server = Server::json(json!({}));
    let out = crate::output_piped(
        crate::ant_at_std(&server, h.path())
            .current_dir(h.path())
            .args(["beta:skills", "create"]),
        "files: [{a: 1}]\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::stderr(&out).contains("files must be a list of file paths"));
    assert!(server.recorded().is_empty());
}

#[test]
fn whole_list_flags_take_the_list_and_repeatable_strings_stay_literal() {
    let h = home();
    let server = Server::json(json!({"id": "x"}));
    // Update commands whose list fields are one value holding the whole list.
    ant_at(&server, h.path())
        .args([
            "beta:deployments",
            "update",
            "dep_1",
            "--vault-id",
            "[a, b]",
        ])
        .assert()
        .success();
    assert_eq!(server.recorded()[0].json()["vault_ids"], json!(["a", "b"]));
    ant_at(&server, h.path())
        .args(["beta:agents", "update", "agent_1", "--version", "1"])
        .args(["--tool", "[{type: agent_toolset_20260401}]"])
        .args([
            "--tool",
            "[{type: custom, name: t, description: d, input_schema: {type: object}}]",
        ])
        .assert()
        .success();
    assert_eq!(
        server.recorded()[1].json()["tools"],
        json!([{"type": "custom", "name": "t", "description": "d", "input_schema": {"type": "object"}}]),
        "repeating replaces the list"
    );
    // Elsewhere a repeatable string flag takes each value literally.
    ant_at(&server, h.path())
        .args([
            "messages",
            "create",
            "--model",
            "claude-opus-4-7",
            "--max-tokens",
            "9",
        ])
        .args(["--message", "{role: user, content: hi}"])
        .args(["--stop-sequence", "[END]", "--stop-sequence", "STOP"])
        .assert()
        .success();
    assert_eq!(
        server.recorded()[2].json()["stop_sequences"],
        json!(["[END]", "STOP"])
    );
    // And create commands take one element per occurrence.
    ant_at(&server, h.path())
        .args(["beta:sessions", "create", "--agent", "agent_1"])
        .args([
            "--environment-id",
            "env_1",
            "--vault-id",
            "a",
            "--vault-id",
            "b",
        ])
        .assert()
        .success();
    assert_eq!(server.recorded()[3].json()["vault_ids"], json!(["a", "b"]));
}

/// One command of every resource group reaches the right method and path.
#[test]
fn every_resource_group_maps_to_its_endpoint() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "completions",
                "create",
                "--model",
                "claude-2",
                "--prompt",
                "\n\nHuman: hi\n\nAssistant:",
                "--max-tokens-to-sample",
                "5",
            ],
            "POST",
            "/v1/complete",
        ),
        (
            &[
                "messages",
                "count-tokens",
                "--model",
                "m",
                "--message",
                "{role: user, content: hi}",
            ],
            "POST",
            "/v1/messages/count_tokens",
        ),
        (
            &["messages:batches", "cancel", "mb_1"],
            "POST",
            "/v1/messages/batches/mb_1/cancel",
        ),
        (&["beta:models", "list"], "GET", "/v1/models"),
        (
            &[
                "beta:messages",
                "create",
                "--max-tokens",
                "5",
                "--model",
                "m",
                "--message",
                "{role: user, content: hi}",
            ],
            "POST",
            "/v1/messages",
        ),
        (
            &["beta:messages:batches", "delete", "mb_1"],
            "DELETE",
            "/v1/messages/batches/mb_1",
        ),
        (
            &["beta:agents:versions", "list", "agent_1"],
            "GET",
            "/v1/agents/agent_1/versions",
        ),
        (
            &[
                "beta:environments",
                "create",
                "--name",
                "quickstart-env",
                "--config",
                "{type: cloud, networking: {type: unrestricted}}",
            ],
            "POST",
            "/v1/environments",
        ),
        (
            &["beta:environments:work", "stats", "env_1"],
            "GET",
            "/v1/environments/env_1/work/stats",
        ),
        (
            &["beta:sessions", "archive", "sesn_1"],
            "POST",
            "/v1/sessions/sesn_1/archive",
        ),
        (
            &[
                "beta:sessions:events",
                "send",
                "sesn_1",
                "--event",
                "{type: user.message, content: [{type: text, text: hi}]}",
            ],
            "POST",
            "/v1/sessions/sesn_1/events",
        ),
        (
            &[
                "beta:sessions:resources",
                "delete",
                "--session-id",
                "s",
                "r",
            ],
            "DELETE",
            "/v1/sessions/s/resources/r",
        ),
        (
            &["beta:sessions:threads", "archive", "--session-id", "s", "t"],
            "POST",
            "/v1/sessions/s/threads/t/archive",
        ),
        (
            &["beta:deployments", "pause", "dep_1"],
            "POST",
            "/v1/deployments/dep_1/pause",
        ),
        (
            &["beta:deployment-runs", "retrieve", "run_1"],
            "GET",
            "/v1/deployment_runs/run_1",
        ),
        (
            &["beta:vaults", "delete", "vlt_1"],
            "DELETE",
            "/v1/vaults/vlt_1",
        ),
        (
            &[
                "beta:vaults:credentials",
                "mcp-oauth-validate",
                "--vault-id",
                "v",
                "c",
            ],
            "POST",
            "/v1/vaults/v/credentials/c/mcp_oauth_validate",
        ),
        (
            &["beta:memory-stores", "archive", "ms_1"],
            "POST",
            "/v1/memory_stores/ms_1/archive",
        ),
        (
            &[
                "beta:memory-stores:memories",
                "retrieve",
                "--memory-store-id",
                "ms",
                "m",
            ],
            "GET",
            "/v1/memory_stores/ms/memories/m",
        ),
        (
            &[
                "beta:memory-stores:memory-versions",
                "redact",
                "--memory-store-id",
                "ms",
                "mv",
            ],
            "POST",
            "/v1/memory_stores/ms/memory_versions/mv/redact",
        ),
        (
            &["beta:files", "delete", "file_1"],
            "DELETE",
            "/v1/files/file_1",
        ),
        (
            &["beta:skills", "delete", "skill_1"],
            "DELETE",
            "/v1/skills/skill_1",
        ),
        (
            &["beta:skills:versions", "retrieve", "--skill-id", "s", "1"],
            "GET",
            "/v1/skills/s/versions/1",
        ),
        (
            &["beta:user-profiles", "delete", "up_1"],
            "DELETE",
            "/v1/user_profiles/up_1",
        ),
        (
            &["beta:user-profiles", "create-enrollment-url", "up_1"],
            "POST",
            "/v1/user_profiles/up_1/enrollment_url",
        ),
        (
            &["beta:dreams", "cancel", "dream_1"],
            "POST",
            "/v1/dreams/dream_1/cancel",
        ),
        (
            &["beta:tunnels", "rotate-token", "tun_1"],
            "POST",
            "/v1/tunnels/tun_1/rotate_token",
        ),
        (
            &[
                "beta:tunnels:certificates",
                "archive",
                "--tunnel-id",
                "t",
                "c",
            ],
            "POST",
            "/v1/tunnels/t/certificates/c/archive",
        ),
    ];
    for (args, method, path) in cases {
        let r = send(args);
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            (*method, *path),
            "ant {args:?}"
        );
        if args[0].starts_with("beta:") {
            assert_eq!(
                r.query_param("beta").as_deref(),
                Some("true"),
                "ant {args:?}"
            );
        }
    }
}

#[test]
fn whole_value_file_references_hold_yaml_for_object_and_list_flags() {
    let h = home();
    std::fs::write(
        h.path().join("tools.yaml"),
        "- {type: agent_toolset_20260401}\n- {type: mcp_toolset, mcp_server_name: m}\n",
    )
    .unwrap();
    std::fs::write(
        h.path().join("config.json"),
        r#"{"type": "cloud", "networking": {"type": "unrestricted"}}"#,
    )
    .unwrap();
    let server = Server::json(json!({"id": "x"}));
    ant_at(&server, h.path())
        .current_dir(h.path())
        .args([
            "beta:agents",
            "create",
            "--name",
            "a",
            "--model",
            "m",
            "--tool",
            "@tools.yaml",
        ])
        .assert()
        .success();
    assert_eq!(
        server.only().json()["tools"],
        json!([{"type": "agent_toolset_20260401"}, {"mcp_server_name": "m", "type": "mcp_toolset"}])
    );
    let server = Server::json(json!({"id": "x"}));
    ant_at(&server, h.path())
        .current_dir(h.path())
        .args([
            "beta:environments",
            "create",
            "--name",
            "e",
            "--config",
            "@config.json",
        ])
        .assert()
        .success();
    assert_eq!(
        server.only().json()["config"],
        json!({"networking": {"type": "unrestricted"}, "type": "cloud"})
    );
}

/// A skill folder uploaded with `ant` (files and subdirectories, named under
/// the folder's name) comes back from ant-mock as a zip of the same files.
#[test]
fn a_skill_folder_round_trips_through_ant_mock() {
    let mock = crate::checked_mock(Default::default());
    let h = home();
    let skill = h.path().join("greeting");
    std::fs::create_dir_all(skill.join("scripts")).unwrap();
    let sent: Vec<(&str, Vec<u8>)> = vec![
        (
            "SKILL.md",
            b"---\nname: greeting\ndescription: Says hello\n---\n# Greeting\n".to_vec(),
        ),
        ("scripts/hello.py", b"print('hello')\n".to_vec()),
        ("logo.bin", vec![0u8, 159, 146, 150, 255]),
    ];
    for (name, data) in &sent {
        std::fs::write(skill.join(name), data).unwrap();
    }
    let ant = |args: &[&str]| {
        let out = mock.ant(h.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let dir = skill.to_string_lossy().into_owned();
    let created: serde_json::Value = serde_json::from_str(&ant(&[
        "beta:skills",
        "create",
        "--file",
        &dir,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(created["display_name"], "greeting");
    let (id, version) = (
        created["id"].as_str().unwrap(),
        created["latest_version_id"].as_str().unwrap(),
    );
    let shown = ant(&[
        "beta:skills:versions",
        "retrieve",
        "--skill-id",
        id,
        version,
        "--format",
        "json",
    ]);
    assert!(shown.contains("\"description\": \"Says hello\""), "{shown}");
    let zip_path = h.path().join("back.zip");
    ant(&[
        "beta:skills:versions",
        "download",
        "--skill-id",
        id,
        version,
        "-o",
        &zip_path.to_string_lossy(),
    ]);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut back: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        back.push((f.name().unwrap().to_string(), data));
    }
    back.sort();
    let mut want: Vec<(String, Vec<u8>)> = sent
        .into_iter()
        .map(|(n, d)| (format!("greeting/{n}"), d))
        .collect();
    want.sort();
    assert_eq!(back, want);
    // A folder without SKILL.md is refused, naming what is missing.
    std::fs::remove_file(skill.join("SKILL.md")).unwrap();
    let out = mock
        .ant(h.path())
        .args(["beta:skills", "create", "--file", &dir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("greeting/SKILL.md"));
}
