//! `cargo xtask <task>`: the project's automation, with no dependencies.
//!
//! - `ci`: format check, clippy with `-D warnings`, every test, then `e2e`.
//! - `e2e`: the end-to-end scenarios on the simulator, and the demo.
//! - `demo`: `dpm demo` in release mode.
//! - `bench`: request counts (and timings) of each driver operation;
//!   `--json` prints one JSON object.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <ci | e2e | demo | bench [--json]>";

fn root() -> PathBuf {
    // xtask lives one level below the workspace root.
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a cargo command, echoing it; false when it fails.
fn run(args: &[&str]) -> bool {
    eprintln!("xtask: cargo {}", args.join(" "));
    match cargo().args(args).status() {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            false
        }
    }
}

fn e2e() -> bool {
    run(&[
        "test",
        "-p",
        "dpm-driver",
        "--test",
        "all",
        "--",
        "scenarios::",
    ]) && run(&[
        "run", "--quiet", "-p", "dpm-cli", "--bin", "dpm", "--", "demo",
    ])
}

fn ci() -> bool {
    run(&["fmt", "--all", "--", "--check"])
        && run(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        && run(&["test", "--workspace"])
        && e2e()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ci"] => ci(),
        ["e2e"] => e2e(),
        ["demo"] => run(&["run", "--release", "--quiet", "--bin", "dpm", "--", "demo"]),
        ["bench"] => run(&[
            "bench",
            "-p",
            "dpm-driver",
            "--bench",
            "requests",
            "--quiet",
        ]),
        ["bench", "--json"] => run(&[
            "bench",
            "-p",
            "dpm-driver",
            "--bench",
            "requests",
            "--quiet",
            "--",
            "--json",
        ]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
