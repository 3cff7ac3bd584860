//! Everything `dpm` writes on stdout goes through here, and none of it
//! panics. `print!` and `println!` in this crate are this module's macros
//! (imported by name where output is written, which shadows std's; clippy's
//! `disallowed_macros` in `dpm-cli/clippy.toml` refuses std's).
//!
//! A closed stdout (the reader of a pipe went away: `dpm list | head -1`)
//! ends the output quietly: nothing more is written, the command finishes
//! what it was doing, and `dpm` exits with status 141 (128 + SIGPIPE, what a
//! shell shows for a program that SIGPIPE ended). Any other write error is
//! said once on stderr, and the status is 1.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OPEN);

/// What became of stdout, when not all output could be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The reader went away (`EPIPE`).
    Closed,
    /// Another write error, said on stderr.
    Failed,
}

impl Lost {
    /// The exit status it makes.
    pub fn exit_code(self) -> u8 {
        match self {
            Lost::Closed => 141,
            Lost::Failed => 1,
        }
    }
}

/// Whether all output so far was written; once it was not, nothing more is.
pub fn lost() -> Option<Lost> {
    match STATE.load(Ordering::Relaxed) {
        CLOSED => Some(Lost::Closed),
        FAILED => Some(Lost::Failed),
        _ => None,
    }
}

/// Writes formatted text to stdout (flushed at once, so that an error is
/// seen now and not at exit, where it would go unnoticed).
pub fn write_fmt(args: fmt::Arguments<'_>) {
    write_with(|o| o.write_fmt(args));
}

/// Writes bytes to stdout.
pub fn write_bytes(bytes: &[u8]) {
    write_with(|o| o.write_all(bytes));
}

fn write_with(f: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    if lost().is_some() {
        return;
    }
    let mut o = io::stdout().lock();
    if let Err(e) = f(&mut o).and_then(|()| o.flush()) {
        note(&e);
    }
}

/// Records a write error: a closed stdout silently, anything else on
/// stderr once.
fn note(e: &io::Error) {
    let state = if e.kind() == io::ErrorKind::BrokenPipe {
        CLOSED
    } else {
        FAILED
    };
    if STATE.swap(state, Ordering::Relaxed) == OPEN && state == FAILED {
        let _ = writeln!(io::stderr(), "dpm: cannot write to stdout: {e}");
    }
}

/// `print!` that never panics (see the module).
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!($($arg)*))
    };
}

/// `println!` that never panics (see the module).
macro_rules! println {
    () => {
        $crate::out::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {print, println};
