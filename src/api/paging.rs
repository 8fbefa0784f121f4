//! Which page of a list comes next. The API pages in two ways: a
//! `next_page` token (sent back as `page`), or `has_more` with the
//! `first_id`/`last_id` of the page (sent back as `after_id`, or as
//! `before_id` when the listing goes backwards). The endpoint table says
//! which one a list uses, but a page is followed by the cursor it carries:
//! a page of an ID-paged style on a token-paged list (as `beta:files list`
//! served to the official CLI) is not the end of the list.

use super::Paging;
use crate::json::{self, Doc};

/// The query parameter and cursor of the next page, or `None` when the list
/// is done. `backward`: the first request had `before_id`; `empty`: this
/// page had no items (which ends every list).
pub fn next(
    page: &Doc,
    paging: &Paging,
    backward: bool,
    empty: bool,
) -> Option<(&'static str, String)> {
    if empty {
        return None;
    }
    let token = page.field("next_page");
    let has_more = page.field("has_more");
    let by_token = || {
        let field = if paging.has_more {
            "next_page"
        } else {
            paging.response_field
        };
        let param = if paging.has_more {
            "page"
        } else {
            paging.request_param
        };
        cursor(page.field(field)?).map(|c| (param, c))
    };
    let by_id = || {
        if has_more == Some("false") {
            return None;
        }
        let (param, field) = match (backward, paging.backward, paging.has_more) {
            (true, Some(back), true) => back,
            (true, _, _) => ("before_id", "first_id"),
            (false, _, true) => (paging.request_param, paging.response_field),
            (false, _, false) => ("after_id", "last_id"),
        };
        cursor(page.field(field)?).map(|c| (param, c))
    };
    if paging.has_more {
        // Paged by ID: by the token when the page carries no ID to go on
        // from (a token-style page, `has_more` or not).
        by_id().or_else(|| {
            if has_more == Some("false") {
                None
            } else {
                by_token()
            }
        })
    } else {
        // Paged by token: by ID only when the page has no token field.
        match (token, has_more) {
            (Some(_), _) => by_token(),
            (None, Some(_)) => by_id(),
            (None, None) => None,
        }
    }
}

/// A cursor's value: a non-empty string, or a number as written.
fn cursor(raw: &str) -> Option<String> {
    match raw.as_bytes().first()? {
        b'"' => json::string(raw).filter(|s| !s.is_empty()),
        b'-' | b'0'..=b'9' => Some(raw.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BY_TOKEN: Paging = Paging {
        items: "data",
        request_param: "page",
        response_field: "next_page",
        has_more: false,
        backward: None,
        limit_caps_items: false,
    };
    const BY_ID: Paging = Paging {
        items: "data",
        request_param: "after_id",
        response_field: "last_id",
        has_more: true,
        backward: Some(("before_id", "first_id")),
        limit_caps_items: true,
    };

    fn next_of(body: &str, paging: &Paging, backward: bool) -> Option<(&'static str, String)> {
        let page = Doc::from_text(body.to_string()).unwrap();
        let empty = page.items("data").unwrap().is_empty();
        next(&page, paging, backward, empty)
    }

    fn some(param: &'static str, c: &str) -> Option<(&'static str, String)> {
        Some((param, c.to_string()))
    }

    #[test]
    fn token_pages_follow_next_page_until_null_or_empty() {
        let p = &BY_TOKEN;
        assert_eq!(
            next_of(r#"{"data":[1],"next_page":"pg2"}"#, p, false),
            some("page", "pg2")
        );
        assert_eq!(next_of(r#"{"data":[1],"next_page":null}"#, p, false), None);
        assert_eq!(next_of(r#"{"data":[1],"next_page":""}"#, p, false), None);
        assert_eq!(next_of(r#"{"data":[],"next_page":"pg2"}"#, p, false), None);
        assert_eq!(next_of(r#"{"data":[1]}"#, p, false), None);
    }

    #[test]
    fn a_token_paged_list_follows_an_id_page_it_is_served() {
        let p = &BY_TOKEN;
        let page = r#"{"data":[1],"has_more":true,"first_id":"f1","last_id":"f2"}"#;
        assert_eq!(next_of(page, p, false), some("after_id", "f2"));
        assert_eq!(next_of(page, p, true), some("before_id", "f1"));
        let last = r#"{"data":[1],"has_more":false,"first_id":"f1","last_id":"f2"}"#;
        assert_eq!(next_of(last, p, false), None);
    }

    #[test]
    fn id_pages_follow_last_id_or_first_id_backwards() {
        let p = &BY_ID;
        let page = r#"{"data":[1],"has_more":true,"first_id":"m1","last_id":"m2"}"#;
        assert_eq!(next_of(page, p, false), some("after_id", "m2"));
        assert_eq!(next_of(page, p, true), some("before_id", "m1"));
        assert_eq!(
            next_of(r#"{"data":[1],"has_more":false,"last_id":"m2"}"#, p, false),
            None
        );
        // No has_more: go on while there is a last ID (as the official SDK does).
        assert_eq!(
            next_of(r#"{"data":[1],"last_id":"m2"}"#, p, false),
            some("after_id", "m2")
        );
        assert_eq!(
            next_of(r#"{"data":[1],"has_more":true,"last_id":""}"#, p, false),
            None
        );
    }

    #[test]
    fn an_id_paged_list_follows_a_token_page_it_is_served() {
        assert_eq!(
            next_of(r#"{"data":[1],"next_page":"pg2"}"#, &BY_ID, false),
            some("page", "pg2")
        );
        // A token page with `has_more` (the report lists' shape) carries no
        // ID to go on from: its token is the way on, until `has_more` is false.
        assert_eq!(
            next_of(
                r#"{"data":[1],"has_more":true,"next_page":"pg2"}"#,
                &BY_ID,
                false
            ),
            some("page", "pg2")
        );
        assert_eq!(
            next_of(
                r#"{"data":[1],"has_more":false,"next_page":"pg2"}"#,
                &BY_ID,
                false
            ),
            None
        );
    }

    #[test]
    fn pages_carrying_both_follow_the_lists_own_style() {
        let both = r#"{"data":[1],"next_page":"pg2","has_more":true,"first_id":"a","last_id":"b"}"#;
        assert_eq!(next_of(both, &BY_TOKEN, false), some("page", "pg2"));
        assert_eq!(next_of(both, &BY_ID, false), some("after_id", "b"));
        let token_done = r#"{"data":[1],"next_page":null,"has_more":true,"last_id":"b"}"#;
        assert_eq!(next_of(token_done, &BY_TOKEN, false), None);
        let id_done = r#"{"data":[1],"next_page":"pg2","has_more":false,"last_id":"b"}"#;
        assert_eq!(next_of(id_done, &BY_ID, false), None);
    }

    #[test]
    fn numeric_cursors_are_sent_as_written() {
        assert_eq!(
            next_of(r#"{"data":[1],"next_page":20}"#, &BY_TOKEN, false),
            some("page", "20")
        );
    }
}
