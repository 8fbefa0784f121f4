//! `ant profile list|activate|get|set`: read and edit `configs/<profile>.json`
//! and `active_config`.

use std::io::Write;

use clap::ArgMatches;
use serde_json::{Map, Value, json};

use super::files;
use crate::auth::store::{self, Layout};
use crate::cli::global::GlobalArgs;
use crate::error::{Error, Result};
use crate::http;

/// Keys `profile set` accepts, and whether they live under `authentication`.
pub const SETTABLE: &[(&str, bool)] = &[
    ("workspace_id", false),
    ("base_url", false),
    ("organization_id", false),
    ("scope", true),
    ("client_id", true),
    ("console_url", true),
];

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(Error::from_write)
}

fn load(layout: &Layout, profile: &str) -> Result<Value> {
    store::read_json(&layout.config(profile))?.ok_or_else(|| {
        Error::usage(format!(
            "profile {profile:?} not found (no {})",
            layout.config(profile).display()
        ))
    })
}

/// `ant profile list`: every profile, `*` before the one in effect.
pub fn list(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (current, _) = files::target(&layout, m, g)?;
    let names = store::profile_names(&layout)?;
    if names.is_empty() {
        eprintln!("No profiles in {}.", layout.configs().display());
        return Ok(());
    }
    let mut text = String::new();
    for n in names {
        let mark = if n == current { '*' } else { ' ' };
        text.push_str(&format!("{mark} {n}\n"));
    }
    print(&text)
}

/// `ant profile activate <name>`: writes `active_config`.
pub fn activate(m: &ArgMatches) -> Result<()> {
    let name = m
        .get_one::<String>("name")
        .ok_or_else(|| Error::usage("missing profile name: ant profile activate <NAME>"))?;
    store::check_name(name)?;
    let layout = Layout::find()?;
    if !layout.config(name).is_file() {
        let known = store::profile_names(&layout)?;
        let hint = if known.is_empty() {
            String::new()
        } else {
            format!("; profiles: {}", known.join(", "))
        };
        return Err(Error::usage(format!(
            "profile {name:?} not found (no {}){hint}",
            layout.config(name).display()
        )));
    }
    let previous = layout.active_name();
    store::write_active(&layout, name)?;
    match previous {
        Some(p) if p != *name => eprintln!("Active profile: {name} (was {p})."),
        _ => eprintln!("Active profile: {name}."),
    }
    Ok(())
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s}\n"),
        other => String::from_utf8(store::json_bytes(other)).expect("utf-8"),
    }
}

/// `ant profile get [key]`: the whole config, or one key (top-level, under
/// `authentication`, or a dotted path such as `authentication.type`).
pub fn get(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (profile, _) = files::target(&layout, m, g)?;
    let config = load(&layout, &profile)?;
    let Some(key) = m.get_one::<String>("key") else {
        return print(&render(&config));
    };
    let pointer = format!("/{}", key.replace('.', "/"));
    let found = config
        .get(key)
        .or_else(|| config.get("authentication").and_then(|a| a.get(key)))
        .or_else(|| config.pointer(&pointer))
        .filter(|v| !v.is_null());
    match found {
        Some(v) => print(&render(v)),
        None => Err(Error::usage(format!(
            "key {key:?} is not set in profile {profile:?}"
        ))),
    }
}

/// `ant profile set <key> <value>`: sets (or, with `null` or an empty
/// value, removes) one key, creating the config when the profile has none yet.
pub fn set(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let key = m
        .get_one::<String>("key")
        .ok_or_else(|| Error::usage("missing key and value: ant profile set <KEY> <VALUE>"))?;
    let value = m
        .get_one::<String>("value")
        .ok_or_else(|| Error::usage(format!("missing value: ant profile set {key} <VALUE>")))?;
    let value = match value.as_str() {
        "" | "null" => None,
        v => Some(v),
    };
    change(m, g, key, value)
}

/// `ant profile unset <key>`: removes one key from the profile's config.
pub fn unset(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let key = m
        .get_one::<String>("key")
        .ok_or_else(|| Error::usage("missing key: ant profile unset <KEY>"))?;
    change(m, g, key, None)
}

/// Sets `key` to `value`, or removes it when `value` is `None`.
fn change(m: &ArgMatches, g: &GlobalArgs, key: &str, value: Option<&str>) -> Result<()> {
    let allowed = || {
        SETTABLE
            .iter()
            .map(|(k, _)| *k)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(&(key, under_auth)) = SETTABLE.iter().find(|(k, _)| *k == key) else {
        return Err(Error::usage(format!(
            "unknown profile key {key:?}; allowed: {}",
            allowed()
        )));
    };
    let layout = Layout::find()?;
    let (profile, _) = files::target(&layout, m, g)?;
    let existing = store::read_json(&layout.config(&profile))?;
    if existing.is_none() && value.is_none() {
        eprintln!("{key} is not set: profile {profile:?} has no config.");
        return Ok(());
    }
    let created = existing.is_none();
    let mut config = existing.unwrap_or_else(|| json!({"version": "1.0"}));
    let Some(obj) = config.as_object_mut() else {
        return Err(Error::Other(format!(
            "{} does not hold a JSON object",
            layout.config(&profile).display()
        )));
    };
    let value = match (key, value) {
        ("base_url" | "console_url", Some(v)) => Some(http::validate_base_url(v)?),
        (_, v) => v.map(String::from),
    };

    let target: &mut Map<String, Value> = if under_auth {
        let auth_type = obj
            .get("authentication")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str);
        if auth_type != Some("user_oauth") && value.is_some() {
            let what = match auth_type {
                Some(t) => format!("its authentication type is {t:?}"),
                None => "it has no authentication block".to_string(),
            };
            return Err(Error::usage(format!(
                "{key} can only be set on a user_oauth profile; profile {profile:?} is not one ({what})"
            )));
        }
        match obj.get_mut("authentication").and_then(Value::as_object_mut) {
            Some(auth) => auth,
            None => {
                eprintln!("{key} is not set in profile {profile:?}.");
                return Ok(());
            }
        }
    } else {
        &mut *obj
    };

    let old = target.get(key).and_then(Value::as_str).map(String::from);
    let had = target.contains_key(key);
    match &value {
        None => {
            target.remove(key);
        }
        Some(v) => {
            target.insert(key.to_string(), Value::String(v.clone()));
        }
    }
    let mut cleared = None;
    if key == "organization_id" && old.is_some() && old != value {
        cleared = obj.remove("workspace_id");
    }
    if value.is_none() && !had {
        eprintln!("{key} is not set in profile {profile:?}.");
        return Ok(());
    }
    store::write_config(&layout, &profile, &config)?;

    if created {
        eprintln!(
            "Created profile {profile:?} ({}).",
            layout.config(&profile).display()
        );
    }
    match &value {
        None => eprintln!("Removed {key} from profile {profile:?}."),
        Some(v) => eprintln!("Set {key} = {v} on profile {profile:?}."),
    }
    if let Some(ws) = cleared {
        let ws = ws
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| ws.to_string());
        eprintln!(
            "Cleared workspace_id ({ws}): it belonged to the previous organization; \
             set a new one with 'ant profile set workspace_id <id>'."
        );
    }
    Ok(())
}
