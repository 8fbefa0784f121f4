//! Lists and bodies: which page comes next (the cursor a page carries),
//! `--limit` on the ID-paged lists, and responses that are not the JSON the
//! API documents.

use serde_json::{Value, json};

use crate::{Recorded, Reply, Server, ant_at, home, stderr, stdout};

fn run(server: &Server, args: &[&str]) -> std::process::Output {
    let h = home();
    ant_at(server, h.path()).args(args).output().unwrap()
}

fn ok(server: &Server, args: &[&str]) -> String {
    let out = run(server, args);
    assert!(out.status.success(), "ant {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The cursor parameters of each request, in order.
fn cursors(server: &Server) -> Vec<String> {
    server
        .recorded()
        .iter()
        .map(|r: &Recorded| {
            ["page", "after_id", "before_id"]
                .iter()
                .filter_map(|k| r.query_param(k).map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join("&")
        })
        .collect()
}

/// Ten items `i0`..`i9` in pages of `per` (or `limit`), in the ID style:
/// `has_more`, `first_id`, `last_id`, paged with `after_id`/`before_id`.
fn by_id(per: usize) -> Server {
    Server::start(move |r, _| {
        let per = r.query_param("limit").map_or(per, |l| l.parse().unwrap());
        let ids: Vec<usize> = (0..10).collect();
        let slice: Vec<usize> = match (r.query_param("after_id"), r.query_param("before_id")) {
            (Some(a), _) => {
                let at = a[1..].parse::<usize>().unwrap() + 1;
                ids[at..].iter().take(per).copied().collect()
            }
            (_, Some(b)) => {
                let at = b[1..].parse::<usize>().unwrap();
                ids[at.saturating_sub(per)..at].to_vec()
            }
            _ => ids.iter().take(per).copied().collect(),
        };
        let data: Vec<Value> = slice
            .iter()
            .map(|i| json!({"id": format!("i{i}")}))
            .collect();
        let more = match r.query_param("before_id") {
            Some(_) => slice.first().is_some_and(|&f| f > 0),
            None => slice.last().is_some_and(|&l| l < 9),
        };
        Reply::ok(json!({
            "data": data,
            "has_more": more,
            "first_id": slice.first().map(|i| format!("i{i}")),
            "last_id": slice.last().map(|i| format!("i{i}")),
        }))
    })
}

#[test]
fn a_token_paged_list_follows_the_id_cursor_its_pages_carry() {
    // `beta:agents list` pages with `next_page`; this server pages by ID.
    let server = by_id(4);
    let out = ok(&server, &["beta:agents", "list", "--transform", "id", "-r"]);
    assert_eq!(out, "i0\ni1\ni2\ni3\ni4\ni5\ni6\ni7\ni8\ni9\n");
    assert_eq!(cursors(&server), ["", "after_id=i3", "after_id=i7"]);
}

#[test]
fn id_pages_go_backwards_from_first_id_with_before_id() {
    let server = by_id(3);
    let out = ok(
        &server,
        &[
            "beta:files",
            "list",
            "--before-id",
            "i9",
            "--transform",
            "id",
            "-r",
        ],
    );
    assert_eq!(out, "i6\ni7\ni8\ni3\ni4\ni5\ni0\ni1\ni2\n");
    assert_eq!(
        cursors(&server),
        ["before_id=i9", "before_id=i6", "before_id=i3"]
    );
}

#[test]
fn an_id_paged_list_follows_a_next_page_token() {
    let server = Server::start(|r, _| match r.query_param("page").as_deref() {
        None => Reply::ok(json!({"data": [{"id": "a"}], "next_page": "p2"})),
        _ => Reply::ok(json!({"data": [{"id": "b"}], "next_page": null})),
    });
    let out = ok(&server, &["models", "list", "--transform", "id", "-r"]);
    assert_eq!(out, "a\nb\n");
    assert_eq!(cursors(&server), ["", "page=p2"]);
}

#[test]
fn pages_carrying_both_cursors_follow_the_lists_own_style() {
    let both = |r: &Recorded| -> Reply {
        let n: usize = match (r.query_param("page"), r.query_param("after_id")) {
            (Some(p), _) => p[1..].parse().unwrap(),
            (_, Some(a)) => a[1..].parse::<usize>().unwrap() + 1,
            _ => 0,
        };
        let last = n == 2;
        Reply::ok(json!({
            "data": [{"id": format!("x{n}")}],
            "next_page": if last { Value::Null } else { json!(format!("p{}", n + 1)) },
            "has_more": !last,
            "first_id": format!("x{n}"),
            "last_id": format!("x{n}"),
        }))
    };
    let server = Server::start(move |r, _| both(r));
    assert_eq!(
        ok(&server, &["beta:agents", "list", "--transform", "id", "-r"]),
        "x0\nx1\nx2\n"
    );
    assert_eq!(cursors(&server), ["", "page=p1", "page=p2"]);
    let server = Server::start(move |r, _| both(r));
    assert_eq!(
        ok(&server, &["models", "list", "--transform", "id", "-r"]),
        "x0\nx1\nx2\n"
    );
    assert_eq!(cursors(&server), ["", "after_id=x0", "after_id=x1"]);
}

#[test]
fn limit_caps_the_items_of_the_id_paged_lists_as_the_official_cli_does() {
    for list in [
        &["models", "list"][..],
        &["beta:models", "list"],
        &["beta:files", "list"],
        &["messages:batches", "list"],
        &["beta:messages:batches", "list"],
    ] {
        let server = by_id(4);
        let args = [list, &["--limit", "3", "--transform", "id", "-r"]].concat();
        assert_eq!(ok(&server, &args), "i0\ni1\ni2\n", "{list:?}");
        assert_eq!(server.recorded().len(), 1, "{list:?}: one page is enough");
        assert_eq!(
            server.recorded()[0].query_param("limit").as_deref(),
            Some("3")
        );
    }
    // With --max-items, --max-items decides (the pages stay 3 long).
    let server = by_id(4);
    let args = [
        "models",
        "list",
        "--limit",
        "3",
        "--max-items",
        "5",
        "--format",
        "jsonl",
    ];
    assert_eq!(ok(&server, &args).lines().count(), 5);
    assert_eq!(cursors(&server), ["", "after_id=i2"]);
    // Other lists take --limit as the page size only.
    let server = by_id(4);
    let out = ok(
        &server,
        &[
            "beta:agents",
            "list",
            "--limit",
            "3",
            "--transform",
            "id",
            "-r",
        ],
    );
    assert_eq!(out.lines().count(), 10);
    assert_eq!(server.recorded().len(), 4);
}

#[test]
fn bodies_that_are_not_the_documented_json_are_errors() {
    for (body, why) in [
        (
            &b"{\"id\":\"agent_1\",\"name\":"[..],
            "unexpected end of input at byte 23",
        ),
        (
            b"{\"id\": 1}{\"id\": 2}",
            "unexpected text after the JSON value at byte 9",
        ),
        (b"\x00\x01\x02\xff", "invalid UTF-8 at byte 3"),
        (b"{\"name\":\"caf\xe9\"}", "invalid UTF-8 at byte 12"),
        (
            b"<html>Bad gateway</html>",
            "unexpected character at byte 0",
        ),
        // A success with no body at all is not the documented JSON either
        // (only `204 No Content` documents none, see below).
        (b"", "empty body where JSON was expected at byte 0"),
        (b" \r\n\t ", "empty body where JSON was expected at byte 5"),
    ] {
        let server = Server::start(move |_, _| {
            Reply::Status(
                200,
                vec![("content-type".into(), "application/json".into())],
                body.to_vec(),
            )
        });
        for args in [
            &["beta:agents", "retrieve", "agent_1"][..],
            &["beta:agents", "retrieve", "agent_1", "--format", "raw"],
            &["beta:agents", "list"],
        ] {
            let out = run(&server, args);
            assert_eq!(out.status.code(), Some(1), "{args:?} {body:?}");
            assert_eq!(stdout(&out), "", "{args:?} {body:?}");
            let what = format!("{} {}", args[0], args[1]);
            assert_eq!(
                stderr(&out),
                format!(
                    "ant: error: {what}: the response is not the JSON the API documents: {why}\n"
                ),
                "{body:?}"
            );
        }
    }
    // `204 No Content` is an answer without a body, as documented for a
    // work item's `stop`: nothing to print, and a success.
    let server = Server::start(|_, _| Reply::Status(204, vec![], vec![]));
    let out = run(
        &server,
        &[
            "beta:environments:work",
            "stop",
            "--environment-id",
            "env_1",
            "work_1",
        ],
    );
    assert_eq!(
        (out.status.code(), stdout(&out), stderr(&out)),
        (Some(0), String::new(), String::new())
    );
    // A list page without its `data` list is not what the API documents either.
    let server = Server::json(json!({"items": [], "next_page": null}));
    let out = run(&server, &["beta:agents", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "ant: error: beta:agents list: the response is not the JSON the API documents: it has no \"data\" list\n"
    );
}
