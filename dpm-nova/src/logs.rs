//! The Rust side's tracing events, for Python's `logging`.
//!
//! Events are formatted by `tracing-subscriber` (with their spans' fields:
//! `spawn{instance=…}: …`) into a bounded in-memory queue; the Python layer
//! drains it into `logging` on the thread that made the call, after the
//! call returns. Nothing here touches Python: under eventlet a native
//! thread must not call into eventlet-patched `logging`, and an event
//! raised on a runtime worker must never wait for the GIL.

use std::collections::VecDeque;
use std::io;
use std::sync::{Mutex, OnceLock};

use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

/// Most records kept between two drains; older ones are dropped (and
/// counted) rather than grow without bound when nobody drains.
const CAPACITY: usize = 10_000;

/// One formatted event.
#[derive(Debug, Clone)]
pub struct Record {
    /// Python's level number (DEBUG 10, INFO 20, WARNING 30, ERROR 40).
    pub level: u8,
    /// The event's target (the Rust module path).
    pub target: String,
    /// The formatted line, spans and fields included.
    pub message: String,
}

#[derive(Debug, Default)]
struct Queue {
    records: VecDeque<Record>,
    dropped: u64,
}

fn queue() -> &'static Mutex<Queue> {
    static QUEUE: OnceLock<Mutex<Queue>> = OnceLock::new();
    QUEUE.get_or_init(Mutex::default)
}

fn push(record: Record) {
    let mut q = match queue().lock() {
        Ok(q) => q,
        Err(poisoned) => poisoned.into_inner(),
    };
    if q.records.len() == CAPACITY {
        q.records.pop_front();
        q.dropped += 1;
    }
    q.records.push_back(record);
}

/// Takes every queued record, and how many were dropped since the last
/// drain.
pub fn drain() -> (Vec<Record>, u64) {
    let mut q = match queue().lock() {
        Ok(q) => q,
        Err(poisoned) => poisoned.into_inner(),
    };
    let dropped = std::mem::take(&mut q.dropped);
    (q.records.drain(..).collect(), dropped)
}

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG | Level::TRACE => 10,
    }
}

/// Hands each event's formatted bytes to the queue, with its level and
/// target.
#[derive(Debug, Clone, Copy)]
struct ToQueue;

/// The bytes of one event, queued when the formatter is done with them.
#[derive(Debug)]
struct Line {
    level: u8,
    target: String,
    bytes: Vec<u8>,
}

impl io::Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let message = String::from_utf8_lossy(&self.bytes).trim_end().to_owned();
        if !message.is_empty() {
            push(Record {
                level: self.level,
                target: std::mem::take(&mut self.target),
                message,
            });
        }
    }
}

impl<'a> MakeWriter<'a> for ToQueue {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line {
            level: 20,
            target: String::new(),
            bytes: Vec::new(),
        }
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Line {
        Line {
            level: python_level(meta.level()),
            target: meta.target().to_owned(),
            bytes: Vec::new(),
        }
    }
}

/// Installs the queueing subscriber for the process, once; `debug` keeps
/// debug events too. A process that already has a global subscriber (an
/// embedding program's) keeps it.
pub fn install(debug: bool) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let max = if debug { Level::DEBUG } else { Level::INFO };
        let subscriber = tracing_subscriber::fmt()
            .with_writer(ToQueue)
            .with_max_level(max)
            .with_ansi(false)
            .without_time()
            .with_level(false)
            .with_target(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}
