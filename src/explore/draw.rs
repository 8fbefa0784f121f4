//! Drawing the model on a ratatui frame: a header, the table, tree or raw
//! JSON of the current view, a detail pane with the selected value in full
//! (long strings wrapped), and a status line. Colours only when allowed
//! (`NO_COLOR`); selection uses reverse video, which needs none.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use super::Shape;
use super::columns::{self, GAP};
use super::model::{Kind, Mode, Model, View};
use super::tree;

/// The key help, shown by `?` (and in docs/explore.md).
pub const HELP: &[(&str, &str)] = &[
    ("↑ k  ↓ j", "move up, down"),
    ("PgUp PgDn", "move a screen"),
    (
        "g  G",
        "go to the top, the bottom (more loads as you near it)",
    ),
    ("→ l enter", "open the row, expand the node"),
    ("← h backspace", "collapse, go back"),
    ("/", "search (enter keeps it, esc cancels)"),
    ("n  N", "next, previous match"),
    ("r", "raw JSON on or off"),
    ("p", "print the selection as JSON and exit"),
    ("y", "print the selection's path (for --transform) and exit"),
    ("?", "this help"),
    ("q esc ctrl+c", "quit"),
];

/// Colours when allowed; attributes (bold, dim, reverse) always.
#[derive(Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    fn key(self) -> Style {
        self.fg(Color::Blue)
    }

    fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    fn value(self, v: &Value) -> Style {
        match v {
            Value::String(_) => self.fg(Color::Green),
            Value::Number(_) => self.fg(Color::Cyan),
            Value::Bool(_) => self.fg(Color::Yellow),
            Value::Null => self.dim(),
            _ => Style::new(),
        }
    }
}

/// Draws the whole screen; also records the page height and scrolls the
/// current view so its cursor is visible.
pub fn draw(f: &mut Frame, m: &mut Model, theme: Theme) {
    let area = f.area();
    if area.height < 3 || area.width < 10 {
        f.render_widget(Paragraph::new("ant: terminal too small"), area);
        return;
    }
    let detail_h = if area.height >= 14 {
        (area.height / 3).clamp(4, 12)
    } else {
        0
    };
    let main = Rect::new(0, 1, area.width, area.height - 2 - detail_h);
    let detail = Rect::new(0, 1 + main.height, area.width, detail_h);
    let status = Rect::new(0, area.height - 1, area.width, 1);

    let (view_rows, root_table) = {
        let view = m.view();
        let table = view.raw.is_none() && matches!(view.kind, Kind::Table(_));
        let rows = main.height.saturating_sub(table as u16) as usize;
        (rows, table && view.path.is_empty() && m.items_root())
    };
    m.page = view_rows.max(1);
    scroll(m, root_table && m.loading());
    draw_header(f, m, Rect::new(0, 0, area.width, 1), theme);
    let view = m.view();
    match (&view.raw, &view.kind) {
        (Some(_), _) => draw_raw(f, view, main),
        (None, Kind::Table(_)) => draw_table(f, m, view, main, theme),
        (None, Kind::Tree { .. }) => draw_tree(f, m, view, main, theme),
    }
    if detail_h > 0 {
        draw_detail(f, m, detail, theme);
    }
    draw_status(f, m, status);
    if m.mode == Mode::Help {
        draw_help(f, area);
    }
}

/// Keeps the cursor of the current view on screen, and the "loading…" row
/// below the last row too when the cursor is on that row.
fn scroll(m: &mut Model, loading_row: bool) {
    let page = m.page;
    let rows = m.rows_of(m.view());
    let view = m.views.last_mut().expect("a view");
    let (cursor, offset) = match &mut view.raw {
        Some(r) => (r.cursor, &mut r.offset),
        None => (view.cursor, &mut view.offset),
    };
    let bottom = if loading_row && page > 1 && cursor + 1 >= rows {
        cursor + 1
    } else {
        cursor
    };
    if cursor < *offset {
        *offset = cursor;
    } else if bottom >= *offset + page {
        *offset = bottom + 1 - page;
    }
}

fn draw_header(f: &mut Frame, m: &Model, area: Rect, theme: Theme) {
    let view = m.view();
    let rows = m.rows_of(view);
    let mut right = if rows == 0 {
        "empty".to_string()
    } else {
        format!("{}/{}", m.cursor() + 1, rows)
    };
    if m.items_root() {
        let what = if m.shape == Shape::Stream {
            "event"
        } else {
            "item"
        };
        right.push_str(&format!("  {}", count(m.loaded(), what)));
        right.push_str(match (m.shape, m.complete) {
            (Shape::Stream, false) => " · live",
            (Shape::Stream, true) => " · ended",
            (_, false) if m.loading() => " · loading…",
            (_, false) => " · more",
            (_, true) => "",
        });
    }
    let mut left = format!(" {}", m.title);
    let crumbs = crumbs(view);
    if !crumbs.is_empty() {
        left.push_str(" › ");
        left.push_str(&crumbs);
    }
    if view.raw.is_some() {
        left.push_str("  (raw)");
    }
    let width = area.width as usize;
    let room = width.saturating_sub(right.width() + 2);
    let line = Line::from(vec![
        Span::styled(
            columns::fit(&left, room),
            theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Span::raw("  "),
        Span::styled(right, theme.dim()),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// Where the current view is: `[3] › tools › [0]`.
fn crumbs(view: &View) -> String {
    let labels: Vec<String> = view.path.iter().map(tree::label).collect();
    labels.join(" › ")
}

fn draw_table(f: &mut Frame, m: &Model, view: &View, area: Rect, theme: Theme) {
    let Kind::Table(cols) = &view.kind else {
        return;
    };
    let rows: &[Value] = match tree::get(&m.root, &view.path) {
        Some(Value::Array(a)) => a,
        _ => &[],
    };
    let width = area.width as usize;
    let layout = cols.layout(width);
    let mut lines: Vec<Line> = Vec::with_capacity(area.height as usize);
    let gap = " ".repeat(GAP);
    let header: Vec<String> = layout
        .iter()
        .map(|c| columns::fit(&c.key, c.width))
        .collect();
    lines.push(Line::styled(
        header.join(&gap),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    let end = rows.len().min(view.offset + m.page);
    for (i, row) in rows.iter().enumerate().take(end).skip(view.offset) {
        let mut spans = Vec::with_capacity(layout.len() * 2);
        for (n, c) in layout.iter().enumerate() {
            if n > 0 {
                spans.push(Span::raw(gap.clone()));
            }
            let value = match row {
                Value::Object(o) => o.get(&c.key),
                other if c.key == columns::VALUE => Some(other),
                _ => None,
            };
            let text = columns::row_cell(row, &c.key).unwrap_or_default();
            let style = value.map_or(Style::new(), |v| theme.value(v));
            spans.push(Span::styled(columns::fit(&text, c.width), style));
        }
        let mut line = Line::from(spans);
        if i == view.cursor {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    let is_root = view.path.is_empty() && m.items_root();
    if is_root && m.loading() && lines.len() <= m.page {
        lines.push(Line::styled("loading…", theme.dim()));
    }
    if rows.is_empty() && lines.len() == 1 {
        lines.push(Line::styled("(no items)", theme.dim()));
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn draw_tree(f: &mut Frame, m: &Model, view: &View, area: Rect, theme: Theme) {
    let Kind::Tree { expanded, lines } = &view.kind else {
        return;
    };
    let width = area.width as usize;
    let mut out: Vec<Line> = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(view.offset).take(m.page) {
        let Some(v) = tree::get(&m.root, &line.path) else {
            continue;
        };
        let indent = "  ".repeat(line.depth);
        let marker = if !tree::expandable(v) {
            "  "
        } else if expanded.contains(&line.path) {
            "▾ "
        } else {
            "▸ "
        };
        let label = if line.path.len() == view.path.len() {
            "value".to_string()
        } else {
            line.path.last().map(tree::label).unwrap_or_default()
        };
        let used = indent.width() + marker.width() + label.width() + 2;
        let (text, style) = summary(v, theme);
        let mut spans = vec![
            Span::raw(indent),
            Span::raw(marker),
            Span::styled(label, theme.key()),
            Span::raw(": "),
            Span::styled(
                columns::fit(&text, width.saturating_sub(used))
                    .trim_end()
                    .to_string(),
                style,
            ),
        ];
        if i == view.cursor {
            let pad = width.saturating_sub(spans.iter().map(|s| s.width()).sum());
            spans.push(Span::raw(" ".repeat(pad)));
        }
        let mut l = Line::from(spans);
        if i == view.cursor {
            l = l.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        out.push(l);
    }
    f.render_widget(Paragraph::new(out), area);
}

/// A node on one line: scalars as JSON, containers by their size.
fn summary(v: &Value, theme: Theme) -> (String, Style) {
    match v {
        Value::Object(o) if o.is_empty() => ("{}".into(), theme.dim()),
        Value::Array(a) if a.is_empty() => ("[]".into(), theme.dim()),
        Value::Object(o) => (format!("{{…}} {}", count(o.len(), "key")), theme.dim()),
        Value::Array(a) => (format!("[…] {}", count(a.len(), "item")), theme.dim()),
        Value::String(s) => (format!("\"{}\"", columns::one_line(s)), theme.value(v)),
        other => (other.to_string(), theme.value(other)),
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn draw_raw(f: &mut Frame, view: &View, area: Rect) {
    let Some(raw) = &view.raw else {
        return;
    };
    let lines: Vec<Line> = raw
        .lines
        .iter()
        .enumerate()
        .skip(raw.offset)
        .take(area.height as usize)
        .map(|(i, l)| {
            let line = Line::raw(l.as_str());
            if i == raw.cursor {
                line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}

/// The selected value in full: a string wrapped, anything else as pretty JSON.
fn draw_detail(f: &mut Frame, m: &Model, area: Rect, theme: Theme) {
    let path = m.selected_path();
    let labels: Vec<String> = path.iter().map(tree::label).collect();
    let title = format!(" {} ", labels.join(" › "));
    let block = Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(title, theme.key()))
        .border_style(theme.dim());
    let text = match tree::get(&m.root, &path) {
        Some(Value::String(s)) => detail_text(s),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => String::new(),
    };
    let style = tree::get(&m.root, &path).map_or(Style::new(), |v| match v {
        Value::Object(_) | Value::Array(_) => Style::new(),
        v => theme.value(v),
    });
    f.render_widget(
        Paragraph::new(text)
            .style(style)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

/// A string as the detail pane shows it: tabs expanded to the next multiple
/// of 8 columns, other control characters but line breaks as spaces (the
/// terminal would drop them, joining words).
fn detail_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut col = 0;
    for c in s.chars() {
        match c {
            '\n' => {
                out.push('\n');
                col = 0;
                continue;
            }
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
                continue;
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
        col += unicode_width::UnicodeWidthChar::width(c).unwrap_or(1);
    }
    out
}

fn draw_status(f: &mut Frame, m: &Model, area: Rect) {
    let text = match (&m.mode, &m.message) {
        (Mode::Search { query, .. }, _) => format!("/{query}█"),
        _ if m.seek.is_some() => m.seek_status().unwrap_or_default(),
        (_, Some(msg)) => msg.clone(),
        _ => "↑↓ move  → open  ← back  / search  r raw  p print  y path  ? help  q quit".into(),
    };
    let style = Style::new().add_modifier(Modifier::REVERSED);
    f.render_widget(
        Paragraph::new(columns::fit(&text, area.width as usize)).style(style),
        area,
    );
}

fn draw_help(f: &mut Frame, area: Rect) {
    let keys_w = HELP.iter().map(|(k, _)| k.width()).max().unwrap_or(0);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| Line::raw(format!(" {}  {what}", columns::fit(k, keys_w))))
        .collect();
    let w = (lines.iter().map(Line::width).max().unwrap_or(0) + 3).min(area.width as usize) as u16;
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect::new((area.width - w) / 2, (area.height - h) / 2, w, h);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys (any key closes) ")),
        rect,
    );
}
