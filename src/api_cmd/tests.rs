//! The `ant api` request builder: words in, plain request out.

use super::*;
use crate::request::files::MemFiles;
use serde_json::json;

const BASE: &str = "http://127.0.0.1:4010";

fn args(path: &str) -> Args {
    Args {
        path: path.into(),
        ..Default::default()
    }
}

fn build_ok(a: &Args) -> Call {
    let mut files = MemFiles::default().with("body.json", "{\"raw\": 1.50}");
    files.stdin = Some(b"from stdin".to_vec());
    build(a, BASE, &mut files).unwrap()
}

fn build_err(a: &Args) -> String {
    let e = build(a, BASE, &mut MemFiles::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    e.to_string()
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn get_by_default_with_the_query_as_typed_and_the_table_beta() {
    let c = build_ok(&args("v1/agents?limit=2&name=a%20b"));
    assert_eq!(c.request.method, "GET");
    assert_eq!(c.request.path, "/v1/agents");
    assert_eq!(c.request.target(), "/v1/agents?limit=2&name=a%20b");
    assert_eq!(c.request.body, Body::None);
    assert_eq!(c.op.map(|o| o.name()), Some("beta:agents list".into()));
    assert_eq!(
        header(&c.request, "anthropic-beta"),
        c.op.unwrap().default_beta
    );
    // An endpoint the table does not know is sent all the same.
    let c = build_ok(&args("/v1/brand-new/thing"));
    assert!(c.op.is_none());
    assert_eq!(header(&c.request, "anthropic-beta"), None);
}

#[test]
fn fields_make_a_post_with_a_json_body_or_a_get_query() {
    let mut a = args("/v1/agents");
    a.fields = vec![
        Field::Raw("name=Coding Assistant".into()),
        Field::Typed("model.id=claude-opus-4-7".into()),
        Field::Typed("tools[]={type: agent_toolset_20260401}".into()),
    ];
    let c = build_ok(&a);
    assert_eq!(c.request.method, "POST");
    assert_eq!(
        c.request.json_body().unwrap(),
        &json!({"name": "Coding Assistant", "model": {"id": "claude-opus-4-7"}, "tools": [{"type": "agent_toolset_20260401"}]})
    );
    a.method = Some("get".into());
    let c = build_ok(&a);
    assert_eq!(c.request.method, "GET");
    assert_eq!(c.request.body, Body::None);
    assert_eq!(
        c.request.target(),
        "/v1/agents?name=Coding%20Assistant&model[id]=claude-opus-4-7&tools[]=%7B%22type%22:%22agent_toolset_20260401%22%7D"
    );
}

#[test]
fn input_is_the_raw_body_and_fields_then_go_in_the_query() {
    let mut a = args("/v1/agents");
    a.input = Some("body.json".into());
    a.fields = vec![Field::Raw("beta=true".into())];
    let c = build_ok(&a);
    assert_eq!(c.request.method, "POST");
    assert_eq!(
        c.request.body,
        Body::Raw {
            bytes: b"{\"raw\": 1.50}".to_vec(),
            content_type: "application/json".into()
        }
    );
    assert_eq!(c.request.target(), "/v1/agents?beta=true");
    a.input = Some("-".into());
    a.headers = vec!["Content-Type: text/plain".into()];
    let c = build_ok(&a);
    assert_eq!(
        c.request.body,
        Body::Raw {
            bytes: b"from stdin".to_vec(),
            content_type: "text/plain".into()
        }
    );
    assert_eq!(header(&c.request, "content-type"), None);
    a.input = Some("nope.json".into());
    let e = build_err(&a);
    assert!(e.starts_with("--input nope.json: "), "{e}");
}

#[test]
fn headers_and_betas() {
    let mut a = args("/v1/agents");
    a.headers = vec![
        "X-Trace:  abc ".into(),
        "anthropic-version: 2099-01-01".into(),
    ];
    a.betas = vec!["new-beta".into()];
    let c = build_ok(&a);
    assert_eq!(header(&c.request, "x-trace"), Some("abc"));
    assert_eq!(header(&c.request, "anthropic-version"), Some("2099-01-01"));
    let default = c.op.unwrap().default_beta.unwrap();
    assert_eq!(
        header(&c.request, "anthropic-beta"),
        Some(format!("{default},new-beta").as_str())
    );
    // A beta header given with -H replaces the table's, --beta adds to it.
    a.headers = vec!["anthropic-beta: mine".into()];
    let c = build_ok(&a);
    assert_eq!(header(&c.request, "anthropic-beta"), Some("mine,new-beta"));
    for (h, why) in [
        ("no colon", "expected 'Name: value'"),
        ("bad name: x", "is not a header name"),
        ("x-a: b\u{1}", "control character"),
    ] {
        a.headers = vec![h.into()];
        let e = build_err(&a);
        assert!(e.contains(why), "{h:?}: {e}");
    }
}

#[test]
fn urls_only_under_the_base_url_and_paths_without_spaces() {
    let c = build_ok(&args("http://127.0.0.1:4010/v1/models?limit=1"));
    assert_eq!(c.request.target(), "/v1/models?limit=1");
    let e = build_err(&args("https://evil.example/v1/models"));
    assert!(e.contains("not under the base URL"), "{e}");
    let e = build_err(&args("http://127.0.0.1:40100/v1/models"));
    assert!(e.contains("not under the base URL"), "{e}");
    for (p, why) in [
        ("", "give an endpoint"),
        ("/v1/a b", "' '"),
        ("/v1/a#x", "fragment"),
        ("/v1/a\n", "'\\n'"),
    ] {
        let e = build_err(&args(p));
        assert!(e.contains(why), "{p:?}: {e}");
    }
}

#[test]
fn methods_and_paginate() {
    let mut a = args("/v1/agents/a");
    a.method = Some("delete".into());
    assert_eq!(build_ok(&a).request.method, "DELETE");
    a.method = Some("FETCH".into());
    assert!(build_err(&a).contains("-X/--method"));
    a.method = Some("POST".into());
    a.paginate = true;
    assert!(build_err(&a).contains("GET only"));
}

#[test]
fn admin_paths_are_known_by_their_prefix() {
    assert!(admin_path("/v1/organizations/users"));
    assert!(admin_path("v1/organizations/api_keys?limit=1"));
    assert!(admin_path("https://api.anthropic.com/v1/organizations/me"));
    assert!(!admin_path("/v1/agents"));
    assert!(!admin_path("/v1/organizationsx"));
}
