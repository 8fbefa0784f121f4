//! The explorer's state without a terminal: keys, views, search, raw mode
//! and when more items are wanted; and the screen it draws, on ratatui's
//! `TestBackend`, checked with insta snapshots.

use super::*;
use crate::explore::draw::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(m: &mut Model, keys: &str) -> Option<Exit> {
    for c in keys.chars() {
        if let Some(exit) = m.key(key(c)) {
            return Some(exit);
        }
    }
    None
}

fn agent(i: usize) -> Value {
    json!({
        "id": format!("agent_011CZkYpogX5F2aL{i:04}"),
        "type": "agent",
        "name": format!("Agent {i}"),
        "model": {"id": "claude-opus-4-7"},
        "tools": [{"type": "agent_toolset_20260401"}],
        "created_at": "2026-11-28T12:00:00Z",
    })
}

/// A list explorer holding `n` agents, drawn once on a `w`×`h` screen.
fn list(n: usize) -> Model {
    let mut m = Model::new(Shape::List, "beta:agents list".into(), agent(0));
    for i in 1..n {
        m.push(agent(i));
    }
    m
}

fn screen(m: &mut Model, w: u16, h: u16, color: bool) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw::draw(f, m, Theme { color })).unwrap();
    t
}

fn text(m: &mut Model, w: u16, h: u16) -> String {
    screen(m, w, h, false).backend().to_string()
}

fn session() -> Value {
    json!({
        "id": "sesn_01",
        "type": "session",
        "status": "idle",
        "title": "Quickstart",
        "agent": {"id": "agent_1", "version": 2, "tools": [{"type": "bash"}, {"type": "read"}]},
        "metadata": {},
        "system": "You are a helpful coding assistant. Write clean, well-documented code that explains itself, with tests for every public function.",
    })
}

#[test]
fn moves_stay_inside_the_rows() {
    let mut m = list(5);
    press(&mut m, "k");
    assert_eq!(m.cursor(), 0);
    press(&mut m, "jjj");
    assert_eq!(m.cursor(), 3);
    press(&mut m, "jjjj");
    assert_eq!(m.cursor(), 4);
    press(&mut m, "g");
    assert_eq!(m.cursor(), 0);
    press(&mut m, "G");
    assert_eq!(m.cursor(), 4);
    m.key(code(KeyCode::Up));
    assert_eq!(m.cursor(), 3);
    m.key(code(KeyCode::Home));
    assert_eq!(m.cursor(), 0);
}

#[test]
fn paging_keys_move_by_a_screen_or_half() {
    let mut m = list(50);
    m.page = 10;
    m.key(code(KeyCode::PageDown));
    assert_eq!(m.cursor(), 10);
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    m.key(ctrl('d'));
    assert_eq!(m.cursor(), 15);
    m.key(ctrl('u'));
    assert_eq!(m.cursor(), 10);
    m.key(code(KeyCode::PageUp));
    assert_eq!(m.cursor(), 0);
    m.key(code(KeyCode::End));
    assert_eq!(m.cursor(), 49);
    m.key(code(KeyCode::PageDown));
    assert_eq!(m.cursor(), 49, "stays on the last row");
    // Plain d and u do nothing.
    press(&mut m, "gdu");
    assert_eq!(m.cursor(), 0);
}

#[test]
fn quit_keys_and_ctrl_c_even_while_searching() {
    for k in [key('q'), code(KeyCode::Esc)] {
        assert_eq!(list(2).key(k), Some(Exit::Quit));
    }
    let mut m = list(2);
    press(&mut m, "/ab");
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(m.key(ctrl_c), Some(Exit::Quit));
}

#[test]
fn p_prints_the_row_and_y_its_path() {
    let mut m = list(3);
    press(&mut m, "j");
    assert_eq!(press(&mut m, "p"), Some(Exit::Print(agent(1))));
    // A whole item: the path --transform takes for the item itself.
    assert_eq!(press(&mut m, "y"), Some(Exit::Path("@this".into())));
    // Inside the item: relative to it, as --transform applies to each item.
    press(&mut m, "l");
    press(&mut m, "jjjj");
    assert_eq!(press(&mut m, "y"), Some(Exit::Path("tools".into())));
    press(&mut m, "ll");
    assert_eq!(press(&mut m, "y"), Some(Exit::Path("tools.0".into())));
    assert_eq!(
        press(&mut m, "p"),
        Some(Exit::Print(json!({"type": "agent_toolset_20260401"})))
    );
}

#[test]
fn open_expand_collapse_and_back() {
    let mut m = list(3);
    press(&mut m, "j");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.views.len(), 2);
    assert_eq!(m.rows_of(m.view()), 6);
    // model: expand, then step in, then back out to it, collapse, leave.
    press(&mut m, "jjj");
    assert_eq!(m.selected_gjson(), "model");
    m.key(code(KeyCode::Right));
    assert_eq!(m.rows_of(m.view()), 7);
    m.key(code(KeyCode::Right));
    assert_eq!(m.selected_gjson(), "model.id");
    m.key(code(KeyCode::Left));
    assert_eq!(m.selected_gjson(), "model");
    m.key(code(KeyCode::Left));
    assert_eq!(m.rows_of(m.view()), 6);
    m.key(code(KeyCode::Backspace));
    assert_eq!(m.views.len(), 1);
    assert_eq!(m.cursor(), 1, "back where we were");
    // The root view never closes.
    press(&mut m, "h");
    assert_eq!(m.views.len(), 1);
}

#[test]
fn scalars_do_not_open() {
    let mut m = Model::new(Shape::One, "t".into(), json!({"a": "x"}));
    press(&mut m, "l");
    assert_eq!(m.views.len(), 1);
    assert_eq!(m.rows_of(m.view()), 1);
}

#[test]
fn an_array_of_objects_is_a_table_and_other_values_trees() {
    let m = Model::new(Shape::One, "t".into(), json!([{"id": "a"}, {"id": "b"}]));
    assert!(matches!(m.view().kind, Kind::Table(_)));
    let m = Model::new(Shape::One, "t".into(), json!([1, {"id": "b"}]));
    assert!(matches!(m.view().kind, Kind::Tree { .. }));
    let mut m = Model::new(Shape::One, "t".into(), session());
    press(&mut m, "jjjjl");
    press(&mut m, "jjj");
    assert_eq!(m.selected_gjson(), "agent.tools");
    // A nested array of objects opens as a table from a table row only;
    // in a tree it expands in place.
    press(&mut m, "l");
    assert_eq!(m.views.len(), 1);
}

#[test]
fn search_is_incremental_and_cancels_back() {
    let mut m = list(30);
    press(&mut m, "jj");
    press(&mut m, "/agent 2");
    assert_eq!(m.cursor(), 2, "the current row matches already");
    press(&mut m, "5");
    assert_eq!(m.cursor(), 25);
    assert!(matches!(&m.mode, Mode::Search { query, .. } if query == "agent 25"));
    m.key(code(KeyCode::Backspace));
    assert_eq!(m.cursor(), 2);
    m.key(code(KeyCode::Esc));
    assert_eq!(m.cursor(), 2);
    assert_eq!(m.mode, Mode::Normal);
    assert_eq!(m.last_search, None);
}

#[test]
fn n_and_shift_n_repeat_the_search_and_wrap() {
    let mut m = list(30);
    press(&mut m, "/agent 1");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.cursor(), 1);
    press(&mut m, "n");
    assert_eq!(m.cursor(), 10);
    press(&mut m, "N");
    assert_eq!(m.cursor(), 1);
    press(&mut m, "N");
    assert_eq!(m.cursor(), 19, "wraps to the last match");
    // Nothing in the items loaded: the search goes on into more pages,
    // and only the end of the list says there is no match.
    press(&mut m, "/nothing like it");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.cursor(), 19);
    assert!(m.seek.is_some());
    m.end();
    assert_eq!(m.cursor(), 19);
    let msg = m.message.clone().unwrap();
    assert_eq!(msg, "no match for \"nothing like it\" in 30 items");
    // In a list that is complete, the search wraps at once.
    press(&mut m, "/agent 3");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.cursor(), 3);
}

#[test]
fn a_search_pages_on_until_it_matches_and_says_so() {
    let mut m = list(30);
    m.page = 10;
    press(&mut m, "/agent 42");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.cursor(), 0, "stays put while it looks");
    assert_eq!(m.wanted(), 31, "asks for more at once");
    assert!(
        text(&mut m, 80, 24).contains("searching for \"agent 42\"… 30 items loaded (esc stops)")
    );
    for i in 30..42 {
        m.push(agent(i));
        assert!(m.seek.is_some());
    }
    m.push(agent(42));
    assert_eq!((m.cursor(), m.seek.clone()), (42, None));
    assert_eq!(m.wanted(), 44, "the cursor is near the end");
    // `n` goes on past the items loaded too.
    m.push(agent(43));
    press(&mut m, "n");
    assert_eq!(m.cursor(), 42, "no agent 42x loaded yet");
    assert!(m.seek.is_some());
    for i in 44..=420 {
        m.push(agent(i));
    }
    assert_eq!(m.cursor(), 420);
}

#[test]
fn esc_stops_a_search_that_pages_on() {
    let mut m = list(30);
    press(&mut m, "jj/agent 99");
    m.key(code(KeyCode::Enter));
    m.push(agent(30));
    assert_eq!(m.key(code(KeyCode::Esc)), None, "esc does not quit here");
    assert_eq!(m.seek, None);
    assert_eq!(m.cursor(), 2);
    assert_eq!(m.message.as_deref(), Some("search stopped at 31 items"));
    m.page = 10;
    assert_eq!(m.wanted(), 31, "nothing more is asked for");
}

#[test]
fn g_goes_to_the_real_end_loading_as_it_goes() {
    let mut m = list(60);
    m.page = 10;
    press(&mut m, "G");
    assert_eq!(m.cursor(), 59);
    assert_eq!(m.wanted(), 61);
    assert!(text(&mut m, 80, 24).contains("going to the end… 60 items loaded (esc stops)"));
    for i in 60..64 {
        m.push(agent(i));
        assert_eq!(m.cursor(), i, "follows the end");
    }
    m.end();
    assert_eq!((m.cursor(), m.seek.clone()), (63, None));
    assert_eq!(m.wanted(), 64);
}

#[test]
fn search_in_a_tree_opens_collapsed_nodes() {
    let mut m = Model::new(Shape::One, "t".into(), session());
    press(&mut m, "/read");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.selected_gjson(), "agent.tools.1.type");
    assert_eq!(m.selected(), Some(&json!("read")));
    // Keys match too.
    press(&mut m, "/metadata");
    m.key(code(KeyCode::Enter));
    assert_eq!(m.selected_gjson(), "metadata");
}

#[test]
fn raw_mode_shows_json_and_grows_with_the_list() {
    let mut m = list(2);
    press(&mut m, "r");
    let lines = m.rows_of(m.view());
    assert_eq!(
        lines,
        2 * serde_json::to_string_pretty(&agent(0))
            .unwrap()
            .lines()
            .count()
    );
    m.push(agent(2));
    assert_eq!(m.rows_of(m.view()), lines / 2 * 3);
    press(&mut m, "/agent 2");
    m.key(code(KeyCode::Enter));
    assert!(m.cursor() > lines);
    press(&mut m, "r");
    assert!(m.view().raw.is_none());
    assert_eq!(m.cursor(), 0, "the table kept its own cursor");
}

#[test]
fn more_is_wanted_within_a_screen_of_the_end() {
    let mut m = list(40);
    m.page = 10;
    assert_eq!(m.wanted(), 40, "row 1 of 40 is two screens away");
    assert!(!m.loading());
    press(&mut m, &"j".repeat(29));
    assert_eq!(m.wanted(), 40);
    press(&mut m, "j");
    assert_eq!(m.wanted(), 41);
    assert!(m.loading());
    m.push(agent(40));
    assert_eq!(m.cursor(), 30, "new items do not move the cursor");
    // G asks for the next page at once.
    let mut m = list(100);
    m.page = 10;
    assert_eq!(m.wanted(), 100);
    press(&mut m, "G");
    assert_eq!(m.wanted(), 101);
    // Nothing more once the list is complete, nor for streams.
    m.complete = true;
    assert_eq!(m.wanted(), 100);
    let mut s = Model::new(Shape::Stream, "t".into(), json!({"type": "a"}));
    s.page = 10;
    assert_eq!(s.wanted(), 1);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut m = list(3);
    press(&mut m, "?");
    assert_eq!(m.mode, Mode::Help);
    assert_eq!(press(&mut m, "q"), None);
    assert_eq!(m.mode, Mode::Normal);
}

#[test]
fn list_screen_at_80x24() {
    let mut m = list(40);
    press(&mut m, "j");
    insta::assert_snapshot!(text(&mut m, 80, 24));
    assert_eq!(
        m.page, 13,
        "24 rows less header, column titles, detail (8) and status"
    );
}

#[test]
fn list_screen_with_loading_row() {
    let mut m = list(12);
    press(&mut m, "G");
    let shown = text(&mut m, 80, 24);
    assert!(shown.contains("loading…"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn the_loading_row_shows_below_the_last_row_of_a_long_list() {
    let mut m = list(40);
    press(&mut m, "G");
    assert!(m.loading());
    let shown = text(&mut m, 80, 24);
    let rows: Vec<&str> = shown.lines().collect();
    // Header, column titles, 12 agents, then the loading row.
    assert!(rows[13].contains("Agent 39"), "{shown}");
    assert!(rows[14].contains("loading…"), "{shown}");
    // As pages arrive the rows move up, the cursor on the last one, until
    // the list ends.
    for i in 40..60 {
        m.push(agent(i));
    }
    assert_eq!(m.cursor(), 59);
    m.end();
    let shown = text(&mut m, 80, 24);
    assert!(!shown.contains("loading…"), "{shown}");
    assert!(
        shown.lines().nth(14).unwrap().contains("Agent 59"),
        "{shown}"
    );
}

#[test]
fn object_tree_with_detail_pane_wrapping_a_long_string() {
    let mut m = Model::new(Shape::One, "beta:sessions retrieve".into(), session());
    press(&mut m, "jjjjl");
    press(&mut m, "jjjjj");
    assert_eq!(m.selected_gjson(), "system");
    insta::assert_snapshot!(text(&mut m, 60, 20));
}

#[test]
fn stream_screen_and_help_overlay() {
    let mut m = Model::new(
        Shape::Stream,
        "beta:sessions:events stream".into(),
        json!({"id": "sevt_1", "type": "session.status_running", "processed_at": "2026-11-28T12:00:00Z"}),
    );
    m.push(json!({"id": "sevt_2", "type": "agent.message", "content": [{"type": "text", "text": "Hello"}], "processed_at": "2026-11-28T12:00:01Z"}));
    insta::assert_snapshot!("stream", text(&mut m, 80, 16));
    press(&mut m, "?");
    insta::assert_snapshot!("help", text(&mut m, 80, 24));
}

#[test]
fn the_detail_pane_expands_tabs_and_blanks_control_characters() {
    let mut m = Model::new(
        Shape::One,
        "t".into(),
        json!({"s": "name\tvalue\nab\tc\u{1b}[2Jd"}),
    );
    let shown = text(&mut m, 40, 20);
    assert!(shown.contains("name    value"), "{shown}");
    assert!(shown.contains("ab      c [2Jd"), "{shown}");
}

#[test]
fn the_header_counts_in_words() {
    let mut s = Model::new(Shape::Stream, "t".into(), json!({"id": "sevt_1"}));
    let header = |m: &mut Model| {
        text(m, 80, 24)
            .lines()
            .next()
            .unwrap()
            .trim_matches('"')
            .trim_end()
            .to_string()
    };
    assert!(
        header(&mut s).ends_with("1/1  1 event · live"),
        "{}",
        header(&mut s)
    );
    s.push(json!({"id": "sevt_2"}));
    assert!(header(&mut s).ends_with("2 events · live"));
    let mut l = list(1);
    assert!(
        header(&mut l).ends_with("1 item · loading…"),
        "{}",
        header(&mut l)
    );
}

#[test]
fn tiny_screens_and_resizes_do_not_break() {
    let mut m = list(5);
    for (w, h) in [(80, 24), (20, 5), (9, 2), (200, 60), (80, 24)] {
        let shown = text(&mut m, w, h);
        assert_eq!(shown.lines().count(), h as usize);
    }
}

#[test]
fn no_color_draws_no_colours_but_keeps_the_selection_visible() {
    use ratatui::style::{Color, Modifier};
    let mut m = list(3);
    let t = screen(&mut m, 80, 24, false);
    let buf = t.backend().buffer();
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    // Row 2 is the first agent: selected, in reverse video.
    assert!(buf[(0, 2)].modifier.contains(Modifier::REVERSED));
    let t = screen(&mut m, 80, 24, true);
    assert!(
        t.backend()
            .buffer()
            .content
            .iter()
            .any(|c| c.fg != Color::Reset)
    );
}
