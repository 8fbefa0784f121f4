//! The committed endpoint table must match what the generator makes from
//! the committed inputs.

#[test]
fn endpoint_table_is_up_to_date_with_the_catalog() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("python3")
        .arg(format!("{root}/api/generate.py"))
        .arg("--check")
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "stale generated files:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn table_covers_every_official_command() {
    // The 131 commands of the official CLI (reference section 1) plus newer catalog endpoints.
    let expected: &[(&str, &[&str])] = &[
        ("completions", &["create"]),
        ("messages", &["create", "count-tokens"]),
        (
            "messages:batches",
            &["create", "retrieve", "list", "delete", "cancel", "results"],
        ),
        ("models", &["retrieve", "list"]),
        ("beta:models", &["retrieve", "list"]),
        ("beta:messages", &["create", "count-tokens"]),
        (
            "beta:messages:batches",
            &["create", "retrieve", "list", "delete", "cancel", "results"],
        ),
        (
            "beta:agents",
            &["create", "retrieve", "update", "list", "archive"],
        ),
        ("beta:agents:versions", &["list"]),
        (
            "beta:environments",
            &["create", "retrieve", "update", "list", "delete", "archive"],
        ),
        (
            "beta:environments:work",
            &[
                "retrieve",
                "update",
                "list",
                "ack",
                "heartbeat",
                "poll",
                "stats",
                "stop",
            ],
        ),
        (
            "beta:sessions",
            &["create", "retrieve", "update", "list", "delete", "archive"],
        ),
        ("beta:sessions:events", &["list", "send", "stream"]),
        (
            "beta:sessions:resources",
            &["retrieve", "update", "list", "delete", "add"],
        ),
        ("beta:sessions:threads", &["retrieve", "list", "archive"]),
        ("beta:sessions:threads:events", &["list", "stream"]),
        (
            "beta:deployments",
            &[
                "create", "retrieve", "update", "list", "archive", "pause", "run", "unpause",
            ],
        ),
        ("beta:deployment-runs", &["retrieve", "list"]),
        (
            "beta:vaults",
            &["create", "retrieve", "update", "list", "delete", "archive"],
        ),
        (
            "beta:vaults:credentials",
            &[
                "create",
                "retrieve",
                "update",
                "list",
                "delete",
                "archive",
                "mcp-oauth-validate",
            ],
        ),
        (
            "beta:memory-stores",
            &["create", "retrieve", "update", "list", "delete", "archive"],
        ),
        (
            "beta:memory-stores:memories",
            &["create", "retrieve", "update", "list", "delete"],
        ),
        (
            "beta:memory-stores:memory-versions",
            &["retrieve", "list", "redact"],
        ),
        (
            "beta:files",
            &["list", "delete", "download", "retrieve-metadata", "upload"],
        ),
        ("beta:skills", &["create", "retrieve", "list", "delete"]),
        (
            "beta:skills:versions",
            &["create", "retrieve", "list", "delete", "download"],
        ),
        (
            "beta:user-profiles",
            &[
                "create",
                "retrieve",
                "update",
                "list",
                "create-enrollment-url",
                "delete",
            ],
        ),
        (
            "beta:dreams",
            &["create", "retrieve", "list", "archive", "cancel"],
        ),
        (
            "beta:tunnels",
            &[
                "create",
                "retrieve",
                "list",
                "archive",
                "reveal-token",
                "rotate-token",
            ],
        ),
        (
            "beta:tunnels:certificates",
            &["create", "retrieve", "list", "archive"],
        ),
    ];
    let mut official = 0;
    for (group, verbs) in expected {
        for verb in *verbs {
            assert!(
                ant::api::Operation::find(group, verb).is_some(),
                "missing {group} {verb}"
            );
            official += 1;
        }
    }
    assert_eq!(
        official, 132,
        "131 official commands plus beta:user-profiles delete"
    );
    let execution_identity = ant::api::Operation::find("beta:agents", "create")
        .unwrap()
        .param("execution_identity");
    assert!(execution_identity.is_some());
    assert!(
        ant::api::Operation::find("beta:sessions", "create")
            .unwrap()
            .param("budget")
            .is_some()
    );
}

/// Every endpoint of the SDK catalog is a command, named by the official
/// rule: the SDK method's path after `client.`, resources joined by `:` with
/// `_` written `-`, then the method (`client.beta.organization.api_keys.list`
/// -> `beta:organization:api-keys list`), with the catalog's method and path.
#[test]
fn every_catalog_endpoint_is_a_command_named_by_the_official_rule() {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/api/catalog.json")).unwrap();
    let catalog: serde_json::Value = serde_json::from_str(&text).unwrap();
    let endpoints = catalog["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 374);
    for e in endpoints {
        let method = e["sdk_method"].as_str().unwrap();
        let mut words: Vec<String> = method
            .strip_prefix("client.")
            .unwrap()
            .split('.')
            .map(|w| w.replace('_', "-"))
            .collect();
        let verb = words.pop().unwrap();
        let group = words.join(":");
        let op = ant::api::Operation::find(&group, &verb)
            .unwrap_or_else(|| panic!("{method}: no command `{group} {verb}`"));
        assert_eq!(op.method, e["http_method"].as_str().unwrap(), "{method}");
        assert_eq!(op.path, e["path"].as_str().unwrap(), "{method}");
        assert_eq!(op.is_admin(), group.split(':').any(|w| w == "organization"));
    }
    // The catalog's endpoints plus the official CLI's `completions create`.
    assert_eq!(ant::api::OPERATIONS.len(), 375);
    let admin = ant::api::OPERATIONS.iter().filter(|o| o.is_admin()).count();
    assert_eq!(
        admin, 223,
        "the Admin API: organization:* and beta:organization:*"
    );
}
