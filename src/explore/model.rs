//! The explorer's state and what every key does to it. No terminal here, so
//! navigation, search, raw mode and when to load more are all unit-tested.
//! A search that finds nothing in the items loaded, and `G`, go on into
//! the pages not loaded yet (as `less` does on a pipe): a [`Seek`] keeps
//! asking for more until it is satisfied, the list ends, or Esc stops it.

use std::collections::HashSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;

use super::columns::Columns;
use super::tree::{self, Path, Seg, TreeLine};
use super::{Exit, Shape};

/// The whole state of one explorer.
pub struct Model {
    /// One response, or (lists and streams) an array of the items so far.
    pub root: Value,
    pub shape: Shape,
    /// No more items will come.
    pub complete: bool,
    /// The views opened, the first showing the root.
    pub views: Vec<View>,
    pub mode: Mode,
    /// The last accepted search, for `n` and `N`.
    pub last_search: Option<String>,
    /// A one-line note for the status bar (cleared by the next key).
    pub message: Option<String>,
    /// Rows the main area showed at the last draw (lazy loading, paging).
    pub page: usize,
    /// The command, shown in the header.
    pub title: String,
    /// A search or `G` waiting for pages not loaded yet.
    pub seek: Option<Seek>,
}

/// What the explorer loads more pages for, beyond the cursor's needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Seek {
    /// A search: `query` in the items from `from` on; `origin` is where it
    /// started, where it wraps to when the list ends without a match.
    Search {
        query: String,
        origin: usize,
        from: usize,
    },
    /// `G`: the last item, however many pages away.
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a search; `origin` is where the cursor was before.
    Search {
        query: String,
        origin: usize,
    },
    Help,
}

/// One view: a table or tree of the value at `path`, or its raw JSON.
pub struct View {
    pub path: Path,
    pub kind: Kind,
    pub cursor: usize,
    /// First row on screen.
    pub offset: usize,
    /// Raw JSON lines, while `r` is on.
    pub raw: Option<Raw>,
}

pub enum Kind {
    /// An array shown one element a row.
    Table(Columns),
    /// Nodes with expand and collapse.
    Tree {
        expanded: HashSet<Path>,
        lines: Vec<TreeLine>,
    },
}

/// The raw JSON of a view, and where its cursor is.
pub struct Raw {
    pub lines: Vec<String>,
    /// For the root of a list or stream: the items already in `lines`.
    items: usize,
    pub cursor: usize,
    pub offset: usize,
}

impl Model {
    /// A model holding the first value to arrive.
    pub fn new(shape: Shape, title: String, first: Value) -> Model {
        let root = match shape {
            Shape::One => first,
            Shape::List | Shape::Stream => Value::Array(vec![first]),
        };
        let mut m = Model {
            root,
            shape,
            complete: false,
            views: Vec::new(),
            mode: Mode::Normal,
            last_search: None,
            message: None,
            page: 0,
            title,
            seek: None,
        };
        let view = m.view_of(Vec::new());
        m.views.push(view);
        m.sync();
        m
    }

    /// True when the root is a sequence of items (a list or stream).
    pub fn items_root(&self) -> bool {
        self.shape != Shape::One
    }

    /// Items (or the one response) received so far.
    pub fn loaded(&self) -> usize {
        match (&self.root, self.shape) {
            (Value::Array(a), Shape::List | Shape::Stream) => a.len(),
            _ => 1,
        }
    }

    /// Appends an item of a list or stream; the cursor stays where it is
    /// (unless a search or `G` was waiting for it).
    pub fn push(&mut self, v: Value) {
        let items = self.items_root();
        if let Value::Array(a) = &mut self.root
            && items
        {
            a.push(v);
        } else {
            self.root = v;
        }
        self.sync();
        self.advance_seek();
    }

    /// No more items will come: a search still waiting wraps around (or
    /// finds nothing); `G` is at the end.
    pub fn end(&mut self) {
        self.complete = true;
        match self.seek.take() {
            Some(Seek::Search { query, origin, .. })
                if !self.find_from(&query, origin, true, true, true) =>
            {
                self.set_root_cursor(origin);
                self.message = Some(format!("no match for {query:?} in {} items", self.loaded()));
            }
            Some(Seek::Search { .. }) => {}
            Some(Seek::End) => self.set_root_cursor(usize::MAX),
            None => {}
        }
    }

    /// Whether a search or `G` can go on into pages not loaded yet: on the
    /// root table of a list that has more.
    fn seekable(&self) -> bool {
        self.shape == Shape::List
            && !self.complete
            && self.views.len() == 1
            && self.views[0].raw.is_none()
    }

    /// Takes in the items that arrived for a waiting search or `G`.
    fn advance_seek(&mut self) {
        match self.seek.clone() {
            Some(Seek::Search {
                query,
                origin,
                from,
            }) => {
                let loaded = self.loaded();
                let needle = query.to_lowercase();
                let hit = (from..loaded)
                    .find(|&i| self.root.get(i).is_some_and(|v| tree::contains(v, &needle)));
                match hit {
                    Some(i) => {
                        self.set_root_cursor(i);
                        self.seek = None;
                    }
                    None => {
                        self.seek = Some(Seek::Search {
                            query,
                            origin,
                            from: loaded,
                        })
                    }
                }
            }
            Some(Seek::End) => self.set_root_cursor(usize::MAX),
            None => {}
        }
    }

    fn set_root_cursor(&mut self, to: usize) {
        let rows = self.rows_of(&self.views[0]);
        self.views[0].cursor = to.min(rows.saturating_sub(1));
    }

    /// What the status line says while a search or `G` loads more.
    pub fn seek_status(&self) -> Option<String> {
        let loaded = self.loaded();
        match &self.seek {
            Some(Seek::Search { query, .. }) => Some(format!(
                "searching for {query:?}… {loaded} items loaded (esc stops)"
            )),
            Some(Seek::End) => Some(format!(
                "going to the end… {loaded} items loaded (esc stops)"
            )),
            None => None,
        }
    }

    /// Brings derived data (columns, raw lines of the root) up to date.
    fn sync(&mut self) {
        let root = &self.root;
        let Some(view) = self.views.first_mut() else {
            return;
        };
        if let (Kind::Table(cols), Some(Value::Array(rows))) =
            (&mut view.kind, tree::get(root, &view.path))
        {
            cols.update(rows);
        }
        if let Some(raw) = &mut view.raw {
            extend_raw(raw, root, &view.path, self.shape != Shape::One);
        }
    }

    /// How many items the explorer wants loaded: one more than it has when
    /// the cursor of the root view is within a screen of its end.
    pub fn wanted(&self) -> usize {
        let loaded = self.loaded();
        if self.shape != Shape::List || self.complete {
            return loaded;
        }
        if self.seek.is_some() {
            return loaded + 1;
        }
        let root = &self.views[0];
        let rows = self.rows_of(root);
        let cursor = root.raw.as_ref().map_or(root.cursor, |r| r.cursor);
        if cursor + self.page.max(1) >= rows {
            loaded + 1
        } else {
            loaded
        }
    }

    /// A page is being fetched: the root table shows a "loading…" row.
    pub fn loading(&self) -> bool {
        self.wanted() > self.loaded()
    }

    pub fn view(&self) -> &View {
        self.views.last().expect("a view")
    }

    fn view_mut(&mut self) -> &mut View {
        self.views.last_mut().expect("a view")
    }

    /// The view that fits the value at `path`: a table for the root of a
    /// list or stream and for arrays of objects, else a tree.
    fn view_of(&self, path: Path) -> View {
        let v = tree::get(&self.root, &path);
        let table = (path.is_empty() && self.items_root())
            || matches!(v, Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_object));
        let kind = if table {
            let mut cols = Columns::default();
            if let Some(Value::Array(rows)) = v {
                cols.update(rows);
            }
            Kind::Table(cols)
        } else {
            let expanded = HashSet::new();
            let lines = tree::lines(&self.root, &path, &expanded);
            Kind::Tree { expanded, lines }
        };
        View {
            path,
            kind,
            cursor: 0,
            offset: 0,
            raw: None,
        }
    }

    /// Rows of a view as shown (raw lines when raw is on).
    pub fn rows_of(&self, view: &View) -> usize {
        if let Some(raw) = &view.raw {
            return raw.lines.len();
        }
        match &view.kind {
            Kind::Table(_) => match tree::get(&self.root, &view.path) {
                Some(Value::Array(a)) => a.len(),
                _ => 0,
            },
            Kind::Tree { lines, .. } => lines.len(),
        }
    }

    /// The path of what the cursor is on.
    pub fn selected_path(&self) -> Path {
        let view = self.view();
        if view.raw.is_some() {
            return view.path.clone();
        }
        match &view.kind {
            Kind::Table(_) => {
                let mut p = view.path.clone();
                p.push(Seg::Index(view.cursor));
                p
            }
            Kind::Tree { lines, .. } => lines
                .get(view.cursor)
                .map_or_else(|| view.path.clone(), |l| l.path.clone()),
        }
    }

    pub fn selected(&self) -> Option<&Value> {
        tree::get(&self.root, &self.selected_path())
    }

    /// The selection's path as `--transform` takes it: for lists and
    /// streams relative to the item, since the transform applies to each.
    pub fn selected_gjson(&self) -> String {
        let path = self.selected_path();
        let rel = if self.items_root() && !path.is_empty() {
            &path[1..]
        } else {
            &path[..]
        };
        tree::gjson_path(rel)
    }

    /// Handles one key; `Some` when the explorer should close.
    pub fn key(&mut self, k: KeyEvent) -> Option<Exit> {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && k.code == KeyCode::Char('c') {
            return Some(Exit::Quit);
        }
        self.message = None;
        // A search or `G` loading more: Esc stops it where it is; any other
        // key stops it too, and does what it does.
        if let Some(seek) = self.seek.take()
            && k.code == KeyCode::Esc
        {
            let what = match seek {
                Seek::Search { .. } => "search",
                Seek::End => "G",
            };
            self.message = Some(format!("{what} stopped at {} items", self.loaded()));
            return None;
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Help => None,
            Mode::Search { query, origin } => {
                self.search_key(k, query, origin);
                None
            }
            Mode::Normal => self.normal_key(k, ctrl),
        }
    }

    fn normal_key(&mut self, k: KeyEvent, ctrl: bool) -> Option<Exit> {
        let page = self.page.max(1);
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => return Some(Exit::Quit),
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-(page as isize)),
            KeyCode::PageDown => self.move_by(page as isize),
            KeyCode::Char('u') if ctrl => self.move_by(-(page as isize / 2).max(1)),
            KeyCode::Char('d') if ctrl => self.move_by((page as isize / 2).max(1)),
            KeyCode::Home | KeyCode::Char('g') => self.move_to(0),
            KeyCode::End | KeyCode::Char('G') => {
                self.move_to(usize::MAX);
                if self.seekable() {
                    self.seek = Some(Seek::End);
                }
            }
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Enter => self.open(),
            KeyCode::Left | KeyCode::Char('h') | KeyCode::Backspace => self.back(),
            KeyCode::Char('r') => self.toggle_raw(),
            KeyCode::Char('p') => return self.selected().cloned().map(Exit::Print),
            KeyCode::Char('y') => return Some(Exit::Path(self.selected_gjson())),
            KeyCode::Char('/') => {
                self.mode = Mode::Search {
                    query: String::new(),
                    origin: self.cursor(),
                }
            }
            KeyCode::Char('n') => self.repeat_search(true),
            KeyCode::Char('N') => self.repeat_search(false),
            KeyCode::Char('?') => self.mode = Mode::Help,
            _ => {}
        }
        None
    }

    fn search_key(&mut self, k: KeyEvent, mut query: String, origin: usize) {
        match k.code {
            KeyCode::Esc => {
                self.set_cursor(origin);
                return;
            }
            KeyCode::Enter => {
                if !query.is_empty() {
                    self.search(&query, origin, true);
                    self.last_search = Some(query);
                }
                return;
            }
            KeyCode::Backspace => {
                query.pop();
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => query.push(c),
            _ => {}
        }
        if query.is_empty() || !self.find_from(&query, origin, true, true, true) {
            self.set_cursor(origin);
        }
        self.mode = Mode::Search { query, origin };
    }

    /// A search forwards from `from` (included when `here`): in a list with
    /// more pages, past the items loaded rather than around to the top.
    fn search(&mut self, query: &str, from: usize, here: bool) {
        if !self.seekable() {
            if !self.find_from(query, from, true, here, true) {
                self.message = Some(self.no_match(query));
            }
            return;
        }
        if !self.find_from(query, from, true, here, false) {
            self.set_cursor(from);
            self.seek = Some(Seek::Search {
                query: query.to_string(),
                origin: from,
                from: self.loaded(),
            });
        }
    }

    fn repeat_search(&mut self, forward: bool) {
        let Some(q) = self.last_search.clone() else {
            self.message = Some("no search yet: press / to search".into());
            return;
        };
        if forward {
            self.search(&q, self.cursor(), false);
        } else if !self.find_from(&q, self.cursor(), false, false, true) {
            self.message = Some(self.no_match(&q));
        }
    }

    fn no_match(&self, q: &str) -> String {
        if self.items_root() && self.views.len() == 1 && !self.complete {
            format!("no match for {q:?} in the {} items loaded", self.loaded())
        } else {
            format!("no match for {q:?}")
        }
    }

    /// The cursor of the current view (raw or not).
    pub fn cursor(&self) -> usize {
        let v = self.view();
        v.raw.as_ref().map_or(v.cursor, |r| r.cursor)
    }

    fn set_cursor(&mut self, to: usize) {
        let rows = self.rows_of(self.view());
        let to = to.min(rows.saturating_sub(1));
        let v = self.view_mut();
        match &mut v.raw {
            Some(r) => r.cursor = to,
            None => v.cursor = to,
        }
    }

    fn move_by(&mut self, delta: isize) {
        let to = self.cursor().saturating_add_signed(delta);
        self.set_cursor(to);
    }

    fn move_to(&mut self, to: usize) {
        self.set_cursor(to);
    }

    /// →: in a table, open the row; in a tree, expand the node, or step
    /// into it when it is open already.
    fn open(&mut self) {
        if self.view().raw.is_some() {
            return;
        }
        let path = self.selected_path();
        let Some(v) = tree::get(&self.root, &path) else {
            return;
        };
        if !tree::expandable(v) {
            return;
        }
        let root = &self.root;
        let view = self.views.last_mut().expect("a view");
        match &mut view.kind {
            Kind::Table(_) => {
                let next = self.view_of(path);
                self.views.push(next);
            }
            Kind::Tree { expanded, lines } => {
                if expanded.insert(path.clone()) {
                    *lines = tree::lines(root, &view.path, expanded);
                } else {
                    view.cursor = (view.cursor + 1).min(lines.len().saturating_sub(1));
                }
            }
        }
    }

    /// ←: in a tree, collapse the node or go to its parent; at the top of a
    /// view, go back to the view before.
    fn back(&mut self) {
        let root = &self.root;
        let depth = self.views.len();
        let view = self.views.last_mut().expect("a view");
        if view.raw.is_some() {
            view.raw = None;
            return;
        }
        if let Kind::Tree { expanded, lines } = &mut view.kind
            && let Some(line) = lines.get(view.cursor).cloned()
        {
            if expanded.remove(&line.path) {
                *lines = tree::lines(root, &view.path, expanded);
                return;
            }
            if line.depth > 0 {
                let parent = &line.path[..line.path.len() - 1];
                if let Some(i) = lines.iter().position(|l| l.path == parent) {
                    view.cursor = i;
                }
                return;
            }
        }
        if depth > 1 {
            self.views.pop();
        }
    }

    fn toggle_raw(&mut self) {
        let items = self.items_root();
        let root = &self.root;
        let view = self.views.last_mut().expect("a view");
        if view.raw.take().is_some() {
            return;
        }
        let mut raw = Raw {
            lines: Vec::new(),
            items: 0,
            cursor: 0,
            offset: 0,
        };
        extend_raw(&mut raw, root, &view.path, items);
        view.raw = Some(raw);
    }

    /// Moves the cursor to the next (or previous) row matching `query`,
    /// starting at `from` (included when `here`), wrapping around when `wrap`.
    fn find_from(
        &mut self,
        query: &str,
        from: usize,
        forward: bool,
        here: bool,
        wrap: bool,
    ) -> bool {
        let needle = query.to_lowercase();
        let view = self.view();
        if let (None, Kind::Tree { .. }) = (&view.raw, &view.kind) {
            return self.find_in_tree(&needle, from, forward, here);
        }
        let rows = self.rows_of(view);
        let hit = |i: usize| -> bool {
            if let Some(raw) = &view.raw {
                return tree::lower_contains(&raw.lines[i], &needle);
            }
            let mut p = view.path.clone();
            p.push(Seg::Index(i));
            tree::get(&self.root, &p).is_some_and(|v| tree::contains(v, &needle))
        };
        let stop = |i: &usize| wrap || (if forward { *i >= from } else { *i <= from });
        match cycle(rows, from, forward, here)
            .take_while(stop)
            .find(|&i| hit(i))
        {
            Some(i) => {
                self.set_cursor(i);
                true
            }
            None => false,
        }
    }

    /// Search in a tree covers collapsed nodes too: a match inside one
    /// opens its parents.
    fn find_in_tree(&mut self, needle: &str, from: usize, forward: bool, here: bool) -> bool {
        let view = self.view();
        let Some(base) = tree::get(&self.root, &view.path) else {
            return false;
        };
        let mut all: Vec<(Path, bool)> = Vec::new();
        let mut path = view.path.clone();
        tree::walk(base, &mut path, 0, &mut |p, _, v| {
            let key = p.last().map(tree::label).unwrap_or_default();
            let scalar = !matches!(v, Value::Object(_) | Value::Array(_));
            let hit = tree::lower_contains(&key, needle) || (scalar && tree::contains(v, needle));
            all.push((p.to_vec(), hit));
            true
        });
        let Kind::Tree { lines, .. } = &view.kind else {
            return false;
        };
        let start = lines
            .get(from)
            .and_then(|l| all.iter().position(|(p, _)| *p == l.path))
            .unwrap_or(0);
        let Some(i) = cycle(all.len(), start, forward, here).find(|&i| all[i].1) else {
            return false;
        };
        let target = all.swap_remove(i).0;
        let root = &self.root;
        let view = self.views.last_mut().expect("a view");
        if let Kind::Tree { expanded, lines } = &mut view.kind {
            for n in view.path.len() + 1..target.len() {
                expanded.insert(target[..n].to_vec());
            }
            *lines = tree::lines(root, &view.path, expanded);
            if let Some(at) = lines.iter().position(|l| l.path == target) {
                view.cursor = at;
            }
        }
        true
    }
}

/// Row indexes from `from` onwards (or backwards), wrapping, each once.
fn cycle(rows: usize, from: usize, forward: bool, here: bool) -> impl Iterator<Item = usize> {
    let start = if here { 0 } else { 1 };
    (start..rows + start)
        .map(move |step| {
            if rows == 0 {
                0
            } else if forward {
                (from + step) % rows
            } else {
                (from + rows * 2 - step % rows) % rows
            }
        })
        .take(rows)
}

/// Adds the pretty JSON of what is new at `path` to `raw`: for the root of
/// a list or stream each new item, otherwise the whole value once.
fn extend_raw(raw: &mut Raw, root: &Value, path: &[Seg], items: bool) {
    let Some(v) = tree::get(root, path) else {
        return;
    };
    match v {
        Value::Array(all) if items && path.is_empty() => {
            for item in &all[raw.items..] {
                let text = serde_json::to_string_pretty(item).unwrap_or_default();
                raw.lines.extend(text.lines().map(String::from));
            }
            raw.items = all.len();
        }
        _ if raw.items == 0 => {
            let text = serde_json::to_string_pretty(v).unwrap_or_default();
            raw.lines = text.lines().map(String::from).collect();
            raw.items = 1;
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
