//! "Did you mean" for mistyped commands and flags: only close matches, never
//! a hidden flag, and hints for a newcomer's natural first guesses
//! (`ant agents list`, `ant login`, `ant beta:agents delete`,
//! `ant completions bash`).

use clap::Command;

use crate::api::Operation;

/// Damerau-Levenshtein distance (adjacent swaps count once).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `word`, if it is close: a typo or two, never a
/// different word that merely shares letters.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 4).clamp(1, 2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Top-level words a newcomer types for commands that live elsewhere.
const ROOT_GUESSES: &[(&str, &str)] = &[
    ("login", "auth login"),
    ("logout", "auth logout"),
    ("whoami", "auth status"),
    ("status", "auth status"),
    ("manpages", "@manpages"),
    ("man", "@manpages"),
    ("worker", "beta:worker poll"),
];

/// Verbs a newcomer guesses, and the verbs that do it.
const VERB_GUESSES: &[(&str, &[&str])] = &[
    ("delete", &["archive"]),
    ("remove", &["delete", "archive"]),
    ("rm", &["delete", "archive"]),
    ("archive", &["delete"]),
    ("get", &["retrieve"]),
    ("show", &["retrieve"]),
    ("view", &["retrieve"]),
    ("describe", &["retrieve"]),
    ("ls", &["list"]),
    ("new", &["create"]),
    ("add", &["create"]),
    ("edit", &["update"]),
    ("set", &["update"]),
    ("watch", &["stream"]),
    ("follow", &["stream"]),
    ("tail", &["stream"]),
    ("start", &["run", "create"]),
];

/// The verbs of a group as the command line knows them.
fn verbs_of(group: &str) -> Vec<String> {
    let built = super::super::docs::built_path(&[group]);
    built
        .find_subcommand(group)
        .map(|g| {
            g.get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `group`, followed by `next` when that names one of its verbs.
fn with_next_verb(group: &str, next: Option<&str>) -> String {
    match next {
        Some(v) if verbs_of(group).iter().any(|x| x == v) => format!("{group} {v}"),
        _ => group.to_string(),
    }
}

/// What to suggest for an unknown command word: the corrected command
/// (`ant beta:agents list`), or a hint sentence. `before` are the command
/// words before it (its group, if any), `next` the word after it.
pub fn command(bad: &str, before: Option<&str>, next: Option<&str>) -> Option<String> {
    let root = super::super::tree::root();
    let groups: Vec<String> = root
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect();
    match before.filter(|g| groups.iter().any(|x| x == g)) {
        None => root_word(&groups, bad, next),
        Some(group) => verb_word(&groups, group, bad),
    }
}

fn root_word(groups: &[String], bad: &str, next: Option<&str>) -> Option<String> {
    if let Some((_, to)) = ROOT_GUESSES.iter().find(|(w, _)| *w == bad) {
        return Some(format!("'ant {to}'"));
    }
    // `agents` is `beta:agents`; `sessions:event` is `beta:sessions:events`.
    let stripped = |g: &str| g.strip_prefix("beta:").unwrap_or(g).to_string();
    let exact = groups
        .iter()
        .find(|g| stripped(g) == bad && g.as_str() != bad)
        .cloned();
    let near = || {
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        closest(bad, names.iter().copied())
            .map(String::from)
            .or_else(|| {
                let short: Vec<String> = groups.iter().map(|g| stripped(g)).collect();
                let hit = closest(bad, short.iter().map(String::as_str))?;
                // Prefer the beta variant, where the Managed Agents live.
                groups
                    .iter()
                    .filter(|g| stripped(g) == hit)
                    .max_by_key(|g| g.starts_with("beta:"))
                    .cloned()
            })
    };
    let group = exact.or_else(near)?;
    Some(format!("'ant {}'", with_next_verb(&group, next)))
}

fn verb_word(groups: &[String], group: &str, bad: &str) -> Option<String> {
    let verbs = verbs_of(group);
    // `ant completions bash`: the legacy API group, not shell completion.
    if group == "completions" && super::super::complete::SHELLS.iter().any(|s| s.name == bad) {
        return Some(format!(
            "'ant completion {bad}' (shell completion; 'completions' is the legacy text completions API)"
        ));
    }
    if let Some((_, to)) = VERB_GUESSES.iter().find(|(w, _)| *w == bad)
        && let Some(v) = to.iter().find(|v| verbs.iter().any(|x| x == *v))
    {
        let noun = group.rsplit(':').next().unwrap_or(group);
        let why = match (bad, *v) {
            ("delete" | "remove" | "rm", "archive") => {
                format!(" ({noun} are archived, not deleted)")
            }
            _ => String::new(),
        };
        return Some(format!("'ant {group} {v}'{why}"));
    }
    if let Some(v) = closest(bad, verbs.iter().map(String::as_str)) {
        return Some(format!("'ant {group} {v}'"));
    }
    // A verb of a nested group: `ant beta:sessions send` is
    // `ant beta:sessions:events send`.
    let prefix = format!("{group}:");
    groups
        .iter()
        .filter(|g| g.starts_with(&prefix))
        .find(|g| Operation::find(g, bad).is_some())
        .map(|g| format!("'ant {g} {bad}'"))
}

/// The closest visible long flag of `cmd` to `--bad`, when it is close (a
/// typo), or the only flag that `--bad` starts.
pub fn flag(cmd: &Command, bad: &str) -> Option<String> {
    let word = bad.trim_start_matches('-');
    let word = word.split_once('=').map_or(word, |(w, _)| w);
    let longs: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .collect();
    if let Some(hit) = closest(word, longs.iter().copied()) {
        return Some(format!("--{hit}"));
    }
    let starts: Vec<&&str> = longs
        .iter()
        .filter(|l| word.len() >= 4 && (l.starts_with(word) || word.starts_with(*l)))
        .collect();
    match starts.as_slice() {
        [one] => Some(format!("--{one}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_close_matches() {
        assert_eq!(closest("craete", ["create", "list"]), Some("create"));
        assert_eq!(closest("extension", ["beta:sessions", "messages"]), None);
        assert_eq!(closest("manpages", ["messages"]), None);
        assert_eq!(closest("lst", ["list"]), Some("list"));
    }

    #[test]
    fn newcomer_guesses_point_to_the_real_command() {
        assert_eq!(
            command("agents", None, Some("list")).as_deref(),
            Some("'ant beta:agents list'")
        );
        assert_eq!(
            command("login", None, None).as_deref(),
            Some("'ant auth login'")
        );
        assert_eq!(
            command("manpages", None, None).as_deref(),
            Some("'ant @manpages'")
        );
        assert_eq!(command("extension", None, Some("list")), None);
        let archive = command("delete", Some("beta:agents"), None).unwrap();
        assert!(
            archive.starts_with("'ant beta:agents archive'"),
            "{archive}"
        );
        let shell = command("bash", Some("completions"), None).unwrap();
        assert!(shell.starts_with("'ant completion bash'"), "{shell}");
        assert_eq!(
            command("send", Some("beta:sessions"), None).as_deref(),
            Some("'ant beta:sessions:events send'")
        );
        assert_eq!(
            command("craete", Some("beta:agents"), None).as_deref(),
            Some("'ant beta:agents create'")
        );
    }
}
