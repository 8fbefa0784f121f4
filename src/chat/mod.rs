//! `ant beta:sessions run` at a terminal without `-m`: a chat with the
//! agent. Each entry at the prompt (rustyline: line editing, and history
//! per session under the state directory) is one turn, run by
//! [`crate::stream::turn`] exactly as `run` runs one, confirmations
//! included. Ctrl-C during a turn interrupts it and returns to the prompt;
//! at the prompt it clears the line; Ctrl-D or `/exit` leaves with exit 0.

pub mod prompt;

use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Cmd, Editor, EventHandler, KeyCode, KeyEvent, Modifiers};
use serde_json::json;

use crate::api::Operation;
use crate::error::{Error, Result, one_line};
use crate::http::Client;
use crate::output::OutputOptions;
use crate::request::direct::build_with;
use crate::stream::confirm::Approve;
use crate::stream::sink::event_sink;
use crate::stream::turn::{self, Session, Turn};
use prompt::Entry;

/// Everything a chat needs.
pub struct Chat<'a> {
    pub client: &'a Client,
    pub opts: &'a OutputOptions,
    /// The events stream operation (its sink renders each turn).
    pub stream_op: &'static Operation,
    pub session: Session,
    pub approve: Approve,
    pub reconnect: bool,
    pub verbose: bool,
}

impl Chat<'_> {
    /// Opens (or creates) the session, then reads and runs turns until the
    /// user leaves. Errors that end a turn are shown and the prompt
    /// returns; a session that is gone, or credentials that fail, end the chat.
    pub fn run(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("cannot start runtime: {e}")))?;
        let sid = runtime.block_on(self.open())?;
        eprintln!("Session ID: {sid}");
        eprintln!("{}", prompt::KEYS);
        eprintln!("/help lists the prompt's commands.");
        let mut editor = editor()?;
        let history = history_file(&sid);
        if let Some(path) = &history {
            // A missing or unreadable history is no reason not to chat.
            let _ = editor.load_history(path);
        }
        loop {
            let input = match editor.readline("> ") {
                Ok(input) => input,
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(Error::Io(format!("reading the prompt: {e}"))),
            };
            let entry = prompt::parse(&input);
            if entry != Entry::Empty {
                let _ = editor.add_history_entry(input.trim_end());
                if let Some(path) = &history {
                    let _ = editor.append_history(path);
                }
            }
            match entry {
                Entry::Empty => {}
                Entry::Help => eprintln!("{}", prompt::help()),
                Entry::Exit => break,
                Entry::Session => eprintln!("Session ID: {sid}\n{}", continue_hint(&sid)),
                Entry::Unknown(word) => eprintln!(
                    "{word} is not a prompt command (/help lists them); to send text that starts with '/', type '//'"
                ),
                Entry::Text(text) => runtime.block_on(self.turn(&sid, text))?,
            }
        }
        eprintln!("{}", continue_hint(&sid));
        Ok(())
    }

    /// The session's ID: a new session is created; a given one is checked,
    /// so a wrong ID fails before the first prompt.
    async fn open(&self) -> Result<String> {
        if let Session::Existing(id) = &self.session {
            let req = build_with("beta:sessions", "retrieve", &[("session-id", json!(id))])?;
            let resp = self.client.send(&req, "application/json").await?;
            self.client.read_body(resp, "reading the session").await?;
        }
        turn::session_id(self.client, &self.session).await
    }

    /// Runs one turn; an error that leaves the session usable is shown and
    /// the chat goes on.
    async fn turn(&self, sid: &str, text: String) -> Result<()> {
        let turn = Turn {
            client: self.client,
            session: Session::Existing(sid.to_string()),
            text,
            reconnect: self.reconnect,
            approve: self.approve,
            deltas: crate::stream::sink::readable(self.opts) && self.opts.term.stdout_tty,
            chat: true,
        };
        let mut sink = event_sink(self.stream_op, self.opts, self.verbose);
        match turn.run(&mut *sink).await {
            Ok(()) => Ok(()),
            Err(Error::Interrupted) => {
                eprintln!("Interrupted; back to the prompt.");
                Ok(())
            }
            Err(e) if ends_chat(&e) => Err(e),
            Err(e) => {
                eprintln!("ant: {}", one_line(&e.to_string()));
                Ok(())
            }
        }
    }
}

/// Errors after which no further turn can work: the session is gone, or
/// the credentials are refused.
fn ends_chat(e: &Error) -> bool {
    match e {
        Error::Terminated(_) | Error::Auth(_) => true,
        Error::Api(a) => matches!(a.status, 401 | 403 | 404),
        _ => false,
    }
}

fn continue_hint(sid: &str) -> String {
    format!("Continue with: ant beta:sessions run --session-id {sid}")
}

/// Enter sends, unless the line ends in `\`; Alt-Enter adds a line.
struct Helper;

impl Validator for Helper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if prompt::continues(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl rustyline::completion::Completer for Helper {
    type Candidate = String;
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}

impl rustyline::highlight::Highlighter for Helper {}

impl rustyline::Helper for Helper {}

fn editor() -> Result<Editor<Helper, rustyline::history::DefaultHistory>> {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(1000)
        .map_err(|e| Error::Other(format!("setting up the prompt: {e}")))?
        .build();
    let mut editor = Editor::with_config(config)
        .map_err(|e| Error::Other(format!("setting up the prompt: {e}")))?;
    editor.set_helper(Some(Helper));
    editor.bind_sequence(
        KeyEvent(KeyCode::Enter, Modifiers::ALT),
        EventHandler::Simple(Cmd::Newline),
    );
    Ok(editor)
}

/// `$XDG_STATE_HOME/ant/chat-history/<session>`, else under
/// `~/.local/state`; the directories are made private (0700). `None` when
/// there is no home to keep it in.
fn history_file(session_id: &str) -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let state = var("XDG_STATE_HOME").or_else(|| var("HOME").map(|h| h.join(".local/state")))?;
    let dir = state.join("ant").join("chat-history");
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    Some(dir.join(prompt::file_name(session_id)))
}
