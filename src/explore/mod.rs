//! `--format explore`: an interactive explorer of what a command returns,
//! drawn with ratatui on the alternate screen. It opens on the first value,
//! asks for more list pages only as the cursor nears the end, appends live
//! stream events without moving the cursor, and restores the terminal on
//! every way out. The rest of `ant` sees it only as a printer (`output/`).
//!
//! The terminal loop runs on its own thread; values come in over a channel,
//! and the wish for more items goes out through a `watch` the paging loop
//! awaits ([`Session::wants`]).

mod columns;
pub mod draw;
pub mod model;
mod stderr;
mod terminal;
mod tree;

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use serde_json::Value;
use tokio::sync::watch;

use crate::error::{Error, Result};

/// What is explored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One response (`retrieve`, `create`...): a tree, or a table for an array of objects.
    One,
    /// The items of a list, fetched page by page on demand.
    List,
    /// Live events, appended as they arrive.
    Stream,
}

/// How the user left the explorer.
#[derive(Clone, Debug, PartialEq)]
pub enum Exit {
    Quit,
    /// `p`: print this value.
    Print(Value),
    /// `y`: print this GJSON path.
    Path(String),
}

/// Runs once the terminal is restored: prints what `p` or `y` asked for.
pub type OnExit = Box<dyn FnOnce(&Exit) -> Result<()> + Send>;

pub struct Options {
    pub shape: Shape,
    /// The command, shown in the header.
    pub title: String,
    pub color: bool,
}

enum Msg {
    Item(Value),
    /// No more values will come.
    End,
    /// The command failed or was cancelled: close without waiting for the user.
    Stop,
}

/// How many items the explorer wants, and whether it was closed.
#[derive(Clone, Copy, Debug, Default)]
struct Demand {
    wanted: usize,
    closed: bool,
}

/// How the explorer ended, for [`closed`] and [`Session::finish`]; set once.
static RESULT: Mutex<Option<Result<()>>> = Mutex::new(None);
/// Becomes true when the explorer closed.
static CLOSED: OnceLock<watch::Sender<bool>> = OnceLock::new();

fn closed_flag() -> &'static watch::Sender<bool> {
    CLOSED.get_or_init(|| watch::Sender::new(false))
}

fn take_result() -> Result<()> {
    RESULT
        .lock()
        .map(|mut r| r.take())
        .ok()
        .flatten()
        .unwrap_or(Ok(()))
}

/// Resolves when an explorer of this process was closed by the user (or
/// failed): the command is done, even if its stream is still open.
pub async fn closed() -> Result<()> {
    let mut rx = closed_flag().subscribe();
    let _ = rx.wait_for(|c| *c).await;
    take_result()
}

/// An open explorer.
pub struct Session {
    tx: mpsc::Sender<Msg>,
    demand: watch::Receiver<Demand>,
    thread: Option<JoinHandle<()>>,
}

impl Session {
    /// Takes over the terminal and shows `first`.
    pub fn open(opts: Options, first: Value, on_exit: OnExit) -> Result<Session> {
        terminal::enter()?;
        let (tx, rx) = mpsc::channel();
        let model = model::Model::new(opts.shape, opts.title, first);
        let (demand_tx, demand) = watch::channel(Demand {
            wanted: model.loaded(),
            closed: false,
        });
        let theme = draw::Theme { color: opts.color };
        let thread = std::thread::Builder::new()
            .name("explore".into())
            .spawn(move || {
                let ending = terminal::run(model, &rx, &demand_tx, theme);
                let result = terminal::leave_with(ending, on_exit);
                if let Ok(mut r) = RESULT.lock() {
                    *r = Some(result);
                }
                demand_tx.send_modify(|d| d.closed = true);
                closed_flag().send_replace(true);
            })
            .map_err(|e| {
                terminal::leave();
                Error::Other(format!("cannot start the explorer: {e}"))
            })?;
        Ok(Session {
            tx,
            demand,
            thread: Some(thread),
        })
    }

    /// Adds a value (a list item or stream event).
    pub fn push(&self, v: Value) {
        self.send(Msg::Item(v));
    }

    fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
        terminal::wake();
    }

    /// Waits until the explorer wants more than the `delivered` items it has;
    /// false once it was closed.
    pub async fn wants(&mut self, delivered: usize) -> bool {
        match self
            .demand
            .wait_for(|d| d.closed || d.wanted > delivered)
            .await
        {
            Ok(d) => !d.closed,
            Err(_) => false,
        }
    }

    /// No more values: waits for the user to leave, then says how it ended.
    pub fn finish(mut self) -> Result<()> {
        self.send(Msg::End);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        take_result()
    }
}

impl Drop for Session {
    /// The command ended early (an error, Ctrl-C): close at once.
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.send(Msg::Stop);
            let _ = t.join();
        }
    }
}
