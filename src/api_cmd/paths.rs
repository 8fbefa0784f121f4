//! PATH completion for `ant api`, from the endpoint table: the templates
//! that extend what is typed, with the segments typed so far kept (an ID
//! typed where the template has `{agent_id}` stays), and which methods and
//! commands each path serves.

use std::collections::BTreeMap;

use crate::api::OPERATIONS;

/// Candidates for `typed`: (path, description), sorted by path.
pub fn candidates(typed: &str) -> Vec<(String, String)> {
    let slash = typed.starts_with('/') || typed.is_empty();
    let typed_segs: Vec<&str> = typed.trim_start_matches('/').split('/').collect();
    let (partial, complete) = typed_segs.split_last().expect("split gives one part");
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for op in OPERATIONS {
        let template: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
        if template.len() <= complete.len() {
            continue;
        }
        let fits = complete
            .iter()
            .zip(&template)
            .all(|(s, t)| placeholder(t) && !s.is_empty() || s == t);
        let here = template[complete.len()];
        if !fits || !(placeholder(here) || here.starts_with(partial)) {
            continue;
        }
        let mut segs: Vec<&str> = complete.to_vec();
        segs.push(if placeholder(here) && !partial.is_empty() {
            partial
        } else {
            here
        });
        segs.extend(&template[complete.len() + 1..]);
        let path = format!("{}{}", if slash { "/" } else { "" }, segs.join("/"));
        let what = format!("{} {}", op.method, op.name());
        let entry = found.entry(path).or_default();
        if !entry.contains(&what) {
            entry.push(what);
        }
    }
    found
        .into_iter()
        .map(|(path, what)| (path, what.join(", ")))
        .collect()
}

fn placeholder(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(typed: &str) -> Vec<String> {
        candidates(typed).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn templates_extending_the_typed_prefix() {
        let all = paths("/v1/ag");
        assert!(all.contains(&"/v1/agents".to_string()), "{all:?}");
        assert!(
            all.contains(&"/v1/agents/{agent_id}".to_string()),
            "{all:?}"
        );
        assert!(all.iter().all(|p| p.starts_with("/v1/ag")), "{all:?}");
        let (_, desc) = candidates("/v1/agents")
            .into_iter()
            .find(|(p, _)| p == "/v1/agents")
            .unwrap();
        assert!(
            desc.contains("GET beta:agents list") && desc.contains("POST beta:agents create"),
            "{desc}"
        );
    }

    #[test]
    fn typed_ids_are_kept_where_the_template_has_a_placeholder() {
        let all = paths("/v1/agents/agent_01/ver");
        assert_eq!(all, ["/v1/agents/agent_01/versions"]);
        let all = paths("/v1/agents/agent_01");
        assert!(all.contains(&"/v1/agents/agent_01".to_string()), "{all:?}");
        assert!(
            all.contains(&"/v1/agents/agent_01/versions".to_string()),
            "{all:?}"
        );
        // Without the leading slash, the candidates have none either.
        assert!(paths("v1/mod").iter().all(|p| p.starts_with("v1/models")));
        assert!(paths("/nope/").is_empty());
        assert!(paths("").iter().all(|p| p.starts_with("/v1/")));
    }
}
