//! The columns of a table view: the union of the rows' keys, the most useful
//! first, and how wide each may be on a screen of a given width. The `id`
//! column is never cut (the official explorer cuts ids to `agent_…`); other
//! columns shrink, then drop off, from the right.

use std::collections::HashMap;

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// Keys shown first, in this order, when rows have them.
const FIRST: [&str; 6] = ["id", "type", "name", "title", "status", "created_at"];
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
    /// Rows already looked at.
    seen: usize,
    /// Some rows are not objects.
    scalars: bool,
}

#[derive(Debug, Default, Clone)]
struct Stat {
    /// Widest cell (capped).
    width: usize,
    /// Some value is a string, number or boolean.
    scalar: bool,
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
                    for (k, v) in m {
                        let stat = self.stats.entry(k.clone()).or_insert_with(|| {
                            self.keys.push(k.clone());
                            Stat::default()
                        });
                        stat.width = stat.width.max(cell(v).width().min(2 * MAX_WIDTH));
                        stat.scalar |=
                            !matches!(v, Value::Object(_) | Value::Array(_) | Value::Null);
                    }
                }
                other => {
                    self.scalars = true;
                    let stat = self.stats.entry(VALUE.into()).or_default();
                    stat.width = stat.width.max(cell(other).width().min(2 * MAX_WIDTH));
                }
            }
        }
        self.seen = self.seen.max(rows.len());
    }

    /// Every key in display order: the useful ones, other scalar columns as
    /// first seen, then columns holding only objects, arrays or null.
    pub fn ordered(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if self.scalars && !self.keys.iter().any(|k| k == VALUE) {
            out.push(VALUE);
        }
        out.extend(
            FIRST
                .iter()
                .copied()
                .filter(|k| self.stats.contains_key(*k)),
        );
        let rest = self.keys.iter().filter(|k| !FIRST.contains(&k.as_str()));
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
        assert_eq!(
            c.ordered(),
            [
                "id",
                "type",
                "name",
                "created_at",
                "version",
                "archived_at",
                "tools",
                "description",
                "metadata"
            ]
        );
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
        assert_eq!(c.ordered()[..3], ["id", "type", "name"]);
        assert_eq!(c.ordered()[3], "status");
    }

    #[test]
    fn id_is_never_cut_and_other_columns_drop_off() {
        let mut c = Columns::default();
        c.update(&agents());
        let wide = c.layout(200);
        assert_eq!(wide[0].width, "agent_011CZkYpogX5F2aL".len());
        assert_eq!(wide.len(), 9);
        let narrow = c.layout(40);
        assert_eq!(narrow[0].width, "agent_011CZkYpogX5F2aL".len());
        let names: Vec<&str> = narrow.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(names, ["id", "type", "name"]);
        let total: usize = narrow.iter().map(|c| c.width).sum::<usize>() + GAP * 2;
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
