//! IDs for completion, listed from the API: the resource's list endpoint,
//! newest first (the API's default order), at most [`LIMIT`] items, with the
//! name or title as the description. Never holds the shell up: the whole
//! lookup (connect, request, body) gets [`BUDGET`], any error is silence,
//! and answers are cached on disk for [`TTL`] so repeated tabs are instant.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Args, Command, FromArgMatches};
use serde_json::Value;

use super::Cand;
use crate::api::{Operation, Param, Response, group_ops, groups};
use crate::cli::config;
use crate::cli::global::GlobalArgs;
use crate::http::{self, Auth, Client};
use crate::request::{self, Flag, Input, files::MemFiles};

/// Most IDs offered.
pub const LIMIT: usize = 50;
/// Time allowed for one lookup, start to finish.
pub const BUDGET: Duration = Duration::from_millis(1000);
/// How long a cached answer is reused.
pub const TTL: Duration = Duration::from_secs(5);

/// The list operation whose items are the IDs named `key` (`agent_id`,
/// `thread_id`, `version`): a list in a group whose other operations take
/// `key` as their last path parameter. Prefers the beta group when `beta`,
/// then the list needing the fewest path parameters.
pub fn list_op_for(key: &str, beta: bool) -> Option<&'static Operation> {
    let mut found: Vec<&'static Operation> = Vec::new();
    for g in groups() {
        let takes_key = group_ops(g).any(|o| o.last_path_param().is_some_and(|p| p.name == key));
        if !takes_key {
            continue;
        }
        if let Some(list) =
            group_ops(g).find(|o| o.is_list() && !o.path_params().any(|p| p.name == key))
        {
            found.push(list);
        }
    }
    // Several groups may take the key (a workspace is also an item of a
    // federation rule's workspaces): the list needing the fewest other IDs.
    found.sort_by_key(|o| {
        (
            o.group.starts_with("beta:") != beta,
            o.path_params().count(),
        )
    });
    found.first().copied()
}

/// The settings of the line being completed: its credential, base URL,
/// profile and workspace flags, falling back to env and profile like a
/// normal command.
fn settings(flags: &[(String, String)], admin: bool) -> Option<crate::auth::Resolved> {
    let mut argv = vec!["ant".to_string()];
    for (k, v) in flags {
        argv.push(format!("--{k}={v}"));
    }
    let cmd = GlobalArgs::augment_args(Command::new("ant"));
    let m = cmd.try_get_matches_from(argv).ok()?;
    let g = GlobalArgs::from_arg_matches(&m).ok()?;
    // Quiet: no precedence notices while completing; and a login's token is
    // never refreshed by a lookup that may be cut off.
    let inputs = crate::auth::Inputs {
        no_refresh: true,
        ..config::inputs(&g)
    };
    let mut resolved = crate::auth::resolve(&inputs).ok()?;
    if admin {
        config::admin(&mut resolved, &g).ok()?;
    }
    Some(resolved)
}

/// A short, stable hash (FNV-1a) for cache keys.
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `$XDG_CACHE_HOME/ant`, else `~/.cache/ant`.
fn cache_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(d) = env("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("ant"));
    }
    env("HOME").map(|h| PathBuf::from(h).join(".cache").join("ant"))
}

fn fresh(path: &PathBuf) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < TTL)
}

fn read_cache(path: &PathBuf) -> Option<Vec<Cand>> {
    if !fresh(path) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once('\t') {
                Some((v, d)) => Cand::new(v, d),
                None => Cand::new(l, ""),
            })
            .collect(),
    )
}

/// Writes the answer (owner-only), and drops entries older than a minute.
fn write_cache(path: &PathBuf, cands: &[Cand]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > Duration::from_secs(60));
            if old && e.file_name().to_string_lossy().starts_with("complete-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let text: String = cands
        .iter()
        .map(|c| format!("{}\t{}\n", c.value, c.desc))
        .collect();
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let ok = opts
        .open(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .is_ok();
    if ok {
        let _ = std::fs::rename(&tmp, path);
    } else {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// The label shown next to an ID.
fn describe(item: &Value) -> String {
    let label = [
        "name",
        "display_name",
        "title",
        "display_title",
        "filename",
        "path",
    ]
    .iter()
    .find_map(|k| {
        item.get(*k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    })
    .map(String::from)
    .or_else(|| {
        item.get("created_at")
            .and_then(Value::as_str)
            .map(String::from)
    })
    .unwrap_or_default();
    let text = match item.get("status").and_then(Value::as_str) {
        Some(s) if !label.is_empty() => format!("{label} ({s})"),
        Some(s) => s.to_string(),
        None => label,
    };
    // One line: the cache and the shells split candidates on tabs and newlines.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// IDs (with labels) from `list`, whose path parameters are `path`;
/// `globals` are the settings flags of the line.
pub fn ids(
    list: &'static Operation,
    key: &str,
    path: &[(&'static Param, String)],
    globals: &[(String, String)],
) -> Vec<Cand> {
    let Some(resolved) = settings(globals, list.is_admin()) else {
        return Vec::new();
    };
    let (secret, secret_kind) = match &resolved.auth {
        Auth::ApiKey(k) => (k.clone(), "key"),
        Auth::Bearer(t) => (t.clone(), "bearer"),
        Auth::Source(s) => (s.describe(), "source"),
        Auth::None => return Vec::new(),
    };
    let mut flags: Vec<Flag> = path
        .iter()
        .map(|(p, v)| Flag::Param(p, v.clone()))
        .collect();
    if let Some(limit) = list.param("limit") {
        flags.push(Flag::Param(limit, LIMIT.to_string()));
    }
    let input = Input {
        flags,
        ..Input::default()
    };
    // No file is read while completing, whatever the line says.
    let Ok(req) = request::build(list, input, &mut MemFiles::default()) else {
        return Vec::new();
    };
    let secret_hash = format!("{:016x}", fnv(&[secret_kind, &secret]));
    let key_hash = fnv(&[
        &resolved.base_url,
        &secret_hash,
        resolved.workspace_id.as_deref().unwrap_or(""),
        &req.target(),
        key,
    ]);
    let cache = cache_dir().map(|d| d.join(format!("complete-{key_hash:016x}")));
    if let Some(hit) = cache.as_ref().and_then(read_cache) {
        return hit;
    }
    let cands = fetch(list, key, &req, resolved).unwrap_or_default();
    if let Some(path) = &cache {
        write_cache(path, &cands);
    }
    cands
}

fn fetch(
    list: &'static Operation,
    key: &str,
    req: &request::Request,
    resolved: crate::auth::Resolved,
) -> Option<Vec<Cand>> {
    let client = Client::new(http::Config {
        base_url: resolved.base_url,
        auth: resolved.auth,
        workspace_id: resolved.workspace_id,
        max_retries: 0,
        timeout: Some(BUDGET),
        debug: false,
        command: list.name(),
        extra_betas: resolved.extra_betas,
        progress: false,
    })
    .ok()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let body = runtime.block_on(async {
        tokio::time::timeout(BUDGET, async {
            let resp = client.send(req, "application/json").await.ok()?;
            client.read_body(resp, "completion").await.ok()
        })
        .await
        .ok()
        .flatten()
    });
    // Never wait for a lookup (or a resolver thread) still running.
    runtime.shutdown_background();
    let v: Value = serde_json::from_slice(&body?).ok()?;
    let items_key = match list.response {
        Response::Page(p) => p.items,
        _ => "data",
    };
    // `version` lists name their items by that field; everything else by `id`.
    let id_field = if key.ends_with("_id") { "id" } else { key };
    let items = v.get(items_key)?.as_array()?;
    Some(
        items
            .iter()
            .take(LIMIT)
            .filter_map(|item| {
                let id = match item.get(id_field)? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some(Cand::new(id, describe(item)))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_operations_for_ids() {
        let g = |k: &str, beta: bool| list_op_for(k, beta).map(|o| o.group);
        assert_eq!(g("agent_id", true), Some("beta:agents"));
        assert_eq!(g("session_id", true), Some("beta:sessions"));
        assert_eq!(g("thread_id", true), Some("beta:sessions:threads"));
        assert_eq!(g("environment_id", true), Some("beta:environments"));
        assert_eq!(g("vault_id", true), Some("beta:vaults"));
        assert_eq!(g("memory_store_id", true), Some("beta:memory-stores"));
        assert_eq!(g("memory_id", true), Some("beta:memory-stores:memories"));
        assert_eq!(g("file_id", true), Some("beta:files"));
        assert_eq!(g("file_id", false), Some("files"));
        assert_eq!(g("skill_id", true), Some("beta:skills"));
        assert_eq!(g("version", true), Some("beta:skills:versions"));
        assert_eq!(g("model_id", false), Some("models"));
        assert_eq!(g("after_id", true), None);
    }

    #[test]
    fn labels() {
        let v = serde_json::json!({"id": "sesn_1", "title": "Quickstart", "status": "idle"});
        assert_eq!(describe(&v), "Quickstart (idle)");
        let v = serde_json::json!({"id": "agent_1", "name": "Coder"});
        assert_eq!(describe(&v), "Coder");
        let v = serde_json::json!({"id": "agent_2", "name": "multi\nline\tname"});
        assert_eq!(describe(&v), "multi line name");
    }

    #[test]
    fn cache_keys_differ_by_credential() {
        assert_ne!(fnv(&["key", "a"]), fnv(&["key", "b"]));
        assert_ne!(fnv(&["ab", "c"]), fnv(&["a", "bc"]));
    }
}
