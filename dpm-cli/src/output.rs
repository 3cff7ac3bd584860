//! How a failure is told: as text on stderr, or as one JSON object on
//! stdout under `-o json`:
//!
//! ```json
//! {"error": {"kind": "spawn", "step": "create_attachment", "message": "...",
//!            "causes": ["...", "..."], "left_behind": [{"message": "...", "causes": []}]}}
//! ```
//!
//! `step` is there for a failed spawn, attach or detach (the innermost
//! step: the virt driver's, or the Cinder step's), `left_behind` when an undo
//! could not finish.

use std::error::Error;

use dpm_compute::{AttachError, AttachStep, DestroyError, DetachError, SpawnError, SpawnStep};
use dpm_driver::{InitError, LookupError, PowerError};
use serde_json::{json, Value};

use crate::config::CliConfigError;
use crate::operator::CliError;
use crate::out::println;

/// What an error left behind (what the undo could not remove).
fn left_behind<'a>(e: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    if let Some(s) = e.downcast_ref::<SpawnError>() {
        s.left_behind()
    } else if let Some(a) = e.downcast_ref::<AttachError>() {
        a.left_behind()
    } else if let Some(d) = e.downcast_ref::<DestroyError>() {
        d.left_behind()
    } else {
        Vec::new()
    }
}

fn causes(e: &dyn Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

/// `StartPartition { .. }` → `start_partition`.
fn step_name(debug: &str) -> String {
    let mut out = String::new();
    for (i, c) in debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .enumerate()
    {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A spawn's step: the virt driver's when it failed inside the driver,
/// else the compute layer's (the Cinder step's own name for those).
fn spawn_step(step: &SpawnStep) -> String {
    match (step, step.driver_step()) {
        (_, Some(d)) => step_name(&format!("{d:?}")),
        (SpawnStep::Volume(v), None) => step_name(&format!("{v:?}")),
        (SpawnStep::Prepare(p), None) => step_name(&format!("{:?}", p.step)),
        (other, None) => step_name(&format!("{other:?}")),
    }
}

/// An attach's step, the same way.
fn attach_step(step: &AttachStep) -> String {
    match step {
        AttachStep::Driver(d) => step_name(&format!("{:?}", d.step)),
        AttachStep::Volume(v) => step_name(&format!("{v:?}")),
        other => step_name(&format!("{other:?}")),
    }
}

/// The kind of failure, and the step for the operations that have steps.
fn kind(e: &(dyn Error + 'static)) -> (&'static str, Option<String>) {
    if let Some(s) = e.downcast_ref::<SpawnError>() {
        ("spawn", Some(spawn_step(&s.step)))
    } else if let Some(a) = e.downcast_ref::<AttachError>() {
        ("attach", Some(attach_step(&a.step)))
    } else if let Some(d) = e.downcast_ref::<DetachError>() {
        ("detach", Some(step_name(&format!("{:?}", d.step))))
    } else if e.downcast_ref::<DestroyError>().is_some() {
        ("destroy", None)
    } else if e.downcast_ref::<crate::operator::Interrupted>().is_some() {
        ("interrupted", None)
    } else if let Some(c) = e.downcast_ref::<CliError>() {
        match c {
            CliError::NotFound { .. } | CliError::Ambiguous { .. } => ("not_found", None),
            _ => ("refused", None),
        }
    } else if e.downcast_ref::<CliConfigError>().is_some()
        || e.downcast_ref::<hmc_client::HttpSetupError>().is_some()
        || e.downcast_ref::<cinder_client::CinderSetupError>()
            .is_some()
    {
        // A client that cannot be built from the configuration (a CA
        // file that cannot be used) is the configuration's problem too.
        ("config", None)
    } else if e.downcast_ref::<InitError>().is_some() {
        ("init_host", None)
    } else if let Some(f) = e.downcast_ref::<dpm_driver::FollowError>() {
        // Not running: nothing to follow; `dpm console` shows the log.
        if f.is_not_found() {
            ("not_found", None)
        } else if f.is_refusal() {
            ("refused", None)
        } else {
            ("driver", None)
        }
    } else if e.downcast_ref::<LookupError>().is_some() || e.downcast_ref::<PowerError>().is_some()
    {
        ("driver", None)
    } else if e.downcast_ref::<hmc_client::HmcError>().is_some() {
        ("hmc", None)
    } else if e.downcast_ref::<cinder_client::CinderError>().is_some() {
        ("cinder", None)
    } else {
        ("other", None)
    }
}

/// The JSON form of a failure.
pub fn error_value(e: &(dyn Error + 'static)) -> Value {
    let (kind, step) = kind(e);
    let mut v = json!({"kind": kind, "message": e.to_string(), "causes": causes(e)});
    if let Some(step) = step {
        v["step"] = json!(step);
    }
    let left = left_behind(e);
    if !left.is_empty() {
        v["left_behind"] = left
            .iter()
            .map(|l| json!({"message": l.to_string(), "causes": causes(l)}))
            .collect();
    }
    json!({ "error": v })
}

/// Prints a failure as one JSON object on stdout.
pub fn error_json(e: &(dyn Error + 'static)) {
    println!("{}", error_value(e));
}

/// Prints a usage error (clap's text) as one JSON object on stdout.
pub fn usage_json(message: &str) {
    let message = message
        .trim()
        .strip_prefix("error: ")
        .unwrap_or(message.trim());
    println!(
        "{}",
        json!({"error": {"kind": "usage", "message": message, "causes": []}})
    );
}

/// A usage error found after the command line was read (a `--trace` file
/// that cannot be written): JSON on stdout, or text on stderr.
pub fn usage_error(e: &(dyn Error + 'static), json: bool) {
    if json {
        println!(
            "{}",
            json!({"error": {"kind": "usage", "message": e.to_string(), "causes": causes(e)}})
        );
    } else {
        eprintln!("error: {}", with_causes(e));
    }
}

/// An error and its causes on one line (`a: b: c`), for a log event.
pub fn with_causes(e: &dyn Error) -> String {
    std::iter::once(e.to_string())
        .chain(causes(e))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Prints an error and every cause under it, then what it left behind, on
/// stderr.
pub fn error_text(e: &(dyn Error + 'static)) {
    eprintln!("error: {e}");
    for c in causes(e) {
        eprintln!("  because: {c}");
    }
    let left = left_behind(e);
    if !left.is_empty() {
        eprintln!("left behind (run `dpm destroy` again once the cause is fixed):");
        for l in left {
            eprintln!("  - {l}");
            for c in causes(l) {
                eprintln!("      because: {c}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_snake_case_variant_names() {
        assert_eq!(
            step_name("StartPartition { partition: .. }"),
            "start_partition"
        );
        assert_eq!(step_name("NotInitialized"), "not_initialized");
    }

    #[test]
    fn an_error_is_one_shape_with_its_causes() {
        let e = CliConfigError::Read {
            path: "x.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        let v = error_value(&e);
        assert_eq!(v["error"]["kind"], "config");
        assert_eq!(v["error"]["causes"], json!(["gone"]));
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("x.toml")));
    }
}
