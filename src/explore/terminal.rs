//! The terminal side of the explorer: raw mode and the alternate screen
//! (and stderr held back meanwhile, see [`stderr`]), put back on every way out (quit, error, panic, SIGTERM or SIGHUP, a
//! terminal that stops answering), and the loop that draws, reads keys and
//! takes in new values.
//!
//! The loop sleeps in `poll(2)` on the terminal and on a wake-up socket that
//! new values, the command and signals (SIGTERM, SIGHUP, SIGWINCH) write to:
//! it uses no CPU while nothing happens. Keys come from the controlling
//! terminal (`/dev/tty`), as crossterm reads them, even when stdin is
//! redirected. crossterm's reader spins forever on a terminal that hung up,
//! so the loop looks before it reads, and a watcher thread ends the process
//! when the terminal hangs up at any other moment.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once, OnceLock, mpsc};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::{cursor, execute, terminal};
use tokio::sync::watch;

use super::model::Model;
use super::{Demand, Exit, Msg, OnExit, draw, stderr};
use crate::error::{Error, Result};

/// The terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A signal that asked us to stop (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The terminal was resized (SIGWINCH).
static RESIZED: AtomicBool = AtomicBool::new(false);
/// The file descriptor keys are read from (-1 until the explorer opens).
static TTY_FD: AtomicI32 = AtomicI32::new(-1);
/// The two ends of the wake-up socket, for the signal handler (-1: none).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
static WAKE_RX_FD: AtomicI32 = AtomicI32::new(-1);
/// Signals handled while the explorer is open, with what was there before.
static SAVED: Mutex<Vec<(i32, libc::sigaction)>> = Mutex::new(Vec::new());
const SIGNALS: [i32; 3] = [libc::SIGTERM, libc::SIGHUP, libc::SIGWINCH];

/// How the loop ended.
pub enum Ending {
    User(Exit),
    /// The command stopped the explorer (it failed or was cancelled).
    Stopped,
    /// SIGTERM or SIGHUP.
    Signal(i32),
}

/// The wake-up socket pair: the loop sleeps on `rx`; anything that has news
/// for it writes a byte to `tx`. One per process, never closed, so the
/// signal handler can always write to it.
struct Wake {
    rx: UnixStream,
    /// Kept open for [`wake`], which writes to its descriptor.
    _tx: UnixStream,
}

fn wake_pair() -> Result<&'static Wake> {
    static WAKE: OnceLock<std::io::Result<Wake>> = OnceLock::new();
    let made = WAKE.get_or_init(|| {
        let (rx, tx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        WAKE_FD.store(tx.as_raw_fd(), Ordering::SeqCst);
        WAKE_RX_FD.store(rx.as_raw_fd(), Ordering::SeqCst);
        Ok(Wake { rx, _tx: tx })
    });
    made.as_ref()
        .map_err(|e| Error::Io(format!("--format explore cannot start: {e}")))
}

/// Wakes the loop up (async-signal-safe; a full socket already has a wake-up
/// waiting, so a failed write loses nothing).
pub fn wake() {
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: writing one byte from a valid buffer to our own socket.
        unsafe { libc::write(fd, b"!".as_ptr().cast(), 1) };
    }
}

/// The controlling terminal, opened for the loop to wait on: the terminal
/// crossterm reads keys from, whatever stdin is.
fn open_tty() -> Option<File> {
    File::options().read(true).write(true).open("/dev/tty").ok()
}

/// Raw mode, the alternate screen, no cursor; and the handlers that put
/// them back on a panic or a termination signal.
pub fn enter() -> Result<()> {
    static HOOK: Once = Once::new();
    static TTY: OnceLock<Option<File>> = OnceLock::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            leave();
            previous(info);
        }));
    });
    wake_pair()?;
    let fd = TTY
        .get_or_init(open_tty)
        .as_ref()
        .map_or(libc::STDIN_FILENO, File::as_raw_fd);
    if TTY_FD.swap(fd, Ordering::SeqCst) < 0 {
        watch_for_hangup(fd);
    }
    SIGNAL.store(0, Ordering::SeqCst);
    RESIZED.store(false, Ordering::SeqCst);
    let fail = |e: std::io::Error| {
        leave();
        Error::Io(format!("--format explore cannot use the terminal: {e}"))
    };
    if hung_up() {
        return Err(fail(std::io::Error::other("it hung up")));
    }
    // Let crossterm set up its reader (and its own SIGWINCH handler) first,
    // so that ours, installed next, is the one that runs.
    event::poll(Duration::ZERO).map_err(fail)?;
    catch_signals();
    terminal::enable_raw_mode().map_err(fail)?;
    ACTIVE.store(true, Ordering::SeqCst);
    stderr::hold();
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        cursor::Hide
    )
    .map_err(fail)
}

/// Ends the process as soon as the terminal hangs up while the explorer is
/// open, whatever the explorer is doing then: crossterm, once asked to read
/// a hung-up terminal, never returns. The thread sleeps in `poll(2)` until
/// then (asking for no events still reports a hang-up).
fn watch_for_hangup(fd: i32) {
    let _ = std::thread::Builder::new()
        .name("explore-hangup".into())
        .spawn(move || {
            let mut tty = libc::pollfd {
                fd,
                events: 0,
                revents: 0,
            };
            loop {
                // SAFETY: one valid pollfd for the duration of the call.
                let ready = unsafe { libc::poll(&mut tty, 1, -1) };
                if ready > 0 && gone(&tty) {
                    break;
                }
                if ready < 0
                    && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    return;
                }
            }
            if ACTIVE.load(Ordering::SeqCst) {
                // SAFETY: ending the process; the terminal to restore is gone.
                unsafe { libc::_exit(128 + libc::SIGHUP) };
            }
        });
}

/// Puts the terminal back (once; safe to call from anywhere, any time).
pub fn leave() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }
    stderr::release();
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
    if sig == libc::SIGWINCH {
        RESIZED.store(true, Ordering::SeqCst);
    } else if sig == libc::SIGHUP && hung_up() {
        // The terminal is gone, so there is nothing to restore, and a key
        // read in progress would never return: leave now.
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + libc::SIGHUP) };
    } else {
        SIGNAL.store(sig, Ordering::SeqCst);
    }
    wake();
}

fn catch_signals() {
    let Ok(mut saved) = SAVED.lock() else {
        return;
    };
    if !saved.is_empty() {
        return;
    }
    for sig in SIGNALS {
        // SAFETY: installing a handler that only stores to atomics, polls
        // and writes (all async-signal-safe), keeping the previous action
        // to put back.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
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

/// Test switch: `ANT_TEST_PANIC_IN_EXPLORER=1` makes the first key panic,
/// so the tests can check the panic path in a real terminal.
fn panic_on_key() -> bool {
    std::env::var_os("ANT_TEST_PANIC_IN_EXPLORER").is_some_and(|v| v == "1")
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
    let mut wake_rx = &wake_pair()?.rx;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout())).map_err(io)?;
    let panic_on_key = panic_on_key();
    let mut dirty = true;
    loop {
        loop {
            match rx.try_recv() {
                Ok(Msg::Item(v)) => model.push(v),
                Ok(Msg::End) => model.end(),
                Ok(Msg::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                    return Ok(Ending::Stopped);
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
            dirty = true;
        }
        let sig = SIGNAL.swap(0, Ordering::SeqCst);
        if sig != 0 {
            return Ok(Ending::Signal(sig));
        }
        // Drawing looks up the terminal's size.
        dirty |= RESIZED.swap(false, Ordering::SeqCst);
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
        // crossterm's reader spins forever on a terminal that hung up (its
        // reads return nothing): look first, and wait for input ourselves.
        if hung_up() {
            return Ok(Ending::Signal(libc::SIGHUP));
        }
        if !event::poll(Duration::ZERO).map_err(io)? {
            // Nothing parsed yet: sleep until a key, a value or a signal.
            if let Input::HungUp = wait_for_input() {
                return Ok(Ending::Signal(libc::SIGHUP));
            }
            let mut drain = [0u8; 64];
            while matches!(wake_rx.read(&mut drain), Ok(n) if n > 0) {}
            continue;
        }
        match event::read().map_err(io)? {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                if panic_on_key {
                    panic!("ANT_TEST_PANIC_IN_EXPLORER is set");
                }
                if let Some(exit) = model.key(k) {
                    return Ok(Ending::User(exit));
                }
                dirty = true;
            }
            Event::Resize(..) => dirty = true,
            _ => {}
        }
    }
}

enum Input {
    /// A key is waiting, or something woke the loop up.
    Ready,
    HungUp,
}

/// Sleeps until there is input on the terminal, a wake-up or a signal.
fn wait_for_input() -> Input {
    let mut fds = [
        pollin(TTY_FD.load(Ordering::SeqCst)),
        pollin(WAKE_RX_FD.load(Ordering::SeqCst)),
    ];
    // SAFETY: valid pollfds for the duration of the call.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
    if ready > 0 && gone(&fds[0]) {
        Input::HungUp
    } else {
        Input::Ready // a key, a wake-up or a signal: the loop looks at each
    }
}

/// Whether the terminal hung up, without waiting (async-signal-safe).
fn hung_up() -> bool {
    let mut fd = pollin(TTY_FD.load(Ordering::SeqCst));
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut fd, 1, 0) > 0 && gone(&fd) }
}

fn pollin(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn gone(fd: &libc::pollfd) -> bool {
    fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}
