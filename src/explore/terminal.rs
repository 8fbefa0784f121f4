//! The terminal side of the explorer: raw mode and the alternate screen,
//! put back on every way out (quit, error, panic, SIGTERM or SIGHUP, a
//! terminal that stops answering), and the loop that draws, reads keys and
//! takes in new values.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once, mpsc};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::{cursor, execute, terminal};
use tokio::sync::watch;

use super::model::Model;
use super::{Demand, Exit, Msg, OnExit, draw};
use crate::error::{Error, Result};

/// The terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A signal that asked us to stop (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Signals handled while the explorer is open, with what was there before.
static SAVED: Mutex<Vec<(i32, libc::sigaction)>> = Mutex::new(Vec::new());
const SIGNALS: [i32; 2] = [libc::SIGTERM, libc::SIGHUP];
/// How long to wait for a key before looking for new values again.
const TICK: Duration = Duration::from_millis(20);

/// How the loop ended.
pub enum Ending {
    User(Exit),
    /// The command stopped the explorer (it failed or was cancelled).
    Stopped,
    /// SIGTERM or SIGHUP.
    Signal(i32),
}

/// Raw mode, the alternate screen, no cursor; and the handlers that put
/// them back on a panic or a termination signal.
pub fn enter() -> Result<()> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            leave();
            previous(info);
        }));
    });
    SIGNAL.store(0, Ordering::SeqCst);
    catch_signals();
    let fail = |e: std::io::Error| {
        leave();
        Error::Io(format!("--format explore cannot use the terminal: {e}"))
    };
    terminal::enable_raw_mode().map_err(|e| {
        release_signals();
        Error::Io(format!("--format explore cannot use the terminal: {e}"))
    })?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        cursor::Hide
    )
    .map_err(fail)
}

/// Puts the terminal back (once; safe to call from anywhere, any time).
pub fn leave() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
    release_signals();
}

/// Restores the terminal, then acts on how the loop ended: prints what the
/// user asked for, or dies of the signal that stopped it.
pub fn leave_with(ending: Result<Ending>, on_exit: OnExit) -> Result<()> {
    leave();
    match ending {
        Ok(Ending::User(exit)) => on_exit(&exit),
        Ok(Ending::Stopped) => Ok(()),
        Ok(Ending::Signal(sig)) => {
            // The terminal is back: now die of the signal as we would have.
            // SAFETY: resetting a disposition and raising a signal.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
            Err(Error::Interrupted)
        }
        Err(e) => Err(e),
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGHUP && hung_up() {
        // The terminal is gone, so there is nothing to restore, and a key
        // read in progress would never return: leave now.
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + libc::SIGHUP) };
    }
    SIGNAL.store(sig, Ordering::SeqCst);
}

fn catch_signals() {
    let Ok(mut saved) = SAVED.lock() else {
        return;
    };
    if !saved.is_empty() {
        return;
    }
    for sig in SIGNALS {
        // SAFETY: installing a handler that only stores to an atomic, and
        // keeping the previous action to put back.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, &action, &mut old) == 0 {
                saved.push((sig, old));
            }
        }
    }
}

fn release_signals() {
    let Ok(mut saved) = SAVED.lock() else {
        return;
    };
    for (sig, old) in saved.drain(..) {
        // SAFETY: putting back the action saved by `catch_signals`.
        unsafe {
            libc::sigaction(sig, &old, std::ptr::null_mut());
        }
    }
}

/// Draws, reads keys and takes in values until the user leaves, the
/// command stops the explorer, or a signal arrives.
pub fn run(
    mut model: Model,
    rx: &mpsc::Receiver<Msg>,
    demand: &watch::Sender<Demand>,
    theme: draw::Theme,
) -> Result<Ending> {
    let io = |e: std::io::Error| Error::Io(format!("explore: the terminal failed: {e}"));
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout())).map_err(io)?;
    let mut dirty = true;
    loop {
        loop {
            match rx.try_recv() {
                Ok(Msg::Item(v)) => model.push(v),
                Ok(Msg::End) => model.complete = true,
                Ok(Msg::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                    return Ok(Ending::Stopped);
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
            dirty = true;
        }
        if dirty {
            term.draw(|f| draw::draw(f, &mut model, theme))
                .map_err(io)?;
            dirty = false;
            let wanted = model.wanted();
            demand.send_if_modified(|d| {
                let changed = d.wanted != wanted;
                d.wanted = wanted;
                changed
            });
        }
        let sig = SIGNAL.swap(0, Ordering::SeqCst);
        if sig != 0 {
            return Ok(Ending::Signal(sig));
        }
        // crossterm's reader spins forever on a terminal that hung up (its
        // reads return nothing): look first, and wait for input ourselves.
        if hung_up() {
            return Ok(Ending::Signal(libc::SIGHUP));
        }
        if !event::poll(Duration::ZERO).map_err(io)? {
            // Nothing parsed yet: wait for more input (or a tick).
            if let Input::HungUp = wait_for_input(TICK) {
                return Ok(Ending::Signal(libc::SIGHUP));
            }
            continue;
        }
        match event::read().map_err(io)? {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                if let Some(exit) = model.key(k) {
                    return Ok(Ending::User(exit));
                }
                dirty = true;
            }
            Event::Resize(..) => {
                term.autoresize().map_err(io)?;
                dirty = true;
            }
            _ => {}
        }
    }
}

enum Input {
    Ready,
    Nothing,
    HungUp,
}

/// Waits up to `timeout` for input on the terminal (stdin).
fn wait_for_input(timeout: Duration) -> Input {
    let mut fds = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut fds, 1, ms) };
    if ready <= 0 {
        Input::Nothing // timeout, or a signal: the loop looks at both
    } else if fds.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Input::HungUp
    } else {
        Input::Ready
    }
}

/// Whether the terminal on stdin hung up, without waiting.
fn hung_up() -> bool {
    matches!(wait_for_input(Duration::ZERO), Input::HungUp)
}
