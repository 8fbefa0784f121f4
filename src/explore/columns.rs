//! The columns of a table view, chosen by use: an ID, a name or title, a
//! status (or the type, where types differ), the main content and a time,
//! then the other keys; a column with the same value on every row (the
//! `type` of a list of agents, the `vault_id` of a vault's credentials) is
//! left out. The `id` column is never cut (the official explorer cuts ids
//! to `agent_…`); other columns shrink, then drop off, from the right.

use std::collections::HashMap;

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// The roles of the first columns, in display order: each shows the first
/// of its keys that the rows have (and that differs between rows).
const ROLES: [&[&str]; 5] = [
    &["id"],
    &["name", "display_name", "title"],
    &["status", "state", "type"],
    &["content", "text", "description", "summary", "message"],
    &["created_at", "processed_at", "updated_at"],
];
/// No column is wider than this unless the screen has room to spare.
const MAX_WIDTH: usize = 40;
/// A column narrower than this is dropped instead of shown.
const MIN_WIDTH: usize = 6;
/// Spaces between columns.
pub const GAP: usize = 2;
/// The one column of rows that are not objects.
pub const VALUE: &str = "value";

/// What is known about the columns of the rows seen so far; grows as rows
/// arrive, each row looked at once.
#[derive(Debug, Default, Clone)]
pub struct Columns {
    /// Keys in the order first seen.
    keys: Vec<String>,
    stats: HashMap<String, Stat>,
    /// Rows already looked at (objects and not).
    seen: usize,
    /// Of them, objects.
    objects: usize,
    /// Some rows are not objects.
    scalars: bool,
}

#[derive(Debug, Default, Clone)]
struct Stat {
    /// Widest cell (capped).
    width: usize,
    /// Some value is a string, number or boolean.
    scalar: bool,
    /// Rows that have the key.
    count: usize,
    /// The first value seen, while every value so far equals it.
    same: Option<Value>,
    /// Two rows differ in it (a value, or having it at all).
    varies: bool,
}

/// One column as laid out: its key and width.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    pub key: String,
    pub width: usize,
}

impl Columns {
    /// Takes in the rows not seen yet.
    pub fn update(&mut self, rows: &[Value]) {
        for row in rows.iter().skip(self.seen) {
            match row {
                Value::Object(m) => {
                    self.objects += 1;
                    for (k, v) in m {
                        let stat = self.stats.entry(k.clone()).or_insert_with(|| {
                            self.keys.push(k.clone());
                            Stat::default()
                        });
                        stat.width = stat.width.max(cell(v).width().min(2 * MAX_WIDTH));
                        stat.scalar |=
                            !matches!(v, Value::Object(_) | Value::Array(_) | Value::Null);
                        stat.count += 1;
                        match &stat.same {
                            None if stat.count == 1 => stat.same = Some(v.clone()),
                            Some(first) if first != v => {
                                stat.same = None;
                                stat.varies = true;
                            }
                            _ => {}
                        }
                    }
                }
                other => {
                    self.scalars = true;
                    let stat = self.stats.entry(VALUE.into()).or_default();
                    stat.width = stat.width.max(cell(other).width().min(2 * MAX_WIDTH));
                    stat.varies = true;
                }
            }
        }
        self.seen = self.seen.max(rows.len());
    }

    /// Whether a column tells rows apart: it differs between them, or some
    /// rows lack it. With one row, every column does.
    fn useful(&self, key: &str) -> bool {
        let Some(stat) = self.stats.get(key) else {
            return false;
        };
        self.objects < 2 || key == "id" || stat.varies || stat.count < self.objects
    }

    /// Every key in display order: one per role ([`ROLES`]), other scalar
    /// columns as first seen, then columns of objects, arrays or null;
    /// columns with the same value on every row left out.
    pub fn ordered(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if self.scalars && !self.keys.iter().any(|k| k == VALUE) {
            out.push(VALUE);
        }
        for role in ROLES {
            if let Some(k) = role.iter().find(|k| self.useful(k)) {
                out.push(k);
            }
        }
        let rest = self
            .keys
            .iter()
            .filter(|k| !out.contains(&k.as_str()) && self.useful(k));
        let (scalar, other): (Vec<&String>, Vec<&String>) =
            rest.partition(|k| self.stats[k.as_str()].scalar);
        out.extend(scalar.into_iter().map(String::as_str));
        out.extend(other.into_iter().map(String::as_str));
        out
    }

    /// The columns that fit in `width`, in display order: `id` whole, then
    /// each other column as wide as its data (up to [`MAX_WIDTH`]) while it
    /// fits; the first that does not fit gets what is left if that is at
    /// least [`MIN_WIDTH`] (or its header), and the rest drop off. Useful
    /// columns stay readable instead of every column being cut.
    pub fn layout(&self, width: usize) -> Vec<Col> {
        let mut cols: Vec<Col> = Vec::new();
        let mut used = 0usize;
        for key in self.ordered() {
            let data = self.stats.get(key).map_or(0, |s| s.width);
            let header = key.width();
            let gap = if cols.is_empty() { 0 } else { GAP };
            let full = if key == "id" {
                data.max(header)
            } else {
                data.max(header).clamp(1, MAX_WIDTH)
            };
            let left = width.saturating_sub(used + gap);
            let w = if key == "id" || full <= left {
                full
            } else if left >= full.min(header.max(MIN_WIDTH)) {
                left
            } else {
                break;
            };
            used += gap + w;
            cols.push(Col {
                key: key.into(),
                width: w,
            });
            if w < full {
                break;
            }
        }
        cols
    }
}

/// The text of a cell: strings on one line, other scalars as JSON, objects
/// and arrays as compact JSON (cut to the column by the caller).
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => one_line(s),
        // Content blocks (`[{type: text, text: ...}]`): their text.
        Value::Array(blocks)
            if !blocks.is_empty() && blocks.iter().all(|b| b["text"].is_string()) =>
        {
            let texts: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
            one_line(&texts.join(" "))
        }
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// The cell of `key` in `row` (`value` for rows that are not objects).
pub fn row_cell(row: &Value, key: &str) -> Option<String> {
    match row {
        Value::Object(m) => m.get(key).map(cell),
        other if key == VALUE => Some(cell(other)),
        _ => None,
    }
}

/// A string on one line: line breaks shown as `⏎`, other control characters as spaces.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' => '⏎',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// `s` cut to `width` columns (with `…` when cut) and padded to it.
pub fn fit(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    if s.width() <= width {
        out.push_str(s);
        used = s.width();
    } else if width > 0 {
        for c in s.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if used + w > width - 1 {
                break;
            }
            out.push(c);
            used += w;
        }
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agents() -> Vec<Value> {
        vec![
            json!({"version": 1, "name": "Research assistant", "id": "agent_011CZkYpogX5F2aL", "tools": [], "created_at": "2026-11-28T12:00:00Z", "type": "agent", "description": null}),
            json!({"id": "agent_011CZkYq", "type": "agent", "name": "Bot", "metadata": {"k": "v"}, "archived_at": "2026-11-29T00:00:00Z"}),
        ]
    }

    #[test]
    fn useful_keys_come_first_then_scalars_then_containers() {
        let mut c = Columns::default();
        c.update(&agents());
        // `type` is "agent" on every row: no column.
        assert_eq!(
            c.ordered(),
            [
                "id",
                "name",
                "description",
                "created_at",
                "version",
                "archived_at",
                "tools",
                "metadata"
            ]
        );
    }

    #[test]
    fn events_show_their_type_and_content_not_span_ids() {
        let mut c = Columns::default();
        c.update(&[
            json!({"id": "sevt_1", "type": "user.message", "content": [{"type": "text", "text": "Write fib.py"}], "processed_at": "t1"}),
            json!({"id": "sevt_2", "type": "span.model_request_start", "processed_at": "t2"}),
            json!({"id": "sevt_3", "type": "span.model_request_end", "model_request_start_id": "sevt_2", "processed_at": "t3"}),
            json!({"id": "sevt_4", "type": "agent.message", "content": [{"type": "text", "text": "Done."}], "processed_at": "t4"}),
        ]);
        let keys: Vec<String> = c.layout(80).into_iter().map(|c| c.key).collect();
        assert_eq!(keys[..4], ["id", "type", "content", "processed_at"]);
        assert_eq!(
            cell(&json!([{"type": "text", "text": "Write"}, {"type": "text", "text": "fib.py"}])),
            "Write fib.py"
        );
    }

    #[test]
    fn a_column_with_one_value_on_every_row_is_left_out() {
        let mut c = Columns::default();
        c.update(&[
            json!({"id": "cred_1", "vault_id": "vlt_1", "display_name": "GitHub", "type": "vault_credential"}),
            json!({"id": "cred_2", "vault_id": "vlt_1", "display_name": "Linear", "type": "vault_credential"}),
        ]);
        assert_eq!(c.ordered(), ["id", "display_name"]);
        // One row alone: every column shows.
        let mut one = Columns::default();
        one.update(&[json!({"id": "cred_1", "vault_id": "vlt_1"})]);
        assert_eq!(one.ordered(), ["id", "vault_id"]);
    }

    #[test]
    fn rows_are_looked_at_once_and_new_keys_join() {
        let mut rows = agents();
        let mut c = Columns::default();
        c.update(&rows[..1]);
        assert!(!c.ordered().contains(&"archived_at"));
        rows.push(json!({"id": "x", "status": "active"}));
        c.update(&rows);
        assert!(c.ordered().contains(&"archived_at"));
        assert_eq!(c.ordered()[..3], ["id", "name", "status"]);
    }

    #[test]
    fn id_is_never_cut_and_other_columns_drop_off() {
        let mut c = Columns::default();
        c.update(&agents());
        let wide = c.layout(200);
        assert_eq!(wide[0].width, "agent_011CZkYpogX5F2aL".len());
        assert_eq!(wide.len(), 8);
        let narrow = c.layout(40);
        assert_eq!(narrow[0].width, "agent_011CZkYpogX5F2aL".len());
        let names: Vec<&str> = narrow.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(names, ["id", "name"]);
        let total: usize = narrow.iter().map(|c| c.width).sum::<usize>() + GAP * (narrow.len() - 1);
        assert_eq!(total, 40, "{narrow:?}");
        // Even a screen narrower than the id keeps it whole.
        assert_eq!(c.layout(10)[0].width, 22);
    }

    #[test]
    fn earlier_columns_keep_their_width_and_the_last_one_shrinks() {
        let mut c = Columns::default();
        let long = "a rather long name of forty characters..";
        c.update(&[json!({"id": "a", "name": long, "status": "active"})]);
        let widths = |w| -> Vec<(String, usize)> {
            c.layout(w).into_iter().map(|c| (c.key, c.width)).collect()
        };
        assert_eq!(
            widths(80),
            [("id".into(), 2), ("name".into(), 40), ("status".into(), 6)]
        );
        // 2 + 2 + 40 + 2 = 46: status gets what is left if that is 6 or more.
        assert_eq!(widths(52)[2], ("status".into(), 6));
        assert_eq!(widths(51).len(), 2);
        assert_eq!(widths(20), [("id".into(), 2), ("name".into(), 16)]);
    }

    #[test]
    fn scalar_rows_get_a_value_column() {
        let mut c = Columns::default();
        c.update(&[json!("agent_1"), json!("agent_2")]);
        assert_eq!(c.ordered(), ["value"]);
        assert_eq!(row_cell(&json!("x"), VALUE).as_deref(), Some("x"));
    }

    #[test]
    fn cells_fit_their_width() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("日本語テキスト", 5), "日本…");
        assert_eq!(cell(&json!("a\nb\tc")), "a⏎b c");
        assert_eq!(cell(&json!({"id": "m"})), r#"{"id":"m"}"#);
    }
}
