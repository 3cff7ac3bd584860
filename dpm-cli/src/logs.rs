//! Log output and progress, both on stderr.
//!
//! Logs: `RUST_LOG` when set (e.g. `RUST_LOG=debug`, or
//! `RUST_LOG=hmc_client=trace`); else warnings (so that, say, TLS
//! verification being off is seen), `-v` info, `-vv` debug, `-vvv` trace of
//! this project's crates, `-q` errors only, `-qq` nothing.
//!
//! Progress: while an HMC job runs (start, stop, FCP discovery), which the
//! HMC client's `wait_for_job` span tells, a spinner with the step and the
//! time elapsed on a terminal, or one line when the job starts and one when
//! it ends otherwise.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, EnvFilter, Layer};

/// This project's crates, whose level `-v` and `-q` set.
const CRATES: &[&str] = &[
    "dpm",
    "dpm_driver",
    "dpm_volume",
    "hmc_client",
    "cinder_client",
    "fc_types",
];

/// The log filter: `RUST_LOG` if set, else the level `-v`/`-q` say.
pub fn filter(rust_log: Option<&str>, verbose: u8, quiet: u8) -> EnvFilter {
    if let Some(spec) = rust_log.filter(|s| !s.trim().is_empty()) {
        return EnvFilter::builder().parse_lossy(spec);
    }
    let (others, level) = match (verbose, quiet) {
        (_, 1) => ("error", "error"),
        (_, q) if q > 1 => ("off", "off"),
        (0, _) => ("warn", "warn"),
        (1, _) => ("warn", "info"),
        (2, _) => ("warn", "debug"),
        _ => ("warn", "trace"),
    };
    let spec: Vec<String> = std::iter::once(others.to_owned())
        .chain(CRATES.iter().map(|c| format!("{c}={level}")))
        .collect();
    EnvFilter::builder().parse_lossy(spec.join(","))
}

/// Installs the log output and, when `progress` is `Some`, the progress
/// display (`Some(true)`: a spinner, for a terminal; `Some(false)`: plain
/// lines), and, when `picture` is `Some`, the layer that records the
/// picture of the run (whatever the log level). A second call does
/// nothing.
pub fn init(
    rust_log: Option<&str>,
    verbose: u8,
    quiet: u8,
    progress: Option<bool>,
    picture: Option<&crate::picture::Picture>,
) {
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .with_filter(filter(rust_log, verbose, quiet));
    // A spinner would fight with log lines on the same terminal: with
    // info logs or more, progress is plain lines.
    let chatty = rust_log.is_some() || verbose > 0;
    let progress = progress.map(|tty| {
        Progress::new(tty && !chatty).with_filter(filter::filter_fn(|m| {
            m.is_span() && matches!(m.name(), "hmc_request" | "wait_for_job")
        }))
    });
    let picture = picture.map(|p| {
        p.recorder()
            .with_filter(filter::filter_fn(crate::picture::wanted))
    });
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(progress)
        .with(picture)
        .try_init();
}

/// What a job wait is for, read from the request that started the job.
fn step_of(method: &str, path: &str) -> Option<String> {
    if method != "POST" {
        return None;
    }
    let (object, op) = path.split_once("/operations/")?;
    let id = object.rsplit('/').next().unwrap_or_default();
    let short = id.get(..8).unwrap_or(id);
    Some(match op {
        "start" => format!("starting partition {short}"),
        "stop" => format!("stopping partition {short}"),
        "start-fcp-storage-discovery" => format!("FCP discovery of storage group {short}"),
        other => format!("{other} of {short}"),
    })
}

#[derive(Default)]
struct Fields {
    method: String,
    path: String,
    job: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "method" => self.method = value.to_owned(),
            "path" => self.path = value.to_owned(),
            "job" => self.job = value.to_owned(),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let v = format!("{value:?}");
        self.record_str(field, v.trim_matches('"'));
    }
}

struct Running {
    span: Id,
    step: String,
    started: Instant,
    stop: Option<Arc<AtomicBool>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// The progress display, as a tracing layer.
struct Progress {
    spinner: bool,
    last_step: Mutex<Option<String>>,
    running: Mutex<Option<Running>>,
}

impl Progress {
    fn new(spinner: bool) -> Self {
        Self {
            spinner,
            last_step: Mutex::new(None),
            running: Mutex::new(None),
        }
    }
}

fn spin(step: String, started: Instant, stop: Arc<AtomicBool>) {
    const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} {step} ({}s)",
            FRAMES[i % FRAMES.len()],
            started.elapsed().as_secs()
        );
        let _ = err.flush();
        drop(err);
        i += 1;
        std::thread::sleep(Duration::from_millis(120));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K");
    let _ = err.flush();
}

impl<S: Subscriber> Layer<S> for Progress {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        match attrs.metadata().name() {
            "hmc_request" => {
                if let Some(step) = step_of(&f.method, &f.path) {
                    *self.last_step.lock().unwrap_or_else(|e| e.into_inner()) = Some(step);
                }
            }
            _ => {
                let step = self
                    .last_step
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| format!("job {}", f.job));
                let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
                if running.is_some() {
                    return;
                }
                let started = Instant::now();
                let (stop, ticker) = if self.spinner {
                    let stop = Arc::new(AtomicBool::new(false));
                    let (s, st) = (stop.clone(), step.clone());
                    let t = std::thread::Builder::new()
                        .name("progress".into())
                        .spawn(move || spin(st, started, s))
                        .ok();
                    (Some(stop), t)
                } else {
                    eprintln!("… {step}: waiting for the HMC job");
                    (None, None)
                };
                *running = Some(Running {
                    span: id.clone(),
                    step,
                    started,
                    stop,
                    ticker,
                });
            }
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.as_ref().is_some_and(|r| r.span == id) {
            if let Some(r) = running.take() {
                if let Some(stop) = &r.stop {
                    stop.store(true, Ordering::Relaxed);
                }
                if let Some(t) = r.ticker {
                    let _ = t.join();
                }
                eprintln!(
                    "… {}: the job ended after {:.1}s",
                    r.step,
                    r.started.elapsed().as_secs_f64()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_named_after_the_request_that_started_it() {
        assert_eq!(
            step_of("POST", "/api/partitions/1234567890ab/operations/start").as_deref(),
            Some("starting partition 12345678")
        );
        assert_eq!(
            step_of(
                "POST",
                "/api/storage-groups/abcdef/operations/start-fcp-storage-discovery"
            )
            .as_deref(),
            Some("FCP discovery of storage group abcdef")
        );
        assert_eq!(step_of("GET", "/api/partitions/x/operations/start"), None);
        assert_eq!(step_of("POST", "/api/partitions"), None);
    }

    #[test]
    fn verbosity_sets_this_projects_level_and_rust_log_wins() {
        let s = |f: EnvFilter| f.to_string();
        assert!(s(filter(None, 0, 0)).contains("hmc_client=warn"));
        assert!(s(filter(None, 2, 0)).contains("hmc_client=debug"));
        assert!(s(filter(None, 5, 0)).contains("hmc_client=trace"));
        assert!(s(filter(None, 0, 1)).contains("hmc_client=error"));
        assert!(s(filter(None, 0, 2)).contains("hmc_client=off"));
        assert_eq!(s(filter(Some("debug"), 0, 2)), "debug");
    }
}
