//! A picture of the run: the requests a command made, as a sequence
//! diagram with the design spec's participants (`nova`, `nova-driver`,
//! `nova-volume`, `cinder`, `HMC`, `storage`), in Mermaid
//! (`sequenceDiagram`) or in the spec's own seqdiag notation.
//!
//! It is drawn from tracing events, the ones the clients emit anyway, by a
//! [`Recorder`] layer:
//! - the HTTP clients' `hmc_request` and `cinder_request` spans (method,
//!   path, attempt) and the `status` (or `error`) event inside each: one
//!   arrow `nova-driver → HMC` or `nova-driver → cinder` per request sent,
//!   and an answer arrow back when it was refused or unanswered;
//! - the in-memory simulator's `sim_request` span per request (target
//!   `dpm_sim::request`: `api`, `method`, `path`) with its `status` event,
//!   drawn the same way, and its storage events (target `dpm_sim::storage`: LUN masking,
//!   zoning, image writes) as `cinder → storage`; over HTTP the storage
//!   side is out of sight, so a successful attachment update or delete is
//!   drawn as the masking and zoning it causes;
//! - this program's own events of target [`TARGET`]: a step between two
//!   participants (`from`, `to`, `label`: `nova → nova-driver` for the
//!   operation itself, `nova-driver → nova-volume` for the volume driver's
//!   steps), a `note`, or a `section` heading.
//!
//! Requests are drawn from `nova-driver` unless they are made inside a
//! span named `picture_caller` whose `caller` field names another
//! participant (the demo's and the CLI's volume commands are `nova`'s);
//! inside a `picture_quiet` span they are not drawn.
//! Paths carry no secret (the clients log no header and no body); ids in
//! them are cut to their first 8 characters.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The target of this program's own picture events.
pub const TARGET: &str = "dpm::picture";

/// A participant of the design spec's sequence diagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Nova's compute manager (and the user's requests to Cinder).
    Nova,
    /// The compute driver.
    NovaDriver,
    /// The FC volume driver.
    NovaVolume,
    /// Cinder (Keystone's requests are drawn to it too).
    Cinder,
    /// The HMC.
    Hmc,
    /// The storage system and the SAN.
    Storage,
}

impl Actor {
    /// Every participant, in the spec's order.
    pub const ALL: [Actor; 6] = [
        Actor::Nova,
        Actor::NovaDriver,
        Actor::NovaVolume,
        Actor::Cinder,
        Actor::Hmc,
        Actor::Storage,
    ];

    /// Its name in the spec.
    pub fn name(self) -> &'static str {
        match self {
            Actor::Nova => "nova",
            Actor::NovaDriver => "nova-driver",
            Actor::NovaVolume => "nova-volume",
            Actor::Cinder => "cinder",
            Actor::Hmc => "HMC",
            Actor::Storage => "storage",
        }
    }

    /// Its Mermaid id (Mermaid reads a `-` in an id as part of an arrow).
    fn id(self) -> &'static str {
        match self {
            Actor::Nova => "nova",
            Actor::NovaDriver => "driver",
            Actor::NovaVolume => "volume",
            Actor::Cinder => "cinder",
            Actor::Hmc => "hmc",
            Actor::Storage => "storage",
        }
    }

    /// The participant of a name (as [`Actor::name`] spells it).
    pub fn parse(name: &str) -> Option<Actor> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// One step of the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A heading: the part of the run that follows.
    Section(String),
    /// A request or a call from one participant to another, or (`reply`)
    /// an answer worth drawing: a refusal or none.
    Message {
        /// Who calls.
        from: Actor,
        /// Who is called.
        to: Actor,
        /// What: `METHOD path` for a request.
        label: String,
        /// An answer (drawn dashed).
        reply: bool,
    },
    /// A remark about one participant.
    Note {
        /// About whom.
        over: Actor,
        /// The remark.
        text: String,
    },
}

/// Called with each step as it is recorded (the demo prints them).
pub type Echo = Box<dyn Fn(&Step) + Send>;

#[derive(Default)]
struct Inner {
    steps: Vec<Step>,
    echo: Option<Echo>,
    infer_storage: bool,
}

/// The steps recorded so far; cloning gives another handle to the same
/// picture.
#[derive(Clone, Default)]
pub struct Picture(Arc<Mutex<Inner>>);

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picture")
            .field("steps", &self.inner().steps.len())
            .finish_non_exhaustive()
    }
}

/// The picture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// `--trace FILE` cannot be opened for writing (checked before the
    /// command does anything).
    #[error("--trace {}: cannot write to this file", path.display())]
    Open {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing the picture at the end failed.
    #[error("cannot write the picture of the run to {}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The file `--trace` names, opened (created, emptied) before the command
/// does anything, so that a path that cannot be written is said at once
/// and the picture later goes to the file that was checked.
#[derive(Debug)]
pub struct TraceFile {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl TraceFile {
    /// Creates or empties `path` for writing.
    pub fn open(path: &Path) -> Result<Self, PictureError> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|source| PictureError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    /// The path given.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Picture {
    /// An empty picture. `infer_storage`: draw `cinder → storage` from
    /// Cinder's answers (for runs over HTTP, where the storage system is
    /// out of sight).
    pub fn new(infer_storage: bool) -> Self {
        let p = Self::default();
        p.inner().infer_storage = infer_storage;
        p
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls `echo` with every step recorded from now on.
    #[cfg_attr(not(feature = "demo"), allow(dead_code))] // the demo narrates with it
    pub fn set_echo(&self, echo: Echo) {
        self.inner().echo = Some(echo);
    }

    /// The steps so far.
    pub fn steps(&self) -> Vec<Step> {
        self.inner().steps.clone()
    }

    fn push(&self, step: Step) {
        let mut inner = self.inner();
        if let Some(echo) = &inner.echo {
            echo(&step);
        }
        inner.steps.push(step);
    }

    /// The layer that records into this picture.
    pub fn recorder(&self) -> Recorder {
        Recorder {
            picture: self.clone(),
        }
    }

    /// Writes the picture: seqdiag for a `.diag` file, Mermaid otherwise.
    pub fn write(&self, mut to: TraceFile) -> Result<(), PictureError> {
        use std::io::Write;
        let steps = self.steps();
        let text = if to.path.extension().is_some_and(|e| e == "diag") {
            seqdiag(&steps)
        } else {
            mermaid(&steps)
        };
        to.file
            .write_all(text.as_bytes())
            .and_then(|()| to.file.flush())
            .map_err(|source| PictureError::Write {
                path: to.path.clone(),
                source,
            })
    }

    /// One request sent: `api` is `hmc`, `cinder` or `keystone`. Returns
    /// who was called.
    fn request(&self, caller: Actor, api: &str, method: &str, path: &str) -> Actor {
        let (to, label) = match api {
            "hmc" => (Actor::Hmc, format!("{method} {}", short_path(path))),
            "keystone" => (Actor::Cinder, format!("Keystone: {method} {}", path)),
            _ => (
                Actor::Cinder,
                format!("{method} {}", short_path(cinder_tail(path))),
            ),
        };
        self.push(Step::Message {
            from: caller,
            to,
            label,
            reply: false,
        });
        to
    }

    /// Its answer: drawn when refused (4xx, 5xx) or when none came
    /// (`status` 0); over
    /// HTTP, a Cinder attachment's update or delete is drawn as the
    /// masking and zoning it causes.
    fn answer(&self, caller: Actor, req: &Fields, status: u16) {
        let to = match req.api.as_str() {
            "hmc" => Actor::Hmc,
            _ => Actor::Cinder,
        };
        // A 3xx is an answer too (Cinder's version document is a 300).
        if status == 0 || status >= 400 {
            self.push(Step::Message {
                from: to,
                to: caller,
                label: if status == 0 {
                    "no answer".into()
                } else {
                    format!("HTTP {status}")
                },
                reply: true,
            });
            return;
        }
        if req.api == "cinder" && self.inner().infer_storage {
            let tail = cinder_tail(&req.path);
            let attachment = tail.starts_with("/attachments/")
                && tail.matches('/').count() == 2
                && !tail.ends_with("/detail");
            let what = match req.method.as_str() {
                "PUT" if attachment => Some("LUN masking and zoning for the connector"),
                "DELETE" if attachment => Some("LUN unmasking (and unzoning)"),
                _ => None,
            };
            if let Some(what) = what {
                self.push(Step::Message {
                    from: Actor::Cinder,
                    to: Actor::Storage,
                    label: what.into(),
                    reply: false,
                });
            }
        }
    }
}

/// Whether a path segment is an object id (a UUID, or 32 hex digits).
fn is_id(seg: &str) -> bool {
    seg.len() >= 32 && seg.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// A path with every id cut to its first 8 characters.
pub fn short_path(path: &str) -> String {
    path.split('/')
        .map(|s| if is_id(s) { s.get(..8).unwrap_or(s) } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every UUID in a text cut to its first 8 characters
/// (`OpenStack-host-0d3d0000-0000-...` → `OpenStack-host-0d3d0000`).
pub fn short_ids(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let uuid = b.get(i..i + 36).is_some_and(|w| {
            w.iter().enumerate().all(|(k, c)| match k {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
        });
        if uuid {
            out.push_str(&text[i..i + 8]);
            i += 36;
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    out
}

/// A Cinder path from the project on (`/v3/<project>/volumes/x` →
/// `/volumes/x`), so that a prefix (`/volume`) and the project id do not
/// matter; a path without a project is kept.
fn cinder_tail(path: &str) -> &str {
    match path.find("/v3/") {
        Some(i) => {
            let after = &path[i + 4..];
            match after.find('/') {
                Some(j) if after.len() > j + 1 => &after[j..],
                _ => path,
            }
        }
        None => path,
    }
}

/// Mermaid's text for a label: no line breaks; `;` and `#` (which Mermaid
/// reads as statement ends and entity codes) as entity codes.
fn mermaid_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('#', "#35;")
        .replace(';', "#59;")
}

/// The picture in Mermaid's `sequenceDiagram`.
pub fn mermaid(steps: &[Step]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    for a in Actor::ALL {
        let _ = writeln!(out, "    participant {} as {}", a.id(), a.name());
    }
    let (first, last) = (Actor::ALL[0].id(), Actor::ALL[5].id());
    for s in steps {
        let _ = match s {
            Step::Section(t) => {
                writeln!(out, "    Note over {first},{last}: {}", mermaid_text(t))
            }
            Step::Message {
                from,
                to,
                label,
                reply,
            } => writeln!(
                out,
                "    {}{}{}: {}",
                from.id(),
                if *reply { "-->>" } else { "->>" },
                to.id(),
                mermaid_text(label)
            ),
            Step::Note { over, text } => {
                writeln!(out, "    Note over {}: {}", over.id(), mermaid_text(text))
            }
        };
    }
    out
}

/// seqdiag's text for a label, in double quotes.
fn seqdiag_text(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace(['\n', '\r'], " ")
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    )
}

/// The picture in seqdiag, the design spec's notation.
pub fn seqdiag(steps: &[Step]) -> String {
    let mut out = String::from("diagram {\n    activation = none;\n    ");
    out.push_str(
        &Actor::ALL
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join("; "),
    );
    out.push_str(";\n\n");
    for s in steps {
        let _ = match s {
            Step::Section(t) => writeln!(out, "    === {} ===", t.replace(['\n', '='], " ")),
            Step::Message {
                from,
                to,
                label,
                reply: false,
            } => writeln!(
                out,
                "    {} -> {} [label = {}];",
                from.name(),
                to.name(),
                seqdiag_text(label)
            ),
            Step::Message {
                from,
                to,
                label,
                reply: true,
            } => writeln!(
                out,
                "    {} <-- {} [label = {}];",
                to.name(),
                from.name(),
                seqdiag_text(label)
            ),
            Step::Note { text, .. } => {
                writeln!(out, "    ... {} ...", text.replace(['\n', '.'], " "))
            }
        };
    }
    out.push_str("}\n");
    out
}

/// The fields of an event or span this layer reads.
#[derive(Default, Debug, Clone)]
struct Fields {
    api: String,
    method: String,
    path: String,
    status: Option<u16>,
    error: bool,
    attempt: u32,
    caller: String,
    from: String,
    to: String,
    label: String,
    note: String,
    section: String,
    what: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            "api" => &mut self.api,
            "method" => &mut self.method,
            "path" => &mut self.path,
            "caller" => &mut self.caller,
            "from" => &mut self.from,
            "to" => &mut self.to,
            "label" => &mut self.label,
            "note" => &mut self.note,
            "section" => &mut self.section,
            "what" => &mut self.what,
            "error" => {
                self.error = true;
                return;
            }
            _ => return,
        };
        *slot = value.to_owned();
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "status" => self.status = u16::try_from(value).ok(),
            "attempt" => self.attempt = u32::try_from(value).unwrap_or(u32::MAX),
            _ => {}
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // Only strings are read from Debug (`%`-formatted fields); a
        // number written with `?` is read by its text.
        let v = format!("{value:?}");
        match field.name() {
            "status" | "attempt" => {
                if let Ok(n) = v.parse::<u64>() {
                    self.record_u64(field, n);
                }
            }
            _ => self.record_str(field, v.trim_matches('"')),
        }
    }
}

/// What the recorder must see: the clients' request spans and their events,
/// the simulator's events and this program's.
pub fn wanted(m: &tracing::Metadata<'_>) -> bool {
    let t = m.target();
    t.starts_with("hmc_client")
        || t.starts_with("cinder_client")
        || t == "dpm_sim::request"
        || t == "dpm_sim::storage"
        || t == TARGET
}

/// The tracing layer that records the picture (see the module's text).
pub struct Recorder {
    picture: Picture,
}

/// The names of the request spans: the HTTP clients' and the simulator's.
const REQUEST_SPANS: [&str; 3] = ["hmc_request", "cinder_request", "sim_request"];

impl Recorder {
    /// The caller of a request made in `span`: the nearest
    /// `picture_caller` span's, else the compute driver; `None` inside a
    /// `picture_quiet` span.
    fn caller<S>(span: &tracing_subscriber::registry::SpanRef<'_, S>) -> Option<Actor>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut caller = None;
        for s in span.scope() {
            match s.name() {
                "picture_quiet" => return None,
                "picture_caller" if caller.is_none() => {
                    caller = s
                        .extensions()
                        .get::<Fields>()
                        .and_then(|f| Actor::parse(&f.caller));
                }
                _ => {}
            }
        }
        Some(caller.unwrap_or(Actor::NovaDriver))
    }
}

impl<S> Layer<S> for Recorder
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let name = attrs.metadata().name();
        if !(REQUEST_SPANS.contains(&name) || name == "picture_caller") {
            return;
        }
        let mut f = Fields::default();
        attrs.record(&mut f);
        if name == "hmc_request" {
            f.api = "hmc".into();
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        if REQUEST_SPANS.contains(&name) {
            if let Some(caller) = Self::caller(&span) {
                let mut path = f.path.clone();
                if f.attempt > 1 {
                    path.push_str(&format!(" (attempt {})", f.attempt));
                }
                self.picture.request(caller, &f.api, &f.method, &path);
            }
        }
        span.extensions_mut().insert(f);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let quiet = ctx
            .event_scope(event)
            .into_iter()
            .flatten()
            .any(|s| s.name() == "picture_quiet");
        if quiet {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        match event.metadata().target() {
            "dpm_sim::storage" => self.picture.push(Step::Message {
                from: Actor::Cinder,
                to: Actor::Storage,
                label: f.what,
                reply: false,
            }),
            TARGET => {
                let step = if !f.section.is_empty() {
                    Some(Step::Section(f.section))
                } else if !f.note.is_empty() {
                    Actor::parse(&f.to).map(|over| Step::Note { over, text: f.note })
                } else {
                    match (Actor::parse(&f.from), Actor::parse(&f.to)) {
                        (Some(from), Some(to)) => Some(Step::Message {
                            from,
                            to,
                            label: f.label,
                            reply: false,
                        }),
                        _ => None,
                    }
                };
                if let Some(step) = step {
                    self.picture.push(step);
                }
            }
            _ => {
                // The status (or failure) event inside a request span.
                if f.status.is_none() && !f.error {
                    return;
                }
                let Some(span) = ctx.event_span(event) else {
                    return;
                };
                if !REQUEST_SPANS.contains(&span.name()) {
                    return;
                }
                let Some(caller) = Self::caller(&span) else {
                    return;
                };
                let Some(req) = span.extensions().get::<Fields>().cloned() else {
                    return;
                };
                self.picture.answer(caller, &req, f.status.unwrap_or(0));
            }
        }
    }
}

/// Says that `from` calls `to` (e.g. `nova → nova-driver: spawn`).
pub fn tell(from: Actor, to: Actor, label: &str) {
    tracing::info!(target: TARGET, from = from.name(), to = to.name(), label);
}

/// Starts a section of the picture.
#[cfg_attr(not(feature = "demo"), allow(dead_code))] // the demo narrates with it
pub fn section(title: &str) {
    tracing::info!(target: TARGET, section = title);
}

/// A remark about a participant.
#[cfg_attr(not(feature = "demo"), allow(dead_code))] // the demo narrates with it
pub fn note(over: Actor, text: &str) {
    tracing::info!(target: TARGET, to = over.name(), note = text);
}

/// The span inside which requests are not drawn (the demo's looks at the
/// world).
#[cfg_attr(not(feature = "demo"), allow(dead_code))] // the demo narrates with it
pub fn quiet_span() -> tracing::Span {
    tracing::info_span!(target: TARGET, "picture_quiet")
}

/// The span inside which requests are drawn from `caller`.
pub fn caller_span(caller: Actor) -> tracing::Span {
    tracing::info_span!(target: TARGET, "picture_caller", caller = caller.name())
}

/// A `;` that is not the end of an entity code (`#59;`): Mermaid would end
/// the statement there.
#[cfg(test)]
fn bare_semicolon(s: &str) -> bool {
    s.replace("#59;", "").replace("#35;", "").contains(';')
}

/// Mermaid's `sequenceDiagram` statements this module writes, read back:
/// every line is a known statement, every participant is declared before
/// use. Returns the messages as `(from, to, label, reply)`, by name.
#[cfg(test)]
pub fn parse_mermaid(text: &str) -> Result<Vec<(String, String, String, bool)>, String> {
    let mut lines = text.lines();
    if lines.next() != Some("sequenceDiagram") {
        return Err("the first line is not sequenceDiagram".into());
    }
    let mut ids: std::collections::BTreeMap<String, String> = Default::default();
    let mut out = Vec::new();
    let known = |ids: &std::collections::BTreeMap<String, String>, id: &str| {
        ids.get(id)
            .cloned()
            .ok_or(format!("undeclared participant {id:?}"))
    };
    for line in lines {
        let l = line
            .strip_prefix("    ")
            .ok_or(format!("not indented: {line:?}"))?;
        if let Some(rest) = l.strip_prefix("participant ") {
            let (id, name) = rest
                .split_once(" as ")
                .ok_or(format!("participant without alias: {line:?}"))?;
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("bad participant id: {line:?}"));
            }
            ids.insert(id.to_owned(), name.to_owned());
        } else if let Some(rest) = l.strip_prefix("Note over ") {
            let (who, text) = rest.split_once(": ").ok_or(format!("bad note: {line:?}"))?;
            for id in who.split(',') {
                known(&ids, id)?;
            }
            if bare_semicolon(text) {
                return Err(format!("a ; in a note: {line:?}"));
            }
        } else {
            let (arrow, label) = l
                .split_once(": ")
                .ok_or(format!("not a statement: {line:?}"))?;
            if bare_semicolon(label) || label.trim().is_empty() {
                return Err(format!("bad label: {line:?}"));
            }
            let (from, to, reply) = if let Some((a, b)) = arrow.split_once("-->>") {
                (a, b, true)
            } else if let Some((a, b)) = arrow.split_once("->>") {
                (a, b, false)
            } else {
                return Err(format!("not a statement: {line:?}"));
            };
            out.push((
                known(&ids, from)?,
                known(&ids, to)?,
                label.to_owned(),
                reply,
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cut_and_cinder_paths_start_at_the_project() {
        assert_eq!(
            short_path("/api/partitions/f0000009-63d7-11f0-8067-fa163ed76c47/operations/start"),
            "/api/partitions/f0000009/operations/start"
        );
        assert_eq!(
            cinder_tail("/volume/v3/4f2a9c5e8b1d4e7f9a3c6b8d2e5f1a7c/attachments/x"),
            "/attachments/x"
        );
        assert_eq!(cinder_tail("/v3/"), "/v3/");
        assert_eq!(
            short_ids("OpenStack-h-0d3d0000-0000-4000-8000-000000000001 → x"),
            "OpenStack-h-0d3d0000 → x"
        );
    }

    #[test]
    fn both_notations_say_the_same_steps() {
        let steps = vec![
            Step::Section("1. Spawn; now".into()),
            Step::Message {
                from: Actor::NovaDriver,
                to: Actor::Hmc,
                label: "POST /api/x".into(),
                reply: false,
            },
            Step::Message {
                from: Actor::Hmc,
                to: Actor::NovaDriver,
                label: "HTTP 409 \"busy\"".into(),
                reply: true,
            },
            Step::Note {
                over: Actor::NovaVolume,
                text: "guest sees 8 paths".into(),
            },
        ];
        let m = mermaid(&steps);
        let parsed = parse_mermaid(&m).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, "nova-driver");
        assert!(parsed[1].3);
        assert!(
            m.contains("Note over nova,storage: 1. Spawn#59; now"),
            "{m}"
        );
        let d = seqdiag(&steps);
        assert!(d.starts_with("diagram {\n    activation = none;\n    nova; nova-driver; nova-volume; cinder; HMC; storage;"), "{d}");
        assert!(
            d.contains("nova-driver -> HMC [label = \"POST /api/x\"];"),
            "{d}"
        );
        assert!(
            d.contains("nova-driver <-- HMC [label = \"HTTP 409 \\\"busy\\\"\"];"),
            "{d}"
        );
        assert!(d.contains("=== 1. Spawn; now ==="), "{d}");
        assert!(parse_mermaid("sequenceDiagram\n    a->>b: x").is_err());
    }
}
